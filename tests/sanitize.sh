#!/usr/bin/env bash
# Build the native core with AddressSanitizer and UndefinedBehaviorSanitizer in a scratch copy, then run
# the native tests and a short fuzz run under them, with the portable 128-bit product that compilers without
# __int128 use (SUBTOK_NO_INT128), so both paths are tested. Any sanitizer report fails the run (and is printed:
# pytest captures only Python-level output here, so reports written by the C runtime stay visible).
# Usage: bash tests/sanitize.sh [FUZZ_SECONDS]   (about two minutes with the default 60 s of fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${1:-60}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -z "${SUBTOK_DATA:-}" ] && [ -d ../shared/corpora ]; then export SUBTOK_DATA="$PWD/../shared/corpora"; fi
cp -r subtok tests setup.py pyproject.toml README.md "$work/"
rm -f "$work"/subtok/_native*.so
(cd "$work" && SUBTOK_REQUIRE_NATIVE=1 \
  SUBTOK_EXTRA_CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -DSUBTOK_NO_INT128" \
  SUBTOK_EXTRA_LDFLAGS="-fsanitize=address,undefined" python setup.py -q build_ext --inplace >/dev/null)
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"   # CPython itself keeps memory until exit
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export PYTHONPATH="$work" PYTHONMALLOC=malloc
cd "$work"
python -c "
import sys, subtok, subtok._native as m
ok = subtok.native_available() and m.__file__.startswith('$work')
sys.exit(0 if ok else 'the sanitized native core is not the one loaded')"
python -m pytest -q --capture=sys -p no:cacheprovider tests/test_native.py tests/test_bpe.py tests/test_tokenizer.py \
  tests/test_wordpiece.py tests/test_cooc.py tests/test_word2vec.py tests/test_interop.py tests/test_sentencepiece.py tests/test_unigram_train.py \
  tests/test_corpus.py tests/test_word_counts.py \
  -k "native or not python"
python tests/fuzz_native.py "$fuzz_seconds"
