/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the bad-input tests (test-badinput-*.c): the stale and
 * made-up handles, the before-open subprocess machinery, the sets of bad
 * fds, addresses and share ids, and the fixture with the stricter teardown.
 *
 * Bad input to every public function: NULL pointers; negative, foreign,
 * closed and freed fds; addresses in no buffer; size 0; sizes whose
 * arithmetic overflows; unknown formats; empty bitmaps; double frees; calls
 * before the first open and after the last close. Each must return its
 * HB_MEM_ERR_* code, crash nothing and leave nothing behind.
 *
 * One test per function, /badinput/<function>. Each runs:
 *   1. the calls with the module never opened, in a fresh process (the
 *      hidden test /badinput/<function>/subprocess/before-open);
 *   2. the same calls after the last close, with handles that were valid
 *      just before it;
 *   3. bad input with the module open;
 *   4. one good call, proving the function still works.
 * The teardown checks that every test ends with the heaps empty and no fd
 * left open.
 */
#ifndef HBMEM_BADINPUT_UTIL_H
#define HBMEM_BADINPUT_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "test-util.h"

#define KiB 1024ull
#define MiB (1024ull * 1024ull)

/* Whether the module runs on backend @name (the module must be open). */
bool backend_is(const char *name);

static inline uint64_t va(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* A page that belongs to no hbmem buffer. */
extern uint8_t foreign_page[4096];

/*
 * One handle of each kind. Before the first open they are made up; after
 * the last close they are real ones the close has just freed.
 */
struct handles {
	hb_mem_common_buf_t com;
	hb_mem_graphic_buf_t graph;
	hb_mem_graphic_buf_group_t group;
	hb_mem_pool_t pool;
	hb_mem_buf_queue_t queue;
};

void alloc_nv12(int64_t flags, hb_mem_graphic_buf_t *g);

/* A group with the members @bitmap names, all NV12 64x48. */
void alloc_group(uint32_t bitmap, hb_mem_graphic_buf_group_t *grp);

typedef void (*closed_fn)(const struct handles *h);

/* The subprocess half: this process has never opened the module. */
void before_open(gconstpointer data);

/*
 * Steps 1 and 2 of every test: @fn's calls before the first open (in a
 * child, this very program re-run with the hidden test path) and after the
 * last close (here), then reopen for step 3.
 */
void check_closed(const char *name, closed_fn fn);

#define CHECK_CLOSED(fn) check_closed(#fn, closed_##fn)

/*
 * fds that name no hbmem buffer: negative, huge, another file, a memfd
 * that is not ours, and a number that was just closed. Made after the
 * test's own buffers so that the closed number is not reused under it.
 */
struct bad_fds {
	int fd[8];
	int n;
	int devnull, memfd;
};

void bad_fds_open(struct bad_fds *b);
void bad_fds_close(struct bad_fds *b);

/*
 * Addresses in no hbmem buffer. (One past a buffer's end is checked with
 * sizes that are not page multiples: a page-aligned end may well be where
 * the next mapping starts.)
 */
struct bad_addrs {
	uint64_t a[8];
	int n;
	void *heap;
};
void bad_addrs_init(struct bad_addrs *b);
void bad_addrs_free(struct bad_addrs *b);

void heaps_are_empty(void);

/* Share ids that name nothing: none, negative, freed, made up. */
void bad_share_ids(int32_t ids[4]);

/* The module fixture's teardown (no fd left open), after empty heaps. */
void badinput_teardown(TestModule *m, gconstpointer d);

/* add_module_test(), with the stricter teardown */
#define add_badinput_test(path, fn)                                        \
	g_test_add(path, TestModule, NULL, test_module_setup, fn,          \
		   badinput_teardown)

#define ADD(fn)                                                            \
	do {                                                               \
		static const closed_fn c_ = closed_##fn;                   \
		add_badinput_test("/badinput/" #fn, test_##fn);            \
		g_test_add_data_func("/badinput/" #fn                      \
				     "/subprocess/before-open",            \
				     &c_, before_open);                    \
	} while (0)

/* g_test_init(), remembering argv[0] for the before-open subprocesses. */
void badinput_init(int *argc, char ***argv);

#endif /* HBMEM_BADINPUT_UTIL_H */
