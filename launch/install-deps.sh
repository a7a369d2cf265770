#!/usr/bin/env bash
# Installs everything tickstream needs on Debian 12 (idempotent: installs only what is missing):
# Debian's packages, then libtorch from PyPI's torch wheel (CUDA 13.0 build, with its nvidia-*
# runtime wheels: cuBLAS, cuDNN, NCCL, ...) into the project's virtual environment .venv/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The pinned libtorch: torch 2.13.0 is built for CUDA 13.0 (the toolkit in /usr/local/cuda);
# 2.14 and later are CUDA 13.2 builds. CMake accepts 2.11 to this version (cmake/Torch.cmake).
TORCH_PIN="torch==2.13.0"
# Arrow/Parquet C++ for `ingest` of Parquet files: the libraries and headers inside pyarrow's wheel
# (Debian 12 has no libarrow-dev; cmake/Arrow.cmake). polars, numpy, h5py: the pyarrow and polars peers
# of `bench ingest` (pyarrow 26 needs numpy 2, which Debian 12 does not have).
PY_PINS=("pyarrow==26.0.1" "polars==1.44.2" "numpy==2.4.6" "h5py==3.16.0"
         "tensorboard==2.21.0")  # tensorboard: viewing and testing the event files (no TensorFlow)
VENV="${TICKSTREAM_VENV:-$ROOT/.venv}"

PACKAGES=(
  build-essential cmake git pkg-config ccache
  clang-14 libclang-rt-14-dev   # libFuzzer targets (tests/fuzz/run.sh, preset fuzz)
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev hdf5-tools hdf5-filter-plugin
  libtrilinos-kokkos-dev
  libopenblas0-pthread
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev libfast-float-dev
  libpq-dev postgresql
  zlib1g-dev libzstd-dev   # ingest of .csv.gz / .csv.zst (src/store/byte_source.cpp)
  slurm-wlm munge
  iproute2 util-linux   # test hosts in network namespaces (tests/hosts): ip, unshare
  python3 python3-venv python3-numpy python3-pandas python3-h5py python3-matplotlib
  r-base-core r-cran-ttr
)

install_debian_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#PACKAGES[@]} Debian packages present"
    return
  fi
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_torch() {
  local want="${TORCH_PIN#torch==}" have=""
  [[ -x "$VENV/bin/python" ]] || /usr/bin/python3 -m venv "$VENV"
  have=$("$VENV/bin/python" -W ignore -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)
  if [[ "$have" == "$want" ]]; then
    echo "install-deps: libtorch $have present in $VENV"
    return
  fi
  echo "install-deps: installing $TORCH_PIN (CUDA 13.0 build, ~4.7 GB) into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$TORCH_PIN"
  "$VENV/bin/python" -W ignore -c 'import torch; print("install-deps: libtorch", torch.__version__, "CUDA", torch.version.cuda)'
}

install_python_packages() {
  local missing=() pin
  for pin in "${PY_PINS[@]}"; do
    "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('${pin%%==*}') != '${pin#*==}')" \
      2>/dev/null || missing+=("$pin")
  done
  if ((${#missing[@]} == 0)); then
    echo "install-deps: ${PY_PINS[*]} present in $VENV"
  else
    echo "install-deps: installing ${missing[*]} into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${missing[@]}"
  fi
  "$VENV/bin/python" -c 'import pyarrow; pyarrow.create_library_symlinks()'  # libarrow.so -> libarrow.so.2600
}

install_debian_packages
install_torch
install_python_packages
echo "install-deps: done"
