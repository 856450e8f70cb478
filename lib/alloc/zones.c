// SPDX-License-Identifier: MIT
/*
 * Zones: one common buffer cut into the zones of a firmware-style memory
 * map, each with the capability bits it offers:
 *
 *   +--------+------+-----+------------------+------------------------+
 *   | sys 0  | sys1 | ... | runtime          | buffer                 |
 *   +--------+------+-----+------------------+------------------------+
 *   bump, per CPU;        heap instance      granule runs (large
 *   CPU 0's is larger;    (malloc/free)      media buffers)
 *   released whole
 *
 * A request names a zone and the capabilities it needs; the zone must
 * offer all of them. System zones are bump allocators (a lock-free
 * compare-and-swap on the fill level): their blocks are never freed one
 * by one, and the whole zone is reset when its owner (the CPU's work)
 * goes away. The runtime zone is a heap instance, the buffer zone a
 * granule allocator, both with their own locks.
 *
 * Shared data: because all zones are one hbmem buffer, data placed in
 * them is shared with every thread, and with other processes through the
 * buffer's share id (addresses differ there: exchange offsets). A writer
 * commits (cache write-back) after writing and a reader acquires
 * (invalidate) before reading, through the buffer's flush and invalidate
 * calls, which reach the exporter's cache maintenance on real dma-bufs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"

#define ZONES_MAX_CPUS 64
#define SECTION_ALIGN 4096u

struct sys_zone {
	uint8_t *base;
	uint64_t size;
	uint64_t used;		/* fill level, updated by CAS */
	uint64_t allocs;
	struct hbmem_dbg_owner dbg;
	char name[16];
};

struct hb_mem_zones {
	struct hbmem_region region;
	uint32_t ncpus;
	uint32_t caps[HB_MEM_ZONE_COUNT];
	struct sys_zone sys[ZONES_MAX_CPUS];
	uint8_t *sys_end;
	struct hb_mem_mm runtime;
	struct hb_mem_gran buffer;
};

/* Bump @size bytes aligned to @align off system zone @s. Lock-free. */
static void *sys_bump(struct sys_zone *s, size_t align, size_t size)
{
	uint64_t used = __atomic_load_n(&s->used, __ATOMIC_RELAXED), start, end;

	do {
		start = _hbmem_align_up((uintptr_t)s->base + used, align) -
			(uintptr_t)s->base;
		if (start > s->size || size > s->size - start)
			return NULL;
		end = start + size;
	} while (!__atomic_compare_exchange_n(&s->used, &used, end, true,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	__atomic_add_fetch(&s->allocs, 1, __ATOMIC_RELAXED);
	return s->base + start;
}

static void *sys_alloc(struct hb_mem_zones *z, uint32_t cpu, size_t align,
		       size_t size, const char *file, int line)
{
	uint32_t opts = _hbmem_dbg_options() & ~(uint32_t)HB_MEM_DEBUG_QUARANTINE;
	struct sys_zone *s = &z->sys[cpu];
	size_t front = _hbmem_dbg_front(opts, align), total;
	void *raw;

	if (__builtin_add_overflow(size, front + _hbmem_dbg_back(opts), &total))
		total = SIZE_MAX;
	raw = sys_bump(s, align, total);
	if (!raw) {
		/* the firmware original panics here; a library reports */
		hbmem_warn("system zone %u full: %zu bytes asked, %llu of %llu "
			   "used", cpu, size, (unsigned long long)s->used,
			   (unsigned long long)s->size);
		return _hbmem_null_errno(-ENOMEM);
	}
	if (!opts)
		return raw;
	return _hbmem_dbg_alloc(&s->dbg, opts, raw, front, size, file, line);
}

static uint32_t current_cpu(const struct hb_mem_zones *z)
{
	int cpu = sched_getcpu();

	return cpu < 0 ? 0 : (uint32_t)cpu % z->ncpus;
}

static void *zone_alloc(struct hb_mem_zones *z, enum hb_mem_zone zone,
			uint32_t caps, size_t size, size_t align,
			const char *file, int line)
{
	if (!z || (unsigned)zone >= HB_MEM_ZONE_COUNT ||
	    (caps & ~HB_MEM_CAPS_VALID) || size == 0 ||
	    (align && !_hbmem_is_pow2(align)))
		return _hbmem_null_errno(-EINVAL);
	if ((z->caps[zone] & caps) != caps)
		return _hbmem_null_errno(-ENOTSUP);
	if (!align)
		align = 64;
	switch (zone) {
	case HB_MEM_ZONE_SYS:
		return sys_alloc(z, current_cpu(z), align, size, file, line);
	case HB_MEM_ZONE_RUNTIME:
		return _hbmem_mm_alloc(&z->runtime, align, size, file, line);
	default:
		return _hbmem_gran_alloc(&z->buffer, align, size, file, line);
	}
}

static int zones_layout(struct hb_mem_zones *z, const hb_mem_zones_config_t *c)
{
	uint64_t gran = 1ull << c->buffer_log2gran, off = 0, sec;
	uint8_t *base = z->region.base;
	uint32_t i;
	int ret;

	for (i = 0; i < c->ncpus; i++) {
		struct sys_zone *s = &z->sys[i];

		s->base = base + off;
		s->size = i ? c->sys_other : c->sys_first;
		snprintf(s->name, sizeof(s->name), "sys%u", i);
		_hbmem_dbg_owner_init(&s->dbg, HBMEM_DBG_ZONE, s->name, NULL);
		off += _hbmem_align_up(s->size, 64);
	}
	z->sys_end = base + off;
	off = _hbmem_align_up(off, SECTION_ALIGN);
	ret = _hbmem_mm_init(&z->runtime, "runtime", base + off, c->runtime);
	if (ret < 0)
		return ret;
	/* the buffer zone's granules are aligned to their size in memory */
	off = _hbmem_align_up((uintptr_t)base + off + c->runtime,
			      gran > SECTION_ALIGN ? gran : SECTION_ALIGN) -
	      (uintptr_t)base;
	sec = c->buffer;
	ret = _hbmem_gran_init(&z->buffer, base + off, sec, c->buffer_log2gran,
			       6);
	if (ret < 0) {
		_hbmem_mm_fini(&z->runtime);
		return ret;
	}
	z->buffer.dbg.name = "buffer";
	return 0;
}

/* Bytes of common buffer the layout needs, or 0 on overflow. */
static uint64_t zones_size(const hb_mem_zones_config_t *c)
{
	uint64_t gran = 1ull << c->buffer_log2gran, total;
	uint64_t sys = _hbmem_align_up(c->sys_first, 64) +
		       (uint64_t)(c->ncpus - 1) * _hbmem_align_up(c->sys_other, 64);

	total = _hbmem_align_up(sys, SECTION_ALIGN) + c->runtime;
	total = _hbmem_align_up(total, gran > SECTION_ALIGN ? gran
							    : SECTION_ALIGN);
	/* the buffer is only page aligned: room to align the buffer zone */
	if (gran > hbmem_page_size)
		total += gran - hbmem_page_size;
	total += c->buffer;
	return total < c->buffer || total < c->runtime ? 0 : total;
}

/* ---- public API ------------------------------------------------------- */

HBMEM_EXPORT int32_t hb_mem_zones_create(const hb_mem_zones_config_t *cfg,
					 hb_mem_zones_t **zones)
{
	hb_mem_zones_config_t c;
	struct hb_mem_zones *z;
	uint64_t size;
	int ret, i;

	if (!cfg || !zones)
		return HB_MEM_ERR_INVALID_PARAMS;
	c = *cfg;
	if (!c.buffer_log2gran)
		c.buffer_log2gran = 12;
	if (c.ncpus == 0 || c.ncpus > ZONES_MAX_CPUS || !c.sys_first ||
	    (c.ncpus > 1 && !c.sys_other) || c.sys_first > (1ull << 40) ||
	    c.sys_other > (1ull << 40) || c.runtime < 256 ||
	    c.runtime > (1ull << 40) || c.buffer > (1ull << 44) ||
	    c.buffer_log2gran < 6 || c.buffer_log2gran > 24 ||
	    c.buffer >> c.buffer_log2gran == 0)
		return HB_MEM_ERR_INVALID_PARAMS;
	for (i = 0; i < HB_MEM_ZONE_COUNT; i++)
		if (c.caps[i] & ~HB_MEM_CAPS_VALID)
			return HB_MEM_ERR_INVALID_PARAMS;
	size = zones_size(&c);
	if (!size)
		return HB_MEM_ERR_INVALID_PARAMS;
	z = calloc(1, sizeof(*z));
	if (!z)
		return HB_MEM_ERR_INSUFFICIENT_MEM;
	ret = _hbmem_region_alloc(size, c.flags, &z->region);
	if (ret < 0)
		goto err_free;
	z->ncpus = c.ncpus;
	memcpy(z->caps, c.caps, sizeof(z->caps));
	ret = zones_layout(z, &c);
	if (ret < 0)
		goto err_region;
	*zones = z;
	return 0;

err_region:
	_hbmem_region_free(&z->region);
err_free:
	free(z);
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_zones_destroy(hb_mem_zones_t *zones)
{
	uint32_t i;

	if (!zones)
		return HB_MEM_ERR_INVALID_PARAMS;
	for (i = 0; i < zones->ncpus; i++)
		_hbmem_dbg_owner_reset(&zones->sys[i].dbg);
	_hbmem_mm_fini(&zones->runtime);
	_hbmem_gran_fini(&zones->buffer);
	pthread_mutex_destroy(&zones->buffer.lock);
	_hbmem_region_free(&zones->region);
	free(zones);
	return 0;
}

HBMEM_EXPORT void *hb_mem_zone_alloc_at(hb_mem_zones_t *zones,
					enum hb_mem_zone zone, uint32_t caps,
					size_t size, size_t align,
					const char *file, int line)
{
	return zone_alloc(zones, zone, caps, size, align, file, line);
}

HBMEM_EXPORT void *(hb_mem_zone_alloc)(hb_mem_zones_t *zones,
				       enum hb_mem_zone zone, uint32_t caps,
				       size_t size, size_t align)
{
	return zone_alloc(zones, zone, caps, size, align, NULL, 0);
}

HBMEM_EXPORT void *hb_mem_zone_zalloc(hb_mem_zones_t *zones,
				      enum hb_mem_zone zone, uint32_t caps,
				      size_t size, size_t align)
{
	void *p = zone_alloc(zones, zone, caps, size, align, NULL, 0);

	if (p)
		memset(p, 0, size);
	return p;
}

HBMEM_EXPORT void *hb_mem_zone_sys_alloc(hb_mem_zones_t *zones, uint32_t cpu,
					 size_t size, size_t align)
{
	if (!zones || cpu >= zones->ncpus || size == 0 ||
	    (align && !_hbmem_is_pow2(align)))
		return _hbmem_null_errno(-EINVAL);
	return sys_alloc(zones, cpu, align ? align : 64, size, NULL, 0);
}

HBMEM_EXPORT int32_t hb_mem_zone_free(hb_mem_zones_t *zones, void *ptr)
{
	uint8_t *p = ptr;

	if (!zones)
		return HB_MEM_ERR_INVALID_PARAMS;
	if (!_hbmem_region_has(&zones->region, p))
		return HB_MEM_ERR_INVALID_VADDR;
	if (p < zones->sys_end)
		return HB_MEM_ERR_NOT_ALLOW;	/* system blocks never free */
	if (p < zones->buffer.base)
		return _hbmem_err(_hbmem_mm_free(&zones->runtime, p));
	return _hbmem_err(_hbmem_gran_free(&zones->buffer, p));
}

HBMEM_EXPORT int32_t hb_mem_zone_sys_release(hb_mem_zones_t *zones,
					     uint32_t cpu)
{
	struct sys_zone *s;

	if (!zones || cpu >= zones->ncpus)
		return HB_MEM_ERR_INVALID_PARAMS;
	s = &zones->sys[cpu];
	/* red zones are checked here, since these blocks are never freed */
	_hbmem_dbg_owner_reset(&s->dbg);
	__atomic_store_n(&s->allocs, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->used, 0, __ATOMIC_RELEASE);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_zone_info(hb_mem_zones_t *zones,
				      enum hb_mem_zone zone, uint32_t cpu,
				      hb_mem_zone_info_t *info)
{
	hb_mem_gran_info_t gi;
	hb_mem_mm_info_t mi;

	if (!zones || !info || (unsigned)zone >= HB_MEM_ZONE_COUNT ||
	    (zone == HB_MEM_ZONE_SYS && cpu >= zones->ncpus))
		return HB_MEM_ERR_INVALID_PARAMS;
	memset(info, 0, sizeof(*info));
	info->caps = zones->caps[zone];
	switch (zone) {
	case HB_MEM_ZONE_SYS:
		info->size = zones->sys[cpu].size;
		info->used = __atomic_load_n(&zones->sys[cpu].used,
					     __ATOMIC_RELAXED);
		info->allocs = __atomic_load_n(&zones->sys[cpu].allocs,
					       __ATOMIC_RELAXED);
		break;
	case HB_MEM_ZONE_RUNTIME:
		_hbmem_mm_stats(&zones->runtime, &mi);
		info->size = mi.arena;
		info->used = mi.used;
		info->allocs = mi.allocs;
		break;
	default:
		_hbmem_gran_stats(&zones->buffer, &gi);
		info->size = gi.ngranules << gi.log2gran;
		info->used = (gi.ngranules - gi.nfree) << gi.log2gran;
		info->allocs = gi.allocs;
		break;
	}
	info->free = info->size - info->used;
	return 0;
}

static int32_t shared_sync(hb_mem_zones_t *zones, const void *ptr,
			   size_t size, bool commit)
{
	const uint8_t *p = ptr;

	if (!zones || !size || !_hbmem_region_has(&zones->region, p) ||
	    size > zones->region.size - (uint64_t)(p - zones->region.base))
		return HB_MEM_ERR_INVALID_PARAMS;
	return commit ? hb_mem_flush_buf_with_vaddr((uint64_t)(uintptr_t)p,
						    size)
		      : hb_mem_invalidate_buf_with_vaddr((uint64_t)(uintptr_t)p,
							 size);
}

HBMEM_EXPORT int32_t hb_mem_zone_shared_commit(hb_mem_zones_t *zones,
					       const void *ptr, size_t size)
{
	return shared_sync(zones, ptr, size, true);
}

HBMEM_EXPORT int32_t hb_mem_zone_shared_acquire(hb_mem_zones_t *zones,
						const void *ptr, size_t size)
{
	return shared_sync(zones, ptr, size, false);
}

HBMEM_EXPORT int32_t hb_mem_zones_check(hb_mem_zones_t *zones)
{
	int ret;

	if (!zones)
		return HB_MEM_ERR_INVALID_PARAMS;
	ret = _hbmem_mm_validate(&zones->runtime);
	if (ret == 0)
		ret = hb_mem_gran_check(&zones->buffer) ? -EINVAL : 0;
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_zones_get_buf(hb_mem_zones_t *zones,
					  hb_mem_common_buf_t *buf)
{
	if (!zones || !buf)
		return HB_MEM_ERR_INVALID_PARAMS;
	*buf = zones->region.buf;
	return 0;
}
