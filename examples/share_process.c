// SPDX-License-Identifier: MIT
/*
 * share_process - the vendor's cross-process sharing sample: the parent
 * allocates, sends the raw descriptor bytes to a child over a socketpair
 * (no fd passing), and the child imports by share id. With the kernel
 * driver the share ids are the kernel's; otherwise the broker hbmemd keeps
 * them (the library starts it on demand).
 *
 *   parent                               child (its own hb_mem_module_open)
 *   alloc com + NV12, write them
 *   send both descriptors  ------------> import both (new fds, mappings)
 *                                        check the bytes, inc consume count
 *   share count 2, consume count 1  <--- "imported"
 *   wait consume <= 0, share <= 1        dec consume count, free, exit
 *   free
 *
 * Build: cc $(pkg-config --cflags hbmem) share_process.c \
 *            -o share_process $(pkg-config --libs hbmem)
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hb_mem_mgr.h"

#define TIMEOUT_MS 5000

static int failed(const char *who, const char *what, int32_t ret)
{
	char msg[HB_MEM_ERR_MAX_STR_SIZE];

	hb_mem_strerror(ret, msg, sizeof(msg));
	fprintf(stderr, "share_process: %s: %s failed: %s (%d)\n", who, what,
		msg, ret);
	return 1;
}

static int child(int sock)
{
	hb_mem_common_buf_t com, com_in;
	hb_mem_graphic_buf_t img, img_in;
	int32_t ret;
	char ok = 'y', go;

	/* a forked child opens the module itself, as the vendor samples do */
	ret = hb_mem_module_open();
	if (ret)
		return failed("child", "hb_mem_module_open", ret);
	if (read(sock, &com, sizeof(com)) != sizeof(com) ||
	    read(sock, &img, sizeof(img)) != sizeof(img))
		return 1;
	/* the fds and addresses in the bytes mean nothing here */
	ret = hb_mem_import_com_buf(&com, &com_in);
	if (ret)
		return failed("child", "hb_mem_import_com_buf", ret);
	ret = hb_mem_import_graph_buf(&img, &img_in);
	if (ret)
		return failed("child", "hb_mem_import_graph_buf", ret);
	printf("child:  imported share ids %d (com) and %d/%d (NV12 planes)\n",
	       com_in.share_id, img_in.share_id[0], img_in.share_id[1]);
	printf("child:  reads \"%s\", Y[0] = 0x%02x, UV[0] = 0x%02x\n",
	       (char *)com_in.virt_addr, img_in.virt_addr[0][0],
	       img_in.virt_addr[1][0]);
	if (strcmp((char *)com_in.virt_addr, "hello from the parent") ||
	    img_in.virt_addr[0][0] != 0x10 || img_in.virt_addr[1][0] != 0x80)
		ok = 'n';
	ret = hb_mem_inc_com_buf_consume_cnt(&com_in);
	if (ret)
		return failed("child", "hb_mem_inc_com_buf_consume_cnt", ret);
	if (write(sock, &ok, 1) != 1 || read(sock, &go, 1) != 1)
		return 1;
	hb_mem_dec_consume_cnt(com_in.fd);
	hb_mem_free_buf(img_in.fd[0]);
	hb_mem_free_buf(com_in.fd);
	hb_mem_module_close();
	printf("child:  done, imports freed\n");
	return ok == 'y' ? 0 : 1;
}

int main(void)
{
	hb_mem_common_buf_t com;
	hb_mem_graphic_buf_t img;
	int32_t ret, share, consume;
	int sv[2], status;
	char reply;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);	/* both processes, in order */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 1;
	ret = hb_mem_module_open();
	if (ret)
		return failed("parent", "hb_mem_module_open", ret);
	ret = hb_mem_alloc_com_buf(64 * 1024, HB_MEM_USAGE_CPU_READ_OFTEN |
				   HB_MEM_USAGE_CPU_WRITE_OFTEN, &com);
	if (ret)
		return failed("parent", "hb_mem_alloc_com_buf", ret);
	ret = hb_mem_alloc_graph_buf(640, 480, MEM_PIX_FMT_NV12,
				     HB_MEM_USAGE_CPU_READ_OFTEN |
				     HB_MEM_USAGE_CPU_WRITE_OFTEN, 0, 0, &img);
	if (ret)
		return failed("parent", "hb_mem_alloc_graph_buf", ret);
	strcpy((char *)com.virt_addr, "hello from the parent");
	memset(img.virt_addr[0], 0x10, img.size[0]);
	memset(img.virt_addr[1], 0x80, img.size[1]);
	printf("parent: allocated share ids %d (com) and %d/%d (NV12 planes)\n",
	       com.share_id, img.share_id[0], img.share_id[1]);
	fflush(stdout);

	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(sv[0]);
		_exit(child(sv[1]));
	}
	close(sv[1]);
	/* the descriptor bytes, as the vendor sample sends them */
	if (write(sv[0], &com, sizeof(com)) != sizeof(com) ||
	    write(sv[0], &img, sizeof(img)) != sizeof(img) ||
	    read(sv[0], &reply, 1) != 1 || reply != 'y') {
		fprintf(stderr, "share_process: the child could not import\n");
		return 1;
	}
	hb_mem_get_share_info(com.fd, &share);
	hb_mem_get_consume_info(com.fd, &consume);
	printf("parent: share count %d, consume count %d\n", share, consume);
	if (share != 2 || consume != 1)
		return 1;
	reply = 'g';
	if (write(sv[0], &reply, 1) != 1)
		return 1;
	ret = hb_mem_wait_consume_status(com.fd, 0, TIMEOUT_MS);
	if (ret)
		return failed("parent", "hb_mem_wait_consume_status", ret);
	ret = hb_mem_wait_share_status(com.fd, 1, TIMEOUT_MS);
	if (ret)
		return failed("parent", "hb_mem_wait_share_status", ret);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return 1;
	printf("parent: the child let go: share count back to 1\n");
	hb_mem_free_buf(img.fd[0]);
	hb_mem_free_buf(com.fd);
	hb_mem_module_close();
	close(sv[0]);
	printf("share_process: OK\n");
	return 0;
}
