/* SPDX-License-Identifier: MIT */
/*
 * GstHbmemMeta: registration, add/get, and the copy rule the header
 * states (kept only where the destination holds the same hbmem memory).
 */
#include "gsthbmemmeta.h"
#include "gsthbmemallocator.h"

#include <string.h>

GType
gst_hbmem_meta_api_get_type (void)
{
  static GType type;
  static const gchar *tags[] = { GST_META_TAG_MEMORY_STR, NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstHbmemMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
hbmem_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstHbmemMeta *m = (GstHbmemMeta *) meta;

  m->type = HB_MEM_BUFFER_TYPE_MAX;
  memset (&m->com_buf, 0, sizeof (m->com_buf));
  memset (&m->graph_buf, 0, sizeof (m->graph_buf));
  return TRUE;
}

/* The hb_mem fd the meta names (plane 0 for a graphic buffer). */
static gint
hbmem_meta_fd (const GstHbmemMeta * m)
{
  if (m->type == HB_MEM_BUFFER_TYPE_GRAPHIC)
    return m->graph_buf.fd[0];
  return m->com_buf.fd;
}

/* Does @buffer hold a memory of the hb_mem buffer @m describes? */
static gboolean
hbmem_meta_buffer_holds (const GstHbmemMeta * m, GstBuffer * buffer)
{
  guint i, n = gst_buffer_n_memory (buffer);
  hb_mem_graphic_buf_t g;
  hb_mem_common_buf_t c;

  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buffer, i);

    if (!gst_is_hbmem_memory (mem))
      continue;
    if (gst_hbmem_memory_get_graph_buf (mem, &g)) {
      if (m->type == HB_MEM_BUFFER_TYPE_GRAPHIC && g.fd[0] == hbmem_meta_fd (m))
        return TRUE;
    } else if (gst_hbmem_memory_get_com_buf (mem, &c)) {
      if (m->type == HB_MEM_BUFFER_TYPE_COMMON && c.fd == hbmem_meta_fd (m))
        return TRUE;
    }
  }
  return FALSE;
}

static gboolean
hbmem_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  GstHbmemMeta *src = (GstHbmemMeta *) meta;
  GstHbmemMeta *dst;

  /* a descriptor for memory @dest does not hold would lie: skip, quietly */
  if (!GST_META_TRANSFORM_IS_COPY (type) || !hbmem_meta_buffer_holds (src,
          dest))
    return TRUE;
  if (gst_buffer_get_hbmem_meta (dest))
    return TRUE;
  dst = (GstHbmemMeta *) gst_buffer_add_meta (dest, GST_HBMEM_META_INFO,
      NULL);
  if (!dst)
    return FALSE;
  dst->type = src->type;
  dst->com_buf = src->com_buf;
  dst->graph_buf = src->graph_buf;
  return TRUE;
}

const GstMetaInfo *
gst_hbmem_meta_get_info (void)
{
  static const GstMetaInfo *info;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_HBMEM_META_API_TYPE,
        "GstHbmemMeta", sizeof (GstHbmemMeta), hbmem_meta_init, NULL,
        hbmem_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * gst_buffer_get_hbmem_meta:
 * @buffer: a buffer
 *
 * Returns: (transfer none) (nullable): the hbmem meta of @buffer
 */
GstHbmemMeta *
gst_buffer_get_hbmem_meta (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstHbmemMeta *) gst_buffer_get_meta (buffer,
      GST_HBMEM_META_API_TYPE);
}

/**
 * gst_buffer_add_hbmem_meta_com:
 * @buffer: a writable buffer holding the memory of @buf
 * @buf: the common buffer (copied; its fd stays owned by the memory)
 *
 * Returns: (transfer none) (nullable): the new meta
 */
GstHbmemMeta *
gst_buffer_add_hbmem_meta_com (GstBuffer * buffer,
    const hb_mem_common_buf_t * buf)
{
  GstHbmemMeta *m;

  g_return_val_if_fail (GST_IS_BUFFER (buffer) && buf != NULL, NULL);
  m = (GstHbmemMeta *) gst_buffer_add_meta (buffer, GST_HBMEM_META_INFO, NULL);
  if (!m)
    return NULL;
  m->type = HB_MEM_BUFFER_TYPE_COMMON;
  m->com_buf = *buf;
  return m;
}

/**
 * gst_buffer_add_hbmem_meta_graph:
 * @buffer: a writable buffer holding the memories of @buf
 * @buf: the graphic buffer (copied; its fds stay owned by the memories)
 *
 * Returns: (transfer none) (nullable): the new meta
 */
GstHbmemMeta *
gst_buffer_add_hbmem_meta_graph (GstBuffer * buffer,
    const hb_mem_graphic_buf_t * buf)
{
  GstHbmemMeta *m;

  g_return_val_if_fail (GST_IS_BUFFER (buffer) && buf != NULL, NULL);
  m = (GstHbmemMeta *) gst_buffer_add_meta (buffer, GST_HBMEM_META_INFO, NULL);
  if (!m)
    return NULL;
  m->type = HB_MEM_BUFFER_TYPE_GRAPHIC;
  m->graph_buf = *buf;
  return m;
}
