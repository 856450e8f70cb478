/* SPDX-License-Identifier: MIT */
/**
 * SECTION:element-hbmemsrc
 * @title: hbmemsrc
 * @see_also: hbmemsink
 *
 * Receives the buffers an hbmemsink in another process renders, without
 * copying them: the sink's memory blocks arrive once as fds (SCM_RIGHTS)
 * and are mapped once; afterwards only descriptors (block ids, offsets,
 * timestamps, flags, video meta) cross the socket. Each buffer is
 * read-only fd memory (dmabuf memory when the sink's block is a real
 * dma-buf), and goes back to the sink's pool when the last reference to it
 * (or to any memory shared from it) is dropped in this process. Buffers
 * dropped in the streaming thread are handed back in batches (one message
 * for up to half the sink's backlog, sent at the latest before the element
 * waits for the next buffer); others at once.
 *
 * Serialized events (stream-start, caps, segment, tags, flushes, EOS and
 * custom downstream events) come from the sink's pipeline; upstream events
 * (QoS, seek, reconfigure, navigation, latency, custom upstream) go back to
 * it. An EOS from the producer ends the stream with EOS; a producer that
 * disappears without EOS (crash, kill) makes hbmemsrc post an error
 * (RESOURCE/READ) instead of waiting forever.
 *
 * With the base class's #GstBaseSrc:do-timestamp, buffers are re-stamped
 * with this pipeline's running time and the producer's segments are not
 * used (for display); by default the producer's timestamps and segments
 * are kept.
 *
 * ## Example
 * |[
 * gst-launch-1.0 hbmemsrc socket-path=/tmp/cam ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <gst/allocators/allocators.h>
#include <gst/video/video.h>

#include "gsthbmemsrc.h"
#include "gsthbmemipcevent.h"
#include "hbmemipc.h"

GST_DEBUG_CATEGORY_STATIC (gst_hbmem_src_debug);
#define GST_CAT_DEFAULT gst_hbmem_src_debug

#define DEFAULT_SOCKET_PATH NULL
#define DEFAULT_TIMEOUT 5000
/* blocks one sink may have us map at once (each is an fd and a mapping) */
#define MAX_BLOCKS 1024

enum
{
  PROP_0,
  PROP_SOCKET_PATH,
  PROP_TIMEOUT,
  PROP_IS_LIVE,
  PROP_FRAMES_RECEIVED,
  PROP_FRAMES_RELEASED,
};

/*
 * The connection outlives the element's streaming: buffers still alive
 * downstream send their RELEASE from whatever thread drops them, after
 * stop() too (then there is nobody to tell and they do nothing).
 */
typedef struct
{
  gint refcount;
  GMutex lock;
  int sock;                     /* -1 once closed */
  GArray *pending;              /* seqs not sent yet (batched or queue full) */
  guint64 released;
  /*
   * Releases made by this thread (the streaming thread, in create() or
   * while pushing downstream) are batched: they go out as one RELEASE when
   * @batch have piled up, and always before create() blocks, returns
   * anything but a buffer, or the element is unlocked. Releases from any
   * other thread are sent at once (nobody would flush them).
   */
  GThread *owner;
  guint batch;
} HbmemSrcConn;

/* One received buffer: its memories each hold one count. */
typedef struct
{
  HbmemSrcConn *conn;
  guint64 seq;
  gint remaining;
} HbmemSrcFrame;

struct _GstHbmemSrc
{
  GstPushSrc parent;

  gchar *socket_path;
  guint timeout;

  HbmemSrcConn *conn;
  GstPoll *poll;
  GstPollFD pollfd;
  GHashTable *blocks;           /* id -> mapped root GstMemory */
  GstAllocator *fd_alloc;
  GstAllocator *dmabuf_alloc;
  GstCaps *caps;
  struct hbmem_ipc_msg *msg;
  gboolean said_hello;
  guint64 received;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_hbmem_src_parent_class parent_class
G_DEFINE_TYPE (GstHbmemSrc, gst_hbmem_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hbmemsrc, "hbmemsrc", GST_RANK_NONE,
    GST_TYPE_HBMEM_SRC, GST_DEBUG_CATEGORY_INIT (gst_hbmem_src_debug,
        "hbmemsrc", 0, "hbmem zero-copy inter-process source"));

static GQuark frame_quark;      /* on a frame's memories: its HbmemSrcFrame */
static GQuark keep_quark;       /* on shares of them: a ref on the memory */
static GQuark share_fn_quark;   /* on our allocators: the original share */

/* ---- connection ------------------------------------------------------ */

static HbmemSrcConn *
conn_new (int sock)
{
  HbmemSrcConn *c = g_new0 (HbmemSrcConn, 1);

  c->refcount = 1;
  g_mutex_init (&c->lock);
  c->sock = sock;
  c->pending = g_array_new (FALSE, FALSE, sizeof (guint64));
  c->batch = 1;
  return c;
}

static HbmemSrcConn *
conn_ref (HbmemSrcConn * c)
{
  g_atomic_int_inc (&c->refcount);
  return c;
}

static void
conn_unref (HbmemSrcConn * c)
{
  if (!g_atomic_int_dec_and_test (&c->refcount))
    return;
  if (c->sock >= 0)
    close (c->sock);
  g_array_unref (c->pending);
  g_mutex_clear (&c->lock);
  g_free (c);
}

/*
 * Send the queued releases, up to HBMEM_IPC_MAX_RELEASES per message; with
 * c->lock held. What finds the sink's queue full stays queued; a sink that
 * is gone gets nothing more (it released everything when we vanished).
 */
static void
conn_flush_locked (HbmemSrcConn * c)
{
  guint done = 0;

  while (done < c->pending->len && c->sock >= 0) {
    guint n = MIN (c->pending->len - done, HBMEM_IPC_MAX_RELEASES);
    int ret = hbmem_ipc_send (c->sock, HBMEM_IPC_RELEASE,
        &g_array_index (c->pending, guint64, done), n * sizeof (guint64),
        NULL, 0);

    if (ret == -EAGAIN)
      break;
    /* counted as before batching: handed back, or the sink is gone */
    c->released += n;
    done += n;
  }
  g_array_remove_range (c->pending, 0, done);
}

static void
conn_flush (HbmemSrcConn * c)
{
  g_mutex_lock (&c->lock);
  conn_flush_locked (c);
  g_mutex_unlock (&c->lock);
}

static void
conn_release (HbmemSrcConn * c, guint64 seq)
{
  g_mutex_lock (&c->lock);
  if (c->sock >= 0) {
    g_array_append_val (c->pending, seq);
    if (c->owner != g_thread_self () || c->pending->len >= c->batch)
      conn_flush_locked (c);
  }
  g_mutex_unlock (&c->lock);
}

/* Close the socket; later releases find nobody to tell. */
static void
conn_close (HbmemSrcConn * c)
{
  g_mutex_lock (&c->lock);
  if (c->sock >= 0)
    close (c->sock);
  c->sock = -1;
  g_array_set_size (c->pending, 0);
  g_mutex_unlock (&c->lock);
}

/* ---- memory ---------------------------------------------------------- */

static void
frame_memory_gone (gpointer data)
{
  HbmemSrcFrame *f = data;

  if (!g_atomic_int_dec_and_test (&f->remaining))
    return;
  conn_release (f->conn, f->seq);
  conn_unref (f->conn);
  g_free (f);
}

/*
 * fd memory shares always point at the root memory, so a share taken from
 * one of our frame memories (gst_buffer_copy_region, say) would not keep
 * the frame alive. Each share therefore holds a ref on the frame memory it
 * came from, and the RELEASE waits for it.
 */
static GstMemory *
src_mem_share (GstMemory * mem, gssize offset, gssize size)
{
  GstMemoryShareFunction share = g_object_get_qdata (G_OBJECT
      (mem->allocator), share_fn_quark);
  GstMiniObject *obj = GST_MINI_OBJECT_CAST (mem);
  GstMemory *sub, *frame;

  sub = share (mem, offset, size);
  if (!sub)
    return NULL;
  frame = gst_mini_object_get_qdata (obj, frame_quark) ? mem :
      gst_mini_object_get_qdata (obj, keep_quark);
  if (frame)
    gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (sub), keep_quark,
        gst_memory_ref (frame), (GDestroyNotify) gst_memory_unref);
  return sub;
}

static GstAllocator *
src_allocator_new (gboolean dmabuf)
{
  GstAllocator *a = dmabuf ? gst_dmabuf_allocator_new () :
      gst_fd_allocator_new ();

  g_object_set_qdata (G_OBJECT (a), share_fn_quark, a->mem_share);
  a->mem_share = src_mem_share;
  return a;
}

/* ---- messages -------------------------------------------------------- */

/* Take the block the sink announced; the fd moves into the memory. */
static gboolean
src_add_block (GstHbmemSrc * self, struct hbmem_ipc_msg *msg)
{
  const struct hbmem_ipc_mem *m = &msg->u.mem;
  GstMemory *root;
  int dmabuf;

  if (g_hash_table_size (self->blocks) >= MAX_BLOCKS &&
      !g_hash_table_contains (self->blocks, GUINT_TO_POINTER (m->id))) {
    GST_WARNING_OBJECT (self, "the sink announced more than %d blocks",
        MAX_BLOCKS);
    return FALSE;
  }
  if (m->size > G_MAXSSIZE ||
      hbmem_ipc_check_fd (msg->fds[0], m->size, &dmabuf) < 0) {
    GST_WARNING_OBJECT (self, "block %u: fd %d cannot be mapped safely for %"
        G_GUINT64_FORMAT " bytes", m->id, msg->fds[0], (guint64) m->size);
    return FALSE;
  }
  root = gst_fd_allocator_alloc (dmabuf ? self->dmabuf_alloc : self->fd_alloc,
      msg->fds[0], m->size, GST_FD_MEMORY_FLAG_KEEP_MAPPED);
  if (!root)
    return FALSE;
  msg->fds[0] = -1;
  msg->n_fds = 0;
  /* a reused id replaces the old block; frames from it keep it alive */
  g_hash_table_insert (self->blocks, GUINT_TO_POINTER (m->id), root);
  GST_DEBUG_OBJECT (self, "block %u: %" G_GUINT64_FORMAT " bytes%s", m->id,
      (guint64) m->size, dmabuf ? ", dma-buf" : "");
  return TRUE;
}

static gboolean
video_format_known (guint32 format)
{
  const GstVideoFormat *all;
  guint i, n;

  all = gst_video_formats_raw (&n);
  for (i = 0; i < n; i++)
    if ((guint32) all[i] == format)
      return TRUE;
  return FALSE;
}

/* Every plane the meta describes lies inside @total bytes. */
static gboolean
video_meta_valid (const struct hbmem_ipc_video_meta *v, guint64 total)
{
  const GstVideoFormatInfo *finfo;
  guint p;

  if (!video_format_known (v->format))
    return FALSE;
  finfo = gst_video_format_get_info ((GstVideoFormat) v->format);
  if (GST_VIDEO_FORMAT_INFO_IS_TILED (finfo) ||
      v->n_planes != GST_VIDEO_FORMAT_INFO_N_PLANES (finfo))
    return FALSE;
  for (p = 0; p < v->n_planes; p++) {
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    guint64 rows, row_bytes, end;

    gst_video_format_info_component (finfo, p, comp);
    if (comp[0] < 0 || v->stride[p] <= 0)
      return FALSE;
    rows = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (finfo, comp[0], v->height);
    row_bytes = (guint64) GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (finfo, comp[0],
        v->width) * ABS (GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, comp[0]));
    if (row_bytes > (guint64) v->stride[p] || rows == 0)
      return FALSE;
    end = v->offset[p] + (rows - 1) * (guint64) v->stride[p] + row_bytes;
    if (v->offset[p] > total || end > total)
      return FALSE;
  }
  return TRUE;
}

/* Wrap a BUFFER message in a GstBuffer; FALSE if it names bad memory. */
static gboolean
src_wrap_buffer (GstHbmemSrc * self, const struct hbmem_ipc_buffer *b,
    GstBuffer ** out)
{
  GstMemory *roots[HBMEM_IPC_MAX_MEMS];
  HbmemSrcFrame *frame;
  guint64 total = 0;
  GstBuffer *buf;
  guint i;

  for (i = 0; i < b->n_mems; i++) {
    const struct hbmem_ipc_buffer_mem *m = &b->mem[i];
    gsize maxsize;

    roots[i] = g_hash_table_lookup (self->blocks, GUINT_TO_POINTER (m->id));
    if (!roots[i])
      return FALSE;
    gst_memory_get_sizes (roots[i], NULL, &maxsize);
    if (m->offset > maxsize || m->size > maxsize - m->offset)
      return FALSE;
    total += m->size;
  }
  if (b->video.n_planes && !video_meta_valid (&b->video, total))
    return FALSE;

  frame = g_new0 (HbmemSrcFrame, 1);
  frame->conn = conn_ref (self->conn);
  frame->seq = b->seq;
  frame->remaining = b->n_mems;
  buf = gst_buffer_new ();
  for (i = 0; i < b->n_mems; i++) {
    GstMemory *mem = gst_memory_share (roots[i], b->mem[i].offset,
        b->mem[i].size);

    gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (mem), frame_quark, frame,
        frame_memory_gone);
    gst_buffer_append_memory (buf, mem);
  }
  GST_BUFFER_PTS (buf) = b->pts;
  GST_BUFFER_DTS (buf) = b->dts;
  GST_BUFFER_DURATION (buf) = b->duration;
  GST_BUFFER_OFFSET (buf) = b->offset;
  GST_BUFFER_OFFSET_END (buf) = b->offset_end;
  GST_MINI_OBJECT_FLAGS (buf) |= b->flags & (GST_BUFFER_FLAG_LAST - 1) &
      ~GST_BUFFER_FLAG_TAG_MEMORY;
  if (b->video.n_planes) {
    gsize offset[GST_VIDEO_MAX_PLANES] = { 0, };
    gint stride[GST_VIDEO_MAX_PLANES] = { 0, };

    for (i = 0; i < b->video.n_planes; i++) {
      offset[i] = b->video.offset[i];
      stride[i] = b->video.stride[i];
    }
    gst_buffer_add_video_meta_full (buf, b->video.flags,
        (GstVideoFormat) b->video.format, b->video.width, b->video.height,
        b->video.n_planes, offset, stride);
  }
  *out = buf;
  return TRUE;
}

/* Apply an event from the sink; EOS or an error ends create(). */
static GstFlowReturn
src_handle_event (GstHbmemSrc * self, const struct hbmem_ipc_msg *msg)
{
  GstBaseSrc *bsrc = GST_BASE_SRC (self);
  GstEvent *ev;

  ev = gst_hbmem_ipc_event_from_text (msg->u.event.type,
      msg->u.event.seqnum, hbmem_ipc_event_text (msg), FALSE);
  if (!ev) {
    GST_DEBUG_OBJECT (self, "ignoring event 0x%x from the sink",
        msg->u.event.type);
    return GST_FLOW_OK;
  }
  switch (GST_EVENT_TYPE (ev)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;

      gst_event_parse_caps (ev, &caps);
      GST_OBJECT_LOCK (self);
      gst_caps_replace (&self->caps, caps);
      GST_OBJECT_UNLOCK (self);
      gst_event_unref (ev);
      if (!gst_base_src_set_caps (bsrc, self->caps))
        return GST_FLOW_NOT_NEGOTIATED;
      return GST_FLOW_OK;
    }
    case GST_EVENT_SEGMENT:{
      const GstSegment *seg;

      gst_event_parse_segment (ev, &seg);
      if (!gst_base_src_get_do_timestamp (bsrc) &&
          seg->format == GST_FORMAT_TIME)
        gst_base_src_new_segment (bsrc, seg);
      gst_event_unref (ev);
      return GST_FLOW_OK;
    }
    case GST_EVENT_EOS:
      gst_event_unref (ev);
      GST_DEBUG_OBJECT (self, "EOS from the sink");
      return GST_FLOW_EOS;
    case GST_EVENT_FLUSH_STOP:
      gst_pad_push_event (GST_BASE_SRC_PAD (bsrc), ev);
      /* the flush removed the segment downstream: send it again */
      gst_base_src_new_segment (bsrc, &bsrc->segment);
      return GST_FLOW_OK;
    default:
      gst_pad_push_event (GST_BASE_SRC_PAD (bsrc), ev);
      return GST_FLOW_OK;
  }
}

/* Handle one message; *@out is set when it was a buffer. */
static GstFlowReturn
src_dispatch (GstHbmemSrc * self, struct hbmem_ipc_msg *msg, GstBuffer ** out)
{
  switch (msg->type) {
    case HBMEM_IPC_HELLO:
      GST_DEBUG_OBJECT (self, "connected to sink pid %u, backlog %u",
          msg->u.hello.pid, msg->u.hello.backlog);
      /* half the backlog per RELEASE: the sink never waits on a batch */
      g_mutex_lock (&self->conn->lock);
      self->conn->batch = CLAMP (msg->u.hello.backlog / 2, 1,
          HBMEM_IPC_MAX_RELEASES);
      g_mutex_unlock (&self->conn->lock);
      return GST_FLOW_OK;
    case HBMEM_IPC_MEM:
      if (!src_add_block (self, msg))
        goto protocol;
      return GST_FLOW_OK;
    case HBMEM_IPC_FORGET:
      g_hash_table_remove (self->blocks,
          GUINT_TO_POINTER (msg->u.forget.id));
      return GST_FLOW_OK;
    case HBMEM_IPC_EVENT:
      return src_handle_event (self, msg);
    case HBMEM_IPC_BUFFER:
      if (!self->caps || !src_wrap_buffer (self, &msg->u.buffer, out))
        goto protocol;
      return GST_FLOW_OK;
    default:
      goto protocol;            /* RELEASE is not for us */
  }

protocol:
  GST_ELEMENT_ERROR (self, STREAM, DECODE, ("Invalid data from hbmemsink."),
      ("message type %u rejected", msg->type));
  return GST_FLOW_ERROR;
}

static GstFlowReturn
gst_hbmem_src_create (GstPushSrc * psrc, GstBuffer ** out)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (psrc);
  GstFlowReturn flow = GST_FLOW_OK;
  GstBuffer *buf = NULL;
  int ret;

  if (!self->said_hello) {
    struct hbmem_ipc_hello hello = { (guint32) getpid (), 0, 0 };

    /* streaming now: from here on the sink sends us buffers */
    g_mutex_lock (&self->conn->lock);
    ret = hbmem_ipc_send (self->conn->sock, HBMEM_IPC_HELLO, &hello,
        sizeof (hello), NULL, 0);
    g_mutex_unlock (&self->conn->lock);
    if (ret < 0) {
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
          ("The producer (hbmemsink) went away."), ("%s", g_strerror (-ret)));
      return GST_FLOW_ERROR;
    }
    self->said_hello = TRUE;
  }
  g_mutex_lock (&self->conn->lock);
  self->conn->owner = g_thread_self ();
  g_mutex_unlock (&self->conn->lock);
  while (!buf && flow == GST_FLOW_OK) {
    ret = hbmem_ipc_recv (self->pollfd.fd, self->msg);
    if (ret == -EAGAIN) {
      /* nothing to read: what we batched goes out before we sleep */
      conn_flush (self->conn);
      if (gst_poll_wait (self->poll, GST_CLOCK_TIME_NONE) < 0 &&
          errno == EBUSY) {
        conn_flush (self->conn);
        return GST_FLOW_FLUSHING;
      }
      continue;
    }
    if (ret < 0)
      conn_flush (self->conn);
    if (ret == -EPROTO) {
      GST_ELEMENT_ERROR (self, STREAM, DECODE,
          ("Invalid data from hbmemsink."), ("malformed message"));
      return GST_FLOW_ERROR;
    }
    if (ret < 0) {
      GST_ELEMENT_ERROR (self, RESOURCE, READ,
          ("The producer (hbmemsink) went away."),
          ("socket %s: %s", self->socket_path, g_strerror (-ret)));
      return GST_FLOW_ERROR;
    }
    flow = src_dispatch (self, self->msg, &buf);
    hbmem_ipc_msg_clear (self->msg);
  }
  if (flow != GST_FLOW_OK) {
    gst_clear_buffer (&buf);
    conn_flush (self->conn);
    return flow;
  }
  if (gst_base_src_get_do_timestamp (GST_BASE_SRC (self))) {
    GST_BUFFER_PTS (buf) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  }
  GST_OBJECT_LOCK (self);
  self->received++;
  GST_OBJECT_UNLOCK (self);
  *out = buf;
  return GST_FLOW_OK;
}

/* ---- GstBaseSrc ------------------------------------------------------ */

static gboolean
gst_hbmem_src_start (GstBaseSrc * bsrc)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (bsrc);
  int sock, ret;

  if (!self->socket_path) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No socket-path set."), (NULL));
    return FALSE;
  }
  ret = hbmem_ipc_connect (self->socket_path, self->timeout, &sock);
  if (ret < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not connect to hbmemsink at %s.", self->socket_path),
        ("connect: %s", g_strerror (-ret)));
    return FALSE;
  }
  self->conn = conn_new (sock);
  self->poll = gst_poll_new (TRUE);
  gst_poll_fd_init (&self->pollfd);
  self->pollfd.fd = sock;
  gst_poll_add_fd (self->poll, &self->pollfd);
  gst_poll_fd_ctl_read (self->poll, &self->pollfd, TRUE);
  self->blocks = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) gst_memory_unref);
  self->fd_alloc = src_allocator_new (FALSE);
  self->dmabuf_alloc = src_allocator_new (TRUE);
  self->msg = g_new0 (struct hbmem_ipc_msg, 1);
  self->said_hello = FALSE;
  GST_OBJECT_LOCK (self);
  self->received = 0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_hbmem_src_stop (GstBaseSrc * bsrc)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (bsrc);
  HbmemSrcConn *conn;

  GST_OBJECT_LOCK (self);
  conn = self->conn;
  self->conn = NULL;
  GST_OBJECT_UNLOCK (self);
  if (conn) {
    conn_close (conn);
    conn_unref (conn);
  }
  g_clear_pointer (&self->poll, gst_poll_free);
  g_clear_pointer (&self->blocks, g_hash_table_unref);
  gst_clear_object (&self->fd_alloc);
  gst_clear_object (&self->dmabuf_alloc);
  gst_clear_caps (&self->caps);
  g_clear_pointer (&self->msg, g_free);
  return TRUE;
}

static gboolean
gst_hbmem_src_unlock (GstBaseSrc * bsrc)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (bsrc);

  if (self->poll)
    gst_poll_set_flushing (self->poll, TRUE);
  /* pausing or flushing: nothing batched may wait for the next create() */
  if (self->conn)
    conn_flush (self->conn);
  return TRUE;
}

static gboolean
gst_hbmem_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (bsrc);

  if (self->poll)
    gst_poll_set_flushing (self->poll, FALSE);
  if (self->conn)
    conn_flush (self->conn);
  return TRUE;
}

/* Until the sink says, there are no caps to negotiate. */
static gboolean
gst_hbmem_src_negotiate (GstBaseSrc * bsrc)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (bsrc);

  return self->caps ? gst_base_src_set_caps (bsrc, self->caps) : TRUE;
}

static GstCaps *
gst_hbmem_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (bsrc);
  GstCaps *caps;

  GST_OBJECT_LOCK (self);
  caps = self->caps ? gst_caps_ref (self->caps) : gst_caps_new_any ();
  GST_OBJECT_UNLOCK (self);
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* Upstream events go to the sink's pipeline. */
static gboolean
gst_hbmem_src_event (GstBaseSrc * bsrc, GstEvent * event)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (bsrc);
  gboolean sent = FALSE;

  if (self->conn && gst_hbmem_ipc_event_is_forwarded (event, TRUE)) {
    gchar *text = gst_hbmem_ipc_event_to_text (event);

    g_mutex_lock (&self->conn->lock);
    if (text && self->conn->sock >= 0)
      sent = hbmem_ipc_send_event (self->conn->sock, GST_EVENT_TYPE (event),
          GST_EVENT_SEQNUM (event), text) == 0;
    g_mutex_unlock (&self->conn->lock);
    g_free (text);
    GST_DEBUG_OBJECT (self, "%s event %s to the sink",
        sent ? "sent" : "could not send", GST_EVENT_TYPE_NAME (event));
  }
  /* reconfigure also concerns our own pad; the rest is the base class's */
  if (GST_EVENT_TYPE (event) == GST_EVENT_RECONFIGURE ||
      !gst_hbmem_ipc_event_is_forwarded (event, TRUE))
    return GST_BASE_SRC_CLASS (parent_class)->event (bsrc, event);
  return sent;
}

/* ---- GObject --------------------------------------------------------- */

static void
gst_hbmem_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (object);

  switch (prop_id) {
    case PROP_SOCKET_PATH:
      GST_OBJECT_LOCK (self);
      g_free (self->socket_path);
      self->socket_path = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TIMEOUT:
      self->timeout = g_value_get_uint (value);
      break;
    case PROP_IS_LIVE:
      gst_base_src_set_live (GST_BASE_SRC (self), g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hbmem_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (object);

  switch (prop_id) {
    case PROP_SOCKET_PATH:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->socket_path);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    case PROP_IS_LIVE:
      g_value_set_boolean (value, gst_base_src_is_live (GST_BASE_SRC (self)));
      break;
    case PROP_FRAMES_RECEIVED:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->received);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FRAMES_RELEASED:{
      guint64 n = 0;

      GST_OBJECT_LOCK (self);
      if (self->conn) {
        g_mutex_lock (&self->conn->lock);
        n = self->conn->released;
        g_mutex_unlock (&self->conn->lock);
      }
      GST_OBJECT_UNLOCK (self);
      g_value_set_uint64 (value, n);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hbmem_src_finalize (GObject * object)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (object);

  g_free (self->socket_path);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hbmem_src_class_init (GstHbmemSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *bsrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *psrc_class = GST_PUSH_SRC_CLASS (klass);

  frame_quark = g_quark_from_static_string ("GstHbmemSrcFrame");
  keep_quark = g_quark_from_static_string ("GstHbmemSrcKeep");
  share_fn_quark = g_quark_from_static_string ("GstHbmemSrcShareFn");

  gobject_class->set_property = gst_hbmem_src_set_property;
  gobject_class->get_property = gst_hbmem_src_get_property;
  gobject_class->finalize = gst_hbmem_src_finalize;

  g_object_class_install_property (gobject_class, PROP_SOCKET_PATH,
      g_param_spec_string ("socket-path", "Socket path",
          "Unix socket of the hbmemsink to receive from", DEFAULT_SOCKET_PATH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Connect timeout",
          "How long to wait for the sink's socket when starting, in ms "
          "(0: one attempt)", 0, G_MAXINT, DEFAULT_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live",
          "Act as a live source", TRUE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_FRAMES_RECEIVED,
      g_param_spec_uint64 ("frames-received", "Frames received",
          "Buffers received since the last start", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_FRAMES_RELEASED,
      g_param_spec_uint64 ("frames-released", "Frames released",
          "Buffers handed back to the sink since the last start", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "hbmem inter-process source", "Source/Video",
      "Receives buffers from an hbmemsink in another process without "
      "copying them", "hbmem developers");

  bsrc_class->start = GST_DEBUG_FUNCPTR (gst_hbmem_src_start);
  bsrc_class->stop = GST_DEBUG_FUNCPTR (gst_hbmem_src_stop);
  bsrc_class->unlock = GST_DEBUG_FUNCPTR (gst_hbmem_src_unlock);
  bsrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_hbmem_src_unlock_stop);
  bsrc_class->negotiate = GST_DEBUG_FUNCPTR (gst_hbmem_src_negotiate);
  bsrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_hbmem_src_get_caps);
  bsrc_class->event = GST_DEBUG_FUNCPTR (gst_hbmem_src_event);
  psrc_class->create = GST_DEBUG_FUNCPTR (gst_hbmem_src_create);
}

static void
gst_hbmem_src_init (GstHbmemSrc * self)
{
  self->timeout = DEFAULT_TIMEOUT;
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
}
