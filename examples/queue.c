// SPDX-License-Identifier: MIT
/*
 * queue - a producer thread and a consumer thread pass common-buffer
 * descriptors through an hbmem queue, the way a camera thread hands frames
 * to an encoder thread.
 *
 *   producer: dequeue a FREE slot, write frame n into that slot's buffer,
 *             queue the buffer's descriptor
 *   consumer: request the oldest queued descriptor, import the buffer it
 *             names, check frame n, free the import, release the slot
 *
 * Build: cc -pthread $(pkg-config --cflags hbmem) queue.c -o queue \
 *            $(pkg-config --libs hbmem)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "hb_mem_mgr.h"

#define SLOTS 4
#define FRAMES 32
#define FRAME_SIZE (64 * 1024)
#define TIMEOUT_MS 2000

static hb_mem_buf_queue_t queue;
static hb_mem_common_buf_t frames[SLOTS];

static int failed(const char *who, const char *what, int32_t ret)
{
	char msg[HB_MEM_ERR_MAX_STR_SIZE];

	hb_mem_strerror(ret, msg, sizeof(msg));
	fprintf(stderr, "queue: %s: %s failed: %s (%d)\n", who, what, msg,
		ret);
	return 1;
}

static void *producer(void *arg)
{
	int32_t slot, ret, n;
	intptr_t err = 0;

	(void)arg;
	for (n = 0; n < FRAMES && !err; n++) {
		ret = hb_mem_dequeue_buf(&queue, &slot, NULL, TIMEOUT_MS);
		if (ret) {
			err = failed("producer", "hb_mem_dequeue_buf", ret);
			break;
		}
		/* "capture" frame n into the slot's own buffer */
		memset(frames[slot].virt_addr, n, FRAME_SIZE);
		ret = hb_mem_flush_buf(frames[slot].fd, 0, FRAME_SIZE);
		if (ret == 0)
			ret = hb_mem_queue_buf(&queue, slot, &frames[slot]);
		if (ret)
			err = failed("producer", "hb_mem_queue_buf", ret);
	}
	printf("producer: queued %d frames\n", n);
	return (void *)err;
}

static void *consumer(void *arg)
{
	hb_mem_common_buf_t desc, in;
	int32_t slot, ret, n;
	intptr_t err = 0;

	(void)arg;
	/* opens are counted: a thread may open for its own use */
	ret = hb_mem_module_open();
	if (ret)
		return (void *)(intptr_t)failed("consumer", "open", ret);
	for (n = 0; n < FRAMES && !err; n++) {
		ret = hb_mem_request_buf(&queue, &slot, &desc, TIMEOUT_MS);
		if (ret) {
			err = failed("consumer", "hb_mem_request_buf", ret);
			break;
		}
		/* the descriptor names the buffer: import it as another
		 * process would */
		ret = hb_mem_import_com_buf(&desc, &in);
		if (ret) {
			err = failed("consumer", "hb_mem_import_com_buf", ret);
			break;
		}
		hb_mem_invalidate_buf(in.fd, 0, FRAME_SIZE);
		if (in.virt_addr[0] != (uint8_t)n ||
		    in.virt_addr[FRAME_SIZE - 1] != (uint8_t)n) {
			fprintf(stderr, "queue: consumer: slot %d holds frame "
				"%d, expected %d\n", slot, in.virt_addr[0], n);
			err = 1;
		}
		if (n < 6 || n == FRAMES - 1)
			printf("consumer: frame %2d from slot %d (share id "
			       "%d)\n", n, slot, desc.share_id);
		else if (n == 6)
			printf("consumer: ...\n");
		ret = hb_mem_free_buf(in.fd);
		if (ret == 0)
			ret = hb_mem_release_buf(&queue, slot);
		if (ret)
			err = failed("consumer", "release", ret);
	}
	ret = hb_mem_module_close();
	if (ret)
		err = failed("consumer", "close", ret);
	return (void *)err;
}

int main(void)
{
	pthread_t prod, cons;
	void *perr, *cerr;
	int32_t ret;
	int i, err = 0;

	ret = hb_mem_module_open();
	if (ret)
		return failed("main", "hb_mem_module_open", ret);
	for (i = 0; i < SLOTS; i++) {
		ret = hb_mem_alloc_com_buf(FRAME_SIZE,
					   HB_MEM_USAGE_CPU_READ_OFTEN |
						   HB_MEM_USAGE_CPU_WRITE_OFTEN |
						   HB_MEM_USAGE_CACHED,
					   &frames[i]);
		if (ret)
			return failed("main", "hb_mem_alloc_com_buf", ret);
	}
	queue.count = SLOTS;
	queue.item_size = sizeof(hb_mem_common_buf_t);
	ret = hb_mem_create_buf_queue(&queue);
	if (ret)
		return failed("main", "hb_mem_create_buf_queue", ret);
	printf("queue of %u slots of %u bytes, %d frames of %d KiB\n",
	       queue.count, queue.item_size, FRAMES, FRAME_SIZE / 1024);

	if (pthread_create(&cons, NULL, consumer, NULL) ||
	    pthread_create(&prod, NULL, producer, NULL)) {
		fprintf(stderr, "queue: cannot start threads\n");
		return 1;
	}
	pthread_join(prod, &perr);
	pthread_join(cons, &cerr);
	err = perr || cerr;

	ret = hb_mem_destroy_buf_queue(&queue);
	if (ret)
		err = failed("main", "hb_mem_destroy_buf_queue", ret);
	for (i = 0; i < SLOTS; i++) {
		ret = hb_mem_free_buf(frames[i].fd);
		if (ret)
			err = failed("main", "hb_mem_free_buf", ret);
	}
	ret = hb_mem_module_close();
	if (ret)
		err = failed("main", "hb_mem_module_close", ret);
	printf(err ? "queue: FAILED\n" : "queue: OK\n");
	return err;
}
