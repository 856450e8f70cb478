/* SPDX-License-Identifier: MIT */
/*
 * gsthbmemallocator.h - GstMemory backed by hb_mem buffers.
 *
 * The model
 * ---------
 * Every GstMemory of this allocator is (a part of) one hb_mem buffer: a
 * common buffer, the whole of a contiguous graphic buffer (one memory at
 * offset 0 holding every plane), or one plane of a non-contiguous graphic
 * buffer (one memory per plane). The hb_mem handle is owned by a small
 * shared record that every memory of the buffer, shares included, holds a
 * reference on; when the last of them is freed the record calls
 * hb_mem_free_buf() exactly once. GStreamer never closes the fd (the
 * memories carry GST_FD_MEMORY_FLAG_DONT_CLOSE): hb_mem owns it. (Dmabuf
 * memory shows GStreamer a dup of that fd, owned by the memory: see
 * gst_hbmem_memory_fd_is_intact().)
 *
 * Mapping returns the mapping hb_mem made at allocation (no second mmap,
 * never unmapped before the free). For a buffer allocated with
 * HB_MEM_USAGE_CACHED, mapping for reading invalidates the CPU caches over
 * the memory's range and unmapping after a write flushes them; uncached
 * buffers get no cache calls.
 *
 * Typing (DESIGN.md decision 4): when the hb_mem backend hands out real
 * dma-bufs (HB_MEM_BACKEND_CAP_DMABUF) the allocator is a
 * GstDmaBufAllocator subclass, so gst_is_dmabuf_memory() holds and V4L2 or
 * DRM can import the fd; otherwise (memfd) it is a GstFdAllocator
 * subclass: gst_is_fd_memory() holds, gst_is_dmabuf_memory() does not.
 *
 * The plugin registers one instance under GST_HBMEM_ALLOCATOR_NAME
 * ("hbmem"), so gst_allocator_find ("hbmem") works once the plugin is
 * loaded. gst_allocator_alloc() on it makes a common buffer.
 */
#ifndef __GST_HBMEM_ALLOCATOR_H__
#define __GST_HBMEM_ALLOCATOR_H__

#include <gst/gst.h>
#include <gst/allocators/allocators.h>

#include <hb_mem_mgr.h>
#include <hb_mem_ext.h>

G_BEGIN_DECLS

#define GST_HBMEM_ALLOCATOR_NAME "hbmem"

/**
 * GstHbmemHeap:
 * @GST_HBMEM_HEAP_DMA: the default heap (ion_cma), HB_MEM_USAGE_PRIV_HEAP_DMA
 * @GST_HBMEM_HEAP_RESERVED: carveout, HB_MEM_USAGE_PRIV_HEAP_RESERVED
 * @GST_HBMEM_HEAP_SRAM: sram, HB_MEM_USAGE_PRIV_HEAP_SRAM
 * @GST_HBMEM_HEAP_RESERVED_2: cma_reserved, HB_MEM_USAGE_PRIV_HEAP_2_RESERVED
 * @GST_HBMEM_HEAP_SRAM_LIMIT: sram with a limit, HB_MEM_USAGE_PRIV_HEAP_SRAM_LIMIT
 *
 * The heap an allocator takes its buffers from; the value is the
 * HB_MEM_USAGE_PRIV_HEAP_* bit shifted right by 32.
 */
typedef enum {
  GST_HBMEM_HEAP_DMA = 0,
  GST_HBMEM_HEAP_RESERVED = 1,
  GST_HBMEM_HEAP_SRAM = 2,
  GST_HBMEM_HEAP_RESERVED_2 = 4,
  GST_HBMEM_HEAP_SRAM_LIMIT = 8,
} GstHbmemHeap;

#define GST_TYPE_HBMEM_HEAP (gst_hbmem_heap_get_type ())
GType gst_hbmem_heap_get_type (void);

/* Default usage flags: CPU reads and writes often, cached. */
#define GST_HBMEM_ALLOCATOR_DEFAULT_USAGE \
  ((gint64) (HB_MEM_USAGE_CPU_READ_OFTEN | HB_MEM_USAGE_CPU_WRITE_OFTEN | \
      HB_MEM_USAGE_CACHED))

/* The two concrete types; which one an allocator is depends on the backend. */
#define GST_TYPE_HBMEM_FD_ALLOCATOR (gst_hbmem_fd_allocator_get_type ())
#define GST_TYPE_HBMEM_DMABUF_ALLOCATOR (gst_hbmem_dmabuf_allocator_get_type ())
GType gst_hbmem_fd_allocator_get_type (void);
GType gst_hbmem_dmabuf_allocator_get_type (void);

gboolean      gst_is_hbmem_allocator (GstAllocator * allocator);
gboolean      gst_is_hbmem_memory (GstMemory * mem);

GstAllocator *gst_hbmem_allocator_new (void);
gint64        gst_hbmem_allocator_get_flags (GstAllocator * allocator);

GstMemory    *gst_hbmem_allocator_alloc_com_buf (GstAllocator * allocator,
                                                 gsize size,
                                                 hb_mem_common_buf_t * out);
gboolean      gst_hbmem_allocator_alloc_graph_buf (GstAllocator * allocator,
                                                   gint width, gint height,
                                                   gint format, gint stride,
                                                   gint vstride,
                                                   gboolean contiguous,
                                                   hb_mem_graphic_buf_t * out,
                                                   GstMemory ** mems,
                                                   guint * n_mems);

GstMemory    *gst_hbmem_allocator_wrap_com_buf (GstAllocator * allocator,
                                                const hb_mem_common_buf_t * buf);
gboolean      gst_hbmem_allocator_wrap_graph_buf (GstAllocator * allocator,
                                                  const hb_mem_graphic_buf_t * buf,
                                                  GstMemory ** mems,
                                                  guint * n_mems);

gboolean      gst_hbmem_memory_get_com_buf (GstMemory * mem,
                                            hb_mem_common_buf_t * out);
gboolean      gst_hbmem_memory_get_graph_buf (GstMemory * mem,
                                              hb_mem_graphic_buf_t * out);
gint          gst_hbmem_memory_get_plane (GstMemory * mem);
gint          gst_hbmem_memory_get_hb_fd (GstMemory * mem);

/*
 * V4L2 interop: dmabuf memory shows GStreamer a dup of hb_mem's fd (an
 * importer such as v4l2 1.22.0, which closes imported fds, can only close
 * that dup); these tell whether the dup survived and replace a memory
 * whose dup was closed. See "V4L2" in docs/gstreamer.md.
 */
gboolean      gst_hbmem_memory_fd_is_intact (GstMemory * mem);
GstMemory    *gst_hbmem_memory_renew (GstMemory * mem);

G_END_DECLS

#endif /* __GST_HBMEM_ALLOCATOR_H__ */
