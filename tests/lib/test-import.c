// SPDX-License-Identifier: MIT
/*
 * Import within one process: new fd and mapping, holder (share client)
 * counts and their waits, consume counts, partial sharing, process info.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"

#define A(p) ((uint64_t)(uintptr_t)(p))

static void test_import_rejects_unknown_or_incomplete_descriptors(
	TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c, in, out;

	assert_ok(hb_mem_alloc_com_buf(8192, 0, &c));
	assert_hb(hb_mem_import_com_buf(NULL, &out), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_import_com_buf(&c, NULL), HB_MEM_ERR_INVALID_PARAMS);
	in = c;
	in.share_id = 0;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = c;
	in.size = 0;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = c;
	in.size = 8193;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = c;
	in.phys_addr = c.phys_addr - 4096;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = c;
	in.phys_addr = c.phys_addr + 4096;
	in.size = UINT64_MAX - 100;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = c;
	in.share_id = 0x7FFFFFF0;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_free_buf(c.fd));
	/* a freed buffer's descriptor imports nothing */
	assert_hb(hb_mem_import_com_buf(&c, &out), HB_MEM_ERR_INVALID_PARAMS);
}

static void test_import_gives_new_fd_mapping_and_holder(TestModule *m,
							gconstpointer d)
{
	hb_mem_common_buf_t c, in, out;
	int32_t cnt;

	assert_ok(hb_mem_alloc_com_buf(10000, 0x11, &c));
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	in = c;
	in.fd = -1;			/* meaningless to the receiver */
	in.virt_addr = NULL;
	in.offset = 77;
	assert_ok(hb_mem_import_com_buf(&in, &out));
	g_assert_cmpint(out.fd, !=, c.fd);
	g_assert_true(out.virt_addr != c.virt_addr);
	g_assert_cmpint(out.share_id, ==, c.share_id);
	g_assert_cmphex(out.phys_addr, ==, c.phys_addr);
	g_assert_cmpuint(out.size, ==, 10000);
	g_assert_cmpuint(out.offset, ==, 77); /* passed through, not applied */
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	assert_ok(hb_mem_get_share_info_with_vaddr(A(out.virt_addr) + 5, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	/* the two mappings are the same memory */
	c.virt_addr[9999] = 0x5C;
	g_assert_cmpuint(out.virt_addr[9999], ==, 0x5C);
	assert_ok(hb_mem_free_buf(out.fd));
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	assert_ok(hb_mem_free_buf(c.fd));
}

static void test_memory_outlives_its_allocator_handle(TestModule *m,
						      gconstpointer d)
{
	hb_mem_common_buf_t c, out, again;
	int32_t cnt;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	memset(c.virt_addr, 0x21, 4096);
	assert_ok(hb_mem_import_com_buf(&c, &out));
	assert_ok(hb_mem_free_buf(c.fd));
	g_assert_cmpuint(out.virt_addr[4095], ==, 0x21);
	assert_ok(hb_mem_get_share_info(out.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	g_assert_cmpuint(test_heaps_used(), >, 0);
	/* still importable by its share id through the remaining holder */
	assert_ok(hb_mem_import_com_buf(&c, &again));
	g_assert_cmpuint(again.virt_addr[0], ==, 0x21);
	assert_ok(hb_mem_free_buf(again.fd));
	assert_ok(hb_mem_free_buf(out.fd));
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_partial_import_maps_just_the_range(TestModule *m,
						    gconstpointer d)
{
	hb_mem_common_buf_t c, in, out;
	int32_t valid;

	assert_ok(hb_mem_alloc_com_buf(8192, 0, &c));
	memset(c.virt_addr, 1, 4096);
	memset(c.virt_addr + 4096, 2, 4096);
	c.virt_addr[5000] = 9;
	in = c;
	in.phys_addr = c.phys_addr + 4096;
	in.size = 4096;
	assert_ok(hb_mem_import_com_buf(&in, &out));
	g_assert_cmpuint(out.size, ==, 4096);
	g_assert_cmphex(out.phys_addr, ==, c.phys_addr + 4096);
	g_assert_cmpuint(out.virt_addr[0], ==, 2);
	g_assert_cmpuint(out.virt_addr[5000 - 4096], ==, 9);
	assert_ok(hb_mem_is_valid_buf(A(out.virt_addr), 4097, &valid));
	g_assert_cmpint(valid, ==, 0);
	assert_ok(hb_mem_free_buf(out.fd));
	/* an unaligned start works too */
	in.phys_addr = c.phys_addr + 5000;
	in.size = 100;
	assert_ok(hb_mem_import_com_buf(&in, &out));
	g_assert_cmpuint(out.virt_addr[0], ==, 9);
	assert_ok(hb_mem_free_buf(out.fd));
	/* setting offset instead does not share a part, as on the board */
	in = c;
	in.offset = 4096;
	assert_ok(hb_mem_import_com_buf(&in, &out));
	g_assert_cmpuint(out.virt_addr[0], ==, 1);
	assert_ok(hb_mem_free_buf(out.fd));
	assert_ok(hb_mem_free_buf(c.fd));
}

static gpointer free_after_delay(gpointer data)
{
	g_usleep(100 * 1000);
	assert_ok(hb_mem_free_buf(GPOINTER_TO_INT(data)));
	return NULL;
}

static void test_wait_share_status_until_importer_frees(TestModule *m,
							gconstpointer d)
{
	hb_mem_common_buf_t c, out;
	gint64 t0;
	GThread *t;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_import_com_buf(&c, &out));
	assert_hb(hb_mem_wait_share_status(c.fd, 1, 0), HB_MEM_ERR_TIMEOUT);
	t0 = g_get_monotonic_time();
	assert_hb(hb_mem_wait_share_status(c.fd, 1, 50), HB_MEM_ERR_TIMEOUT);
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 50 * 1000);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * 1000 * 1000);
	t = g_thread_new("importer", free_after_delay, GINT_TO_POINTER(out.fd));
	assert_ok(hb_mem_wait_share_status(c.fd, 1, 5000));
	g_thread_join(t);
	/* a negative timeout waits as long as it takes */
	assert_ok(hb_mem_import_com_buf(&c, &out));
	t = g_thread_new("importer", free_after_delay, GINT_TO_POINTER(out.fd));
	assert_ok(hb_mem_wait_share_status_with_vaddr(A(c.virt_addr), 1, -1));
	g_thread_join(t);
	assert_hb(hb_mem_wait_share_status(c.fd, -1, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_wait_share_status(c.fd, 5, 0));
	assert_ok(hb_mem_free_buf(c.fd));
}

static void test_consume_count_changes_only_by_inc_and_dec(TestModule *m,
							   gconstpointer d)
{
	hb_mem_common_buf_t c, out;
	int32_t cnt;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_get_consume_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 0);
	assert_ok(hb_mem_import_com_buf(&c, &out));
	assert_ok(hb_mem_get_consume_info(out.fd, &cnt));
	g_assert_cmpint(cnt, ==, 0);
	assert_ok(hb_mem_inc_com_buf_consume_cnt(&out));
	assert_ok(hb_mem_get_consume_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	assert_hb(hb_mem_wait_consume_status(c.fd, 0, 10), HB_MEM_ERR_TIMEOUT);
	assert_ok(hb_mem_dec_consume_cnt(out.fd));
	assert_ok(hb_mem_wait_consume_status(c.fd, 0, 10));
	/* a decrement at 0 is tolerated and stays at 0 */
	assert_ok(hb_mem_dec_consume_cnt(c.fd));
	assert_ok(hb_mem_dec_consume_cnt_with_vaddr(A(c.virt_addr)));
	assert_ok(hb_mem_get_consume_info_with_vaddr(A(c.virt_addr), &cnt));
	g_assert_cmpint(cnt, ==, 0);
	/* a stale descriptor is refused */
	assert_ok(hb_mem_free_buf(out.fd));
	assert_hb(hb_mem_inc_com_buf_consume_cnt(&out), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_inc_com_buf_consume_cnt(NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_free_buf(c.fd));
}

static gpointer dec_after_delay(gpointer data)
{
	g_usleep(50 * 1000);
	assert_ok(hb_mem_dec_consume_cnt(GPOINTER_TO_INT(data)));
	return NULL;
}

static void test_wait_consume_status_wakes_on_dec(TestModule *m,
						  gconstpointer d)
{
	hb_mem_graphic_buf_t g;
	int32_t cnt;
	GThread *t;

	assert_ok(hb_mem_alloc_graph_buf(64, 64, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &g));
	assert_ok(hb_mem_inc_graph_buf_consume_cnt(&g));
	/* both planes count */
	assert_ok(hb_mem_get_consume_info(g.fd[1], &cnt));
	g_assert_cmpint(cnt, ==, 1);
	t = g_thread_new("consumer", dec_after_delay, GINT_TO_POINTER(g.fd[1]));
	assert_ok(hb_mem_wait_consume_status_with_vaddr(A(g.virt_addr[0]), 0,
							 5000));
	g_thread_join(t);
	assert_ok(hb_mem_get_consume_info(g.fd[0], &cnt));
	g_assert_cmpint(cnt, ==, 0);
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void test_user_consume_count_drives_the_consume_count(TestModule *m,
							     gconstpointer d)
{
	int32_t w[8] = { 32 }, h[8] = { 32 }, f[8] = { MEM_PIX_FMT_NV12 };
	int32_t s[8] = { 0 }, vs[8] = { 0 };
	int64_t fl[8] = { 0 };
	hb_mem_graphic_buf_group_t grp;
	hb_mem_common_buf_t c;
	int32_t cnt;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_inc_user_consume_cnt(c.fd));
	assert_ok(hb_mem_inc_user_consume_cnt_with_vaddr(A(c.virt_addr) + 1));
	assert_ok(hb_mem_get_consume_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	assert_ok(hb_mem_dec_user_consume_cnt(c.fd));
	assert_ok(hb_mem_dec_user_consume_cnt_with_vaddr(A(c.virt_addr)));
	assert_ok(hb_mem_dec_user_consume_cnt(c.fd));
	assert_ok(hb_mem_get_consume_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 0);
	assert_hb(hb_mem_inc_user_consume_cnt(-1), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_inc_user_consume_cnt_with_vaddr(0),
		  HB_MEM_ERR_INVALID_VADDR);
	/* not for groups */
	assert_ok(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &grp, 1));
	assert_hb(hb_mem_inc_user_consume_cnt(grp.graph_group[0].fd[0]),
		  HB_MEM_ERR_INVALID_FD);
	assert_ok(hb_mem_inc_graph_buf_group_consume_cnt(&grp));
	assert_ok(hb_mem_get_consume_info(grp.graph_group[0].fd[1], &cnt));
	g_assert_cmpint(cnt, ==, 1);
	assert_ok(hb_mem_free_buf(grp.graph_group[0].fd[0]));
	assert_ok(hb_mem_free_buf(c.fd));
}

static void test_graph_imports_planar_and_contiguous(TestModule *m,
						     gconstpointer d)
{
	hb_mem_graphic_buf_t p, c, in, out;
	int32_t cnt;
	int i;

	assert_ok(hb_mem_alloc_graph_buf(1280, 720, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &p));
	assert_ok(hb_mem_alloc_graph_buf(1920, 1080, MEM_PIX_FMT_YUV420P,
					 HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF,
					 0, 0, &c));
	memset(p.virt_addr[1], 0x80, p.size[1]);
	for (i = 0; i < 3; i++)
		memset(c.virt_addr[i], 0x10 + i, c.size[i]);
	in = p;
	memset(in.fd, 0, sizeof(in.fd));
	assert_ok(hb_mem_import_graph_buf(&in, &out));
	g_assert_cmpint(out.plane_cnt, ==, 2);
	g_assert_cmpint(out.share_id[1], ==, p.share_id[1]);
	g_assert_cmpuint(out.virt_addr[1][p.size[1] - 1], ==, 0x80);
	assert_ok(hb_mem_free_buf(out.fd[0]));
	/* contiguous: share_id[1..] may be 0 from some producers */
	in = c;
	in.share_id[1] = in.share_id[2] = 0;
	assert_ok(hb_mem_import_graph_buf(&in, &out));
	for (i = 0; i < 3; i++) {
		g_assert_cmpuint(out.virt_addr[i][0], ==, 0x10 + i);
		g_assert_cmpuint(out.virt_addr[i][c.size[i] - 1], ==, 0x10 + i);
		g_assert_cmpint(out.fd[i], ==, out.fd[0]);
	}
	assert_ok(hb_mem_free_buf(out.fd[2]));
	in = c;
	in.plane_cnt = 4;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	/* a plane placed outside the unit is refused, and nothing leaks */
	in = c;
	in.phys_addr[2] = in.phys_addr[0] + (100u << 20);
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = c;
	in.phys_addr[1] = in.phys_addr[0] - 4096;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_get_share_info(c.fd[0], &cnt));
	g_assert_cmpint(cnt, ==, 1);
	assert_ok(hb_mem_free_buf(p.fd[0]));
	assert_ok(hb_mem_free_buf(c.fd[0]));
}

static void test_group_import_takes_every_member(TestModule *m,
						 gconstpointer d)
{
	int32_t w[8] = { 32, 0, 64 }, h[8] = { 32, 0, 16 };
	int32_t f[8] = { MEM_PIX_FMT_NV12, 0, MEM_PIX_FMT_RGB24 };
	int32_t s[8] = { 0 }, vs[8] = { 0 };
	int64_t fl[8] = { 0 };
	hb_mem_graphic_buf_group_t g, out, again;
	int32_t cnt;

	assert_ok(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &g, 0x5));
	assert_ok(hb_mem_import_graph_buf_group(&g, &out));
	g_assert_cmphex(out.bit_map, ==, 0x5);
	g_assert_cmpint(out.group_id, ==, g.group_id);
	g_assert_cmpint(out.graph_group[2].fd[0], !=, g.graph_group[2].fd[0]);
	assert_ok(hb_mem_get_share_info(g.graph_group[2].fd[0], &cnt));
	g_assert_cmpint(cnt, ==, 2);
	assert_ok(hb_mem_get_graph_buf_group(out.graph_group[0].fd[1], &again));
	g_assert_cmpmem(&again, sizeof(again), &out, sizeof(out));
	assert_ok(hb_mem_free_buf(out.graph_group[0].fd[0]));
	assert_ok(hb_mem_get_share_info(g.graph_group[2].fd[0], &cnt));
	g_assert_cmpint(cnt, ==, 1);
	g.bit_map = 0;
	assert_hb(hb_mem_import_graph_buf_group(&g, &out),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_free_buf(g.graph_group[0].fd[0]));
}

static void test_process_info_names_this_process(TestModule *m,
						 gconstpointer d)
{
	hb_mem_common_buf_t c;
	int32_t pid[4], cnt[4], n = -1;
	char name[16];

	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	if (!strcmp(name, "hbmem")) {
		/* the kernel driver knows holders, not consumers per process */
		assert_ok(hb_mem_get_buffer_process_info(A(c.virt_addr), pid, 4,
							 &n));
		g_assert_cmpint(n, ==, 1);
		g_assert_cmpint(pid[0], ==, getpid());
		assert_hb(hb_mem_get_buffer_process_cons_info_with_share_id(
				  c.share_id, pid, cnt, 4, &n),
			  HB_MEM_ERR_NOT_ALLOW);
		assert_ok(hb_mem_free_buf(c.fd));
		return;
	}
	assert_ok(hb_mem_get_buffer_process_info(A(c.virt_addr), pid, 4, &n));
	g_assert_cmpint(n, ==, 1);
	g_assert_cmpint(pid[0], ==, getpid());
	assert_ok(hb_mem_get_buffer_process_info_with_share_id(c.share_id, pid,
							       4, &n));
	g_assert_cmpint(n, ==, 1);
	assert_ok(hb_mem_get_buffer_process_cons_info_with_share_id(
		c.share_id, pid, cnt, 4, &n));
	g_assert_cmpint(n, ==, 0);
	assert_ok(hb_mem_inc_com_buf_consume_cnt(&c));
	assert_ok(hb_mem_get_buffer_process_cons_info_with_share_id(
		c.share_id, pid, cnt, 4, &n));
	g_assert_cmpint(n, ==, 1);
	g_assert_cmpint(cnt[0], ==, 1);
	/* counting only: num 0 and no array */
	assert_ok(hb_mem_get_buffer_process_info(A(c.virt_addr), NULL, 0, &n));
	g_assert_cmpint(n, ==, 1);
	assert_hb(hb_mem_get_buffer_process_info(A(c.virt_addr), NULL, 2, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buffer_process_info(A(c.virt_addr), pid, -1, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buffer_process_info_with_share_id(-3, pid, 4, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_free_buf(c.fd));
}

static void test_import_with_paddr_wraps_a_physical_range(TestModule *m,
							  gconstpointer d)
{
	hb_mem_common_buf_t c, out;
	uint64_t pa;
	int32_t cnt;
	char name[16];

	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	assert_hb(hb_mem_import_com_buf_with_paddr(0, 4096, 0, &out),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_import_com_buf_with_paddr(0x30000000, 0, 0, &out),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_import_com_buf_with_paddr(0x30000000, 4096, 0, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	if (strcmp(name, "hbmem")) {
		/* no physical memory to name on this backend */
		assert_hb(hb_mem_import_com_buf_with_paddr(0x30000000, 4096, 0,
							   &out),
			  HB_MEM_ERR_NOT_ALLOW);
		return;
	}
	/* a physically contiguous (carveout) buffer, as root in the guest */
	assert_ok(hb_mem_alloc_com_buf(3 * 4096,
				       HB_MEM_USAGE_PRIV_HEAP_RESERVED |
					       HB_MEM_USAGE_CACHED,
				       &c));
	assert_ok(hb_mem_get_phys_addr(A(c.virt_addr), &pa));
	memset(c.virt_addr, 0, c.size);
	c.virt_addr[4096 + 100] = 0x6B;
	assert_ok(hb_mem_import_com_buf_with_paddr(pa + 4096 + 100, 50,
						   HB_MEM_USAGE_CACHED, &out));
	g_assert_cmpuint(out.virt_addr[0], ==, 0x6B);
	g_assert_cmphex(out.phys_addr, ==, pa + 4096 + 100);
	g_assert_cmpint(out.share_id, ==, c.share_id);
	g_assert_cmpuint(out.size, ==, 50);
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	assert_ok(hb_mem_free_buf(out.fd));
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	/* past the buffer: no live buffer holds the range */
	assert_hb(hb_mem_import_com_buf_with_paddr(pa + 2 * 4096, 2 * 4096, 0,
						   &out),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_free_buf(c.fd));
}

/*
 * Another process imports the descriptor's bytes: with global sharing the
 * holder and consume counts it adds are seen here, and go when it exits.
 */
static void test_import_in_another_process_counts_here(TestModule *m,
						       gconstpointer d)
{
	hb_mem_common_buf_t c;
	int go[2], done[2], status;
	int32_t cnt;
	char name[16], byte;
	pid_t pid;

	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	if (strcmp(name, "hbmem")) {
		g_test_skip("sharing is global only on the kernel driver so far");
		return;
	}
	assert_ok(hb_mem_alloc_com_buf(8192, 0, &c));
	memset(c.virt_addr, 0x3C, c.size);
	g_assert_cmpint(pipe(go), ==, 0);
	g_assert_cmpint(pipe(done), ==, 0);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		hb_mem_common_buf_t in = c, out;
		int ok;

		close(go[1]);
		close(done[0]);
		in.fd = -1;
		in.virt_addr = NULL;
		ok = hb_mem_import_com_buf(&in, &out) == 0 &&
		     out.virt_addr[8191] == 0x3C &&
		     hb_mem_inc_com_buf_consume_cnt(&out) == 0;
		byte = ok ? 'y' : 'n';
		if (write(done[1], &byte, 1) != 1)
			_exit(2);
		/* hold the import until the parent has looked */
		if (read(go[0], &byte, 1) < 0)
			_exit(2);
		_exit(ok ? 0 : 1);
	}
	close(go[0]);
	close(done[1]);
	g_assert_cmpint(read(done[0], &byte, 1), ==, 1);
	g_assert_cmpint(byte, ==, 'y');
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	assert_ok(hb_mem_get_consume_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	close(go[1]);	/* the child exits without freeing: the kernel does */
	assert_ok(hb_mem_wait_share_status(c.fd, 1, 5000));
	assert_ok(hb_mem_wait_consume_status(c.fd, 0, 5000));
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(done[0]);
	assert_ok(hb_mem_free_buf(c.fd));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_module_test("/import/rejects-unknown-or-incomplete-descriptors",
			test_import_rejects_unknown_or_incomplete_descriptors);
	add_module_test("/import/gives-new-fd-mapping-and-holder",
			test_import_gives_new_fd_mapping_and_holder);
	add_module_test("/import/memory-outlives-its-allocator-handle",
			test_memory_outlives_its_allocator_handle);
	add_module_test("/import/partial-import-maps-just-the-range",
			test_partial_import_maps_just_the_range);
	add_module_test("/import/wait-share-status-until-importer-frees",
			test_wait_share_status_until_importer_frees);
	add_module_test("/import/consume-count-changes-only-by-inc-and-dec",
			test_consume_count_changes_only_by_inc_and_dec);
	add_module_test("/import/wait-consume-status-wakes-on-dec",
			test_wait_consume_status_wakes_on_dec);
	add_module_test("/import/user-consume-count-drives-consume-count",
			test_user_consume_count_drives_the_consume_count);
	add_module_test("/import/graph-imports-planar-and-contiguous",
			test_graph_imports_planar_and_contiguous);
	add_module_test("/import/group-import-takes-every-member",
			test_group_import_takes_every_member);
	add_module_test("/import/in-another-process-counts-here",
			test_import_in_another_process_counts_here);
	add_module_test("/import/with-paddr-wraps-a-physical-range",
			test_import_with_paddr_wraps_a_physical_range);
	add_module_test("/import/process-info-names-this-process",
			test_process_info_names_this_process);
	return g_test_run();
}
