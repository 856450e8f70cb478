#!/usr/bin/env bash
# The demo, on a fresh Debian 12 as root: installs what it needs, builds,
# and runs the example programs, which walk through the hb_mem API the way
# the vendor's sample modes do (common and graphic buffers, heaps, the
# local pool, the queue, in-process sharing).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh base
if [ -d build-demo ]; then
	meson setup --reconfigure build-demo -Dtests=disabled -Dbench=false >/dev/null
else
	meson setup build-demo -Dtests=disabled -Dbench=false >/dev/null
fi
ninja -C build-demo >/dev/null

for ex in alloc_com alloc_graph heaps pool queue share_in_process; do
	echo
	echo "=== examples/$ex"
	"build-demo/examples/$ex"
done
echo
echo "demo: all examples ran successfully"
