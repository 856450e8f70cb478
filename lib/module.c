// SPDX-License-Identifier: MIT
/*
 * The module: version, open and close, and what the module knows about
 * itself (backend, heaps).
 *
 * Open is counted per process: the first open picks the backend and reads
 * the heap configuration, later opens only count, and the last close
 * releases everything the process still holds (queues, pools, buffers,
 * imports), as the board does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hbmem_internal.h"
#include "broker.h"
#include "hb_mem_alloc.h"
#include "alloc/debug.h"

const struct hbmem_backend *hbmem_backend;
size_t hbmem_page_size = 4096;

static int open_count;
/*
 * Open and close run one at a time under module_lock, so a last close's
 * teardown (which drops hbmem_lock while queues and pools go) cannot
 * interleave with another open or close.
 */
static pthread_mutex_t module_lock = PTHREAD_MUTEX_INITIALIZER;

bool _hbmem_is_open(void)
{
	return __atomic_load_n(&open_count, __ATOMIC_ACQUIRE) > 0;
}

int _hbmem_enter(void)
{
	pthread_mutex_lock(&hbmem_lock);
	if (open_count <= 0) {
		pthread_mutex_unlock(&hbmem_lock);
		return -ENODEV;
	}
	return 0;
}

void _hbmem_deadline(int64_t timeout_ms, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(timeout_ms / 1000);
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

HBMEM_EXPORT int32_t hb_mem_get_version(uint32_t *major, uint32_t *minor,
					uint32_t *patch)
{
	if (!major || !minor || !patch)
		return HB_MEM_ERR_INVALID_PARAMS;
	*major = HBMEM_LIB_VERSION_MAJOR;
	*minor = HBMEM_LIB_VERSION_MINOR;
	*patch = HBMEM_LIB_VERSION_PATCH;
	return 0;
}

__thread bool _hbmem_own_fork;

/* See hbmem_internal.h: the locks in their order (open/close, then ours). */
static void atfork_prepare(void)
{
	if (_hbmem_own_fork)
		return;
	pthread_mutex_lock(&module_lock);
	pthread_mutex_lock(&hbmem_lock);
	_hbmem_queues_atfork_prepare();
}

static void atfork_parent(void)
{
	if (_hbmem_own_fork)
		return;
	_hbmem_queues_atfork_parent();
	pthread_mutex_unlock(&hbmem_lock);
	pthread_mutex_unlock(&module_lock);
}

/*
 * The child has only the forking thread: pools and queues forget the
 * others (which may have owned or been inside their locks). The objects
 * another thread was changing at the fork are left as it left them.
 */
static void atfork_child(void)
{
	if (_hbmem_own_fork)
		return;
	_hbmem_queues_atfork_child();
	_hbmem_pools_atfork_child();
	pthread_mutex_unlock(&hbmem_lock);
	pthread_mutex_unlock(&module_lock);
}

static void atfork_init_once(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* The condition variable is made once, on the monotonic clock. */
static void cond_init_once(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&hbmem_cond, &attr);
	pthread_condattr_destroy(&attr);
}

static int module_init_locked(void)
{
	static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
	static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	pthread_once(&atfork_once, atfork_init_once);

	if (page > 0)
		hbmem_page_size = (size_t)page;
	ret = _hbmem_backend_select(&hbmem_backend);
	if (ret < 0)
		return ret;
	/* sharing across processes through hbmemd when the backend has none */
	_hbmem_broker_setup(&hbmem_backend);
	ret = _hbmem_heaps_init();
	if (ret < 0) {
		_hbmem_heaps_fini();
		if (hbmem_backend->shutdown)
			hbmem_backend->shutdown();
		return ret;
	}
	pthread_once(&cond_once, cond_init_once);
	hbmem_debug("opened on the %s backend", hbmem_backend->name);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_module_open(void)
{
	int ret = 0;

	pthread_mutex_lock(&module_lock);
	pthread_mutex_lock(&hbmem_lock);
	if (open_count == INT32_MAX) {
		ret = HB_MEM_ERR_MODULE_OPEN_FAIL;
	} else if (open_count > 0) {
		__atomic_store_n(&open_count, open_count + 1, __ATOMIC_RELEASE);
	} else {
		ret = module_init_locked();
		if (ret == 0)
			__atomic_store_n(&open_count, 1, __ATOMIC_RELEASE);
		else
			ret = ret == -ENOMEM ? HB_MEM_ERR_INSUFFICIENT_MEM
					     : HB_MEM_ERR_MODULE_OPEN_FAIL;
	}
	pthread_mutex_unlock(&hbmem_lock);
	pthread_mutex_unlock(&module_lock);
	return ret;
}

HBMEM_EXPORT int32_t hb_mem_module_close(void)
{
	struct hbmem_obj *obj;

	pthread_mutex_lock(&module_lock);
	pthread_mutex_lock(&hbmem_lock);
	if (open_count <= 0) {
		pthread_mutex_unlock(&hbmem_lock);
		pthread_mutex_unlock(&module_lock);
		return HB_MEM_ERR_MODULE_NOT_FOUND;
	}
	if (open_count > 1) {
		__atomic_store_n(&open_count, open_count - 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&hbmem_lock);
		pthread_mutex_unlock(&module_lock);
		return 0;
	}
	/*
	 * Closed from here on for every other call (they get
	 * MODULE_NOT_FOUND), while the teardown below runs without hbmem_lock
	 * held: nothing new can be made behind its back.
	 */
	__atomic_store_n(&open_count, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&hbmem_lock);

	/* what the process never freed, with where it was allocated */
	if (_hbmem_dbg_options() & (HB_MEM_DEBUG_SITES | HB_MEM_DEBUG_BACKTRACE))
		hb_mem_alloc_debug_report_leaks();

	/* queues and pools take their own locks, and hbmem_lock after */
	_hbmem_queues_cleanup();
	_hbmem_pools_cleanup();

	pthread_mutex_lock(&hbmem_lock);
	while ((obj = _hbmem_obj_first()) != NULL)
		_hbmem_obj_free(obj);
	_hbmem_registry_reset();
	_hbmem_shares_reset();
	_hbmem_heaps_fini();
	if (hbmem_backend->shutdown)
		hbmem_backend->shutdown();
	/* waiters wake, find the module closed and return */
	pthread_cond_broadcast(&hbmem_cond);
	pthread_mutex_unlock(&hbmem_lock);
	pthread_mutex_unlock(&module_lock);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_get_backend(char *name, size_t name_len,
					uint32_t *caps)
{
	int ret = _hbmem_enter();

	if (ret < 0)
		return _hbmem_err(ret);
	if (!name || !name_len) {
		ret = -EINVAL;
	} else {
		snprintf(name, name_len, "%s", hbmem_backend->name);
		if (caps)
			*caps = hbmem_backend->caps;
	}
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_heap_count(int32_t *count)
{
	int ret = _hbmem_enter();

	if (ret < 0)
		return _hbmem_err(ret);
	if (!count)
		ret = -EINVAL;
	else
		*count = _hbmem_heap_count();
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_heap_info(int32_t index,
					  hb_mem_heap_info_t *info)
{
	struct hbmem_heap *h;
	int ret = _hbmem_enter();

	if (ret < 0)
		return _hbmem_err(ret);
	h = _hbmem_heap_at(index);
	if (!info || !h) {
		ret = -EINVAL;
	} else {
		memset(info, 0, sizeof(*info));
		snprintf(info->name, sizeof(info->name), "%s", h->name);
		info->flag = h->flag;
		info->capacity = h->capacity;
		_hbmem_heap_usage(h, &info->used, &info->buffers);
		info->largest_free = h->capacity - info->used;
		info->attrs = h->attrs;
	}
	_hbmem_leave();
	return _hbmem_err(ret);
}

/* The vendor ABI, pinned at compile time (LP64 sizes and offsets). */
#if defined(__LP64__)
_Static_assert(sizeof(hb_mem_common_buf_t) == 48, "common buf is 48 bytes");
_Static_assert(offsetof(hb_mem_common_buf_t, virt_addr) == 24, "virt_addr");
_Static_assert(offsetof(hb_mem_common_buf_t, offset) == 40, "offset");
_Static_assert(sizeof(hb_mem_graphic_buf_t) == 160, "graphic buf is 160");
_Static_assert(offsetof(hb_mem_graphic_buf_t, share_id) == 40, "share_id");
_Static_assert(offsetof(hb_mem_graphic_buf_t, flags) == 56, "flags");
_Static_assert(offsetof(hb_mem_graphic_buf_t, size) == 64, "size");
_Static_assert(offsetof(hb_mem_graphic_buf_t, virt_addr) == 88, "virt_addr");
_Static_assert(offsetof(hb_mem_graphic_buf_t, phys_addr) == 112, "phys");
_Static_assert(offsetof(hb_mem_graphic_buf_t, offset) == 136, "offset");
_Static_assert(sizeof(hb_mem_graphic_buf_group_t) == 1288, "group is 1288");
_Static_assert(offsetof(hb_mem_graphic_buf_group_t, group_id) == 1280, "id");
_Static_assert(offsetof(hb_mem_graphic_buf_group_t, bit_map) == 1284, "map");
_Static_assert(sizeof(hb_mem_buf_queue_t) == 16, "queue is 16 bytes");
_Static_assert(sizeof(hb_mem_pool_t) == 40, "pool is 40 bytes");
_Static_assert(offsetof(hb_mem_pool_t, cur_client_cnt) == 32, "clients");
_Static_assert(sizeof(hb_mem_share_pool_t) == 32, "share pool is 32 bytes");
_Static_assert(offsetof(hb_mem_share_pool_t, fd) == 12, "share pool fd");
#endif
