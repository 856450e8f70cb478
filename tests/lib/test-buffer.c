// SPDX-License-Identifier: MIT
/*
 * Common buffers: allocation, what the descriptor says, lookup by fd,
 * free, and the memfd seals.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "test-util.h"

static void test_com_buf_rejects_zero_size_and_null(TestModule *m,
						    gconstpointer d)
{
	hb_mem_common_buf_t buf;

	assert_hb(hb_mem_alloc_com_buf(0, 0, &buf), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_com_buf(4096, 0, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
}

static void test_com_buf_too_big_for_any_heap_is_insufficient_mem(
	TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t buf;

	assert_hb(hb_mem_alloc_com_buf(UINT64_MAX, 0, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_alloc_com_buf(64ull << 30, 0, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_com_buf_descriptor_echoes_request(TestModule *m,
						   gconstpointer d)
{
	const int64_t flags = HB_MEM_USAGE_CPU_READ_OFTEN |
			      HB_MEM_USAGE_CPU_WRITE_OFTEN |
			      HB_MEM_USAGE_HW_BPU | HB_MEM_USAGE_CACHED;
	hb_mem_common_buf_t buf, again;

	assert_ok(hb_mem_alloc_com_buf(1000, flags, &buf));
	g_assert_cmpint(buf.fd, >=, 0);
	g_assert_cmpint(buf.share_id, >, 0);
	g_assert_cmphex(buf.flags, ==, flags);
	g_assert_cmpuint(buf.size, ==, 1000);
	g_assert_nonnull(buf.virt_addr);
	g_assert_cmphex(buf.phys_addr, !=, 0);
	g_assert_cmpuint(buf.offset, ==, 0);
	assert_ok(hb_mem_get_com_buf(buf.fd, &again));
	g_assert_cmpmem(&buf, sizeof(buf), &again, sizeof(again));
	assert_ok(hb_mem_free_buf(buf.fd));
}

/*
 * The pool-marking bits are the library's: on a plain allocation the
 * vendor ignores them. Kept in the descriptor, MEM_SHARE_POOL made the
 * buffer unimportable (taken for a share-pool block) and refused its user
 * consume count.
 */
static void test_pool_marks_are_ignored_on_plain_buffers(TestModule *m,
							 gconstpointer d)
{
	const int64_t marks = HB_MEM_USAGE_MEM_POOL |
			      HB_MEM_USAGE_MEM_SHARE_POOL;
	const int64_t flags = HB_MEM_USAGE_CPU_READ_OFTEN | HB_MEM_USAGE_CACHED;
	hb_mem_common_buf_t buf, sent, imp;
	hb_mem_graphic_buf_t g;
	int32_t cnt;

	assert_ok(hb_mem_alloc_com_buf(4096, flags | marks, &buf));
	g_assert_cmphex(buf.flags, ==, flags);
	sent = buf;
	sent.fd = -1;
	sent.virt_addr = NULL;
	assert_ok(hb_mem_import_com_buf(&sent, &imp));
	assert_ok(hb_mem_get_share_info(buf.fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	assert_ok(hb_mem_inc_user_consume_cnt(buf.fd));
	assert_ok(hb_mem_get_consume_info(imp.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	assert_ok(hb_mem_dec_user_consume_cnt(imp.fd));
	assert_ok(hb_mem_free_buf(imp.fd));
	assert_ok(hb_mem_free_buf(buf.fd));

	assert_ok(hb_mem_alloc_graph_buf(64, 32, MEM_PIX_FMT_NV12,
					 flags | marks, 0, 0, &g));
	g_assert_cmphex(g.flags, ==, flags);
	assert_ok(hb_mem_free_buf(g.fd[0]));
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_com_buf_is_zeroed_and_writable(TestModule *m,
						gconstpointer d)
{
	hb_mem_common_buf_t buf;
	uint64_t i;

	assert_ok(hb_mem_alloc_com_buf(3 << 20, HB_MEM_USAGE_MAP_INITIALIZED,
				       &buf));
	for (i = 0; i < buf.size; i += 4093)
		g_assert_cmpuint(buf.virt_addr[i], ==, 0);
	memset(buf.virt_addr, 0xA5, buf.size);
	g_assert_cmpuint(buf.virt_addr[buf.size - 1], ==, 0xA5);
	assert_ok(hb_mem_free_buf(buf.fd));
}

static void test_uninitialized_buffers_never_show_old_data(TestModule *m,
							   gconstpointer d)
{
	hb_mem_common_buf_t buf;
	int round;
	uint64_t i;

	for (round = 0; round < 8; round++) {
		assert_ok(hb_mem_alloc_com_buf(
			1 << 20, HB_MEM_USAGE_MAP_UNINITIALIZED, &buf));
		for (i = 0; i < buf.size; i += 512)
			g_assert_cmpuint(buf.virt_addr[i], ==, 0);
		memset(buf.virt_addr, 0x5A, buf.size);
		assert_ok(hb_mem_free_buf(buf.fd));
	}
}

static void test_share_ids_are_distinct(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t a, b;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &a));
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &b));
	g_assert_cmpint(a.share_id, !=, b.share_id);
	g_assert_cmphex(a.phys_addr, !=, b.phys_addr);
	assert_ok(hb_mem_free_buf(a.fd));
	assert_ok(hb_mem_free_buf(b.fd));
}

static void test_free_twice_is_invalid_fd(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t buf;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &buf));
	assert_ok(hb_mem_free_buf(buf.fd));
	assert_hb(hb_mem_free_buf(buf.fd), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_get_com_buf(buf.fd, &buf), HB_MEM_ERR_INVALID_FD);
}

static void test_foreign_and_negative_fds_are_invalid(TestModule *m,
						      gconstpointer d)
{
	hb_mem_common_buf_t buf;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_hb(hb_mem_free_buf(-1), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_free_buf(fd), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_get_com_buf(fd, &buf), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_get_com_buf(-5, &buf), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_get_com_buf(1 << 20, &buf), HB_MEM_ERR_INVALID_FD);
	close(fd);
}

static void test_free_with_vaddr_takes_any_inner_address(TestModule *m,
							 gconstpointer d)
{
	hb_mem_common_buf_t buf;

	assert_ok(hb_mem_alloc_com_buf(8192, 0, &buf));
	assert_hb(hb_mem_free_buf_with_vaddr((uint64_t)(uintptr_t)buf.virt_addr +
					     8192),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_free_buf_with_vaddr((uint64_t)(uintptr_t)buf.virt_addr +
					     5000));
	assert_hb(hb_mem_free_buf_with_vaddr((uint64_t)(uintptr_t)buf.virt_addr),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_free_buf_with_vaddr(0), HB_MEM_ERR_INVALID_VADDR);
}

static void test_memfd_cannot_be_resized_by_a_holder(TestModule *m,
						     gconstpointer d)
{
	hb_mem_common_buf_t buf;
	char name[16];

	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	if (strcmp(name, "memfd")) {
		g_test_skip("seals apply to the memfd backend");
		return;
	}
	assert_ok(hb_mem_alloc_com_buf(8192, 0, &buf));
	g_assert_cmpint(ftruncate(buf.fd, 4096), <, 0);
	g_assert_cmpint(ftruncate(buf.fd, 1 << 20), <, 0);
	g_assert_cmpint(fcntl(buf.fd, F_GET_SEALS) & (F_SEAL_SHRINK |
						      F_SEAL_GROW),
			==, F_SEAL_SHRINK | F_SEAL_GROW);
	g_assert_cmpint(fcntl(buf.fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
	assert_ok(hb_mem_free_buf(buf.fd));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_module_test("/buffer/com-rejects-zero-size-and-null",
			test_com_buf_rejects_zero_size_and_null);
	add_module_test("/buffer/com-too-big-is-insufficient-mem",
			test_com_buf_too_big_for_any_heap_is_insufficient_mem);
	add_module_test("/buffer/com-descriptor-echoes-request",
			test_com_buf_descriptor_echoes_request);
	add_module_test("/buffer/com-is-zeroed-and-writable",
			test_com_buf_is_zeroed_and_writable);
	add_module_test("/buffer/pool-marks-are-ignored-on-plain-buffers",
			test_pool_marks_are_ignored_on_plain_buffers);
	add_module_test("/buffer/uninitialized-never-shows-old-data",
			test_uninitialized_buffers_never_show_old_data);
	add_module_test("/buffer/share-ids-are-distinct",
			test_share_ids_are_distinct);
	add_module_test("/buffer/free-twice-is-invalid-fd",
			test_free_twice_is_invalid_fd);
	add_module_test("/buffer/foreign-and-negative-fds-are-invalid",
			test_foreign_and_negative_fds_are_invalid);
	add_module_test("/buffer/free-with-vaddr-takes-any-inner-address",
			test_free_with_vaddr_takes_any_inner_address);
	add_module_test("/buffer/memfd-cannot-be-resized-by-a-holder",
			test_memfd_cannot_be_resized_by_a_holder);
	return g_test_run();
}
