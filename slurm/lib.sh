# Helpers shared by pipeline.sh and the .sbatch scripts (sourced, not run): the binary, config
# overrides, reading a path from the config, the MPI launcher inside an allocation.
#
# Environment (all optional):
#   TICKSTREAM_BIN       the tickstream binary (default: $TICKSTREAM_ROOT/build/release/tickstream)
#   TICKSTREAM_SET       config overrides, space-separated section.key=value (each becomes --set)
#   TICKSTREAM_LAUNCHER  auto (default: srun --mpi=pmix when this Slurm has PMIx, else mpirun) | srun | mpirun

# ts_die MSG [CODE]: prints "error: MSG" with the script's name and exits (default 2: bad input).
ts_die() { echo "${TS_NAME:-tickstream}: error: $1" >&2; exit "${2:-2}"; }
ts_say() { echo "${TS_NAME:-tickstream}: $*"; }

# ts_setup: sets BIN and SETS (the --set arguments); checks the binary.
ts_setup() {
  BIN="${TICKSTREAM_BIN:-$TICKSTREAM_ROOT/build/release/tickstream}"
  [[ -x "$BIN" ]] || ts_die "no tickstream binary at $BIN (build it with launch/build.sh release, or set TICKSTREAM_BIN)"
  SETS=()
  local kv
  for kv in ${TICKSTREAM_SET:-}; do
    [[ "$kv" == *.*=* ]] || ts_die "TICKSTREAM_SET: '$kv' is not section.key=value"
    SETS+=(--set "$kv")
  done
  # Open MPI refuses root without these (containers, the local test cluster).
  if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
}

# ts_config_get CONFIG SECTION KEY: the value of a string (or bare) key, with TICKSTREAM_SET
# applied; empty when absent. A small TOML reader, enough for [data] store and [train] checkpoint_dir.
ts_config_get() {
  local config="$1" section="$2" key="$3" value kv
  [[ -f "$config" ]] || ts_die "config $config not found"
  value="$(awk -v want_section="$section" -v want_key="$key" '
    function unquote(v) {
      sub(/^[ \t]+/, "", v)
      if (v ~ /^"/) { v = substr(v, 2); sub(/".*$/, "", v); return v }
      if (v ~ /^'\''/) { v = substr(v, 2); sub(/'\''.*$/, "", v); return v }
      sub(/[ \t]*#.*$/, "", v); sub(/[ \t]+$/, "", v); return v
    }
    /^[ \t]*\[/ { s = $0; sub(/^[ \t]*\[[ \t]*/, "", s); sub(/[ \t]*\].*$/, "", s); section = s; next }
    section == want_section && match($0, "^[ \t]*" want_key "[ \t]*=") {
      print unquote(substr($0, RLENGTH + 1)); exit
    }' "$config")"
  for kv in ${TICKSTREAM_SET:-}; do
    if [[ "${kv%%=*}" == "$section.$key" ]]; then
      value="${kv#*=}"; value="${value#\"}"; value="${value%\"}"
    fi
  done
  echo "$value"
}

# ts_has_checkpoint DIR: DIR holds a complete checkpoint (a ckpt-*.json manifest).
ts_has_checkpoint() { compgen -G "$1/ckpt-*.json" >/dev/null; }

# ts_launcher: sets LAUNCH, the command that starts one rank per Slurm task of this job.
ts_launcher() {
  local kind="${TICKSTREAM_LAUNCHER:-auto}"
  if [[ "$kind" == auto ]]; then
    kind=mpirun
    if command -v srun >/dev/null && srun --mpi=list 2>&1 | grep -qw pmix; then kind=srun; fi
  fi
  case "$kind" in
    srun) LAUNCH=(srun --mpi=pmix --kill-on-bad-exit=1) ;;
    mpirun)
      command -v mpirun >/dev/null || ts_die "neither srun with PMIx nor mpirun found" 1
      # Open MPI reads the allocation from Slurm: one rank per task, --bind-to none as in launch/.
      LAUNCH=(mpirun -np "${SLURM_NTASKS:-1}" --bind-to none) ;;
    *) ts_die "TICKSTREAM_LAUNCHER=$kind: expected auto, srun or mpirun" ;;
  esac
}

# ts_header STEP: one block in the job log saying what runs where.
ts_header() {
  ts_say "$1: job ${SLURM_JOB_ID:-none} (restart ${SLURM_RESTART_COUNT:-0}) on ${SLURM_JOB_NODELIST:-$(hostname)}," \
    "${SLURM_NTASKS:-1} tasks (${SLURM_NTASKS_PER_NODE:-?} per node), GPUs per task ${SLURM_GPUS_PER_TASK:-0}," \
    "launcher ${LAUNCH[*]}, cwd $PWD, $(date -Is)"
}
