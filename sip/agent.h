/* The SIP user agent: the one thread that calls Sofia-SIP. It registers (401 digest, refresh),
 * sends a MESSAGE for each job popped from the queue (407 answered once), reports every final
 * answer to the store, answers inbound MESSAGE and OPTIONS, and unregisters on stop.
 * Exposes no Sofia types. */
#ifndef GW_SIP_AGENT_H
#define GW_SIP_AGENT_H

#include "gateway/config.h"
#include "gateway/queue.h"
#include "gateway/registration.h"
#include "gateway/store.h"

struct gw_sip_agent;

/* Starts the SIP thread and waits until its stack is bound (or failed). Borrows every
 * argument until gw_sip_agent_stop. Main thread. Returns 0, EADDRINUSE, EINVAL or ENOMEM. */
int gw_sip_agent_start(struct gw_sip_agent **out, const struct gw_config *cfg, struct gw_queue *q,
                       struct gw_store *store, struct gw_registration *reg) GW_MUST_CHECK;

/* Pushes a STOP job, waits for the un-REGISTER (bounded) and joins the thread, then frees.
 * Main thread. Accepts NULL. */
void gw_sip_agent_stop(struct gw_sip_agent *agent);

#endif
