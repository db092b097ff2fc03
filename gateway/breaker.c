/* Circuit breaker state machine: closed -> open (after `threshold` operator failures in a
 * row) -> probing (one message out) -> closed on its success, open again on its failure. */
#include "gateway/breaker.h"

#include <stdio.h>
#include <string.h>

static const char *const down_codes[] = {"operator_unavailable", "timeout", "network_busy",
                                         "network_error"};

void gw_breaker_init(struct gw_breaker *b, unsigned threshold, int64_t base_ms, int64_t cap_ms,
                     int64_t probe_timeout_ms)
{
    memset(b, 0, sizeof(*b));
    b->threshold = threshold;
    b->base_ms = base_ms > 0 ? base_ms : 1;
    b->cap_ms = cap_ms >= b->base_ms ? cap_ms : b->base_ms;
    b->probe_timeout_ms = probe_timeout_ms > 0 ? probe_timeout_ms : 1;
    b->state = GW_BREAKER_CLOSED;
}

bool gw_breaker_counts(const struct gw_outcome *oc)
{
    if (oc->success || oc->permanent || !oc->code)
        return false;
    for (size_t i = 0; i < sizeof(down_codes) / sizeof(down_codes[0]); i++) {
        if (strcmp(oc->code, down_codes[i]) == 0)
            return true;
    }
    return false;
}

/* Pauses for pause_ms from now. */
static void open_for(struct gw_breaker *b, int64_t pause_ms, int64_t now_ms)
{
    b->state = GW_BREAKER_OPEN;
    b->pause_ms = pause_ms < b->cap_ms ? pause_ms : b->cap_ms;
    b->until_ms = now_ms + b->pause_ms;
}

static void reopen(struct gw_breaker *b, int64_t now_ms)
{
    open_for(b, b->pause_ms > b->cap_ms / 2 ? b->cap_ms : b->pause_ms * 2, now_ms);
}

size_t gw_breaker_allow(struct gw_breaker *b, int64_t now_ms)
{
    switch (b->state) {
    case GW_BREAKER_CLOSED:
        return SIZE_MAX;
    case GW_BREAKER_OPEN:
        return now_ms >= b->until_ms ? 1 : 0;
    case GW_BREAKER_PROBING:
        if (now_ms >= b->until_ms) {
            snprintf(b->last_code, sizeof(b->last_code), "%s", "probe_lost");
            reopen(b, now_ms);
        }
        return 0;
    }
    return 0;
}

void gw_breaker_probe_sent(struct gw_breaker *b, int64_t now_ms)
{
    if (b->state != GW_BREAKER_OPEN)
        return;
    b->state = GW_BREAKER_PROBING;
    b->until_ms = now_ms + b->probe_timeout_ms;
}

void gw_breaker_probe_withdrawn(struct gw_breaker *b, int64_t now_ms)
{
    if (b->state != GW_BREAKER_PROBING)
        return;
    b->state = GW_BREAKER_OPEN;
    b->until_ms = now_ms;
}

void gw_breaker_record(struct gw_breaker *b, bool operator_down, bool probe, const char *code,
                       int64_t now_ms)
{
    if (!operator_down) {
        b->state = GW_BREAKER_CLOSED;
        b->failures = 0;
        b->pause_ms = 0;
        b->until_ms = 0;
        return;
    }
    snprintf(b->last_code, sizeof(b->last_code), "%s", code ? code : "");
    switch (b->state) {
    case GW_BREAKER_CLOSED:
        if (b->failures < b->threshold)
            b->failures++;
        if (b->threshold > 0 && b->failures >= b->threshold)
            open_for(b, b->base_ms, now_ms);
        break;
    case GW_BREAKER_OPEN:
        break; /* attempts that were out before the pause */
    case GW_BREAKER_PROBING:
        if (probe)
            reopen(b, now_ms);
        break;
    }
}
