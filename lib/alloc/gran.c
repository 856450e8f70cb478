// SPDX-License-Identifier: MIT
/*
 * Granule allocator: runs of 2^n-byte granules over a region (DMA memory,
 * typically), first fit, any run length, freed by address alone.
 *
 * All state is out of band, so the region may be uncached or device
 * memory. Three bitmaps of one bit per granule:
 *
 *   used   1 = allocated or reserved
 *   start  1 = first granule of a live allocation
 *   end    1 = last granule of a live allocation (so free needs no size)
 *
 * and a summary tree over the 64-granule words of `used`. Each node holds,
 * for the granules below it, the longest free prefix, the longest free
 * suffix and the longest free run:
 *
 *                      [pre suf best]               covers 4 words
 *            [pre suf best]      [pre suf best]     covers 2 words
 *        word0     word1     word2     word3        leaves: 64 granules
 *
 * A parent's best is max(left.best, right.best, left.suf + right.pre), so
 * the root says at once whether n free granules exist, and the lowest run
 * of n is found by one descent: go left while the left child has a run
 * of n, else take the run straddling the middle if left.suf + right.pre
 * reaches n, else go right. That is O(log words) instead of the O(n)
 * bitmap scan of a classic granule allocator, with the same placement
 * (the lowest-addressed fit). Marking a run touches its words and their
 * ancestors: O(n / 64 + log words).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"

struct hbmem_gran_node {
	uint32_t pre, suf, best;
};

#define GRAN_MAX ((uint64_t)1 << 31)	/* granules; fits the uint32 nodes */

typedef struct hbmem_gran_node node_t;

static void leaf_calc(uint64_t w, node_t *n)
{
	uint64_t z = ~w;
	uint32_t best = 0;

	if (!w) {
		n->pre = n->suf = n->best = 64;
		return;
	}
	n->pre = (uint32_t)__builtin_ctzll(w);
	n->suf = (uint32_t)__builtin_clzll(w);
	/* each step shortens every run of free bits by one */
	while (z) {
		z &= z >> 1;
		best++;
	}
	n->best = best;
}

static void node_calc(node_t *n, const node_t *l, const node_t *r,
		      uint64_t half)
{
	uint32_t cross = l->suf + r->pre;

	n->pre = l->pre == half ? (uint32_t)half + r->pre : l->pre;
	n->suf = r->suf == half ? (uint32_t)half + l->suf : r->suf;
	n->best = l->best > r->best ? l->best : r->best;
	if (cross > n->best)
		n->best = cross;
}

/* Recompute the summary over words [lo, hi]. */
static void tree_update(struct hb_mem_gran *g, uint64_t lo, uint64_t hi)
{
	uint64_t i, half = 64;

	for (i = lo; i <= hi; i++)
		leaf_calc(g->used[i], &g->tree[g->leaves + i]);
	lo += g->leaves;
	hi += g->leaves;
	while (lo > 1) {
		lo >>= 1;
		hi >>= 1;
		for (i = lo; i <= hi; i++)
			node_calc(&g->tree[i], &g->tree[2 * i],
				  &g->tree[2 * i + 1], half);
		half <<= 1;
	}
}

/* Lowest position of @n free bits (n <= 64) in word @w. */
static unsigned word_find(uint64_t w, uint64_t n)
{
	uint64_t x = ~w, s = 1, k;

	while (s < n) {
		k = s < n - s ? s : n - s;
		x &= x >> k;
		s += k;
	}
	return (unsigned)__builtin_ctzll(x);
}

/* Lowest granule starting a free run of @n, or -1. */
static int64_t tree_find(const struct hb_mem_gran *g, uint64_t n)
{
	uint64_t idx = 1, len = g->leaves * 64, base = 0, half;

	if (g->tree[1].best < n)
		return -1;
	while (idx < g->leaves) {
		const node_t *l = &g->tree[2 * idx], *r = &g->tree[2 * idx + 1];

		half = len / 2;
		if (l->best >= n) {
			idx = 2 * idx;
		} else if ((uint64_t)l->suf + r->pre >= n) {
			return (int64_t)(base + half - l->suf);
		} else {
			idx = 2 * idx + 1;
			base += half;
		}
		len = half;
	}
	return (int64_t)(base + word_find(g->used[idx - g->leaves], n));
}

static void bits_set(uint64_t *map, uint64_t lo, uint64_t n, bool on)
{
	uint64_t hi = lo + n;	/* exclusive */

	while (lo < hi) {
		uint64_t w = lo / 64, b = lo % 64;
		uint64_t cnt = hi - lo < 64 - b ? hi - lo : 64 - b;
		uint64_t mask = (cnt == 64 ? ~0ull : ((1ull << cnt) - 1)) << b;

		if (on)
			map[w] |= mask;
		else
			map[w] &= ~mask;
		lo += cnt;
	}
}

static bool bits_any(const uint64_t *map, uint64_t lo, uint64_t n)
{
	uint64_t hi = lo + n;

	while (lo < hi) {
		uint64_t w = lo / 64, b = lo % 64;
		uint64_t cnt = hi - lo < 64 - b ? hi - lo : 64 - b;
		uint64_t mask = (cnt == 64 ? ~0ull : ((1ull << cnt) - 1)) << b;

		if (map[w] & mask)
			return true;
		lo += cnt;
	}
	return false;
}

static inline bool bit(const uint64_t *map, uint64_t i)
{
	return (map[i / 64] >> (i % 64)) & 1;
}

/* First set bit at or after @i (there is one: the run's end). */
static uint64_t next_set(const struct hb_mem_gran *g, const uint64_t *map,
			 uint64_t i)
{
	uint64_t w = i / 64, bits = map[w] & (~0ull << (i % 64));

	while (!bits && ++w < g->nwords)
		bits = map[w];
	return w * 64 + (uint64_t)__builtin_ctzll(bits);
}

/* Mark granules [s, s + n) used; a live run unless @reserve. Locked. */
static void mark(struct hb_mem_gran *g, uint64_t s, uint64_t n, bool on,
		 bool reserve)
{
	bits_set(g->used, s, n, on);
	if (!reserve) {
		bits_set(g->start, s, 1, on);
		bits_set(g->end, s + n - 1, 1, on);
	}
	tree_update(g, s / 64, (s + n - 1) / 64);
	if (on)
		g->nfree -= n;
	else
		g->nfree += n;
}

static void *raw_alloc(struct hb_mem_gran *g, size_t align, size_t size)
{
	uint64_t n, span, a = 1, s;
	int64_t found;

	n = ((uint64_t)size + (1ull << g->log2gran) - 1) >> g->log2gran;
	if (size == 0 || n == 0 || n > g->ngran)
		return _hbmem_null_errno(size ? -ENOMEM : -EINVAL);
	if (align > (1ull << g->log2gran))
		a = align >> g->log2gran;
	span = n + a - 1;
	pthread_mutex_lock(&g->lock);
	found = span <= g->ngran ? tree_find(g, span) : -1;
	if (found < 0) {
		pthread_mutex_unlock(&g->lock);
		return _hbmem_null_errno(-ENOMEM);
	}
	s = (uint64_t)found;
	if (a > 1) {
		/* the granule index whose address is @align aligned */
		uint64_t want = (0 - ((uintptr_t)g->base >> g->log2gran)) & (a - 1);

		s += (want - s) & (a - 1);
	}
	mark(g, s, n, true, false);
	g->allocs++;
	pthread_mutex_unlock(&g->lock);
	return g->base + (s << g->log2gran);
}

static int raw_free(struct hb_mem_gran *g, void *ptr)
{
	uint64_t off = (uint64_t)((uint8_t *)ptr - g->base), s, e;

	if ((uint8_t *)ptr < g->base || off >> g->log2gran >= g->ngran ||
	    (off & ((1ull << g->log2gran) - 1)))
		return -EFAULT;
	s = off >> g->log2gran;
	pthread_mutex_lock(&g->lock);
	if (!bit(g->start, s) || !bit(g->used, s)) {
		pthread_mutex_unlock(&g->lock);
		return -EFAULT;
	}
	e = next_set(g, g->end, s);
	mark(g, s, e - s + 1, false, false);
	g->allocs--;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static void gran_dbg_release(struct hbmem_dbg_owner *o, void *raw)
{
	struct hb_mem_gran *g = (struct hb_mem_gran *)((uint8_t *)o -
					offsetof(struct hb_mem_gran, dbg));

	raw_free(g, raw);
}

int _hbmem_gran_init(struct hb_mem_gran *g, void *start, uint64_t size,
		     uint32_t log2gran, uint32_t log2align)
{
	uint64_t gran = 1ull << log2gran, skip, words, leaves = 1;
	uint8_t *base;

	if (!start || log2gran < 4 || log2gran > 30 || log2align > log2gran)
		return -EINVAL;
	base = (uint8_t *)(uintptr_t)_hbmem_align_up((uintptr_t)start, gran);
	skip = (uint64_t)(base - (uint8_t *)start);
	if (size <= skip || (size - skip) >> log2gran == 0 ||
	    (size - skip) >> log2gran > GRAN_MAX)
		return -EINVAL;
	memset(g, 0, offsetof(struct hb_mem_gran, region));
	g->base = base;
	g->ngran = (size - skip) >> log2gran;
	g->log2gran = log2gran;
	g->log2align = log2align;
	words = (g->ngran + 63) / 64;
	while (leaves < words)
		leaves <<= 1;
	g->nwords = words;
	g->leaves = leaves;
	/* padding words read as used, so the tree never offers them */
	g->used = calloc(leaves, sizeof(uint64_t));
	g->start = calloc(words, sizeof(uint64_t));
	g->end = calloc(words, sizeof(uint64_t));
	g->tree = calloc(2 * leaves, sizeof(node_t));
	if (!g->used || !g->start || !g->end || !g->tree) {
		_hbmem_gran_fini(g);
		return -ENOMEM;
	}
	if (g->ngran % 64)
		g->used[words - 1] = ~0ull << (g->ngran % 64);
	memset(g->used + words, 0xFF, (leaves - words) * sizeof(uint64_t));
	tree_update(g, 0, leaves - 1);
	g->nfree = g->ngran;
	pthread_mutex_init(&g->lock, NULL);
	_hbmem_dbg_owner_init(&g->dbg, HBMEM_DBG_GRAN, "gran", gran_dbg_release);
	return 0;
}

void _hbmem_gran_fini(struct hb_mem_gran *g)
{
	if (g->tree)
		_hbmem_dbg_owner_fini(&g->dbg);
	free(g->used);
	free(g->start);
	free(g->end);
	free(g->tree);
	g->used = g->start = g->end = NULL;
	g->tree = NULL;
}

void *_hbmem_gran_alloc(struct hb_mem_gran *g, size_t align, size_t size,
			const char *file, int line)
{
	uint32_t opts = _hbmem_dbg_options();
	size_t front, total, min_align = (size_t)1 << g->log2align;
	void *raw;

	if (size == 0 || (align && !_hbmem_is_pow2(align)))
		return _hbmem_null_errno(-EINVAL);
	if (align < min_align)
		align = min_align;
	if (!opts)
		return raw_alloc(g, align, size);
	front = _hbmem_dbg_front(opts, align);
	if (__builtin_add_overflow(size, front + _hbmem_dbg_back(opts), &total))
		return _hbmem_null_errno(-ENOMEM);
	raw = raw_alloc(g, align, total);
	if (!raw)
		return NULL;
	return _hbmem_dbg_alloc(&g->dbg, opts, raw, front, size, file, line);
}

int _hbmem_gran_free(struct hb_mem_gran *g, void *ptr)
{
	void *raw;
	int ret;

	if (!ptr)
		return -EFAULT;
	if (_hbmem_dbg_tracking(&g->dbg)) {
		ret = _hbmem_dbg_free(&g->dbg, ptr, &raw);
		if (ret < 0)
			return ret;
		if (ret > 0)
			return raw ? raw_free(g, raw) : 0;
	}
	return raw_free(g, ptr);
}

static int gran_reserve(struct hb_mem_gran *g, void *start, uint64_t size)
{
	uint8_t *p = start;
	uint64_t s, e, limit = g->ngran << g->log2gran;
	int ret = 0;

	if (!p || size == 0 || p < g->base || (uint64_t)(p - g->base) >= limit ||
	    size > limit - (uint64_t)(p - g->base))
		return -EINVAL;
	s = (uint64_t)(p - g->base) >> g->log2gran;
	e = ((uint64_t)(p - g->base) + size - 1) >> g->log2gran;
	pthread_mutex_lock(&g->lock);
	if (bits_any(g->used, s, e - s + 1)) {
		ret = -EBUSY;
	} else {
		mark(g, s, e - s + 1, true, true);
		g->reserved += e - s + 1;
	}
	pthread_mutex_unlock(&g->lock);
	return ret;
}

void _hbmem_gran_stats(struct hb_mem_gran *g, hb_mem_gran_info_t *info)
{
	pthread_mutex_lock(&g->lock);
	info->log2gran = g->log2gran;
	info->log2align = g->log2align;
	info->ngranules = g->ngran;
	info->nfree = g->nfree;
	info->mxfree = g->tree[1].best;
	info->allocs = g->allocs;
	info->reserved = g->reserved;
	pthread_mutex_unlock(&g->lock);
}

static int gran_validate(struct hb_mem_gran *g)
{
	uint64_t i, nfree = 0, runs = 0, half = 64;
	bool in_run = false;
	node_t n;
	int ret = -EINVAL;

	pthread_mutex_lock(&g->lock);
	for (i = 0; i < g->ngran; i++) {
		bool u = bit(g->used, i), s = bit(g->start, i),
		     e = bit(g->end, i);

		if (!u)
			nfree++;
		if (s) {
			if (in_run || !u)
				goto out;
			in_run = true;
			runs++;
		}
		if (in_run && !u)
			goto out;
		if (e) {
			if (!in_run)
				goto out;
			in_run = false;
		}
	}
	if (in_run || nfree != g->nfree || runs != g->allocs)
		goto out;
	for (i = 0; i < g->leaves; i++) {
		leaf_calc(g->used[i], &n);
		if (memcmp(&n, &g->tree[g->leaves + i], sizeof(n)))
			goto out;
	}
	for (i = g->leaves - 1; i >= 1; i--) {
		/* nodes at index [2^k, 2^(k+1)) share one width */
		if (!(i & (i + 1)) && i != g->leaves - 1)
			half <<= 1;
		node_calc(&n, &g->tree[2 * i], &g->tree[2 * i + 1], half);
		if (memcmp(&n, &g->tree[i], sizeof(n)))
			goto out;
	}
	ret = 0;
out:
	pthread_mutex_unlock(&g->lock);
	if (ret)
		hbmem_err_log("granule allocator %p: inconsistent at granule "
			      "%llu", (void *)g, (unsigned long long)i);
	return ret;
}

/* ---- public API ------------------------------------------------------- */

/* A granule allocator over [@start, @start + @size) of region @r. */
static int gran_new(struct hbmem_region *r, void *start, uint64_t size,
		    uint32_t log2gran, uint32_t log2align, hb_mem_gran_t **out)
{
	struct hb_mem_gran *g = calloc(1, sizeof(*g));
	int ret;

	if (!g)
		return -ENOMEM;
	ret = _hbmem_gran_init(g, start, size, log2gran, log2align);
	if (ret < 0) {
		free(g);
		return ret;
	}
	g->region = *r;
	*out = g;
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_gran_create(uint64_t size, int64_t flags,
					uint32_t log2gran, uint32_t log2align,
					hb_mem_gran_t **gran)
{
	uint64_t gsize = 1ull << log2gran, pad;
	struct hbmem_region r;
	uint8_t *start;
	int ret;

	if (!gran || log2gran < 4 || log2gran > 30 || log2align > log2gran ||
	    size >> log2gran == 0 || size >> log2gran > GRAN_MAX)
		return HB_MEM_ERR_INVALID_PARAMS;
	/*
	 * The buffer is only page aligned and granules are aligned to their
	 * size: granules above a page need room to align the first one, or
	 * a granule of the size asked for is lost (or the create fails).
	 */
	size = (size >> log2gran) << log2gran;
	pad = gsize > hbmem_page_size ? gsize - hbmem_page_size : 0;
	ret = _hbmem_region_alloc(size + pad, flags, &r);
	if (ret < 0)
		return _hbmem_err(ret);
	start = (uint8_t *)(uintptr_t)_hbmem_align_up((uintptr_t)r.base, gsize);
	ret = (uint64_t)(start - r.base) > pad ? -ENOMEM :
	      gran_new(&r, start, size, log2gran, log2align, gran);
	if (ret < 0)
		_hbmem_region_free(&r);
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_gran_create_in(void *start, uint64_t size,
					   uint32_t log2gran,
					   uint32_t log2align,
					   hb_mem_gran_t **gran)
{
	struct hbmem_region r;

	if (!gran || !start || log2align > 30 ||
	    ((uintptr_t)start & ((1ull << log2align) - 1)))
		return HB_MEM_ERR_INVALID_PARAMS;
	_hbmem_region_wrap(start, size, &r);
	return _hbmem_err(gran_new(&r, start, size, log2gran, log2align,
				   gran));
}

HBMEM_EXPORT int32_t hb_mem_gran_destroy(hb_mem_gran_t *gran)
{
	if (!gran)
		return HB_MEM_ERR_INVALID_PARAMS;
	_hbmem_gran_fini(gran);
	pthread_mutex_destroy(&gran->lock);
	_hbmem_region_free(&gran->region);
	free(gran);
	return 0;
}

HBMEM_EXPORT void *hb_mem_gran_alloc_at(hb_mem_gran_t *gran, size_t align,
					size_t size, const char *file,
					int line)
{
	if (!gran)
		return _hbmem_null_errno(-EINVAL);
	return _hbmem_gran_alloc(gran, align, size, file, line);
}

HBMEM_EXPORT void *(hb_mem_gran_alloc)(hb_mem_gran_t *gran, size_t size)
{
	return hb_mem_gran_alloc_at(gran, 0, size, NULL, 0);
}

HBMEM_EXPORT void *(hb_mem_gran_alloc_align)(hb_mem_gran_t *gran,
					     size_t align, size_t size)
{
	if (!_hbmem_is_pow2(align))
		return _hbmem_null_errno(-EINVAL);
	return hb_mem_gran_alloc_at(gran, align, size, NULL, 0);
}

HBMEM_EXPORT int32_t hb_mem_gran_free(hb_mem_gran_t *gran, void *ptr)
{
	if (!gran)
		return HB_MEM_ERR_INVALID_PARAMS;
	return _hbmem_err(_hbmem_gran_free(gran, ptr));
}

HBMEM_EXPORT int32_t hb_mem_gran_reserve(hb_mem_gran_t *gran, void *start,
					 uint64_t size)
{
	if (!gran)
		return HB_MEM_ERR_INVALID_PARAMS;
	return _hbmem_err(gran_reserve(gran, start, size));
}

HBMEM_EXPORT int32_t hb_mem_gran_info(hb_mem_gran_t *gran,
				      hb_mem_gran_info_t *info)
{
	if (!gran || !info)
		return HB_MEM_ERR_INVALID_PARAMS;
	_hbmem_gran_stats(gran, info);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_gran_check(hb_mem_gran_t *gran)
{
	if (!gran)
		return HB_MEM_ERR_INVALID_PARAMS;
	return _hbmem_err(gran_validate(gran));
}
