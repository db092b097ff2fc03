/* The dispatch circuit breaker: when the last `threshold` attempt outcomes in a row were
 * operator-side failures a retry could cure (operator_unavailable, timeout, network_busy,
 * network_error), dispatch pauses instead of spending every queued message's attempts. After
 * the pause one message goes out as a probe; its success closes the breaker, its failure
 * doubles the pause (up to a cap). A plain value with an injectable clock, owned by the
 * store's writer; not thread-safe. */
#ifndef GW_GATEWAY_BREAKER_H
#define GW_GATEWAY_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/outcome.h"

#define GW_BREAKER_CODE_LEN 32

enum gw_breaker_state {
    GW_BREAKER_CLOSED = 0, /* dispatch runs */
    GW_BREAKER_OPEN,       /* paused until until_ms, then one probe may go */
    GW_BREAKER_PROBING,    /* the probe is out; nothing else goes until its outcome */
};

struct gw_breaker {
    unsigned threshold;       /* consecutive operator failures that open it */
    int64_t base_ms, cap_ms;  /* the first pause, and the longest */
    int64_t probe_timeout_ms; /* a probe without an outcome after this counts as failed */
    enum gw_breaker_state state;
    unsigned failures; /* consecutive operator failures so far */
    int64_t pause_ms;  /* the current pause (open or probing) */
    int64_t until_ms;  /* open: when the probe may go; probing: when it counts as lost */
    char last_code[GW_BREAKER_CODE_LEN]; /* the failure that opened it (or the last one) */
};

/* Sets b up closed. threshold 0 disables the breaker (it never opens). */
void gw_breaker_init(struct gw_breaker *b, unsigned threshold, int64_t base_ms, int64_t cap_ms,
                     int64_t probe_timeout_ms);

/* True when an outcome counts against the operator: a failure that is not permanent and whose
 * code is operator_unavailable, timeout, network_busy or network_error. */
bool gw_breaker_counts(const struct gw_outcome *oc);

/* How many messages may be claimed at now_ms: SIZE_MAX when closed, 1 when open and the pause
 * is over (the probe), 0 otherwise. A probe out longer than probe_timeout_ms counts as
 * failed here (the breaker reopens with a doubled pause). */
size_t gw_breaker_allow(struct gw_breaker *b, int64_t now_ms);

/* The probe that gw_breaker_allow let through was claimed at now_ms. */
void gw_breaker_probe_sent(struct gw_breaker *b, int64_t now_ms);

/* The probe claimed at now_ms did not go out after all (its claim was rolled back): the
 * breaker is open again with the pause over, so the next message due becomes the probe. */
void gw_breaker_probe_withdrawn(struct gw_breaker *b, int64_t now_ms);

/* Records one attempt's outcome at now_ms. operator_down: gw_breaker_counts said so. probe:
 * this is the probe's outcome. Any other outcome closes the breaker (the operator answered);
 * an operator failure opens it at the threshold, reopens it with a doubled pause when it is
 * the probe's, and is ignored while open (attempts that were already out). */
void gw_breaker_record(struct gw_breaker *b, bool operator_down, bool probe, const char *code,
                       int64_t now_ms);

#endif
