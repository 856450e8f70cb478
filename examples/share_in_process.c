// SPDX-License-Identifier: MIT
/*
 * share_in_process - hand a buffer to another thread the vendor way: send
 * the descriptor, let the receiver import it, and watch the share and
 * consume counts.
 *
 *   main                              worker
 *   alloc, write a message
 *   send the descriptor  ------------> import (a new fd and mapping)
 *                                      read the message, inc consume count
 *   share count 2, consume count 1 <-- "imported"
 *   "go on" -------------------------> dec consume count, free the import
 *   wait consume <= 0, share <= 1
 *
 * Build: cc -pthread $(pkg-config --cflags hbmem) share_in_process.c \
 *            -o share_in_process $(pkg-config --libs hbmem)
 */
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

#include "hb_mem_mgr.h"

#define MESSAGE "hello from the allocating thread"
#define TIMEOUT_MS 2000

static hb_mem_common_buf_t sent;	/* the "wire": descriptor bytes only */
static sem_t imported, go_on;

static int failed(const char *who, const char *what, int32_t ret)
{
	char msg[HB_MEM_ERR_MAX_STR_SIZE];

	hb_mem_strerror(ret, msg, sizeof(msg));
	fprintf(stderr, "share_in_process: %s: %s failed: %s (%d)\n", who,
		what, msg, ret);
	return 1;
}

static void *worker(void *arg)
{
	hb_mem_common_buf_t in;
	intptr_t err = 0;
	int32_t ret;

	(void)arg;
	ret = hb_mem_import_com_buf(&sent, &in);
	if (ret) {
		err = failed("worker", "hb_mem_import_com_buf", ret);
		sem_post(&imported);
		return (void *)err;
	}
	printf("worker: imported share id %d as fd %d at %p (the sender's "
	       "fd was %d)\n", in.share_id, in.fd, (void *)in.virt_addr,
	       sent.fd);
	printf("worker: reads \"%s\"\n", (const char *)in.virt_addr);
	if (strcmp((const char *)in.virt_addr, MESSAGE))
		err = 1;
	ret = hb_mem_inc_com_buf_consume_cnt(&in);
	if (ret)
		err = failed("worker", "hb_mem_inc_com_buf_consume_cnt", ret);
	sem_post(&imported);

	sem_wait(&go_on);
	ret = hb_mem_dec_consume_cnt(in.fd);
	if (ret)
		err = failed("worker", "hb_mem_dec_consume_cnt", ret);
	ret = hb_mem_free_buf(in.fd);
	if (ret)
		err = failed("worker", "hb_mem_free_buf", ret);
	printf("worker: done consuming, import freed\n");
	return (void *)err;
}

int main(void)
{
	hb_mem_common_buf_t buf;
	int32_t ret, share, consume;
	pthread_t t;
	void *werr;
	int err = 0;

	ret = hb_mem_module_open();
	if (ret)
		return failed("main", "hb_mem_module_open", ret);
	ret = hb_mem_alloc_com_buf(4096, HB_MEM_USAGE_CPU_READ_OFTEN |
						 HB_MEM_USAGE_CPU_WRITE_OFTEN |
						 HB_MEM_USAGE_CACHED,
				   &buf);
	if (ret)
		return failed("main", "hb_mem_alloc_com_buf", ret);
	strcpy((char *)buf.virt_addr, MESSAGE);
	hb_mem_flush_buf(buf.fd, 0, buf.size);
	printf("main: allocated share id %d, fd %d; sending the "
	       "descriptor\n", buf.share_id, buf.fd);

	/* what travels is the struct; fd and virt_addr mean nothing to the
	 * receiver and are cleared to show it */
	sent = buf;
	sent.fd = -1;
	sent.virt_addr = NULL;
	sem_init(&imported, 0, 0);
	sem_init(&go_on, 0, 0);
	if (pthread_create(&t, NULL, worker, NULL)) {
		fprintf(stderr, "share_in_process: cannot start a thread\n");
		return 1;
	}
	sem_wait(&imported);

	ret = hb_mem_get_share_info(buf.fd, &share);
	if (ret == 0)
		ret = hb_mem_get_consume_info(buf.fd, &consume);
	if (ret) {
		err = failed("main", "count query", ret);
	} else {
		printf("main: share count %d, consume count %d\n", share,
		       consume);
		if (share != 2 || consume != 1)
			err = 1;
	}
	/* not consumed yet: a wait that must time out */
	ret = hb_mem_wait_consume_status(buf.fd, 0, 10);
	printf("main: wait for consume count 0 within 10 ms: %s\n",
	       ret == HB_MEM_ERR_TIMEOUT ? "timed out, as it should" : "?");
	if (ret != HB_MEM_ERR_TIMEOUT)
		err = 1;

	sem_post(&go_on);
	ret = hb_mem_wait_consume_status(buf.fd, 0, TIMEOUT_MS);
	if (ret)
		err = failed("main", "hb_mem_wait_consume_status", ret);
	ret = hb_mem_wait_share_status(buf.fd, 1, TIMEOUT_MS);
	if (ret)
		err = failed("main", "hb_mem_wait_share_status", ret);
	ret = hb_mem_get_share_info(buf.fd, &share);
	if (ret == 0)
		printf("main: after the worker let go: share count %d\n",
		       share);
	pthread_join(t, &werr);
	err |= werr != NULL;

	ret = hb_mem_free_buf(buf.fd);
	if (ret)
		err = failed("main", "hb_mem_free_buf", ret);
	ret = hb_mem_module_close();
	if (ret)
		err = failed("main", "hb_mem_module_close", ret);
	sem_destroy(&imported);
	sem_destroy(&go_on);
	printf(err ? "share_in_process: FAILED\n" : "share_in_process: OK\n");
	return err;
}
