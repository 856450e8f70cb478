#!/bin/sh
# SPDX-License-Identifier: MIT
#
# gst-v4l2-hbmemsink.sh - run inside the guest by run-gst-v4l2-in-guest.sh:
# the docs' recipes with real gst-launch-1.0 processes,
#
#   v4l2src io-mode=dmabuf-import ! hbmemsink   (vivid captures straight
#   into the pool hbmemsink proposes)  ->  hbmemsrc ! fakesink
#   videotestsrc ! hbmemsink  ->  hbmemsrc ! v4l2sink io-mode=dmabuf-import
#
# and checks that both end cleanly, that hbmemsink sent every frame and
# copied none (its closing "sent N, dropped N, copies N" line), and that
# the consumer got them. Content is checked by test-gst-v4l2 itself.
# Needs $HBMEM_GST_PLUGIN (the built libgsthbmem.so), vivid's capture
# node $1 and output node $2. Prints "ok"/"not ok" lines like the GLib
# tests.
set -u

dev=$1 out=$2
frames=20
sock=/tmp/hbmem-v4l2-smoke.sock
# the build's own directory: the plugin finds libhbmem through its rpath
export GST_PLUGIN_PATH_1_0=${HBMEM_GST_PLUGIN%/*}
log=/tmp/hbmemsink-smoke.log

fail2() {
	echo "not ok - hbmemsrc/v4l2sink-dmabuf-import: $*"
	sed 's/^/#   /' "$log" 2>/dev/null | tail -30
	exit 1
}

fail() {
	echo "not ok - hbmemsink/v4l2src-dmabuf-import: $*"
	sed 's/^/#   /' "$log" /tmp/hbmemsrc-smoke.log 2>/dev/null | tail -30
	exit 1
}

# vivid's webcam input (the loop test leaves HDMI selected)
v4l2-ctl -d "$dev" --set-input 0 >/dev/null 2>&1 || true

GST_DEBUG=hbmemsink:4 timeout 60 gst-launch-1.0 -q v4l2src device="$dev" \
	io-mode=dmabuf-import num-buffers=$frames ! \
	video/x-raw,format=RGB,width=640,height=480 ! \
	hbmemsink socket-path=$sock wait-for-connection=true >"$log" 2>&1 &
producer=$!
i=0
while [ ! -S $sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S $sock ] || { kill $producer 2>/dev/null; fail "hbmemsink never listened"; }
timeout 60 gst-launch-1.0 -q hbmemsrc socket-path=$sock ! \
	fakesink signal-handoffs=false >/tmp/hbmemsrc-smoke.log 2>&1
crc=$?
wait $producer
prc=$?
[ $prc -eq 0 ] || fail "producer exited with $prc"
[ $crc -eq 0 ] || fail "consumer exited with $crc"
line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'sent [0-9]*, dropped [0-9]*, copies [0-9]*' | tail -1)
[ -n "$line" ] || fail "no closing counts from hbmemsink"
set -- $line
sent=${2%,} dropped=${4%,} copies=$6
[ "$copies" -eq 0 ] || fail "hbmemsink copied $copies frames ($line)"
# a consumer that fell behind misses frames (counted as dropped)
[ "$sent" -gt 0 ] && [ $((sent + dropped)) -eq $frames ] ||
	fail "hbmemsink sent $sent and dropped $dropped of $frames frames"
echo "# $line"
echo "ok - hbmemsink/v4l2src-dmabuf-import"

# The other direction across processes: frames a producer wrote into
# hbmemsink's pool, received by hbmemsrc in another process and imported
# by v4l2sink there. v4l2sink fails the pipeline on memory it cannot
# import, so a clean EOS means every frame went to the driver as a dma-buf.
# (No content check here: test-gst-v4l2's loop tests do that.)
log=/tmp/hbmemsrc-v4l2sink.log
sock=/tmp/hbmem-v4l2-smoke2.sock
v4l2-ctl -d "$out" --set-output 1 --set-dv-bt-timings index=0 >/dev/null 2>&1 || true
caps=video/x-raw,format=YUY2,width=640,height=480,colorimetry=2:4:7:1,framerate=30/1
timeout 60 gst-launch-1.0 -q videotestsrc num-buffers=$frames ! "$caps" ! \
	hbmemsink socket-path=$sock >/tmp/hbmemsink-smoke2.log 2>&1 &
producer=$!
i=0
while [ ! -S $sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S $sock ] || { kill $producer 2>/dev/null; log=/tmp/hbmemsink-smoke2.log; fail2 "hbmemsink never listened"; }
timeout 60 gst-launch-1.0 hbmemsrc socket-path=$sock ! \
	v4l2sink device="$out" io-mode=dmabuf-import sync=false >"$log" 2>&1
crc=$?
wait $producer
prc=$?
[ $prc -eq 0 ] || fail2 "producer exited with $prc"
[ $crc -eq 0 ] && grep -q 'Got EOS' "$log" || fail2 "consumer exited with $crc"
echo "ok - hbmemsrc/v4l2sink-dmabuf-import"
