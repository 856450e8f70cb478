// SPDX-License-Identifier: MIT
/*
 * The memory queue: argument checks, the slot state machine, FIFO order and
 * the board's slot cycling, timeouts, cancel, destroy waking waiters,
 * overwrite mode, and producer/consumer threads. Every wait on another
 * thread is bounded.
 */
#include <stdint.h>
#include <string.h>

#include "test-util.h"

/* Longest a thread may take to react to something (generous: valgrind). */
#define REACT_US (10 * G_USEC_PER_SEC)

static hb_mem_buf_queue_t make_queue(uint32_t count, uint32_t item_size,
				     uint32_t flags)
{
	hb_mem_buf_queue_t q = { .count = count, .item_size = item_size };

	assert_ok(hb_mem_create_buf_queue_ex(&q, flags));
	g_assert_cmpuint(q.unique_id, !=, 0);
	return q;
}

/* Produce one uint64_t item @v; returns the slot used. */
static int32_t produce(hb_mem_buf_queue_t *q, uint64_t v)
{
	int32_t slot = -1;

	assert_ok(hb_mem_dequeue_buf(q, &slot, NULL, 0));
	assert_ok(hb_mem_queue_buf(q, slot, &v));
	return slot;
}

/* Consume one uint64_t item and release its slot. */
static uint64_t consume(hb_mem_buf_queue_t *q)
{
	int32_t slot = -1;
	uint64_t v = 0;

	assert_ok(hb_mem_request_buf(q, &slot, &v, 0));
	assert_ok(hb_mem_release_buf(q, slot));
	return v;
}

/* A call run in another thread, and whether it has finished. */
typedef struct {
	hb_mem_buf_queue_t queue;
	gboolean request;	/* else dequeue */
	int64_t timeout;
	gint started;
	gint done;
	int32_t ret;
	int32_t slot;
	uint64_t item;
} Waiter;

static gpointer waiter_run(gpointer data)
{
	Waiter *w = data;

	g_atomic_int_set(&w->started, 1);
	if (w->request)
		w->ret = hb_mem_request_buf(&w->queue, &w->slot, &w->item,
					    w->timeout);
	else
		w->ret = hb_mem_dequeue_buf(&w->queue, &w->slot, &w->item,
					    w->timeout);
	g_atomic_int_set(&w->done, 1);
	return NULL;
}

/* Start @w and give it time to block in its call. */
static GThread *waiter_start(Waiter *w)
{
	GThread *t = g_thread_new("waiter", waiter_run, w);

	while (!g_atomic_int_get(&w->started))
		g_usleep(1000);
	g_usleep(100 * 1000);
	return t;
}

/* Join @t once its call has returned, failing after @us microseconds. */
static void waiter_join(GThread *t, Waiter *w, int64_t us)
{
	int64_t end = g_get_monotonic_time() + us;

	while (!g_atomic_int_get(&w->done)) {
		if (g_get_monotonic_time() > end)
			g_error("a waiter did not return within %" G_GINT64_FORMAT
				" us", us);
		g_usleep(1000);
	}
	g_thread_join(t);
}

/* ---- bad input ------------------------------------------------------- */

static void test_calls_before_open_report_module_not_found(void)
{
	hb_mem_buf_queue_t q = { .count = 4, .item_size = 8 };
	uint64_t v = 0, drops;
	int32_t slot;

	assert_hb(hb_mem_create_buf_queue(&q), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_create_buf_queue_ex(&q, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_destroy_buf_queue(&q), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_dequeue_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_queue_buf(&q, 0, &v), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_request_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_release_buf(&q, 0), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_cancel_buf(&q, 0), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_buf_queue_drops(&q, &drops),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_create_rejects_bad_sizes_and_flags(TestModule *m,
						     gconstpointer d)
{
	hb_mem_buf_queue_t q = { .count = 4, .item_size = 8 };

	assert_hb(hb_mem_create_buf_queue(NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_create_buf_queue_ex(NULL, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	q.count = 0;
	assert_hb(hb_mem_create_buf_queue(&q), HB_MEM_ERR_INVALID_PARAMS);
	q.count = 4;
	q.item_size = 0;
	assert_hb(hb_mem_create_buf_queue(&q), HB_MEM_ERR_INVALID_PARAMS);
	/* count * item_size beyond any sane queue, and past 32 bits */
	q.count = 1u << 20;
	q.item_size = UINT32_MAX;
	assert_hb(hb_mem_create_buf_queue(&q), HB_MEM_ERR_INVALID_PARAMS);
	q.count = UINT32_MAX;
	q.item_size = 1;
	assert_hb(hb_mem_create_buf_queue(&q), HB_MEM_ERR_INVALID_PARAMS);
	q.count = 4;
	q.item_size = 8;
	assert_hb(hb_mem_create_buf_queue_ex(&q, 1u << 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_create_buf_queue_ex(&q, UINT32_MAX),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* and a good one still works */
	assert_ok(hb_mem_create_buf_queue(&q));
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_null_pointers_are_invalid_params(TestModule *m,
						  gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(4, 8, 0);
	int32_t slot;

	assert_hb(hb_mem_destroy_buf_queue(NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dequeue_buf(NULL, &slot, NULL, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dequeue_buf(&q, NULL, NULL, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
	assert_hb(hb_mem_queue_buf(NULL, slot, &q), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_queue_buf(&q, slot, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_request_buf(NULL, &slot, NULL, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_request_buf(&q, NULL, NULL, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_release_buf(NULL, slot), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_cancel_buf(NULL, slot), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_queue_drops(NULL, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_queue_drops(&q, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_slot_out_of_range_is_invalid_params(TestModule *m,
						     gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(4, 8, 0);
	int32_t bad[] = { -1, 4, 5, INT32_MAX, INT32_MIN };
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		assert_hb(hb_mem_queue_buf(&q, bad[i], &v),
			  HB_MEM_ERR_INVALID_PARAMS);
		assert_hb(hb_mem_release_buf(&q, bad[i]),
			  HB_MEM_ERR_INVALID_PARAMS);
		assert_hb(hb_mem_cancel_buf(&q, bad[i]),
			  HB_MEM_ERR_INVALID_PARAMS);
	}
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_unknown_id_is_not_found(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t live = make_queue(4, 8, 0);
	uint64_t ids[] = { 0, 1, live.unique_id ^ 1, live.unique_id + 1,
			   UINT64_MAX, 0x123456789abcdefull };
	hb_mem_buf_queue_t q = { .count = 4, .item_size = 8 };
	uint64_t v = 0, drops;
	int32_t slot;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(ids); i++) {
		q.unique_id = ids[i];
		assert_hb(hb_mem_dequeue_buf(&q, &slot, NULL, 0),
			  HB_MEM_ERR_QUEUE_NOT_FOUND);
		assert_hb(hb_mem_queue_buf(&q, 0, &v),
			  HB_MEM_ERR_QUEUE_NOT_FOUND);
		assert_hb(hb_mem_request_buf(&q, &slot, NULL, 0),
			  HB_MEM_ERR_QUEUE_NOT_FOUND);
		assert_hb(hb_mem_release_buf(&q, 0),
			  HB_MEM_ERR_QUEUE_NOT_FOUND);
		assert_hb(hb_mem_cancel_buf(&q, 0), HB_MEM_ERR_QUEUE_NOT_FOUND);
		assert_hb(hb_mem_get_buf_queue_drops(&q, &drops),
			  HB_MEM_ERR_QUEUE_NOT_FOUND);
		assert_hb(hb_mem_destroy_buf_queue(&q),
			  HB_MEM_ERR_QUEUE_NOT_FOUND);
	}
	assert_ok(hb_mem_destroy_buf_queue(&live));
}

static void test_destroyed_queue_is_not_found(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(4, 8, 0);
	uint64_t v = 0, drops;
	int32_t slot;

	produce(&q, 1);
	assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
	assert_ok(hb_mem_destroy_buf_queue(&q));
	assert_hb(hb_mem_destroy_buf_queue(&q), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_dequeue_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_queue_buf(&q, slot, &v), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_request_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_release_buf(&q, 0), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_cancel_buf(&q, slot), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_get_buf_queue_drops(&q, &drops),
		  HB_MEM_ERR_QUEUE_NOT_FOUND);
}

static void test_stale_id_is_not_found_after_header_reuse(TestModule *m,
							  gconstpointer d)
{
	hb_mem_buf_queue_t old = make_queue(4, 8, 0), fresh;
	int32_t slot;

	assert_ok(hb_mem_destroy_buf_queue(&old));
	/* the next queue takes the old one's place inside the library */
	fresh = make_queue(4, 8, 0);
	g_assert_cmpuint(fresh.unique_id, !=, old.unique_id);
	assert_hb(hb_mem_dequeue_buf(&old, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_destroy_buf_queue(&old), HB_MEM_ERR_QUEUE_NOT_FOUND);
	produce(&fresh, 7);
	g_assert_cmpuint(consume(&fresh), ==, 7);
	assert_ok(hb_mem_destroy_buf_queue(&fresh));
}

static void test_live_id_already_exists(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(4, 8, 0), copy = q;
	uint64_t id = q.unique_id;

	assert_hb(hb_mem_create_buf_queue(&q), HB_MEM_ERR_QUEUE_ALREADY_EXIST);
	assert_hb(hb_mem_create_buf_queue_ex(&copy,
					     HB_MEM_QUEUE_FLAG_OVERWRITE),
		  HB_MEM_ERR_QUEUE_ALREADY_EXIST);
	g_assert_cmpuint(q.unique_id, ==, id);
	assert_ok(hb_mem_destroy_buf_queue(&q));
	/* a destroyed queue's struct can make a new queue */
	assert_ok(hb_mem_create_buf_queue(&q));
	g_assert_cmpuint(q.unique_id, !=, id);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_ids_are_never_zero_or_reused(TestModule *m, gconstpointer d)
{
	GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
	hb_mem_buf_queue_t live[8];
	uint64_t *ids = g_new(uint64_t, 2000);
	int i, j;

	for (i = 0; i < 2000; i += 8) {
		for (j = 0; j < 8; j++) {
			live[j] = make_queue(2, 4, 0);
			ids[i + j] = live[j].unique_id;
			g_assert_false(g_hash_table_contains(seen, &ids[i + j]));
			g_hash_table_add(seen, &ids[i + j]);
		}
		for (j = 0; j < 8; j++)
			assert_ok(hb_mem_destroy_buf_queue(&live[j]));
	}
	g_hash_table_destroy(seen);
	g_free(ids);
}

/* ---- the state machine ----------------------------------------------- */

static void test_wrong_state_is_wrong_slot(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(4, 8, 0);
	int32_t slot, s2;
	uint64_t v = 5;

	/* FREE: only dequeue may take it */
	assert_hb(hb_mem_queue_buf(&q, 0, &v), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	assert_hb(hb_mem_release_buf(&q, 0), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	assert_hb(hb_mem_cancel_buf(&q, 0), HB_MEM_ERR_QUEUE_WRONG_SLOT);

	/* DEQUEUE: the consumer cannot release it */
	assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
	assert_hb(hb_mem_release_buf(&q, slot), HB_MEM_ERR_QUEUE_WRONG_SLOT);

	/* QUEUE: nobody holds it */
	assert_ok(hb_mem_queue_buf(&q, slot, &v));
	assert_hb(hb_mem_queue_buf(&q, slot, &v), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	assert_hb(hb_mem_release_buf(&q, slot), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	assert_hb(hb_mem_cancel_buf(&q, slot), HB_MEM_ERR_QUEUE_WRONG_SLOT);

	/* REQUEST: the producer cannot queue it */
	assert_ok(hb_mem_request_buf(&q, &s2, NULL, 0));
	g_assert_cmpint(s2, ==, slot);
	assert_hb(hb_mem_queue_buf(&q, slot, &v), HB_MEM_ERR_QUEUE_WRONG_SLOT);

	/* FREE again after release: a second release is wrong */
	assert_ok(hb_mem_release_buf(&q, slot));
	assert_hb(hb_mem_release_buf(&q, slot), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	assert_hb(hb_mem_cancel_buf(&q, slot), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_request_with_nothing_queued_and_no_wait_is_no_slot(
	TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(4, 8, 0);
	int64_t t0 = g_get_monotonic_time();
	int32_t slot;

	assert_hb(hb_mem_request_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	/* a dequeued but not queued slot is not available either */
	assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
	assert_hb(hb_mem_request_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_dequeue_with_no_free_slot_and_no_wait_is_no_slot(
	TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(3, 8, 0);
	int32_t slot;

	produce(&q, 1);
	produce(&q, 2);
	assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
	assert_hb(hb_mem_dequeue_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_request_times_out_after_its_timeout(TestModule *m,
						     gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(4, 8, 0);
	int64_t t0, elapsed;
	int32_t slot;

	t0 = g_get_monotonic_time();
	assert_hb(hb_mem_request_buf(&q, &slot, NULL, 50), HB_MEM_ERR_TIMEOUT);
	elapsed = g_get_monotonic_time() - t0;
	g_assert_cmpint(elapsed, >=, 50 * 1000);
	g_assert_cmpint(elapsed, <, 2 * G_USEC_PER_SEC);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_dequeue_times_out_after_its_timeout(TestModule *m,
						     gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(1, 8, 0);
	int64_t t0, elapsed;
	int32_t slot;

	assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
	t0 = g_get_monotonic_time();
	assert_hb(hb_mem_dequeue_buf(&q, &slot, NULL, 30), HB_MEM_ERR_TIMEOUT);
	elapsed = g_get_monotonic_time() - t0;
	g_assert_cmpint(elapsed, >=, 30 * 1000);
	g_assert_cmpint(elapsed, <, 2 * G_USEC_PER_SEC);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_items_come_out_in_fifo_order(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(8, sizeof(uint64_t), 0);
	uint64_t next = 0, expect = 0;
	int round, i;

	/* fill and drain by different amounts so the FIFO wraps */
	for (round = 0; round < 50; round++) {
		for (i = 0; i < 1 + round % 8; i++)
			produce(&q, next++);
		for (i = 0; i < 1 + round % 8; i++)
			g_assert_cmpuint(consume(&q), ==, expect++);
	}
	for (i = 0; i < 8; i++)
		produce(&q, next++);
	for (i = 0; i < 8; i++)
		g_assert_cmpuint(consume(&q), ==, expect++);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_slots_cycle_round_robin_like_the_board(TestModule *m,
							gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(16, sizeof(hb_mem_common_buf_t), 0);
	hb_mem_common_buf_t item, out;
	int32_t slot, rslot;
	int i;

	/* the board's sample: queue_buf(slot, &com_buf[slot]) */
	for (i = 0; i < 64; i++) {
		assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
		g_assert_cmpint(slot, ==, i % 16);
		memset(&item, 0, sizeof(item));
		item.share_id = 22 + slot;
		assert_ok(hb_mem_queue_buf(&q, slot, &item));
		assert_ok(hb_mem_request_buf(&q, &rslot, &out, 0));
		g_assert_cmpint(rslot, ==, slot);
		g_assert_cmpint(out.share_id, ==, 22 + i % 16);
		assert_ok(hb_mem_release_buf(&q, rslot));
	}
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_dequeue_returns_the_slot_current_item(TestModule *m,
						       gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(2, sizeof(uint64_t), 0);
	uint64_t v = 99;
	int32_t slot;

	/* new slots hold zeros */
	assert_ok(hb_mem_dequeue_buf(&q, &slot, &v, 0));
	g_assert_cmpint(slot, ==, 0);
	g_assert_cmpuint(v, ==, 0);
	v = 0xabcd;
	assert_ok(hb_mem_queue_buf(&q, slot, &v));
	g_assert_cmpuint(consume(&q), ==, 0xabcd);
	produce(&q, 1);	/* slot 1 */
	g_assert_cmpuint(consume(&q), ==, 1);
	/* slot 0 again, still holding what was last queued in it */
	v = 0;
	assert_ok(hb_mem_dequeue_buf(&q, &slot, &v, 0));
	g_assert_cmpint(slot, ==, 0);
	g_assert_cmpuint(v, ==, 0xabcd);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_cancel_dequeue_frees_the_slot(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(2, sizeof(uint64_t), 0);
	int32_t a, b, c;

	assert_ok(hb_mem_dequeue_buf(&q, &a, NULL, 0));
	assert_ok(hb_mem_dequeue_buf(&q, &b, NULL, 0));
	assert_hb(hb_mem_dequeue_buf(&q, &c, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_ok(hb_mem_cancel_buf(&q, a));
	/* undone: the same slot is the next one taken */
	assert_ok(hb_mem_dequeue_buf(&q, &c, NULL, 0));
	g_assert_cmpint(c, ==, a);
	/* nothing was queued by the cancel */
	assert_hb(hb_mem_request_buf(&q, &c, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_ok(hb_mem_cancel_buf(&q, b));
	assert_hb(hb_mem_cancel_buf(&q, b), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_cancel_request_puts_the_item_back_at_the_head(
	TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(4, sizeof(uint64_t), 0);
	int32_t slot, again;
	uint64_t v;

	produce(&q, 10);
	produce(&q, 11);
	produce(&q, 12);
	assert_ok(hb_mem_request_buf(&q, &slot, &v, 0));
	g_assert_cmpuint(v, ==, 10);
	assert_ok(hb_mem_cancel_buf(&q, slot));
	/* requested again before the later items */
	assert_ok(hb_mem_request_buf(&q, &again, &v, 0));
	g_assert_cmpint(again, ==, slot);
	g_assert_cmpuint(v, ==, 10);
	assert_ok(hb_mem_release_buf(&q, again));
	g_assert_cmpuint(consume(&q), ==, 11);
	g_assert_cmpuint(consume(&q), ==, 12);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

/* ---- waiting and destroy --------------------------------------------- */

static void test_destroy_wakes_blocked_dequeue_and_request(TestModule *m,
							   gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(1, sizeof(uint64_t), 0);
	Waiter prod = { .queue = q, .request = FALSE, .timeout = -1 };
	Waiter cons = { .queue = q, .request = TRUE, .timeout = -1 };
	GThread *tp, *tc;
	int32_t slot;
	int64_t t0;

	/* the only slot is taken and nothing is queued: both must wait */
	assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
	tp = waiter_start(&prod);
	tc = waiter_start(&cons);
	g_assert_false(g_atomic_int_get(&prod.done));
	g_assert_false(g_atomic_int_get(&cons.done));
	t0 = g_get_monotonic_time();
	assert_ok(hb_mem_destroy_buf_queue(&q));
	waiter_join(tp, &prod, REACT_US);
	waiter_join(tc, &cons, REACT_US);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, REACT_US);
	assert_hb(prod.ret, HB_MEM_ERR_QUEUE_DESTROYED);
	assert_hb(cons.ret, HB_MEM_ERR_QUEUE_DESTROYED);
}

static void test_destroy_wakes_timed_waiters_before_their_timeout(
	TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(2, sizeof(uint64_t), 0);
	Waiter cons = { .queue = q, .request = TRUE, .timeout = 60000 };
	GThread *t = waiter_start(&cons);
	int64_t t0 = g_get_monotonic_time();

	assert_ok(hb_mem_destroy_buf_queue(&q));
	waiter_join(t, &cons, REACT_US);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, REACT_US);
	assert_hb(cons.ret, HB_MEM_ERR_QUEUE_DESTROYED);
}

static void test_negative_timeout_waits_until_another_thread_queues(
	TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(2, sizeof(uint64_t), 0);
	Waiter cons = { .queue = q, .request = TRUE, .timeout = -1 };
	GThread *t = waiter_start(&cons);
	int32_t slot;

	/* still waiting well past any short timeout */
	g_assert_false(g_atomic_int_get(&cons.done));
	slot = produce(&q, 4242);
	waiter_join(t, &cons, REACT_US);
	assert_ok(cons.ret);
	g_assert_cmpint(cons.slot, ==, slot);
	g_assert_cmpuint(cons.item, ==, 4242);
	assert_ok(hb_mem_release_buf(&q, cons.slot));
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_blocked_dequeue_gets_the_released_slot(TestModule *m,
							gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(1, sizeof(uint64_t), 0);
	Waiter prod = { .queue = q, .request = FALSE, .timeout = 5000 };
	int32_t slot = produce(&q, 3);
	GThread *t = waiter_start(&prod);

	g_assert_false(g_atomic_int_get(&prod.done));
	g_assert_cmpuint(consume(&q), ==, 3);
	waiter_join(t, &prod, REACT_US);
	assert_ok(prod.ret);
	g_assert_cmpint(prod.slot, ==, slot);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_module_close_destroys_queues(void)
{
	hb_mem_buf_queue_t a, b;
	Waiter cons;
	GThread *t;
	int32_t slot;

	assert_ok(hb_mem_module_open());
	a = make_queue(4, 8, 0);
	b = make_queue(4, 8, HB_MEM_QUEUE_FLAG_OVERWRITE);
	produce(&b, 1);
	cons = (Waiter){ .queue = a, .request = TRUE, .timeout = -1 };
	t = waiter_start(&cons);
	assert_ok(hb_mem_module_close());
	waiter_join(t, &cons, REACT_US);
	assert_hb(cons.ret, HB_MEM_ERR_QUEUE_DESTROYED);
	assert_hb(hb_mem_dequeue_buf(&a, &slot, NULL, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);

	/* reopened, the old queues are gone */
	assert_ok(hb_mem_module_open());
	assert_hb(hb_mem_dequeue_buf(&a, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_request_buf(&b, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_destroy_buf_queue(&b), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_ok(hb_mem_module_close());
}

/* ---- overwrite mode -------------------------------------------------- */

static void test_overwrite_drops_the_oldest_and_counts_drops(TestModule *m,
							     gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(4, sizeof(uint64_t),
					  HB_MEM_QUEUE_FLAG_OVERWRITE);
	uint64_t drops = 1, v;
	int32_t slot;
	int i;

	assert_ok(hb_mem_get_buf_queue_drops(&q, &drops));
	g_assert_cmpuint(drops, ==, 0);
	/* ten items into four slots: the producer never waits */
	for (i = 0; i < 10; i++)
		produce(&q, (uint64_t)i);
	assert_ok(hb_mem_get_buf_queue_drops(&q, &drops));
	g_assert_cmpuint(drops, ==, 6);
	/* the newest four are left, oldest first */
	for (i = 6; i < 10; i++)
		g_assert_cmpuint(consume(&q), ==, (uint64_t)i);

	/* the overwritten slot hands out the item it drops */
	for (i = 0; i < 4; i++)
		produce(&q, 100 + (uint64_t)i);
	assert_ok(hb_mem_dequeue_buf(&q, &slot, &v, 0));
	g_assert_cmpuint(v, ==, 100);
	assert_ok(hb_mem_cancel_buf(&q, slot));
	assert_ok(hb_mem_get_buf_queue_drops(&q, &drops));
	g_assert_cmpuint(drops, ==, 7);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_overwrite_never_takes_held_slots(TestModule *m,
						  gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(2, sizeof(uint64_t),
					  HB_MEM_QUEUE_FLAG_OVERWRITE);
	uint64_t drops;
	int32_t a, b, c;

	/* one slot held by the consumer, one by the producer */
	produce(&q, 1);
	assert_ok(hb_mem_request_buf(&q, &a, NULL, 0));
	assert_ok(hb_mem_dequeue_buf(&q, &b, NULL, 0));
	/* nothing FREE, nothing QUEUE: like normal mode */
	assert_hb(hb_mem_dequeue_buf(&q, &c, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_hb(hb_mem_dequeue_buf(&q, &c, NULL, 20), HB_MEM_ERR_TIMEOUT);
	assert_ok(hb_mem_get_buf_queue_drops(&q, &drops));
	g_assert_cmpuint(drops, ==, 0);
	assert_ok(hb_mem_release_buf(&q, a));
	assert_ok(hb_mem_cancel_buf(&q, b));
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_overwrite_wakes_a_producer_when_an_item_is_queued(
	TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(2, sizeof(uint64_t),
					  HB_MEM_QUEUE_FLAG_OVERWRITE);
	Waiter prod = { .queue = q, .request = FALSE, .timeout = -1 };
	uint64_t v = 5, drops;
	int32_t a, b;
	GThread *t;

	assert_ok(hb_mem_dequeue_buf(&q, &a, NULL, 0));
	assert_ok(hb_mem_dequeue_buf(&q, &b, NULL, 0));
	t = waiter_start(&prod);
	g_assert_false(g_atomic_int_get(&prod.done));
	/* queueing makes an overwritable slot: the producer takes it */
	assert_ok(hb_mem_queue_buf(&q, a, &v));
	waiter_join(t, &prod, REACT_US);
	assert_ok(prod.ret);
	g_assert_cmpint(prod.slot, ==, a);
	g_assert_cmpuint(prod.item, ==, 5);
	assert_ok(hb_mem_get_buf_queue_drops(&q, &drops));
	g_assert_cmpuint(drops, ==, 1);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_normal_mode_counts_no_drops(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(2, sizeof(uint64_t), 0);
	uint64_t drops = 1;
	int32_t slot;

	produce(&q, 1);
	produce(&q, 2);
	assert_hb(hb_mem_dequeue_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_ok(hb_mem_get_buf_queue_drops(&q, &drops));
	g_assert_cmpuint(drops, ==, 0);
	g_assert_cmpuint(consume(&q), ==, 1);
	g_assert_cmpuint(consume(&q), ==, 2);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

/* ---- threads --------------------------------------------------------- */

typedef struct {
	uint64_t seq;
	uint32_t producer;
	uint8_t payload[36];
} Item;	/* 48 bytes, like a hb_mem_common_buf_t */

typedef struct {
	hb_mem_buf_queue_t queue;
	uint32_t producer;
	uint64_t first;		/* producer: seq of its first item */
	uint64_t items;
	uint64_t *next_seq;	/* consumer: next expected seq per producer */
	uint32_t producers;
	gint failures;
} Worker;

static gpointer producer_run(gpointer data)
{
	Worker *w = data;
	Item it;
	int32_t slot;
	uint64_t i;

	for (i = 0; i < w->items; i++) {
		if (hb_mem_dequeue_buf(&w->queue, &slot, NULL, -1) != 0) {
			g_atomic_int_inc(&w->failures);
			break;
		}
		memset(&it, (int)((w->first + i) & 0xff), sizeof(it));
		it.seq = w->first + i;
		it.producer = w->producer;
		if (hb_mem_queue_buf(&w->queue, slot, &it) != 0) {
			g_atomic_int_inc(&w->failures);
			break;
		}
	}
	return NULL;
}

/* Consume until @w->items arrived; each producer's items in order. */
static gpointer consumer_run(gpointer data)
{
	Worker *w = data;
	Item it;
	int32_t slot;
	uint64_t i;

	for (i = 0; i < w->items; i++) {
		if (hb_mem_request_buf(&w->queue, &slot, &it, 5000) != 0 ||
		    it.producer >= w->producers ||
		    it.seq != w->next_seq[it.producer] ||
		    it.payload[35] != (uint8_t)(it.seq & 0xff) ||
		    hb_mem_release_buf(&w->queue, slot) != 0) {
			g_atomic_int_inc(&w->failures);
			break;
		}
		w->next_seq[it.producer]++;
	}
	return NULL;
}

static void test_producer_consumer_threads_pass_100000_items_in_order(
	TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = make_queue(16, sizeof(Item), 0);
	uint64_t next_seq[1] = { 0 };
	Worker prod = { .queue = q, .items = 100000 };
	Worker cons = { .queue = q, .items = 100000, .next_seq = next_seq,
			.producers = 1 };
	GThread *tp, *tc;
	int32_t slot;

	tc = g_thread_new("consumer", consumer_run, &cons);
	tp = g_thread_new("producer", producer_run, &prod);
	g_thread_join(tp);
	g_thread_join(tc);
	g_assert_cmpint(prod.failures, ==, 0);
	g_assert_cmpint(cons.failures, ==, 0);
	g_assert_cmpuint(next_seq[0], ==, 100000);
	/* nothing left over */
	assert_hb(hb_mem_request_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

/*
 * The queue's lock is biased to the thread that created it (no atomic
 * instruction while no other thread uses the queue). Here the creator is
 * in the middle of producing when a consumer thread first touches the
 * queue and takes the bias away: nothing may be lost, duplicated or
 * reordered across that moment, and the queue must end empty.
 */
static void test_creator_keeps_producing_while_a_consumer_thread_joins(
	TestModule *m, gconstpointer d)
{
	enum { ROUNDS = 5, EARLY = 10, ITEMS = 20000 };
	int r;

	for (r = 0; r < ROUNDS; r++) {
		hb_mem_buf_queue_t q = make_queue(16, sizeof(Item), 0);
		uint64_t next_seq[1] = { 0 };
		Worker early = { .queue = q, .items = EARLY };
		Worker late = { .queue = q, .first = EARLY,
				.items = ITEMS - EARLY };
		Worker cons = { .queue = q, .items = ITEMS,
				.next_seq = next_seq, .producers = 1 };
		GThread *tc;
		int32_t slot;

		/* the creator alone: biased calls */
		producer_run(&early);
		tc = g_thread_new("consumer", consumer_run, &cons);
		producer_run(&late);
		g_thread_join(tc);
		g_assert_cmpint(early.failures, ==, 0);
		g_assert_cmpint(late.failures, ==, 0);
		g_assert_cmpint(cons.failures, ==, 0);
		g_assert_cmpuint(next_seq[0], ==, ITEMS);
		assert_hb(hb_mem_request_buf(&q, &slot, NULL, 0),
			  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
		assert_ok(hb_mem_destroy_buf_queue(&q));
	}
}

/* The creator (the lock's biased owner) has exited: others just use it. */
static gpointer create_queue_run(gpointer data)
{
	hb_mem_buf_queue_t *q = data;

	*q = make_queue(4, sizeof(Item), 0);
	return NULL;
}

static void test_queue_outlives_its_creating_thread(TestModule *m,
						    gconstpointer d)
{
	hb_mem_buf_queue_t q;
	uint64_t next_seq[1] = { 0 };
	Worker prod = { .items = 4 };
	Worker cons = { .items = 4, .next_seq = next_seq, .producers = 1 };
	int32_t slot;
	int i;

	g_thread_join(g_thread_new("creator", create_queue_run, &q));
	prod.queue = cons.queue = q;
	/* this thread alone, four slots at a time */
	for (i = 0; i < 250; i++) {
		producer_run(&prod);
		consumer_run(&cons);
		prod.first += 4;
	}
	g_assert_cmpint(prod.failures, ==, 0);
	g_assert_cmpint(cons.failures, ==, 0);
	g_assert_cmpuint(next_seq[0], ==, 1000);
	assert_hb(hb_mem_request_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void test_many_producers_and_one_consumer_lose_nothing(
	TestModule *m, gconstpointer d)
{
	enum { PRODUCERS = 4, ITEMS = 20000 };
	hb_mem_buf_queue_t q = make_queue(8, sizeof(Item), 0);
	uint64_t next_seq[PRODUCERS] = { 0 };
	Worker prod[PRODUCERS];
	Worker cons = { .queue = q, .items = PRODUCERS * ITEMS,
			.next_seq = next_seq, .producers = PRODUCERS };
	GThread *tp[PRODUCERS], *tc;
	int i;

	tc = g_thread_new("consumer", consumer_run, &cons);
	for (i = 0; i < PRODUCERS; i++) {
		prod[i] = (Worker){ .queue = q, .producer = (uint32_t)i,
				    .items = ITEMS };
		tp[i] = g_thread_new("producer", producer_run, &prod[i]);
	}
	for (i = 0; i < PRODUCERS; i++) {
		g_thread_join(tp[i]);
		g_assert_cmpint(prod[i].failures, ==, 0);
	}
	g_thread_join(tc);
	g_assert_cmpint(cons.failures, ==, 0);
	for (i = 0; i < PRODUCERS; i++)
		g_assert_cmpuint(next_seq[i], ==, ITEMS);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

/* Block on a queue over and over until it goes away. */
static gpointer hammer_run(gpointer data)
{
	Worker *w = data;
	int32_t slot, ret;

	for (;;) {
		if (w->producer)
			ret = hb_mem_dequeue_buf(&w->queue, &slot, NULL, -1);
		else
			ret = hb_mem_request_buf(&w->queue, &slot, NULL, -1);
		if (ret == HB_MEM_ERR_QUEUE_DESTROYED ||
		    ret == HB_MEM_ERR_QUEUE_NOT_FOUND)
			break;
		if (ret != 0 ||
		    (!w->producer && hb_mem_release_buf(&w->queue, slot)) ||
		    (w->producer && hb_mem_cancel_buf(&w->queue, slot))) {
			g_atomic_int_inc(&w->failures);
			break;
		}
	}
	return NULL;
}

static void test_destroy_racing_with_waiters_is_safe(TestModule *m,
						     gconstpointer d)
{
	enum { ROUNDS = 50, THREADS = 4 };
	Worker w[THREADS];
	GThread *t[THREADS];
	int round, i;

	for (round = 0; round < ROUNDS; round++) {
		hb_mem_buf_queue_t q = make_queue(1, 8, 0);
		int32_t slot;

		/* the one slot is held: producers and consumers all wait */
		assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
		for (i = 0; i < THREADS; i++) {
			w[i] = (Worker){ .queue = q,
					 .producer = (uint32_t)(i & 1) };
			t[i] = g_thread_new("hammer", hammer_run, &w[i]);
		}
		g_usleep((gulong)(round % 5) * 200);
		assert_ok(hb_mem_destroy_buf_queue(&q));
		/* a new queue may reuse the old one's header at once */
		q = make_queue(1, 8, 0);
		for (i = 0; i < THREADS; i++) {
			g_thread_join(t[i]);
			g_assert_cmpint(w[i].failures, ==, 0);
		}
		assert_ok(hb_mem_destroy_buf_queue(&q));
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/queue/calls-before-open-report-module-not-found",
			test_calls_before_open_report_module_not_found);
	add_module_test("/queue/create-rejects-bad-sizes-and-flags",
			test_create_rejects_bad_sizes_and_flags);
	add_module_test("/queue/null-pointers-are-invalid-params",
			test_null_pointers_are_invalid_params);
	add_module_test("/queue/slot-out-of-range-is-invalid-params",
			test_slot_out_of_range_is_invalid_params);
	add_module_test("/queue/unknown-id-is-not-found",
			test_unknown_id_is_not_found);
	add_module_test("/queue/destroyed-queue-is-not-found",
			test_destroyed_queue_is_not_found);
	add_module_test("/queue/stale-id-is-not-found-after-header-reuse",
			test_stale_id_is_not_found_after_header_reuse);
	add_module_test("/queue/live-id-already-exists",
			test_live_id_already_exists);
	add_module_test("/queue/ids-are-never-zero-or-reused",
			test_ids_are_never_zero_or_reused);
	add_module_test("/queue/wrong-state-is-wrong-slot",
			test_wrong_state_is_wrong_slot);
	add_module_test(
		"/queue/request-with-nothing-queued-and-no-wait-is-no-slot",
		test_request_with_nothing_queued_and_no_wait_is_no_slot);
	add_module_test(
		"/queue/dequeue-with-no-free-slot-and-no-wait-is-no-slot",
		test_dequeue_with_no_free_slot_and_no_wait_is_no_slot);
	add_module_test("/queue/request-times-out-after-its-timeout",
			test_request_times_out_after_its_timeout);
	add_module_test("/queue/dequeue-times-out-after-its-timeout",
			test_dequeue_times_out_after_its_timeout);
	add_module_test("/queue/items-come-out-in-fifo-order",
			test_items_come_out_in_fifo_order);
	add_module_test("/queue/slots-cycle-round-robin-like-the-board",
			test_slots_cycle_round_robin_like_the_board);
	add_module_test("/queue/dequeue-returns-the-slot-current-item",
			test_dequeue_returns_the_slot_current_item);
	add_module_test("/queue/cancel-dequeue-frees-the-slot",
			test_cancel_dequeue_frees_the_slot);
	add_module_test("/queue/cancel-request-puts-the-item-back-at-the-head",
			test_cancel_request_puts_the_item_back_at_the_head);
	add_module_test("/queue/destroy-wakes-blocked-dequeue-and-request",
			test_destroy_wakes_blocked_dequeue_and_request);
	add_module_test(
		"/queue/destroy-wakes-timed-waiters-before-their-timeout",
		test_destroy_wakes_timed_waiters_before_their_timeout);
	add_module_test(
		"/queue/negative-timeout-waits-until-another-thread-queues",
		test_negative_timeout_waits_until_another_thread_queues);
	add_module_test("/queue/blocked-dequeue-gets-the-released-slot",
			test_blocked_dequeue_gets_the_released_slot);
	g_test_add_func("/queue/module-close-destroys-queues",
			test_module_close_destroys_queues);
	add_module_test("/queue/overwrite-drops-the-oldest-and-counts-drops",
			test_overwrite_drops_the_oldest_and_counts_drops);
	add_module_test("/queue/overwrite-never-takes-held-slots",
			test_overwrite_never_takes_held_slots);
	add_module_test(
		"/queue/overwrite-wakes-a-producer-when-an-item-is-queued",
		test_overwrite_wakes_a_producer_when_an_item_is_queued);
	add_module_test("/queue/normal-mode-counts-no-drops",
			test_normal_mode_counts_no_drops);
	add_module_test(
		"/queue/producer-consumer-threads-pass-100000-items-in-order",
		test_producer_consumer_threads_pass_100000_items_in_order);
	add_module_test(
		"/queue/many-producers-and-one-consumer-lose-nothing",
		test_many_producers_and_one_consumer_lose_nothing);
	add_module_test("/queue/destroy-racing-with-waiters-is-safe",
			test_destroy_racing_with_waiters_is_safe);
	add_module_test("/queue/creator-keeps-producing-while-a-consumer-thread-joins",
			test_creator_keeps_producing_while_a_consumer_thread_joins);
	add_module_test("/queue/outlives-its-creating-thread",
			test_queue_outlives_its_creating_thread);
	return g_test_run();
}
