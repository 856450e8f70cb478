// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifetime: hbmem.ko refuses to unload while any buffer it
 * exported lives (held by an fd, a mapping, or only by an importing
 * device), unloads once the last one is gone, and loads again with the
 * same parameters. Needs HBMEM_KO and HBMEM_MODULE_ARGS, which
 * run-in-guest.sh sets; run it last, as it takes the module away.
 */
#include "ktest.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <xf86drm.h>

static struct kheap heaps[KTEST_MAX_HEAPS];
static int nheaps;

static int unload(void)
{
	return syscall(SYS_delete_module, "hbmem", O_NONBLOCK) ? -errno : 0;
}

static int load_args(const char *args)
{
	const char *ko = getenv("HBMEM_KO");
	int fd, ret;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, args, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int load(void)
{
	const char *args = getenv("HBMEM_MODULE_ARGS");

	return load_args(args ? args : "");
}

static int loaded(void)
{
	return access("/sys/module/hbmem", F_OK) == 0;
}

static int refused(int r)
{
	return (r == -EAGAIN || r == -EBUSY) && loaded();
}

static int test_unload_refused_while_a_buffer_lives(void *arg)
{
	int fd, imp, ctl, r;
	struct hbmem_buf_info info;
	unsigned char *p;

	(void)arg;
	fd = ktest_heap_alloc_path(heaps[0].path, 65536, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0, "alloc: %s", strerror(-fd));

	/* Held by an fd. */
	r = unload();
	KTEST_CHECK(refused(r), "unload with a live buffer gave %d", r);

	/* Held by a mapping only. */
	p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	KTEST_CHECK(p != MAP_FAILED, "mmap");
	p[100] = 42;
	close(fd);
	r = unload();
	KTEST_CHECK(refused(r), "unload with a mapped buffer gave %d", r);
	KTEST_CHECK(p[100] == 42, "the mapping lost its data");
	munmap(p, 65536);

	/* Held by an import, the allocator's fd gone. */
	ctl = ktest_ctl_open();
	fd = ktest_heap_alloc_path(heaps[0].path, 4096, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0 && !ktest_buf_info(ctl, fd, &info), "alloc");
	imp = ktest_import(ctl, info.share_id, 0, 0);
	KTEST_CHECK(imp >= 0, "import");
	close(fd);
	close(ctl);
	r = unload();
	KTEST_CHECK(refused(r), "unload with an imported buffer gave %d", r);
	close(imp);
	return KTEST_PASS;
}

static int test_unload_refused_while_a_device_holds_a_buffer(void *arg)
{
	char path[32];
	uint32_t handle = 0;
	int drm = -1, fd, i, r;

	(void)arg;
	for (i = 0; i < 16 && drm < 0; i++) {
		drmVersionPtr v;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		drm = open(path, O_RDWR | O_CLOEXEC);
		if (drm < 0)
			continue;
		v = drmGetVersion(drm);
		if (!v || strcmp(v->name, "vgem")) {
			close(drm);
			drm = -1;
		}
		if (v)
			drmFreeVersion(v);
	}
	if (drm < 0)
		return ktest_skip("no vgem device");

	fd = ktest_heap_alloc_path(heaps[0].path, 65536, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0, "alloc");
	KTEST_CHECK(!drmPrimeFDToHandle(drm, fd, &handle), "PRIME import: %s",
		    strerror(errno));
	close(fd);
	r = unload();
	KTEST_CHECK(refused(r), "unload with a buffer held only by vgem gave %d", r);
	drmCloseBufferHandle(drm, handle);
	close(drm);
	return KTEST_PASS;
}

static int test_unload_refused_while_a_device_node_is_open(void *arg)
{
	int ctl, r;

	(void)arg;
	ctl = ktest_ctl_open();
	KTEST_CHECK(ctl >= 0, "open /dev/hbmem");
	r = unload();
	KTEST_CHECK(refused(r), "unload with /dev/hbmem open gave %d", r);
	close(ctl);
	return KTEST_PASS;
}

static int test_unloads_after_last_buffer_and_reloads(void *arg)
{
	struct kheap again[KTEST_MAX_HEAPS];
	int r, i, n;

	(void)arg;
	if (!getenv("HBMEM_KO") || !*getenv("HBMEM_KO"))
		return ktest_skip("HBMEM_KO not set (run under run-in-guest.sh)");

	/* Buffers held by devices go asynchronously; give them a moment. */
	for (i = 0; i < 50 && (r = unload()) == -EAGAIN; i++)
		usleep(100 * 1000);
	KTEST_CHECK(r == 0, "unload after every buffer was freed gave %d (%s)", r,
		    strerror(-r));
	KTEST_CHECK(!loaded(), "/sys/module/hbmem still there");
	for (i = 0; i < 50 && access("/dev/hbmem", F_OK) == 0; i++)
		usleep(100 * 1000);
	KTEST_CHECK(access("/dev/hbmem", F_OK) && access(heaps[0].path, F_OK),
		    "device nodes outlived the module");

	r = load();
	KTEST_CHECK(r == 0, "reloading %s: %s", getenv("HBMEM_KO"), strerror(-r));
	for (i = 0; i < 50 && access("/dev/hbmem", F_OK); i++)
		usleep(100 * 1000);
	n = ktest_heaps(again, KTEST_MAX_HEAPS);
	KTEST_CHECK(n == nheaps, "after reload %d heaps, before %d", n, nheaps);
	for (i = 0; i < n; i++)
		KTEST_CHECK(!strcmp(again[i].info.name, heaps[i].info.name) &&
			    (again[i].info.free == heaps[i].info.free ||
			     again[i].info.type == HBMEM_HEAP_TYPE_PAGES),
			    "heap %d differs after reload", i);
	r = ktest_heap_alloc_path(again[0].path, 4096, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(r >= 0, "allocating after reload: %s", strerror(-r));
	close(r);
	return KTEST_PASS;
}

/*
 * Two carveouts over the same physical memory would hand the same pages to
 * two owners: a module load naming overlapping ranges must fail, and leave
 * nothing behind. Ends with the module loaded as before.
 */
static int test_overlapping_carveouts_refused(void *arg)
{
	const struct kheap *c;
	unsigned long long base;
	char args[256];
	int r, i;

	(void)arg;
	if (!getenv("HBMEM_KO") || !*getenv("HBMEM_KO"))
		return ktest_skip("HBMEM_KO not set (run under run-in-guest.sh)");
	c = ktest_heap_find(heaps, nheaps, HBMEM_HEAP_TYPE_CARVEOUT, 0, 0);
	if (!c || !c->info.base || c->info.size < (8 << 20))
		return ktest_skip("no carveout of 8 MiB with a known base");
	base = c->info.base;

	for (i = 0; i < 50 && (r = unload()) == -EAGAIN; i++)
		usleep(100 * 1000);
	KTEST_CHECK(r == 0, "unload: %s", strerror(-r));

	/* partly overlapping, then the very same range twice */
	snprintf(args, sizeof(args),
		 "carveout=ovl_a:4M@%#llx,ovl_b:4M@%#llx page_heap=",
		 base, base + (2 << 20));
	r = load_args(args);
	if (r == 0)
		unload();
	KTEST_CHECK(r == -EBUSY, "loading with %s gave %d, not EBUSY", args, r);
	snprintf(args, sizeof(args),
		 "carveout=ovl_a:4M@%#llx,ovl_b:4M@%#llx page_heap=", base, base);
	r = load_args(args);
	if (r == 0)
		unload();
	KTEST_CHECK(r == -EBUSY, "loading with %s gave %d, not EBUSY", args, r);
	/* touching is not overlapping */
	snprintf(args, sizeof(args),
		 "carveout=ovl_a:4M@%#llx,ovl_b:4M@%#llx page_heap=",
		 base + (4 << 20), base);
	r = load_args(args);
	KTEST_CHECK(r == 0, "loading with %s: %s", args, strerror(-r));
	KTEST_CHECK(unload() == 0, "unloading the adjacent carveouts");
	KTEST_CHECK(!loaded(), "a refused load left the module behind");

	r = load();
	KTEST_CHECK(r == 0, "reloading %s: %s", getenv("HBMEM_KO"), strerror(-r));
	return KTEST_PASS;
}

/*
 * A heap named "." or ".." would get the device node /dev/dma_heap/. or
 * /dev/dma_heap/.., which devtmpfs cannot create: a heap nobody can reach.
 * Such names must fail the load. Ends with the module loaded as before.
 */
static int test_dot_heap_names_refused(void *arg)
{
	static const char *const bad[] = {
		"page_heap=..", "page_heap=.",
		"carveout=..:4M@0x30000000 page_heap=",
	};
	unsigned int i;
	int r, n;

	(void)arg;
	if (!getenv("HBMEM_KO") || !*getenv("HBMEM_KO"))
		return ktest_skip("HBMEM_KO not set (run under run-in-guest.sh)");
	for (n = 0; n < 50 && (r = unload()) == -EAGAIN; n++)
		usleep(100 * 1000);
	KTEST_CHECK(r == 0, "unload: %s", strerror(-r));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = load_args(bad[i]);
		if (r == 0)
			unload();
		KTEST_CHECK(r == -EINVAL, "loading with %s gave %d, not EINVAL",
			    bad[i], r);
	}
	r = load_args("page_heap=.a..b");
	KTEST_CHECK(r == 0, "loading with page_heap=.a..b: %s", strerror(-r));
	for (n = 0; n < 50 && access("/dev/dma_heap/.a..b", F_OK); n++)
		usleep(100 * 1000);
	KTEST_CHECK(!access("/dev/dma_heap/.a..b", F_OK), "no node for heap .a..b");
	KTEST_CHECK(unload() == 0, "unloading the .a..b heap");

	r = load();
	KTEST_CHECK(r == 0, "reloading %s: %s", getenv("HBMEM_KO"), strerror(-r));
	return KTEST_PASS;
}

static const struct ktest tests[] = {
	KTEST("unload/refused_while_a_buffer_lives", test_unload_refused_while_a_buffer_lives),
	KTEST("unload/refused_while_only_a_device_holds_a_buffer",
	      test_unload_refused_while_a_device_holds_a_buffer),
	KTEST("unload/refused_while_a_device_node_is_open",
	      test_unload_refused_while_a_device_node_is_open),
	KTEST("unload/succeeds_after_last_buffer_is_freed_and_reloads",
	      test_unloads_after_last_buffer_and_reloads),
	KTEST("unload/overlapping_carveouts_refused",
	      test_overlapping_carveouts_refused),
	KTEST("unload/dot_heap_names_refused", test_dot_heap_names_refused),
};

int main(void)
{
	nheaps = ktest_heaps(heaps, KTEST_MAX_HEAPS);
	if (nheaps <= 0) {
		printf("SKIP unload: no hbmem module\n");
		return 77;
	}
	if (geteuid() != 0) {
		printf("SKIP unload: needs root\n");
		return 77;
	}
	return ktest_main(tests, sizeof(tests) / sizeof(tests[0]));
}
