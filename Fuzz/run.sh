#!/bin/sh
# Builds an instrumented libbitnet (Swift: ASan + libFuzzer coverage, a debug
# build at -O, so Swift's overflow and bounds traps stay in; C kernels: ASan + UBSan), links
# each harness with libFuzzer, seeds its corpus and runs it for FUZZ_SECONDS.
# Writes build/fuzz/report.txt (executions, coverage, corpus, crashes per harness).
#   FUZZ_SECONDS  seconds per harness (default 60)
#   FUZZ_TARGETS  which harnesses (default: all of them, below)
#   FUZZ_MODE     short (default): a scratch corpus in build/fuzz/corpus, started
#                 from the committed one; long: the same, and afterwards the
#                 scratch corpus merged and minimized into the committed one
#                 (Fuzz/corpus/, inputs up to the harness's cap so it stays small;
#                 larger ones stay in the scratch corpus of this machine), one
#                 line per harness appended to Fuzz/campaigns.tsv (make fuzz-long);
#                 replay: run every committed corpus input and every past
#                 finding (Fuzz/regressions/) once, no fuzzing (make test)
#   FIXTURES      the test data folder (golden models, vocabularies; Tests/Fixtures)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
FIXTURES=${FIXTURES:-$root/Tests/Fixtures}
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"gguf_parse gguf tokenizer chat state api python grammar tools"}
MODE=${FUZZ_MODE:-short}
SWIFT=${SWIFT:-swift}
CLANG=${CLANG:-clang}
out="$root/build/fuzz"
mkdir -p "$out/lib" "$out/seeds"

cd "$root"
# -O on a debug build: Swift's overflow, bounds and precondition traps stay in
# (only -Ounchecked removes them; the library has no assert()), and the
# parse-only harness runs several times faster than at -Onone.
$SWIFT build --build-path .build-fuzz --product bitnet -Xswiftc -O \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
  -Xcc -fsanitize=address,undefined -Xcc -fsanitize=fuzzer-no-link
# The library's SONAME is libbitnet.so.0; SwiftPM names the file libbitnet.so.
ln -sf "$root/.build-fuzz/debug/libbitnet.so" "$out/lib/libbitnet.so.0"
ln -sf libbitnet.so.0 "$out/lib/libbitnet.so"
for t in $TARGETS; do
  [ "$t" = python ] && continue
  $CLANG -g -O1 -fsanitize=fuzzer,address,undefined -I"$root/include" "$here/fuzz_$t.c" -o "$out/fuzz_$t" \
    -L"$out/lib" -lbitnet -Wl,-rpath,"$out/lib" 2>&1 | grep -v 'Cannot export local symbol' || true
done

# Seeds: generated models and the malformed corpus; tokenizer test inputs;
# chat conversations; real saved states; random API programs; grammars and schemas.
seeds="$out/seeds"
[ -d "$seeds/gguf_parse" ] || python3 "$here/make_seeds.py" "$seeds" "$FIXTURES"
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
if [ -x "$out/fuzz_state" ] && [ -z "$(ls -A "$seeds/state" 2>/dev/null)" ]; then
  mkdir -p "$seeds/state"
  BITNET_FIXTURES="$FIXTURES" FUZZ_WRITE_SEEDS="$seeds/state" "$out/fuzz_state" -runs=0 >/dev/null 2>&1 || true
fi
if [ ! -d "$seeds/grammar" ]; then
  # GBNF grammars and JSON Schemas; the first byte of each picks the parser (Fuzz/fuzz_grammar.c).
  mkdir -p "$seeds/grammar"
  cp "$here"/grammar-seeds/* "$seeds/grammar"/
fi
if [ ! -d "$seeds/tools" ]; then
  # Tools JSON / messages+tools / replies; the first byte picks the path and template (Fuzz/fuzz_tools.c).
  mkdir -p "$seeds/tools"
  cp "$here"/tools-seeds/* "$seeds/tools"/
fi
if [ ! -d "$seeds/api" ]; then
  mkdir -p "$seeds/api"
  for i in 1 2 3 4 5 6 7 8; do head -c $((64 * i)) /dev/urandom > "$seeds/api/r$i"; done
  # A program: context(n_ctx 40, batch 8, 1 thread, f16, cache 4 KiB), eval 3, generate, stream, next x3, state.
  printf '\050\010\000\000\004\004\001\000\003\002\003\004\004\010Hello\000\000\001\002\000\000\000\000\006\004Once\000\001\003\002\000\000\002\007\003\007\003\007\003\013\014' > "$seeds/api/program"
fi

# Per harness: its seed folder, dictionary and largest input. The parse-only
# harness keeps inputs small (its speed is the point; the tensor data of a
# seed model only has to exist, not to be large).
# The Python binding's harness (atheris) drives the release library that
# `make` built: an ASan library cannot be loaded into an uninstrumented python.
if echo " $TARGETS " | grep -q " python "; then
  python3 -c "import atheris" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check atheris
  [ -f "$root/build/lib/libbitnet.so.0" ] || make -C "$root" --no-print-directory build
  printf '#!/bin/sh\nexec env BITNET_LIBRARY="%s" python3 "%s" "$@"\n' "$root/build/lib/libbitnet.so.0" "$here/python/fuzz_binding.py" > "$out/fuzz_python"
  chmod +x "$out/fuzz_python"
  mkdir -p "$seeds/python"
  [ -n "$(ls -A "$seeds/python")" ] || printf 'seed' > "$seeds/python/empty"
fi
# The largest input the committed corpus keeps, per harness (bytes).
cap_of() { case $1 in gguf_parse|gguf) echo 16384 ;; *) echo 65536 ;; esac; }
options_of() {
  case $1 in
    gguf_parse) echo "-dict=$here/gguf.dict -max_len=32768 -use_value_profile=1" ;;
    gguf) echo "-dict=$here/gguf.dict -max_len=1048576" ;;
    python) echo "-max_len=512" ;;
    *) echo "-max_len=1048576" ;;
  esac
}

report="$out/report.txt"
: > "$report"
if [ "$MODE" = replay ]; then
  passed=0 failed=0
  for t in $TARGETS; do
    dirs=""
    for d in "$here/corpus/$t" "$here/regressions/$t"; do [ -n "$(ls -A "$d" 2>/dev/null)" ] && dirs="$dirs $d"; done
    [ -n "$dirs" ] || dirs="$seeds/$t"
    # shellcheck disable=SC2046,SC2086
    if BITNET_FIXTURES="$FIXTURES" ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
         "$out/fuzz_$t" -runs=0 -timeout=20 -rss_limit_mb=4096 $(options_of "$t") $dirs > "$out/replay_$t.log" 2>&1; then
      passed=$((passed + 1)); echo "ok   fuzz_$t replays $(ls $dirs | grep -vc ':$') inputs"
    else
      failed=$((failed + 1)); echo "FAIL fuzz_$t"; tail -30 "$out/replay_$t.log"
    fi
  done
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi
for t in $TARGETS; do
  committed="$here/corpus/$t"
  artifacts="$out/artifacts/$t"
  mkdir -p "$artifacts" "$committed"
  corpus="$out/corpus/$t"
  mkdir -p "$corpus"
  [ -n "$(ls -A "$committed")" ] && cp "$committed"/* "$corpus"/
  [ -n "$(ls -A "$corpus")" ] || cp "$seeds/$t"/* "$corpus"/
  log="$out/fuzz_$t.log"
  set +e
  # shellcheck disable=SC2046
  BITNET_FIXTURES="$FIXTURES" ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "$out/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=4096 $(options_of "$t") \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" > "$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  crashes=$(ls "$artifacts" | wc -l)
  if [ "$MODE" = long ]; then
    # Keep the committed corpus small and minimal: the inputs up to the cap,
    # merged into an empty folder (only those that add coverage), swapped in.
    merged="$out/merged/$t" small="$out/small/$t"
    rm -rf "$merged" "$small" && mkdir -p "$merged" "$small"
    find "$corpus" -type f -size -"$(( $(cap_of "$t") + 1 ))"c -exec cp {} "$small"/ \;
    BITNET_FIXTURES="$FIXTURES" ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
      "$out/fuzz_$t" -merge=1 $(options_of "$t") "$merged" "$small" > "$out/merge_$t.log" 2>&1 \
      && rm -rf "$committed" && mv "$merged" "$committed"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$t" "$SECONDS_EACH" "${runs:-0}" \
      "${cov:-?}" "${ft:-?}" "$(ls "$committed" | wc -l)" "$(du -sk "$committed" | cut -f1)" "$crashes" >> "$here/campaigns.tsv"
  fi
  rate=$([ -n "$runs" ] && echo $((runs / SECONDS_EACH)) || echo "?")
  echo "$t: exit $rc, ${runs:-?} executions in ${SECONDS_EACH}s ($rate/s), cov ${cov:-?}, ft ${ft:-?}, corpus $(ls "$corpus" | wc -l) files, $crashes crash/timeout/leak artifacts" | tee -a "$report"
done
if [ "$MODE" = long ]; then
  echo "cumulative executions per harness (Fuzz/campaigns.tsv):"
  awk -F'\t' 'NR > 1 { n[$2] += $4; s[$2] += $3 } END { for (h in n) printf "  %-12s %12d executions in %d s\n", h, n[h], s[h] }' "$here/campaigns.tsv" | sort
fi
