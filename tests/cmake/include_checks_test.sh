#!/usr/bin/env bash
# The build's include checks catch what they are for: copies of core/ and
# app/desktop/ with one bad include added on purpose each must fail
# cmake/layering.cmake (a back-edge: flash including sparse; an undeclared
# edge: sampling including gguf) and cmake/app_includes.cmake (the app
# including a flash internal), naming the file and the include; the
# unchanged trees pass.
#
#   include_checks_test.sh SOURCE_DIR DEPENDENCIES_FILE
set -euo pipefail
src="$1"
deps="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$src/core" "$work/core"
mkdir -p "$work/app"
cp -r "$src/app/desktop" "$work/app/desktop"

layering() { cmake -DCORE_DIR="$work/core" -DDEPENDENCIES="$deps" -P "$src/cmake/layering.cmake" 2>&1; }
app_includes() { cmake -DCORE_DIR="$work/core" -DAPP_DIR="$work/app/desktop" -P "$src/cmake/app_includes.cmake" 2>&1; }

expect_failure() {  # what, expected text, command
  local what="$1" expected="$2"
  shift 2
  local out
  if out="$("$@")"; then
    echo "FAIL: $what passed the check"
    exit 1
  fi
  if ! grep -qF "$expected" <<<"$out"; then
    echo "FAIL: $what: the message does not say '$expected':"
    echo "$out"
    exit 1
  fi
  echo "ok: $what fails: $(grep -F "$expected" <<<"$out" | head -1 | sed 's/^ *//')"
}

layering >/dev/null || { echo "FAIL: the unchanged core/ fails the layering check"; layering; exit 1; }
app_includes >/dev/null || { echo "FAIL: the unchanged app fails its include check"; app_includes; exit 1; }
echo "ok: the unchanged trees pass"

planner="$work/core/flash/planner.cpp"
cp "$planner" "$work/planner.cpp"
sed -i '1a #include "sparse/sparse_plan.h"' "$planner"
expect_failure "a back-edge (flash -> sparse)" \
  'core/flash/planner.cpp includes "sparse/sparse_plan.h": sparse is a higher layer than flash' layering
cp "$work/planner.cpp" "$planner"

sed -i '1a #include "gguf/gguf_file.h"' "$work/core/sampling/sampler.cpp"
expect_failure "an undeclared dependency (sampling -> gguf)" \
  'core/sampling/sampler.cpp includes "gguf/gguf_file.h": core/sampling/CMakeLists.txt does not name gguf' layering

sed -i '1a #include "flash/pack_file.h"' "$work/app/desktop/model_import.cpp"
expect_failure "the app including a flash internal" \
  'app/desktop/model_import.cpp includes "flash/pack_file.h"' app_includes
