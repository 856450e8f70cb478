// SPDX-License-Identifier: MIT
/*
 * The ABI pinned: struct sizes and offsets (LP64), enum and flag values,
 * error codes. Board code compiled against the vendor header must see the
 * same layout and numbers here.
 */
#include <stddef.h>

#include "test-util.h"

#define assert_offset(type, field, off) \
	g_assert_cmpuint(offsetof(type, field), ==, (off))

static void test_common_buf_layout_is_vendor_48_bytes(void)
{
	g_assert_cmpuint(sizeof(hb_mem_common_buf_t), ==, 48);
	assert_offset(hb_mem_common_buf_t, fd, 0);
	assert_offset(hb_mem_common_buf_t, share_id, 4);
	assert_offset(hb_mem_common_buf_t, flags, 8);
	assert_offset(hb_mem_common_buf_t, size, 16);
	assert_offset(hb_mem_common_buf_t, virt_addr, 24);
	assert_offset(hb_mem_common_buf_t, phys_addr, 32);
	assert_offset(hb_mem_common_buf_t, offset, 40);
}

static void test_graphic_buf_layout_is_vendor_160_bytes(void)
{
	g_assert_cmpuint(sizeof(hb_mem_graphic_buf_t), ==, 160);
	assert_offset(hb_mem_graphic_buf_t, fd, 0);
	assert_offset(hb_mem_graphic_buf_t, plane_cnt, 12);
	assert_offset(hb_mem_graphic_buf_t, format, 16);
	assert_offset(hb_mem_graphic_buf_t, width, 20);
	assert_offset(hb_mem_graphic_buf_t, height, 24);
	assert_offset(hb_mem_graphic_buf_t, stride, 28);
	assert_offset(hb_mem_graphic_buf_t, vstride, 32);
	assert_offset(hb_mem_graphic_buf_t, is_contig, 36);
	assert_offset(hb_mem_graphic_buf_t, share_id, 40);
	assert_offset(hb_mem_graphic_buf_t, flags, 56);
	assert_offset(hb_mem_graphic_buf_t, size, 64);
	assert_offset(hb_mem_graphic_buf_t, virt_addr, 88);
	assert_offset(hb_mem_graphic_buf_t, phys_addr, 112);
	assert_offset(hb_mem_graphic_buf_t, offset, 136);
}

static void test_group_layout_is_vendor_1288_bytes(void)
{
	g_assert_cmpuint(sizeof(hb_mem_graphic_buf_group_t), ==, 1288);
	assert_offset(hb_mem_graphic_buf_group_t, graph_group, 0);
	assert_offset(hb_mem_graphic_buf_group_t, group_id, 1280);
	assert_offset(hb_mem_graphic_buf_group_t, bit_map, 1284);
}

static void test_queue_pool_share_pool_layouts(void)
{
	g_assert_cmpuint(sizeof(hb_mem_buf_queue_t), ==, 16);
	assert_offset(hb_mem_buf_queue_t, unique_id, 0);
	assert_offset(hb_mem_buf_queue_t, count, 8);
	assert_offset(hb_mem_buf_queue_t, item_size, 12);

	g_assert_cmpuint(sizeof(hb_mem_pool_t), ==, 40);
	assert_offset(hb_mem_pool_t, flags, 0);
	assert_offset(hb_mem_pool_t, size, 8);
	assert_offset(hb_mem_pool_t, fd, 16);
	assert_offset(hb_mem_pool_t, page_size, 20);
	assert_offset(hb_mem_pool_t, total_page_cnt, 24);
	assert_offset(hb_mem_pool_t, avail_page_cnt, 28);
	assert_offset(hb_mem_pool_t, cur_client_cnt, 32);
	assert_offset(hb_mem_pool_t, reserved, 36);

	g_assert_cmpuint(sizeof(hb_mem_share_pool_t), ==, 32);
	assert_offset(hb_mem_share_pool_t, flags, 0);
	assert_offset(hb_mem_share_pool_t, size, 8);
	g_assert_cmpuint(sizeof(((hb_mem_share_pool_t *)0)->size), ==, 4);
	assert_offset(hb_mem_share_pool_t, fd, 12);
	assert_offset(hb_mem_share_pool_t, total_buf_cnt, 16);
	assert_offset(hb_mem_share_pool_t, avail_buf_cnt, 20);
	assert_offset(hb_mem_share_pool_t, reserved, 24);
}

static void test_pixel_formats_have_vendor_values(void)
{
	g_assert_cmpint(MEM_PIX_FMT_NONE, ==, -1);
	g_assert_cmpint(MEM_PIX_FMT_RGB565, ==, 0);
	g_assert_cmpint(MEM_PIX_FMT_BGRA, ==, 6);
	g_assert_cmpint(MEM_PIX_FMT_YUV420P, ==, 7);
	g_assert_cmpint(MEM_PIX_FMT_NV12, ==, 8);
	g_assert_cmpint(MEM_PIX_FMT_NV21, ==, 9);
	g_assert_cmpint(MEM_PIX_FMT_YUV422P, ==, 10);
	g_assert_cmpint(MEM_PIX_FMT_NV16, ==, 11);
	g_assert_cmpint(MEM_PIX_FMT_NV61, ==, 12);
	g_assert_cmpint(MEM_PIX_FMT_YUYV422, ==, 13);
	g_assert_cmpint(MEM_PIX_FMT_VYUY422, ==, 16);
	g_assert_cmpint(MEM_PIX_FMT_YUV444, ==, 17);
	g_assert_cmpint(MEM_PIX_FMT_YUV444P, ==, 18);
	g_assert_cmpint(MEM_PIX_FMT_NV24, ==, 19);
	g_assert_cmpint(MEM_PIX_FMT_NV42, ==, 20);
	g_assert_cmpint(MEM_PIX_FMT_YUV440P, ==, 21);
	g_assert_cmpint(MEM_PIX_FMT_YUV400, ==, 22);
	g_assert_cmpint(MEM_PIX_FMT_RAW8, ==, 23);
	g_assert_cmpint(MEM_PIX_FMT_RAW24, ==, 29);
	g_assert_cmpint(MEM_PIX_FMT_TOTAL, ==, 30);
}

static void test_usage_flags_have_vendor_values(void)
{
	g_assert_cmphex(HB_MEM_USAGE_CPU_READ_OFTEN, ==, 0x1);
	g_assert_cmphex(HB_MEM_USAGE_CPU_WRITE_OFTEN, ==, 0x10);
	g_assert_cmphex(HB_MEM_USAGE_HW_CIM, ==, 0x100);
	g_assert_cmphex(HB_MEM_USAGE_HW_BPU, ==, 0x2000);
	g_assert_cmphex(HB_MEM_USAGE_HW_VIDEO_CODEC, ==, 0x10000);
	g_assert_cmphex(HB_MEM_USAGE_HW_YNR, ==, 0x400000);
	g_assert_cmphex(HB_MEM_USAGE_HW_MASK, ==, 0xFFFF00);
	g_assert_cmphex(HB_MEM_USAGE_MAP_INITIALIZED, ==, 0x1000000);
	g_assert_cmphex(HB_MEM_USAGE_MAP_UNINITIALIZED, ==, 0x2000000);
	g_assert_cmphex(HB_MEM_USAGE_CACHED, ==, 0x4000000);
	g_assert_cmphex(HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF, ==, 0x8000000);
	g_assert_cmphex(HB_MEM_USAGE_MEM_POOL, ==, 0x10000000);
	g_assert_cmphex(HB_MEM_USAGE_MEM_SHARE_POOL, ==, 0x20000000);
	g_assert_cmphex(HB_MEM_USAGE_TRIVIAL_MASK, ==, 0xFF000000);
	g_assert_cmphex(HB_MEM_USAGE_PRIV_HEAP_DMA, ==, 0);
	g_assert_cmphex(HB_MEM_USAGE_PRIV_HEAP_RESERVERD, ==, 0x100000000);
	g_assert_cmphex(HB_MEM_USAGE_PRIV_HEAP_RESERVED, ==, 0x100000000);
	g_assert_cmphex(HB_MEM_USAGE_PRIV_HEAP_SRAM, ==, 0x200000000);
	g_assert_cmphex(HB_MEM_USAGE_PRIV_HEAP_2_RESERVERD, ==, 0x400000000);
	g_assert_cmphex(HB_MEM_USAGE_PRIV_HEAP_SRAM_LIMIT, ==, 0x800000000);
	g_assert_cmphex(HB_MEM_USAGE_PRIV_HEAP_INLINE_ECC, ==, 0x1000000000);
	g_assert_cmphex(HB_MEM_USAGE_PRIV_MASK, ==, 0xFF00000000);
	g_assert_cmpint(HB_MEM_BUFFER_TYPE_COMMON, ==, 0);
	g_assert_cmpint(HB_MEM_BUFFER_TYPE_GRAPHIC, ==, 1);
	g_assert_cmpint(HB_MEM_BUFFER_TYPE_GRAPHIC_GROUP, ==, 2);
	g_assert_cmpint(HB_MEM_BUFFER_TYPE_MAX, ==, 3);
	g_assert_cmpint(MAX_GRAPHIC_BUF_COMP, ==, 3);
	g_assert_cmpint(HB_MEM_MAXIMUM_GRAPH_BUF, ==, 8);
}

static void test_error_codes_have_vendor_values(void)
{
	g_assert_cmpint(HB_MEM_ERR_UNKNOWN, ==, -16777215);
	g_assert_cmpint(HB_MEM_ERR_INVALID_PARAMS, ==, -16777214);
	g_assert_cmpint(HB_MEM_ERR_INVALID_FD, ==, -16777213);
	g_assert_cmpint(HB_MEM_ERR_INVALID_VADDR, ==, -16777212);
	g_assert_cmpint(HB_MEM_ERR_INSUFFICIENT_MEM, ==, -16777211);
	g_assert_cmpint(HB_MEM_ERR_TOO_MANY_FD, ==, -16777210);
	g_assert_cmpint(HB_MEM_ERR_TIMEOUT, ==, -16777209);
	g_assert_cmpint(HB_MEM_ERR_MODULE_NOT_FOUND, ==, -16777208);
	g_assert_cmpint(HB_MEM_ERR_MODULE_OPEN_FAIL, ==, -16777207);
	g_assert_cmpint(HB_MEM_ERR_QUEUE_NOT_FOUND, ==, -16777206);
	g_assert_cmpint(HB_MEM_ERR_QUEUE_DESTROYED, ==, -16777205);
	g_assert_cmpint(HB_MEM_ERR_QUEUE_WRONG_SLOT, ==, -16777204);
	g_assert_cmpint(HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT, ==, -16777203);
	g_assert_cmpint(HB_MEM_ERR_QUEUE_ALREADY_EXIST, ==, -16777202);
	g_assert_cmpint(HB_MEM_ERR_POOL_NOT_FOUND, ==, -16777201);
	g_assert_cmpint(HB_MEM_ERR_POOL_DESTROYED, ==, -16777200);
	g_assert_cmpint(HB_MEM_ERR_POOL_BUSY, ==, -16777199);
	g_assert_cmpint(HB_MEM_ERR_WAIT_SHARE_FAILURE, ==, -16777198);
	g_assert_cmpint(HB_MEM_ERR_NOT_ALLOW, ==, -16777197);
	g_assert_cmpint(HB_MEM_ERR_CHECK_VER_FAIL, ==, -16777196);
	g_assert_cmpint(HB_MEM_ERR_REGISTER_FAIL, ==, -16777195);
	g_assert_cmpint(HB_MEM_ERR_INVALID_GROUPID, ==, -16777194);
	g_assert_cmpint(HB_MEM_ERR_MAX_STR_SIZE, ==, 256);
}

static void test_strerror_describes_every_code(void)
{
	char buf[HB_MEM_ERR_MAX_STR_SIZE];
	int32_t code;

	for (code = HB_MEM_ERR_UNKNOWN; code <= HB_MEM_ERR_INVALID_GROUPID;
	     code++) {
		assert_ok(hb_mem_strerror(code, buf, sizeof(buf)));
		g_assert_cmpuint(strlen(buf), >, 5);
	}
	assert_ok(hb_mem_strerror(0, buf, sizeof(buf)));
	assert_hb(hb_mem_strerror(-1, buf, sizeof(buf)), HB_MEM_ERR_UNKNOWN);
	assert_hb(hb_mem_strerror(HB_MEM_ERR_INVALID_GROUPID + 1, buf,
				  sizeof(buf)),
		  HB_MEM_ERR_UNKNOWN);
	assert_hb(hb_mem_strerror(HB_MEM_ERR_TIMEOUT, NULL, 10),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_strerror(HB_MEM_ERR_TIMEOUT, buf, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* truncation keeps the terminator */
	assert_ok(hb_mem_strerror(HB_MEM_ERR_TIMEOUT, buf, 4));
	g_assert_cmpstr(buf, ==, "tim");
	g_assert_cmpstr(hb_mem_make_error_string(HB_MEM_ERR_TIMEOUT, buf,
						 sizeof(buf)),
			==, "timed out");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/abi/common-buf-layout",
			test_common_buf_layout_is_vendor_48_bytes);
	g_test_add_func("/abi/graphic-buf-layout",
			test_graphic_buf_layout_is_vendor_160_bytes);
	g_test_add_func("/abi/group-layout",
			test_group_layout_is_vendor_1288_bytes);
	g_test_add_func("/abi/queue-pool-share-pool-layouts",
			test_queue_pool_share_pool_layouts);
	g_test_add_func("/abi/pixel-format-values",
			test_pixel_formats_have_vendor_values);
	g_test_add_func("/abi/usage-flag-values",
			test_usage_flags_have_vendor_values);
	g_test_add_func("/abi/error-code-values",
			test_error_codes_have_vendor_values);
	g_test_add_func("/abi/strerror-describes-every-code",
			test_strerror_describes_every_code);
	return g_test_run();
}
