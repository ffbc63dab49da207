#!/bin/sh
# Builds the DocC documentation of the `BitNet` module (Sources/BitNet/BitNet.docc
# plus the symbol docs of its public API) with the toolchain's `docc`, no
# plugin, and fails on any warning (an unresolved ``link``, a bad topic, a
# symbol the catalog names that is not public). OUT=<dir> keeps the archive.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SWIFT=${SWIFT:-swift}
DOCC=${DOCC:-$(dirname "$(readlink -f "$(command -v "$SWIFT")")")/docc}
[ -x "$DOCC" ] || DOCC=$(command -v docc)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT=${OUT:-$WORK/BitNet.doccarchive}

cd "$ROOT"
"$SWIFT" package --build-path .build dump-symbol-graph --minimum-access-level public >"$WORK/symbols.log" 2>&1 ||
  { cat "$WORK/symbols.log"; echo "FAIL docs: no symbol graph"; exit 1; }
GRAPHS=$(sed -n 's/^Files written to //p' "$WORK/symbols.log")
mkdir "$WORK/graphs"
# BitNet.symbols.json, plus BitNet@<Module>.symbols.json when the API extends another module's types.
for graph in "$GRAPHS"/BitNet.symbols.json "$GRAPHS"/BitNet@*.symbols.json; do
  [ -f "$graph" ] && cp "$graph" "$WORK/graphs/"
done
[ -f "$WORK/graphs/BitNet.symbols.json" ] || { echo "FAIL docs: no BitNet symbol graph in $GRAPHS"; exit 1; }

"$DOCC" convert Sources/BitNet/BitNet.docc --additional-symbol-graph-dir "$WORK/graphs" \
  --fallback-display-name BitNet --fallback-bundle-identifier bitnet.BitNet \
  --warnings-as-errors --output-path "$OUT" >"$WORK/docc.log" 2>&1 || { cat "$WORK/docc.log"; echo "FAIL docs: docc failed"; exit 1; }
if grep -q "warning" "$WORK/docc.log"; then
  cat "$WORK/docc.log"
  echo "FAIL docs: docc warned"
  exit 1
fi
pages=$(find "$OUT/data/documentation" -name '*.json' | wc -l)
[ "$pages" -gt 50 ] || { echo "FAIL docs: only $pages pages"; exit 1; }
echo "ok   docs: BitNet.docc and the public API, $pages pages, no warnings"
