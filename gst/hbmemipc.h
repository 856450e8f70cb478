/* SPDX-License-Identifier: MIT */
/*
 * hbmemipc.h - the wire protocol between hbmemsink and hbmemsrc.
 *
 * One hbmemsink listens on a unix SOCK_SEQPACKET socket; any number of
 * hbmemsrc connect to it. Every message is one datagram: a fixed header and
 * a payload whose size the header states, plus SCM_RIGHTS fds for the one
 * message type that carries them. Nothing in a message is trusted: the
 * receiver checks the magic, version, payload size, fd count and every
 * length field, and a message that fails is rejected whole (its fds are
 * closed) with -EPROTO, so a hostile peer can at worst be disconnected.
 *
 * Memory crosses once per block and consumer, frames cross as ids:
 *
 *   sink                                        src
 *    |--- HELLO {pid, backlog} ----------------->|  on connect
 *    |--- EVENT stream-start, caps, segment ---->|  sticky state, late joiners
 *    |<-- HELLO {pid} ---------------------------|  src streams: send buffers
 *    |--- MEM {id 7, size, flags} + fd --------->|  first time block 7 is sent
 *    |--- BUFFER {seq 1, mem[] = {7, off, len}} >|  wraps block 7, no syscall
 *    |<-- RELEASE {seq 1[, seq 2 ...]} ----------|  last refs dropped downstream
 *    |--- FORGET {id 7} ------------------------>|  block 7 freed by the sink
 *    |<-- EVENT qos / seek / reconfigure --------|  upstream events
 *
 * The sink keeps a reference on every GstBuffer it sent until the consumer
 * releases its seq (or disconnects), so a block is back in the sink's pool
 * only when no process reads it any more.
 *
 * This file is plain C (no GLib) so it can be tested alone. All functions
 * return 0 or a negative errno.
 */
#ifndef HBMEM_IPC_H
#define HBMEM_IPC_H

#include <stddef.h>
#include <stdint.h>

#define HBMEM_IPC_MAGIC		0x494d4248u	/* "HBMI" little-endian */
#define HBMEM_IPC_VERSION	1
#define HBMEM_IPC_MAX_MSG	16384	/* largest datagram, header included */
#define HBMEM_IPC_MAX_MEMS	4	/* GstMemory per buffer */
#define HBMEM_IPC_MAX_PLANES	4	/* GST_VIDEO_MAX_PLANES */
#define HBMEM_IPC_MAX_FDS	1	/* fds in one message (MEM) */
#define HBMEM_IPC_MAX_RELEASES	64	/* seqs one RELEASE may carry */

enum hbmem_ipc_type {
	HBMEM_IPC_HELLO = 1,	/* both: sink greets, src says it streams */
	HBMEM_IPC_MEM = 2,	/* sink -> src, one fd */
	HBMEM_IPC_FORGET = 3,	/* sink -> src */
	HBMEM_IPC_BUFFER = 4,	/* sink -> src */
	HBMEM_IPC_EVENT = 5,	/* both ways */
	HBMEM_IPC_RELEASE = 6,	/* src -> sink */
};

struct hbmem_ipc_header {
	uint32_t magic;
	uint16_t version;
	uint16_t type;		/* enum hbmem_ipc_type */
	uint32_t size;		/* payload bytes after this header */
	uint32_t reserved;	/* 0 */
};

struct hbmem_ipc_hello {
	uint32_t pid;		/* the sink's process */
	uint32_t backlog;	/* frames this consumer may hold */
	uint64_t reserved;
};

/* hbmem_ipc_mem.flags */
#define HBMEM_IPC_MEM_DMABUF	(1u << 0)	/* the fd is a real dma-buf */

struct hbmem_ipc_mem {
	uint32_t id;		/* the sink's block id, never 0 */
	uint32_t flags;		/* HBMEM_IPC_MEM_* */
	uint64_t size;		/* bytes the receiver may map from offset 0 */
};

struct hbmem_ipc_forget {
	uint32_t id;
	uint32_t reserved;
};

struct hbmem_ipc_buffer_mem {
	uint32_t id;		/* a block announced by MEM */
	uint32_t reserved;
	uint64_t offset;	/* where this GstMemory starts in the block */
	uint64_t size;		/* its length */
};

struct hbmem_ipc_video_meta {
	uint32_t format;	/* GstVideoFormat */
	uint32_t flags;		/* GstVideoFrameFlags */
	uint32_t width;
	uint32_t height;
	uint32_t n_planes;	/* 0: no GstVideoMeta */
	uint32_t reserved;
	uint64_t offset[HBMEM_IPC_MAX_PLANES];
	int32_t stride[HBMEM_IPC_MAX_PLANES];
};

struct hbmem_ipc_buffer {
	uint64_t seq;		/* per connection, echoed by RELEASE */
	uint64_t pts, dts, duration;	/* GstClockTime, -1 = none */
	uint64_t offset, offset_end;
	uint32_t flags;		/* GstBufferFlags */
	uint32_t n_mems;	/* 1 .. HBMEM_IPC_MAX_MEMS */
	struct hbmem_ipc_buffer_mem mem[HBMEM_IPC_MAX_MEMS];
	struct hbmem_ipc_video_meta video;
};

/*
 * An event: its GstEventType, seqnum, and its structure serialized with
 * gst_structure_to_string() (text[] of len bytes, the last one NUL; an
 * empty string for events without a structure).
 */
struct hbmem_ipc_event {
	uint32_t type;
	uint32_t seqnum;
	uint32_t len;
	uint32_t reserved;
	/* followed by the text */
};

#define HBMEM_IPC_EVENT_MAX_TEXT \
	(HBMEM_IPC_MAX_MSG - sizeof(struct hbmem_ipc_header) - \
	 sizeof(struct hbmem_ipc_event))

/*
 * A RELEASE carries 1 .. HBMEM_IPC_MAX_RELEASES seqs: its payload is an
 * array of uint64_t (this struct is its first element), so a consumer that
 * drops several buffers in a row wakes the sink once for all of them.
 */
struct hbmem_ipc_release {
	uint64_t seq;
};

/* The number of seqs in a received RELEASE message. */
#define HBMEM_IPC_RELEASE_COUNT(msg) ((msg)->size / sizeof(uint64_t))

/* A received message. */
struct hbmem_ipc_msg {
	uint16_t type;
	uint32_t size;			/* payload bytes */
	int n_fds;
	int fds[HBMEM_IPC_MAX_FDS];	/* owned by the message until taken */
	union {
		struct hbmem_ipc_hello hello;
		struct hbmem_ipc_mem mem;
		struct hbmem_ipc_forget forget;
		struct hbmem_ipc_buffer buffer;
		struct hbmem_ipc_event event;
		struct hbmem_ipc_release release;
		uint64_t release_seq[HBMEM_IPC_MAX_RELEASES];
		unsigned char raw[HBMEM_IPC_MAX_MSG];
	} u;
};

/*
 * Create the listening socket at @path (SOCK_SEQPACKET, CLOEXEC,
 * non-blocking). A stale socket file nobody listens on is replaced;
 * -EADDRINUSE if a live one is there, -ENAMETOOLONG if @path does not fit.
 * The new fd in *@fd is owned by the caller.
 */
int hbmem_ipc_listen(const char *path, int *fd);

/*
 * Accept one pending connection (-EAGAIN if none). The new fd in *@fd
 * (CLOEXEC, non-blocking) is owned by the caller; @listen_fd is not taken.
 */
int hbmem_ipc_accept(int listen_fd, int *fd);

/*
 * Connect to @path, retrying while it does not exist or nobody listens
 * yet, for up to @timeout_ms (0: one try). -ETIMEDOUT when time ran out;
 * -ENOTSOCK at once when @path is a file but no socket.
 * The new fd in *@fd (CLOEXEC, non-blocking) is owned by the caller.
 */
int hbmem_ipc_connect(const char *path, int timeout_ms, int *fd);

/*
 * Send one message of @type with @len payload bytes and @n_fds fds. Never
 * blocks: -EAGAIN when the peer's queue is full (a stalled peer), -EPIPE or
 * -ECONNRESET when it is gone. The fds stay owned by the caller (the
 * kernel passes duplicates).
 */
int hbmem_ipc_send(int sock, enum hbmem_ipc_type type, const void *payload,
		   size_t len, const int *fds, int n_fds);

/*
 * Send an EVENT message with @text (NUL-terminated, may be NULL for none).
 * -EMSGSIZE when the text does not fit in one message.
 */
int hbmem_ipc_send_event(int sock, uint32_t type, uint32_t seqnum,
			 const char *text);

/*
 * Receive and check one message. Returns 0 with *@msg filled (the fds it
 * carries are then owned by @msg: take them or hbmem_ipc_msg_clear()),
 * -EAGAIN when nothing is pending, -ECONNRESET when the peer closed (and
 * all it sent before closing was read, even if it closed without reading
 * what we sent it), or
 * -EPROTO for a malformed message (already discarded, fds closed).
 */
int hbmem_ipc_recv(int sock, struct hbmem_ipc_msg *msg);

/* The text of a received EVENT message (NUL-terminated, checked). */
static inline const char *hbmem_ipc_event_text(const struct hbmem_ipc_msg *msg)
{
	return (const char *)msg->u.raw + sizeof(struct hbmem_ipc_event);
}

/* Close the fds @msg still owns. */
void hbmem_ipc_msg_clear(struct hbmem_ipc_msg *msg);

/*
 * Check that @fd may be mapped for @size bytes and cannot shrink under the
 * mapping: a memfd sealed against shrinking, or a dma-buf, at least @size
 * long and open for reading. *@is_dmabuf says which. -EINVAL otherwise
 * (the fd is not taken).
 */
int hbmem_ipc_check_fd(int fd, uint64_t size, int *is_dmabuf);

#endif /* HBMEM_IPC_H */
