#!/bin/sh
# Sanitizer runs.
#   short (CI, part of make test, ~2 min): libbitnet built with ASan (Swift)
#     and ASan + UBSan (C kernels), every C test (Tests/c/test_*.c) compiled
#     with ASan + UBSan against it, and a 2,000-generation soak under ASan.
#   full (make sanitize): short, plus the Swift test suite under
#     -sanitize=address, the threading / generation / stream / cache / batch /
#     grammar suites under -sanitize=thread, and the C tests + soak against a TSan libbitnet
#     (the pool, streams and interrupt are where races hide).
# Any sanitizer report fails the run (halt_on_error).
set -eu
MODE=${1:-short}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
FIXTURES=${FIXTURES:-$root/Tests/Fixtures}
SWIFT=${SWIFT:-swift}
CLANG=${CLANG:-clang}
out="$root/build/sanitize"
rm -rf "$out" && mkdir -p "$out/lib"
cd "$root"

export ASAN_OPTIONS=halt_on_error=1:detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# No suppressions: shared state sits behind pthread mutexes (`Locked`), which
# TSan models, or atomics, so every report is a finding.
export TSAN_OPTIONS="halt_on_error=1"

echo "== libbitnet with ASan (Swift) + ASan/UBSan (C kernels)"
$SWIFT build --build-path .build-asan --product bitnet \
  -Xswiftc -sanitize=address -Xcc -fsanitize=address,undefined -Xcc -fno-sanitize-recover=undefined
ln -sf "$root/.build-asan/debug/libbitnet.so" "$out/lib/libbitnet.so.0"
ln -sf libbitnet.so.0 "$out/lib/libbitnet.so"

passed=0
failed=0
for src in "$root"/Tests/c/test_*.c; do
  name=$(basename "$src" .c)
  if $CLANG -std=c99 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -I"$root/include" \
       "$src" -o "$out/$name" -L"$out/lib" -lbitnet -Wl,-rpath,"$out/lib" -lpthread -lm 2>"$out/$name.build.log" &&
     "$out/$name" "$FIXTURES" > "$out/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name (ASan+UBSan)"
  else
    failed=$((failed + 1)); echo "FAIL $name (ASan+UBSan): see $out/$name.log"; tail -30 "$out/$name.log" || true
  fi
done
$CLANG -std=c11 -g -O1 -fsanitize=address,undefined -I"$root/include" "$root/Tests/soak/soak.c" -o "$out/soak" \
  -L"$out/lib" -lbitnet -Wl,-rpath,"$out/lib" -lpthread
if SOAK_SANITIZER=1 "$out/soak" "$FIXTURES" "${SANITIZE_SOAK_GENERATIONS:-2000}" > "$out/soak.log" 2>&1; then
  passed=$((passed + 1)); echo "ok   soak (ASan+UBSan): $(grep -m1 '^soak:' "$out/soak.log")"
else
  failed=$((failed + 1)); echo "FAIL soak (ASan+UBSan)"; tail -30 "$out/soak.log"
fi

if [ "$MODE" = full ]; then
  echo "== swift test -sanitize=address (whole suite)"
  if $SWIFT test --build-path .build-asan-tests --sanitize=address > "$out/swift-asan.log" 2>&1; then
    passed=$((passed + 1)); echo "ok   swift test --sanitize=address: $(grep -E 'Test run with' "$out/swift-asan.log" | tail -1)"
  else
    failed=$((failed + 1)); echo "FAIL swift test --sanitize=address"; tail -40 "$out/swift-asan.log"
  fi
  echo "== swift test -sanitize=thread (threading, generation, streams, caches, batches, grammars)"
  if $SWIFT test --build-path .build-tsan-tests --sanitize=thread \
       --filter "ThreadPool|Locked|Generation|Stream|Interrupt|Context|Cache|PublicAPI|Batch|Grammar" > "$out/swift-tsan.log" 2>&1; then
    passed=$((passed + 1)); echo "ok   swift test --sanitize=thread: $(grep -E 'Test run with' "$out/swift-tsan.log" | tail -1)"
  else
    failed=$((failed + 1)); echo "FAIL swift test --sanitize=thread"; grep -m3 -A30 'ThreadSanitizer' "$out/swift-tsan.log" || tail -40 "$out/swift-tsan.log"
  fi
  echo "== C tests and soak against a ThreadSanitizer libbitnet (C API threads: streams, interrupt, busy)"
  $SWIFT build --build-path .build-tsan --product bitnet -Xswiftc -sanitize=thread -Xcc -fsanitize=thread
  mkdir -p "$out/tsan-lib"
  swiftlib=$(dirname "$(command -v "$CLANG")")/../lib/swift/linux
  ln -sf "$root/.build-tsan/debug/libbitnet.so" "$out/tsan-lib/libbitnet.so.0"
  ln -sf libbitnet.so.0 "$out/tsan-lib/libbitnet.so"
  for src in "$root"/Tests/c/test_*.c "$root/Tests/soak/soak.c"; do
    name=$(basename "$src" .c)
    args="$FIXTURES"
    [ "$name" = soak ] && args="$FIXTURES 2000"
    # The toolchain's TSan runtime intercepts libdispatch, so it needs it (and blocks) to link.
    if $CLANG -std=c11 -g -O1 -fsanitize=thread -I"$root/include" "$src" -o "$out/tsan-$name" \
         -L"$out/tsan-lib" -lbitnet -L"$swiftlib" -ldispatch -lBlocksRuntime \
         -Wl,-rpath,"$out/tsan-lib" -Wl,-rpath,"$swiftlib" -lpthread -lm 2>"$out/tsan-$name.build.log" &&
       SOAK_SANITIZER=1 "$out/tsan-$name" $args > "$out/tsan-$name.log" 2>&1; then
      passed=$((passed + 1)); echo "ok   $name (TSan)"
    else
      failed=$((failed + 1)); echo "FAIL $name (TSan): see $out/tsan-$name.log"; grep -m2 -A20 'WARNING: ThreadSanitizer' "$out/tsan-$name.log" || tail -20 "$out/tsan-$name.log"
    fi
  done
fi
echo "sanitize ($MODE): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
