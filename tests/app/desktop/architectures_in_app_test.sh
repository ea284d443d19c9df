#!/usr/bin/env bash
# Every architecture Sieve runs from ../shared/models/arch (dense ones and
# the Mixture-of-Experts qwen3moe, Mixtral and gpt-oss) in the real app: starts
# sieve-desktop with the model (its own empty data folders), sends one message
# through the automation interface (desktop/automation.h), and requires the
# reply to finish with no error. With SHOTS=DIR it runs under Xvfb and saves
# a screenshot of each reply (DIR/NAME.png) to look at.
#
#   architectures_in_app_test.sh SIEVE_DESKTOP SHARED_DIR
set -uo pipefail
app=$1 shared=$2
models=(qwen3 qwen3-bpe-q8_0 gemma2 gemma3 phi3-q8_0 llama3rope qwen3moe-bpe-q8_0 mixtral gpt-oss-mxfp4)
work=$(mktemp -d /tmp/sieve-arch-app.XXXXXX)
xvfb=""
cleanup() { [ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

platform=(QT_QPA_PLATFORM=offscreen)
if [ -n "${SHOTS:-}" ]; then
  mkdir -p "$SHOTS"
  display_no=120
  while [ -e "/tmp/.X11-unix/X$display_no" ] || [ -e "/tmp/.X$display_no-lock" ]; do display_no=$((display_no + 1)); done
  Xvfb ":$display_no" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display_no" ] && break; sleep 0.1; done
  platform=(DISPLAY=":$display_no")
fi

failed=0
for name in "${models[@]}"; do
  model=$shared/models/arch/$name.gguf
  [ -f "$model" ] || { echo "FAIL $name: $model not found"; failed=1; continue; }
  home=$work/$name
  mkdir -p "$home/run" && chmod 700 "$home/run"
  mkfifo "$home/in"
  exec 3<> "$home/in"
  env HOME="$home" XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" XDG_RUNTIME_DIR="$home/run" \
      "${platform[@]}" SIEVE_AUTOMATION=1 LANG=C.UTF-8 "$app" "$model" < "$home/in" > "$home/out" 2> "$home/err" &
  pid=$!
  printf '%s\n' "watch chat replyFinished" "set presets maxTokens 24" "set presets temperature 0" \
                "call chat send Once upon a time" >&3
  finished=no
  for _ in $(seq 600); do  # 60 s
    grep -q "^signal chat replyFinished" "$home/out" 2>/dev/null && { finished=yes; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -n "$xvfb" ] && [ "$finished" = yes ]; then
    sleep 0.5
    import -display "${platform[0]#DISPLAY=}" -window root "$SHOTS/$name.png"
  fi
  echo quit >&3
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  exec 3>&-
  if [ "$finished" != yes ] || grep -q "^error" "$home/out"; then
    echo "FAIL $name: reply finished: $finished"
    grep "^error" "$home/out" | head -3
    tail -n 5 "$home/err"
    failed=1
  else
    echo "ok $name: the app loaded it and finished a reply"
  fi
done
exit "$failed"
