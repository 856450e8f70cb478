/* SPDX-License-Identifier: MIT */
/*
 * GstHbmemAllocator: GstMemory over hb_mem buffers (see the header for the
 * model).
 *
 * GstFdMemory is private in 1.22, so the per-memory state (which hb_mem
 * buffer, where its mapping starts) hangs off the memory as qdata. The
 * qdata's destroy notify runs when the memory is finalized, before the fd
 * allocator's free: it drops the memory's reference on the buffer record,
 * and the last reference frees the hb_mem buffer. The fd allocator's own
 * free then neither unmaps (its lazy mapping is never made: our map
 * function replaces it) nor closes (DONT_CLOSE).
 *
 * Both concrete types (fd and dmabuf parents) share this file's class and
 * instance functions; the instance data sits after the parent struct.
 */
#include "gsthbmemallocator.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (gst_hbmem_allocator_debug);
#define GST_CAT_DEFAULT gst_hbmem_allocator_debug

typedef struct
{
  gint64 usage;
  GstHbmemHeap heap;
  gboolean module_open;
} GstHbmemAllocatorData;

typedef struct
{
  GstFdAllocator parent;
  GstHbmemAllocatorData d;
} GstHbmemFdAllocator;

typedef struct
{
  GstFdAllocatorClass parent_class;
} GstHbmemFdAllocatorClass;

typedef struct
{
  GstDmaBufAllocator parent;
  GstHbmemAllocatorData d;
} GstHbmemDmaBufAllocator;

typedef struct
{
  GstDmaBufAllocatorClass parent_class;
} GstHbmemDmaBufAllocatorClass;

/* One hb_mem buffer; shared by all its memories. */
typedef struct
{
  gint refcount;
  gboolean graphic;
  gboolean cached;
  gint32 free_fd;               /* the fd hb_mem_free_buf() takes */
  hb_mem_common_buf_t com;
  hb_mem_graphic_buf_t graph;
} HbmemRecord;

/*
 * Per GstMemory: which record, which fd, where the mapping starts.
 *
 * V4L2 interop (GStreamer 1.22.0 closes imported dma-buf fds): a dmabuf
 * typed memory never shows hb_mem's own fd to GStreamer. It carries a
 * dup of it (gst_fd, what gst_dmabuf_memory_get_fd() returns), owned by
 * the memory, plus the dma-buf's identity (st_dev, st_ino). An importer
 * that closes gst_fd therefore never closes an fd hb_mem owns; the memory
 * closes gst_fd when it is freed only if the number still names this
 * dma-buf, and GstHbmemBufferPool replaces a memory whose gst_fd is gone
 * before it hands the buffer out again. For fd (memfd) memories gst_fd
 * is hb_mem's fd itself and nothing is dup'ed.
 */
typedef struct
{
  HbmemRecord *rec;
  guint8 *base;
  gint32 fd;                    /* hb_mem's fd: cache sync, descriptors */
  gint32 gst_fd;                /* the GstFdMemory's fd */
  gboolean own_gst_fd;          /* gst_fd is our dup */
  dev_t dev;                    /* identity of the dma-buf behind fd */
  ino_t ino;
  gint plane;                   /* -1: the whole buffer */
} HbmemMemInfo;

enum
{
  PROP_0,
  PROP_HEAP,
  PROP_USAGE,
};

static GQuark hbmem_mem_quark;
static GstAllocatorClass *fd_parent_class;
static GstAllocatorClass *dmabuf_parent_class;

GType
gst_hbmem_heap_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    {GST_HBMEM_HEAP_DMA, "ion_cma (HB_MEM_USAGE_PRIV_HEAP_DMA)", "dma"},
    {GST_HBMEM_HEAP_RESERVED, "carveout (HB_MEM_USAGE_PRIV_HEAP_RESERVED)",
        "reserved"},
    {GST_HBMEM_HEAP_SRAM, "sram (HB_MEM_USAGE_PRIV_HEAP_SRAM)", "sram"},
    {GST_HBMEM_HEAP_RESERVED_2,
        "cma_reserved (HB_MEM_USAGE_PRIV_HEAP_2_RESERVED)", "reserved-2"},
    {GST_HBMEM_HEAP_SRAM_LIMIT,
        "sram, limited (HB_MEM_USAGE_PRIV_HEAP_SRAM_LIMIT)", "sram-limit"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstHbmemHeap", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GstHbmemAllocatorData *
hbmem_data (GstAllocator * allocator)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (allocator, GST_TYPE_HBMEM_DMABUF_ALLOCATOR))
    return &((GstHbmemDmaBufAllocator *) allocator)->d;
  return &((GstHbmemFdAllocator *) allocator)->d;
}

static GstAllocatorClass *
hbmem_parent_class (GstAllocator * allocator)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (allocator, GST_TYPE_HBMEM_DMABUF_ALLOCATOR))
    return dmabuf_parent_class;
  return fd_parent_class;
}

static void
hbmem_record_unref (HbmemRecord * rec)
{
  int32_t ret;

  if (!g_atomic_int_dec_and_test (&rec->refcount))
    return;
  ret = hb_mem_free_buf (rec->free_fd);
  if (ret != 0)
    GST_ERROR ("hb_mem_free_buf(%d) failed: 0x%x", rec->free_fd,
        (guint) ret);
  g_free (rec);
}

/* TRUE when @fd is open and names the file (dev, ino). */
static gboolean
hbmem_fd_names (gint fd, dev_t dev, ino_t ino)
{
  struct stat st;

  return fd >= 0 && fstat (fd, &st) == 0 && st.st_dev == dev &&
      st.st_ino == ino;
}

static void
hbmem_mem_info_free (gpointer data)
{
  HbmemMemInfo *info = data;

  /*
   * Close our dup only while it is still ours: if an importer closed it
   * (v4l2 1.22.0), the number is free or someone else's now.
   */
  if (info->own_gst_fd) {
    if (hbmem_fd_names (info->gst_fd, info->dev, info->ino))
      close (info->gst_fd);
    else
      GST_INFO ("fd %d (dup of hb_mem fd %d) was closed by its importer",
          info->gst_fd, info->fd);
  }
  hbmem_record_unref (info->rec);
  g_free (info);
}

static HbmemMemInfo *
hbmem_mem_info (GstMemory * mem)
{
  return gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (mem),
      hbmem_mem_quark);
}

/*
 * A memory of @size bytes over the mapping at @base, fd @fd (borrowed:
 * the record owns it). Takes a new reference on @rec.
 */
static GstMemory *
hbmem_mem_new (GstAllocator * allocator, HbmemRecord * rec, gint32 fd,
    guint8 * base, gsize size, gint plane)
{
  GstMemory *mem;
  HbmemMemInfo *info;
  gint gst_fd = fd;
  struct stat st = { 0 };

  /* dmabuf memory: hand GStreamer a dup (see HbmemMemInfo) */
  if (G_TYPE_CHECK_INSTANCE_TYPE (allocator, GST_TYPE_HBMEM_DMABUF_ALLOCATOR)) {
    if (fstat (fd, &st) != 0) {
      GST_WARNING_OBJECT (allocator, "fstat(%d): %s", fd, g_strerror (errno));
      return NULL;
    }
    gst_fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
    if (gst_fd < 0) {
      GST_WARNING_OBJECT (allocator, "dup(%d): %s", fd, g_strerror (errno));
      return NULL;
    }
  }
  mem = gst_fd_allocator_alloc (allocator, gst_fd, size,
      GST_FD_MEMORY_FLAG_DONT_CLOSE | GST_FD_MEMORY_FLAG_KEEP_MAPPED);
  if (!mem) {
    if (gst_fd != fd)
      close (gst_fd);
    return NULL;
  }
  info = g_new0 (HbmemMemInfo, 1);
  g_atomic_int_inc (&rec->refcount);
  info->rec = rec;
  info->base = base;
  info->fd = fd;
  info->gst_fd = gst_fd;
  info->own_gst_fd = gst_fd != fd;
  info->dev = st.st_dev;
  info->ino = st.st_ino;
  info->plane = plane;
  gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (mem), hbmem_mem_quark,
      info, hbmem_mem_info_free);
  return mem;
}

static gpointer
hbmem_mem_map_full (GstMemory * mem, GstMapInfo * map, gsize maxsize)
{
  HbmemMemInfo *info = hbmem_mem_info (mem);
  int32_t ret;

  if (!info)
    return NULL;
  if (info->rec->cached && (map->flags & GST_MAP_READ)) {
    ret = hb_mem_invalidate_buf (info->fd, mem->offset, mem->size);
    if (ret != 0)
      GST_WARNING ("invalidating fd %d failed: 0x%x", info->fd, (guint) ret);
  }
  return info->base;
}

static void
hbmem_mem_unmap_full (GstMemory * mem, GstMapInfo * map)
{
  HbmemMemInfo *info = hbmem_mem_info (mem);
  int32_t ret;

  if (!info)
    return;
  if (info->rec->cached && (map->flags & GST_MAP_WRITE)) {
    ret = hb_mem_flush_buf (info->fd, mem->offset, mem->size);
    if (ret != 0)
      GST_WARNING ("flushing fd %d failed: 0x%x", info->fd, (guint) ret);
  }
}

/* A read-only sub-memory over the same hb_mem buffer, parented as core does. */
static GstMemory *
hbmem_mem_share (GstMemory * mem, gssize offset, gssize size)
{
  HbmemMemInfo *info = hbmem_mem_info (mem);
  GstMemory *parent, *sub;

  if (!info)
    return NULL;
  /* the rest of the memory; nothing from past its end */
  if (size == -1)
    size = offset < (gssize) mem->size ? (gssize) mem->size - offset : 0;
  parent = mem->parent ? mem->parent : mem;
  sub = hbmem_mem_new (mem->allocator, info->rec, info->fd, info->base,
      mem->maxsize, info->plane);
  if (!sub)
    return NULL;
  GST_MINI_OBJECT_FLAG_SET (sub, GST_MINI_OBJECT_FLAG_LOCK_READONLY);
  sub->offset = mem->offset + offset;
  sub->size = size;
  gst_memory_lock (parent, GST_LOCK_FLAG_EXCLUSIVE);
  sub->parent = gst_memory_ref (parent);
  return sub;
}

static HbmemRecord *
hbmem_record_new_com (const hb_mem_common_buf_t * buf)
{
  HbmemRecord *rec = g_new0 (HbmemRecord, 1);

  rec->refcount = 1;
  rec->com = *buf;
  rec->free_fd = buf->fd;
  rec->cached = (buf->flags & HB_MEM_USAGE_CACHED) != 0;
  return rec;
}

/**
 * gst_hbmem_allocator_wrap_com_buf:
 * @allocator: an hbmem allocator
 * @buf: a common buffer this process holds (allocated or imported)
 *
 * Wraps @buf in one memory of @buf->size bytes. Ownership of the hb_mem
 * handle (and so of @buf->fd) moves to the memory: do not free @buf
 * yourself; it is freed with hb_mem_free_buf() when the memory and every
 * share of it are gone. On failure (NULL) the handle stays the caller's.
 *
 * Returns: (transfer full) (nullable): the memory
 */
GstMemory *
gst_hbmem_allocator_wrap_com_buf (GstAllocator * allocator,
    const hb_mem_common_buf_t * buf)
{
  HbmemRecord *rec;
  GstMemory *mem;

  g_return_val_if_fail (gst_is_hbmem_allocator (allocator), NULL);
  g_return_val_if_fail (buf != NULL, NULL);
  g_return_val_if_fail (buf->fd >= 0 && buf->virt_addr && buf->size > 0,
      NULL);

  rec = hbmem_record_new_com (buf);
  mem = hbmem_mem_new (allocator, rec, buf->fd, buf->virt_addr, buf->size,
      -1);
  if (!mem) {
    g_free (rec);
    return NULL;
  }
  /* the record's initial reference was the caller's handle */
  (void) g_atomic_int_add (&rec->refcount, -1);
  return mem;
}

/* Bytes from plane 0's start to the end of the last plane (contiguous). */
static gsize
hbmem_graph_span (const hb_mem_graphic_buf_t * buf)
{
  gsize end = 0;
  gint i;

  for (i = 0; i < buf->plane_cnt; i++) {
    gsize e = (gsize) (buf->virt_addr[i] - buf->virt_addr[0]) + buf->size[i];
    end = MAX (end, e);
  }
  return end;
}

/**
 * gst_hbmem_allocator_wrap_graph_buf:
 * @allocator: an hbmem allocator
 * @buf: a graphic buffer this process holds (allocated or imported)
 * @mems: (out caller-allocates) (array fixed-size=3): the memories
 * @n_mems: (out): how many were made
 *
 * Wraps @buf: a contiguous buffer becomes one memory at offset 0 holding
 * every plane, a non-contiguous one a memory per plane. Ownership of the
 * hb_mem handle (all of @buf's plane fds) moves to the memories; it is
 * freed once, with the last of them. On failure (FALSE) nothing is made
 * and the handle stays the caller's.
 *
 * Returns: TRUE on success
 */
gboolean
gst_hbmem_allocator_wrap_graph_buf (GstAllocator * allocator,
    const hb_mem_graphic_buf_t * buf, GstMemory ** mems, guint * n_mems)
{
  HbmemRecord *rec;
  guint i, n;

  g_return_val_if_fail (gst_is_hbmem_allocator (allocator), FALSE);
  g_return_val_if_fail (buf != NULL && mems != NULL && n_mems != NULL, FALSE);
  g_return_val_if_fail (buf->plane_cnt >= 1 &&
      buf->plane_cnt <= MAX_GRAPHIC_BUF_COMP, FALSE);
  for (i = 0; i < (guint) buf->plane_cnt; i++)
    g_return_val_if_fail (buf->fd[i] >= 0 && buf->virt_addr[i], FALSE);

  rec = g_new0 (HbmemRecord, 1);
  rec->refcount = 1;
  rec->graphic = TRUE;
  rec->graph = *buf;
  rec->free_fd = buf->fd[0];
  rec->cached = (buf->flags & HB_MEM_USAGE_CACHED) != 0;

  n = buf->is_contig ? 1 : (guint) buf->plane_cnt;
  for (i = 0; i < n; i++) {
    if (buf->is_contig)
      mems[i] = hbmem_mem_new (allocator, rec, buf->fd[0], buf->virt_addr[0],
          hbmem_graph_span (buf), -1);
    else
      mems[i] = hbmem_mem_new (allocator, rec, buf->fd[i], buf->virt_addr[i],
          buf->size[i], i);
    if (!mems[i])
      goto err_unwind;
  }
  *n_mems = n;
  (void) g_atomic_int_add (&rec->refcount, -1);
  return TRUE;

err_unwind:
  /* the initial reference keeps the handle alive while these go */
  while (i-- > 0)
    gst_memory_unref (mems[i]);
  g_free (rec);
  return FALSE;
}

/**
 * gst_hbmem_allocator_alloc_com_buf:
 * @allocator: an hbmem allocator
 * @size: bytes, > 0
 * @out: (out) (optional): the hb_mem descriptor
 *
 * Allocates a common buffer with the allocator's heap and usage flags and
 * wraps it. The memory owns the buffer (and its fd); @out is a copy of the
 * descriptor for reading, valid while the memory lives.
 *
 * Returns: (transfer full) (nullable): the memory, NULL if hb_mem failed
 */
GstMemory *
gst_hbmem_allocator_alloc_com_buf (GstAllocator * allocator, gsize size,
    hb_mem_common_buf_t * out)
{
  hb_mem_common_buf_t buf;
  GstMemory *mem;
  int32_t ret;

  g_return_val_if_fail (gst_is_hbmem_allocator (allocator), NULL);
  g_return_val_if_fail (size > 0, NULL);

  ret = hb_mem_alloc_com_buf (size, gst_hbmem_allocator_get_flags (allocator),
      &buf);
  if (ret != 0) {
    GST_WARNING_OBJECT (allocator, "hb_mem_alloc_com_buf(%" G_GSIZE_FORMAT
        ") failed: 0x%x", size, (guint) ret);
    return NULL;
  }
  mem = gst_hbmem_allocator_wrap_com_buf (allocator, &buf);
  if (!mem) {
    hb_mem_free_buf (buf.fd);
    return NULL;
  }
  if (out)
    *out = buf;
  return mem;
}

/**
 * gst_hbmem_allocator_alloc_graph_buf:
 * @allocator: an hbmem allocator
 * @width: pixels
 * @height: lines
 * @format: a mem_pixel_format_t
 * @stride: pixels per line to allocate (0: tight)
 * @vstride: lines to allocate (0: tight)
 * @contiguous: one allocation for all planes
 *   (HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF)
 * @out: (out) (optional): the hb_mem descriptor
 * @mems: (out caller-allocates) (array fixed-size=3): the memories
 * @n_mems: (out): how many were made (1 when contiguous, else one per plane)
 *
 * Allocates a graphic buffer with the allocator's heap and usage flags and
 * wraps it as gst_hbmem_allocator_wrap_graph_buf() does. The memories own
 * the buffer (and its fds); @out is a copy for reading.
 *
 * Returns: TRUE on success
 */
gboolean
gst_hbmem_allocator_alloc_graph_buf (GstAllocator * allocator, gint width,
    gint height, gint format, gint stride, gint vstride, gboolean contiguous,
    hb_mem_graphic_buf_t * out, GstMemory ** mems, guint * n_mems)
{
  hb_mem_graphic_buf_t buf;
  gint64 flags;
  int32_t ret;

  g_return_val_if_fail (gst_is_hbmem_allocator (allocator), FALSE);
  g_return_val_if_fail (mems != NULL && n_mems != NULL, FALSE);

  flags = gst_hbmem_allocator_get_flags (allocator);
  if (contiguous)
    flags |= HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF;
  else
    flags &= ~(gint64) HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF;
  ret = hb_mem_alloc_graph_buf (width, height, format, flags, stride, vstride,
      &buf);
  if (ret != 0) {
    GST_WARNING_OBJECT (allocator, "hb_mem_alloc_graph_buf(%dx%d, format %d, "
        "stride %d, vstride %d) failed: 0x%x", width, height, format, stride,
        vstride, (guint) ret);
    return FALSE;
  }
  if (!gst_hbmem_allocator_wrap_graph_buf (allocator, &buf, mems, n_mems)) {
    hb_mem_free_buf (buf.fd[0]);
    return FALSE;
  }
  if (out)
    *out = buf;
  return TRUE;
}

/* GstAllocator::alloc: a common buffer holding prefix + size + padding. */
static GstMemory *
hbmem_alloc (GstAllocator * allocator, gsize size, GstAllocationParams * params)
{
  gsize prefix = params ? params->prefix : 0;
  gsize padding = params ? params->padding : 0;
  gsize align = params ? params->align : 0;
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  gsize total, shift = 0;
  hb_mem_common_buf_t c;
  GstMemory *mem;

  /* mappings are page aligned; a coarser alignment needs room to shift */
  if (align < page)
    align = 0;
  if (!g_size_checked_add (&total, size, prefix) ||
      !g_size_checked_add (&total, total, padding) ||
      !g_size_checked_add (&total, total, align) || total == 0)
    return NULL;
  mem = gst_hbmem_allocator_alloc_com_buf (allocator, total, &c);
  if (!mem)
    return NULL;
  if (align)
    shift = (align + 1 - ((guintptr) c.virt_addr & align)) & align;
  if (shift || prefix || padding || align)
    gst_memory_resize (mem, shift + prefix, size);
  return mem;
}

static void
hbmem_allocator_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHbmemAllocatorData *d = hbmem_data (GST_ALLOCATOR (object));

  switch (prop_id) {
    case PROP_HEAP:
      GST_OBJECT_LOCK (object);
      d->heap = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (object);
      break;
    case PROP_USAGE:
      GST_OBJECT_LOCK (object);
      d->usage = g_value_get_int64 (value);
      GST_OBJECT_UNLOCK (object);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
hbmem_allocator_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstHbmemAllocatorData *d = hbmem_data (GST_ALLOCATOR (object));

  switch (prop_id) {
    case PROP_HEAP:
      GST_OBJECT_LOCK (object);
      g_value_set_enum (value, d->heap);
      GST_OBJECT_UNLOCK (object);
      break;
    case PROP_USAGE:
      GST_OBJECT_LOCK (object);
      g_value_set_int64 (value, d->usage);
      GST_OBJECT_UNLOCK (object);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
hbmem_allocator_finalize (GObject * object)
{
  GstAllocator *allocator = GST_ALLOCATOR (object);
  GstHbmemAllocatorData *d = hbmem_data (allocator);

  if (d->module_open)
    hb_mem_module_close ();
  G_OBJECT_CLASS (hbmem_parent_class (allocator))->finalize (object);
}

static void
hbmem_allocator_class_init (gpointer klass, gpointer class_data)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstAllocatorClass *allocator_class = GST_ALLOCATOR_CLASS (klass);

  if (class_data)
    dmabuf_parent_class = g_type_class_peek_parent (klass);
  else
    fd_parent_class = g_type_class_peek_parent (klass);

  gobject_class->set_property = hbmem_allocator_set_property;
  gobject_class->get_property = hbmem_allocator_get_property;
  gobject_class->finalize = hbmem_allocator_finalize;
  allocator_class->alloc = hbmem_alloc;

  g_object_class_install_property (gobject_class, PROP_HEAP,
      g_param_spec_enum ("heap", "Heap",
          "The hb_mem heap buffers come from (HB_MEM_USAGE_PRIV_HEAP_*)",
          GST_TYPE_HBMEM_HEAP, GST_HBMEM_HEAP_DMA,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_USAGE,
      g_param_spec_int64 ("usage", "Usage flags",
          "hb_mem usage flags (HB_MEM_USAGE_CPU_*, HW_*, CACHED, MAP_*); "
          "heap bits here are ignored: see the heap property",
          G_MININT64, G_MAXINT64, GST_HBMEM_ALLOCATOR_DEFAULT_USAGE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
hbmem_allocator_init (GTypeInstance * instance, gpointer klass)
{
  GstAllocator *allocator = GST_ALLOCATOR (instance);
  GstHbmemAllocatorData *d = hbmem_data (allocator);

  d->usage = GST_HBMEM_ALLOCATOR_DEFAULT_USAGE;
  d->heap = GST_HBMEM_HEAP_DMA;
  d->module_open = hb_mem_module_open () == 0;

  allocator->mem_map_full = hbmem_mem_map_full;
  allocator->mem_unmap_full = hbmem_mem_unmap_full;
  allocator->mem_share = hbmem_mem_share;
  GST_OBJECT_FLAG_UNSET (allocator, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

static void
hbmem_allocator_types_init (void)
{
  hbmem_mem_quark = g_quark_from_static_string ("GstHbmemMemory");
  GST_DEBUG_CATEGORY_INIT (gst_hbmem_allocator_debug, "hbmemallocator", 0,
      "hbmem allocator");
}

GType
gst_hbmem_fd_allocator_get_type (void)
{
  static GType type;

  if (g_once_init_enter (&type)) {
    GTypeInfo info = {
      .class_size = sizeof (GstHbmemFdAllocatorClass),
      .class_init = hbmem_allocator_class_init,
      .class_data = NULL,
      .instance_size = sizeof (GstHbmemFdAllocator),
      .instance_init = hbmem_allocator_init,
    };
    GType t;

    hbmem_allocator_types_init ();
    t = g_type_register_static (GST_TYPE_FD_ALLOCATOR, "GstHbmemFdAllocator",
        &info, 0);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_hbmem_dmabuf_allocator_get_type (void)
{
  static GType type;

  if (g_once_init_enter (&type)) {
    GTypeInfo info = {
      .class_size = sizeof (GstHbmemDmaBufAllocatorClass),
      .class_init = hbmem_allocator_class_init,
      .class_data = GINT_TO_POINTER (1),
      .instance_size = sizeof (GstHbmemDmaBufAllocator),
      .instance_init = hbmem_allocator_init,
    };
    GType t;

    hbmem_allocator_types_init ();
    t = g_type_register_static (GST_TYPE_DMABUF_ALLOCATOR,
        "GstHbmemDmaBufAllocator", &info, 0);
    g_once_init_leave (&type, t);
  }
  return type;
}

/**
 * gst_hbmem_allocator_new:
 *
 * Opens the hb_mem module (held until the allocator is finalized) and
 * makes an allocator of the type the backend calls for: dmabuf when its
 * fds are real dma-bufs, fd otherwise.
 *
 * Returns: (transfer full) (nullable): the allocator, NULL when the module
 *   cannot be opened
 */
GstAllocator *
gst_hbmem_allocator_new (void)
{
  GstAllocator *allocator;
  uint32_t caps = 0;
  char name[32];
  GType type;

  if (hb_mem_module_open () != 0) {
    GST_ERROR ("hb_mem_module_open failed: no usable hbmem backend");
    return NULL;
  }
  if (hb_mem_get_backend (name, sizeof (name), &caps) != 0)
    caps = 0;
  type = (caps & HB_MEM_BACKEND_CAP_DMABUF) ?
      GST_TYPE_HBMEM_DMABUF_ALLOCATOR : GST_TYPE_HBMEM_FD_ALLOCATOR;
  allocator = g_object_new (type, NULL);
  hb_mem_module_close ();
  if (!hbmem_data (allocator)->module_open) {
    gst_object_unref (gst_object_ref_sink (allocator));
    return NULL;
  }
  GST_DEBUG_OBJECT (allocator, "backend %s, %s memory", name,
      (caps & HB_MEM_BACKEND_CAP_DMABUF) ? "dmabuf" : "fd");
  return gst_object_ref_sink (allocator);
}

/**
 * gst_hbmem_allocator_get_flags:
 * @allocator: an hbmem allocator
 *
 * Returns: the hb_mem usage flags its allocations use (usage | heap)
 */
gint64
gst_hbmem_allocator_get_flags (GstAllocator * allocator)
{
  GstHbmemAllocatorData *d;
  gint64 flags;

  g_return_val_if_fail (gst_is_hbmem_allocator (allocator), 0);
  d = hbmem_data (allocator);
  GST_OBJECT_LOCK (allocator);
  flags = (d->usage & ~(gint64) HB_MEM_USAGE_PRIV_MASK) |
      ((gint64) d->heap << 32);
  GST_OBJECT_UNLOCK (allocator);
  return flags;
}

/**
 * gst_is_hbmem_allocator:
 * @allocator: (nullable): an allocator
 *
 * Returns: TRUE when @allocator is an hbmem allocator (either type)
 */
gboolean
gst_is_hbmem_allocator (GstAllocator * allocator)
{
  return allocator != NULL &&
      (G_TYPE_CHECK_INSTANCE_TYPE (allocator, GST_TYPE_HBMEM_FD_ALLOCATOR) ||
      G_TYPE_CHECK_INSTANCE_TYPE (allocator, GST_TYPE_HBMEM_DMABUF_ALLOCATOR));
}

/**
 * gst_is_hbmem_memory:
 * @mem: (nullable): a memory
 *
 * Returns: TRUE when @mem is backed by an hb_mem buffer
 */
gboolean
gst_is_hbmem_memory (GstMemory * mem)
{
  return mem != NULL && gst_is_hbmem_allocator (mem->allocator) &&
      hbmem_mem_info (mem) != NULL;
}

/**
 * gst_hbmem_memory_get_com_buf:
 * @mem: an hbmem memory
 * @out: (out): the common-buffer descriptor
 *
 * The common buffer behind @mem; a contiguous graphic buffer is seen as a
 * common buffer of all its planes. The fd in @out stays owned by the
 * memory (borrowed, valid while @mem lives): dup() it to keep it.
 *
 * Returns: FALSE for a plane of a non-contiguous graphic buffer
 */
gboolean
gst_hbmem_memory_get_com_buf (GstMemory * mem, hb_mem_common_buf_t * out)
{
  HbmemMemInfo *info;
  const hb_mem_graphic_buf_t *g;

  g_return_val_if_fail (gst_is_hbmem_memory (mem) && out != NULL, FALSE);
  info = hbmem_mem_info (mem);
  if (!info->rec->graphic) {
    *out = info->rec->com;
    return TRUE;
  }
  g = &info->rec->graph;
  if (!g->is_contig && g->plane_cnt > 1)
    return FALSE;
  memset (out, 0, sizeof (*out));
  out->fd = g->fd[0];
  out->share_id = g->share_id[0];
  out->flags = g->flags;
  out->size = hbmem_graph_span (g);
  out->virt_addr = g->virt_addr[0];
  out->phys_addr = g->phys_addr[0];
  return TRUE;
}

/**
 * gst_hbmem_memory_get_graph_buf:
 * @mem: an hbmem memory
 * @out: (out): the graphic-buffer descriptor
 *
 * The graphic buffer @mem belongs to (all planes, whichever @mem is). Its
 * fds stay owned by the memory (borrowed).
 *
 * Returns: FALSE when @mem holds a common buffer
 */
gboolean
gst_hbmem_memory_get_graph_buf (GstMemory * mem, hb_mem_graphic_buf_t * out)
{
  HbmemMemInfo *info;

  g_return_val_if_fail (gst_is_hbmem_memory (mem) && out != NULL, FALSE);
  info = hbmem_mem_info (mem);
  if (!info->rec->graphic)
    return FALSE;
  *out = info->rec->graph;
  return TRUE;
}

/**
 * gst_hbmem_memory_get_plane:
 * @mem: an hbmem memory
 *
 * Returns: the plane @mem holds, or -1 when it holds the whole buffer
 */
gint
gst_hbmem_memory_get_plane (GstMemory * mem)
{
  g_return_val_if_fail (gst_is_hbmem_memory (mem), -1);
  return hbmem_mem_info (mem)->plane;
}

/**
 * gst_hbmem_memory_get_hb_fd:
 * @mem: an hbmem memory
 *
 * Returns: the hb_mem fd behind @mem (borrowed: owned by hb_mem through
 *   the memory), or -1. For fd (memfd) memory it is the same as
 *   gst_fd_memory_get_fd(); dmabuf memory shows GStreamer a dup of it
 *   instead (see gst_hbmem_memory_fd_is_intact()).
 */
gint
gst_hbmem_memory_get_hb_fd (GstMemory * mem)
{
  g_return_val_if_fail (gst_is_hbmem_memory (mem), -1);
  return hbmem_mem_info (mem)->fd;
}

/* ---- V4L2 interop: importers that close our fds (GStreamer 1.22.0) ---- */

/**
 * gst_hbmem_memory_fd_is_intact:
 * @mem: an hbmem memory
 *
 * Whether the fd GStreamer sees for @mem (gst_fd_memory_get_fd()) is still
 * open and still names @mem's hb_mem buffer. It stops being so when an
 * importer closed it: gst-plugins-good 1.22.0 to 1.22.5 v4l2 elements
 * close the dma-buf fds they import. The fd is borrowed either way; this
 * never closes or dups anything.
 *
 * Returns: TRUE when the fd is intact (always for fd memory, whose fd is
 *   hb_mem's own and never handed to importers as a dma-buf)
 */
gboolean
gst_hbmem_memory_fd_is_intact (GstMemory * mem)
{
  HbmemMemInfo *info;

  g_return_val_if_fail (gst_is_hbmem_memory (mem), FALSE);
  info = hbmem_mem_info (mem);
  if (!info->own_gst_fd)
    return TRUE;
  return hbmem_fd_names (info->gst_fd, info->dev, info->ino);
}

/**
 * gst_hbmem_memory_renew:
 * @mem: an hbmem memory that is not a share (no parent)
 *
 * A new memory over the same hb_mem buffer, plane, offset and size as
 * @mem, with a fresh dup of hb_mem's fd for GStreamer (dmabuf memory).
 * Used to replace a memory whose fd an importer closed. The new memory
 * owns its dup and holds its own reference on the hb_mem buffer; @mem is
 * untouched (unref it as usual: it does not close an fd it no longer
 * owns).
 *
 * Returns: (transfer full) (nullable): the memory, NULL if dup() failed
 */
GstMemory *
gst_hbmem_memory_renew (GstMemory * mem)
{
  HbmemMemInfo *info;
  GstMemory *fresh;

  g_return_val_if_fail (gst_is_hbmem_memory (mem), NULL);
  g_return_val_if_fail (mem->parent == NULL, NULL);
  info = hbmem_mem_info (mem);
  fresh = hbmem_mem_new (mem->allocator, info->rec, info->fd, info->base,
      mem->maxsize, info->plane);
  if (fresh)
    gst_memory_resize (fresh, mem->offset, mem->size);
  return fresh;
}
