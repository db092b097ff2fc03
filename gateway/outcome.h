/* What a final SIP answer means for a message: one table maps the status, the Reason header
 * (a Q.850 cause overrides the status), Warning and Retry-After to a stable error code, whether
 * a retry can help, and one sentence of advice. Pure functions, any thread. */
#ifndef GW_GATEWAY_OUTCOME_H
#define GW_GATEWAY_OUTCOME_H

#include <stdbool.h>

#define GW_SIP_TEXT 128

/* Status values below 100 are ours, not the operator's. */
#define GW_SIP_NO_ANSWER 0 /* our own deadline ran out before a final answer */

/* A final answer to a MESSAGE (or REGISTER), copied out of the SIP stack. */
struct gw_sip_answer {
    int status; /* 200..699, >= 900 for stack errors, 0 no answer */
    char phrase[GW_SIP_TEXT];
    char call_id[GW_SIP_TEXT];
    char reason_protocol[16]; /* "Q.850", "SIP" or "" when absent */
    int reason_cause;         /* -1 when absent */
    char reason_text[GW_SIP_TEXT];
    int warning_code; /* -1 when absent */
    char warning_text[GW_SIP_TEXT];
    int retry_after; /* seconds, -1 when absent */
};

struct gw_outcome {
    bool success;       /* 2xx: nothing else below is set */
    const char *code;   /* stable machine code, e.g. "barred", "unknown_number", "timeout" */
    bool permanent;     /* true: a retry of the same message cannot help */
    const char *advice; /* one sentence for the user */
};

/* Sets every field of a to "absent". */
void gw_sip_answer_init(struct gw_sip_answer *a);

/* Classifies a final answer. A Q.850 cause in a->reason_* decides over the status. */
void gw_outcome_classify(const struct gw_sip_answer *a, struct gw_outcome *out);

/* The ITU-T Q.850 name of a cause value ("Incoming calls barred within CUG"), or NULL. */
const char *gw_q850_name(int cause);

#endif
