/* SPDX-License-Identifier: MIT */
/*
 * backend.h - the one interface between libhbmem and the memory provider.
 *
 * Contract for every backend:
 *   - probe() returns 0 when the backend can work on this machine, or a
 *     negative errno saying why not. It has no lasting side effects.
 *   - alloc() makes a new buffer of exactly @len bytes (@len is a multiple
 *     of the page size) from @heap and returns its fd in *fd: CLOEXEC,
 *     readable, writable and mmap-able with MAP_SHARED, zero-filled. The
 *     caller owns the fd. @label names it where the backend can.
 *   - sync(), when not NULL, brackets CPU access the way
 *     DMA_BUF_IOCTL_SYNC does (HBMEM_SYNC_* flags). NULL means the memory
 *     is coherent and needs nothing.
 *   - phys(), when not NULL, returns the physical address of byte 0.
 *   - shutdown(), when not NULL, drops whatever the backend kept open; it
 *     runs at the last module close.
 *   - heaps(), when not NULL, runs once the heap table holds its defaults
 *     and before the configuration is applied: it may set capacities and
 *     the backend's node name of each heap from what the system has.
 *
 * Global sharing. A backend whose share ids mean something outside the
 * process (the kernel driver) fills in the share_* operations; then share
 * ids, imports, holder and consume counts are the backend's, and work
 * across processes. Without them, sharing is kept inside the process.
 *   - share_info() gives the share id and length of the unit behind @fd,
 *     and where @fd's range starts in it (0 but for partial handles).
 *   - share_import_phys(), when not NULL, returns a new fd on the physical
 *     range [@phys, @phys + @len) of a live unit (page-aligned).
 *   - share_import() returns a new fd (owned by the caller) on
 *     [@off, @off + @len) of unit @id, both page-aligned; (0, 0) is the
 *     whole unit.
 *   - share_count() reads (@wait false) or waits for (@wait true, count at
 *     most @target, @timeout_ms as in the API) a holder or consume count.
 *   - share_consume() adds +1 or -1 to the consume count (stays >= 0).
 *   - share_pids() lists up to @num holder pids of unit @id, total in
 *     *@total.
 * Waits are called without hbmem_lock held; the others may be called with
 * it, and must not sleep for long.
 *
 * A share provider that is not the memory's allocator (the broker,
 * lib/broker_share.c) also fills in:
 *   - share_register() names a freshly allocated unit (@fd, not given away;
 *     @len bytes, @reserved charged to @heap) and returns its share id.
 *   - share_put() drops the hold that the handle @fd (not given away; still
 *     open) stood for, before it is closed.
 *   - share_cons_pids() lists the processes with a consume count on unit
 *     @id and their counts (NULL: consumers are not known per process).
 *
 * All return 0 or a negative errno, and leave errno alone.
 */
#ifndef HBMEM_BACKEND_H
#define HBMEM_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

struct hbmem_heap;

/* Same values as DMA_BUF_SYNC_* so dma-buf backends pass them through. */
#define HBMEM_SYNC_READ		(1u << 0)
#define HBMEM_SYNC_WRITE	(2u << 0)
#define HBMEM_SYNC_RW		(HBMEM_SYNC_READ | HBMEM_SYNC_WRITE)
#define HBMEM_SYNC_START	(0u << 2)
#define HBMEM_SYNC_END		(1u << 2)

enum hbmem_count_kind {
	HBMEM_COUNT_CLIENTS,
	HBMEM_COUNT_CONSUME,
};

struct hbmem_backend {
	const char *name;
	uint32_t caps;		/* HB_MEM_BACKEND_CAP_* */
	int (*probe)(void);
	int (*alloc)(const struct hbmem_heap *heap, uint64_t len, bool cached,
		     const char *label, int *fd);
	int (*sync)(int fd, uint32_t flags);
	int (*phys)(int fd, uint64_t *phys);
	void (*shutdown)(void);
	int (*heaps)(struct hbmem_heap *heaps, int count);

	int (*share_info)(int fd, int32_t *id, uint64_t *len, uint64_t *off);
	int (*share_import_phys)(uint64_t phys, uint64_t len, int *fd);
	int (*share_import)(int32_t id, uint64_t off, uint64_t len, int *fd);
	int (*share_count)(int fd, enum hbmem_count_kind kind, bool wait,
			   int32_t target, int64_t timeout_ms, int32_t *count);
	int (*share_consume)(int fd, int delta);
	int (*share_pids)(int32_t id, int32_t *pids, int32_t num,
			  int32_t *total);

	int (*share_register)(int fd, uint64_t len, const char *heap,
			      uint64_t reserved, int32_t *id);
	void (*share_put)(int fd);
	int (*share_cons_pids)(int32_t id, int32_t *pids, int32_t *cnt,
			       int32_t num, int32_t *total);
};

extern const struct hbmem_backend hbmem_backend_memfd;
extern const struct hbmem_backend hbmem_backend_udmabuf;
extern const struct hbmem_backend hbmem_backend_dmaheap;
extern const struct hbmem_backend hbmem_backend_hbmem;

/*
 * Pick the backend: $HBMEM_BACKEND if set (-ENODEV if it cannot work or is
 * unknown), else the first of dma-heap, udmabuf, memfd that probes well.
 */
int _hbmem_backend_select(const struct hbmem_backend **out);

/* DMA_BUF_IOCTL_SYNC with EINTR/EAGAIN retries; for dma-buf backends. */
int _hbmem_dmabuf_sync(int fd, uint32_t flags);

/* A sealed, named memfd of @len bytes (shared by memfd and udmabuf). */
int _hbmem_memfd_create(const char *label, uint64_t len, int *fd);

#endif /* HBMEM_BACKEND_H */
