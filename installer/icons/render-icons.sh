#!/usr/bin/env bash
# Renders resources/icons/sieve.svg into the icons the installers ship, all
# committed under resources/icons/ (so builds need no SVG renderer):
#   hicolor/<N>x<N>/apps/sieve.png  N = 16 22 24 32 48 64 128 256 512 (Linux, .deb)
#   hicolor/scalable/apps/sieve.svg                                  (Linux, .deb)
#   sieve.ico   16..256, PNG-compressed entries          (Windows: NSIS and the .exe)
#   sieve.icns  16..512                                  (macOS: the app bundle)
# Needs rsvg-convert (Debian librsvg2-bin), png2icns (icnsutils) and python3.
# Re-run after editing the SVG:  installer/icons/render-icons.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
icons="$root/resources/icons"
svg="$icons/sieve.svg"
for tool in rsvg-convert png2icns python3; do
  command -v "$tool" >/dev/null || { echo "render-icons: $tool not found (apt-get install librsvg2-bin icnsutils python3)" >&2; exit 1; }
done

for n in 16 22 24 32 48 64 128 256 512; do
  mkdir -p "$icons/hicolor/${n}x${n}/apps"
  rsvg-convert -w "$n" -h "$n" "$svg" -o "$icons/hicolor/${n}x${n}/apps/sieve.png"
done
mkdir -p "$icons/hicolor/scalable/apps"
cp "$svg" "$icons/hicolor/scalable/apps/sieve.svg"

# macOS: png2icns picks the icon type from each PNG's size.
png2icns "$icons/sieve.icns" \
  "$icons"/hicolor/{16x16,32x32,48x48,128x128,256x256,512x512}/apps/sieve.png >/dev/null

# Windows: an .ico whose entries are PNG images (Vista and later read them).
python3 - "$icons/sieve.ico" "$icons"/hicolor/{16x16,24x24,32x32,48x48,64x64,256x256}/apps/sieve.png <<'PY'
import struct, sys
out, pngs = sys.argv[1], sys.argv[2:]
blobs = [open(p, "rb").read() for p in pngs]
sizes = [struct.unpack(">II", b[16:24]) for b in blobs]  # IHDR width, height
offset = 6 + 16 * len(blobs)
header = struct.pack("<HHH", 0, 1, len(blobs))
entries = b""
for (w, h), blob in zip(sizes, blobs):
    # width/height 256 are written as 0; 1 plane, 32 bits per pixel
    entries += struct.pack("<BBBBHHII", w % 256, h % 256, 0, 0, 1, 32, len(blob), offset)
    offset += len(blob)
with open(out, "wb") as f:
    f.write(header + entries + b"".join(blobs))
PY
echo "render-icons: wrote $(find "$icons/hicolor" -name 'sieve.*' | wc -l) hicolor icons, sieve.icns, sieve.ico"
