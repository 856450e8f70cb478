/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hbmem - media memory for stock Linux: control-device user API.
 *
 * The hbmem module exports dma-bufs from reserved physical memory
 * (carveout heaps) and from ordinary pages (the page heap). It offers
 * two kinds of device:
 *
 *  - /dev/dma_heap/<name>, one per heap. These speak the standard dma-heap
 *    allocation ioctl (DMA_HEAP_IOCTL_ALLOC from <linux/dma-heap.h>) and
 *    nothing else, so any dma-heap user works with them unchanged.
 *
 *  - /dev/hbmem, the control device described here. It adds what dma-heap
 *    lacks: heap queries, global share ids and import by share id, share
 *    client counts, consume counts, the processes holding a buffer, and
 *    physical addresses for privileged callers.
 *
 * Model. An allocation creates a *buffer* (the memory) and one *handle* on
 * it: a dma-buf whose fd the allocator receives. Every import by share id
 * creates another handle, a new dma-buf over the same memory (or over a
 * page-aligned part of it), with its own fd. A buffer lives while any
 * handle lives; a handle lives while any fd, mapping or importing device
 * (V4L2, DRM, ...) holds its dma-buf. Duplicating an fd (dup, fork,
 * SCM_RIGHTS) shares a handle and creates none.
 *
 * Share id: a positive number naming a buffer system-wide, allocated when
 * the buffer is created and never reused while it lives (ids are handed
 * out cyclically). Any process that can open /dev/hbmem can import a
 * buffer by its share id, as with the vendor's ION extension, so access to
 * /dev/hbmem is access to every hbmem buffer.
 *
 * Share client count: the number of live handles of a buffer, across all
 * processes. Allocation makes it 1, each import adds 1, and the release of
 * a handle (its last fd closed, its last mapping and device reference
 * gone, including at process exit) subtracts 1.
 *
 * Consume count: a counter per buffer that cooperating processes raise
 * while they use a buffer and lower when done. Lowering it at 0 leaves it
 * at 0. Changes made through an fd belong to that fd's handle: what a
 * handle added (and has not taken away) is subtracted when the handle is
 * released, so a process that dies while "consuming" does not leave the
 * count raised. Changes made by share id belong to no handle and stay.
 *
 * Waits (HBMEM_IOC_SHARE_COUNT_WAIT, HBMEM_IOC_CONSUME_WAIT) sleep until
 * the count is at most hbmem_count.target. timeout_ms is read as a signed
 * 64-bit number of milliseconds: negative waits for ever, 0 only tests.
 * They fail with ETIMEDOUT when the time runs out and with EINTR when a
 * signal arrives; hbmem_count.count holds the count seen last in every
 * case where the buffer was found. A waiter does not keep the buffer
 * alive: when its last handle goes, a consume wait by share id that is not
 * yet satisfied fails with ENOENT (nobody can lower the count any more).
 *
 * Buffers are named in these ioctls by the fd of one of their handles
 * (hbmem_ref.fd) or, with HBMEM_REF_BY_SHARE_ID in hbmem_ref.flags, by
 * share id (hbmem_ref.share_id). An fd that is not a dma-buf exported by
 * hbmem gives EBADF (not an fd) or EINVAL (another kind of file or
 * dma-buf); an unknown share id gives ENOENT.
 *
 * All ioctls check the argument size exactly. Every reserved or padding
 * field must be 0 on input, and every flag bit not defined here is
 * rejected with EINVAL, so these fields can gain meaning later without
 * breaking old callers. Unknown ioctl numbers give ENOTTY. Every struct
 * has the same layout on 32- and 64-bit systems.
 */
#ifndef _UAPI_LINUX_HBMEM_H
#define _UAPI_LINUX_HBMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define HBMEM_VERSION_MAJOR	1
#define HBMEM_VERSION_MINOR	1

/* Longest heap name, including the terminating NUL. */
#define HBMEM_HEAP_NAME_LEN	32

/* Most pids returned by HBMEM_IOC_PIDS. */
#define HBMEM_MAX_PIDS		16

/**
 * struct hbmem_version - version of the control interface
 * @major: HBMEM_VERSION_MAJOR of the module; changes only with breaking
 *	changes to this header
 * @minor: HBMEM_VERSION_MINOR of the module; grows as ioctls or flags are
 *	added
 * @heap_count: number of heaps; valid indices for HBMEM_IOC_HEAP_QUERY are
 *	0 .. heap_count - 1
 * @reserved: written as 0
 */
struct hbmem_version {
	__u32 major;
	__u32 minor;
	__u32 heap_count;
	__u32 reserved;
};

/* Heap types (struct hbmem_heap_info.type). */
#define HBMEM_HEAP_TYPE_CARVEOUT	0	/* reserved physical range */
#define HBMEM_HEAP_TYPE_PAGES		1	/* pages from the page allocator */

/* Heap attributes (struct hbmem_heap_info.attrs). */
/* CPU mappings are cached; otherwise write-combined. */
#define HBMEM_HEAP_ATTR_CACHED		(1U << 0)
/* Every buffer is physically contiguous. */
#define HBMEM_HEAP_ATTR_CONTIGUOUS	(1U << 1)
/* Every buffer reads back as zero when first handed out (always set). */
#define HBMEM_HEAP_ATTR_ZEROED		(1U << 2)
/* Buffers have physical addresses (HBMEM_IOC_PHYS works on them). */
#define HBMEM_HEAP_ATTR_PHYS		(1U << 3)

/**
 * struct hbmem_heap_info - one heap, as HBMEM_IOC_HEAP_QUERY describes it
 * @index: in: which heap, 0 .. hbmem_version.heap_count - 1 (ENOENT past
 *	the end)
 * @type: out: HBMEM_HEAP_TYPE_*
 * @attrs: out: HBMEM_HEAP_ATTR_* bits
 * @reserved: in: 0
 * @size: out: capacity in bytes. For a page heap without a limit this is
 *	the RAM of the machine.
 * @free: out: bytes not allocated now. For a carveout a single allocation
 *	of this size may still fail through fragmentation; for a page heap
 *	this is bounded by the RAM the kernel has free.
 * @base: out: physical base address of a carveout when the caller may see
 *	physical addresses (see HBMEM_IOC_PHYS), else 0
 * @name: out: NUL-terminated heap name; the heap's allocation device is
 *	/dev/dma_heap/<name>
 */
struct hbmem_heap_info {
	__u32 index;
	__u32 type;
	__u32 attrs;
	__u32 reserved;
	__u64 size;
	__u64 free;
	__u64 base;
	char name[HBMEM_HEAP_NAME_LEN];
};

/* struct hbmem_ref.flags: name the buffer by share id instead of by fd. */
#define HBMEM_REF_BY_SHARE_ID		(1U << 0)
#define HBMEM_REF_FLAGS_MASK		(HBMEM_REF_BY_SHARE_ID)

/**
 * struct hbmem_ref - names a buffer
 * @fd: fd of a dma-buf exported by hbmem, unless HBMEM_REF_BY_SHARE_ID
 * @share_id: share id of the buffer, if HBMEM_REF_BY_SHARE_ID
 * @flags: HBMEM_REF_* bits
 * @reserved: 0
 */
struct hbmem_ref {
	__u32 fd;
	__u32 share_id;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct hbmem_buf_info - what HBMEM_IOC_BUF_INFO tells about a handle
 * @fd: in: fd of a dma-buf exported by hbmem
 * @share_id: out: share id of the buffer
 * @heap_index: out: index of the heap the buffer came from
 * @attrs: out: HBMEM_HEAP_ATTR_* of that heap
 * @size: out: size of the whole buffer in bytes
 * @offset: out: where this handle starts inside the buffer (0 unless it
 *	came from a partial import)
 * @len: out: size of this handle (= size unless partial)
 */
struct hbmem_buf_info {
	__u32 fd;
	__u32 share_id;
	__u32 heap_index;
	__u32 attrs;
	__u64 size;
	__u64 offset;
	__u64 len;
};

/* struct hbmem_import.flags */
/*
 * Import by physical address: @offset is a physical address and the range
 * [@offset, @offset + @len) must lie inside one live carveout buffer;
 * @share_id must be 0. Needs the same permission as HBMEM_IOC_PHYS.
 */
#define HBMEM_IMPORT_BY_PHYS		(1U << 0)
#define HBMEM_IMPORT_FLAGS_MASK		(HBMEM_IMPORT_BY_PHYS)

/**
 * struct hbmem_import - HBMEM_IOC_IMPORT: a new handle on a live buffer
 * @share_id: in: share id of the buffer
 * @flags: in: HBMEM_IMPORT_* bits
 * @fd_flags: in: O_CLOEXEC and the O_ACCMODE bits for the new fd, as in
 *	struct dma_heap_allocation_data
 * @fd: out: the new fd; must be 0 on input. The caller owns it.
 * @offset: in: start of the imported range inside the buffer; page-aligned
 * @len: in: size of the range, page-aligned; 0 with @offset 0 imports the
 *	whole buffer. A range that does not fit gives EINVAL.
 *
 * The new handle counts as a share client until it is released. Its size
 * (lseek SEEK_END, mmap limit) is @len.
 */
struct hbmem_import {
	__u32 share_id;
	__u32 flags;
	__u32 fd_flags;
	__u32 fd;
	__u64 offset;
	__u64 len;
};

/**
 * struct hbmem_count - get or wait on a share client or consume count
 * @ref: in: the buffer
 * @target: in (waits only, else 0): wait until count <= target
 * @count: out: the count (after the change, for CONSUME_INC/DEC)
 * @timeout_ms: in (waits only, else 0): signed milliseconds; < 0 for
 *	ever, 0 to test without sleeping
 */
struct hbmem_count {
	struct hbmem_ref ref;
	__u32 target;
	__u32 count;
	__u64 timeout_ms;
};

/**
 * struct hbmem_pids - the processes holding a buffer
 * @ref: in: the buffer
 * @total: out: number of distinct processes that created a live handle
 *	of the buffer (by allocating or importing it)
 * @count: out: number of entries filled in @pids, min(total,
 *	HBMEM_MAX_PIDS)
 * @pids: out: their process ids (thread-group ids) as seen from the
 *	caller's pid namespace (0 for one not visible there)
 *
 * Only handle creators are known: a process that received an fd by fork
 * or SCM_RIGHTS is not listed, and a creator stays listed while its handle
 * lives, even after it exited and left the fd to someone else.
 */
struct hbmem_pids {
	struct hbmem_ref ref;
	__u32 total;
	__u32 count;
	__u32 pids[HBMEM_MAX_PIDS];
};

/**
 * struct hbmem_phys - physical address of a buffer
 * @ref: in: the buffer
 * @phys: out: physical address of the start of the handle (of the buffer
 *	when named by share id)
 * @len: out: size of that range
 *
 * Only physically contiguous buffers have one (EINVAL otherwise). Callers
 * need CAP_SYS_ADMIN unless the module parameter allow_phys is set (EPERM).
 */
struct hbmem_phys {
	struct hbmem_ref ref;
	__u64 phys;
	__u64 len;
};

/**
 * struct hbmem_buf_next - HBMEM_IOC_BUF_NEXT: walk the live buffers
 * @share_id: in: 0 to start, else the share id returned last time;
 *	out: the smallest live share id greater than the one passed in
 *	(ENOENT when there is none)
 * @heap_index: out: index of the buffer's heap
 * @clients: out: live handles of the buffer (its share client count)
 * @consume: out: its consume count
 * @reserved: in: 0; out: 0
 * @size: out: size of the whole buffer in bytes
 *
 * Since version 1.1. A snapshot of one buffer: it may be gone by the time
 * the caller looks at it again. Share ids are visible to every caller of
 * HBMEM_IOC_SHARE_COUNT_GET anyway, so walking them needs no privilege.
 */
struct hbmem_buf_next {
	__u32 share_id;
	__u32 heap_index;
	__u32 clients;
	__u32 consume;
	__u32 reserved;
	__u32 reserved2;
	__u64 size;
};

#define HBMEM_IOC_MAGIC		0xB7

#define HBMEM_IOC_VERSION	_IOR(HBMEM_IOC_MAGIC, 0, struct hbmem_version)
#define HBMEM_IOC_HEAP_QUERY	_IOWR(HBMEM_IOC_MAGIC, 1, struct hbmem_heap_info)
#define HBMEM_IOC_BUF_INFO	_IOWR(HBMEM_IOC_MAGIC, 2, struct hbmem_buf_info)
#define HBMEM_IOC_IMPORT	_IOWR(HBMEM_IOC_MAGIC, 3, struct hbmem_import)
#define HBMEM_IOC_SHARE_COUNT_GET  _IOWR(HBMEM_IOC_MAGIC, 4, struct hbmem_count)
#define HBMEM_IOC_SHARE_COUNT_WAIT _IOWR(HBMEM_IOC_MAGIC, 5, struct hbmem_count)
#define HBMEM_IOC_CONSUME_INC	_IOWR(HBMEM_IOC_MAGIC, 6, struct hbmem_count)
#define HBMEM_IOC_CONSUME_DEC	_IOWR(HBMEM_IOC_MAGIC, 7, struct hbmem_count)
#define HBMEM_IOC_CONSUME_GET	_IOWR(HBMEM_IOC_MAGIC, 8, struct hbmem_count)
#define HBMEM_IOC_CONSUME_WAIT	_IOWR(HBMEM_IOC_MAGIC, 9, struct hbmem_count)
#define HBMEM_IOC_PIDS		_IOWR(HBMEM_IOC_MAGIC, 10, struct hbmem_pids)
#define HBMEM_IOC_PHYS		_IOWR(HBMEM_IOC_MAGIC, 11, struct hbmem_phys)
#define HBMEM_IOC_BUF_NEXT	_IOWR(HBMEM_IOC_MAGIC, 12, struct hbmem_buf_next)

#endif /* _UAPI_LINUX_HBMEM_H */
