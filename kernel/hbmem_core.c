// SPDX-License-Identifier: GPL-2.0
/*
 * hbmem - dma-buf exporter for reserved memory with the dma-heap ABI.
 *
 * Module parameters set up the heaps:
 *
 *   carveout=NAME:SIZE@BASE[:uncached][,NAME:SIZE@BASE[:uncached]...]
 *	physically contiguous heaps over reserved ranges (SIZE and BASE
 *	take K/M/G suffixes), e.g. with the kernel booted with
 *	memmap=64M$0x30000000:  carveout=carveout:64M@0x30000000
 *   page_heap=NAME	the page-backed heap ("" for none), default
 *			hbmem_system
 *   page_heap_limit=SIZE  capacity of the page heap (0: RAM)
 *   allow_phys=1	physical addresses for callers without
 *			CAP_SYS_ADMIN
 *   dev_mode=0600	mode of /dev/hbmem and /dev/dma_heap/<name>
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "hbmem_priv.h"

static char *carveout[HBMEM_MAX_HEAPS];
static int carveout_count;
module_param_array(carveout, charp, &carveout_count, 0444);
MODULE_PARM_DESC(carveout,
		 "Carveout heaps: name:size@base[:uncached], comma separated");

static char *page_heap = "hbmem_system";
module_param(page_heap, charp, 0444);
MODULE_PARM_DESC(page_heap, "Name of the page-backed heap (empty: none)");

static char *page_heap_limit = "0";
module_param(page_heap_limit, charp, 0444);
MODULE_PARM_DESC(page_heap_limit, "Capacity of the page heap (0: no limit)");

bool hbmem_allow_phys;
module_param_named(allow_phys, hbmem_allow_phys, bool, 0644);
MODULE_PARM_DESC(allow_phys,
		 "Give physical addresses to callers without CAP_SYS_ADMIN");

static ushort dev_mode = 0600;
module_param(dev_mode, ushort, 0444);
MODULE_PARM_DESC(dev_mode, "Mode of /dev/hbmem and /dev/dma_heap/* nodes");

struct hbmem_heap *hbmem_heaps[HBMEM_MAX_HEAPS];
unsigned int hbmem_heap_count;

bool hbmem_may_see_phys(void)
{
	return READ_ONCE(hbmem_allow_phys) || capable(CAP_SYS_ADMIN);
}

static bool hbmem_name_ok(const char *name)
{
	size_t len = strlen(name);
	unsigned int i;

	if (!len || len >= HBMEM_HEAP_NAME_LEN)
		return false;
	/* dma_heap/. and dma_heap/.. are no device nodes devtmpfs can make */
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum(name[i]) && !strchr("_-.", name[i]))
			return false;
	}
	for (i = 0; i < hbmem_heap_count; i++) {
		if (!strcmp(hbmem_heaps[i]->name, name))
			return false;
	}
	return true;
}

static struct hbmem_heap *hbmem_heap_new(const char *name)
{
	struct hbmem_heap *heap;

	if (hbmem_heap_count >= HBMEM_MAX_HEAPS || !hbmem_name_ok(name))
		return NULL;
	heap = kzalloc(sizeof(*heap), GFP_KERNEL);
	if (!heap)
		return NULL;
	strscpy(heap->name, name, sizeof(heap->name));
	snprintf(heap->devname, sizeof(heap->devname), "hbmem-%s", name);
	snprintf(heap->nodename, sizeof(heap->nodename), "dma_heap/%s", name);
	return heap;
}

static void hbmem_heap_add(struct hbmem_heap *heap)
{
	heap->index = hbmem_heap_count;
	hbmem_heaps[hbmem_heap_count++] = heap;
}

/*
 * The carveout heap already set up that shares memory with [base, base +
 * size), or NULL. Two heaps over the same pages would give them to two
 * owners at once.
 */
static struct hbmem_heap *hbmem_carveout_overlap(u64 base, u64 size)
{
	unsigned int i;

	/* an empty or wrapping range is refused by hbmem_carveout_init() */
	if (!size || base + size < base)
		return NULL;
	for (i = 0; i < hbmem_heap_count; i++) {
		struct hbmem_heap *h = hbmem_heaps[i];

		if (h->type == HBMEM_HEAP_TYPE_CARVEOUT &&
		    base < h->base + h->size && h->base < base + size)
			return h;
	}
	return NULL;
}

/* One carveout= entry: NAME:SIZE@BASE[:uncached]. */
static int hbmem_parse_carveout(const char *spec)
{
	char *s, *name, *p, *end;
	struct hbmem_heap *heap;
	bool cached = true;
	u64 size, base;
	int ret = -EINVAL;

	s = kstrdup(spec, GFP_KERNEL);
	if (!s)
		return -ENOMEM;

	name = s;
	p = strchr(s, ':');
	if (!p)
		goto err_syntax;
	*p++ = '\0';
	size = memparse(p, &end);
	if (end == p || *end != '@')
		goto err_syntax;
	p = end + 1;
	base = memparse(p, &end);
	if (end == p)
		goto err_syntax;
	if (*end == ':') {
		if (strcmp(end + 1, "uncached"))
			goto err_syntax;
		cached = false;
	} else if (*end) {
		goto err_syntax;
	}

	heap = hbmem_carveout_overlap(base, size);
	if (heap) {
		pr_err("carveout '%s': overlaps heap %s\n", spec, heap->name);
		ret = -EBUSY;
		goto out;
	}
	heap = hbmem_heap_new(name);
	if (!heap) {
		pr_err("carveout '%s': bad or duplicate name\n", spec);
		goto out;
	}
	ret = hbmem_carveout_init(heap, base, size, cached);
	if (ret) {
		pr_err("carveout '%s': cannot use the range (%d)\n", spec, ret);
		kfree(heap);
		goto out;
	}
	hbmem_heap_add(heap);
	pr_info("heap %s: carveout %llu MiB at %pa, %s%s\n", heap->name,
		size >> 20, &heap->base, cached ? "cached" : "write-combined",
		heap->has_pages ? "" : ", no struct pages");
	goto out;

err_syntax:
	pr_err("carveout '%s': expected name:size@base[:uncached]\n", spec);
out:
	kfree(s);
	return ret;
}

static int hbmem_setup_page_heap(void)
{
	struct hbmem_heap *heap;
	char *end;
	u64 limit;

	if (!page_heap || !*page_heap)
		return 0;
	limit = memparse(page_heap_limit, &end);
	if (*end) {
		pr_err("page_heap_limit '%s' is not a size\n", page_heap_limit);
		return -EINVAL;
	}
	heap = hbmem_heap_new(page_heap);
	if (!heap) {
		pr_err("page_heap '%s': bad or duplicate name\n", page_heap);
		return -EINVAL;
	}
	hbmem_pages_init(heap, limit);
	hbmem_heap_add(heap);
	return 0;
}

static void hbmem_heaps_destroy(void)
{
	while (hbmem_heap_count) {
		struct hbmem_heap *heap = hbmem_heaps[--hbmem_heap_count];

		if (heap->registered)
			misc_deregister(&heap->misc);
		heap->ops->destroy(heap);
		kfree(heap);
		hbmem_heaps[hbmem_heap_count] = NULL;
	}
}

static int __init hbmem_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < carveout_count; i++) {
		ret = hbmem_parse_carveout(carveout[i]);
		if (ret)
			goto err_destroy_heaps;
	}
	ret = hbmem_setup_page_heap();
	if (ret)
		goto err_destroy_heaps;

	for (i = 0; i < hbmem_heap_count; i++) {
		struct hbmem_heap *heap = hbmem_heaps[i];

		heap->misc.minor = MISC_DYNAMIC_MINOR;
		heap->misc.name = heap->devname;
		heap->misc.nodename = heap->nodename;
		heap->misc.mode = dev_mode;
		heap->misc.fops = &hbmem_heap_fops;
		ret = misc_register(&heap->misc);
		if (ret) {
			pr_err("heap %s: cannot register /dev/%s (%d)\n",
			       heap->name, heap->nodename, ret);
			goto err_destroy_heaps;
		}
		heap->registered = true;
	}

	ret = hbmem_ctl_register(dev_mode);
	if (ret)
		goto err_destroy_heaps;
	return 0;

err_destroy_heaps:
	hbmem_heaps_destroy();
	return ret;
}

/* Runs only when no dma-buf of ours is left: each holds a module reference. */
static void __exit hbmem_exit(void)
{
	hbmem_ctl_unregister();
	hbmem_heaps_destroy();
}

module_init(hbmem_init);
module_exit(hbmem_exit);

MODULE_DESCRIPTION("hbmem: dma-buf heaps over reserved memory, with share ids");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
