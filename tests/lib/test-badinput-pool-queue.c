// SPDX-License-Identifier: MIT
/*
 * Bad input to the local pool and the buffer queue calls.
 *
 * One test per function, /badinput/<function>, plus its hidden
 * /badinput/<function>/subprocess/before-open; badinput-util.h says what
 * each runs. The helpers they share are in badinput-util.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "badinput-util.h"

/* ==== local pool ========================================================= */

/* fds that name no pool: the bad fds, plus a common and a graphic buffer. */
static void check_not_a_pool(int32_t (*call)(int32_t fd, void *arg), void *arg)
{
	hb_mem_common_buf_t c;
	hb_mem_graphic_buf_t g;
	struct bad_fds b;
	int i;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	alloc_nv12(0, &g);
	assert_hb(call(c.fd, arg), HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(call(g.fd[1], arg), HB_MEM_ERR_POOL_NOT_FOUND);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(call(b.fd[i], arg), HB_MEM_ERR_POOL_NOT_FOUND);
	bad_fds_close(&b);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void closed_hb_mem_pool_create(const struct handles *h)
{
	hb_mem_pool_t pool;

	assert_hb(hb_mem_pool_create(64 * KiB, 0, &pool),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_create(0, 0, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_pool_create(TestModule *m, gconstpointer d)
{
	hb_mem_pool_t pool;
	int fds;

	CHECK_CLOSED(hb_mem_pool_create);
	fds = test_count_fds();
	assert_hb(hb_mem_pool_create(64 * KiB, 0, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_pool_create(0, 0, &pool), HB_MEM_ERR_INVALID_PARAMS);
	/* page rounding would wrap; more than any heap or page count */
	assert_hb(hb_mem_pool_create(UINT64_MAX, 0, &pool),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_create(1ull << 63, 0, &pool),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_create(64ull << 30, 0, &pool),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_create(64 * KiB, HB_MEM_USAGE_PRIV_HEAP_SRAM,
				     &pool),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpint(test_count_fds(), ==, fds);
	heaps_are_empty();

	/* good: a size that is not a page multiple */
	assert_ok(hb_mem_pool_create(10000, HB_MEM_USAGE_CACHED, &pool));
	g_assert_cmpint(pool.fd, >=, 0);
	g_assert_cmpint(pool.page_size, >, 0);
	g_assert_cmpuint(pool.size, >=, 10000);
	g_assert_cmpint(pool.avail_page_cnt, ==, pool.total_page_cnt);
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

static int32_t call_pool_destroy(int32_t fd, void *arg)
{
	return hb_mem_pool_destroy(fd);
}

static void closed_hb_mem_pool_destroy(const struct handles *h)
{
	assert_hb(hb_mem_pool_destroy(h->pool.fd), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_destroy(-1), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_pool_destroy(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t sub;
	hb_mem_pool_t pool;

	CHECK_CLOSED(hb_mem_pool_destroy);
	check_not_a_pool(call_pool_destroy, NULL);
	/* busy while a sub-allocation lives, and still usable */
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 100, &sub));
	assert_hb(hb_mem_pool_destroy(pool.fd), HB_MEM_ERR_POOL_BUSY);
	sub.virt_addr[99] = 1;
	assert_ok(hb_mem_pool_free_buf(va(sub.virt_addr)));
	/* destroyed twice; a pool freed through hb_mem_free_buf */
	assert_ok(hb_mem_pool_destroy(pool.fd));
	assert_hb(hb_mem_pool_destroy(pool.fd), HB_MEM_ERR_POOL_NOT_FOUND);
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_ok(hb_mem_free_buf(pool.fd));
	assert_hb(hb_mem_pool_destroy(pool.fd), HB_MEM_ERR_POOL_NOT_FOUND);
	heaps_are_empty();

	/* good */
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_ok(hb_mem_pool_destroy(pool.fd));
	heaps_are_empty();
}

static int32_t call_pool_alloc(int32_t fd, void *arg)
{
	return hb_mem_pool_alloc_buf(fd, 100, arg);
}

static void closed_hb_mem_pool_alloc_buf(const struct handles *h)
{
	hb_mem_common_buf_t c;

	assert_hb(hb_mem_pool_alloc_buf(h->pool.fd, 100, &c),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_alloc_buf(-1, 0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_pool_alloc_buf(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c, sub[2];
	hb_mem_pool_t pool, gone, info;

	CHECK_CLOSED(hb_mem_pool_alloc_buf);
	check_not_a_pool(call_pool_alloc, &c);
	/* a destroyed pool (made second, so the live one cannot reuse its fd) */
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &gone));
	assert_ok(hb_mem_pool_destroy(gone.fd));
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 100, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 0, &c),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_pool_alloc_buf(gone.fd, 100, &c),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	/* bigger than the pool; sizes whose page rounding would wrap */
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 64 * KiB + 1, &c),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, UINT64_MAX, &c),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, UINT64_MAX - 4094, &c),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	/* exhausted */
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 64 * KiB, &sub[0]));
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 1, &c),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_ok(hb_mem_pool_get_info(pool.fd, &info));
	g_assert_cmpint(info.cur_client_cnt, ==, 1);
	assert_ok(hb_mem_pool_free_buf(va(sub[0].virt_addr)));

	/* good */
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 1, &sub[0]));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 5000, &sub[1]));
	g_assert_cmpuint(sub[1].size, ==, 5000);
	memset(sub[1].virt_addr, 0x11, 5000);
	assert_ok(hb_mem_pool_free_buf(va(sub[0].virt_addr)));
	assert_ok(hb_mem_pool_free_buf(va(sub[1].virt_addr)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

static void closed_hb_mem_pool_free_buf(const struct handles *h)
{
	assert_hb(hb_mem_pool_free_buf(va(foreign_page)),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_free_buf(0), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_pool_free_buf(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c, sub, other;
	hb_mem_pool_t pool, info;
	struct bad_addrs b;
	int i;

	CHECK_CLOSED(hb_mem_pool_free_buf);
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 10000, &sub));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 100, &other));
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_pool_free_buf(b.a[i]), HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	/* a common buffer; inside a sub-allocation; free pool pages */
	assert_hb(hb_mem_pool_free_buf(va(c.virt_addr)),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(va(sub.virt_addr) + 1),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(va(sub.virt_addr) + 8192),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(va(sub.virt_addr) + 9999),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(va(other.virt_addr) + 8192),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(va(other.virt_addr) + 40 * KiB),
		  HB_MEM_ERR_INVALID_VADDR);
	/* double free */
	assert_ok(hb_mem_pool_free_buf(va(other.virt_addr)));
	assert_hb(hb_mem_pool_free_buf(va(other.virt_addr)),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_pool_get_info(pool.fd, &info));
	g_assert_cmpint(info.cur_client_cnt, ==, 1);
	assert_ok(hb_mem_free_buf(c.fd));

	/* good; then the pool is gone and so is the address */
	assert_ok(hb_mem_pool_free_buf(va(sub.virt_addr)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
	assert_hb(hb_mem_pool_free_buf(va(sub.virt_addr)),
		  HB_MEM_ERR_INVALID_VADDR);
}

static int32_t call_pool_get_info(int32_t fd, void *arg)
{
	return hb_mem_pool_get_info(fd, arg);
}

static void closed_hb_mem_pool_get_info(const struct handles *h)
{
	hb_mem_pool_t info;

	assert_hb(hb_mem_pool_get_info(h->pool.fd, &info),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_get_info(-1, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_pool_get_info(TestModule *m, gconstpointer d)
{
	hb_mem_pool_t pool, info;

	CHECK_CLOSED(hb_mem_pool_get_info);
	check_not_a_pool(call_pool_get_info, &info);
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_hb(hb_mem_pool_get_info(pool.fd, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);

	/* good */
	assert_ok(hb_mem_pool_get_info(pool.fd, &info));
	g_assert_cmpmem(&info, sizeof(info), &pool, sizeof(pool));
	assert_ok(hb_mem_pool_destroy(pool.fd));
	assert_hb(hb_mem_pool_get_info(pool.fd, &info),
		  HB_MEM_ERR_POOL_NOT_FOUND);
}

/* ==== queue ============================================================== */

/* A 4-slot queue of 8-byte items. */
static void queue_new(hb_mem_buf_queue_t *q)
{
	memset(q, 0, sizeof(*q));
	q->count = 4;
	q->item_size = 8;
	assert_ok(hb_mem_create_buf_queue(q));
}

/* A queue id that names no live queue: made up, or destroyed. */
static void queue_gone(hb_mem_buf_queue_t *q)
{
	queue_new(q);
	assert_ok(hb_mem_destroy_buf_queue(q));
}

static void check_queue_create(int32_t (*create)(hb_mem_buf_queue_t *q))
{
	static const uint32_t bad[][2] = {
		{ 0, 8 }, { 4, 0 }, { 0, 0 },
		/* more slots, or more bytes, than a queue may have */
		{ UINT32_MAX, 1 }, { (1u << 20) + 1, 1 },
		{ 1, UINT32_MAX }, { 65536, 65536 }, { UINT32_MAX, UINT32_MAX },
	};
	hb_mem_buf_queue_t q, again;
	size_t i;

	assert_hb(create(NULL), HB_MEM_ERR_INVALID_PARAMS);
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		memset(&q, 0, sizeof(q));
		q.count = bad[i][0];
		q.item_size = bad[i][1];
		assert_hb(create(&q), HB_MEM_ERR_INVALID_PARAMS);
		g_assert_cmpuint(q.unique_id, ==, 0);
	}
	/* the struct of a live queue */
	queue_new(&q);
	again = q;
	assert_hb(create(&again), HB_MEM_ERR_QUEUE_ALREADY_EXIST);
	g_assert_cmpuint(again.unique_id, ==, q.unique_id);
	assert_ok(hb_mem_destroy_buf_queue(&q));

	/* good: a destroyed queue's struct, and a made-up id, are reusable */
	assert_ok(create(&q));
	assert_ok(hb_mem_destroy_buf_queue(&q));
	q.unique_id = 0x123456789abcdefull;
	assert_ok(create(&q));
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void closed_hb_mem_create_buf_queue(const struct handles *h)
{
	hb_mem_buf_queue_t q = { 0, 4, 8 };

	assert_hb(hb_mem_create_buf_queue(&q), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_create_buf_queue(NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static int32_t create_plain(hb_mem_buf_queue_t *q)
{
	return hb_mem_create_buf_queue(q);
}

static void test_hb_mem_create_buf_queue(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_create_buf_queue);
	check_queue_create(create_plain);
}

static void closed_hb_mem_create_buf_queue_ex(const struct handles *h)
{
	hb_mem_buf_queue_t q = { 0, 4, 8 };

	assert_hb(hb_mem_create_buf_queue_ex(&q, HB_MEM_QUEUE_FLAG_OVERWRITE),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_create_buf_queue_ex(NULL, ~0u),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static int32_t create_overwrite(hb_mem_buf_queue_t *q)
{
	return hb_mem_create_buf_queue_ex(q, HB_MEM_QUEUE_FLAG_OVERWRITE);
}

static void test_hb_mem_create_buf_queue_ex(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = { 0, 4, 8 };

	CHECK_CLOSED(hb_mem_create_buf_queue_ex);
	/* unknown flags */
	assert_hb(hb_mem_create_buf_queue_ex(&q, 1u << 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_create_buf_queue_ex(&q, ~0u),
		  HB_MEM_ERR_INVALID_PARAMS);
	g_assert_cmpuint(q.unique_id, ==, 0);
	check_queue_create(create_overwrite);
	/* good, without flags too */
	assert_ok(hb_mem_create_buf_queue_ex(&q, 0));
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void closed_hb_mem_destroy_buf_queue(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;

	assert_hb(hb_mem_destroy_buf_queue(&q), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_destroy_buf_queue(NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_destroy_buf_queue(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q, gone, fake = { 0, 4, 8 };

	CHECK_CLOSED(hb_mem_destroy_buf_queue);
	queue_gone(&gone);
	assert_hb(hb_mem_destroy_buf_queue(NULL), HB_MEM_ERR_INVALID_PARAMS);
	/* never created, made up, destroyed twice */
	assert_hb(hb_mem_destroy_buf_queue(&fake), HB_MEM_ERR_QUEUE_NOT_FOUND);
	fake.unique_id = UINT64_MAX;
	assert_hb(hb_mem_destroy_buf_queue(&fake), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_destroy_buf_queue(&gone), HB_MEM_ERR_QUEUE_NOT_FOUND);

	/* good */
	queue_new(&q);
	assert_ok(hb_mem_destroy_buf_queue(&q));
	assert_hb(hb_mem_destroy_buf_queue(&q), HB_MEM_ERR_QUEUE_NOT_FOUND);
}

typedef int32_t (*take_fn)(hb_mem_buf_queue_t *queue, int32_t *slot,
			   void *buf, int64_t timeout);

/* Bad input to dequeue or request: @q has nothing to take. */
static void check_take(take_fn fn, hb_mem_buf_queue_t *q)
{
	hb_mem_buf_queue_t gone, fake = { 0x5151, 4, 8 };
	uint64_t item;
	int32_t slot = -7;

	queue_gone(&gone);
	assert_hb(fn(NULL, &slot, &item, 0), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(fn(q, NULL, &item, 0), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(fn(&fake, &slot, &item, 0), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(fn(&gone, &slot, &item, -1), HB_MEM_ERR_QUEUE_NOT_FOUND);
	/* nothing to take: at once, after a wait */
	assert_hb(fn(q, &slot, &item, 0), HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_hb(fn(q, &slot, &item, 5), HB_MEM_ERR_TIMEOUT);
	g_assert_cmpint(slot, ==, -7);
}

static void closed_hb_mem_dequeue_buf(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;
	uint64_t item;
	int32_t slot;

	assert_hb(hb_mem_dequeue_buf(&q, &slot, &item, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_dequeue_buf(NULL, NULL, NULL, -1),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_dequeue_buf(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q;
	int32_t slot[4], s;
	uint64_t item = 42;
	int i;

	CHECK_CLOSED(hb_mem_dequeue_buf);
	queue_new(&q);
	for (i = 0; i < 4; i++)
		assert_ok(hb_mem_dequeue_buf(&q, &slot[i], NULL, 0));
	check_take(hb_mem_dequeue_buf, &q);

	/* good, once a slot is free again; buf may be NULL */
	assert_ok(hb_mem_cancel_buf(&q, slot[2]));
	assert_ok(hb_mem_dequeue_buf(&q, &s, &item, -1));
	g_assert_cmpint(s, ==, slot[2]);
	g_assert_cmpuint(item, ==, 0);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void closed_hb_mem_request_buf(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;
	uint64_t item;
	int32_t slot;

	assert_hb(hb_mem_request_buf(&q, &slot, &item, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_request_buf(NULL, NULL, NULL, -1),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_request_buf(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q;
	uint64_t item = 0x1122334455667788ull, out = 0;
	int32_t s, r;

	CHECK_CLOSED(hb_mem_request_buf);
	queue_new(&q);
	/* a dequeued slot is not yet queued */
	assert_ok(hb_mem_dequeue_buf(&q, &s, NULL, 0));
	check_take(hb_mem_request_buf, &q);

	/* good */
	assert_ok(hb_mem_queue_buf(&q, s, &item));
	assert_ok(hb_mem_request_buf(&q, &r, &out, -1));
	g_assert_cmpint(r, ==, s);
	g_assert_cmphex(out, ==, item);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

/*
 * Bad slots for the calls that name one: negative, past the end, and in
 * each wrong state. @ok_state says which of DEQUEUE, QUEUE, REQUEST the
 * call accepts (bit 0, 1, 2); FREE never is.
 */
static void check_slot_call(int32_t (*call)(hb_mem_buf_queue_t *q, int32_t s),
			    unsigned int ok_state)
{
	hb_mem_buf_queue_t q, gone, fake = { 0x5151, 4, 8 };
	int32_t dq, qd, rq, s;
	uint64_t item = 7;

	queue_gone(&gone);
	queue_new(&q);
	assert_hb(call(NULL, 0), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(call(&q, -1), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(call(&q, INT32_MIN), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(call(&q, 4), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(call(&q, INT32_MAX), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(call(&fake, 0), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(call(&gone, 0), HB_MEM_ERR_QUEUE_NOT_FOUND);
	/* one slot in each state; slot 3 stays FREE */
	assert_ok(hb_mem_dequeue_buf(&q, &rq, NULL, 0));
	assert_ok(hb_mem_queue_buf(&q, rq, &item));
	assert_ok(hb_mem_request_buf(&q, &s, NULL, 0));
	g_assert_cmpint(s, ==, rq);
	assert_ok(hb_mem_dequeue_buf(&q, &qd, NULL, 0));
	assert_ok(hb_mem_queue_buf(&q, qd, &item));
	assert_ok(hb_mem_dequeue_buf(&q, &dq, NULL, 0));
	assert_hb(call(&q, 3), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	if (!(ok_state & 1))
		assert_hb(call(&q, dq), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	if (!(ok_state & 2))
		assert_hb(call(&q, qd), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	if (!(ok_state & 4))
		assert_hb(call(&q, rq), HB_MEM_ERR_QUEUE_WRONG_SLOT);

	/* good: each accepted state, once; twice is a wrong slot */
	if (ok_state & 1) {
		assert_ok(call(&q, dq));
		assert_hb(call(&q, dq), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	}
	if (ok_state & 4) {
		assert_ok(call(&q, rq));
		if (ok_state & 2)	/* cancel: REQUEST went back to QUEUE */
			assert_hb(call(&q, rq), HB_MEM_ERR_QUEUE_WRONG_SLOT);
		else
			assert_hb(call(&q, rq), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	}
	assert_ok(hb_mem_destroy_buf_queue(&q));
	assert_hb(call(&q, 0), HB_MEM_ERR_QUEUE_NOT_FOUND);
}

static int32_t queue_with_item(hb_mem_buf_queue_t *q, int32_t s)
{
	uint64_t item = 9;

	return hb_mem_queue_buf(q, s, &item);
}

static void closed_hb_mem_queue_buf(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;
	uint64_t item = 0;

	assert_hb(hb_mem_queue_buf(&q, 0, &item), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_queue_buf(NULL, -1, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_queue_buf(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q;
	int32_t s;

	CHECK_CLOSED(hb_mem_queue_buf);
	queue_new(&q);
	assert_ok(hb_mem_dequeue_buf(&q, &s, NULL, 0));
	assert_hb(hb_mem_queue_buf(&q, s, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_destroy_buf_queue(&q));
	check_slot_call(queue_with_item, 1);
}

static void closed_hb_mem_release_buf(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;

	assert_hb(hb_mem_release_buf(&q, 0), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_release_buf(NULL, -1), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_release_buf(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_release_buf);
	check_slot_call(hb_mem_release_buf, 4);
}

static void closed_hb_mem_cancel_buf(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;

	assert_hb(hb_mem_cancel_buf(&q, 0), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_cancel_buf(NULL, -1), HB_MEM_ERR_MODULE_NOT_FOUND);
}

/* cancel accepts DEQUEUE and REQUEST, but not a QUEUE slot. */
static void test_hb_mem_cancel_buf(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_cancel_buf);
	check_slot_call(hb_mem_cancel_buf, 1 | 4);
}

static void closed_hb_mem_get_buf_queue_drops(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;
	uint64_t drops;

	assert_hb(hb_mem_get_buf_queue_drops(&q, &drops),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_buf_queue_drops(NULL, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_buf_queue_drops(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q, gone, fake = { 0x5151, 4, 8 };
	uint64_t drops = 77;

	CHECK_CLOSED(hb_mem_get_buf_queue_drops);
	queue_gone(&gone);
	queue_new(&q);
	assert_hb(hb_mem_get_buf_queue_drops(NULL, &drops),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_queue_drops(&q, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_queue_drops(&fake, &drops),
		  HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_get_buf_queue_drops(&gone, &drops),
		  HB_MEM_ERR_QUEUE_NOT_FOUND);
	g_assert_cmpuint(drops, ==, 77);

	/* good */
	assert_ok(hb_mem_get_buf_queue_drops(&q, &drops));
	g_assert_cmpuint(drops, ==, 0);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

/* ==== registration ======================================================= */

int main(int argc, char **argv)
{
	badinput_init(&argc, &argv);
	/* local pool */
	ADD(hb_mem_pool_create);
	ADD(hb_mem_pool_destroy);
	ADD(hb_mem_pool_alloc_buf);
	ADD(hb_mem_pool_free_buf);
	ADD(hb_mem_pool_get_info);
	/* queue */
	ADD(hb_mem_create_buf_queue);
	ADD(hb_mem_destroy_buf_queue);
	ADD(hb_mem_dequeue_buf);
	ADD(hb_mem_queue_buf);
	ADD(hb_mem_request_buf);
	ADD(hb_mem_release_buf);
	ADD(hb_mem_cancel_buf);
	/* hb_mem_ext.h */
	ADD(hb_mem_create_buf_queue_ex);
	ADD(hb_mem_get_buf_queue_drops);
	return g_test_run();
}
