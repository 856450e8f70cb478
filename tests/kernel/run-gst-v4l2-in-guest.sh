#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-gst-v4l2-in-guest.sh TEST-PROGRAM [ARG...] - GStreamer's v4l2 elements on
# hbmem buffers (test-gst-v4l2) inside the QEMU guest: the hbmem kernel
# driver's dma-bufs (HBMEM_BACKEND=hbmem) and vivid. Exits with the
# program's status: 0 passed, 77 skipped (no QEMU, kernel, GStreamer
# plugin or vivid), anything else failed.
#
# The guest sees the host's userland read-only, GStreamer included. Its
# first GStreamer call would scan every plugin (about 30 s under
# emulation), so the program sees only the plugins it needs, through a
# directory of symlinks in the guest's /tmp, and a registry file there.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 TEST-PROGRAM [ARG...]" >&2; exit 2; }
prog=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift

plugindir=$(pkg-config --variable=pluginsdir gstreamer-1.0 2>/dev/null ||
	echo /usr/lib/x86_64-linux-gnu/gstreamer-1.0)
for p in coreelements coretracers video4linux2 app videotestsrc; do
	if [ ! -e "$plugindir/libgst$p.so" ]; then
		echo "SKIP: no GStreamer plugin $p in $plugindir" >&2
		exit 77
	fi
done

export HBMEM_CONFIG="$here/../lib/empty.conf"
export HBMEM_LOG=error
export HBMEM_BACKEND=hbmem
export HBMEM_GST_PLUGINDIR=$plugindir
export GST_REGISTRY_1_0=/tmp/gst-v4l2-registry.bin
export GST_PLUGIN_SYSTEM_PATH_1_0=/tmp/gst-v4l2-plugins
export GST_PLUGIN_PATH_1_0=
export GST_REGISTRY_FORK=no
# As in the gst suite: a leaked GstObject/GstMiniObject is reported by the
# leaks tracer with g_warning() at gst_deinit(), and that aborts.
export G_DEBUG=fatal-warnings
export GST_TRACERS=${GST_TRACERS-leaks}
# v4l2 1.22.0 "orphans" its buffer pool at stop on drivers that allow it
# (vivid does) and never frees it: a dup of the device fd and two socket
# pairs per run stay open, which would hide our own fd accounting.
# Draining instead frees everything.
# (HBMEM_GST_V4L2_ORPHAN=1 keeps v4l2's default, for experiments.)
if [ -z "${HBMEM_GST_V4L2_ORPHAN:-}" ]; then
	export GST_V4L2_FORCE_DRAIN=1
else
	unset GST_V4L2_FORCE_DRAIN
fi
# Under ASan: one leak inside GStreamer's v4l2 is not ours (see the file).
# (The slow unwinder is needed to see through GStreamer's frames.) Both
# are added to whatever options the caller set (scripts/test.sh sets some).
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$here/lsan-gst-v4l2.supp"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export HBMEM_GUEST_ENV="${HBMEM_GUEST_ENV:-} GST_REGISTRY_1_0 GST_PLUGIN_SYSTEM_PATH_1_0 GST_PLUGIN_PATH_1_0 GST_REGISTRY_FORK G_DEBUG GST_DEBUG GST_V4L2_FORCE_DRAIN GST_TRACERS GST_LEAKS_TRACER_STACK_TRACE ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS"

# A full run (no test-program arguments) also runs the hbmemsink capture
# recipe with gst-launch-1.0 when the plugin was built next to the program.
plugin=$(dirname "$prog")/../../gst/libgsthbmem.so
# (Not for a sanitizer build: its plugin cannot load into gst-launch-1.0.)
if [ $# -eq 0 ] && [ -e "$plugin" ] && command -v gst-launch-1.0 >/dev/null; then
	if readelf -d "$plugin" 2>/dev/null | grep -q 'NEEDED.*lib[atu]san'; then
		echo "run-gst-v4l2: sanitizer build: the hbmemsink recipe is not run" >&2
	else
		HBMEM_GST_PLUGIN=$(cd "$(dirname "$plugin")" && pwd)/libgsthbmem.so
		export HBMEM_GST_PLUGIN
	fi
fi

script='
mkdir -p "$GST_PLUGIN_SYSTEM_PATH_1_0"
for p in coreelements coretracers video4linux2 app videotestsrc; do
	ln -sf "$HBMEM_GST_PLUGINDIR/libgst$p.so" "$GST_PLUGIN_SYSTEM_PATH_1_0/"
done
"$@" || exit $?
[ -z "${HBMEM_GST_PLUGIN:-}" ] && exit 0
node() {
	for d in /sys/class/video4linux/video*; do
		grep -qx "$1" "$d/name" 2>/dev/null && echo /dev/${d##*/}
	done | head -1
}
cap=$(node vivid-000-vid-cap) out=$(node vivid-000-vid-out)
[ -n "$cap" ] && [ -n "$out" ] || { echo "# no vivid nodes for the gst-launch recipes"; exit 0; }
'"'$here/gst-v4l2-hbmemsink.sh'"' "$cap" "$out"'

# The console log goes next to the program (the shared default is
# overwritten by any other guest run).
log=$prog-guest.log
rm -f "$log"
# run-in-guest.sh's exit status, its kernel log check included
exec "$here/run-in-guest.sh" --timeout 240 --log "$log" \
	-- sh -c "$script" sh "$prog" "$@"
