/* SPDX-License-Identifier: MIT */
/*
 * hbmemqueue (and what the plugin registers), loaded from the built
 * plugin: order of buffers and serialized events, the slot bound (upstream
 * blocks while every slot is queued or held downstream, and goes on when
 * downstream drops one), overwrite mode dropping the oldest queued buffer,
 * the timeout, EOS, flushing from either side, a serialized query waiting
 * for what was queued before it, and state changes to NULL while full or
 * empty. Every wait on another thread is bounded.
 */
#include <string.h>

#include <gst/allocators/allocators.h>
#include <gst/check/gstharness.h>

#include "gst-test.h"

#define CAPS "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1"

static GstBuffer *
make_buffer (guint i)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 256, NULL);

  GST_BUFFER_PTS (buf) = i * GST_MSECOND;
  return buf;
}

static GstHarness *
make_harness (const gchar * launch)
{
  GstHarness *h = gst_harness_new_parse (launch);

  g_assert_nonnull (h);
  gst_harness_set_src_caps_str (h, CAPS);
  return h;
}

/* The hbmemqueue (named "q") inside the harness's bin; borrowed. */
static GstElement *
queue_of (GstHarness * h)
{
  GstElement *q = gst_bin_get_by_name (GST_BIN (h->element), "q");

  g_assert_nonnull (q);
  gst_object_unref (q);
  return q;
}

static guint
level (GstHarness * h)
{
  guint v;

  g_object_get (queue_of (h), "current-level", &v, NULL);
  return v;
}

static guint64
dropped (GstHarness * h)
{
  guint64 v;

  g_object_get (queue_of (h), "dropped", &v, NULL);
  return v;
}

/* A flush-stop drops the segment: send one before data again. */
static void
push_segment (GstHarness * h)
{
  GstSegment seg;

  gst_segment_init (&seg, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (h, gst_event_new_segment (&seg)));
}

/* A push from another thread, and whether it has returned. */
typedef struct
{
  GstHarness *h;
  GstBuffer *buf;
  GstEvent *event;
  GstFlowReturn ret;
  gboolean event_ret;
  gint done;
} Pusher;

static gpointer
pusher_run (gpointer data)
{
  Pusher *p = data;

  if (p->buf)
    p->ret = gst_harness_push (p->h, p->buf);
  else
    p->event_ret = gst_harness_push_event (p->h, p->event);
  g_atomic_int_set (&p->done, 1);
  return NULL;
}

static GThread *
start_push (Pusher * p, GstHarness * h, GstBuffer * buf, GstEvent * event)
{
  memset (p, 0, sizeof (*p));
  p->h = h;
  p->buf = buf;
  p->event = event;
  return g_thread_new ("pusher", pusher_run, p);
}

/* Watch @p for a while: TRUE if it is still blocked. */
static gboolean
still_blocked (Pusher * p)
{
  g_usleep (GST_TEST_BLOCKED_US);
  return !g_atomic_int_get (&p->done);
}

/* A probe on the queue's src pad blocking buffers until released. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean open;
  gboolean eos;                 /* once open: answer buffers with EOS */
  GPtrArray *held;              /* buffers answered with EOS, kept */
  gint hit;
  GString *log;                 /* "B<pts ms>" and event names, in order */
} Gate;

static GstPadProbeReturn
gate_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Gate *g = data;

  g_mutex_lock (&g->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    g_atomic_int_inc (&g->hit);
    while (!g->open)
      g_cond_wait (&g->cond, &g->lock);
    g_string_append_printf (g->log, "B%" G_GUINT64_FORMAT " ",
        GST_BUFFER_PTS (buf) / GST_MSECOND);
    if (g->eos) {
      /* kept, as by a sink that stopped: its slot stays taken */
      g_ptr_array_add (g->held, buf);
      g_mutex_unlock (&g->lock);
      GST_PAD_PROBE_INFO_FLOW_RETURN (info) = GST_FLOW_EOS;
      return GST_PAD_PROBE_HANDLED;
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    g_string_append_printf (g->log, "%s ",
        GST_EVENT_TYPE_NAME (GST_PAD_PROBE_INFO_EVENT (info)));
  }
  g_mutex_unlock (&g->lock);
  return GST_PAD_PROBE_OK;
}

static void
gate_init (Gate * g, GstHarness * h, gboolean open)
{
  GstPad *src = gst_element_get_static_pad (queue_of (h), "src");

  g_mutex_init (&g->lock);
  g_cond_init (&g->cond);
  g->open = open;
  g->eos = FALSE;
  g->held = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  g->hit = 0;
  g->log = g_string_new (NULL);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, gate_probe, g, NULL);
  gst_object_unref (src);
}

static void
gate_open (Gate * g)
{
  g_mutex_lock (&g->lock);
  g->open = TRUE;
  g_cond_broadcast (&g->cond);
  g_mutex_unlock (&g->lock);
}

static gchar *
gate_log (Gate * g)
{
  gchar *s;

  g_mutex_lock (&g->lock);
  s = g_strdup (g->log->str);
  g_mutex_unlock (&g->lock);
  return s;
}

static void
gate_clear (Gate * g)
{
  g_string_free (g->log, TRUE);
  g_ptr_array_unref (g->held);
  g_cond_clear (&g->cond);
  g_mutex_clear (&g->lock);
}

/* ---- the plugin ------------------------------------------------------ */

static int fds_at_start;

static void
test_plugin_registers_allocator_and_queue (void)
{
  GstElementFactory *factory = gst_element_factory_find ("hbmemqueue");
  GstPlugin *plugin;
  GstAllocator *alloc;
  GstMemory *mem;

  g_assert_nonnull (factory);
  g_assert_nonnull (gst_element_factory_get_metadata (factory,
          GST_ELEMENT_METADATA_DESCRIPTION));
  gst_object_unref (factory);

  /* loading the plugin registers the allocator by name */
  plugin = gst_plugin_load_by_name ("hbmem");
  g_assert_nonnull (plugin);
  gst_object_unref (plugin);
  alloc = gst_allocator_find ("hbmem");
  g_assert_nonnull (alloc);
  g_assert_true (g_str_has_prefix (G_OBJECT_TYPE_NAME (alloc), "GstHbmem"));
  mem = gst_allocator_alloc (alloc, 1000, NULL);
  g_assert_nonnull (mem);
  g_assert_true (gst_is_fd_memory (mem));
  g_assert_cmpint (gst_is_dmabuf_memory (mem), ==,
      gst_test_backend_is_dmabuf ());
  gst_memory_unref (mem);
  gst_object_unref (alloc);
  fds_at_start = gst_test_count_fds ();
}

/* Run last: every test before left the fd table as the first found it. */
static void
test_no_fd_left_behind (void)
{
  if (fds_at_start == 0) {
    g_test_skip ("the first test did not run");
    return;
  }
  g_assert_cmpint (gst_test_settled_fds (fds_at_start), ==, fds_at_start);
}

static void
test_bad_property_values_are_refused (void)
{
  GstElement *q = gst_element_factory_make ("hbmemqueue", NULL);
  guint slots;
  gint64 timeout;

  g_assert_nonnull (q);
  g_object_get (q, "slots", &slots, "timeout", &timeout, NULL);
  g_assert_cmpuint (slots, ==, 4);
  g_assert_cmpint (timeout, ==, -1);
  /* out of range: GObject refuses with a warning and keeps the value */
  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING, "*slots*");
  g_object_set (q, "slots", 0, NULL);
  g_test_assert_expected_messages ();
  g_object_get (q, "slots", &slots, NULL);
  g_assert_cmpuint (slots, ==, 4);
  gst_object_unref (q);
}

/* ---- order, bound ---------------------------------------------------- */

static void
test_buffers_and_events_keep_their_order (void)
{
  GstHarness *h = gst_harness_new_parse ("hbmemqueue name=q slots=3");
  GstStructure *s = gst_structure_new_empty ("mark");
  gchar *log;
  Gate gate;
  guint i;

  /* watch from the start: stream-start, caps and segment come first */
  gate_init (&gate, h, TRUE);
  gst_harness_set_src_caps_str (h, CAPS);
  for (i = 0; i < 20; i++) {
    g_assert_cmpint (gst_harness_push (h, make_buffer (i)), ==, GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
    if (i == 9)
      g_assert_true (gst_harness_push_event (h,
              gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
                  gst_structure_copy (s))));
  }
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  g_assert_true (gst_test_wait_uint_prop (queue_of (h), "current-level", 0,
          GST_TEST_REACT_US));
  log = gate_log (&gate);
  g_assert_cmpstr (log, ==, "stream-start caps segment B0 B1 B2 B3 B4 B5 B6 "
      "B7 B8 B9 custom-downstream B10 B11 B12 B13 B14 B15 B16 B17 B18 B19 "
      "eos ");
  g_free (log);
  gst_structure_free (s);
  gst_harness_teardown (h);
  gate_clear (&gate);
}

static void
test_order_holds_with_many_queued (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=8");
  Gate gate;
  gchar *log;
  guint i;

  /* the gate holds the first buffer: the rest wait in their slots */
  gate_init (&gate, h, FALSE);
  for (i = 0; i < 7; i++)
    g_assert_cmpint (gst_harness_push (h, make_buffer (i)), ==, GST_FLOW_OK);
  gate_open (&gate);
  for (i = 0; i < 7; i++) {
    GstBuffer *b = gst_harness_pull (h);

    g_assert_cmpuint (GST_BUFFER_PTS (b), ==, i * GST_MSECOND);
    gst_buffer_unref (b);
  }
  log = gate_log (&gate);
  g_assert_true (g_str_has_suffix (log, "B0 B1 B2 B3 B4 B5 B6 "));
  g_free (log);
  gst_harness_teardown (h);
  gate_clear (&gate);
}

static void
test_upstream_blocks_until_downstream_drops_a_buffer (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=2");
  GstBuffer *held[2], *third;
  GThread *t;
  Pusher p;

  g_assert_cmpint (gst_harness_push (h, make_buffer (0)), ==, GST_FLOW_OK);
  g_assert_cmpint (gst_harness_push (h, make_buffer (1)), ==, GST_FLOW_OK);
  held[0] = gst_harness_pull (h);
  held[1] = gst_harness_pull (h);
  /* both slots are in flight downstream (the harness holds them) */
  g_assert_true (gst_test_wait_uint_prop (queue_of (h), "current-level", 2,
          GST_TEST_REACT_US));
  t = start_push (&p, h, make_buffer (2), NULL);
  g_assert_true (still_blocked (&p));
  gst_buffer_unref (held[0]);
  g_assert_true (gst_test_wait_flag (&p.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_cmpint (p.ret, ==, GST_FLOW_OK);
  third = gst_harness_pull (h);
  g_assert_cmpuint (GST_BUFFER_PTS (third), ==, 2 * GST_MSECOND);
  gst_buffer_unref (third);
  gst_buffer_unref (held[1]);
  g_assert_true (gst_test_wait_uint_prop (queue_of (h), "current-level", 0,
          GST_TEST_REACT_US));
  g_assert_cmpuint (dropped (h), ==, 0);
  gst_harness_teardown (h);
}

static void
test_shared_buffer_goes_back_when_its_push_is_dropped (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=1");
  GstBuffer *mine = make_buffer (5), *out;

  /* upstream keeps a ref: the queue pushes a buffer sharing its memory */
  g_assert_cmpint (gst_harness_push (h, gst_buffer_ref (mine)), ==,
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  g_assert_true (out != mine);
  g_assert_true (gst_buffer_peek_memory (out, 0) ==
      gst_buffer_peek_memory (mine, 0));
  g_assert_cmpuint (GST_BUFFER_PTS (out), ==, 5 * GST_MSECOND);
  /* the queue holds the original until the pushed one is gone */
  g_assert_cmpint (GST_MINI_OBJECT_REFCOUNT_VALUE (mine), ==, 2);
  g_assert_cmpuint (level (h), ==, 1);
  gst_buffer_unref (out);
  g_assert_cmpint (GST_MINI_OBJECT_REFCOUNT_VALUE (mine), ==, 1);
  g_assert_cmpuint (level (h), ==, 0);
  gst_buffer_unref (mine);
  gst_harness_teardown (h);
}

static void
test_pool_buffer_returns_to_its_pool_untouched (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=2");
  GstBufferPool *pool = gst_buffer_pool_new ();
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstBuffer *buf = NULL, *out, *again = NULL;
  GstMemory *mem;
  guint i;

  gst_buffer_pool_config_set_params (config, NULL, 256, 1, 1);
  g_assert_true (gst_buffer_pool_set_config (pool, config));
  g_assert_true (gst_buffer_pool_set_active (pool, TRUE));
  for (i = 0; i < 3; i++) {
    g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &buf, NULL), ==,
        GST_FLOW_OK);
    mem = gst_buffer_peek_memory (buf, 0);
    GST_BUFFER_PTS (buf) = i * GST_MSECOND;
    g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
    /* the pool buffer itself goes downstream: nothing copied or shared */
    out = gst_harness_pull (h);
    g_assert_true (out == buf);
    g_assert_cmpuint (level (h), ==, 1);
    gst_buffer_unref (out);
    /* dropped: the slot is free and the buffer is back, not discarded */
    g_assert_cmpuint (level (h), ==, 0);
    g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &again, NULL), ==,
        GST_FLOW_OK);
    g_assert_true (again == buf);
    g_assert_true (gst_buffer_peek_memory (again, 0) == mem);
    gst_buffer_unref (again);
  }
  g_assert_true (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  gst_harness_teardown (h);
}

static void
test_shared_pool_buffer_is_not_discarded (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=2");
  GstBufferPool *pool = gst_buffer_pool_new ();
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstBuffer *buf = NULL, *out, *again = NULL;

  gst_buffer_pool_config_set_params (config, NULL, 256, 1, 1);
  g_assert_true (gst_buffer_pool_set_config (pool, config));
  g_assert_true (gst_buffer_pool_set_active (pool, TRUE));
  g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &buf, NULL), ==,
      GST_FLOW_OK);
  /* upstream keeps a ref (as a tee would): a sharing buffer is pushed */
  g_assert_cmpint (gst_harness_push (h, gst_buffer_ref (buf)), ==,
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  g_assert_true (out != buf);
  /* upstream lets go first; downstream last */
  gst_buffer_unref (buf);
  gst_buffer_unref (out);
  g_assert_cmpuint (level (h), ==, 0);
  /* back in its pool, not thrown away for memory still locked */
  g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &again, NULL), ==,
      GST_FLOW_OK);
  g_assert_true (again == buf);
  gst_buffer_unref (again);
  g_assert_true (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  gst_harness_teardown (h);
}

static guint
level_of (GstHarness * h, const gchar * name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (h->element), name);
  guint v;

  g_assert_nonnull (e);
  g_object_get (e, "current-level", &v, NULL);
  gst_object_unref (e);
  return v;
}

static void
test_two_queues_in_series_each_hold_their_slot (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=2 ! "
      "hbmemqueue name=q2 slots=2");
  GstBufferPool *pool = gst_buffer_pool_new ();
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstBuffer *buf = NULL, *out, *again = NULL;
  guint i;

  gst_buffer_pool_config_set_params (config, NULL, 256, 1, 1);
  g_assert_true (gst_buffer_pool_set_config (pool, config));
  g_assert_true (gst_buffer_pool_set_active (pool, TRUE));
  for (i = 0; i < 4; i++) {
    /* even: a pool buffer; odd: a plain one */
    if (i % 2 == 0)
      g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &buf, NULL), ==,
          GST_FLOW_OK);
    else
      buf = make_buffer (i);
    g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
    out = gst_harness_pull (h);
    g_assert_true (out == buf);
    /* held downstream: a slot in each queue */
    g_assert_cmpuint (level_of (h, "q"), ==, 1);
    g_assert_cmpuint (level_of (h, "q2"), ==, 1);
    gst_buffer_unref (out);
    g_assert_cmpuint (level_of (h, "q"), ==, 0);
    g_assert_cmpuint (level_of (h, "q2"), ==, 0);
    if (i % 2 == 0) {
      g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &again, NULL),
          ==, GST_FLOW_OK);
      g_assert_true (again == buf);
      gst_buffer_unref (again);
    }
  }
  g_assert_true (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  gst_harness_teardown (h);
}

/* ---- overwrite, timeout ---------------------------------------------- */

static void
test_overwrite_drops_the_oldest_queued_and_counts_it (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=3 leaky=overwrite");
  Gate gate;
  guint i;
  static const guint expect[] = { 0, 3, 4 };

  gate_init (&gate, h, FALSE);
  g_assert_cmpint (gst_harness_push (h, make_buffer (0)), ==, GST_FLOW_OK);
  /* buffer 0 is taken by the streaming thread and held at the gate */
  while (!g_atomic_int_get (&gate.hit))
    g_usleep (1000);
  for (i = 1; i <= 4; i++)
    g_assert_cmpint (gst_harness_push (h, make_buffer (i)), ==, GST_FLOW_OK);
  /* 1 and 2 were queued and then overwritten by 3 and 4 */
  g_assert_cmpuint (dropped (h), ==, 2);
  g_assert_cmpuint (level (h), ==, 3);
  gate_open (&gate);
  for (i = 0; i < G_N_ELEMENTS (expect); i++) {
    GstBuffer *b = gst_harness_pull (h);

    g_assert_cmpuint (GST_BUFFER_PTS (b), ==, expect[i] * GST_MSECOND);
    gst_buffer_unref (b);
  }
  g_assert_null (gst_harness_try_pull (h));
  gst_harness_teardown (h);
  gate_clear (&gate);
}

static void
test_overwrite_never_drops_events (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=2 leaky=overwrite");
  Gate gate;
  gchar *log;

  gate_init (&gate, h, FALSE);
  g_assert_cmpint (gst_harness_push (h, make_buffer (0)), ==, GST_FLOW_OK);
  while (!g_atomic_int_get (&gate.hit))
    g_usleep (1000);
  /* the custom event sits in the one free slot; buffer 1 overwrites it */
  g_assert_true (gst_harness_push_event (h,
          gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
              gst_structure_new_empty ("mark"))));
  g_assert_cmpint (gst_harness_push (h, make_buffer (1)), ==, GST_FLOW_OK);
  gate_open (&gate);
  gst_buffer_unref (gst_harness_pull (h));
  gst_buffer_unref (gst_harness_pull (h));
  g_assert_true (gst_test_wait_uint_prop (queue_of (h), "current-level", 0,
          GST_TEST_REACT_US));
  log = gate_log (&gate);
  g_assert_true (g_str_has_suffix (log, "B0 custom-downstream B1 "));
  g_free (log);
  g_assert_cmpuint (dropped (h), ==, 0);
  gst_harness_teardown (h);
  gate_clear (&gate);
}

static void
test_leaky_change_while_running_waits_for_the_next_start (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=2 leaky=overwrite");
  Gate gate;
  guint i;
  static const guint expect[] = { 0, 2 };

  gate_init (&gate, h, FALSE);
  g_assert_cmpint (gst_harness_push (h, make_buffer (0)), ==, GST_FLOW_OK);
  while (!g_atomic_int_get (&gate.hit))
    g_usleep (1000);
  g_assert_cmpint (gst_harness_push (h, make_buffer (1)), ==, GST_FLOW_OK);
  /* the running queue keeps the mode it was made with */
  gst_util_set_object_arg (G_OBJECT (queue_of (h)), "leaky", "no");
  g_assert_cmpint (gst_harness_push (h, make_buffer (2)), ==, GST_FLOW_OK);
  g_assert_cmpuint (dropped (h), ==, 1);
  gate_open (&gate);
  for (i = 0; i < G_N_ELEMENTS (expect); i++) {
    GstBuffer *b = gst_harness_pull (h);

    g_assert_cmpuint (GST_BUFFER_PTS (b), ==, expect[i] * GST_MSECOND);
    gst_buffer_unref (b);
  }
  g_assert_true (gst_test_wait_uint_prop (queue_of (h), "current-level", 0,
          GST_TEST_REACT_US));
  gst_harness_teardown (h);
  gate_clear (&gate);
}

static void
test_timeout_drops_the_buffer_and_counts_it (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=1 timeout=100");
  GstBuffer *held, *b;
  gint64 t0, waited;

  g_assert_cmpint (gst_harness_push (h, make_buffer (0)), ==, GST_FLOW_OK);
  held = gst_harness_pull (h);
  t0 = g_get_monotonic_time ();
  g_assert_cmpint (gst_harness_push (h, make_buffer (1)), ==, GST_FLOW_OK);
  waited = g_get_monotonic_time () - t0;
  g_assert_cmpint (waited, >=, 90 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (waited, <, GST_TEST_REACT_US);
  g_assert_cmpuint (dropped (h), ==, 1);
  g_assert_null (gst_harness_try_pull (h));

  /* timeout 0: no wait at all */
  g_object_set (queue_of (h), "timeout", (gint64) 0, NULL);
  g_assert_cmpint (gst_harness_push (h, make_buffer (2)), ==, GST_FLOW_OK);
  g_assert_cmpuint (dropped (h), ==, 2);

  gst_buffer_unref (held);
  g_assert_cmpint (gst_harness_push (h, make_buffer (3)), ==, GST_FLOW_OK);
  b = gst_harness_pull (h);
  g_assert_cmpuint (GST_BUFFER_PTS (b), ==, 3 * GST_MSECOND);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
}

/* ---- EOS, flushing, queries, states ---------------------------------- */

static void
test_downstream_eos_reaches_a_blocked_upstream (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=2");
  GThread *t;
  Pusher p;
  Gate gate;

  gate_init (&gate, h, FALSE);
  g_assert_cmpint (gst_harness_push (h, make_buffer (0)), ==, GST_FLOW_OK);
  while (!g_atomic_int_get (&gate.hit))
    g_usleep (1000);
  g_assert_cmpint (gst_harness_push (h, make_buffer (1)), ==, GST_FLOW_OK);
  /* both slots taken: the next push waits */
  t = start_push (&p, h, make_buffer (2), NULL);
  g_assert_true (still_blocked (&p));
  /* downstream answers buffer 0 with EOS: the waiting push hears it */
  g_mutex_lock (&gate.lock);
  gate.eos = TRUE;
  g_mutex_unlock (&gate.lock);
  gate_open (&gate);
  g_assert_true (gst_test_wait_flag (&p.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_cmpint (p.ret, ==, GST_FLOW_EOS);
  g_assert_cmpint (gst_harness_push (h, make_buffer (3)), ==, GST_FLOW_EOS);
  /* a flush starts it again */
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_stop (FALSE)));
  push_segment (h);
  g_mutex_lock (&gate.lock);
  gate.eos = FALSE;
  g_mutex_unlock (&gate.lock);
  g_assert_cmpint (gst_harness_push (h, make_buffer (4)), ==, GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  gst_harness_teardown (h);
  gate_clear (&gate);
}

/*
 * After downstream's EOS (upstream got EOS), a sticky event is kept and
 * accepted (the next buffer still gets EOS, not an error of its own), and
 * a new segment ends the EOS state as with queue: data flows again, after
 * the caps that came in between.
 */
static void
test_new_segment_after_downstream_eos_restarts (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=2");
  GstCaps *caps2 = gst_caps_from_string (CAPS ",pixel-aspect-ratio=2/1");
  GstCaps *cur;
  GstBuffer *b;
  GstFlowReturn ret = GST_FLOW_OK;
  gint64 end = g_get_monotonic_time () + GST_TEST_REACT_US;
  guint i = 0;
  Gate gate;

  gate_init (&gate, h, TRUE);
  g_mutex_lock (&gate.lock);
  gate.eos = TRUE;
  g_mutex_unlock (&gate.lock);
  while (ret == GST_FLOW_OK && g_get_monotonic_time () < end) {
    ret = gst_harness_push (h, make_buffer (i++));
    g_usleep (1000);
  }
  g_assert_cmpint (ret, ==, GST_FLOW_EOS);
  /* a caps change while stopped: accepted, data still gets EOS */
  g_assert_true (gst_harness_push_event (h,
          gst_event_new_caps (caps2)));
  g_assert_cmpint (gst_harness_push (h, make_buffer (50)), ==, GST_FLOW_EOS);
  /* a new segment: flowing again, the new caps first */
  g_mutex_lock (&gate.lock);
  gate.eos = FALSE;
  g_mutex_unlock (&gate.lock);
  push_segment (h);
  g_assert_cmpint (gst_harness_push (h, make_buffer (100)), ==, GST_FLOW_OK);
  b = gst_harness_pull (h);
  g_assert_nonnull (b);
  g_assert_cmpuint (GST_BUFFER_PTS (b), ==, 100 * GST_MSECOND);
  gst_buffer_unref (b);
  cur = gst_pad_get_current_caps (h->sinkpad);
  g_assert_nonnull (cur);
  g_assert_true (gst_caps_is_equal (cur, caps2));
  gst_caps_unref (cur);
  /* and an EOS from upstream now goes through */
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  gst_caps_unref (caps2);
  gst_harness_teardown (h);
  gate_clear (&gate);
}

static void
test_eos_comes_after_the_last_buffer (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=4");
  GstEvent *ev;
  guint i, n_eos = 0;

  for (i = 0; i < 3; i++)
    g_assert_cmpint (gst_harness_push (h, make_buffer (i)), ==, GST_FLOW_OK);
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  for (i = 0; i < 3; i++)
    gst_buffer_unref (gst_harness_pull (h));
  while ((ev = gst_harness_pull_event (h))) {
    n_eos += GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
    if (n_eos)
      break;
  }
  g_assert_cmpuint (n_eos, ==, 1);
  /* after EOS the pad refuses more data */
  g_assert_cmpint (gst_harness_push (h, make_buffer (9)), ==, GST_FLOW_EOS);
  gst_harness_teardown (h);
}

static void
test_flush_unblocks_upstream_and_restarts (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=1");
  GstBuffer *held, *b;
  GThread *t;
  Pusher p;

  g_assert_cmpint (gst_harness_push (h, make_buffer (0)), ==, GST_FLOW_OK);
  held = gst_harness_pull (h);
  t = start_push (&p, h, make_buffer (1), NULL);
  g_assert_true (still_blocked (&p));
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_start ()));
  g_assert_true (gst_test_wait_flag (&p.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_cmpint (p.ret, ==, GST_FLOW_FLUSHING);
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  push_segment (h);

  /* a fresh queue: flows again; the old in-flight buffer is harmless */
  g_assert_cmpint (gst_harness_push (h, make_buffer (2)), ==, GST_FLOW_OK);
  b = gst_harness_pull (h);
  g_assert_cmpuint (GST_BUFFER_PTS (b), ==, 2 * GST_MSECOND);
  gst_buffer_unref (b);
  gst_buffer_unref (held);
  g_assert_true (gst_test_wait_uint_prop (queue_of (h), "current-level", 0,
          GST_TEST_REACT_US));
  gst_harness_teardown (h);
}

static void
test_flush_frees_what_was_queued (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=4");
  GThread *t;
  Pusher p;
  Gate gate;
  guint i;

  gate_init (&gate, h, FALSE);
  for (i = 0; i < 4; i++)
    g_assert_cmpint (gst_harness_push (h, make_buffer (i)), ==, GST_FLOW_OK);
  while (!g_atomic_int_get (&gate.hit))
    g_usleep (1000);
  /* flush-start waits for the streaming thread, held at the gate with
   * buffer 0 (as by a slow downstream element) */
  t = start_push (&p, h, NULL, gst_event_new_flush_start ());
  g_assert_true (still_blocked (&p));
  gate_open (&gate);
  g_assert_true (gst_test_wait_flag (&p.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_true (p.event_ret);
  /* queued 1..3 were freed by the flush (the leaks tracer checks it) */
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  while (gst_harness_buffers_in_queue (h))
    gst_buffer_unref (gst_harness_pull (h));
  g_assert_true (gst_test_wait_uint_prop (queue_of (h), "current-level", 0,
          GST_TEST_REACT_US));
  gst_harness_teardown (h);
  gate_clear (&gate);
}

typedef struct
{
  GstPad *pad;
  GstQuery *query;
  gboolean ret;
  gint done;
} Querier;

static gpointer
querier_run (gpointer data)
{
  Querier *q = data;

  q->ret = gst_pad_peer_query (q->pad, q->query);
  g_atomic_int_set (&q->done, 1);
  return NULL;
}

static void
test_serialized_query_waits_for_queued_data (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=4");
  Querier q = { 0 };
  GThread *t;
  Gate gate;

  gate_init (&gate, h, FALSE);
  g_assert_cmpint (gst_harness_push (h, make_buffer (0)), ==, GST_FLOW_OK);
  g_assert_cmpint (gst_harness_push (h, make_buffer (1)), ==, GST_FLOW_OK);
  q.pad = h->srcpad;
  q.query = gst_query_new_drain ();
  t = g_thread_new ("querier", querier_run, &q);
  g_usleep (GST_TEST_BLOCKED_US);
  g_assert_cmpint (g_atomic_int_get (&q.done), ==, 0);
  gate_open (&gate);
  g_assert_true (gst_test_wait_flag (&q.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_true (q.ret);
  gst_query_unref (q.query);
  gst_buffer_unref (gst_harness_pull (h));
  gst_buffer_unref (gst_harness_pull (h));
  gst_harness_teardown (h);
  gate_clear (&gate);
}

static void
test_to_null_while_full_does_not_deadlock (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=1");
  GstBuffer *held;
  GThread *t;
  Pusher p;

  g_assert_cmpint (gst_harness_push (h, make_buffer (0)), ==, GST_FLOW_OK);
  held = gst_harness_pull (h);
  t = start_push (&p, h, make_buffer (1), NULL);
  g_assert_true (still_blocked (&p));
  g_assert_cmpint (gst_element_set_state (queue_of (h), GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_assert_true (gst_test_wait_flag (&p.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_cmpint (p.ret, ==, GST_FLOW_FLUSHING);
  /* released after the queue and the module are gone: harmless */
  gst_buffer_unref (held);
  gst_harness_teardown (h);
}

static void
test_to_null_while_an_event_waits_does_not_deadlock (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=1");
  GstBuffer *held;
  GThread *t;
  Pusher p;

  g_assert_cmpint (gst_harness_push (h, make_buffer (0)), ==, GST_FLOW_OK);
  held = gst_harness_pull (h);
  t = start_push (&p, h, NULL, gst_event_new_eos ());
  g_assert_true (still_blocked (&p));
  g_assert_cmpint (gst_element_set_state (queue_of (h), GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  g_assert_true (gst_test_wait_flag (&p.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_false (p.event_ret);
  gst_buffer_unref (held);
  gst_harness_teardown (h);
}

static void
test_state_cycles_while_empty_and_restarts (void)
{
  GstHarness *h = make_harness ("hbmemqueue name=q slots=2");
  GstElement *q = queue_of (h);
  guint i;

  for (i = 0; i < 5; i++) {
    g_assert_cmpint (gst_element_set_state (q, GST_STATE_NULL), ==,
        GST_STATE_CHANGE_SUCCESS);
    g_assert_cmpint (gst_element_set_state (q, GST_STATE_PLAYING), !=,
        GST_STATE_CHANGE_FAILURE);
  }
  gst_harness_set_src_caps_str (h, CAPS);
  g_assert_cmpint (gst_harness_push (h, make_buffer (7)), ==, GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  gst_harness_teardown (h);
}

/*
 * Stress: a streaming thread pushes buffers and events as a real upstream
 * does (on FLUSHING: flush-stop, a new segment, go on), a drain thread
 * takes what comes out, and this thread sends flush-starts meanwhile.
 * Nothing may crash, hang or leak, and the level is 0 at the end.
 */
typedef struct
{
  GstHarness *h;
  guint n;
  gint done;
  guint pushed_ok;
  GMutex stream_lock;           /* the source's: pushes, and the seek */
  GCond seeked;
  guint seek_gen;               /* seeks done; under stream_lock */
} Streamer;

static gpointer
streamer_run (gpointer data)
{
  Streamer *st = data;
  guint i;

  for (i = 0; i < st->n; i++) {
    GstFlowReturn ret;

    guint gen;

    g_mutex_lock (&st->stream_lock);
    gen = st->seek_gen;
    ret = gst_harness_push (st->h, make_buffer (i));
    if (i % 64 == 0)
      gst_harness_push_event (st->h,
          gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
              gst_structure_new_empty ("mark")));
    if (ret == GST_FLOW_OK) {
      st->pushed_ok++;
    } else {
      /* a seek is under way: pause until it is done, as a source does */
      g_assert_cmpint (ret, ==, GST_FLOW_FLUSHING);
      while (st->seek_gen == gen)
        g_cond_wait (&st->seeked, &st->stream_lock);
    }
    g_mutex_unlock (&st->stream_lock);
  }
  g_atomic_int_set (&st->done, 1);
  return NULL;
}

/* A flushing seek as a source does it: flush-start from here, then, with
 * the streaming thread stopped, flush-stop and a new segment. */
static void
seek (Streamer * st)
{
  gst_harness_push_event (st->h, gst_event_new_flush_start ());
  g_mutex_lock (&st->stream_lock);
  g_assert_true (gst_harness_push_event (st->h,
          gst_event_new_flush_stop (TRUE)));
  push_segment (st->h);
  st->seek_gen++;
  g_cond_broadcast (&st->seeked);
  g_mutex_unlock (&st->stream_lock);
}

static gpointer
drainer_run (gpointer data)
{
  Streamer *st = data;
  GstBuffer *b;

  while (!g_atomic_int_get (&st->done) || gst_harness_buffers_in_queue (st->h))
    if ((b = gst_harness_try_pull (st->h)))
      gst_buffer_unref (b);
    else
      g_usleep (100);
  return NULL;
}

static void
stress_flushes (const gchar * launch)
{
  GstHarness *h = make_harness (launch);
  Streamer st = { .h = h, .n = 20000 };
  GThread *ts, *td;
  GstBuffer *b;
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  guint seeks = 0;

  g_mutex_init (&st.stream_lock);
  g_cond_init (&st.seeked);
  ts = g_thread_new ("streamer", streamer_run, &st);
  td = g_thread_new ("drainer", drainer_run, &st);
  while (!g_atomic_int_get (&st.done)) {
    g_assert_cmpint (g_get_monotonic_time (), <, end);
    g_usleep (2000);
    seek (&st);
    seeks++;
  }
  g_thread_join (ts);
  g_thread_join (td);
  /* the queue's task may still push what it holds after the drainer
   * stopped (under valgrind, long after): keep taking it until every
   * slot is back */
  end = g_get_monotonic_time () + GST_TEST_REACT_US;
  for (;;) {
    guint level;

    while ((b = gst_harness_try_pull (h)))
      gst_buffer_unref (b);
    g_object_get (queue_of (h), "current-level", &level, NULL);
    if (level == 0)
      break;
    g_assert_cmpint (g_get_monotonic_time (), <, end);
    g_usleep (1000);
  }
  g_test_message ("%u seeks, %u of %u buffers accepted", seeks,
      st.pushed_ok, st.n);
  g_assert_cmpuint (seeks, >, 0);
  gst_harness_teardown (h);
  g_mutex_clear (&st.stream_lock);
  g_cond_clear (&st.seeked);
}

static void
test_stress_flushes_while_streaming (void)
{
  stress_flushes ("hbmemqueue name=q slots=3");
}

static void
test_stress_flushes_while_overwriting (void)
{
  stress_flushes ("hbmemqueue name=q slots=2 leaky=overwrite");
}

static void
test_pipeline_with_pool_buffers_runs_to_eos (void)
{
  GstElement *pipe;
  GstMessage *msg;
  GstBus *bus;
  GError *err = NULL;

  pipe = gst_parse_launch ("videotestsrc num-buffers=60 ! "
      "video/x-raw,format=NV12,width=641,height=481 ! "
      "hbmemqueue slots=2 ! fakesink sync=false", &err);
  if (!pipe) {
    g_test_skip (err->message);
    g_clear_error (&err);
    return;
  }
  g_assert_cmpint (gst_element_set_state (pipe, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipe);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_object_unref (bus);
  g_assert_cmpint (gst_element_set_state (pipe, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipe);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_test_init (&argc, &argv);
  g_assert_cmpint (hb_mem_module_open (), ==, 0);

  g_test_add_func ("/gst/queue/plugin-registers-allocator-and-queue",
      test_plugin_registers_allocator_and_queue);
  g_test_add_func ("/gst/queue/bad-property-values-are-refused",
      test_bad_property_values_are_refused);
  g_test_add_func ("/gst/queue/buffers-and-events-keep-their-order",
      test_buffers_and_events_keep_their_order);
  g_test_add_func ("/gst/queue/order-holds-with-many-queued",
      test_order_holds_with_many_queued);
  g_test_add_func ("/gst/queue/upstream-blocks-until-downstream-drops-a-buffer",
      test_upstream_blocks_until_downstream_drops_a_buffer);
  g_test_add_func ("/gst/queue/shared-buffer-goes-back-when-its-push-is-dropped",
      test_shared_buffer_goes_back_when_its_push_is_dropped);
  g_test_add_func ("/gst/queue/pool-buffer-returns-to-its-pool-untouched",
      test_pool_buffer_returns_to_its_pool_untouched);
  g_test_add_func ("/gst/queue/shared-pool-buffer-is-not-discarded",
      test_shared_pool_buffer_is_not_discarded);
  g_test_add_func ("/gst/queue/two-queues-in-series-each-hold-their-slot",
      test_two_queues_in_series_each_hold_their_slot);
  g_test_add_func ("/gst/queue/overwrite-drops-the-oldest-queued-and-counts-it",
      test_overwrite_drops_the_oldest_queued_and_counts_it);
  g_test_add_func ("/gst/queue/overwrite-never-drops-events",
      test_overwrite_never_drops_events);
  g_test_add_func ("/gst/queue/leaky-change-while-running-waits-for-the-next-start",
      test_leaky_change_while_running_waits_for_the_next_start);
  g_test_add_func ("/gst/queue/timeout-drops-the-buffer-and-counts-it",
      test_timeout_drops_the_buffer_and_counts_it);
  g_test_add_func ("/gst/queue/new-segment-after-downstream-eos-restarts",
      test_new_segment_after_downstream_eos_restarts);
  g_test_add_func ("/gst/queue/eos-comes-after-the-last-buffer",
      test_eos_comes_after_the_last_buffer);
  g_test_add_func ("/gst/queue/downstream-eos-reaches-a-blocked-upstream",
      test_downstream_eos_reaches_a_blocked_upstream);
  g_test_add_func ("/gst/queue/flush-unblocks-upstream-and-restarts",
      test_flush_unblocks_upstream_and_restarts);
  g_test_add_func ("/gst/queue/flush-frees-what-was-queued",
      test_flush_frees_what_was_queued);
  g_test_add_func ("/gst/queue/serialized-query-waits-for-queued-data",
      test_serialized_query_waits_for_queued_data);
  g_test_add_func ("/gst/queue/to-null-while-full-does-not-deadlock",
      test_to_null_while_full_does_not_deadlock);
  g_test_add_func ("/gst/queue/to-null-while-an-event-waits-does-not-deadlock",
      test_to_null_while_an_event_waits_does_not_deadlock);
  g_test_add_func ("/gst/queue/state-cycles-while-empty-and-restarts",
      test_state_cycles_while_empty_and_restarts);
  g_test_add_func ("/gst/queue/stress-flushes-while-streaming",
      test_stress_flushes_while_streaming);
  g_test_add_func ("/gst/queue/stress-flushes-while-overwriting",
      test_stress_flushes_while_overwriting);
  g_test_add_func ("/gst/queue/pipeline-with-pool-buffers-runs-to-eos",
      test_pipeline_with_pool_buffers_runs_to_eos);

  g_test_add_func ("/gst/queue/no-fd-left-behind", test_no_fd_left_behind);

  ret = gst_test_run_and_deinit ();
  g_assert_cmpint (hb_mem_module_close (), ==, 0);
  return ret;
}
