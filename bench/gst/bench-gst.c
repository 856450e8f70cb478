// SPDX-License-Identifier: MIT
/*
 * bench-gst: NV12 frames per second across two processes, in one run:
 * hbmemsink -> hbmemsrc against shmsink -> shmsrc and
 * ipcpipelinesink -> ipcpipelinesrc (gst-plugins-bad), at 1080p and 4K,
 * with two producers:
 *
 *   testsrc  videotestsrc pattern=smpte: writes every pixel of every frame
 *            (the cost a real producer has, the same for every transport);
 *   notouch  a push source (benchnotouchsrc, below) that pushes pool
 *            buffers without writing them, so only the transport costs
 *            (hbmemsink: its proposed pool; shmsink twice: plain memory,
 *            which it copies into its area (its copy path, "shm"), and a
 *            pool over the allocator it proposes, so buffers already live
 *            in its area (its zero-copy path, "shmzc"), at most 8 buffers
 *            like hbmemsink's pool here; ipcpipelinesink proposes
 *            nothing: plain memory, which it then writes into the socket).
 *
 * The producer is a child process (this program, re-executed); the
 * consumer runs here into fakesink, not touching pixels either, and the
 * rate is counted between its first and last frame. Then a bare
 * SCM_RIGHTS round (fd + small descriptor over a SEQPACKET socket, a
 * release back) as the floor of any fd-passing transport, and hbmemqueue
 * against queue within one process.
 *
 * Every case runs ROUNDS times, the transports taking turns (hbmem, shm,
 * ipcpipeline, hbmem, ...) so that a change in the machine's load hits
 * them alike, and each transport's median counts. The per-frame figure
 * is its own long run (PER_FRAME_FRAMES frames of notouch 1080p, 8 frames
 * in flight like the bare round), taking turns with the bare round.
 *
 * Output: "fps <case> <value>" lines (each run, then the medians), then
 * "ratio <name> <value>" lines: cost per frame ours / peer (= peer fps /
 * our fps), lower is better.
 *
 * Arguments (all optional): frames (0: by size), transport (hbmem, shm,
 * shmzc, ipc or all), producer (testsrc or notouch), size (1080p or 4k).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

static const gchar *self_exe;
static guint n_frames_cfg = 0;  /* 0: by size */
static const gchar *only;       /* run just this transport (debugging) */
static const gchar *only_prod;  /* ... this producer */
static const gchar *only_size;  /* ... this size */

/* ---- producer (child) ------------------------------------------------ */

/*
 * The notouch producer: a GstPushSrc whose fill() only stamps the buffer
 * basesrc took from the negotiated pool, so no signal or queue of appsrc
 * adds to every frame. Its pool is the one the sink proposed (hbmemsink:
 * its hb_mem pool), else a plain video pool (ipcpipelinesink proposes
 * none; for shmsink "plain" makes it ignore the proposed allocator, so
 * shmsink copies: its copy path). With "zerocopy" the pool takes the
 * allocator shmsink proposes, with at most ZC_BUFFERS buffers: unbounded,
 * it grows until shmsink's area is full and its allocator stalls.
 */
#define ZC_BUFFERS 8

typedef struct
{
  GstPushSrc parent;
  GstCaps *caps;
  gboolean plain, zerocopy;
  guint total, pushed;
} BenchSrc;

typedef struct
{
  GstPushSrcClass parent_class;
} BenchSrcClass;

static GType bench_src_get_type (void);
G_DEFINE_TYPE (BenchSrc, bench_src, GST_TYPE_PUSH_SRC);

static GstStaticPadTemplate bench_src_template = GST_STATIC_PAD_TEMPLATE
    ("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GstCaps *
bench_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  BenchSrc *self = (BenchSrc *) bsrc;
  GstCaps *caps;

  /* linking (before the caps are set) sees anything */
  caps = self->caps ? gst_caps_ref (self->caps) : gst_caps_new_any ();
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

static gboolean
bench_src_decide_allocation (GstBaseSrc * bsrc, GstQuery * query)
{
  BenchSrc *self = (BenchSrc *) bsrc;
  GstVideoInfo info;
  GstCaps *caps;

  gst_query_parse_allocation (query, &caps, NULL);
  if (!caps || !gst_video_info_from_caps (&info, caps))
    return FALSE;
  if (self->zerocopy && gst_query_get_n_allocation_pools (query) == 0) {
    GstBufferPool *pool = gst_video_buffer_pool_new ();

    /* the allocation params stay: basesrc gives the pool the allocator */
    gst_query_add_allocation_pool (query, pool, info.size, 4, ZC_BUFFERS);
    gst_object_unref (pool);
  } else if (self->plain || gst_query_get_n_allocation_pools (query) == 0) {
    GstBufferPool *pool = gst_video_buffer_pool_new ();

    while (gst_query_get_n_allocation_pools (query) > 0)
      gst_query_remove_nth_allocation_pool (query, 0);
    while (gst_query_get_n_allocation_params (query) > 0)
      gst_query_remove_nth_allocation_param (query, 0);
    gst_query_add_allocation_pool (query, pool, info.size, 4, 0);
    gst_object_unref (pool);
  }
  return GST_BASE_SRC_CLASS (bench_src_parent_class)->decide_allocation
      (bsrc, query);
}

static GstFlowReturn
bench_src_fill (GstPushSrc * psrc, GstBuffer * buf)
{
  BenchSrc *self = (BenchSrc *) psrc;

  if (self->pushed == self->total)
    return GST_FLOW_EOS;
  GST_BUFFER_PTS (buf) = self->pushed * (GST_SECOND / 30);
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  GST_BUFFER_OFFSET (buf) = self->pushed++;
  return GST_FLOW_OK;
}

static void
bench_src_finalize (GObject * obj)
{
  gst_clear_caps (&((BenchSrc *) obj)->caps);
  G_OBJECT_CLASS (bench_src_parent_class)->finalize (obj);
}

static void
bench_src_class_init (BenchSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBaseSrcClass *bsrc_class = GST_BASE_SRC_CLASS (klass);

  gobject_class->finalize = bench_src_finalize;
  gst_element_class_add_static_pad_template (GST_ELEMENT_CLASS (klass),
      &bench_src_template);
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass),
      "bench notouch source", "Source/Video", "Pushes pool buffers it never "
      "writes", "hbmem developers");
  bsrc_class->get_caps = bench_src_get_caps;
  bsrc_class->decide_allocation = bench_src_decide_allocation;
  GST_PUSH_SRC_CLASS (klass)->fill = bench_src_fill;
}

static void
bench_src_init (BenchSrc * self)
{
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

/* argv: transport producer width height frames endpoint */
static int
run_producer (char **argv)
{
  const gchar *tr = argv[0], *prod = argv[1], *endpoint = argv[5];
  guint w = atoi (argv[2]), h = atoi (argv[3]), n = atoi (argv[4]);
  gchar *caps = g_strdup_printf ("video/x-raw,format=NV12,width=%u,"
      "height=%u,framerate=30/1", w, h);
  gchar *sink, *src, *desc;
  GstElement *pipe;
  GstMessage *m;
  int ret = 0;

  if (!strcmp (tr, "hbmem"))
    sink = g_strdup_printf ("hbmemsink socket-path=%s sync=false backlog=8 "
        "buffers=8 stall-timeout=5000", endpoint);
  else if (!strcmp (tr, "shm") || !strcmp (tr, "shmzc"))
    sink = g_strdup_printf ("shmsink socket-path=%s sync=false "
        "wait-for-connection=true shm-size=%u", endpoint, w * h * 3 / 2 * 12);
  else
    sink = g_strdup_printf ("ipcpipelinesink fdin=%s fdout=%s", endpoint,
        endpoint);
  if (!strcmp (prod, "testsrc"))
    src = g_strdup_printf ("videotestsrc pattern=smpte num-buffers=%u ! %s",
        n, caps);
  else
    src = g_strdup ("benchnotouchsrc name=src");
  desc = g_strdup_printf ("%s ! %s", src, sink);
  pipe = gst_parse_launch (desc, NULL);
  if (!pipe)
    g_error ("producer: cannot build %s", desc);
  if (!strcmp (prod, "notouch")) {
    BenchSrc *bs = (BenchSrc *) gst_bin_get_by_name (GST_BIN (pipe), "src");

    bs->caps = gst_caps_from_string (caps);
    bs->total = n;
    bs->plain = !strcmp (tr, "shm");
    bs->zerocopy = !strcmp (tr, "shmzc");
    gst_object_unref (bs);
  }
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipe), 120 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (!m || GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *err = NULL;

    if (m)
      gst_message_parse_error (m, &err, NULL);
    fprintf (stderr, "producer %s/%s: %s\n", tr, prod,
        err ? err->message : "timeout");
    g_clear_error (&err);
    ret = 1;
  }
  if (m)
    gst_message_unref (m);
  /* let the consumer drain what it holds before the pool goes */
  g_usleep (200 * 1000);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (src);
  g_free (sink);
  g_free (caps);
  return ret;
}

/* ---- consumer (here) ------------------------------------------------- */

typedef struct
{
  guint count;
  gint64 first, last;
} Count;

/* Counts frames reaching the consumer's fakesink (a probe: no signal). */
static GstPadProbeReturn
on_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Count *c = data;
  gint64 now = g_get_monotonic_time ();

  if (c->count++ == 0)
    c->first = now;
  c->last = now;
  return GST_PAD_PROBE_OK;
}

static void
count_frames (GstElement * sink, Count * c)
{
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, c, NULL);
  gst_object_unref (pad);
}

static void
child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GPid
spawn_producer (const gchar * tr, const gchar * prod, guint w, guint h,
    guint n, const gchar * endpoint)
{
  gchar ws[16], hs[16], ns[16];
  gchar *argv[] = { (gchar *) self_exe, (gchar *) "--producer", (gchar *) tr,
    (gchar *) prod, ws, hs, ns, (gchar *) endpoint, NULL
  };
  GError *err = NULL;
  GPid pid;

  g_snprintf (ws, sizeof (ws), "%u", w);
  g_snprintf (hs, sizeof (hs), "%u", h);
  g_snprintf (ns, sizeof (ns), "%u", n);
  if (!g_spawn_async (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD |
          G_SPAWN_LEAVE_DESCRIPTORS_OPEN, child_setup, NULL, &pid, &err))
    g_error ("spawn: %s", err->message);
  return pid;
}

static void
wait_path (const gchar * path)
{
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    if (g_get_monotonic_time () > end)
      g_error ("producer never created %s", path);
    g_usleep (5000);
  }
}

/*
 * shmsink unlinks its area only when it stops; a producer killed after its
 * grace period leaves /dev/shm/shmpipe.<pid>.<n> behind (tens of MB each at
 * 4K, filling /dev/shm over a few runs). Its pid is in the name, space
 * padded as GStreamer writes it: remove the ones of @pid, which has exited.
 */
static void
shm_cleanup (GPid pid)
{
  gchar *prefix = g_strdup_printf ("shmpipe.%5d.", (int) pid);
  GDir *d = g_dir_open ("/dev/shm", 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d)) != NULL) {
    if (g_str_has_prefix (name, prefix)) {
      gchar *path = g_build_filename ("/dev/shm", name, NULL);

      g_unlink (path);
      g_free (path);
    }
  }
  if (d)
    g_dir_close (d);
  g_free (prefix);
}

/* Frames per second one transport delivers; 0 on failure. */
static double
measure (const gchar * tr, const gchar * prod, guint w, guint h, guint n)
{
  gchar *dir = g_dir_make_tmp ("bench-gst-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "sock", NULL);
  GstElement *pipe, *sink;
  Count c = { 0, };
  gint64 end;
  GPid pid, producer;
  int sv[2] = { -1, -1 }, status;
  double fps = 0;

  if ((only && strcmp (only, tr)) || (only_prod && strcmp (only_prod, prod)))
    return 0;
  if (!strcmp (tr, "ipc")) {
    gchar fd[16];

    /* the producer masters the state of this (slave) pipeline */
    if (socketpair (AF_UNIX, SOCK_STREAM, 0, sv) < 0)
      g_error ("socketpair: %s", g_strerror (errno));
    g_snprintf (fd, sizeof (fd), "%d", sv[1]);
    pipe = gst_element_factory_make ("ipcslavepipeline", NULL);
    {
      GstElement *src = gst_element_factory_make ("ipcpipelinesrc", NULL);

      sink = gst_element_factory_make ("fakesink", NULL);
      g_object_set (src, "fdin", sv[0], "fdout", sv[0], NULL);
      g_object_set (sink, "sync", FALSE, NULL);
      gst_bin_add_many (GST_BIN (pipe), src, sink, NULL);
      gst_element_link (src, sink);
    }
    gst_object_ref (sink);
    count_frames (sink, &c);
    pid = spawn_producer (tr, prod, w, h, n, fd);
    close (sv[1]);
  } else {
    gchar *desc;

    pid = spawn_producer (tr, prod, w, h, n, path);
    wait_path (path);
    if (!strcmp (tr, "hbmem"))
      desc = g_strdup_printf ("hbmemsrc socket-path=%s ! fakesink name=out "
          "sync=false", path);
    else
      desc = g_strdup_printf ("shmsrc socket-path=%s is-live=true ! "
          "fakesink name=out sync=false", path);
    pipe = gst_parse_launch (desc, NULL);
    g_free (desc);
    sink = gst_bin_get_by_name (GST_BIN (pipe), "out");
    count_frames (sink, &c);
    gst_element_set_state (pipe, GST_STATE_PLAYING);
  }

  producer = pid;
  end = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    if (waitpid (pid, &status, WNOHANG) == pid) {
      pid = 0;
      break;
    }
    /* all frames are in: the producer gets 2 s to wind down (shmsink's
     * does not always: shmsrc has no EOS to give back) */
    if (c.count >= n && end > g_get_monotonic_time () + 2 * G_USEC_PER_SEC)
      end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
    g_usleep (10 * 1000);
  }
  if (pid) {
    kill (pid, SIGKILL);
    waitpid (pid, &status, 0);
  }
  if (!strcmp (tr, "shm") || !strcmp (tr, "shmzc"))
    shm_cleanup (producer);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  if (sv[0] >= 0)
    close (sv[0]);
  if (c.count > 1 && c.last > c.first)
    fps = (c.count - 1) * (double) G_USEC_PER_SEC / (c.last - c.first);
  printf ("fps %s-%s-%ux%u %.1f (%u of %u frames)\n", tr, prod, w, h, fps,
      c.count, n);
  fflush (stdout);
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  return fps;
}

/* ---- bare SCM_RIGHTS ------------------------------------------------- */

#define WINDOW 8
#define ROUNDS 3
#define PER_FRAME_FRAMES 20000

/* µs per frame: a memfd + 64-byte descriptor there, 8 bytes back. */
static double
bare_scm_rights (guint rounds)
{
  int sv[2], fd = memfd_create ("bench", MFD_CLOEXEC);
  char desc[64] = { 0 }, ack[8];
  pid_t pid;
  gint64 t0;
  guint i;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 || fd < 0)
    g_error ("bare: %s", g_strerror (errno));
  pid = fork ();
  if (pid == 0) {
    close (sv[0]);
    for (;;) {
      char buf[64], ctl[CMSG_SPACE (sizeof (int))];
      struct iovec iov = { buf, sizeof (buf) };
      struct msghdr mh = { 0 };
      struct cmsghdr *cm;
      int got;

      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = ctl;
      mh.msg_controllen = sizeof (ctl);
      if (recvmsg (sv[1], &mh, MSG_CMSG_CLOEXEC) <= 0)
        _exit (0);
      cm = CMSG_FIRSTHDR (&mh);
      if (cm) {
        memcpy (&got, CMSG_DATA (cm), sizeof (got));
        close (got);
      }
      if (send (sv[1], "release", 8, 0) < 0)
        _exit (1);
    }
  }
  close (sv[1]);
  t0 = g_get_monotonic_time ();
  /* keep WINDOW frames in flight, as a pipelined transport does */
  for (i = 0; i < rounds + WINDOW; i++) {
    char ctl[CMSG_SPACE (sizeof (int))];
    struct iovec iov = { desc, sizeof (desc) };
    struct msghdr mh = { 0 };
    struct cmsghdr *cm;

    memset (ctl, 0, sizeof (ctl));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof (ctl);
    cm = CMSG_FIRSTHDR (&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN (sizeof (int));
    memcpy (CMSG_DATA (cm), &fd, sizeof (fd));
    if (i < rounds && sendmsg (sv[0], &mh, 0) < 0)
      g_error ("bare: %s", g_strerror (errno));
    if (i >= WINDOW && recv (sv[0], ack, sizeof (ack), 0) <= 0)
      g_error ("bare: %s", g_strerror (errno));
  }
  t0 = g_get_monotonic_time () - t0;
  close (sv[0]);
  waitpid (pid, NULL, 0);
  close (fd);
  return (double) t0 / rounds;
}

/* ---- hbmemqueue vs queue (one process) -------------------------------- */

static double
queue_fps (const gchar * q, guint w, guint h, guint n)
{
  gchar *path = g_strdup_printf ("%s/bench-gst-q-%d", g_get_tmp_dir (),
      (int) getpid ());
  /* hbmemsink downstream proposes its pool; no consumer: it just drops */
  gchar *desc = g_strdup_printf ("videotestsrc pattern=black num-buffers=%u ! "
      "video/x-raw,format=NV12,width=%u,height=%u,framerate=30/1 ! %s ! "
      "hbmemsink socket-path=%s wait-for-connection=false sync=false",
      n, w, h, q, path);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstMessage *m;
  gint64 t0;
  double fps = 0;

  gst_element_set_state (pipe, GST_STATE_PAUSED);
  gst_element_get_state (pipe, NULL, NULL, 30 * GST_SECOND);
  t0 = g_get_monotonic_time ();
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipe), 120 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS)
    fps = n * (double) G_USEC_PER_SEC / (g_get_monotonic_time () - t0);
  if (m)
    gst_message_unref (m);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  printf ("fps %s-%ux%u %.1f (%u frames, pool downstream)\n", q, w, h, fps,
      n);
  g_free (path);
  g_free (desc);
  return fps;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* The median of the ROUNDS values; a failed run (0) counts as lowest. */
static double
median (double *v)
{
  double tmp[ROUNDS];

  memcpy (tmp, v, sizeof (tmp));
  qsort (tmp, ROUNDS, sizeof (double), cmp_double);
  return tmp[ROUNDS / 2];
}

static void
ratio (const gchar * name, double ours_fps, double peer_fps)
{
  if (ours_fps > 0 && peer_fps > 0)
    printf ("ratio %s %.3f\n", name, peer_fps / ours_fps);
  else
    printf ("ratio %s n/a (a run failed)\n", name);
}

static gboolean
have (const gchar * element)
{
  GstElementFactory *f = gst_element_factory_find (element);

  if (f)
    gst_object_unref (f);
  return f != NULL;
}

int
main (int argc, char **argv)
{
  static const struct
  {
    guint w, h, n;
    const gchar *name;
  } sizes[] = { {1920, 1080, 300, "1080p"}, {3840, 2160, 120, "4k"} };
  static const gchar *prods[] = { "testsrc", "notouch" };
  double hb_frame[ROUNDS], bare[ROUNDS];
  guint s, p, r;

  if (argc >= 8 && !strcmp (argv[1], "--producer")) {
    signal (SIGPIPE, SIG_IGN);
    gst_init (NULL, NULL);
    gst_element_register (NULL, "benchnotouchsrc", GST_RANK_NONE,
        bench_src_get_type ());
    return run_producer (argv + 2);
  }
  gst_init (&argc, &argv);
  self_exe = argv[0];
  /* a peer that went away is an error return, not a signal */
  signal (SIGPIPE, SIG_IGN);
  if (argc >= 2)
    n_frames_cfg = atoi (argv[1]);
  if (argc >= 3 && strcmp (argv[2], "all"))
    only = argv[2];
  if (argc >= 4)
    only_prod = argv[3];
  if (argc >= 5)
    only_size = argv[4];
  if (!have ("hbmemsink") || !have ("shmsink") ||
      !have ("ipcpipelinesink")) {
    fprintf (stderr, "bench-gst: needs the hbmem plugin on GST_PLUGIN_PATH "
        "and gstreamer1.0-plugins-bad (shm, ipcpipeline)\n");
    return 77;
  }

  for (s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint n = n_frames_cfg ? n_frames_cfg : sizes[s].n;

    if (only_size && strcmp (only_size, sizes[s].name))
      continue;

    for (p = 0; p < G_N_ELEMENTS (prods); p++) {
      double hbr[ROUNDS], shmr[ROUNDS], zcr[ROUNDS], ipcr[ROUNDS];
      double hb, shm, zc = 0, ipc;
      /* videotestsrc takes shmsink's allocator itself: "shm" is zero-copy */
      gboolean notouch = !strcmp (prods[p], "notouch");
      gchar *name;

      if (only_prod && strcmp (only_prod, prods[p]))
        continue;
      for (r = 0; r < ROUNDS; r++) {
        hbr[r] = measure ("hbmem", prods[p], sizes[s].w, sizes[s].h, n);
        shmr[r] = measure ("shm", prods[p], sizes[s].w, sizes[s].h, n);
        zcr[r] = notouch ? measure ("shmzc", prods[p], sizes[s].w,
            sizes[s].h, n) : 0;
        ipcr[r] = measure ("ipc", prods[p], sizes[s].w, sizes[s].h, n);
      }
      hb = median (hbr);
      shm = median (shmr);
      if (notouch)
        zc = median (zcr);
      ipc = median (ipcr);
      printf ("fps median-%s-%s hbmem %.1f shm %.1f%s ipcpipeline %.1f\n",
          prods[p], sizes[s].name, hb, shm, notouch ? " (copy)" : "", ipc);
      if (notouch)
        printf ("fps median-%s-%s shm-zerocopy %.1f\n", prods[p],
            sizes[s].name, zc);
      name = g_strdup_printf ("hbmem/shm-%s-%s", prods[p], sizes[s].name);
      ratio (name, hb, shm);
      g_free (name);
      if (notouch) {
        name = g_strdup_printf ("hbmem/shm-zerocopy-%s-%s", prods[p],
            sizes[s].name);
        ratio (name, hb, zc);
        g_free (name);
      }
      name = g_strdup_printf ("hbmem/ipcpipeline-%s-%s", prods[p],
          sizes[s].name);
      ratio (name, hb, ipc);
      g_free (name);
    }
  }

  if ((only && strcmp (only, "hbmem")) ||
      (only_prod && strcmp (only_prod, "notouch")))
    return 0;
  for (r = 0; r < ROUNDS; r++) {
    bare[r] = bare_scm_rights (PER_FRAME_FRAMES);
    printf ("us-per-frame scm-rights-pipelined %.2f\n", bare[r]);
    hb_frame[r] = measure ("hbmem", "notouch", 1920, 1080, PER_FRAME_FRAMES);
  }
  /* the median cost is the one at the median rate */
  printf ("us-per-frame median scm-rights-pipelined %.2f\n", median (bare));
  if (median (hb_frame) > 0) {
    printf ("us-per-frame median hbmem-notouch-1080p %.2f\n",
        G_USEC_PER_SEC / median (hb_frame));
    ratio ("hbmem-frame/scm-rights-fd-pass", median (hb_frame),
        G_USEC_PER_SEC / median (bare));
  }

  if (have ("hbmemqueue") && !only) {
    double hq = queue_fps ("hbmemqueue", 1920, 1080, 600);
    double q = queue_fps ("queue", 1920, 1080, 600);

    ratio ("hbmemqueue/queue-1080p", hq, q);
  }
  return 0;
}
