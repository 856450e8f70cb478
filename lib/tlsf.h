/* SPDX-License-Identifier: MIT */
/*
 * tlsf.h - a two-level segregated-fit allocator of page runs, with its
 * metadata kept out of band.
 *
 * It hands out runs of pages of a range it never touches: the range may be
 * device memory, so everything it knows lives in an array of struct
 * hbmem_tlsf_block indexed by page number, allocated with malloc. A run is
 * named by its first page ("start"); only the entry of a start page means
 * anything, and every other entry has size 0, which is how an address in
 * the middle of a run is told from the start of one.
 *
 *   page:   0     1     2     3     4     5     6     7
 *   size:   2     0     1     4|F   0     0     0     1
 *           [used ...] [used] [free ................] [used]
 *   prev:   -           0     2                       3
 *
 * Free runs sit on one of 16 lists per power of two of their size (first
 * level: floor(log2 pages), second level: the next four bits), and two
 * bitmaps say which lists are non-empty, so finding a run that fits is two
 * find-first-set instructions. Freeing merges with both physical
 * neighbours, found through the size (next) and the prev field (previous),
 * so no two free runs are ever adjacent. Every operation is O(1).
 *
 * Not thread safe: the owner locks.
 */
#ifndef HBMEM_TLSF_H
#define HBMEM_TLSF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HBMEM_TLSF_SL_LOG2 4
#define HBMEM_TLSF_SL_COUNT (1u << HBMEM_TLSF_SL_LOG2)
#define HBMEM_TLSF_FL_COUNT 28
#define HBMEM_TLSF_NONE UINT32_MAX

/* Flags in the top bits of hbmem_tlsf_block.size. */
#define HBMEM_TLSF_FREE 0x80000000u	/* on a free list */
#define HBMEM_TLSF_MARK 0x40000000u	/* used run, owner-defined mark */
#define HBMEM_TLSF_SIZE_MASK 0x3FFFFFFFu
/* Largest range, in pages. */
#define HBMEM_TLSF_MAX_PAGES HBMEM_TLSF_SIZE_MASK

struct hbmem_tlsf_block {
	uint32_t size;		/* pages | flags; 0: not the start of a run */
	uint32_t prev_phys;	/* start of the run before, or NONE */
	union {
		struct {
			uint32_t next, prev;
		} link;		/* free run: its free list */
		uint64_t tag;	/* used run: the owner's value */
	} u;
};

struct hbmem_tlsf {
	uint32_t fl_bitmap;
	uint32_t sl_bitmap[HBMEM_TLSF_FL_COUNT];
	uint32_t head[HBMEM_TLSF_FL_COUNT][HBMEM_TLSF_SL_COUNT];
	uint32_t npages;
	uint32_t free_pages;
	uint32_t used_runs;
	struct hbmem_tlsf_block *blk;	/* npages entries */
};

/*
 * Manage @npages pages (1 .. HBMEM_TLSF_MAX_PAGES), all free.
 * -EINVAL for a bad count, -ENOMEM when the metadata cannot be allocated.
 */
int _hbmem_tlsf_init(struct hbmem_tlsf *t, uint32_t npages);
void _hbmem_tlsf_fini(struct hbmem_tlsf *t);

/* A run of @pages pages: its start page, or HBMEM_TLSF_NONE. */
uint32_t _hbmem_tlsf_alloc(struct hbmem_tlsf *t, uint32_t pages);

/*
 * Free the used run starting at @start. -EFAULT when @start is not the
 * start of a used run (out of range, inside a run, already free); marked
 * runs are freed like any used run.
 */
int _hbmem_tlsf_free(struct hbmem_tlsf *t, uint32_t start);

/* The start of the run containing @page (< npages). O(pages of the run). */
uint32_t _hbmem_tlsf_run_of(const struct hbmem_tlsf *t, uint32_t page);

/* Whether @start is the start of a used run (marked or not). */
static inline bool _hbmem_tlsf_is_used(const struct hbmem_tlsf *t,
				       uint32_t start)
{
	uint32_t s;

	if (start >= t->npages)
		return false;
	s = t->blk[start].size;
	return s != 0 && !(s & HBMEM_TLSF_FREE);
}

static inline uint32_t _hbmem_tlsf_pages(const struct hbmem_tlsf *t,
					 uint32_t start)
{
	return t->blk[start].size & HBMEM_TLSF_SIZE_MASK;
}

/*
 * Check every invariant: runs tile the range exactly, prev fields match,
 * only start pages have a size, no two free runs are adjacent, a run is on
 * a free list exactly when it is free and on the list its size maps to,
 * list links are consistent, the bitmaps match the non-empty lists, and
 * the counters match. 0, or -EUCLEAN with a description in @why.
 * O(npages); for tests.
 */
int _hbmem_tlsf_check(const struct hbmem_tlsf *t, char *why, size_t why_len);

/*
 * For tests (pool.c): _hbmem_tlsf_check() on the pool @fd plus the pool's
 * own bookkeeping (its cache of freed pages, its client count). 0, -ENOENT
 * for no such pool, or -EUCLEAN with a description in @why.
 */
int _hbmem_pool_check(int32_t fd, char *why, size_t why_len);

#endif /* HBMEM_TLSF_H */
