// SPDX-License-Identifier: MIT
/*
 * Heaps: the vendor's named memory regions, their capacities, and which
 * one serves a request.
 *
 * A request picks its heap with the HB_MEM_USAGE_PRIV_HEAP_* bits
 * (HW_* bits never do). When the heap is full the request falls back in
 * the board's order, but is never split across heaps:
 *
 *   cma_reserved -> carveout -> ion_cma
 *   carveout     -> cma_reserved -> ion_cma
 *   ion_cma      -> cma_reserved
 *   sram         -> (none)
 *
 * If several heap bits are set the highest wins (2_RESERVED, then SRAM,
 * then RESERVED); unknown heap bits mean ion_cma. When an "uncache" heap
 * is configured (as on S600) every request without HB_MEM_USAGE_CACHED is
 * served from it alone, with no fallback.
 *
 * Capacities are enforced on every backend, so an application meets on a
 * PC the out-of-memory it would meet on a board. Each buffer is charged
 * its page-rounded size.
 *
 * The mechanism is the heaps-by-attribute multi-heap of the allocator
 * family (lib/alloc/mheap.c): each heap is a capacity region whose
 * attribute is its index, and the fallback orders above are its chains.
 * A region with room is taken only once the backend has served the
 * request from it too (a kernel heap can be full of other processes'
 * buffers while our accounting says there is room). Configuration, later entries winning:
 * the defaults below, the config file ($HBMEM_CONFIG, else
 * /etc/hbmem.conf: "name = size" lines, '#' comments), then $HBMEM_HEAPS
 * ("ion_cma=512M,carveout=256M"). A size of 0 removes a heap.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hbmem_internal.h"
#include "alloc/alloc.h"

#define MiB (1024ull * 1024ull)

enum {
	HEAP_ION_CMA,
	HEAP_CARVEOUT,
	HEAP_CMA_RESERVED,
	HEAP_SRAM,
	HEAP_UNCACHE,
	HEAP_COUNT,
};

/* Board-like defaults (an RDK X5 layout): */
static const struct hbmem_heap heap_defaults[HEAP_COUNT] = {
	[HEAP_ION_CMA] = { .name = "ion_cma",
			   .flag = HB_MEM_USAGE_PRIV_HEAP_DMA,
			   .capacity = 512 * MiB },
	[HEAP_CARVEOUT] = { .name = "carveout",
			    .flag = HB_MEM_USAGE_PRIV_HEAP_RESERVED,
			    .capacity = 768 * MiB },
	[HEAP_CMA_RESERVED] = { .name = "cma_reserved",
				.flag = HB_MEM_USAGE_PRIV_HEAP_2_RESERVED,
				.capacity = 384 * MiB },
	[HEAP_SRAM] = { .name = "sram", .flag = HB_MEM_USAGE_PRIV_HEAP_SRAM },
	[HEAP_UNCACHE] = { .name = "uncache",
			   .flag = HB_MEM_USAGE_PRIV_HEAP_DMA },
};

static struct hbmem_heap heaps[HEAP_COUNT];
/* The heaps as capacity regions (attribute = index); -1: absent. */
static hb_mem_mheap_t *vendor_mh;
static int region_of[HEAP_COUNT];
static int heap_of_region[HEAP_COUNT];

/* Fallback chains, preferred heap first; -1 ends a chain. */
static const int heap_chain[HEAP_COUNT][4] = {
	[HEAP_ION_CMA] = { HEAP_ION_CMA, HEAP_CMA_RESERVED, -1 },
	[HEAP_CARVEOUT] = { HEAP_CARVEOUT, HEAP_CMA_RESERVED, HEAP_ION_CMA, -1 },
	[HEAP_CMA_RESERVED] = { HEAP_CMA_RESERVED, HEAP_CARVEOUT, HEAP_ION_CMA,
				-1 },
	[HEAP_SRAM] = { HEAP_SRAM, -1 },
	[HEAP_UNCACHE] = { HEAP_UNCACHE, -1 },
};

/* "512M", "1G", "65536", "64K" -> bytes. -EINVAL on anything else. */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	v = strtoull(s, &end, 0);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: break;
	}
	if (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I')
		end++;
	if (toupper((unsigned char)*end) == 'B')
		end++;
	while (isspace((unsigned char)*end))
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Apply one "name=size" setting; @where names its source for the log. */
static int heap_setting(char *item, const char *where)
{
	char *eq = strchr(item, '='), *name, *val;
	uint64_t size;
	int i;

	if (!eq) {
		hbmem_err_log("%s: '%s' is not name=size", where, item);
		return -EINVAL;
	}
	*eq = '\0';
	name = trim(item);
	val = trim(eq + 1);
	for (i = 0; i < HEAP_COUNT; i++)
		if (!strcmp(heaps[i].name, name))
			break;
	if (i == HEAP_COUNT) {
		hbmem_err_log("%s: unknown heap '%s'", where, name);
		return -EINVAL;
	}
	if (parse_size(val, &size) < 0) {
		hbmem_err_log("%s: bad size '%s' for heap %s", where, val, name);
		return -EINVAL;
	}
	heaps[i].capacity = size;
	return 0;
}

static int heaps_from_file(const char *path, bool must_exist)
{
	char line[256];
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		hbmem_err_log("config %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s, *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
		s = trim(line);
		if (!*s)
			continue;
		if (heap_setting(s, path) < 0)
			ret = -EINVAL;
	}
	fclose(f);
	return ret;
}

static int heaps_from_env(const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *item;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (item = strtok_r(copy, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		if (heap_setting(item, "HBMEM_HEAPS") < 0)
			ret = -EINVAL;
	}
	free(copy);
	return ret;
}

/* The configured heaps as capacity regions and fallback chains. */
static int heaps_build_mheap(void)
{
	uint32_t chain[HEAP_COUNT];
	int i, j, n, ret;

	if (vendor_mh)
		hb_mem_mheap_destroy(vendor_mh);
	vendor_mh = NULL;
	if (hb_mem_mheap_create(HB_MEM_MHEAP_FIRST, &vendor_mh) < 0)
		return -ENOMEM;
	for (i = 0; i < HEAP_COUNT; i++) {
		region_of[i] = -1;
		if (!heaps[i].capacity)
			continue;
		ret = _hbmem_mheap_add_capacity(vendor_mh, heaps[i].name,
						(uint32_t)i, heaps[i].capacity,
						&region_of[i]);
		if (ret < 0)
			return ret;
		heap_of_region[region_of[i]] = i;
	}
	for (i = 0; i < HEAP_COUNT; i++) {
		for (n = 0, j = 1; heap_chain[i][j] >= 0; j++)
			chain[n++] = (uint32_t)heap_chain[i][j];
		if (hb_mem_mheap_set_fallback(vendor_mh, (uint32_t)i, chain,
					      n) < 0)
			return -EINVAL;
	}
	return 0;
}

void _hbmem_heaps_fini(void)
{
	if (vendor_mh)
		hb_mem_mheap_destroy(vendor_mh);
	vendor_mh = NULL;
}

int _hbmem_heaps_init(void)
{
	const char *cfg = getenv("HBMEM_CONFIG");
	const char *spec = getenv("HBMEM_HEAPS");
	uint32_t extra = 0;
	int i, ret;

	memcpy(heaps, heap_defaults, sizeof(heaps));
	if (hbmem_backend->caps & HB_MEM_BACKEND_CAP_PHYS)
		extra = HB_MEM_HEAP_ATTR_CONTIGUOUS;
	for (i = 0; i < HEAP_COUNT; i++) {
		/* every backend here hands out zero-filled memory */
		heaps[i].attrs = HB_MEM_HEAP_ATTR_ZEROED | extra |
				 (i == HEAP_UNCACHE ? HB_MEM_HEAP_ATTR_UNCACHED
						    : HB_MEM_HEAP_ATTR_CACHEABLE);
		memcpy(heaps[i].node, heaps[i].name, sizeof(heaps[i].node));
	}
	if (hbmem_backend->heaps) {
		ret = hbmem_backend->heaps(heaps, HEAP_COUNT);
		if (ret < 0)
			return ret;
	}
	ret = heaps_from_file(cfg && *cfg ? cfg : "/etc/hbmem.conf",
			      cfg && *cfg);
	if (ret == 0 && spec && *spec)
		ret = heaps_from_env(spec);
	if (ret == 0)
		ret = heaps_build_mheap();
	return ret;
}

static int heap_index_for_flags(int64_t flags)
{
	int64_t priv = flags & HB_MEM_USAGE_PRIV_MASK;

	if (!(flags & HB_MEM_USAGE_CACHED) && heaps[HEAP_UNCACHE].capacity &&
	    !(priv & HB_MEM_USAGE_PRIV_HEAP_SRAM))
		return HEAP_UNCACHE;
	if (priv & HB_MEM_USAGE_PRIV_HEAP_2_RESERVED)
		return HEAP_CMA_RESERVED;
	if (priv & HB_MEM_USAGE_PRIV_HEAP_SRAM)
		return HEAP_SRAM;
	if (priv & HB_MEM_USAGE_PRIV_HEAP_RESERVED)
		return HEAP_CARVEOUT;
	return HEAP_ION_CMA;
}

struct hbmem_heap *_hbmem_heap_for_flags(int64_t flags)
{
	return &heaps[heap_index_for_flags(flags)];
}

struct heap_try {
	int (*alloc)(struct hbmem_heap *heap, void *ctx);
	void *ctx;
	struct hbmem_heap *heap;
};

static int heap_try(int region, void *arg)
{
	struct heap_try *t = arg;

	t->heap = &heaps[heap_of_region[region]];
	return t->alloc(t->heap, t->ctx);
}

int _hbmem_heap_alloc(int64_t flags, uint64_t len,
		      int (*alloc)(struct hbmem_heap *heap, void *ctx),
		      void *ctx, struct hbmem_heap **out)
{
	struct heap_try t = { .alloc = alloc, .ctx = ctx };
	uint64_t need = hbmem_page_round(len);
	int id, ret;

	if (need < len)
		return -ENOMEM;
	ret = _hbmem_mheap_reserve_try(vendor_mh,
				       (uint32_t)heap_index_for_flags(flags),
				       need, heap_try, &t, &id);
	if (ret == -ENOENT)
		ret = -ENOMEM;	/* no heap at all: as full as can be */
	if (ret == 0)
		*out = t.heap;
	else
		hbmem_debug("no heap can hold %llu bytes (flags 0x%llx)",
			    (unsigned long long)need,
			    (unsigned long long)flags);
	return ret;
}

void _hbmem_heap_unreserve(struct hbmem_heap *heap, uint64_t len)
{
	_hbmem_mheap_unreserve(vendor_mh, region_of[heap - heaps],
			       hbmem_page_round(len));
}

void _hbmem_heap_usage(const struct hbmem_heap *heap, uint64_t *used,
		       uint32_t *buffers)
{
	hb_mem_mheap_region_info_t info;
	int region = region_of[heap - heaps];

	*used = 0;
	*buffers = 0;
	if (region < 0 || hb_mem_mheap_region_info(vendor_mh, region, &info))
		return;
	*used = info.used;
	*buffers = (uint32_t)info.allocs;
}

int _hbmem_heap_count(void)
{
	return HEAP_COUNT;
}

struct hbmem_heap *_hbmem_heap_at(int index)
{
	return index >= 0 && index < HEAP_COUNT ? &heaps[index] : NULL;
}
