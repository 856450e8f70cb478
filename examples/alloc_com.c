// SPDX-License-Identifier: MIT
/*
 * alloc_com - allocate common buffers with the flag sets media code uses,
 * write them, flush the cached ones, look them up and free them.
 *
 * Build: cc $(pkg-config --cflags hbmem) alloc_com.c -o alloc_com \
 *            $(pkg-config --libs hbmem)
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hb_mem_mgr.h"

/* Print a failed call with the library's description of the code. */
static int failed(const char *what, int32_t ret)
{
	char msg[HB_MEM_ERR_MAX_STR_SIZE];

	hb_mem_strerror(ret, msg, sizeof(msg));
	fprintf(stderr, "alloc_com: %s failed: %s (%d)\n", what, msg, ret);
	return 1;
}

struct request {
	const char *use;
	uint64_t size;
	int64_t flags;
};

static const struct request requests[] = {
	{ "plain CPU buffer", 4096,
	  HB_MEM_USAGE_CPU_READ_OFTEN | HB_MEM_USAGE_CPU_WRITE_OFTEN },
	{ "cached CPU buffer", 1 << 20,
	  HB_MEM_USAGE_CPU_READ_OFTEN | HB_MEM_USAGE_CPU_WRITE_OFTEN |
		  HB_MEM_USAGE_CACHED },
	/* what a GDC configuration binary is allocated with */
	{ "GDC config (cma_reserved)", 100000,
	  HB_MEM_USAGE_MAP_INITIALIZED | HB_MEM_USAGE_PRIV_HEAP_2_RESERVED |
		  HB_MEM_USAGE_CPU_READ_OFTEN | HB_MEM_USAGE_CPU_WRITE_OFTEN |
		  HB_MEM_USAGE_CACHED },
	/* what a BPU tensor is allocated with */
	{ "BPU tensor (carveout)", 3 << 20,
	  HB_MEM_USAGE_HW_BPU | HB_MEM_USAGE_PRIV_HEAP_RESERVED |
		  HB_MEM_USAGE_CPU_READ_OFTEN | HB_MEM_USAGE_CPU_WRITE_OFTEN |
		  HB_MEM_USAGE_CACHED },
};

static int one_buffer(const struct request *r)
{
	hb_mem_common_buf_t buf, again;
	uint64_t start, size, i;
	int64_t flags;
	int32_t ret;

	ret = hb_mem_alloc_com_buf(r->size, r->flags, &buf);
	if (ret)
		return failed("hb_mem_alloc_com_buf", ret);
	printf("%s: fd %d, share id %d, flags 0x%" PRIx64 ", size %" PRIu64
	       ", virt %p, phys 0x%" PRIx64 "\n",
	       r->use, buf.fd, buf.share_id, buf.flags, buf.size,
	       (void *)buf.virt_addr, buf.phys_addr);

	/* write a pattern, then hand it to the "device" */
	for (i = 0; i < buf.size; i++)
		buf.virt_addr[i] = (uint8_t)(i * 7);
	if (buf.flags & HB_MEM_USAGE_CACHED) {
		ret = hb_mem_flush_buf(buf.fd, 0, buf.size);
		if (ret)
			return failed("hb_mem_flush_buf", ret);
		printf("  flushed %" PRIu64 " bytes\n", buf.size);
	}
	for (i = 0; i < buf.size; i++) {
		if (buf.virt_addr[i] != (uint8_t)(i * 7)) {
			fprintf(stderr, "alloc_com: byte %" PRIu64
				" reads back wrong\n", i);
			return 1;
		}
	}

	/* the library knows the buffer by fd and by any inner address */
	ret = hb_mem_get_com_buf(buf.fd, &again);
	if (ret)
		return failed("hb_mem_get_com_buf", ret);
	ret = hb_mem_get_buf_info((uint64_t)(uintptr_t)buf.virt_addr +
					  buf.size / 2,
				  &start, &size, &flags);
	if (ret)
		return failed("hb_mem_get_buf_info", ret);
	if (memcmp(&again, &buf, sizeof(buf)) ||
	    start != (uint64_t)(uintptr_t)buf.virt_addr || size != buf.size ||
	    flags != buf.flags) {
		fprintf(stderr, "alloc_com: lookups disagree with the "
			"allocation\n");
		return 1;
	}
	printf("  looked up by fd and by address: start %p, size %" PRIu64
	       "\n", (void *)(uintptr_t)start, size);

	ret = hb_mem_free_buf(buf.fd);
	if (ret)
		return failed("hb_mem_free_buf", ret);
	printf("  freed\n");
	return 0;
}

int main(void)
{
	uint32_t major, minor, patch;
	size_t i;
	int32_t ret;
	int err = 0;

	hb_mem_get_version(&major, &minor, &patch);
	printf("hbmem %u.%u.%u\n", major, minor, patch);
	ret = hb_mem_module_open();
	if (ret)
		return failed("hb_mem_module_open", ret);
	for (i = 0; i < sizeof(requests) / sizeof(requests[0]) && !err; i++)
		err = one_buffer(&requests[i]);
	ret = hb_mem_module_close();
	if (ret)
		return failed("hb_mem_module_close", ret);
	printf(err ? "alloc_com: FAILED\n" : "alloc_com: OK\n");
	return err;
}
