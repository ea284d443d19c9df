#!/usr/bin/env bash
# kill-loop.sh BUILD_DIR [KILLS=100] [SEED]
#
# Crash safety (issue 9, docs/hardening.md). KILLS times, in turn:
#   streaming  history_writer (tests/app/desktop) streams replies into one
#              history file with checkpoints, as the app does, and reports each
#              commit; killed at a random moment, then:
#              PRAGMA integrity_check must say ok, every message ever reported
#              complete must be there, complete, with its full text, and an
#              unfinished reply must hold at least its last checkpoint;
#   packing    `sieve pack` of a ~50 MB model, killed at a random moment (or
#              left to finish): the output name must either not exist or be
#              byte-identical to a pack made beforehand (packs are
#              reproducible); leftovers must be named *.partial;
#   settings   settings_writer (tests/crash) changes the app's settings
#              (AppSettings) and syncs in a loop; killed at a random moment:
#              the file must read without error, hold one round's values (not
#              a mix) and no older round than the last one reported synced.
# Each process is restarted on the same files, so every run also opens what the
# previous kill left. Needs sqlite3. Prints one summary line; exits 1 on any
# failure. SEED makes the kill times reproducible.
set -uo pipefail

build=${1:?usage: kill-loop.sh BUILD_DIR [KILLS] [SEED]}
kills=${2:-100}
seed=${3:-$$}
bin=$build/bin
RANDOM=$seed
for tool in "$bin/sieve" "$bin/history_writer" "$bin/settings_writer"; do
  [ -x "$tool" ] || { echo "kill-loop.sh: $tool not built" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "kill-loop.sh: needs the sqlite3 command" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sieve-kill-loop.XXXXXX")
trap 'rm -rf "$work"' EXIT
db=$work/history.sqlite
settings=$work/settings.ini
completed=$work/completed  # every "C id words" line ever reported
: > "$completed"

failures=0
fail() { echo "kill-loop: kill $1: $2" >&2; failures=$((failures + 1)); }
seconds() { awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }'; }
now_ms() { date +%s%3N; }

# The packing source and the reference pack, made once.
"$bin/sieve" synth -o "$work/src.gguf" --dim 512 --layers 8 --ff 1536 --heads 8 --kv-heads 4 --ctx 256 \
  --type f16 -t 1 >/dev/null 2>&1 || exit 2
t0=$(now_ms)
"$bin/sieve" pack "$work/src.gguf" -o "$work/ref.sieve" >/dev/null 2>&1 || exit 2
pack_ms=$(($(now_ms) - t0))

streams=0 packs=0 packs_killed=0 settings_runs=0 corrupted=0 lost=0 bad_packs=0 bad_settings=0

# Starts "$@" in the background, kills it with SIGKILL after a random delay of
# up to $1 ms; sets was_running (0 when it had already exited).
kill_after_random() {
  local max_ms=$1; shift
  "$@" &
  local pid=$!
  sleep "$(seconds $(( (RANDOM * 32768 + RANDOM) % max_ms + 1 )))"
  if kill -0 "$pid" 2>/dev/null; then was_running=1; kill -9 "$pid"; else was_running=0; fi
  wait "$pid" 2>/dev/null
}

check_history() {
  local k=$1 log=$2
  local integrity
  integrity=$(sqlite3 "$db" "PRAGMA integrity_check" 2>&1)
  if [ "$integrity" != ok ]; then corrupted=$((corrupted + 1)); fail "$k" "integrity_check: $integrity"; return; fi
  grep '^C ' "$log" >> "$completed"
  # (no messages table yet when killed before the first migration finished)
  sqlite3 -separator ' ' "$db" "SELECT id, complete, content FROM messages" > "$work/dump" 2>/dev/null
  # dump: id complete words...; completed: C id n; this run's checkpoints: P id n.
  local missing
  missing=$(awk '
    FILENAME == ARGV[1] { complete[$1] = $2; words[$1] = NF - 2; last[$1] = $NF; next }
    $1 == "C" {
      ok = ($2 in complete) && complete[$2] == 1 && ($3 == 0 || (words[$2] == $3 && last[$2] == "w" ($3 - 1)))
      if (!ok) print "message " $2 " (complete, " $3 " words) is missing or changed"
      next
    }
    $1 == "P" { if (!($2 in complete) || words[$2] < $3) print "reply " $2 " lost its checkpoint of " $3 " words" }
  ' "$work/dump" "$completed" <(grep '^P ' "$log"))
  if [ -n "$missing" ]; then
    lost=$((lost + $(echo "$missing" | grep -c 'missing or changed')))
    fail "$k" "$missing"
  fi
}

for ((k = 1; k <= kills; k++)); do
  case $((k % 3)) in
    1)
      streams=$((streams + 1))
      kill_after_random 1500 "$bin/history_writer" "$db" 4 > "$work/log" 2> "$work/err"
      [ "$was_running" = 1 ] || fail "$k" "history_writer exited by itself: $(cat "$work/err")"
      check_history "$k" "$work/log"
      ;;
    2)
      packs=$((packs + 1))
      kill_after_random $((pack_ms * 13 / 10 + 1)) "$bin/sieve" pack "$work/src.gguf" -o "$work/out.sieve" \
        > /dev/null 2> "$work/err"
      [ "$was_running" = 1 ] && packs_killed=$((packs_killed + 1))
      if [ -e "$work/out.sieve" ]; then
        if ! cmp -s "$work/out.sieve" "$work/ref.sieve"; then
          bad_packs=$((bad_packs + 1)); fail "$k" "out.sieve looks finished but differs from the reference pack"
        fi
        rm -f "$work/out.sieve"
      fi
      for f in "$work"/out.sieve?*; do
        [ -e "$f" ] || continue
        case $f in *.partial) ;; *) bad_packs=$((bad_packs + 1)); fail "$k" "unexpected leftover $f" ;; esac
      done
      ;;
    0)
      settings_runs=$((settings_runs + 1))
      kill_after_random 500 "$bin/settings_writer" "$settings" > "$work/log" 2> "$work/err"
      [ "$was_running" = 1 ] || fail "$k" "settings_writer exited by itself: $(cat "$work/err")"
      last=$(grep '^S ' "$work/log" | tail -n 1 | cut -d' ' -f2)
      if ! why=$("$bin/settings_writer" --check "$settings" "${last:-0}" 2>&1); then
        bad_settings=$((bad_settings + 1)); fail "$k" "$why"
      fi
      ;;
  esac
done

messages=$(wc -l < "$completed")
if [ "$streams" -gt 0 ] && [ "$messages" -eq 0 ]; then fail end "no message was ever reported complete: nothing was checked"; fi
echo "kill-loop: $kills kills (seed $seed): streaming $streams, packing $packs ($packs_killed killed mid-pack," \
  "$((packs - packs_killed)) finished; a pack takes ${pack_ms} ms), settings $settings_runs;" \
  "corrupted databases $corrupted, completed messages lost $lost of $messages," \
  "packs looking finished but not $bad_packs, bad settings files $bad_settings; failures $failures"
[ "$failures" -eq 0 ]
