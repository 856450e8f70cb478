// SPDX-License-Identifier: MIT
/*
 * Module life: version, counted open/close, what close releases, the
 * backend choice.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"

static void test_version_needs_all_pointers(void)
{
	uint32_t a, b, c;

	assert_hb(hb_mem_get_version(NULL, &b, &c), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_version(&a, NULL, &c), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_version(&a, &b, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_get_version(&a, &b, &c));
	g_assert_cmpuint(a, ==, 1);
}

static void test_calls_before_open_report_module_not_found(void)
{
	hb_mem_common_buf_t buf;
	char name[16];

	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_alloc_com_buf(4096, 0, &buf),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_free_buf(3), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_backend(name, sizeof(name), NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_open_is_counted_until_last_close(void)
{
	hb_mem_common_buf_t buf;

	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &buf));
	assert_ok(hb_mem_module_close());
	/* still open: the buffer is still there */
	assert_ok(hb_mem_get_com_buf(buf.fd, &buf));
	assert_ok(hb_mem_module_close());
	assert_hb(hb_mem_get_com_buf(buf.fd, &buf), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_last_close_releases_every_buffer(void)
{
	int fds = test_count_fds(), maps = test_count_maps();
	int32_t w[8] = { 64, 64 }, h[8] = { 48, 48 };
	int32_t f[8] = { MEM_PIX_FMT_NV12, MEM_PIX_FMT_YUV420P };
	int64_t fl[8] = { 0 };
	int32_t s[8] = { 0 }, vs[8] = { 0 };
	hb_mem_graphic_buf_group_t group;
	hb_mem_graphic_buf_t graph, imp;
	hb_mem_common_buf_t com;
	int i;

	assert_ok(hb_mem_module_open());
	for (i = 0; i < 10; i++)
		assert_ok(hb_mem_alloc_com_buf(100000, 0, &com));
	assert_ok(hb_mem_alloc_graph_buf(640, 480, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &graph));
	assert_ok(hb_mem_import_graph_buf(&graph, &imp));
	assert_ok(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &group, 3));
	g_assert_cmpint(test_count_fds(), >, fds);
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, fds);
#if !defined(__SANITIZE_THREAD__)
	/* (TSan keeps shadow mappings of what was unmapped) */
	g_assert_cmpint(test_count_maps(), ==, maps);
#else
	(void)maps;
#endif

	/* and the heaps are empty again on the next open */
	assert_ok(hb_mem_module_open());
	g_assert_cmpuint(test_heaps_used(), ==, 0);
	assert_ok(hb_mem_module_close());
}

static void test_backend_is_queryable(void)
{
	char name[32];
	uint32_t caps = 0;

	assert_ok(hb_mem_module_open());
	assert_hb(hb_mem_get_backend(NULL, 8, &caps), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_backend(name, 0, &caps), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_get_backend(name, sizeof(name), &caps));
	g_assert_true(!strcmp(name, "memfd") || !strcmp(name, "udmabuf") ||
		      !strcmp(name, "dma-heap") || !strcmp(name, "hbmem"));
	if (!strcmp(name, "memfd"))
		g_assert_cmphex(caps, ==, HB_MEM_BACKEND_CAP_COHERENT);
	else
		g_assert_true(caps & HB_MEM_BACKEND_CAP_DMABUF);
	assert_ok(hb_mem_module_close());
}

static void test_backend_override_picks_memfd(void)
{
	char name[32];

	g_setenv("HBMEM_BACKEND", "memfd", TRUE);
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	g_assert_cmpstr(name, ==, "memfd");
	assert_ok(hb_mem_module_close());
	g_unsetenv("HBMEM_BACKEND");
}

static void test_unknown_backend_override_fails_to_open(void)
{
	g_setenv("HBMEM_BACKEND", "no-such-backend", TRUE);
	assert_hb(hb_mem_module_open(), HB_MEM_ERR_MODULE_OPEN_FAIL);
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	g_unsetenv("HBMEM_BACKEND");
}

/*
 * A mount namespace of our own whose mounts do not propagate back. The
 * source and type are ignored for a propagation change; they are named
 * anyway, since valgrind counts a NULL there as an error (and the child's
 * exit status then says so).
 */
static bool private_mounts(void)
{
	return unshare(CLONE_NEWNS) == 0 &&
	       mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0;
}

/*
 * Run @child in a forked child (bounded by alarm()): its exit status 0
 * passes, 77 skips the test with @skip_why, anything else fails it.
 */
static void run_child(int (*child)(void), const char *skip_why)
{
	int status;
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		alarm(20);
		_exit(child());
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		g_test_skip(skip_why);
		return;
	}
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/*
 * In a child with its own mount namespace, /dev is a fresh nodev tmpfs
 * holding only /dev/dma_heap/system (a character device, so access()
 * says it is readable while open() is refused with EACCES, as in a
 * container whose /dev is mounted nodev). The automatic choice must not
 * take the dma-heap backend it could not allocate from: it falls through
 * to memfd, and an allocation works. Exit status: 0 ok, 77 no namespace
 * here, 1 wrong backend, 2 allocation failed.
 */
static int dead_dma_heap_node_child(void)
{
	hb_mem_common_buf_t buf;
	char name[32];
	int ret;

	if (!private_mounts() ||
	    mount("tmpfs", "/dev", "tmpfs", MS_NODEV, "mode=0755") < 0 ||
	    mkdir("/dev/dma_heap", 0755) < 0 ||
	    mknod("/dev/dma_heap/system", S_IFCHR | 0666, makedev(1, 3)) < 0)
		return 77;
	if (access("/dev/dma_heap/system", R_OK) < 0 ||
	    open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC) >= 0)
		return 77;	/* not the situation under test */
	unsetenv("HBMEM_BACKEND");
	setenv("HBMEM_AUTOSPAWN", "0", 1);
	if (hb_mem_module_open())
		return 1;
	ret = hb_mem_get_backend(name, sizeof(name), NULL) ||
	      strcmp(name, "memfd") ? 1 : 0;
	if (ret == 0 && hb_mem_alloc_com_buf(4096, 0, &buf))
		ret = 2;
	hb_mem_module_close();
	return ret;
}

static void test_unopenable_dma_heap_node_is_not_chosen(void)
{
	if (geteuid() != 0) {
		g_test_skip("needs root for a private /dev");
		return;
	}
	run_child(dead_dma_heap_node_child,
		  "no private mount namespace with a nodev /dev here");
}

/*
 * In a child with its own mount namespace, the kernel driver's heap nodes
 * are hidden (an empty tmpfs on /dev/dma_heap) while its control device
 * still answers, as for a user given /dev/hbmem but not the heap nodes.
 * The driver backend can then allocate nothing: it must be neither chosen
 * nor open when forced, and the choice goes on to one that allocates.
 * Exit status: 0 ok, 77 no namespace here, 1 driver chosen, 2 allocation
 * failed, 3 forced open worked.
 */
static int hidden_heap_nodes_child(void)
{
	hb_mem_common_buf_t buf;
	char name[32];
	int ret;

	if (!private_mounts() ||
	    mount("tmpfs", "/dev/dma_heap", "tmpfs", MS_NODEV, "mode=0755") < 0)
		return 77;
	setenv("HBMEM_AUTOSPAWN", "0", 1);
	setenv("HBMEM_BACKEND", "hbmem", 1);
	if (hb_mem_module_open() == 0) {
		hb_mem_module_close();
		return 3;
	}
	unsetenv("HBMEM_BACKEND");
	if (hb_mem_module_open())
		return 1;
	ret = hb_mem_get_backend(name, sizeof(name), NULL) ||
	      !strcmp(name, "hbmem") ? 1 : 0;
	if (ret == 0 && hb_mem_alloc_com_buf(4096, 0, &buf))
		ret = 2;
	hb_mem_module_close();
	return ret;
}

static void test_driver_without_heap_nodes_is_not_chosen(void)
{
	if (geteuid() != 0 || access("/dev/hbmem", F_OK) < 0 ||
	    access("/dev/dma_heap", F_OK) < 0) {
		g_test_skip("needs root and the kernel driver");
		return;
	}
	run_child(hidden_heap_nodes_child, "no private mount namespace here");
}

#define UDMABUF_LIMIT "/sys/module/udmabuf/parameters/size_limit_mb"

/* A sysfs parameter takes one write(), in place (no rename). */
static void set_udmabuf_limit(const char *mb)
{
	int fd = open(UDMABUF_LIMIT, O_WRONLY | O_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, mb, strlen(mb)), ==, (ssize_t)strlen(mb));
	close(fd);
}

/* Open on udmabuf; a 4 KiB buffer works, a 2 MiB one is no room. */
static void udmabuf_small_only(void)
{
	hb_mem_common_buf_t buf;
	char name[32];
	int fds;

	g_setenv("HBMEM_BACKEND", "udmabuf", TRUE);
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	g_assert_cmpstr(name, ==, "udmabuf");
	assert_ok(hb_mem_alloc_com_buf(4096, HB_MEM_USAGE_CACHED, &buf));
	assert_ok(hb_mem_free_buf(buf.fd));
	fds = test_count_fds();
	assert_hb(hb_mem_alloc_com_buf(2 << 20, HB_MEM_USAGE_CACHED, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpint(test_count_fds(), ==, fds);
	assert_ok(hb_mem_module_close());
}

/*
 * udmabuf's size_limit_mb (writable at run time; only in a guest with
 * /dev/udmabuf, run as root): 0 refuses every buffer, so the backend must
 * not be usable, neither chosen nor forced; a small limit leaves small
 * buffers working and makes bigger ones INSUFFICIENT_MEM, also when it was
 * lowered after the module opened (the driver then says EINVAL).
 */
static void test_udmabuf_size_limit_is_honoured(void)
{
	char *saved = NULL, *backend = g_strdup(g_getenv("HBMEM_BACKEND"));
	hb_mem_common_buf_t buf;
	char name[32];
	int fds;

	if (access("/dev/udmabuf", R_OK | W_OK) < 0 ||
	    access(UDMABUF_LIMIT, W_OK) < 0 ||
	    !g_file_get_contents(UDMABUF_LIMIT, &saved, NULL, NULL)) {
		g_test_skip("needs /dev/udmabuf and a writable " UDMABUF_LIMIT);
		g_free(backend);
		return;
	}

	set_udmabuf_limit("0");
	g_unsetenv("HBMEM_BACKEND");
	g_setenv("HBMEM_AUTOSPAWN", "0", TRUE);
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	g_assert_cmpstr(name, !=, "udmabuf");
	assert_ok(hb_mem_module_close());
	g_setenv("HBMEM_BACKEND", "udmabuf", TRUE);
	assert_hb(hb_mem_module_open(), HB_MEM_ERR_MODULE_OPEN_FAIL);

	set_udmabuf_limit("1");
	udmabuf_small_only();

	/* lowered while open: the driver's EINVAL is no room too */
	set_udmabuf_limit("64");
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_alloc_com_buf(2 << 20, HB_MEM_USAGE_CACHED, &buf));
	assert_ok(hb_mem_free_buf(buf.fd));
	set_udmabuf_limit("1");
	fds = test_count_fds();
	assert_hb(hb_mem_alloc_com_buf(2 << 20, HB_MEM_USAGE_CACHED, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpint(test_count_fds(), ==, fds);
	set_udmabuf_limit("0");
	assert_hb(hb_mem_alloc_com_buf(4096, HB_MEM_USAGE_CACHED, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpint(test_count_fds(), ==, fds);
	assert_ok(hb_mem_module_close());

	set_udmabuf_limit(saved);
	g_free(saved);
	g_unsetenv("HBMEM_AUTOSPAWN");
	if (backend)
		g_setenv("HBMEM_BACKEND", backend, TRUE);
	else
		g_unsetenv("HBMEM_BACKEND");
	g_free(backend);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/module/version-needs-all-pointers",
			test_version_needs_all_pointers);
	g_test_add_func("/module/calls-before-open-report-module-not-found",
			test_calls_before_open_report_module_not_found);
	g_test_add_func("/module/open-is-counted-until-last-close",
			test_open_is_counted_until_last_close);
	g_test_add_func("/module/last-close-releases-every-buffer",
			test_last_close_releases_every_buffer);
	g_test_add_func("/module/backend-is-queryable",
			test_backend_is_queryable);
	g_test_add_func("/module/backend-override-picks-memfd",
			test_backend_override_picks_memfd);
	g_test_add_func("/module/unknown-backend-override-fails-to-open",
			test_unknown_backend_override_fails_to_open);
	g_test_add_func("/module/unopenable-dma-heap-node-is-not-chosen",
			test_unopenable_dma_heap_node_is_not_chosen);
	g_test_add_func("/module/udmabuf-size-limit-is-honoured",
			test_udmabuf_size_limit_is_honoured);
	g_test_add_func("/module/driver-without-heap-nodes-is-not-chosen",
			test_driver_without_heap_nodes_is_not_chosen);
	return g_test_run();
}
