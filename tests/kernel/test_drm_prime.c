// SPDX-License-Identifier: GPL-2.0
/*
 * DRM PRIME import of hbmem buffers into vgem through libdrm: the import
 * attaches and maps our dma-buf for the vgem device, exporting the GEM
 * handle again gives back our buffer, and vgem's own CPU mapping of the
 * imported object (which goes through our mmap) sees our data.
 */
#include "ktest.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <xf86drm.h>

static struct kheap heaps[KTEST_MAX_HEAPS];
static int nheaps;

static int open_vgem(void)
{
	char path[64];
	int i, fd;

	for (i = 0; i < 16; i++) {
		drmVersionPtr v;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && !strcmp(v->name, "vgem")) {
			drmFreeVersion(v);
			return fd;
		}
		if (v)
			drmFreeVersion(v);
		close(fd);
	}
	return -1;
}

static int test_prime_import_into_vgem_and_back(void *arg)
{
	const struct kheap *h = arg;
	const size_t len = 256 * 1024;
	struct hbmem_buf_info a, b;
	uint32_t handle, handle2;
	struct stat sa, sb;
	int drm, fd, fd2, ctl;
	unsigned char *p, *q;
	struct drm_mode_map_dumb map = { 0 };

	drm = open_vgem();
	if (drm < 0)
		return ktest_skip("no vgem device (modprobe vgem)");
	ctl = ktest_ctl_open();
	fd = ktest_heap_alloc_path(h->path, len, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0, "alloc: %s", strerror(-fd));

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	KTEST_CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	ktest_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	for (size_t i = 0; i < len; i += 4)
		*(uint32_t *)(p + i) = (uint32_t)i ^ 0xa5a5a5a5u;
	ktest_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);

	KTEST_CHECK(!drmPrimeFDToHandle(drm, fd, &handle),
		    "drmPrimeFDToHandle: %s", strerror(errno));
	KTEST_CHECK(!drmPrimeFDToHandle(drm, fd, &handle2) && handle2 == handle,
		    "a second import gave another handle");

	/* CPU access with a device attached syncs for that device too. */
	KTEST_CHECK(!ktest_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW) &&
		    !ktest_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW),
		    "sync with vgem attached failed");

	KTEST_CHECK(!drmPrimeHandleToFD(drm, handle, DRM_CLOEXEC | DRM_RDWR, &fd2),
		    "drmPrimeHandleToFD: %s", strerror(errno));
	KTEST_CHECK(!fstat(fd, &sa) && !fstat(fd2, &sb) && sa.st_ino == sb.st_ino,
		    "exporting the import gave a different dma-buf");
	KTEST_CHECK(!ktest_buf_info(ctl, fd2, &b) && !ktest_buf_info(ctl, fd, &a) &&
		    a.share_id == b.share_id, "the re-export is not our buffer");

	/* vgem maps imported objects through the exporter's mmap. */
	map.handle = handle;
	if (!drmIoctl(drm, DRM_IOCTL_MODE_MAP_DUMB, &map)) {
		q = mmap(NULL, len, PROT_READ, MAP_SHARED, drm, map.offset);
		KTEST_CHECK(q != MAP_FAILED, "mmap of the vgem object: %s",
			    strerror(errno));
		for (size_t i = 0; i < len; i += 4)
			KTEST_CHECK(*(uint32_t *)(q + i) == ((uint32_t)i ^ 0xa5a5a5a5u),
				    "vgem's mapping differs at %zu", i);
		munmap(q, len);
	}

	KTEST_CHECK(!drmCloseBufferHandle(drm, handle), "closing the GEM handle");
	close(fd2);
	munmap(p, len);
	close(fd);
	close(drm);
	return KTEST_PASS;
}

static int test_foreign_dmabuf_is_not_ours(void *arg)
{
	struct drm_mode_create_dumb cd = { .width = 64, .height = 64, .bpp = 32 };
	struct hbmem_buf_info info;
	int drm, fd, ctl;

	(void)arg;
	drm = open_vgem();
	if (drm < 0)
		return ktest_skip("no vgem device");
	ctl = ktest_ctl_open();
	KTEST_CHECK(!drmIoctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &cd),
		    "vgem dumb create: %s", strerror(errno));
	KTEST_CHECK(!drmPrimeHandleToFD(drm, cd.handle, DRM_CLOEXEC | DRM_RDWR, &fd),
		    "export of a vgem object: %s", strerror(errno));
	KTEST_CHECK(ktest_buf_info(ctl, fd, &info) == -EINVAL,
		    "a vgem dma-buf was taken for ours");
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_GET, fd, 0, 0) == -EINVAL,
		    "share count of a vgem dma-buf");
	close(fd);
	close(drm);
	return KTEST_PASS;
}

int main(void)
{
	static char names[KTEST_MAX_HEAPS][96];
	struct ktest all[KTEST_MAX_HEAPS + 1];
	size_t n = 0;
	int i;

	nheaps = ktest_heaps(heaps, KTEST_MAX_HEAPS);
	if (nheaps <= 0) {
		printf("SKIP drm: no hbmem module\n");
		return 77;
	}
	for (i = 0; i < nheaps; i++) {
		snprintf(names[i], sizeof(names[i]),
			 "drm/%s/prime_import_into_vgem_and_back", heaps[i].info.name);
		all[n++] = (struct ktest){ names[i], test_prime_import_into_vgem_and_back,
					   &heaps[i], 0 };
	}
	all[n++] = (struct ktest)KTEST("drm/foreign_dmabuf_is_not_taken_for_ours",
				       test_foreign_dmabuf_is_not_ours);
	return ktest_main(all, n);
}
