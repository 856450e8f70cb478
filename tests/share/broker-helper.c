// SPDX-License-Identifier: MIT
/*
 * The exec'd side of the broker tests: a fresh program (nothing inherited
 * from the test) that reads a descriptor's bytes on stdin, imports it,
 * checks the pattern the test wrote in every plane, answers 'y' or 'n' on
 * stdout, and frees it when stdin closes.
 *
 *   broker-helper graph   a hb_mem_graphic_buf_t
 *   broker-helper group   a hb_mem_graphic_buf_group_t
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hb_mem_mgr.h"

static bool read_all(void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(0, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static bool planes_ok(const hb_mem_graphic_buf_t *g)
{
	int i;
	uint64_t k;

	for (i = 0; i < g->plane_cnt; i++)
		for (k = 0; k < g->size[i]; k++)
			if (g->virt_addr[i][k] !=
			    (unsigned char)(k * 31 + 0x10 + i))
				return false;
	return true;
}

/* Clear what means nothing in another process, as a sender would. */
static void scrub(hb_mem_graphic_buf_t *g)
{
	int i;

	for (i = 0; i < MAX_GRAPHIC_BUF_COMP; i++) {
		g->fd[i] = -1;
		g->virt_addr[i] = NULL;
	}
}

int main(int argc, char **argv)
{
	hb_mem_graphic_buf_group_t gin, gout;
	hb_mem_graphic_buf_t in, out;
	bool ok = false;
	int32_t fd = -1;
	char b;
	int i;

	alarm(20);
	if (argc != 2 || hb_mem_module_open() != 0)
		return 2;
	if (!strcmp(argv[1], "graph")) {
		if (!read_all(&in, sizeof(in)))
			return 3;
		scrub(&in);
		ok = hb_mem_import_graph_buf(&in, &out) == 0 && planes_ok(&out);
		fd = out.fd[0];
	} else if (!strcmp(argv[1], "group")) {
		if (!read_all(&gin, sizeof(gin)))
			return 3;
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++)
			scrub(&gin.graph_group[i]);
		ok = hb_mem_import_graph_buf_group(&gin, &gout) == 0 &&
		     gout.bit_map == gin.bit_map;
		for (i = 0; ok && i < HB_MEM_MAXIMUM_GRAPH_BUF; i++)
			if (gout.bit_map & (1u << i))
				ok = planes_ok(&gout.graph_group[i]);
		fd = gout.graph_group[0].fd[0];
	} else {
		return 2;
	}
	b = ok ? 'y' : 'n';
	if (write(1, &b, 1) != 1)
		return 4;
	while (read(0, &b, 1) > 0)
		;
	if (ok && hb_mem_free_buf(fd) != 0)
		return 5;
	hb_mem_module_close();
	return ok ? 0 : 1;
}
