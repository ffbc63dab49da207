#!/bin/sh
# Throughput estimates (llvm-mca, no hardware) of the kernels' inner loops, in
# weight bytes per cycle (decode) or int8 MACs per cycle (prompt), for the
# AArch64 loops on two core models and the x86 loops on two, as recorded in
# BENCHMARKS.md ("AArch64 kernels: estimates"). Every figure is a static
# schedule of one loop iteration repeated with warm caches: no memory stalls,
# so it says how fast the arithmetic could eat weights, not what DRAM gives.
#
#   sh Tests/arm/mca.sh [OUT]     (default OUT: build/mca; the loop bodies are kept there)
#   MCA    llvm-mca (default llvm-mca-19: Debian's llvm-19; LLVM 14's lacks a Neoverse V1 model)
#   SWIFT  the swift driver, whose toolchain clang compiles the kernels as SwiftPM does
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
k="$root/Sources/CBitNetKernels"
out=${1:-$root/build/mca}
MCA=${MCA:-llvm-mca-19}
swift_bin=$(command -v "${SWIFT:-swift}")
CLANG=${CLANG:-${swift_bin%/*}/clang}
mkdir -p "$out"

for cpu in apple-m1 apple-m2 neoverse-v1; do
  for f in ternary_neon dense_dots_neon; do
    "$CLANG" --target=aarch64-linux-gnu -mcpu=$cpu -O3 -I"$k/include" -S "$k/$f.c" -o "$out/$f-$cpu.s"
  done
done
for f in ternary_avx512 ternary_avx2 dense_dots; do
  "$CLANG" -O3 -I"$k/include" -S "$k/$f.c" -o "$out/$f-x86.s"
done

# name | source (asm file stem) | function | loop selector | units per iteration | unit
aarch64_loops="decode: ternary matvec, dotprod (4 rows x 128 cols)|ternary_neon|matvec_dotprod|sdot=32|128|B
decode: ternary matvec, plain NEON (1 row x 128 cols)|ternary_neon|bnk_ternary_neon|smlal,smlal2=16|32|B
decode: LM head, split Q8_0 (2 x 16 blocks x 2 values)|dense_dots_neon|q8_0_split_neon|smlal,smlal2=16|68|B
decode: LM head, F16 (16 values)|dense_dots_neon|dot_f16_neon|fmla=4|32|B
prompt: ternary, dotprod (1 row x 128 cols x 8 tokens)|ternary_neon|matmul_dotprod|sdot=64|1024|MAC
prompt: ternary, i8mm (2 rows x 128 cols x 8 tokens)|ternary_neon|bnk_ternary_neon_i8mm|smmla=64|2048|MAC"
x86_loops="decode: ternary matvec, AVX-512 VNNI (4 rows x 128 cols)|ternary_avx512|matvec|vpdpbusd=8|128|B
decode: ternary matvec, AVX2 (1 row x 128 cols)|ternary_avx2|bnk_ternary_avx2|vpmaddubsw=4|32|B
decode: LM head, split Q8_0, AVX-512 (2 rows x 16 blocks x 32)|dense_dots|q8_0_split_avx512vnni|vpdpwssd=4|1088|B
decode: LM head, F16, AVX-512 (2 rows x 32 values)|dense_dots|dot_f16_avx512|vfmadd231ps=4|128|B
batched decode: LM head, split Q8_0, AVX-512, one input per pass (2 rows x 512)|dense_dots|bnk_dot_q8_0_split_avx512vnni|vpdpwssd,vpmaddwd=32|1024|MAC
batched decode: LM head, split Q8_0, AVX-512, 4 inputs per pass (1 row x 512 x 4)|dense_dots|q8_0_split_avx512vnni_multi|vpdpwssd,vpmaddwd=64|2048|MAC
batched decode: LM head, split Q8_0, AVX-512, 8 inputs per pass (1 row x 512 x 8)|dense_dots|q8_0_split_avx512vnni_multi|vpdpwssd,vpmaddwd=128|4096|MAC
prompt: ternary, AVX-512 VNNI (4 rows x 128 cols x 8 tokens)|ternary_avx512|matmul|vpdpbusd=64|4096|MAC
prompt: ternary, AVX2 (1 row x 128 cols x 4 tokens)|ternary_avx2|bnk_ternary_avx2|vpmaddubsw=16|512|MAC"

# estimate TRIPLE CPU ASM-SUFFIX "LOOPS": one table row per loop
estimate() {
  triple=$1 cpu=$2 suffix=$3
  echo "$4" | while IFS='|' read -r name src fn sel units unit; do
    case "$cpu $sel" in
      "apple-m1 smmla"*) echo "| $name | apple-m1 | | | | n/a: M1 has no i8mm (see apple-m2) |"; continue ;;
    esac
    body="$out/$(echo "$fn-$sel" | tr -c 'A-Za-z0-9_\n-' '_')-$cpu.s"
    # A loop the compiler no longer emits as an innermost loop with that
    # count (the kernel changed shape) gets a row saying so, not an abort;
    # mca_loops.py lists the candidate loops on stderr.
    if ! python3 "$here/mca_loops.py" "$out/$src-$suffix.s" "$fn" "$sel" > "$body"; then
      echo "| $name | $cpu | | | | n/a: no innermost loop in $fn with $sel (candidates on stderr) |"
      continue
    fi
    cycles=$("$MCA" -mtriple="$triple" -mcpu="$cpu" -iterations=1000 "$body" | awk '/^Total Cycles:/ {print $3}')
    awk -v n="$name" -v c="$cpu" -v cy="$cycles" -v u="$units" -v unit="$unit" -v i="$(grep -c . "$body")" \
      'BEGIN { printf "| %s | %s | %d | %.2f | %d %s | **%.2f %s/cycle** |\n", n, c, i, cy / 1000, u, unit, u * 1000 / cy, unit }'
  done
}

echo "| loop | model | instructions | cycles / iteration | per iteration | throughput |"
echo "|---|---|---:|---:|---:|---:|"
for cpu in apple-m1 neoverse-v1; do estimate aarch64 $cpu $cpu "$aarch64_loops"; done
estimate aarch64 apple-m2 apple-m2 "$(echo "$aarch64_loops" | grep smmla)"
for cpu in sapphirerapids znver5; do estimate x86_64 $cpu x86 "$x86_loops"; done
