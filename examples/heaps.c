// SPDX-License-Identifier: MIT
/*
 * heaps - list the heaps, allocate from each with its PRIV_HEAP flag, show
 * the fallback to another heap when the chosen one is full and
 * INSUFFICIENT_MEM when none can hold the request.
 *
 * Unless HBMEM_HEAPS is already set, this example gives itself small heaps
 * (cma_reserved 4 MiB, carveout 8 MiB, ion_cma 16 MiB) so that filling
 * them is quick on any backend.
 *
 * Build: cc $(pkg-config --cflags hbmem) heaps.c -o heaps \
 *            $(pkg-config --libs hbmem)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"	/* heap listing: an hbmem extension */

#define MiB (1024ull * 1024ull)

static int failed(const char *what, int32_t ret)
{
	char msg[HB_MEM_ERR_MAX_STR_SIZE];

	hb_mem_strerror(ret, msg, sizeof(msg));
	fprintf(stderr, "heaps: %s failed: %s (%d)\n", what, msg, ret);
	return 1;
}

static const struct {
	const char *name;
	int64_t flag;
} heap_flags[] = {
	{ "PRIV_HEAP_DMA", HB_MEM_USAGE_PRIV_HEAP_DMA },
	{ "PRIV_HEAP_RESERVED", HB_MEM_USAGE_PRIV_HEAP_RESERVED },
	{ "PRIV_HEAP_2_RESERVED", HB_MEM_USAGE_PRIV_HEAP_2_RESERVED },
	{ "PRIV_HEAP_SRAM", HB_MEM_USAGE_PRIV_HEAP_SRAM },
};

#define NFLAGS (sizeof(heap_flags) / sizeof(heap_flags[0]))
#define MAX_HEAPS 16

/* Bytes used per heap, by index. */
static int heaps_used(int32_t n, uint64_t *used)
{
	hb_mem_heap_info_t info;
	int32_t i, ret;

	for (i = 0; i < n && i < MAX_HEAPS; i++) {
		ret = hb_mem_get_heap_info(i, &info);
		if (ret)
			return failed("hb_mem_get_heap_info", ret);
		used[i] = info.used;
	}
	return 0;
}

/* Which heap the last allocation went to: the one whose use grew. */
static const char *heap_that_grew(int32_t n, const uint64_t *before,
				  hb_mem_heap_info_t *info)
{
	int32_t i;

	for (i = 0; i < n && i < MAX_HEAPS; i++) {
		if (hb_mem_get_heap_info(i, info) == 0 &&
		    info->used > before[i])
			return info->name;
	}
	return "?";
}

/* Allocate @size with @flag, say where it went; *fd gets the buffer. */
static int32_t alloc_and_tell(const char *flag_name, int64_t flag,
			      uint64_t size, int32_t n, int32_t *fd)
{
	uint64_t before[MAX_HEAPS];
	hb_mem_heap_info_t info;
	hb_mem_common_buf_t buf;
	int32_t ret;
	char msg[HB_MEM_ERR_MAX_STR_SIZE];

	*fd = -1;
	if (heaps_used(n, before))
		return HB_MEM_ERR_UNKNOWN;
	ret = hb_mem_alloc_com_buf(size, flag | HB_MEM_USAGE_CACHED, &buf);
	if (ret) {
		hb_mem_strerror(ret, msg, sizeof(msg));
		printf("  %-22s %5" PRIu64 " KiB -> %s\n", flag_name,
		       size >> 10, msg);
		return ret;
	}
	printf("  %-22s %5" PRIu64 " KiB -> heap %s\n", flag_name, size >> 10,
	       heap_that_grew(n, before, &info));
	*fd = buf.fd;
	return 0;
}

int main(void)
{
	int32_t n, i, ret, fd, fds[64], nfds = 0;
	hb_mem_heap_info_t info;
	uint64_t size, cap2;
	char backend[32];
	uint32_t caps;
	size_t f;
	int err = 1;

	setenv("HBMEM_HEAPS", "cma_reserved=4M,carveout=8M,ion_cma=16M", 0);
	ret = hb_mem_module_open();
	if (ret)
		return failed("hb_mem_module_open", ret);
	ret = hb_mem_get_backend(backend, sizeof(backend), &caps);
	if (ret)
		goto out_fail;
	printf("backend %s (caps 0x%x)\n", backend, caps);

	ret = hb_mem_get_heap_count(&n);
	if (ret)
		goto out_fail;
	printf("%d heaps:\n", n);
	for (i = 0; i < n; i++) {
		ret = hb_mem_get_heap_info(i, &info);
		if (ret)
			goto out_fail;
		printf("  %-14s flag 0x%010" PRIx64 "  capacity %6" PRIu64
		       " KiB  used %" PRIu64 "  attrs 0x%x%s\n",
		       info.name, info.flag, info.capacity >> 10, info.used,
		       info.attrs, info.capacity ? "" : "  (absent)");
	}

	printf("hb_mem_get_heap_size:\n");
	for (f = 0; f < NFLAGS; f++) {
		ret = hb_mem_get_heap_size((uint64_t)heap_flags[f].flag, &size);
		if (ret)
			goto out_fail;
		printf("  %-22s %" PRIu64 " KiB\n", heap_flags[f].name,
		       size >> 10);
	}

	printf("one 1 MiB buffer per heap flag:\n");
	for (f = 0; f < NFLAGS; f++) {
		ret = alloc_and_tell(heap_flags[f].name, heap_flags[f].flag,
				     MiB, n, &fd);
		if (ret == 0 && nfds < 64)
			fds[nfds++] = fd;
		else if (ret != HB_MEM_ERR_INSUFFICIENT_MEM)
			goto out_fail;
	}

	/*
	 * Fill cma_reserved: once it is full, its requests fall back to
	 * carveout, then ion_cma, never split across heaps.
	 */
	ret = hb_mem_get_heap_size(HB_MEM_USAGE_PRIV_HEAP_2_RESERVED, &cap2);
	if (ret)
		goto out_fail;
	if (cap2 < 2 * MiB)
		cap2 = 2 * MiB;
	printf("PRIV_HEAP_2_RESERVED until every heap in its chain is "
	       "full (%" PRIu64 " KiB requests):\n", (cap2 / 2) >> 10);
	for (;;) {
		ret = alloc_and_tell("PRIV_HEAP_2_RESERVED",
				     HB_MEM_USAGE_PRIV_HEAP_2_RESERVED,
				     cap2 / 2, n, &fd);
		if (ret == HB_MEM_ERR_INSUFFICIENT_MEM)
			break;
		if (ret || nfds == 64)
			goto out_fail;
		fds[nfds++] = fd;
	}
	printf("got INSUFFICIENT_MEM after %d buffers, as a board would\n",
	       nfds);
	ret = 0;
	err = 0;
out_fail:
	if (ret)
		failed("a heap query", ret);
	for (i = 0; i < nfds; i++) {
		ret = hb_mem_free_buf(fds[i]);
		if (ret)
			err = failed("hb_mem_free_buf", ret);
	}
	ret = hb_mem_module_close();
	if (ret)
		return failed("hb_mem_module_close", ret);
	printf(err ? "heaps: FAILED\n" : "heaps: OK\n");
	return err;
}
