// SPDX-License-Identifier: MIT
/*
 * bench-alloc: the allocator family against its peers, in one run.
 *
 *   heap      hb_mem_mm malloc/free vs glibc malloc and mimalloc
 *             (pair64: malloc(64)+free; rand: 4096 live blocks, free one
 *             and allocate 16..1024 B per step)
 *   gran      granule alloc/free at 1K, 64K and 1M granules of 64 B vs a
 *             bitmap first-fit scan (the classic granule allocator),
 *             at steady state around half full with runs of 1..8
 *   iob       tryalloc+free pair, and a producer/consumer hand-over
 *             through a 4-buffer pool, vs a mutex+condvar free list
 *
 * Each case prints the mean ns/op of untimed loops (median of 3), then
 * the median, p99.9 and max of per-op samples taken with the TSC (timer
 * overhead subtracted). Last, one line per comparison: "ratio <name>
 * <ours / peer>" of the per-op medians (the hand-over: of the best mean
 * ns per item of 3 runs); lower is better.
 *
 * mimalloc is dlopen()ed with RTLD_LOCAL so that it does not replace the
 * process's malloc (Debian's build overrides it when linked).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "hb_mem_mgr.h"
#include "hb_mem_alloc.h"

/* ---- timing ----------------------------------------------------------- */

static double ns_per_tick = 1.0;

static inline uint64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	_mm_lfence();
	return __rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void calibrate(void)
{
	double t0 = now_ns(), t1;
	uint64_t c0 = ticks(), c1;

	do
		t1 = now_ns();
	while (t1 - t0 < 50e6);
	c1 = ticks();
	ns_per_tick = (t1 - t0) / (double)(c1 - c0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

typedef void (*op_fn)(void *ctx);

#define SAMPLES 200000
static uint64_t samples[SAMPLES];

/*
 * Mean ns per op over @iters untimed ops (median of 3 runs), then
 * per-op percentiles over min(SAMPLES, @iters) timed ops. Prints one
 * line; returns the per-op median, which the ratios use: on a shared,
 * noisy machine the means carry other processes' preemptions.
 */
static double measure(const char *name, op_fn op, void *ctx, long iters)
{
	long nsamp = iters < SAMPLES ? iters : SAMPLES;
	double mean[3], ovh;
	uint64_t t0, t1, min_ovh = UINT64_MAX;
	long i;
	int r;

	for (i = 0; i < 1000; i++) {
		t0 = ticks();
		t1 = ticks();
		if (t1 - t0 < min_ovh)
			min_ovh = t1 - t0;
	}
	for (r = 0; r < 3; r++) {
		double s = now_ns();

		for (i = 0; i < iters; i++)
			op(ctx);
		mean[r] = (now_ns() - s) / (double)iters;
	}
	qsort(mean, 3, sizeof(mean[0]), cmp_double);
	for (i = 0; i < nsamp; i++) {
		t0 = ticks();
		op(ctx);
		t1 = ticks();
		samples[i] = t1 - t0 > min_ovh ? t1 - t0 - min_ovh : 0;
	}
	qsort(samples, (size_t)nsamp, sizeof(samples[0]), cmp_u64);
	ovh = ns_per_tick;
	printf("%-30s mean %8.1f ns  median %7.1f  p99.9 %9.1f  max %10.1f\n",
	       name, mean[1], (double)samples[nsamp / 2] * ovh,
	       (double)samples[nsamp - 1 - nsamp / 1000] * ovh,
	       (double)samples[nsamp - 1] * ovh);
	fflush(stdout);
	return (double)samples[nsamp / 2] * ovh;
}

#define MAX_RATIOS 32
static struct { char name[48]; double value; } ratios[MAX_RATIOS];
static int nratios;

static void ratio(const char *name, double ours, double peer)
{
	if (nratios < MAX_RATIOS) {
		snprintf(ratios[nratios].name, sizeof(ratios[0].name), "%s",
			 name);
		ratios[nratios++].value = ours / peer;
	}
}

/* xorshift: cheap and the same sequence for every peer */
static inline uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 16);
}

/* ---- heap: malloc/free ------------------------------------------------ */

struct heap_ops {
	void *(*malloc)(void *h, size_t n);
	void (*free)(void *h, void *p);
	void *h;
};

#define LIVE 4096
struct heap_ctx {
	struct heap_ops ops;
	void *slot[LIVE];
	uint64_t seed;
};

static void *mm_malloc(void *h, size_t n) { return hb_mem_mm_malloc(h, n); }
static void mm_free(void *h, void *p) { hb_mem_mm_free(h, p); }
static void *libc_malloc(void *h, size_t n) { (void)h; return malloc(n); }
static void libc_free(void *h, void *p) { (void)h; free(p); }
static void *(*mi_malloc_p)(size_t);
static void (*mi_free_p)(void *);
static void *mi_malloc_w(void *h, size_t n) { (void)h; return mi_malloc_p(n); }
static void mi_free_w(void *h, void *p) { (void)h; mi_free_p(p); }

static void op_pair64(void *c)
{
	struct heap_ctx *x = c;
	void *p = x->ops.malloc(x->ops.h, 64);

	*(volatile char *)p = 1;
	x->ops.free(x->ops.h, p);
}

static void op_rand(void *c)
{
	struct heap_ctx *x = c;
	uint32_t r = rnd(&x->seed);
	unsigned k = r % LIVE;

	x->ops.free(x->ops.h, x->slot[k]);
	x->slot[k] = x->ops.malloc(x->ops.h, 16 + (r >> 12) % 1009);
	*(volatile char *)x->slot[k] = 1;
}

static double heap_case(const char *name, const char *work,
			struct heap_ops ops, op_fn op, long iters)
{
	struct heap_ctx *x = calloc(1, sizeof(*x));
	char label[64];
	double m;
	int i;

	x->ops = ops;
	x->seed = 88172645463325252ull;
	for (i = 0; i < LIVE; i++)
		x->slot[i] = ops.malloc(ops.h, 16 + (unsigned)i % 1009);
	snprintf(label, sizeof(label), "heap %s %s", work, name);
	m = measure(label, op, x, iters);
	for (i = 0; i < LIVE; i++)
		ops.free(ops.h, x->slot[i]);
	free(x);
	return m;
}

static void bench_heap(void)
{
	struct heap_ops libc = { libc_malloc, libc_free, NULL };
	struct heap_ops mi = { mi_malloc_w, mi_free_w, NULL };
	struct heap_ops ours = { mm_malloc, mm_free, NULL };
	double o, g, m = 0;
	hb_mem_mm_t *h;
	void *pre;

	if (hb_mem_mm_create("bench", 64ull << 20, HB_MEM_USAGE_CACHED, &h)) {
		fprintf(stderr, "hb_mem_mm_create failed\n");
		exit(1);
	}
	/* pre-fault the region so that page faults are not measured */
	pre = hb_mem_mm_malloc(h, (64ull << 20) - 4096);
	memset(pre, 0, (64ull << 20) - 4096);
	hb_mem_mm_free(h, pre);
	ours.h = h;
	o = heap_case("hb_mem_mm", "pair64", ours, op_pair64, 2000000);
	g = heap_case("glibc", "pair64", libc, op_pair64, 2000000);
	if (mi_malloc_p)
		m = heap_case("mimalloc", "pair64", mi, op_pair64, 2000000);
	ratio("heap_pair64_vs_glibc", o, g);
	if (m)
		ratio("heap_pair64_vs_mimalloc", o, m);
	o = heap_case("hb_mem_mm", "rand", ours, op_rand, 2000000);
	g = heap_case("glibc", "rand", libc, op_rand, 2000000);
	if (mi_malloc_p)
		m = heap_case("mimalloc", "rand", mi, op_rand, 2000000);
	ratio("heap_rand_vs_glibc", o, g);
	if (m)
		ratio("heap_rand_vs_mimalloc", o, m);
	hb_mem_mm_destroy(h);
}

/* ---- granules: summary tree vs bitmap first fit ----------------------- */

/* The classic granule allocator: one bit per granule, first-fit scan. */
struct bitmap_gran {
	uint64_t *map;
	uint64_t n;
	uint8_t *base;
};

static int64_t bm_find(const struct bitmap_gran *b, uint64_t need)
{
	uint64_t i = 0, run = 0;

	while (i < b->n) {
		uint64_t w = b->map[i / 64];

		if (i % 64 == 0 && w == ~0ull) {	/* skip full words */
			run = 0;
			i += 64;
			continue;
		}
		if (i % 64 == 0 && w == 0 && i + 64 <= b->n) {
			run += 64;
			i += 64;
		} else {
			run = (w >> (i % 64)) & 1 ? 0 : run + 1;
			i++;
		}
		if (run >= need)
			return (int64_t)(i - run);
	}
	return -1;
}

static void bm_mark(struct bitmap_gran *b, uint64_t s, uint64_t n, bool on)
{
	uint64_t i;

	for (i = s; i < s + n; i++) {
		if (on)
			b->map[i / 64] |= 1ull << (i % 64);
		else
			b->map[i / 64] &= ~(1ull << (i % 64));
	}
}

static pthread_mutex_t bm_lock = PTHREAD_MUTEX_INITIALIZER;

static void *bm_alloc(void *h, size_t size)
{
	struct bitmap_gran *b = h;
	uint64_t n = (size + 63) / 64;
	int64_t s;

	pthread_mutex_lock(&bm_lock);	/* the same locking cost as ours */
	s = bm_find(b, n);
	if (s >= 0)
		bm_mark(b, (uint64_t)s, n, true);
	pthread_mutex_unlock(&bm_lock);
	return s < 0 ? NULL : b->base + s * 64;
}

/* the classic API needs the size back at free time */
static void bm_free_sized(struct bitmap_gran *b, void *p, size_t size)
{
	pthread_mutex_lock(&bm_lock);
	bm_mark(b, (uint64_t)((uint8_t *)p - b->base) / 64, (size + 63) / 64,
		false);
	pthread_mutex_unlock(&bm_lock);
}

#define GLIVE 4096
struct gran_ctx {
	bool ours;
	hb_mem_gran_t *g;
	struct bitmap_gran *b;
	void *slot[GLIVE];
	uint32_t size[GLIVE];
	unsigned nslot;
	uint64_t seed;
};

static void *gc_alloc(struct gran_ctx *x, size_t n)
{
	return x->ours ? hb_mem_gran_alloc(x->g, n) : bm_alloc(x->b, n);
}

static void gc_free(struct gran_ctx *x, unsigned k)
{
	if (x->ours)
		hb_mem_gran_free(x->g, x->slot[k]);
	else
		bm_free_sized(x->b, x->slot[k], x->size[k]);
}

static void op_gran(void *c)
{
	struct gran_ctx *x = c;
	uint32_t r = rnd(&x->seed);
	unsigned k = r % x->nslot;

	gc_free(x, k);
	x->size[k] = 64 * (1 + (r >> 16) % 8);
	x->slot[k] = gc_alloc(x, x->size[k]);
	if (!x->slot[k]) {
		fprintf(stderr, "granule benchmark ran out of granules\n");
		exit(1);
	}
}

/*
 * Fill to about half with runs of 1..8 granules at scattered places (free
 * every other block of a full pass), keeping at most GLIVE live blocks
 * in the measured set.
 */
static double gran_case(uint64_t ngran, bool ours, uint64_t seed)
{
	struct gran_ctx *x = calloc(1, sizeof(*x));
	struct bitmap_gran b = { 0 };
	hb_mem_gran_t *g = NULL;
	void **fill;
	uint32_t *fsize;
	uint64_t nfill = 0, i, s = seed;
	char label[64];
	double m;

	if (hb_mem_gran_create(ngran * 64, 0, 6, 6, &g)) {
		fprintf(stderr, "hb_mem_gran_create failed\n");
		exit(1);
	}
	x->ours = ours;
	x->g = g;
	if (!ours) {
		hb_mem_gran_info_t info;

		/* the baseline manages the same memory */
		b.base = hb_mem_gran_alloc(g, ngran * 64);
		hb_mem_gran_info(g, &info);
		b.n = ngran;
		b.map = calloc((ngran + 63) / 64, 8);
		x->b = &b;
	}
	fill = calloc(ngran, sizeof(*fill));
	fsize = calloc(ngran, sizeof(*fsize));
	for (;;) {
		uint32_t sz = 64 * (1 + rnd(&s) % 8);
		void *p = gc_alloc(x, sz);

		if (!p)
			break;
		fill[nfill] = p;
		fsize[nfill++] = sz;
	}
	/* free every other block: holes everywhere, half full */
	for (i = 0; i < nfill; i += 2) {
		x->slot[0] = fill[i];
		x->size[0] = fsize[i];
		gc_free(x, 0);
	}
	/* the measured set: up to GLIVE of the remaining blocks */
	x->nslot = 0;
	for (i = 1; i < nfill && x->nslot < GLIVE; i += 2) {
		x->slot[x->nslot] = fill[i];
		x->size[x->nslot++] = fsize[i];
	}
	x->seed = seed;
	snprintf(label, sizeof(label), "gran %lluK %s",
		 (unsigned long long)(ngran / 1024),
		 ours ? "hb_mem_gran" : "bitmap-first-fit");
	m = measure(label, op_gran, x,
		    ours ? 1000000 : (ngran >= 1 << 20 ? 20000 : 100000));
	free(fill);
	free(fsize);
	free(b.map);
	hb_mem_gran_destroy(g);
	free(x);
	return m;
}

static void bench_gran(void)
{
	static const uint64_t sizes[] = { 1024, 65536, 1048576 };
	static const char *const names[] = { "gran_1k_vs_bitmap",
		"gran_64k_vs_bitmap", "gran_1m_vs_bitmap" };
	unsigned i;

	for (i = 0; i < 3; i++) {
		double o = gran_case(sizes[i], true, 12345);
		double b = gran_case(sizes[i], false, 12345);

		ratio(names[i], o, b);
	}
}

/* ---- IOB: vs a mutex + condvar free list ------------------------------ */

struct node { struct node *next; };

struct mc_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct node *head;
};

static void *mc_alloc(struct mc_pool *p)
{
	struct node *n;

	pthread_mutex_lock(&p->lock);
	while (!p->head)
		pthread_cond_wait(&p->cond, &p->lock);
	n = p->head;
	p->head = n->next;
	pthread_mutex_unlock(&p->lock);
	return n;
}

static void mc_free(struct mc_pool *p, void *b)
{
	struct node *n = b;

	pthread_mutex_lock(&p->lock);
	n->next = p->head;
	p->head = n;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void mc_init(struct mc_pool *p, uint8_t *mem, int n, size_t size)
{
	int i;

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->head = NULL;
	for (i = 0; i < n; i++)
		mc_free(p, mem + (size_t)i * size);
}

struct iob_ctx {
	hb_mem_iob_pool_t *iob;
	struct mc_pool *mc;
};

static void op_iob_pair(void *c)
{
	struct iob_ctx *x = c;
	void *b = hb_mem_iob_tryalloc(x->iob, 0);

	hb_mem_iob_free(x->iob, b);
}

static void op_mc_pair(void *c)
{
	struct iob_ctx *x = c;

	mc_free(x->mc, mc_alloc(x->mc));
}

/* A single-producer single-consumer ring: the same channel for both. */
#define RING 64
struct ring {
	void *slot[RING];
	unsigned head, tail;	/* atomics */
};

static void ring_push(struct ring *r, void *p)
{
	unsigned t = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);

	while (t - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == RING)
		sched_yield();	/* 2 vCPUs: let the other side run */
	r->slot[t % RING] = p;
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
}

static void *ring_pop(struct ring *r)
{
	unsigned h = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	void *p;

	while (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == h)
		sched_yield();
	p = r->slot[h % RING];
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return p;
}

struct handoff {
	bool ours;
	struct iob_ctx *x;
	struct ring ring;
	long items;
};

static void *consumer(void *arg)
{
	struct handoff *h = arg;
	long i;

	for (i = 0; i < h->items; i++) {
		void *b = ring_pop(&h->ring);

		if (h->ours)
			hb_mem_iob_free(h->x->iob, b);
		else
			mc_free(h->x->mc, b);
	}
	return NULL;
}

/* ns per item through a 4-buffer pool, the producer waiting when empty */
static double handoff_case(struct iob_ctx *x, bool ours, long items)
{
	struct handoff h = { .ours = ours, .x = x, .items = items };
	double best = 1e30;
	pthread_t t;
	long i;
	int r;

	for (r = 0; r < 3; r++) {
		double s = now_ns(), per;

		h.ring.head = h.ring.tail = 0;
		pthread_create(&t, NULL, consumer, &h);
		for (i = 0; i < items; i++)
			ring_push(&h.ring, ours ? hb_mem_iob_alloc(x->iob, 0, -1)
						: mc_alloc(x->mc));
		pthread_join(t, NULL);
		per = (now_ns() - s) / (double)items;
		if (per < best)
			best = per;
	}
	printf("%-34s mean %8.1f ns/item (best of 3)\n",
	       ours ? "iob handoff hb_mem_iob" : "iob handoff mutex+condvar",
	       best);
	return best;
}

static void bench_iob(void)
{
	hb_mem_iob_pool_t *iob, *small;
	struct mc_pool mc, mc_small;
	struct iob_ctx x;
	uint8_t *mem = aligned_alloc(64, 64 * 256), *mem4 = aligned_alloc(64, 4 * 256);
	double o, b;

	if (hb_mem_iob_pool_create(64, 256, 64, 0, 0, &iob) ||
	    hb_mem_iob_pool_create(4, 256, 64, 0, 0, &small)) {
		fprintf(stderr, "hb_mem_iob_pool_create failed\n");
		exit(1);
	}
	mc_init(&mc, mem, 64, 256);
	mc_init(&mc_small, mem4, 4, 256);
	x.iob = iob;
	x.mc = &mc;
	o = measure("iob pair hb_mem_iob", op_iob_pair, &x, 2000000);
	b = measure("iob pair mutex+condvar", op_mc_pair, &x, 2000000);
	ratio("iob_pair_vs_mutex_condvar", o, b);
	x.iob = small;
	x.mc = &mc_small;
	o = handoff_case(&x, true, 200000);
	b = handoff_case(&x, false, 200000);
	ratio("iob_handoff_vs_mutex_condvar", o, b);
	hb_mem_iob_pool_destroy(iob);
	hb_mem_iob_pool_destroy(small);
	free(mem);
	free(mem4);
}

int main(int argc, char **argv)
{
	void *mi = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
	int i;

	(void)argc;
	(void)argv;
	if (mi) {
		mi_malloc_p = (void *(*)(size_t))dlsym(mi, "mi_malloc");
		mi_free_p = (void (*)(void *))dlsym(mi, "mi_free");
		if (!mi_malloc_p || !mi_free_p)
			mi_malloc_p = NULL;
	}
	if (!mi_malloc_p)
		printf("# mimalloc not found: its comparisons are skipped\n");
	if (hb_mem_module_open()) {
		fprintf(stderr, "hb_mem_module_open failed\n");
		return 1;
	}
	calibrate();
	bench_heap();
	bench_gran();
	bench_iob();
	hb_mem_module_close();
	for (i = 0; i < nratios; i++)
		printf("ratio %s %.3f\n", ratios[i].name, ratios[i].value);
	return 0;
}
