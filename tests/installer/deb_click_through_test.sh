#!/usr/bin/env bash
# ctest: the .deb of this build, installed into a clean Debian root, proven by
# installer/linux/test-deb-in-chroot.sh, whose last step is the click-through
# (tests/installer/click-through.sh): the packaged app driven by real mouse and
# keyboard input with nothing but the package's declared dependencies.
#
#   deb_click_through_test.sh SOURCE_DIR BUILD_DIR
#
# Needs root (debootstrap, chroot, mounts) and the Debian mirror; CI has both.
# Elsewhere it is skipped (exit 77) and says why. The debootstrap tree is kept
# pristine in /var/tmp/sieve-chroot-base between runs (SIEVE_CHROOT_BASE), so
# only the first run on a machine downloads the base system.
# Screenshots: BUILD_DIR/click-through/*.png.
set -euo pipefail
source_dir=$1
build_dir=$2

if [ "$(id -u)" -ne 0 ]; then
  echo "deb_click_through: SKIPPED: needs root for debootstrap and chroot (CI runs it as root; locally:"
  echo "  sudo $0 $source_dir $build_dir)"
  exit 77
fi

echo "== the .deb of this build (cpack -G DEB)"
rm -rf "$build_dir/deb"
cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$build_dir/deb" > "$build_dir/deb-cpack.log" 2>&1 \
  || { tail -30 "$build_dir/deb-cpack.log"; echo "deb_click_through: cpack failed"; exit 1; }
deb=$(ls "$build_dir"/deb/sieve_*.deb)
echo "$deb ($(stat -c %s "$deb") bytes)"

SIEVE_CHROOT_BASE=${SIEVE_CHROOT_BASE:-/var/tmp/sieve-chroot-base} \
SIEVE_CLICK_THROUGH_SHOTS="$build_dir/click-through" \
  "$source_dir/installer/linux/test-deb-in-chroot.sh" "$deb" /var/tmp/sieve-chroot-ctest
