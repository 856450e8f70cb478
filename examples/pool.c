// SPDX-License-Identifier: MIT
/*
 * pool - a local pool: one buffer sub-allocated in user space. Create it,
 * take a few buffers, look at its state, see that it will not be destroyed
 * while buffers live, give them back, destroy it.
 *
 * Build: cc $(pkg-config --cflags hbmem) pool.c -o pool \
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
	fprintf(stderr, "pool: %s failed: %s (%d)\n", what, msg, ret);
	return 1;
}

static int print_info(int32_t fd)
{
	hb_mem_pool_t info;
	int32_t ret;

	ret = hb_mem_pool_get_info(fd, &info);
	if (ret)
		return failed("hb_mem_pool_get_info", ret);
	printf("  pool fd %d: %" PRIu64 " bytes, page %d, pages %d free of "
	       "%d, %d buffers live\n",
	       info.fd, info.size, info.page_size, info.avail_page_cnt,
	       info.total_page_cnt, info.cur_client_cnt);
	return 0;
}

int main(void)
{
	static const uint64_t sizes[] = { 100, 5000, 64 * 1024, 4096 };
	hb_mem_common_buf_t sub[4], backing;
	hb_mem_pool_t pool;
	int32_t ret;
	size_t i;

	ret = hb_mem_module_open();
	if (ret)
		return failed("hb_mem_module_open", ret);
	ret = hb_mem_pool_create(1 << 20, HB_MEM_USAGE_CPU_READ_OFTEN |
						  HB_MEM_USAGE_CPU_WRITE_OFTEN |
						  HB_MEM_USAGE_CACHED,
				 &pool);
	if (ret)
		return failed("hb_mem_pool_create", ret);
	printf("created a pool of %" PRIu64 " bytes\n", pool.size);
	/* the pool's own buffer is a common buffer too */
	ret = hb_mem_get_com_buf(pool.fd, &backing);
	if (ret)
		return failed("hb_mem_get_com_buf", ret);
	printf("  backing buffer: share id %d, virt %p\n", backing.share_id,
	       (void *)backing.virt_addr);
	if (print_info(pool.fd))
		return 1;

	for (i = 0; i < 4; i++) {
		ret = hb_mem_pool_alloc_buf(pool.fd, sizes[i], &sub[i]);
		if (ret)
			return failed("hb_mem_pool_alloc_buf", ret);
		memset(sub[i].virt_addr, (int)i + 1, sub[i].size);
		printf("took %6" PRIu64 " bytes at offset %6" PRIu64
		       " (virt %p, flags 0x%" PRIx64 ")\n",
		       sub[i].size,
		       (uint64_t)(sub[i].virt_addr - backing.virt_addr),
		       (void *)sub[i].virt_addr, sub[i].flags);
	}
	if (print_info(pool.fd))
		return 1;

	ret = hb_mem_pool_destroy(pool.fd);
	if (ret != HB_MEM_ERR_POOL_BUSY) {
		fprintf(stderr, "pool: destroy with live buffers returned %d, "
			"not POOL_BUSY\n", ret);
		return 1;
	}
	printf("destroy while buffers live: POOL_BUSY, as it should\n");

	for (i = 0; i < 4; i++) {
		if (sub[i].virt_addr[sub[i].size - 1] != (uint8_t)(i + 1)) {
			fprintf(stderr, "pool: buffer %zu was overwritten\n",
				i);
			return 1;
		}
		ret = hb_mem_pool_free_buf((uint64_t)(uintptr_t)sub[i].virt_addr);
		if (ret)
			return failed("hb_mem_pool_free_buf", ret);
	}
	printf("gave every buffer back\n");
	if (print_info(pool.fd))
		return 1;
	ret = hb_mem_pool_destroy(pool.fd);
	if (ret)
		return failed("hb_mem_pool_destroy", ret);
	printf("destroyed\n");
	ret = hb_mem_module_close();
	if (ret)
		return failed("hb_mem_module_close", ret);
	printf("pool: OK\n");
	return 0;
}
