/* The registration state shared between the SIP thread (the only writer) and the HTTP threads
 * (readers): a small mutex-protected record, copied in and out whole. */
#ifndef GW_GATEWAY_REGISTRATION_H
#define GW_GATEWAY_REGISTRATION_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/log.h"
#include "gateway/outcome.h"

enum gw_reg_state {
    GW_REG_DISABLED = 0, /* register = no */
    GW_REG_UNREGISTERED,
    GW_REG_REGISTERING,
    GW_REG_REGISTERED,
    GW_REG_RETRYING,
    GW_REG_FAILED, /* terminal until the configuration changes */
};

struct gw_reg_view {
    enum gw_reg_state state;
    char aor[256]; /* the address of record we register */
    char registrar[256];
    struct gw_sip_answer last; /* the last final answer (status 0 before the first) */
    unsigned granted_expires;  /* seconds the registrar granted, 0 if none */
    int64_t registered_at_ms;  /* wall clock of the last 2xx, 0 if none */
    int64_t expires_at_ms;     /* wall clock when the binding runs out, 0 if none */
    int64_t next_attempt_ms;   /* wall clock of the next REGISTER (refresh or retry), 0 */
    unsigned failures;         /* consecutive failed attempts */
    char detail[256];          /* why we are in this state, in plain words */
};

struct gw_registration;

/* Creates the shared record in state `initial`. Returns 0 or ENOMEM. */
int gw_registration_create(struct gw_registration **out, enum gw_reg_state initial) GW_MUST_CHECK;

/* Accepts NULL. */
void gw_registration_free(struct gw_registration *reg);

/* Replaces the record. SIP thread. */
void gw_registration_set(struct gw_registration *reg, const struct gw_reg_view *v);

/* Copies the record out. Any thread. */
void gw_registration_get(struct gw_registration *reg, struct gw_reg_view *out);

/* "disabled", "unregistered", "registering", "registered", "retrying", "failed". */
const char *gw_reg_state_name(enum gw_reg_state s);

/* True when messages can go out: registered, or registration disabled. */
bool gw_reg_state_ready(enum gw_reg_state s);

#endif
