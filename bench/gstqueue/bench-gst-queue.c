/* SPDX-License-Identifier: MIT */
/*
 * bench-gst-queue: what one buffer costs to cross hbmemqueue, next to the
 * stock `queue` element, in the same run.
 *
 * Each element sits in a GstHarness (the upstream thread is this one, the
 * downstream side drops what it receives). Buffers come from a pool of
 * hbmem memory (a GstVideoBufferPool with the "hbmem" allocator the plugin
 * registers, NV12 1920x1080, 8 buffers), so a buffer goes back to the pool
 * only when downstream drops it: acquire, push through the element, the
 * element's thread pushes it on, it is dropped and returns to the pool.
 * Pixels are never touched: this is the hand-over cost alone.
 *
 *   ours: hbmemqueue slots=4
 *   peer: queue max-size-buffers=4 max-size-bytes=0 max-size-time=0
 *
 * Time per buffer from the first acquire until the pool has every buffer
 * back; runs interleaved, the median reported. Last line:
 * "ratio queue <ours / peer>" (time per buffer, lower is better).
 *
 * Usage: GST_PLUGIN_PATH=build/gst bench-gst-queue [buffers per run] [runs]
 */
#include <stdio.h>
#include <stdlib.h>

#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#define MAX_RUNS 15

static GstBufferPool *
make_pool (void)
{
  GstAllocator *alloc = gst_allocator_find ("hbmem");
  GstBufferPool *pool;
  GstStructure *config;
  GstVideoInfo info;
  GstCaps *caps;

  if (!alloc) {
    fprintf (stderr, "no \"hbmem\" allocator: load the plugin "
        "(GST_PLUGIN_PATH=build/gst)\n");
    exit (77);
  }
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_NV12, 1920, 1080);
  caps = gst_video_info_to_caps (&info);
  pool = gst_video_buffer_pool_new ();
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, info.size, 8, 8);
  gst_buffer_pool_config_set_allocator (config, alloc, NULL);
  if (!gst_buffer_pool_set_config (pool, config) ||
      !gst_buffer_pool_set_active (pool, TRUE)) {
    fprintf (stderr, "cannot set up the pool\n");
    exit (1);
  }
  gst_caps_unref (caps);
  gst_object_unref (alloc);
  return pool;
}

/* ns per buffer through the element @launch. */
static double
run_one (const gchar * launch, GstBufferPool * pool, guint n)
{
  GstHarness *h = gst_harness_new_parse (launch);
  GstBuffer *bufs[8];
  gint64 t0, t1;
  guint i;

  gst_harness_set_src_caps_str (h, "video/x-raw,format=NV12,width=1920,"
      "height=1080,framerate=30/1");
  gst_harness_set_drop_buffers (h, TRUE);

  t0 = g_get_monotonic_time ();
  for (i = 0; i < n; i++) {
    GstBuffer *buf = NULL;

    if (gst_buffer_pool_acquire_buffer (pool, &buf, NULL) != GST_FLOW_OK ||
        gst_harness_push (h, buf) != GST_FLOW_OK) {
      fprintf (stderr, "%s: flow stopped at buffer %u\n", launch, i);
      exit (1);
    }
  }
  /* every buffer is back once all eight can be taken at once */
  for (i = 0; i < 8; i++)
    if (gst_buffer_pool_acquire_buffer (pool, &bufs[i], NULL) != GST_FLOW_OK)
      exit (1);
  t1 = g_get_monotonic_time ();
  for (i = 0; i < 8; i++)
    gst_buffer_unref (bufs[i]);
  gst_harness_teardown (h);
  return (double) (t1 - t0) * 1000.0 / n;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  static const gchar *ours_launch = "hbmemqueue slots=4";
  static const gchar *peer_launch =
      "queue max-size-buffers=4 max-size-bytes=0 max-size-time=0";
  double ours[MAX_RUNS], peer[MAX_RUNS], mo, mp;
  guint n = 20000, runs = 3, r;
  GstBufferPool *pool;

  gst_init (&argc, &argv);
  if (argc > 1)
    n = (guint) strtoul (argv[1], NULL, 10);
  if (argc > 2)
    runs = (guint) strtoul (argv[2], NULL, 10);
  if (n == 0 || runs == 0 || runs > MAX_RUNS) {
    fprintf (stderr, "usage: %s [buffers per run] [runs, 1..%d]\n", argv[0],
        MAX_RUNS);
    return 2;
  }
  if (!gst_plugin_load_by_name ("hbmem") ||
      !gst_element_factory_find ("queue")) {
    fprintf (stderr, "needs the hbmem plugin and coreelements\n");
    return 77;
  }
  pool = make_pool ();

  /* warm up both, then interleave */
  run_one (ours_launch, pool, n / 10 + 1);
  run_one (peer_launch, pool, n / 10 + 1);
  for (r = 0; r < runs; r++) {
    ours[r] = run_one (ours_launch, pool, n);
    peer[r] = run_one (peer_launch, pool, n);
    printf ("run %u: hbmemqueue %.0f ns/buffer, queue %.0f ns/buffer\n", r,
        ours[r], peer[r]);
  }
  qsort (ours, runs, sizeof (double), cmp_double);
  qsort (peer, runs, sizeof (double), cmp_double);
  mo = ours[runs / 2];
  mp = peer[runs / 2];
  printf ("median: hbmemqueue %.0f ns/buffer, queue %.0f ns/buffer "
      "(%u buffers per run, %u runs)\n", mo, mp, n, runs);
  printf ("ratio queue %.3f\n", mo / mp);

  gst_buffer_pool_set_active (pool, FALSE);
  gst_object_unref (pool);
  gst_deinit ();
  return 0;
}
