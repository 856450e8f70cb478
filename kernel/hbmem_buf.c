// SPDX-License-Identifier: GPL-2.0
/*
 * hbmem - buffers, their handles (one dma-buf each) and the dma_buf_ops.
 *
 * A buffer is the memory; a view is one dma-buf over all or a page-aligned
 * part of it. Allocation creates a buffer and its first view; import by
 * share id adds views. The share client count of a buffer is its number of
 * live views.
 */
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "hbmem_priv.h"

/* Share ids: global, cyclic, looked up without sleeping. */
static DEFINE_IDR(hbmem_ids);
static DEFINE_SPINLOCK(hbmem_ids_lock);

struct hbmem_attachment {
	struct device *dev;
	struct sg_table sgt;
	struct list_head node;		/* in view->attachments */
	bool mapped;
	bool resource;			/* carveout without struct pages */
	enum dma_data_direction dir;
};

/*
 * Call @fn for each physically contiguous piece of [offset, offset + len)
 * of @buf, in order. Pieces are page-aligned and at most 1 GiB, so they
 * fit a scatterlist entry.
 */
int hbmem_buffer_walk(struct hbmem_buffer *buf, u64 offset, u64 len,
		      hbmem_walk_fn fn, void *ctx)
{
	u64 end = offset + len;
	struct scatterlist *sg;
	u64 pos = 0;
	unsigned int i;
	int ret;

	if (buf->heap->type == HBMEM_HEAP_TYPE_CARVEOUT) {
		phys_addr_t phys = buf->phys + offset;

		while (len) {
			u64 n = min_t(u64, len, SZ_1G);

			ret = fn(PHYS_PFN(phys), n, ctx);
			if (ret)
				return ret;
			phys += n;
			len -= n;
		}
		return 0;
	}

	for_each_sgtable_sg(&buf->pages, sg, i) {
		u64 chunk = pos, s, e;

		pos += sg->length;
		if (pos <= offset)
			continue;
		if (chunk >= end)
			break;
		s = max(chunk, offset);
		e = min(pos, end);
		ret = fn(page_to_pfn(sg_page(sg)) + ((s - chunk) >> PAGE_SHIFT),
			 e - s, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

static int hbmem_count_piece(unsigned long pfn, u64 bytes, void *ctx)
{
	(*(unsigned int *)ctx)++;
	return 0;
}

static int hbmem_fill_piece(unsigned long pfn, u64 bytes, void *ctx)
{
	struct scatterlist **sg = ctx;

	sg_set_page(*sg, pfn_to_page(pfn), bytes, 0);
	*sg = sg_next(*sg);
	return 0;
}

/* A fresh, unmapped scatter table over the pages of @view. */
static int hbmem_view_sgt(struct hbmem_view *view, struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int n = 0;
	int ret;

	hbmem_buffer_walk(view->buf, view->offset, view->len,
			  hbmem_count_piece, &n);
	ret = sg_alloc_table(sgt, n, GFP_KERNEL);
	if (ret)
		return ret;
	sg = sgt->sgl;
	hbmem_buffer_walk(view->buf, view->offset, view->len,
			  hbmem_fill_piece, &sg);
	return 0;
}

static bool hbmem_view_is_resource(struct hbmem_view *view)
{
	struct hbmem_heap *heap = view->buf->heap;

	return heap->type == HBMEM_HEAP_TYPE_CARVEOUT && !heap->has_pages;
}

static bool hbmem_view_cached(struct hbmem_view *view)
{
	return view->buf->heap->attrs & HBMEM_HEAP_ATTR_CACHED;
}

static int hbmem_dmabuf_attach(struct dma_buf *dmabuf,
			       struct dma_buf_attachment *attach)
{
	struct hbmem_view *view = dmabuf->priv;
	struct hbmem_attachment *a;
	int ret;

	/*
	 * A carveout is one physical range: a device that cannot address it
	 * directly would need a bounce buffer as large as the dma-buf.
	 */
	if (view->buf->heap->type == HBMEM_HEAP_TYPE_CARVEOUT &&
	    !device_iommu_mapped(attach->dev)) {
		u64 last = view->buf->phys + view->offset + view->len - 1;
		u64 limit = dma_get_mask(attach->dev);

		if (attach->dev->bus_dma_limit)
			limit = min_t(u64, limit, attach->dev->bus_dma_limit);
		if (last > limit)
			return -EBUSY;
	}

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;

	a->dev = attach->dev;
	a->resource = hbmem_view_is_resource(view);
	if (a->resource)
		ret = sg_alloc_table(&a->sgt, 1, GFP_KERNEL);
	else
		ret = hbmem_view_sgt(view, &a->sgt);
	if (ret)
		goto err_free_attachment;

	INIT_LIST_HEAD(&a->node);
	attach->priv = a;

	mutex_lock(&view->lock);
	list_add(&a->node, &view->attachments);
	mutex_unlock(&view->lock);
	return 0;

err_free_attachment:
	kfree(a);
	return ret;
}

static void hbmem_dmabuf_detach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct hbmem_view *view = dmabuf->priv;
	struct hbmem_attachment *a = attach->priv;

	mutex_lock(&view->lock);
	list_del(&a->node);
	mutex_unlock(&view->lock);

	sg_free_table(&a->sgt);
	kfree(a);
}

static struct sg_table *hbmem_dmabuf_map(struct dma_buf_attachment *attach,
					 enum dma_data_direction dir)
{
	struct hbmem_view *view = attach->dmabuf->priv;
	struct hbmem_attachment *a = attach->priv;
	int ret;

	if (a->resource) {
		/* No struct pages: map the physical range as a resource. */
		dma_addr_t addr;

		addr = dma_map_resource(a->dev, view->buf->phys + view->offset,
					view->len, dir, 0);
		if (dma_mapping_error(a->dev, addr))
			return ERR_PTR(-ENOMEM);
		sg_dma_address(a->sgt.sgl) = addr;
		sg_dma_len(a->sgt.sgl) = view->len;
		a->sgt.nents = 1;
	} else {
		ret = dma_map_sgtable(a->dev, &a->sgt, dir, 0);
		if (ret)
			return ERR_PTR(ret);
	}

	mutex_lock(&view->lock);
	a->mapped = true;
	a->dir = dir;
	mutex_unlock(&view->lock);
	return &a->sgt;
}

static void hbmem_dmabuf_unmap(struct dma_buf_attachment *attach,
			       struct sg_table *sgt,
			       enum dma_data_direction dir)
{
	struct hbmem_view *view = attach->dmabuf->priv;
	struct hbmem_attachment *a = attach->priv;

	mutex_lock(&view->lock);
	a->mapped = false;
	mutex_unlock(&view->lock);

	if (a->resource) {
		dma_unmap_resource(a->dev, sg_dma_address(sgt->sgl),
				   sg_dma_len(sgt->sgl), dir, 0);
		a->sgt.nents = 0;
	} else {
		dma_unmap_sgtable(a->dev, sgt, dir, 0);
	}
}

/*
 * CPU access brackets: make what devices wrote visible to the CPU (begin)
 * and what the CPU wrote visible to devices (end), for every device that
 * has the buffer mapped and for the kernel mapping. Resource mappings have
 * no pages to sync; they are only used where the range is not RAM. A sync
 * names the direction its mapping was made with (the DMA API's rule; the
 * user's direction says only what the CPU is about to do).
 */
static int hbmem_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					 enum dma_data_direction dir)
{
	struct hbmem_view *view = dmabuf->priv;
	struct hbmem_attachment *a;

	mutex_lock(&view->lock);
	if (view->vaddr && hbmem_view_cached(view))
		invalidate_kernel_vmap_range(view->vaddr, view->len);
	list_for_each_entry(a, &view->attachments, node) {
		if (a->mapped && !a->resource)
			dma_sync_sgtable_for_cpu(a->dev, &a->sgt, a->dir);
	}
	mutex_unlock(&view->lock);
	return 0;
}

static int hbmem_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
				       enum dma_data_direction dir)
{
	struct hbmem_view *view = dmabuf->priv;
	struct hbmem_attachment *a;

	mutex_lock(&view->lock);
	if (view->vaddr && hbmem_view_cached(view))
		flush_kernel_vmap_range(view->vaddr, view->len);
	list_for_each_entry(a, &view->attachments, node) {
		if (a->mapped && !a->resource)
			dma_sync_sgtable_for_device(a->dev, &a->sgt, a->dir);
	}
	mutex_unlock(&view->lock);
	return 0;
}

struct hbmem_mmap_ctx {
	struct vm_area_struct *vma;
	unsigned long addr;
	u64 skip;		/* bytes before vm_pgoff still to pass */
};

static int hbmem_mmap_piece(unsigned long pfn, u64 bytes, void *data)
{
	struct hbmem_mmap_ctx *ctx = data;
	struct vm_area_struct *vma = ctx->vma;
	u64 n;
	int ret;

	if (ctx->skip >= bytes) {
		ctx->skip -= bytes;
		return 0;
	}
	pfn += ctx->skip >> PAGE_SHIFT;
	bytes -= ctx->skip;
	ctx->skip = 0;

	n = min_t(u64, bytes, vma->vm_end - ctx->addr);
	ret = remap_pfn_range(vma, ctx->addr, pfn, n, vma->vm_page_prot);
	if (ret)
		return ret;
	ctx->addr += n;
	return ctx->addr >= vma->vm_end ? 1 : 0;
}

static int hbmem_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct hbmem_view *view = dmabuf->priv;
	struct hbmem_mmap_ctx ctx = {
		.vma = vma,
		.addr = vma->vm_start,
		.skip = (u64)vma->vm_pgoff << PAGE_SHIFT,
	};
	int ret;

	/* The core has checked that vm_pgoff plus the length fit. */
	if (!hbmem_view_cached(view))
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);

	ret = hbmem_buffer_walk(view->buf, view->offset, view->len,
				hbmem_mmap_piece, &ctx);
	return ret < 0 ? ret : 0;
}

struct hbmem_vmap_ctx {
	struct page **pages;
	unsigned int n;
};

static int hbmem_vmap_piece(unsigned long pfn, u64 bytes, void *data)
{
	struct hbmem_vmap_ctx *ctx = data;
	u64 i;

	for (i = 0; i < bytes >> PAGE_SHIFT; i++)
		ctx->pages[ctx->n++] = pfn_to_page(pfn + i);
	return 0;
}

/* The core counts vmap users per dma-buf: this runs for the first only. */
static int hbmem_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct hbmem_view *view = dmabuf->priv;
	struct hbmem_buffer *buf = view->buf;
	struct hbmem_heap *heap = buf->heap;
	struct hbmem_vmap_ctx ctx = { 0 };
	void *vaddr;

	if (heap->type == HBMEM_HEAP_TYPE_CARVEOUT) {
		/* The whole carveout is mapped for as long as the heap lives. */
		vaddr = heap->vaddr + (buf->phys - heap->base) + view->offset;
	} else {
		ctx.pages = kvmalloc_array(view->len >> PAGE_SHIFT,
					   sizeof(*ctx.pages), GFP_KERNEL);
		if (!ctx.pages)
			return -ENOMEM;
		hbmem_buffer_walk(buf, view->offset, view->len,
				  hbmem_vmap_piece, &ctx);
		vaddr = vmap(ctx.pages, ctx.n, VM_MAP, PAGE_KERNEL);
		kvfree(ctx.pages);
		if (!vaddr)
			return -ENOMEM;
	}

	mutex_lock(&view->lock);
	view->vaddr = vaddr;
	mutex_unlock(&view->lock);
	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

static void hbmem_dmabuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct hbmem_view *view = dmabuf->priv;
	void *vaddr;

	mutex_lock(&view->lock);
	vaddr = view->vaddr;
	view->vaddr = NULL;
	mutex_unlock(&view->lock);

	if (vaddr && view->buf->heap->type == HBMEM_HEAP_TYPE_PAGES)
		vunmap(vaddr);
	iosys_map_clear(map);
}

static void hbmem_buffer_drop_view(struct hbmem_buffer *buf);

static void hbmem_dmabuf_release(struct dma_buf *dmabuf)
{
	struct hbmem_view *view = dmabuf->priv;
	struct hbmem_buffer *buf = view->buf;

	mutex_lock(&buf->lock);
	list_del(&view->node);
	/* What this handle added to the consume count goes with it. */
	buf->consume -= min(buf->consume, view->consume);
	mutex_unlock(&buf->lock);

	put_pid(view->pid);
	mutex_destroy(&view->lock);
	kfree(view);
	hbmem_buffer_drop_view(buf);
	hbmem_buffer_put(buf);
}

static const struct dma_buf_ops hbmem_dmabuf_ops = {
	.attach = hbmem_dmabuf_attach,
	.detach = hbmem_dmabuf_detach,
	.map_dma_buf = hbmem_dmabuf_map,
	.unmap_dma_buf = hbmem_dmabuf_unmap,
	.begin_cpu_access = hbmem_dmabuf_begin_cpu_access,
	.end_cpu_access = hbmem_dmabuf_end_cpu_access,
	.mmap = hbmem_dmabuf_mmap,
	.vmap = hbmem_dmabuf_vmap,
	.vunmap = hbmem_dmabuf_vunmap,
	.release = hbmem_dmabuf_release,
};

/* The view behind @dmabuf, or NULL if hbmem did not export it. */
struct hbmem_view *hbmem_view_from_dmabuf(struct dma_buf *dmabuf)
{
	if (dmabuf->ops != &hbmem_dmabuf_ops)
		return NULL;
	return dmabuf->priv;
}

/*
 * A new buffer of @size bytes (page-aligned) with one reference. Its share
 * id is reserved but names nothing until hbmem_buffer_publish(), so nobody
 * can import the buffer before its first view exists.
 */
struct hbmem_buffer *hbmem_buffer_create(struct hbmem_heap *heap, u64 size)
{
	struct hbmem_buffer *buf;
	int id, ret;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);

	kref_init(&buf->ref);
	buf->heap = heap;
	buf->size = size;
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->views);
	init_waitqueue_head(&buf->wq);

	ret = heap->ops->allocate(heap, buf);
	if (ret)
		goto err_free_buffer;

	idr_preload(GFP_KERNEL);
	spin_lock(&hbmem_ids_lock);
	id = idr_alloc_cyclic(&hbmem_ids, NULL, 1, INT_MAX, GFP_NOWAIT);
	spin_unlock(&hbmem_ids_lock);
	idr_preload_end();
	if (id < 0) {
		ret = id;
		goto err_free_memory;
	}
	buf->share_id = id;
	return buf;

err_free_memory:
	heap->ops->free(heap, buf);
err_free_buffer:
	mutex_destroy(&buf->lock);
	kfree(buf);
	return ERR_PTR(ret);
}

/* Make the share id of @buf name it, once its first view is exported. */
void hbmem_buffer_publish(struct hbmem_buffer *buf)
{
	spin_lock(&hbmem_ids_lock);
	idr_replace(&hbmem_ids, buf, buf->share_id);
	spin_unlock(&hbmem_ids_lock);
}

/*
 * Count a view of @buf about to be exported, unless the buffer has already
 * died (-ENOENT): the count keeps it alive until the view exists.
 */
static int hbmem_buffer_reserve_view(struct hbmem_buffer *buf)
{
	int ret = 0;

	mutex_lock(&buf->lock);
	if (buf->dead)
		ret = -ENOENT;
	else
		buf->nviews++;
	mutex_unlock(&buf->lock);
	return ret;
}

/*
 * A view of @buf is gone, or was never made. With the last one the buffer
 * dies: its share id stops naming it and its memory goes back to the heap,
 * whoever still holds a reference (waiters keep only the struct).
 */
static void hbmem_buffer_drop_view(struct hbmem_buffer *buf)
{
	bool dead;

	mutex_lock(&buf->lock);
	dead = !--buf->nviews;
	if (dead)
		WRITE_ONCE(buf->dead, true);
	mutex_unlock(&buf->lock);

	if (dead) {
		spin_lock(&hbmem_ids_lock);
		idr_remove(&hbmem_ids, buf->share_id);
		spin_unlock(&hbmem_ids_lock);
		buf->heap->ops->free(buf->heap, buf);
	}
	wake_up_all(&buf->wq);
}

static void hbmem_buffer_release(struct kref *ref)
{
	struct hbmem_buffer *buf = container_of(ref, struct hbmem_buffer, ref);

	/* Every buffer got a view reserved, so its last drop has freed it. */
	WARN_ON_ONCE(!buf->dead);
	mutex_destroy(&buf->lock);
	kfree(buf);
}

void hbmem_buffer_put(struct hbmem_buffer *buf)
{
	kref_put(&buf->ref, hbmem_buffer_release);
}

/* A reference on the live buffer with @share_id, or NULL. */
struct hbmem_buffer *hbmem_buffer_get_by_id(u32 share_id)
{
	struct hbmem_buffer *buf;

	if (!share_id || share_id > INT_MAX)
		return NULL;

	spin_lock(&hbmem_ids_lock);
	buf = idr_find(&hbmem_ids, share_id);
	if (buf && !kref_get_unless_zero(&buf->ref))
		buf = NULL;
	spin_unlock(&hbmem_ids_lock);
	return buf;
}

/*
 * A reference on the live buffer with the smallest share id above @after,
 * or NULL when there is none.
 */
struct hbmem_buffer *hbmem_buffer_get_next(u32 after)
{
	struct hbmem_buffer *buf;
	int id;

	if (after >= INT_MAX)
		return NULL;
	id = after + 1;
	spin_lock(&hbmem_ids_lock);
	/* skip buffers on their way out (reference count already zero) */
	while ((buf = idr_get_next(&hbmem_ids, &id)) &&
	       !kref_get_unless_zero(&buf->ref))
		id++;
	spin_unlock(&hbmem_ids_lock);
	return buf;
}

/* A reference on the live carveout buffer holding [phys, phys + len). */
struct hbmem_buffer *hbmem_buffer_get_by_phys(phys_addr_t phys, u64 len)
{
	struct hbmem_buffer *buf, *found = NULL;
	int id;

	spin_lock(&hbmem_ids_lock);
	idr_for_each_entry(&hbmem_ids, buf, id) {
		if (buf->heap->type != HBMEM_HEAP_TYPE_CARVEOUT)
			continue;
		if (phys < buf->phys || phys - buf->phys > buf->size ||
		    len > buf->size - (phys - buf->phys))
			continue;
		if (kref_get_unless_zero(&buf->ref))
			found = buf;
		break;
	}
	spin_unlock(&hbmem_ids_lock);
	return found;
}

/*
 * A new dma-buf over [offset, offset + len) of @buf. On success the view
 * takes over the caller's buffer reference; on failure the caller keeps
 * it. A buffer whose last view is gone stays dead: -ENOENT.
 */
struct dma_buf *hbmem_view_export(struct hbmem_buffer *buf, u64 offset,
				  u64 len, u32 fd_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct hbmem_view *view;
	struct dma_buf *dmabuf;
	int ret;

	ret = hbmem_buffer_reserve_view(buf);
	if (ret)
		return ERR_PTR(ret);
	view = kzalloc(sizeof(*view), GFP_KERNEL);
	if (!view) {
		hbmem_buffer_drop_view(buf);
		return ERR_PTR(-ENOMEM);
	}

	view->buf = buf;
	view->offset = offset;
	view->len = len;
	view->pid = get_pid(task_tgid(current));
	mutex_init(&view->lock);
	INIT_LIST_HEAD(&view->attachments);
	INIT_LIST_HEAD(&view->node);

	exp_info.exp_name = buf->heap->name;
	exp_info.ops = &hbmem_dmabuf_ops;
	exp_info.size = len;
	exp_info.flags = fd_flags;
	exp_info.priv = view;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		put_pid(view->pid);
		mutex_destroy(&view->lock);
		kfree(view);
		hbmem_buffer_drop_view(buf);
		return dmabuf;
	}
	view->dmabuf = dmabuf;

	/* nviews already counts it (hbmem_buffer_reserve_view()) */
	mutex_lock(&buf->lock);
	list_add_tail(&view->node, &buf->views);
	mutex_unlock(&buf->lock);
	wake_up_all(&buf->wq);
	return dmabuf;
}

/*
 * Give @dmabuf an fd and tell user space, in that order of visibility: the
 * fd is reserved, written to *@fd_field inside @kdata, @kdata is copied to
 * @uptr, and only then is the fd installed, so a failed copy leaves no fd
 * behind. On any failure the dma-buf reference is dropped. Returns 0 or a
 * negative errno; on success the new fd belongs to the calling process.
 */
int hbmem_publish_fd(struct dma_buf *dmabuf, u32 fd_flags,
		     void __user *uptr, void *kdata, size_t out_size,
		     u32 *fd_field)
{
	int fd;

	fd = get_unused_fd_flags(fd_flags & O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}

	*fd_field = fd;
	if (copy_to_user(uptr, kdata, out_size)) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}

#ifdef HBMEM_HAVE_DMA_BUF_FD_INSTALL
	dma_buf_fd_install(dmabuf, fd);
#else
	fd_install(fd, dmabuf->file);
#endif
	return 0;
}
