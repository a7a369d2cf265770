#!/usr/bin/env bash
# Configures and builds tickstream with a CMake preset (default: release) into build/<preset>.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRESET="${1:-release}"
cd "$ROOT"
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" -j "$(nproc)"
echo "build: $ROOT/build/$PRESET/tickstream"
