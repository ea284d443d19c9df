#!/usr/bin/env bash
# make-corpus.sh OUT SIEVE SEED_MAKER [SHARED]
#
# Builds the fuzz targets' seed corpora into OUT/seeds/<target>/ from
# ../shared (read only; nothing is copied into the source tree) and from small
# files made on the spot: tiny models from `sieve synth` and their packs
# (`sieve pack`), and fuzz_seed_maker's llama2.c checkpoints, tiny GGUFs and
# chat templates. Also creates OUT/corpus/<target>/ (where libFuzzer adds
# what it finds; kept between runs) and OUT/artifacts/.
# ctest runs it before the fuzz tests (fixture fuzz_corpus).
set -euo pipefail

out=${1:?usage: make-corpus.sh OUT SIEVE SEED_MAKER [SHARED]}
sieve=${2:?sieve binary}
seed_maker=${3:?fuzz_seed_maker binary}
shared=${4:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
seeds=$out/seeds
targets=(gguf pack llama2c tokenizer chat_template blocks)

rm -rf "$seeds"
for t in "${targets[@]}"; do mkdir -p "$seeds/$t" "$out/corpus/$t"; done
mkdir -p "$out/artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$seed_maker" "$seeds"

# Little-endian u32 as raw bytes.
le32() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"; }

# Tiny synthetic models (2 layers, so a budget can make one stream) and their packs.
for type in f16 bf16 q8_0 q4_0 q4_k iq4_nl mxfp4; do
  "$sieve" synth -o "$work/tiny-$type.gguf" --dim 32 --layers 2 --ff 64 --heads 2 --kv-heads 1 --ctx 32 \
    --type "$type" -t 1 >/dev/null 2>&1
  "$sieve" pack "$work/tiny-$type.gguf" -o "$seeds/pack/tiny-$type.sieve" >/dev/null 2>&1
  cp "$work/tiny-$type.gguf" "$seeds/gguf/"
done

# Blocks: the type id and a row-count byte, then real quantized weights from the tiny models' ends.
for type in q8_0:8 q4_0:2 q4_k:12 iq4_nl:20 mxfp4:39; do
  for rows in 0 1 2 3; do
    { printf "$(printf '\\x%02x\\x%02x' "${type#*:}" "$rows")"; tail -c 4096 "$work/tiny-${type%:*}.gguf"; } \
      > "$seeds/blocks/tail-${type%:*}-$rows"
  done
done

if [ -d "$shared" ]; then
  cp "$shared/models/stories260K.gguf" "$shared/models/llama-2-tiny-random.gguf" "$seeds/gguf/"
  "$sieve" pack "$shared/models/stories260K.gguf" -o "$seeds/pack/stories260K.sieve" >/dev/null 2>&1
  model=$shared/models/relu260K/model_qint80.bin
  { le32 "$(stat -c %s "$model")"; cat "$model" "$shared/models/relu260K/tok1024.bin"; } > "$seeds/llama2c/relu260K"
  # Tokenizer: the vocabulary test strings for each vocabulary (selector bits 1-2), and as token ids.
  i=0
  for v in llama-spm gpt-2 deepseek-llm; do
    { printf "$(printf '\\x%02x' $((i << 1)))"; cat "$shared/vocab/ggml-vocab-$v.gguf.inp"; } > "$seeds/tokenizer/text-$v"
    { printf "$(printf '\\x%02x' $((i << 1 | 0x10)))"; cat "$shared/vocab/ggml-vocab-$v.gguf.inp"; } > "$seeds/tokenizer/special-$v"
    { printf "$(printf '\\x%02x' $((i << 1 | 1)))"; head -c 512 "$shared/vocab/ggml-vocab-$v.gguf.out"; } > "$seeds/tokenizer/ids-$v"
    i=$((i + 1))
  done
else
  echo "make-corpus.sh: $shared not found; seeds from generated files only" >&2
  printf '\x00Hello world' > "$seeds/tokenizer/text"
fi

for t in "${targets[@]}"; do
  echo "make-corpus.sh: $t: $(ls "$seeds/$t" | wc -l) seeds, $(du -sh "$seeds/$t" | cut -f1)"
done
