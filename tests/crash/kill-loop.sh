#!/usr/bin/env bash
# kill-loop.sh BUILD_DIR [KILLS=100] [SEED]
#
# Crash safety (issue 9, docs/hardening.md). KILLS times; every other kill is
#   app        the real sieve-desktop (offscreen, driven over stdin with
#              SIEVE_AUTOMATION=1, desktop/automation.h) chatting with
#              stories260K — a new conversation and a streamed reply after
#              another, the Default preset's temperature changed before each — while it imports
#              (packs) a ~50 MB model; killed at a random moment, then:
#              integrity_check ok, every message complete before the run still
#              there unchanged, at least one more complete reply per reply the
#              app reported finished; every finished-looking file in its models
#              folder identical to `sieve pack`'s pack of the same model; and
#              the app restarted on what is left must read its model list and
#              presets (a temperature it was given, never a torn value);
# and the others take turns:
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
for tool in "$bin/sieve" "$bin/history_writer" "$bin/settings_writer" "$bin/sieve-desktop"; do
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
app_runs=0 app_replies=0 app_imports_cut=0 app_imports_done=0

# ---- the real app ----
shared=${SIEVE_SHARED_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
chat_model=$shared/models/stories260K.gguf
[ -f "$chat_model" ] || { echo "kill-loop.sh: $chat_model not found (set SIEVE_SHARED_DIR)" >&2; exit 2; }
app_home=$work/app
app_data=$app_home/data/Sieve/Sieve  # QStandardPaths::AppDataLocation under XDG_DATA_HOME
app_db=$app_data/history.sqlite
mkdir -p "$app_home/run" && chmod 700 "$app_home/run"
app_env=(env XDG_DATA_HOME="$app_home/data" XDG_CONFIG_HOME="$app_home/config" XDG_RUNTIME_DIR="$app_home/run"
         QT_QPA_PLATFORM=offscreen SIEVE_AUTOMATION=1)
temperatures=$work/temperatures  # every temperature the app's Default preset was ever given, and its default

# Runs the app on its data folder with the commands of $@ (then quit); prints its answers.
app_session() {
  printf '%s\n' "$@" quit | timeout 60 "${app_env[@]}" "$bin/sieve-desktop" 2>> "$work/app.err"
}
app_session "get presets temperature" | sed -n 's/^value //p' > "$temperatures"

complete_messages() {
  sqlite3 "$app_db" "SELECT id, role, hex(content) FROM messages WHERE complete = 1" 2>/dev/null | sort
}

# One app run killed after $1 ms; sets replies (finished replies it reported) and was_running.
# With $2 = mid-chat, the $1 ms count from its first finished reply (which must
# come within 60 s), so a slow machine still kills it mid-chat, never only at start-up.
run_app() {
  local after_ms=$1 phase=${2:-start} line i=0 status
  local deadline=$(( $(now_ms) + after_ms ))
  [ "$phase" = mid-chat ] && deadline=$(( $(now_ms) + 60000 ))
  replies=0
  coproc APP { exec "${app_env[@]}" "$bin/sieve-desktop" "$chat_model" 2>> "$work/app.err"; }
  local pid=$APP_PID to=${APP[1]} from=${APP[0]}
  next_reply() {
    i=$((i + 1))
    local t=0.$(( RANDOM % 90 + 10 ))
    echo "$t" >> "$temperatures"
    printf '%s\n' "set presets temperature $t" "call chat newConversation" "call chat send Tell me story $i" >&"$to"
  }
  printf '%s\n' "watch chat replyFinished" "set presets maxTokens 200" "call models addModel $work/src.gguf" >&"$to"
  next_reply
  was_running=1
  local partial=""  # a line cut by read's timeout: bash keeps what it read so far in `line`
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if read -r -t 0.02 line <&"$from"; then
      line=$partial$line
      partial=""
      case $line in
        "signal chat replyFinished")
          replies=$((replies + 1))
          [ "$phase" = mid-chat ] && [ "$replies" = 1 ] && deadline=$(( $(now_ms) + after_ms ))
          next_reply ;;
        error:*) fail "$k" "the app answered: $line" ;;
      esac
    else
      status=$?
      if [ "$status" -gt 128 ]; then partial=$partial$line; continue; fi
      if ! kill -0 "$pid" 2>/dev/null; then was_running=0; break; fi
    fi
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ "$phase" = mid-chat ] && [ "$was_running" = 1 ] && [ "$replies" = 0 ]; then
    fail "$k" "the app finished no reply within 60 s: $(tail -n 3 "$work/app.err")"
  fi
}

check_app() {
  local k=$1 before=$2
  local integrity
  integrity=$(sqlite3 "$app_db" "PRAGMA integrity_check" 2>&1)
  if [ "$integrity" != ok ]; then corrupted=$((corrupted + 1)); fail "$k" "app history integrity_check: $integrity"; return; fi
  complete_messages > "$work/after"
  local gone
  gone=$(comm -23 "$before" "$work/after" | wc -l)
  if [ "$gone" -gt 0 ]; then lost=$((lost + gone)); fail "$k" "$gone complete messages of the app's history are missing or changed"; fi
  # Each reply the app reported finished is one more complete assistant message.
  local new_replies
  new_replies=$(( $(grep -c '|assistant|' "$work/after") - $(grep -c '|assistant|' "$before") ))
  if [ "$new_replies" -lt "$replies" ]; then
    lost=$((lost + replies - new_replies)); fail "$k" "the app reported $replies replies finished; the history has $new_replies more"
  fi
  local f finished=0
  for f in "$app_data"/models/*; do
    [ -e "$f" ] || continue
    case $f in
      *.partial) ;;
      *) finished=1
         if ! cmp -s "$f" "$work/ref.sieve"; then bad_packs=$((bad_packs + 1)); fail "$k" "the app's $f looks finished but differs from sieve pack's"; fi ;;
    esac
  done
  if [ "$finished" = 1 ]; then app_imports_done=$((app_imports_done + 1)); else app_imports_cut=$((app_imports_cut + 1)); fi
  # The app restarted on what the kill left: its model list and settings must read.
  local answers t
  answers=$(app_session "get models count" "get presets temperature")
  t=$(echo "$answers" | sed -n 's/^value //p' | tail -n 1)
  if [ -e "$app_data/models.json.damaged" ]; then bad_settings=$((bad_settings + 1)); fail "$k" "the model list was damaged"; fi
  if [ -z "$t" ] || ! awk -v t="$t" '$1 + 0 == t + 0 { found = 1 } END { exit !found }' "$temperatures"; then bad_settings=$((bad_settings + 1)); fail "$k" "restarted app reads temperature '$t', never set"; fi
  # Start the next run from a library without this model, so it is packed again.
  rm -rf "$app_data/models" "$app_data/models.json"
}

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
  if [ $((k % 2)) = 1 ]; then
    app_runs=$((app_runs + 1))
    complete_messages > "$work/before"
    # Every other app run is killed early, while it starts, loads and packs; the others mid-chat.
    if [ $((app_runs % 2)) = 1 ]; then run_app $(( RANDOM % 600 + 30 )); else run_app $(( RANDOM % 2500 )) mid-chat; fi
    [ "$was_running" = 1 ] || fail "$k" "sieve-desktop exited by itself: $(tail -n 3 "$work/app.err")"
    app_replies=$((app_replies + replies))
    check_app "$k" "$work/before"
    continue
  fi
  case $(( (k / 2) % 3 )) in
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
if [ "$app_runs" -gt 0 ] && [ "$app_replies" -eq 0 ]; then fail end "the app never finished a reply: nothing was checked"; fi
app_messages=$(complete_messages | wc -l)
echo "kill-loop: $kills kills (seed $seed): the app $app_runs ($app_replies replies finished, $app_messages complete messages kept," \
  "imports cut $app_imports_cut, finished $app_imports_done), streaming $streams, packing $packs ($packs_killed killed mid-pack," \
  "$((packs - packs_killed)) finished; a pack takes ${pack_ms} ms), settings $settings_runs;" \
  "corrupted databases $corrupted, completed messages lost $lost of $messages," \
  "packs looking finished but not $bad_packs, bad settings files $bad_settings; failures $failures"
[ "$failures" -eq 0 ]
