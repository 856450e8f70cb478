// SPDX-License-Identifier: MIT
/*
 * Stress: 4 threads x 100000 mixed operations (buffers, imports, pool,
 * queue) on shared state; afterwards heaps, pool, queue and fds are
 * exactly as they started. $HBMEM_STRESS_SCALE divides the operation
 * count (valgrind runs use it).
 */
#include <stdlib.h>

#include "test-util.h"

#define THREADS 4
#define LIVE 16

struct shared {
	hb_mem_pool_t pool;
	hb_mem_buf_queue_t queue;
	int ops;
};

struct item {
	uint32_t thread;
	uint32_t seq;
};

static gpointer stress_thread(gpointer data)
{
	struct shared *sh = data;
	hb_mem_common_buf_t com[LIVE] = { 0 }, pool[LIVE] = { 0 }, tmp;
	hb_mem_graphic_buf_t graph[LIVE] = { 0 };
	GRand *rnd = g_rand_new();
	uint32_t me = (uint32_t)g_random_int(), seq = 0;
	int i, slot;

	for (i = 0; i < sh->ops; i++) {
		int k = g_rand_int_range(rnd, 0, LIVE);
		struct item it = { me, seq };
		int32_t r;

		switch (g_rand_int_range(rnd, 0, 6)) {
		case 0:
			if (com[k].virt_addr) {
				assert_ok(hb_mem_free_buf(com[k].fd));
				com[k].virt_addr = NULL;
			} else {
				assert_ok(hb_mem_alloc_com_buf(
					1 + g_rand_int_range(rnd, 0, 65536),
					0, &com[k]));
				com[k].virt_addr[0] = (uint8_t)k;
			}
			break;
		case 1:
			if (graph[k].virt_addr[0]) {
				assert_ok(hb_mem_free_buf(graph[k].fd[0]));
				graph[k].virt_addr[0] = NULL;
			} else {
				assert_ok(hb_mem_alloc_graph_buf(
					16 + g_rand_int_range(rnd, 0, 256), 16,
					MEM_PIX_FMT_NV12,
					g_rand_boolean(rnd)
						? HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF
						: 0,
					0, 0, &graph[k]));
			}
			break;
		case 2:
			if (com[k].virt_addr) {
				assert_ok(hb_mem_import_com_buf(&com[k], &tmp));
				g_assert_cmpuint(tmp.virt_addr[0], ==, k);
				assert_ok(hb_mem_free_buf(tmp.fd));
			}
			break;
		case 3:
			if (pool[k].virt_addr) {
				assert_ok(hb_mem_pool_free_buf(
					(uint64_t)(uintptr_t)pool[k].virt_addr));
				pool[k].virt_addr = NULL;
			} else {
				r = hb_mem_pool_alloc_buf(
					sh->pool.fd,
					1 + g_rand_int_range(rnd, 0, 20000),
					&pool[k]);
				if (r == HB_MEM_ERR_INSUFFICIENT_MEM)
					pool[k].virt_addr = NULL;
				else
					assert_ok(r);
			}
			break;
		case 4:
			r = hb_mem_dequeue_buf(&sh->queue, &slot, NULL, 0);
			if (r == 0) {
				seq++;
				assert_ok(hb_mem_queue_buf(&sh->queue, slot, &it));
			} else {
				assert_hb(r, HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
			}
			break;
		default:
			r = hb_mem_request_buf(&sh->queue, &slot, &it, 0);
			if (r == 0)
				assert_ok(hb_mem_release_buf(&sh->queue, slot));
			else
				assert_hb(r, HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
			break;
		}
	}
	for (i = 0; i < LIVE; i++) {
		if (com[i].virt_addr)
			assert_ok(hb_mem_free_buf(com[i].fd));
		if (graph[i].virt_addr[0])
			assert_ok(hb_mem_free_buf(graph[i].fd[1]));
		if (pool[i].virt_addr)
			assert_ok(hb_mem_pool_free_buf(
				(uint64_t)(uintptr_t)pool[i].virt_addr));
	}
	g_rand_free(rnd);
	return NULL;
}

static void test_mixed_operations_leave_accounting_as_found(TestModule *m,
							    gconstpointer d)
{
	const char *scale = g_getenv("HBMEM_STRESS_SCALE");
	GThread *t[THREADS];
	struct shared sh = { 0 };
	hb_mem_pool_t info;
	uint64_t used;
	int fds, i, slot;
	struct item it;

	sh.ops = 100000 / (scale ? MAX(atoi(scale), 1) : 1);
	sh.queue.count = 8;
	sh.queue.item_size = sizeof(struct item);
	assert_ok(hb_mem_create_buf_queue(&sh.queue));
	assert_ok(hb_mem_pool_create(4 << 20, HB_MEM_USAGE_CACHED, &sh.pool));
	used = test_heaps_used();
	fds = test_count_fds();

	for (i = 0; i < THREADS; i++)
		t[i] = g_thread_new("stress", stress_thread, &sh);
	for (i = 0; i < THREADS; i++)
		g_thread_join(t[i]);

	g_assert_cmpuint(test_heaps_used(), ==, used);
	g_assert_cmpint(test_count_fds(), ==, fds);
	assert_ok(hb_mem_pool_get_info(sh.pool.fd, &info));
	g_assert_cmpint(info.avail_page_cnt, ==, info.total_page_cnt);
	g_assert_cmpint(info.cur_client_cnt, ==, 0);
	/* drain what is queued; then every slot is FREE again */
	while (hb_mem_request_buf(&sh.queue, &slot, &it, 0) == 0)
		assert_ok(hb_mem_release_buf(&sh.queue, slot));
	for (i = 0; i < 8; i++)
		assert_ok(hb_mem_dequeue_buf(&sh.queue, &slot, NULL, 0));
	assert_hb(hb_mem_dequeue_buf(&sh.queue, &slot, NULL, 0),
		  HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_ok(hb_mem_destroy_buf_queue(&sh.queue));
	assert_ok(hb_mem_pool_destroy(sh.pool.fd));
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_module_test("/stress/mixed-operations-leave-accounting-as-found",
			test_mixed_operations_leave_accounting_as_found);
	return g_test_run();
}
