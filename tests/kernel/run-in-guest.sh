#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-guest.sh - run a host program inside a QEMU guest that boots
# Debian's own kernel with hbmem.ko loaded.
#
# usage: run-in-guest.sh [options] -- COMMAND [ARG...]
#
#   --heap-args "ARGS"  module parameters for hbmem.ko
#                       (default: $HBMEM_HEAP_ARGS or the board-like layout
#                       below, which needs the default --memmap)
#   --memmap SPEC       kernel memmap= reservation (default 128M$0x30000000)
#   --mem MB            guest RAM (default 1024)
#   --smp N             guest CPUs (default 2)
#   --timeout S         whole-run limit in seconds (default 600)
#   --log FILE          guest console log (default WORK/guest.log)
#   --no-module         boot without loading hbmem.ko
#   --allow-warn        do not fail on WARN/BUG/Oops in the guest log
#
# The guest mounts the host's / read-only over 9p, binds /dev, /proc and
# /sys, puts tmpfs on /tmp and /run, chroots into it, enters the current
# directory and runs COMMAND with stdin from /dev/null. The environment
# variables PATH, HBMEM_*, and those named in $HBMEM_GUEST_ENV are passed
# on; HBMEM_KO is set to the module's path (usable from inside the guest)
# and HBMEM_MODULE_ARGS to the parameters it was loaded with.
#
# Exit status: COMMAND's status; 77 if QEMU or the kernel cannot be had;
# 124 if the guest hung, panicked or never ran COMMAND; 125 if the kernel
# log shows a WARN, BUG, Oops or panic (even if COMMAND succeeded).
#
# Everything built (module, initramfs, unpacked kernel) is cached under
# $HBMEM_GUEST_WORK (default tests/kernel/work, or /var/tmp/hbmem-guest-work
# when the source tree is under /tmp, which the guest cannot see) per kernel
# version. The guest has its own /tmp and /run: of the host's /tmp it sees
# only the top directory holding the current directory or this source
# tree, at the same path (read-only, like the rest of the host).
# $HBMEM_GUEST_KVER picks the kernel version (default: the one
# linux-image-amd64 depends on). The installed kernel is used if there is
# one; otherwise (or with HBMEM_GUEST_UNPACK=1) linux-image-<version> is
# downloaded and unpacked into the cache, never installed. Run as root on a fresh Debian 12, the
# script installs the packages it needs with apt-get.

set -euo pipefail

SRCROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=workdir.sh
. "$SRCROOT/tests/kernel/workdir.sh"
DEFAULT_MEMMAP='128M$0x30000000'
DEFAULT_HEAP_ARGS='carveout=carveout:32M@0x30000000,cma_reserved:32M@0x32000000,ion_cma:32M@0x34000000,ion_uncache:32M@0x36000000:uncached page_heap=hbmem_system page_heap_limit=256M'

heap_args=${HBMEM_HEAP_ARGS:-$DEFAULT_HEAP_ARGS}
memmap=$DEFAULT_MEMMAP
mem=1024
smp=2
run_timeout=600
log=
load_module=1
allow_warn=0

die() { echo "run-in-guest: $*" >&2; exit 2; }
skip() { echo "run-in-guest: SKIP: $*" >&2; exit 77; }
say() { echo "run-in-guest: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--heap-args) heap_args=$2; shift 2 ;;
	--memmap) memmap=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--timeout) run_timeout=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--no-module) load_module=0; shift ;;
	--allow-warn) allow_warn=1; shift ;;
	--) shift; break ;;
	-h|--help) sed -n '4,37p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) die "unknown option $1 (commands go after --)" ;;
	esac
done
[ $# -gt 0 ] || die "no command given (usage: run-in-guest.sh [options] -- COMMAND)"

# ---- packages ------------------------------------------------------------

apt_updated=0
apt_update_once() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		return 1
	fi
	if [ $apt_updated = 0 ]; then
		say "apt-get update"
		DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || return 1
		apt_updated=1
	fi
}

apt_install() {
	apt_update_once || return 1
	say "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

need_tools() {
	local missing=()
	command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
		missing+=(busybox-static)
	command -v cpio >/dev/null || missing+=(cpio)
	command -v depmod >/dev/null || missing+=(kmod)
	command -v make >/dev/null || missing+=(make)
	command -v gcc >/dev/null || missing+=(gcc)
	if [ ${#missing[@]} -gt 0 ]; then
		apt_install "${missing[@]}" || skip "missing ${missing[*]} (install them, or run as root)"
	fi
}

pick_kver() {
	if [ -n "${HBMEM_GUEST_KVER:-}" ]; then
		echo "$HBMEM_GUEST_KVER"
		return
	fi
	local dep
	dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null | grep -o 'linux-image-[^ ,]*' | head -1 || true)
	if [ -z "$dep" ]; then
		apt_update_once || true
		dep=$(apt-cache depends linux-image-amd64 2>/dev/null | grep -o 'linux-image-[0-9][^ ]*' | head -1 || true)
	fi
	[ -n "$dep" ] || skip "cannot tell which kernel to boot (set HBMEM_GUEST_KVER)"
	echo "${dep#linux-image-}"
}

need_tools
KVER=$(pick_kver)
WORK=$(hbmem_work_root "$SRCROOT")/$KVER
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
# What one run writes (the command, its initramfs, a copy of the module,
# the console log) lives in a directory of its own, so runs may overlap;
# the log is kept as WORK/guest.log (the last run to end wins).
# runs killed before they could clean up
find "$WORK" -maxdepth 1 -name 'run.??????' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
RUN_DIR=$(mktemp -d "$WORK/run.XXXXXX")
final_log=${log:-$WORK/guest.log}
log=$RUN_DIR/guest.log
end_run() {
	[ -f "$log" ] && mv -f "$log" "$final_log"
	rm -rf "$RUN_DIR"
}
trap end_run EXIT

exec 9>"$WORK/.lock"
flock 9

# Kernel image and its modules: the installed ones, else unpacked.
if [ -z "${HBMEM_GUEST_UNPACK:-}" ] && [ -r "/boot/vmlinuz-$KVER" ] &&
   [ -d "/lib/modules/$KVER/kernel" ]; then
	VMLINUZ=/boot/vmlinuz-$KVER
	IMGROOT=/
else
	IMGROOT=$WORK/image
	if [ ! -d "$IMGROOT/lib/modules/$KVER/kernel" ]; then
		command -v apt-get >/dev/null || skip "no kernel $KVER and no apt-get"
		apt_update_once || true
		say "unpacking linux-image-$KVER"
		( cd "$WORK" && rm -f linux-image-*.deb &&
		  apt-get download "linux-image-$KVER" >/dev/null 2>&1 ) ||
			skip "cannot download linux-image-$KVER"
		rm -rf "$IMGROOT"
		dpkg -x "$WORK"/linux-image-"$KVER"_*.deb "$IMGROOT"
		rm -f "$WORK"/linux-image-*.deb
		depmod -b "$IMGROOT" "$KVER"
	fi
	VMLINUZ=$IMGROOT/boot/vmlinuz-$KVER
fi
[ -r "$VMLINUZ" ] || skip "no kernel image $VMLINUZ"

# Headers to build the module against (not needed without it).
KDIR=/usr/src/linux-headers-$KVER
if [ $load_module = 1 ] && [ ! -f "$KDIR/Makefile" ]; then
	apt_install "linux-headers-$KVER" || skip "no headers for $KVER (linux-headers-$KVER)"
fi

# ---- module --------------------------------------------------------------

KO=
if [ $load_module = 1 ]; then
	src=$WORK/hbmem-src
	mkdir -p "$src/include/uapi/linux"
	cp -p "$SRCROOT"/kernel/*.c "$SRCROOT"/kernel/*.h "$SRCROOT"/kernel/Kbuild "$src/"
	cp -p "$SRCROOT"/include/uapi/linux/hbmem.h "$src/include/uapi/linux/"
	if ! make -s -C "$KDIR" M="$src" modules >"$WORK/build.log" 2>&1; then
		cat "$WORK/build.log" >&2
		die "building hbmem.ko against $KVER failed"
	fi
	cp "$src/hbmem.ko" "$RUN_DIR/hbmem.ko"
	KO=$RUN_DIR/hbmem.ko
fi

# ---- initramfs -----------------------------------------------------------

GUEST_MODULES="virtio_pci 9pnet_virtio 9p vivid vgem"
base=$WORK/base.cpio.gz
stamp="$KVER $GUEST_MODULES $(cksum < "${BASH_SOURCE[0]}")"
if [ ! -s "$base" ] || [ "$(cat "$WORK/base.stamp" 2>/dev/null)" != "$stamp" ]; then
	say "building the initramfs for $KVER"
	root=$WORK/initramfs
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,host,tmp,etc,lib/modules/"$KVER"}
	cp /bin/busybox "$root/bin/busybox"
	for m in $GUEST_MODULES; do
		modprobe -d "$IMGROOT" -S "$KVER" --show-depends "$m" |
			awk '$1 == "insmod" { print $2 }'
	done | sort -u | while read -r f; do
		rel=${f#"${IMGROOT%/}"}
		mkdir -p "$root/$(dirname "$rel")"
		cp "$f" "$root/$rel"
	done
	cp "$IMGROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$KVER/" 2>/dev/null || true
	depmod -b "$root" "$KVER"
	( cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 ) > "$base"
	echo "$stamp" > "$WORK/base.stamp"
fi

# The per-run part: /init and the command, appended as a second archive.
run=$RUN_DIR/run
mkdir -p "$run/hbmem"
{
	echo "cd $(printf '%q' "$PWD") 2>/dev/null || cd /"
	echo "export HOME=/tmp TERM=dumb LANG=C.UTF-8"
	for v in PATH $(compgen -e | grep '^HBMEM_' || true) ${HBMEM_GUEST_ENV:-}; do
		[ -n "${!v+x}" ] && echo "export $v=$(printf '%q' "${!v}")"
	done
	echo "export HBMEM_KO=$(printf '%q' "$KO")"
	echo "export HBMEM_MODULE_ARGS=$(printf '%q' "$heap_args")"
	printf '%q ' "$@"
	echo '</dev/null'
} > "$run/hbmem/cmd.sh"
printf '%s\n' "$heap_args" > "$run/hbmem/module-args"
# The guest's /tmp is its own. A tree that lives under the host's /tmp (a
# clone CI made there, say) is bound into it at the same path, read-only.
for p in "$PWD" "$SRCROOT"; do
	case $p in
	/tmp/?*) top=${p#/tmp/}; echo "/tmp/${top%%/*}" ;;
	esac
done | sort -u > "$run/hbmem/tmp-expose"
echo "$KO" > "$run/hbmem/ko"
cat > "$run/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
guest_fail() {
	echo "HBMEM-GUEST-SETUP-FAILED: $*"
	echo "HBMEM-GUEST-DMESG-BEGIN"; dmesg; echo "HBMEM-GUEST-DMESG-END"
	poweroff -f
}
echo "HBMEM-GUEST: booted $(uname -r)"
for m in virtio_pci 9pnet_virtio 9p; do modprobe $m || guest_fail "modprobe $m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose host /host ||
	guest_fail "mounting the host over 9p"
modprobe vivid n_devs=2 node_types=0x101,0x101 allocators=0,1 || guest_fail "modprobe vivid"
modprobe vgem || guest_fail "modprobe vgem"
ko=$(cat /hbmem/ko)
if [ -n "$ko" ]; then
	insmod "/host$ko" $(cat /hbmem/module-args) || guest_fail "insmod hbmem.ko"
fi
mkdir -p /hosttmp
mount -o bind /host/tmp /hosttmp || guest_fail "binding the host's /tmp"
mount -t tmpfs -o mode=1777 tmpfs /host/tmp
while read -r d; do
	mkdir -p "/host$d" && mount -o bind "/hosttmp${d#/tmp}" "/host$d" ||
		guest_fail "exposing $d"
done < /hbmem/tmp-expose
mount -t tmpfs tmpfs /host/run
mkdir -p /dev/shm
mount -o bind /dev /host/dev
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
mount -o bind /proc /host/proc || echo "HBMEM-GUEST: bind /proc failed"
mount -o bind /sys /host/sys
cp /hbmem/cmd.sh /host/tmp/.hbmem-cmd.sh
echo "HBMEM-GUEST: running the command"
chroot /host /bin/bash /tmp/.hbmem-cmd.sh
rc=$?
echo "HBMEM-GUEST-EXIT $rc (uptime $(cat /proc/uptime))"
echo "HBMEM-GUEST-DMESG-BEGIN"; dmesg; echo "HBMEM-GUEST-DMESG-END"
echo "HBMEM-GUEST: powering off at $(cat /proc/uptime)"
poweroff -f
EOF
chmod 755 "$run/init"
( cd "$run" && find . | cpio -o -H newc --quiet | gzip -1 ) > "$RUN_DIR/run.cpio.gz"
cat "$base" "$RUN_DIR/run.cpio.gz" > "$RUN_DIR/initrd.cpio.gz"

flock -u 9

# ---- boot ----------------------------------------------------------------

append="console=ttyS0 panic=-1 quiet loglevel=4 memmap=$memmap"
say "booting $KVER (log: $final_log)"
start=$(date +%s)
set +e
timeout -k 10 "$run_timeout" qemu-system-x86_64 \
	-nodefaults -no-user-config -nographic -no-reboot \
	-machine q35 -cpu max -m "$mem" -smp "$smp" \
	-serial stdio -monitor none \
	-kernel "$VMLINUZ" -initrd "$RUN_DIR/initrd.cpio.gz" -append "$append" \
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
	</dev/null >"$log" 2>&1
qemu_rc=$?
set -e
elapsed=$(( $(date +%s) - start ))

# Console output has CRLF line ends.
sed -i 's/\r$//' "$log"

show_tail() { echo "---- last lines of $final_log ----" >&2; tail -n 60 "$log" >&2; }

rc=$(sed -n "s/^HBMEM-GUEST-EXIT \([0-9]*\).*/\1/p" "$log" | tail -1)
if [ -z "$rc" ]; then
	if [ $qemu_rc = 124 ] || [ $qemu_rc = 137 ]; then
		sed -n '/^HBMEM-GUEST: running the command$/,$p' "$log"
		say "FAIL: the guest did not finish within ${run_timeout}s"
	else
		say "FAIL: the guest stopped without running the command to its end (qemu status $qemu_rc)"
	fi
	show_tail
	exit 124
fi

# Kernel messages carry a timestamp; only those are searched. One known
# vivid quirk is not a failure: when emulation is too slow for its frame
# rate, vivid's capture thread passes a negative timeout to
# schedule_timeout(), which logs that and a stack of the vivid thread. Any
# other WARN, BUG, Oops or trace is.
bad=$(grep -E '^\[ *[0-9]+\.[0-9]+\] ' "$log" | awk '
	/schedule_timeout: wrong timeout value/ { quirk = 1; next }
	quirk && /Comm: vivid-/ { next }
	/(WARNING:|BUG:|Oops|Kernel panic|general protection fault|Call Trace:|kernel BUG|UBSAN|KASAN|refcount_t:|list_(add|del) corruption|INFO: task .* blocked)/ {
		if (quirk && /Call Trace:/) { quirk = 0; next }
		print; next
	}
	/<\/TASK>/ { quirk = 0 }')
if grep -q 'schedule_timeout: wrong timeout value' "$log"; then
	say "note: vivid fell behind its frame rate (its schedule_timeout warning is ignored)"
fi
if [ -n "$bad" ] && [ $allow_warn = 0 ]; then
	say "FAIL: the guest kernel log shows problems:"
	echo "$bad" | head -20 >&2
	show_tail
	exit 125
fi

# The command's own output, for the caller.
sed -n '/^HBMEM-GUEST: running the command$/,/^HBMEM-GUEST-EXIT /{//!p}' "$log"

say "guest finished in ${elapsed}s, command exit status $rc"
[ "$rc" = 0 ] || show_tail
exit "$rc"
