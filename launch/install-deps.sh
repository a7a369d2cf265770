#!/usr/bin/env bash
# Installs everything tickstream needs on Debian 12 (idempotent: installs only what is missing).
set -euo pipefail

PACKAGES=(
  build-essential cmake git pkg-config ccache
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev hdf5-tools hdf5-filter-plugin
  libtrilinos-kokkos-dev
  libtorch-dev libopenblas0-pthread
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev libfast-float-dev
  libpq-dev postgresql
  slurm-wlm munge
  python3 python3-numpy python3-pandas python3-h5py python3-matplotlib
  r-base-core r-cran-ttr
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
