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
 * waits for the next buffer); others at once. Nothing is allocated per
 * frame: the buffers come from the element's own pool (empty buffers) and
 * each block's memory object is reused whenever the block comes back.
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
/* idle frame memories one block keeps (one per range it was sent with) */
#define MAX_IDLE_SLOTS 4
/* idle empty GstBuffers the wrapper pool keeps */
#define MAX_IDLE_BUFFERS 64

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
  /* frame records: handed out per BUFFER, back when released */
  struct _HbmemSrcFrame *idle_frames;
  GPtrArray *frames;            /* every record made, freed with the conn */
} HbmemSrcConn;

/* One received buffer: its memories each hold one count (conn->lock). */
typedef struct _HbmemSrcFrame
{
  struct _HbmemSrcFrame *next;  /* in conn->idle_frames */
  guint64 seq;
  gint remaining;
} HbmemSrcFrame;

typedef struct _HbmemSrcSlot HbmemSrcSlot;

/* A block the sink announced: its fd, mapped once (see "wrappers"). */
typedef struct
{
  gint refcount;                /* the block table's, one per slot */
  HbmemSrcConn *conn;           /* a ref */
  GstMemory *root;              /* a ref: the fd memory of the whole block */
  /* under conn->lock: */
  gboolean dropped;             /* out of the table: keeps no idle slot */
  HbmemSrcSlot *idle;
  guint n_idle;
} HbmemSrcBlock;

/* One frame memory (a share of a block's root); its qdata. */
struct _HbmemSrcSlot
{
  HbmemSrcSlot *next;           /* in block->idle */
  HbmemSrcBlock *block;         /* a ref */
  GstMemory *mem;
  HbmemSrcFrame *frame;         /* while the memory is out (conn->lock) */
};

/* The pool of empty GstBuffers that carry the frames (see "wrappers"). */
#define HBMEM_TYPE_SRC_BUFFER_POOL (hbmem_src_buffer_pool_get_type ())
G_DECLARE_FINAL_TYPE (HbmemSrcBufferPool, hbmem_src_buffer_pool, HBMEM,
    SRC_BUFFER_POOL, GstBufferPool)

struct _HbmemSrcBufferPool
{
  GstBufferPool parent;

  GMutex lock;
  gboolean active;
  GPtrArray *idle;              /* empty buffers, most recent last */
};

G_DEFINE_TYPE (HbmemSrcBufferPool, hbmem_src_buffer_pool,
    GST_TYPE_BUFFER_POOL);

struct _GstHbmemSrc
{
  GstPushSrc parent;

  gchar *socket_path;
  guint timeout;

  HbmemSrcConn *conn;
  GstPoll *poll;
  GstPollFD pollfd;
  GHashTable *blocks;           /* id -> HbmemSrcBlock */
  GstBufferPool *wrappers;      /* HbmemSrcBufferPool */
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

static GQuark slot_quark;       /* on a frame memory: its HbmemSrcSlot */
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
  c->frames = g_ptr_array_new_with_free_func (g_free);
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
  g_ptr_array_unref (c->frames);
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
conn_release_locked (HbmemSrcConn * c, guint64 seq)
{
  if (c->sock >= 0) {
    g_array_append_val (c->pending, seq);
    if (c->owner != g_thread_self () || c->pending->len >= c->batch)
      conn_flush_locked (c);
  }
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

/* ---- wrappers -------------------------------------------------------- */

/*
 * Nothing is allocated per frame once a stream runs. A frame memory (a
 * read-only share of a block's root memory, over the range a BUFFER
 * names) is made once per block and range: when its last ref goes, its
 * dispose hook counts the frame down (the frame's last memory queues the
 * RELEASE), brings the memory back to life and files it, idle, under its
 * block for the next BUFFER naming that range. So a memory keeps naming
 * the same fd range for its whole life (what downstream caches keyed on
 * a memory, an importer's say, expect). A block dropped (FORGET, an id
 * reused, stop) frees its idle memories; one still out is freed when it
 * comes back. Frame records go back to a list on the connection. The
 * GstBuffers come from HbmemSrcBufferPool, a pool of empty buffers
 * (buffer->pool is set, so elements that hook a pool buffer's trip back,
 * hbmemqueue, do so); its reset takes the memories out and the metas
 * downstream added; our GstVideoMeta is pooled and rewritten per frame.
 *
 * Lifetimes: a block holds the conn, a slot (the qdata of one frame
 * memory) holds its block, so frame records, kept until the conn goes,
 * outlive every memory that points at them.
 */

static HbmemSrcBlock *
block_new (HbmemSrcConn * c, GstMemory * root)
{
  HbmemSrcBlock *b = g_new0 (HbmemSrcBlock, 1);

  b->refcount = 1;
  b->conn = conn_ref (c);
  b->root = root;
  return b;
}

static void
block_unref (HbmemSrcBlock * b)
{
  if (!g_atomic_int_dec_and_test (&b->refcount))
    return;
  gst_memory_unref (b->root);
  conn_unref (b->conn);
  g_free (b);
}

static void
slot_free (gpointer data)
{
  HbmemSrcSlot *s = data;

  block_unref (s->block);
  g_free (s);
}

/* Let a frame memory go for good (its qdata then drops its block). */
static void
slot_mem_free (GstMemory * mem)
{
  GST_MINI_OBJECT_CAST (mem)->dispose = NULL;
  gst_memory_unref (mem);
}

/* The last ref on a frame memory went (any thread). */
static gboolean
slot_mem_dispose (GstMiniObject * obj)
{
  HbmemSrcSlot *s = gst_mini_object_get_qdata (obj, slot_quark);
  HbmemSrcBlock *b = s->block;
  HbmemSrcConn *c = b->conn;
  HbmemSrcFrame *f;
  gboolean keep;

  gst_mini_object_ref (obj);    /* alive again, ours alone */
  g_mutex_lock (&c->lock);
  f = s->frame;
  s->frame = NULL;
  if (f && --f->remaining == 0) {
    conn_release_locked (c, f->seq);
    f->next = c->idle_frames;
    c->idle_frames = f;
  }
  keep = !b->dropped && b->n_idle < MAX_IDLE_SLOTS;
  if (keep) {
    s->next = b->idle;
    b->idle = s;
    b->n_idle++;
  }
  g_mutex_unlock (&c->lock);
  if (!keep)
    slot_mem_free (GST_MEMORY_CAST (obj));
  return FALSE;
}

/* A new frame memory over [offset, offset + size) of @b (a ref for us). */
static HbmemSrcSlot *
slot_new (HbmemSrcBlock * b, gsize offset, gsize size)
{
  HbmemSrcSlot *s = g_new0 (HbmemSrcSlot, 1);

  g_atomic_int_inc (&b->refcount);
  s->block = b;
  s->mem = gst_memory_share (b->root, offset, size);
  gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (s->mem), slot_quark, s,
      slot_free);
  GST_MINI_OBJECT_CAST (s->mem)->dispose = slot_mem_dispose;
  return s;
}

/* An idle frame memory of @b over exactly that range; with conn->lock. */
static HbmemSrcSlot *
block_take_idle_locked (HbmemSrcBlock * b, gsize offset, gsize size)
{
  HbmemSrcSlot **p;

  for (p = &b->idle; *p; p = &(*p)->next) {
    HbmemSrcSlot *s = *p;

    if (s->mem->offset == b->root->offset + offset && s->mem->size == size) {
      *p = s->next;
      s->next = NULL;
      b->n_idle--;
      return s;
    }
  }
  return NULL;
}

/* The block table lets @b go (FORGET, id reused, stop). */
static void
block_drop (gpointer data)
{
  HbmemSrcBlock *b = data;
  HbmemSrcSlot *idle;

  g_mutex_lock (&b->conn->lock);
  b->dropped = TRUE;
  idle = b->idle;
  b->idle = NULL;
  b->n_idle = 0;
  g_mutex_unlock (&b->conn->lock);
  while (idle) {
    HbmemSrcSlot *next = idle->next;

    slot_mem_free (idle->mem);
    idle = next;
  }
  block_unref (b);
}

/* A frame record for @seq counting @n memories; with conn->lock. */
static HbmemSrcFrame *
conn_take_frame_locked (HbmemSrcConn * c, guint64 seq, guint n)
{
  HbmemSrcFrame *f = c->idle_frames;

  if (f) {
    c->idle_frames = f->next;
  } else {
    f = g_new0 (HbmemSrcFrame, 1);
    g_ptr_array_add (c->frames, f);
  }
  f->next = NULL;
  f->seq = seq;
  f->remaining = n;
  return f;
}

static GstFlowReturn
hbmem_src_buffer_pool_acquire (GstBufferPool * pool, GstBuffer ** buffer,
    GstBufferPoolAcquireParams * params)
{
  HbmemSrcBufferPool *self = HBMEM_SRC_BUFFER_POOL (pool);

  gboolean active;

  *buffer = NULL;
  g_mutex_lock (&self->lock);
  active = self->active;
  if (active && self->idle->len)
    *buffer = g_ptr_array_steal_index_fast (self->idle, self->idle->len - 1);
  g_mutex_unlock (&self->lock);
  if (!active)
    return GST_FLOW_FLUSHING;
  if (!*buffer)
    *buffer = gst_buffer_new ();
  return GST_FLOW_OK;
}

static gboolean
wrapper_meta_unpooled (GstBuffer * buf, GstMeta ** meta, gpointer data)
{
  if (!GST_META_FLAG_IS_SET (*meta, GST_META_FLAG_POOLED)) {
    GST_META_FLAG_UNSET (*meta, GST_META_FLAG_LOCKED);
    *meta = NULL;
  }
  return TRUE;
}

/* Back from downstream: empty it (the frame memories may go with it). */
static void
hbmem_src_buffer_pool_reset (GstBufferPool * pool, GstBuffer * buffer)
{
  gst_buffer_remove_all_memory (buffer);
  gst_buffer_foreach_meta (buffer, wrapper_meta_unpooled, NULL);
  GST_MINI_OBJECT_FLAGS (buffer) &= GST_MINI_OBJECT_FLAG_LAST - 1;
  GST_BUFFER_PTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_OFFSET (buffer) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END (buffer) = GST_BUFFER_OFFSET_NONE;
}

static void
hbmem_src_buffer_pool_release (GstBufferPool * pool, GstBuffer * buffer)
{
  HbmemSrcBufferPool *self = HBMEM_SRC_BUFFER_POOL (pool);
  gboolean keep;

  g_mutex_lock (&self->lock);
  keep = self->active && self->idle->len < MAX_IDLE_BUFFERS;
  if (keep)
    g_ptr_array_add (self->idle, buffer);
  g_mutex_unlock (&self->lock);
  /* buffer->pool is NULL by now: this frees it */
  if (!keep)
    gst_buffer_unref (buffer);
}

static gboolean
hbmem_src_buffer_pool_start (GstBufferPool * pool)
{
  HbmemSrcBufferPool *self = HBMEM_SRC_BUFFER_POOL (pool);

  g_mutex_lock (&self->lock);
  self->active = TRUE;
  g_mutex_unlock (&self->lock);
  return GST_BUFFER_POOL_CLASS (hbmem_src_buffer_pool_parent_class)->start
      (pool);
}

/* Deactivated and every buffer back: free the idle ones. */
static gboolean
hbmem_src_buffer_pool_stop (GstBufferPool * pool)
{
  HbmemSrcBufferPool *self = HBMEM_SRC_BUFFER_POOL (pool);
  GPtrArray *idle;

  g_mutex_lock (&self->lock);
  self->active = FALSE;
  idle = self->idle;
  self->idle = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  g_mutex_unlock (&self->lock);
  g_ptr_array_unref (idle);
  return GST_BUFFER_POOL_CLASS (hbmem_src_buffer_pool_parent_class)->stop
      (pool);
}

static void
hbmem_src_buffer_pool_finalize (GObject * object)
{
  HbmemSrcBufferPool *self = HBMEM_SRC_BUFFER_POOL (object);

  g_ptr_array_unref (self->idle);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (hbmem_src_buffer_pool_parent_class)->finalize (object);
}

static void
hbmem_src_buffer_pool_class_init (HbmemSrcBufferPoolClass * klass)
{
  GstBufferPoolClass *pool_class = GST_BUFFER_POOL_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = hbmem_src_buffer_pool_finalize;
  pool_class->acquire_buffer = hbmem_src_buffer_pool_acquire;
  pool_class->reset_buffer = hbmem_src_buffer_pool_reset;
  pool_class->release_buffer = hbmem_src_buffer_pool_release;
  pool_class->start = hbmem_src_buffer_pool_start;
  pool_class->stop = hbmem_src_buffer_pool_stop;
}

static void
hbmem_src_buffer_pool_init (HbmemSrcBufferPool * self)
{
  g_mutex_init (&self->lock);
  /* the buffers go with the array (acquire steals them out) */
  self->idle = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
}

/* ---- memory ---------------------------------------------------------- */

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
  frame = gst_mini_object_get_qdata (obj, slot_quark) ? mem :
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
  g_hash_table_insert (self->blocks, GUINT_TO_POINTER (m->id),
      block_new (self->conn, root));
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

/*
 * The video meta of a wrapper: ours is pooled (kept by the reset) and
 * rewritten per frame, so a stream of video frames adds no meta per frame.
 */
static void
src_set_video_meta (GstBuffer * buf, const struct hbmem_ipc_video_meta *v)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (buf);
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0, };
  gint stride[GST_VIDEO_MAX_PLANES] = { 0, };
  guint i;

  if (!v->n_planes) {
    if (meta) {
      GST_META_FLAG_UNSET (&meta->meta, GST_META_FLAG_POOLED);
      GST_META_FLAG_UNSET (&meta->meta, GST_META_FLAG_LOCKED);
      gst_buffer_remove_meta (buf, &meta->meta);
    }
    return;
  }
  for (i = 0; i < v->n_planes; i++) {
    offset[i] = v->offset[i];
    stride[i] = v->stride[i];
  }
  if (!meta) {
    meta = gst_buffer_add_video_meta_full (buf, v->flags,
        (GstVideoFormat) v->format, v->width, v->height, v->n_planes, offset,
        stride);
    GST_META_FLAG_SET (&meta->meta, GST_META_FLAG_POOLED);
    return;
  }
  meta->flags = v->flags;
  meta->format = (GstVideoFormat) v->format;
  meta->width = v->width;
  meta->height = v->height;
  meta->n_planes = v->n_planes;
  memcpy (meta->offset, offset, sizeof (offset));
  memcpy (meta->stride, stride, sizeof (stride));
  gst_video_alignment_reset (&meta->alignment);
}

/* Wrap a BUFFER message in a GstBuffer; FALSE if it names bad memory. */
static gboolean
src_wrap_buffer (GstHbmemSrc * self, const struct hbmem_ipc_buffer *b,
    GstBuffer ** out)
{
  HbmemSrcBlock *blocks[HBMEM_IPC_MAX_MEMS];
  HbmemSrcSlot *slots[HBMEM_IPC_MAX_MEMS];
  HbmemSrcConn *c = self->conn;
  HbmemSrcFrame *frame;
  guint64 total = 0;
  GstBuffer *buf;
  guint i;

  for (i = 0; i < b->n_mems; i++) {
    const struct hbmem_ipc_buffer_mem *m = &b->mem[i];
    gsize maxsize;

    blocks[i] = g_hash_table_lookup (self->blocks, GUINT_TO_POINTER (m->id));
    if (!blocks[i])
      return FALSE;
    gst_memory_get_sizes (blocks[i]->root, NULL, &maxsize);
    if (m->offset > maxsize || m->size > maxsize - m->offset)
      return FALSE;
    total += m->size;
  }
  if (b->video.n_planes && !video_meta_valid (&b->video, total))
    return FALSE;
  /* only fails while inactive: never between start and stop */
  if (gst_buffer_pool_acquire_buffer (self->wrappers, &buf, NULL) !=
      GST_FLOW_OK)
    return FALSE;

  g_mutex_lock (&c->lock);
  frame = conn_take_frame_locked (c, b->seq, b->n_mems);
  for (i = 0; i < b->n_mems; i++) {
    slots[i] = block_take_idle_locked (blocks[i], b->mem[i].offset,
        b->mem[i].size);
    if (slots[i])
      slots[i]->frame = frame;
  }
  g_mutex_unlock (&c->lock);
  for (i = 0; i < b->n_mems; i++) {
    if (!slots[i]) {
      slots[i] = slot_new (blocks[i], b->mem[i].offset, b->mem[i].size);
      /* nobody else sees it before the buffer is pushed */
      slots[i]->frame = frame;
    }
    /* our ref on the (idle or new) memory moves into the buffer */
    gst_buffer_append_memory (buf, slots[i]->mem);
  }
  GST_BUFFER_PTS (buf) = b->pts;
  GST_BUFFER_DTS (buf) = b->dts;
  GST_BUFFER_DURATION (buf) = b->duration;
  GST_BUFFER_OFFSET (buf) = b->offset;
  GST_BUFFER_OFFSET_END (buf) = b->offset_end;
  GST_MINI_OBJECT_FLAGS (buf) |= b->flags & (GST_BUFFER_FLAG_LAST - 1) &
      ~GST_BUFFER_FLAG_TAG_MEMORY;
  src_set_video_meta (buf, &b->video);
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

/*
 * Streaming now: tell the sink (HELLO), from here on it sends us buffers.
 * The socket queue may be full of upstream events sent before (a burst
 * of navigation or QoS the sink has not read yet): wait for room then,
 * until unlocked (GST_FLOW_FLUSHING).
 */
static GstFlowReturn
src_say_hello (GstHbmemSrc * self)
{
  struct hbmem_ipc_hello hello = { (guint32) getpid (), 0, 0 };
  gboolean flushing = FALSE;
  int ret;

  for (;;) {
    g_mutex_lock (&self->conn->lock);
    ret = hbmem_ipc_send (self->conn->sock, HBMEM_IPC_HELLO, &hello,
        sizeof (hello), NULL, 0);
    g_mutex_unlock (&self->conn->lock);
    if (ret != -EAGAIN || flushing)
      break;
    gst_poll_fd_ctl_read (self->poll, &self->pollfd, FALSE);
    gst_poll_fd_ctl_write (self->poll, &self->pollfd, TRUE);
    flushing = gst_poll_wait (self->poll, GST_CLOCK_TIME_NONE) < 0 &&
        errno == EBUSY;
    gst_poll_fd_ctl_write (self->poll, &self->pollfd, FALSE);
    gst_poll_fd_ctl_read (self->poll, &self->pollfd, TRUE);
  }
  if (ret == -EAGAIN)
    return GST_FLOW_FLUSHING;
  if (ret < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("The producer (hbmemsink) went away."), ("%s", g_strerror (-ret)));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_hbmem_src_create (GstPushSrc * psrc, GstBuffer ** out)
{
  GstHbmemSrc *self = GST_HBMEM_SRC (psrc);
  GstFlowReturn flow = GST_FLOW_OK;
  GstBuffer *buf = NULL;
  int ret;

  if (!self->said_hello) {
    flow = src_say_hello (self);
    if (flow != GST_FLOW_OK)
      return flow;
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

/* A pool of empty buffers, active (transfer full), or NULL. */
static GstBufferPool *
src_wrapper_pool_new (void)
{
  GstBufferPool *pool = gst_object_ref_sink (g_object_new
      (HBMEM_TYPE_SRC_BUFFER_POOL, NULL));
  GstStructure *config = gst_buffer_pool_get_config (pool);

  /* no caps, no size: the buffers are empty until a frame fills them */
  gst_buffer_pool_config_set_params (config, NULL, 0, 0, 0);
  if (!gst_buffer_pool_set_config (pool, config) ||
      !gst_buffer_pool_set_active (pool, TRUE))
    gst_clear_object (&pool);
  return pool;
}

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
  self->wrappers = src_wrapper_pool_new ();
  if (!self->wrappers) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not set up the pool of buffers."), (NULL));
    return FALSE;
  }
  ret = hbmem_ipc_connect (self->socket_path, self->timeout, &sock);
  if (ret < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not connect to hbmemsink at %s.", self->socket_path),
        ("connect: %s", g_strerror (-ret)));
    gst_buffer_pool_set_active (self->wrappers, FALSE);
    gst_clear_object (&self->wrappers);
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  self->conn = conn_new (sock);
  GST_OBJECT_UNLOCK (self);
  self->poll = gst_poll_new (TRUE);
  gst_poll_fd_init (&self->pollfd);
  self->pollfd.fd = sock;
  gst_poll_add_fd (self->poll, &self->pollfd);
  gst_poll_fd_ctl_read (self->poll, &self->pollfd, TRUE);
  self->blocks = g_hash_table_new_full (NULL, NULL, NULL, block_drop);
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
  if (self->wrappers) {
    /* buffers still downstream are freed when they come back */
    gst_buffer_pool_set_active (self->wrappers, FALSE);
    gst_clear_object (&self->wrappers);
  }
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
  HbmemSrcConn *conn;
  gboolean sent = FALSE;

  /*
   * Any thread (navigation from the application, QoS from downstream),
   * while stop() may drop the connection: hold a ref on it (after stop it
   * is closed and nothing is sent).
   */
  GST_OBJECT_LOCK (self);
  conn = self->conn ? conn_ref (self->conn) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (conn && gst_hbmem_ipc_event_is_forwarded (event, TRUE)) {
    gchar *text = gst_hbmem_ipc_event_to_text (event);

    g_mutex_lock (&conn->lock);
    if (text && conn->sock >= 0)
      sent = hbmem_ipc_send_event (conn->sock, GST_EVENT_TYPE (event),
          GST_EVENT_SEQNUM (event), text) == 0;
    g_mutex_unlock (&conn->lock);
    g_free (text);
    GST_DEBUG_OBJECT (self, "%s event %s to the sink",
        sent ? "sent" : "could not send", GST_EVENT_TYPE_NAME (event));
  }
  /* reconfigure also concerns our own pad; the rest is the base class's */
  if (conn)
    conn_unref (conn);
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

  slot_quark = g_quark_from_static_string ("GstHbmemSrcSlot");
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
