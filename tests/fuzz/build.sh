#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Build the libFuzzer targets with clang (-fsanitize=fuzzer,address,
# undefined) against the library's sources, outside meson: meson builds
# the project with one C compiler, and libFuzzer needs clang.
#
#   tests/fuzz/build.sh [OUTDIR]      (default: build-fuzz in the source tree)
#
# Rebuilds only when a source or header changed. Exits 77 when clang or
# its libFuzzer runtime (Debian: libclang-rt-14-dev) is missing. The broker
# parser's target is built when lib/broker_proto.c exists.
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$src/build-fuzz}
CC=${CLANG:-$(command -v clang || command -v clang-14 || true)}
JOBS=${FUZZ_JOBS:-2}

if [ -z "$CC" ]; then
	echo "SKIP: clang not found (apt-get install clang libclang-rt-14-dev)"
	exit 77
fi
mkdir -p "$out/obj"
probe=$out/probe.c
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);
int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n > 9; }' >"$probe"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe" -o "$out/probe" \
	>"$out/probe.log" 2>&1; then
	echo "SKIP: $CC cannot link libFuzzer with ASan+UBSan (libclang-rt-14-dev?)"
	exit 77
fi

ver=$(sed -n "s/^ *version *: *'\([0-9.]*\)'.*/\1/p" "$src/meson.build" | head -n1)
major=${ver%%.*}
rest=${ver#*.}
minor=${rest%%.*}
patch=${rest#*.}
CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer -D_FILE_OFFSET_BITS=64
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
	-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
	-I$src/lib -I$src/include/hbmem -I$src/include/uapi
	-DHBMEM_LIB_VERSION_MAJOR=$major -DHBMEM_LIB_VERSION_MINOR=$minor
	-DHBMEM_LIB_VERSION_PATCH=$patch"
export CC CFLAGS out

stamp=$out/libhbmem-fuzz.a
if [ ! -f "$stamp" ] || [ -n "$(find "$src/lib" "$src/include" -newer "$stamp" \
	\( -name '*.c' -o -name '*.h' \) | head -n1)" ]; then
	echo "fuzz: compiling libhbmem with $CC"
	rm -f "$out"/obj/*.o
	find "$src/lib" -name '*.c' | sort | xargs -P "$JOBS" -I{} sh -c '
		o="$out/obj/$(echo "{}" | sed "s|.*/lib/||; s|/|_|g; s|\.c$|.o|")"
		$CC $CFLAGS -c "{}" -o "$o"' || exit 1
	rm -f "$stamp"
	ar rcs "$stamp" "$out"/obj/*.o
fi

targets="fuzz-import fuzz-fdpass"
if [ -f "$src/lib/broker_proto.c" ]; then
	targets="$targets fuzz-broker-proto"
else
	echo "fuzz: lib/broker_proto.c does not exist yet: no fuzz-broker-proto"
	rm -f "$out/fuzz-broker-proto"
fi
for t in $targets; do
	if [ ! -x "$out/$t" ] || [ "$stamp" -nt "$out/$t" ] ||
		[ "$src/tests/fuzz/$t.c" -nt "$out/$t" ] ||
		[ "$src/tests/fuzz/fuzz-util.h" -nt "$out/$t" ]; then
		echo "fuzz: linking $t"
		# shellcheck disable=SC2086
		$CC $CFLAGS -fsanitize=fuzzer "$src/tests/fuzz/$t.c" "$stamp" \
			-lpthread -o "$out/$t"
	fi
done
echo "$targets" >"$out/targets"
