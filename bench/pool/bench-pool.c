// SPDX-License-Identifier: MIT
/*
 * bench-pool: latency of one alloc + free pair on the local pool
 * (hb_mem_pool_alloc_buf + hb_mem_pool_free_buf on a pre-created pool)
 * against glibc malloc, mimalloc (mi_malloc/mi_free) and jemalloc, in one
 * thread, on the same workloads and the same pseudo-random sequence:
 *
 *   fixed64     allocate 64 bytes, free it
 *   rand16-4k   a working set of 1024 live blocks; each step frees a
 *               random one and allocates 16 B - 4 KiB in its place
 *   rand4k-64k  the same with 4 KiB - 64 KiB (multi-page runs: the pool's
 *               TLSF path rather than its one-page cache)
 *
 * Timing: lfence/rdtsc around each sample, the median cost of an empty
 * sample subtracted, cycles turned into ns with the TSC rate measured
 * against CLOCK_MONOTONIC (clock_gettime on other machines). This VM's TSC
 * moves in steps of ~25 cycles (~10 ns), the size of a whole pair, so each
 * workload is measured twice:
 *   batched  each sample is 16 consecutive pairs, reported per pair: fine
 *            enough for the median; tails are averaged over 16 pairs
 *   single   each sample is one pair: the real tails (p99.9, max), with a
 *            coarse median
 * "mean" is an untimed loop's total time / pairs.
 *
 * Allocator libraries: libmimalloc.so exports malloc/free and would replace
 * glibc's for the whole process if linked, and so would jemalloc. Both are
 * therefore dlopen()ed with RTLD_LOCAL and their entry points taken from the
 * handles (mi_malloc/mi_free; jemalloc's unprefixed malloc/free), so
 * "glibc" really is glibc. jemalloc's initial-exec TLS does not fit the
 * static TLS that glibc reserves for dlopen, so the program re-executes
 * itself once with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536.
 *
 * Last lines: "ratio <name> <ours / peer>", lower is better.
 *
 * Usage: bench-pool [-n pairs] [-c cpu]   (defaults: 2000000, cpu 0)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hb_mem_err.h"
#include "hb_mem_mgr.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#define BATCH 16
#define SLOTS 1024
#define STATIC_TLS_TUNABLE "glibc.rtld.optional_static_tls=65536"

/* ---- timing --------------------------------------------------------------- */

static inline uint64_t now(void)
{
#ifdef HAVE_TSC
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static double mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double ticks_per_ns;
static uint64_t overhead;	/* ticks of an empty sample */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void timer_calibrate(void)
{
	enum { N = 100001 };
	static uint64_t s[N];
	double n0, n1;
	uint64_t t0, t1;
	int i;

	n0 = mono_ns();
	t0 = now();
	while (mono_ns() - n0 < 2e8)
		;
	t1 = now();
	n1 = mono_ns();
	ticks_per_ns = (double)(t1 - t0) / (n1 - n0);
	for (i = 0; i < N; i++) {
		t0 = now();
		s[i] = now() - t0;
	}
	qsort(s, N, sizeof(s[0]), cmp_u64);
	overhead = s[N / 2];
}

/* ---- allocators --------------------------------------------------------------- */

struct alloc_ops {
	const char *name;
	void *(*alloc)(size_t size);
	void (*release)(void *p);
	bool ok;
};

static int32_t pool_fd;

static void *pool_alloc(size_t size)
{
	hb_mem_common_buf_t buf;

	if (hb_mem_pool_alloc_buf(pool_fd, size, &buf) != 0)
		return NULL;
	return buf.virt_addr;
}

static void pool_release(void *p)
{
	if (hb_mem_pool_free_buf((uint64_t)(uintptr_t)p) != 0)
		abort();
}

enum { OURS, GLIBC, MIMALLOC, JEMALLOC, NALLOC };

static struct alloc_ops allocs[NALLOC] = {
	[OURS] = { "pool", pool_alloc, pool_release, true },
	[GLIBC] = { "glibc", malloc, free, true },
	[MIMALLOC] = { "mimalloc", NULL, NULL, false },
	[JEMALLOC] = { "jemalloc", NULL, NULL, false },
};

static void load_peer(struct alloc_ops *a, const char *lib, const char *m,
		      const char *f)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "bench-pool: %s: %s (skipped)\n", a->name,
			dlerror());
		return;
	}
	a->alloc = (void *(*)(size_t))dlsym(h, m);
	a->release = (void (*)(void *))dlsym(h, f);
	a->ok = a->alloc && a->release && a->alloc != malloc;
	if (!a->ok)
		fprintf(stderr, "bench-pool: %s: no usable %s/%s (skipped)\n",
			a->name, m, f);
}

/* ---- workloads ------------------------------------------------------------------ */

enum { FIXED64, RAND_SMALL, RAND_LARGE, NWORK };

static const char *const work_name[NWORK] = {
	"fixed64", "rand16_4k", "rand4k_64k",
};

struct step {
	uint32_t slot;
	uint32_t size;
};

/* One sequence for every allocator: xorshift from a fixed seed. */
static struct step *make_steps(size_t n, uint32_t lo, uint32_t hi)
{
	struct step *s = malloc(n * sizeof(*s));
	uint64_t x = 0x9E3779B97F4A7C15ull;
	size_t i;

	if (!s)
		abort();
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		s[i].slot = (uint32_t)(x % SLOTS);
		s[i].size = lo + (uint32_t)((x >> 20) % (hi - lo + 1));
	}
	return s;
}

struct result {
	double mean, median, p99, p999, max;	/* ns per pair */
};

static void summarise(uint64_t *s, size_t n, unsigned int per,
		      struct result *r)
{
	double scale = 1.0 / (ticks_per_ns * per);

	qsort(s, n, sizeof(s[0]), cmp_u64);
	r->median = s[n / 2] * scale;
	r->p99 = s[(size_t)(n * 0.99)] * scale;
	r->p999 = s[(size_t)(n * 0.999)] * scale;
	r->max = s[n - 1] * scale;
}

static inline uint64_t net(uint64_t t)
{
	return t > overhead ? t - overhead : 0;
}

/*
 * Run @pairs pairs of workload @w on @alloc/@release, @per pairs per timed
 * sample (0: untimed, for the mean), into @s. @steps: SLOTS sizes for the
 * initial working set, then one step per pair. Returns mean ns per pair.
 * Inlined into run_pool() and run_peer(): see run().
 */
static inline __attribute__((always_inline)) double
run_with(void *(*alloc)(size_t), void (*release)(void *), int w,
	 const struct step *steps, size_t pairs, unsigned int per,
	 uint64_t *s)
{
	const struct alloc_ops o = { NULL, alloc, release, true }, *a = &o;

	static void *live[SLOTS];
	const struct step *seq = steps ? steps + SLOTS : NULL;
	size_t i, k, nsamples = per ? pairs / per : 0;
	double t0;
	uint64_t t;

	if (w != FIXED64)
		for (i = 0; i < SLOTS; i++) {
			live[i] = a->alloc(steps[i].size);
			if (!live[i])
				abort();
		}
	t0 = mono_ns();
	if (w == FIXED64) {
		if (!per) {
			for (i = 0; i < pairs; i++)
				a->release(a->alloc(64));
		}
		for (i = 0; i < nsamples; i++) {
			t = now();
			for (k = 0; k < per; k++)
				a->release(a->alloc(64));
			s[i] = net(now() - t);
		}
	} else {
		if (!per) {
			for (i = 0; i < pairs; i++) {
				const struct step *st = &seq[i];

				a->release(live[st->slot]);
				live[st->slot] = a->alloc(st->size);
			}
		}
		for (i = 0; i < nsamples; i++) {
			const struct step *st = &seq[i * per];

			t = now();
			for (k = 0; k < per; k++, st++) {
				a->release(live[st->slot]);
				live[st->slot] = a->alloc(st->size);
			}
			s[i] = net(now() - t);
		}
	}
	t0 = mono_ns() - t0;
	if (w != FIXED64)
		for (i = 0; i < SLOTS; i++)
			a->release(live[i]);
	return t0 / (double)pairs;
}

static __attribute__((noinline)) double
run_pool(int w, const struct step *steps, size_t pairs, unsigned int per,
	 uint64_t *s)
{
	return run_with(pool_alloc, pool_release, w, steps, pairs, per, s);
}

static __attribute__((noinline)) double
run_peer(const struct alloc_ops *a, int w, const struct step *steps,
	 size_t pairs, unsigned int per, uint64_t *s)
{
	return run_with(a->alloc, a->release, w, steps, pairs, per, s);
}

/*
 * Each allocator is called as its users call it. The pool: the loop calls
 * hb_mem_pool_alloc_buf() and hb_mem_pool_free_buf() itself, with the
 * descriptor on its stack, as board code does (pool_alloc() and
 * pool_release() are inlined into run_pool()). The peers: through the
 * pointers malloc/dlsym() gave, one indirect call each, as a call through
 * the PLT is.
 */
static double run(const struct alloc_ops *a, int w, const struct step *steps,
		  size_t pairs, unsigned int per, uint64_t *s)
{
	if (a == &allocs[OURS])
		return run_pool(w, steps, pairs, per, s);
	return run_peer(a, w, steps, pairs, per, s);
}

/* ---- main -------------------------------------------------------------------------- */

/* Re-execute once so that jemalloc can be dlopen()ed (see the top). */
static void ensure_static_tls(char **argv)
{
	const char *cur = getenv("GLIBC_TUNABLES");
	char *val;

	if (cur && strstr(cur, "optional_static_tls"))
		return;
	if (cur && *cur) {
		if (asprintf(&val, "%s:%s", cur, STATIC_TLS_TUNABLE) < 0)
			return;
	} else {
		val = strdup(STATIC_TLS_TUNABLE);
	}
	if (!val || setenv("GLIBC_TUNABLES", val, 1) < 0)
		return;
	execv("/proc/self/exe", argv);
	/* no re-exec: jemalloc is skipped if it cannot load */
}

int main(int argc, char **argv)
{
	struct result res[NALLOC][NWORK][2];	/* [.][.][0 batched, 1 single] */
	size_t pairs = 2000000, steps_n;
	struct step *steps[NWORK] = { NULL };
	uint64_t *samples;
	hb_mem_pool_t pool;
	int cpu = 0, opt, a, w;
	cpu_set_t set;

	ensure_static_tls(argv);
	while ((opt = getopt(argc, argv, "n:c:")) != -1) {
		switch (opt) {
		case 'n':
			pairs = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n pairs] [-c cpu]\n",
				argv[0]);
			return 2;
		}
	}
	if (pairs < 10000)
		pairs = 10000;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu >= 0 && sched_setaffinity(0, sizeof(set), &set) < 0)
		fprintf(stderr, "bench-pool: cpu %d: %s (not pinned)\n", cpu,
			strerror(errno));

	load_peer(&allocs[MIMALLOC], "libmimalloc.so.2", "mi_malloc",
		  "mi_free");
	load_peer(&allocs[JEMALLOC], "libjemalloc.so.2", "malloc", "free");

	if (hb_mem_module_open() != 0) {
		fprintf(stderr, "bench-pool: hb_mem_module_open failed\n");
		return 1;
	}
	/* room for 1024 live blocks of up to 16 pages */
	if (hb_mem_pool_create(128u << 20, 0, &pool) != 0) {
		fprintf(stderr, "bench-pool: hb_mem_pool_create failed\n");
		return 1;
	}
	pool_fd = pool.fd;

	timer_calibrate();
	steps_n = pairs + SLOTS;
	steps[RAND_SMALL] = make_steps(steps_n, 16, 4096);
	steps[RAND_LARGE] = make_steps(steps_n, 4096, 65536);
	samples = malloc(pairs * sizeof(*samples));
	if (!samples)
		return 1;

	printf("bench-pool: %zu pairs per run, TSC %.3f GHz, empty sample "
	       "%llu ticks (subtracted), pinned to cpu %d\n", pairs,
	       ticks_per_ns, (unsigned long long)overhead, cpu);
	printf("ns per alloc+free pair; batched = %d pairs per sample, "
	       "single = 1\n\n", BATCH);
	printf("%-11s %-9s %7s | %7s %7s %8s %9s | %7s %7s %8s %9s\n",
	       "workload", "allocator", "mean", "b.med", "b.p99", "b.p99.9",
	       "b.max", "s.med", "s.p99", "s.p99.9", "s.max");

	for (w = 0; w < NWORK; w++) {
		for (a = 0; a < NALLOC; a++) {
			const struct alloc_ops *o = &allocs[a];
			const struct step *st = steps[w];
			struct result *b = &res[a][w][0], *s1 = &res[a][w][1];
			double mean;

			if (!o->ok)
				continue;
			/* warm-up, then the untimed mean */
			run(o, w, st, pairs / 4, 0, samples);
			mean = run(o, w, st, pairs, 0, samples);
			run(o, w, st, pairs, BATCH, samples);
			summarise(samples, pairs / BATCH, BATCH, b);
			run(o, w, st, pairs, 1, samples);
			summarise(samples, pairs, 1, s1);
			b->mean = s1->mean = mean;
			printf("%-11s %-9s %7.1f | %7.1f %7.1f %8.1f %9.1f | "
			       "%7.1f %7.1f %8.1f %9.1f\n", work_name[w],
			       o->name, mean, b->median, b->p99, b->p999,
			       b->max, s1->median, s1->p99, s1->p999, s1->max);
		}
	}

	printf("\n");
	for (w = 0; w < NWORK; w++)
		for (a = GLIBC; a < NALLOC; a++) {
			if (!allocs[a].ok)
				continue;
			printf("ratio pool_%s_vs_%s_median %.2f\n",
			       work_name[w], allocs[a].name,
			       res[OURS][w][0].median / res[a][w][0].median);
			printf("ratio pool_%s_vs_%s_p99.9 %.2f\n",
			       work_name[w], allocs[a].name,
			       res[OURS][w][1].p999 / res[a][w][1].p999);
		}

	hb_mem_pool_destroy(pool.fd);
	hb_mem_module_close();
	free(samples);
	for (w = 0; w < NWORK; w++)
		free(steps[w]);
	return 0;
}
