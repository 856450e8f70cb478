// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: hb_mem_import_com_buf / _graph_buf / _graph_buf_group
 * fed arbitrary descriptor bytes (48, 160 or 1288 of them), as another
 * process could send them under the vendor model.
 *
 * Input: byte 0 picks the call (bits 0-1) and how much of the descriptor
 * is made to point at the live buffers allocated at start-up (bit 2: share
 * ids, bit 3: device addresses, plus the fuzzed low bits as an offset), so
 * that the interesting paths (a known unit, a range inside or just outside
 * it) are reached, not only "unknown id". The rest is the descriptor.
 *
 * Invariants: no crash, no sanitizer report; a successful import maps
 * every byte it reports and frees cleanly; the fd count is unchanged after
 * each input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"
#include "fuzz-util.h"

static hb_mem_common_buf_t live_com;
static hb_mem_graphic_buf_t live_planar, live_contig;
static hb_mem_graphic_buf_group_t live_group;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int32_t w[8] = { 64, 32 }, h[8] = { 64, 32 };
	int32_t fmt[8] = { MEM_PIX_FMT_NV12, MEM_PIX_FMT_NV12 };
	int64_t fl[8] = { 0, HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF };
	int32_t st[8] = { 0 }, vst[8] = { 0 };

	(void)argc;
	(void)argv;
	setenv("HBMEM_AUTOSPAWN", "0", 0);
	setenv("HBMEM_LOG", "none", 0);
	fuzz_check(hb_mem_module_open() == 0);
	fuzz_check(hb_mem_alloc_com_buf(8192, 0, &live_com) == 0);
	fuzz_check(hb_mem_alloc_graph_buf(64, 48, MEM_PIX_FMT_NV12, 0, 0, 0,
					  &live_planar) == 0);
	fuzz_check(hb_mem_alloc_graph_buf(64, 48, MEM_PIX_FMT_NV12,
					  HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF,
					  0, 0, &live_contig) == 0);
	fuzz_check(hb_mem_alloc_graph_buf_group(w, h, fmt, fl, st, vst,
						&live_group, 0x3) == 0);
	return 0;
}

static const hb_mem_graphic_buf_t *live_graph(unsigned int pick)
{
	switch (pick % 4) {
	case 0:
		return &live_planar;
	case 1:
		return &live_contig;
	case 2:
		return &live_group.graph_group[0];
	default:
		return &live_group.graph_group[1];
	}
}

/* Point @g's ids and/or addresses at a live buffer (as @mode says). */
static void aim_graph(hb_mem_graphic_buf_t *g, unsigned int mode,
		      unsigned int pick)
{
	const hb_mem_graphic_buf_t *l = live_graph(pick);
	int i;

	for (i = 0; i < MAX_GRAPHIC_BUF_COMP; i++) {
		if (mode & 4)
			g->share_id[i] = l->share_id[i % l->plane_cnt];
		if (mode & 8)
			g->phys_addr[i] = l->phys_addr[i % l->plane_cnt] +
					  (g->phys_addr[i] & 0x3fff) - 0x2000;
	}
}

static void check_graph(const hb_mem_graphic_buf_t *g)
{
	int i;

	fuzz_check(g->plane_cnt >= 1 && g->plane_cnt <= MAX_GRAPHIC_BUF_COMP);
	for (i = 0; i < g->plane_cnt; i++)
		fuzz_touch(g->virt_addr[i], g->size[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		hb_mem_common_buf_t com;
		hb_mem_graphic_buf_t graph;
		hb_mem_graphic_buf_group_t group;
	} in, out;
	unsigned int mode, i;
	int fds = fuzz_count_fds();

	if (size < 1)
		return 0;
	mode = data[0];
	memset(&in, 0, sizeof(in));
	memcpy(&in, data + 1, size - 1 < sizeof(in) ? size - 1 : sizeof(in));
	switch (mode & 3) {
	case 0:
		if (mode & 4)
			in.com.share_id = live_com.share_id;
		if (mode & 8)
			in.com.phys_addr = live_com.phys_addr +
					   (in.com.phys_addr & 0x3fff) - 0x2000;
		if (hb_mem_import_com_buf(&in.com, &out.com) != 0)
			break;
		fuzz_touch(out.com.virt_addr, out.com.size);
		fuzz_check(hb_mem_free_buf(out.com.fd) == 0);
		break;
	case 1:
		aim_graph(&in.graph, mode, mode >> 4);
		if (hb_mem_import_graph_buf(&in.graph, &out.graph) != 0)
			break;
		check_graph(&out.graph);
		fuzz_check(hb_mem_free_buf(out.graph.fd[0]) == 0);
		break;
	default:
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++)
			aim_graph(&in.group.graph_group[i], mode, i + (mode >> 4));
		if (hb_mem_import_graph_buf_group(&in.group, &out.group) != 0)
			break;
		fuzz_check(out.group.bit_map == in.group.bit_map);
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++)
			if (out.group.bit_map & (1u << i))
				check_graph(&out.group.graph_group[i]);
		for (i = 0; !(out.group.bit_map & (1u << i)); i++)
			;
		fuzz_check(hb_mem_free_buf(out.group.graph_group[i].fd[0]) == 0);
		break;
	}
	fuzz_check(fuzz_count_fds() == fds);
	return 0;
}
