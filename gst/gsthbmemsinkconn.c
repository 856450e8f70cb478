/* SPDX-License-Identifier: MIT */
/*
 * hbmemsink's consumers: the table of connected hbmemsrc, their sockets,
 * the socket thread (accepts consumers, reads what they send while no
 * buffer flows, sends the events their queues had no room for, drops the
 * dead) and what the streaming thread does with each consumer (send a
 * buffer, read its releases, wait for room). The element itself, its
 * properties and the GstBaseSink methods are in gsthbmemsink.c; both
 * share gsthbmemsinkpriv.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <gst/allocators/allocators.h>

#include "gsthbmemsinkpriv.h"
#include "gsthbmemallocator.h"
#include "gsthbmemipcevent.h"

#define GST_CAT_DEFAULT gst_hbmem_sink_debug

/* ---- clients --------------------------------------------------------- */

/*
 * Events are never dropped: one that finds the consumer's socket queue full
 * (unix datagram queues are short: net.unix.max_dgram_qlen, 10 by default)
 * waits here, and the thread sends it when the socket is writable again.
 * Buffers do not overtake it.
 */
#define MAX_PENDING_EVENTS 256

typedef struct
{
  guint32 type;
  guint32 seqnum;
  gchar *text;
} HbmemPendingEvent;

static void
pending_event_free (HbmemPendingEvent * p)
{
  g_free (p->text);
  g_free (p);
}

void
hbmem_sink_client_free (HbmemSinkClient * c)
{
  close (c->sock);
  g_hash_table_unref (c->known);
  g_hash_table_unref (c->held);
  g_queue_free_full (c->pending, (GDestroyNotify) pending_event_free);
  g_free (c);
}

/* Send what waits; with self->lock held. 0, or -1 when the peer broke. */
static int
client_flush_locked (HbmemSinkClient * c)
{
  HbmemPendingEvent *p;

  while ((p = g_queue_peek_head (c->pending))) {
    int ret = hbmem_ipc_send_event (c->sock, p->type, p->seqnum, p->text);

    if (ret == -EAGAIN)
      return 0;
    if (ret < 0)
      return -1;
    pending_event_free (g_queue_pop_head (c->pending));
  }
  return 0;
}

/*
 * Send @ev to @c, or queue it behind earlier ones; with self->lock held.
 * 0 when sent or queued (then the thread is asked to watch for room), -1
 * when the consumer broke or let too many events pile up.
 */
int
hbmem_sink_send_event_locked (GstHbmemSink * self, HbmemSinkClient * c,
    GstEvent * ev)
{
  HbmemPendingEvent *p;
  gchar *text = gst_hbmem_ipc_event_to_text (ev);
  int ret;

  if (!text)
    return 0;                   /* nothing we can say about it */
  if (strlen (text) + 1 > HBMEM_IPC_EVENT_MAX_TEXT) {
    /* one datagram cannot carry it (a tag list with an image, say): the
     * consumer is not at fault, it just does not get this event */
    GST_WARNING_OBJECT (self, "%s event of %" G_GSIZE_FORMAT " bytes does "
        "not fit a message (%u): not forwarded", GST_EVENT_TYPE_NAME (ev),
        strlen (text), (guint) HBMEM_IPC_EVENT_MAX_TEXT);
    g_free (text);
    return 0;
  }
  if (g_queue_is_empty (c->pending)) {
    ret = hbmem_ipc_send_event (c->sock, GST_EVENT_TYPE (ev),
        GST_EVENT_SEQNUM (ev), text);
    if (ret != -EAGAIN) {
      g_free (text);
      return ret < 0 ? -1 : 0;
    }
  }
  if (g_queue_get_length (c->pending) >= MAX_PENDING_EVENTS) {
    g_free (text);
    return -1;
  }
  p = g_new0 (HbmemPendingEvent, 1);
  p->type = GST_EVENT_TYPE (ev);
  p->seqnum = GST_EVENT_SEQNUM (ev);
  p->text = text;
  g_queue_push_tail (c->pending, p);
  gst_poll_fd_ctl_write (self->poll, &c->pfd, TRUE);
  gst_poll_restart (self->poll);
  return 0;
}

/* Whether the consumer's socket queue has room for one more message. */
static gboolean
client_writable (HbmemSinkClient * c)
{
  struct pollfd pfd = { c->sock, POLLOUT, 0 };

  return poll (&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT);
}

/* A new consumer: greet it and give it the stream's current state. */
static void
sink_accept (GstHbmemSink * self)
{
  HbmemSinkClient *c;
  int sock, i;

  while (hbmem_ipc_accept (self->listen_fd, &sock) == 0) {
    struct hbmem_ipc_hello hello = { 0, };
    gboolean dead;

    c = g_new0 (HbmemSinkClient, 1);
    c->sock = sock;
    c->known = g_hash_table_new (NULL, NULL);
    /* keys: the seq itself (truncated where pointers are 32-bit: only
     * the backlog's few seqs are ever held, they cannot collide) */
    c->held = g_hash_table_new_full (NULL, NULL, NULL,
        (GDestroyNotify) gst_buffer_unref);
    c->pending = g_queue_new ();
    c->next_seq = 1;
    hello.pid = (guint32) getpid ();
    hello.backlog = self->backlog;
    gst_poll_fd_init (&c->pfd);
    c->pfd.fd = sock;
    gst_poll_add_fd (self->poll, &c->pfd);
    gst_poll_fd_ctl_read (self->poll, &c->pfd, TRUE);
    gst_poll_fd_init (&c->wpfd);
    c->wpfd.fd = sock;
    gst_poll_add_fd (self->wait_poll, &c->wpfd);
    gst_poll_fd_ctl_read (self->wait_poll, &c->wpfd, TRUE);

    g_mutex_lock (&self->lock);
    /* a fresh socket's queue is empty: HELLO always fits */
    dead = hbmem_ipc_send (sock, HBMEM_IPC_HELLO, &hello, sizeof (hello),
        NULL, 0) < 0;
    for (i = 0; i < N_STICKY && !dead; i++)
      if (self->sticky[i] && hbmem_sink_send_event_locked (self, c,
              self->sticky[i]) < 0)
        dead = TRUE;
    if (dead) {
      g_mutex_unlock (&self->lock);
      gst_poll_remove_fd (self->poll, &c->pfd);
      gst_poll_remove_fd (self->wait_poll, &c->wpfd);
      hbmem_sink_client_free (c);
      continue;
    }
    self->clients = g_list_append (self->clients, c);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    GST_INFO_OBJECT (self, "consumer connected (fd %d)", sock);
  }
}

/* Drop a consumer: every buffer it held is released with it. */
static void
sink_drop_client (GstHbmemSink * self, HbmemSinkClient * c)
{
  g_mutex_lock (&self->lock);
  self->clients = g_list_remove (self->clients, c);
  g_cond_broadcast (&self->cond);       /* nobody waits for it any more */
  g_mutex_unlock (&self->lock);
  gst_poll_remove_fd (self->poll, &c->pfd);
  gst_poll_remove_fd (self->wait_poll, &c->wpfd);
  GST_INFO_OBJECT (self, "consumer gone (fd %d), %u buffers released", c->sock,
      g_hash_table_size (c->held));
  hbmem_sink_client_free (c);
}

/* Wake the streaming thread if it waits; with self->lock held. */
static void
sink_wake_locked (GstHbmemSink * self)
{
  /* a broadcast is a syscall even with nobody waiting */
  if (self->waiters)
    g_cond_broadcast (&self->cond);
}

/*
 * Take back the buffers a RELEASE names (one or a batch) into @bufs, to
 * be unreffed outside the lock; with self->lock held. FALSE when it names
 * one the consumer does not hold: it must go (what it released before in
 * the message is released all the same).
 */
static gboolean
sink_release_locked (GstHbmemSink * self, HbmemSinkClient * c,
    const struct hbmem_ipc_msg *msg, GPtrArray * bufs)
{
  guint i, n = HBMEM_IPC_RELEASE_COUNT (msg), before = bufs->len;

  for (i = 0; i < n; i++) {
    gpointer key = GSIZE_TO_POINTER ((gsize) msg->u.release_seq[i]);
    gpointer buf;

    if (!g_hash_table_steal_extended (c->held, key, NULL, &buf)) {
      GST_DEBUG_OBJECT (self, "consumer released unknown seq %"
          G_GUINT64_FORMAT, (guint64) msg->u.release_seq[i]);
      return FALSE;
    }
    g_ptr_array_add (bufs, buf);
  }
  if (bufs->len > before) {
    /* room again: it gets buffers (and is waited for) again */
    c->stalled = FALSE;
    sink_wake_locked (self);
  }
  return TRUE;
}

/*
 * Read what a consumer sent, until nothing is left; with self->lock held
 * (either thread: the lock keeps its messages in order). Released buffers
 * go to @bufs, upstream events to self->upstream, for the caller to deal
 * with outside the lock. Marks the consumer dead when it closed or broke
 * the protocol. Returns TRUE when the socket thread has something to do.
 */
static gboolean
sink_reap_locked (GstHbmemSink * self, HbmemSinkClient * c,
    struct hbmem_ipc_msg *msg, GPtrArray * bufs)
{
  gboolean notify = FALSE;

  while (!c->dead) {
    int ret = hbmem_ipc_recv (c->sock, msg);

    if (ret == -EAGAIN)
      break;
    if (ret < 0) {
      c->dead = TRUE;
    } else if (msg->type == HBMEM_IPC_RELEASE) {
      if (!sink_release_locked (self, c, msg, bufs))
        c->dead = TRUE;
    } else if (msg->type == HBMEM_IPC_HELLO) {
      /* the consumer is streaming: buffers from now on are for it */
      c->ready = TRUE;
      sink_wake_locked (self);
    } else if (msg->type == HBMEM_IPC_EVENT) {
      GstEvent *ev = gst_hbmem_ipc_event_from_text (msg->u.event.type,
          msg->u.event.seqnum, hbmem_ipc_event_text (msg), TRUE);

      if (ev) {
        g_queue_push_tail (&self->upstream, ev);
        notify = TRUE;
      }
    } else {
      hbmem_ipc_msg_clear (msg);
      c->dead = TRUE;
    }
  }
  return notify || c->dead;
}

/* The socket thread: push what consumers sent upstream. */
static void
sink_push_upstream (GstHbmemSink * self)
{
  GstEvent *ev;

  for (;;) {
    g_mutex_lock (&self->lock);
    ev = g_queue_pop_head (&self->upstream);
    g_mutex_unlock (&self->lock);
    if (!ev)
      break;
    GST_DEBUG_OBJECT (self, "upstream %s from a consumer",
        GST_EVENT_TYPE_NAME (ev));
    gst_pad_push_event (GST_BASE_SINK_PAD (self), ev);
  }
}

/* The streaming thread: have the socket thread look (events, the dead). */
void
hbmem_sink_poke (GstHbmemSink * self)
{
  uint64_t one = 1;

  /* a full counter already means "look": nothing is lost */
  if (write (self->wake_fd, &one, sizeof (one)) < 0 && errno != EAGAIN)
    GST_WARNING_OBJECT (self, "cannot wake the socket thread: %s",
        g_strerror (errno));
}

/*
 * No buffer rendered for REAP_IDLE_MS: the socket thread reads every
 * consumer again; with self->lock held, in the socket thread. Short,
 * because releases nobody reads for that long may starve upstream of pool
 * buffers while the streaming thread is not rendering (an upstream element
 * that keeps most of the pool, say).
 */
#define REAP_IDLE_MS 5

static void
sink_take_back_reads_locked (GstHbmemSink * self)
{
  GList *l;

  for (l = self->clients; l; l = l->next) {
    HbmemSinkClient *c = l->data;

    if (c->reaped) {
      c->reaped = FALSE;
      gst_poll_fd_ctl_read (self->poll, &c->pfd, TRUE);
    }
  }
}

gpointer
hbmem_sink_thread (gpointer data)
{
  GstHbmemSink *self = data;
  struct hbmem_ipc_msg *msg = g_new0 (struct hbmem_ipc_msg, 1);
  GPtrArray *bufs = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  guint64 seen_renders = 0;
  GstPollFD lfd, wfd;

  gst_poll_fd_init (&lfd);
  lfd.fd = self->listen_fd;
  gst_poll_add_fd (self->poll, &lfd);
  gst_poll_fd_ctl_read (self->poll, &lfd, TRUE);
  gst_poll_fd_init (&wfd);
  wfd.fd = self->wake_fd;
  gst_poll_add_fd (self->poll, &wfd);
  gst_poll_fd_ctl_read (self->poll, &wfd, TRUE);

  for (;;) {
    GstClockTime timeout = GST_CLOCK_TIME_NONE;
    GList *l, *gone = NULL;
    gboolean reaping = FALSE;

    g_mutex_lock (&self->lock);
    for (l = self->clients; l && !reaping; l = l->next)
      reaping = ((HbmemSinkClient *) l->data)->reaped;
    g_mutex_unlock (&self->lock);
    if (reaping)
      timeout = REAP_IDLE_MS * GST_MSECOND;
    if (gst_poll_wait (self->poll, timeout) < 0 && errno == EBUSY)
      break;
    if (gst_poll_fd_can_read (self->poll, &wfd)) {
      uint64_t n;

      if (read (self->wake_fd, &n, sizeof (n)) < 0 && errno != EAGAIN)
        GST_WARNING_OBJECT (self, "wake fd: %s", g_strerror (errno));
    }
    g_mutex_lock (&self->lock);
    if (reaping && self->renders == seen_renders)
      sink_take_back_reads_locked (self);
    seen_renders = self->renders;
    g_mutex_unlock (&self->lock);
    /* only this thread adds or removes clients; new ones come after */
    for (l = self->clients; l; l = l->next) {
      HbmemSinkClient *c = l->data;

      if (!c->dead && gst_poll_fd_can_read (self->poll, &c->pfd)) {
        g_mutex_lock (&self->lock);
        sink_reap_locked (self, c, msg, bufs);
        g_mutex_unlock (&self->lock);
        /* back to the pool, outside the lock */
        g_ptr_array_set_size (bufs, 0);
      }
      if (c->dead || gst_poll_fd_has_closed (self->poll, &c->pfd) ||
          gst_poll_fd_has_error (self->poll, &c->pfd)) {
        gone = g_list_prepend (gone, c);
        continue;
      }
      if (gst_poll_fd_can_write (self->poll, &c->pfd)) {
        g_mutex_lock (&self->lock);
        if (client_flush_locked (c) < 0)
          c->dead = TRUE;
        if (g_queue_is_empty (c->pending))
          gst_poll_fd_ctl_write (self->poll, &c->pfd, FALSE);
        g_cond_broadcast (&self->cond);
        g_mutex_unlock (&self->lock);
        if (c->dead)
          gone = g_list_prepend (gone, c);
      }
    }
    sink_push_upstream (self);
    for (l = gone; l; l = l->next)
      sink_drop_client (self, l->data);
    g_list_free (gone);
    if (gst_poll_fd_can_read (self->poll, &lfd))
      sink_accept (self);
  }
  gst_poll_remove_fd (self->poll, &lfd);
  gst_poll_remove_fd (self->poll, &wfd);
  g_ptr_array_unref (bufs);
  g_free (msg);
  return NULL;
}

/* Tell @c which blocks died since; with self->lock held. */
void
hbmem_sink_forget_locked (HbmemSinkClient * c, GArray * ids)
{
  guint i;

  for (i = 0; ids && i < ids->len && !c->dead; i++) {
    struct hbmem_ipc_forget f = { g_array_index (ids, guint32, i), 0 };

    int ret;

    if (!g_hash_table_remove (c->known, GUINT_TO_POINTER (f.id)))
      continue;
    /* ids are never reused: a FORGET lost to a full queue only leaves the
     * consumer a mapping it no longer needs, until it disconnects */
    ret = hbmem_ipc_send (c->sock, HBMEM_IPC_FORGET, &f, sizeof (f), NULL, 0);
    if (ret < 0 && ret != -EAGAIN)
      c->dead = TRUE;
  }
}

/*
 * Send @buf to @c; with self->lock held. Returns 1 sent, 0 dropped for
 * this consumer (backlog full or socket queue full), -1 consumer broken.
 */
int
hbmem_sink_send_locked (GstHbmemSink * self, HbmemSinkClient * c,
    GstBuffer * buf, const struct hbmem_ipc_buffer *tmpl, GstMemory ** roots)
{
  struct hbmem_ipc_buffer b = *tmpl;
  guint i;
  int ret;

  if (g_hash_table_size (c->held) >= self->backlog ||
      !g_queue_is_empty (c->pending))
    return 0;
  for (i = 0; i < b.n_mems; i++) {
    struct hbmem_ipc_mem m = { b.mem[i].id, 0, 0 };
    int fd;

    if (g_hash_table_contains (c->known, GUINT_TO_POINTER (m.id)))
      continue;
    gst_memory_get_sizes (roots[i], NULL, &m.size);
    if (gst_is_dmabuf_memory (roots[i]))
      m.flags |= HBMEM_IPC_MEM_DMABUF;
    /*
     * V4L2 interop: hb_mem's own fd (borrowed), not the dup GStreamer sees,
     * which a v4l2 1.22.0 importer upstream may have closed by now.
     */
    fd = gst_hbmem_memory_get_hb_fd (roots[i]);
    ret = hbmem_ipc_send (c->sock, HBMEM_IPC_MEM, &m, sizeof (m), &fd, 1);
    if (ret == -EAGAIN)
      goto queue_full;
    if (ret < 0)
      return -1;
    g_hash_table_add (c->known, GUINT_TO_POINTER (m.id));
  }
  b.seq = c->next_seq;
  ret = hbmem_ipc_send (c->sock, HBMEM_IPC_BUFFER, &b, sizeof (b), NULL, 0);
  if (ret == -EAGAIN)
    goto queue_full;
  if (ret < 0)
    return -1;
  c->next_seq++;
  c->queue_full = FALSE;
  g_hash_table_insert (c->held, GSIZE_TO_POINTER ((gsize) b.seq),
      gst_buffer_ref (buf));
  return 1;

queue_full:
  /* the caller waits for room (up to stall-timeout) and tries again */
  c->queue_full = TRUE;
  return 0;
}

/* ---- the streaming thread and its consumers ------------------------- */

gboolean
hbmem_sink_any_ready_locked (GstHbmemSink * self)
{
  GList *l;

  for (l = self->clients; l; l = l->next) {
    HbmemSinkClient *c = l->data;

    /* a dead one is only waiting for the socket thread to drop it */
    if (c->ready && !c->dead)
      return TRUE;
  }
  return FALSE;
}

/*
 * No room for a buffer: backlog held, events waiting, or queue full. The
 * queue is only looked at (a syscall) after a send found it full: the
 * send itself says so, no need to ask before each one.
 */
static gboolean
client_full (GstHbmemSink * self, HbmemSinkClient * c)
{
  if (g_hash_table_size (c->held) >= self->backlog ||
      !g_queue_is_empty (c->pending))
    return TRUE;
  if (c->queue_full && client_writable (c))
    c->queue_full = FALSE;
  return c->queue_full;
}

/* A consumer that has no room for a buffer and is not known to stall. */
static gboolean
sink_any_full_locked (GstHbmemSink * self)
{
  GList *l;

  for (l = self->clients; l; l = l->next) {
    HbmemSinkClient *c = l->data;

    if (c->ready && !c->dead && !c->stalled && client_full (self, c))
      return TRUE;
  }
  return FALSE;
}

/*
 * The streaming thread reads what consumers sent: every consumer when
 * @all, else the streaming ones it reads for the socket thread that hold
 * something (a release read late keeps a pool buffer from upstream: the
 * pool grows and cycles through more memory). Returns TRUE when the
 * socket thread must look (events to push, consumers to drop).
 */
gboolean
hbmem_sink_reap_streaming_locked (GstHbmemSink * self, gboolean all)
{
  gboolean notify = FALSE;
  GList *l;

  for (l = self->clients; l; l = l->next) {
    HbmemSinkClient *c = l->data;

    if (c->dead || !(all || (c->reaped && g_hash_table_size (c->held))))
      continue;
    notify |= sink_reap_locked (self, c, self->rmsg, self->reaped_bufs);
  }
  return notify;
}

/*
 * From now on the streaming thread reads the streaming consumers (see
 * GstHbmemSink); with self->lock held.
 */
void
hbmem_sink_claim_reads_locked (GstHbmemSink * self)
{
  gboolean changed = FALSE;
  GList *l;

  for (l = self->clients; l; l = l->next) {
    HbmemSinkClient *c = l->data;

    if (c->ready && !c->dead && !c->reaped) {
      c->reaped = TRUE;
      gst_poll_fd_ctl_read (self->poll, &c->pfd, FALSE);
      changed = TRUE;
    }
  }
  if (changed)
    gst_poll_restart (self->poll);
}

/*
 * Give consumers with a full backlog up to stall-timeout to release one;
 * those that do not are marked stalled and miss buffers, without being
 * waited for again, until they release something. So a slow consumer paces
 * the producer, and a stuck one costs it stall-timeout once. The releases
 * are read here, waiting on the consumers' sockets. Returns TRUE when the
 * socket thread must look.
 */
gboolean
hbmem_sink_wait_for_room_locked (GstHbmemSink * self)
{
  gint64 end = g_get_monotonic_time () +
      (gint64) self->stall_timeout * G_TIME_SPAN_MILLISECOND;
  gboolean notify = FALSE;
  GList *l;

  /* a queue draining wakes nobody: look every ms */
  while (sink_any_full_locked (self) && !self->unlocked) {
    gint64 now = g_get_monotonic_time ();

    if (now >= end)
      break;
    g_mutex_unlock (&self->lock);
    if (notify)
      hbmem_sink_poke (self);
    notify = FALSE;
    gst_poll_wait (self->wait_poll, MIN (end - now,
            G_TIME_SPAN_MILLISECOND) * GST_USECOND);
    g_mutex_lock (&self->lock);
    notify |= hbmem_sink_reap_streaming_locked (self, TRUE);
  }
  for (l = self->clients; l; l = l->next) {
    HbmemSinkClient *c = l->data;

    if (c->ready && !c->dead && !c->stalled && client_full (self, c)) {
      c->stalled = TRUE;
      GST_INFO_OBJECT (self, "consumer (fd %d) stalled: it holds %u buffers "
          "after %u ms; it misses buffers until it releases one", c->sock,
          g_hash_table_size (c->held), self->stall_timeout);
    }
  }
  return notify;
}

/*
 * EOS: the application may shut the pipeline down as soon as it hears of
 * it, closing the sockets, so give the events still queued for consumers
 * (EOS last) up to stall-timeout to go out; with self->lock held.
 */
void
hbmem_sink_drain_events_locked (GstHbmemSink * self)
{
  gint64 end = g_get_monotonic_time () +
      (gint64) self->stall_timeout * G_TIME_SPAN_MILLISECOND;

  for (;;) {
    gboolean waiting = FALSE;
    GList *l;

    for (l = self->clients; l && !waiting; l = l->next) {
      HbmemSinkClient *c = l->data;

      waiting = !c->dead && !g_queue_is_empty (c->pending);
    }
    if (!waiting || self->unlocked || g_get_monotonic_time () >= end)
      break;
    /* the socket thread sends them as room appears, and signals */
    self->waiters++;
    g_cond_wait_until (&self->cond, &self->lock,
        MIN (end, g_get_monotonic_time () + G_TIME_SPAN_MILLISECOND));
    self->waiters--;
  }
}
