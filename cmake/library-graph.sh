#!/usr/bin/env bash
# The core/ library graph as CMake sees it (cmake --graphviz), reduced to the
# edges between the sieve_<folder> libraries and from the desktop app's
# sieve_app into them, in DOT; exits 1 if an edge points from a lower folder
# to a higher one (the build's own checks make that impossible).
# docs/architecture.md shows its output.
#
#   cmake/library-graph.sh [BUILD_DIR]      (default build/release, configured)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cmake -S . -B "$build" --graphviz="$out/sieve.dot" >/dev/null
# Folder order: core/CMakeLists.txt adds them lowest first (core_dependencies.cmake records it).
mapfile -t folders < <(sed -n 's/^list(APPEND SIEVE_FOLDERS \(.*\))$/\1/p' "$build/core_dependencies.cmake")
rank() { local i; for i in "${!folders[@]}"; do [ "sieve_${folders[$i]}" = "$1" ] && echo "$i" && return; done; echo 999; }
echo "digraph sieve_libraries {"
echo "  rankdir=BT;"
bad=0
while read -r from to; do
  [ "$(rank "$to")" -lt 999 ] || continue                                 # to a core folder
  [ "$from" = sieve_app ] || [ "$(rank "$from")" -lt 999 ] || continue    # from one, or the app
  if [ "$from" != sieve_app ] && [ "$(rank "$from")" -le "$(rank "$to")" ]; then
    echo "  // UPWARD: $from -> $to"; bad=1
  fi
  echo "  $from -> $to;"
done < <(sed -n 's#.*// \(sieve_[a-z_]*\) -> \(sieve_[a-z_]*\)$#\1 \2#p' "$out/sieve.dot" | sort -u)
echo "}"
exit "$bad"
