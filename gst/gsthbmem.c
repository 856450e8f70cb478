/* SPDX-License-Identifier: MIT */
/*
 * The hbmem plugin: registers the "hbmem" allocator and every element.
 * Add an element with one line in plugin_init and one in
 * gsthbmemelements.h.
 */
#include "gsthbmemallocator.h"
#include "gsthbmembufferpool.h"
#include "gsthbmemelements.h"
#include "gsthbmemmeta.h"

/*
 * The allocator is registered only when hb_mem opens here; the elements
 * are registered regardless and fail their state change instead, so the
 * registry stays the same on every machine.
 */
static void
hbmem_register_allocator (void)
{
  GstAllocator *allocator = gst_hbmem_allocator_new ();

  if (allocator)
    gst_allocator_register (GST_HBMEM_ALLOCATOR_NAME, allocator);
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  gst_type_mark_as_plugin_api (GST_TYPE_HBMEM_HEAP, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HBMEM_BUFFER_POOL, 0);
  gst_hbmem_meta_get_info ();
  hbmem_register_allocator ();

  ret |= GST_ELEMENT_REGISTER (hbmemqueue, plugin);
  ret |= GST_ELEMENT_REGISTER (hbmemsink, plugin);
  ret |= GST_ELEMENT_REGISTER (hbmemsrc, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, hbmem,
    "hbmem media memory: allocator, video buffer pool and elements",
    plugin_init, VERSION, "MIT/X11", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
