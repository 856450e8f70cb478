/* SPDX-License-Identifier: MIT */
/*
 * alloc.h - what the allocator family (lib/alloc/) shares.
 *
 * Every allocator manages one region: a common buffer it allocated through
 * the public API (fd >= 0, freed at destroy) or caller memory (fd < 0).
 * The heap-instance core (mm.c) is used directly by the multi-heap and the
 * runtime zone, the granule core (gran.c) by the page allocator and the
 * buffer zone, so those embed the cores instead of calling the public
 * wrappers.
 */
#ifndef HBMEM_ALLOC_H
#define HBMEM_ALLOC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hbmem_internal.h"
#include "hb_mem_alloc.h"
#include "alloc/debug.h"

/* ---- region.c -------------------------------------------------------- */

struct hbmem_region {
	uint8_t *base;
	uint64_t size;
	hb_mem_common_buf_t buf;	/* valid when buf.fd >= 0 */
};

/* A new common buffer of @size bytes with usage @flags. */
int _hbmem_region_alloc(uint64_t size, int64_t flags, struct hbmem_region *r);
/* Caller memory: nothing to free later. */
void _hbmem_region_wrap(void *start, uint64_t size, struct hbmem_region *r);
void _hbmem_region_free(struct hbmem_region *r);
/* Negative errno for an HB_MEM_ERR_* code (the reverse of _hbmem_err). */
int _hbmem_errno_of(int32_t hb_err);
/* NULL with errno = -@negative_errno. */
void *_hbmem_null_errno(int negative_errno);

static inline bool _hbmem_region_has(const struct hbmem_region *r,
				     const void *p)
{
	return (const uint8_t *)p >= r->base &&
	       (const uint8_t *)p < r->base + r->size;
}

static inline bool _hbmem_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static inline uint64_t _hbmem_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* ---- mm.c: the heap-instance core ------------------------------------ */

#define HBMEM_MM_ALIGN 16u
#define HBMEM_MM_SL_LOG2 4
#define HBMEM_MM_SL_COUNT (1u << HBMEM_MM_SL_LOG2)
#define HBMEM_MM_FL_COUNT 40

struct hbmem_mm_blk;

struct hb_mem_mm {
	pthread_mutex_t lock;
	struct hbmem_mm_blk *first;	/* first block of the chain */
	struct hbmem_mm_blk *sentinel;	/* zero-size used block at the end */
	uintptr_t salt;			/* cookie key for used-prev headers */
	uint64_t fl_map;
	uint32_t sl_map[HBMEM_MM_FL_COUNT];
	struct hbmem_mm_blk *heads[HBMEM_MM_FL_COUNT][HBMEM_MM_SL_COUNT];
	uint64_t arena, used, free_bytes, allocs, free_blocks;
	struct hbmem_region region;
	struct hbmem_dbg_owner dbg;
	char name[32];
};

/* Set up @h over [start, start + size); 0, or -EINVAL if too small. */
int _hbmem_mm_init(struct hb_mem_mm *h, const char *name, void *start,
		   uint64_t size);
void _hbmem_mm_fini(struct hb_mem_mm *h);
/* Debug-aware allocation (align 0 = 16). NULL + errno. */
void *_hbmem_mm_alloc(struct hb_mem_mm *h, size_t align, size_t size,
		      const char *file, int line);
/* 0, or -EFAULT for a foreign pointer / double free. */
int _hbmem_mm_free(struct hb_mem_mm *h, void *ptr);
void _hbmem_mm_stats(struct hb_mem_mm *h, hb_mem_mm_info_t *info);
int _hbmem_mm_validate(struct hb_mem_mm *h);

/* ---- gran.c: the granule core ---------------------------------------- */

struct hbmem_gran_node;

struct hb_mem_gran {
	pthread_mutex_t lock;
	uint8_t *base;
	uint64_t ngran;
	uint32_t log2gran, log2align;
	uint64_t nwords;		/* bitmap words (64 granules each) */
	uint64_t *used;			/* 1 = allocated or reserved */
	uint64_t *start;		/* 1 = first granule of a live run */
	uint64_t *end;			/* 1 = last granule of a live run */
	struct hbmem_gran_node *tree;	/* summary of free runs, 1-based */
	uint64_t leaves;		/* power of two >= nwords */
	uint64_t nfree, allocs, reserved;
	struct hbmem_region region;
	struct hbmem_dbg_owner dbg;
};

int _hbmem_gran_init(struct hb_mem_gran *g, void *start, uint64_t size,
		     uint32_t log2gran, uint32_t log2align);
void _hbmem_gran_fini(struct hb_mem_gran *g);
void *_hbmem_gran_alloc(struct hb_mem_gran *g, size_t align, size_t size,
			const char *file, int line);
int _hbmem_gran_free(struct hb_mem_gran *g, void *ptr);
void _hbmem_gran_stats(struct hb_mem_gran *g, hb_mem_gran_info_t *info);

/* ---- mheap.c: capacity regions (the vendor heaps in mheap form) ------- */

/*
 * A region that is a capacity only (no addresses): what a vendor heap is.
 * Reserve charges @len to the first region of @attr, then of its chain,
 * with room (-ENOENT: no region; -ENOMEM: all full); *@id says which.
 */
int _hbmem_mheap_add_capacity(struct hb_mem_mheap *mh, const char *name,
			      uint32_t attr, uint64_t capacity, int *id);
int _hbmem_mheap_reserve(struct hb_mem_mheap *mh, uint32_t attr, uint64_t len,
			 int *id);
/*
 * The same, asking @try_fn(region id, @ctx) before charging a region with
 * room: -ENOMEM from it means "that one is full after all, go on along the
 * chain", another error ends the search with it. Called with the
 * multi-heap's lock held.
 */
int _hbmem_mheap_reserve_try(struct hb_mem_mheap *mh, uint32_t attr,
			     uint64_t len, int (*try_fn)(int id, void *ctx),
			     void *ctx, int *id);
void _hbmem_mheap_unreserve(struct hb_mem_mheap *mh, int id, uint64_t len);

#endif /* HBMEM_ALLOC_H */
