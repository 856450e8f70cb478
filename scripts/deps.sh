#!/usr/bin/env bash
# Install the Debian packages hbmem needs to build, test and demo.
# Usage: scripts/deps.sh [base|test|gst|kernel|all]   (default: all)
# Runs apt-get only when something is missing; needs root for that.
set -euo pipefail

base=(build-essential meson ninja-build pkg-config libglib2.0-dev)
test=(valgrind libmimalloc-dev libjemalloc-dev clang libclang-rt-14-dev)
gst=(libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	gstreamer1.0-plugins-bad)
kernel=(qemu-system-x86 linux-image-amd64 linux-headers-amd64
	busybox-static cpio kmod libdrm-dev libv4l-dev v4l-utils)

case "${1:-all}" in
base) want=("${base[@]}") ;;
test) want=("${base[@]}" "${test[@]}") ;;
gst) want=("${base[@]}" "${gst[@]}") ;;
kernel) want=("${kernel[@]}") ;;
all) want=("${base[@]}" "${test[@]}" "${gst[@]}" "${kernel[@]}") ;;
*) echo "usage: $0 [base|test|gst|kernel|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root (or install them) and try again" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
