#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-install.sh BUILD_DIR SOURCE_DIR
#
# Install the build into a temporary DESTDIR, then build and run
# examples/alloc_com.c against that installed copy with nothing but
# pkg-config, the way an application would:
#
#   cc $(pkg-config --cflags hbmem) alloc_com.c $(pkg-config --libs hbmem)
#
# It checks that "#include "hb_mem_mgr.h"" works unchanged through the
# Cflags, that the library's soname is libhbmem.so.1 with the usual
# symlinks, and that the program runs on the installed library (not the
# build tree's). $EXAMPLE_CFLAGS is added to the compile line (the
# sanitizer build needs its runtime linked first).
set -eu

build=$1
src=$2
cc=${CC:-cc}

fail() {
	echo "check-install: $*" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hbmem-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
dest=$tmp/dest

meson install -C "$build" --no-rebuild --quiet --destdir "$dest" \
	>"$tmp/install.log" 2>&1 || {
	cat "$tmp/install.log" >&2
	fail "meson install failed"
}

pc=$(find "$dest" -name hbmem.pc | head -n 1)
[ -n "$pc" ] || fail "no hbmem.pc was installed"
# Only the temporary install is visible; the sysroot maps the .pc file's
# /usr/local/... paths into it.
PKG_CONFIG_PATH=
PKG_CONFIG_LIBDIR=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

cflags=$(pkg-config --cflags hbmem)
libs=$(pkg-config --libs hbmem)
echo "pkg-config --cflags hbmem: $cflags"
echo "pkg-config --libs hbmem:   $libs"

# pkgconf applies the sysroot to variables too, pkg-config does not
in_dest() {
	case $1 in
	"$dest"/*) echo "$1" ;;
	*) echo "$dest$1" ;;
	esac
}
incdir=$(in_dest "$(pkg-config --variable=includedir hbmem)")
[ -f "$incdir/hbmem/hb_mem_mgr.h" ] ||
	fail "hb_mem_mgr.h is not in $incdir/hbmem"
libdir=$(in_dest "$(pkg-config --variable=libdir hbmem)")

# soname and symlinks: libhbmem.so -> libhbmem.so.1 -> libhbmem.so.1.0.0
[ -L "$libdir/libhbmem.so" ] || fail "libhbmem.so is not a symlink"
[ -L "$libdir/libhbmem.so.1" ] || fail "libhbmem.so.1 is not a symlink"
real=$(readlink -f "$libdir/libhbmem.so")
case $real in
*/libhbmem.so.1.*) ;;
*) fail "libhbmem.so resolves to $real" ;;
esac
soname=$(readelf -d "$real" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libhbmem.so.1 ] || fail "soname is '$soname'"
echo "soname: $soname"

# the documentation the hbmemd unit points at is installed
unit=$(find "$dest" -name hbmemd.service | head -n 1)
if [ -n "$unit" ]; then
	doc=$(sed -n 's|^Documentation=file://||p' "$unit")
	[ -n "$doc" ] && [ -f "$dest$doc" ] ||
		fail "hbmemd.service documents '$doc', which is not installed"
	echo "hbmemd.service documentation: $doc"
fi

# The one-liner from examples/README.md. The include stays as written.
grep -q '#include "hb_mem_mgr.h"' "$src/examples/alloc_com.c" ||
	fail "alloc_com.c no longer includes \"hb_mem_mgr.h\""
# shellcheck disable=SC2086 # the flags are meant to split
$cc ${EXAMPLE_CFLAGS:-} $cflags "$src/examples/alloc_com.c" \
	-o "$tmp/alloc_com" $libs || fail "alloc_com.c does not build"

needed=$(readelf -d "$tmp/alloc_com" | grep NEEDED | grep hbmem || true)
case $needed in
*'[libhbmem.so.1]'*) ;;
*) fail "alloc_com does not need libhbmem.so.1: $needed" ;;
esac

# Run it on the installed library, and prove that is the one loaded.
loaded=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/alloc_com" |
	sed -n 's/.*libhbmem\.so\.1 => \([^ ]*\).*/\1/p')
[ "$(readlink -f "$loaded")" = "$real" ] ||
	fail "the loader picks '$loaded', not the installed library"
LD_LIBRARY_PATH=$libdir "$tmp/alloc_com" || fail "alloc_com failed"
echo "check-install: OK"
