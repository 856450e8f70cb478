/* SPDX-License-Identifier: MIT */
/*
 * Serializing events for the hbmemsink/hbmemsrc socket, and rebuilding
 * them on the other side from checked fields (see gsthbmemipcevent.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "gsthbmemipcevent.h"

/* A forged type number is none of these, so it is never forwarded. */
static gboolean
event_type_forwarded (guint32 type, gboolean upstream)
{
  switch (type) {
    case GST_EVENT_STREAM_START:
    case GST_EVENT_CAPS:
    case GST_EVENT_SEGMENT:
    case GST_EVENT_TAG:
    case GST_EVENT_EOS:
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_CUSTOM_DOWNSTREAM:
    case GST_EVENT_CUSTOM_DOWNSTREAM_STICKY:
    case GST_EVENT_CUSTOM_DOWNSTREAM_OOB:
      return !upstream;
    case GST_EVENT_QOS:
    case GST_EVENT_SEEK:
    case GST_EVENT_RECONFIGURE:
    case GST_EVENT_NAVIGATION:
    case GST_EVENT_LATENCY:
    case GST_EVENT_CUSTOM_UPSTREAM:
      return upstream;
    case GST_EVENT_CUSTOM_BOTH:
    case GST_EVENT_CUSTOM_BOTH_OOB:
      return TRUE;
    default:
      return FALSE;
  }
}

gboolean
gst_hbmem_ipc_event_is_forwarded (GstEvent * event, gboolean upstream)
{
  return event_type_forwarded (GST_EVENT_TYPE (event), upstream);
}

gchar *
gst_hbmem_ipc_event_to_text (GstEvent * event)
{
  const GstStructure *s;

  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;

    gst_event_parse_caps (event, &caps);
    return gst_caps_to_string (caps);
  }
  s = gst_event_get_structure (event);
  return s ? gst_structure_to_string (s) : g_strdup ("");
}

static GstEvent *
event_stream_start (const GstStructure * s)
{
  const gchar *id = gst_structure_get_string (s, "stream-id");
  GstEvent *ev;
  guint group;

  if (!id)
    return NULL;
  ev = gst_event_new_stream_start (id);
  if (gst_structure_get_uint (s, "group-id", &group) && group != 0)
    gst_event_set_group_id (ev, group);
  return ev;
}

static GstEvent *
event_segment (const GstStructure * s)
{
  const GValue *v = gst_structure_get_value (s, "segment");
  const GstSegment *seg;

  if (!v || !G_VALUE_HOLDS (v, GST_TYPE_SEGMENT))
    return NULL;
  seg = g_value_get_boxed (v);
  if (!seg || seg->format == GST_FORMAT_UNDEFINED || seg->rate == 0.0 ||
      !isfinite (seg->rate) || seg->applied_rate == 0.0 ||
      !isfinite (seg->applied_rate))
    return NULL;
  return gst_event_new_segment (seg);
}

static GstEvent *
event_tag (const GstStructure * s)
{
  const GValue *v = gst_structure_get_value (s, "taglist");
  const GstTagList *tags;

  if (!v || !G_VALUE_HOLDS (v, GST_TYPE_TAG_LIST))
    return NULL;
  tags = g_value_get_boxed (v);
  return tags ? gst_event_new_tag (gst_tag_list_copy (tags)) : NULL;
}

static GstEvent *
event_qos (const GstStructure * s)
{
  GstQOSType type;
  gdouble proportion;
  gint64 diff;
  guint64 ts;

  if (!gst_structure_get (s, "type", GST_TYPE_QOS_TYPE, &type,
          "proportion", G_TYPE_DOUBLE, &proportion, "diff", G_TYPE_INT64,
          &diff, "timestamp", G_TYPE_UINT64, &ts, NULL))
    return NULL;
  if (!GST_CLOCK_TIME_IS_VALID (ts) || !isfinite (proportion))
    return NULL;
  return gst_event_new_qos (type, proportion, diff, ts);
}

static GstEvent *
event_seek (const GstStructure * s)
{
  GstSeekType cur_type, stop_type;
  GstSeekFlags flags;
  GstFormat format;
  gint64 cur, stop;
  gdouble rate;

  if (!gst_structure_get (s, "rate", G_TYPE_DOUBLE, &rate, "format",
          GST_TYPE_FORMAT, &format, "flags", GST_TYPE_SEEK_FLAGS, &flags,
          "cur-type", GST_TYPE_SEEK_TYPE, &cur_type, "cur", G_TYPE_INT64, &cur,
          "stop-type", GST_TYPE_SEEK_TYPE, &stop_type, "stop", G_TYPE_INT64,
          &stop, NULL))
    return NULL;
  if (rate == 0.0 || !isfinite (rate))
    return NULL;
  return gst_event_new_seek (rate, format, flags, cur_type, cur, stop_type,
      stop);
}

static GstEvent *
event_from_structure (GstEventType type, GstStructure * s)
{
  gboolean reset = TRUE;
  guint64 latency;

  switch (type) {
    case GST_EVENT_STREAM_START:
      return event_stream_start (s);
    case GST_EVENT_SEGMENT:
      return event_segment (s);
    case GST_EVENT_TAG:
      return event_tag (s);
    case GST_EVENT_EOS:
      return gst_event_new_eos ();
    case GST_EVENT_FLUSH_START:
      return gst_event_new_flush_start ();
    case GST_EVENT_FLUSH_STOP:
      if (s && gst_structure_has_field (s, "reset-time") &&
          !gst_structure_get_boolean (s, "reset-time", &reset))
        return NULL;
      return gst_event_new_flush_stop (reset);
    case GST_EVENT_QOS:
      return event_qos (s);
    case GST_EVENT_SEEK:
      return event_seek (s);
    case GST_EVENT_RECONFIGURE:
      return gst_event_new_reconfigure ();
    case GST_EVENT_LATENCY:
      if (!gst_structure_get_uint64 (s, "latency", &latency))
        return NULL;
      return gst_event_new_latency (latency);
    case GST_EVENT_NAVIGATION:
      return gst_event_new_navigation (gst_structure_copy (s));
    default:
      /* the custom types: any structure will do */
      return gst_event_new_custom (type, gst_structure_copy (s));
  }
}

GstEvent *
gst_hbmem_ipc_event_from_text (guint32 type, guint32 seqnum,
    const gchar * text, gboolean upstream)
{
  GstStructure *s = NULL;
  GstEvent *ev = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  if (!event_type_forwarded (type, upstream))
    return NULL;

  if (type == GST_EVENT_CAPS) {
    GstCaps *caps = gst_caps_from_string (text);

    if (caps && gst_caps_is_fixed (caps))
      ev = gst_event_new_caps (caps);
    if (caps)
      gst_caps_unref (caps);
  } else {
    if (*text)
      s = gst_structure_from_string (text, NULL);
    /* only a few types may come without a structure */
    if (s || type == GST_EVENT_EOS || type == GST_EVENT_FLUSH_START ||
        type == GST_EVENT_FLUSH_STOP || type == GST_EVENT_RECONFIGURE)
      ev = event_from_structure ((GstEventType) type, s);
    if (s)
      gst_structure_free (s);
  }
  if (ev && seqnum != GST_SEQNUM_INVALID)
    gst_event_set_seqnum (ev, seqnum);
  return ev;
}
