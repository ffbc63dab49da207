#!/bin/sh
# C-side tests: everything here uses only the *installed* header and library,
# found through pkg-config, the way a user's program would.
#   PREFIX  the test install prefix (make test-c installs there first)
#   BUILD   the build directory
set -eu
: "${PREFIX:?}" "${BUILD:?}"
CC=${CC:-cc}
CXX=${CXX:-c++}
here=$(cd "$(dirname "$0")" && pwd)
FIXTURES=${FIXTURES:-$(cd "$here/.." && pwd)/Fixtures}
out="$BUILD/c-tests"
rm -rf "$out" && mkdir -p "$out"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
lib="$PREFIX/lib/libbitnet.so"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

# 1. The header compiles warning-free in every dialect we promise.
printf '#include <bitnet.h>\nint main(void) { return bitnet_abi_version() == BITNET_ABI_VERSION ? 0 : 1; }\n' > "$out/hdr.c"
cp "$out/hdr.c" "$out/hdr.cpp"
for std in c99 c11 c17; do
  if $CC -std=$std -pedantic -Wall -Wextra -Werror $(pkg-config --cflags bitnet) -c "$out/hdr.c" -o "$out/hdr-$std.o"; then
    ok "header compiles as -std=$std -pedantic -Wall -Wextra -Werror"
  else bad "header as $std"; fi
done
for std in c++11 c++17; do
  if $CXX -std=$std -pedantic -Wall -Wextra -Werror $(pkg-config --cflags bitnet) -c "$out/hdr.cpp" -o "$out/hdr-$std.o"; then
    ok "header compiles as -std=$std"
  else bad "header as $std"; fi
done

# 2. The shared library is self-contained and exports only the API.
# Exported = defined dynamic symbols with GLOBAL or WEAK binding (LOCAL entries
# in .dynsym, such as Swift type metadata, cannot be bound by other objects).
exported=$(readelf --dyn-syms -W "$lib" | awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") {print $8}')
if echo "$exported" | grep -v '^bitnet_' | grep -q .; then
  bad "non-bitnet_ symbols exported:"; echo "$exported" | grep -v '^bitnet_' | head
else ok "only bitnet_* symbols exported ($(echo "$exported" | wc -l) symbols)"; fi
if readelf -d "$lib" | grep -q 'SONAME.*\[libbitnet\.so\.0\]'; then ok "SONAME libbitnet.so.0"; else bad "SONAME"; fi
if readelf -d "$lib" | grep NEEDED | grep -q swift; then bad "library needs a Swift runtime library"; else ok "no libswift* in NEEDED"; fi
if env -u LD_LIBRARY_PATH ldd "$lib" | grep -q swift; then bad "ldd shows libswift*"; else ok "ldd shows no libswift*"; fi
if readelf -d "$lib" | grep -E 'R(UN)?PATH' | grep -v '\[\$ORIGIN\]' | grep -q .; then
  bad "RUNPATH other than \$ORIGIN: $(readelf -d "$lib" | grep -E 'R(UN)?PATH')"
else ok "no RUNPATH into the toolchain"; fi

# 3. Programs built from pkg-config flags, run with an empty library path.
for src in "$here"/test_*.c; do
  name=$(basename "$src" .c)
  if $CC -std=c99 -Wall -Wextra -Werror $(pkg-config --cflags bitnet) "$src" -o "$out/$name" \
       $(pkg-config --libs bitnet) -Wl,-rpath,"$PREFIX/lib" -lpthread -lm; then
    if env LD_LIBRARY_PATH= "$out/$name" "$FIXTURES"; then ok "$name"; else bad "$name (exit $?)"; fi
  else bad "$name (compile)"; fi
done

# 4. The examples build the same way and run on a golden model.
for src in "$here"/../../examples/*.c; do
  name=example-$(basename "$src" .c)
  if $CC -std=c99 -Wall -Wextra -Werror $(pkg-config --cflags bitnet) "$src" -o "$out/$name" \
       $(pkg-config --libs bitnet) -Wl,-rpath,"$PREFIX/lib"; then
    if env LD_LIBRARY_PATH= "$out/$name" "$FIXTURES/golden/m1-b158-relu2-i2_s.gguf" > "$out/$name.out"; then
      ok "$name ($(wc -c < "$out/$name.out") bytes of output)"
    else bad "$name (exit $?)"; fi
  else bad "$name (compile)"; fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
