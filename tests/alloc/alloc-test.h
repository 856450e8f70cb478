/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the allocator-family tests: hbmem return-code checks,
 * the module fixture, and the Zephyr-style stress harness run against
 * every allocator through a small ops table.
 */
#ifndef HBMEM_ALLOC_TEST_H
#define HBMEM_ALLOC_TEST_H

#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"
#include "hb_mem_alloc.h"

#define assert_hb(expr, expected)                                          \
	do {                                                               \
		int32_t r_ = (expr);                                       \
		int32_t e_ = (expected);                                   \
		if (r_ != e_)                                              \
			g_error("%s:%d: %s returned 0x%x, expected 0x%x",  \
				__FILE__, __LINE__, #expr, (unsigned)r_,   \
				(unsigned)e_);                             \
	} while (0)
#define assert_ok(expr) assert_hb(expr, 0)

/* NULL with errno @e from a malloc-style call. */
#define assert_null_errno(expr, e)                                         \
	do {                                                               \
		void *p_;                                                  \
		errno = 0;                                                 \
		p_ = (expr);                                               \
		if (p_ != NULL || errno != (e))                            \
			g_error("%s:%d: %s gave %p errno %d, expected "    \
				"NULL errno %d", __FILE__, __LINE__,       \
				#expr, p_, errno, (e));                    \
	} while (0)

/* Fixture: the module open for the test's duration. */
void alloc_test_module_setup(int *f, gconstpointer data);
void alloc_test_module_teardown(int *f, gconstpointer data);
#define add_test(path, fn)                                                 \
	g_test_add(path, int, NULL, alloc_test_module_setup, fn,           \
		   alloc_test_module_teardown)

/* An allocator as the stress harness drives it. */
struct stress_ops {
	void *ctx;
	void *(*alloc)(void *ctx, size_t size);
	int32_t (*free)(void *ctx, void *p);
	int32_t (*check)(void *ctx);		/* full validation, 0 = ok */
	uint64_t (*largest)(void *ctx);		/* largest free block */
	size_t align;		/* every pointer must be aligned to this */
	size_t min_size, max_size;	/* request sizes */
	const uint8_t *lo, *hi;	/* every block must lie in [lo, hi) */
};

struct stress_result {
	uint64_t allocs_tried, allocs_ok, frees;
	double avg_fill;	/* percent of @capacity in use, averaged */
};

/*
 * Random alloc/free keeping the requested bytes near @target_pct of
 * @capacity (100: as full as it gets, so allocations fail regularly),
 * @nops operations, the allocator validated after each one, every block
 * pattern-filled and checked on free, alignment and bounds checked.
 */
void stress_fill(const struct stress_ops *ops, uint64_t capacity,
		 int target_pct, int nops, uint32_t seed,
		 struct stress_result *res);

/*
 * @nthreads threads x @iters operations (alloc, free, 4 slots each,
 * pattern-checked); asserts no corruption, validates at the end, and that
 * the largest free block is what it was before.
 */
void stress_threads(const struct stress_ops *ops, int nthreads, int iters);

#endif /* HBMEM_ALLOC_TEST_H */
