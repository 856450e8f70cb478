// SPDX-License-Identifier: MIT
/*
 * I/O buffer pool (hb_mem_iob_*): bad input, alignment, exhaustion,
 * timeouts, throttling, direct hand-over to waiters in FIFO order, stress.
 */
#include <time.h>

#include "alloc-test.h"

static hb_mem_iob_pool_t *pool_new(uint32_t n, uint32_t size, uint32_t align,
				   uint32_t throttle)
{
	hb_mem_iob_pool_t *p = NULL;

	assert_ok(hb_mem_iob_pool_create(n, size, align, throttle, 0, &p));
	assert_ok(hb_mem_iob_check(p));
	return p;
}

static hb_mem_iob_info_t info_of(hb_mem_iob_pool_t *p)
{
	hb_mem_iob_info_t i;

	assert_ok(hb_mem_iob_info(p, &i));
	return i;
}

/* Wait (bounded) until @n threads wait on @p. */
static void wait_for_waiters(hb_mem_iob_pool_t *p, uint32_t n)
{
	int i;

	for (i = 0; i < 5000 && info_of(p).waiters != n; i++)
		g_usleep(1000);
	g_assert_cmpuint(info_of(p).waiters, ==, n);
}

static void test_iob_create_rejects_bad_arguments(int *f, gconstpointer d)
{
	hb_mem_iob_pool_t *p = NULL;

	assert_hb(hb_mem_iob_pool_create(8, 64, 0, 0, 0, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_iob_pool_create(0, 64, 0, 0, 0, &p),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_iob_pool_create(8, 0, 0, 0, 0, &p),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_iob_pool_create(8, 64, 0, 8, 0, &p),
		  HB_MEM_ERR_INVALID_PARAMS);	/* throttle >= nbuffers */
	assert_hb(hb_mem_iob_pool_create(8, 64, 48, 0, 0, &p),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_iob_pool_create(UINT32_MAX, UINT32_MAX, 0, 0, 0, &p),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_iob_pool_destroy(NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_null_errno(hb_mem_iob_tryalloc(NULL, 0), EINVAL);
	g_assert_null(p);
}

static void test_iob_free_rejects_foreign_pointer_and_double_free(
	int *f, gconstpointer d)
{
	hb_mem_iob_pool_t *p = pool_new(4, 100, 64, 0);
	uint8_t *b = hb_mem_iob_tryalloc(p, 0);
	int on_stack;

	assert_hb(hb_mem_iob_free(p, NULL), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_iob_free(p, &on_stack), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_iob_free(p, b + 8), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_iob_free(p, b + 128 * 8), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_iob_free(p, b + 128), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_iob_free(p, b));
	assert_hb(hb_mem_iob_free(p, b), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_iob_check(p));
	assert_ok(hb_mem_iob_pool_destroy(p));
}

static void test_iob_alloc_returns_aligned_distinct_buffers(int *f,
							    gconstpointer d)
{
	hb_mem_iob_pool_t *p = pool_new(16, 196, 256, 0);
	uint8_t *b[16];
	int i, j;

	for (i = 0; i < 16; i++) {
		b[i] = hb_mem_iob_tryalloc(p, 0);
		g_assert_nonnull(b[i]);
		g_assert_cmpuint((uintptr_t)b[i] % 256, ==, 0);
		memset(b[i], i, 196);
		for (j = 0; j < i; j++)
			g_assert_true(b[i] != b[j]);
	}
	assert_null_errno(hb_mem_iob_tryalloc(p, 0), EAGAIN);
	assert_hb(hb_mem_iob_pool_destroy(p), HB_MEM_ERR_POOL_BUSY);
	for (i = 0; i < 16; i++) {
		g_assert_cmpint(b[i][195], ==, i);
		assert_ok(hb_mem_iob_free(p, b[i]));
	}
	g_assert_cmpuint(info_of(p).nfree, ==, 16);
	assert_ok(hb_mem_iob_pool_destroy(p));
}

/* Alignments above the page size: the region is only page aligned. */
static void test_iob_alloc_honours_alignment_above_page(int *f,
							gconstpointer d)
{
	uint32_t align;
	uint8_t *b[3];
	int i;

	for (align = 8192; align <= 65536; align <<= 1) {
		hb_mem_iob_pool_t *p = pool_new(3, 100, align, 0);

		for (i = 0; i < 3; i++) {
			b[i] = hb_mem_iob_tryalloc(p, 0);
			g_assert_nonnull(b[i]);
			g_assert_cmpuint((uintptr_t)b[i] % align, ==, 0);
			memset(b[i], i, 100);
		}
		for (i = 0; i < 3; i++)
			assert_ok(hb_mem_iob_free(p, b[i]));
		assert_ok(hb_mem_iob_check(p));
		assert_ok(hb_mem_iob_pool_destroy(p));
	}
}

static void test_iob_alloc_times_out_when_empty(int *f, gconstpointer d)
{
	hb_mem_iob_pool_t *p = pool_new(1, 64, 0, 0);
	void *b = hb_mem_iob_alloc(p, 0, -1);
	gint64 t0;

	g_assert_nonnull(b);
	assert_null_errno(hb_mem_iob_alloc(p, 0, 0), EAGAIN);
	t0 = g_get_monotonic_time();
	assert_null_errno(hb_mem_iob_alloc(p, 0, 50), ETIMEDOUT);
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 50000);
	g_assert_cmpuint(info_of(p).waiters, ==, 0);
	assert_ok(hb_mem_iob_check(p));
	assert_ok(hb_mem_iob_free(p, b));
	assert_ok(hb_mem_iob_pool_destroy(p));
}

static void test_iob_throttle_keeps_reserve_for_unthrottled(int *f,
							    gconstpointer d)
{
	hb_mem_iob_pool_t *p = pool_new(8, 64, 0, 3);
	void *b[8];
	int i;

	for (i = 0; i < 5; i++)
		g_assert_nonnull(b[i] = hb_mem_iob_tryalloc(p, 1));
	assert_null_errno(hb_mem_iob_tryalloc(p, 1), EAGAIN);
	assert_null_errno(hb_mem_iob_alloc(p, 1, 10), ETIMEDOUT);
	for (i = 5; i < 8; i++)
		g_assert_nonnull(b[i] = hb_mem_iob_tryalloc(p, 0));
	assert_null_errno(hb_mem_iob_tryalloc(p, 0), EAGAIN);
	for (i = 0; i < 8; i++)
		assert_ok(hb_mem_iob_free(p, b[i]));
	assert_ok(hb_mem_iob_pool_destroy(p));
}

struct waiter_arg {
	hb_mem_iob_pool_t *pool;
	int throttled, id;
	void *got;
	gint *order;		/* served order, shared */
	gint *slot;
};

static gpointer waiter_main(gpointer data)
{
	struct waiter_arg *a = data;

	a->got = hb_mem_iob_alloc(a->pool, a->throttled, 10000);
	g_assert_nonnull(a->got);
	a->order[g_atomic_int_add(a->slot, 1)] = a->id;
	return NULL;
}

static void test_iob_freed_buffer_goes_straight_to_waiter(int *f,
							  gconstpointer d)
{
	hb_mem_iob_pool_t *p = pool_new(2, 64, 0, 0);
	void *b0 = hb_mem_iob_tryalloc(p, 0), *b1 = hb_mem_iob_tryalloc(p, 0);
	gint order[1], slot = 0;
	struct waiter_arg a = { p, 0, 1, NULL, order, &slot };
	GThread *t = g_thread_new("waiter", waiter_main, &a);

	wait_for_waiters(p, 1);
	assert_ok(hb_mem_iob_free(p, b1));
	/* the buffer is the waiter's: a newcomer cannot take it */
	assert_null_errno(hb_mem_iob_tryalloc(p, 0), EAGAIN);
	g_thread_join(t);
	g_assert_true(a.got == b1);
	g_assert_cmpuint(info_of(p).handoffs, ==, 1);
	assert_ok(hb_mem_iob_free(p, a.got));
	assert_ok(hb_mem_iob_free(p, b0));
	assert_ok(hb_mem_iob_check(p));
	assert_ok(hb_mem_iob_pool_destroy(p));
}

static void test_iob_waiters_are_served_in_arrival_order(int *f,
							 gconstpointer d)
{
	hb_mem_iob_pool_t *p = pool_new(3, 64, 0, 0);
	void *b[3];
	gint order[3], slot = 0;
	struct waiter_arg a[3];
	GThread *t[3];
	int i;

	for (i = 0; i < 3; i++)
		b[i] = hb_mem_iob_tryalloc(p, 0);
	for (i = 0; i < 3; i++) {
		a[i] = (struct waiter_arg){ p, 0, i, NULL, order, &slot };
		t[i] = g_thread_new("waiter", waiter_main, &a[i]);
		wait_for_waiters(p, (uint32_t)i + 1);
	}
	for (i = 0; i < 3; i++) {
		assert_ok(hb_mem_iob_free(p, b[i]));
		g_thread_join(t[i]);	/* waiter i, and only it, was served */
		g_assert_cmpint(g_atomic_int_get(&slot), ==, i + 1);
		g_assert_cmpint(order[i], ==, i);
		g_assert_true(a[i].got == b[i]);
	}
	for (i = 0; i < 3; i++)
		assert_ok(hb_mem_iob_free(p, a[i].got));
	assert_ok(hb_mem_iob_pool_destroy(p));
}

static void test_iob_throttled_waiter_waits_for_the_reserve(int *f,
							    gconstpointer d)
{
	hb_mem_iob_pool_t *p = pool_new(4, 64, 0, 2);
	void *b[4];
	gint order[2], slot = 0;
	struct waiter_arg thr = { p, 1, 0, NULL, order, &slot };
	struct waiter_arg unthr = { p, 0, 1, NULL, order, &slot };
	GThread *t1, *t2;
	int i;

	for (i = 0; i < 4; i++)
		b[i] = hb_mem_iob_tryalloc(p, 0);
	t1 = g_thread_new("throttled", waiter_main, &thr);
	wait_for_waiters(p, 1);
	t2 = g_thread_new("unthrottled", waiter_main, &unthr);
	wait_for_waiters(p, 2);
	/* first free: the throttled waiter may not dip into the reserve */
	assert_ok(hb_mem_iob_free(p, b[0]));
	g_thread_join(t2);
	g_assert_true(unthr.got == b[0]);
	assert_ok(hb_mem_iob_free(p, b[1]));
	assert_ok(hb_mem_iob_free(p, b[2]));
	g_assert_cmpuint(info_of(p).waiters, ==, 1);	/* 2 free = reserve */
	assert_ok(hb_mem_iob_check(p));
	assert_ok(hb_mem_iob_free(p, b[3]));
	g_thread_join(t1);
	g_assert_true(thr.got == b[3]);
	g_assert_cmpint(order[0], ==, 1);
	g_assert_cmpint(order[1], ==, 0);
	assert_ok(hb_mem_iob_free(p, thr.got));
	assert_ok(hb_mem_iob_free(p, unthr.got));
	assert_ok(hb_mem_iob_pool_destroy(p));
}

struct pc {
	hb_mem_iob_pool_t *pool;
	GAsyncQueue *q;
	int items;
};

static gpointer consumer_main(gpointer data)
{
	struct pc *pc = data;
	int i;

	for (i = 0; i < pc->items; i++) {
		uint32_t *b = g_async_queue_pop(pc->q);

		g_assert_cmpuint(*b, ==, (uint32_t)i);
		assert_ok(hb_mem_iob_free(pc->pool, b));
	}
	return NULL;
}

static void test_iob_producer_consumer_loses_nothing(int *f, gconstpointer d)
{
	struct pc pc = { pool_new(4, 64, 0, 0), g_async_queue_new(), 20000 };
	GThread *t = g_thread_new("consumer", consumer_main, &pc);
	int i;

	for (i = 0; i < pc.items; i++) {
		uint32_t *b = hb_mem_iob_alloc(pc.pool, 0, 10000);

		g_assert_nonnull(b);
		*b = (uint32_t)i;
		g_async_queue_push(pc.q, b);
	}
	g_thread_join(t);
	g_assert_cmpuint(info_of(pc.pool).nfree, ==, 4);
	assert_ok(hb_mem_iob_check(pc.pool));
	g_async_queue_unref(pc.q);
	assert_ok(hb_mem_iob_pool_destroy(pc.pool));
}

/* ---- stress ----------------------------------------------------------- */

static void *ops_alloc(void *ctx, size_t size)
{
	return hb_mem_iob_tryalloc(ctx, 0);
}

static int32_t ops_free(void *ctx, void *p)
{
	return hb_mem_iob_free(ctx, p);
}

static int32_t ops_check(void *ctx)
{
	return hb_mem_iob_check(ctx);
}

static uint64_t ops_largest(void *ctx)
{
	return info_of(ctx).nfree;
}

static struct stress_ops iob_ops(hb_mem_iob_pool_t *p)
{
	return (struct stress_ops){
		.ctx = p, .alloc = ops_alloc, .free = ops_free,
		.check = ops_check, .largest = ops_largest, .align = 64,
		.min_size = 1, .max_size = 196,
	};
}

static void stress_at(int target)
{
	hb_mem_iob_pool_t *p = pool_new(64, 196, 64, 0);
	struct stress_ops ops = iob_ops(p);
	struct stress_result res;

	/* capacity in requested bytes: sizes average ~98 of 196 */
	stress_fill(&ops, 64 * 98, target, 4096, 42, &res);
	if (target == 100)
		g_assert_cmpuint(res.allocs_ok, <, res.allocs_tried);
	g_assert_cmpuint(info_of(p).nfree, ==, 64);
	assert_ok(hb_mem_iob_pool_destroy(p));
}

static void test_iob_stress_half_full_validated_every_op(int *f,
							 gconstpointer d)
{
	stress_at(50);
}

static void test_iob_stress_full_validated_every_op(int *f, gconstpointer d)
{
	stress_at(100);
}

static void test_iob_four_threads_return_every_buffer(int *f, gconstpointer d)
{
	hb_mem_iob_pool_t *p = pool_new(16, 256, 64, 0);
	struct stress_ops ops = iob_ops(p);

	ops.max_size = 256;
	stress_threads(&ops, 4, 20000);
	assert_ok(hb_mem_iob_pool_destroy(p));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_test("/iob/create/rejects-bad-arguments",
		 test_iob_create_rejects_bad_arguments);
	add_test("/iob/free/rejects-foreign-pointer-and-double-free",
		 test_iob_free_rejects_foreign_pointer_and_double_free);
	add_test("/iob/alloc/returns-aligned-distinct-buffers",
		 test_iob_alloc_returns_aligned_distinct_buffers);
	add_test("/iob/alloc/honours-alignment-above-page",
		 test_iob_alloc_honours_alignment_above_page);
	add_test("/iob/alloc/times-out-when-empty",
		 test_iob_alloc_times_out_when_empty);
	add_test("/iob/throttle/keeps-reserve-for-unthrottled",
		 test_iob_throttle_keeps_reserve_for_unthrottled);
	add_test("/iob/waiter/gets-freed-buffer-directly",
		 test_iob_freed_buffer_goes_straight_to_waiter);
	add_test("/iob/waiter/served-in-arrival-order",
		 test_iob_waiters_are_served_in_arrival_order);
	add_test("/iob/waiter/throttled-waits-for-the-reserve",
		 test_iob_throttled_waiter_waits_for_the_reserve);
	add_test("/iob/handoff/producer-consumer-loses-nothing",
		 test_iob_producer_consumer_loses_nothing);
	add_test("/iob/stress/half-full-validated-every-op",
		 test_iob_stress_half_full_validated_every_op);
	add_test("/iob/stress/full-validated-every-op",
		 test_iob_stress_full_validated_every_op);
	add_test("/iob/threads/four-threads-return-every-buffer",
		 test_iob_four_threads_return_every_buffer);
	return g_test_run();
}
