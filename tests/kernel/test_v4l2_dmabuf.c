// SPDX-License-Identifier: GPL-2.0
/*
 * V4L2 import of hbmem buffers: vivid's capture and output devices stream
 * with V4L2_MEMORY_DMABUF on buffers from our heaps, queued through
 * libv4l2. The guest loads two vivid instances, the first with the
 * vmalloc allocator (imports through our vmap) and the second with
 * dma-contig (imports through attach/map, needs contiguous memory). What
 * vivid draws into a captured frame (its 75% colour bars) is read back
 * through our CPU mapping, bracketed by DMA_BUF_IOCTL_SYNC; and with
 * vivid's video loop, a frame the CPU wrote into our output buffer comes
 * back in our capture buffer.
 */
#include "ktest.h"

#include <libv4l2.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/mman.h>

#define NBUF 3

static struct kheap heaps[KTEST_MAX_HEAPS];
static int nheaps;

struct vdev {
	char path[32];
	int instance;		/* vivid-00N: N is the allocator here */
	int output;
};

static struct vdev vdevs[16];
static int nvdevs;

struct v4l2_case {
	const struct kheap *heap;
	const struct vdev *dev;
};

static void find_vivid(void)
{
	struct v4l2_capability cap;
	int i, fd;

	for (i = 0; i < 16 && nvdevs < 16; i++) {
		struct vdev *d = &vdevs[nvdevs];

		snprintf(d->path, sizeof(d->path), "/dev/video%d", i);
		fd = open(d->path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.driver, "vivid") &&
		    sscanf((char *)cap.bus_info, "platform:vivid-%d", &d->instance) == 1) {
			uint32_t caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ?
					cap.device_caps : cap.capabilities;

			if (caps & V4L2_CAP_VIDEO_CAPTURE) {
				d->output = 0;
				nvdevs++;
			} else if (caps & V4L2_CAP_VIDEO_OUTPUT) {
				d->output = 1;
				nvdevs++;
			}
		}
		close(fd);
	}
}

/* Wait for a buffer and dequeue it; returns its index or -errno. */
static int dequeue(int fd, enum v4l2_buf_type type, struct v4l2_buffer *b)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	if (poll(&p, 1, 10000) != 1)
		return -ETIMEDOUT;
	memset(b, 0, sizeof(*b));
	b->type = type;
	b->memory = V4L2_MEMORY_DMABUF;
	if (v4l2_ioctl(fd, VIDIOC_DQBUF, b))
		return -errno;
	return b->index;
}

/* The 75% colour bars, left to right, as (R, G, B) high/low. */
static const unsigned char bars[8][3] = {
	{ 1, 1, 1 }, { 1, 1, 0 }, { 0, 1, 1 }, { 0, 1, 0 },
	{ 1, 0, 1 }, { 1, 0, 0 }, { 0, 0, 1 }, { 0, 0, 0 },
};

static int check_colour_bars(const unsigned char *frame, uint32_t width,
			     uint32_t height, uint32_t stride, char *why,
			     size_t whylen)
{
	const unsigned char *row = frame + (size_t)stride * (height * 3 / 4);
	int k, c;

	for (k = 0; k < 8; k++) {
		const unsigned char *px = row + ((2 * k + 1) * width / 16) * 3;

		for (c = 0; c < 3; c++) {
			int high = px[c] >= 120, low = px[c] <= 60;

			if (bars[k][c] ? !high : !low) {
				snprintf(why, whylen,
					 "bar %d reads (%u,%u,%u), not the expected colour",
					 k, px[0], px[1], px[2]);
				return -1;
			}
		}
	}
	return 0;
}

static int set_format(int fd, enum v4l2_buf_type type, struct v4l2_pix_format *pix)
{
	struct v4l2_format f = { .type = type };

	f.fmt.pix.width = 640;
	f.fmt.pix.height = 480;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_RGB24;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	if (v4l2_ioctl(fd, VIDIOC_S_FMT, &f))
		return -errno;
	*pix = f.fmt.pix;
	return 0;
}

static int test_capture(void *arg)
{
	const struct v4l2_case *tc = arg;
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_requestbuffers req = { .count = NBUF, .type = type,
					   .memory = V4L2_MEMORY_DMABUF };
	int dfd[NBUF], vfd, raw, i, frames;
	unsigned char *map[NBUF];
	struct v4l2_pix_format pix;
	struct v4l2_buffer b;
	size_t size;
	char why[160];

	raw = open(tc->dev->path, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(raw >= 0, "open %s: %s", tc->dev->path, strerror(errno));
	vfd = v4l2_fd_open(raw, V4L2_DISABLE_CONVERSION);
	KTEST_CHECK(vfd >= 0, "v4l2_fd_open: %s", strerror(errno));
	KTEST_CHECK(!set_format(vfd, type, &pix), "S_FMT: %s", strerror(errno));
	if (pix.pixelformat != V4L2_PIX_FMT_RGB24)
		return ktest_skip("vivid offers no RGB24 capture");
	KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_REQBUFS, &req) && req.count >= 2,
		    "REQBUFS DMABUF: %s", strerror(errno));

	size = (pix.sizeimage + 4095) & ~4095UL;
	for (i = 0; i < (int)req.count; i++) {
		dfd[i] = ktest_heap_alloc_path(tc->heap->path, size, O_RDWR | O_CLOEXEC);
		KTEST_CHECK(dfd[i] >= 0, "alloc %zu: %s", size, strerror(-dfd[i]));
		map[i] = mmap(NULL, size, PROT_READ, MAP_SHARED, dfd[i], 0);
		KTEST_CHECK(map[i] != MAP_FAILED, "mmap: %s", strerror(errno));
		memset(&b, 0, sizeof(b));
		b.type = type;
		b.memory = V4L2_MEMORY_DMABUF;
		b.index = i;
		b.m.fd = dfd[i];
		b.length = size;
		KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_QBUF, &b), "QBUF %d: %s", i,
			    strerror(errno));
	}
	KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_STREAMON, &type), "STREAMON: %s",
		    strerror(errno));

	for (frames = 0; frames < 4; frames++) {
		i = dequeue(vfd, type, &b);
		KTEST_CHECK(i >= 0 && i < (int)req.count, "DQBUF: %s", strerror(-i));
		KTEST_CHECK(!(b.flags & V4L2_BUF_FLAG_ERROR) &&
			    b.bytesused >= pix.sizeimage,
			    "frame %d: flags %#x bytesused %u", frames, b.flags,
			    b.bytesused);
		KTEST_CHECK(!ktest_sync(dfd[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ),
			    "SYNC_START");
		if (check_colour_bars(map[i], pix.width, pix.height,
				      pix.bytesperline, why, sizeof(why)))
			return ktest_fail("frame %d (%ux%u): %s", frames, pix.width,
					  pix.height, why);
		KTEST_CHECK(!ktest_sync(dfd[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ),
			    "SYNC_END");
		b.m.fd = dfd[i];
		KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_QBUF, &b), "re-QBUF: %s",
			    strerror(errno));
	}
	KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_STREAMOFF, &type), "STREAMOFF");
	v4l2_close(vfd);
	for (i = 0; i < (int)req.count; i++) {
		munmap(map[i], size);
		close(dfd[i]);
	}
	return KTEST_PASS;
}

static int test_output(void *arg)
{
	const struct v4l2_case *tc = arg;
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	struct v4l2_requestbuffers req = { .count = NBUF, .type = type,
					   .memory = V4L2_MEMORY_DMABUF };
	int dfd[NBUF], vfd, raw, i, frames;
	struct v4l2_pix_format pix;
	struct v4l2_buffer b;
	unsigned char *p;
	size_t size;

	raw = open(tc->dev->path, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(raw >= 0, "open %s: %s", tc->dev->path, strerror(errno));
	vfd = v4l2_fd_open(raw, V4L2_DISABLE_CONVERSION);
	KTEST_CHECK(vfd >= 0, "v4l2_fd_open: %s", strerror(errno));
	KTEST_CHECK(!set_format(vfd, type, &pix), "S_FMT: %s", strerror(errno));
	KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_REQBUFS, &req) && req.count >= 2,
		    "REQBUFS DMABUF: %s", strerror(errno));

	size = (pix.sizeimage + 4095) & ~4095UL;
	for (i = 0; i < (int)req.count; i++) {
		dfd[i] = ktest_heap_alloc_path(tc->heap->path, size, O_RDWR | O_CLOEXEC);
		KTEST_CHECK(dfd[i] >= 0, "alloc %zu: %s", size, strerror(-dfd[i]));
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dfd[i], 0);
		KTEST_CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
		ktest_sync(dfd[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		memset(p, 0x40 + i, size);
		ktest_sync(dfd[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		munmap(p, size);
		memset(&b, 0, sizeof(b));
		b.type = type;
		b.memory = V4L2_MEMORY_DMABUF;
		b.index = i;
		b.m.fd = dfd[i];
		b.length = size;
		b.bytesused = pix.sizeimage;
		b.field = V4L2_FIELD_NONE;
		KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_QBUF, &b), "QBUF %d: %s", i,
			    strerror(errno));
	}
	KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_STREAMON, &type), "STREAMON: %s",
		    strerror(errno));
	for (frames = 0; frames < 2 * NBUF; frames++) {
		i = dequeue(vfd, type, &b);
		KTEST_CHECK(i >= 0 && i < (int)req.count, "DQBUF: %s", strerror(-i));
		KTEST_CHECK(!(b.flags & V4L2_BUF_FLAG_ERROR), "frame %d flagged error",
			    frames);
		b.m.fd = dfd[i];
		b.bytesused = pix.sizeimage;
		KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_QBUF, &b), "re-QBUF: %s",
			    strerror(errno));
	}
	KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_STREAMOFF, &type), "STREAMOFF");
	v4l2_close(vfd);
	for (i = 0; i < (int)req.count; i++)
		close(dfd[i]);
	return KTEST_PASS;
}

static int test_short_buffer_is_refused(void *arg)
{
	const struct v4l2_case *tc = arg;
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_requestbuffers req = { .count = 1, .type = type,
					   .memory = V4L2_MEMORY_DMABUF };
	struct v4l2_pix_format pix;
	struct v4l2_buffer b = { .type = type, .memory = V4L2_MEMORY_DMABUF };
	int vfd, dfd, raw;

	raw = open(tc->dev->path, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(raw >= 0, "open: %s", strerror(errno));
	vfd = v4l2_fd_open(raw, V4L2_DISABLE_CONVERSION);
	KTEST_CHECK(vfd >= 0, "v4l2_fd_open: %s", strerror(errno));
	KTEST_CHECK(!set_format(vfd, type, &pix), "S_FMT: %s", strerror(errno));
	KTEST_CHECK(!v4l2_ioctl(vfd, VIDIOC_REQBUFS, &req), "REQBUFS: %s",
		    strerror(errno));
	dfd = ktest_heap_alloc_path(tc->heap->path, 4096, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(dfd >= 0, "alloc");
	b.m.fd = dfd;
	KTEST_CHECK(v4l2_ioctl(vfd, VIDIOC_QBUF, &b), "a 4 KiB buffer was queued "
		    "for a %u byte frame", pix.sizeimage);
	v4l2_close(vfd);
	close(dfd);
	return KTEST_PASS;
}


/* Select the input or output whose name starts with @prefix. */
static int select_route(int fd, int output, const char *prefix)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (output) {
			struct v4l2_output o = { .index = i };

			if (v4l2_ioctl(fd, VIDIOC_ENUMOUTPUT, &o))
				break;
			if (!strncmp((char *)o.name, prefix, strlen(prefix)))
				return v4l2_ioctl(fd, VIDIOC_S_OUTPUT, &i) ? -errno : 0;
		} else {
			struct v4l2_input in = { .index = i };

			if (v4l2_ioctl(fd, VIDIOC_ENUMINPUT, &in))
				break;
			if (!strncmp((char *)in.name, prefix, strlen(prefix)))
				return v4l2_ioctl(fd, VIDIOC_S_INPUT, &i) ? -errno : 0;
		}
	}
	return -ENOENT;
}

/* Set the boolean control named @name to @value. */
static int set_named_ctrl(int fd, const char *name, int value)
{
	struct v4l2_queryctrl q = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };

	while (!v4l2_ioctl(fd, VIDIOC_QUERYCTRL, &q)) {
		if (!strcmp((char *)q.name, name)) {
			struct v4l2_control c = { .id = q.id, .value = value };

			return v4l2_ioctl(fd, VIDIOC_S_CTRL, &c) ? -errno : 0;
		}
		q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	}
	return -ENOENT;
}

static int open_v4l2(const char *path)
{
	int raw = open(path, O_RDWR | O_CLOEXEC);

	return raw < 0 ? -1 : v4l2_fd_open(raw, V4L2_DISABLE_CONVERSION);
}

static int queue(int fd, enum v4l2_buf_type type, int index, int dfd,
		 size_t size, uint32_t bytesused)
{
	struct v4l2_buffer b = { .type = type, .memory = V4L2_MEMORY_DMABUF,
				 .index = index, .length = size,
				 .bytesused = bytesused, .field = V4L2_FIELD_NONE };

	b.m.fd = dfd;
	return v4l2_ioctl(fd, VIDIOC_QBUF, &b) ? -errno : 0;
}

/*
 * vivid's video loop: frames written by the CPU into our buffers on the
 * HDMI output come back, copied by vivid, in our buffers on the HDMI
 * capture of the same instance.
 */
static int test_loop(void *arg)
{
	const struct v4l2_case *tc = arg;
	enum v4l2_buf_type ot = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	enum v4l2_buf_type ct = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_requestbuffers oreq = { .count = 2, .type = ot,
					    .memory = V4L2_MEMORY_DMABUF };
	struct v4l2_requestbuffers creq = { .count = NBUF, .type = ct,
					    .memory = V4L2_MEMORY_DMABUF };
	int ofd, cfd, odf[2], cdf[NBUF], i, frames, ret;
	struct v4l2_pix_format opix, cpix;
	unsigned char *cmap[NBUF], *p, last[3] = { 0 };
	char out_path[32];
	struct v4l2_buffer b;
	size_t osize, csize;

	snprintf(out_path, sizeof(out_path), "/dev/video%d",
		 atoi(tc->dev->path + strlen("/dev/video")) + 1);
	cfd = open_v4l2(tc->dev->path);
	ofd = open_v4l2(out_path);
	KTEST_CHECK(cfd >= 0 && ofd >= 0, "open %s and %s", tc->dev->path, out_path);
	if (select_route(cfd, 0, "HDMI") || select_route(ofd, 1, "HDMI"))
		return ktest_skip("no HDMI input/output pair");
	ret = set_named_ctrl(cfd, "Loop Video", 1);
	if (ret)
		return ktest_skip("no Loop Video control: %s", strerror(-ret));
	KTEST_CHECK(!set_format(ofd, ot, &opix) && !set_format(cfd, ct, &cpix),
		    "S_FMT: %s", strerror(errno));
	if (opix.pixelformat != cpix.pixelformat || opix.width != cpix.width ||
	    opix.height != cpix.height)
		return ktest_skip("output %ux%u and capture %ux%u differ", opix.width,
				  opix.height, cpix.width, cpix.height);

	KTEST_CHECK(!v4l2_ioctl(ofd, VIDIOC_REQBUFS, &oreq) && oreq.count == 2,
		    "output REQBUFS: %s", strerror(errno));
	osize = (opix.sizeimage + 4095) & ~4095UL;
	for (i = 0; i < 2; i++) {
		size_t x;

		odf[i] = ktest_heap_alloc_path(tc->heap->path, osize, O_RDWR | O_CLOEXEC);
		KTEST_CHECK(odf[i] >= 0, "alloc: %s", strerror(-odf[i]));
		p = mmap(NULL, osize, PROT_READ | PROT_WRITE, MAP_SHARED, odf[i], 0);
		KTEST_CHECK(p != MAP_FAILED, "mmap");
		ktest_sync(odf[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		for (x = 0; x + 3 <= opix.sizeimage; x += 3) {
			p[x] = 0x30;
			p[x + 1] = 0xa0;
			p[x + 2] = 0x60;
		}
		ktest_sync(odf[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		munmap(p, osize);
		KTEST_CHECK(!queue(ofd, ot, i, odf[i], osize, opix.sizeimage),
			    "output QBUF: %s", strerror(errno));
	}

	KTEST_CHECK(!v4l2_ioctl(cfd, VIDIOC_REQBUFS, &creq) && creq.count >= 2,
		    "capture REQBUFS: %s", strerror(errno));
	csize = (cpix.sizeimage + 4095) & ~4095UL;
	for (i = 0; i < (int)creq.count; i++) {
		cdf[i] = ktest_heap_alloc_path(tc->heap->path, csize, O_RDWR | O_CLOEXEC);
		KTEST_CHECK(cdf[i] >= 0, "alloc: %s", strerror(-cdf[i]));
		cmap[i] = mmap(NULL, csize, PROT_READ, MAP_SHARED, cdf[i], 0);
		KTEST_CHECK(cmap[i] != MAP_FAILED, "mmap");
		KTEST_CHECK(!queue(cfd, ct, i, cdf[i], csize, 0), "capture QBUF: %s",
			    strerror(errno));
	}
	KTEST_CHECK(!v4l2_ioctl(ofd, VIDIOC_STREAMON, &ot), "output STREAMON: %s",
		    strerror(errno));
	KTEST_CHECK(!v4l2_ioctl(cfd, VIDIOC_STREAMON, &ct), "capture STREAMON: %s",
		    strerror(errno));

	for (frames = 0; frames < 30; frames++) {
		struct pollfd pf = { .fd = ofd, .events = POLLOUT };
		const unsigned char *px;

		/* Keep the output fed. */
		if (poll(&pf, 1, 0) == 1) {
			i = dequeue(ofd, ot, &b);
			if (i >= 0)
				queue(ofd, ot, i, odf[i], osize, opix.sizeimage);
		}
		i = dequeue(cfd, ct, &b);
		KTEST_CHECK(i >= 0 && i < (int)creq.count, "capture DQBUF: %s",
			    strerror(-i));
		ktest_sync(cdf[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		px = cmap[i] + (size_t)cpix.bytesperline * (cpix.height * 3 / 4) +
		     (cpix.width / 2) * 3;
		memcpy(last, px, 3);
		ktest_sync(cdf[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		KTEST_CHECK(!queue(cfd, ct, i, cdf[i], csize, 0), "capture re-QBUF");
		if (abs(last[0] - 0x30) <= 8 && abs(last[1] - 0xa0) <= 8 &&
		    abs(last[2] - 0x60) <= 8)
			return KTEST_PASS;
	}
	return ktest_fail("after %d frames the capture shows (%u,%u,%u), not the "
			  "looped output (48,160,96)", frames, last[0], last[1], last[2]);
}

int main(void)
{
	static struct v4l2_case cases[64];
	static char names[64][128];
	struct ktest all[64];
	size_t n = 0;
	int i, j;

	nheaps = ktest_heaps(heaps, KTEST_MAX_HEAPS);
	if (nheaps <= 0) {
		printf("SKIP v4l2: no hbmem module\n");
		return 77;
	}
	find_vivid();
	if (!nvdevs) {
		printf("SKIP v4l2: no vivid devices (modprobe vivid)\n");
		return 77;
	}

	for (j = 0; j < nvdevs; j++) {
		const struct vdev *d = &vdevs[j];
		const char *alloc = d->instance == 1 ? "dma_contig" : "vmalloc";

		for (i = 0; i < nheaps && n < 60; i++) {
			const struct kheap *h = &heaps[i];

			/* dma-contig needs contiguous memory; one heap of a kind. */
			if (d->instance == 1 && !(h->info.attrs & HBMEM_HEAP_ATTR_CONTIGUOUS))
				continue;
			if (h->info.type == HBMEM_HEAP_TYPE_CARVEOUT &&
			    strcmp(h->info.name, "carveout") &&
			    (h->info.attrs & HBMEM_HEAP_ATTR_CACHED))
				continue;
			cases[n] = (struct v4l2_case){ h, d };
			snprintf(names[n], sizeof(names[n]), "v4l2/vivid_%s/%.31s/%s",
				 alloc, h->info.name,
				 d->output ? "output_streams_our_buffers" :
					     "capture_writes_colour_bars_we_read_back");
			all[n] = (struct ktest){ names[n], d->output ? test_output :
						 test_capture, &cases[n], 120 };
			n++;
			if (!d->output && i == 0) {
				cases[n] = cases[n - 1];
				snprintf(names[n], sizeof(names[n]),
					 "v4l2/vivid_%s/%.31s/buffer_smaller_than_frame_is_refused",
					 alloc, h->info.name);
				all[n] = (struct ktest){ names[n], test_short_buffer_is_refused,
							 &cases[n], 0 };
				n++;
			}
		}
	}
	/* The loop, per allocator, on the cached carveout. */
	for (j = 0; j < nvdevs && n < 62; j++) {
		const struct kheap *h = ktest_heap_find(heaps, nheaps,
							HBMEM_HEAP_TYPE_CARVEOUT,
							HBMEM_HEAP_ATTR_CACHED, 0);

		if (vdevs[j].output || !h)
			continue;
		cases[n] = (struct v4l2_case){ h, &vdevs[j] };
		snprintf(names[n], sizeof(names[n]),
			 "v4l2/vivid_%s/%.31s/output_looped_to_capture_reads_back",
			 vdevs[j].instance == 1 ? "dma_contig" : "vmalloc",
			 h->info.name);
		all[n] = (struct ktest){ names[n], test_loop, &cases[n], 180 };
		n++;
	}
	return ktest_main(all, n);
}
