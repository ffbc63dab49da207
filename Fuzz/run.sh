#!/bin/sh
# Builds an instrumented libbitnet (Swift: ASan + libFuzzer coverage, debug so
# Swift's overflow and bounds traps stay in; C kernels: ASan + UBSan), links
# each harness with libFuzzer, seeds its corpus and runs it for FUZZ_SECONDS.
# Writes build/fuzz/report.txt (executions, corpus size, crashes per harness).
#   FUZZ_SECONDS  seconds per harness (default 60)
#   FUZZ_TARGETS  which harnesses (default: gguf tokenizer chat state api grammar)
#   FIXTURES      the test data folder (golden models, vocabularies; Tests/Fixtures)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
FIXTURES=${FIXTURES:-$root/Tests/Fixtures}
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"gguf tokenizer chat state api grammar"}
SWIFT=${SWIFT:-swift}
CLANG=${CLANG:-clang}
out="$root/build/fuzz"
mkdir -p "$out/lib" "$out/seeds"

cd "$root"
$SWIFT build --build-path .build-fuzz --product bitnet \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
  -Xcc -fsanitize=address,undefined -Xcc -fsanitize=fuzzer-no-link
# The library's SONAME is libbitnet.so.0; SwiftPM names the file libbitnet.so.
ln -sf "$root/.build-fuzz/debug/libbitnet.so" "$out/lib/libbitnet.so.0"
ln -sf libbitnet.so.0 "$out/lib/libbitnet.so"
for t in $TARGETS; do
  $CLANG -g -O1 -fsanitize=fuzzer,address,undefined -I"$root/include" "$here/fuzz_$t.c" -o "$out/fuzz_$t" \
    -L"$out/lib" -lbitnet -Wl,-rpath,"$out/lib" 2>&1 | grep -v 'Cannot export local symbol' || true
done

# Seeds: generated models and the malformed corpus; tokenizer test inputs;
# chat conversations; real saved states; random API programs; grammars and schemas.
seeds="$out/seeds"
[ -d "$seeds/gguf" ] || python3 "$here/make_seeds.py" "$seeds" "$FIXTURES"
if [ ! -d "$seeds/tokenizer" ]; then
  mkdir -p "$seeds/tokenizer"
  i=0
  for f in "$FIXTURES"/vocab/*.inp; do
    awk -v dir="$seeds/tokenizer" -v vocab="$i" 'BEGIN { RS = "\n__ggml_vocab_test__\n" }
      NR <= 40 { f = sprintf("%s/v%d-%03d", dir, vocab, NR); printf "%c%s", vocab + 1 + 8 * (NR % 2) + 4 * (NR % 3 == 0), $0 > f; close(f) }' "$f"
    i=$((i + 1))
  done
fi
if [ ! -d "$seeds/chat" ]; then
  mkdir -p "$seeds/chat"
  printf '\000system\000Be brief.\000user\000Hello!\000assistant\000Hi.\000user\000  What is 2+2?  \000' > "$seeds/chat/a"
  printf '\005user\000caf\303\251 \360\237\230\200\000' > "$seeds/chat/b"
  printf '\012system\000<|eot_id|>\000user\000\000' > "$seeds/chat/c"
fi
if [ ! -d "$seeds/state" ]; then
  mkdir -p "$seeds/state"
  BITNET_FIXTURES="$FIXTURES" FUZZ_WRITE_SEEDS="$seeds/state" "$out/fuzz_state" -runs=0 >/dev/null 2>&1 || true
fi
if [ ! -d "$seeds/grammar" ]; then
  # GBNF grammars and JSON Schemas; the first byte of each picks the parser (Fuzz/fuzz_grammar.c).
  mkdir -p "$seeds/grammar"
  cp "$here"/grammar-seeds/* "$seeds/grammar"/
fi
if [ ! -d "$seeds/api" ]; then
  mkdir -p "$seeds/api"
  for i in 1 2 3 4 5 6 7 8; do head -c $((64 * i)) /dev/urandom > "$seeds/api/r$i"; done
  # A program: context(n_ctx 40, batch 8, 1 thread, f16, cache 4 KiB), eval 3, generate, stream, next x3, state.
  printf '\050\010\000\000\004\004\001\000\003\002\003\004\004\010Hello\000\000\001\002\000\000\000\000\006\004Once\000\001\003\002\000\000\002\007\003\007\003\007\003\013\014' > "$seeds/api/program"
fi

report="$out/report.txt"
: > "$report"
for t in $TARGETS; do
  corpus="$out/corpus/$t"
  artifacts="$out/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  [ -n "$(ls -A "$corpus")" ] || cp "$seeds/$t"/* "$corpus"/
  log="$out/fuzz_$t.log"
  set +e
  BITNET_FIXTURES="$FIXTURES" ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "$out/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=4096 -max_len=1048576 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" > "$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}')
  crashes=$(ls "$artifacts" | wc -l)
  echo "$t: exit $rc, ${runs:-?} executions in ${SECONDS_EACH}s, corpus $(ls "$corpus" | wc -l) files, $crashes crash/timeout/leak artifacts" | tee -a "$report"
done
