// SPDX-License-Identifier: MIT
/*
 * Heaps by attribute (hb_mem_mheap_*): which region each allocation lands
 * in, fallback chains, the no-region case, policies, statistics, stress,
 * and the vendor heaps expressed as capacity regions.
 */
#include "alloc-test.h"
#include "alloc/alloc.h"

#define CACHEABLE HB_MEM_MHEAP_ATTR_CACHEABLE
#define NON_CACHEABLE HB_MEM_MHEAP_ATTR_NON_CACHEABLE

static hb_mem_mheap_t *mheap_new(enum hb_mem_mheap_policy policy)
{
	hb_mem_mheap_t *mh = NULL;

	assert_ok(hb_mem_mheap_create(policy, &mh));
	return mh;
}

static int32_t add(hb_mem_mheap_t *mh, const char *name, uint32_t attr,
		   uint64_t size)
{
	int32_t id = -1;

	assert_ok(hb_mem_mheap_add_region(mh, name, attr, NULL, size,
					  attr == NON_CACHEABLE ? 0
						: HB_MEM_USAGE_CACHED, &id));
	return id;
}

static hb_mem_mheap_region_info_t info_of(hb_mem_mheap_t *mh, int32_t id)
{
	hb_mem_mheap_region_info_t i;

	assert_ok(hb_mem_mheap_region_info(mh, id, &i));
	return i;
}

static void test_mheap_rejects_bad_arguments(int *f, gconstpointer d)
{
	hb_mem_mheap_t *mh = NULL;
	uint32_t chain[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	uint8_t mem[4096];
	int32_t id;

	assert_hb(hb_mem_mheap_create(HB_MEM_MHEAP_FIRST, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mheap_create(7, &mh), HB_MEM_ERR_INVALID_PARAMS);
	mh = mheap_new(HB_MEM_MHEAP_FIRST);
	assert_hb(hb_mem_mheap_add_region(mh, "x", HB_MEM_MHEAP_ATTR_MAX, mem,
					  sizeof(mem), 0, &id),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mheap_add_region(mh, "x", 0, mem, 0, 0, &id),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mheap_add_region(mh, "x", 0, mem, 8, 0, &id),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_mheap_add_region(mh, "a", 0, mem, 2048, 0, &id));
	/* overlapping an existing region */
	assert_hb(hb_mem_mheap_add_region(mh, "b", 1, mem + 1024, 2048, 0, &id),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mheap_set_fallback(mh, 0, chain, 9),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mheap_set_fallback(mh, 1, chain, 2),
		  HB_MEM_ERR_INVALID_PARAMS);	/* 1 -> 1: itself */
	assert_hb(hb_mem_mheap_set_fallback(mh, HB_MEM_MHEAP_ATTR_MAX, chain, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mheap_set_fallback(mh, 0, NULL, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mheap_region_info(mh, 5, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mheap_destroy(NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_mheap_destroy(mh));
}

static void test_mheap_alloc_rejects_size_zero_attr_and_align(int *f,
							      gconstpointer d)
{
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_FIRST);

	add(mh, "c", CACHEABLE, 65536);
	assert_null_errno(hb_mem_mheap_alloc(mh, CACHEABLE, 0), EINVAL);
	assert_null_errno(hb_mem_mheap_alloc(NULL, CACHEABLE, 16), EINVAL);
	assert_null_errno(hb_mem_mheap_alloc(mh, HB_MEM_MHEAP_ATTR_MAX, 16),
			  EINVAL);
	assert_null_errno(hb_mem_mheap_aligned_alloc(mh, CACHEABLE, 3, 16),
			  EINVAL);
	assert_null_errno(hb_mem_mheap_alloc(mh, CACHEABLE, SIZE_MAX), ENOMEM);
	assert_ok(hb_mem_mheap_destroy(mh));
}

static void test_mheap_no_region_for_attribute_is_enoent(int *f,
							 gconstpointer d)
{
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_FIRST);
	uint32_t chain[] = { HB_MEM_MHEAP_ATTR_USER + 1 };

	assert_null_errno(hb_mem_mheap_alloc(mh, CACHEABLE, 64), ENOENT);
	add(mh, "c", CACHEABLE, 65536);
	assert_null_errno(hb_mem_mheap_alloc(mh, NON_CACHEABLE, 64), ENOENT);
	/* a chain to attributes without regions is still "no region" */
	assert_ok(hb_mem_mheap_set_fallback(mh, NON_CACHEABLE, chain, 1));
	assert_null_errno(hb_mem_mheap_alloc(mh, NON_CACHEABLE, 64), ENOENT);
	assert_ok(hb_mem_mheap_destroy(mh));
}

/* The Zephyr shared multi-heap layout: small and big cacheable regions,
 * one non-cacheable. */
static void test_mheap_allocation_lands_in_region_by_attribute(
	int *f, gconstpointer d)
{
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_FIRST);
	int32_t res0 = add(mh, "res0", CACHEABLE, 4096);
	int32_t res1 = add(mh, "res1", NON_CACHEABLE, 65536);
	int32_t res2 = add(mh, "res2", CACHEABLE, 65536);
	void *a = hb_mem_mheap_alloc(mh, CACHEABLE, 0x40);
	void *b = hb_mem_mheap_alloc(mh, CACHEABLE, 0x80);
	void *c = hb_mem_mheap_alloc(mh, CACHEABLE, 0x1200);
	void *n1 = hb_mem_mheap_alloc(mh, NON_CACHEABLE, 0x100);
	void *n2 = hb_mem_mheap_alloc(mh, NON_CACHEABLE, 0x100);

	g_assert_cmpint(hb_mem_mheap_region_of(mh, a), ==, res0);
	g_assert_cmpint(hb_mem_mheap_region_of(mh, b), ==, res0);
	g_assert_cmpint(hb_mem_mheap_region_of(mh, c), ==, res2);
	g_assert_cmpint(hb_mem_mheap_region_of(mh, n1), ==, res1);
	g_assert_cmpint(hb_mem_mheap_region_of(mh, n2), ==, res1);
	/* bigger than any cacheable region: no fallback to non-cacheable */
	assert_null_errno(hb_mem_mheap_alloc(mh, CACHEABLE, 0x10000), ENOMEM);
	g_assert_cmpuint(info_of(mh, res0).allocs, ==, 2);
	g_assert_cmpuint(info_of(mh, res1).allocs, ==, 2);
	g_assert_cmpuint(info_of(mh, res2).allocs, ==, 1);
	assert_ok(hb_mem_mheap_free(mh, a));
	assert_ok(hb_mem_mheap_free(mh, b));
	assert_ok(hb_mem_mheap_free(mh, c));
	assert_ok(hb_mem_mheap_free(mh, n1));
	assert_ok(hb_mem_mheap_free(mh, n2));
	g_assert_cmpuint(info_of(mh, res0).allocs, ==, 0);
	assert_ok(hb_mem_mheap_check(mh));
	assert_ok(hb_mem_mheap_destroy(mh));
}

static void test_mheap_falls_back_along_the_chain(int *f, gconstpointer d)
{
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_FIRST);
	uint32_t chain[] = { HB_MEM_MHEAP_ATTR_USER, CACHEABLE };
	int32_t nc = add(mh, "nc", NON_CACHEABLE, 4096);
	int32_t c = add(mh, "c", CACHEABLE, 65536);
	void *p, *q, *r;

	p = hb_mem_mheap_alloc(mh, NON_CACHEABLE, 3000);
	g_assert_cmpint(hb_mem_mheap_region_of(mh, p), ==, nc);
	/* full, and no chain yet */
	assert_null_errno(hb_mem_mheap_alloc(mh, NON_CACHEABLE, 3000), ENOMEM);
	/* USER has no region: skipped; CACHEABLE serves it */
	assert_ok(hb_mem_mheap_set_fallback(mh, NON_CACHEABLE, chain, 2));
	q = hb_mem_mheap_alloc(mh, NON_CACHEABLE, 3000);
	g_assert_cmpint(hb_mem_mheap_region_of(mh, q), ==, c);
	g_assert_cmpuint(info_of(mh, c).fallback_allocs, ==, 1);
	g_assert_cmpuint(info_of(mh, nc).fallback_allocs, ==, 0);
	/* the preferred region is used again once it has room */
	assert_ok(hb_mem_mheap_free(mh, p));
	r = hb_mem_mheap_alloc(mh, NON_CACHEABLE, 3000);
	g_assert_cmpint(hb_mem_mheap_region_of(mh, r), ==, nc);
	/* never split: bigger than every region */
	assert_null_errno(hb_mem_mheap_alloc(mh, NON_CACHEABLE, 65536), ENOMEM);
	assert_ok(hb_mem_mheap_set_fallback(mh, NON_CACHEABLE, NULL, 0));
	assert_null_errno(hb_mem_mheap_alloc(mh, NON_CACHEABLE, 3000), ENOMEM);
	assert_ok(hb_mem_mheap_free(mh, q));
	assert_ok(hb_mem_mheap_free(mh, r));
	assert_ok(hb_mem_mheap_destroy(mh));
}

static void test_mheap_policies_choose_by_free_space(int *f, gconstpointer d)
{
	hb_mem_mheap_t *most = mheap_new(HB_MEM_MHEAP_MOST_FREE);
	hb_mem_mheap_t *best = mheap_new(HB_MEM_MHEAP_BEST_FIT);
	int32_t m_small = add(most, "small", CACHEABLE, 16384);
	int32_t m_big = add(most, "big", CACHEABLE, 65536);
	int32_t b_small = add(best, "small", CACHEABLE, 16384);
	int32_t b_big = add(best, "big", CACHEABLE, 65536);
	void *p[8];
	int i;

	/* most-free: the big region until it has less free than the small */
	for (i = 0; i < 8; i++) {
		p[i] = hb_mem_mheap_alloc(most, CACHEABLE, 8000);
		g_assert_nonnull(p[i]);
	}
	g_assert_cmpint(hb_mem_mheap_region_of(most, p[0]), ==, m_big);
	g_assert_cmpuint(info_of(most, m_small).allocs, >, 0);
	g_assert_cmpuint(info_of(most, m_big).allocs, >,
			 info_of(most, m_small).allocs);
	for (i = 0; i < 8; i++)
		assert_ok(hb_mem_mheap_free(most, p[i]));
	/* best-fit: the small region while it fits, then the big one */
	p[0] = hb_mem_mheap_alloc(best, CACHEABLE, 8000);
	g_assert_cmpint(hb_mem_mheap_region_of(best, p[0]), ==, b_small);
	p[1] = hb_mem_mheap_alloc(best, CACHEABLE, 12000);
	g_assert_cmpint(hb_mem_mheap_region_of(best, p[1]), ==, b_big);
	assert_ok(hb_mem_mheap_free(best, p[0]));
	assert_ok(hb_mem_mheap_free(best, p[1]));
	assert_ok(hb_mem_mheap_destroy(most));
	assert_ok(hb_mem_mheap_destroy(best));
}

static void test_mheap_free_returns_to_owning_region(int *f, gconstpointer d)
{
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_FIRST);
	int32_t ids[6], i;
	void *p[6];
	int on_stack;

	for (i = 0; i < 6; i++)
		ids[i] = add(mh, "r", HB_MEM_MHEAP_ATTR_USER + (uint32_t)i,
			     8192);
	for (i = 5; i >= 0; i--) {
		p[i] = hb_mem_mheap_alloc(mh, HB_MEM_MHEAP_ATTR_USER +
					  (uint32_t)i, 100);
		g_assert_cmpint(hb_mem_mheap_region_of(mh, p[i]), ==, ids[i]);
	}
	assert_hb(hb_mem_mheap_free(mh, &on_stack), HB_MEM_ERR_INVALID_VADDR);
	g_assert_cmpint(hb_mem_mheap_region_of(mh, &on_stack), ==, -1);
	assert_hb(hb_mem_mheap_free(mh, (uint8_t *)p[2] + 16),
		  HB_MEM_ERR_INVALID_VADDR);
	for (i = 0; i < 6; i++) {
		assert_ok(hb_mem_mheap_free(mh, p[i]));
		g_assert_cmpuint(info_of(mh, ids[i]).allocs, ==, 0);
	}
	assert_hb(hb_mem_mheap_free(mh, p[3]), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_mheap_free(mh, NULL));
	assert_ok(hb_mem_mheap_destroy(mh));
}

static void test_mheap_region_statistics(int *f, gconstpointer d)
{
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_FIRST);
	int32_t id = add(mh, "stats", CACHEABLE, 65536), n;
	hb_mem_mheap_region_info_t a, b;
	void *p;

	assert_ok(hb_mem_mheap_region_count(mh, &n));
	g_assert_cmpint(n, ==, 1);
	a = info_of(mh, id);
	g_assert_cmpstr(a.name, ==, "stats");
	g_assert_cmpuint(a.attr, ==, CACHEABLE);
	g_assert_cmpuint(a.size, ==, 65536);
	g_assert_cmpuint(a.used, ==, 0);
	p = hb_mem_mheap_alloc(mh, CACHEABLE, 1000);
	g_assert_true((uint8_t *)p >= (uint8_t *)a.base &&
		      (uint8_t *)p < (uint8_t *)a.base + a.size);
	b = info_of(mh, id);
	g_assert_cmpuint(b.used, ==, 1008 + 16);
	g_assert_cmpuint(b.allocs, ==, 1);
	g_assert_cmpuint(b.free, ==, a.free - b.used);
	assert_ok(hb_mem_mheap_free(mh, p));
	g_assert_cmpuint(info_of(mh, id).largest_free, ==, a.largest_free);
	assert_ok(hb_mem_mheap_destroy(mh));
}

static void test_mheap_aligned_alloc_aligns_every_pointer(int *f,
							  gconstpointer d)
{
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_FIRST);
	size_t align;
	void *p;

	add(mh, "c", CACHEABLE, 1 << 20);
	for (align = 1; align <= 65536; align <<= 1) {
		p = hb_mem_mheap_aligned_alloc(mh, CACHEABLE, align, 24);
		g_assert_nonnull(p);
		g_assert_cmpuint((uintptr_t)p % align, ==, 0);
		assert_ok(hb_mem_mheap_check(mh));
		assert_ok(hb_mem_mheap_free(mh, p));
	}
	assert_ok(hb_mem_mheap_destroy(mh));
}

/* ---- stress: two cacheable regions, one multi-heap -------------------- */

static void *ops_alloc(void *ctx, size_t size)
{
	return hb_mem_mheap_alloc(ctx, CACHEABLE, size);
}

static int32_t ops_free(void *ctx, void *p)
{
	return hb_mem_mheap_free(ctx, p);
}

static int32_t ops_check(void *ctx)
{
	return hb_mem_mheap_check(ctx);
}

static uint64_t ops_largest(void *ctx)
{
	return info_of(ctx, 0).largest_free + info_of(ctx, 1).largest_free;
}

static struct stress_ops mheap_ops(hb_mem_mheap_t *mh, size_t max)
{
	return (struct stress_ops){
		.ctx = mh, .alloc = ops_alloc, .free = ops_free,
		.check = ops_check, .largest = ops_largest, .align = 16,
		.min_size = 1, .max_size = max,
	};
}

static void stress_at(int target)
{
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_MOST_FREE);
	struct stress_ops ops = mheap_ops(mh, 1024);
	struct stress_result res;
	uint64_t before;

	add(mh, "a", CACHEABLE, 32768);
	add(mh, "b", CACHEABLE, 32768);
	before = ops_largest(mh);
	stress_fill(&ops, 65536, target, 8192, 42, &res);
	if (target == 100)
		g_assert_cmpuint(res.allocs_ok, <, res.allocs_tried);
	g_assert_cmpuint(ops_largest(mh), ==, before);
	assert_ok(hb_mem_mheap_destroy(mh));
}

static void test_mheap_stress_half_full_validated_every_op(int *f,
							   gconstpointer d)
{
	stress_at(50);
}

static void test_mheap_stress_full_validated_every_op(int *f, gconstpointer d)
{
	stress_at(100);
}

static void test_mheap_four_threads_keep_largest_free_block(int *f,
							    gconstpointer d)
{
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_MOST_FREE);
	struct stress_ops ops = mheap_ops(mh, 256);

	add(mh, "a", CACHEABLE, 1 << 20);
	add(mh, "b", CACHEABLE, 1 << 20);
	stress_threads(&ops, 4, 20000);
	assert_ok(hb_mem_mheap_destroy(mh));
}

/*
 * heap.c's vendor heaps as capacity regions: attribute = heap, chain =
 * the board's fallback order. The same calls that serve addresses serve
 * the accounting.
 */
enum { ION_CMA, CARVEOUT, CMA_RESERVED, SRAM, UNCACHE };

static void test_mheap_expresses_vendor_heaps_as_capacity_regions(
	int *f, gconstpointer d)
{
	static const uint32_t ion_chain[] = { CMA_RESERVED };
	static const uint32_t carve_chain[] = { CMA_RESERVED, ION_CMA };
	static const uint32_t cmar_chain[] = { CARVEOUT, ION_CMA };
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_FIRST);
	int id, ion, carve, cmar, sram, unc;
	const uint64_t M = 1 << 20;

	g_assert_cmpint(_hbmem_mheap_add_capacity(mh, "ion_cma", ION_CMA,
						  8 * M, &ion), ==, 0);
	g_assert_cmpint(_hbmem_mheap_add_capacity(mh, "carveout", CARVEOUT,
						  4 * M, &carve), ==, 0);
	g_assert_cmpint(_hbmem_mheap_add_capacity(mh, "cma_reserved",
						  CMA_RESERVED, 2 * M, &cmar),
			==, 0);
	g_assert_cmpint(_hbmem_mheap_add_capacity(mh, "sram", SRAM, M, &sram),
			==, 0);
	g_assert_cmpint(_hbmem_mheap_add_capacity(mh, "uncache", UNCACHE, M,
						  &unc), ==, 0);
	assert_ok(hb_mem_mheap_set_fallback(mh, ION_CMA, ion_chain, 1));
	assert_ok(hb_mem_mheap_set_fallback(mh, CARVEOUT, carve_chain, 2));
	assert_ok(hb_mem_mheap_set_fallback(mh, CMA_RESERVED, cmar_chain, 2));
	/* carveout first, then cma_reserved, then ion_cma */
	g_assert_cmpint(_hbmem_mheap_reserve(mh, CARVEOUT, 3 * M, &id), ==, 0);
	g_assert_cmpint(id, ==, carve);
	g_assert_cmpint(_hbmem_mheap_reserve(mh, CARVEOUT, 2 * M, &id), ==, 0);
	g_assert_cmpint(id, ==, cmar);
	g_assert_cmpint(_hbmem_mheap_reserve(mh, CARVEOUT, 2 * M, &id), ==, 0);
	g_assert_cmpint(id, ==, ion);
	/* sram and uncache have no fallback */
	g_assert_cmpint(_hbmem_mheap_reserve(mh, SRAM, M, &id), ==, 0);
	g_assert_cmpint(id, ==, sram);
	g_assert_cmpint(_hbmem_mheap_reserve(mh, SRAM, 1, &id), ==, -ENOMEM);
	g_assert_cmpint(_hbmem_mheap_reserve(mh, UNCACHE, 2 * M, &id), ==,
			-ENOMEM);
	g_assert_cmpint(_hbmem_mheap_reserve(mh, HB_MEM_MHEAP_ATTR_USER, 1,
					     &id), ==, -ENOENT);
	g_assert_cmpuint(info_of(mh, ion).fallback_allocs, ==, 1);
	g_assert_cmpuint(info_of(mh, ion).used, ==, 2 * M);
	/* ion_cma -> cma_reserved, once cma_reserved has room again */
	g_assert_cmpint(_hbmem_mheap_reserve(mh, ION_CMA, 6 * M, &id), ==, 0);
	g_assert_cmpint(id, ==, ion);
	g_assert_cmpint(_hbmem_mheap_reserve(mh, ION_CMA, 2 * M, &id), ==,
			-ENOMEM);
	_hbmem_mheap_unreserve(mh, cmar, 2 * M);
	g_assert_cmpint(_hbmem_mheap_reserve(mh, ION_CMA, 2 * M, &id), ==, 0);
	g_assert_cmpint(id, ==, cmar);
	g_assert_cmpuint(info_of(mh, cmar).used, ==, 2 * M);
	assert_ok(hb_mem_mheap_destroy(mh));
}

/* A backend that is full in the first @full regions it is asked about. */
struct full_backend {
	int full;
	int asked;
	int last;
};

static int full_backend_try(int id, void *ctx)
{
	struct full_backend *b = ctx;

	b->last = id;
	return b->asked++ < b->full ? -ENOMEM : 0;
}

static int failing_backend_try(int id, void *ctx)
{
	(void)id;
	(void)ctx;
	return -EIO;
}

static void test_mheap_capacity_follows_chain_when_backend_is_full(
	int *f, gconstpointer d)
{
	static const uint32_t carve_chain[] = { CMA_RESERVED, ION_CMA };
	hb_mem_mheap_t *mh = mheap_new(HB_MEM_MHEAP_FIRST);
	struct full_backend b = { .full = 1 };
	int id, ion, carve, cmar;
	const uint64_t M = 1 << 20;

	g_assert_cmpint(_hbmem_mheap_add_capacity(mh, "ion_cma", ION_CMA, 8 * M,
						  &ion), ==, 0);
	g_assert_cmpint(_hbmem_mheap_add_capacity(mh, "carveout", CARVEOUT,
						  8 * M, &carve), ==, 0);
	g_assert_cmpint(_hbmem_mheap_add_capacity(mh, "cma_reserved",
						  CMA_RESERVED, 8 * M, &cmar),
			==, 0);
	assert_ok(hb_mem_mheap_set_fallback(mh, CARVEOUT, carve_chain, 2));
	/* carveout has room but its backend is full: cma_reserved serves */
	g_assert_cmpint(_hbmem_mheap_reserve_try(mh, CARVEOUT, M,
						 full_backend_try, &b, &id),
			==, 0);
	g_assert_cmpint(id, ==, cmar);
	g_assert_cmpint(b.asked, ==, 2);
	g_assert_cmpuint(info_of(mh, carve).used, ==, 0);
	g_assert_cmpuint(info_of(mh, cmar).used, ==, M);
	/* every backend full: ENOMEM, and nothing charged */
	b.asked = 0;
	b.full = 3;
	g_assert_cmpint(_hbmem_mheap_reserve_try(mh, CARVEOUT, M,
						 full_backend_try, &b, &id),
			==, -ENOMEM);
	g_assert_cmpuint(info_of(mh, ion).used, ==, 0);
	g_assert_cmpuint(info_of(mh, cmar).used, ==, M);
	/* another failure ends the search with it */
	g_assert_cmpint(_hbmem_mheap_reserve_try(mh, CARVEOUT, M,
						 failing_backend_try, NULL, &id),
			==, -EIO);
	g_assert_cmpuint(info_of(mh, carve).used, ==, 0);
	assert_ok(hb_mem_mheap_destroy(mh));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_test("/mheap/create/rejects-bad-arguments",
		 test_mheap_rejects_bad_arguments);
	add_test("/mheap/alloc/rejects-size-zero-bad-attr-and-align",
		 test_mheap_alloc_rejects_size_zero_attr_and_align);
	add_test("/mheap/alloc/no-region-for-attribute-is-enoent",
		 test_mheap_no_region_for_attribute_is_enoent);
	add_test("/mheap/alloc/lands-in-region-by-attribute",
		 test_mheap_allocation_lands_in_region_by_attribute);
	add_test("/mheap/alloc/falls-back-along-the-chain",
		 test_mheap_falls_back_along_the_chain);
	add_test("/mheap/policy/chooses-by-free-space",
		 test_mheap_policies_choose_by_free_space);
	add_test("/mheap/free/returns-to-owning-region",
		 test_mheap_free_returns_to_owning_region);
	add_test("/mheap/info/per-region-statistics",
		 test_mheap_region_statistics);
	add_test("/mheap/aligned-alloc/aligns-every-pointer",
		 test_mheap_aligned_alloc_aligns_every_pointer);
	add_test("/mheap/stress/half-full-validated-every-op",
		 test_mheap_stress_half_full_validated_every_op);
	add_test("/mheap/stress/full-validated-every-op",
		 test_mheap_stress_full_validated_every_op);
	add_test("/mheap/threads/four-threads-keep-largest-free-block",
		 test_mheap_four_threads_keep_largest_free_block);
	add_test("/mheap/vendor-heaps/expressed-as-capacity-regions",
		 test_mheap_expresses_vendor_heaps_as_capacity_regions);
	add_test("/mheap/vendor-heaps/chain-goes-on-when-backend-is-full",
		 test_mheap_capacity_follows_chain_when_backend_is_full);
	return g_test_run();
}
