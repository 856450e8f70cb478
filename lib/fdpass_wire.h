/* SPDX-License-Identifier: MIT */
/*
 * fdpass_wire.h - the message of direct fd passing (fdpass.c), shared with
 * the tests and fuzz targets that forge messages. Not installed: the wire
 * format is between two copies of this library only.
 *
 * Every message is sizeof(struct fdpass_msg) bytes with nfds fds attached
 * (SCM_RIGHTS, with its first byte). plane[] lists the planes in
 * descriptor order (a group's members in bit order); each names the fd
 * holding it (index into the attached fds), where it starts in that fd and
 * its length. The descriptor is the sender's, with fd = -1 and virt_addr
 * NULL; the receiver trusts none of it.
 */
#ifndef HBMEM_FDPASS_WIRE_H
#define HBMEM_FDPASS_WIRE_H

#include <stdint.h>

#include "hb_mem_mgr.h"

#define FDPASS_MAGIC	0x50464248u	/* "HBFP" little-endian */
#define FDPASS_VERSION	1
#define FDPASS_MAX	(HB_MEM_MAXIMUM_GRAPH_BUF * MAX_GRAPHIC_BUF_COMP)

enum fdpass_kind {
	FDPASS_COM = 1,
	FDPASS_GRAPH = 2,
	FDPASS_GROUP = 3,
};

struct fdpass_plane {
	uint32_t fd_index;
	uint32_t reserved;
	uint64_t offset;	/* of the plane's first byte in the fd */
	uint64_t size;
};

struct fdpass_msg {
	uint32_t magic;
	uint16_t version;
	uint16_t kind;
	uint32_t nfds;
	uint32_t nplanes;
	struct fdpass_plane plane[FDPASS_MAX];
	union {
		hb_mem_common_buf_t com;
		hb_mem_graphic_buf_t graph;
		hb_mem_graphic_buf_group_t group;
	} desc;
};

#endif /* HBMEM_FDPASS_WIRE_H */
