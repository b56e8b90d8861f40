#!/usr/bin/env bash
# Build the Kasir till APK (debug) with buildozer. Needs what README.md lists (JDK 17,
# the Android SDK/NDK that buildozer downloads, Cython, autotools, a Rust toolchain for
# pydantic-core). Run from anywhere:  bash packaging/android/build.sh [debug|release]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
stage="$root/build/android"
mode="${1:-debug}"

mkdir -p "$stage"
# Fresh sources each time; .buildozer/ (SDK, NDK, p4a builds) and bin/ are kept.
rm -rf "$stage/pos_client" "$stage/shared" "$stage/assets" "$stage/recipes"
cp "$here/buildozer.spec" "$here/main.py" "$stage/"
cp -r "$here/recipes" "$stage/recipes"
cp -r "$root/pos_client" "$root/shared" "$root/assets" "$stage/"
find "$stage/pos_client" "$stage/shared" -name __pycache__ -prune -exec rm -rf {} +

cd "$stage"
buildozer -v android "$mode"
echo "APK: $(ls -1 "$stage"/bin/*.apk 2>/dev/null | tail -1)"
