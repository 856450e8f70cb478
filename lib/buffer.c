// SPDX-License-Identifier: MIT
/*
 * Buffers: allocation of common and graphic buffers and groups, lookup by
 * fd or address, free, and the type/view calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hbmem_internal.h"
#include "hb_mem_alloc.h"
#include "alloc/debug.h"

/* Group ids, like share ids, come round cyclically. */
static int32_t next_group_id = 1;

/*
 * The bits that mark pool and share-pool buffers are the library's to set:
 * on a plain allocation the vendor ignores them, and so do we (kept, the
 * share-pool mark would make an import of the buffer look for a pool).
 */
#define POOL_MARKS (HB_MEM_USAGE_MEM_POOL | HB_MEM_USAGE_MEM_SHARE_POOL)

struct backend_alloc {
	uint64_t len;
	bool cached;
	const char *label;
	int fd;
};

static int backend_alloc_on(struct hbmem_heap *heap, void *arg)
{
	struct backend_alloc *a = arg;
	int ret = hbmem_backend->alloc(heap, a->len, a->cached, a->label,
				       &a->fd);

	if (ret < 0)
		hbmem_debug("%s: %s allocation of %llu bytes failed: %s",
			    heap->name, hbmem_backend->name,
			    (unsigned long long)a->len, strerror(-ret));
	return ret == -ENOSPC || ret == -EFBIG ? -ENOMEM : ret;
}

/*
 * Get @len bytes from the first heap of @flags' chain that has room, both
 * in our accounting and in the backend (a kernel heap can be full because
 * of other processes). The fd is the caller's.
 */
static int mem_backend_alloc(uint64_t len, int64_t flags, const char *label,
			     struct hbmem_heap **heap_out, int *fd)
{
	struct backend_alloc a = {
		.len = len,
		.cached = (flags & HB_MEM_USAGE_CACHED) != 0,
		.label = label,
		.fd = -1,
	};
	int ret = _hbmem_heap_alloc(flags, len, backend_alloc_on, &a, heap_out);

	if (ret == 0)
		*fd = a.fd;
	return ret;
}

int _hbmem_mem_alloc(uint64_t len, int64_t flags, const char *label,
		     struct hbmem_mem **out)
{
	uint64_t alloc_len = hbmem_page_round(len);
	struct hbmem_heap *heap = NULL;
	struct hbmem_share *sh;
	struct hbmem_mem *mem;
	void *map;
	int fd = -1, ret;

	if (len == 0)
		return -EINVAL;
	if (alloc_len < len || alloc_len > SIZE_MAX)
		return -ENOMEM;
	ret = mem_backend_alloc(alloc_len, flags, label, &heap, &fd);
	if (ret < 0)
		return ret;
	map = mmap(NULL, alloc_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		hbmem_err_log("fd %d: mmap of %llu bytes failed: %s", fd,
			      (unsigned long long)alloc_len, strerror(errno));
		goto err_close;
	}
	mem = calloc(1, sizeof(*mem));
	if (!mem) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	mem->fd = fd;
	mem->map = map;
	mem->map_len = alloc_len;
	mem->vaddr = map;
	mem->size = len;
	ret = _hbmem_registry_add(mem);
	if (ret < 0)
		goto err_free_mem;
	ret = _hbmem_share_new(fd, len, heap, alloc_len, &sh);
	if (ret < 0)
		goto err_unregister;
	/* from here on the share owns the heap charge */
	mem->phys = sh->phys;
	_hbmem_share_attach(sh, mem);
	*out = mem;
	return 0;

err_unregister:
	_hbmem_registry_remove(mem);
err_free_mem:
	free(mem);
err_unmap:
	munmap(map, alloc_len);
err_close:
	close(fd);
	_hbmem_heap_unreserve(heap, alloc_len);
	return ret;
}

/* Close an import's fd that never became a mem, dropping its hold. */
static void import_fd_close(int fd)
{
	if (hbmem_backend->share_put)
		hbmem_backend->share_put(fd);
	close(fd);
}

/*
 * A new fd on unit @id, and its share: through the backend when sharing is
 * global, else a duplicate of a local holder's fd.
 */
static int import_fd(int32_t id, struct hbmem_share **sh_out, int *fd_out)
{
	struct hbmem_share *sh = _hbmem_share_find(id);
	int fd, ret;

	if (!hbmem_backend->share_import) {
		if (!sh || !sh->holders)
			return -EINVAL;
		fd = fcntl(sh->holders->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		*sh_out = sh;
		*fd_out = fd;
		return 0;
	}
	ret = hbmem_backend->share_import(id, 0, 0, &fd);
	if (ret < 0)
		return ret == -ENOENT ? -EINVAL : ret;
	if (!sh) {
		ret = _hbmem_share_foreign(fd, id, &sh);
		if (ret < 0) {
			import_fd_close(fd);
			return ret;
		}
	}
	*sh_out = sh;
	*fd_out = fd;
	return 0;
}

int _hbmem_mem_map(int fd, struct hbmem_share *sh, uint64_t fd_off,
		   uint64_t len, uint64_t phys, struct hbmem_mem **out)
{
	uint64_t map_off = fd_off & ~(uint64_t)(hbmem_page_size - 1);
	uint64_t map_len = hbmem_page_round(fd_off + len - map_off);
	struct hbmem_mem *mem;
	uint8_t *map;
	int ret;

	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)map_off);
	if (map == MAP_FAILED) {
		ret = -errno;
		hbmem_err_log("fd %d: mmap for import failed: %s", fd,
			      strerror(errno));
		return ret;
	}
	mem = calloc(1, sizeof(*mem));
	if (!mem) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	mem->fd = fd;
	mem->map = map;
	mem->map_len = map_len;
	mem->vaddr = map + (fd_off - map_off);
	mem->size = len;
	mem->phys = phys;
	ret = _hbmem_registry_add(mem);
	if (ret < 0)
		goto err_free_mem;
	_hbmem_share_attach(sh, mem);
	*out = mem;
	return 0;

err_free_mem:
	free(mem);
err_unmap:
	munmap(map, map_len);
	return ret;
}

int _hbmem_import_unit(int32_t id, uint64_t phys, uint64_t len,
		       struct hbmem_mem **out)
{
	struct hbmem_share *sh = NULL;
	uint64_t off = 0, end = 0;
	int fd = -1, ret;

	if (id <= 0 || len == 0)
		return -EINVAL;
	ret = import_fd(id, &sh, &fd);
	if (ret < 0)
		return ret;
	/* where the range starts: device addresses add up like real ones */
	if (phys && phys >= sh->phys)
		off = phys - sh->phys;
	else if (phys)
		ret = -EINVAL;
	if (ret == 0 && (__builtin_add_overflow(off, len, &end) || end > sh->len))
		ret = -EINVAL;
	if (ret == 0)
		ret = _hbmem_mem_map(fd, sh, off, len, sh->phys + off, out);
	if (ret == 0)
		return 0;
	import_fd_close(fd);
	if (!sh->holders)
		_hbmem_share_drop(sh);	/* a foreign share we just made */
	return ret;
}

void _hbmem_mem_release(struct hbmem_mem *mem)
{
	_hbmem_registry_remove(mem);
	munmap(mem->map, mem->map_len);
	if (hbmem_backend->share_put)
		hbmem_backend->share_put(mem->fd);
	close(mem->fd);
	if (mem->share)
		_hbmem_share_detach(mem->share, mem);
	free(mem);
}

void _hbmem_obj_free(struct hbmem_obj *obj)
{
	int i;

	if (obj->group)
		obj = obj->group;
	/* share pool: its backing unit, or an imported block (sharepool.c) */
	if (obj->kind == HBMEM_OBJ_SHARE_POOL || obj->kind == HBMEM_OBJ_COM)
		_hbmem_spool_obj_free(obj);
	if (obj->kind == HBMEM_OBJ_GROUP) {
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++) {
			struct hbmem_obj *m = obj->u.grp.member[i];

			if (!m)
				continue;
			m->group = NULL;
			_hbmem_obj_free(m);
		}
	}
	if (!obj->imported && obj->kind == HBMEM_OBJ_COM)
		_hbmem_dbg_on_free(HBMEM_DBG_COM, obj->u.com.virt_addr);
	else if (!obj->imported && obj->kind == HBMEM_OBJ_GRAPH)
		_hbmem_dbg_on_free(HBMEM_DBG_GRAPH, obj->u.graph.virt_addr[0]);
	for (i = 0; i < obj->nmem; i++) {
		/* contiguous planes share one mem: release it once */
		if (i > 0 && obj->mem[i] == obj->mem[i - 1])
			continue;
		_hbmem_mem_release(obj->mem[i]);
	}
	_hbmem_obj_unlink(obj);
	free(obj);
}

static struct hbmem_obj *obj_new(enum hbmem_obj_kind kind)
{
	struct hbmem_obj *obj = calloc(1, sizeof(*obj));

	if (obj)
		obj->kind = kind;
	return obj;
}

/* The descriptor of a single-mem common buffer. */
void _hbmem_com_desc_fill(hb_mem_common_buf_t *d, const struct hbmem_mem *mem,
			  int64_t flags)
{
	memset(d, 0, sizeof(*d));
	d->fd = mem->fd;
	d->share_id = mem->share->id;
	d->flags = flags;
	d->size = mem->size;
	d->virt_addr = mem->vaddr;
	d->phys_addr = mem->phys;
}

/* ---- common buffers --------------------------------------------------- */

/* hb_mem_alloc_com_buf(), telling the debug hooks the caller's site. */
static int32_t com_alloc(uint64_t size, int64_t flags, hb_mem_common_buf_t *buf,
			 const char *file, int line)
{
	struct hbmem_obj *obj;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf || size == 0) {
		ret = -EINVAL;
		goto out;
	}
	obj = obj_new(HBMEM_OBJ_COM);
	if (!obj) {
		ret = -ENOMEM;
		goto out;
	}
	flags &= ~(int64_t)POOL_MARKS;
	ret = _hbmem_mem_alloc(size, flags, "com", &obj->mem[0]);
	if (ret < 0) {
		free(obj);
		goto out;
	}
	obj->nmem = 1;
	obj->mem[0]->obj = obj;
	_hbmem_com_desc_fill(&obj->u.com, obj->mem[0], flags);
	_hbmem_obj_link(obj);
	*buf = obj->u.com;
	_hbmem_dbg_on_alloc(HBMEM_DBG_COM, buf->virt_addr, size, file, line);
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_alloc_com_buf(uint64_t size, int64_t flags,
					  hb_mem_common_buf_t *buf)
{
	return com_alloc(size, flags, buf, NULL, 0);
}

HBMEM_EXPORT int32_t hb_mem_alloc_com_buf_at(uint64_t size, int64_t flags,
					     hb_mem_common_buf_t *buf,
					     const char *file, int line)
{
	return com_alloc(size, flags, buf, file, line);
}

HBMEM_EXPORT int32_t hb_mem_get_com_buf(int32_t fd, hb_mem_common_buf_t *buf)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf) {
		ret = -EINVAL;
		goto out;
	}
	mem = _hbmem_mem_by_fd(fd);
	if (!mem || (mem->obj->kind != HBMEM_OBJ_COM &&
		     mem->obj->kind != HBMEM_OBJ_POOL)) {
		ret = -EBADF;
		goto out;
	}
	*buf = mem->obj->u.com;
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

/* ---- graphic buffers -------------------------------------------------- */

/* Allocate the planes of @obj (a GRAPH obj) and fill its descriptor. */
static int graph_alloc(struct hbmem_obj *obj, int32_t w, int32_t h,
		       int32_t format, int64_t flags, int32_t stride,
		       int32_t vstride, const char *label)
{
	hb_mem_graphic_buf_t *d = &obj->u.graph;
	struct hbmem_plane_layout l;
	bool contig;
	int i, ret;

	ret = _hbmem_format_layout(format, w, h, stride, vstride, &l);
	if (ret < 0)
		return ret;
	flags &= ~(int64_t)POOL_MARKS;
	contig = l.planes == 1 || (flags & HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF);
	memset(d, 0, sizeof(*d));
	if (contig) {
		ret = _hbmem_mem_alloc(l.total, flags, label, &obj->mem[0]);
		if (ret < 0)
			return ret;
		obj->mem[0]->obj = obj;
		for (i = 1; i < l.planes; i++)
			obj->mem[i] = obj->mem[0];
		obj->nmem = l.planes;
	} else {
		for (i = 0; i < l.planes; i++) {
			ret = _hbmem_mem_alloc(l.size[i], flags, label,
					       &obj->mem[i]);
			if (ret < 0)
				goto err_release;
			obj->mem[i]->obj = obj;
			obj->nmem = i + 1;
		}
	}
	for (i = 0; i < l.planes; i++) {
		struct hbmem_mem *m = obj->mem[i];
		uint64_t off = contig ? l.offset[i] : 0;

		d->fd[i] = m->fd;
		d->share_id[i] = m->share->id;
		d->size[i] = l.size[i];
		d->virt_addr[i] = m->vaddr + off;
		d->phys_addr[i] = m->phys + off;
	}
	d->plane_cnt = l.planes;
	d->format = format;
	d->width = w;
	d->height = h;
	d->stride = stride;
	d->vstride = vstride;
	d->is_contig = contig;
	d->flags = flags;
	return 0;

err_release:
	for (i = 0; i < obj->nmem; i++)
		_hbmem_mem_release(obj->mem[i]);
	obj->nmem = 0;
	return ret;
}

/* hb_mem_alloc_graph_buf(), telling the debug hooks the caller's site. */
static int32_t graph_alloc_api(int32_t w, int32_t h, int32_t format,
			       int64_t flags, int32_t stride, int32_t vstride,
			       hb_mem_graphic_buf_t *buf, const char *file,
			       int line)
{
	struct hbmem_obj *obj;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf) {
		ret = -EINVAL;
		goto out;
	}
	obj = obj_new(HBMEM_OBJ_GRAPH);
	if (!obj) {
		ret = -ENOMEM;
		goto out;
	}
	ret = graph_alloc(obj, w, h, format, flags, stride, vstride, "graph");
	if (ret < 0) {
		free(obj);
		goto out;
	}
	_hbmem_obj_link(obj);
	*buf = obj->u.graph;
	_hbmem_dbg_on_alloc(HBMEM_DBG_GRAPH, buf->virt_addr[0], buf->size[0],
			    file, line);
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_alloc_graph_buf(int32_t w, int32_t h,
					    int32_t format, int64_t flags,
					    int32_t stride, int32_t vstride,
					    hb_mem_graphic_buf_t *buf)
{
	return graph_alloc_api(w, h, format, flags, stride, vstride, buf, NULL,
			       0);
}

HBMEM_EXPORT int32_t hb_mem_alloc_graph_buf_at(int32_t w, int32_t h,
					       int32_t format, int64_t flags,
					       int32_t stride, int32_t vstride,
					       hb_mem_graphic_buf_t *buf,
					       const char *file, int line)
{
	return graph_alloc_api(w, h, format, flags, stride, vstride, buf, file,
			       line);
}

HBMEM_EXPORT int32_t hb_mem_get_graph_buf(int32_t fd, hb_mem_graphic_buf_t *buf)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf) {
		ret = -EINVAL;
		goto out;
	}
	mem = _hbmem_mem_by_fd(fd);
	if (!mem || mem->obj->kind != HBMEM_OBJ_GRAPH) {
		ret = -EBADF;
		goto out;
	}
	*buf = mem->obj->u.graph;
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

/* ---- groups ----------------------------------------------------------- */

static struct hbmem_obj *group_new(void)
{
	struct hbmem_obj *g = obj_new(HBMEM_OBJ_GROUP);

	if (g) {
		g->u.grp.desc.group_id = next_group_id;
		next_group_id = next_group_id == INT32_MAX ? 1 : next_group_id + 1;
	}
	return g;
}

/* Put member @m at slot @i of group @g. */
static void group_set(struct hbmem_obj *g, int i, struct hbmem_obj *m)
{
	m->group = g;
	g->u.grp.member[i] = m;
	g->u.grp.desc.graph_group[i] = m->u.graph;
	g->u.grp.desc.bit_map |= 1u << i;
}

HBMEM_EXPORT int32_t hb_mem_alloc_graph_buf_group(
	int32_t *w, int32_t *h, int32_t *format, int64_t *flags,
	int32_t *stride, int32_t *vstride,
	hb_mem_graphic_buf_group_t *buf_group, uint32_t bitmap)
{
	struct hbmem_obj *g;
	int i, ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!w || !h || !format || !flags || !stride || !vstride ||
	    !buf_group || bitmap == 0 ||
	    bitmap >= (1u << HB_MEM_MAXIMUM_GRAPH_BUF)) {
		ret = -EINVAL;
		goto out;
	}
	g = group_new();
	if (!g) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++) {
		struct hbmem_obj *m;

		if (!(bitmap & (1u << i)))
			continue;
		m = obj_new(HBMEM_OBJ_GRAPH);
		if (!m) {
			ret = -ENOMEM;
			goto err_free_group;
		}
		ret = graph_alloc(m, w[i], h[i], format[i], flags[i],
				  stride[i], vstride[i], "group");
		if (ret < 0) {
			free(m);
			goto err_free_group;
		}
		group_set(g, i, m);
	}
	_hbmem_obj_link(g);
	*buf_group = g->u.grp.desc;
	goto out;

err_free_group:
	_hbmem_obj_link(g);
	_hbmem_obj_free(g);
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_graph_buf_group(
	int32_t fd, hb_mem_graphic_buf_group_t *buf_group)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!buf_group) {
		ret = -EINVAL;
		goto out;
	}
	mem = _hbmem_mem_by_fd(fd);
	if (!mem || !mem->obj->group) {
		ret = -EBADF;
		goto out;
	}
	*buf_group = mem->obj->group->u.grp.desc;
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

/* ---- free ------------------------------------------------------------- */

static int obj_free_checked(struct hbmem_obj *top)
{
	int ret;

	if (top->kind == HBMEM_OBJ_POOL) {
		ret = _hbmem_pool_release(top);
		if (ret < 0)
			return ret;
	}
	if (top->kind == HBMEM_OBJ_SHARE_POOL) {	/* sharepool.c */
		ret = _hbmem_spool_release(top);
		if (ret < 0)
			return ret;
	}
	_hbmem_obj_free(top);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_free_buf(int32_t fd)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	mem = _hbmem_mem_by_fd(fd);
	ret = mem ? obj_free_checked(_hbmem_obj_top(mem)) : -EBADF;
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_free_buf_with_vaddr(uint64_t virt_addr)
{
	struct hbmem_mem *mem;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	mem = _hbmem_mem_by_addr(virt_addr);
	ret = mem ? obj_free_checked(_hbmem_obj_top(mem)) : -EFAULT;
	_hbmem_leave();
	return _hbmem_err(ret);
}
