#!/bin/sh
# The AVX-512 kernel level verified on a machine without AVX-512: the whole
# Swift test suite, built with BNK_EMULATED_AVX512 (Sources/CBitNetKernels/
# x86_target.h), so that the AVX-512 functions are compiled for AVX2 with
# SIMDe's portable _mm512 intrinsics (bnk_avx512_emulation.h) and
# bnk_cpu_has_avx512vnni() reports the level. Every test that runs each
# supported kernel level against its Swift reference then runs the AVX-512
# kernels too, and the default level everywhere else (golden logits, decode
# against the prompt path, batches against solo runs) is the AVX-512 one.
#
# It checks what the kernels compute, not how fast: the emulation is far
# slower than the hardware. A wrong emulated intrinsic shows up as a kernel
# failing against its reference (how SIMDe 0.7.4's roundscale was found).
#
#   SWIFT    the swift driver (default: swift)
#   SCRATCH  SwiftPM scratch path (default: .build-avx512emu, beside the normal build)
#   FORCE    1: run even on a CPU with AVX-512 VNNI
# Skips (exit 0, one line) on a host that is not x86-64 with AVX2, FMA and F16C,
# and on one with AVX-512 VNNI, where make test-swift already runs that level.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SWIFT=${SWIFT:-swift}
SCRATCH=${SCRATCH:-$root/.build-avx512emu}

if [ "$(uname -m)" != x86_64 ] || ! grep -qw avx2 /proc/cpuinfo || ! grep -qw fma /proc/cpuinfo ||
  ! grep -qw f16c /proc/cpuinfo; then
  echo "skipped: the AVX-512 emulation runs on x86-64 hosts with AVX2, FMA and F16C"
  exit 0
fi
if [ "${FORCE:-0}" != 1 ] && grep -qw avx512_vnni /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo &&
  grep -qw avx512vl /proc/cpuinfo; then
  echo "skipped: this CPU runs the AVX-512 level itself (make test-swift covers it; FORCE=1 emulates anyway)"
  exit 0
fi
if [ ! -f /usr/include/simde/x86/avx512.h ]; then
  echo "error: SIMDe is missing (Debian: apt-get install libsimde-dev)" >&2
  exit 1
fi

set -- -Xcc -DBNK_EMULATED_AVX512 -Xcc "-I$here" -Xcc -mavx2 -Xcc -mfma -Xcc -mf16c -Xcc -Wno-psabi
cd "$root"
"$SWIFT" build --build-tests --scratch-path "$SCRATCH" "$@"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$SWIFT" test --skip-build --scratch-path "$SCRATCH" "$@" >"$log" 2>&1 || status=$?
grep -E '^✘|^✔ Test run|error:' "$log" | grep -v ' recorded an issue' || true
# The emulation must really have been in effect: the per-level tests name it.
if ! grep -q 'kernels → .avx512vnni' "$log"; then
  echo "error: no test ran the avx512vnni level (is bnk_cpu_has_avx512vnni emulated?)" >&2
  exit 1
fi
exit "$status"
