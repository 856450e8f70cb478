// SPDX-License-Identifier: MIT
/*
 * Import, share client counts, consume counts and process information.
 *
 * An import names a buffer by share id and a device-address range taken
 * from the descriptor the sender filled in; the fd and virt_addr fields of
 * that descriptor mean nothing to the receiver and are ignored. The
 * importer gets a new fd and mapping of just that range and one more
 * holder on the buffer.
 *
 * Consume counts belong to allocation units. The calls that take a buffer
 * (a descriptor, or an fd or address inside it) act on every unit of that
 * buffer: both planes of a non-contiguous NV12, every member of a group.
 * The "user consume count" calls drive the same counter from an fd; the
 * board documents no separate getter for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hbmem_internal.h"

/* ---- import ----------------------------------------------------------- */

static struct hbmem_obj *import_obj_new(enum hbmem_obj_kind kind)
{
	struct hbmem_obj *obj = calloc(1, sizeof(*obj));

	if (obj) {
		obj->kind = kind;
		obj->imported = true;
	}
	return obj;
}

/* Import a graphic buffer into the (empty) GRAPH obj @obj. */
static int import_graph(const hb_mem_graphic_buf_t *in, struct hbmem_obj *obj)
{
	hb_mem_graphic_buf_t *d = &obj->u.graph;
	uint64_t total = 0;
	int i, ret;

	if (in->plane_cnt < 1 || in->plane_cnt > MAX_GRAPHIC_BUF_COMP)
		return -EINVAL;
	for (i = 0; i < in->plane_cnt; i++) {
		if (in->size[i] == 0 ||
		    __builtin_add_overflow(total, in->size[i], &total))
			return -EINVAL;
	}
	*d = *in;
	if (in->is_contig || in->plane_cnt == 1) {
		/* one unit: planes are found by their device addresses */
		ret = _hbmem_import_unit(in->share_id[0], in->phys_addr[0],
					 total, &obj->mem[0]);
		if (ret < 0)
			return ret;
		obj->mem[0]->obj = obj;
		obj->nmem = in->plane_cnt;
		for (i = 1; i < in->plane_cnt; i++)
			obj->mem[i] = obj->mem[0];
		for (i = 0; i < in->plane_cnt; i++) {
			uint64_t poff = 0;

			if (i > 0 && in->phys_addr[i] && in->phys_addr[0])
				poff = in->phys_addr[i] - in->phys_addr[0];
			else if (i > 0)
				poff = (uint64_t)(d->virt_addr[i - 1] -
						  obj->mem[0]->vaddr) +
				       in->size[i - 1];
			if (poff > total || in->size[i] > total - poff) {
				ret = -EINVAL;
				goto err_release;
			}
			d->fd[i] = obj->mem[0]->fd;
			d->share_id[i] = in->share_id[0];
			d->virt_addr[i] = obj->mem[0]->vaddr + poff;
			d->phys_addr[i] = obj->mem[0]->phys + poff;
		}
		return 0;
	}
	for (i = 0; i < in->plane_cnt; i++) {
		ret = _hbmem_import_unit(in->share_id[i], in->phys_addr[i],
					 in->size[i], &obj->mem[i]);
		if (ret < 0)
			goto err_release;
		obj->mem[i]->obj = obj;
		obj->nmem = i + 1;
		d->fd[i] = obj->mem[i]->fd;
		d->virt_addr[i] = obj->mem[i]->vaddr;
		d->phys_addr[i] = obj->mem[i]->phys;
	}
	return 0;

err_release:
	for (i = 0; i < obj->nmem; i++) {
		if (i > 0 && obj->mem[i] == obj->mem[i - 1])
			continue;
		_hbmem_mem_release(obj->mem[i]);
	}
	obj->nmem = 0;
	return ret;
}

HBMEM_EXPORT int32_t hb_mem_import_com_buf(hb_mem_common_buf_t *buf,
					   hb_mem_common_buf_t *out_buf)
{
	struct hbmem_obj *obj;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf || !out_buf) {
		ret = -EINVAL;
		goto out;
	}
	obj = import_obj_new(HBMEM_OBJ_COM);
	if (!obj) {
		ret = -ENOMEM;
		goto out;
	}
	ret = _hbmem_import_unit(buf->share_id, buf->phys_addr, buf->size,
				 &obj->mem[0]);
	if (ret < 0) {
		free(obj);
		goto out;
	}
	obj->nmem = 1;
	obj->mem[0]->obj = obj;
	obj->u.com = *buf;
	obj->u.com.fd = obj->mem[0]->fd;
	obj->u.com.virt_addr = obj->mem[0]->vaddr;
	obj->u.com.phys_addr = obj->mem[0]->phys;
	/* a share-pool block: hold it in the pool's shared state too */
	if (buf->flags & HB_MEM_USAGE_MEM_SHARE_POOL) {
		ret = _hbmem_spool_import(obj);
		if (ret < 0) {
			_hbmem_mem_release(obj->mem[0]);
			free(obj);
			goto out;
		}
	}
	_hbmem_obj_link(obj);
	*out_buf = obj->u.com;
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_import_graph_buf(hb_mem_graphic_buf_t *buf,
					     hb_mem_graphic_buf_t *out_buf)
{
	struct hbmem_obj *obj;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf || !out_buf) {
		ret = -EINVAL;
		goto out;
	}
	obj = import_obj_new(HBMEM_OBJ_GRAPH);
	if (!obj) {
		ret = -ENOMEM;
		goto out;
	}
	ret = import_graph(buf, obj);
	if (ret < 0) {
		free(obj);
		goto out;
	}
	_hbmem_obj_link(obj);
	*out_buf = obj->u.graph;
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_import_graph_buf_group(
	hb_mem_graphic_buf_group_t *in_group,
	hb_mem_graphic_buf_group_t *out_group)
{
	struct hbmem_obj *g;
	int i, ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!in_group || !out_group || in_group->bit_map == 0 ||
	    in_group->bit_map >= (1u << HB_MEM_MAXIMUM_GRAPH_BUF)) {
		ret = -EINVAL;
		goto out;
	}
	g = import_obj_new(HBMEM_OBJ_GROUP);
	if (!g) {
		ret = -ENOMEM;
		goto out;
	}
	g->u.grp.desc.group_id = in_group->group_id;
	_hbmem_obj_link(g);
	for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++) {
		struct hbmem_obj *m;

		if (!(in_group->bit_map & (1u << i)))
			continue;
		m = import_obj_new(HBMEM_OBJ_GRAPH);
		if (!m) {
			ret = -ENOMEM;
			break;
		}
		ret = import_graph(&in_group->graph_group[i], m);
		if (ret < 0) {
			free(m);
			break;
		}
		m->group = g;
		g->u.grp.member[i] = m;
		g->u.grp.desc.graph_group[i] = m->u.graph;
		g->u.grp.desc.bit_map |= 1u << i;
	}
	if (ret < 0)
		_hbmem_obj_free(g);
	else
		*out_group = g->u.grp.desc;
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

/*
 * Map [phys, phys + size) of a live unit through a new handle from the
 * backend: the body of hb_mem_import_com_buf_with_paddr().
 */
static int import_phys(uint64_t phys, uint64_t size, struct hbmem_mem **out)
{
	uint64_t map_phys = phys & ~(uint64_t)(hbmem_page_size - 1), end;
	struct hbmem_share *sh = NULL;
	uint64_t len, hoff;
	int32_t id = 0;
	int fd, ret;

	if (__builtin_add_overflow(phys, size, &end))
		return -EINVAL;
	ret = hbmem_backend->share_import_phys(
		map_phys, hbmem_page_round(end - map_phys), &fd);
	if (ret < 0)
		return ret == -EPERM ? ret : -EINVAL;
	ret = hbmem_backend->share_info(fd, &id, &len, &hoff);
	if (ret == 0) {
		sh = _hbmem_share_find(id);
		if (!sh)
			ret = _hbmem_share_foreign(fd, id, &sh);
	}
	/* the new handle covers just the pages of the range */
	if (ret == 0)
		ret = _hbmem_mem_map(fd, sh, phys - map_phys, size, phys, out);
	if (ret == 0)
		return 0;
	close(fd);
	if (sh && !sh->holders)
		_hbmem_share_drop(sh);
	return ret;
}

HBMEM_EXPORT int32_t hb_mem_import_com_buf_with_paddr(uint64_t phys_addr,
						      uint64_t size,
						      int64_t flags,
						      hb_mem_common_buf_t *buf)
{
	struct hbmem_obj *obj;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf || !phys_addr || size == 0) {
		ret = -EINVAL;
		goto out;
	}
	if (!hbmem_backend->share_import_phys) {
		ret = -ENOTSUP;
		goto out;
	}
	obj = import_obj_new(HBMEM_OBJ_COM);
	if (!obj) {
		ret = -ENOMEM;
		goto out;
	}
	ret = import_phys(phys_addr, size, &obj->mem[0]);
	if (ret < 0) {
		free(obj);
		goto out;
	}
	obj->nmem = 1;
	obj->mem[0]->obj = obj;
	memset(&obj->u.com, 0, sizeof(obj->u.com));
	obj->u.com.fd = obj->mem[0]->fd;
	obj->u.com.share_id = obj->mem[0]->share->id;
	obj->u.com.flags = flags;
	obj->u.com.size = size;
	obj->u.com.virt_addr = obj->mem[0]->vaddr;
	obj->u.com.phys_addr = phys_addr;
	_hbmem_obj_link(obj);
	*buf = obj->u.com;
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

/* ---- counts ----------------------------------------------------------- */

/* The unit behind @fd or @addr (addr used when @by_addr). */
static int mem_of(int32_t fd, uint64_t addr, bool by_addr,
		  struct hbmem_mem **out)
{
	*out = by_addr ? _hbmem_mem_by_addr(addr) : _hbmem_mem_by_fd(fd);
	if (!*out)
		return by_addr ? -EFAULT : -EBADF;
	return 0;
}

static int32_t count_value(const struct hbmem_share *sh,
			   enum hbmem_count_kind kind)
{
	return kind == HBMEM_COUNT_CLIENTS ? sh->clients : sh->consume;
}

static int32_t get_count(int32_t fd, uint64_t addr, bool by_addr,
			 enum hbmem_count_kind kind, int32_t *out)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!out)
		ret = -EINVAL;
	else
		ret = mem_of(fd, addr, by_addr, &mem);
	if (ret == 0 && hbmem_backend->share_count)
		ret = hbmem_backend->share_count(mem->fd, kind, false, 0, 0,
						 out);
	else if (ret == 0)
		*out = count_value(mem->share, kind);
	_hbmem_leave();
	return _hbmem_err(ret);
}

/*
 * The backend's wait runs without hbmem_lock, on a duplicate of the fd so
 * that a concurrent free cannot pull the buffer from under it.
 */
static int wait_count_backend(struct hbmem_mem *mem,
			      enum hbmem_count_kind kind, int32_t target,
			      int64_t timeout)
{
	int32_t count;
	int fd, ret;

	fd = fcntl(mem->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	_hbmem_leave();
	ret = hbmem_backend->share_count(fd, kind, true, target, timeout,
					 &count);
	close(fd);
	pthread_mutex_lock(&hbmem_lock);
	return ret;
}

/*
 * Sleep until the count is at most @target. The share is looked up by id
 * on every wake: if it is gone, every holder has let go, and the count is 0.
 */
static int32_t wait_count(int32_t fd, uint64_t addr, bool by_addr,
			  enum hbmem_count_kind kind, int32_t target,
			  int64_t timeout)
{
	struct hbmem_share *sh;
	struct hbmem_mem *mem;
	struct timespec deadline;
	int32_t id;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (target < 0) {
		ret = -EINVAL;
		goto out;
	}
	ret = mem_of(fd, addr, by_addr, &mem);
	if (ret < 0)
		goto out;
	if (hbmem_backend->share_count) {
		ret = wait_count_backend(mem, kind, target, timeout);
		goto out;
	}
	id = mem->share->id;
	if (timeout > 0)
		_hbmem_deadline(timeout, &deadline);
	for (;;) {
		sh = _hbmem_share_find(id);
		if (!sh || count_value(sh, kind) <= target)
			break;
		if (timeout == 0) {
			ret = -ETIMEDOUT;
			break;
		}
		if (timeout < 0)
			ret = pthread_cond_wait(&hbmem_cond, &hbmem_lock);
		else
			ret = pthread_cond_timedwait(&hbmem_cond, &hbmem_lock,
						     &deadline);
		if (!_hbmem_is_open()) {
			ret = -ENODEV;
			break;
		}
		if (ret == ETIMEDOUT) {
			sh = _hbmem_share_find(id);
			ret = sh && count_value(sh, kind) > target ? -ETIMEDOUT
								   : 0;
			break;
		}
		ret = 0;
	}
out:
	_hbmem_leave();
	if (ret == -ETIMEDOUT)
		hbmem_debug("timed out waiting for count <= %d", target);
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_share_info(int32_t fd,
					   int32_t *share_client_cnt)
{
	return get_count(fd, 0, false, HBMEM_COUNT_CLIENTS, share_client_cnt);
}

HBMEM_EXPORT int32_t hb_mem_get_share_info_with_vaddr(uint64_t virt_addr,
						      int32_t *share_client_cnt)
{
	return get_count(-1, virt_addr, true, HBMEM_COUNT_CLIENTS, share_client_cnt);
}

HBMEM_EXPORT int32_t hb_mem_wait_share_status(int32_t fd,
					      int32_t share_client_cnt,
					      int64_t timeout)
{
	return wait_count(fd, 0, false, HBMEM_COUNT_CLIENTS, share_client_cnt,
			  timeout);
}

HBMEM_EXPORT int32_t hb_mem_wait_share_status_with_vaddr(
	uint64_t virt_addr, int32_t share_client_cnt, int64_t timeout)
{
	return wait_count(-1, virt_addr, true, HBMEM_COUNT_CLIENTS, share_client_cnt,
			  timeout);
}

HBMEM_EXPORT int32_t hb_mem_get_consume_info(int32_t fd,
					     int32_t *share_consume_cnt)
{
	return get_count(fd, 0, false, HBMEM_COUNT_CONSUME, share_consume_cnt);
}

HBMEM_EXPORT int32_t hb_mem_get_consume_info_with_vaddr(
	uint64_t virt_addr, int32_t *share_consume_cnt)
{
	return get_count(-1, virt_addr, true, HBMEM_COUNT_CONSUME, share_consume_cnt);
}

HBMEM_EXPORT int32_t hb_mem_wait_consume_status(int32_t fd,
						int32_t share_consume_cnt,
						int64_t timeout)
{
	return wait_count(fd, 0, false, HBMEM_COUNT_CONSUME, share_consume_cnt,
			  timeout);
}

HBMEM_EXPORT int32_t hb_mem_wait_consume_status_with_vaddr(
	uint64_t virt_addr, int32_t share_consume_cnt, int64_t timeout)
{
	return wait_count(-1, virt_addr, true, HBMEM_COUNT_CONSUME,
			  share_consume_cnt, timeout);
}

/* ---- consume count changes -------------------------------------------- */

/* Add @delta to the consume count of every unit of @obj (clamped at 0). */
static int obj_consume_add(struct hbmem_obj *obj, int delta)
{
	int i, ret = 0;

	if (obj->kind == HBMEM_OBJ_GROUP) {
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF && ret == 0; i++)
			if (obj->u.grp.member[i])
				ret = obj_consume_add(obj->u.grp.member[i],
						      delta);
		return ret;
	}
	for (i = 0; i < obj->nmem && ret == 0; i++) {
		struct hbmem_share *sh = obj->mem[i]->share;

		if (i > 0 && obj->mem[i] == obj->mem[i - 1])
			continue;
		if (hbmem_backend->share_consume)
			ret = hbmem_backend->share_consume(obj->mem[i]->fd,
							   delta);
		else if (delta > 0 && sh->consume < INT32_MAX)
			sh->consume++;
		else if (delta < 0 && sh->consume > 0)
			sh->consume--;
	}
	pthread_cond_broadcast(&hbmem_cond);
	return ret;
}

/*
 * The object a caller's descriptor names: found by its fd, which must
 * still be the buffer with that share id (a stale descriptor is refused).
 */
static int obj_of_desc(int32_t fd, int32_t share_id, enum hbmem_obj_kind kind,
		       struct hbmem_obj **out)
{
	struct hbmem_mem *mem = _hbmem_mem_by_fd(fd);

	if (!mem || mem->obj->kind != kind || mem->share->id != share_id)
		return -EBADF;
	*out = mem->obj;
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_inc_com_buf_consume_cnt(hb_mem_common_buf_t *buf)
{
	struct hbmem_obj *obj;
	int ret = _hbmem_enter();

	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf)
		ret = -EINVAL;
	else
		ret = obj_of_desc(buf->fd, buf->share_id, HBMEM_OBJ_COM, &obj);
	if (ret == -EBADF && buf)
		ret = obj_of_desc(buf->fd, buf->share_id, HBMEM_OBJ_POOL, &obj);
	if (ret == 0)
		ret = obj_consume_add(obj, 1);
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_inc_graph_buf_consume_cnt(hb_mem_graphic_buf_t *buf)
{
	struct hbmem_obj *obj;
	int ret = _hbmem_enter();

	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf)
		ret = -EINVAL;
	else
		ret = obj_of_desc(buf->fd[0], buf->share_id[0], HBMEM_OBJ_GRAPH,
				  &obj);
	if (ret == 0)
		ret = obj_consume_add(obj, 1);
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_inc_graph_buf_group_consume_cnt(
	hb_mem_graphic_buf_group_t *buf_group)
{
	struct hbmem_obj *obj = NULL;
	int i, ret = _hbmem_enter();

	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf_group || !buf_group->bit_map ||
	    buf_group->bit_map >= (1u << HB_MEM_MAXIMUM_GRAPH_BUF)) {
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++) {
		const hb_mem_graphic_buf_t *m = &buf_group->graph_group[i];

		if (!(buf_group->bit_map & (1u << i)))
			continue;
		ret = obj_of_desc(m->fd[0], m->share_id[0], HBMEM_OBJ_GRAPH,
				  &obj);
		break;
	}
	if (ret == 0 && (!obj || !obj->group))
		ret = -EBADF;
	if (ret == 0)
		ret = obj_consume_add(obj->group, 1);
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

/*
 * Change the consume count of the buffer behind @fd / @addr. @user: the
 * user-consume variant, which groups and pools do not support.
 */
static int32_t consume_change(int32_t fd, uint64_t addr, bool by_addr,
			      int delta, bool user)
{
	struct hbmem_mem *mem;
	struct hbmem_obj *top;
	int ret = _hbmem_enter();

	if (ret < 0)
		return _hbmem_err(ret);
	mem = by_addr ? _hbmem_mem_by_addr(addr) : _hbmem_mem_by_fd(fd);
	if (!mem) {
		ret = by_addr ? -EFAULT : -EBADF;
		goto out;
	}
	top = _hbmem_obj_top(mem);
	if (user && (top->kind == HBMEM_OBJ_GROUP ||
		     top->kind == HBMEM_OBJ_POOL ||
		     /* share pools (sharepool.c): the pool, imported blocks */
		     top->kind == HBMEM_OBJ_SHARE_POOL ||
		     (top->kind == HBMEM_OBJ_COM &&
		      (top->u.com.flags & HB_MEM_USAGE_MEM_SHARE_POOL)))) {
		ret = by_addr ? -EFAULT : -EBADF;
		goto out;
	}
	ret = obj_consume_add(top, delta);
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_dec_consume_cnt(int32_t fd)
{
	return consume_change(fd, 0, false, -1, false);
}

HBMEM_EXPORT int32_t hb_mem_dec_consume_cnt_with_vaddr(uint64_t virt_addr)
{
	return consume_change(-1, virt_addr, true, -1, false);
}

HBMEM_EXPORT int32_t hb_mem_inc_user_consume_cnt(int32_t hb_fd)
{
	return consume_change(hb_fd, 0, false, 1, true);
}

HBMEM_EXPORT int32_t hb_mem_dec_user_consume_cnt(int32_t hb_fd)
{
	return consume_change(hb_fd, 0, false, -1, true);
}

HBMEM_EXPORT int32_t hb_mem_inc_user_consume_cnt_with_vaddr(uint64_t virt_addr)
{
	return consume_change(-1, virt_addr, true, 1, true);
}

HBMEM_EXPORT int32_t hb_mem_dec_user_consume_cnt_with_vaddr(uint64_t virt_addr)
{
	return consume_change(-1, virt_addr, true, -1, true);
}

/* ---- process information ---------------------------------------------- */

/*
 * Fill the holder (or consumer) pids of unit @id. Without global sharing
 * that is this process whenever the buffer has a holder (a raised consume
 * count). With the kernel driver the holders come from the driver, which
 * does not track consumers per process: the consumer query is refused.
 */
static int process_info(int32_t id, bool consumers, int32_t *pid,
			int32_t *cnt, int32_t num, int32_t *ret_num)
{
	struct hbmem_share *sh;
	int32_t n;
	int ret;

	if (num < 0 || !ret_num || (num > 0 && !pid) ||
	    (consumers && num > 0 && !cnt))
		return -EINVAL;
	if (consumers && hbmem_backend->share_cons_pids) {
		ret = hbmem_backend->share_cons_pids(id, pid, cnt, num,
						     ret_num);
		return ret == -ENOENT ? -EINVAL : ret;
	}
	if (hbmem_backend->share_pids) {
		int32_t total;

		ret = consumers ? hbmem_backend->share_pids(id, NULL, 0, &total)
				: hbmem_backend->share_pids(id, pid, num, ret_num);
		if (ret == -ENOENT)
			return -EINVAL;
		return consumers && ret == 0 ? -ENOTSUP : ret;
	}
	sh = _hbmem_share_find(id);
	if (!sh)
		return -EINVAL;
	n = consumers ? sh->consume > 0 : sh->clients > 0;
	if (n && num > 0) {
		pid[0] = (int32_t)getpid();
		if (consumers)
			cnt[0] = sh->consume;
	}
	*ret_num = n;
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_get_buffer_process_info(uint64_t virt_addr,
						    int32_t *pid, int32_t num,
						    int32_t *ret_num)
{
	struct hbmem_mem *mem;
	int ret = _hbmem_enter();

	if (ret < 0)
		return _hbmem_err(ret);
	ret = mem_of(-1, virt_addr, true, &mem);
	if (ret == 0)
		ret = process_info(mem->share->id, false, pid, NULL, num,
				   ret_num);
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_buffer_process_info_with_share_id(
	int32_t share_id, int32_t *pid, int32_t num, int32_t *ret_num)
{
	int ret = _hbmem_enter();

	if (ret < 0)
		return _hbmem_err(ret);
	ret = share_id > 0 ? process_info(share_id, false, pid, NULL, num,
					  ret_num)
			   : -EINVAL;
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_buffer_process_cons_info_with_share_id(
	int32_t share_id, int32_t *hb_pid, int32_t *cnt, int32_t num,
	int32_t *ret_num)
{
	int ret = _hbmem_enter();

	if (ret < 0)
		return _hbmem_err(ret);
	ret = share_id > 0 ? process_info(share_id, true, hb_pid, cnt, num,
					  ret_num)
			   : -EINVAL;
	_hbmem_leave();
	return _hbmem_err(ret);
}
