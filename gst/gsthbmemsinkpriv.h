/* SPDX-License-Identifier: MIT */
/*
 * What gsthbmemsink.c (the element) and gsthbmemsinkconn.c (its
 * consumers and the socket thread) share. Private to the plugin.
 */
#ifndef __GST_HBMEM_SINK_PRIV_H__
#define __GST_HBMEM_SINK_PRIV_H__

#include <gst/gst.h>
#include <gst/video/video.h>

#include "gsthbmemsink.h"
#include "hbmemipc.h"

G_BEGIN_DECLS

G_GNUC_INTERNAL GST_DEBUG_CATEGORY_EXTERN (gst_hbmem_sink_debug);

/* The sticky events a late joiner gets before its first buffer. */
enum
{
  STICKY_STREAM_START,
  STICKY_CAPS,
  STICKY_SEGMENT,
  STICKY_TAG,
  STICKY_EOS,
  N_STICKY,
};

typedef struct _HbmemBlockTable HbmemBlockTable;

/* One connected hbmemsrc. */
typedef struct
{
  int sock;
  GstPollFD pfd;                /* in the socket thread's poll */
  GstPollFD wpfd;               /* in the streaming thread's wait poll */
  gboolean reaped;              /* the streaming thread reads it (see below) */
  GHashTable *known;            /* block ids this consumer has an fd for */
  GHashTable *held;             /* seq -> GstBuffer it has not released */
  guint64 served;               /* the last render that dealt with it */
  guint64 next_seq;
  GQueue *pending;              /* HbmemPendingEvent with no room yet */
  gboolean ready;               /* it said HELLO: it is streaming */
  gboolean stalled;             /* full backlog outlasted stall-timeout */
  gboolean dead;                /* a send failed for good: drop it */
  gboolean queue_full;          /* its last send found the queue full */
} HbmemSinkClient;

struct _GstHbmemSink
{
  GstBaseSink parent;

  /* properties */
  gchar *socket_path;
  guint buffers;
  guint backlog;
  gboolean wait_for_connection;
  guint stall_timeout;

  /* counters, under the object lock */
  guint64 sent;
  guint64 dropped;
  guint64 copies;

  /* the socket side; clients, sticky and unlocked under lock */
  GMutex lock;
  GCond cond;
  int listen_fd;
  gchar *listen_path;           /* what listen_fd is bound to (start..stop) */
  GstPoll *poll;
  GThread *thread;
  GList *clients;
  GstEvent *sticky[N_STICKY];
  gboolean unlocked;
  guint waiters;                /* threads in g_cond_wait*() on cond */
  guint64 renders;              /* render() calls */
  GQueue upstream;              /* events read by the streaming thread */

  /*
   * While buffers flow, the streaming thread reads what streaming
   * consumers send (releases, mostly) itself, before each buffer, and
   * waits for releases on their sockets when it needs room (wait_poll), so a
   * release costs no wake-up of the socket thread and no hand-over from it.
   * The socket thread does not watch those sockets for input then (only
   * for hang-ups); it takes them back when no buffer was rendered for
   * REAP_IDLE_MS. Whoever reads a message handles it, under the lock; the
   * streaming thread leaves upstream events and dead consumers to the
   * socket thread, poking it through wake_fd (an eventfd).
   */
  GstPoll *wait_poll;
  int wake_fd;
  struct hbmem_ipc_msg *rmsg;   /* the streaming thread's message */
  GPtrArray *reaped_bufs;       /* streaming thread: released, to unref */

  HbmemBlockTable *blocks;
  GQuark block_quark;           /* per instance: a memory may meet two sinks */

  /* streaming thread */
  GstBufferPool *pool;          /* for copies */
  GstVideoInfo info;
  gboolean is_video;
  gboolean copy_reported;
};

/* gsthbmemsinkconn.c: the socket thread (data: the sink) */
G_GNUC_INTERNAL gpointer hbmem_sink_thread (gpointer data);
/* Close a consumer's socket and free it with what it holds. */
G_GNUC_INTERNAL void hbmem_sink_client_free (HbmemSinkClient * c);
/* The rest with self->lock held, in the streaming thread. */
G_GNUC_INTERNAL int hbmem_sink_send_event_locked (GstHbmemSink * self,
    HbmemSinkClient * c, GstEvent * ev);
G_GNUC_INTERNAL void hbmem_sink_drain_events_locked (GstHbmemSink * self);
G_GNUC_INTERNAL gboolean hbmem_sink_any_ready_locked (GstHbmemSink * self);
G_GNUC_INTERNAL void hbmem_sink_claim_reads_locked (GstHbmemSink * self);
G_GNUC_INTERNAL gboolean hbmem_sink_reap_streaming_locked (GstHbmemSink *
    self, gboolean all);
G_GNUC_INTERNAL gboolean hbmem_sink_wait_for_room_locked (GstHbmemSink *
    self);
G_GNUC_INTERNAL void hbmem_sink_forget_locked (HbmemSinkClient * c,
    GArray * ids);
G_GNUC_INTERNAL int hbmem_sink_send_locked (GstHbmemSink * self,
    HbmemSinkClient * c, GstBuffer * buf, const struct hbmem_ipc_buffer *tmpl,
    GstMemory ** roots);
/* Without the lock: */
G_GNUC_INTERNAL void hbmem_sink_poke (GstHbmemSink * self);

G_END_DECLS

#endif /* __GST_HBMEM_SINK_PRIV_H__ */
