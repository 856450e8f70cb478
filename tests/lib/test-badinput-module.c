// SPDX-License-Identifier: MIT
/*
 * Bad input to the module calls (version, open, close), heap size and
 * dma copy, the extensions (backend, heaps) and hb_mem_strerror.
 *
 * One test per function, /badinput/<function>, plus its hidden
 * /badinput/<function>/subprocess/before-open; badinput-util.h says what
 * each runs. The helpers they share are in badinput-util.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "badinput-util.h"

/* ==== module ============================================================= */

static void closed_hb_mem_get_version(const struct handles *h)
{
	uint32_t a, b, c;

	/* needs no module */
	assert_ok(hb_mem_get_version(&a, &b, &c));
	assert_hb(hb_mem_get_version(NULL, &b, &c), HB_MEM_ERR_INVALID_PARAMS);
}

static void test_hb_mem_get_version(TestModule *m, gconstpointer d)
{
	uint32_t a = 77, b = 77, c = 77;

	CHECK_CLOSED(hb_mem_get_version);
	assert_hb(hb_mem_get_version(NULL, &b, &c), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_version(&a, NULL, &c), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_version(&a, &b, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_version(NULL, NULL, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* nothing is written on failure */
	g_assert_cmpuint(a, ==, 77);
	assert_ok(hb_mem_get_version(&a, &b, &c));
	g_assert_cmpuint(a, ==, 1);
}

static void closed_hb_mem_module_open(const struct handles *h)
{
	/* open is the one call that works on a closed module */
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_module_close());
}

/* Open with @var=@value must fail and leave the module closed. */
static void open_fails_with(const char *var, const char *value)
{
	char *saved = g_strdup(g_getenv(var));

	g_setenv(var, value, TRUE);
	assert_hb(hb_mem_module_open(), HB_MEM_ERR_MODULE_OPEN_FAIL);
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	if (saved)
		g_setenv(var, saved, TRUE);
	else
		g_unsetenv(var);
	g_free(saved);
}

static void test_hb_mem_module_open(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t buf;
	int fds;

	CHECK_CLOSED(hb_mem_module_open);
	/* fully closed, so the next open is a first open */
	assert_ok(hb_mem_module_close());
	fds = test_count_fds();
	open_fails_with("HBMEM_BACKEND", "no-such-backend");
	open_fails_with("HBMEM_HEAPS", "ion_cma");
	open_fails_with("HBMEM_HEAPS", "no_such_heap=1M");
	open_fails_with("HBMEM_HEAPS", "ion_cma=lots");
	open_fails_with("HBMEM_HEAPS", "ion_cma=-1");
	open_fails_with("HBMEM_HEAPS", "ion_cma=1Q");
	/* sizes whose arithmetic overflows */
	open_fails_with("HBMEM_HEAPS", "ion_cma=99999999999999999999999");
	open_fails_with("HBMEM_HEAPS", "ion_cma=17179869184T");
	open_fails_with("HBMEM_CONFIG", "/nonexistent/hbmem.conf");
	g_assert_cmpint(test_count_fds(), ==, fds);
	assert_hb(hb_mem_alloc_com_buf(4096, 0, &buf),
		  HB_MEM_ERR_MODULE_NOT_FOUND);

	/* good: opens are counted */
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_module_close());
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &buf));
	assert_ok(hb_mem_free_buf(buf.fd));
}

static void closed_hb_mem_module_close(const struct handles *h)
{
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_module_close(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t buf;
	hb_mem_graphic_buf_t g;
	int fds;

	CHECK_CLOSED(hb_mem_module_close);
	/* closing more often than opening */
	assert_ok(hb_mem_module_close());
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	fds = test_count_fds();
	/* the last close takes what the process still holds */
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_alloc_com_buf(64 * KiB, 0, &buf));
	alloc_nv12(0, &g);
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, fds);
	assert_ok(hb_mem_module_open());
	heaps_are_empty();
	assert_hb(hb_mem_free_buf(buf.fd), HB_MEM_ERR_INVALID_FD);

	/* good: a close that is not the last keeps buffers alive */
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &buf));
	assert_ok(hb_mem_module_close());
	assert_ok(hb_mem_get_com_buf(buf.fd, &buf));
	assert_ok(hb_mem_free_buf(buf.fd));
}

/* ==== heaps and copies =================================================== */

static void closed_hb_mem_get_heap_size(const struct handles *h)
{
	uint64_t size;

	assert_hb(hb_mem_get_heap_size(0, &size), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_heap_size(0, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_heap_size(TestModule *m, gconstpointer d)
{
	uint64_t size, cma;

	CHECK_CLOSED(hb_mem_get_heap_size);
	assert_hb(hb_mem_get_heap_size(0, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_size(HB_MEM_USAGE_PRIV_HEAP_RESERVED, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);

	/* good; unknown heap bits mean ion_cma */
	assert_ok(hb_mem_get_heap_size(HB_MEM_USAGE_PRIV_HEAP_DMA, &cma));
	g_assert_cmpuint(cma, >, 0);
	assert_ok(hb_mem_get_heap_size(1ull << 39, &size));
	g_assert_cmpuint(size, ==, cma);
	assert_ok(hb_mem_get_heap_size(UINT64_MAX, &size));
}

static void closed_hb_mem_dma_copy(const struct handles *h)
{
	assert_hb(hb_mem_dma_copy(va(h->com.virt_addr), va(foreign_page), 16),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_dma_copy(0, 0, 0), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_dma_copy(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t a, b;
	uint8_t local[64];
	uint64_t pa, pb;

	CHECK_CLOSED(hb_mem_dma_copy);
	assert_ok(hb_mem_alloc_com_buf(8192, 0, &a));
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &b));
	pa = va(a.virt_addr);
	pb = va(b.virt_addr);
	/* NULL ends, size 0 */
	assert_hb(hb_mem_dma_copy(0, pb, 16), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(pa, 0, 16), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(pa, pb, 0), HB_MEM_ERR_INVALID_PARAMS);
	/* address + size overflows */
	assert_hb(hb_mem_dma_copy(pa, pb, UINT64_MAX), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(UINT64_MAX - 8, pb, 16),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(pa, UINT64_MAX - 8, 16),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* more than a buffer holds, at either end */
	assert_hb(hb_mem_dma_copy(pa, pb, 4097), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(pb, pa, 4097), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(pa + 8000, pb, 193),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* neither end is ours */
	assert_hb(hb_mem_dma_copy(va(local), va(foreign_page), sizeof(local)),
		  HB_MEM_ERR_INVALID_VADDR);

	/* good: ours to ours, and ours to plain memory */
	memset(b.virt_addr, 0x5A, 4096);
	assert_ok(hb_mem_dma_copy(pa + 4096, pb, 4096));
	g_assert_cmpuint(a.virt_addr[8191], ==, 0x5A);
	assert_ok(hb_mem_dma_copy(va(local), pb, sizeof(local)));
	g_assert_cmpuint(local[63], ==, 0x5A);
	assert_ok(hb_mem_free_buf(a.fd));
	assert_ok(hb_mem_free_buf(b.fd));
}

/* ==== extensions: backend and heaps ====================================== */

static void closed_hb_mem_get_backend(const struct handles *h)
{
	char name[32];
	uint32_t caps;

	assert_hb(hb_mem_get_backend(name, sizeof(name), &caps),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_backend(NULL, 0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_backend(TestModule *m, gconstpointer d)
{
	char name[32];
	uint32_t caps = 0xDEAD;

	CHECK_CLOSED(hb_mem_get_backend);
	assert_hb(hb_mem_get_backend(NULL, sizeof(name), &caps),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_backend(name, 0, &caps), HB_MEM_ERR_INVALID_PARAMS);
	g_assert_cmphex(caps, ==, 0xDEAD);

	/* good: caps may be NULL; a short buffer truncates */
	memset(name, 'x', sizeof(name));
	assert_ok(hb_mem_get_backend(name, 1, NULL));
	g_assert_cmpint(name[0], ==, '\0');
	g_assert_cmpint(name[1], ==, 'x');
	assert_ok(hb_mem_get_backend(name, sizeof(name), &caps));
	g_assert_cmpuint(strlen(name), >, 0);
	g_assert_cmphex(caps & ~(HB_MEM_BACKEND_CAP_DMABUF |
				 HB_MEM_BACKEND_CAP_PHYS |
				 HB_MEM_BACKEND_CAP_COHERENT), ==, 0);
}

static void closed_hb_mem_get_heap_count(const struct handles *h)
{
	int32_t n;

	assert_hb(hb_mem_get_heap_count(&n), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_heap_count(NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_heap_count(TestModule *m, gconstpointer d)
{
	int32_t n = -1;

	CHECK_CLOSED(hb_mem_get_heap_count);
	assert_hb(hb_mem_get_heap_count(NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_get_heap_count(&n));
	g_assert_cmpint(n, >, 0);
}

static void closed_hb_mem_get_heap_info(const struct handles *h)
{
	hb_mem_heap_info_t info;

	assert_hb(hb_mem_get_heap_info(0, &info), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_heap_info(-1, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_heap_info(TestModule *m, gconstpointer d)
{
	hb_mem_heap_info_t info;
	int32_t n;

	CHECK_CLOSED(hb_mem_get_heap_info);
	assert_ok(hb_mem_get_heap_count(&n));
	assert_hb(hb_mem_get_heap_info(0, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_info(-1, &info), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_info(INT32_MIN, &info),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_info(n, &info), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_info(INT32_MAX, &info),
		  HB_MEM_ERR_INVALID_PARAMS);

	/* good: the last heap */
	assert_ok(hb_mem_get_heap_info(n - 1, &info));
	g_assert_cmpuint(strnlen(info.name, sizeof(info.name)), <,
			 sizeof(info.name));
	g_assert_cmpuint(info.used, <=, info.capacity);
}

/* ==== hb_mem_err.h ======================================================= */

static void closed_hb_mem_strerror(const struct handles *h)
{
	char buf[HB_MEM_ERR_MAX_STR_SIZE];

	/* needs no module */
	assert_ok(hb_mem_strerror(HB_MEM_ERR_MODULE_NOT_FOUND, buf,
				  sizeof(buf)));
	assert_hb(hb_mem_strerror(0, NULL, 0), HB_MEM_ERR_INVALID_PARAMS);
}

static void test_hb_mem_strerror(TestModule *m, gconstpointer d)
{
	static const int32_t unknown[] = {
		1, -1, 22, -22, INT32_MAX, INT32_MIN, (int32_t)0xFF000000,
		(int32_t)0xFF000017, (int32_t)0xFF0000FF, (int32_t)0xFE000002,
	};
	char buf[HB_MEM_ERR_MAX_STR_SIZE];
	size_t i;

	CHECK_CLOSED(hb_mem_strerror);
	assert_hb(hb_mem_strerror(HB_MEM_ERR_TIMEOUT, NULL, sizeof(buf)),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_strerror(HB_MEM_ERR_TIMEOUT, buf, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* unknown codes still get a text */
	for (i = 0; i < G_N_ELEMENTS(unknown); i++) {
		buf[0] = '\0';
		assert_hb(hb_mem_strerror(unknown[i], buf, sizeof(buf)),
			  HB_MEM_ERR_UNKNOWN);
		g_assert_cmpuint(strlen(buf), >, 0);
	}
	/* a one-byte buffer holds the terminator only */
	buf[0] = 'x';
	assert_ok(hb_mem_strerror(HB_MEM_ERR_TIMEOUT, buf, 1));
	g_assert_cmpint(buf[0], ==, '\0');

	/* good: every code has its own text */
	for (i = 1; i <= 0x16; i++) {
		assert_ok(hb_mem_strerror((int32_t)(0xFF000000u | i), buf,
					  sizeof(buf)));
		g_assert_cmpuint(strlen(buf), >, 0);
		g_assert_null(strstr(buf, "unknown error code"));
	}
}

/* ==== registration ======================================================= */

int main(int argc, char **argv)
{
	badinput_init(&argc, &argv);
	/* hb_mem_mgr.h: module */
	ADD(hb_mem_get_version);
	ADD(hb_mem_module_open);
	ADD(hb_mem_module_close);
	/* heaps and copies */
	ADD(hb_mem_get_heap_size);
	ADD(hb_mem_dma_copy);
	/* hb_mem_ext.h */
	ADD(hb_mem_get_backend);
	ADD(hb_mem_get_heap_count);
	ADD(hb_mem_get_heap_info);
	/* hb_mem_err.h */
	ADD(hb_mem_strerror);
	return g_test_run();
}
