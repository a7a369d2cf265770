#!/usr/bin/env bash
# Run here (Debian 12 with apt), before a GPU host run: downloads into tests/gpu/debs (or $1) the
# Debian packages tests/gpu/host-check.sh unpacks on a GPU host that has CUDA, PyTorch, cmake and
# ninja but no MPI, HDF5, Kokkos or the header libraries: the dependency closure of those packages
# minus the compilers and the base system the host already has (about 30 MB, within the 64 MiB a
# run carries: `run ... carry ["tests/gpu/debs"]`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${1:-$ROOT/tests/gpu/debs}"
WANT=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev libtrilinos-kokkos-dev libgtest-dev libcli11-dev
      libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev libfast-float-dev libpq-dev
      libgfortran5 libltdl7 libaec0 libsz2 libcurl4 libcurl3-gnutls libjpeg62-turbo
      libssl-dev libssl3 zlib1g-dev  # HDF5 links -lcrypto -lz: their .so links
      libzstd-dev                    # ingest of .csv.zst (the host has libzstd.so.1: only the headers and link)
      libldap-2.5-0 libssh2-1)       # needed by Debian's libcurl (HDF5's); the host's sonames differ
# The toolchain, the base system and what a CUDA + PyTorch host has (or never needs here).
SKIP='^(gcc|g\+\+|cpp|gfortran|binutils|libc6|libc-dev|libstdc\+\+|libgcc|libasan|libtsan|liblsan|libubsan|libitm|libatomic|libgomp|libcc1|libgprofng|libctf|libbinutils|libisl|libmpc|libmpfr|libgmp|perl|libperl|python|linux-libc-dev|dpkg|debconf|cdebconf|debianutils|install-info|openssh|libicu|libz3|libllvm|clang|libclang|flang|libflang|libmlir|zlib1g|libssl|libcrypt|libselinux|libpcre|libtinfo|libzstd|liblzma|libbz2|libsystemd|libudev|libcap|libgpg|libgcrypt|liblz4|libaudit|libsemanage|libsepol|libattr|libacl|base-|coreutils|tar|sed|grep|bash|libdb5|libgdbm|libexpat|libffi|libnss3|libnspr4|libsqlite3|libuuid|libblkid|libmount|libreadline|readline|sensible-utils|mawk|make|patch|libkrb|libk5|libgssapi|libcom-err|libkeyutils|libsasl|libldap|libgnutls|libhogweed|libnettle|libidn|libp11|libtasn|libunistring|libbrotli|libpsl|librtmp|libssh2|libnghttp|libxml2|ucf|lsb-base|adduser|passwd|login|libpam|netbase|media-types|libmagic|libncurses|ncurses|automake|autoconf|autotools|libtool|m4|pkgconf|pkg-config|cmake|catch2|libx11|libxcb|libxau|libxdmcp|libxext|libslang|x11-common|libnewt|libdebian-installer|libtextwrap|libmunge|ocl-icd)'
mkdir -p "$DEST"
mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances "${WANT[@]}" | grep -v '^ ' | grep -v '^<' | sort -u | grep -vE "$SKIP")
cd "$DEST"
rm -f ./*.deb
apt-get download "${closure[@]}" "${WANT[@]}" >/dev/null
echo "fetch-debs: $(ls ./*.deb | wc -l) packages, $(du -sh . | cut -f1) in $DEST"
