/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the library tests.
 */
#ifndef HBMEM_TEST_UTIL_H
#define HBMEM_TEST_UTIL_H

#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"

/* Assert an hb_mem call's result, printing the code's name on mismatch. */
#define assert_hb(expr, expected)                                          \
	do {                                                               \
		int32_t r_ = (expr);                                       \
		int32_t e_ = (expected);                                   \
		if (r_ != e_) {                                            \
			char b1_[128], b2_[128];                           \
			hb_mem_strerror(r_, b1_, sizeof(b1_));             \
			hb_mem_strerror(e_, b2_, sizeof(b2_));             \
			g_error("%s:%d: %s returned 0x%x (%s), expected "  \
				"0x%x (%s)", __FILE__, __LINE__, #expr,    \
				(unsigned)r_, b1_, (unsigned)e_, b2_);     \
		}                                                          \
	} while (0)

#define assert_ok(expr) assert_hb(expr, 0)

/* Number of open fds of this process (from /proc/self/fd). */
int test_count_fds(void);

/* Number of mappings of this process (lines of /proc/self/maps). */
int test_count_maps(void);

/*
 * Fixture for tests that need the module open: opens it and records the
 * fd count; the teardown closes it and checks no fd was left behind.
 */
typedef struct {
	int fds_before;
} TestModule;

void test_module_setup(TestModule *m, gconstpointer data);
void test_module_teardown(TestModule *m, gconstpointer data);

#define add_module_test(path, fn)                                         \
	g_test_add(path, TestModule, NULL, test_module_setup, fn,         \
		   test_module_teardown)

/* Sum of the used bytes of every heap. */
uint64_t test_heaps_used(void);

/*
 * @n items or rounds divided by $HBMEM_STRESS_SCALE (valgrind's setup and
 * the QEMU guest set it: there, threads crawl), at least @min.
 */
guint test_scaled(guint n, guint min);

#endif /* HBMEM_TEST_UTIL_H */
