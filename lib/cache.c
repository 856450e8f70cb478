// SPDX-License-Identifier: MIT
/*
 * Cache maintenance and copies.
 *
 * flush = the CPU has written, a device will read: DMA_BUF_SYNC_END|WRITE.
 * invalidate = a device has written, the CPU will read: SYNC_START|READ.
 * On real dma-bufs these reach the exporter's begin/end_cpu_access. On a
 * coherent backend (memfd) the range is checked and nothing else is
 * needed. On an uncached buffer the board only warns, and so do we.
 */
#include <errno.h>
#include <string.h>

#include "hbmem_internal.h"

static int64_t mem_flags(const struct hbmem_mem *mem)
{
	return mem->obj->kind == HBMEM_OBJ_GRAPH ? mem->obj->u.graph.flags
						 : mem->obj->u.com.flags;
}

/* Check [off, off + size) against @mem, then sync. hbmem_lock held. */
static int mem_sync(struct hbmem_mem *mem, uint64_t off, uint64_t size,
		    uint32_t how, const char *what)
{
	uint64_t end;

	if (size == 0 || __builtin_add_overflow(off, size, &end) ||
	    end > mem->size)
		return -EINVAL;
	if (!(mem_flags(mem) & HB_MEM_USAGE_CACHED)) {
		hbmem_warn("fd %d: no need to %s an uncached buffer", mem->fd,
			   what);
		return 0;
	}
	if (!hbmem_backend->sync)
		return 0;
	return hbmem_backend->sync(mem->fd, how);
}

static int32_t sync_by_fd(int32_t fd, uint64_t off, uint64_t size,
			  uint32_t how, const char *what)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	mem = _hbmem_mem_by_fd(fd);
	ret = mem ? mem_sync(mem, off, size, how, what) : -EBADF;
	_hbmem_leave();
	return _hbmem_err(ret);
}

static int32_t sync_by_addr(uint64_t addr, uint64_t size, uint32_t how,
			    const char *what)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	mem = _hbmem_mem_by_addr(addr);
	ret = mem ? mem_sync(mem, addr - (uint64_t)(uintptr_t)mem->vaddr, size,
			     how, what)
		  : -EFAULT;
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_flush_buf(int32_t fd, uint64_t offset,
				      uint64_t size)
{
	return sync_by_fd(fd, offset, size, HBMEM_SYNC_END | HBMEM_SYNC_WRITE,
			  "flush");
}

HBMEM_EXPORT int32_t hb_mem_invalidate_buf(int32_t fd, uint64_t offset,
					   uint64_t size)
{
	return sync_by_fd(fd, offset, size, HBMEM_SYNC_START | HBMEM_SYNC_READ,
			  "invalidate");
}

HBMEM_EXPORT int32_t hb_mem_flush_buf_with_vaddr(uint64_t virt_addr,
						 uint64_t size)
{
	return sync_by_addr(virt_addr, size, HBMEM_SYNC_END | HBMEM_SYNC_WRITE,
			    "flush");
}

HBMEM_EXPORT int32_t hb_mem_invalidate_buf_with_vaddr(uint64_t virt_addr,
						      uint64_t size)
{
	return sync_by_addr(virt_addr, size,
			    HBMEM_SYNC_START | HBMEM_SYNC_READ, "invalidate");
}

/* -EINVAL if @addr is in an hbmem buffer that does not hold @size bytes. */
static int range_check(uint64_t addr, uint64_t size, bool *known)
{
	struct hbmem_mem *mem = _hbmem_mem_by_addr(addr);

	*known = mem != NULL;
	if (mem && size > mem->size - (addr - (uint64_t)(uintptr_t)mem->vaddr))
		return -EINVAL;
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_dma_copy(uint64_t dst_vaddr, uint64_t src_vaddr,
				     uint64_t size)
{
	bool dst_known, src_known;
	uint64_t end;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!dst_vaddr || !src_vaddr || size == 0 ||
	    __builtin_add_overflow(dst_vaddr, size, &end) ||
	    __builtin_add_overflow(src_vaddr, size, &end)) {
		ret = -EINVAL;
		goto out;
	}
	ret = range_check(dst_vaddr, size, &dst_known);
	if (ret == 0)
		ret = range_check(src_vaddr, size, &src_known);
	/* with neither end ours, there is nothing to vouch for the pointers */
	if (ret == 0 && !dst_known && !src_known)
		ret = -EFAULT;
out:
	_hbmem_leave();
	if (ret == 0)
		memmove((void *)(uintptr_t)dst_vaddr,
			(const void *)(uintptr_t)src_vaddr, size);
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_heap_size(uint64_t flag, uint64_t *size)
{
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!size)
		ret = -EINVAL;
	else
		*size = _hbmem_heap_for_flags((int64_t)flag)->capacity;
	_hbmem_leave();
	return _hbmem_err(ret);
}
