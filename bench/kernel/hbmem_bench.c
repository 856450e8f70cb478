// SPDX-License-Identifier: GPL-2.0
/*
 * hbmem_bench - allocation and import latency of hbmem.ko against memfd,
 * measured in the same (guest) system.
 *
 *   alloc_free   allocate, map, unmap, free: DMA_HEAP_IOCTL_ALLOC + mmap +
 *                munmap + close, against memfd_create + ftruncate + mmap +
 *                munmap + close. hbmem hands out zeroed memory; memfd
 *                defers that to the first touch of each page.
 *   touch        the same, writing one byte per page before unmapping, so
 *                both sides pay for zeroed pages.
 *   import       HBMEM_IOC_IMPORT by share id + close, against passing the
 *                fd over a unix socket with SCM_RIGHTS + close (how a
 *                process shares a buffer without the driver).
 *
 * Prints median and p99 per case, and "ratio <name> <value>" lines, each
 * ours / peer in time per operation: lower is better.
 *
 * usage: hbmem_bench [carveout-heap [page-heap]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/hbmem.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double median;
	double p99;
};

static struct result summarise(double *t, int n)
{
	struct result r;

	qsort(t, n, sizeof(*t), cmp_double);
	r.median = t[n / 2];
	r.p99 = t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
	return r;
}

static void touch(unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 4096)
		p[i] = 1;
}

static int heap_cycle(int heap, size_t len, int do_touch)
{
	struct dma_heap_allocation_data d = {
		.len = len, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	void *p;

	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d))
		return -errno;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, 0);
	if (p == MAP_FAILED) {
		close(d.fd);
		return -errno;
	}
	if (do_touch)
		touch(p, len);
	munmap(p, len);
	close(d.fd);
	return 0;
}

static int memfd_cycle(size_t len, int do_touch)
{
	int fd = memfd_create("bench", MFD_CLOEXEC);
	void *p;

	if (fd < 0 || ftruncate(fd, len))
		return -errno;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	if (do_touch)
		touch(p, len);
	munmap(p, len);
	close(fd);
	return 0;
}

static int iterations(size_t len)
{
	if (len >= 16 << 20)
		return 40;
	if (len >= 1 << 20)
		return 200;
	return 1000;
}

/* Runs one case; returns the median in microseconds, or -1. */
static double run_case(const char *name, int heap, size_t len, int do_touch)
{
	int n = iterations(len), i, ret;
	double *t = calloc(n, sizeof(*t));
	struct result r;

	for (i = 0; i < n; i++) {
		double t0 = now_us();

		ret = heap >= 0 ? heap_cycle(heap, len, do_touch) :
				  memfd_cycle(len, do_touch);
		t[i] = now_us() - t0;
		if (ret) {
			printf("%-34s failed: %s\n", name, strerror(-ret));
			free(t);
			return -1;
		}
	}
	r = summarise(t, n);
	printf("%-34s n=%-5d median %10.1f us  p99 %10.1f us\n", name, n,
	       r.median, r.p99);
	free(t);
	return r.median;
}

static void ratio(const char *name, double ours, double peer)
{
	if (ours > 0 && peer > 0)
		printf("ratio %s %.3f\n", name, ours / peer);
}

static int send_fd(int sock, int fd)
{
	char c = 0, buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char c, buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void bench_import(int heap)
{
	struct dma_heap_allocation_data d = { .len = 1 << 20,
					      .fd_flags = O_RDWR | O_CLOEXEC };
	struct hbmem_buf_info info = { 0 };
	const int n = 2000;
	double *t = calloc(n, sizeof(*t)), ours, peer;
	struct result r;
	int ctl, sv[2], i;

	ctl = open("/dev/hbmem", O_RDWR | O_CLOEXEC);
	if (ctl < 0 || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d)) {
		printf("import: setup failed: %s\n", strerror(errno));
		return;
	}
	info.fd = d.fd;
	if (ioctl(ctl, HBMEM_IOC_BUF_INFO, &info)) {
		printf("import: BUF_INFO failed: %s\n", strerror(errno));
		return;
	}

	for (i = 0; i < n; i++) {
		struct hbmem_import imp = { .share_id = info.share_id,
					    .fd_flags = O_RDWR | O_CLOEXEC };
		double t0 = now_us();

		if (ioctl(ctl, HBMEM_IOC_IMPORT, &imp)) {
			printf("import failed: %s\n", strerror(errno));
			return;
		}
		close(imp.fd);
		t[i] = now_us() - t0;
	}
	r = summarise(t, n);
	ours = r.median;
	printf("%-34s n=%-5d median %10.1f us  p99 %10.1f us\n",
	       "import_by_share_id+close", n, r.median, r.p99);

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	for (i = 0; i < n; i++) {
		double t0 = now_us();
		int fd;

		if (send_fd(sv[0], d.fd) || (fd = recv_fd(sv[1])) < 0) {
			printf("SCM_RIGHTS failed\n");
			return;
		}
		close(fd);
		t[i] = now_us() - t0;
	}
	r = summarise(t, n);
	peer = r.median;
	printf("%-34s n=%-5d median %10.1f us  p99 %10.1f us\n",
	       "scm_rights_send_recv+close", n, r.median, r.p99);
	ratio("import_by_share_id_vs_scm_rights", ours, peer);
	close(sv[0]);
	close(sv[1]);
	close(d.fd);
	close(ctl);
	free(t);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 1 << 20, 16 << 20 };
	static const char *const size_names[] = { "4k", "1m", "16m" };
	const char *carveout = argc > 1 ? argv[1] : "carveout";
	const char *pages = argc > 2 ? argv[2] : "hbmem_system";
	char path[128], name[64];
	int heaps[2], h, s, do_touch;
	const char *hname[2] = { carveout, pages };

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (h = 0; h < 2; h++) {
		snprintf(path, sizeof(path), "/dev/dma_heap/%s", hname[h]);
		heaps[h] = open(path, O_RDWR | O_CLOEXEC);
		if (heaps[h] < 0) {
			fprintf(stderr, "hbmem_bench: %s: %s\n", path, strerror(errno));
			return 77;
		}
	}

	for (do_touch = 0; do_touch < 2; do_touch++) {
		const char *what = do_touch ? "touch" : "alloc_free";

		for (s = 0; s < 3; s++) {
			double peer, ours;

			snprintf(name, sizeof(name), "memfd_%s_%s", what, size_names[s]);
			peer = run_case(name, -1, sizes[s], do_touch);
			for (h = 0; h < 2; h++) {
				snprintf(name, sizeof(name), "%s_%s_%s",
					 h ? "pages" : "carveout", what, size_names[s]);
				ours = run_case(name, heaps[h], sizes[s], do_touch);
				ratio(name, ours, peer);
			}
		}
	}
	bench_import(heaps[0]);
	return 0;
}
