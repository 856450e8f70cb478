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

/* ---- Share pool (extension) ------------------------------------------ */

/**
 * hb_mem_share_pool_alloc_buf() that waits for a block while the pool is
 * empty, the NuttX I/O-buffer way: @timeout_ms 0 does not wait
 * (INSUFFICIENT_MEM), > 0 waits at most that long (TIMEOUT), < 0 waits
 * without limit. A free in any process wakes the wait. POOL_DESTROYED
 * when the pool goes while waiting (the last module close).
 */
int32_t hb_mem_share_pool_alloc_buf_timeout(int32_t fd,
					    hb_mem_common_buf_t *buf,
					    int64_t timeout_ms);

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

/* ---- Direct fd passing (fdpass.c) ------------------------------------ */

/*
 * Hand a buffer to another process over a connected unix socket (stream,
 * seqpacket or datagram; see socketpair(2)), with its fds as SCM_RIGHTS:
 * no broker and no global share ids needed. One message carries one
 * buffer: a common buffer (one fd), a graphic buffer (one fd when
 * contiguous, one per plane otherwise) or a group (its members' fds).
 *
 * The receiver gets the buffer registered as an import gives it: its own
 * fd, a mapping, one more holder; hb_mem_get_*_buf by fd, the _with_vaddr
 * calls and hb_mem_free_buf() work on it, and it lives until every holder
 * in every process has freed it. Pair each receive with hb_mem_free_buf().
 *
 * Fd ownership: send never takes the caller's fds (the library sends
 * duplicates and closes them before returning); the fds in a received
 * descriptor belong to the library, as those of any allocation do. The
 * socket stays the caller's in both directions.
 *
 * With global share ids (the kernel driver, or the broker hbmemd) the
 * receiver's hold is counted there like an import's, so share client
 * counts are global; with the broker, only memory the broker knows (an
 * hbmem buffer of a process connected to it) can be received.
 *
 * Partial sending: the range sent is [phys_addr, phys_addr + size) of each
 * plane, which must lie inside what this process holds; narrow phys_addr
 * and size as for the vendor's partial sharing. The fd and virt_addr
 * fields of the sent descriptor are replaced by -1 and NULL on the wire.
 *
 * Sending blocks until the whole message is queued, also on a non-blocking
 * socket (a message is never left half-sent). Receiving waits at most
 * @timeout_ms (< 0: forever, 0: only what is already there); a signal does
 * not end the wait early. A timeout in the middle of a message on a stream
 * socket leaves the stream out of step: close it.
 *
 * The receiver trusts nothing that arrives: fds that are not dma-bufs or
 * memfds sealed against shrinking, not open read-write, or shorter than
 * the message claims; fds too many or too few; malformed messages or a
 * message of another kind than asked for: all are refused, and every fd
 * that came with the message is closed.
 *
 * Errors (send): INVALID_PARAMS (NULL descriptor, a range outside the
 * buffer, bad plane count or group bitmap), INVALID_FD (the descriptor's
 * fds are not live buffers of this process of that kind, or a stale
 * share id; a bad socket or a peer that has gone), TOO_MANY_FD,
 * MODULE_NOT_FOUND.
 * Errors (receive): INVALID_PARAMS (NULL @buf; malformed message or one of
 * another kind), INVALID_FD (a bad socket, a peer that has gone, or an
 * unacceptable fd in the message), TIMEOUT (nothing was consumed),
 * INSUFFICIENT_MEM, MODULE_NOT_FOUND.
 */
int32_t hb_mem_send_com_buf(int32_t sock, const hb_mem_common_buf_t *buf);
int32_t hb_mem_recv_com_buf(int32_t sock, int64_t timeout_ms,
			    hb_mem_common_buf_t *buf);
int32_t hb_mem_send_graph_buf(int32_t sock, const hb_mem_graphic_buf_t *buf);
int32_t hb_mem_recv_graph_buf(int32_t sock, int64_t timeout_ms,
			      hb_mem_graphic_buf_t *buf);
int32_t hb_mem_send_graph_buf_group(int32_t sock,
				    const hb_mem_graphic_buf_group_t *group);
int32_t hb_mem_recv_graph_buf_group(int32_t sock, int64_t timeout_ms,
				    hb_mem_graphic_buf_group_t *group);

#ifdef __cplusplus
}
#endif

#endif /* HB_MEM_EXT_H */
