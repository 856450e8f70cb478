// SPDX-License-Identifier: MIT
/*
 * bench-buffers: what one common buffer costs, allocated and freed,
 * against the system calls it is made of.
 *
 *   ours  hb_mem_alloc_com_buf(size) + hb_mem_free_buf(fd)
 *   raw   memfd_create + ftruncate + mmap + munmap + close, same size
 *
 * Both run in the same process, interleaved in rounds (a batch of ours, a
 * batch of raw) so that drift in the machine hits both alike. Every pair is
 * timed on its own; the report is the median and the 99th percentile per
 * pair, then one line per size,
 *
 *   ratio buffers_<size> <ours median / raw median>
 *
 * lower is better. Neither side touches the pages: this is the cost of the
 * bookkeeping and the system calls, not of faulting memory in.
 *
 * Usage: bench-buffers [iterations-scale]   (default 1.0)
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hb_mem_mgr.h"

#define ROUNDS 20

struct size_case {
	const char *name;
	uint64_t size;
	int iterations;		/* pairs per side, over all rounds */
};

static const struct size_case cases[] = {
	{ "4KiB", 4096, 40000 },
	{ "1MiB", 1 << 20, 40000 },
	{ "16MiB", 16 << 20, 20000 },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t percentile(uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static int ours(uint64_t size, uint64_t *ns)
{
	hb_mem_common_buf_t buf;
	uint64_t t0 = now_ns();
	int32_t ret;

	ret = hb_mem_alloc_com_buf(size, 0, &buf);
	if (ret == 0)
		ret = hb_mem_free_buf(buf.fd);
	*ns = now_ns() - t0;
	if (ret) {
		fprintf(stderr, "bench-buffers: hbmem failed: %d\n", ret);
		return -1;
	}
	return 0;
}

static int raw(uint64_t size, uint64_t *ns)
{
	uint64_t t0 = now_ns();
	void *p;
	int fd;

	fd = memfd_create("bench", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		goto fail;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	munmap(p, size);
	close(fd);
	*ns = now_ns() - t0;
	return 0;
fail:
	perror("bench-buffers: raw");
	return -1;
}

static int run_case(const struct size_case *c, double scale, double *ratio)
{
	size_t n = (size_t)(c->iterations * scale / ROUNDS) * ROUNDS;
	size_t per_round = n / ROUNDS, i, k = 0;
	uint64_t *o = calloc(n, sizeof(*o)), *r = calloc(n, sizeof(*r));
	uint64_t om, op99, rm, rp99;
	int round;

	if (!o || !r || n == 0)
		return -1;
	/* warm both paths up: first faults, table growth, page cache */
	for (i = 0; i < 200; i++) {
		if (ours(c->size, &o[0]) || raw(c->size, &r[0]))
			return -1;
	}
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < per_round; i++)
			if (ours(c->size, &o[k + i]))
				return -1;
		for (i = 0; i < per_round; i++)
			if (raw(c->size, &r[k + i]))
				return -1;
		k += per_round;
	}
	qsort(o, n, sizeof(*o), cmp_u64);
	qsort(r, n, sizeof(*r), cmp_u64);
	om = percentile(o, n, 0.5);
	op99 = percentile(o, n, 0.99);
	rm = percentile(r, n, 0.5);
	rp99 = percentile(r, n, 0.99);
	*ratio = (double)om / (double)rm;
	printf("buffers_%-6s %7zu pairs  hbmem median %7" PRIu64
	       " ns p99 %7" PRIu64 " ns   raw median %7" PRIu64
	       " ns p99 %7" PRIu64 " ns\n",
	       c->name, n, om, op99, rm, rp99);
	free(o);
	free(r);
	return 0;
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	double ratio[NCASES];
	size_t i;
	int32_t ret;

	if (scale <= 0)
		scale = 1.0;
	ret = hb_mem_module_open();
	if (ret) {
		fprintf(stderr, "bench-buffers: hb_mem_module_open: %d\n", ret);
		return 1;
	}
	printf("bench-buffers: com_buf alloc+free vs memfd_create+ftruncate+"
	       "mmap+munmap+close\n");
	for (i = 0; i < NCASES; i++) {
		if (run_case(&cases[i], scale, &ratio[i])) {
			hb_mem_module_close();
			return 1;
		}
	}
	for (i = 0; i < NCASES; i++)
		printf("ratio buffers_%s %.3f\n", cases[i].name, ratio[i]);
	hb_mem_module_close();
	return 0;
}
