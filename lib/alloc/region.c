// SPDX-License-Identifier: MIT
/*
 * Regions: the memory an allocator of the family manages. Either an
 * hbmem common buffer, allocated and freed through the public API like any
 * application would (so heaps, capacities and sharing apply to it), or
 * memory the caller lends.
 */
#include <errno.h>
#include <string.h>

#include "alloc/alloc.h"

int _hbmem_errno_of(int32_t hb_err)
{
	switch (hb_err) {
	case 0:
		return 0;
	case HB_MEM_ERR_INVALID_PARAMS:
		return -EINVAL;
	case HB_MEM_ERR_INSUFFICIENT_MEM:
		return -ENOMEM;
	case HB_MEM_ERR_MODULE_NOT_FOUND:
		return -ENODEV;
	case HB_MEM_ERR_INVALID_VADDR:
		return -EFAULT;
	case HB_MEM_ERR_TOO_MANY_FD:
		return -EMFILE;
	case HB_MEM_ERR_NOT_ALLOW:
		return -EPERM;
	default:
		return -EIO;
	}
}

void *_hbmem_null_errno(int negative_errno)
{
	errno = -negative_errno;
	return NULL;
}

int _hbmem_region_alloc(uint64_t size, int64_t flags, struct hbmem_region *r)
{
	int32_t ret;

	memset(r, 0, sizeof(*r));
	r->buf.fd = -1;
	if (size == 0 || size > SIZE_MAX / 2)
		return -EINVAL;
	ret = hb_mem_alloc_com_buf(size, flags, &r->buf);
	if (ret != 0) {
		r->buf.fd = -1;
		return _hbmem_errno_of(ret);
	}
	r->base = r->buf.virt_addr;
	r->size = size;
	return 0;
}

void _hbmem_region_wrap(void *start, uint64_t size, struct hbmem_region *r)
{
	memset(r, 0, sizeof(*r));
	r->buf.fd = -1;
	r->base = start;
	r->size = size;
}

void _hbmem_region_free(struct hbmem_region *r)
{
	if (r->buf.fd >= 0) {
		int32_t ret = hb_mem_free_buf(r->buf.fd);

		if (ret != 0)
			hbmem_warn("region fd %d: free failed (0x%x); was the "
				   "module closed before the allocator was "
				   "destroyed?", r->buf.fd, (unsigned)ret);
	}
	memset(r, 0, sizeof(*r));
	r->buf.fd = -1;
}
