/* SPDX-License-Identifier: MIT */
/* pool.c - placeholder, being written. */
#include <errno.h>

#include "hbmem_internal.h"
#include "hb_mem_err.h"

HBMEM_EXPORT int32_t hb_mem_pool_create(uint64_t size, int64_t flags,
					hb_mem_pool_t *pool)
{
	return HB_MEM_ERR_INVALID_PARAMS;
}

HBMEM_EXPORT int32_t hb_mem_pool_destroy(int32_t fd)
{
	return HB_MEM_ERR_POOL_NOT_FOUND;
}

HBMEM_EXPORT int32_t hb_mem_pool_alloc_buf(int32_t fd, uint64_t size,
					   hb_mem_common_buf_t *buf)
{
	return HB_MEM_ERR_POOL_NOT_FOUND;
}

HBMEM_EXPORT int32_t hb_mem_pool_free_buf(uint64_t virt_addr)
{
	return HB_MEM_ERR_INVALID_VADDR;
}

HBMEM_EXPORT int32_t hb_mem_pool_get_info(int32_t fd, hb_mem_pool_t *pool)
{
	return HB_MEM_ERR_POOL_NOT_FOUND;
}

void _hbmem_pools_cleanup(void)
{
}

int _hbmem_pool_release(struct hbmem_obj *obj)
{
	return 0;
}

int _hbmem_pool_find_buf(struct hbmem_obj *obj, uint64_t addr,
			 hb_mem_common_buf_t *out)
{
	return -ENOENT;
}
