/* SPDX-License-Identifier: MIT */
/*
 * GstHbmemBufferPool (see the header for the model).
 *
 * The layout math here mirrors hb_mem's (lib/format.c, the board's rule):
 * a W x H image (W, H = the stride and vstride we pass) has plane byte
 * strides W * bpp for packed formats (W rounded up to whole 4:2:2
 * macropixels), W and ceil(W / 2^xs) (times two when chroma is
 * interleaved) for planar ones, and planes packed back to back.
 * set_config uses it to pick W and H; alloc_buffer checks every graphic
 * buffer against it (plane size == stride x lines) before describing the
 * planes in the GstVideoMeta, so a disagreement is an allocation error,
 * never a wrong picture.
 */
#include "gsthbmembufferpool.h"
#include "gsthbmemallocator.h"
#include "gsthbmemmeta.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (gst_hbmem_buffer_pool_debug);
#define GST_CAT_DEFAULT gst_hbmem_buffer_pool_debug

enum hbmem_layout
{
  LAYOUT_PACKED,                /* one plane, bpp bytes per pixel; xs 1:
                                 * two pixels share a macropixel (4:2:2) */
  LAYOUT_PLANAR3,               /* Y, U, V */
  LAYOUT_SEMI2,                 /* Y, interleaved chroma */
};

typedef struct
{
  GstVideoFormat gst;
  mem_pixel_format_t hb;
  enum hbmem_layout layout;
  guint8 bpp;
  guint8 xs, ys;
} HbmemFormat;

/* Only exact matches: same planes, same sample order. */
static const HbmemFormat hbmem_formats[] = {
  {GST_VIDEO_FORMAT_NV12, MEM_PIX_FMT_NV12, LAYOUT_SEMI2, 1, 1, 1},
  {GST_VIDEO_FORMAT_NV21, MEM_PIX_FMT_NV21, LAYOUT_SEMI2, 1, 1, 1},
  {GST_VIDEO_FORMAT_I420, MEM_PIX_FMT_YUV420P, LAYOUT_PLANAR3, 1, 1, 1},
  {GST_VIDEO_FORMAT_Y42B, MEM_PIX_FMT_YUV422P, LAYOUT_PLANAR3, 1, 1, 0},
  {GST_VIDEO_FORMAT_Y444, MEM_PIX_FMT_YUV444P, LAYOUT_PLANAR3, 1, 0, 0},
  {GST_VIDEO_FORMAT_NV16, MEM_PIX_FMT_NV16, LAYOUT_SEMI2, 1, 1, 0},
  {GST_VIDEO_FORMAT_NV61, MEM_PIX_FMT_NV61, LAYOUT_SEMI2, 1, 1, 0},
  {GST_VIDEO_FORMAT_NV24, MEM_PIX_FMT_NV24, LAYOUT_SEMI2, 1, 0, 0},
  {GST_VIDEO_FORMAT_YUY2, MEM_PIX_FMT_YUYV422, LAYOUT_PACKED, 2, 1, 0},
  {GST_VIDEO_FORMAT_YVYU, MEM_PIX_FMT_YVYU422, LAYOUT_PACKED, 2, 1, 0},
  {GST_VIDEO_FORMAT_UYVY, MEM_PIX_FMT_UYVY422, LAYOUT_PACKED, 2, 1, 0},
  {GST_VIDEO_FORMAT_VYUY, MEM_PIX_FMT_VYUY422, LAYOUT_PACKED, 2, 1, 0},
  {GST_VIDEO_FORMAT_v308, MEM_PIX_FMT_YUV444, LAYOUT_PACKED, 3, 0, 0},
  {GST_VIDEO_FORMAT_GRAY8, MEM_PIX_FMT_YUV400, LAYOUT_PACKED, 1, 0, 0},
  {GST_VIDEO_FORMAT_RGB16, MEM_PIX_FMT_RGB565, LAYOUT_PACKED, 2, 0, 0},
  {GST_VIDEO_FORMAT_RGB, MEM_PIX_FMT_RGB24, LAYOUT_PACKED, 3, 0, 0},
  {GST_VIDEO_FORMAT_BGR, MEM_PIX_FMT_BGR24, LAYOUT_PACKED, 3, 0, 0},
  {GST_VIDEO_FORMAT_ARGB, MEM_PIX_FMT_ARGB, LAYOUT_PACKED, 4, 0, 0},
  {GST_VIDEO_FORMAT_RGBA, MEM_PIX_FMT_RGBA, LAYOUT_PACKED, 4, 0, 0},
  {GST_VIDEO_FORMAT_ABGR, MEM_PIX_FMT_ABGR, LAYOUT_PACKED, 4, 0, 0},
  {GST_VIDEO_FORMAT_BGRA, MEM_PIX_FMT_BGRA, LAYOUT_PACKED, 4, 0, 0},
};

/* How far set_config grows a stride or vstride looking for a fit. */
#define HBMEM_MAX_GROW 8192

/* A computed layout: byte stride, lines and byte offset of each plane. */
typedef struct
{
  guint n_planes;
  gsize stride[GST_VIDEO_MAX_PLANES];
  gsize lines[GST_VIDEO_MAX_PLANES];
  gsize visible[GST_VIDEO_MAX_PLANES];  /* bytes from plane start to (0,0) */
  gsize total;
} HbmemLayout;

/* The original memories of a pool buffer, restored by reset_buffer. */
typedef struct
{
  guint n;
  GstMemory *mem[MAX_GRAPHIC_BUF_COMP];
} HbmemBufferMems;

struct _GstHbmemBufferPool
{
  GstBufferPool parent;

  GstAllocator *allocator;
  gboolean video;
  gboolean contiguous;
  gboolean prefault;
  gint starting;                /* in start(): allocating the min buffers */
  const HbmemFormat *fmt;
  GstVideoInfo info;            /* visible size */
  GstVideoAlignment align;      /* as applied: padding right/bottom filled */
  gint hb_stride, hb_vstride;   /* pixels, lines passed to hb_mem */
  HbmemLayout layout;
  gsize size;                   /* bytes per buffer */

  /* LIFO of released buffers (see hbmem_pool_release_buffer) */
  GMutex lock;
  GCond cond;
  GQueue free;                  /* head: most recently released */
  guint64 gen;                  /* bumped by every release and flush */
  guint waiters;                /* acquires in g_cond_wait() */
};

G_DEFINE_TYPE_WITH_CODE (GstHbmemBufferPool, gst_hbmem_buffer_pool,
    GST_TYPE_BUFFER_POOL,
    GST_DEBUG_CATEGORY_INIT (gst_hbmem_buffer_pool_debug, "hbmembufferpool", 0,
        "hbmem buffer pool"));

static GQuark hbmem_mems_quark;

static const HbmemFormat *
hbmem_format_find (GstVideoFormat format)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (hbmem_formats); i++)
    if (hbmem_formats[i].gst == format)
      return &hbmem_formats[i];
  return NULL;
}

/**
 * gst_hbmem_video_format_to_hb:
 * @format: a GstVideoFormat
 *
 * Returns: the mem_pixel_format_t with the same layout, or MEM_PIX_FMT_NONE
 */
gint
gst_hbmem_video_format_to_hb (GstVideoFormat format)
{
  const HbmemFormat *f = hbmem_format_find (format);

  return f ? (gint) f->hb : MEM_PIX_FMT_NONE;
}

/**
 * gst_hbmem_video_format_from_hb:
 * @format: a mem_pixel_format_t
 *
 * Returns: the GstVideoFormat with the same layout, or
 *   GST_VIDEO_FORMAT_UNKNOWN (Bayer and the formats GStreamer lacks)
 */
GstVideoFormat
gst_hbmem_video_format_from_hb (gint format)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (hbmem_formats); i++)
    if ((gint) hbmem_formats[i].hb == format)
      return hbmem_formats[i].gst;
  return GST_VIDEO_FORMAT_UNKNOWN;
}

static gsize
ceil_shift (gsize v, guint s)
{
  return (v + (((gsize) 1 << s) - 1)) >> s;
}

/* hb_mem's layout of a W x H image (see the file comment). */
static void
hbmem_layout_compute (const HbmemFormat * f, gsize W, gsize H,
    guint pad_left, guint pad_top, HbmemLayout * l)
{
  gsize cw = ceil_shift (W, f->xs), ch = ceil_shift (H, f->ys);
  guint i;

  memset (l, 0, sizeof (*l));
  switch (f->layout) {
    case LAYOUT_PACKED:
      l->n_planes = 1;
      /* whole macropixels: an odd width still gets its last chroma */
      l->stride[0] = (cw << f->xs) * f->bpp;
      l->lines[0] = H;
      l->visible[0] = (gsize) pad_top * l->stride[0] + (gsize) pad_left *
          f->bpp;
      break;
    case LAYOUT_PLANAR3:
      l->n_planes = 3;
      l->stride[0] = W;
      l->lines[0] = H;
      l->visible[0] = (gsize) pad_top * W + pad_left;
      for (i = 1; i < 3; i++) {
        l->stride[i] = cw;
        l->lines[i] = ch;
        l->visible[i] = (gsize) (pad_top >> f->ys) * cw + (pad_left >> f->xs);
      }
      break;
    case LAYOUT_SEMI2:
      l->n_planes = 2;
      l->stride[0] = W;
      l->lines[0] = H;
      l->visible[0] = (gsize) pad_top * W + pad_left;
      l->stride[1] = 2 * cw;
      l->lines[1] = ch;
      l->visible[1] = (gsize) (pad_top >> f->ys) * 2 * cw +
          2 * (gsize) (pad_left >> f->xs);
      break;
  }
  for (i = 0; i < l->n_planes; i++)
    l->total += l->stride[i] * l->lines[i];
}

static gboolean
hbmem_layout_strides_aligned (const HbmemLayout * l,
    const GstVideoAlignment * align)
{
  guint i;

  for (i = 0; i < l->n_planes; i++)
    if (l->stride[i] & align->stride_align[i])
      return FALSE;
  return TRUE;
}

static const gchar **
hbmem_pool_get_options (GstBufferPool * pool)
{
  static const gchar *options[] = {
    GST_BUFFER_POOL_OPTION_VIDEO_META,
    GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT,
    NULL
  };

  return options;
}

/* Pick stride and vstride for the video caps in @info; fills the pool. */
static gboolean
hbmem_pool_set_video_layout (GstHbmemBufferPool * self, GstStructure * config,
    guint req_size)
{
  GstVideoAlignment align;
  gsize W, H, w0, h0;
  HbmemLayout l;

  /* GstVideoInfo takes width=0 / height=0 caps; hb_mem has no such frame */
  if (GST_VIDEO_INFO_WIDTH (&self->info) <= 0 ||
      GST_VIDEO_INFO_HEIGHT (&self->info) <= 0) {
    GST_WARNING_OBJECT (self, "empty frame (%dx%d)",
        GST_VIDEO_INFO_WIDTH (&self->info), GST_VIDEO_INFO_HEIGHT (&self->info));
    return FALSE;
  }
  gst_video_alignment_reset (&align);
  if (gst_buffer_pool_config_has_option (config,
          GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT) &&
      !gst_buffer_pool_config_get_video_alignment (config, &align)) {
    GST_WARNING_OBJECT (self, "video alignment option without an alignment");
    return FALSE;
  }
  w0 = (gsize) GST_VIDEO_INFO_WIDTH (&self->info) + align.padding_left +
      align.padding_right;
  h0 = (gsize) GST_VIDEO_INFO_HEIGHT (&self->info) + align.padding_top +
      align.padding_bottom;

  for (W = w0; W < w0 + HBMEM_MAX_GROW; W++) {
    hbmem_layout_compute (self->fmt, W, h0, align.padding_left,
        align.padding_top, &l);
    if (hbmem_layout_strides_aligned (&l, &align))
      break;
  }
  if (W >= w0 + HBMEM_MAX_GROW || W > G_MAXINT) {
    GST_WARNING_OBJECT (self, "no stride meets the alignment masks");
    return FALSE;
  }
  /* a bigger requested size (a V4L2 sizeimage, say) grows the vstride */
  for (H = h0; l.total < req_size && H < h0 + HBMEM_MAX_GROW; H++)
    hbmem_layout_compute (self->fmt, W, H + 1, align.padding_left,
        align.padding_top, &l);
  if (l.total < req_size || H > G_MAXINT || l.total > G_MAXUINT) {
    GST_WARNING_OBJECT (self, "cannot lay out %u bytes", req_size);
    return FALSE;
  }

  align.padding_right = W - GST_VIDEO_INFO_WIDTH (&self->info) -
      align.padding_left;
  align.padding_bottom = H - GST_VIDEO_INFO_HEIGHT (&self->info) -
      align.padding_top;
  self->align = align;
  self->hb_stride = W;
  self->hb_vstride = H;
  self->layout = l;
  self->size = l.total;
  return TRUE;
}

static gboolean
hbmem_pool_set_config (GstBufferPool * pool, GstStructure * config)
{
  GstHbmemBufferPool *self = GST_HBMEM_BUFFER_POOL (pool);
  GstAllocator *allocator = NULL;
  GstAllocationParams params;
  guint size, min, max;
  GstCaps *caps;

  if (!gst_buffer_pool_config_get_params (config, &caps, &size, &min, &max)) {
    GST_WARNING_OBJECT (pool, "invalid config");
    return FALSE;
  }
  if (!caps) {
    GST_WARNING_OBJECT (pool, "no caps in config");
    return FALSE;
  }
  gst_buffer_pool_config_get_allocator (config, &allocator, &params);

  self->video = FALSE;
  self->fmt = NULL;
  if (gst_video_info_from_caps (&self->info, caps)) {
    GstVideoFormat format = GST_VIDEO_INFO_FORMAT (&self->info);

    self->fmt = hbmem_format_find (format);
    if (!self->fmt) {
      GST_WARNING_OBJECT (pool, "hb_mem has no pixel format matching %s",
          gst_video_format_to_string (format));
      return FALSE;
    }
    if (GST_VIDEO_INFO_IS_INTERLACED (&self->info) &&
        GST_VIDEO_INFO_INTERLACE_MODE (&self->info) ==
        GST_VIDEO_INTERLACE_MODE_ALTERNATE) {
      GST_WARNING_OBJECT (pool, "alternate-field video is not supported");
      return FALSE;
    }
    self->video = TRUE;
    if (!hbmem_pool_set_video_layout (self, config, size))
      return FALSE;
  } else {
    if (size == 0) {
      GST_WARNING_OBJECT (pool, "size 0 for non-video caps %" GST_PTR_FORMAT,
          caps);
      return FALSE;
    }
    self->size = size;
  }
  self->contiguous = gst_hbmem_buffer_pool_config_get_contiguous (config);
  self->prefault = gst_hbmem_buffer_pool_config_get_prefault (config);

  if (!gst_is_hbmem_allocator (allocator)) {
    allocator = gst_hbmem_allocator_new ();
    if (!allocator) {
      GST_ERROR_OBJECT (pool, "cannot make an hbmem allocator");
      return FALSE;
    }
    gst_buffer_pool_config_set_allocator (config, allocator, &params);
  } else {
    gst_object_ref (allocator);
  }
  gst_clear_object (&self->allocator);
  self->allocator = allocator;

  gst_buffer_pool_config_set_params (config, caps, self->size, min, max);
  GST_DEBUG_OBJECT (pool, "%s, %" G_GSIZE_FORMAT " bytes, stride %d vstride "
      "%d, %s", self->video ? "video" : "common buffers", self->size,
      self->hb_stride, self->hb_vstride,
      self->contiguous ? "contiguous" : "per-plane");
  return GST_BUFFER_POOL_CLASS (gst_hbmem_buffer_pool_parent_class)->set_config
      (pool, config);
}

static void
hbmem_buffer_mems_free (gpointer data)
{
  HbmemBufferMems *m = data;
  guint i;

  for (i = 0; i < m->n; i++)
    gst_memory_unref (m->mem[i]);
  g_free (m);
}

/* Keep a ref on @mems so reset_buffer can put them back. */
static void
hbmem_buffer_keep_mems (GstBuffer * buffer, GstMemory ** mems, guint n)
{
  HbmemBufferMems *m = g_new0 (HbmemBufferMems, 1);
  guint i;

  m->n = n;
  for (i = 0; i < n; i++)
    m->mem[i] = gst_memory_ref (mems[i]);
  gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (buffer), hbmem_mems_quark,
      m, hbmem_buffer_mems_free);
}

/* Check @g against the layout and fill the video meta's offsets/strides. */
static gboolean
hbmem_pool_describe (GstHbmemBufferPool * self, const hb_mem_graphic_buf_t * g,
    gsize offset[GST_VIDEO_MAX_PLANES], gint stride[GST_VIDEO_MAX_PLANES])
{
  const HbmemLayout *l = &self->layout;
  gsize start = 0;
  guint i;

  if ((guint) g->plane_cnt != l->n_planes)
    return FALSE;
  for (i = 0; i < l->n_planes; i++) {
    if (g->size[i] != l->stride[i] * l->lines[i] || l->stride[i] > G_MAXINT)
      return FALSE;
    if (g->is_contig)
      start = (gsize) (g->virt_addr[i] - g->virt_addr[0]);
    offset[i] = start + l->visible[i];
    stride[i] = (gint) l->stride[i];
    if (!g->is_contig)
      start += g->size[i];
  }
  return TRUE;
}

/*
 * Back [addr, addr + size) with pages now (MADV_POPULATE_WRITE, Linux
 * 5.14), so that no frame written into a fresh buffer takes a page fault
 * per 4 KiB: on this project's memfd backend in a VM a memset of a fresh
 * 12 MB 4K NV12 buffer took 23 ms (0.3 ms once backed), populating it
 * here 12 ms. Only the min buffers the pool allocates when it starts, before
 * streaming, are prefaulted: a buffer allocated on demand later would pay
 * the populate in the streaming thread anyway, and in full even if nobody
 * ever writes it. hb_mem's own heaps on a board are reserved memory,
 * always backed; this makes memfd and dma-heap pages behave alike.
 * Mappings that cannot be populated (a driver's PFN map, an older kernel:
 * EINVAL) keep faulting on first touch; that is only slower, so it is
 * logged, not an error.
 */
static void
hbmem_pool_prefault (GstHbmemBufferPool * self, const guint8 * ptr,
    gsize size)
{
  guintptr page = (guintptr) sysconf (_SC_PAGESIZE);
  guintptr addr = (guintptr) ptr, start = addr & ~(page - 1), end;

  if (!ptr || !size || addr + size < addr)
    return;
  end = (addr + size + page - 1) & ~(page - 1);
  if (madvise ((void *) start, end - start, MADV_POPULATE_WRITE) < 0)
    GST_DEBUG_OBJECT (self, "cannot prefault %" G_GSIZE_FORMAT " bytes at "
        "%p: %s", (gsize) (end - start), (void *) start, g_strerror (errno));
}

static gboolean
hbmem_pool_prefaulting (GstHbmemBufferPool * self)
{
  return self->prefault && g_atomic_int_get (&self->starting);
}

static GstFlowReturn
hbmem_pool_alloc_video (GstHbmemBufferPool * self, GstBuffer * buffer)
{
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0 };
  gint stride[GST_VIDEO_MAX_PLANES] = { 0 };
  GstMemory *mems[MAX_GRAPHIC_BUF_COMP];
  hb_mem_graphic_buf_t g;
  GstVideoMeta *vmeta;
  guint i, n;

  if (!gst_hbmem_allocator_alloc_graph_buf (self->allocator,
          GST_VIDEO_INFO_WIDTH (&self->info),
          GST_VIDEO_INFO_HEIGHT (&self->info), self->fmt->hb, self->hb_stride,
          self->hb_vstride, self->contiguous, &g, mems, &n))
    return GST_FLOW_ERROR;
  for (i = 0; i < n; i++)
    gst_buffer_append_memory (buffer, mems[i]);
  hbmem_buffer_keep_mems (buffer, mems, n);
  for (i = 0; hbmem_pool_prefaulting (self) && i < (guint) g.plane_cnt; i++)
    hbmem_pool_prefault (self, g.virt_addr[i], g.size[i]);

  if (!hbmem_pool_describe (self, &g, offset, stride)) {
    GST_ERROR_OBJECT (self, "hb_mem laid out %dx%d format %d differently "
        "than expected", g.width, g.height, g.format);
    return GST_FLOW_ERROR;
  }
  vmeta = gst_buffer_add_video_meta_full (buffer, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_INFO_FORMAT (&self->info), GST_VIDEO_INFO_WIDTH (&self->info),
      GST_VIDEO_INFO_HEIGHT (&self->info), self->layout.n_planes, offset,
      stride);
  /*
   * The meta's alignment carries the padding only: GStreamer re-derives
   * the strides from it and the masks would make it pick its own stride
   * rule's answer, not hb_mem's. The strides above already meet the masks.
   */
  {
    GstVideoAlignment meta_align = self->align;

    memset (meta_align.stride_align, 0, sizeof (meta_align.stride_align));
    if (!gst_video_meta_set_alignment (vmeta, meta_align))
      GST_WARNING_OBJECT (self, "the video meta refused the padding");
  }
  gst_buffer_add_hbmem_meta_graph (buffer, &g);
  return GST_FLOW_OK;
}

static GstFlowReturn
hbmem_pool_alloc_buffer (GstBufferPool * pool, GstBuffer ** out,
    GstBufferPoolAcquireParams * params)
{
  GstHbmemBufferPool *self = GST_HBMEM_BUFFER_POOL (pool);
  GstBuffer *buffer = gst_buffer_new ();
  hb_mem_common_buf_t c;
  GstMemory *mem;
  GstFlowReturn ret = GST_FLOW_OK;

  if (self->video) {
    ret = hbmem_pool_alloc_video (self, buffer);
  } else {
    mem = gst_hbmem_allocator_alloc_com_buf (self->allocator, self->size, &c);
    if (mem) {
      gst_buffer_append_memory (buffer, mem);
      hbmem_buffer_keep_mems (buffer, &mem, 1);
      if (hbmem_pool_prefaulting (self))
        hbmem_pool_prefault (self, c.virt_addr, c.size);
      gst_buffer_add_hbmem_meta_com (buffer, &c);
    } else {
      ret = GST_FLOW_ERROR;
    }
  }
  if (ret != GST_FLOW_OK) {
    gst_buffer_unref (buffer);
    return ret;
  }
  *out = buffer;
  return GST_FLOW_OK;
}

/*
 * Put the buffer's own memories back if someone replaced them (a merge on
 * map, say), so the buffer stays in its slot; if an original is held by
 * another buffer now, leave the tag set and the base class discards it.
 */
static void
hbmem_pool_reset_buffer (GstBufferPool * pool, GstBuffer * buffer)
{
  HbmemBufferMems *m = gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST
      (buffer), hbmem_mems_quark);
  gboolean same;
  guint i;

  if (m) {
    same = gst_buffer_n_memory (buffer) == m->n;
    for (i = 0; same && i < m->n; i++)
      same = gst_buffer_peek_memory (buffer, i) == m->mem[i];
    if (!same) {
      gboolean free_to_restore = TRUE;

      for (i = 0; i < m->n; i++)
        if (!gst_memory_is_writable (m->mem[i]))
          free_to_restore = FALSE;
      if (free_to_restore) {
        GST_DEBUG_OBJECT (pool, "restoring the memories of %p", buffer);
        gst_buffer_remove_all_memory (buffer);
        for (i = 0; i < m->n; i++)
          gst_buffer_append_memory (buffer, gst_memory_ref (m->mem[i]));
        same = TRUE;
      }
    }
    if (same)
      GST_BUFFER_FLAG_UNSET (buffer, GST_BUFFER_FLAG_TAG_MEMORY);
  }
  GST_BUFFER_POOL_CLASS (gst_hbmem_buffer_pool_parent_class)->reset_buffer
      (pool, buffer);
}

/*
 * V4L2 interop (GStreamer 1.22.0 v4l2 closes the dma-buf fds it imports;
 * see gst_hbmem_memory_fd_is_intact()): a buffer whose memory lost its fd
 * to an importer gets a memory with a fresh dup before anyone sees it
 * again. Checked at acquire rather than at release because v4l2 may
 * close the fd just after it dropped the buffer.
 */
static void
hbmem_pool_renew_closed_fds (GstHbmemBufferPool * self, GstBuffer * buffer)
{
  HbmemBufferMems *m = gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST
      (buffer), hbmem_mems_quark);
  GstMemory *mem, *fresh;
  guint i;

  if (!m || gst_buffer_n_memory (buffer) != m->n)
    return;
  for (i = 0; i < m->n; i++) {
    mem = gst_buffer_peek_memory (buffer, i);
    if (mem != m->mem[i] || gst_hbmem_memory_fd_is_intact (mem))
      continue;
    fresh = gst_hbmem_memory_renew (mem);
    if (!fresh) {
      GST_WARNING_OBJECT (self, "cannot renew memory %u of %p", i, buffer);
      continue;
    }
    GST_DEBUG_OBJECT (self, "memory %u of %p: fd %d was closed by an "
        "importer, now fd %d", i, buffer, gst_fd_memory_get_fd (mem),
        gst_fd_memory_get_fd (fresh));
    gst_memory_unref (m->mem[i]);
    m->mem[i] = gst_memory_ref (fresh);
    gst_buffer_replace_memory (buffer, i, fresh);
    GST_BUFFER_FLAG_UNSET (buffer, GST_BUFFER_FLAG_TAG_MEMORY);
  }
}

/*
 * Recycling order. The base class queues released buffers FIFO, so a pool
 * that grew to n buffers cycles through all of them and every frame is
 * written into the buffer touched longest ago, cache-cold. We keep the
 * released buffers on a stack instead and hand out the most recent one.
 * The base class still allocates (acquire with DONTWAIT: a new buffer
 * while under max, else GST_FLOW_EOS), discards (release of a buffer it
 * would not queue) and frees (stop gets the stack back first); waiting
 * for a release happens here, on our cond, woken by every release and by
 * flush_start.
 */
static gboolean
hbmem_pool_buffer_reusable (GstBufferPool * pool, GstBuffer * buffer)
{
  GstHbmemBufferPool *self = GST_HBMEM_BUFFER_POOL (pool);

  return !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_TAG_MEMORY) &&
      gst_buffer_get_size (buffer) == self->size &&
      gst_buffer_is_all_memory_writable (buffer);
}

static void
hbmem_pool_release_buffer (GstBufferPool * pool, GstBuffer * buffer)
{
  GstHbmemBufferPool *self = GST_HBMEM_BUFFER_POOL (pool);

  if (!hbmem_pool_buffer_reusable (pool, buffer)) {
    /* the base class frees it: a waiter may allocate in its place */
    GST_BUFFER_POOL_CLASS (gst_hbmem_buffer_pool_parent_class)->
        release_buffer (pool, buffer);
    g_mutex_lock (&self->lock);
  } else {
    g_mutex_lock (&self->lock);
    g_queue_push_head (&self->free, buffer);
  }
  self->gen++;
  /* a broadcast is a futex syscall even when nobody waits */
  if (self->waiters)
    g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static GstFlowReturn
hbmem_pool_acquire_lifo (GstHbmemBufferPool * self, GstBuffer ** buffer,
    GstBufferPoolAcquireParams * params)
{
  GstBufferPool *pool = GST_BUFFER_POOL_CAST (self);
  GstBufferPoolAcquireParams p = { 0, };
  gboolean dontwait = params &&
      (params->flags & GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT);
  GstFlowReturn ret;
  guint64 gen;

  if (params)
    p = *params;
  p.flags |= GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT;

  g_mutex_lock (&self->lock);
  for (;;) {
    if (GST_BUFFER_POOL_IS_FLUSHING (pool)) {
      ret = GST_FLOW_FLUSHING;
      break;
    }
    *buffer = g_queue_pop_head (&self->free);
    if (*buffer) {
      ret = GST_FLOW_OK;
      break;
    }
    gen = self->gen;
    g_mutex_unlock (&self->lock);
    ret = GST_BUFFER_POOL_CLASS (gst_hbmem_buffer_pool_parent_class)->
        acquire_buffer (pool, buffer, &p);
    if (ret != GST_FLOW_EOS || dontwait)
      return ret;
    g_mutex_lock (&self->lock);
    /* at max: wait for a release or a flush unless one came meanwhile */
    while (self->gen == gen && !GST_BUFFER_POOL_IS_FLUSHING (pool)) {
      self->waiters++;
      g_cond_wait (&self->cond, &self->lock);
      self->waiters--;
    }
  }
  g_mutex_unlock (&self->lock);
  return ret;
}

static GstFlowReturn
hbmem_pool_acquire_buffer (GstBufferPool * pool, GstBuffer ** buffer,
    GstBufferPoolAcquireParams * params)
{
  GstFlowReturn ret;

  ret = hbmem_pool_acquire_lifo (GST_HBMEM_BUFFER_POOL (pool), buffer, params);
  if (ret == GST_FLOW_OK)
    hbmem_pool_renew_closed_fds (GST_HBMEM_BUFFER_POOL (pool), *buffer);
  return ret;
}

static void
hbmem_pool_flush_start (GstBufferPool * pool)
{
  GstHbmemBufferPool *self = GST_HBMEM_BUFFER_POOL (pool);

  /* the base class set the flushing flag before calling us */
  g_mutex_lock (&self->lock);
  self->gen++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  /* GstBufferPool itself has no flush_start in 1.22 */
  if (GST_BUFFER_POOL_CLASS (gst_hbmem_buffer_pool_parent_class)->flush_start)
    GST_BUFFER_POOL_CLASS (gst_hbmem_buffer_pool_parent_class)->flush_start
        (pool);
}

/* Hand the stack back to the base class's queue so its stop frees it. */
/* The base class allocates the min buffers here: those are prefaulted. */
static gboolean
hbmem_pool_start (GstBufferPool * pool)
{
  GstHbmemBufferPool *self = GST_HBMEM_BUFFER_POOL (pool);
  gboolean ok;

  g_atomic_int_set (&self->starting, 1);
  ok = GST_BUFFER_POOL_CLASS (gst_hbmem_buffer_pool_parent_class)->start
      (pool);
  g_atomic_int_set (&self->starting, 0);
  return ok;
}

static gboolean
hbmem_pool_stop (GstBufferPool * pool)
{
  GstHbmemBufferPool *self = GST_HBMEM_BUFFER_POOL (pool);
  GstBufferPoolClass *parent =
      GST_BUFFER_POOL_CLASS (gst_hbmem_buffer_pool_parent_class);
  GQueue stack = G_QUEUE_INIT;
  GstBuffer *buffer;

  g_mutex_lock (&self->lock);
  stack = self->free;
  g_queue_init (&self->free);
  g_mutex_unlock (&self->lock);
  while ((buffer = g_queue_pop_head (&stack)))
    parent->release_buffer (pool, buffer);
  return parent->stop (pool);
}

static void
gst_hbmem_buffer_pool_finalize (GObject * object)
{
  GstHbmemBufferPool *self = GST_HBMEM_BUFFER_POOL (object);

  gst_clear_object (&self->allocator);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (gst_hbmem_buffer_pool_parent_class)->finalize (object);
}

static void
gst_hbmem_buffer_pool_class_init (GstHbmemBufferPoolClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBufferPoolClass *pool_class = GST_BUFFER_POOL_CLASS (klass);

  hbmem_mems_quark = g_quark_from_static_string ("GstHbmemBufferPoolMems");
  gobject_class->finalize = gst_hbmem_buffer_pool_finalize;
  pool_class->get_options = hbmem_pool_get_options;
  pool_class->set_config = hbmem_pool_set_config;
  pool_class->alloc_buffer = hbmem_pool_alloc_buffer;
  pool_class->reset_buffer = hbmem_pool_reset_buffer;
  pool_class->acquire_buffer = hbmem_pool_acquire_buffer;
  pool_class->release_buffer = hbmem_pool_release_buffer;
  pool_class->flush_start = hbmem_pool_flush_start;
  pool_class->start = hbmem_pool_start;
  pool_class->stop = hbmem_pool_stop;
}

static void
gst_hbmem_buffer_pool_init (GstHbmemBufferPool * self)
{
  self->contiguous = TRUE;
  self->prefault = TRUE;
  gst_video_alignment_reset (&self->align);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->free);
}

/**
 * gst_hbmem_buffer_pool_new:
 *
 * Returns: (transfer full): a new, unconfigured pool
 */
GstBufferPool *
gst_hbmem_buffer_pool_new (void)
{
  return gst_object_ref_sink (g_object_new (GST_TYPE_HBMEM_BUFFER_POOL, NULL));
}

/* A boolean field of @config; TRUE when it is absent (both flags' default). */
static gboolean
config_get_flag (GstStructure * config, const gchar * field)
{
  gboolean value;

  return gst_structure_get_boolean (config, field, &value) ? value : TRUE;
}

/**
 * gst_hbmem_buffer_pool_config_set_contiguous:
 * @config: a pool config
 * @contiguous: TRUE for one memory at offset 0 per buffer (the default),
 *   FALSE for a memory (and an hb_mem allocation) per plane
 */
void
gst_hbmem_buffer_pool_config_set_contiguous (GstStructure * config,
    gboolean contiguous)
{
  g_return_if_fail (config != NULL);
  gst_structure_set (config, GST_HBMEM_BUFFER_POOL_CONFIG_CONTIGUOUS,
      G_TYPE_BOOLEAN, contiguous, NULL);
}

/**
 * gst_hbmem_buffer_pool_config_get_contiguous:
 * @config: a pool config
 *
 * Returns: the layout @config asks for (TRUE when the field is absent)
 */
gboolean
gst_hbmem_buffer_pool_config_get_contiguous (GstStructure * config)
{
  g_return_val_if_fail (config != NULL, TRUE);
  return config_get_flag (config, GST_HBMEM_BUFFER_POOL_CONFIG_CONTIGUOUS);
}

/**
 * gst_hbmem_buffer_pool_config_set_prefault:
 * @config: a pool config
 * @prefault: TRUE (the default) to back the min buffers with pages when
 *   the pool allocates them at activation, FALSE to leave that to their
 *   first write
 *
 * Prefaulting moves the page faults of a fresh buffer's first write (one
 * per page) to the pool's activation, before streaming; the price is that
 * the min buffers take their full size of memory at once, used or not.
 * Buffers the pool allocates on demand later are never prefaulted.
 */
void
gst_hbmem_buffer_pool_config_set_prefault (GstStructure * config,
    gboolean prefault)
{
  g_return_if_fail (config != NULL);
  gst_structure_set (config, GST_HBMEM_BUFFER_POOL_CONFIG_PREFAULT,
      G_TYPE_BOOLEAN, prefault, NULL);
}

/**
 * gst_hbmem_buffer_pool_config_get_prefault:
 * @config: a pool config
 *
 * Returns: whether @config asks for prefaulted buffers (TRUE when the
 *   field is absent)
 */
gboolean
gst_hbmem_buffer_pool_config_get_prefault (GstStructure * config)
{
  g_return_val_if_fail (config != NULL, TRUE);
  return config_get_flag (config, GST_HBMEM_BUFFER_POOL_CONFIG_PREFAULT);
}
