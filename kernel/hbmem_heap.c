// SPDX-License-Identifier: GPL-2.0
/*
 * hbmem - the heap kinds and the dma-heap allocation device.
 *
 * Carveout heaps hand out physically contiguous pieces of a reserved
 * physical range through a gen_pool. The range is mapped into the kernel
 * once, write-back or write-combined, and that mapping serves zeroing and
 * vmap. The page heap builds buffers from page-allocator chunks, largest
 * first, like the kernel's system heap.
 *
 * Each heap has a misc device /dev/dma_heap/<name> that implements
 * DMA_HEAP_IOCTL_ALLOC with the validation and struct-size tolerance of
 * drivers/dma-buf/dma-heap.c, so dma-heap users cannot tell the
 * difference.
 */
#include <uapi/linux/dma-heap.h>
#include <linux/fs.h>
#include <linux/genalloc.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hbmem_priv.h"

/* ---- carveout ---------------------------------------------------------- */

static int hbmem_carveout_allocate(struct hbmem_heap *heap,
				   struct hbmem_buffer *buf)
{
	unsigned long addr;

	if (buf->size > heap->size)
		return -ENOMEM;
	addr = gen_pool_alloc(heap->pool, buf->size);
	if (!addr)
		return -ENOMEM;

	buf->phys = addr;
	memset(heap->vaddr + (addr - heap->base), 0, buf->size);
	return 0;
}

static void hbmem_carveout_free(struct hbmem_heap *heap,
				struct hbmem_buffer *buf)
{
	gen_pool_free(heap->pool, buf->phys, buf->size);
}

static u64 hbmem_carveout_free_bytes(struct hbmem_heap *heap)
{
	return gen_pool_avail(heap->pool);
}

static void hbmem_carveout_destroy(struct hbmem_heap *heap)
{
	gen_pool_destroy(heap->pool);
	memunmap(heap->vaddr);
}

static const struct hbmem_heap_ops hbmem_carveout_ops = {
	.allocate = hbmem_carveout_allocate,
	.free = hbmem_carveout_free,
	.free_bytes = hbmem_carveout_free_bytes,
	.destroy = hbmem_carveout_destroy,
};

/*
 * Take over [base, base + size): it must not be RAM the kernel manages
 * (use memmap=size$base or a reserved-memory node to set it aside).
 */
int hbmem_carveout_init(struct hbmem_heap *heap, phys_addr_t base, u64 size,
			bool cached)
{
	int ret;

	if (!size || !PAGE_ALIGNED(base) || !PAGE_ALIGNED(size) || !base ||
	    base + size < base || base + size - 1 > ULONG_MAX)
		return -EINVAL;

	if (region_intersects(base, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pr_err("heap %s: %pa + %llu overlaps System RAM; reserve it with memmap=\n",
		       heap->name, &base, size);
		return -EBUSY;
	}

	heap->vaddr = memremap(base, size, cached ? MEMREMAP_WB : MEMREMAP_WC);
	if (!heap->vaddr)
		return -ENOMEM;

	heap->pool = gen_pool_create(PAGE_SHIFT, -1);
	if (!heap->pool) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	ret = gen_pool_add(heap->pool, base, size, -1);
	if (ret)
		goto err_destroy_pool;

	heap->type = HBMEM_HEAP_TYPE_CARVEOUT;
	heap->attrs = HBMEM_HEAP_ATTR_CONTIGUOUS | HBMEM_HEAP_ATTR_ZEROED |
		      HBMEM_HEAP_ATTR_PHYS;
	if (cached)
		heap->attrs |= HBMEM_HEAP_ATTR_CACHED;
	heap->base = base;
	heap->size = size;
	heap->has_pages = pfn_valid(PHYS_PFN(base)) &&
			  pfn_valid(PHYS_PFN(base + size - 1));
	heap->ops = &hbmem_carveout_ops;
	return 0;

err_destroy_pool:
	gen_pool_destroy(heap->pool);
err_unmap:
	memunmap(heap->vaddr);
	return ret;
}

/* ---- pages ------------------------------------------------------------- */

/* Chunk orders tried, largest first: 1 MiB, 64 KiB, 4 KiB with 4 KiB pages. */
static const unsigned int hbmem_orders[] = { 8, 4, 0 };

static gfp_t hbmem_order_gfp(unsigned int order)
{
	/* Large chunks only when they come cheaply; never reclaim for them. */
	if (order >= 8)
		return (GFP_HIGHUSER | __GFP_ZERO | __GFP_COMP | __GFP_NOWARN |
			__GFP_NORETRY) & ~__GFP_RECLAIM;
	if (order)
		return GFP_HIGHUSER | __GFP_ZERO | __GFP_COMP | __GFP_NOWARN |
		       __GFP_NORETRY;
	return GFP_HIGHUSER | __GFP_ZERO | __GFP_NOWARN;
}

static struct page *hbmem_alloc_chunk(u64 remaining, unsigned int *order)
{
	struct page *page;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hbmem_orders); i++) {
		if (remaining < (PAGE_SIZE << hbmem_orders[i]))
			continue;
		page = alloc_pages(hbmem_order_gfp(hbmem_orders[i]),
				   hbmem_orders[i]);
		if (page) {
			*order = hbmem_orders[i];
			return page;
		}
	}
	return NULL;
}

static void hbmem_pages_free_list(struct list_head *list)
{
	struct page *page, *tmp;

	list_for_each_entry_safe(page, tmp, list, lru) {
		list_del(&page->lru);
		__free_pages(page, compound_order(page));
	}
}

static int hbmem_pages_allocate(struct hbmem_heap *heap,
				struct hbmem_buffer *buf)
{
	struct scatterlist *sg;
	unsigned int n = 0, order;
	struct page *page, *tmp;
	u64 remaining = buf->size;
	LIST_HEAD(chunks);
	int ret;

	if (heap->limit &&
	    atomic64_add_return(buf->size, &heap->used) > heap->limit) {
		ret = -ENOMEM;
		goto err_unaccount;
	}

	while (remaining) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_free_pages;
		}
		page = hbmem_alloc_chunk(remaining, &order);
		if (!page) {
			ret = -ENOMEM;
			goto err_free_pages;
		}
		/* Order-0 pages are not compound: remember their order 0. */
		list_add_tail(&page->lru, &chunks);
		remaining -= PAGE_SIZE << order;
		n++;
	}

	ret = sg_alloc_table(&buf->pages, n, GFP_KERNEL);
	if (ret)
		goto err_free_pages;

	sg = buf->pages.sgl;
	list_for_each_entry_safe(page, tmp, &chunks, lru) {
		list_del(&page->lru);
		sg_set_page(sg, page, PAGE_SIZE << compound_order(page), 0);
		sg = sg_next(sg);
	}
	return 0;

err_free_pages:
	hbmem_pages_free_list(&chunks);
err_unaccount:
	if (heap->limit)
		atomic64_sub(buf->size, &heap->used);
	return ret;
}

static void hbmem_pages_free(struct hbmem_heap *heap, struct hbmem_buffer *buf)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_sg(&buf->pages, sg, i)
		__free_pages(sg_page(sg), get_order(sg->length));
	sg_free_table(&buf->pages);
	if (heap->limit)
		atomic64_sub(buf->size, &heap->used);
}

static u64 hbmem_pages_free_bytes(struct hbmem_heap *heap)
{
	struct sysinfo si;
	u64 ram_free;

	si_meminfo(&si);
	ram_free = (u64)si.freeram * si.mem_unit;
	if (!heap->limit)
		return ram_free;
	return min_t(u64, ram_free,
		     heap->limit - min_t(u64, heap->limit,
					 atomic64_read(&heap->used)));
}

static void hbmem_pages_destroy(struct hbmem_heap *heap)
{
}

static const struct hbmem_heap_ops hbmem_pages_ops = {
	.allocate = hbmem_pages_allocate,
	.free = hbmem_pages_free,
	.free_bytes = hbmem_pages_free_bytes,
	.destroy = hbmem_pages_destroy,
};

int hbmem_pages_init(struct hbmem_heap *heap, u64 limit)
{
	struct sysinfo si;

	si_meminfo(&si);
	heap->type = HBMEM_HEAP_TYPE_PAGES;
	heap->attrs = HBMEM_HEAP_ATTR_CACHED | HBMEM_HEAP_ATTR_ZEROED;
	heap->limit = PAGE_ALIGN(limit);
	heap->size = limit ? heap->limit : (u64)si.totalram * si.mem_unit;
	atomic64_set(&heap->used, 0);
	heap->ops = &hbmem_pages_ops;
	return 0;
}

/* ---- /dev/dma_heap/<name> ---------------------------------------------- */

static long hbmem_heap_alloc(struct hbmem_heap *heap,
			     struct dma_heap_allocation_data *data,
			     void __user *uptr, size_t out_size)
{
	struct hbmem_buffer *buf;
	struct dma_buf *dmabuf;
	u64 len;

	if (data->fd)
		return -EINVAL;
	if (data->fd_flags & ~DMA_HEAP_VALID_FD_FLAGS)
		return -EINVAL;
	if (data->heap_flags & ~DMA_HEAP_VALID_HEAP_FLAGS)
		return -EINVAL;
	/* The fd must reach user space, or it would be leaked. */
	if (out_size < offsetofend(struct dma_heap_allocation_data, fd))
		return -EINVAL;
	if (data->len > U64_MAX - PAGE_SIZE + 1)
		return -EINVAL;
	len = PAGE_ALIGN(data->len);
	if (!len)
		return -EINVAL;
	if (len > heap->size)
		return -ENOMEM;

	buf = hbmem_buffer_create(heap, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	dmabuf = hbmem_view_export(buf, 0, len, data->fd_flags);
	if (IS_ERR(dmabuf)) {
		hbmem_buffer_put(buf);
		return PTR_ERR(dmabuf);
	}
	hbmem_buffer_publish(buf);

	return hbmem_publish_fd(dmabuf, data->fd_flags, uptr, data, out_size,
				&data->fd);
}

/*
 * The command is chosen by number alone. A caller's struct may be shorter
 * (older) or longer (newer) than ours: copy what overlaps, zero the rest,
 * and copy back as many bytes as the caller's command names.
 */
static long hbmem_heap_ioctl(struct file *file, unsigned int ucmd,
			     unsigned long arg)
{
	struct hbmem_heap *heap = container_of(file->private_data,
					       struct hbmem_heap, misc);
	const unsigned int kcmd = DMA_HEAP_IOCTL_ALLOC;
	unsigned int in_size, out_size, ksize;
	void __user *uptr = (void __user *)arg;
	char stack_kdata[64];
	char *kdata = stack_kdata;
	long ret;

	if (_IOC_NR(ucmd) != _IOC_NR(kcmd))
		return -ENOTTY;

	out_size = _IOC_SIZE(ucmd);
	in_size = out_size;
	if (!(ucmd & kcmd & IOC_IN))
		in_size = 0;
	if (!(ucmd & kcmd & IOC_OUT))
		out_size = 0;
	ksize = max3(in_size, out_size, _IOC_SIZE(kcmd));

	if (ksize > sizeof(stack_kdata)) {
		kdata = kmalloc(ksize, GFP_KERNEL);
		if (!kdata)
			return -ENOMEM;
	}

	if (copy_from_user(kdata, uptr, in_size)) {
		ret = -EFAULT;
		goto out;
	}
	if (ksize > in_size)
		memset(kdata + in_size, 0, ksize - in_size);

	ret = hbmem_heap_alloc(heap, (struct dma_heap_allocation_data *)kdata,
			       uptr, out_size);
out:
	if (kdata != stack_kdata)
		kfree(kdata);
	return ret;
}

const struct file_operations hbmem_heap_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = hbmem_heap_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};
