// SPDX-License-Identifier: MIT
/*
 * alloc_graph - allocate NV12 images, one allocation per plane and one
 * contiguous allocation, print their planes, fill Y and UV and flush.
 *
 * Build: cc $(pkg-config --cflags hbmem) alloc_graph.c -o alloc_graph \
 *            $(pkg-config --libs hbmem)
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hb_mem_mgr.h"

static int failed(const char *what, int32_t ret)
{
	char msg[HB_MEM_ERR_MAX_STR_SIZE];

	hb_mem_strerror(ret, msg, sizeof(msg));
	fprintf(stderr, "alloc_graph: %s failed: %s (%d)\n", what, msg, ret);
	return 1;
}

static void print_image(const char *what, const hb_mem_graphic_buf_t *g)
{
	int i;

	printf("%s: %dx%d format %d, %d planes, %scontiguous, stride %d, "
	       "vstride %d (as passed; 0 means tight)\n",
	       what, g->width, g->height, g->format, g->plane_cnt,
	       g->is_contig ? "" : "not ", g->stride, g->vstride);
	for (i = 0; i < g->plane_cnt; i++)
		printf("  plane %d: fd %d, share id %d, size %" PRIu64
		       ", virt %p, phys 0x%" PRIx64 "\n",
		       i, g->fd[i], g->share_id[i], g->size[i],
		       (void *)g->virt_addr[i], g->phys_addr[i]);
}

/*
 * Fill an NV12 image: a horizontal luma ramp, neutral chroma. Lines are
 * max(stride, width) bytes apart, as the board lays them out.
 */
static int fill_nv12(const hb_mem_graphic_buf_t *g)
{
	int32_t pitch = g->stride > g->width ? g->stride : g->width;
	int32_t lines = g->vstride > g->height ? g->vstride : g->height;
	int32_t x, y;
	int32_t ret;
	int i;

	for (y = 0; y < lines; y++)
		for (x = 0; x < pitch; x++)
			g->virt_addr[0][(size_t)y * pitch + x] =
				(uint8_t)(16 + x * 219 / pitch);
	memset(g->virt_addr[1], 128, g->size[1]);
	/* a device reads it next: write back each plane */
	for (i = 0; i < g->plane_cnt; i++) {
		ret = hb_mem_flush_buf_with_vaddr(
			(uint64_t)(uintptr_t)g->virt_addr[i], g->size[i]);
		if (ret)
			return failed("hb_mem_flush_buf_with_vaddr", ret);
	}
	printf("  filled Y (%" PRIu64 " bytes, lines of %d) and UV (%" PRIu64
	       " bytes), flushed\n", g->size[0], pitch, g->size[1]);
	return 0;
}

static int one_image(const char *what, int32_t w, int32_t h, int64_t flags,
		     int32_t stride, int32_t vstride)
{
	hb_mem_graphic_buf_t g, again;
	int32_t pitch = stride > w ? stride : w;
	int32_t lines = vstride > h ? vstride : h;
	int32_t ret;

	ret = hb_mem_alloc_graph_buf(w, h, MEM_PIX_FMT_NV12, flags, stride,
				     vstride, &g);
	if (ret)
		return failed("hb_mem_alloc_graph_buf", ret);
	print_image(what, &g);
	if (g.plane_cnt != 2 || g.size[0] != (uint64_t)pitch * lines ||
	    g.size[1] != g.size[0] / 2) {
		fprintf(stderr, "alloc_graph: unexpected NV12 layout\n");
		return 1;
	}
	if (g.is_contig && g.virt_addr[1] != g.virt_addr[0] + g.size[0]) {
		fprintf(stderr, "alloc_graph: UV does not follow Y\n");
		return 1;
	}
	if (fill_nv12(&g))
		return 1;
	/* any plane's fd names the image */
	ret = hb_mem_get_graph_buf(g.fd[1], &again);
	if (ret)
		return failed("hb_mem_get_graph_buf", ret);
	/* and freeing by the first fd frees every plane */
	ret = hb_mem_free_buf(g.fd[0]);
	if (ret)
		return failed("hb_mem_free_buf", ret);
	printf("  freed\n");
	return 0;
}

int main(void)
{
	const int64_t rw = HB_MEM_USAGE_CPU_READ_OFTEN |
			   HB_MEM_USAGE_CPU_WRITE_OFTEN | HB_MEM_USAGE_CACHED;
	int32_t ret;
	int err;

	ret = hb_mem_module_open();
	if (ret)
		return failed("hb_mem_module_open", ret);
	err = one_image("NV12 1920x1080, plane per allocation", 1920, 1080, rw,
			0, 0);
	if (!err)
		err = one_image("NV12 1920x1080, contiguous", 1920, 1080,
				rw | HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF, 0, 0);
	if (!err)
		err = one_image("NV12 1280x720 in 1536x768, contiguous", 1280,
				720, rw | HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF,
				1536, 768);
	ret = hb_mem_module_close();
	if (ret)
		return failed("hb_mem_module_close", ret);
	printf(err ? "alloc_graph: FAILED\n" : "alloc_graph: OK\n");
	return err;
}
