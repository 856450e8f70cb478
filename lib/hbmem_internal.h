/* SPDX-License-Identifier: MIT */
/*
 * hbmem_internal.h - what the files of libhbmem share.
 *
 * Objects
 * -------
 *   struct hbmem_mem    one allocation unit as this process holds it: one fd,
 *                       one mapping. Found by fd (O(1)) and by address
 *                       (O(log n)) through the registry.
 *   struct hbmem_share  the shared state of an allocation unit, whoever holds
 *                       it: share id, device address, holder and consume
 *                       counts, heap accounting. Lives while any holder does.
 *   struct hbmem_obj    a buffer as the API sees it: a common buffer (one
 *                       mem), a graphic buffer (one mem, or one per plane),
 *                       a group (up to 8 graphic objs), or a pool's backing
 *                       buffer. Holds the descriptor struct it reports.
 *
 *   obj (graph) --mems[]--> mem --share--> share
 *        ^                    |
 *        +-------- obj -------+
 *
 * Locking: one mutex (hbmem_lock) guards the registry, objects, shares and
 * heaps. Waits on counts sleep on hbmem_cond with it. Pools and queues have
 * their own locks and never take hbmem_lock on their fast paths.
 *
 * Errors: internal functions return 0 or a negative errno; the API edge
 * turns them into HB_MEM_ERR_* with hbmem_err().
 */
#ifndef HBMEM_INTERNAL_H
#define HBMEM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"

#define HBMEM_EXPORT __attribute__((visibility("default")))

/* ---- log.c ----------------------------------------------------------- */

enum hbmem_log_level {
	HBMEM_LOG_NONE = 0,
	HBMEM_LOG_ERROR,
	HBMEM_LOG_WARN,
	HBMEM_LOG_INFO,
	HBMEM_LOG_DEBUG,
};

void _hbmem_log(enum hbmem_log_level level, const char *func,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool _hbmem_log_enabled(enum hbmem_log_level level);

#define hbmem_err_log(...) _hbmem_log(HBMEM_LOG_ERROR, __func__, __VA_ARGS__)
#define hbmem_warn(...) _hbmem_log(HBMEM_LOG_WARN, __func__, __VA_ARGS__)
#define hbmem_info(...) _hbmem_log(HBMEM_LOG_INFO, __func__, __VA_ARGS__)
#define hbmem_debug(...) _hbmem_log(HBMEM_LOG_DEBUG, __func__, __VA_ARGS__)

/* ---- error.c --------------------------------------------------------- */

/* Map 0 / a negative errno to 0 / an HB_MEM_ERR_* code. */
int32_t _hbmem_err(int negative_errno);

/* ---- heap.c ---------------------------------------------------------- */

struct hbmem_heap {
	char name[HB_MEM_HEAP_NAME_MAX];
	char node[HB_MEM_HEAP_NAME_MAX];	/* the backend's name for it */
	int64_t flag;		/* PRIV_HEAP_* value that selects it */
	uint64_t capacity;	/* 0: the heap is absent */
	uint32_t attrs;
};

int _hbmem_heaps_init(void);
void _hbmem_heaps_fini(void);
/*
 * Charge @len bytes (page-rounded) to the heap a request with @flags picks,
 * or the next in its fallback chain with room, where @alloc(heap, @ctx)
 * also succeeds (-ENOMEM from it: try the next heap). -ENOMEM when no heap
 * can hold it.
 */
int _hbmem_heap_alloc(int64_t flags, uint64_t len,
		      int (*alloc)(struct hbmem_heap *heap, void *ctx),
		      void *ctx, struct hbmem_heap **out);
void _hbmem_heap_unreserve(struct hbmem_heap *heap, uint64_t len);
/* Bytes charged to @heap and its live buffers. */
void _hbmem_heap_usage(const struct hbmem_heap *heap, uint64_t *used,
		       uint32_t *buffers);
struct hbmem_heap *_hbmem_heap_for_flags(int64_t flags);
int _hbmem_heap_count(void);
struct hbmem_heap *_hbmem_heap_at(int index);

/* ---- format.c -------------------------------------------------------- */

struct hbmem_plane_layout {
	int planes;
	uint64_t size[MAX_GRAPHIC_BUF_COMP];	/* bytes per plane */
	uint64_t offset[MAX_GRAPHIC_BUF_COMP];	/* in a contiguous buffer */
	uint64_t total;
	uint32_t stride[MAX_GRAPHIC_BUF_COMP];	/* bytes per line */
	uint32_t lines[MAX_GRAPHIC_BUF_COMP];	/* lines per plane */
};

/*
 * Plane layout of a w x h image of @format with the board's stride rules.
 * -EINVAL for an unknown format or non-positive size, -EOVERFLOW when the
 * arithmetic does not fit.
 */
int _hbmem_format_layout(int32_t format, int32_t w, int32_t h, int32_t stride,
			 int32_t vstride, struct hbmem_plane_layout *out);

/* ---- backend (backend/backend.c) ------------------------------------- */

#include "backend/backend.h"

extern const struct hbmem_backend *hbmem_backend;

/* ---- share.c --------------------------------------------------------- */

struct hbmem_mem;

struct hbmem_share {
	int32_t id;
	uint64_t phys;		/* device address of byte 0 */
	uint64_t len;		/* bytes of the allocation unit */
	uint64_t reserved;	/* bytes charged to the heap */
	struct hbmem_heap *heap;
	int32_t clients;	/* live holders */
	int32_t consume;	/* consume count, user-driven ones included */
	struct hbmem_mem *holders;	/* list through mem->share_next */
};

/*
 * The share of a freshly allocated unit (@fd, @len bytes), charged
 * @reserved bytes of @heap. No holder yet: attach the first.
 */
int _hbmem_share_new(int fd, uint64_t len, struct hbmem_heap *heap,
		     uint64_t reserved, struct hbmem_share **out);
/*
 * With global sharing: a share for unit @id (0: whichever @fd is a handle
 * of), which another process allocated, learnt from @fd, a handle on all
 * or part of the unit.
 */
int _hbmem_share_foreign(int fd, int32_t id, struct hbmem_share **out);
/* Forget a share with no holder (and return its heap charge). */
void _hbmem_share_drop(struct hbmem_share *sh);
uint64_t _hbmem_phys_synthetic(int32_t id);
struct hbmem_share *_hbmem_share_find(int32_t id);
void _hbmem_share_attach(struct hbmem_share *sh, struct hbmem_mem *mem);
/* Drop @mem's hold; the share and its heap charge go with the last one. */
void _hbmem_share_detach(struct hbmem_share *sh, struct hbmem_mem *mem);
void _hbmem_shares_reset(void);
bool _hbmem_phys_is_synthetic(uint64_t phys);

/* ---- registry.c ------------------------------------------------------ */

enum hbmem_obj_kind {
	HBMEM_OBJ_COM,
	HBMEM_OBJ_GRAPH,
	HBMEM_OBJ_GROUP,
	HBMEM_OBJ_POOL,
	HBMEM_OBJ_SHARE_POOL,	/* a share pool's backing unit (sharepool.c) */
};

struct hbmem_obj;

struct hbmem_mem {
	int fd;			/* owned */
	uint8_t *map;		/* page-aligned mmap base, owned */
	size_t map_len;
	uint8_t *vaddr;		/* first byte of the buffer in the mapping */
	uint64_t size;		/* bytes the buffer covers from vaddr */
	uint64_t phys;		/* device address of vaddr */
	struct hbmem_share *share;
	struct hbmem_mem *share_next;
	struct hbmem_obj *obj;
};

struct hbmem_obj {
	enum hbmem_obj_kind kind;
	bool imported;
	int nmem;
	struct hbmem_mem *mem[MAX_GRAPHIC_BUF_COMP];
	struct hbmem_obj *group;	/* for a graph obj inside a group */
	union {
		hb_mem_common_buf_t com;	/* COM and POOL */
		hb_mem_graphic_buf_t graph;	/* GRAPH */
		struct {
			hb_mem_graphic_buf_group_t desc;
			struct hbmem_obj *member[HB_MEM_MAXIMUM_GRAPH_BUF];
		} grp;				/* GROUP */
	} u;
	struct hbmem_obj *next, *prev;	/* all live objects */
	void *priv;			/* POOL: the pool */
					/* SHARE_POOL: the share pool; an imported
					 * COM share-pool block: its attachment */
};

extern pthread_mutex_t hbmem_lock;
extern pthread_cond_t hbmem_cond;

int _hbmem_registry_add(struct hbmem_mem *mem);
void _hbmem_registry_remove(struct hbmem_mem *mem);
struct hbmem_mem *_hbmem_mem_by_fd(int fd);
struct hbmem_mem *_hbmem_mem_by_addr(uint64_t addr);
void _hbmem_obj_link(struct hbmem_obj *obj);
void _hbmem_obj_unlink(struct hbmem_obj *obj);
struct hbmem_obj *_hbmem_obj_first(void);
void _hbmem_registry_reset(void);

/* ---- buffer.c -------------------------------------------------------- */

/*
 * Allocate one unit of @len bytes with @flags and map it. @label names the
 * memfd. Caller holds hbmem_lock.
 */
int _hbmem_mem_alloc(uint64_t len, int64_t flags, const char *label,
		     struct hbmem_mem **out);
/*
 * Import [@phys, @phys + @len) of unit @id (device addresses; @phys 0 is
 * the unit's start): a new fd, a mapping of just that range, one more
 * holder. -EINVAL when the unit is unknown or the range does not fit.
 * Caller holds hbmem_lock.
 */
int _hbmem_import_unit(int32_t id, uint64_t phys, uint64_t len,
		       struct hbmem_mem **out);
/*
 * Map [@fd_off, @fd_off + @len) of @fd as a new holder of @sh whose device
 * address is @phys. On success @fd belongs to the new mem; on failure it is
 * still the caller's. Caller holds hbmem_lock.
 */
int _hbmem_mem_map(int fd, struct hbmem_share *sh, uint64_t fd_off,
		   uint64_t len, uint64_t phys, struct hbmem_mem **out);
/* Unmap, close and detach @mem. Caller holds hbmem_lock. */
void _hbmem_mem_release(struct hbmem_mem *mem);
/* Free a whole object (and its group). Caller holds hbmem_lock. */
void _hbmem_obj_free(struct hbmem_obj *obj);
/* Fill @d as the descriptor of a common buffer made of @mem alone. */
void _hbmem_com_desc_fill(hb_mem_common_buf_t *d, const struct hbmem_mem *mem,
			  int64_t flags);

/* The outermost object @mem belongs to (its group, if any). */
static inline struct hbmem_obj *_hbmem_obj_top(const struct hbmem_mem *mem)
{
	return mem->obj->group ? mem->obj->group : mem->obj;
}

/* ---- module.c -------------------------------------------------------- */

/* Nonzero while the module is open in this process. */
bool _hbmem_is_open(void);

/*
 * Enter an API call that needs the open module: takes hbmem_lock and
 * returns 0, or returns -ENODEV (lock not held) when the module is closed.
 */
int _hbmem_enter(void);
static inline void _hbmem_leave(void)
{
	pthread_mutex_unlock(&hbmem_lock);
}

/*
 * Hooks for parts with their own state (pools, queues): called at the last
 * close, with hbmem_lock not held.
 */
void _hbmem_pools_cleanup(void);
void _hbmem_queues_cleanup(void);

/*
 * Fork. module_lock, hbmem_lock and the queues' table lock are held across
 * a fork() (pthread_atfork, registered at the first open, taking them in
 * the library's lock order), so that a child finds the module, the
 * registry, the pool tables and the queue headers whole and the locks
 * free; the *_atfork_child() hooks then run in the child, with them held.
 * The library's own fork (starting the broker, which then execs) sets
 * _hbmem_own_fork around it: its thread holds module_lock and hbmem_lock
 * already, and its child uses nothing of ours.
 */
void _hbmem_pools_atfork_child(void);
void _hbmem_queues_atfork_prepare(void);
void _hbmem_queues_atfork_parent(void);
void _hbmem_queues_atfork_child(void);
extern __thread bool _hbmem_own_fork;

/*
 * hb_mem_free_buf() on a pool's backing buffer: -EBUSY while sub-allocations
 * live, else the pool's own state is torn down and 0 returned (the caller
 * then frees the object). Called with hbmem_lock held.
 */
int _hbmem_pool_release(struct hbmem_obj *obj);

/*
 * The live sub-allocation of pool @obj containing @addr, as a common buffer:
 * 0, or -ENOENT when @addr is in no live sub-allocation. hbmem_lock held.
 */
int _hbmem_pool_find_buf(struct hbmem_obj *obj, uint64_t addr,
			 hb_mem_common_buf_t *out);

/* ---- sharepool.c ------------------------------------------------------ */

/*
 * An import of a share-pool block (a COM obj just imported from a
 * descriptor flagged HB_MEM_USAGE_MEM_SHARE_POOL): take the importer's hold
 * in the pool's shared state. -EINVAL when the unit is no live share pool
 * or the range is not a held block. hbmem_lock held.
 */
int _hbmem_spool_import(struct hbmem_obj *obj);
/*
 * hb_mem_free_buf() on a share pool's backing unit: -EBUSY while blocks are
 * held, -EPERM in a forked child; else the pool is torn down and 0
 * returned (the caller frees the obj). hbmem_lock held.
 */
int _hbmem_spool_release(struct hbmem_obj *obj);
/*
 * _hbmem_obj_free() of a SHARE_POOL obj (forced teardown) or of an
 * imported block (its hold is dropped). hbmem_lock held.
 */
void _hbmem_spool_obj_free(struct hbmem_obj *obj);

/* ---- helpers --------------------------------------------------------- */

extern size_t hbmem_page_size;

static inline uint64_t hbmem_page_round(uint64_t len)
{
	return (len + hbmem_page_size - 1) & ~(uint64_t)(hbmem_page_size - 1);
}

/* Deadline helpers for millisecond timeouts (< 0: forever). */
struct timespec;
void _hbmem_deadline(int64_t timeout_ms, struct timespec *ts);

#endif /* HBMEM_INTERNAL_H */
