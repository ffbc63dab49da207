#!/bin/sh
# Compiles the Swift code written for AArch64 (`#if arch(arm64)`, the kernel
# selection in Sources/BitNet/Kernels) on this x86 machine, which has no
# AArch64 Swift SDK: a copy of the package gets arch(arm64) -> true and
# arch(x86_64) -> false, so exactly the AArch64 branches are compiled, and is
# built with its tests. On x86 the NEON kernels are stubs and the NEON CPU
# checks return 0, so the copy links; nothing of it is run. Not part of
# `make test-arm` (a full debug build, a few minutes); run it after editing
# those branches:   sh Tests/arm/swift_arm64.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp -r "$root/Package.swift" "$root/Sources" "$root/include" "$copy/"
mkdir -p "$copy/Tests" && cp -r "$root/Tests/BitNetTests" "$copy/Tests/"
[ -f "$root/Package.resolved" ] && cp "$root/Package.resolved" "$copy/"
grep -rl 'arch(' "$copy/Sources" "$copy/Tests" --include='*.swift' |
  xargs sed -i -e 's/arch(arm64)/true/g' -e 's/arch(x86_64)/false/g'
echo "AArch64 branches compiled in:"
grep -rn -B1 -A1 '#if true\|#elseif true' "$copy/Sources" --include='*.swift' | grep -c '#if true\|#elseif true'
(cd "$copy" && "${SWIFT:-swift}" build --build-tests)
echo "ok   the arch(arm64) Swift branches compile (with tests)"
