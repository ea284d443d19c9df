#!/usr/bin/env bash
# The click-through (issue 14): a new user's first minutes in the real
# sieve-desktop, by mouse and keyboard alone, on an X display (Xvfb).
#
#   first run -> "Add model…" -> the real file dialog -> stories260K.gguf ->
#   import with progress -> type a message -> a streamed reply -> export the
#   conversation through the real save dialog -> Settings -> change the DRAM
#   budget -> Apply -> a reply in the new mode -> the chat header's preset
#   picker: Edit presets… -> New -> picked for the conversation -> Ctrl+Q
#
# Every input is real: xdotool moves the mouse, clicks and types into the X
# server as a person's devices would. The app runs with SIEVE_AUTOMATION=1,
# used here only to READ: where a control is on the screen (`locate`) and the
# app's state (`get`); nothing is clicked or set through it. After each step
# the script asserts on what a user would see happen (the app is alive, the
# dialog is open, the file exists, the reply is non-empty, the mode changed)
# and takes a screenshot of the whole screen.
#
# A new install is in auto mode: the test checks the first reply comes in the
# mode auto chose, with its reason on screen, and that a budget below the
# whole model makes auto stream it (flash).
#
# Usage: click-through.sh --home DIR --shots DIR --model FILE [--app-home DIR] -- LAUNCH...
#   --home DIR      the user's home folder as seen from here (history, exports)
#   --app-home DIR  the same folder as the app sees it (inside a chroot); default DIR
#   --model FILE    a small GGUF, copied into the home folder for the dialog to find
#   --shots DIR     where the screenshots go (NN-step.png)
#   --owner UID:GID who owns the copied model (the app's user, in a chroot)
#   --app PATH      the app to run (default: sieve-desktop on the launcher's PATH)
#   LAUNCH...       what runs the app as the user, e.g. `env -i PATH=/usr/bin:/bin HOME=DIR`
#                   or a chroot prefix; the script appends
#                   `env DISPLAY=:N SIEVE_AUTOMATION=1 LANG=C.UTF-8 APP`
# Needs: Xvfb, xdotool, ImageMagick's `import`, sqlite3 (the test side only).
set -euo pipefail

home="" app_home="" shots="" model="" app=sieve-desktop owner=""
while [ $# -gt 0 ]; do
  case "$1" in
    --home) home=$2; shift 2 ;;
    --app-home) app_home=$2; shift 2 ;;
    --shots) shots=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --app) app=$2; shift 2 ;;
    --owner) owner=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "click-through: unknown argument $1" >&2; exit 2 ;;
  esac
done
launch=("$@")
[ -n "$home" ] && [ -n "$shots" ] && [ -f "$model" ] && [ ${#launch[@]} -gt 0 ] \
  || { echo "usage: click-through.sh --home DIR --shots DIR --model FILE [--app-home DIR] [--app PATH] -- LAUNCH..." >&2; exit 2; }
app_home=${app_home:-$home}
for tool in Xvfb xdotool import sqlite3; do
  command -v "$tool" >/dev/null || { echo "click-through: $tool is missing (.ci/install-deps installs it)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/sieve-click.XXXXXX)
mkdir -p "$shots"
rm -f "$shots"/*.png
history="$home/.local/share/Sieve/Sieve/history.sqlite"
step_no=0
shot_no=0
app_pid=""
xvfb_pid=""

cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "click-through: FAIL at step $step_no: $*" >&2
  shot "failure" || true
  echo "--- the app's standard error (last 30 lines):" >&2
  tail -n 30 "$work/err" >&2 || true
  exit 1
}

# ---- the display ----
display_no=99
while [ -e "/tmp/.X11-unix/X$display_no" ] || [ -e "/tmp/.X$display_no-lock" ]; do display_no=$((display_no + 1)); done
export DISPLAY=":$display_no"
Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp > "$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display_no" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X$display_no" ] || { cat "$work/xvfb.log" >&2; echo "click-through: Xvfb did not start" >&2; exit 1; }

shot() {
  shot_no=$((shot_no + 1))
  local file
  file=$(printf '%s/%02d-%s.png' "$shots" "$shot_no" "$1")
  import -display "$DISPLAY" -window root "$file"
  echo "   screenshot $file"
}

# ---- the app, reading automation queries from a pipe ----
mkfifo "$work/in"
exec 3<> "$work/in"
mkdir -p "$home"
cp "$model" "$home/"
model_name=$(basename "$model")
[ -z "$owner" ] || chown "$owner" "$home/$model_name"
"${launch[@]}" env DISPLAY="$DISPLAY" SIEVE_AUTOMATION=1 LANG=C.UTF-8 "$app" < "$work/in" > "$work/out" 2> "$work/err" &
app_pid=$!

alive() { kill -0 "$app_pid" 2>/dev/null || fail "the app is gone (exit $(wait "$app_pid"; echo $?))"; }

answers() { grep -cE '^(ok|value|at|error)' "$work/out" 2>/dev/null || true; }

# ask COMMAND...: one automation query, its answer on stdout.
ask() {
  local before
  before=$(answers)
  echo "$*" >&3
  for _ in $(seq 200); do
    if [ "$(answers)" -gt "$before" ]; then
      grep -E '^(ok|value|at|error)' "$work/out" | sed -n "$((before + 1))p"
      return 0
    fi
    alive
    sleep 0.05
  done
  fail "no answer to '$*'"
}

# poll SECONDS WHAT OBJECT PROPERTY: whether the property reads WHAT within the time.
poll() {
  local seconds=$1 want=$2 object=$3 property=$4
  local deadline=$((SECONDS + seconds))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(ask get "$object" "$property")" = "value $want" ] && return 0
    sleep 0.1
  done
  return 1
}
# wait_for SECONDS WHAT OBJECT PROPERTY: as poll, and fails the test when it does not.
wait_for() {
  poll "$@" || fail "$3.$4 did not become '$2' within $1 s (last: $(ask get "$3" "$4"))"
}

# where NAME [TEXT]: "X Y" of a visible control, waiting up to 10 s for it.
where() {
  local answer
  for _ in $(seq 50); do
    answer=$(ask locate "$@")
    case "$answer" in at\ *) set -- $answer; echo "$2 $3"; return 0 ;; esac
    sleep 0.2
  done
  fail "no visible control $* ($answer)"
}

click() {  # click NAME [TEXT]: a real left click on the control's centre
  local xy
  xy=$(where "$@")
  xdotool mousemove ${xy} click 1
  sleep 0.3
}
right_click() {
  local xy
  xy=$(where "$@")
  xdotool mousemove ${xy} click 3
  sleep 0.3
}
# No window manager runs here to give the window keyboard focus, as a desktop
# does when a window is shown or clicked: set X's input focus on it before
# keys go in (its dialogs and menus are inside it).
focus_app() {
  local window
  window=$(xdotool search --onlyvisible --name '^Sieve' | head -n 1)
  [ -n "$window" ] || fail "no visible window named Sieve"
  xdotool windowfocus --sync "$window"
}
keys() { focus_app; xdotool key --delay 60 "$@"; sleep 0.3; }
type_text() { focus_app; xdotool type --delay 40 "$1"; sleep 0.2; }

sql() { sqlite3 -readonly "$history" "$1"; }

step() { step_no=$((step_no + 1)); echo; echo "== $step_no. $*"; }

# ---- 1. first run ----
step "first run: the welcome screen"
wait_for 30 false chat modelLoaded
where firstRunAddModel > /dev/null
# Keyboard focus goes to the window under the pointer (no window manager here).
xdotool mousemove 640 400
shot first-run

# ---- 2. Add model… opens the real file dialog ----
step "Add model… opens the real file dialog"
click firstRunAddModel
where fileDialogListView > /dev/null   # Qt's own FileDialog: folderlistmodel and all
alive
shot file-dialog

# ---- 3. choose the model: Ctrl+L, its folder, then the file ----
step "choose $model_name in the dialog"
keys ctrl+l
type_text "$app_home"
keys Return
click '*' "$model_name"
shot file-selected
click '*' "Open"
alive

# ---- 4. the import runs with progress, then the model loads ----
step "import with progress, then the model loads"
# A small model packs in well under a second: the progress is caught when it can be.
if poll 5 true models importing; then shot importing; fi
wait_for 120 true chat modelLoaded
wait_for 30 false models importing
alive
# A new install runs in auto mode: the engine chose the mode and says why, on screen.
[ "$(ask get settings mode)" = "value auto" ] || fail "a new install is not in auto mode ($(ask get settings mode))"
choice=$(ask get chat modeChoice)
[ "$choice" != "value " ] || fail "auto mode gave no reason for its choice"
where modeChoiceText > /dev/null
echo "   loaded: $(ask get chat modelName), $(ask get chat loadedMode) mode"
echo "   auto chose: ${choice#value }"
first_mode=$(ask get chat loadedMode)
shot model-loaded

# ---- 5. a message and a streamed reply ----
send_and_wait() {  # send_and_wait TEXT: type into the message box, Enter, until the reply ends
  keys ctrl+1
  keys ctrl+l
  type_text "$1"
  keys Return
  if poll 10 true chat generating; then shot replying; fi
  wait_for 120 false chat generating
  alive
}
step "type a message, get a streamed reply"
send_and_wait "Once upon a time"
replies=$(sql "SELECT count(*) FROM messages WHERE role='assistant' AND length(content) > 0")
[ "$replies" -ge 1 ] || fail "no non-empty reply in the history ($replies)"
[ "$(ask get chat loadedMode)" = "$first_mode" ] || fail "the reply did not come in the mode auto chose"
echo "   reply: $(sql "SELECT substr(content, 1, 80) FROM messages WHERE role='assistant' ORDER BY id DESC LIMIT 1")"
shot reply

# ---- 6. export through the real save dialog ----
step "export the conversation through the real save dialog"
title=$(sql "SELECT title FROM conversations ORDER BY id DESC LIMIT 1")
right_click '*' "$title"   # the conversation's row in the sidebar
click '*' "Export as Markdown…"
where fileNameTextField > /dev/null
shot save-dialog
# The dialog offers "<title>.md" in the home folder (no Documents folder here); Enter saves it.
keys Return
exported="$home/$title.md"
for _ in $(seq 20); do [ -s "$exported" ] && break; sleep 0.2; done
alive
[ -s "$exported" ] || fail "Enter in the save dialog did not write $exported"
echo "   exported $(wc -c < "$exported") bytes to $exported"
shot exported

# ---- 7. Settings: change the DRAM budget, Apply ----
step "Settings: change the DRAM budget and apply"
mode_before=$(ask get chat loadedMode)
keys ctrl+3
shot settings
# Just above the least the model loads with: less than the whole model, so auto streams it.
minimum=$(ask get planner minimumBudget); minimum=${minimum#value }
budget=$(awk -v b="$minimum" 'BEGIN { printf "%.1fM", int(b / 1048576 * 10 + 1) / 10 + 0.1 }')
echo "   the model's minimum: $minimum bytes; typing $budget"
click budgetField
keys ctrl+a
type_text "$budget"
keys Return
shot budget-changed
click applyButton
wait_for 60 false chat loading
wait_for 60 true chat modelLoaded
mode_after=$(ask get chat loadedMode)
echo "   mode: ${mode_before#value } -> ${mode_after#value }"
[ "$mode_after" = "value flash" ] || fail "a budget below the whole model did not make auto stream it (${mode_before#value } -> ${mode_after#value })"
echo "   auto chose: $(ask get chat modeChoice | sed 's/^value //')"
shot applied

# ---- 8. a reply in the new mode ----
step "a reply in the new mode"
send_and_wait "Lily and Ben went to the park"
replies=$(sql "SELECT count(*) FROM messages WHERE role='assistant' AND length(content) > 0")
[ "$replies" -ge 2 ] || fail "no second reply in the history ($replies)"
shot reply-new-mode

# ---- 9. a preset: made in Settings, picked in the chat's header ----
step "a new preset, picked for this conversation in the chat's header"
keys ctrl+1
click presetPicker
shot preset-picker
click '*' "Edit presets…"             # the settings page's editor
click presetNewButton
wait_for 10 "New preset" presets name
shot preset-made
keys ctrl+1
click presetPicker
click '*' "New preset"
made=$(ask get presets selectedId); made=${made#value }
wait_for 10 "$made" chat currentPreset
conversation=$(ask get chat currentConversation); conversation=${conversation#value }
chosen=$(sql "SELECT preset_id FROM conversations WHERE id = $conversation")
[ "$chosen" = "$made" ] || fail "the conversation's preset is '$chosen' in the history, not the one picked ($made)"
echo "   the conversation now uses preset $made, \"$(sql "SELECT name FROM presets WHERE id = $made")\""
shot preset-picked

# ---- 10. Ctrl+Q quits ----
step "Ctrl+Q quits"
keys ctrl+q
for _ in $(seq 50); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$app_pid" 2>/dev/null; then fail "Ctrl+Q did not quit the app"; fi
wait "$app_pid" || fail "the app exited with $? on Ctrl+Q"
app_pid=""
echo
echo "click-through: PASS: $step_no steps, $shot_no screenshots in $shots"
