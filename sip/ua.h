/* Private to sip/: the user agent's state, shared by agent.c (thread, queue, lifecycle),
 * register.c (REGISTER and its refresh watchdog), send.c (MESSAGE) and inbound.c.
 * Everything here runs on the SIP thread only. */
#ifndef GW_SIP_UA_H
#define GW_SIP_UA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct gw_sip_agent;
struct gw_sip_hctx;

#define NUA_MAGIC_T     struct gw_sip_agent
#define NUA_HMAGIC_T    struct gw_sip_hctx
#define SU_ROOT_MAGIC_T struct gw_sip_agent
#define SU_WAKEUP_ARG_T struct gw_sip_agent
#define SU_TIMER_ARG_T  void

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>

#include "gateway/config.h"
#include "gateway/outcome.h"
#include "gateway/queue.h"
#include "gateway/registration.h"
#include "gateway/store.h"
#include "sip/digest.h"

enum gw_sip_hkind {
    GW_SIP_H_REGISTER = 1,
    GW_SIP_H_MESSAGE,
};

/* The context of every handle we create; kind tells which struct embeds it. */
struct gw_sip_hctx {
    enum gw_sip_hkind kind;
};

/* One MESSAGE in flight. */
struct gw_sip_send {
    struct gw_sip_hctx h; /* first member */
    struct gw_sip_agent *ag;
    struct gw_job *job;
    nua_handle_t *nh;
    su_timer_t *deadline;
    unsigned challenges;          /* 401/407 answered for this attempt */
    bool stale_answered;          /* the one stale=true re-challenge allowed was answered */
    bool held;                    /* refused as not registered: waits for our REGISTER to succeed */
    bool resent;                  /* already sent once more after such a refusal */
    struct gw_sip_answer refusal; /* that refusal, reported if we do not register in time */
    char ruri[GW_CFG_STR * 2];
    struct gw_sip_send *prev, *next;
};

struct gw_sip_reg {
    struct gw_sip_hctx h; /* first member */
    nua_handle_t *nh;
    unsigned challenges; /* answered in the current attempt */
    unsigned asked;      /* the expiry the last REGISTER asked for */
    unsigned auth_rejections;
    su_timer_t *timer; /* retry after a failure, or the refresh watchdog */
    struct gw_reg_view view;
    bool unregistering;
};

struct gw_sip_agent {
    const struct gw_config *cfg;
    struct gw_queue *queue;
    struct gw_store *store;
    struct gw_registration *shared_reg;

    pthread_t thread;
    pthread_t sip_tid; /* set by the SIP thread itself before anything else */
    pthread_mutex_t start_lock;
    pthread_cond_t start_cond;
    bool start_done;
    int start_err;
    int stop_fd; /* eventfd: main asks the thread to stop */

    su_home_t home[1];
    su_root_t *root;
    nua_t *nua;
    su_wait_t queue_wait, stop_wait;
    int queue_index, stop_index; /* su_root_register's handles, 0 = not registered */
    su_timer_t *stop_timer;
    char identity[GW_CFG_STR]; /* "sip:user@domain" */
    char proxy[GW_CFG_STR];    /* the proxy URI with its host resolved to an address */
    char registrar[GW_CFG_STR];
    char identity_headers[GW_CFG_STR * 2 + 64]; /* P-Asserted/P-Preferred-Identity, or "" */
    /* The operator's last MESSAGE challenge: new MESSAGEs carry credentials for it at once
     * (nc counting up), which spares a 407 round trip per message while the nonce lives. */
    struct gw_digest_challenge preauth;
    int preauth_status; /* 401 or 407; 0 = none cached */
    unsigned preauth_nc;
    unsigned inflight;
    struct gw_sip_send *sends; /* list of MESSAGEs in flight */
    struct gw_sip_reg reg;
    bool stopping, shutdown_sent;
    int64_t stop_deadline_ms;
};

/* agent.c */
void gw_sip_assert_thread(const struct gw_sip_agent *ag);
void gw_sip_drain_queue(struct gw_sip_agent *ag);

/* answer.c: copies a final response's status line, Call-ID, Reason, Warning, Retry-After. */
void gw_sip_copy_answer(int status, const char *phrase, const sip_t *sip,
                        struct gw_sip_answer *out);
/* Answers one 401/407 on nh with our credentials through Sofia (REGISTER). Returns 0, or
 * ENOENT when the response has no usable Digest challenge or we have no password. */
int gw_sip_authenticate(struct gw_sip_agent *ag, nua_handle_t *nh, int status, const sip_t *sip);

/* challenge.c: MESSAGE challenges answered with our own digest (MD5, SHA-256, SHA-512-256). */
int gw_sip_pick_challenge(int status, const sip_t *sip, struct gw_digest_challenge *out);
int gw_sip_own_authorization(struct gw_sip_agent *ag, const struct gw_digest_challenge *ch,
                             const char *method, const char *uri, const char *body, size_t body_len,
                             unsigned nc, char *out, size_t outlen);

/* send.c */
void gw_sip_send_start(struct gw_sip_agent *ag, struct gw_job *job);
/* Sends again the MESSAGEs held until we registered (see gw_sip_reg_lost). */
void gw_sip_send_release_held(struct gw_sip_agent *ag);
void gw_sip_send_event(struct gw_sip_agent *ag, struct gw_sip_send *snd, nua_event_t event,
                       int status, const char *phrase, const sip_t *sip);
void gw_sip_send_abort_all(struct gw_sip_agent *ag);

/* register.c */
int gw_sip_reg_start(struct gw_sip_agent *ag);
void gw_sip_reg_event(struct gw_sip_agent *ag, nua_event_t event, int status, const char *phrase,
                      const sip_t *sip);
/* The operator refused a MESSAGE as coming from an unregistered sender (a): while we thought
 * we were registered, its registrar lost our binding, so we register again at once. Returns
 * true when a REGISTER is under way (false: registration is off or has failed for good). */
bool gw_sip_reg_lost(struct gw_sip_agent *ag, const struct gw_sip_answer *a);
/* Sends the un-REGISTER; returns false when there is nothing to unregister. */
bool gw_sip_reg_stop(struct gw_sip_agent *ag);
void gw_sip_reg_free(struct gw_sip_agent *ag);

/* inbound.c */
void gw_sip_inbound_message(struct gw_sip_agent *ag, nua_handle_t *nh, const sip_t *sip);

#endif
