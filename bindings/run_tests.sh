#!/bin/sh
# Tests of every binding against the *installed* library, the way users get it:
# Python package (pytest, and pip-installed with the library next to it), C++ wrapper
# (c++ -std=c++17 with pkg-config flags), LuaJIT FFI, libffi embedding, and the
# C++/Python examples (the C examples run in Tests/c/run.sh).
#   PREFIX  an install prefix (make test-bindings installs there first)
#   BUILD   the build directory
set -eu
: "${PREFIX:?}" "${BUILD:?}"
CC=${CC:-cc}
CXX=${CXX:-c++}
PYTHON=${PYTHON:-python3}
LUAJIT=${LUAJIT:-luajit}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
FIXTURES=${FIXTURES:-$repo/Tests/Fixtures}
golden="$FIXTURES/golden/m1-b158-relu2-i2_s.gguf"
out="$BUILD/bindings"
rm -rf "$out" && mkdir -p "$out"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
lib="$PREFIX/lib/libbitnet.so.0"
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
step() { # step NAME LOGFILE COMMAND...: run, keep the log, show it on failure
  name=$1; log=$2; shift 2
  if "$@" > "$log" 2>&1; then ok "$name$(grep -h 'RSS growth' "$log" | sed 's/^/ — /' | head -1)"
  else bad "$name (exit $?)"; sed 's/^/    /' "$log" | tail -40; fi
}

# A generated model (m1 dimensions, byte-level BPE vocabulary) shared by the tests.
model="$out/m1.gguf"
"$PYTHON" "$repo/Tests/tools/make_model.py" -o "$model" > /dev/null

# Python: the package's own tests, in their own pytest run (no clash with Tests/python).
# PYTHONDONTWRITEBYTECODE: running from the source tree leaves no __pycache__ there.
step "python: pytest bindings/python/tests" "$out/pytest.log" \
  env BITNET_LIBRARY="$lib" PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -m pytest -q -p no:cacheprovider --rootdir "$here/python" "$here/python/tests"

# Python: `pip install bindings/python` builds a wheel that carries build/lib/libbitnet.so.0
# (hatchling + hatch_build.py; no build isolation, so no network: make deps-pip installs
# hatchling). The installed package then imports and generates with no BITNET_LIBRARY from
# outside the repository, and the build leaves nothing in the source tree (bytecode writing
# on, as for users).
site="$out/site"
untracked() { git -C "$repo" status --porcelain --ignored --untracked-files=all -- bindings/python 2>/dev/null || true; }
before=$(untracked)
if env -u PYTHONDONTWRITEBYTECODE "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps \
     --no-build-isolation --target "$site" "$here/python" > "$out/pip.log" 2>&1 \
   && (cd "$out" && env -u BITNET_LIBRARY PYTHONPATH="$site" "$PYTHON" -c '
import sys, bitnet
assert bitnet.library_path() == sys.argv[1] + "/bitnet/libbitnet.so.0", bitnet.library_path()
with bitnet.Model(sys.argv[2]) as model, bitnet.Context(model, n_ctx=64, n_threads=1) as ctx:
    print(repr(ctx.generate("Hello", temperature=0, max_new_tokens=4, ignore_eos=True)))
    assert ctx.last_result.n_generated == 4, ctx.last_result' "$site" "$golden") >> "$out/pip.log" 2>&1; then
  after=$(untracked)
  if [ "$before" = "$after" ]; then ok "python: pip install bindings/python carries the library"
  else bad "python: pip install left files in bindings/python"; printf '%s\n' "$after"; fi
else bad "python: pip install"; tail -20 "$out/pip.log"; fi

step "python: examples/python_generate.py" "$out/example-python.log" \
  env BITNET_LIBRARY="$lib" PYTHONPATH="$here/python" PYTHONDONTWRITEBYTECODE=1 "$PYTHON" \
    "$repo/examples/python_generate.py" "$golden"

# C++: the installed header-only wrapper, compiled warning-free as C++17.
cxxflags="-std=c++17 -Wall -Wextra -Werror -pedantic $(pkg-config --cflags bitnet)"
cxxlibs="$(pkg-config --libs bitnet) -Wl,-rpath,$PREFIX/lib"
if $CXX $cxxflags "$here/cpp/test_bitnet.cpp" -o "$out/test_bitnet_cpp" $cxxlibs; then
  step "c++: bindings/cpp/test_bitnet.cpp" "$out/cpp.log" env LD_LIBRARY_PATH= "$out/test_bitnet_cpp" "$model"
else bad "c++: test_bitnet.cpp (compile)"; fi
if $CXX $cxxflags "$repo/examples/cpp_generate.cpp" -o "$out/example-cpp" $cxxlibs; then
  step "c++: examples/cpp_generate.cpp" "$out/example-cpp.log" env LD_LIBRARY_PATH= "$out/example-cpp" "$golden"
else bad "c++: cpp_generate.cpp (compile)"; fi

# LuaJIT FFI. Its cdef is a transcription of bitnet.h: the test compares its struct sizes
# with the C compiler's (struct_sizes.txt).
structs="model_params model_info context_params context_stats batch_params batch_stats logit_bias
  generation_params token_info generation_result tool_call tool_calls"
{ echo '#include <stdio.h>'; echo '#include "bitnet.h"'; echo 'int main(void) {'
  for s in $structs; do printf 'printf("bitnet_%s %%zu\\n", sizeof(bitnet_%s));\n' "$s" "$s"; done
  echo 'return 0; }'; } > "$out/struct_sizes.c"
if $CC -std=c11 -I"$repo/include" "$out/struct_sizes.c" -o "$out/struct_sizes" &&
   "$out/struct_sizes" > "$out/struct_sizes.txt"; then
  step "luajit: bindings/lua/test_bitnet.lua" "$out/lua.log" \
    env BITNET_LIBRARY="$lib" "$LUAJIT" "$here/lua/test_bitnet.lua" "$model" "$out/struct_sizes.txt"
else bad "luajit: struct sizes (compile)"; fi

# libffi: dlopen + ffi_call + ffi_closure, the library never linked.
if $CC -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags bitnet libffi) "$here/libffi/test_libffi.c" \
     -o "$out/test_libffi" $(pkg-config --libs libffi) -ldl; then
  step "libffi: bindings/libffi/test_libffi.c" "$out/libffi.log" "$out/test_libffi" "$lib" "$model"
else bad "libffi: test_libffi.c (compile)"; fi

echo "bindings: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
