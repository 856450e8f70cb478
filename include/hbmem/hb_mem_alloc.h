/* SPDX-License-Identifier: MIT */
/*
 * hb_mem_alloc.h - the allocator family: sub-allocators over hbmem memory.
 *
 * EXTENSION: nothing in this header exists in the vendor library.
 *
 * The model
 * ---------
 * hbmem hands out buffers a page or more at a time, each with an fd. Media
 * code also needs small objects, fixed-size packets, DMA granules and
 * per-CPU bookkeeping carved out of that memory without a system call per
 * object. Each allocator here manages one *region*: either an hbmem common
 * buffer the allocator allocates itself (hb_mem_alloc_com_buf() with the
 * usage @flags you pass, released again when the allocator is destroyed),
 * or memory you hand it (the *_in variants; you keep ownership).
 *
 *   hb_mem_mheap_*   heaps by attribute: regions registered at run time
 *                    with an attribute value; requests name an attribute
 *                    and the region is chosen by attribute and free space,
 *                    with an optional fallback chain to other attributes.
 *                    The vendor heaps (ion_cma, carveout, ...) are the
 *                    same idea: attribute = heap, chain = fallback order.
 *   hb_mem_mm_*      heap instances: independent malloc/free heaps, O(1)
 *                    (two-level segregated fit), with mallinfo statistics.
 *   hb_mem_gran_*    granule allocator: runs of 2^n-byte granules, freed
 *                    without a size, O(log n) search of a summary tree.
 *   hb_mem_page_*    page allocator: granules of one page, with the device
 *                    address of each allocation.
 *   hb_mem_zones_*   zones: per-CPU bump "system" zones released whole, a
 *                    runtime heap and a buffer zone, chosen by zone and
 *                    capability bits, with explicit shared-data commit.
 *   hb_mem_iob_*     I/O buffer pool: fixed count of fixed-size buffers,
 *                    waiting allocation with a throttle reserve and FIFO
 *                    hand-over of freed buffers to waiters.
 *   hb_mem_alloc_debug_*  debug hooks over all of the above: allocation
 *                    sites and backtraces, red zones, fill patterns,
 *                    quarantine, leak reports and live dumps.
 *
 * Conventions: calls returning int32_t return 0 or an HB_MEM_ERR_* code.
 * malloc-style calls return a pointer, or NULL with errno set (EINVAL bad
 * argument, ENOMEM no room, ENOENT no region with the attribute, ENOTSUP
 * missing capability, ETIMEDOUT / EAGAIN for the IOB waits). Every
 * allocator is thread safe (one lock per allocator or per region). The
 * granule, page and IOB allocators keep all their metadata out of band,
 * so their region may be uncached device memory; heap instances, the
 * multi-heap and the runtime zone keep a 16-byte header before each block.
 *
 * Lifetime: an allocator over a common buffer must be destroyed before
 * the last hb_mem_module_close(), which frees every buffer of the process.
 */
#ifndef HB_MEM_ALLOC_H
#define HB_MEM_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "hb_mem_mgr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Heap instances (hb_mem_mm_*) ===================================== */

typedef struct hb_mem_mm hb_mem_mm_t;

/* mallinfo-like statistics of one heap instance. */
typedef struct hb_mem_mm_info_t {
	uint64_t arena;		/* bytes managed (region minus fixed overhead) */
	uint64_t used;		/* bytes in allocated blocks, headers included */
	uint64_t free;		/* bytes in free blocks, headers included */
	uint64_t largest_free;	/* payload bytes of the largest free block */
	uint64_t allocs;	/* live allocations */
	uint64_t free_blocks;	/* number of free blocks (fragmentation) */
} hb_mem_mm_info_t;

/**
 * Create a heap over a new common buffer of @size bytes allocated with
 * usage @flags. @name (may be NULL) appears in debug reports. Errors:
 * INVALID_PARAMS, INSUFFICIENT_MEM, MODULE_NOT_FOUND.
 */
int32_t hb_mem_mm_create(const char *name, uint64_t size, int64_t flags,
			 hb_mem_mm_t **heap);

/** Create a heap over the caller's memory [@start, @start + @size). */
int32_t hb_mem_mm_create_in(const char *name, void *start, uint64_t size,
			    hb_mem_mm_t **heap);

/**
 * Destroy @heap (releasing its common buffer, if it made one). Live
 * allocations are reported as leaks when debug hooks are on.
 */
int32_t hb_mem_mm_destroy(hb_mem_mm_t *heap);

/* 16-byte aligned; NULL + errno (EINVAL for size 0, ENOMEM). */
void *hb_mem_mm_malloc(hb_mem_mm_t *heap, size_t size);
void *hb_mem_mm_zalloc(hb_mem_mm_t *heap, size_t size);
/* @align: a power of two; any size up to the region. */
void *hb_mem_mm_memalign(hb_mem_mm_t *heap, size_t align, size_t size);
/* realloc(NULL, n) mallocs; realloc(p, 0) frees and returns NULL. */
void *hb_mem_mm_realloc(hb_mem_mm_t *heap, void *ptr, size_t size);
/** Free @ptr (NULL is a no-op). INVALID_VADDR for a foreign pointer or a
 *  double free. */
int32_t hb_mem_mm_free(hb_mem_mm_t *heap, void *ptr);
/** Usable bytes of the allocation at @ptr (0 if not a live allocation). */
size_t hb_mem_mm_usable_size(hb_mem_mm_t *heap, void *ptr);
int32_t hb_mem_mm_info(hb_mem_mm_t *heap, hb_mem_mm_info_t *info);
/**
 * Walk the whole heap and check every invariant (block chain, free
 * lists, bitmaps, counters). 0, or INVALID_PARAMS on the first broken
 * invariant (logged at error level). For tests and debugging: O(n).
 */
int32_t hb_mem_mm_check(hb_mem_mm_t *heap);

/* ==== Heaps by attribute (hb_mem_mheap_*) ============================== */

/*
 * An attribute is an opaque small integer (0 .. HB_MEM_MHEAP_ATTR_MAX - 1);
 * allocation matches it exactly. The first values are named; applications
 * pick their own from HB_MEM_MHEAP_ATTR_USER up.
 */
#define HB_MEM_MHEAP_ATTR_CACHEABLE	0u
#define HB_MEM_MHEAP_ATTR_NON_CACHEABLE	1u
#define HB_MEM_MHEAP_ATTR_CONTIGUOUS	2u
#define HB_MEM_MHEAP_ATTR_USER		8u
#define HB_MEM_MHEAP_ATTR_MAX		32u

#define HB_MEM_MHEAP_MAX_REGIONS	64

/* How a region is chosen among those carrying the requested attribute. */
enum hb_mem_mheap_policy {
	HB_MEM_MHEAP_FIRST = 0,	/* registration order (Zephyr's behaviour) */
	HB_MEM_MHEAP_MOST_FREE,	/* most free bytes first (spreads load) */
	HB_MEM_MHEAP_BEST_FIT,	/* least free bytes that still fit (packs) */
};

typedef struct hb_mem_mheap hb_mem_mheap_t;

typedef struct hb_mem_mheap_region_info_t {
	char name[32];
	uint32_t attr;
	void *base;
	uint64_t size;
	uint64_t used;		/* bytes in allocated blocks */
	uint64_t free;
	uint64_t largest_free;
	uint64_t allocs;	/* live allocations */
	uint64_t fallback_allocs; /* served here for another attribute */
} hb_mem_mheap_region_info_t;

int32_t hb_mem_mheap_create(enum hb_mem_mheap_policy policy,
			    hb_mem_mheap_t **mheap);
/** Destroy @mheap and every region (common buffers are freed). */
int32_t hb_mem_mheap_destroy(hb_mem_mheap_t *mheap);

/**
 * Register a region with attribute @attr: a new common buffer of @size
 * bytes with usage @flags (when @start is NULL) or the caller's memory.
 * @region_id (may be NULL) receives the region's index. Errors:
 * INVALID_PARAMS (bad attr, size too small, overlap), INSUFFICIENT_MEM
 * (no common buffer, or HB_MEM_MHEAP_MAX_REGIONS reached).
 */
int32_t hb_mem_mheap_add_region(hb_mem_mheap_t *mheap, const char *name,
				uint32_t attr, void *start, uint64_t size,
				int64_t flags, int32_t *region_id);

/**
 * When no region of @attr can serve a request, try the attributes of
 * @chain in order (n <= 8; n = 0 clears the chain). Never split across
 * regions.
 */
int32_t hb_mem_mheap_set_fallback(hb_mem_mheap_t *mheap, uint32_t attr,
				  const uint32_t *chain, int n);

/* NULL + errno: EINVAL (size 0, bad attr/align), ENOENT (no region has
 * @attr or any attribute of its chain), ENOMEM (regions exist but full). */
void *hb_mem_mheap_alloc(hb_mem_mheap_t *mheap, uint32_t attr, size_t size);
void *hb_mem_mheap_aligned_alloc(hb_mem_mheap_t *mheap, uint32_t attr,
				 size_t align, size_t size);
/** Free to the owning region (found by address). INVALID_VADDR if none. */
int32_t hb_mem_mheap_free(hb_mem_mheap_t *mheap, void *ptr);
/** Index of the region holding @ptr, or -1. */
int32_t hb_mem_mheap_region_of(hb_mem_mheap_t *mheap, const void *ptr);
int32_t hb_mem_mheap_region_count(hb_mem_mheap_t *mheap, int32_t *count);
int32_t hb_mem_mheap_region_info(hb_mem_mheap_t *mheap, int32_t region_id,
				 hb_mem_mheap_region_info_t *info);
/** hb_mem_mm_check() on every region. */
int32_t hb_mem_mheap_check(hb_mem_mheap_t *mheap);

/* ==== Granule allocator (hb_mem_gran_*) and pages (hb_mem_page_*) ====== */

typedef struct hb_mem_gran hb_mem_gran_t;

typedef struct hb_mem_gran_info_t {
	uint32_t log2gran;	/* granule = 1 << log2gran bytes */
	uint32_t log2align;	/* every allocation is 1 << log2align aligned */
	uint64_t ngranules;
	uint64_t nfree;		/* free granules */
	uint64_t mxfree;	/* longest run of free granules */
	uint64_t allocs;	/* live allocations */
	uint64_t reserved;	/* granules taken by hb_mem_gran_reserve() */
} hb_mem_gran_info_t;

/**
 * Granules of 2^@log2gran bytes (4 .. 30) over a new common buffer of
 * @size bytes (rounded down to whole granules), every allocation aligned
 * to 2^@log2align bytes (log2align <= log2gran).
 */
int32_t hb_mem_gran_create(uint64_t size, int64_t flags, uint32_t log2gran,
			   uint32_t log2align, hb_mem_gran_t **gran);
/** The same over caller memory; @start must be 2^log2align aligned. */
int32_t hb_mem_gran_create_in(void *start, uint64_t size, uint32_t log2gran,
			      uint32_t log2align, hb_mem_gran_t **gran);
int32_t hb_mem_gran_destroy(hb_mem_gran_t *gran);
/* Lowest-addressed run of enough granules (first fit). NULL + errno. */
void *hb_mem_gran_alloc(hb_mem_gran_t *gran, size_t size);
/* @align: a power of two; above the granule alignment it costs a search
 * for size + align - granule bytes. */
void *hb_mem_gran_alloc_align(hb_mem_gran_t *gran, size_t align,
			      size_t size);
/** Free a run by its first byte: the run length is kept out of band. */
int32_t hb_mem_gran_free(hb_mem_gran_t *gran, void *ptr);
/**
 * Mark the granules covering [@start, @start + @size) as never
 * allocatable. INVALID_PARAMS outside the region, POOL_BUSY if any of
 * them is in use.
 */
int32_t hb_mem_gran_reserve(hb_mem_gran_t *gran, void *start, uint64_t size);
int32_t hb_mem_gran_info(hb_mem_gran_t *gran, hb_mem_gran_info_t *info);
/** Check the bitmaps against the summary tree and the counters. O(n). */
int32_t hb_mem_gran_check(hb_mem_gran_t *gran);

typedef struct hb_mem_page_pool hb_mem_page_pool_t;

/** Page allocator: @npages pages of the system page size in a new common
 *  buffer with usage @flags. */
int32_t hb_mem_page_pool_create(uint64_t npages, int64_t flags,
				hb_mem_page_pool_t **pool);
int32_t hb_mem_page_pool_destroy(hb_mem_page_pool_t *pool);
/* @npages contiguous, page-aligned pages. NULL + errno. */
void *hb_mem_page_alloc(hb_mem_page_pool_t *pool, uint64_t npages);
int32_t hb_mem_page_free(hb_mem_page_pool_t *pool, void *page);
/** Device address of @ptr (0 on backends without physical addresses). */
int32_t hb_mem_page_phys(hb_mem_page_pool_t *pool, const void *ptr,
			 uint64_t *phys);
int32_t hb_mem_page_pool_info(hb_mem_page_pool_t *pool,
			      hb_mem_gran_info_t *info);

/* ==== Zones (hb_mem_zones_*) =========================================== */

enum hb_mem_zone {
	HB_MEM_ZONE_SYS = 0,	/* per-CPU bump, never freed one by one */
	HB_MEM_ZONE_RUNTIME,	/* general malloc/free */
	HB_MEM_ZONE_BUFFER,	/* large media buffers, granule runs */
	HB_MEM_ZONE_COUNT,
};

/* Capability bits a zone offers and a request asks for (all must match). */
#define HB_MEM_CAPS_RAM		(1u << 0)
#define HB_MEM_CAPS_DMA		(1u << 1)	/* device-reachable memory */
#define HB_MEM_CAPS_CACHE	(1u << 2)	/* CPU-cached */
#define HB_MEM_CAPS_SHARED	(1u << 3)	/* shared; needs commit */
#define HB_MEM_CAPS_USER0	(1u << 8)	/* first application bit */
#define HB_MEM_CAPS_VALID	0xFFFFu

typedef struct hb_mem_zones_config_t {
	uint32_t ncpus;		/* system zones (1 .. 64) */
	uint64_t sys_first;	/* bytes of CPU 0's system zone */
	uint64_t sys_other;	/* bytes of each other CPU's system zone */
	uint64_t runtime;	/* bytes of the runtime zone */
	uint64_t buffer;	/* bytes of the buffer zone */
	uint32_t buffer_log2gran; /* buffer zone granule, 0: 4096 B */
	uint32_t caps[HB_MEM_ZONE_COUNT]; /* offered caps, per zone */
	int64_t flags;		/* hbmem usage flags of the backing buffer */
} hb_mem_zones_config_t;

typedef struct hb_mem_zones hb_mem_zones_t;

typedef struct hb_mem_zone_info_t {
	uint64_t size;
	uint64_t used;
	uint64_t free;
	uint64_t allocs;	/* live allocations (SYS: since last release) */
	uint32_t caps;
} hb_mem_zone_info_t;

/** All zones live in one common buffer (so one share id exports them). */
int32_t hb_mem_zones_create(const hb_mem_zones_config_t *cfg,
			    hb_mem_zones_t **zones);
int32_t hb_mem_zones_destroy(hb_mem_zones_t *zones);

/*
 * Allocate @size bytes aligned to @align (0: 64, a cache line) from @zone
 * whose caps include all of @caps. For HB_MEM_ZONE_SYS the calling
 * thread's CPU picks the system zone; hb_mem_zone_sys_alloc() names it.
 * SYS allocations never fail silently: NULL + ENOMEM when full (logged).
 * NULL + errno: EINVAL (bad zone/caps bits/align/size 0), ENOTSUP (the
 * zone lacks a requested capability), ENOMEM.
 */
void *hb_mem_zone_alloc(hb_mem_zones_t *zones, enum hb_mem_zone zone,
			uint32_t caps, size_t size, size_t align);
void *hb_mem_zone_zalloc(hb_mem_zones_t *zones, enum hb_mem_zone zone,
			 uint32_t caps, size_t size, size_t align);
void *hb_mem_zone_sys_alloc(hb_mem_zones_t *zones, uint32_t cpu,
			    size_t size, size_t align);
/** Free a RUNTIME or BUFFER allocation. NOT_ALLOW for a SYS one,
 *  INVALID_VADDR for a foreign pointer or double free. */
int32_t hb_mem_zone_free(hb_mem_zones_t *zones, void *ptr);
/** Release CPU @cpu's whole system zone at once (its owner went away). */
int32_t hb_mem_zone_sys_release(hb_mem_zones_t *zones, uint32_t cpu);
int32_t hb_mem_zone_info(hb_mem_zones_t *zones, enum hb_mem_zone zone,
			 uint32_t cpu, hb_mem_zone_info_t *info);
/*
 * Shared data: a writer commits (cache write-back) after writing, a reader
 * acquires (invalidate) before reading; [ptr, ptr + size) must be inside
 * the zones. Other processes import the backing buffer
 * (hb_mem_zones_get_buf(), share id) and address data by offset.
 */
int32_t hb_mem_zone_shared_commit(hb_mem_zones_t *zones, const void *ptr,
				  size_t size);
int32_t hb_mem_zone_shared_acquire(hb_mem_zones_t *zones, const void *ptr,
				   size_t size);
/** The backing common buffer (fd, share id, size); ownership stays. */
int32_t hb_mem_zones_get_buf(hb_mem_zones_t *zones, hb_mem_common_buf_t *buf);
/** Check the runtime and buffer zones' invariants. O(n). */
int32_t hb_mem_zones_check(hb_mem_zones_t *zones);

/* ==== I/O buffer pool (hb_mem_iob_*) =================================== */

typedef struct hb_mem_iob_pool hb_mem_iob_pool_t;

typedef struct hb_mem_iob_info_t {
	uint32_t nbuffers;
	uint32_t bufsize;	/* usable bytes per buffer */
	uint32_t throttle;	/* buffers only unthrottled requests may take */
	uint32_t nfree;
	uint32_t waiters;
	uint64_t handoffs;	/* frees given straight to a waiter */
} hb_mem_iob_info_t;

/**
 * @nbuffers buffers of @bufsize bytes aligned to @align (0: 64) in a new
 * common buffer with usage @flags; throttled allocations cannot take the
 * last @throttle buffers (throttle < nbuffers).
 */
int32_t hb_mem_iob_pool_create(uint32_t nbuffers, uint32_t bufsize,
			       uint32_t align, uint32_t throttle,
			       int64_t flags, hb_mem_iob_pool_t **pool);
/** BUSY while buffers are out or threads wait. */
int32_t hb_mem_iob_pool_destroy(hb_mem_iob_pool_t *pool);
/*
 * Wait up to @timeout_ms (< 0: forever, 0: do not wait) for a buffer.
 * Waiters are served in arrival order; a freed buffer goes straight to
 * the first waiter allowed to take it. NULL + errno: ETIMEDOUT, EAGAIN
 * (timeout 0), EINVAL.
 */
void *hb_mem_iob_alloc(hb_mem_iob_pool_t *pool, int throttled,
		       int64_t timeout_ms);
void *hb_mem_iob_tryalloc(hb_mem_iob_pool_t *pool, int throttled);
/** INVALID_VADDR for a pointer that is not a buffer of @pool or is free. */
int32_t hb_mem_iob_free(hb_mem_iob_pool_t *pool, void *buf);
int32_t hb_mem_iob_info(hb_mem_iob_pool_t *pool, hb_mem_iob_info_t *info);
/** Check the free list, the per-buffer states and the waiter queue. */
int32_t hb_mem_iob_check(hb_mem_iob_pool_t *pool);

/* ==== Debug hooks (hb_mem_alloc_debug_*) =============================== */

/*
 * Options; also read once from $HBMEM_ALLOC_DEBUG, a comma list of
 * "sites,backtrace,redzone,fill,quarantine" or "all". Options apply to
 * allocations made while they are on; a block keeps the layout it was
 * allocated with, so they may change at any time.
 */
#define HB_MEM_DEBUG_SITES	(1u << 0) /* record file/line, leak reports */
#define HB_MEM_DEBUG_BACKTRACE	(1u << 1) /* + glibc backtrace() per block */
#define HB_MEM_DEBUG_REDZONE	(1u << 2) /* guard bytes checked on free */
#define HB_MEM_DEBUG_FILL	(1u << 3) /* 0xAA fresh, 0x55 freed */
#define HB_MEM_DEBUG_QUARANTINE	(1u << 4) /* delay reuse of freed blocks */
#define HB_MEM_DEBUG_ALL	0x1Fu

int32_t hb_mem_alloc_debug_set(uint32_t options);
uint32_t hb_mem_alloc_debug_get(void);
/** Where reports go (one call per line); NULL restores stderr. @fn is
 *  called with no lock of the hooks held: it may use the allocators and
 *  this API (not add regions to a multi-heap it is reporting on). */
int32_t hb_mem_alloc_debug_set_report(void (*fn)(const char *line,
						 void *ctx), void *ctx);
/** Report every live tracked allocation as a leak; returns the count. */
int32_t hb_mem_alloc_debug_report_leaks(void);
/** Dump every live tracked allocation; returns the count. */
int32_t hb_mem_alloc_debug_dump(void);
/** Dump live allocations whenever @signo arrives (0: uninstall). */
int32_t hb_mem_alloc_debug_dump_on_signal(int signo);
/* Errors found so far (overruns, bad frees, freed-memory writes). */
uint64_t hb_mem_alloc_debug_errors(void);

/* Site-recording variants; the macros below route the plain names here. */
void *hb_mem_mm_malloc_at(hb_mem_mm_t *heap, size_t size, const char *file,
			  int line);
void *hb_mem_mm_zalloc_at(hb_mem_mm_t *heap, size_t size, const char *file,
			  int line);
void *hb_mem_mm_memalign_at(hb_mem_mm_t *heap, size_t align, size_t size,
			    const char *file, int line);
void *hb_mem_mm_realloc_at(hb_mem_mm_t *heap, void *ptr, size_t size,
			   const char *file, int line);
void *hb_mem_gran_alloc_at(hb_mem_gran_t *gran, size_t align, size_t size,
			   const char *file, int line);
void *hb_mem_iob_alloc_at(hb_mem_iob_pool_t *pool, int throttled,
			  int64_t timeout_ms, const char *file, int line);
void *hb_mem_zone_alloc_at(hb_mem_zones_t *zones, enum hb_mem_zone zone,
			   uint32_t caps, size_t size, size_t align,
			   const char *file, int line);
void *hb_mem_mheap_aligned_alloc_at(hb_mem_mheap_t *mheap, uint32_t attr,
				    size_t align, size_t size,
				    const char *file, int line);

/*
 * Define HB_MEM_ALLOC_TRACE_SITES before including this header to have
 * the allocation calls of that file pass their __FILE__/__LINE__ (what
 * debug reports print as the allocation site). Without it the site is
 * recorded as "?" and the backtrace still says where.
 */
/*
 * The core buffers and local-pool sub-allocations with the caller's site,
 * for the debug hooks' leak report at the last hb_mem_module_close().
 * Frees need nothing extra.
 */
int32_t hb_mem_alloc_com_buf_at(uint64_t size, int64_t flags,
				hb_mem_common_buf_t *buf, const char *file,
				int line);
int32_t hb_mem_alloc_graph_buf_at(int32_t w, int32_t h, int32_t format,
				  int64_t flags, int32_t stride,
				  int32_t vstride, hb_mem_graphic_buf_t *buf,
				  const char *file, int line);

int32_t hb_mem_pool_alloc_buf_at(int32_t fd, uint64_t size,
				 hb_mem_common_buf_t *buf, const char *file,
				 int line);

#if defined(HB_MEM_ALLOC_TRACE_SITES)
#define hb_mem_pool_alloc_buf(fd, s, b) \
	hb_mem_pool_alloc_buf_at(fd, s, b, __FILE__, __LINE__)
#define hb_mem_alloc_com_buf(s, f, b) \
	hb_mem_alloc_com_buf_at(s, f, b, __FILE__, __LINE__)
#define hb_mem_alloc_graph_buf(w, h, fmt, f, s, vs, b) \
	hb_mem_alloc_graph_buf_at(w, h, fmt, f, s, vs, b, __FILE__, __LINE__)
#define hb_mem_mm_malloc(h, s) hb_mem_mm_malloc_at(h, s, __FILE__, __LINE__)
#define hb_mem_mm_zalloc(h, s) hb_mem_mm_zalloc_at(h, s, __FILE__, __LINE__)
#define hb_mem_mm_memalign(h, a, s) \
	hb_mem_mm_memalign_at(h, a, s, __FILE__, __LINE__)
#define hb_mem_mm_realloc(h, p, s) \
	hb_mem_mm_realloc_at(h, p, s, __FILE__, __LINE__)
#define hb_mem_gran_alloc(g, s) hb_mem_gran_alloc_at(g, 0, s, __FILE__, __LINE__)
#define hb_mem_gran_alloc_align(g, a, s) \
	hb_mem_gran_alloc_at(g, a, s, __FILE__, __LINE__)
#define hb_mem_iob_alloc(p, t, ms) \
	hb_mem_iob_alloc_at(p, t, ms, __FILE__, __LINE__)
#define hb_mem_iob_tryalloc(p, t) hb_mem_iob_alloc_at(p, t, 0, __FILE__, __LINE__)
#define hb_mem_zone_alloc(z, zn, c, s, a) \
	hb_mem_zone_alloc_at(z, zn, c, s, a, __FILE__, __LINE__)
#define hb_mem_mheap_alloc(m, at, s) \
	hb_mem_mheap_aligned_alloc_at(m, at, 0, s, __FILE__, __LINE__)
#define hb_mem_mheap_aligned_alloc(m, at, al, s) \
	hb_mem_mheap_aligned_alloc_at(m, at, al, s, __FILE__, __LINE__)
#endif

#ifdef __cplusplus
}
#endif

#endif /* HB_MEM_ALLOC_H */
