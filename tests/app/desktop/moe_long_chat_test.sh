#!/usr/bin/env bash
# A chat of TURNS (default 200) turns in the real app with a Mixture-of-Experts
# model streaming its experts under a tight DRAM budget: the real
# sieve-desktop (its own empty data folders), driven through the automation
# interface (desktop/automation.h), in flash mode at 3 MiB: a few expert slots
# above the minimum. When the conversation outgrows the context, the app asks what to do
# and the test answers "drop" (forget the oldest messages), as a user would.
#
# Requires: every turn finishes with no error within 30 s (no stall), and the
# process's resident memory after the last turn is within GROWTH_KIB (8 MiB)
# of what it was after turn 20 (no growth per turn: the engine's buffers are
# preallocated; the history lives in SQLite).
#
#   moe_long_chat_test.sh SIEVE_DESKTOP SHARED_DIR [TURNS [GROWTH_KIB]]
set -uo pipefail
app=$1 shared=$2 turns=${3:-200} growth_kib=${4:-8192}
model=$shared/models/arch/qwen3moe.gguf
[ -f "$model" ] || { echo "FAIL: $model not found"; exit 1; }
work=$(mktemp -d /tmp/sieve-moe-chat.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/run" && chmod 700 "$work/run"
mkfifo "$work/in"
exec 3<> "$work/in"
env HOME="$work" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" XDG_RUNTIME_DIR="$work/run" \
    QT_QPA_PLATFORM=offscreen SIEVE_AUTOMATION=1 LANG=C.UTF-8 "$app" < "$work/in" > "$work/out" 2> "$work/err" &
pid=$!

# Waits until the output has COUNT lines starting with PREFIX (or the app
# ended, or SECONDS passed); returns 1 on failure.
wait_lines() {
  local prefix=$1 count=$2 seconds=$3
  for _ in $(seq $((seconds * 10))); do
    [ "$(grep -c "^$prefix" "$work/out" 2>/dev/null)" -ge "$count" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }

# The budget: the planner's minimum for flash mode plus a few expert slots.
printf '%s\n' "watch chat replyFinished" "watch chat contextOverflow" "watch chat modelChanged" \
              "set planner modelPath $model" "set settings mode flash" "set presets maxTokens 24" \
              "set presets temperature 0" "set settings contextLength 512" >&3
wait_lines "ok" 8 30 || { echo "FAIL: the app did not take the settings"; tail -5 "$work/err"; exit 1; }
budget=$(( 3 * 1024 * 1024 ))  # the minimum at this context is about 2.2 MiB: 7 of the 32 experts cached
printf '%s\n' "set settings dramBudget $budget" "call chat loadModel $model" >&3
wait_lines "signal chat modelChanged" 1 60 || { echo "FAIL: the model did not load"; tail -5 "$work/err"; exit 1; }
sleep 1
echo "get chat loadedMode" >&3
wait_lines "value" 1 10
grep -q "^value flash" "$work/out" || { echo "FAIL: not in flash mode: $(grep '^value' "$work/out" | head -1)"; exit 1; }

overflows=0
rss_after_20=0
for turn in $(seq "$turns"); do
  echo "call chat send Turn $turn: tell me about the fox and the river." >&3
  start=$(date +%s)
  while :; do
    done_count=$(grep -c "^signal chat replyFinished" "$work/out")
    [ "$done_count" -ge "$turn" ] && break
    now_overflows=$(grep -c "^signal chat contextOverflow" "$work/out")
    if [ "$now_overflows" -gt "$overflows" ]; then
      overflows=$now_overflows
      echo "call chat resolveOverflow drop" >&3
    fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "FAIL: the app ended at turn $turn"; tail -5 "$work/err"; exit 1; fi
    if [ $(( $(date +%s) - start )) -gt 30 ]; then echo "FAIL: turn $turn stalled (no reply in 30 s)"; exit 1; fi
    sleep 0.05
  done
  [ "$turn" -eq 20 ] && rss_after_20=$(rss_kib)
done
rss_end=$(rss_kib)
errors=$(grep -c "^error" "$work/out")
echo "turns $turns, context overflows answered $overflows, RSS after turn 20: $rss_after_20 KiB, after turn $turns: $rss_end KiB, errors $errors"
echo quit >&3
if [ "$errors" -ne 0 ]; then grep "^error" "$work/out" | head -3; echo "FAIL: errors"; exit 1; fi
if [ "$turns" -ge 20 ] && [ $(( rss_end - rss_after_20 )) -gt "$growth_kib" ]; then
  echo "FAIL: resident memory grew by $(( rss_end - rss_after_20 )) KiB"
  exit 1
fi
echo "ok"
