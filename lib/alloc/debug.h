/* SPDX-License-Identifier: MIT */
/*
 * debug.h - the allocation debug hooks, as the library's allocators call
 * them.
 *
 * Two levels:
 *
 * 1. Record only (any allocator, including the core buffers and the local
 *    pool): tell the hooks an allocation was made and freed. They keep
 *    its site and backtrace for leak reports and dumps, and catch frees
 *    of unknown pointers:
 *
 *        _hbmem_dbg_on_alloc(HBMEM_DBG_COM, ptr, size, file, line);
 *        _hbmem_dbg_on_free(HBMEM_DBG_COM, ptr);
 *
 *    Both are cheap when the hooks are off (one relaxed load).
 *
 * 2. Guarded (allocators that can over-allocate: the lib/alloc family):
 *    the allocator asks for front + size + back bytes, the hooks write red
 *    zones and fill patterns around the user block, check them on free,
 *    and may hold the freed block in a per-owner quarantine; the block's
 *    raw memory goes back to the allocator through the owner's release
 *    callback, or is handed back by _hbmem_dbg_free().
 *
 *    raw                 user = raw + front           user + size
 *    | front red zone    | user block (0xAA fill)      | back red zone |
 *
 * Records live out of band in a hash table keyed by the user pointer, so
 * the allocators' own layouts do not change when the hooks are off.
 */
#ifndef HBMEM_ALLOC_DEBUG_H
#define HBMEM_ALLOC_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hbmem_dbg_kind {
	HBMEM_DBG_MM,		/* heap instance / multi-heap region */
	HBMEM_DBG_GRAN,		/* granule / page allocator, buffer zone */
	HBMEM_DBG_IOB,
	HBMEM_DBG_ZONE,		/* system zone bump allocations */
	HBMEM_DBG_COM,		/* core: common buffers */
	HBMEM_DBG_GRAPH,	/* core: graphic buffers */
	HBMEM_DBG_POOL,		/* core: local pool sub-allocations */
	HBMEM_DBG_KINDS,
};

struct hbmem_dbg_rec;

struct hbmem_dbg_owner {
	enum hbmem_dbg_kind kind;
	const char *name;
	/* Give a raw block back to the allocator (it takes its own lock). */
	void (*release)(struct hbmem_dbg_owner *o, void *raw);
	/* Freed blocks waiting for reuse, oldest first; guarded by dbg lock. */
	struct hbmem_dbg_rec **ring;
	unsigned ring_head, ring_count;
	uint64_t tracked;	/* live + quarantined records (atomic) */
};

extern uint32_t _hbmem_dbg_opts;

/* The options in effect (reads $HBMEM_ALLOC_DEBUG on first use). */
uint32_t _hbmem_dbg_options(void);

static inline bool _hbmem_dbg_tracking(const struct hbmem_dbg_owner *o)
{
	return __atomic_load_n(&o->tracked, __ATOMIC_RELAXED) != 0;
}

void _hbmem_dbg_owner_init(struct hbmem_dbg_owner *o, enum hbmem_dbg_kind kind,
			   const char *name,
			   void (*release)(struct hbmem_dbg_owner *, void *));
/*
 * The owner goes away: its live blocks are reported as leaks, quarantined
 * ones dropped (their memory goes with the owner). Returns the leak count.
 */
int _hbmem_dbg_owner_fini(struct hbmem_dbg_owner *o);

/*
 * Everything of @o is released at once (a bump zone's reset): red zones
 * of the live blocks are checked, then their records dropped; no leak
 * report. Returns the number of blocks dropped.
 */
int _hbmem_dbg_owner_reset(struct hbmem_dbg_owner *o);

/* Guard bytes before a block aligned to @align, and after any block. */
size_t _hbmem_dbg_front(uint32_t opts, size_t align);
size_t _hbmem_dbg_back(uint32_t opts);

/*
 * A guarded block was allocated at @raw: lay out the red zones and fill,
 * record it, and return the user pointer raw + @front. If the record
 * cannot be made the block is still usable (untracked, no guards).
 */
void *_hbmem_dbg_alloc(struct hbmem_dbg_owner *o, uint32_t opts, void *raw,
		       size_t front, size_t size, const char *file, int line);

/*
 * Free @ptr if it is tracked for @o. Returns 0 when it is not tracked
 * (the allocator frees it itself), 1 when the hooks took it (*@raw is then
 * a block the caller must give back to its allocator now, or NULL when
 * the block went to quarantine with nothing evicted), or -EFAULT for a
 * double free or for the raw start of a guarded block (both reported).
 */
int _hbmem_dbg_free(struct hbmem_dbg_owner *o, void *ptr, void **raw);

/*
 * Size the user asked for if @ptr is a live tracked block of @o, else 0;
 * *@freed says whether it is a freed block @o holds in quarantine (still
 * allocated underneath, but not the caller's any more).
 */
size_t _hbmem_dbg_usable(struct hbmem_dbg_owner *o, const void *ptr,
			 bool *freed);

/*
 * Record-only hooks for other allocators (see the file comment). on_free
 * returns 0 if @ptr was tracked, -ENOENT if not (not necessarily a bug:
 * the block may predate the hooks being switched on).
 */
void _hbmem_dbg_on_alloc(enum hbmem_dbg_kind kind, const void *ptr,
			 size_t size, const char *file, int line);
int _hbmem_dbg_on_free(enum hbmem_dbg_kind kind, const void *ptr);

/* Report one formatted line through the report callback (called with no
 * lock of the hooks held). */
void _hbmem_dbg_report(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * Forget the records of core allocations of @kind inside [start, start +
 * len): their memory went away with its owner (a pool destroyed while
 * busy, at module close, after the leak report).
 */
void _hbmem_dbg_forget_range(enum hbmem_dbg_kind kind, const void *start,
			     size_t len);

#endif /* HBMEM_ALLOC_DEBUG_H */
