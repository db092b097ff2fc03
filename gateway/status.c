/* Status names and the table of legal transitions. */
#include "gateway/status.h"

#include <errno.h>
#include <string.h>

static const char *const names[GW_STATUS_COUNT] = {
    [GW_STATUS_QUEUED] = "queued",
    [GW_STATUS_SENDING] = "sending",
    [GW_STATUS_SENT] = "sent",
    [GW_STATUS_DELIVERED] = "delivered",
    [GW_STATUS_UNDELIVERED] = "undelivered",
    [GW_STATUS_FAILED] = "failed",
    [GW_STATUS_EXPIRED] = "expired",
    [GW_STATUS_RECEIVED] = "received",
    [GW_STATUS_CANCELLED] = "cancelled",
};

#define BIT(s) (1u << (s))

/* allowed[from] is the set of states `from` may move to. */
static const unsigned allowed[GW_STATUS_COUNT] = {
    [GW_STATUS_QUEUED] = BIT(GW_STATUS_SENDING) | BIT(GW_STATUS_EXPIRED) | BIT(GW_STATUS_FAILED) |
                         BIT(GW_STATUS_CANCELLED),
    /* queued again: a retry is scheduled, or a lease ran out after a crash */
    [GW_STATUS_SENDING] = BIT(GW_STATUS_SENT) | BIT(GW_STATUS_FAILED) | BIT(GW_STATUS_EXPIRED) |
                          BIT(GW_STATUS_QUEUED),
    [GW_STATUS_SENT] = BIT(GW_STATUS_DELIVERED) | BIT(GW_STATUS_UNDELIVERED),
};

bool gw_status_can_move(enum gw_status from, enum gw_status to)
{
    if ((unsigned)from >= GW_STATUS_COUNT || (unsigned)to >= GW_STATUS_COUNT)
        return false;
    return (allowed[from] & BIT(to)) != 0;
}

bool gw_status_is_final(enum gw_status s)
{
    switch (s) {
    case GW_STATUS_QUEUED:
    case GW_STATUS_SENDING:
    case GW_STATUS_SENT:
        return false;
    case GW_STATUS_DELIVERED:
    case GW_STATUS_UNDELIVERED:
    case GW_STATUS_FAILED:
    case GW_STATUS_EXPIRED:
    case GW_STATUS_RECEIVED:
    case GW_STATUS_CANCELLED:
        return true;
    }
    return true;
}

const char *gw_status_name(enum gw_status s)
{
    if ((unsigned)s >= GW_STATUS_COUNT)
        return "unknown";
    return names[s];
}

int gw_status_parse(const char *name, enum gw_status *out)
{
    for (unsigned i = 0; i < GW_STATUS_COUNT; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum gw_status)i;
            return 0;
        }
    }
    return EINVAL;
}
