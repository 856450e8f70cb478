/* SPDX-License-Identifier: MIT */
/*
 * Events across the hbmemsink/hbmemsrc socket.
 *
 * An event travels as its type, seqnum and text: caps as a caps string,
 * every other event as its structure's gst_structure_to_string(). The
 * receiving side never turns text back into an event blindly: it accepts
 * only the types that may cross in that direction, reads the fields each
 * type needs with their exact types, and builds a fresh event with the
 * regular constructor, so a hostile peer cannot make it build an event
 * that would trip an assertion further down the pipeline.
 */
#ifndef __GST_HBMEM_IPC_EVENT_H__
#define __GST_HBMEM_IPC_EVENT_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Whether @event may cross downstream (sink to src) / upstream. */
gboolean gst_hbmem_ipc_event_is_forwarded (GstEvent * event,
    gboolean upstream);

/* The text for @event (transfer full); NULL if it cannot be serialized. */
gchar *gst_hbmem_ipc_event_to_text (GstEvent * event);

/*
 * The event the peer sent (transfer full), or NULL when @type may not
 * cross in that direction or @text does not hold what the type needs.
 */
GstEvent *gst_hbmem_ipc_event_from_text (guint32 type, guint32 seqnum,
    const gchar * text, gboolean upstream);

G_END_DECLS

#endif /* __GST_HBMEM_IPC_EVENT_H__ */
