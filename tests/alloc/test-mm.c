// SPDX-License-Identifier: MIT
/*
 * Heap instances (hb_mem_mm_*): bad input first, then alignment,
 * exhaustion, realloc, statistics, the stress runs and threads.
 */
#include <stdlib.h>

#include "alloc-test.h"

#define HEAP_SIZE (1u << 20)

static hb_mem_mm_t *heap_new(uint64_t size)
{
	hb_mem_mm_t *h = NULL;

	assert_ok(hb_mem_mm_create("test", size, HB_MEM_USAGE_CACHED, &h));
	g_assert_nonnull(h);
	assert_ok(hb_mem_mm_check(h));
	return h;
}

static uint64_t largest(hb_mem_mm_t *h)
{
	hb_mem_mm_info_t info;

	assert_ok(hb_mem_mm_info(h, &info));
	return info.largest_free;
}

static void test_mm_create_rejects_bad_arguments(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = NULL;
	char small[16];

	assert_hb(hb_mem_mm_create("x", HEAP_SIZE, 0, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mm_create("x", 0, 0, &h), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mm_create("x", 1ull << 50, 0, &h),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mm_create_in("x", NULL, 4096, &h),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mm_create_in("x", small, sizeof(small), &h),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mm_destroy(NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mm_free(NULL, small), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_mm_info(NULL, NULL), HB_MEM_ERR_INVALID_PARAMS);
	g_assert_null(h);
}

static void test_mm_create_without_module_fails(void)
{
	hb_mem_mm_t *h = NULL;

	assert_hb(hb_mem_mm_create("x", HEAP_SIZE, 0, &h),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_mm_malloc_rejects_size_zero_and_huge(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new(HEAP_SIZE);

	assert_null_errno(hb_mem_mm_malloc(h, 0), EINVAL);
	assert_null_errno(hb_mem_mm_malloc(NULL, 16), EINVAL);
	assert_null_errno(hb_mem_mm_malloc(h, HEAP_SIZE), ENOMEM);
	assert_null_errno(hb_mem_mm_malloc(h, SIZE_MAX), ENOMEM);
	assert_null_errno(hb_mem_mm_malloc(h, SIZE_MAX - 8), ENOMEM);
	assert_null_errno(hb_mem_mm_memalign(h, 48, 64), EINVAL);
	assert_null_errno(hb_mem_mm_memalign(h, 0, 64), EINVAL);
	assert_null_errno(hb_mem_mm_memalign(h, 1ull << 40, 64), ENOMEM);
	assert_ok(hb_mem_mm_check(h));
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_mm_free_rejects_foreign_pointer_and_double_free(
	int *f, gconstpointer d)
{
	hb_mem_mm_t *a = heap_new(HEAP_SIZE), *b = heap_new(HEAP_SIZE);
	uint8_t *p = hb_mem_mm_malloc(a, 100), *q;
	int on_stack;

	g_assert_nonnull(p);
	assert_hb(hb_mem_mm_free(b, p), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_mm_free(a, &on_stack), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_mm_free(a, p + 16), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_mm_free(a, p + 1), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_mm_free(a, NULL));
	assert_ok(hb_mem_mm_free(a, p));
	assert_hb(hb_mem_mm_free(a, p), HB_MEM_ERR_INVALID_VADDR);
	/* a block merged into its neighbours is still refused */
	p = hb_mem_mm_malloc(a, 64);
	q = hb_mem_mm_malloc(a, 64);
	assert_ok(hb_mem_mm_free(a, q));
	assert_ok(hb_mem_mm_free(a, p));
	assert_hb(hb_mem_mm_free(a, q), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_mm_free(a, p), HB_MEM_ERR_INVALID_VADDR);
	g_assert_null(hb_mem_mm_realloc(a, p, 10));
	g_assert_cmpuint(hb_mem_mm_usable_size(a, p), ==, 0);
	assert_ok(hb_mem_mm_check(a));
	assert_ok(hb_mem_mm_check(b));
	assert_ok(hb_mem_mm_destroy(a));
	assert_ok(hb_mem_mm_destroy(b));
}

static void test_mm_returns_aligned_pointers_inside_region(int *f,
							   gconstpointer d)
{
	uint8_t *region = g_malloc(HEAP_SIZE + 8);
	hb_mem_mm_t *h = NULL;
	size_t align, size;
	void *p[64];
	int n = 0, i;

	/* an odd start: the heap aligns itself */
	assert_ok(hb_mem_mm_create_in("odd", region + 3, HEAP_SIZE, &h));
	for (align = 1; align <= 8192; align <<= 1) {
		for (size = 1; size < 3000; size = size * 3 + 1) {
			uint8_t *q = hb_mem_mm_memalign(h, align, size);

			g_assert_nonnull(q);
			g_assert_cmpuint((uintptr_t)q % (align < 16 ? 16 : align),
					 ==, 0);
			g_assert_true(q >= region + 3 &&
				      q + size <= region + 3 + HEAP_SIZE);
			g_assert_cmpuint(hb_mem_mm_usable_size(h, q), >=, size);
			memset(q, 0x5A, size);
			assert_ok(hb_mem_mm_check(h));
			if (n < 64)
				p[n++] = q;
			else
				assert_ok(hb_mem_mm_free(h, q));
		}
	}
	for (i = 0; i < n; i++)
		assert_ok(hb_mem_mm_free(h, p[i]));
	assert_ok(hb_mem_mm_check(h));
	assert_ok(hb_mem_mm_destroy(h));
	g_free(region);
}

static void test_mm_exhaustion_then_full_recovery(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new(64 * 1024);
	uint64_t before = largest(h);
	hb_mem_mm_info_t info;
	GPtrArray *all = g_ptr_array_new();
	void *p;
	guint i;

	while ((p = hb_mem_mm_malloc(h, 48)) != NULL)
		g_ptr_array_add(all, p);
	g_assert_cmpint(errno, ==, ENOMEM);
	assert_ok(hb_mem_mm_info(h, &info));
	g_assert_cmpuint(info.allocs, ==, all->len);
	/* 48 B costs a 64 B block: at most one block's worth is left */
	g_assert_cmpuint(info.free, <, 64);
	g_assert_cmpuint(all->len, >=, (64 * 1024 - 64) / 64);
	assert_ok(hb_mem_mm_check(h));
	for (i = 0; i < all->len; i += 2)
		assert_ok(hb_mem_mm_free(h, all->pdata[i]));
	/* freed every other block: nothing bigger than one fits */
	assert_null_errno(hb_mem_mm_malloc(h, 100), ENOMEM);
	for (i = 1; i < all->len; i += 2)
		assert_ok(hb_mem_mm_free(h, all->pdata[i]));
	assert_ok(hb_mem_mm_check(h));
	g_assert_cmpuint(largest(h), ==, before);
	/* the whole arena in one allocation */
	p = hb_mem_mm_malloc(h, before);
	g_assert_nonnull(p);
	assert_ok(hb_mem_mm_free(h, p));
	g_ptr_array_free(all, TRUE);
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_mm_realloc_grows_in_place_moves_and_shrinks(int *f,
							     gconstpointer d)
{
	hb_mem_mm_t *h = heap_new(HEAP_SIZE);
	uint8_t *p, *q, *blocker;
	int i;

	g_assert_null(hb_mem_mm_realloc(h, NULL, 0));
	p = hb_mem_mm_realloc(h, NULL, 100);	/* realloc(NULL) mallocs */
	g_assert_nonnull(p);
	for (i = 0; i < 100; i++)
		p[i] = (uint8_t)i;
	q = hb_mem_mm_realloc(h, p, 1000);	/* next block is free */
	g_assert_true(q == p);
	blocker = hb_mem_mm_malloc(h, 16);
	q = hb_mem_mm_realloc(h, p, 4000);	/* blocked: moves */
	g_assert_true(q != p);
	for (i = 0; i < 100; i++)
		g_assert_cmpint(q[i], ==, i);
	p = hb_mem_mm_realloc(h, q, 50);	/* shrinks in place */
	g_assert_true(p == q);
	for (i = 0; i < 50; i++)
		g_assert_cmpint(p[i], ==, i);
	assert_ok(hb_mem_mm_check(h));
	g_assert_null(hb_mem_mm_realloc(h, p, 0));	/* frees */
	assert_ok(hb_mem_mm_free(h, blocker));
	assert_ok(hb_mem_mm_check(h));
	assert_null_errno(hb_mem_mm_realloc(h, blocker, 10), EFAULT);
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_mm_zalloc_zeroes_reused_memory(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new(HEAP_SIZE);
	uint8_t *p = hb_mem_mm_malloc(h, 512);
	size_t i;

	memset(p, 0xEE, 512);
	assert_ok(hb_mem_mm_free(h, p));
	p = hb_mem_mm_zalloc(h, 512);
	for (i = 0; i < 512; i++)
		g_assert_cmpint(p[i], ==, 0);
	assert_ok(hb_mem_mm_free(h, p));
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_mm_info_counts_blocks_and_bytes(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new(HEAP_SIZE);
	hb_mem_mm_info_t a, b;
	void *p, *q;

	assert_ok(hb_mem_mm_info(h, &a));
	g_assert_cmpuint(a.arena, >, HEAP_SIZE - 64);
	g_assert_cmpuint(a.used, ==, 0);
	g_assert_cmpuint(a.free, ==, a.arena);
	g_assert_cmpuint(a.allocs, ==, 0);
	g_assert_cmpuint(a.free_blocks, ==, 1);
	g_assert_cmpuint(a.largest_free, ==, a.arena - 16);
	p = hb_mem_mm_malloc(h, 100);
	q = hb_mem_mm_malloc(h, 1000);
	assert_ok(hb_mem_mm_info(h, &b));
	g_assert_cmpuint(b.allocs, ==, 2);
	g_assert_cmpuint(b.used, ==, (112 + 16) + (1008 + 16));
	g_assert_cmpuint(b.used + b.free, ==, b.arena);
	assert_ok(hb_mem_mm_free(h, p));
	assert_ok(hb_mem_mm_info(h, &b));
	g_assert_cmpuint(b.free_blocks, ==, 2);	/* a hole before q */
	assert_ok(hb_mem_mm_free(h, q));
	assert_ok(hb_mem_mm_info(h, &b));
	g_assert_cmpuint(b.free_blocks, ==, 1);
	g_assert_cmpuint(b.largest_free, ==, a.largest_free);
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_mm_heaps_are_independent(int *f, gconstpointer d)
{
	hb_mem_mm_t *h[8];
	void *p[8];
	int i;

	for (i = 0; i < 8; i++) {
		h[i] = heap_new(64 * 1024);
		p[i] = hb_mem_mm_malloc(h[i], 60000);
		g_assert_nonnull(p[i]);
	}
	for (i = 0; i < 8; i++)
		assert_hb(hb_mem_mm_free(h[(i + 1) % 8], p[i]),
			  HB_MEM_ERR_INVALID_VADDR);
	for (i = 0; i < 8; i++) {
		assert_ok(hb_mem_mm_check(h[i]));
		assert_ok(hb_mem_mm_free(h[i], p[i]));
		assert_ok(hb_mem_mm_destroy(h[i]));
	}
}

/* ---- stress ----------------------------------------------------------- */

static void *ops_alloc(void *ctx, size_t size)
{
	return hb_mem_mm_malloc(ctx, size);
}

static int32_t ops_free(void *ctx, void *p)
{
	return hb_mem_mm_free(ctx, p);
}

static int32_t ops_check(void *ctx)
{
	return hb_mem_mm_check(ctx);
}

static uint64_t ops_largest(void *ctx)
{
	return largest(ctx);
}

static struct stress_ops mm_ops(hb_mem_mm_t *h, size_t max_size)
{
	return (struct stress_ops){
		.ctx = h, .alloc = ops_alloc, .free = ops_free,
		.check = ops_check, .largest = ops_largest, .align = 16,
		.min_size = 1, .max_size = max_size,
	};
}

static void stress_at(int target)
{
	hb_mem_mm_t *h = heap_new(64 * 1024);
	struct stress_ops ops = mm_ops(h, 1024);
	uint64_t before = largest(h);
	struct stress_result res;

	stress_fill(&ops, 64 * 1024, target, 2 * 64 * 1024 / 16, 42, &res);
	g_assert_cmpuint(res.allocs_ok, >, 0);
	if (target == 100)
		g_assert_cmpuint(res.allocs_ok, <, res.allocs_tried);
	g_assert_cmpuint(largest(h), ==, before);
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_mm_stress_half_full_validated_every_op(int *f,
							gconstpointer d)
{
	stress_at(50);
}

static void test_mm_stress_full_validated_every_op(int *f, gconstpointer d)
{
	stress_at(100);
}

static void test_mm_four_threads_keep_largest_free_block(int *f,
							 gconstpointer d)
{
	hb_mem_mm_t *h = heap_new(HEAP_SIZE);
	struct stress_ops ops = mm_ops(h, 256);

	stress_threads(&ops, 4, 20000);
	assert_ok(hb_mem_mm_destroy(h));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_test("/mm/create/rejects-bad-arguments",
		 test_mm_create_rejects_bad_arguments);
	g_test_add_func("/mm/create/fails-without-module",
			test_mm_create_without_module_fails);
	add_test("/mm/malloc/rejects-size-zero-and-huge",
		 test_mm_malloc_rejects_size_zero_and_huge);
	add_test("/mm/free/rejects-foreign-pointer-and-double-free",
		 test_mm_free_rejects_foreign_pointer_and_double_free);
	add_test("/mm/memalign/returns-aligned-pointers-inside-region",
		 test_mm_returns_aligned_pointers_inside_region);
	add_test("/mm/exhaustion/fails-then-recovers-fully",
		 test_mm_exhaustion_then_full_recovery);
	add_test("/mm/realloc/grows-in-place-moves-and-shrinks",
		 test_mm_realloc_grows_in_place_moves_and_shrinks);
	add_test("/mm/zalloc/zeroes-reused-memory",
		 test_mm_zalloc_zeroes_reused_memory);
	add_test("/mm/info/counts-blocks-and-bytes",
		 test_mm_info_counts_blocks_and_bytes);
	add_test("/mm/instances/are-independent",
		 test_mm_heaps_are_independent);
	add_test("/mm/stress/half-full-validated-every-op",
		 test_mm_stress_half_full_validated_every_op);
	add_test("/mm/stress/full-validated-every-op",
		 test_mm_stress_full_validated_every_op);
	add_test("/mm/threads/four-threads-keep-largest-free-block",
		 test_mm_four_threads_keep_largest_free_block);
	return g_test_run();
}
