/* SPDX-License-Identifier: MIT */
/**
 * SECTION:element-hbmemqueue
 * @title: hbmemqueue
 *
 * Passes buffers from the upstream thread to a thread of its own through
 * the hb_mem memory queue, with a fixed number of slots. A slot stays
 * taken from the moment upstream hands a buffer in until downstream drops
 * the buffer it was pushed as, so no more than #GstHbmemQueue:slots
 * buffers are ever queued or in flight downstream (as a V4L2 device's
 * buffers). When all slots are taken upstream waits, up to
 * #GstHbmemQueue:timeout milliseconds (then the buffer is dropped and
 * counted), or with leaky=overwrite the oldest queued buffer is dropped.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc ! hbmemqueue slots=4 ! fakesink
 * ]|
 */
/*
 * Slots and items
 * ---------------
 * The ring's items are pointers to HbqItem: a buffer and the serialized
 * events that came before it (an item may hold events only: EOS, say).
 *
 *   chain/event: dequeue -> item into `queued` -> queue_buf     [producer]
 *   task:        request -> item out of `queued` -> push events, buffer
 *   slot back:   events only: release at once; a buffer: when the
 *                pushed buffer is freed (qdata notify on it)
 *
 * With leaky=overwrite, a dequeue may hand back the oldest queued item:
 * its buffer is dropped (counted) and the item, with its events, goes to
 * the `carry`. Items are numbered as they are queued; when the consumer
 * takes an item and sees a gap in the numbers, the missing ones were
 * overwritten, and it pushes their carried events first (waiting for the
 * producer to file them if it has not yet), so no serialized event is
 * ever lost or reordered.
 *
 * Flushing (flush-start, pad deactivation) sets `flushing` and destroys
 * the hb_mem queue: both threads wake with QUEUE_DESTROYED and leave. The
 * items still in `queued` are freed by whoever set flushing, under the
 * lock; a thread holding an item pointer it got from the queue checks
 * `flushing` under the same lock before touching it. Buffers already
 * pushed keep their slot number of the old queue; releasing it later is a
 * harmless stale call. A new queue is made at flush-stop or activation.
 *
 * Pushed buffers: a buffer only we hold is pushed itself. One from no
 * pool carries the slot as qdata, whose notify runs when it is freed; a
 * pool buffer is recycled rather than freed, so its dispose function is
 * hooked for the trip (the hook puts it back, releases the slot and
 * chains to it), and it returns to its pool untouched. A buffer upstream
 * still holds is pushed as a new buffer sharing its memories and metas,
 * and the original is kept until that one is freed.
 */
#include "gsthbmemqueue.h"
#include "gsthbmemelements.h"

#include <hb_mem_mgr.h>
#include <hb_mem_ext.h>

GST_DEBUG_CATEGORY_STATIC (gst_hbmem_queue_debug);
#define GST_CAT_DEFAULT gst_hbmem_queue_debug

#define DEFAULT_SLOTS 4
#define MAX_SLOTS 1024
#define DEFAULT_TIMEOUT -1
#define DEFAULT_LEAKY GST_HBMEM_QUEUE_LEAKY_NO

enum
{
  PROP_0,
  PROP_SLOTS,
  PROP_TIMEOUT,
  PROP_LEAKY,
  PROP_CURRENT_LEVEL,
  PROP_DROPPED,
};

typedef struct
{
  GstHbmemQueue *self;          /* ref held while pushed downstream */
  hb_mem_buf_queue_t q;         /* the queue the slot belongs to */
  gint32 slot;
  guint64 seq;                  /* order of queueing, from 1 */
  GstBuffer *buffer;            /* NULL: events only */
  GstMiniObjectDisposeFunction orig_dispose;    /* of a pushed pool buffer */
  gpointer prev;                /* the item of an hbmemqueue before us */
  GQueue events;
} HbqItem;

struct _GstHbmemQueue
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties; object lock */
  guint slots;
  gint64 timeout;
  GstHbmemQueueLeaky leaky;

  gboolean module_open;

  GMutex lock;                  /* everything below */
  GCond drained;                /* pending went to 0, or flushing */
  hb_mem_buf_queue_t queue;
  gboolean queue_live;
  gboolean overwrite;           /* the live queue's mode */
  gboolean flushing;
  GstFlowReturn srcresult;
  GHashTable *queued;           /* HbqItem queued, not yet requested */
  guint pending;                /* queued, not yet fully pushed */
  guint64 next_seq;             /* producer: seq of the next item */
  guint64 last_seq;             /* consumer: seq of the last item taken */
  GQueue carry;                 /* overwritten items: their events */
  GCond carried;                /* carry grew, or flushing */

  gint level;                   /* atomic: slots not FREE */
  guint64 dropped;              /* atomic */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_hbmem_queue_parent_class parent_class
G_DEFINE_TYPE (GstHbmemQueue, gst_hbmem_queue, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hbmemqueue, "hbmemqueue",
    GST_RANK_NONE, GST_TYPE_HBMEM_QUEUE,
    GST_DEBUG_CATEGORY_INIT (gst_hbmem_queue_debug, "hbmemqueue", 0,
        "hbmem memory queue element"));

static GQuark hbq_item_quark;

GType
gst_hbmem_queue_leaky_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    {GST_HBMEM_QUEUE_LEAKY_NO, "Wait for a free slot (up to the timeout)",
        "no"},
    {GST_HBMEM_QUEUE_LEAKY_OVERWRITE,
        "Drop the oldest queued buffer when no slot is free", "overwrite"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstHbmemQueueLeaky", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
hbq_item_free (HbqItem * item)
{
  GstEvent *ev;

  while ((ev = g_queue_pop_head (&item->events)))
    gst_event_unref (ev);
  gst_clear_buffer (&item->buffer);
  g_free (item);
}

/* Make the hb_mem queue for the current properties; lock held. */
static gboolean
hbq_open_locked (GstHbmemQueue * self)
{
  guint32 flags = 0;
  int32_t ret;

  if (self->queue_live)
    return TRUE;
  GST_OBJECT_LOCK (self);
  self->queue.count = self->slots;
  if (self->leaky == GST_HBMEM_QUEUE_LEAKY_OVERWRITE)
    flags |= HB_MEM_QUEUE_FLAG_OVERWRITE;
  GST_OBJECT_UNLOCK (self);
  self->queue.unique_id = 0;
  self->queue.item_size = sizeof (HbqItem *);
  ret = hb_mem_create_buf_queue_ex (&self->queue, flags);
  if (ret != 0) {
    GST_ERROR_OBJECT (self, "hb_mem_create_buf_queue_ex failed: 0x%x",
        (guint) ret);
    return FALSE;
  }
  self->queue_live = TRUE;
  self->overwrite = (flags & HB_MEM_QUEUE_FLAG_OVERWRITE) != 0;
  self->next_seq = 1;
  self->last_seq = 0;
  self->flushing = FALSE;
  self->srcresult = GST_FLOW_OK;
  return TRUE;
}

static gint
hbq_item_cmp_seq (gconstpointer a, gconstpointer b)
{
  guint64 x = ((const HbqItem *) a)->seq, y = ((const HbqItem *) b)->seq;

  return (x > y) - (x < y);
}

/*
 * Free a queued item that will not be pushed. Its sticky events other
 * than segment and EOS (stream-start, caps, tags...) are stored on the src
 * pad first, as the queue element does, so they still reach downstream
 * before the next data after a flush.
 */
static void
hbq_item_drop_keep_sticky (GstHbmemQueue * self, HbqItem * item)
{
  GstEvent *ev;

  while ((ev = g_queue_pop_head (&item->events))) {
    if (GST_EVENT_IS_STICKY (ev) && GST_EVENT_TYPE (ev) != GST_EVENT_SEGMENT &&
        GST_EVENT_TYPE (ev) != GST_EVENT_EOS)
      gst_pad_store_sticky_event (self->srcpad, ev);
    gst_event_unref (ev);
  }
  hbq_item_free (item);
}

/*
 * Stop: wake both sides (destroying the queue) and free what was queued;
 * upstream gets @result until the queue is made again. GST_FLOW_FLUSHING
 * for a flush or a deactivation; downstream's EOS or error otherwise, so
 * an upstream blocked on a full queue hears of it. Lock held.
 */
static void
hbq_stop_locked (GstHbmemQueue * self, GstFlowReturn result)
{
  GList *dropped, *l;
  gpointer key;

  self->flushing = TRUE;
  self->srcresult = result;
  if (self->queue_live) {
    hb_mem_destroy_buf_queue (&self->queue);
    self->queue_live = FALSE;
  }
  /* what was queued goes, oldest first, keeping its sticky state */
  while ((key = g_queue_pop_head (&self->carry)))
    hbq_item_drop_keep_sticky (self, key);
  dropped = g_hash_table_get_keys (self->queued);
  g_hash_table_remove_all (self->queued);
  dropped = g_list_sort (dropped, hbq_item_cmp_seq);
  for (l = dropped; l; l = l->next) {
    hbq_item_drop_keep_sticky (self, l->data);
    g_atomic_int_add (&self->level, -1);
  }
  g_list_free (dropped);
  self->pending = 0;
  g_cond_broadcast (&self->drained);
  g_cond_broadcast (&self->carried);
}

static void
hbq_flush (GstHbmemQueue * self)
{
  g_mutex_lock (&self->lock);
  hbq_stop_locked (self, GST_FLOW_FLUSHING);
  g_mutex_unlock (&self->lock);
}

static gboolean
hbq_is_timeout (int32_t ret)
{
  return ret == HB_MEM_ERR_TIMEOUT || ret == HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT;
}

/* Why the queue is stopped (what upstream gets); lock not held. */
static GstFlowReturn
hbq_stopped_result (GstHbmemQueue * self)
{
  GstFlowReturn ret;

  g_mutex_lock (&self->lock);
  ret = self->srcresult;
  g_mutex_unlock (&self->lock);
  return ret == GST_FLOW_OK ? GST_FLOW_FLUSHING : ret;
}

/*
 * Producer: put @item (owned) in a slot, waiting up to @timeout ms.
 * GST_FLOW_OK when queued, the stop result (flushing, or downstream's EOS
 * or error), GST_FLOW_ERROR, or GST_FLOW_CUSTOM_SUCCESS when the wait
 * timed out (@item is freed).
 */
static GstFlowReturn
hbq_put (GstHbmemQueue * self, HbqItem * item, gint64 timeout)
{
  gboolean overwrite;
  guint64 drops_before = 0, drops_after = 0;
  hb_mem_buf_queue_t q;
  HbqItem *old = NULL;
  gint32 slot = -1;
  int32_t ret;

  g_mutex_lock (&self->lock);
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    hbq_item_free (item);
    return hbq_stopped_result (self);
  }
  q = self->queue;
  /* the mode the queue was made with, whatever the property says now */
  overwrite = self->overwrite;
  g_mutex_unlock (&self->lock);

  if (overwrite && hb_mem_get_buf_queue_drops (&q, &drops_before) != 0)
    goto flushing;
  ret = hb_mem_dequeue_buf (&q, &slot, &old, timeout);
  if (ret != 0) {
    if (hbq_is_timeout (ret)) {
      hbq_item_free (item);
      return GST_FLOW_CUSTOM_SUCCESS;
    }
    goto flushing;
  }
  if (overwrite && hb_mem_get_buf_queue_drops (&q, &drops_after) != 0)
    goto flushing;

  g_mutex_lock (&self->lock);
  if (self->flushing) {
    /* the queue is gone and with it the slot; `old` was freed by the flush */
    g_mutex_unlock (&self->lock);
    goto flushing;
  }
  if (drops_after != drops_before) {
    /*
     * Overwrite took the oldest queued item: drop its buffer; its events
     * go to the carry, which the consumer pushes before any later item.
     */
    g_hash_table_remove (self->queued, old);
    self->pending--;
    if (old->buffer) {
      GST_DEBUG_OBJECT (self, "overwrite dropped %" GST_PTR_FORMAT,
          old->buffer);
      self->dropped++;
      gst_clear_buffer (&old->buffer);
    }
    g_queue_push_tail (&self->carry, old);
    g_cond_broadcast (&self->carried);
  } else {
    g_atomic_int_inc (&self->level);
  }
  item->q = q;
  item->slot = slot;
  item->seq = self->next_seq++;
  g_hash_table_add (self->queued, item);
  self->pending++;
  ret = hb_mem_queue_buf (&q, slot, &item);
  if (ret != 0) {
    g_hash_table_remove (self->queued, item);
    self->pending--;
    g_atomic_int_add (&self->level, -1);
    g_mutex_unlock (&self->lock);
    GST_ERROR_OBJECT (self, "hb_mem_queue_buf failed: 0x%x", (guint) ret);
    hbq_item_free (item);
    return GST_FLOW_ERROR;
  }
  g_mutex_unlock (&self->lock);
  return GST_FLOW_OK;

flushing:
  hbq_item_free (item);
  return hbq_stopped_result (self);
}

static GstFlowReturn
hbq_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstHbmemQueue *self = GST_HBMEM_QUEUE (parent);
  GstFlowReturn ret;
  HbqItem *item;
  gint64 timeout;

  g_mutex_lock (&self->lock);
  ret = self->srcresult;
  g_mutex_unlock (&self->lock);
  if (ret != GST_FLOW_OK) {
    gst_buffer_unref (buffer);
    return ret;
  }
  GST_OBJECT_LOCK (self);
  timeout = self->timeout;
  GST_OBJECT_UNLOCK (self);

  item = g_new0 (HbqItem, 1);
  g_queue_init (&item->events);
  item->buffer = buffer;
  ret = hbq_put (self, item, timeout);
  if (ret == GST_FLOW_CUSTOM_SUCCESS) {
    GST_DEBUG_OBJECT (self, "no free slot within %" G_GINT64_FORMAT " ms, "
        "buffer dropped", timeout);
    g_mutex_lock (&self->lock);
    self->dropped++;
    g_mutex_unlock (&self->lock);
    ret = GST_FLOW_OK;
  }
  return ret;
}

/* The slot of a pushed buffer goes back when downstream drops it. */
static void
hbq_item_release (gpointer data)
{
  HbqItem *item = data;
  GstHbmemQueue *self = item->self;
  HbqItem *prev = item->prev;

  /* a stale slot of a destroyed queue just fails: nothing to undo */
  hb_mem_release_buf (&item->q, item->slot);
  g_atomic_int_add (&self->level, -1);
  hbq_item_free (item);
  gst_object_unref (self);
  /* an hbmemqueue upstream of us pushed this buffer too */
  if (prev)
    hbq_item_release (prev);
}

/*
 * A pool buffer we pushed itself: its last unref lands here first. Put the
 * buffer's own dispose back, release the slot, then let the buffer go
 * back to its pool as it would have.
 */
static gboolean
hbq_pool_buffer_dispose (GstMiniObject * obj)
{
  HbqItem *item = gst_mini_object_steal_qdata (obj, hbq_item_quark);
  GstMiniObjectDisposeFunction dispose;

  if (!item)
    return TRUE;
  dispose = item->orig_dispose;
  obj->dispose = dispose;
  /* an hbmemqueue upstream hooked it first: its hook runs next */
  if (item->prev)
    gst_mini_object_set_qdata (obj, hbq_item_quark, item->prev, NULL);
  item->prev = NULL;
  hbq_item_release (item);
  return dispose ? dispose (obj) : TRUE;
}

/*
 * A buffer we made to share upstream's memories: when downstream drops
 * it, give the memories back before the original goes (its pool would
 * otherwise find them still locked by us and throw the buffer away):
 * bring it back to life, empty it, release the slot and the original,
 * then let it go for good.
 */
static gboolean
hbq_wrapper_dispose (GstMiniObject * obj)
{
  HbqItem *item = gst_mini_object_steal_qdata (obj, hbq_item_quark);

  obj->dispose = item ? item->orig_dispose : NULL;
  if (!item)
    return TRUE;
  gst_mini_object_ref (obj);
  gst_buffer_remove_all_memory (GST_BUFFER_CAST (obj));
  hbq_item_release (item);
  gst_mini_object_unref (obj);
  return FALSE;
}

/*
 * The buffer to push for @item; the item rides on it until it is dropped.
 *
 * A writable buffer is pushed itself: one from no pool is freed when
 * dropped (a qdata notify releases the slot); a pool buffer is recycled,
 * not freed, so its dispose is hooked for that one trip. Anything else
 * (upstream still holds a ref) is pushed as a new buffer sharing its
 * memories, and the original is held until that one is dropped (its
 * dispose hooked too, to hand the memories back first).
 */
static GstBuffer *
hbq_wrap (GstHbmemQueue * self, HbqItem * item)
{
  GstMiniObject *obj;
  GstBuffer *out;

  item->self = gst_object_ref (self);
  if (gst_buffer_is_writable (item->buffer)) {
    out = item->buffer;
    item->buffer = NULL;
    obj = GST_MINI_OBJECT_CAST (out);
    /* came through another hbmemqueue: keep its item, released after ours */
    item->prev = gst_mini_object_steal_qdata (obj, hbq_item_quark);
    if (out->pool) {
      gst_mini_object_set_qdata (obj, hbq_item_quark, item, NULL);
      item->orig_dispose = obj->dispose;
      obj->dispose = hbq_pool_buffer_dispose;
      return out;
    }
  } else {
    out = gst_buffer_new ();
    if (!gst_buffer_copy_into (out, item->buffer, GST_BUFFER_COPY_ALL, 0,
            -1)) {
      gst_buffer_unref (out);
      gst_clear_object (&item->self);
      return NULL;
    }
    obj = GST_MINI_OBJECT_CAST (out);
    gst_mini_object_set_qdata (obj, hbq_item_quark, item, NULL);
    item->orig_dispose = obj->dispose;
    obj->dispose = hbq_wrapper_dispose;
    return out;
  }
  gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (out), hbq_item_quark, item,
      hbq_item_release);
  return out;
}

/*
 * Downstream said stop (EOS, error): tell upstream, even a blocked one.
 * The task is paused under the lock, so a restart (hbq_restart_after_eos)
 * that sees the stop also comes after the pause and is not undone by it.
 */
static void
hbq_pause (GstHbmemQueue * self, GstFlowReturn ret)
{
  g_mutex_lock (&self->lock);
  if (!self->flushing)
    hbq_stop_locked (self, ret);
  gst_pad_pause_task (self->srcpad);
  g_mutex_unlock (&self->lock);
}

/* Push the events and the buffer of @item (owned); the flow result. */
static GstFlowReturn
hbq_push_item (GstHbmemQueue * self, HbqItem * item)
{
  GstFlowReturn ret = GST_FLOW_OK;
  GstBuffer *out;
  GstEvent *ev;

  while ((ev = g_queue_pop_head (&item->events))) {
    GST_LOG_OBJECT (self, "pushing %" GST_PTR_FORMAT, ev);
    gst_pad_push_event (self->srcpad, ev);
  }
  if (!item->buffer) {
    hb_mem_release_buf (&item->q, item->slot);
    g_atomic_int_add (&self->level, -1);
    hbq_item_free (item);
    return GST_FLOW_OK;
  }
  out = hbq_wrap (self, item);
  if (!out) {
    hb_mem_release_buf (&item->q, item->slot);
    g_atomic_int_add (&self->level, -1);
    hbq_item_free (item);
    return GST_FLOW_ERROR;
  }
  GST_LOG_OBJECT (self, "pushing %" GST_PTR_FORMAT " (slot %d)", out,
      item->slot);
  ret = gst_pad_push (self->srcpad, out);
  return ret;
}

/* Items overwritten before @item, not yet accounted for by the producer? */
static guint64
hbq_carried_before (GstHbmemQueue * self, guint64 seq)
{
  guint64 n = 0;
  GList *l;

  for (l = self->carry.head; l; l = l->next)
    if (((HbqItem *) l->data)->seq < seq)
      n++;
  return n;
}

/*
 * Put the events of every item overwritten before @item in front of its
 * own. Items taken are numbered without gaps, so a gap means items were
 * overwritten; their producer files them in the carry right after its
 * dequeue, and we wait for that. FALSE when flushing. Lock held.
 */
static gboolean
hbq_take_carry_locked (GstHbmemQueue * self, HbqItem * item)
{
  HbqItem *c;
  GList *l, *next;
  GQueue events = G_QUEUE_INIT;
  GstEvent *ev;

  while (!self->flushing &&
      hbq_carried_before (self, item->seq) < item->seq - self->last_seq - 1)
    g_cond_wait (&self->carried, &self->lock);
  if (self->flushing)
    return FALSE;
  for (l = self->carry.head; l; l = next) {
    next = l->next;
    c = l->data;
    if (c->seq > item->seq)
      continue;
    while ((ev = g_queue_pop_head (&c->events)))
      g_queue_push_tail (&events, ev);
    g_queue_delete_link (&self->carry, l);
    hbq_item_free (c);
  }
  while ((ev = g_queue_pop_tail (&events)))
    g_queue_push_head (&item->events, ev);
  self->last_seq = item->seq;
  return TRUE;
}

static void
hbq_loop (GstPad * pad)
{
  GstHbmemQueue *self = GST_HBMEM_QUEUE (GST_PAD_PARENT (pad));
  hb_mem_buf_queue_t q;
  HbqItem *item = NULL;
  GstFlowReturn ret;
  gint32 slot;
  int32_t r;

  g_mutex_lock (&self->lock);
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    goto flushing;
  }
  q = self->queue;
  g_mutex_unlock (&self->lock);

  r = hb_mem_request_buf (&q, &slot, &item, -1);
  g_mutex_lock (&self->lock);
  if (self->flushing || r != 0 || !g_hash_table_remove (self->queued, item)) {
    gboolean flushing = self->flushing;

    g_mutex_unlock (&self->lock);
    if (flushing || r == HB_MEM_ERR_QUEUE_DESTROYED)
      goto flushing;
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, (NULL),
        ("hb_mem_request_buf failed: 0x%x", (guint) r));
    hbq_pause (self, GST_FLOW_ERROR);
    return;
  }
  if (!hbq_take_carry_locked (self, item)) {
    /* flushing began: the item is ours alone now, its queue is gone */
    g_mutex_unlock (&self->lock);
    g_atomic_int_add (&self->level, -1);
    hbq_item_free (item);
    goto flushing;
  }
  g_mutex_unlock (&self->lock);

  ret = hbq_push_item (self, item);

  g_mutex_lock (&self->lock);
  if (self->pending > 0 && --self->pending == 0)
    g_cond_broadcast (&self->drained);
  g_mutex_unlock (&self->lock);

  if (ret == GST_FLOW_OK)
    return;
  GST_DEBUG_OBJECT (self, "pausing: %s", gst_flow_get_name (ret));
  if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR (self, ret);
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  }
  hbq_pause (self, ret);
  return;

flushing:
  GST_DEBUG_OBJECT (self, "flushing, pausing the task");
  gst_pad_pause_task (self->srcpad);
}

static gboolean
hbq_start_task (GstHbmemQueue * self)
{
  return gst_pad_start_task (self->srcpad, (GstTaskFunction) hbq_loop,
      self->srcpad, NULL);
}

/*
 * Stream-start and segment end the EOS state downstream's EOS left (a pad
 * takes data again after them, and queue does the same): make the ring
 * again and restart the task. FALSE only when that failed.
 */
static gboolean
hbq_restart_after_eos (GstHbmemQueue * self)
{
  gboolean restart, ok = TRUE;

  g_mutex_lock (&self->lock);
  restart = self->flushing && self->srcresult == GST_FLOW_EOS;
  if (restart) {
    GST_DEBUG_OBJECT (self, "new stream or segment after downstream EOS: "
        "restarting");
    ok = hbq_open_locked (self);
  }
  g_mutex_unlock (&self->lock);
  return !restart || (ok && hbq_start_task (self));
}

/*
 * A serialized event the stopped queue refused (@ret, not flushing): as
 * queue does, a sticky one other than EOS is kept on the src pad for
 * when data flows again and accepted (refusing it would turn
 * downstream's EOS into an error for upstream); the rest is refused.
 */
static gboolean
hbq_refused_event (GstHbmemQueue * self, GstEvent * event, GstFlowReturn ret)
{
  gboolean keep = ret != GST_FLOW_FLUSHING && GST_EVENT_IS_STICKY (event) &&
      GST_EVENT_TYPE (event) != GST_EVENT_EOS;

  if (keep)
    gst_pad_store_sticky_event (self->srcpad, event);
  gst_event_unref (event);
  return keep;
}

static gboolean
hbq_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstHbmemQueue *self = GST_HBMEM_QUEUE (parent);
  GstFlowReturn ret;
  HbqItem *item;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      gst_pad_push_event (self->srcpad, event);
      hbq_flush (self);
      gst_pad_pause_task (self->srcpad);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:{
      gboolean ok;

      g_mutex_lock (&self->lock);
      ok = hbq_open_locked (self);
      g_mutex_unlock (&self->lock);
      gst_pad_push_event (self->srcpad, event);
      return ok && hbq_start_task (self);
    }
    default:
      break;
  }
  if (!GST_EVENT_IS_SERIALIZED (event))
    return gst_pad_push_event (self->srcpad, event);

  if ((GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START ||
          GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) &&
      !hbq_restart_after_eos (self)) {
    gst_event_unref (event);
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  ret = self->flushing ? self->srcresult : GST_FLOW_OK;
  g_mutex_unlock (&self->lock);
  if (ret != GST_FLOW_OK)
    return hbq_refused_event (self, event, ret);

  item = g_new0 (HbqItem, 1);
  g_queue_init (&item->events);
  g_queue_push_tail (&item->events, event);
  /* events wait for a slot without limit (flushing ends the wait) */
  return hbq_put (self, item, -1) == GST_FLOW_OK;
}

/* Serialized queries (allocation, drain) wait until everything queued
 * before them was pushed, so they reach downstream in order. */
static gboolean
hbq_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstHbmemQueue *self = GST_HBMEM_QUEUE (parent);

  if (GST_QUERY_IS_SERIALIZED (query)) {
    g_mutex_lock (&self->lock);
    while (self->pending > 0 && !self->flushing)
      g_cond_wait (&self->drained, &self->lock);
    if (self->flushing) {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
    g_mutex_unlock (&self->lock);
  }
  return gst_pad_query_default (pad, parent, query);
}

static gboolean
hbq_activate (GstHbmemQueue * self)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  ok = hbq_open_locked (self);
  g_mutex_unlock (&self->lock);
  return ok;
}

static gboolean
hbq_sink_activate_mode (GstPad * pad, GstObject * parent, GstPadMode mode,
    gboolean active)
{
  GstHbmemQueue *self = GST_HBMEM_QUEUE (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active)
    return hbq_activate (self);
  hbq_flush (self);
  return TRUE;
}

static gboolean
hbq_src_activate_mode (GstPad * pad, GstObject * parent, GstPadMode mode,
    gboolean active)
{
  GstHbmemQueue *self = GST_HBMEM_QUEUE (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active)
    return hbq_activate (self) && hbq_start_task (self);
  hbq_flush (self);
  return gst_pad_stop_task (pad);
}

static GstStateChangeReturn
hbq_change_state (GstElement * element, GstStateChange transition)
{
  GstHbmemQueue *self = GST_HBMEM_QUEUE (element);
  GstStateChangeReturn ret;
  int32_t r;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    r = hb_mem_module_open ();
    if (r != 0) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
          ("Cannot open the hbmem module"),
          ("hb_mem_module_open failed: 0x%x", (guint) r));
      return GST_STATE_CHANGE_FAILURE;
    }
    self->module_open = TRUE;
  }
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL ||
      (transition == GST_STATE_CHANGE_NULL_TO_READY &&
          ret == GST_STATE_CHANGE_FAILURE)) {
    if (self->module_open)
      hb_mem_module_close ();
    self->module_open = FALSE;
  }
  return ret;
}

static void
hbq_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstHbmemQueue *self = GST_HBMEM_QUEUE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_SLOTS:
      self->slots = g_value_get_uint (value);
      break;
    case PROP_TIMEOUT:
      self->timeout = g_value_get_int64 (value);
      break;
    case PROP_LEAKY:
      self->leaky = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
hbq_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstHbmemQueue *self = GST_HBMEM_QUEUE (object);

  switch (prop_id) {
    case PROP_SLOTS:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->slots);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_TIMEOUT:
      GST_OBJECT_LOCK (self);
      g_value_set_int64 (value, self->timeout);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_LEAKY:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->leaky);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_CURRENT_LEVEL:
      g_value_set_uint (value, (guint) g_atomic_int_get (&self->level));
      break;
    case PROP_DROPPED:
      g_mutex_lock (&self->lock);
      g_value_set_uint64 (value, self->dropped);
      g_mutex_unlock (&self->lock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
hbq_finalize (GObject * object)
{
  GstHbmemQueue *self = GST_HBMEM_QUEUE (object);

  g_hash_table_unref (self->queued);
  g_cond_clear (&self->drained);
  g_cond_clear (&self->carried);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hbmem_queue_class_init (GstHbmemQueueClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  hbq_item_quark = g_quark_from_static_string ("GstHbmemQueueItem");

  gobject_class->set_property = hbq_set_property;
  gobject_class->get_property = hbq_get_property;
  gobject_class->finalize = hbq_finalize;

  g_object_class_install_property (gobject_class, PROP_SLOTS,
      g_param_spec_uint ("slots", "Slots",
          "Number of slots: the most buffers queued or in flight downstream "
          "(read when the ring is made: at start and after a flush)",
          1, MAX_SLOTS, DEFAULT_SLOTS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_int64 ("timeout", "Timeout",
          "Milliseconds upstream waits for a free slot before the buffer is "
          "dropped (and counted in dropped); -1 waits forever, 0 not at all",
          -1, G_MAXINT64, DEFAULT_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LEAKY,
      g_param_spec_enum ("leaky", "Leaky",
          "What upstream does when no slot is free (read when the ring is "
          "made: at start and after a flush)",
          GST_TYPE_HBMEM_QUEUE_LEAKY, DEFAULT_LEAKY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CURRENT_LEVEL,
      g_param_spec_uint ("current-level", "Current level",
          "Slots taken: buffers and events queued, and buffers pushed "
          "downstream that are not yet released", 0, MAX_SLOTS, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_DROPPED,
      g_param_spec_uint64 ("dropped", "Dropped",
          "Buffers dropped: overwritten (leaky=overwrite) or timed out",
          0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "hbmem memory queue", "Generic",
      "Passes buffers to a thread of its own through the hb_mem memory "
      "queue; a fixed number of slots bounds the buffers in flight",
      "hbmem developers");
  element_class->change_state = GST_DEBUG_FUNCPTR (hbq_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_HBMEM_QUEUE_LEAKY, 0);
}

static void
gst_hbmem_queue_init (GstHbmemQueue * self)
{
  self->slots = DEFAULT_SLOTS;
  self->timeout = DEFAULT_TIMEOUT;
  self->leaky = DEFAULT_LEAKY;
  g_mutex_init (&self->lock);
  g_cond_init (&self->drained);
  g_cond_init (&self->carried);
  g_queue_init (&self->carry);
  self->queued = g_hash_table_new (NULL, NULL);
  self->flushing = TRUE;
  self->srcresult = GST_FLOW_FLUSHING;

  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, GST_DEBUG_FUNCPTR (hbq_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (hbq_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (hbq_sink_query));
  gst_pad_set_activatemode_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (hbq_sink_activate_mode));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (hbq_src_activate_mode));
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}
