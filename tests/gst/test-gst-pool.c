/* SPDX-License-Identifier: MIT */
/*
 * GstHbmemBufferPool: refused configs, the plane layout in the GstVideoMeta
 * against the hb_mem graphic buffer (NV12, I420, RGBA, GRAY8 at 641x481,
 * contiguous and per plane), alignment padding and stride masks, a size
 * bigger than the frame, common buffers for other caps, recycling of the
 * same hb_mem buffer, memories restored after a merge, flushing,
 * deactivation with buffers out, shutdown with an acquire blocked, LIFO
 * recycling, a waiting acquire woken by a release (kept or discarded),
 * and the min buffers backed with pages at activation (not those made on
 * demand) unless the config says not.
 * Every test ends with the heaps and the fd table as they started.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gst/allocators/allocators.h>
#include <gst/video/video.h>

#include "gst-test.h"
#include "gsthbmemallocator.h"
#include "gsthbmembufferpool.h"
#include "gsthbmemmeta.h"

typedef struct
{
  GstBufferPool *pool;
  int fds_before;
  guint64 used_before;
  guint bufs_before;
} Fixture;

static void
fixture_setup (Fixture * f, gconstpointer data)
{
  f->fds_before = gst_test_count_fds ();
  f->used_before = gst_test_heaps_used (&f->bufs_before);
  f->pool = gst_hbmem_buffer_pool_new ();
}

static void
fixture_teardown (Fixture * f, gconstpointer data)
{
  guint bufs;

  if (gst_buffer_pool_is_active (f->pool))
    g_assert_true (gst_buffer_pool_set_active (f->pool, FALSE));
  gst_object_unref (f->pool);
  g_assert_cmpuint (gst_test_heaps_used (&bufs), ==, f->used_before);
  g_assert_cmpuint (bufs, ==, f->bufs_before);
  g_assert_cmpint (gst_test_settled_fds (f->fds_before), ==, f->fds_before);
}

#define add_test(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

/* Configure @pool for @caps_str; contiguous as asked; returns set_config. */
static gboolean
configure (GstBufferPool * pool, const gchar * caps_str, guint size,
    guint min, guint max, gboolean contiguous, const GstVideoAlignment * align)
{
  GstCaps *caps = caps_str ? gst_caps_from_string (caps_str) : NULL;
  GstStructure *config = gst_buffer_pool_get_config (pool);
  gboolean ok;

  gst_buffer_pool_config_set_params (config, caps, size, min, max);
  gst_buffer_pool_config_add_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (align) {
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
    gst_buffer_pool_config_set_video_alignment (config, align);
  }
  gst_hbmem_buffer_pool_config_set_contiguous (config, contiguous);
  ok = gst_buffer_pool_set_config (pool, config);
  if (caps)
    gst_caps_unref (caps);
  return ok;
}

static GstBuffer *
acquire (GstBufferPool * pool)
{
  GstBuffer *buf = NULL;

  g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &buf, NULL), ==,
      GST_FLOW_OK);
  g_assert_nonnull (buf);
  return buf;
}

/* ---- refused configs ------------------------------------------------- */

static void
test_config_refuses_what_hb_mem_cannot_hold (Fixture * f, gconstpointer d)
{
  /* YV12 is I420 with U and V swapped: hb_mem has no such format */
  g_assert_false (configure (f->pool,
          "video/x-raw,format=YV12,width=64,height=64", 0, 0, 0, TRUE, NULL));
  g_assert_false (configure (f->pool,
          "video/x-raw,format=P010_10LE,width=64,height=64", 0, 0, 0, TRUE,
          NULL));
  g_assert_false (configure (f->pool, "application/octet-stream", 0, 0, 0,
          TRUE, NULL));
  g_assert_false (configure (f->pool, NULL, 1024, 0, 0, TRUE, NULL));
  /* GstVideoInfo parses these; a pool of them could never allocate */
  g_assert_false (configure (f->pool,
          "video/x-raw,format=NV12,width=0,height=64", 0, 0, 0, TRUE, NULL));
  g_assert_false (configure (f->pool,
          "video/x-raw,format=RGBA,width=64,height=0", 0, 0, 0, TRUE, NULL));
  g_assert_true (configure (f->pool,
          "video/x-raw,format=NV12,width=64,height=64", 0, 0, 0, TRUE, NULL));
}

static void
test_allocation_failure_fails_activation_cleanly (Fixture * f, gconstpointer d)
{
  uint64_t cap = 0;

  /* 16384 x 16384 RGBA is 1 GiB: more than the default heap holds */
  g_assert_cmpint (hb_mem_get_heap_size (HB_MEM_USAGE_PRIV_HEAP_DMA, &cap),
      ==, 0);
  if (cap >= (G_GUINT64_CONSTANT (1) << 30)) {
    g_test_skip ("the default heap holds 1 GiB here");
    return;
  }
  g_assert_true (configure (f->pool,
          "video/x-raw,format=RGBA,width=16384,height=16384", 0, 1, 1, TRUE,
          NULL));
  g_assert_false (gst_buffer_pool_set_active (f->pool, TRUE));
}

static void
test_format_mapping_round_trips (Fixture * f, gconstpointer d)
{
  static const GstVideoFormat fmts[] = {
    GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_NV21, GST_VIDEO_FORMAT_I420,
    GST_VIDEO_FORMAT_YUY2, GST_VIDEO_FORMAT_UYVY, GST_VIDEO_FORMAT_GRAY8,
    GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBA,
    GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_ARGB,
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (fmts); i++) {
    gint hb = gst_hbmem_video_format_to_hb (fmts[i]);

    g_assert_cmpint (hb, >, MEM_PIX_FMT_NONE);
    g_assert_cmpint (gst_hbmem_video_format_from_hb (hb), ==, fmts[i]);
  }
  g_assert_cmpint (gst_hbmem_video_format_to_hb (GST_VIDEO_FORMAT_I420), ==,
      MEM_PIX_FMT_YUV420P);
  g_assert_cmpint (gst_hbmem_video_format_to_hb (GST_VIDEO_FORMAT_YV12), ==,
      MEM_PIX_FMT_NONE);
  g_assert_cmpint (gst_hbmem_video_format_from_hb (MEM_PIX_FMT_RAW10), ==,
      GST_VIDEO_FORMAT_UNKNOWN);
}

/* ---- layouts --------------------------------------------------------- */

typedef struct
{
  const gchar *format;
  guint n_planes;
  gint stride[3];               /* bytes, for 641 pixels */
  guint lines[3];               /* for 481 lines */
} Layout;

static const Layout layouts[] = {
  {"NV12", 2, {641, 642, 0}, {481, 241, 0}},
  {"I420", 3, {641, 321, 321}, {481, 241, 241}},
  {"RGBA", 1, {2564, 0, 0}, {481, 0, 0}},
  {"GRAY8", 1, {641, 0, 0}, {481, 0, 0}},
  /* two pixels share a 4-byte macropixel: 641 pixels need 321 of them */
  {"YUY2", 1, {1284, 0, 0}, {481, 0, 0}},
};

static void
check_layout (Fixture * f, const Layout * l, gboolean contiguous)
{
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=641,height=481,"
      "framerate=30/1", l->format);
  GstHbmemMeta *hmeta;
  GstVideoMeta *vmeta;
  GstVideoFrame frame;
  GstVideoInfo info;
  GstBuffer *buf;
  gsize start = 0, total = 0;
  guint i;

  g_assert_true (configure (f->pool, caps, 0, 1, 2, contiguous, NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  buf = acquire (f->pool);

  vmeta = gst_buffer_get_video_meta (buf);
  hmeta = gst_buffer_get_hbmem_meta (buf);
  g_assert_nonnull (vmeta);
  g_assert_nonnull (hmeta);
  g_assert_cmpint (hmeta->type, ==, HB_MEM_BUFFER_TYPE_GRAPHIC);
  g_assert_cmpint (hmeta->graph_buf.format, ==,
      gst_hbmem_video_format_to_hb (gst_video_format_from_string
          (l->format)));
  g_assert_cmpint (hmeta->graph_buf.width, ==, 641);
  g_assert_cmpint (hmeta->graph_buf.height, ==, 481);
  /* a one-plane buffer is contiguous whatever was asked */
  if (l->n_planes == 1)
    contiguous = TRUE;
  g_assert_cmpint (hmeta->graph_buf.is_contig, ==, contiguous);
  g_assert_cmpuint (vmeta->n_planes, ==, l->n_planes);
  g_assert_cmpint (hmeta->graph_buf.plane_cnt, ==, l->n_planes);
  g_assert_cmpuint (vmeta->width, ==, 641);
  g_assert_cmpuint (vmeta->height, ==, 481);
  g_assert_cmpuint (gst_buffer_n_memory (buf), ==,
      contiguous ? 1 : l->n_planes);

  for (i = 0; i < l->n_planes; i++) {
    const hb_mem_graphic_buf_t *g = &hmeta->graph_buf;
    GstMemory *mem = gst_buffer_peek_memory (buf, contiguous ? 0 : i);

    g_assert_true (gst_is_hbmem_memory (mem));
    g_assert_cmpint (vmeta->stride[i], ==, l->stride[i]);
    g_assert_cmpuint (g->size[i], ==, (guint64) l->stride[i] * l->lines[i]);
    if (contiguous)
      g_assert_cmpuint (vmeta->offset[i], ==,
          (gsize) (g->virt_addr[i] - g->virt_addr[0]));
    else
      g_assert_cmpuint (vmeta->offset[i], ==, start);
    start += g->size[i];
    total += g->size[i];
    gst_test_assert_gst_fd (gst_fd_memory_get_fd (mem), g->fd[i]);
  }
  g_assert_cmpuint (gst_buffer_get_size (buf), ==, total);

  /* a frame map lands on hb_mem's planes */
  {
    GstCaps *c = gst_caps_from_string (caps);

    g_assert_true (gst_video_info_from_caps (&info, c));
    gst_caps_unref (c);
  }
  g_free (caps);
  g_assert_true (gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE));
  for (i = 0; i < l->n_planes; i++) {
    g_assert_true (GST_VIDEO_FRAME_PLANE_DATA (&frame, i) ==
        (gpointer) hmeta->graph_buf.virt_addr[i]);
    g_assert_cmpint (GST_VIDEO_FRAME_PLANE_STRIDE (&frame, i), ==,
        l->stride[i]);
    memset (GST_VIDEO_FRAME_PLANE_DATA (&frame, i), 0x10 + i,
        hmeta->graph_buf.size[i]);
  }
  gst_video_frame_unmap (&frame);
  g_assert_cmpuint (hmeta->graph_buf.virt_addr[l->n_planes - 1][0], ==,
      0x10 + l->n_planes - 1);

  gst_buffer_unref (buf);
  g_assert_true (gst_buffer_pool_set_active (f->pool, FALSE));
}

static void
test_layout_contiguous (Fixture * f, gconstpointer d)
{
  check_layout (f, d, TRUE);
}

static void
test_layout_per_plane (Fixture * f, gconstpointer d)
{
  check_layout (f, d, FALSE);
}

static void
test_alignment_padding_and_stride_masks (Fixture * f, gconstpointer d)
{
  GstVideoAlignment align;
  GstHbmemMeta *hmeta;
  GstVideoMeta *vmeta;
  GstStructure *config;
  guint heights[GST_VIDEO_MAX_PLANES];
  const hb_mem_graphic_buf_t *g;
  GstBuffer *buf;
  guint size;

  gst_video_alignment_reset (&align);
  align.padding_top = 2;
  align.padding_left = 4;
  align.padding_right = 6;
  align.padding_bottom = 3;
  align.stride_align[0] = 63;
  align.stride_align[1] = 63;
  g_assert_true (configure (f->pool,
          "video/x-raw,format=NV12,width=641,height=481", 0, 1, 1, TRUE,
          &align));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  buf = acquire (f->pool);
  vmeta = gst_buffer_get_video_meta (buf);
  hmeta = gst_buffer_get_hbmem_meta (buf);
  g = &hmeta->graph_buf;

  /* 641 + 10 padded, grown to the first width whose strides meet 64 */
  g_assert_cmpint (g->stride, ==, 704);
  g_assert_cmpint (g->vstride, ==, 486);
  g_assert_cmpint (vmeta->stride[0], ==, 704);
  g_assert_cmpint (vmeta->stride[1], ==, 704);
  g_assert_cmpuint (g->size[0], ==, 704 * 486);
  g_assert_cmpuint (g->size[1], ==, 704 * 243);
  /* offsets point at the visible top-left pixel of each plane */
  g_assert_cmpuint (vmeta->offset[0], ==, 2 * 704 + 4);
  g_assert_cmpuint (vmeta->offset[1], ==,
      (gsize) (g->virt_addr[1] - g->virt_addr[0]) + 1 * 704 + 4);
  g_assert_cmpuint (vmeta->alignment.padding_top, ==, 2);
  g_assert_cmpuint (vmeta->alignment.padding_left, ==, 4);
  g_assert_cmpuint (vmeta->alignment.padding_right, ==, 704 - 641 - 4);
  g_assert_cmpuint (vmeta->alignment.padding_bottom, ==, 486 - 481 - 2);
  g_assert_true (gst_video_meta_get_plane_height (vmeta, heights));
  g_assert_cmpuint (heights[0], ==, 486);
  g_assert_cmpuint (heights[1], ==, 243);

  config = gst_buffer_pool_get_config (f->pool);
  g_assert_true (gst_buffer_pool_config_get_params (config, NULL, &size,
          NULL, NULL));
  g_assert_cmpuint (size, ==, 704 * 486 + 704 * 243);
  gst_structure_free (config);
  gst_buffer_unref (buf);
}

static void
test_alignment_per_plane_i420 (Fixture * f, gconstpointer d)
{
  GstVideoAlignment align;
  GstVideoMeta *vmeta;
  const hb_mem_graphic_buf_t *g;
  GstBuffer *buf;
  gsize s0, s1;

  gst_video_alignment_reset (&align);
  align.padding_top = 2;
  align.padding_left = 2;
  align.stride_align[0] = 15;
  align.stride_align[1] = 15;
  align.stride_align[2] = 15;
  g_assert_true (configure (f->pool,
          "video/x-raw,format=I420,width=641,height=481", 0, 1, 1, FALSE,
          &align));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  buf = acquire (f->pool);
  vmeta = gst_buffer_get_video_meta (buf);
  g = &gst_buffer_get_hbmem_meta (buf)->graph_buf;
  g_assert_cmpuint (gst_buffer_n_memory (buf), ==, 3);

  /* 643 wide padded; luma and chroma strides multiples of 16: 672 / 336 */
  g_assert_cmpint (g->stride, ==, 672);
  g_assert_cmpint (g->vstride, ==, 483);
  g_assert_cmpint (vmeta->stride[0], ==, 672);
  g_assert_cmpint (vmeta->stride[1], ==, 336);
  g_assert_cmpint (vmeta->stride[2], ==, 336);
  s0 = 672 * 483;
  s1 = 336 * 242;
  g_assert_cmpuint (g->size[0], ==, s0);
  g_assert_cmpuint (g->size[1], ==, s1);
  /* one memory per plane: offsets run across the memories */
  g_assert_cmpuint (vmeta->offset[0], ==, 2 * 672 + 2);
  g_assert_cmpuint (vmeta->offset[1], ==, s0 + 336 + 1);
  g_assert_cmpuint (vmeta->offset[2], ==, s0 + s1 + 336 + 1);
  gst_buffer_unref (buf);
}

static void
test_bigger_size_grows_vstride (Fixture * f, gconstpointer d)
{
  guint want = 640 * 500 * 3 / 2;
  GstStructure *config;
  GstHbmemMeta *hmeta;
  GstBuffer *buf;
  guint size;

  g_assert_true (configure (f->pool,
          "video/x-raw,format=NV12,width=640,height=480", want, 1, 1, TRUE,
          NULL));
  config = gst_buffer_pool_get_config (f->pool);
  g_assert_true (gst_buffer_pool_config_get_params (config, NULL, &size,
          NULL, NULL));
  gst_structure_free (config);
  g_assert_cmpuint (size, >=, want);
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  buf = acquire (f->pool);
  hmeta = gst_buffer_get_hbmem_meta (buf);
  g_assert_cmpint (hmeta->graph_buf.vstride, ==, 500);
  g_assert_cmpuint (gst_buffer_get_size (buf), ==, size);
  gst_buffer_unref (buf);
}

static void
test_other_caps_get_common_buffers (Fixture * f, gconstpointer d)
{
  GstHbmemMeta *hmeta;
  GstMapInfo map;
  GstBuffer *buf;

  g_assert_true (configure (f->pool, "application/octet-stream", 1000, 2, 2,
          TRUE, NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  buf = acquire (f->pool);
  g_assert_cmpuint (gst_buffer_n_memory (buf), ==, 1);
  g_assert_true (gst_is_hbmem_memory (gst_buffer_peek_memory (buf, 0)));
  g_assert_null (gst_buffer_get_video_meta (buf));
  hmeta = gst_buffer_get_hbmem_meta (buf);
  g_assert_nonnull (hmeta);
  g_assert_cmpint (hmeta->type, ==, HB_MEM_BUFFER_TYPE_COMMON);
  g_assert_cmpuint (hmeta->com_buf.size, ==, 1000);
  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  g_assert_true (map.data == hmeta->com_buf.virt_addr);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
}

static void
test_config_allocator_is_used (Fixture * f, gconstpointer d)
{
  GstAllocator *alloc = gst_hbmem_allocator_new (), *got = NULL;
  GstCaps *caps = gst_caps_from_string ("application/octet-stream");
  GstStructure *config;
  GstHbmemMeta *hmeta;
  GstBuffer *buf;

  g_object_set (alloc, "usage", (gint64) HB_MEM_USAGE_CPU_WRITE_OFTEN, NULL);
  config = gst_buffer_pool_get_config (f->pool);
  gst_buffer_pool_config_set_params (config, caps, 512, 1, 1);
  gst_buffer_pool_config_set_allocator (config, alloc, NULL);
  g_assert_true (gst_buffer_pool_set_config (f->pool, config));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  buf = acquire (f->pool);
  hmeta = gst_buffer_get_hbmem_meta (buf);
  g_assert_cmpint (hmeta->com_buf.flags, ==, HB_MEM_USAGE_CPU_WRITE_OFTEN);
  g_assert_true (gst_buffer_peek_memory (buf, 0)->allocator == alloc);
  gst_buffer_unref (buf);
  g_assert_true (gst_buffer_pool_set_active (f->pool, FALSE));

  /* a foreign allocator is replaced by an hbmem one */
  config = gst_buffer_pool_get_config (f->pool);
  got = gst_allocator_find (GST_ALLOCATOR_SYSMEM);
  gst_buffer_pool_config_set_allocator (config, got, NULL);
  gst_object_unref (got);
  got = NULL;
  g_assert_true (gst_buffer_pool_set_config (f->pool, config));
  config = gst_buffer_pool_get_config (f->pool);
  g_assert_true (gst_buffer_pool_config_get_allocator (config, &got, NULL));
  g_assert_true (gst_is_hbmem_allocator (got));
  gst_structure_free (config);

  gst_caps_unref (caps);
  gst_object_unref (alloc);
}

/* ---- a real producer ------------------------------------------------- */

typedef struct
{
  GstBufferPool *pool;          /* offered in ALLOCATION answers, or NULL */
  GstBuffer *got;               /* the first buffer reaching the sink */
} Capture;

static GstPadProbeReturn
capture_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Capture *c = data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    if (!c->got)
      c->got = gst_buffer_ref (GST_PAD_PROBE_INFO_BUFFER (info));
    return GST_PAD_PROBE_OK;
  }
  if ((info->type & GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM) && c->pool) {
    GstQuery *q = GST_PAD_PROBE_INFO_QUERY (info);
    GstCaps *caps;
    GstVideoInfo vi;

    if (GST_QUERY_TYPE (q) != GST_QUERY_ALLOCATION)
      return GST_PAD_PROBE_OK;
    gst_query_parse_allocation (q, &caps, NULL);
    g_assert_true (gst_video_info_from_caps (&vi, caps));
    gst_query_add_allocation_pool (q, c->pool, vi.size, 2, 4);
    gst_query_add_allocation_meta (q, GST_VIDEO_META_API_TYPE, NULL);
    return GST_PAD_PROBE_HANDLED;
  }
  return GST_PAD_PROBE_OK;
}

/* One frame of videotestsrc in @format at 641x481, from @pool or not. */
static GstBuffer *
produce_frame (const gchar * format, GstBufferPool * pool)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 pattern=smpte ! "
      "video/x-raw,format=%s,width=641,height=481 ! fakesink name=sink",
      format);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  Capture c = { pool, NULL };
  GstElement *sink;
  GstPad *pad;
  GstMessage *msg;

  g_assert_nonnull (pipe);
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, capture_probe, &c, NULL);
  g_assert_cmpint (gst_element_set_state (pipe, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (pipe), 20 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  g_assert_cmpint (gst_element_set_state (pipe, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  g_free (desc);
  g_assert_nonnull (c.got);
  return c.got;
}

static void
check_producer_writes (Fixture * f, const gchar * format)
{
  GstBuffer *ref, *ours;
  GstVideoFrame a, b;
  GstVideoInfo info;
  GstCaps *caps;
  guint p, y;

  caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, format,
      "width", G_TYPE_INT, 641, "height", G_TYPE_INT, 481, NULL);
  g_assert_true (gst_video_info_from_caps (&info, caps));
  gst_caps_unref (caps);

  ref = produce_frame (format, NULL);
  ours = produce_frame (format, f->pool);
  /* it came from our pool, laid out by hb_mem (not GStreamer's strides) */
  g_assert_nonnull (gst_buffer_get_hbmem_meta (ours));
  g_assert_null (gst_buffer_get_hbmem_meta (ref));

  g_assert_true (gst_video_frame_map (&a, &info, ref, GST_MAP_READ));
  g_assert_true (gst_video_frame_map (&b, &info, ours, GST_MAP_READ));
  for (p = 0; p < GST_VIDEO_INFO_N_PLANES (&info); p++) {
    guint comp = p, rows, bytes;

    rows = GST_VIDEO_INFO_COMP_HEIGHT (&info, comp);
    bytes = GST_VIDEO_INFO_COMP_WIDTH (&info, comp) *
        GST_VIDEO_INFO_COMP_PSTRIDE (&info, comp);
    for (y = 0; y < rows; y++) {
      const guint8 *ra = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&a, p) +
          (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&a, p);
      const guint8 *rb = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&b, p) +
          (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&b, p);

      if (memcmp (ra, rb, bytes) != 0)
        g_error ("%s plane %u row %u differs", format, p, y);
    }
  }
  gst_video_frame_unmap (&b);
  gst_video_frame_unmap (&a);
  gst_buffer_unref (ours);
  gst_buffer_unref (ref);
}

static void
test_videotestsrc_writes_nv12_into_pool_buffers (Fixture * f,
    gconstpointer d)
{
  check_producer_writes (f, "NV12");
}

static void
test_videotestsrc_writes_i420_into_pool_buffers (Fixture * f,
    gconstpointer d)
{
  check_producer_writes (f, "I420");
}

/* ---- recycling ------------------------------------------------------- */

static void
test_recycling_returns_the_same_hb_buffer (Fixture * f, gconstpointer d)
{
  GstBuffer *bufs[2], *first[2];
  gint fds[2];
  guint n_hb, n_hb_active;
  guint i, round;

  g_assert_true (configure (f->pool,
          "video/x-raw,format=NV12,width=320,height=240", 0, 2, 2, TRUE,
          NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  gst_test_heaps_used (&n_hb_active);
  g_assert_cmpuint (n_hb_active, ==, f->bufs_before + 2);
  for (round = 0; round < 10; round++) {
    for (i = 0; i < 2; i++) {
      bufs[i] = acquire (f->pool);
      /* the pool reset what the last user changed, memories untouched */
      g_assert_false (GST_BUFFER_PTS_IS_VALID (bufs[i]));
      g_assert_false (GST_BUFFER_FLAG_IS_SET (bufs[i],
              GST_BUFFER_FLAG_DISCONT));
      gst_test_assert_gst_fd (gst_fd_memory_get_fd (gst_buffer_peek_memory
              (bufs[i], 0)), gst_buffer_get_hbmem_meta (bufs[i])->graph_buf.fd[0]);
    }
    if (round == 0) {
      for (i = 0; i < 2; i++) {
        first[i] = bufs[i];
        fds[i] = gst_buffer_get_hbmem_meta (bufs[i])->graph_buf.fd[0];
      }
    }
    /* the same two buffers, each with its own hb_mem buffer, in any order */
    for (i = 0; i < 2; i++) {
      gint fd = gst_buffer_get_hbmem_meta (bufs[i])->graph_buf.fd[0];

      g_assert_true (bufs[i] == first[0] || bufs[i] == first[1]);
      g_assert_cmpint (fd, ==, fds[bufs[i] == first[0] ? 0 : 1]);
      GST_BUFFER_PTS (bufs[i]) = round * GST_SECOND;
      GST_BUFFER_FLAG_SET (bufs[i], GST_BUFFER_FLAG_DISCONT);
    }
    g_assert_true (bufs[0] != bufs[1]);
    gst_buffer_unref (bufs[0]);
    gst_buffer_unref (bufs[1]);
  }
  gst_test_heaps_used (&n_hb);
  g_assert_cmpuint (n_hb, ==, n_hb_active);
}

static void
test_merged_planes_are_restored_on_release (Fixture * f, gconstpointer d)
{
  GstMemory *orig[3];
  GstMapInfo map;
  GstBuffer *buf, *again;
  guint i;

  g_assert_true (configure (f->pool,
          "video/x-raw,format=I420,width=64,height=48", 0, 1, 1, FALSE,
          NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  buf = acquire (f->pool);
  g_assert_cmpuint (gst_buffer_n_memory (buf), ==, 3);
  for (i = 0; i < 3; i++)
    orig[i] = gst_buffer_peek_memory (buf, i);
  /* a whole-buffer write map merges the planes into one new memory */
  g_assert_true (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  gst_buffer_unmap (buf, &map);
  g_assert_cmpuint (gst_buffer_n_memory (buf), ==, 1);
  g_assert_false (gst_is_hbmem_memory (gst_buffer_peek_memory (buf, 0)));
  gst_buffer_unref (buf);

  again = acquire (f->pool);
  g_assert_true (again == buf);
  g_assert_cmpuint (gst_buffer_n_memory (again), ==, 3);
  for (i = 0; i < 3; i++)
    g_assert_true (gst_buffer_peek_memory (again, i) == orig[i]);
  gst_buffer_unref (again);
}

/* ---- flushing and shutdown ------------------------------------------- */

typedef struct
{
  GstBufferPool *pool;
  gint done;
  GstFlowReturn ret;
  GstBuffer *buf;
} Acquirer;

static gpointer
acquirer_run (gpointer data)
{
  Acquirer *a = data;

  a->ret = gst_buffer_pool_acquire_buffer (a->pool, &a->buf, NULL);
  g_atomic_int_set (&a->done, 1);
  return NULL;
}

static GThread *
start_acquirer (Acquirer * a, GstBufferPool * pool)
{
  memset (a, 0, sizeof (*a));
  a->pool = pool;
  return g_thread_new ("acquirer", acquirer_run, a);
}

/* The most recently released buffer comes back first (cache-warm). */
static void
test_recycling_is_lifo (Fixture * f, gconstpointer d)
{
  GstBuffer *a, *b, *c, *x;

  g_assert_true (configure (f->pool,
          "video/x-raw,format=GRAY8,width=64,height=64", 0, 3, 3, TRUE,
          NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  a = acquire (f->pool);
  b = acquire (f->pool);
  c = acquire (f->pool);
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  x = acquire (f->pool);
  g_assert_true (x == b);
  gst_buffer_unref (c);
  gst_buffer_unref (x);
  x = acquire (f->pool);
  g_assert_true (x == b);
  gst_buffer_unref (x);
  /* b, c, a from the top */
  b = acquire (f->pool);
  c = acquire (f->pool);
  a = acquire (f->pool);
  g_assert_true (b != c && c != a && a != b);
  gst_buffer_unref (a);
  x = acquire (f->pool);
  g_assert_true (x == a);
  gst_buffer_unref (x);
  gst_buffer_unref (b);
  gst_buffer_unref (c);
}

/* At max, an acquire waits; a release hands it that buffer. */
static void
test_release_wakes_a_waiting_acquire (Fixture * f, gconstpointer d)
{
  GstBuffer *held;
  GThread *t;
  Acquirer a;

  g_assert_true (configure (f->pool,
          "video/x-raw,format=GRAY8,width=64,height=64", 0, 1, 1, TRUE,
          NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  held = acquire (f->pool);
  t = start_acquirer (&a, f->pool);
  g_usleep (GST_TEST_BLOCKED_US);
  g_assert_cmpint (g_atomic_int_get (&a.done), ==, 0);
  gst_buffer_unref (held);
  g_assert_true (gst_test_wait_flag (&a.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_cmpint (a.ret, ==, GST_FLOW_OK);
  g_assert_true (a.buf == held);
  gst_buffer_unref (a.buf);
}

/*
 * At max, a released buffer the pool cannot reuse (tagged memory) is
 * freed, and the waiting acquire gets a new one in its place.
 */
static void
test_discarded_release_lets_a_waiter_allocate (Fixture * f, gconstpointer d)
{
  GstBufferPoolAcquireParams dontwait = {
    .flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT,
  };
  GstBuffer *held, *other, *none = NULL;
  GstMemory *orig;
  GThread *t;
  Acquirer a;

  g_assert_true (configure (f->pool,
          "video/x-raw,format=GRAY8,width=64,height=64", 0, 1, 1, TRUE,
          NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  held = acquire (f->pool);
  g_assert_cmpint (gst_buffer_pool_acquire_buffer (f->pool, &none, &dontwait),
      ==, GST_FLOW_EOS);
  g_assert_null (none);
  t = start_acquirer (&a, f->pool);
  g_usleep (GST_TEST_BLOCKED_US);
  g_assert_cmpint (g_atomic_int_get (&a.done), ==, 0);
  /*
   * Its memory replaced while another buffer holds the original: reset_buffer
   * cannot restore it, the memory tag stays and the pool frees the buffer.
   */
  orig = gst_buffer_peek_memory (held, 0);
  other = gst_buffer_new ();
  gst_buffer_append_memory (other, gst_memory_ref (orig));
  gst_buffer_replace_memory (held, 0, gst_allocator_alloc (NULL,
          gst_buffer_get_size (held), NULL));
  gst_buffer_unref (held);
  g_assert_true (gst_test_wait_flag (&a.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_cmpint (a.ret, ==, GST_FLOW_OK);
  g_assert_nonnull (a.buf);
  g_assert_true (gst_is_hbmem_memory (gst_buffer_peek_memory (a.buf, 0)));
  g_assert_true (gst_buffer_peek_memory (a.buf, 0) != orig);
  gst_buffer_unref (a.buf);
  gst_buffer_unref (other);
}

static void
test_flushing_unblocks_a_waiting_acquire (Fixture * f, gconstpointer d)
{
  GstBuffer *held;
  GThread *t;
  Acquirer a;

  g_assert_true (configure (f->pool,
          "video/x-raw,format=GRAY8,width=64,height=64", 0, 1, 1, TRUE,
          NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  held = acquire (f->pool);
  t = start_acquirer (&a, f->pool);
  g_usleep (GST_TEST_BLOCKED_US);
  g_assert_cmpint (g_atomic_int_get (&a.done), ==, 0);
  gst_buffer_pool_set_flushing (f->pool, TRUE);
  g_assert_true (gst_test_wait_flag (&a.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_cmpint (a.ret, ==, GST_FLOW_FLUSHING);
  gst_buffer_pool_set_flushing (f->pool, FALSE);

  /* after the flush the held buffer still comes back to its slot */
  gst_buffer_unref (held);
  t = start_acquirer (&a, f->pool);
  g_assert_true (gst_test_wait_flag (&a.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_cmpint (a.ret, ==, GST_FLOW_OK);
  g_assert_true (a.buf == held);
  gst_buffer_unref (a.buf);
}

static void
test_deactivate_with_buffers_out_frees_on_return (Fixture * f,
    gconstpointer d)
{
  GstBuffer *b1, *b2, *b3 = NULL;
  guint bufs;

  g_assert_true (configure (f->pool,
          "video/x-raw,format=RGBA,width=33,height=17", 0, 2, 4, TRUE, NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  b1 = acquire (f->pool);
  b2 = acquire (f->pool);
  g_assert_true (gst_buffer_pool_set_active (f->pool, FALSE));
  g_assert_cmpint (gst_buffer_pool_acquire_buffer (f->pool, &b3, NULL), ==,
      GST_FLOW_FLUSHING);
  /* still out: their hb_mem buffers live */
  gst_test_heaps_used (&bufs);
  g_assert_cmpuint (bufs, ==, f->bufs_before + 2);
  gst_buffer_unref (b1);
  gst_buffer_unref (b2);
  gst_test_heaps_used (&bufs);
  g_assert_cmpuint (bufs, ==, f->bufs_before);
}

static void
test_shutdown_with_acquire_blocked_does_not_deadlock (Fixture * f,
    gconstpointer d)
{
  GstBuffer *held;
  GThread *t;
  Acquirer a;

  g_assert_true (configure (f->pool,
          "video/x-raw,format=NV12,width=64,height=64", 0, 1, 1, TRUE, NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  held = acquire (f->pool);
  t = start_acquirer (&a, f->pool);
  g_usleep (GST_TEST_BLOCKED_US);
  g_assert_true (gst_buffer_pool_set_active (f->pool, FALSE));
  g_assert_true (gst_test_wait_flag (&a.done, GST_TEST_REACT_US));
  g_thread_join (t);
  g_assert_cmpint (a.ret, ==, GST_FLOW_FLUSHING);
  gst_buffer_unref (held);
}

/* ---- prefault -------------------------------------------------------- */

/* Pages of the buffer's graphic planes resident in memory, and in all. */
static void
count_resident (GstBuffer * buf, gsize * resident, gsize * pages)
{
  GstHbmemMeta *meta = gst_buffer_get_hbmem_meta (buf);
  gsize page = (gsize) sysconf (_SC_PAGESIZE), i, n;
  guintptr start, end;
  guchar *vec;

  g_assert_nonnull (meta);
  g_assert_cmpint (meta->type, ==, HB_MEM_BUFFER_TYPE_GRAPHIC);
  g_assert_true (meta->graph_buf.is_contig);
  start = (guintptr) meta->graph_buf.virt_addr[0] & ~(guintptr) (page - 1);
  n = (gsize) meta->graph_buf.plane_cnt - 1;
  end = (guintptr) meta->graph_buf.virt_addr[n] + meta->graph_buf.size[n];
  n = (end - start + page - 1) / page;
  vec = g_malloc (n);
  g_assert_cmpint (mincore ((void *) start, n * page, vec), ==, 0);
  *resident = 0;
  for (i = 0; i < n; i++)
    *resident += vec[i] & 1;
  *pages = n;
  g_free (vec);
}

/* Whether this kernel can prefault a shared mapping at all (5.14+). */
static gboolean
kernel_can_populate (void)
{
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  int fd = memfd_create ("probe", MFD_CLOEXEC);
  gboolean ok = FALSE;
  void *map;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, page), ==, 0);
  map = mmap (NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  g_assert_true (map != MAP_FAILED);
  ok = madvise (map, page, MADV_POPULATE_WRITE) == 0;
  munmap (map, page);
  close (fd);
  return ok;
}

static void
test_min_buffers_are_prefaulted_unless_config_says_not (Fixture * f,
    gconstpointer d)
{
  const gchar *caps = "video/x-raw,format=NV12,width=640,height=480";
  GstBufferPool *lazy = gst_hbmem_buffer_pool_new ();
  GstStructure *config;
  gsize resident, pages;
  GstBuffer *buf, *second;

  /* the field: TRUE when absent, then as set */
  config = gst_buffer_pool_get_config (f->pool);
  g_assert_true (gst_hbmem_buffer_pool_config_get_prefault (config));
  gst_hbmem_buffer_pool_config_set_prefault (config, FALSE);
  g_assert_false (gst_hbmem_buffer_pool_config_get_prefault (config));
  gst_structure_free (config);

  if (gst_test_backend_is_dmabuf ()) {
    gst_object_unref (lazy);
    g_test_skip ("a driver's dma-buf mapping: mincore() says nothing about "
        "its pages");
    return;
  }
  if (!kernel_can_populate ()) {
    gst_object_unref (lazy);
    g_test_skip ("this kernel has no MADV_POPULATE_WRITE (Linux < 5.14)");
    return;
  }

  /* the min buffer is allocated at activation: backed; the next is not */
  g_assert_true (configure (f->pool, caps, 0, 1, 2, TRUE, NULL));
  g_assert_true (gst_buffer_pool_set_active (f->pool, TRUE));
  buf = acquire (f->pool);
  count_resident (buf, &resident, &pages);
  g_assert_cmpuint (pages, >=, 640 * 480 * 3 / 2 / 4096);
  g_assert_cmpuint (resident, ==, pages);
  second = acquire (f->pool);
  count_resident (second, &resident, &pages);
  g_assert_cmpuint (resident, <, pages);
  gst_buffer_unref (second);
  gst_buffer_unref (buf);

  /* a fresh memfd buffer nobody touched has no page yet */
  g_assert_true (configure (lazy, caps, 0, 1, 1, TRUE, NULL));
  config = gst_buffer_pool_get_config (lazy);
  gst_hbmem_buffer_pool_config_set_prefault (config, FALSE);
  g_assert_true (gst_buffer_pool_set_config (lazy, config));
  g_assert_true (gst_buffer_pool_set_active (lazy, TRUE));
  buf = acquire (lazy);
  count_resident (buf, &resident, &pages);
  g_assert_cmpuint (resident, <, pages);
  gst_buffer_unref (buf);
  g_assert_true (gst_buffer_pool_set_active (lazy, FALSE));
  gst_object_unref (lazy);
}

int
main (int argc, char **argv)
{
  guint i;
  int ret;

  gst_test_init (&argc, &argv);
  g_assert_cmpint (hb_mem_module_open (), ==, 0);

  add_test ("/gst/pool/config-refuses-what-hb-mem-cannot-hold",
      test_config_refuses_what_hb_mem_cannot_hold);
  add_test ("/gst/pool/allocation-failure-fails-activation-cleanly",
      test_allocation_failure_fails_activation_cleanly);
  add_test ("/gst/pool/format-mapping-round-trips",
      test_format_mapping_round_trips);
  for (i = 0; i < G_N_ELEMENTS (layouts); i++) {
    gchar *p1 = g_strdup_printf ("/gst/pool/layout-641x481/%s/contiguous",
        layouts[i].format);
    gchar *p2 = g_strdup_printf ("/gst/pool/layout-641x481/%s/per-plane",
        layouts[i].format);

    g_test_add (p1, Fixture, &layouts[i], fixture_setup,
        test_layout_contiguous, fixture_teardown);
    g_test_add (p2, Fixture, &layouts[i], fixture_setup,
        test_layout_per_plane, fixture_teardown);
    g_free (p1);
    g_free (p2);
  }
  add_test ("/gst/pool/alignment-padding-and-stride-masks",
      test_alignment_padding_and_stride_masks);
  add_test ("/gst/pool/alignment-per-plane-i420",
      test_alignment_per_plane_i420);
  add_test ("/gst/pool/bigger-size-grows-vstride",
      test_bigger_size_grows_vstride);
  add_test ("/gst/pool/other-caps-get-common-buffers",
      test_other_caps_get_common_buffers);
  add_test ("/gst/pool/config-allocator-is-used",
      test_config_allocator_is_used);
  add_test ("/gst/pool/videotestsrc-writes-nv12-into-pool-buffers",
      test_videotestsrc_writes_nv12_into_pool_buffers);
  add_test ("/gst/pool/videotestsrc-writes-i420-into-pool-buffers",
      test_videotestsrc_writes_i420_into_pool_buffers);
  add_test ("/gst/pool/recycling-returns-the-same-hb-buffer",
      test_recycling_returns_the_same_hb_buffer);
  add_test ("/gst/pool/merged-planes-are-restored-on-release",
      test_merged_planes_are_restored_on_release);
  add_test ("/gst/pool/flushing-unblocks-a-waiting-acquire",
      test_flushing_unblocks_a_waiting_acquire);
  add_test ("/gst/pool/deactivate-with-buffers-out-frees-on-return",
      test_deactivate_with_buffers_out_frees_on_return);
  add_test ("/gst/pool/shutdown-with-acquire-blocked-does-not-deadlock",
      test_shutdown_with_acquire_blocked_does_not_deadlock);
  add_test ("/gst/pool/recycling-is-lifo", test_recycling_is_lifo);
  add_test ("/gst/pool/release-wakes-a-waiting-acquire",
      test_release_wakes_a_waiting_acquire);
  add_test ("/gst/pool/discarded-release-lets-a-waiter-allocate",
      test_discarded_release_lets_a_waiter_allocate);
  add_test ("/gst/pool/min-buffers-are-prefaulted-unless-config-says-not",
      test_min_buffers_are_prefaulted_unless_config_says_not);

  ret = gst_test_run_and_deinit ();
  g_assert_cmpint (hb_mem_module_close (), ==, 0);
  return ret;
}
