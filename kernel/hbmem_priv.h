/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hbmem - internal interfaces between the parts of the module.
 *
 *   hbmem_core.c  module parameters, heap setup, init and exit
 *   hbmem_heap.c  the two heap kinds (carveout, pages) and the
 *                 /dev/dma_heap/<name> allocation ioctl
 *   hbmem_buf.c   buffers, handles (one dma-buf each) and dma_buf_ops
 *   hbmem_ctl.c   the /dev/hbmem control device
 *
 * Objects:
 *
 *   hbmem_heap  1---*  hbmem_buffer  1---*  hbmem_view  1---*  hbmem_attachment
 *                      (memory, share id,   (one dma-buf:      (one importing
 *                       counts)              whole buffer or    device)
 *                                            a part of it)
 *
 * A view holds a reference on its buffer. When the last view is released
 * the buffer dies: its memory goes back to the heap and its share id stops
 * naming it, even if a waiter still holds a reference (which then keeps
 * only the struct). The dma-buf core holds a reference on this module for
 * every exported dma-buf, so heaps outlive all their buffers.
 */
#ifndef HBMEM_PRIV_H
#define HBMEM_PRIV_H

#include <linux/dma-buf.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <uapi/linux/hbmem.h>

#define HBMEM_MAX_HEAPS		16

struct hbmem_heap;
struct hbmem_buffer;

/**
 * struct hbmem_heap_ops - what a heap kind implements
 * @allocate: fill in the memory of @buf (buf->size is set, page-aligned);
 *	the memory must read as zero. Returns 0 or a negative errno.
 * @free: give the memory of @buf back.
 * @free_bytes: bytes the heap could still hand out (an estimate).
 * @destroy: undo the heap's setup at module exit.
 */
struct hbmem_heap_ops {
	int (*allocate)(struct hbmem_heap *heap, struct hbmem_buffer *buf);
	void (*free)(struct hbmem_heap *heap, struct hbmem_buffer *buf);
	u64 (*free_bytes)(struct hbmem_heap *heap);
	void (*destroy)(struct hbmem_heap *heap);
};

struct hbmem_heap {
	char name[HBMEM_HEAP_NAME_LEN];
	char devname[HBMEM_HEAP_NAME_LEN + 8];		/* hbmem-<name> */
	char nodename[HBMEM_HEAP_NAME_LEN + 16];	/* dma_heap/<name> */
	u32 index;
	u32 type;		/* HBMEM_HEAP_TYPE_* */
	u32 attrs;		/* HBMEM_HEAP_ATTR_* */
	u64 size;
	const struct hbmem_heap_ops *ops;
	struct miscdevice misc;
	bool registered;

	/* carveout heaps */
	phys_addr_t base;
	void *vaddr;		/* whole range, mapped WB or WC */
	struct gen_pool *pool;
	bool has_pages;		/* pfn_valid() over the whole range */

	/* page heap */
	u64 limit;		/* 0: no limit */
	atomic64_t used;
};

struct hbmem_buffer {
	struct kref ref;
	struct hbmem_heap *heap;
	u64 size;
	u32 share_id;

	phys_addr_t phys;	/* carveout: start of the buffer */
	struct sg_table pages;	/* page heap: one entry per chunk, unmapped */

	struct mutex lock;	/* views, nviews, consume, dead */
	struct list_head views;
	unsigned int nviews;	/* live views and views being exported */
	unsigned int consume;
	bool dead;		/* last view gone: memory and share id given up */
	wait_queue_head_t wq;	/* woken when nviews, consume or dead change */
};

struct hbmem_view {
	struct hbmem_buffer *buf;
	struct dma_buf *dmabuf;
	u64 offset;
	u64 len;
	struct list_head node;		/* in buf->views */
	struct pid *pid;		/* thread group that created it */
	unsigned int consume;		/* consume count it added */

	struct mutex lock;		/* attachments, vaddr */
	struct list_head attachments;
	void *vaddr;
};

/* hbmem_core.c */
extern struct hbmem_heap *hbmem_heaps[HBMEM_MAX_HEAPS];
extern unsigned int hbmem_heap_count;
extern bool hbmem_allow_phys;
bool hbmem_may_see_phys(void);

/* hbmem_heap.c */
int hbmem_carveout_init(struct hbmem_heap *heap, phys_addr_t base, u64 size,
			bool cached);
int hbmem_pages_init(struct hbmem_heap *heap, u64 limit);
extern const struct file_operations hbmem_heap_fops;

/* hbmem_buf.c */
typedef int (*hbmem_walk_fn)(unsigned long pfn, u64 bytes, void *ctx);
int hbmem_buffer_walk(struct hbmem_buffer *buf, u64 offset, u64 len,
		      hbmem_walk_fn fn, void *ctx);
struct hbmem_buffer *hbmem_buffer_create(struct hbmem_heap *heap, u64 size);
void hbmem_buffer_publish(struct hbmem_buffer *buf);
void hbmem_buffer_put(struct hbmem_buffer *buf);
struct hbmem_buffer *hbmem_buffer_get_by_id(u32 share_id);
struct hbmem_buffer *hbmem_buffer_get_by_phys(phys_addr_t phys, u64 len);
struct hbmem_buffer *hbmem_buffer_get_next(u32 after);
struct dma_buf *hbmem_view_export(struct hbmem_buffer *buf, u64 offset,
				  u64 len, u32 fd_flags);
struct hbmem_view *hbmem_view_from_dmabuf(struct dma_buf *dmabuf);
int hbmem_publish_fd(struct dma_buf *dmabuf, u32 fd_flags,
		     void __user *uptr, void *kdata, size_t out_size,
		     u32 *fd_field);

/* hbmem_ctl.c */
int hbmem_ctl_register(umode_t mode);
void hbmem_ctl_unregister(void);

#endif /* HBMEM_PRIV_H */
