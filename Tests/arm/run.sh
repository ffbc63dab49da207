#!/bin/sh
# The AArch64 (NEON / dotprod / i8mm) kernels, verified without ARM hardware:
# Sources/CBitNetKernels and the tests here are cross-compiled for aarch64
# Linux (static), then run under qemu-user on three CPU models, so that each
# kernel level runs where it exists and the detection is checked where it
# does not:
#   max          NEON + dotprod + i8mm  (every level)
#   cortex-a76   NEON + dotprod         (no SMMLA)
#   cortex-a57   NEON only              (an SDOT in a plain-NEON path would trap here)
# with two compilers: aarch64-linux-gnu-gcc and, when the Swift toolchain is
# installed, its clang (the compiler SwiftPM builds the kernels with).
#
#   BUILD   output directory root (default: build); binaries go to $BUILD/arm-tests
#   SWIFT   the swift driver, to find the toolchain's clang (default: swift)
#   QEMU    qemu-aarch64 (default: qemu-aarch64)
# Prints "N passed, N failed" last; exits 1 on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${BUILD:-$root/build}/arm-tests
QEMU=${QEMU:-qemu-aarch64}
kernels="$root/Sources/CBitNetKernels"
rm -rf "$out" && mkdir -p "$out"

passed=0
failed=0
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# name|compiler command|extra flags for the kernels|extra flags for linking
compilers="gcc|aarch64-linux-gnu-gcc|-ffp-contract=off|"
# GCC contracts a*b + c across statements by default (-ffp-contract=fast);
# clang, which builds the package, only within one expression (=on), which
# the kernels are written for. So GCC gets =off and clang its default.
swift_bin=$(command -v "${SWIFT:-swift}" 2>/dev/null || true)
clang="${swift_bin%/*}/clang"
if [ -n "$swift_bin" ] && [ -x "$clang" ]; then
  compilers="$compilers
clang|$clang --target=aarch64-linux-gnu||-fuse-ld=lld"
else
  echo "note: no Swift toolchain clang found; testing with GCC only"
fi

tests="test_cpu_features test_ternary test_dense test_rows test_attention"
cpus="max:neon,dotprod,i8mm cortex-a76:neon,dotprod cortex-a57:neon"

echo "$compilers" | while IFS='|' read -r name cc kflags lflags; do
  dir="$out/$name"
  mkdir -p "$dir"
  ok=1
  for src in "$kernels"/*.c; do
    obj="$dir/kernel_$(basename "$src" .c).o"
    $cc -std=gnu11 -O3 $kflags -Wall -Wextra -Werror -I"$kernels/include" -c "$src" -o "$obj" || ok=0
  done
  $cc -std=gnu11 -O2 -ffp-contract=off -Wall -Wextra -Werror -I"$kernels/include" -c "$here/reference.c" \
    -o "$dir/reference.o" || ok=0
  for t in $tests; do
    $cc -std=gnu11 -O2 -Wall -Wextra -Werror -I"$kernels/include" -I"$here" "$here/$t.c" "$dir/reference.o" \
      "$dir"/kernel_*.o $lflags -static -lm -o "$dir/$t" || ok=0
  done
  echo "$ok" > "$dir/built"
done

for dir in "$out"/*/; do
  name=$(basename "$dir")
  if [ "$(cat "$dir/built")" != 1 ]; then fail "$name: build"; continue; fi
  for entry in $cpus; do
    cpu=${entry%%:*}
    for t in $tests; do
      log="$dir/$t-$cpu.log"
      BNK_EXPECT=${entry#*:} "$QEMU" -cpu "$cpu" "$dir/$t" > "$log" 2>&1
      status=$?
      sed "s/^/[$name $cpu] /" "$log" | grep -v ' passed, [0-9]* failed$'
      summary=$(tail -n 1 "$log")
      case "$summary" in
        *" passed, "*" failed")
          p=${summary%% passed*}; f=${summary#*passed, }; f=${f%% failed}
          passed=$((passed + p)); failed=$((failed + f))
          [ "$status" -eq 0 ] || [ "$f" -gt 0 ] || fail "$name $cpu $t: exit $status" ;;
        *) fail "$name $cpu $t: no summary (exit $status)" ;;
      esac
    done
  done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
