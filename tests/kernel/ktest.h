/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktest - the small harness shared by the kernel test programs.
 *
 * A program lists its tests in a table and calls ktest_main(). Each test
 * runs in a child process of its own, under a time limit, so a crash or a
 * hang in one test is reported as that test's failure and the rest still
 * run. A test returns KTEST_PASS, KTEST_FAIL or KTEST_SKIP and explains a
 * failure or skip with ktest_fail()/ktest_skip(). The harness prints one
 * line per test, "PASS name", "FAIL name: reason" or "SKIP name: reason",
 * and the program exits 0 (all passed or skipped, some passed), 1 (any
 * failed) or 77 (all skipped).
 */
#ifndef KTEST_H
#define KTEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/hbmem.h>

#define KTEST_PASS 0
#define KTEST_FAIL 1
#define KTEST_SKIP 77

struct ktest {
	const char *name;
	int (*fn)(void *arg);
	void *arg;
	unsigned int timeout_s;	/* 0: 60 s */
};

/* Record why the running test failed or skipped; returns the code. */
int ktest_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ktest_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run one test now (in a child) and print its line; returns its code. */
int ktest_run(const struct ktest *t);
/* Run a table, print the lines and return the exit status for main(). */
int ktest_main(const struct ktest *tests, size_t n);

/* A table entry with the default time limit. */
#define KTEST(name, fn) { (name), (fn), NULL, 0 }

#define KTEST_CHECK(cond, ...)					\
	do {							\
		if (!(cond))					\
			return ktest_fail(__VA_ARGS__);		\
	} while (0)

/* ---- hbmem helpers ---- */

/* One heap of the running module, from HBMEM_IOC_HEAP_QUERY. */
struct kheap {
	struct hbmem_heap_info info;
	char path[96];		/* /dev/dma_heap/<name> */
};

#define KTEST_MAX_HEAPS 16

/* Open /dev/hbmem (O_RDWR|O_CLOEXEC); -1 with errno on failure. */
int ktest_ctl_open(void);
/* Fill @heaps from the module; returns the count, or -1. */
int ktest_heaps(struct kheap *heaps, int max);
/* First heap with all of @attrs set, none of @not_attrs and @type (-1: any). */
const struct kheap *ktest_heap_find(const struct kheap *heaps, int n, int type,
				    uint32_t attrs, uint32_t not_attrs);

/*
 * DMA_HEAP_IOCTL_ALLOC on the heap device at @path. Returns a new dma-buf
 * fd owned by the caller, or -errno.
 */
int ktest_heap_alloc_path(const char *path, uint64_t len, uint32_t fd_flags);
int ktest_heap_alloc_fd(int heap_fd, uint64_t len, uint32_t fd_flags);

/* DMA_BUF_IOCTL_SYNC with @flags, retrying on EINTR/EAGAIN; 0 or -errno. */
int ktest_sync(int dmabuf_fd, uint64_t flags);

/* HBMEM_IOC_BUF_INFO on @fd; 0 or -errno. */
int ktest_buf_info(int ctl, int fd, struct hbmem_buf_info *info);

/* A count ioctl on the buffer behind @fd; returns the count or -errno. */
int ktest_count(int ctl, unsigned long cmd, int fd, uint32_t target,
		int64_t timeout_ms);

/* Import by share id; returns a new fd owned by the caller, or -errno. */
int ktest_import(int ctl, uint32_t share_id, uint64_t offset, uint64_t len);

/* Dump size of a dma-buf, by lseek(SEEK_END). */
int64_t ktest_dmabuf_size(int fd);

#endif /* KTEST_H */
