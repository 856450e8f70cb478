// SPDX-License-Identifier: MIT
/*
 * Lookups by address: descriptors, buffer kinds and views, buffer info,
 * validity and physical addresses.
 */
#include <errno.h>
#include <string.h>

#include "hbmem_internal.h"

/* Find the mem containing @addr under the lock, or -EFAULT. */
static int mem_at(uint64_t addr, struct hbmem_mem **out)
{
	*out = _hbmem_mem_by_addr(addr);
	return *out ? 0 : -EFAULT;
}

/* A common-buffer view of @obj; -EINVAL for a non-contiguous image. */
static int com_view(const struct hbmem_obj *obj, hb_mem_common_buf_t *out)
{
	const hb_mem_graphic_buf_t *g = &obj->u.graph;
	int i;

	if (obj->kind == HBMEM_OBJ_COM || obj->kind == HBMEM_OBJ_POOL ||
	    obj->kind == HBMEM_OBJ_SHARE_POOL) {
		*out = obj->u.com;
		return 0;
	}
	if (!g->is_contig && g->plane_cnt > 1)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->fd = g->fd[0];
	out->share_id = g->share_id[0];
	out->flags = g->flags;
	for (i = 0; i < g->plane_cnt; i++)
		out->size += g->size[i];
	out->virt_addr = g->virt_addr[0];
	out->phys_addr = g->phys_addr[0];
	out->offset = g->offset[0];
	return 0;
}

/* A one-plane graphic view of a common buffer. */
static void graph_view(const hb_mem_common_buf_t *c, hb_mem_graphic_buf_t *out)
{
	memset(out, 0, sizeof(*out));
	out->fd[0] = c->fd;
	out->plane_cnt = 1;
	out->format = MEM_PIX_FMT_NONE;
	out->is_contig = 1;
	out->share_id[0] = c->share_id;
	out->flags = c->flags;
	out->size[0] = c->size;
	out->virt_addr[0] = c->virt_addr;
	out->phys_addr[0] = c->phys_addr;
	out->offset[0] = c->offset;
}

static hb_mem_buffer_type_t obj_type(const struct hbmem_obj *obj)
{
	if (obj->group)
		return HB_MEM_BUFFER_TYPE_GRAPHIC_GROUP;
	return obj->kind == HBMEM_OBJ_GRAPH ? HB_MEM_BUFFER_TYPE_GRAPHIC
					    : HB_MEM_BUFFER_TYPE_COMMON;
}

/*
 * The common descriptor for @addr in @mem: a pool's live sub-allocation
 * when @addr is in one, else the buffer itself.
 */
static int com_at(struct hbmem_mem *mem, uint64_t addr, hb_mem_common_buf_t *out)
{
	if (mem->obj->kind == HBMEM_OBJ_POOL &&
	    _hbmem_pool_find_buf(mem->obj, addr, out) == 0)
		return 0;
	return com_view(mem->obj, out);
}

HBMEM_EXPORT int32_t hb_mem_get_com_buf_with_vaddr(uint64_t virt_addr,
						   hb_mem_common_buf_t *buf)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf)
		ret = -EINVAL;
	else
		ret = mem_at(virt_addr, &mem);
	if (ret == 0) {
		if (mem->obj->kind == HBMEM_OBJ_GRAPH)
			ret = -EFAULT;
		else
			ret = com_at(mem, virt_addr, buf);
	}
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_graph_buf_with_vaddr(uint64_t virt_addr,
						     hb_mem_graphic_buf_t *buf)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf)
		ret = -EINVAL;
	else
		ret = mem_at(virt_addr, &mem);
	if (ret == 0) {
		if (mem->obj->kind != HBMEM_OBJ_GRAPH)
			ret = -EFAULT;
		else
			*buf = mem->obj->u.graph;
	}
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_graph_buf_group_with_vaddr(
	uint64_t virt_addr, hb_mem_graphic_buf_group_t *buf_group)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf_group)
		ret = -EINVAL;
	else
		ret = mem_at(virt_addr, &mem);
	if (ret == 0) {
		if (!mem->obj->group)
			ret = -EFAULT;
		else
			*buf_group = mem->obj->group->u.grp.desc;
	}
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_buf_type_with_vaddr(uint64_t virt_addr,
						    hb_mem_buffer_type_t *type)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!type)
		ret = -EINVAL;
	else
		ret = mem_at(virt_addr, &mem);
	if (ret == 0)
		*type = obj_type(mem->obj);
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_buf_type_and_buf_with_vaddr(
	uint64_t virt_addr, hb_mem_buffer_type_t *type,
	hb_mem_common_buf_t *com_buf, hb_mem_graphic_buf_t *graph_buf)
{
	hb_mem_common_buf_t c;
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!type || (!com_buf && !graph_buf))
		ret = -EINVAL;
	else
		ret = mem_at(virt_addr, &mem);
	if (ret < 0)
		goto out;
	if (mem->obj->kind == HBMEM_OBJ_GRAPH) {
		if (com_buf)
			ret = com_view(mem->obj, &c);
		if (ret < 0)
			goto out;
		if (com_buf)
			*com_buf = c;
		if (graph_buf)
			*graph_buf = mem->obj->u.graph;
	} else {
		ret = com_at(mem, virt_addr, &c);
		if (ret < 0)
			goto out;
		if (com_buf)
			*com_buf = c;
		if (graph_buf)
			graph_view(&c, graph_buf);
	}
	*type = obj_type(mem->obj);
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_buf_and_type_with_vaddr(
	uint64_t virt_addr, hb_mem_buffer_type_t *type,
	hb_mem_common_buf_t *com_buf, hb_mem_graphic_buf_t *graph_buf,
	hb_mem_graphic_buf_group_t *graph_group)
{
	struct hbmem_mem *mem;
	struct hbmem_obj *obj;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!type)
		ret = -EINVAL;
	else
		ret = mem_at(virt_addr, &mem);
	if (ret < 0)
		goto out;
	obj = mem->obj;
	switch (obj_type(obj)) {
	case HB_MEM_BUFFER_TYPE_COMMON:
		ret = com_buf ? com_at(mem, virt_addr, com_buf) : -EINVAL;
		break;
	case HB_MEM_BUFFER_TYPE_GRAPHIC:
		if (graph_buf)
			*graph_buf = obj->u.graph;
		else
			ret = -EINVAL;
		break;
	default:
		if (!graph_group) {
			ret = -EINVAL;
			break;
		}
		*graph_group = obj->group->u.grp.desc;
		if (graph_buf)
			*graph_buf = obj->u.graph;
		break;
	}
	if (ret == 0)
		*type = obj_type(obj);
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_buf_info(uint64_t virt_addr, uint64_t *start,
					 uint64_t *size, int64_t *flags)
{
	hb_mem_common_buf_t c;
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!start || !size || !flags)
		ret = -EINVAL;
	else
		ret = mem_at(virt_addr, &mem);
	if (ret < 0)
		goto out;
	if (mem->obj->kind == HBMEM_OBJ_POOL &&
	    _hbmem_pool_find_buf(mem->obj, virt_addr, &c) == 0) {
		*start = (uint64_t)(uintptr_t)c.virt_addr;
		*size = c.size;
		*flags = c.flags;
	} else {
		*start = (uint64_t)(uintptr_t)mem->vaddr;
		*size = mem->size;
		*flags = mem->obj->kind == HBMEM_OBJ_GRAPH
				 ? mem->obj->u.graph.flags
				 : mem->obj->u.com.flags;
	}
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_is_valid_buf(uint64_t virt_addr, uint64_t size,
					 int32_t *valid)
{
	struct hbmem_mem *mem;
	uint64_t end;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!valid || size == 0 || __builtin_add_overflow(virt_addr, size, &end)) {
		ret = -EINVAL;
		goto out;
	}
	mem = _hbmem_mem_by_addr(virt_addr);
	*valid = mem && end - (uint64_t)(uintptr_t)mem->vaddr <= mem->size;
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_phys_addr(uint64_t virt_addr,
					  uint64_t *phys_addr)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!phys_addr)
		ret = -EINVAL;
	else
		ret = mem_at(virt_addr, &mem);
	if (ret == 0) {
		if (!hbmem_backend->phys || !mem->phys ||
		    _hbmem_phys_is_synthetic(mem->phys))
			ret = -EPERM;
		else
			*phys_addr = mem->phys + (virt_addr -
					(uint64_t)(uintptr_t)mem->vaddr);
	}
	_hbmem_leave();
	return _hbmem_err(ret);
}
