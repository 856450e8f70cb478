/* SPDX-License-Identifier: MIT */
/*
 * hb_mem_mgr.h - the hbmem media-memory API.
 *
 * The model
 * ---------
 * A process opens the module once (hb_mem_module_open) and then allocates
 * buffers for media: a *common buffer* (hb_mem_common_buf_t) is a plain
 * run of bytes; a *graphic buffer* (hb_mem_graphic_buf_t) is an image with
 * one to three planes laid out for a pixel format; a *group* bundles up to
 * eight graphic buffers. Every allocation unit has
 *
 *   - an fd, local to the process, that keeps the memory alive,
 *   - a share id, global, by which another thread or process imports it,
 *   - a CPU mapping (virt_addr) made by the library,
 *   - a device address (phys_addr), see below,
 *   - the requested size and the usage flags, echoed back unchanged.
 *
 * Buffers come from *heaps* (ion_cma, carveout, cma_reserved, sram,
 * uncache) chosen by the HB_MEM_USAGE_PRIV_HEAP_* bits, with the vendor's
 * fallback order and a capacity per heap, so running out of memory behaves
 * as on a board. Importing a buffer (hb_mem_import_*) gives the importer a
 * new fd, a new mapping and a reference; the memory lives until the last
 * holder frees it. The *share client count* is the number of live holders,
 * the *consume count* an explicit "still being consumed" counter.
 *
 * Any fd of a buffer, or any address inside its mapping, names the buffer:
 * every call taking an fd has a *_with_vaddr twin.
 *
 * Physical addresses. Backends that have them (the hbmem kernel driver)
 * report real bus addresses. Backends that do not (memfd, udmabuf,
 * dma-heap) fill phys_addr with a synthetic device address: unique per
 * buffer, stable across processes, and with the same offset arithmetic
 * as a real one, so the vendor's import protocol, partial sharing
 * included, works unchanged. hb_mem_get_phys_addr() refuses to return a
 * synthetic address (HB_MEM_ERR_NOT_ALLOW): it must never reach a device.
 *
 * Errors and threads. Every function returns 0 or an HB_MEM_ERR_* code
 * (hb_mem_err.h) and is safe to call from any thread.
 *
 * Timeouts of the wait and queue calls are in milliseconds: 0 means do not
 * wait, > 0 wait at most that long, < 0 wait without limit.
 *
 * Extensions beyond the vendor API are declared in hb_mem_ext.h.
 */
#ifndef HB_MEM_MGR_H
#define HB_MEM_MGR_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#include "hb_mem_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most planes a graphic buffer has. */
#define MAX_GRAPHIC_BUF_COMP 3
/* Most graphic buffers in a group. */
#define HB_MEM_MAXIMUM_GRAPH_BUF 8

/*
 * Pixel formats. Plane layout for a W x H image (W = max(stride, width),
 * H = max(vstride, height)); see docs/api.md for every format.
 */
typedef enum mem_pixel_format_t {
	MEM_PIX_FMT_NONE = -1,
	MEM_PIX_FMT_RGB565,	/* 1 plane, 2 bytes/pixel */
	MEM_PIX_FMT_RGB24,	/* 1 plane, 3 bytes/pixel */
	MEM_PIX_FMT_BGR24,
	MEM_PIX_FMT_ARGB,	/* 1 plane, 4 bytes/pixel */
	MEM_PIX_FMT_RGBA,
	MEM_PIX_FMT_ABGR,
	MEM_PIX_FMT_BGRA,
	MEM_PIX_FMT_YUV420P,	/* Y, U, V; chroma halved both ways */
	MEM_PIX_FMT_NV12,	/* Y, interleaved UV; chroma halved both ways */
	MEM_PIX_FMT_NV21,	/* Y, interleaved VU */
	MEM_PIX_FMT_YUV422P,	/* Y, U, V; chroma halved horizontally */
	MEM_PIX_FMT_NV16,	/* Y, interleaved UV, 4:2:2 */
	MEM_PIX_FMT_NV61,	/* Y, interleaved VU, 4:2:2 */
	MEM_PIX_FMT_YUYV422,	/* 1 plane, 2 bytes/pixel */
	MEM_PIX_FMT_YVYU422,
	MEM_PIX_FMT_UYVY422,
	MEM_PIX_FMT_VYUY422,
	MEM_PIX_FMT_YUV444,	/* 1 plane, 3 bytes/pixel */
	MEM_PIX_FMT_YUV444P,	/* Y, U, V at full size */
	MEM_PIX_FMT_NV24,	/* Y, interleaved UV, 4:4:4 */
	MEM_PIX_FMT_NV42,	/* Y, interleaved VU, 4:4:4 */
	MEM_PIX_FMT_YUV440P,	/* Y, U, V; chroma halved vertically */
	MEM_PIX_FMT_YUV400,	/* Y only */
	MEM_PIX_FMT_RAW8,	/* Bayer, 1 byte/pixel */
	MEM_PIX_FMT_RAW10,	/* Bayer, 2 bytes/pixel (unpacked) */
	MEM_PIX_FMT_RAW12,
	MEM_PIX_FMT_RAW14,
	MEM_PIX_FMT_RAW16,
	MEM_PIX_FMT_RAW20,	/* Bayer, 3 bytes/pixel */
	MEM_PIX_FMT_RAW24,
	MEM_PIX_FMT_TOTAL,
} mem_pixel_format_t;

/*
 * Usage flags (int64_t). CPU and HW bits describe the use and label the
 * buffer; they never pick a heap. MAP_* choose zero-fill, CACHED makes
 * the buffer cacheable, PRIV_HEAP_* pick the heap. The flags a buffer
 * reports are exactly the flags it was allocated with.
 */
typedef enum mem_usage_t {
	HB_MEM_USAGE_CPU_READ_NEVER = 0x00000000,
	HB_MEM_USAGE_CPU_READ_OFTEN = 0x00000001,
	HB_MEM_USAGE_CPU_READ_MASK = 0x0000000F,
	HB_MEM_USAGE_CPU_WRITE_NEVER = 0x00000000,
	HB_MEM_USAGE_CPU_WRITE_OFTEN = 0x00000010,
	HB_MEM_USAGE_CPU_WRITE_MASK = 0x000000F0,
	HB_MEM_USAGE_HW_CIM = 0x00000100,
	HB_MEM_USAGE_HW_PYRAMID = 0x00000200,
	HB_MEM_USAGE_HW_GDC = 0x00000400,
	HB_MEM_USAGE_HW_STITCH = 0x00000800,
	HB_MEM_USAGE_HW_OPTICAL_FLOW = 0x00001000,
	HB_MEM_USAGE_HW_BPU = 0x00002000,
	HB_MEM_USAGE_HW_ISP = 0x00004000,
	HB_MEM_USAGE_HW_DISPLAY = 0x00008000,
	HB_MEM_USAGE_HW_VIDEO_CODEC = 0x00010000,
	HB_MEM_USAGE_HW_JPEG_CODEC = 0x00020000,
	HB_MEM_USAGE_HW_VDSP = 0x00040000,
	HB_MEM_USAGE_HW_GDC_OUT = 0x00080000,
	HB_MEM_USAGE_HW_IPC = 0x00100000,
	HB_MEM_USAGE_HW_PCIE = 0x00200000,
	HB_MEM_USAGE_HW_YNR = 0x00400000,
	HB_MEM_USAGE_HW_MASK = 0x00FFFF00,
	HB_MEM_USAGE_MAP_INITIALIZED = 0x01000000,
	HB_MEM_USAGE_MAP_UNINITIALIZED = 0x02000000,
	HB_MEM_USAGE_CACHED = 0x04000000,
	HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF = 0x08000000,
	HB_MEM_USAGE_MEM_POOL = 0x10000000,
	HB_MEM_USAGE_MEM_SHARE_POOL = 0x20000000,
	HB_MEM_USAGE_TRIVIAL_MASK = 0xFF000000,
	HB_MEM_USAGE_PRIV_HEAP_DMA = 0x000000000,
	HB_MEM_USAGE_PRIV_HEAP_RESERVERD = 0x100000000,
	HB_MEM_USAGE_PRIV_HEAP_RESERVED = 0x100000000,
	HB_MEM_USAGE_PRIV_HEAP_SRAM = 0x200000000,
	HB_MEM_USAGE_PRIV_HEAP_2_RESERVERD = 0x400000000,
	HB_MEM_USAGE_PRIV_HEAP_2_RESERVED = 0x400000000,
	HB_MEM_USAGE_PRIV_HEAP_SRAM_LIMIT = 0x800000000,
	HB_MEM_USAGE_PRIV_HEAP_INLINE_ECC = 0x1000000000,
	HB_MEM_USAGE_PRIV_MASK = 0xFF00000000,
} mem_usage_t;

/* What kind of buffer an address or fd belongs to. */
typedef enum hb_mem_buffer_type_t {
	HB_MEM_BUFFER_TYPE_COMMON = 0,
	HB_MEM_BUFFER_TYPE_GRAPHIC,
	HB_MEM_BUFFER_TYPE_GRAPHIC_GROUP,
	HB_MEM_BUFFER_TYPE_MAX,
} hb_mem_buffer_type_t;

/* A common buffer: 48 bytes on LP64. */
typedef struct hb_mem_common_buf_t {
	int32_t fd;		/**< process-local fd; owned by the library */
	int32_t share_id;	/**< global id for hb_mem_import_com_buf() */
	int64_t flags;		/**< usage flags as requested */
	uint64_t size;		/**< size as requested, in bytes */
	uint8_t *virt_addr;	/**< CPU mapping in this process */
	uint64_t phys_addr;	/**< device address (see the file comment) */
	uint64_t offset;	/**< free for the user; never applied by import */
} hb_mem_common_buf_t;

/* A graphic buffer: 160 bytes on LP64. */
typedef struct hb_mem_graphic_buf_t {
	int32_t fd[MAX_GRAPHIC_BUF_COMP];	/**< per plane; equal when contiguous */
	int32_t plane_cnt;			/**< 1..3 */
	int32_t format;				/**< mem_pixel_format_t */
	int32_t width;
	int32_t height;
	int32_t stride;		/**< as passed to alloc; 0 means "tight" */
	int32_t vstride;	/**< as passed to alloc; 0 means "tight" */
	int32_t is_contig;	/**< 1 when all planes are one allocation */
	int32_t share_id[MAX_GRAPHIC_BUF_COMP];
	int64_t flags;
	uint64_t size[MAX_GRAPHIC_BUF_COMP];	/**< bytes of each plane */
	uint8_t *virt_addr[MAX_GRAPHIC_BUF_COMP];
	uint64_t phys_addr[MAX_GRAPHIC_BUF_COMP];
	uint64_t offset[MAX_GRAPHIC_BUF_COMP];	/**< free for the user */
} hb_mem_graphic_buf_t;

/* A group of graphic buffers: 1288 bytes on LP64. */
typedef struct hb_mem_graphic_buf_group_t {
	hb_mem_graphic_buf_t graph_group[HB_MEM_MAXIMUM_GRAPH_BUF];
	int32_t group_id;
	uint32_t bit_map;	/**< bit i set: graph_group[i] is in use */
} hb_mem_graphic_buf_group_t;

/* A queue of fixed-size items: 16 bytes. */
typedef struct hb_mem_buf_queue_t {
	uint64_t unique_id;	/**< set by create; do not change */
	uint32_t count;		/**< number of slots, set by the user */
	uint32_t item_size;	/**< bytes per item, set by the user */
} hb_mem_buf_queue_t;

/* A local pool: 40 bytes. */
typedef struct hb_mem_pool_t {
	int64_t flags;
	uint64_t size;
	int32_t fd;
	int32_t page_size;	/**< allocation granule, in bytes */
	int32_t total_page_cnt;
	int32_t avail_page_cnt;
	int32_t cur_client_cnt;	/**< live sub-allocations */
	int32_t reserved;
} hb_mem_pool_t;

/* A share pool: 32 bytes (size is 32-bit here by vendor layout). */
typedef struct hb_mem_share_pool_t {
	int64_t flags;
	uint32_t size;
	int32_t fd;
	int32_t total_buf_cnt;
	int32_t avail_buf_cnt;
	int32_t reserved;
} hb_mem_share_pool_t;

/* ---- Module ---------------------------------------------------------- */

/** Library version. Errors: INVALID_PARAMS for a NULL pointer. */
int32_t hb_mem_get_version(uint32_t *major, uint32_t *minor, uint32_t *patch);

/**
 * Open the module for this process. Counted: every successful open must be
 * paired with a close, and the module stays open until the last close.
 * Errors: MODULE_OPEN_FAIL (no usable backend), INSUFFICIENT_MEM.
 */
int32_t hb_mem_module_open(void);

/**
 * Close the module. The last close frees every buffer, pool and queue the
 * process still holds. Errors: MODULE_NOT_FOUND when not open.
 */
int32_t hb_mem_module_close(void);

/* ---- Allocation and lookup ------------------------------------------ */

/** Allocate a common buffer of @size (> 0) bytes and map it. */
int32_t hb_mem_alloc_com_buf(uint64_t size, int64_t flags,
			     hb_mem_common_buf_t *buf);

/** The common buffer behind @fd (also a pool's fd). INVALID_FD otherwise. */
int32_t hb_mem_get_com_buf(int32_t fd, hb_mem_common_buf_t *buf);

/**
 * Allocate a graphic buffer. Planar formats get one allocation per plane
 * unless @flags has HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF. @stride and
 * @vstride are in pixels and lines; 0 (or less than width/height) means
 * tight. They are echoed back as given, as on the board.
 */
int32_t hb_mem_alloc_graph_buf(int32_t w, int32_t h, int32_t format,
			       int64_t flags, int32_t stride, int32_t vstride,
			       hb_mem_graphic_buf_t *buf);

/** The graphic buffer any of whose plane fds is @fd. */
int32_t hb_mem_get_graph_buf(int32_t fd, hb_mem_graphic_buf_t *buf);

/**
 * Allocate the graphic buffers of a group: entry i of each array is used
 * when bit i of @bitmap is set (bitmap must be non-zero and below 1 << 8).
 */
int32_t hb_mem_alloc_graph_buf_group(int32_t *w, int32_t *h, int32_t *format,
				     int64_t *flags, int32_t *stride,
				     int32_t *vstride,
				     hb_mem_graphic_buf_group_t *buf_group,
				     uint32_t bitmap);

/** The group that any member fd @fd belongs to. */
int32_t hb_mem_get_graph_buf_group(int32_t fd,
				   hb_mem_graphic_buf_group_t *buf_group);

/**
 * Drop this handle: a common buffer; every plane of a graphic buffer (any
 * plane fd will do); every member of a group (any member fd will do); an
 * import. The memory itself goes when its last holder lets go.
 */
int32_t hb_mem_free_buf(int32_t fd);

/**
 * Cache maintenance on [offset, offset + size) of the buffer behind @fd:
 * invalidate before the CPU reads what a device wrote, flush after the CPU
 * wrote what a device will read. On uncached buffers they only warn, as on
 * the board; on coherent backends they validate and return.
 */
int32_t hb_mem_invalidate_buf(int32_t fd, uint64_t offset, uint64_t size);
int32_t hb_mem_flush_buf(int32_t fd, uint64_t offset, uint64_t size);

/** *valid = 1 if [virt_addr, virt_addr + size) lies in one hbmem buffer. */
int32_t hb_mem_is_valid_buf(uint64_t virt_addr, uint64_t size, int32_t *valid);

/**
 * The physical address matching @virt_addr. NOT_ALLOW on backends without
 * physical addresses.
 */
int32_t hb_mem_get_phys_addr(uint64_t virt_addr, uint64_t *phys_addr);

/** Start, size and flags of the buffer containing @virt_addr. */
int32_t hb_mem_get_buf_info(uint64_t virt_addr, uint64_t *start,
			    uint64_t *size, int64_t *flags);

/* The same, naming the buffer by any address inside it. */
int32_t hb_mem_invalidate_buf_with_vaddr(uint64_t virt_addr, uint64_t size);
int32_t hb_mem_flush_buf_with_vaddr(uint64_t virt_addr, uint64_t size);
int32_t hb_mem_get_com_buf_with_vaddr(uint64_t virt_addr,
				      hb_mem_common_buf_t *buf);
int32_t hb_mem_get_graph_buf_with_vaddr(uint64_t virt_addr,
					hb_mem_graphic_buf_t *buf);
int32_t hb_mem_get_graph_buf_group_with_vaddr(
	uint64_t virt_addr, hb_mem_graphic_buf_group_t *buf_group);
int32_t hb_mem_free_buf_with_vaddr(uint64_t virt_addr);

/* ---- Types and views ------------------------------------------------- */

/** What kind of buffer @virt_addr is in. */
int32_t hb_mem_get_buf_type_with_vaddr(uint64_t virt_addr,
				       hb_mem_buffer_type_t *type);

/**
 * The buffer at @virt_addr and its kind, converting between views: a common
 * buffer can be seen as a one-plane graphic buffer, a contiguous graphic
 * buffer as a common buffer (a non-contiguous one cannot: INVALID_PARAMS).
 * At least one of @com_buf and @graph_buf must be given.
 */
int32_t hb_mem_get_buf_type_and_buf_with_vaddr(uint64_t virt_addr,
					       hb_mem_buffer_type_t *type,
					       hb_mem_common_buf_t *com_buf,
					       hb_mem_graphic_buf_t *graph_buf);

/**
 * The buffer at @virt_addr as it is, without conversion: the output that
 * matches its kind is filled (graphic buffers in a group fill @graph_group
 * and @graph_buf).
 */
int32_t hb_mem_get_buf_and_type_with_vaddr(
	uint64_t virt_addr, hb_mem_buffer_type_t *type,
	hb_mem_common_buf_t *com_buf, hb_mem_graphic_buf_t *graph_buf,
	hb_mem_graphic_buf_group_t *graph_group);

/** Capacity in bytes of the heap that @flag selects. */
int32_t hb_mem_get_heap_size(uint64_t flag, uint64_t *size);

/**
 * Copy @size bytes between buffers. There is no DMA engine on the stock
 * backends: this is a CPU copy (memmove), done after checking that any
 * hbmem buffer named holds the whole range.
 */
int32_t hb_mem_dma_copy(uint64_t dst_vaddr, uint64_t src_vaddr, uint64_t size);

/* ---- Import, share and consume counts -------------------------------- */

/**
 * Import a buffer described by a struct received from another thread or
 * process: a new fd, a new mapping and one more reference. Required input:
 * share_id, size and phys_addr (phys_addr 0 is read as the buffer start);
 * fd and virt_addr are ignored. Partial sharing: a phys_addr and size
 * naming a sub-range map just that range.
 */
int32_t hb_mem_import_com_buf(hb_mem_common_buf_t *buf,
			      hb_mem_common_buf_t *out_buf);
int32_t hb_mem_import_graph_buf(hb_mem_graphic_buf_t *buf,
				hb_mem_graphic_buf_t *out_buf);
int32_t hb_mem_import_graph_buf_group(hb_mem_graphic_buf_group_t *in_group,
				      hb_mem_graphic_buf_group_t *out_group);

/**
 * Map the physical range [@phys_addr, @phys_addr + @size) as a common
 * buffer with a reference of its own. Only with the hbmem kernel driver,
 * and only inside a live buffer of a physically contiguous heap, for a
 * caller allowed to see physical addresses (root, or the driver's
 * allow_phys): NOT_ALLOW on other backends or without the permission,
 * INVALID_PARAMS for a range no live buffer holds. Free it with
 * hb_mem_free_buf().
 */
int32_t hb_mem_import_com_buf_with_paddr(uint64_t phys_addr, uint64_t size,
					 int64_t flags,
					 hb_mem_common_buf_t *buf);

/** Number of live holders (allocator and importers) of the buffer. */
int32_t hb_mem_get_share_info(int32_t fd, int32_t *share_client_cnt);
int32_t hb_mem_get_share_info_with_vaddr(uint64_t virt_addr,
					 int32_t *share_client_cnt);

/** Wait until the holder count is at most @share_client_cnt. */
int32_t hb_mem_wait_share_status(int32_t fd, int32_t share_client_cnt,
				 int64_t timeout);
int32_t hb_mem_wait_share_status_with_vaddr(uint64_t virt_addr,
					    int32_t share_client_cnt,
					    int64_t timeout);

/** The consume count: 0 at allocation, changed only by inc and dec. */
int32_t hb_mem_get_consume_info(int32_t fd, int32_t *share_consume_cnt);
int32_t hb_mem_get_consume_info_with_vaddr(uint64_t virt_addr,
					   int32_t *share_consume_cnt);

/** Wait until the consume count is at most @share_consume_cnt. */
int32_t hb_mem_wait_consume_status(int32_t fd, int32_t share_consume_cnt,
				   int64_t timeout);
int32_t hb_mem_wait_consume_status_with_vaddr(uint64_t virt_addr,
					      int32_t share_consume_cnt,
					      int64_t timeout);

int32_t hb_mem_inc_com_buf_consume_cnt(hb_mem_common_buf_t *buf);
int32_t hb_mem_inc_graph_buf_consume_cnt(hb_mem_graphic_buf_t *buf);
int32_t hb_mem_inc_graph_buf_group_consume_cnt(
	hb_mem_graphic_buf_group_t *buf_group);

/** Decrement the consume count; at 0 it stays 0 (as on the board). */
int32_t hb_mem_dec_consume_cnt(int32_t fd);
int32_t hb_mem_dec_consume_cnt_with_vaddr(uint64_t virt_addr);

/**
 * The user consume count: a per-buffer counter for the application's own
 * use. Not for groups, pool or share-pool buffers (INVALID_FD or
 * INVALID_VADDR). Decrement at 0 stays at 0.
 */
int32_t hb_mem_inc_user_consume_cnt(int32_t hb_fd);
int32_t hb_mem_dec_user_consume_cnt(int32_t hb_fd);
int32_t hb_mem_inc_user_consume_cnt_with_vaddr(uint64_t virt_addr);
int32_t hb_mem_dec_user_consume_cnt_with_vaddr(uint64_t virt_addr);

/**
 * Pids of the processes holding a buffer: up to @num go to @pid, the total
 * goes to @ret_num.
 */
int32_t hb_mem_get_buffer_process_info(uint64_t virt_addr, int32_t *pid,
				       int32_t num, int32_t *ret_num);
int32_t hb_mem_get_buffer_process_info_with_share_id(int32_t share_id,
						     int32_t *pid, int32_t num,
						     int32_t *ret_num);

/** Pids holding consume counts of a buffer, with each pid's count. */
int32_t hb_mem_get_buffer_process_cons_info_with_share_id(int32_t share_id,
							  int32_t *hb_pid,
							  int32_t *cnt,
							  int32_t num,
							  int32_t *ret_num);

/* ---- Local pool ------------------------------------------------------ */

/**
 * Create a pool over one buffer of @size bytes. Sub-allocations are taken
 * from it in user space, rounded up to pool.page_size, in O(1).
 */
int32_t hb_mem_pool_create(uint64_t size, int64_t flags, hb_mem_pool_t *pool);

/** Destroy a pool; POOL_BUSY while any sub-allocation lives. */
int32_t hb_mem_pool_destroy(int32_t fd);

/** Sub-allocate @size bytes from the pool @fd as a common buffer. */
int32_t hb_mem_pool_alloc_buf(int32_t fd, uint64_t size,
			      hb_mem_common_buf_t *buf);

/** Free the sub-allocation starting at @virt_addr. */
int32_t hb_mem_pool_free_buf(uint64_t virt_addr);

/** Current state of the pool @fd. */
int32_t hb_mem_pool_get_info(int32_t fd, hb_mem_pool_t *pool);

/* ---- Share pool ------------------------------------------------------ */

/*
 * @num blocks of @size bytes (each page-aligned) that several processes
 * hold at once. The creating process manages the pool: it allocates and
 * frees blocks, in user space without a syscall. It hands a block's
 * descriptor to other processes over any IPC; they take it with
 * hb_mem_import_com_buf() and let go with hb_mem_free_buf(). The
 * descriptor's flags carry HB_MEM_USAGE_MEM_SHARE_POOL, which is what makes
 * an import a hold on the block. A block returns to the pool only when the
 * owner and every importer have freed it; a holder that dies gives its
 * blocks back. All blocks are one backing buffer with one share id: a
 * block's descriptor has that id, phys_addr = the block's device address,
 * and fd = the pool's fd. Only the process that created a pool can
 * manage it: a forked child, or an importer naming the pool by the fd of
 * its import, gets NOT_ALLOW (get_info excepted) and imports like any
 * process. Errors of all five: MODULE_NOT_FOUND when the module is not
 * open.
 */

/**
 * Create a pool of @num (1..65536) blocks of @size (1..UINT32_MAX) bytes.
 * Errors: INVALID_PARAMS (NULL @pool, @num or @size 0 or too large),
 * INSUFFICIENT_MEM (the heap cannot hold num blocks).
 */
int32_t hb_mem_share_pool_create(uint32_t num, uint64_t size, int64_t flags,
				 hb_mem_share_pool_t *pool);

/**
 * Destroy the pool @fd. Errors: POOL_NOT_FOUND (@fd is no share pool of
 * this process), POOL_BUSY (a block is held, by the owner or an importer),
 * NOT_ALLOW (a forked child's copy).
 */
int32_t hb_mem_share_pool_destroy(int32_t fd);

/**
 * Take a free block. Errors: INVALID_PARAMS (NULL @buf), POOL_NOT_FOUND,
 * INSUFFICIENT_MEM (no block free: it does not wait; see
 * hb_mem_share_pool_alloc_buf_timeout() in hb_mem_ext.h), NOT_ALLOW.
 */
int32_t hb_mem_share_pool_alloc_buf(int32_t fd, hb_mem_common_buf_t *buf);

/**
 * The owner lets go of the block starting at @virt_addr. Errors:
 * INVALID_VADDR (not the start of a block the owner holds: inside one,
 * freed twice, or no share pool's), NOT_ALLOW.
 */
int32_t hb_mem_share_pool_free_buf(uint64_t virt_addr);

/**
 * State of the pool @fd: total_buf_cnt, avail_buf_cnt (blocks nobody
 * holds, after giving back what dead holders held), size, flags, fd. An
 * importer may pass the fd of its import of a block: it gets the same
 * counts (a snapshot) with its own fd. Errors: INVALID_PARAMS (NULL
 * @pool), POOL_NOT_FOUND, POOL_DESTROYED (an import of a pool its owner
 * tore down).
 */
int32_t hb_mem_share_pool_get_info(int32_t fd, hb_mem_share_pool_t *pool);

/* ---- Queue ----------------------------------------------------------- */

/*
 * A fixed ring of queue->count slots, each holding item_size bytes. A slot
 * moves FREE -> DEQUEUE (producer took it) -> QUEUE (producer filled it)
 * -> REQUEST (consumer took it) -> FREE (consumer released it). Requests
 * come out in the order of queueing. A call on a slot in the wrong state
 * gets QUEUE_WRONG_SLOT.
 */
int32_t hb_mem_create_buf_queue(hb_mem_buf_queue_t *queue);

/** Destroy; waiters wake with QUEUE_DESTROYED. */
int32_t hb_mem_destroy_buf_queue(hb_mem_buf_queue_t *queue);

/** Producer: take a FREE slot; @buf receives its current item. */
int32_t hb_mem_dequeue_buf(hb_mem_buf_queue_t *queue, int32_t *slot,
			   void *buf, int64_t timeout);

/** Producer: store @buf in a DEQUEUE slot and hand it to the consumer. */
int32_t hb_mem_queue_buf(hb_mem_buf_queue_t *queue, int32_t slot,
			 const void *buf);

/** Consumer: take the oldest QUEUE slot; @buf receives its item. */
int32_t hb_mem_request_buf(hb_mem_buf_queue_t *queue, int32_t *slot,
			   void *buf, int64_t timeout);

/** Consumer: give a REQUEST slot back (it becomes FREE). */
int32_t hb_mem_release_buf(hb_mem_buf_queue_t *queue, int32_t slot);

/**
 * Undo a take: a DEQUEUE slot goes back to FREE, a REQUEST slot back to
 * the head of the queue.
 */
int32_t hb_mem_cancel_buf(hb_mem_buf_queue_t *queue, int32_t slot);

#ifdef __cplusplus
}
#endif

#endif /* HB_MEM_MGR_H */
