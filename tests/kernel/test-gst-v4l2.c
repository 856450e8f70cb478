/* SPDX-License-Identifier: MIT */
/*
 * test-gst-v4l2 - GStreamer's v4l2 elements importing hbmem buffers, run
 * inside the kernel suite's QEMU guest (run-gst-v4l2-in-guest.sh) on the
 * hbmem kernel driver's dma-bufs and vivid.
 *
 * Both directions of issue 5's V4L2 interop:
 *
 *   v4l2sink io-mode=dmabuf-import, fed by appsrc with buffers from a
 *   GstHbmemBufferPool (YUY2, and NV12 with both planes in one dma-buf),
 *   each frame a solid colour the CPU wrote; vivid loops its HDMI output
 *   back to its HDMI capture, read with v4l2src io-mode=mmap: the colours
 *   we wrote must come back, so the driver read our memory.
 *
 *   v4l2src io-mode=dmabuf-import with our pool proposed downstream (a
 *   query probe on fakesink answers the ALLOCATION query with it): the
 *   buffers arriving are ours, and their content equals the same capture
 *   through io-mode=mmap (vivid's webcam input, colour bars, no OSD text,
 *   no movement: every frame is the same picture).
 *
 * And the 1.22.0 fd bug (v4l2 close()s the dma-buf fds it imports): the
 * pool test and the feeder of the loop test play such an importer (the
 * fd it was given is closed and its number handed to another file); after
 * each run every hb_mem buffer's own fd is still open, still names the
 * same dma-buf (st_dev/st_ino and the /proc/self/fd link) and its content
 * reads back through a fresh mapping of it; the fd GStreamer sees is
 * intact after the pool's acquire; the numbers given away still name the
 * other file; and the process has exactly the fds it had before (none
 * leaked, none closed twice).
 *
 * Exits 77 when the v4l2/app plugins, vivid or a dma-buf backend are
 * missing; each test is bounded in time.
 */
#define _GNU_SOURCE             /* dup3 */
#include <errno.h>
#include <fcntl.h>
#include <linux/v4l2-dv-timings.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/allocators/allocators.h>
#include <gst/video/video.h>

#include "gsthbmemallocator.h"
#include "gsthbmembufferpool.h"
#include "gsthbmemmeta.h"

/* capture from the webcam input: RGB, 640x480 */
#define WIDTH 640
#define HEIGHT 480
#define FRAME_BYTES (WIDTH * HEIGHT * 3)
#define CAPS_STR "video/x-raw,format=RGB,width=640,height=480"
/*
 * The HDMI loop: vivid's HDMI output takes YUV only; its timings are set
 * to 640x480p60 (the 720p default makes vivid's capture thread fall
 * behind under emulation, and it then warns in the kernel log). appsrc's
 * caps are v4l2sink's, fixated (they must be a subset of what it probed:
 * colorimetry and all).
 */
#define LOOP_W 640
#define LOOP_H 480
/* every third buffer the feeder takes, it first plays a closing importer */
#define LOOP_CLOSE_EVERY 3
/* a loop run lasts at least this many pushed frames (a second at 60 Hz) */
#define LOOP_MIN_PUSHED 60

/* whole-test bound (software-emulated guest: frames come slowly) */
#define TEST_SECONDS 60
#define TOLERANCE 12

/*
 * The guest's two vivid instances (run-in-guest.sh: allocators=0,1): the
 * first imports dma-bufs through vmap (vmalloc), the second through
 * attach/map (dma-contig). Capture and output node of each, found by
 * QUERYCAP.
 */
typedef struct
{
  const char *allocator;
  char cap[32], out[32];
} Vivid;

static Vivid vivids[2] = { {.allocator = "vmalloc"}, {.allocator = "dma-contig"} };

/* ---- fds ----------------------------------------------------------- */

static gchar *
fd_target (int fd)
{
  gchar *path = g_strdup_printf ("/proc/self/fd/%d", fd);
  gchar *target = g_file_read_link (path, NULL);

  g_free (path);
  return target;
}

/* "fd -> target" of every open fd, one a line (for failure messages). */
static gchar *
fd_list (void)
{
  GString *out = g_string_new (NULL);
  int fd;

  for (fd = 0; fd < 1024; fd++) {
    gchar *t;

    if (fcntl (fd, F_GETFD) < 0)
      continue;
    t = fd_target (fd);
    g_string_append_printf (out, "  %d -> %s\n", fd, t ? t : "?");
    g_free (t);
  }
  return g_string_free (out, FALSE);
}

/* The fds now are exactly those of @before (a fd_list()); frees it. */
static void
assert_same_fds (gchar * before)
{
  gchar *now = fd_list ();

  if (strcmp (now, before))
    g_error ("the open fds changed; before:\n%snow:\n%s", before, now);
  g_free (now);
  g_free (before);
}

/* What we know of one hb_mem buffer seen in a run, keyed by its own fd. */
typedef struct
{
  int hb_fd;
  dev_t dev;
  ino_t ino;
  gchar *target;
  gsize size;
  guint8 first[3];              /* expected first pixel, if known */
  gboolean first_known;
} SeenBuf;

static void
seen_buf_free (gpointer data)
{
  SeenBuf *s = data;

  g_free (s->target);
  g_free (s);
}

/* Record the hb_mem buffer behind @buf; assert it is ours. */
static SeenBuf *
seen_record (GHashTable * seen, GstBuffer * buf)
{
  GstHbmemMeta *meta = gst_buffer_get_hbmem_meta (buf);
  GstMemory *mem;
  struct stat st;
  SeenBuf *s;
  int fd;

  g_assert_nonnull (meta);
  g_assert_cmpint (meta->type, ==, HB_MEM_BUFFER_TYPE_GRAPHIC);
  g_assert_cmpuint (gst_buffer_n_memory (buf), ==, 1);
  mem = gst_buffer_peek_memory (buf, 0);
  g_assert_true (gst_is_hbmem_memory (mem));
  g_assert_true (gst_is_dmabuf_memory (mem));
  fd = meta->graph_buf.fd[0];
  g_assert_cmpint (gst_hbmem_memory_get_hb_fd (mem), ==, fd);
  s = g_hash_table_lookup (seen, GINT_TO_POINTER (fd));
  if (s)
    return s;
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  s = g_new0 (SeenBuf, 1);
  s->hb_fd = fd;
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  s->target = fd_target (fd);
  g_assert_nonnull (s->target);
  s->size = gst_memory_get_sizes (mem, NULL, NULL);
  g_hash_table_insert (seen, GINT_TO_POINTER (fd), s);
  return s;
}

/*
 * After a run: the buffer's own fd is open, names the same dma-buf, and
 * a fresh mapping of it shows what @buf's mapping shows.
 */
static void
check_hb_fd_intact (GHashTable * seen, GstBuffer * buf)
{
  GstHbmemMeta *meta = gst_buffer_get_hbmem_meta (buf);
  GstMemory *mem = gst_buffer_peek_memory (buf, 0);
  GstMapInfo map;
  struct stat st;
  gchar *target;
  SeenBuf *s;
  guint8 *p;

  g_assert_nonnull (meta);
  s = g_hash_table_lookup (seen, GINT_TO_POINTER (meta->graph_buf.fd[0]));
  g_assert_nonnull (s);
  g_assert_cmpint (fcntl (s->hb_fd, F_GETFD), >=, 0);
  g_assert_cmpint (fstat (s->hb_fd, &st), ==, 0);
  g_assert_true (st.st_dev == s->dev && st.st_ino == s->ino);
  target = fd_target (s->hb_fd);
  g_assert_cmpstr (target, ==, s->target);
  g_free (target);
  /* the fd GStreamer sees names the same dma-buf */
  g_assert_true (gst_hbmem_memory_fd_is_intact (mem));
  g_assert_cmpint (fstat (gst_dmabuf_memory_get_fd (mem), &st), ==, 0);
  g_assert_true (st.st_ino == s->ino);

  p = mmap (NULL, s->size, PROT_READ, MAP_SHARED, s->hb_fd, 0);
  g_assert_true (p != MAP_FAILED);
  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_READ));
  g_assert_cmpint (memcmp (p, map.data, MIN (map.size, s->size)), ==, 0);
  if (s->first_known)
    g_assert_cmpint (memcmp (p, s->first, 3), ==, 0);
  gst_buffer_unmap (buf, &map);
  munmap (p, s->size);
}

/*
 * Do to @mem what a closing importer does: close the fd it was given, and
 * let another file take the number, the worst case. dup3() onto the fd
 * does both at once: a separate close() would leave a window in which
 * another thread of this process (v4l2's) takes the number first.
 * Returns the number, which now names @other's file.
 */
static int
importer_closes (GstMemory * mem, int other)
{
  int fd = gst_dmabuf_memory_get_fd (mem);

  g_assert_cmpint (dup3 (other, fd, O_CLOEXEC), ==, fd);
  return fd;
}

/* ---- vivid ----------------------------------------------------------- */

static gboolean
find_vivid (void)
{
  struct v4l2_capability cap;
  int i, fd, inst;

  for (i = 0; i < 16; i++) {
    gchar *path = g_strdup_printf ("/dev/video%d", i);

    fd = open (path, O_RDWR | O_CLOEXEC);
    memset (&cap, 0, sizeof (cap));
    if (fd >= 0 && ioctl (fd, VIDIOC_QUERYCAP, &cap) == 0 &&
        !strcmp ((char *) cap.driver, "vivid") &&
        sscanf ((char *) cap.bus_info, "platform:vivid-%d", &inst) == 1 &&
        inst >= 0 && inst < (int) G_N_ELEMENTS (vivids)) {
      guint32 caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ?
          cap.device_caps : cap.capabilities;
      Vivid *v = &vivids[inst];

      if ((caps & V4L2_CAP_VIDEO_CAPTURE) && !v->cap[0])
        g_strlcpy (v->cap, path, sizeof (v->cap));
      if ((caps & V4L2_CAP_VIDEO_OUTPUT) && !v->out[0])
        g_strlcpy (v->out, path, sizeof (v->out));
    }
    if (fd >= 0)
      close (fd);
    g_free (path);
  }
  return vivids[0].cap[0] && vivids[0].out[0];
}

/* Select the input (or output) whose name starts with @prefix. */
static int
vivid_route (const char *dev, gboolean output, const char *prefix)
{
  int fd = open (dev, O_RDWR | O_CLOEXEC), ret = -ENOENT;
  guint i;

  if (fd < 0)
    return -errno;
  for (i = 0; i < 16; i++) {
    if (output) {
      struct v4l2_output o = {.index = i };

      if (ioctl (fd, VIDIOC_ENUMOUTPUT, &o))
        break;
      if (!g_str_has_prefix ((char *) o.name, prefix))
        continue;
      ret = ioctl (fd, VIDIOC_S_OUTPUT, &i) ? -errno : 0;
    } else {
      struct v4l2_input in = {.index = i };

      if (ioctl (fd, VIDIOC_ENUMINPUT, &in))
        break;
      if (!g_str_has_prefix ((char *) in.name, prefix))
        continue;
      ret = ioctl (fd, VIDIOC_S_INPUT, &i) ? -errno : 0;
    }
    break;
  }
  close (fd);
  return ret;
}

/* On failure: what v4l2-ctl says about both nodes, if it is there. */
static void
dump_vivid (const Vivid * v)
{
  const char *nodes[2] = { v->cap, v->out };
  guint i;

  for (i = 0; i < 2; i++) {
    gchar *cmd = g_strdup_printf ("v4l2-ctl -d %s --all", nodes[i]);
    gchar *out = NULL;

    if (g_spawn_command_line_sync (cmd, &out, NULL, NULL, NULL))
      g_printerr ("---- %s\n%s", cmd, out);
    g_free (out);
    g_free (cmd);
  }
}

/* HDMI timings 640x480p59.94 on @dev (they persist in vivid). */
static int
vivid_640x480 (const char *dev)
{
  struct v4l2_dv_timings t = V4L2_DV_BT_CEA_640X480P59_94;
  int fd = open (dev, O_RDWR | O_CLOEXEC), ret;

  if (fd < 0)
    return -errno;
  ret = ioctl (fd, VIDIOC_S_DV_TIMINGS, &t) ? -errno : 0;
  close (fd);
  return ret;
}

/* Set the control named @name on @dev (it persists in vivid). */
static int
vivid_ctrl (const char *dev, const char *name, int value)
{
  struct v4l2_queryctrl q = {.id = V4L2_CTRL_FLAG_NEXT_CTRL };
  int fd = open (dev, O_RDWR | O_CLOEXEC), ret = -ENOENT;

  if (fd < 0)
    return -errno;
  while (ioctl (fd, VIDIOC_QUERYCTRL, &q) == 0) {
    if (!strcmp ((char *) q.name, name)) {
      struct v4l2_control c = {.id = q.id,.value = value };

      ret = ioctl (fd, VIDIOC_S_CTRL, &c) ? -errno : 0;
      break;
    }
    q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
  }
  close (fd);
  return ret;
}

/* ---- pipelines --------------------------------------------------------- */

static GstElement *
pipeline_new (const char *desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);

  if (!p)
    g_error ("cannot make \"%s\": %s", desc, err->message);
  return p;
}

/* Add a probe of @type on the sink pad of @p's element "sink". */
static void
sink_probe (GstElement * p, GstPadProbeType type, GstPadProbeCallback cb,
    gpointer data)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  gst_pad_add_probe (pad, type, cb, data, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
}

/* Fail the test on an ERROR message on @p's bus. */
static void
assert_no_bus_error (GstElement * p)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    g_error ("%s: %s (%s)", GST_OBJECT_NAME (msg->src), err->message,
        dbg ? dbg : "");
  }
  gst_object_unref (bus);
}

/* Shared state of a run, guarded by lock. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
  GHashTable *seen;             /* hb fd -> SeenBuf */
  GstBufferPool *pool;
  /* sink direction */
  guint pushed, palette_hits[4], renewed, looped;
  guint8 last_yuv[3];
  const struct LoopCase *lc;
  GArray *taken;                /* numbers a "closing importer" gave away */
  int devnull;
  GstAppSrc *appsrc;
  /* src direction */
  GHashTable *mmap_sums;        /* checksum strings of mmap frames */
  guint frames, bad_frames;
  gchar *bad_sum;
  GstBuffer *held[2];
  const Vivid *v;
  guint stride_align;           /* mask proposed with our pool, 0: none */
  gint stride;                  /* stride of the imported frames */
} Run;

static void
run_init (Run * r)
{
  memset (r, 0, sizeof (*r));
  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  r->seen = g_hash_table_new_full (NULL, NULL, NULL, seen_buf_free);
  r->mmap_sums = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
}

static void
run_clear (Run * r)
{
  g_hash_table_unref (r->seen);
  g_hash_table_unref (r->mmap_sums);
  g_free (r->bad_sum);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
}

/* Wait until r->done or the deadline; returns r->done. */
static gboolean
run_wait (Run * r, gint64 deadline, GstElement * p1, GstElement * p2)
{
  gboolean done;

  g_mutex_lock (&r->lock);
  while (!r->done && g_get_monotonic_time () < deadline) {
    gint64 step = g_get_monotonic_time () + G_TIME_SPAN_SECOND / 2;

    g_cond_wait_until (&r->cond, &r->lock, MIN (step, deadline));
    g_mutex_unlock (&r->lock);
    assert_no_bus_error (p1);
    if (p2)
      assert_no_bus_error (p2);
    g_mutex_lock (&r->lock);
  }
  done = r->done;
  g_mutex_unlock (&r->lock);
  return done;
}

static GstBufferPool *
make_pool (const char *caps_str, guint size, guint min, guint max)
{
  GstBufferPool *pool = gst_hbmem_buffer_pool_new ();
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstCaps *caps = gst_caps_from_string (caps_str);

  gst_buffer_pool_config_set_params (config, caps, size, min, max);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  g_assert_true (gst_buffer_pool_set_config (pool, config));
  gst_caps_unref (caps);
  return pool;
}

/* ---- v4l2sink io-mode=dmabuf-import ---------------------------------- */

/* appsrc's caps: what v4l2sink "out" takes at @caps_str, fixated. */
static void
loop_set_appsrc_caps (GstElement * p, const char *caps_str)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  GstCaps *filter = gst_caps_from_string (caps_str);
  GstCaps *caps;

  g_assert_cmpint (gst_element_set_state (sink, GST_STATE_READY), ==,
      GST_STATE_CHANGE_SUCCESS);
  caps = gst_pad_query_caps (pad, filter);
  g_assert_false (gst_caps_is_empty (caps));
  caps = gst_caps_fixate (caps);
  {
    gchar *str = gst_caps_to_string (caps);

    g_test_message ("appsrc caps %s", str);
    g_free (str);
  }
  gst_app_src_set_caps (GST_APP_SRC (src), caps);
  gst_caps_unref (caps);
  gst_caps_unref (filter);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (src);
}

/* Y, U, V of the colours the feeder cycles through */
static const guint8 palette[4][3] = {
  {0x50, 0x60, 0xa0}, {0xa0, 0x40, 0x70}, {0x30, 0xb0, 0x50}, {0xc0, 0x90, 0x90},
};

/* One loop run: which vivid instance, which pixel format. */
struct LoopCase
{
  const Vivid *v;
  GstVideoFormat format;        /* YUY2 (one plane) or NV12 (two) */
};

static gsize
loop_frame_bytes (GstVideoFormat format)
{
  return format == GST_VIDEO_FORMAT_NV12 ? LOOP_W * LOOP_H * 3 / 2 :
      LOOP_W * LOOP_H * 2;
}

/* Fill @buf with the solid colour @yuv, through its video meta. */
static void
fill_solid (GstBuffer * buf, GstVideoFormat format, const guint8 yuv[3])
{
  GstVideoFrame frame;
  GstVideoInfo info;
  guint x, y;

  gst_video_info_set_format (&info, format, LOOP_W, LOOP_H);
  g_assert_true (gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE));
  for (y = 0; y < LOOP_H; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    if (format == GST_VIDEO_FORMAT_YUY2) {
      const guint8 mp[4] = { yuv[0], yuv[1], yuv[0], yuv[2] };

      for (x = 0; x < LOOP_W / 2; x++)
        memcpy (row + 4 * x, mp, 4);
    } else {
      memset (row, yuv[0], LOOP_W);
    }
  }
  for (y = 0; format == GST_VIDEO_FORMAT_NV12 && y < LOOP_H / 2; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 1) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 1);

    for (x = 0; x < LOOP_W / 2; x++) {
      row[2 * x] = yuv[1];
      row[2 * x + 1] = yuv[2];
    }
  }
  gst_video_frame_unmap (&frame);
}

/* The first three bytes of a frame of colour @yuv. */
static void
first_bytes (GstVideoFormat format, const guint8 yuv[3], guint8 out[3])
{
  out[0] = yuv[0];
  out[1] = format == GST_VIDEO_FORMAT_YUY2 ? yuv[1] : yuv[0];
  out[2] = yuv[0];
}

/* Y, U, V at (@x, @y) of a tightly packed captured frame. */
static void
sample_yuv (const guint8 * data, GstVideoFormat format, guint x, guint y,
    guint8 out[3])
{
  if (format == GST_VIDEO_FORMAT_YUY2) {
    const guint8 *p = data + ((gsize) y * LOOP_W + (x & ~1u)) * 2;

    out[0] = p[0];
    out[1] = p[1];
    out[2] = p[3];
  } else {
    const guint8 *uv = data + (gsize) LOOP_W * LOOP_H +
        (gsize) (y / 2) * LOOP_W + (x & ~1u);

    out[0] = data[(gsize) y * LOOP_W + x];
    out[1] = uv[0];
    out[2] = uv[1];
  }
}

/* The feeder: our pool's buffers, solid colours, into appsrc. */
static gpointer
feeder (gpointer data)
{
  Run *r = data;
  GHashTable *dup_fds = g_hash_table_new (NULL, NULL);
  guint k;

  for (k = 0;; k++) {
    GstBuffer *buf = NULL;
    GstMemory *mem;
    gpointer prev;
    SeenBuf *s;
    int hb;

    if (gst_buffer_pool_acquire_buffer (r->pool, &buf, NULL) != GST_FLOW_OK)
      break;
    mem = gst_buffer_peek_memory (buf, 0);
    g_mutex_lock (&r->lock);
    s = seen_record (r->seen, buf);
    hb = s->hb_fd;
    /* a new fd for GStreamer: an importer closed the previous one */
    if (g_hash_table_lookup_extended (dup_fds, GINT_TO_POINTER (hb), NULL,
            &prev) && GPOINTER_TO_INT (prev) != gst_fd_memory_get_fd (mem))
      r->renewed++;
    g_hash_table_insert (dup_fds, GINT_TO_POINTER (hb),
        GINT_TO_POINTER (gst_fd_memory_get_fd (mem)));
    g_assert_true (gst_hbmem_memory_fd_is_intact (mem));
    g_assert_cmpint (gst_dmabuf_memory_get_fd (mem), !=, hb);
    if (k % LOOP_CLOSE_EVERY == 1) {
      /* play 1.22.0's v4l2: close what we were given, give the number away */
      int taken = importer_closes (mem, r->devnull);

      g_array_append_val (r->taken, taken);
      g_mutex_unlock (&r->lock);
      gst_buffer_unref (buf);
      continue;
    }
    first_bytes (r->lc->format, palette[k % 4], s->first);
    s->first_known = TRUE;
    g_mutex_unlock (&r->lock);

    fill_solid (buf, r->lc->format, palette[k % 4]);
    GST_BUFFER_PTS (buf) = k * GST_SECOND / 30;
    GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
    if (gst_app_src_push_buffer (r->appsrc, buf) != GST_FLOW_OK)
      break;
    g_mutex_lock (&r->lock);
    r->pushed++;
    if (r->done) {
      g_mutex_unlock (&r->lock);
      break;
    }
    g_mutex_unlock (&r->lock);
  }
  g_hash_table_unref (dup_fds);
  return NULL;
}

static gboolean
near (const guint8 * px, const guint8 * want)
{
  guint c;

  for (c = 0; c < 3; c++)
    if (ABS ((gint) px[c] - (gint) want[c]) > TOLERANCE)
      return FALSE;
  return TRUE;
}

static GstPadProbeReturn
loop_sample (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Run *r = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;
  guint i, distinct = 0;

  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    /* the centre and a point in the upper-left quarter agree (Y U V) */
    guint8 a[3], b[3];

    g_assert_cmpuint (map.size, >=, loop_frame_bytes (r->lc->format));
    sample_yuv (map.data, r->lc->format, LOOP_W / 2, LOOP_H / 2, a);
    sample_yuv (map.data, r->lc->format, LOOP_W / 4, LOOP_H / 4, b);

    g_mutex_lock (&r->lock);
    r->looped++;
    memcpy (r->last_yuv, a, 3);
    for (i = 0; i < 4; i++)
      if (near (a, palette[i]) && near (b, palette[i]))
        r->palette_hits[i]++;
    for (i = 0; i < 4; i++)
      distinct += r->palette_hits[i] > 0;
    if (distinct >= 3 && r->pushed >= LOOP_MIN_PUSHED && !r->done) {
      r->done = TRUE;
      g_cond_broadcast (&r->cond);
    }
    g_mutex_unlock (&r->lock);
    gst_buffer_unmap (buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

static void
test_v4l2sink_dmabuf_import_loops_our_frames (gconstpointer data)
{
  const struct LoopCase *lc = data;
  const Vivid *v = lc->v;
  gchar *caps_str = g_strdup_printf ("video/x-raw,format=%s,width=%d,"
      "height=%d", gst_video_format_to_string (lc->format), LOOP_W, LOOP_H);
  GstElement *out, *cap;
  GstBuffer *bufs[8];
  GThread *thread;
  gchar *desc;
  gchar *fds_before;
  guint i, n, hits = 0;
  gint ret;
  Run r;

  ret = vivid_route (v->cap, FALSE, "HDMI");
  if (!ret)
    ret = vivid_route (v->out, TRUE, "HDMI");
  if (!ret)
    ret = vivid_ctrl (v->cap, "Loop Video", 1);
  /* vivid draws its OSD text over the looped picture too */
  if (!ret)
    ret = vivid_ctrl (v->cap, "OSD Text Mode", 2);
  if (!ret)
    ret = vivid_640x480 (v->out);
  if (!ret)
    ret = vivid_640x480 (v->cap);
  if (ret) {
    g_test_skip ("vivid has no HDMI loop here");
    g_free (caps_str);
    return;
  }

  fds_before = fd_list ();
  run_init (&r);
  r.lc = lc;
  r.taken = g_array_new (FALSE, FALSE, sizeof (int));
  r.devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (r.devnull, >=, 0);
  r.pool = make_pool (caps_str, loop_frame_bytes (lc->format), 2, 6);
  g_assert_true (gst_buffer_pool_set_active (r.pool, TRUE));

  desc = g_strdup_printf ("appsrc name=src format=time block=true ! "
      "v4l2sink name=out device=%s io-mode=dmabuf-import sync=false",
      v->out);
  out = pipeline_new (desc);
  g_free (desc);
  loop_set_appsrc_caps (out, caps_str);
  desc = g_strdup_printf ("v4l2src device=%s io-mode=mmap ! %s"
      " ! fakesink name=sink sync=false", v->cap, caps_str);
  cap = pipeline_new (desc);
  g_free (desc);
  r.appsrc = GST_APP_SRC (gst_bin_get_by_name (GST_BIN (out), "src"));
  sink_probe (cap, GST_PAD_PROBE_TYPE_BUFFER, loop_sample, &r);

  g_assert_cmpint (gst_element_set_state (out, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  thread = g_thread_new ("feeder", feeder, &r);
  g_assert_cmpint (gst_element_set_state (cap, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);

  if (!run_wait (&r, g_get_monotonic_time () + TEST_SECONDS *
          G_TIME_SPAN_SECOND, out, cap) && (dump_vivid (v), TRUE))
    g_error ("after %d s and %u frames pushed, %u captured, the loop showed "
        "palette colours %u/%u/%u/%u times (wanted: 3 distinct ones and %d "
        "frames pushed; last centre Y/U/V %u/%u/%u)", TEST_SECONDS, r.pushed,
        r.looped,
        r.palette_hits[0], r.palette_hits[1], r.palette_hits[2],
        r.palette_hits[3], LOOP_MIN_PUSHED, r.last_yuv[0], r.last_yuv[1],
        r.last_yuv[2]);

  /* stop: unblock the feeder, then tear both pipelines down */
  gst_buffer_pool_set_flushing (r.pool, TRUE);
  gst_app_src_end_of_stream (r.appsrc);
  gst_element_set_state (cap, GST_STATE_NULL);
  gst_element_set_state (out, GST_STATE_NULL);
  g_thread_join (thread);
  gst_buffer_pool_set_flushing (r.pool, FALSE);
  for (i = 0; i < 4; i++)
    hits += r.palette_hits[i];
  g_test_message ("%u frames pushed, %u looped frames matched; a closing "
      "importer was played %u times, %u of the buffers came back to the "
      "feeder renewed", r.pushed, hits, r.taken->len, r.renewed);

  /* every buffer of the pool: its own fd intact, content readable */
  for (n = 0; n < G_N_ELEMENTS (bufs); n++) {
    GstBufferPoolAcquireParams p = {.flags =
          GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT };

    if (gst_buffer_pool_acquire_buffer (r.pool, &bufs[n], &p) != GST_FLOW_OK)
      break;
    if (gst_buffer_get_hbmem_meta (bufs[n]) &&
        !g_hash_table_contains (r.seen,
            GINT_TO_POINTER (gst_buffer_get_hbmem_meta (bufs[n])->
                graph_buf.fd[0])))
      seen_record (r.seen, bufs[n]);
    check_hb_fd_intact (r.seen, bufs[n]);
  }
  g_assert_cmpuint (n, ==, g_hash_table_size (r.seen));
  for (i = 0; i < n; i++)
    gst_buffer_unref (bufs[i]);

  gst_object_unref (r.appsrc);
  gst_object_unref (out);
  gst_object_unref (cap);
  g_assert_true (gst_buffer_pool_set_active (r.pool, FALSE));
  gst_object_unref (r.pool);

  /* the numbers the "importer" gave away were never closed by us */
  g_assert_cmpuint (r.taken->len, >, 0);
  for (i = 0; i < r.taken->len; i++) {
    int fd = g_array_index (r.taken, int, i);
    gchar *t = fd_target (fd);

    g_assert_cmpstr (t, ==, "/dev/null");
    g_free (t);
    close (fd);
  }
  close (r.devnull);
  g_array_unref (r.taken);
  run_clear (&r);
  g_free (caps_str);
  assert_same_fds (fds_before);
}

/* ---- v4l2src io-mode=dmabuf-import ------------------------------------ */

/* SHA-1 of the visible picture of an RGB frame (its video meta's strides). */
static gchar *
frame_sum (GstBuffer * buf)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA1);
  GstVideoFrame frame;
  GstVideoInfo info;
  gchar *out;
  guint y;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, WIDTH, HEIGHT);
  g_assert_true (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ));
  for (y = 0; y < HEIGHT; y++)
    g_checksum_update (sum, (const guchar *) GST_VIDEO_FRAME_PLANE_DATA
        (&frame, 0) + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
        WIDTH * 3);
  gst_video_frame_unmap (&frame);
  out = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  return out;
}

#define SRC_FRAMES 30

static GstPadProbeReturn
mmap_sample (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Run *r = data;

  g_mutex_lock (&r->lock);
  g_hash_table_add (r->mmap_sums, frame_sum (GST_PAD_PROBE_INFO_BUFFER (info)));
  if (++r->frames >= SRC_FRAMES / 2) {
    r->done = TRUE;
    g_cond_broadcast (&r->cond);
  }
  g_mutex_unlock (&r->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
import_sample (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Run *r = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gchar *sum = frame_sum (buf);

  g_mutex_lock (&r->lock);
  /* a buffer of our pool, holding a dma-buf of the hbmem driver */
  g_assert_true (buf->pool == r->pool);
  g_assert_nonnull (gst_buffer_get_video_meta (buf));
  r->stride = gst_buffer_get_video_meta (buf)->stride[0];
  seen_record (r->seen, buf);
  if (!g_hash_table_contains (r->mmap_sums, sum)) {
    r->bad_frames++;
    g_free (r->bad_sum);
    r->bad_sum = g_strdup (sum);
  }
  /* keep the latest two frames for the after-run checks */
  gst_buffer_replace (&r->held[r->frames % 2], buf);
  if (++r->frames >= SRC_FRAMES) {
    r->done = TRUE;
    g_cond_broadcast (&r->cond);
  }
  g_mutex_unlock (&r->lock);
  g_free (sum);
  return GST_PAD_PROBE_OK;
}

/* Answer the ALLOCATION query for fakesink with our pool. */
static GstPadProbeReturn
propose_our_pool (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Run *r = data;
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  GstStructure *config;
  GstCaps *caps;
  gboolean need_pool;
  GstVideoInfo vinfo;
  guint size;

  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION)
    return GST_PAD_PROBE_OK;
  gst_query_parse_allocation (query, &caps, &need_pool);
  g_assert_nonnull (caps);
  g_assert_true (gst_video_info_from_caps (&vinfo, caps));
  config = gst_buffer_pool_get_config (r->pool);
  gst_buffer_pool_config_set_params (config, caps, vinfo.size, 4, 0);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (r->stride_align) {
    GstVideoAlignment align;

    gst_video_alignment_reset (&align);
    align.stride_align[0] = r->stride_align;
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
    gst_buffer_pool_config_set_video_alignment (config, &align);
  }
  g_assert_true (gst_buffer_pool_set_config (r->pool, config));
  /* the pool's size: a padded stride makes the frame bigger */
  config = gst_buffer_pool_get_config (r->pool);
  g_assert_true (gst_buffer_pool_config_get_params (config, NULL, &size,
          NULL, NULL));
  gst_structure_free (config);
  gst_query_add_allocation_pool (query, r->pool, size, 4, 0);
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return GST_PAD_PROBE_HANDLED;
}

/* Capture from vivid's webcam input into fakesink; returns when done. */
static void
capture (Run * r, const char *io_mode, GstPadProbeCallback on_buffer,
    gboolean our_pool)
{
  GstElement *p;
  gchar *desc;

  desc = g_strdup_printf ("v4l2src device=%s io-mode=%s ! " CAPS_STR
      " ! fakesink name=sink sync=false", r->v->cap, io_mode);
  p = pipeline_new (desc);
  g_free (desc);
  sink_probe (p, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, r);
  if (our_pool)
    sink_probe (p, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, propose_our_pool, r);

  g_assert_cmpint (gst_element_set_state (p, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  if (!run_wait (r, g_get_monotonic_time () + TEST_SECONDS *
          G_TIME_SPAN_SECOND, p, NULL))
    g_error ("io-mode=%s: %u frames in %d s", io_mode, r->frames,
        TEST_SECONDS);
  gst_element_set_state (p, GST_STATE_NULL);
  assert_no_bus_error (p);
  gst_object_unref (p);
}

/* One capture run: which vivid instance, which stride alignment we ask. */
struct SrcCase
{
  const Vivid *v;
  guint stride_align;
};

static void
test_v4l2src_dmabuf_import_into_our_pool (gconstpointer data)
{
  const struct SrcCase *sc = data;
  const Vivid *v = sc->v;
  gchar *fds_before;
  guint i;
  Run r;

  if (vivid_route (v->cap, FALSE, "Webcam") ||
      vivid_ctrl (v->cap, "OSD Text Mode", 2)) {
    g_test_skip ("vivid has no webcam input or OSD control here");
    return;
  }
  fds_before = fd_list ();
  run_init (&r);
  r.v = v;
  capture (&r, "mmap", mmap_sample, FALSE);
  g_test_message ("%u mmap frames, %u distinct pictures", r.frames,
      g_hash_table_size (r.mmap_sums));
  /* a static picture: a handful of distinct frames at most */
  g_assert_cmpuint (g_hash_table_size (r.mmap_sums), <=, 2);

  r.pool = gst_hbmem_buffer_pool_new ();
  r.frames = 0;
  r.done = FALSE;
  r.stride_align = sc->stride_align;
  capture (&r, "dmabuf-import", import_sample, TRUE);
  g_test_message ("%u frames imported into %u hbmem buffers (stride %d), "
      "%u differ from the mmap capture", r.frames,
      g_hash_table_size (r.seen), r.stride, r.bad_frames);
  /*
   * With an alignment v4l2 took our padded stride (it set it on vivid):
   * hb_mem strides are whole pixels, so 3-byte RGB pixels and a 256-byte
   * alignment give 768 pixels, 2304 bytes.
   */
  if (sc->stride_align) {
    g_assert_cmpint (r.stride, >, WIDTH * 3);
    g_assert_cmpint (r.stride & sc->stride_align, ==, 0);
    g_assert_cmpint (r.stride % 3, ==, 0);
  } else
    g_assert_cmpint (r.stride, ==, WIDTH * 3);
  if (r.bad_frames)
    g_error ("%u of %u frames differ from the mmap capture (e.g. %s)",
        r.bad_frames, r.frames, r.bad_sum);

  /* the pipeline is gone; the frames we hold are intact */
  for (i = 0; i < 2; i++) {
    g_assert_nonnull (r.held[i]);
    check_hb_fd_intact (r.seen, r.held[i]);
    gst_buffer_replace (&r.held[i], NULL);
  }
  gst_buffer_pool_set_active (r.pool, FALSE);
  gst_object_unref (r.pool);
  run_clear (&r);
  assert_same_fds (fds_before);
}

/* ---- an importer that closes the fd it imported (v4l2 1.22.0) ---------- */

static GstBuffer *
acquire_hb (GstBufferPool * pool, int hb_fd, GstBuffer ** other)
{
  GstBuffer *a = NULL, *b = NULL;

  g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &a, NULL), ==,
      GST_FLOW_OK);
  g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &b, NULL), ==,
      GST_FLOW_OK);
  if (gst_buffer_get_hbmem_meta (b)->graph_buf.fd[0] == hb_fd) {
    GstBuffer *t = a;

    a = b;
    b = t;
  }
  g_assert_cmpint (gst_buffer_get_hbmem_meta (a)->graph_buf.fd[0], ==, hb_fd);
  *other = b;
  return a;
}

static void
test_pool_survives_importer_closing_fds (void)
{
  GHashTable *seen = g_hash_table_new_full (NULL, NULL, NULL, seen_buf_free);
  gchar *fds_before = fd_list ();
  GstBufferPool *pool = make_pool (CAPS_STR, FRAME_BYTES, 2, 2);
  GstBuffer *buf, *other;
  GstMemory *mem;
  GstMapInfo map;
  int devnull, taken, taken2, hb;
  gchar *t;
  SeenBuf *s;

  devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (devnull, >=, 0);
  g_assert_true (gst_buffer_pool_set_active (pool, TRUE));
  g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &buf, NULL), ==,
      GST_FLOW_OK);
  s = seen_record (seen, buf);
  hb = s->hb_fd;
  mem = gst_buffer_peek_memory (buf, 0);
  g_assert_cmpint (gst_dmabuf_memory_get_fd (mem), !=, hb);
  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  memset (map.data, 0x5a, map.size);
  gst_buffer_unmap (buf, &map);
  memset (s->first, 0x5a, 3);
  s->first_known = TRUE;

  /* the importer closes its fd while it holds the buffer, then drops it */
  taken = importer_closes (mem, devnull);
  g_assert_false (gst_hbmem_memory_fd_is_intact (mem));
  gst_buffer_unref (buf);

  /* back from the pool: a fresh fd for GStreamer, hb_mem's own untouched */
  buf = acquire_hb (pool, hb, &other);
  mem = gst_buffer_peek_memory (buf, 0);
  g_assert_cmpint (gst_dmabuf_memory_get_fd (mem), !=, taken);
  check_hb_fd_intact (seen, buf);
  /* the number the importer gave away is still the other file's */
  t = fd_target (taken);
  g_assert_cmpstr (t, ==, "/dev/null");
  g_free (t);

  /* the same with the buffer freed, not reused: the memory must not close
   * the number it no longer owns */
  seen_record (seen, other);
  taken2 = importer_closes (gst_buffer_peek_memory (other, 0), devnull);
  gst_buffer_unref (other);
  gst_buffer_unref (buf);
  g_assert_true (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  t = fd_target (taken2);
  g_assert_cmpstr (t, ==, "/dev/null");
  g_free (t);

  close (taken);
  close (taken2);
  close (devnull);
  g_hash_table_unref (seen);
  assert_same_fds (fds_before);
}

int
main (int argc, char **argv)
{
  static const char *need[] = { "v4l2src", "v4l2sink", "appsrc", "fakesink" };
  GstAllocator *alloc;
  GstClock *clock;
  gboolean dmabuf;
  int ret;
  guint i;

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  for (i = 0; i < G_N_ELEMENTS (need); i++) {
    GstElementFactory *f = gst_element_factory_find (need[i]);

    if (!f) {
      printf ("SKIP: no GStreamer element %s\n", need[i]);
      return 77;
    }
    gst_object_unref (f);
  }
  if (!find_vivid ()) {
    printf ("SKIP: no vivid capture/output pair (modprobe vivid)\n");
    return 77;
  }
  /*
   * Keep one allocator (and so the hb_mem module) and the system clock
   * for the whole run, so the fds they hold are in every "before" count.
   */
  alloc = gst_hbmem_allocator_new ();
  if (!alloc) {
    printf ("SKIP: no hbmem backend\n");
    return 77;
  }
  dmabuf = G_TYPE_CHECK_INSTANCE_TYPE (alloc, GST_TYPE_DMABUF_ALLOCATOR);
  if (!dmabuf) {
    printf ("SKIP: the hbmem backend does not make dma-bufs "
        "(HBMEM_BACKEND=hbmem in the guest)\n");
    gst_object_unref (alloc);
    return 77;
  }
  clock = gst_system_clock_obtain ();

  for (i = 0; i < G_N_ELEMENTS (vivids); i++) {
    static struct LoopCase cases[G_N_ELEMENTS (vivids)][2];
    gchar *path;
    guint f;

    if (!vivids[i].cap[0] || !vivids[i].out[0])
      continue;
    for (f = 0; f < 2; f++) {
      cases[i][f].v = &vivids[i];
      cases[i][f].format = f ? GST_VIDEO_FORMAT_NV12 : GST_VIDEO_FORMAT_YUY2;
      path = g_strdup_printf ("/gst-v4l2/%s/v4l2sink/dmabuf-import-loops-our-"
          "frames/%s", vivids[i].allocator,
          gst_video_format_to_string (cases[i][f].format));
      g_test_add_data_func (path, &cases[i][f],
          test_v4l2sink_dmabuf_import_loops_our_frames);
      g_free (path);
    }
    for (f = 0; f < 2; f++) {
      static struct SrcCase src_cases[G_N_ELEMENTS (vivids)][2];

      src_cases[i][f].v = &vivids[i];
      src_cases[i][f].stride_align = f ? 255 : 0;
      path = g_strdup_printf ("/gst-v4l2/%s/v4l2src/dmabuf-import-into-our-"
          "pool%s", vivids[i].allocator, f ? "/stride-256" : "");
      g_test_add_data_func (path, &src_cases[i][f],
          test_v4l2src_dmabuf_import_into_our_pool);
      g_free (path);
    }
  }
  g_test_add_func ("/gst-v4l2/pool/survives-importer-closing-fds",
      test_pool_survives_importer_closing_fds);
  ret = g_test_run ();

  gst_object_unref (clock);
  gst_object_unref (alloc);
  gst_deinit ();
  return ret;
}
