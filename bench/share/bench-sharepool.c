// SPDX-License-Identifier: MIT
/*
 * bench-sharepool: cost of one alloc + free pair on the share pool
 * (hb_mem_share_pool_alloc_buf + hb_mem_share_pool_free_buf, 4 KiB blocks)
 * against two peers, in the same run:
 *
 *   localpool  the local pool (hb_mem_pool_alloc_buf/free_buf of 4 KiB),
 *              process-private
 *   shm-mutex  a free list of block indices in MAP_SHARED memory guarded
 *              by a process-shared pthread mutex: what a share pool
 *              without lock-free state would cost
 *
 * Cases:
 *   uncontended  one process, one thread
 *   2proc        two processes at once, pinned to two CPUs. The share pool
 *                is managed by its owner only (vendor model), so the second
 *                process does what other processes do to a share pool: it
 *                imports a block the owner holds and frees the import, in
 *                a loop (its hold bit and the owner's pops and pushes hit
 *                the same shared lines). For shm-mutex both processes
 *                allocate and free on the one list. Reported: the owner's
 *                (first process's) ns per pair.
 *
 * Each figure is the median of 7 timed loops (clock_gettime around
 * n pairs). Last lines: "ratio <name> <ours / peer>", lower is better.
 *
 * Syscalls on the fast path: run with --window; the program then does
 * nothing but n share-pool pairs between two getppid() markers, and
 *   strace -f -o trace bench-sharepool --window -n 100000
 *   sed -n '/getppid/,/getppid/p' trace | grep -vc getppid
 * counts the syscalls in between (0 is the goal).
 *
 * Usage: bench-sharepool [-n pairs] [--window]   (default 2000000 pairs)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"

#define BLOCKS 64
#define BLOCK_SIZE 4096
#define RUNS 7

static void die(const char *what, int32_t ret)
{
	char msg[128];

	hb_mem_strerror(ret, msg, sizeof(msg));
	fprintf(stderr, "bench-sharepool: %s: %s\n", what, msg);
	exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % CPU_SETSIZE, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* best effort */
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over RUNS of the ns per pair of @loop(@ctx, @n). */
static double measure(void (*loop)(void *ctx, long n), void *ctx, long n)
{
	double t[RUNS], t0;
	int r;

	loop(ctx, n / 10 + 1);	/* warm up */
	for (r = 0; r < RUNS; r++) {
		t0 = now_ns();
		loop(ctx, n);
		t[r] = (now_ns() - t0) / (double)n;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	return t[RUNS / 2];
}

/* ---- ours ----------------------------------------------------------------- */

static void sharepool_loop(void *ctx, long n)
{
	int32_t fd = *(int32_t *)ctx;
	hb_mem_common_buf_t b;
	int32_t ret;
	long i;

	for (i = 0; i < n; i++) {
		ret = hb_mem_share_pool_alloc_buf(fd, &b);
		if (ret)
			die("share pool alloc", ret);
		ret = hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)b.virt_addr);
		if (ret)
			die("share pool free", ret);
	}
}

static void localpool_loop(void *ctx, long n)
{
	int32_t fd = *(int32_t *)ctx;
	hb_mem_common_buf_t b;
	int32_t ret;
	long i;

	for (i = 0; i < n; i++) {
		ret = hb_mem_pool_alloc_buf(fd, BLOCK_SIZE, &b);
		if (ret)
			die("local pool alloc", ret);
		ret = hb_mem_pool_free_buf((uint64_t)(uintptr_t)b.virt_addr);
		if (ret)
			die("local pool free", ret);
	}
}

/* ---- the peer: a mutex-guarded free list in shared memory ----------------- */

struct shm_list {
	pthread_mutex_t lock;
	uint32_t top;
	uint32_t free[BLOCKS];
};

static struct shm_list *shm_list_new(void)
{
	struct shm_list *l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t a;
	uint32_t i;

	if (l == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&l->lock, &a);
	pthread_mutexattr_destroy(&a);
	for (i = 0; i < BLOCKS; i++)
		l->free[i] = i;
	l->top = BLOCKS;
	return l;
}

static void shm_list_loop(void *ctx, long n)
{
	struct shm_list *l = ctx;
	uint32_t b;
	long i;

	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&l->lock);
		if (!l->top) {
			fprintf(stderr, "bench-sharepool: shm list empty\n");
			exit(1);
		}
		b = l->free[--l->top];
		pthread_mutex_unlock(&l->lock);
		__asm__ __volatile__("" : : "r"(b) : "memory");
		pthread_mutex_lock(&l->lock);
		l->free[l->top++] = b;
		pthread_mutex_unlock(&l->lock);
	}
}

/* ---- two processes ---------------------------------------------------------- */

struct flag {
	volatile int stop;
	volatile long ops;
};

static struct flag *flag_new(void)
{
	struct flag *f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (f == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memset(f, 0, sizeof(*f));
	return f;
}

/* The second process for the share pool: import + free a held block. */
static void importer_child(struct flag *f, const hb_mem_common_buf_t *held)
{
	hb_mem_common_buf_t w = *held, out;
	long ops = 0;

	pin(1);
	w.fd = -1;
	w.virt_addr = NULL;
	while (!f->stop) {
		if (hb_mem_import_com_buf(&w, &out) || hb_mem_free_buf(out.fd))
			_exit(1);
		ops++;
	}
	f->ops = ops;
	_exit(0);
}

static void mutex_child(struct flag *f, struct shm_list *l)
{
	long ops = 0;

	pin(1);
	while (!f->stop) {
		shm_list_loop(l, 64);
		ops += 64;
	}
	f->ops = ops;
	_exit(0);
}

static void reap_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "bench-sharepool: second process failed\n");
		exit(1);
	}
}

static double contended_sharepool(int32_t fd, long n, double *child_ns)
{
	struct flag *f = flag_new();
	hb_mem_common_buf_t held;
	double t0, ns, t;
	int32_t ret;
	pid_t pid;

	ret = hb_mem_share_pool_alloc_buf(fd, &held);
	if (ret)
		die("share pool alloc", ret);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0)
		importer_child(f, &held);
	usleep(20000);
	t0 = now_ns();
	ns = measure(sharepool_loop, &fd, n);
	t = now_ns() - t0;
	f->stop = 1;
	reap_child(pid);
	*child_ns = f->ops ? t / (double)f->ops : 0;
	ret = hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)held.virt_addr);
	if (ret)
		die("share pool free", ret);
	munmap(f, sizeof(*f));
	return ns;
}

static double contended_mutex(struct shm_list *l, long n, double *child_ns)
{
	struct flag *f = flag_new();
	double t0, ns, t;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0)
		mutex_child(f, l);
	usleep(20000);
	t0 = now_ns();
	ns = measure(shm_list_loop, l, n);
	t = now_ns() - t0;
	f->stop = 1;
	reap_child(pid);
	*child_ns = f->ops ? t / (double)f->ops : 0;
	munmap(f, sizeof(*f));
	return ns;
}

int main(int argc, char **argv)
{
	double ours, local, mutex, ours2, mutex2, child_ours, child_mutex;
	hb_mem_share_pool_t sp;
	bool window = false;
	hb_mem_pool_t lp;
	struct shm_list *l;
	long n = 2000000;
	int32_t ret;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			n = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--window")) {
			window = true;
		} else {
			fprintf(stderr,
				"usage: bench-sharepool [-n pairs] [--window]\n");
			return 2;
		}
	}
	if (n <= 0)
		n = 1;
	ret = hb_mem_module_open();
	if (ret)
		die("module open", ret);
	ret = hb_mem_share_pool_create(BLOCKS, BLOCK_SIZE, 0, &sp);
	if (ret)
		die("share pool create", ret);
	if (window) {
		sharepool_loop(&sp.fd, 1000);
		syscall(SYS_getppid);
		sharepool_loop(&sp.fd, n);
		syscall(SYS_getppid);
		hb_mem_share_pool_destroy(sp.fd);
		hb_mem_module_close();
		return 0;
	}
	ret = hb_mem_pool_create(BLOCKS * BLOCK_SIZE, 0, &lp);
	if (ret)
		die("local pool create", ret);
	l = shm_list_new();
	pin(0);

	ours = measure(sharepool_loop, &sp.fd, n);
	local = measure(localpool_loop, &lp.fd, n);
	mutex = measure(shm_list_loop, l, n);
	printf("uncontended (ns per alloc+free pair, median of %d x %ld)\n",
	       RUNS, n);
	printf("  sharepool   %8.1f\n", ours);
	printf("  localpool   %8.1f\n", local);
	printf("  shm-mutex   %8.1f\n", mutex);

	ours2 = contended_sharepool(sp.fd, n, &child_ours);
	mutex2 = contended_mutex(l, n, &child_mutex);
	printf("2proc (first process's ns per pair; second process's ns per "
	       "op)\n");
	printf("  sharepool   %8.1f   (importer: import+free %.1f)\n", ours2,
	       child_ours);
	printf("  shm-mutex   %8.1f   (second allocator: pair %.1f)\n", mutex2,
	       child_mutex);

	printf("ratio localpool %.3f\n", ours / local);
	printf("ratio shm-mutex %.3f\n", ours / mutex);
	printf("ratio shm-mutex-2proc %.3f\n", ours2 / mutex2);

	hb_mem_pool_destroy(lp.fd);
	hb_mem_share_pool_destroy(sp.fd);
	hb_mem_module_close();
	munmap(l, sizeof(*l));
	return 0;
}
