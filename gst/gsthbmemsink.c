/* SPDX-License-Identifier: MIT */
/**
 * SECTION:element-hbmemsink
 * @title: hbmemsink
 * @see_also: hbmemsrc
 *
 * Hands its buffers to hbmemsrc elements in other processes without
 * copying them. It listens on a unix socket (#GstHbmemSink:socket-path);
 * any number of hbmemsrc connect to it.
 *
 * It proposes a #GstHbmemBufferPool upstream, so producers write straight
 * into shared hb_mem memory. A buffer whose memory is not hb_mem memory is
 * copied into a buffer of the sink's own pool (counted in
 * #GstHbmemSink:copies and reported once in the GST_PERFORMANCE debug
 * category). Each memory block's fd is sent once to each consumer
 * (SCM_RIGHTS); after that a buffer is a small descriptor: block ids,
 * offsets, timestamps, flags and the video meta. The sink keeps a reference
 * on every buffer it sent until each consumer that received it has
 * released it (or disconnected), so blocks return to their pool only when
 * no process reads them any more.
 *
 * Serialized events go to every consumer; a consumer that connects late
 * first receives the current stream-start, caps, segment and tags, then
 * starts at the next buffer. Upstream events from consumers (QoS, seek,
 * reconfigure, ...) are pushed upstream from the sink pad.
 *
 * A consumer never blocks the producer for long: rendering waits at most
 * #GstHbmemSink:stall-timeout for a consumer that holds
 * #GstHbmemSink:backlog buffers to release one (so a consumer slower than
 * the producer paces it without losses); a consumer that does not is
 * marked stalled and misses buffers (counted in
 * #GstHbmemSink:frames-dropped), without being waited for again, until it
 * releases one. A consumer whose socket queue stays full that long misses
 * the buffer too. A consumer that disconnects or dies releases everything
 * it held. EOS waits (up to stall-timeout) until the events queued for
 * consumers, EOS included, have gone out, so a pipeline shut down on EOS
 * does not cut it off.
 * With #GstHbmemSink:wait-for-connection, rendering waits for the first
 * consumer; otherwise buffers rendered with no consumer are discarded.
 *
 * ## Example
 * |[
 * gst-launch-1.0 videotestsrc ! video/x-raw,format=NV12 ! hbmemsink socket-path=/tmp/cam
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gst/video/video.h>

#include "gsthbmemsinkpriv.h"
#include "gsthbmemallocator.h"
#include "gsthbmembufferpool.h"
#include "gsthbmemipcevent.h"

G_GNUC_INTERNAL GST_DEBUG_CATEGORY (gst_hbmem_sink_debug);
GST_DEBUG_CATEGORY_STATIC (CAT_PERFORMANCE);
#define GST_CAT_DEFAULT gst_hbmem_sink_debug

#define DEFAULT_BUFFERS 8
#define DEFAULT_BACKLOG 4
#define DEFAULT_WAIT_FOR_CONNECTION TRUE
#define DEFAULT_STALL_TIMEOUT 200

enum
{
  PROP_0,
  PROP_SOCKET_PATH,
  PROP_BUFFERS,
  PROP_BACKLOG,
  PROP_WAIT_FOR_CONNECTION,
  PROP_STALL_TIMEOUT,
  PROP_NUM_CLIENTS,
  PROP_FRAMES_SENT,
  PROP_FRAMES_DROPPED,
  PROP_COPIES,
};

/*
 * Block ids live on the memories (qdata), which may die in any thread,
 * after the sink too: the table they report to is refcounted apart.
 */
struct _HbmemBlockTable
{
  gint refcount;
  GMutex lock;
  guint32 next_id;
  GArray *forgotten;            /* ids of freed blocks, to FORGET */
};

typedef struct
{
  HbmemBlockTable *table;
  guint32 id;
} HbmemBlockTag;

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_hbmem_sink_parent_class parent_class
G_DEFINE_TYPE (GstHbmemSink, gst_hbmem_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hbmemsink, "hbmemsink", GST_RANK_NONE,
    GST_TYPE_HBMEM_SINK, GST_DEBUG_CATEGORY_INIT (gst_hbmem_sink_debug,
        "hbmemsink", 0, "hbmem zero-copy inter-process sink");
    GST_DEBUG_CATEGORY_GET (CAT_PERFORMANCE, "GST_PERFORMANCE"));

/* ---- block ids ------------------------------------------------------- */

static HbmemBlockTable *
block_table_new (void)
{
  HbmemBlockTable *t = g_new0 (HbmemBlockTable, 1);

  t->refcount = 1;
  g_mutex_init (&t->lock);
  t->next_id = 1;
  t->forgotten = g_array_new (FALSE, FALSE, sizeof (guint32));
  return t;
}

static void
block_table_unref (HbmemBlockTable * t)
{
  if (!g_atomic_int_dec_and_test (&t->refcount))
    return;
  g_array_unref (t->forgotten);
  g_mutex_clear (&t->lock);
  g_free (t);
}

static void
block_tag_free (gpointer data)
{
  HbmemBlockTag *tag = data;

  g_mutex_lock (&tag->table->lock);
  g_array_append_val (tag->table->forgotten, tag->id);
  g_mutex_unlock (&tag->table->lock);
  block_table_unref (tag->table);
  g_free (tag);
}

/* The root memory whose fd covers @mem, and its block id. */
static guint32
sink_block_id (GstHbmemSink * self, GstMemory * mem, GstMemory ** root)
{
  GstMemory *r = mem->parent ? mem->parent : mem;
  HbmemBlockTag *tag;

  tag = gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (r),
      self->block_quark);
  if (!tag) {
    tag = g_new0 (HbmemBlockTag, 1);
    g_atomic_int_inc (&self->blocks->refcount);
    tag->table = self->blocks;
    g_mutex_lock (&self->blocks->lock);
    tag->id = self->blocks->next_id++;
    if (self->blocks->next_id == 0)
      self->blocks->next_id = 1;
    g_mutex_unlock (&self->blocks->lock);
    gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (r), self->block_quark,
        tag, block_tag_free);
  }
  *root = r;
  return tag->id;
}

/* ---- sending --------------------------------------------------------- */

static void
sink_fill_video (GstHbmemSink * self, GstBuffer * buf,
    struct hbmem_ipc_video_meta *v)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (buf);
  guint i;

  if (meta) {
    v->format = meta->format;
    v->flags = meta->flags;
    v->width = meta->width;
    v->height = meta->height;
    v->n_planes = MIN (meta->n_planes, HBMEM_IPC_MAX_PLANES);
    for (i = 0; i < v->n_planes; i++) {
      v->offset[i] = meta->offset[i];
      v->stride[i] = meta->stride[i];
    }
  } else if (self->is_video) {
    /* no meta: the caps' default layout holds */
    v->format = GST_VIDEO_INFO_FORMAT (&self->info);
    v->width = GST_VIDEO_INFO_WIDTH (&self->info);
    v->height = GST_VIDEO_INFO_HEIGHT (&self->info);
    v->n_planes = MIN (GST_VIDEO_INFO_N_PLANES (&self->info),
        HBMEM_IPC_MAX_PLANES);
    for (i = 0; i < v->n_planes; i++) {
      v->offset[i] = GST_VIDEO_INFO_PLANE_OFFSET (&self->info, i);
      v->stride[i] = GST_VIDEO_INFO_PLANE_STRIDE (&self->info, i);
    }
  }
}

/* ---- copies ---------------------------------------------------------- */

static gboolean
sink_buffer_is_hbmem (GstBuffer * buf)
{
  guint i, n = gst_buffer_n_memory (buf);

  if (n == 0 || n > HBMEM_IPC_MAX_MEMS)
    return FALSE;
  for (i = 0; i < n; i++)
    if (!gst_is_hbmem_memory (gst_buffer_peek_memory (buf, i)))
      return FALSE;
  return TRUE;
}

/*
 * The pool proposed upstream is prefaulted (its buffers are written from
 * the first frame); the copy pool is not: it is set up at every caps event
 * and used only when upstream ignores the proposal, so backing its buffers
 * would take their memory for nothing on the zero-copy path.
 */
static GstBufferPool *
sink_make_pool (GstHbmemSink * self, GstCaps * caps, gboolean prefault,
    guint * size)
{
  GstBufferPool *pool = gst_hbmem_buffer_pool_new ();
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, caps))
    goto fail;
  gst_buffer_pool_config_set_params (config, caps, info.size, self->buffers,
      0);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  gst_hbmem_buffer_pool_config_set_prefault (config, prefault);
  if (!gst_buffer_pool_set_config (pool, config))
    goto fail_nocfg;
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_get_params (config, NULL, size, NULL, NULL);
  gst_structure_free (config);
  return pool;

fail:
  gst_structure_free (config);
fail_nocfg:
  gst_object_unref (pool);
  return NULL;
}

/* A copy of @in in hb_mem memory (transfer full), or NULL. */
static GstBuffer *
sink_copy (GstHbmemSink * self, GstBuffer * in)
{
  GstVideoFrame sf, df;
  GstBuffer *out = NULL;
  gboolean ok = FALSE;

  if (!self->pool || gst_buffer_pool_acquire_buffer (self->pool, &out,
          NULL) != GST_FLOW_OK)
    return NULL;
  if (gst_video_frame_map (&sf, &self->info, in, GST_MAP_READ)) {
    if (gst_video_frame_map (&df, &self->info, out, GST_MAP_WRITE)) {
      ok = gst_video_frame_copy (&df, &sf);
      gst_video_frame_unmap (&df);
    }
    gst_video_frame_unmap (&sf);
  }
  if (!ok) {
    gst_buffer_unref (out);
    return NULL;
  }
  gst_buffer_copy_into (out, in, GST_BUFFER_COPY_FLAGS |
      GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
  GST_OBJECT_LOCK (self);
  self->copies++;
  GST_OBJECT_UNLOCK (self);
  if (!self->copy_reported) {
    self->copy_reported = TRUE;
    GST_CAT_INFO_OBJECT (CAT_PERFORMANCE, self, "upstream buffers are not "
        "hb_mem memory (upstream ignored the proposed pool): copying each "
        "one into the sink's pool");
  }
  return out;
}

/* ---- GstBaseSink ----------------------------------------------------- */

/*
 * Wait for a streaming consumer. An unlock (a flush, or PLAYING -> PAUSED,
 * where GstBaseSink unlocks render() and then wants it to wait in
 * gst_base_sink_wait_preroll()) ends the wait; when the element then
 * goes on (back to PLAYING), so does the wait. GST_FLOW_OK once a consumer
 * streams, else what wait_preroll() said (FLUSHING).
 */
static GstFlowReturn
sink_wait_for_client (GstHbmemSink * self)
{
  GstFlowReturn ret = GST_FLOW_OK;

  g_mutex_lock (&self->lock);
  for (;;) {
    self->waiters++;
    while (!hbmem_sink_any_ready_locked (self) && !self->unlocked)
      g_cond_wait (&self->cond, &self->lock);
    self->waiters--;
    if (!self->unlocked)
      break;
    g_mutex_unlock (&self->lock);
    ret = gst_base_sink_wait_preroll (GST_BASE_SINK (self));
    g_mutex_lock (&self->lock);
    if (ret != GST_FLOW_OK)
      break;
  }
  g_mutex_unlock (&self->lock);
  return ret;
}

static GstFlowReturn
gst_hbmem_sink_render (GstBaseSink * bsink, GstBuffer * in)
{
  GstHbmemSink *self = GST_HBMEM_SINK (bsink);
  GstMemory *roots[HBMEM_IPC_MAX_MEMS];
  struct hbmem_ipc_buffer tmpl = { 0, };
  guint64 sent = 0, dropped = 0;
  gboolean reap = FALSE, notify;
  GArray *forgotten;
  GstBuffer *buf;
  GList *l;
  guint i, attempt;

  if (self->wait_for_connection) {
    GstFlowReturn ret = sink_wait_for_client (self);

    if (ret != GST_FLOW_OK)
      return ret;
  }

  if (sink_buffer_is_hbmem (in)) {
    buf = gst_buffer_ref (in);
  } else {
    buf = sink_copy (self, in);
    if (!buf) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not copy a buffer into hb_mem memory."),
          ("caps are not raw video, or the pool failed"));
      return GST_FLOW_ERROR;
    }
  }

  tmpl.pts = GST_BUFFER_PTS (buf);
  tmpl.dts = GST_BUFFER_DTS (buf);
  tmpl.duration = GST_BUFFER_DURATION (buf);
  tmpl.offset = GST_BUFFER_OFFSET (buf);
  tmpl.offset_end = GST_BUFFER_OFFSET_END (buf);
  tmpl.flags = GST_BUFFER_FLAGS (buf);
  tmpl.n_mems = gst_buffer_n_memory (buf);
  for (i = 0; i < tmpl.n_mems; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    gsize offset, size;

    size = gst_memory_get_sizes (mem, &offset, NULL);
    tmpl.mem[i].id = sink_block_id (self, mem, &roots[i]);
    /* fd memory (and shares of it) starts mem->offset into the fd */
    tmpl.mem[i].offset = offset;
    tmpl.mem[i].size = size;
  }
  sink_fill_video (self, buf, &tmpl.video);

  forgotten = NULL;
  g_mutex_lock (&self->blocks->lock);
  if (self->blocks->forgotten->len) {
    forgotten = self->blocks->forgotten;
    self->blocks->forgotten = g_array_new (FALSE, FALSE, sizeof (guint32));
  }
  g_mutex_unlock (&self->blocks->lock);

  g_mutex_lock (&self->lock);
  self->renders++;
  hbmem_sink_claim_reads_locked (self);
  notify = hbmem_sink_reap_streaming_locked (self, FALSE);
  /*
   * A consumer whose queue turns out full (the send says so) is waited
   * for like one holding its backlog, then tried once more.
   */
  for (attempt = 0; attempt < 2; attempt++) {
    gboolean again = FALSE;

    notify |= hbmem_sink_wait_for_room_locked (self);
    for (l = self->clients; l; l = l->next) {
      HbmemSinkClient *c = l->data;
      int ret;

      if (c->dead || c->served == self->renders)
        continue;
      if (attempt == 0)
        hbmem_sink_forget_locked (c, forgotten);
      if (!c->ready)
        continue;
      ret = c->dead ? -1 : hbmem_sink_send_locked (self, c, buf, &tmpl, roots);
      if (ret == 0 && c->queue_full && !c->stalled && attempt == 0) {
        again = TRUE;
        continue;
      }
      c->served = self->renders;
      if (ret > 0)
        sent++;
      else if (ret == 0)
        dropped++;
      else
        c->dead = TRUE;
      reap |= c->dead;
    }
    if (!again)
      break;
  }
  g_mutex_unlock (&self->lock);
  if (forgotten)
    g_array_unref (forgotten);
  gst_buffer_unref (buf);
  /* back to the pool, outside the lock */
  g_ptr_array_set_size (self->reaped_bufs, 0);

  /* the socket thread drops broken consumers, pushes upstream events */
  if (reap || notify)
    hbmem_sink_poke (self);

  GST_OBJECT_LOCK (self);
  self->sent += sent;
  self->dropped += dropped;
  GST_OBJECT_UNLOCK (self);
  return GST_FLOW_OK;
}

static gboolean
gst_hbmem_sink_event (GstBaseSink * bsink, GstEvent * event)
{
  GstHbmemSink *self = GST_HBMEM_SINK (bsink);
  gboolean reap = FALSE;
  gint slot = -1;
  GList *l;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      slot = STICKY_STREAM_START;
      break;
    case GST_EVENT_CAPS:
      slot = STICKY_CAPS;
      break;
    case GST_EVENT_SEGMENT:
      slot = STICKY_SEGMENT;
      break;
    case GST_EVENT_TAG:
      slot = STICKY_TAG;
      break;
    case GST_EVENT_EOS:
      slot = STICKY_EOS;
      break;
    default:
      break;
  }
  if (gst_hbmem_ipc_event_is_forwarded (event, FALSE)) {
    g_mutex_lock (&self->lock);
    if (slot >= 0)
      gst_event_replace (&self->sticky[slot], event);
    if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
      gst_event_replace (&self->sticky[STICKY_EOS], NULL);
      gst_event_replace (&self->sticky[STICKY_SEGMENT], NULL);
    } else if (GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START) {
      gst_event_replace (&self->sticky[STICKY_EOS], NULL);
      gst_event_replace (&self->sticky[STICKY_TAG], NULL);
    }
    for (l = self->clients; l; l = l->next) {
      HbmemSinkClient *c = l->data;

      if (!c->dead && hbmem_sink_send_event_locked (self, c, event) < 0) {
        c->dead = TRUE;
        reap = TRUE;
      }
    }
    if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
      hbmem_sink_drain_events_locked (self);
    g_mutex_unlock (&self->lock);
    /*
     * The socket thread drops the dead. gst_poll_restart() would wake it
     * only if it is in its poll right now; busy elsewhere, it would go
     * back to sleep without seeing them. The eventfd stays readable.
     */
    if (reap)
      hbmem_sink_poke (self);
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (bsink, event);
}

static gboolean
gst_hbmem_sink_set_caps (GstBaseSink * bsink, GstCaps * caps)
{
  GstHbmemSink *self = GST_HBMEM_SINK (bsink);
  guint size;

  if (self->pool) {
    gst_buffer_pool_set_active (self->pool, FALSE);
    gst_clear_object (&self->pool);
  }
  self->is_video = gst_video_info_from_caps (&self->info, caps);
  if (!self->is_video)
    return TRUE;                /* only hb_mem memory can pass, no copies */
  /* without a pool only hb_mem memory can pass (render says so) */
  self->pool = sink_make_pool (self, caps, FALSE, &size);
  if (self->pool && !gst_buffer_pool_set_active (self->pool, TRUE))
    gst_clear_object (&self->pool);
  if (!self->pool)
    GST_WARNING_OBJECT (self, "no hb_mem pool for %" GST_PTR_FORMAT
        ": buffers in other memory cannot be copied", caps);
  return TRUE;
}

static gboolean
gst_hbmem_sink_propose_allocation (GstBaseSink * bsink, GstQuery * query)
{
  GstHbmemSink *self = GST_HBMEM_SINK (bsink);
  GstBufferPool *pool = NULL;
  gboolean need_pool;
  GstCaps *caps;
  guint size = 0;

  gst_query_parse_allocation (query, &caps, &need_pool);
  if (!caps)
    return FALSE;
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  pool = sink_make_pool (self, caps, TRUE, &size);
  if (!pool)
    return TRUE;                /* not raw video: upstream's memory it is */
  /* the pool is offered even without need_pool: it is the zero-copy path */
  gst_query_add_allocation_pool (query, pool, size, self->buffers, 0);
  gst_object_unref (pool);
  GST_DEBUG_OBJECT (self, "proposed an hbmem pool of %u-byte buffers (%s)",
      size, need_pool ? "needed" : "not asked for");
  return TRUE;
}

static gboolean
gst_hbmem_sink_start (GstBaseSink * bsink)
{
  GstHbmemSink *self = GST_HBMEM_SINK (bsink);
  GError *err = NULL;
  int ret;

  /* the file stop() removes is the one bound here, whatever the property
   * says by then */
  GST_OBJECT_LOCK (self);
  self->listen_path = g_strdup (self->socket_path);
  GST_OBJECT_UNLOCK (self);
  if (!self->listen_path) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No socket-path set."),
        (NULL));
    return FALSE;
  }
  ret = hbmem_ipc_listen (self->listen_path, &self->listen_fd);
  if (ret < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Could not listen on %s.", self->listen_path),
        ("%s", g_strerror (-ret)));
    g_clear_pointer (&self->listen_path, g_free);
    return FALSE;
  }
  /* the eventfd is ours (closed in stop) */
  self->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (self->wake_fd < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not make an eventfd."),
        ("%s", g_strerror (errno)));
    close (self->listen_fd);
    self->listen_fd = -1;
    unlink (self->listen_path);
    g_clear_pointer (&self->listen_path, g_free);
    return FALSE;
  }
  self->poll = gst_poll_new (TRUE);
  self->wait_poll = gst_poll_new (TRUE);
  self->rmsg = g_new0 (struct hbmem_ipc_msg, 1);
  self->reaped_bufs = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  self->blocks = block_table_new ();
  self->unlocked = FALSE;
  self->copy_reported = FALSE;
  GST_OBJECT_LOCK (self);
  self->sent = self->dropped = self->copies = 0;
  GST_OBJECT_UNLOCK (self);
  self->thread = g_thread_try_new ("hbmemsink", hbmem_sink_thread, self, &err);
  if (!self->thread) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not start a thread."),
        ("%s", err->message));
    g_error_free (err);
    gst_poll_free (self->poll);
    self->poll = NULL;
    g_clear_pointer (&self->wait_poll, gst_poll_free);
    g_clear_pointer (&self->rmsg, g_free);
    g_clear_pointer (&self->reaped_bufs, g_ptr_array_unref);
    close (self->wake_fd);
    self->wake_fd = -1;
    close (self->listen_fd);
    self->listen_fd = -1;
    unlink (self->listen_path);
    g_clear_pointer (&self->listen_path, g_free);
    block_table_unref (self->blocks);
    self->blocks = NULL;
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_hbmem_sink_stop (GstBaseSink * bsink)
{
  GstHbmemSink *self = GST_HBMEM_SINK (bsink);
  GstPoll *wait_poll;
  GList *clients;
  gint i;

  GST_OBJECT_LOCK (self);
  GST_INFO_OBJECT (self, "sent %" G_GUINT64_FORMAT ", dropped %"
      G_GUINT64_FORMAT ", copies %" G_GUINT64_FORMAT, self->sent,
      self->dropped, self->copies);
  GST_OBJECT_UNLOCK (self);
  if (self->thread) {
    gst_poll_set_flushing (self->poll, TRUE);
    g_thread_join (self->thread);
    self->thread = NULL;
  }
  g_mutex_lock (&self->lock);
  clients = self->clients;
  self->clients = NULL;
  for (i = 0; i < N_STICKY; i++)
    gst_event_replace (&self->sticky[i], NULL);
  g_queue_clear_full (&self->upstream, (GDestroyNotify) gst_event_unref);
  wait_poll = self->wait_poll;
  self->wait_poll = NULL;
  g_mutex_unlock (&self->lock);
  g_list_free_full (clients, (GDestroyNotify) hbmem_sink_client_free);
  if (wait_poll)
    gst_poll_free (wait_poll);
  g_clear_pointer (&self->rmsg, g_free);
  g_clear_pointer (&self->reaped_bufs, g_ptr_array_unref);
  if (self->wake_fd >= 0) {
    close (self->wake_fd);
    self->wake_fd = -1;
  }
  if (self->listen_fd >= 0) {
    close (self->listen_fd);
    self->listen_fd = -1;
    unlink (self->listen_path);
  }
  g_clear_pointer (&self->listen_path, g_free);
  g_clear_pointer (&self->poll, gst_poll_free);
  if (self->pool) {
    gst_buffer_pool_set_active (self->pool, FALSE);
    gst_clear_object (&self->pool);
  }
  g_clear_pointer (&self->blocks, block_table_unref);
  return TRUE;
}

static gboolean
gst_hbmem_sink_unlock (GstBaseSink * bsink)
{
  GstHbmemSink *self = GST_HBMEM_SINK (bsink);

  g_mutex_lock (&self->lock);
  self->unlocked = TRUE;
  g_cond_broadcast (&self->cond);
  if (self->wait_poll)
    gst_poll_set_flushing (self->wait_poll, TRUE);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_hbmem_sink_unlock_stop (GstBaseSink * bsink)
{
  GstHbmemSink *self = GST_HBMEM_SINK (bsink);

  g_mutex_lock (&self->lock);
  self->unlocked = FALSE;
  if (self->wait_poll)
    gst_poll_set_flushing (self->wait_poll, FALSE);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* ---- GObject --------------------------------------------------------- */

static void
gst_hbmem_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHbmemSink *self = GST_HBMEM_SINK (object);

  switch (prop_id) {
    case PROP_SOCKET_PATH:
      GST_OBJECT_LOCK (self);
      g_free (self->socket_path);
      self->socket_path = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_BUFFERS:
      self->buffers = g_value_get_uint (value);
      break;
    case PROP_BACKLOG:
      self->backlog = g_value_get_uint (value);
      break;
    case PROP_WAIT_FOR_CONNECTION:
      self->wait_for_connection = g_value_get_boolean (value);
      break;
    case PROP_STALL_TIMEOUT:
      g_mutex_lock (&self->lock);
      self->stall_timeout = g_value_get_uint (value);
      g_mutex_unlock (&self->lock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hbmem_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstHbmemSink *self = GST_HBMEM_SINK (object);

  switch (prop_id) {
    case PROP_SOCKET_PATH:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->socket_path);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_BUFFERS:
      g_value_set_uint (value, self->buffers);
      break;
    case PROP_BACKLOG:
      g_value_set_uint (value, self->backlog);
      break;
    case PROP_WAIT_FOR_CONNECTION:
      g_value_set_boolean (value, self->wait_for_connection);
      break;
    case PROP_STALL_TIMEOUT:
      g_value_set_uint (value, self->stall_timeout);
      break;
    case PROP_NUM_CLIENTS:
      g_mutex_lock (&self->lock);
      g_value_set_uint (value, g_list_length (self->clients));
      g_mutex_unlock (&self->lock);
      break;
    case PROP_FRAMES_SENT:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->sent);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FRAMES_DROPPED:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->dropped);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_COPIES:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->copies);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hbmem_sink_finalize (GObject * object)
{
  GstHbmemSink *self = GST_HBMEM_SINK (object);

  g_free (self->socket_path);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hbmem_sink_class_init (GstHbmemSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *bsink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_hbmem_sink_set_property;
  gobject_class->get_property = gst_hbmem_sink_get_property;
  gobject_class->finalize = gst_hbmem_sink_finalize;

  g_object_class_install_property (gobject_class, PROP_SOCKET_PATH,
      g_param_spec_string ("socket-path", "Socket path",
          "Unix socket to listen on for hbmemsrc consumers", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_BUFFERS,
      g_param_spec_uint ("buffers", "Buffers",
          "Buffers the proposed (and the copy) pool starts with; it grows "
          "while consumers hold buffers, up to buffers + backlog per "
          "consumer", 1, 64, DEFAULT_BUFFERS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_BACKLOG,
      g_param_spec_uint ("backlog", "Backlog",
          "Buffers one consumer may hold; beyond that it misses buffers "
          "(frames-dropped) instead of stalling the producer", 1, 64,
          DEFAULT_BACKLOG,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_WAIT_FOR_CONNECTION,
      g_param_spec_boolean ("wait-for-connection", "Wait for connection",
          "Hold rendering until the first consumer connects (otherwise "
          "buffers rendered with no consumer are discarded)",
          DEFAULT_WAIT_FOR_CONNECTION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_STALL_TIMEOUT,
      g_param_spec_uint ("stall-timeout", "Stall timeout",
          "How long (ms) rendering waits for a consumer holding its whole "
          "backlog to release a buffer; after that the consumer counts as "
          "stalled and misses buffers, unwaited for, until it releases one",
          0, 60000, DEFAULT_STALL_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_NUM_CLIENTS,
      g_param_spec_uint ("num-clients", "Consumers",
          "Consumers connected now", 0, G_MAXUINT, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_FRAMES_SENT,
      g_param_spec_uint64 ("frames-sent", "Frames sent",
          "Buffers sent, counted once per consumer", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_FRAMES_DROPPED,
      g_param_spec_uint64 ("frames-dropped", "Frames dropped",
          "Buffers a consumer missed because it held its whole backlog or "
          "its socket queue was full, counted once per consumer", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_COPIES,
      g_param_spec_uint64 ("copies", "Copies",
          "Buffers copied because upstream memory was not hb_mem memory", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "hbmem inter-process sink", "Sink/Video",
      "Sends buffers to hbmemsrc elements in other processes without "
      "copying them", "hbmem developers");

  bsink_class->render = GST_DEBUG_FUNCPTR (gst_hbmem_sink_render);
  bsink_class->event = GST_DEBUG_FUNCPTR (gst_hbmem_sink_event);
  bsink_class->set_caps = GST_DEBUG_FUNCPTR (gst_hbmem_sink_set_caps);
  bsink_class->propose_allocation =
      GST_DEBUG_FUNCPTR (gst_hbmem_sink_propose_allocation);
  bsink_class->start = GST_DEBUG_FUNCPTR (gst_hbmem_sink_start);
  bsink_class->stop = GST_DEBUG_FUNCPTR (gst_hbmem_sink_stop);
  bsink_class->unlock = GST_DEBUG_FUNCPTR (gst_hbmem_sink_unlock);
  bsink_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_hbmem_sink_unlock_stop);
}

static void
gst_hbmem_sink_init (GstHbmemSink * self)
{
  static gint instances;
  gchar *name;

  self->buffers = DEFAULT_BUFFERS;
  self->backlog = DEFAULT_BACKLOG;
  self->wait_for_connection = DEFAULT_WAIT_FOR_CONNECTION;
  self->stall_timeout = DEFAULT_STALL_TIMEOUT;
  self->listen_fd = -1;
  self->wake_fd = -1;
  g_queue_init (&self->upstream);
  /* the last sample would pin one pool buffer */
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  name = g_strdup_printf ("GstHbmemSinkBlock-%d",
      g_atomic_int_add (&instances, 1));
  self->block_quark = g_quark_from_string (name);
  g_free (name);
}
