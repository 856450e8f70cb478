// SPDX-License-Identifier: MIT
/*
 * Granule allocator (hb_mem_gran_*) and page allocator (hb_mem_page_*).
 */
#include <stdlib.h>
#include <unistd.h>

#include "alloc-test.h"

static hb_mem_gran_t *gran_new(uint64_t ngran, uint32_t log2gran)
{
	hb_mem_gran_t *g = NULL;

	assert_ok(hb_mem_gran_create(ngran << log2gran, 0, log2gran, 4, &g));
	assert_ok(hb_mem_gran_check(g));
	return g;
}

static hb_mem_gran_info_t info_of(hb_mem_gran_t *g)
{
	hb_mem_gran_info_t info;

	assert_ok(hb_mem_gran_info(g, &info));
	return info;
}

static void test_gran_create_rejects_bad_arguments(int *f, gconstpointer d)
{
	hb_mem_gran_t *g = NULL;
	uint64_t mem[64];

	assert_hb(hb_mem_gran_create(65536, 0, 6, 4, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_gran_create(65536, 0, 3, 2, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_gran_create(65536, 0, 31, 4, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_gran_create(65536, 0, 6, 7, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_gran_create(0, 0, 6, 4, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_gran_create(32, 0, 6, 4, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_gran_create_in((uint8_t *)mem + 4, 256, 4, 3, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_gran_create_in(NULL, 256, 4, 3, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_gran_destroy(NULL), HB_MEM_ERR_INVALID_PARAMS);
	g_assert_null(g);
}

static void test_gran_alloc_rejects_size_zero_huge_and_bad_align(
	int *f, gconstpointer d)
{
	hb_mem_gran_t *g = gran_new(1024, 6);

	assert_null_errno(hb_mem_gran_alloc(g, 0), EINVAL);
	assert_null_errno(hb_mem_gran_alloc(NULL, 64), EINVAL);
	assert_null_errno(hb_mem_gran_alloc(g, 1024 * 64 + 1), ENOMEM);
	assert_null_errno(hb_mem_gran_alloc(g, SIZE_MAX), ENOMEM);
	assert_null_errno(hb_mem_gran_alloc_align(g, 96, 64), EINVAL);
	assert_null_errno(hb_mem_gran_alloc_align(g, 1 << 20, 64), ENOMEM);
	assert_ok(hb_mem_gran_check(g));
	assert_ok(hb_mem_gran_destroy(g));
}

static void test_gran_free_rejects_foreign_pointer_and_double_free(
	int *f, gconstpointer d)
{
	hb_mem_gran_t *g = gran_new(1024, 6);
	uint8_t *p = hb_mem_gran_alloc(g, 64 * 10);
	int on_stack;

	g_assert_nonnull(p);
	assert_hb(hb_mem_gran_free(g, NULL), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_gran_free(g, &on_stack), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_gran_free(g, p + 1), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_gran_free(g, p + 64), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_gran_free(g, p + 64 * 20), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_gran_free(g, p + 64 * 1024), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_gran_free(g, p));
	assert_hb(hb_mem_gran_free(g, p), HB_MEM_ERR_INVALID_VADDR);
	/* reserved granules are not allocations */
	assert_ok(hb_mem_gran_reserve(g, p, 64));
	assert_hb(hb_mem_gran_free(g, p), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_gran_check(g));
	assert_ok(hb_mem_gran_destroy(g));
}

static void test_gran_allocates_any_run_length_first_fit(int *f,
							 gconstpointer d)
{
	hb_mem_gran_t *g = gran_new(1000, 6);	/* not a multiple of 64 */
	uint8_t *a, *b, *c, *all;
	hb_mem_gran_info_t i;

	a = hb_mem_gran_alloc(g, 1);		/* one granule */
	b = hb_mem_gran_alloc(g, 64 * 100);	/* 100 granules, > 32 */
	c = hb_mem_gran_alloc(g, 64 * 3);
	g_assert_true(b == a + 64 && c == b + 64 * 100);
	assert_ok(hb_mem_gran_free(g, b));	/* no size needed */
	i = info_of(g);
	g_assert_cmpuint(i.nfree, ==, 1000 - 4);
	g_assert_cmpuint(i.mxfree, ==, 1000 - 104);
	g_assert_cmpuint(i.allocs, ==, 2);
	/* lowest fit: a 50-granule run goes into b's hole */
	g_assert_true(hb_mem_gran_alloc(g, 64 * 50) == b);
	assert_ok(hb_mem_gran_free(g, b));
	assert_ok(hb_mem_gran_free(g, a));
	assert_ok(hb_mem_gran_free(g, c));
	all = hb_mem_gran_alloc(g, 64 * 1000);	/* the whole region */
	g_assert_nonnull(all);
	assert_null_errno(hb_mem_gran_alloc(g, 1), ENOMEM);
	assert_ok(hb_mem_gran_free(g, all));
	assert_ok(hb_mem_gran_check(g));
	assert_ok(hb_mem_gran_destroy(g));
}

static void test_gran_honours_alignment(int *f, gconstpointer d)
{
	hb_mem_gran_t *g = gran_new(4096, 6);
	size_t align;
	void *p, *q;

	for (align = 1; align <= 65536; align <<= 1) {
		p = hb_mem_gran_alloc(g, 1);	/* misalign the next fit */
		q = hb_mem_gran_alloc_align(g, align, 100);
		g_assert_nonnull(q);
		g_assert_cmpuint((uintptr_t)q % (align < 64 ? 64 : align), ==,
				 0);
		assert_ok(hb_mem_gran_check(g));
		assert_ok(hb_mem_gran_free(g, q));
		assert_ok(hb_mem_gran_free(g, p));
	}
	assert_ok(hb_mem_gran_destroy(g));
}

/*
 * Granules larger than a page over a common buffer (only page aligned):
 * every whole granule of the size asked for is there, and aligned.
 */
static void test_gran_create_granules_above_page_size(int *f,
						      gconstpointer d)
{
	hb_mem_gran_info_t info;
	hb_mem_gran_t *g;
	uint64_t n;
	uint8_t *p;

	for (n = 1; n <= 4; n++) {
		g = NULL;
		assert_ok(hb_mem_gran_create(n << 20, 0, 20, 20, &g));
		assert_ok(hb_mem_gran_info(g, &info));
		g_assert_cmpuint(info.ngranules, ==, n);
		p = hb_mem_gran_alloc(g, (size_t)n << 20);
		g_assert_nonnull(p);
		g_assert_cmpuint((uintptr_t)p % (1u << 20), ==, 0);
		p[0] = 1;
		p[(n << 20) - 1] = 2;
		assert_ok(hb_mem_gran_free(g, p));
		assert_ok(hb_mem_gran_check(g));
		assert_ok(hb_mem_gran_destroy(g));
	}
}

static void test_gran_reserve_keeps_range_out_of_use(int *f, gconstpointer d)
{
	hb_mem_gran_t *g = gran_new(256, 8);
	uint8_t *first = hb_mem_gran_alloc(g, 1), *p;
	hb_mem_gran_info_t i;
	int n = 0;

	assert_hb(hb_mem_gran_reserve(g, first, 256), HB_MEM_ERR_POOL_BUSY);
	assert_hb(hb_mem_gran_reserve(g, first + 256 * 256, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_gran_reserve(g, first, 0), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_gran_reserve(g, first + 256, 1ull << 40),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* granules 10..19, given by a range that is not granule aligned */
	assert_ok(hb_mem_gran_reserve(g, first + 256 * 10 + 7, 256 * 9 + 100));
	i = info_of(g);
	g_assert_cmpuint(i.reserved, ==, 10);
	g_assert_cmpuint(i.nfree, ==, 256 - 11);
	while ((p = hb_mem_gran_alloc(g, 256)) != NULL) {
		g_assert_true(p < first + 256 * 10 || p >= first + 256 * 20);
		n++;
	}
	g_assert_cmpint(n, ==, 256 - 11);
	assert_ok(hb_mem_gran_check(g));
	assert_ok(hb_mem_gran_destroy(g));
}

static void test_gran_exhaustion_then_recovery(int *f, gconstpointer d)
{
	hb_mem_gran_t *g = gran_new(3000, 4);
	GPtrArray *all = g_ptr_array_new();
	void *p;
	guint i;

	while ((p = hb_mem_gran_alloc(g, 16)) != NULL)
		g_ptr_array_add(all, p);
	g_assert_cmpint(errno, ==, ENOMEM);
	g_assert_cmpuint(all->len, ==, 3000);
	g_assert_cmpuint(info_of(g).mxfree, ==, 0);
	for (i = 0; i < all->len; i += 2)
		assert_ok(hb_mem_gran_free(g, all->pdata[i]));
	assert_null_errno(hb_mem_gran_alloc(g, 32), ENOMEM);
	g_assert_cmpuint(info_of(g).mxfree, ==, 1);
	for (i = 1; i < all->len; i += 2)
		assert_ok(hb_mem_gran_free(g, all->pdata[i]));
	g_assert_cmpuint(info_of(g).mxfree, ==, 3000);
	assert_ok(hb_mem_gran_check(g));
	g_ptr_array_free(all, TRUE);
	assert_ok(hb_mem_gran_destroy(g));
}

/* The tree's choice equals a plain first-fit bitmap scan's, always. */
static void test_gran_placement_matches_first_fit_reference(int *f,
							    gconstpointer d)
{
	enum { N = 777 };
	hb_mem_gran_t *g = gran_new(N, 4);
	uint8_t ref[N] = { 0 }, *base = NULL;
	GRand *rng = g_rand_new_with_seed(7);
	void *live[N];
	uint32_t len[N];
	int nlive = 0, step;

	for (step = 0; step < 20000; step++) {
		if (nlive && g_rand_int_range(rng, 0, 2)) {
			int k = g_rand_int_range(rng, 0, nlive);
			uint32_t s = (uint32_t)(((uint8_t *)live[k] - base) / 16);

			assert_ok(hb_mem_gran_free(g, live[k]));
			memset(ref + s, 0, len[k]);
			live[k] = live[--nlive];
			len[k] = len[nlive];
		} else {
			uint32_t n = (uint32_t)g_rand_int_range(rng, 1, 80);
			int expect = -1, s, run = 0;
			uint8_t *p;

			for (s = 0; s < N; s++) {
				run = ref[s] ? 0 : run + 1;
				if (run == (int)n) {
					expect = s - (int)n + 1;
					break;
				}
			}
			p = hb_mem_gran_alloc(g, n * 16);
			if (expect < 0) {
				g_assert_null(p);
				continue;
			}
			g_assert_nonnull(p);
			if (!base)
				base = p - expect * 16;
			g_assert_cmpint((int)((p - base) / 16), ==, expect);
			memset(ref + expect, 1, n);
			live[nlive] = p;
			len[nlive++] = n;
		}
	}
	assert_ok(hb_mem_gran_check(g));
	g_rand_free(rng);
	assert_ok(hb_mem_gran_destroy(g));
}

/* ---- stress ----------------------------------------------------------- */

static void *ops_alloc(void *ctx, size_t size)
{
	return hb_mem_gran_alloc(ctx, size);
}

static int32_t ops_free(void *ctx, void *p)
{
	return hb_mem_gran_free(ctx, p);
}

static int32_t ops_check(void *ctx)
{
	return hb_mem_gran_check(ctx);
}

static uint64_t ops_largest(void *ctx)
{
	return info_of(ctx).mxfree;
}

static struct stress_ops gran_ops(hb_mem_gran_t *g, size_t max)
{
	return (struct stress_ops){
		.ctx = g, .alloc = ops_alloc, .free = ops_free,
		.check = ops_check, .largest = ops_largest, .align = 64,
		.min_size = 1, .max_size = max,
	};
}

static void stress_at(int target)
{
	hb_mem_gran_t *g = gran_new(1024, 6);
	struct stress_ops ops = gran_ops(g, 1024);
	struct stress_result res;

	stress_fill(&ops, 1024 * 64, target, 4096, 42, &res);
	g_assert_cmpuint(res.allocs_ok, >, 0);
	if (target == 100)
		g_assert_cmpuint(res.allocs_ok, <, res.allocs_tried);
	g_assert_cmpuint(info_of(g).mxfree, ==, 1024);
	assert_ok(hb_mem_gran_destroy(g));
}

static void test_gran_stress_half_full_validated_every_op(int *f,
							  gconstpointer d)
{
	stress_at(50);
}

static void test_gran_stress_full_validated_every_op(int *f, gconstpointer d)
{
	stress_at(100);
}

static void test_gran_four_threads_keep_largest_free_run(int *f,
							 gconstpointer d)
{
	hb_mem_gran_t *g = gran_new(65536, 6);
	struct stress_ops ops = gran_ops(g, 256);

	stress_threads(&ops, 4, 20000);
	g_assert_cmpuint(info_of(g).allocs, ==, 0);
	assert_ok(hb_mem_gran_destroy(g));
}

/* ---- pages ------------------------------------------------------------ */

static void test_page_pool_rejects_bad_input(int *f, gconstpointer d)
{
	hb_mem_page_pool_t *pp = NULL;
	int on_stack;
	uint64_t phys;

	assert_hb(hb_mem_page_pool_create(0, 0, &pp), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_page_pool_create(16, 0, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_page_pool_create(16, 0, &pp));
	assert_null_errno(hb_mem_page_alloc(pp, 0), EINVAL);
	assert_null_errno(hb_mem_page_alloc(pp, 17), ENOMEM);
	assert_hb(hb_mem_page_free(pp, &on_stack), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_page_phys(pp, &on_stack, &phys),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_page_pool_destroy(pp));
}

static void test_page_pool_hands_out_aligned_page_runs(int *f,
						      gconstpointer d)
{
	long page = sysconf(_SC_PAGESIZE);
	hb_mem_page_pool_t *pp = NULL;
	hb_mem_gran_info_t i;
	uint8_t *a, *b;
	uint64_t pa, pb;

	assert_ok(hb_mem_page_pool_create(64, HB_MEM_USAGE_CACHED, &pp));
	a = hb_mem_page_alloc(pp, 1);
	b = hb_mem_page_alloc(pp, 40);
	g_assert_nonnull(a);
	g_assert_nonnull(b);
	g_assert_cmpuint((uintptr_t)a % (uintptr_t)page, ==, 0);
	g_assert_true(b == a + page);
	memset(b, 1, 40 * (size_t)page);
	assert_ok(hb_mem_page_phys(pp, a, &pa));
	assert_ok(hb_mem_page_phys(pp, b, &pb));
	if (pa)
		g_assert_cmpuint(pb - pa, ==, (uint64_t)page);
	assert_null_errno(hb_mem_page_alloc(pp, 24), ENOMEM);
	assert_ok(hb_mem_page_pool_info(pp, &i));
	g_assert_cmpuint(i.ngranules, ==, 64);
	g_assert_cmpuint(i.nfree, ==, 23);
	assert_ok(hb_mem_page_free(pp, b));
	assert_hb(hb_mem_page_free(pp, b), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_page_free(pp, a));
	assert_ok(hb_mem_page_pool_destroy(pp));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_test("/gran/create/rejects-bad-arguments",
		 test_gran_create_rejects_bad_arguments);
	add_test("/gran/alloc/rejects-size-zero-huge-and-bad-align",
		 test_gran_alloc_rejects_size_zero_huge_and_bad_align);
	add_test("/gran/free/rejects-foreign-pointer-and-double-free",
		 test_gran_free_rejects_foreign_pointer_and_double_free);
	add_test("/gran/alloc/any-run-length-first-fit-sizeless-free",
		 test_gran_allocates_any_run_length_first_fit);
	add_test("/gran/alloc/honours-alignment",
		 test_gran_honours_alignment);
	add_test("/gran/create/granules-above-page-size",
		 test_gran_create_granules_above_page_size);
	add_test("/gran/reserve/keeps-range-out-of-use",
		 test_gran_reserve_keeps_range_out_of_use);
	add_test("/gran/exhaustion/fails-then-recovers-fully",
		 test_gran_exhaustion_then_recovery);
	add_test("/gran/placement/matches-first-fit-reference",
		 test_gran_placement_matches_first_fit_reference);
	add_test("/gran/stress/half-full-validated-every-op",
		 test_gran_stress_half_full_validated_every_op);
	add_test("/gran/stress/full-validated-every-op",
		 test_gran_stress_full_validated_every_op);
	add_test("/gran/threads/four-threads-keep-largest-free-run",
		 test_gran_four_threads_keep_largest_free_run);
	add_test("/page/pool/rejects-bad-input",
		 test_page_pool_rejects_bad_input);
	add_test("/page/pool/hands-out-aligned-page-runs",
		 test_page_pool_hands_out_aligned_page_runs);
	return g_test_run();
}
