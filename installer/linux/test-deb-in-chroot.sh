#!/usr/bin/env bash
# Proves the .deb on a clean Debian 12 (bookworm) root, as issue 8 asks:
#   1. debootstrap a fresh minimal bookworm tree (no container needed: a chroot),
#   2. `apt install ./sieve_*.deb` inside it (dependencies from the Debian mirror),
#   3. as an ordinary user: the installed `sieve run` generates from a model of
#      ../shared, and the installed `sieve-desktop` starts offscreen (first frame
#      reported, then it stays up in its event loop),
#   4. a conversation is added to the user's history (sqlite3), the app lists it,
#   5. `apt remove sieve` and `apt purge sieve` leave the history untouched, and a
#      reinstalled app lists the conversation again,
#   6. the click-through (tests/installer/click-through.sh, issue 14): a new user
#      on an X display (Xvfb on this host, its socket bound into the root) adds
#      the model through the real file dialog, chats, exports through the real
#      save dialog, changes the DRAM budget in Settings and chats in the new mode,
#      by xdotool mouse clicks and keys. Only the package and what its Depends
#      pulled in are inside the root; the X server, xdotool and the screenshots
#      are outside it.
# It also checks nothing was written under /usr while the apps ran.
#
# Needs root (debootstrap, chroot, mounts) and the network to the Debian mirror.
#   sudo installer/linux/test-deb-in-chroot.sh [DEB] [ROOT]
# DEB   default: the newest build/package/sieve_*.deb (cmake --workflow --preset package)
# ROOT  default: /var/tmp/sieve-chroot (deleted and made again on every run)
# Env:  SIEVE_TEST_MODEL (default ../shared/models/stories260K.gguf beside the checkout),
#       DEBIAN_MIRROR (default: the first Debian URI in /etc/apt/sources.list*, else deb.debian.org),
#       SIEVE_CLICK_THROUGH_SHOTS (default /tmp/sieve-click-through): the click-through's screenshots
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
if [ "${1:-}" = --base-only ]; then
  [ -n "${SIEVE_CHROOT_BASE:-}" ] || { echo "test-deb: --base-only needs SIEVE_CHROOT_BASE" >&2; exit 1; }
  [ -d "$SIEVE_CHROOT_BASE" ] && { echo "test-deb: $SIEVE_CHROOT_BASE exists"; exit 0; }
  base_only_requested=1; shift
fi
deb="${1:-$(ls -t "$repo"/build/package/sieve_*.deb 2>/dev/null | head -n 1 || true)}"
root="${2:-/var/tmp/sieve-chroot}"
model="${SIEVE_TEST_MODEL:-$repo/../shared/models/stories260K.gguf}"
user=tester
home=/home/$user
history="$home/.local/share/Sieve/Sieve/history.sqlite"

fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
step_start=0
step() { step_start=$(date +%s.%N); echo; echo "== $*"; }
step_done() { printf -- "-- %.1f s\n" "$(echo "$(date +%s.%N) - $step_start" | bc)"; }

[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap, chroot and mounts need it)"
[ -f "$deb" ] || [ "${base_only_requested:-0}" = 1 ] || fail "no .deb given and none in build/package (cmake --workflow --preset package)"
[ -f "$model" ] || [ "${base_only_requested:-0}" = 1 ] || fail "model $model not found (set SIEVE_TEST_MODEL)"
[ -f "$deb" ] && deb="$(realpath "$deb")"
case "$root" in /|/usr|/var|/var/tmp|/tmp|"") fail "refusing ROOT=$root" ;; esac

mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(grep -hoE '(URIs:|deb) +https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
            | head -n 1 | awk '{print $2}' || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
fi
security="${mirror%/debian*}/debian-security"

for tool in debootstrap bc Xvfb xdotool import sqlite3; do
  command -v "$tool" >/dev/null || fail "$tool is missing (.ci/install-deps installs it)"
done

# ---- the chroot and its mounts, always undone ----
mounts=()
cleanup() {
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
mount_in() {  # mount_in TYPE|--bind SOURCE TARGET-in-root
  mkdir -p "$root$3"
  if [ "$1" = --bind ]; then mount --bind "$2" "$root$3"; else mount -t "$1" "$2" "$root$3"; fi
  mounts+=("$root$3")
}
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
as_user() {
  chroot --userspec="$uid_gid" "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=$home USER=$user \
    LANG=C.UTF-8 XDG_RUNTIME_DIR=/tmp/runtime-$user "$@"
}

# SIEVE_CHROOT_BASE=DIR keeps a pristine debootstrap tree there (made on the first
# run, only ever copied) so repeated runs skip the download; --base-only just makes it.
base="${SIEVE_CHROOT_BASE:-}"
base_only=${base_only_requested:-0}
t0=$(date +%s)
echo "test-deb: package $deb, root $root, mirror $mirror"

step "1. a clean bookworm root (debootstrap --variant=minbase)"
rm -rf "$root"
if [ -n "$base" ] && [ -d "$base" ]; then
  echo "copying the pristine debootstrap tree $base (never chrooted into)"
  cp -a "$base" "$root"
else
  debootstrap --variant=minbase bookworm "${base:-$root}" "$mirror" > /tmp/sieve-debootstrap.log 2>&1 \
    || { tail -20 /tmp/sieve-debootstrap.log; fail "debootstrap failed (log: /tmp/sieve-debootstrap.log)"; }
  if [ -n "$base" ]; then
    [ "$base_only" = 1 ] && { step_done; echo "test-deb: pristine base ready in $base"; exit 0; }
    cp -a "$base" "$root"
  fi
fi
cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount_in proc proc /proc
mount_in --bind /dev /dev
mount_in --bind /dev/pts /dev/pts
mount_in sysfs sysfs /sys
in_root useradd --create-home --shell /bin/bash $user
uid_gid="$(in_root id -u $user):$(in_root id -g $user)"  # numeric: the host does not know $user
step_done

step "2. apt install ./$(basename "$deb")"
# With SIEVE_CHROOT_BASE (runs that repeat), the downloaded .debs are kept for the next run too.
if [ -n "$base" ]; then
  mkdir -p "$base-apt-archives/partial"
  mount_in --bind "$base-apt-archives" /var/cache/apt/archives
fi
cp "$deb" "$root/tmp/"
in_root apt-get update -qq
before_pkgs=$(in_root dpkg-query -W -f='${Package}\n' | wc -l)
in_root sh -c "cd /tmp && apt-get install -y -qq ./$(basename "$deb")" > /tmp/sieve-apt-install.log 2>&1 \
  || { tail -30 /tmp/sieve-apt-install.log; fail "apt install of the .deb failed"; }
after_pkgs=$(in_root dpkg-query -W -f='${Package}\n' | wc -l)
echo "installed sieve and $((after_pkgs - before_pkgs - 1)) dependencies; Depends:"
in_root dpkg-query -W -f='${Depends}\n' sieve | tr ',' '\n' | sed 's/^ */  /'
for f in /usr/bin/sieve /usr/bin/sieve-desktop /usr/share/applications/sieve.desktop \
         /usr/share/icons/hicolor/scalable/apps/sieve.svg /usr/share/icons/hicolor/16x16/apps/sieve.png \
         /usr/share/icons/hicolor/512x512/apps/sieve.png /usr/share/doc/sieve/copyright; do
  [ -f "$root$f" ] || fail "$f is not installed"
done
echo "files installed: $(in_root dpkg -L sieve | while read -r f; do [ -f "$root$f" ] && echo "$f"; done | wc -l) (/usr/bin/sieve, /usr/bin/sieve-desktop, the desktop entry, 10 icons, the copyright file)"
step_done

touch "$root/tmp/sieve-before-run"
sleep 1

step "3a. the installed CLI: sieve run -m stories260K.gguf -p \"Once\" -n 16 (as $user)"
cp "$model" "$root$home/model.gguf"
chown "$uid_gid" "$root$home/model.gguf"
as_user sieve run -m $home/model.gguf -p "Once" -n 16 --seed 1 > /tmp/sieve-run.out 2>&1 \
  || { cat /tmp/sieve-run.out; fail "sieve run failed"; }
cat /tmp/sieve-run.out
[ "$(wc -w < /tmp/sieve-run.out)" -gt 3 ] || fail "sieve run printed no text"
step_done

step "3b. the installed app offscreen: first frame, then its event loop (as $user)"
mkdir -p "$root/tmp/runtime-$user"; chmod 700 "$root/tmp/runtime-$user"; chown "$uid_gid" "$root/tmp/runtime-$user"
# SIEVE_STARTUP_REPORT=1: sieve-desktop prints one line at its first rendered frame, then quits.
as_user env QT_QPA_PLATFORM=offscreen SIEVE_STARTUP_REPORT=1 timeout 60 sieve-desktop > /tmp/sieve-desktop.out 2>&1 \
  || { cat /tmp/sieve-desktop.out; fail "sieve-desktop did not reach its first frame"; }
cat /tmp/sieve-desktop.out
grep -q '^startup: first frame after' /tmp/sieve-desktop.out || fail "no startup report"
grep -qiE 'failed to load|is not installed|module .* not found' /tmp/sieve-desktop.out && fail "QML load errors"
# Without the report it must stay up (timeout ends it: exit 124), loading the model given.
set +e
as_user env QT_QPA_PLATFORM=offscreen timeout 8 sieve-desktop $home/model.gguf > /tmp/sieve-desktop-up.out 2>&1
rc=$?
set -e
cat /tmp/sieve-desktop-up.out
[ $rc -eq 124 ] || fail "sieve-desktop exited with $rc within 8 s (expected to stay up)"
echo "sieve-desktop stayed up 8 s in its event loop (ended by timeout)"
[ -f "$root$history" ] || fail "the app created no history at $history"
echo "history: $history ($(stat -c %s "$root$history") bytes)"
written=$(find "$root/usr" "$root/opt" -newer "$root/tmp/sieve-before-run" 2>/dev/null | head -n 5)
[ -z "$written" ] || fail "the apps wrote into the install folders: $written"
echo "nothing under /usr or /opt was written while the apps ran"
step_done

step "4. a conversation in the user's history, listed by the app"
in_root apt-get install -y -qq sqlite3 > /dev/null
as_user sqlite3 "$history" \
  "INSERT INTO conversations(title, created, updated, model) VALUES ('kept across apt remove', 1, 1, 'model.gguf');"
as_user env QT_QPA_PLATFORM=offscreen SIEVE_STARTUP_REPORT=1 timeout 60 sieve-desktop > /tmp/sieve-desktop.out 2>&1 \
  || { cat /tmp/sieve-desktop.out; fail "sieve-desktop failed with a history"; }
cat /tmp/sieve-desktop.out
grep -q '1 conversations stored, 1 listed' /tmp/sieve-desktop.out || fail "the app does not list the stored conversation"
sum_before=$(sha256sum < "$root$history")
step_done

step "5. apt remove sieve, then (reinstalled) apt purge sieve: the history stays"
install_deb() { in_root sh -c "cd /tmp && apt-get install -y -qq ./$(basename "$deb")" > /dev/null; }
in_root apt-get remove -y -qq sieve > /dev/null
[ ! -e "$root/usr/bin/sieve-desktop" ] || fail "sieve-desktop still installed after apt remove"
[ "$(sha256sum < "$root$history")" = "$sum_before" ] || fail "history changed or vanished after apt remove"
echo "after apt remove: $history still there, unchanged"
install_deb
in_root apt-get purge -y -qq sieve > /dev/null
[ ! -e "$root/usr/bin/sieve" ] || fail "sieve still installed after apt purge"
[ "$(sha256sum < "$root$history")" = "$sum_before" ] || fail "history changed or vanished after apt purge"
echo "after apt purge:  $history still there, unchanged"
install_deb
as_user env QT_QPA_PLATFORM=offscreen SIEVE_STARTUP_REPORT=1 timeout 60 sieve-desktop > /tmp/sieve-desktop.out 2>&1 \
  || { cat /tmp/sieve-desktop.out; fail "reinstalled sieve-desktop failed"; }
grep -v 'Binding loop' /tmp/sieve-desktop.out || true
grep -q '1 conversations stored, 1 listed' /tmp/sieve-desktop.out || fail "reinstalled app lost the conversation"
echo "reinstalled: the app lists the kept conversation"
step_done

step "6. the click-through: a new user, real clicks and keys, nothing but the package's dependencies"
newcomer=newcomer
in_root useradd --create-home --shell /bin/bash $newcomer
newcomer_ids="$(in_root id -u $newcomer):$(in_root id -g $newcomer)"
mkdir -p "$root/tmp/runtime-$newcomer" /tmp/.X11-unix
chmod 1777 /tmp/.X11-unix
chmod 700 "$root/tmp/runtime-$newcomer"; chown "$newcomer_ids" "$root/tmp/runtime-$newcomer"
mount_in --bind /tmp/.X11-unix /tmp/.X11-unix
# The model comes into the newcomer's home as a download would; the app writes as $newcomer.
"$repo/tests/installer/click-through.sh" --home "$root/home/$newcomer" --app-home "/home/$newcomer" \
    --model "$model" --shots "${SIEVE_CLICK_THROUGH_SHOTS:-/tmp/sieve-click-through}" \
    --owner "$newcomer_ids" -- \
    chroot --userspec="$newcomer_ids" "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/home/$newcomer \
    USER=$newcomer XDG_RUNTIME_DIR=/tmp/runtime-$newcomer \
  || fail "the click-through failed"
step_done

echo
echo "test-deb: PASS in $(( $(date +%s) - t0 )) s"
