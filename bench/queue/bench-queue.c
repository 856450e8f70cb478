// SPDX-License-Identifier: MIT
/*
 * bench-queue: what one item costs to pass through the memory queue, next
 * to GLib's GAsyncQueue carrying the same 48-byte payload, in the same run.
 *
 *   ours: dequeue_buf + queue_buf (copies the item in) + request_buf (copies
 *         it out) + release_buf, on a 16-slot queue like the board's sample.
 *   peer: g_async_queue_push of a pointer to a preallocated item + pop, the
 *         consumer copying the item out as ours does.
 *
 * Three cases: one thread doing the whole cycle; a producer thread with a
 * consumer thread (time per item from start until the consumer has seen the
 * last one) on 16 slots; and the same on 1024 slots, closer to the peer,
 * which is unbounded and so never makes its producer wait. Each is run
 * several times, interleaved with the peer, and the median reported. The
 * last lines are "ratio <name> <ours / peer>": time per item, lower is
 * better.
 *
 * Usage: bench-queue [items per run] [runs]
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hb_mem_mgr.h"

#define SLOTS 16

typedef hb_mem_common_buf_t Item;

static uint64_t items_per_run = 1000000;
static volatile uint64_t sink;	/* keeps the consumers' reads alive */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void check(int32_t ret, const char *what)
{
	char msg[128];

	if (ret == 0)
		return;
	hb_mem_strerror(ret, msg, sizeof(msg));
	fprintf(stderr, "bench-queue: %s: %s\n", what, msg);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void item_fill(Item *it, uint64_t i)
{
	memset(it, 0, sizeof(*it));
	it->share_id = (int32_t)i;
	it->size = i;
}

/* ---- one thread ------------------------------------------------------ */

static double ours_single(void)
{
	hb_mem_buf_queue_t q = { .count = SLOTS, .item_size = sizeof(Item) };
	uint64_t i, t0, t1, sum = 0;
	int32_t slot;
	Item in, out;

	check(hb_mem_create_buf_queue(&q), "create");
	item_fill(&in, 0);
	t0 = now_ns();
	for (i = 0; i < items_per_run; i++) {
		in.size = i;
		check(hb_mem_dequeue_buf(&q, &slot, NULL, 0), "dequeue");
		check(hb_mem_queue_buf(&q, slot, &in), "queue");
		check(hb_mem_request_buf(&q, &slot, &out, 0), "request");
		check(hb_mem_release_buf(&q, slot), "release");
		sum += out.size;
	}
	t1 = now_ns();
	sink = sum;
	check(hb_mem_destroy_buf_queue(&q), "destroy");
	return (double)(t1 - t0) / (double)items_per_run;
}

static double peer_single(void)
{
	GAsyncQueue *aq = g_async_queue_new();
	uint64_t i, t0, t1, sum = 0;
	Item pool[SLOTS], out, *p;

	for (i = 0; i < SLOTS; i++)
		item_fill(&pool[i], i);
	t0 = now_ns();
	for (i = 0; i < items_per_run; i++) {
		pool[i % SLOTS].size = i;
		g_async_queue_push(aq, &pool[i % SLOTS]);
		p = g_async_queue_pop(aq);
		memcpy(&out, p, sizeof(out));
		sum += out.size;
	}
	t1 = now_ns();
	sink = sum;
	g_async_queue_unref(aq);
	return (double)(t1 - t0) / (double)items_per_run;
}

/* ---- producer thread, consumer thread -------------------------------- */

typedef struct {
	hb_mem_buf_queue_t q;
	GAsyncQueue *aq;
	Item *items;		/* peer: one preallocated item per push */
} Pair;

/*
 * Each thread works from its own copy of the handles (the queue's struct
 * is a small value; GAsyncQueue's is a pointer): the Pair sits on the
 * consumer's stack next to the variables it writes for every item, and a
 * producer reading it there would measure that false sharing, not the
 * queue.
 */
static gpointer ours_producer(gpointer data)
{
	hb_mem_buf_queue_t q = ((Pair *)data)->q;
	int32_t slot;
	uint64_t i;
	Item in;

	item_fill(&in, 0);
	for (i = 0; i < items_per_run; i++) {
		in.size = i;
		check(hb_mem_dequeue_buf(&q, &slot, NULL, -1), "dequeue");
		check(hb_mem_queue_buf(&q, slot, &in), "queue");
	}
	return NULL;
}

static double ours_threads_slots(uint32_t slots)
{
	Pair p = { .q = { .count = slots, .item_size = sizeof(Item) } };
	uint64_t i, t0, t1, sum = 0;
	GThread *t;
	int32_t slot;
	Item out;

	check(hb_mem_create_buf_queue(&p.q), "create");
	t0 = now_ns();
	t = g_thread_new("producer", ours_producer, &p);
	for (i = 0; i < items_per_run; i++) {
		check(hb_mem_request_buf(&p.q, &slot, &out, -1), "request");
		check(hb_mem_release_buf(&p.q, slot), "release");
		if (out.size != i) {
			fprintf(stderr, "bench-queue: out of order\n");
			exit(1);
		}
		sum += out.size;
	}
	t1 = now_ns();
	g_thread_join(t);
	sink = sum;
	check(hb_mem_destroy_buf_queue(&p.q), "destroy");
	return (double)(t1 - t0) / (double)items_per_run;
}

static double ours_threads(void)
{
	return ours_threads_slots(SLOTS);
}

/* With room to run ahead, as the unbounded GAsyncQueue always has. */
static double ours_threads_wide(void)
{
	return ours_threads_slots(1024);
}

static gpointer peer_producer(gpointer data)
{
	GAsyncQueue *aq = ((Pair *)data)->aq;
	Item *items = ((Pair *)data)->items;
	uint64_t i;

	for (i = 0; i < items_per_run; i++) {
		items[i].size = i;
		g_async_queue_push(aq, &items[i]);
	}
	return NULL;
}

static double peer_threads(void)
{
	Pair p = { .aq = g_async_queue_new() };
	uint64_t i, t0, t1, sum = 0;
	GThread *t;
	Item out, *it;

	/* one item per push, so the producer never writes a queued one */
	p.items = g_new(Item, items_per_run);
	for (i = 0; i < items_per_run; i++)
		item_fill(&p.items[i], i);
	t0 = now_ns();
	t = g_thread_new("producer", peer_producer, &p);
	for (i = 0; i < items_per_run; i++) {
		it = g_async_queue_pop(p.aq);
		memcpy(&out, it, sizeof(out));
		if (out.size != i) {
			fprintf(stderr, "bench-queue: peer out of order\n");
			exit(1);
		}
		sum += out.size;
	}
	t1 = now_ns();
	g_thread_join(t);
	sink = sum;
	g_async_queue_unref(p.aq);
	g_free(p.items);
	return (double)(t1 - t0) / (double)items_per_run;
}

/* ---- main ------------------------------------------------------------ */

struct comparison {
	const char *name;
	double (*ours)(void);
	double (*peer)(void);
};

static const struct comparison comparisons[] = {
	{ "queue-cycle-1-thread", ours_single, peer_single },
	{ "queue-cycle-2-threads", ours_threads, peer_threads },
	{ "queue-cycle-2-threads-1024-slots", ours_threads_wide, peer_threads },
};

#define MAX_RUNS 31

int main(int argc, char **argv)
{
	double ours[MAX_RUNS], peer[MAX_RUNS], ratio[G_N_ELEMENTS(comparisons)];
	int runs = 5, r;
	size_t c;

	if (argc > 1)
		items_per_run = strtoull(argv[1], NULL, 0);
	if (argc > 2)
		runs = atoi(argv[2]);
	if (items_per_run == 0 || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: %s [items per run] [runs 1..%d]\n",
			argv[0], MAX_RUNS);
		return 2;
	}
	check(hb_mem_module_open(), "module open");
	printf("bench-queue: %llu items of %zu bytes per run, %d runs, "
	       "median ns per item\n",
	       (unsigned long long)items_per_run, sizeof(Item), runs);
	for (c = 0; c < G_N_ELEMENTS(comparisons); c++) {
		const struct comparison *cmp = &comparisons[c];
		double mo, mp;

		/* warm up both, then interleave so drift hits both alike */
		cmp->ours();
		cmp->peer();
		for (r = 0; r < runs; r++) {
			ours[r] = cmp->ours();
			peer[r] = cmp->peer();
		}
		mo = median(ours, runs);
		mp = median(peer, runs);
		ratio[c] = mo / mp;
		printf("%-34s hb_mem_queue %8.1f ns   GAsyncQueue %8.1f ns\n",
		       cmp->name, mo, mp);
	}
	check(hb_mem_module_close(), "module close");
	for (c = 0; c < G_N_ELEMENTS(comparisons); c++)
		printf("ratio %s %.3f\n", comparisons[c].name, ratio[c]);
	return 0;
}
