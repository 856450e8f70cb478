// SPDX-License-Identifier: MIT
/*
 * Page allocator: the granule allocator with one granule per system page,
 * over a common buffer, plus the device address of each allocation (the
 * buffer's physical address plus the offset, on backends that have one).
 */
#include <errno.h>
#include <stdlib.h>

#include "alloc/alloc.h"

struct hb_mem_page_pool {
	struct hb_mem_gran gran;	/* owns the region */
};

HBMEM_EXPORT int32_t hb_mem_page_pool_create(uint64_t npages, int64_t flags,
					     hb_mem_page_pool_t **pool)
{
	struct hb_mem_page_pool *pp;
	struct hbmem_region r;
	uint32_t log2page;
	int ret;

	if (!pool || npages == 0 || npages > (1ull << 31))
		return HB_MEM_ERR_INVALID_PARAMS;
	/* the page size is known once the module is open */
	if (!_hbmem_is_open())
		return HB_MEM_ERR_MODULE_NOT_FOUND;
	log2page = (uint32_t)__builtin_ctzll(hbmem_page_size);
	ret = _hbmem_region_alloc(npages << log2page, flags, &r);
	if (ret < 0)
		return _hbmem_err(ret);
	pp = calloc(1, sizeof(*pp));
	if (!pp) {
		ret = -ENOMEM;
		goto err_free_region;
	}
	ret = _hbmem_gran_init(&pp->gran, r.base, r.size, log2page, log2page);
	if (ret < 0)
		goto err_free_pool;
	pp->gran.region = r;
	pp->gran.dbg.name = "pages";
	*pool = pp;
	return 0;

err_free_pool:
	free(pp);
err_free_region:
	_hbmem_region_free(&r);
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_page_pool_destroy(hb_mem_page_pool_t *pool)
{
	if (!pool)
		return HB_MEM_ERR_INVALID_PARAMS;
	_hbmem_gran_fini(&pool->gran);
	pthread_mutex_destroy(&pool->gran.lock);
	_hbmem_region_free(&pool->gran.region);
	free(pool);
	return 0;
}

HBMEM_EXPORT void *hb_mem_page_alloc(hb_mem_page_pool_t *pool,
				     uint64_t npages)
{
	if (!pool || npages == 0)
		return _hbmem_null_errno(-EINVAL);
	if (npages > pool->gran.ngran)
		return _hbmem_null_errno(-ENOMEM);
	return _hbmem_gran_alloc(&pool->gran, 0,
				 (size_t)(npages << pool->gran.log2gran),
				 NULL, 0);
}

HBMEM_EXPORT int32_t hb_mem_page_free(hb_mem_page_pool_t *pool, void *page)
{
	if (!pool)
		return HB_MEM_ERR_INVALID_PARAMS;
	return _hbmem_err(_hbmem_gran_free(&pool->gran, page));
}

HBMEM_EXPORT int32_t hb_mem_page_phys(hb_mem_page_pool_t *pool,
				      const void *ptr, uint64_t *phys)
{
	const struct hbmem_region *r;

	if (!pool || !phys)
		return HB_MEM_ERR_INVALID_PARAMS;
	r = &pool->gran.region;
	if (!_hbmem_region_has(r, ptr))
		return HB_MEM_ERR_INVALID_VADDR;
	*phys = r->buf.phys_addr ? r->buf.phys_addr +
			(uint64_t)((const uint8_t *)ptr - r->base) : 0;
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_page_pool_info(hb_mem_page_pool_t *pool,
					   hb_mem_gran_info_t *info)
{
	if (!pool || !info)
		return HB_MEM_ERR_INVALID_PARAMS;
	_hbmem_gran_stats(&pool->gran, info);
	return 0;
}
