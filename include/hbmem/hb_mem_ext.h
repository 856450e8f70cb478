/* SPDX-License-Identifier: MIT */
/*
 * hb_mem_ext.h - hbmem extensions beyond the vendor API.
 *
 * Everything here is specific to this implementation: board code never
 * needs it, and code that uses it says so by including this header. Names
 * keep the hb_mem_ prefix; return values are the HB_MEM_ERR_* codes.
 */
#ifndef HB_MEM_EXT_H
#define HB_MEM_EXT_H

#include "hb_mem_mgr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Backend --------------------------------------------------------- */

/*
 * Capabilities of the backend the module opened on (see
 * hb_mem_get_backend()).
 */
#define HB_MEM_BACKEND_CAP_DMABUF	(1u << 0) /* fds are real dma-bufs */
#define HB_MEM_BACKEND_CAP_PHYS		(1u << 1) /* real physical addresses */
#define HB_MEM_BACKEND_CAP_COHERENT	(1u << 2) /* CPU caches need no sync */

/**
 * Name ("memfd", "udmabuf", "dma-heap", ...) and capabilities of the
 * backend in use. The backend is chosen at hb_mem_module_open(), best
 * first; the environment variable HBMEM_BACKEND forces one.
 * @name receives at most @name_len bytes including the terminator; @caps
 * may be NULL. Errors: MODULE_NOT_FOUND, INVALID_PARAMS.
 */
int32_t hb_mem_get_backend(char *name, size_t name_len, uint32_t *caps);

/* ---- Heaps ----------------------------------------------------------- */

#define HB_MEM_HEAP_NAME_MAX 32

/* Heap attributes (hb_mem_heap_info_t.attrs). */
#define HB_MEM_HEAP_ATTR_CACHEABLE	(1u << 0) /* serves CACHED requests */
#define HB_MEM_HEAP_ATTR_UNCACHED	(1u << 1) /* serves only uncached ones */
#define HB_MEM_HEAP_ATTR_CONTIGUOUS	(1u << 2) /* physically contiguous */
#define HB_MEM_HEAP_ATTR_ZEROED		(1u << 3) /* zero-fills by default */

typedef struct hb_mem_heap_info_t {
	char name[HB_MEM_HEAP_NAME_MAX];	/* e.g. "ion_cma" */
	int64_t flag;		/* the HB_MEM_USAGE_PRIV_HEAP_* value selecting it */
	uint64_t capacity;	/* bytes */
	uint64_t used;		/* bytes held, each buffer rounded to a page */
	uint64_t largest_free;	/* biggest single allocation that fits now */
	uint32_t attrs;		/* HB_MEM_HEAP_ATTR_* */
	uint32_t buffers;	/* live allocations */
} hb_mem_heap_info_t;

/**
 * Number of heaps: always the five vendor heaps (ion_cma, carveout,
 * cma_reserved, sram, uncache); one with capacity 0 is absent and serves
 * nothing. Capacities come from the defaults (or the kernel driver), then
 * the config file ($HBMEM_CONFIG or /etc/hbmem.conf), then $HBMEM_HEAPS
 * ("ion_cma=512M,carveout=256M"; a size of 0 makes a heap absent).
 */
int32_t hb_mem_get_heap_count(int32_t *count);

/** State of heap @index (0 .. count - 1). */
int32_t hb_mem_get_heap_info(int32_t index, hb_mem_heap_info_t *info);

/* ---- Queue ----------------------------------------------------------- */

/*
 * Overwrite-oldest mode: when no slot is FREE, dequeue takes the oldest
 * QUEUE slot instead of waiting (its item is dropped), so a slow consumer
 * never stalls the producer. Counted in hb_mem_get_buf_queue_drops().
 */
#define HB_MEM_QUEUE_FLAG_OVERWRITE (1u << 0)

/** hb_mem_create_buf_queue() with HB_MEM_QUEUE_FLAG_* @flags. */
int32_t hb_mem_create_buf_queue_ex(hb_mem_buf_queue_t *queue, uint32_t flags);

/** Items dropped by overwrite mode since the queue was created. */
int32_t hb_mem_get_buf_queue_drops(hb_mem_buf_queue_t *queue, uint64_t *drops);

#ifdef __cplusplus
}
#endif

#endif /* HB_MEM_EXT_H */
