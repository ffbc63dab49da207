#!/bin/sh
# The README's promise, checked as a user would follow it: the C example under
# "## C example", built and run from a custom install prefix with the commands of the
# README's custom-prefix block, line by line as written (HOME points at a scratch
# folder, so $HOME/opt/bitnet is a fresh prefix; the `make install` line runs in the
# repository, the others where app.c is). Nothing else is on the library path.
#   MAKE  the make to run (make test-install passes its own)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
readme="$repo/README.md"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home" "$scratch/app"

# The fenced block that follows a heading (```c) or the sh block holding a line.
awk '/^## C example/ {h=1} h && /^```c$/ {on=1; next} on && /^```$/ {exit} on {print}' "$readme" > "$scratch/app/app.c"
awk '/^```sh$/ {on=1; n=0; buf=""; next} on && /^```$/ {on=0; if (buf ~ /PREFIX=\$HOME\/opt\/bitnet/) {printf "%s", buf; exit}; next} on {buf = buf $0 "\n"}' \
  "$readme" > "$scratch/commands.sh"
[ -s "$scratch/app/app.c" ] || { echo "FAIL no C example in README.md"; exit 1; }
[ "$(wc -l < "$scratch/commands.sh")" -ge 4 ] || { echo "FAIL no custom-prefix block in README.md"; exit 1; }

install_line=$(sed -n 1p "$scratch/commands.sh")
case "$install_line" in make\ install*) ;; *) echo "FAIL first line is not make install: $install_line"; exit 1 ;; esac
rest=$(sed -n '2,$p' "$scratch/commands.sh")
if ! (cd "$repo" && env HOME="$scratch/home" sh -c "${MAKE:-make} --no-print-directory -s ${install_line#make }" > "$scratch/install.log" 2>&1); then
  echo "FAIL README install line"; tail -20 "$scratch/install.log"; exit 1
fi
if (cd "$scratch/app" && env -u LD_LIBRARY_PATH -u PKG_CONFIG_PATH HOME="$scratch/home" sh -ec "$rest") > "$scratch/run.log" 2>&1 \
   && grep -q 'tokens, .* tok/s' "$scratch/run.log"; then
  echo "ok   README C example from a custom prefix ($(grep -o '[0-9]* tokens, [0-9.]* tok/s' "$scratch/run.log"))"
else
  echo "FAIL README C example from a custom prefix"; sed 's/^/    /' "$scratch/run.log" | tail -20; exit 1
fi
