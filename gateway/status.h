/* The message lifecycle: queued -> sending -> sent -> delivered | undelivered, with the side
 * exits failed and expired (and back to queued when a retry is scheduled), and cancelled for a
 * queued message the client withdrew. */
#ifndef GW_GATEWAY_STATUS_H
#define GW_GATEWAY_STATUS_H

#include <stdbool.h>

#include "gateway/log.h"

enum gw_status {
    GW_STATUS_QUEUED = 0,
    GW_STATUS_SENDING,
    GW_STATUS_SENT,
    GW_STATUS_DELIVERED,
    GW_STATUS_UNDELIVERED,
    GW_STATUS_FAILED,
    GW_STATUS_EXPIRED,
    GW_STATUS_RECEIVED,  /* inbound messages only */
    GW_STATUS_CANCELLED, /* withdrawn by the client while queued */
};
#define GW_STATUS_COUNT 9

/* True if a message may move from `from` to `to`. */
bool gw_status_can_move(enum gw_status from, enum gw_status to);

/* True for states no attempt will leave (delivered, undelivered, failed, expired, received,
 * cancelled; sent can still become delivered or undelivered through a report). */
bool gw_status_is_final(enum gw_status s);

/* "queued", "sending", ... */
const char *gw_status_name(enum gw_status s);

/* Parses a name. Returns 0 or EINVAL. */
int gw_status_parse(const char *name, enum gw_status *out) GW_MUST_CHECK;

#endif
