// SPDX-License-Identifier: MIT
/*
 * The memory queue across threads: what its two-sided locking (a producer
 * lock, a consumer lock, each biased to the first thread that takes it,
 * and sleeps paired with publishers through membarrier or a fence) could
 * break. Long item streams with cancels on both sides, several producers
 * and consumers, a third thread taking a side away from its owner,
 * destroy waking one side while the other is mid-call, and timed waits
 * woken by the other side rather than by their timeout.
 *
 * Every wait is bounded: calls that may block use timeouts, and threads
 * are joined through join_within(). The same program also runs with
 * HBMEM_NO_MEMBARRIER=1 (tests/lib/meson.build), where the queue's
 * publishers use a full fence instead of relying on the sleeper's
 * membarrier().
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"

/* Longest any thread may take for its part (generous: TSan, valgrind). */
#define BOUND_US (120 * G_USEC_PER_SEC)
/* Timeout of a wait that the other side is expected to end. */
#define WAIT_MS 10000

typedef struct {
	uint64_t seq;
	uint32_t producer;
	uint32_t check;		/* a function of seq and producer */
	uint8_t pad[32];
} Item;	/* 48 bytes, like a hb_mem_common_buf_t */

static uint32_t item_check(uint64_t seq, uint32_t producer)
{
	return (uint32_t)(seq * 2654435761u) ^ (producer << 24) ^ 0x5a5a5a5au;
}

static hb_mem_buf_queue_t make_queue(uint32_t count)
{
	hb_mem_buf_queue_t q = { .count = count, .item_size = sizeof(Item) };

	assert_ok(hb_mem_create_buf_queue(&q));
	return q;
}

/* A thread's result: 0, or where it went wrong (for the failure text). */
typedef struct {
	GThread *thread;
	gint done;
	const char *failed;	/* what failed, NULL when nothing did */
	int32_t ret;		/* the call's code when it failed */
	uint64_t at;		/* the item count when it failed */
} Run;

static void run_fail(Run *r, const char *what, int32_t ret, uint64_t at)
{
	if (!r->failed) {
		r->failed = what;
		r->ret = ret;
		r->at = at;
	}
}

/* Join @r's thread once it is done, failing after @us microseconds. */
static void join_within(Run *r, int64_t us)
{
	int64_t end = g_get_monotonic_time() + us;

	while (!g_atomic_int_get(&r->done)) {
		if (g_get_monotonic_time() > end)
			g_error("a thread did not finish within %" G_GINT64_FORMAT
				" us", us);
		g_usleep(1000);
	}
	g_thread_join(r->thread);
}

static void assert_run_ok(const Run *r, const char *who)
{
	if (r->failed) {
		char msg[128];

		hb_mem_strerror(r->ret, msg, sizeof(msg));
		g_error("%s: %s failed at item %" G_GUINT64_FORMAT
			": 0x%x (%s)", who, r->failed, r->at,
			(unsigned)r->ret, msg);
	}
}

/* ---- one producer, one consumer, cancels on both sides ---------------- */

typedef struct {
	Run run;
	hb_mem_buf_queue_t queue;
	uint64_t items;
	uint32_t seed;
	uint64_t cancels;
} Side;

/*
 * Produce @items in order; about one dequeue in eight is cancelled, and
 * the next dequeue must give the same slot back (cancel returns it to the
 * head of the FREE ring, and nobody else produces).
 */
static gpointer cancelling_producer(gpointer data)
{
	Side *p = data;
	GRand *rand = g_rand_new_with_seed(p->seed);
	int32_t slot, again, ret;
	Item it = { 0 };
	uint64_t i;

	for (i = 0; i < p->items; i++) {
		ret = hb_mem_dequeue_buf(&p->queue, &slot, NULL, WAIT_MS);
		if (ret) {
			run_fail(&p->run, "dequeue", ret, i);
			break;
		}
		if (g_rand_int_range(rand, 0, 8) == 0) {
			ret = hb_mem_cancel_buf(&p->queue, slot);
			if (ret == 0)
				ret = hb_mem_dequeue_buf(&p->queue, &again,
							 NULL, 0);
			if (ret) {
				run_fail(&p->run, "cancel and dequeue", ret, i);
				break;
			}
			if (again != slot) {
				run_fail(&p->run, "same slot after cancel", 0,
					 i);
				break;
			}
			p->cancels++;
		}
		it.seq = i;
		it.check = item_check(i, 0);
		ret = hb_mem_queue_buf(&p->queue, slot, &it);
		if (ret) {
			run_fail(&p->run, "queue", ret, i);
			break;
		}
	}
	g_rand_free(rand);
	g_atomic_int_set(&p->run.done, 1);
	return NULL;
}

/*
 * Consume @items, checking order and content; about one request in eight
 * is cancelled, and the next request must give the same slot and item.
 */
static gpointer cancelling_consumer(gpointer data)
{
	Side *c = data;
	GRand *rand = g_rand_new_with_seed(c->seed);
	int32_t slot, again, ret;
	Item it, it2;
	uint64_t i;

	for (i = 0; i < c->items; i++) {
		ret = hb_mem_request_buf(&c->queue, &slot, &it, WAIT_MS);
		if (ret) {
			run_fail(&c->run, "request", ret, i);
			break;
		}
		if (it.seq != i || it.check != item_check(i, 0)) {
			run_fail(&c->run, "item order or content", 0, i);
			break;
		}
		if (g_rand_int_range(rand, 0, 8) == 0) {
			ret = hb_mem_cancel_buf(&c->queue, slot);
			if (ret == 0)
				ret = hb_mem_request_buf(&c->queue, &again,
							 &it2, 0);
			if (ret) {
				run_fail(&c->run, "cancel and request", ret, i);
				break;
			}
			if (again != slot || it2.seq != i) {
				run_fail(&c->run, "same item after cancel", 0,
					 i);
				break;
			}
			c->cancels++;
		}
		ret = hb_mem_release_buf(&c->queue, slot);
		if (ret) {
			run_fail(&c->run, "release", ret, i);
			break;
		}
	}
	g_rand_free(rand);
	g_atomic_int_set(&c->run.done, 1);
	return NULL;
}

static void test_a_million_items_pass_in_order_with_cancels_on_both_sides(
	TestModule *m, gconstpointer d)
{
	const guint ITEMS = test_scaled(1000000, 20000);
	hb_mem_buf_queue_t q = make_queue(16);
	Side prod = { .queue = q, .items = ITEMS, .seed = 1 };
	Side cons = { .queue = q, .items = ITEMS, .seed = 2 };
	int32_t slot;

	cons.run.thread = g_thread_new("consumer", cancelling_consumer, &cons);
	prod.run.thread = g_thread_new("producer", cancelling_producer, &prod);
	join_within(&prod.run, BOUND_US);
	join_within(&cons.run, BOUND_US);
	assert_run_ok(&prod.run, "producer");
	assert_run_ok(&cons.run, "consumer");
	/* about one in eight, and surely some */
	g_assert_cmpuint(prod.cancels, >, ITEMS / 16);
	g_assert_cmpuint(cons.cancels, >, ITEMS / 16);
	assert_hb(hb_mem_request_buf(&q, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

/* ---- several producers and consumers ---------------------------------- */

typedef struct {
	hb_mem_buf_queue_t queue;
	uint32_t producers;
	uint64_t per_producer;
	gint *seen;		/* per item: times consumed */
	gint consumed;
	gint started_consumers;
} Shared;

typedef struct {
	Run run;
	Shared *sh;
	uint32_t id;
	uint64_t count;		/* produced or consumed */
} Worker;

static gpointer plain_producer(gpointer data)
{
	Worker *w = data;
	Item it = { 0 };
	int32_t slot, ret;
	uint64_t i;

	for (i = 0; i < w->sh->per_producer; i++) {
		ret = hb_mem_dequeue_buf(&w->sh->queue, &slot, NULL, WAIT_MS);
		if (ret) {
			run_fail(&w->run, "dequeue", ret, i);
			break;
		}
		it.seq = i;
		it.producer = w->id;
		it.check = item_check(i, w->id);
		ret = hb_mem_queue_buf(&w->sh->queue, slot, &it);
		if (ret) {
			run_fail(&w->run, "queue", ret, i);
			break;
		}
		w->count++;
	}
	g_atomic_int_set(&w->run.done, 1);
	return NULL;
}

/*
 * Consume until every item of every producer was consumed by someone:
 * each item exactly once overall, and each producer's items in increasing
 * order within this consumer (a FIFO hands them out in order, and this
 * consumer's requests follow one another).
 */
static gpointer counting_consumer(gpointer data)
{
	Worker *w = data;
	Shared *sh = w->sh;
	gint total = (gint)(sh->producers * sh->per_producer);
	int64_t end = g_get_monotonic_time() + BOUND_US;
	uint64_t *last = g_new0(uint64_t, sh->producers);
	int32_t slot, ret;
	Item it;

	g_atomic_int_inc(&sh->started_consumers);
	while (g_atomic_int_get(&sh->consumed) < total) {
		if (g_get_monotonic_time() > end) {
			run_fail(&w->run, "finishing in time", 0, w->count);
			break;
		}
		ret = hb_mem_request_buf(&sh->queue, &slot, &it, 20);
		if (ret == HB_MEM_ERR_TIMEOUT)
			continue;	/* others may have taken the rest */
		if (ret) {
			run_fail(&w->run, "request", ret, w->count);
			break;
		}
		if (it.producer >= sh->producers ||
		    it.seq >= sh->per_producer ||
		    it.check != item_check(it.seq, it.producer)) {
			run_fail(&w->run, "item content", 0, w->count);
			break;
		}
		if (last[it.producer] && it.seq < last[it.producer]) {
			run_fail(&w->run, "per-producer order", 0, w->count);
			break;
		}
		last[it.producer] = it.seq + 1;
		if (g_atomic_int_add(&sh->seen[it.producer * sh->per_producer +
					       it.seq],
				     1) != 0) {
			run_fail(&w->run, "item seen once", 0, w->count);
			break;
		}
		ret = hb_mem_release_buf(&sh->queue, slot);
		if (ret) {
			run_fail(&w->run, "release", ret, w->count);
			break;
		}
		w->count++;
		g_atomic_int_inc(&sh->consumed);
	}
	g_free(last);
	g_atomic_int_set(&w->run.done, 1);
	return NULL;
}

static void assert_all_seen_once(const Shared *sh)
{
	uint64_t i, n = sh->producers * sh->per_producer;

	for (i = 0; i < n; i++)
		if (sh->seen[i] != 1)
			g_error("item %" G_GUINT64_FORMAT " of producer %"
				G_GUINT64_FORMAT " seen %d times",
				i % sh->per_producer, i / sh->per_producer,
				sh->seen[i]);
}

static void test_two_producers_and_two_consumers_see_every_item_once(
	TestModule *m, gconstpointer d)
{
	enum { N = 2 };
	const guint PER = test_scaled(200000, 5000);
	Shared sh = { .queue = make_queue(8), .producers = N,
		      .per_producer = PER };
	Worker prod[N], cons[N];
	int i;

	sh.seen = g_new0(gint, N * PER);
	for (i = 0; i < N; i++) {
		cons[i] = (Worker){ .sh = &sh, .id = (uint32_t)i };
		cons[i].run.thread =
			g_thread_new("consumer", counting_consumer, &cons[i]);
		prod[i] = (Worker){ .sh = &sh, .id = (uint32_t)i };
		prod[i].run.thread =
			g_thread_new("producer", plain_producer, &prod[i]);
	}
	for (i = 0; i < N; i++) {
		join_within(&prod[i].run, BOUND_US);
		assert_run_ok(&prod[i].run, "producer");
	}
	for (i = 0; i < N; i++) {
		join_within(&cons[i].run, BOUND_US);
		assert_run_ok(&cons[i].run, "consumer");
	}
	g_assert_cmpuint(cons[0].count + cons[1].count, ==, N * PER);
	assert_all_seen_once(&sh);
	assert_ok(hb_mem_destroy_buf_queue(&sh.queue));
	g_free(sh.seen);
}

/* ---- a third thread takes a side from its owner ------------------------ */

/* Wait until at least @n items were consumed (bounded). */
static void wait_consumed(Shared *sh, gint n)
{
	int64_t end = g_get_monotonic_time() + BOUND_US;

	while (g_atomic_int_get(&sh->consumed) < n) {
		if (g_get_monotonic_time() > end)
			g_error("the stream stalled at %d items",
				g_atomic_int_get(&sh->consumed));
		g_usleep(100);
	}
}

/*
 * A producer thread and a consumer thread have claimed their sides and
 * are streaming when a third thread starts producing: the producer lock's
 * bias is revoked under a running owner. Then a fourth starts consuming,
 * revoking the consumer lock's. Nothing may be lost, duplicated or
 * reordered, and the queue keeps working for yet another thread.
 */
static void test_third_threads_take_each_side_from_its_owner_mid_stream(
	TestModule *m, gconstpointer d)
{
	const guint PER = test_scaled(100000, 5000);
	Shared sh = { .queue = make_queue(16), .producers = 2,
		      .per_producer = PER };
	Worker p0 = { .sh = &sh, .id = 0 }, p1 = { .sh = &sh, .id = 1 };
	Worker c0 = { .sh = &sh }, c1 = { .sh = &sh };
	uint64_t v = 0;
	int32_t slot;
	Item it;

	sh.seen = g_new0(gint, 2 * PER);
	c0.run.thread = g_thread_new("consumer", counting_consumer, &c0);
	p0.run.thread = g_thread_new("producer", plain_producer, &p0);
	wait_consumed(&sh, 1000);	/* both sides claimed and busy */
	p1.run.thread = g_thread_new("producer 2", plain_producer, &p1);
	wait_consumed(&sh, PER / 2);
	c1.run.thread = g_thread_new("consumer 2", counting_consumer, &c1);
	join_within(&p0.run, BOUND_US);
	join_within(&p1.run, BOUND_US);
	join_within(&c0.run, BOUND_US);
	join_within(&c1.run, BOUND_US);
	assert_run_ok(&p0.run, "producer");
	assert_run_ok(&p1.run, "third thread producing");
	assert_run_ok(&c0.run, "consumer");
	assert_run_ok(&c1.run, "fourth thread consuming");
	g_assert_cmpuint(c0.count + c1.count, ==, 2 * PER);
	assert_all_seen_once(&sh);

	/* this thread, a fifth, on both sides and with a cancel */
	memset(&it, 0, sizeof(it));
	assert_ok(hb_mem_dequeue_buf(&sh.queue, &slot, NULL, 0));
	assert_ok(hb_mem_queue_buf(&sh.queue, slot, &it));
	assert_ok(hb_mem_request_buf(&sh.queue, &slot, &it, 0));
	assert_ok(hb_mem_cancel_buf(&sh.queue, slot));
	assert_ok(hb_mem_request_buf(&sh.queue, &slot, &it, 0));
	assert_ok(hb_mem_release_buf(&sh.queue, slot));
	assert_ok(hb_mem_get_buf_queue_drops(&sh.queue, &v));
	g_assert_cmpuint(v, ==, 0);
	assert_ok(hb_mem_destroy_buf_queue(&sh.queue));
	g_free(sh.seen);
}

/* ---- destroy wakes one side while the other is mid-call --------------- */

typedef struct {
	Run run;
	hb_mem_buf_queue_t queue;
	gboolean request;	/* else dequeue */
	int64_t timeout;
	gint started;
	gint iterations;
} Caller;

/* One blocking call; its code is the result. */
static gpointer blocking_call(gpointer data)
{
	Caller *c = data;
	int32_t slot;
	Item it;

	g_atomic_int_set(&c->started, 1);
	if (c->request)
		c->run.ret = hb_mem_request_buf(&c->queue, &slot, &it,
						c->timeout);
	else
		c->run.ret = hb_mem_dequeue_buf(&c->queue, &slot, &it,
						c->timeout);
	g_atomic_int_set(&c->run.done, 1);
	return NULL;
}

/*
 * Take and cancel over and over without waiting (request+cancel, or
 * dequeue+cancel) until the queue goes away; its code is the result.
 */
static gpointer take_cancel_loop(gpointer data)
{
	Caller *c = data;
	int32_t slot, ret;

	for (;;) {
		if (c->request)
			ret = hb_mem_request_buf(&c->queue, &slot, NULL, 0);
		else
			ret = hb_mem_dequeue_buf(&c->queue, &slot, NULL, 0);
		if (ret == 0)
			ret = hb_mem_cancel_buf(&c->queue, slot);
		if (ret)
			break;
		g_atomic_int_inc(&c->iterations);
	}
	c->run.ret = ret;
	g_atomic_int_set(&c->run.done, 1);
	return NULL;
}

/* Wait until @c has gone round its loop @n times (bounded). */
static void wait_iterations(Caller *c, gint n)
{
	int64_t end = g_get_monotonic_time() + BOUND_US;

	while (g_atomic_int_get(&c->iterations) < n) {
		if (g_get_monotonic_time() > end)
			g_error("a looping thread made no progress");
		g_usleep(100);
	}
}

/*
 * @sleeper_requests: a consumer blocks in request on an empty queue while
 * a producer thread loops dequeue+cancel; else a producer blocks in
 * dequeue on a full queue while a consumer thread loops request+cancel.
 * After @delay_us the queue is destroyed: the blocked call returns
 * QUEUE_DESTROYED, the loop ends with QUEUE_NOT_FOUND, and a new queue
 * (which may reuse the header) works. Returns FALSE when the sleeper's
 * call started only after the destroy (it then returns QUEUE_NOT_FOUND):
 * on a loaded machine a thread can wait for a CPU longer than the delay.
 */
static gboolean destroy_one_side_waiting(gboolean sleeper_requests,
					 gulong delay_us)
{
	hb_mem_buf_queue_t q = make_queue(4);
	Caller sleeper = { .queue = q, .request = sleeper_requests,
			   .timeout = -1 };
	Caller busy = { .queue = q, .request = !sleeper_requests };
	Item it = { 0 };
	int32_t slot;
	int i;

	if (!sleeper_requests) {
		for (i = 0; i < 4; i++) {
			assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
			assert_ok(hb_mem_queue_buf(&q, slot, &it));
		}
	}
	busy.run.thread = g_thread_new("busy", take_cancel_loop, &busy);
	wait_iterations(&busy, 100);
	sleeper.run.thread = g_thread_new("sleeper", blocking_call, &sleeper);
	while (!g_atomic_int_get(&sleeper.started))
		g_usleep(100);
	g_usleep(delay_us);
	assert_ok(hb_mem_destroy_buf_queue(&q));
	join_within(&sleeper.run, BOUND_US);
	join_within(&busy.run, BOUND_US);
	if (sleeper.run.ret != HB_MEM_ERR_QUEUE_NOT_FOUND)
		assert_hb(sleeper.run.ret, HB_MEM_ERR_QUEUE_DESTROYED);
	assert_hb(busy.run.ret, HB_MEM_ERR_QUEUE_NOT_FOUND);
	g_assert_cmpint(g_atomic_int_get(&busy.iterations), >=, 100);

	q = make_queue(2);
	assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
	assert_ok(hb_mem_queue_buf(&q, slot, &it));
	assert_ok(hb_mem_request_buf(&q, &slot, &it, 0));
	assert_ok(hb_mem_release_buf(&q, slot));
	assert_ok(hb_mem_destroy_buf_queue(&q));
	return sleeper.run.ret == HB_MEM_ERR_QUEUE_DESTROYED;
}

/* Spinning (no delay, 20 µs) and sleeping (10 ms, 100 ms) waiters. */
static const gulong destroy_delays_us[] = { 0, 20, 10000, 100000 };

/*
 * Each delay once; the sleeping ones (10 ms and more) again until the
 * sleeper was really in its call when destroy came, at most 20 times.
 */
static void destroy_each_delay(gboolean sleeper_requests)
{
	gsize i;
	int tries;

	for (i = 0; i < G_N_ELEMENTS(destroy_delays_us); i++) {
		for (tries = 0; tries < 20; tries++)
			if (destroy_one_side_waiting(sleeper_requests,
						     destroy_delays_us[i]) ||
			    destroy_delays_us[i] < 10000)
				break;
		g_assert_cmpint(tries, <, 20);
	}
}

static void test_destroy_wakes_a_consumer_while_a_producer_is_mid_call(
	TestModule *m, gconstpointer d)
{
	destroy_each_delay(TRUE);
}

static void test_destroy_wakes_a_producer_while_a_consumer_is_mid_call(
	TestModule *m, gconstpointer d)
{
	destroy_each_delay(FALSE);
}

/* ---- timeouts on both sides -------------------------------------------- */

/*
 * A timed wait on one side runs out while another thread keeps the other
 * side busy without ever giving it what it waits for.
 */
static void timeout_with_other_side_busy(gboolean waiter_requests)
{
	hb_mem_buf_queue_t q = make_queue(2);
	Caller busy = { .queue = q, .request = !waiter_requests };
	int64_t t0, elapsed;
	Item it = { 0 };
	int32_t slot;
	int i;

	if (!waiter_requests) {
		for (i = 0; i < 2; i++) {
			assert_ok(hb_mem_dequeue_buf(&q, &slot, NULL, 0));
			assert_ok(hb_mem_queue_buf(&q, slot, &it));
		}
	}
	busy.run.thread = g_thread_new("busy", take_cancel_loop, &busy);
	wait_iterations(&busy, 100);
	t0 = g_get_monotonic_time();
	if (waiter_requests)
		assert_hb(hb_mem_request_buf(&q, &slot, &it, 200),
			  HB_MEM_ERR_TIMEOUT);
	else
		assert_hb(hb_mem_dequeue_buf(&q, &slot, &it, 200),
			  HB_MEM_ERR_TIMEOUT);
	elapsed = g_get_monotonic_time() - t0;
	g_assert_cmpint(elapsed, >=, 200 * 1000);
	g_assert_cmpint(elapsed, <, 10 * G_USEC_PER_SEC);
	assert_ok(hb_mem_destroy_buf_queue(&q));
	join_within(&busy.run, BOUND_US);
	assert_hb(busy.run.ret, HB_MEM_ERR_QUEUE_NOT_FOUND);
}

static void test_request_times_out_while_a_producer_thread_is_busy(
	TestModule *m, gconstpointer d)
{
	timeout_with_other_side_busy(TRUE);
}

static void test_dequeue_times_out_while_a_consumer_thread_is_busy(
	TestModule *m, gconstpointer d)
{
	timeout_with_other_side_busy(FALSE);
}

typedef struct {
	Run run;
	hb_mem_buf_queue_t queue;
	uint64_t rounds;
	uint32_t seed;
} PingPong;

/*
 * Busy for 0..150 µs (the clock, not a sleep, so that the pause is
 * precise): the other side's wait spins for 50 µs and then sleeps, and the
 * pauses land all around that moment, where a wake-up is easiest to lose.
 */
static void random_pause(GRand *rand)
{
	int64_t end = g_get_monotonic_time() + g_rand_int_range(rand, 0, 150);

	while (g_get_monotonic_time() < end)
		;
}

/* Produce @rounds items into a one-slot queue, each after a random pause. */
static gpointer pausing_producer(gpointer data)
{
	PingPong *p = data;
	GRand *rand = g_rand_new_with_seed(p->seed);
	Item it = { 0 };
	int32_t slot, ret;
	uint64_t i;

	for (i = 0; i < p->rounds; i++) {
		ret = hb_mem_dequeue_buf(&p->queue, &slot, NULL, WAIT_MS);
		if (ret) {
			run_fail(&p->run, "timed dequeue", ret, i);
			break;
		}
		random_pause(rand);
		it.seq = i;
		ret = hb_mem_queue_buf(&p->queue, slot, &it);
		if (ret) {
			run_fail(&p->run, "queue", ret, i);
			break;
		}
	}
	g_rand_free(rand);
	g_atomic_int_set(&p->run.done, 1);
	return NULL;
}

/* Consume them, each release after a random pause of its own. */
static gpointer pausing_consumer(gpointer data)
{
	PingPong *c = data;
	GRand *rand = g_rand_new_with_seed(c->seed);
	int32_t slot, ret;
	uint64_t i;
	Item it;

	for (i = 0; i < c->rounds; i++) {
		ret = hb_mem_request_buf(&c->queue, &slot, &it, WAIT_MS);
		if (ret) {
			run_fail(&c->run, "timed request", ret, i);
			break;
		}
		if (it.seq != i) {
			run_fail(&c->run, "item order", 0, i);
			break;
		}
		random_pause(rand);
		ret = hb_mem_release_buf(&c->queue, slot);
		if (ret) {
			run_fail(&c->run, "release", ret, i);
			break;
		}
	}
	g_rand_free(rand);
	g_atomic_int_set(&c->run.done, 1);
	return NULL;
}

/*
 * One slot passed back and forth, each side pausing at random so that the
 * other sometimes catches it spinning and sometimes asleep: every timed
 * wait (10 s) must be ended by the other side's call, never by its
 * timeout. A lost wake-up would show as HB_MEM_ERR_TIMEOUT.
 */
static void test_timed_waits_on_both_sides_are_woken_by_the_other_side(
	TestModule *m, gconstpointer d)
{
	const guint ROUNDS = test_scaled(5000, 250);
	hb_mem_buf_queue_t q = make_queue(1);
	PingPong prod = { .queue = q, .rounds = ROUNDS, .seed = 3 };
	PingPong cons = { .queue = q, .rounds = ROUNDS, .seed = 4 };

	cons.run.thread = g_thread_new("consumer", pausing_consumer, &cons);
	prod.run.thread = g_thread_new("producer", pausing_producer, &prod);
	join_within(&prod.run, BOUND_US);
	join_within(&cons.run, BOUND_US);
	assert_run_ok(&prod.run, "producer");
	assert_run_ok(&cons.run, "consumer");
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

/* ---- overwrite mode across threads ------------------------------------ */

typedef struct {
	Run run;
	hb_mem_buf_queue_t queue;
	gint stop;
	gint producer_done;
	uint64_t produced;
	uint64_t consumed;
	uint64_t cancels;
} Overwrite;

/*
 * Produce until told to stop, never waiting for the consumer: the oldest
 * queued item is dropped instead.
 */
static gpointer overwriting_producer(gpointer data)
{
	Overwrite *o = data;
	Item it = { 0 };
	int32_t slot, ret;
	uint64_t i;

	for (i = 0; !g_atomic_int_get(&o->stop); i++) {
		ret = hb_mem_dequeue_buf(&o->queue, &slot, NULL, WAIT_MS);
		if (ret == 0) {
			it.seq = i;
			it.check = item_check(i, 0);
			ret = hb_mem_queue_buf(&o->queue, slot, &it);
		}
		if (ret) {
			run_fail(&o->run, "dequeue or queue", ret, i);
			break;
		}
	}
	o->produced = i;
	g_atomic_int_set(&o->producer_done, 1);
	return NULL;
}

/*
 * The overwrite producer takes the oldest queued slot with both locks,
 * from under a consumer that is requesting, cancelling (back to the head,
 * where the producer may then take it) and releasing: the items the
 * consumer sees must still rise strictly, none twice, and the consumed
 * ones plus the dropped ones must be all of them.
 */
static void test_overwrite_producer_and_consumer_threads_account_for_every_item(
	TestModule *m, gconstpointer d)
{
	enum { CONSUME = 50000 };
	Overwrite o = { 0 };
	GRand *rand = g_rand_new_with_seed(5);
	int64_t end = g_get_monotonic_time() + BOUND_US;
	/* enough under valgrind, where the producer gets most of the time */
	int64_t stop_at = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
	uint64_t next = 0, drops = 0;
	int32_t slot, again, ret;
	Item it, it2;

	o.queue = (hb_mem_buf_queue_t){ .count = 4,
					.item_size = sizeof(Item) };
	assert_ok(hb_mem_create_buf_queue_ex(&o.queue,
					     HB_MEM_QUEUE_FLAG_OVERWRITE));
	o.run.thread = g_thread_new("producer", overwriting_producer, &o);
	for (;;) {
		g_assert_cmpint(g_get_monotonic_time(), <, end);
		ret = hb_mem_request_buf(&o.queue, &slot, &it, 5);
		if (ret == HB_MEM_ERR_TIMEOUT) {
			if (g_atomic_int_get(&o.producer_done))
				break;
			continue;
		}
		assert_ok(ret);
		g_assert_cmpuint(it.check, ==, item_check(it.seq, 0));
		g_assert_cmpuint(it.seq, >=, next);
		if (g_rand_int_range(rand, 0, 4) == 0) {
			/* back to the head: the next request gets it, unless
			 * the producer overwrites it first */
			assert_ok(hb_mem_cancel_buf(&o.queue, slot));
			ret = hb_mem_request_buf(&o.queue, &again, &it2, 0);
			if (ret == HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT)
				continue;
			assert_ok(ret);
			g_assert_cmpuint(it2.seq, >=, it.seq);
			it = it2;
			slot = again;
			o.cancels++;
		}
		next = it.seq + 1;
		if (++o.consumed >= CONSUME ||
		    g_get_monotonic_time() > stop_at)
			g_atomic_int_set(&o.stop, 1);
		assert_ok(hb_mem_release_buf(&o.queue, slot));
	}
	g_thread_join(o.run.thread);
	assert_run_ok(&o.run, "producer");
	assert_ok(hb_mem_get_buf_queue_drops(&o.queue, &drops));
	g_test_message("consumed %" G_GUINT64_FORMAT ", dropped %"
		       G_GUINT64_FORMAT ", cancelled %" G_GUINT64_FORMAT,
		       o.consumed, drops, o.cancels);
	g_assert_cmpuint(o.consumed + drops, ==, o.produced);
	g_assert_cmpuint(o.consumed, >, 0);
	if (o.consumed >= 1000)
		g_assert_cmpuint(o.cancels, >, 0);
	assert_ok(hb_mem_destroy_buf_queue(&o.queue));
	g_rand_free(rand);
}

/* ---- signals interrupting waiters ------------------------------------- */

static void on_sigusr1(int sig)
{
	(void)sig;
}

typedef struct {
	gint done;
	hb_mem_buf_queue_t queue;
	int64_t timeout;
	int32_t ret;
	int64_t elapsed_us;
	Item item;
} Waiter;

/* One request with @w->timeout: its code, item and how long it took. */
static void *timed_request(void *data)
{
	Waiter *w = data;
	int64_t t0 = g_get_monotonic_time();
	int32_t slot;

	w->ret = hb_mem_request_buf(&w->queue, &slot, &w->item, w->timeout);
	w->elapsed_us = g_get_monotonic_time() - t0;
	if (w->ret == 0)
		w->ret = hb_mem_release_buf(&w->queue, slot);
	g_atomic_int_set(&w->done, 1);
	return NULL;
}

/* Signal thread @t every 2 ms for @us, or until @w is done. */
static void pester(Waiter *w, pthread_t t, int64_t us)
{
	int64_t stop = g_get_monotonic_time() + us;

	while (!g_atomic_int_get(&w->done) && g_get_monotonic_time() < stop) {
		pthread_kill(t, SIGUSR1);
		g_usleep(2000);
	}
}

/* Keep signalling @t until @w is done (bounded), then join it. */
static void pester_and_join(Waiter *w, pthread_t t)
{
	pester(w, t, BOUND_US);
	if (!g_atomic_int_get(&w->done))
		g_error("a signalled waiter did not return within %d s",
			(int)(BOUND_US / G_USEC_PER_SEC));
	g_assert_cmpint(pthread_join(t, NULL), ==, 0);
}

/*
 * A signal handler (no SA_RESTART) runs on a waiting thread every 2 ms:
 * a timed wait still lasts its whole timeout and ends with TIMEOUT, and a
 * wait without limit (-1, or INT64_MAX ms) still ends only when an item
 * comes, and gets it. An interrupted sleep means look again, never an
 * early end or an error.
 */
static void test_signals_interrupting_waiters_end_no_wait_early(
	TestModule *m, gconstpointer d)
{
	static const int64_t untimed[] = { -1, INT64_MAX };
	struct sigaction sa = { .sa_handler = on_sigusr1 }, old;
	Waiter w;
	pthread_t t;
	int32_t slot;
	guint i;

	g_assert_cmpint(sigaction(SIGUSR1, &sa, &old), ==, 0);

	w = (Waiter){ .queue = make_queue(2), .timeout = 300 };
	g_assert_cmpint(pthread_create(&t, NULL, timed_request, &w), ==, 0);
	pester_and_join(&w, t);
	assert_hb(w.ret, HB_MEM_ERR_TIMEOUT);
	g_assert_cmpint(w.elapsed_us, >=, 300 * 1000);
	assert_ok(hb_mem_destroy_buf_queue(&w.queue));

	for (i = 0; i < G_N_ELEMENTS(untimed); i++) {
		Item it = { .seq = 7 + i, .check = item_check(7 + i, 0) };

		w = (Waiter){ .queue = make_queue(2), .timeout = untimed[i] };
		g_assert_cmpint(pthread_create(&t, NULL, timed_request, &w), ==,
				0);
		pester(&w, t, 200 * 1000);
		if (g_atomic_int_get(&w.done))
			g_error("a wait of %" G_GINT64_FORMAT " ms ended early: 0x%x",
				untimed[i], (unsigned)w.ret);
		assert_ok(hb_mem_dequeue_buf(&w.queue, &slot, NULL, 0));
		assert_ok(hb_mem_queue_buf(&w.queue, slot, &it));
		pester_and_join(&w, t);
		assert_ok(w.ret);
		g_assert_cmpuint(w.item.seq, ==, it.seq);
		g_assert_cmpuint(w.item.check, ==, it.check);
		assert_ok(hb_mem_destroy_buf_queue(&w.queue));
	}
	g_assert_cmpint(sigaction(SIGUSR1, &old, NULL), ==, 0);
}

/* ---- fork: the child lacks the threads that own the sides ------------- */

typedef struct {
	Run run;
	hb_mem_buf_queue_t queue;
	gint stop;
	gint rounds;
} Looper;

/*
 * Go round dequeue, queue, request, release without pause: this thread
 * owns both sides' bias and is inside one of them most of the time.
 */
static gpointer side_owning_loop(gpointer data)
{
	Looper *l = data;
	int32_t slot, ret;
	Item it = { 0 };

	while (!g_atomic_int_get(&l->stop)) {
		ret = hb_mem_dequeue_buf(&l->queue, &slot, NULL, WAIT_MS);
		if (!ret)
			ret = hb_mem_queue_buf(&l->queue, slot, &it);
		if (!ret)
			ret = hb_mem_request_buf(&l->queue, &slot, &it, WAIT_MS);
		if (!ret)
			ret = hb_mem_release_buf(&l->queue, slot);
		if (ret) {
			run_fail(&l->run, "round", ret,
				 (uint64_t)g_atomic_int_get(&l->rounds));
			break;
		}
		g_atomic_int_inc(&l->rounds);
	}
	g_atomic_int_set(&l->run.done, 1);
	return NULL;
}

/*
 * In the child, destroy its copy of the queue and make and use a queue of
 * its own: exit 0 when all went as it should. Only this thread exists
 * there, so the threads that own the inherited queue's sides are gone, and
 * may have been inside a call at the fork.
 */
static int __attribute__((noreturn)) fork_child(hb_mem_buf_queue_t *inherited)
{
	hb_mem_buf_queue_t q = { .count = 2, .item_size = sizeof(Item) };
	int32_t slot;
	Item it = { 0 };

	alarm(20);	/* the parent gives up sooner; never linger */
	if (hb_mem_destroy_buf_queue(inherited) != 0)
		_exit(2);
	if (hb_mem_create_buf_queue(&q) != 0 ||
	    hb_mem_dequeue_buf(&q, &slot, NULL, 0) != 0 ||
	    hb_mem_queue_buf(&q, slot, &it) != 0 ||
	    hb_mem_request_buf(&q, &slot, &it, 0) != 0 ||
	    hb_mem_release_buf(&q, slot) != 0 ||
	    hb_mem_destroy_buf_queue(&q) != 0)
		_exit(3);
	_exit(0);
}

/* Wait up to @us for child @pid; kill it and fail when it hangs. */
static int wait_child_within(pid_t pid, int64_t us)
{
	int64_t end = g_get_monotonic_time() + us;
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
		if (g_get_monotonic_time() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			g_error("the fork child hung on the inherited queue");
		}
		g_usleep(1000);
	}
	g_assert_cmpint(r, ==, pid);
	return status;
}

/*
 * A thread of the parent owns both sides' bias and is inside a call at
 * most forks: the child, where that thread does not exist, must still be
 * able to destroy its copy of the queue (which takes both sides from the
 * owner: a bias the child inherited from a thread it lacks, possibly
 * marked inside) and to use queues of its own.
 */
static void test_a_fork_child_destroys_a_queue_whose_side_owners_it_lacks(
	TestModule *m, gconstpointer d)
{
	guint forks = test_scaled(40, 4), i;
	Looper l = { 0 };
	int status;
	pid_t pid;

	for (i = 0; i < forks; i++) {
		l = (Looper){ 0 };
		l.queue = make_queue(4);
		l.run.thread = g_thread_new("owner", side_owning_loop, &l);
		while (g_atomic_int_get(&l.rounds) < 100 &&
		       !g_atomic_int_get(&l.run.done))
			g_usleep(100);
		pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0)
			fork_child(&l.queue);
		status = wait_child_within(pid, 10 * G_USEC_PER_SEC);
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 0);
		g_atomic_int_set(&l.stop, 1);
		join_within(&l.run, BOUND_US);
		assert_run_ok(&l.run, "owner");
		assert_ok(hb_mem_destroy_buf_queue(&l.queue));
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_module_test(
		"/queue-sides/a-million-items-pass-in-order-with-cancels-on-both-sides",
		test_a_million_items_pass_in_order_with_cancels_on_both_sides);
	add_module_test(
		"/queue-sides/two-producers-and-two-consumers-see-every-item-once",
		test_two_producers_and_two_consumers_see_every_item_once);
	add_module_test(
		"/queue-sides/third-threads-take-each-side-from-its-owner-mid-stream",
		test_third_threads_take_each_side_from_its_owner_mid_stream);
	add_module_test(
		"/queue-sides/destroy-wakes-a-consumer-while-a-producer-is-mid-call",
		test_destroy_wakes_a_consumer_while_a_producer_is_mid_call);
	add_module_test(
		"/queue-sides/destroy-wakes-a-producer-while-a-consumer-is-mid-call",
		test_destroy_wakes_a_producer_while_a_consumer_is_mid_call);
	add_module_test(
		"/queue-sides/request-times-out-while-a-producer-thread-is-busy",
		test_request_times_out_while_a_producer_thread_is_busy);
	add_module_test(
		"/queue-sides/dequeue-times-out-while-a-consumer-thread-is-busy",
		test_dequeue_times_out_while_a_consumer_thread_is_busy);
	add_module_test(
		"/queue-sides/timed-waits-on-both-sides-are-woken-by-the-other-side",
		test_timed_waits_on_both_sides_are_woken_by_the_other_side);
	add_module_test(
		"/queue-sides/overwrite-producer-and-consumer-threads-account-for-every-item",
		test_overwrite_producer_and_consumer_threads_account_for_every_item);
	add_module_test(
		"/queue-sides/signals-interrupting-waiters-end-no-wait-early",
		test_signals_interrupting_waiters_end_no_wait_early);
	add_module_test(
		"/queue-sides/a-fork-child-destroys-a-queue-whose-side-owners-it-lacks",
		test_a_fork_child_destroys_a_queue_whose_side_owners_it_lacks);
	return g_test_run();
}
