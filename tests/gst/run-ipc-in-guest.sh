#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-ipc-in-guest.sh BUILD_DIR - the gst-ipc suite's multi-process test in
# the kernel suite's QEMU guest, where hb_mem uses hbmem.ko and every block
# hbmemsink sends is a real dma-buf (the test checks the consumer gets
# dmabuf memory). Exit status: the test's, 77 when the guest cannot run.
set -eu
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${HBMEM_IN_GUEST:-}" != 1 ]; then
	HBMEM_IN_GUEST=1 exec \
		"$src/tests/kernel/run-in-guest.sh" --timeout 300 \
		--log "$build/guest-ipc.log" -- "$src/tests/gst/run-ipc-in-guest.sh" "$build"
fi
# in the guest: /tmp is the guest's own tmpfs
export GST_PLUGIN_PATH_1_0="$build/gst" GST_REGISTRY_1_0=/tmp/registry-ipc.bin
export GST_REGISTRY_FORK=no GST_PLUGIN_LOADING_WHITELIST=gstreamer:gst-plugins-base:hbmem
export HBMEM_CONFIG="$src/tests/lib/empty.conf" HBMEM_LOG=error HOME=/tmp
# the guest's vCPUs are slow and shared: stress tests pace themselves (an
# upstream-event flood without pause once held a consumer's start, its
# HELLO, past the 5 s bound in a loaded CI run)
export HBMEM_STRESS_SCALE=5
exec "$build/tests/gst/test-gst-ipc"
