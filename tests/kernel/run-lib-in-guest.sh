#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-lib-in-guest.sh TEST-PROGRAM... - the library suite inside the QEMU
# guest, on the backend $LIB_BACKEND names: hbmem (the kernel driver, the
# default), dma-heap (the driver's heap nodes through the generic dma-heap
# backend), udmabuf (memfds made dma-bufs by /dev/udmabuf) or system-heap
# (the dma-heap backend on the kernel's own system heap). One line per
# program, PASS or FAIL, then a summary; exits 0 only if every program
# passed. The guest sees the host read-only, so the programs run directly,
# not through meson.
#
# Debian 12's default kernel (6.1) has neither CONFIG_UDMABUF nor
# CONFIG_DMABUF_HEAPS, so those two runs boot the 6.12 kernel Debian 12
# also ships (linux-image-6.12-amd64: both built in), unpacked by
# run-in-guest.sh and never installed, without hbmem.ko (built for the
# default kernel); $HBMEM_GUEST_KVER overrides the version.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -gt 0 ] || { echo "usage: $0 TEST-PROGRAM..." >&2; exit 2; }

export HBMEM_CONFIG="$here/../lib/empty.conf"
export HBMEM_LOG=error
# software emulation is slow: the stress test does a fiftieth of its work
export HBMEM_STRESS_SCALE=50
export HBMEM_GUEST_ENV="${HBMEM_GUEST_ENV:-} G_DEBUG"
export G_DEBUG=fatal-warnings
run=${LIB_BACKEND:-hbmem}
guest_opts=()
case $run in
hbmem|dma-heap) backend=$run ;;
udmabuf) backend=udmabuf; new_kernel=1 ;;
system-heap) backend=dma-heap; new_kernel=1 ;;
*) echo "bad LIB_BACKEND $run" >&2; exit 2 ;;
esac
export HBMEM_LIB_BACKEND=$backend HBMEM_LIB_RUN=$run

# udmabuf and system-heap: Debian 12's 6.12 kernel, without hbmem.ko.
if [ -n "${new_kernel:-}" ]; then
	if [ -z "${HBMEM_GUEST_KVER:-}" ]; then
		kver_of() {
			apt-cache depends linux-image-6.12-amd64 2>/dev/null |
				awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.12\./ { print $2; exit }'
		}
		dep=$(kver_of)
		if [ -z "$dep" ] && [ "$(id -u)" = 0 ]; then
			DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1
			dep=$(kver_of)
		fi
		if [ -z "$dep" ]; then
			echo "run-lib-in-guest: SKIP: apt knows no linux-image-6.12-amd64 (the Debian 12 kernel with udmabuf)" >&2
			exit 77
		fi
		export HBMEM_GUEST_KVER=${dep#linux-image-}
	fi
	guest_opts+=(--no-module)
fi

script='
fail=0; pass=0
# the devices the run is about, so a guest without them fails, not skips
case $HBMEM_LIB_RUN in
udmabuf) [ -c /dev/udmabuf ] || { echo "FAIL: no /dev/udmabuf in the guest"; exit 1; } ;;
system-heap) [ -c /dev/dma_heap/system ] || { echo "FAIL: no /dev/dma_heap/system in the guest"; exit 1; } ;;
esac
for t in "$@"; do
	name=$(basename "$t")
	if out=$(HBMEM_BACKEND=$HBMEM_LIB_BACKEND "$t" 2>&1); then
		echo "PASS lib-on-$HBMEM_LIB_RUN/$name"; pass=$((pass + 1))
	else
		echo "FAIL lib-on-$HBMEM_LIB_RUN/$name"
		echo "$out" | grep -E "^not ok|Bail out|ERROR" | head -5 | sed "s/^/    /"
		fail=$((fail + 1))
	fi
done
echo "lib-on-$HBMEM_LIB_RUN: $pass passed, $fail failed"
[ $fail -eq 0 ]'

exec "$here/run-in-guest.sh" "${guest_opts[@]}" --timeout 900 -- sh -c "$script" sh "$@"
