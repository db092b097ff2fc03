/* Registration lifecycle: REGISTER with the 401 answered once per attempt, Sofia's own
 * refreshes, and a watchdog of ours, because Sofia stops refreshing after a failed refresh
 * and falls back to 3600 s when the 200 has no matching Contact. Failures retry with
 * exponential backoff and jitter (Retry-After honoured); credentials refused twice in a row
 * end in "failed" until the configuration changes. */
#include "sip/ua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "gateway/clock.h"

#define GW_LOG_MODULE "sip"

#define BACKOFF_BASE_S 2
#define BACKOFF_CAP_S  300

static void publish(struct gw_sip_agent *ag)
{
    gw_registration_set(ag->shared_reg, &ag->reg.view);
}

static void set_state(struct gw_sip_agent *ag, enum gw_reg_state st, const char *detail)
{
    ag->reg.view.state = st;
    snprintf(ag->reg.view.detail, sizeof(ag->reg.view.detail), "%s", detail);
    publish(ag);
}

static void send_register(struct gw_sip_agent *ag, unsigned expires)
{
    struct gw_sip_reg *reg = &ag->reg;
    char exp[16];
    snprintf(exp, sizeof(exp), "%u", expires);
    if (!reg->nh)
        reg->nh = nua_handle(ag->nua, &reg->h, SIPTAG_TO_STR(ag->identity),
                             SIPTAG_FROM_STR(ag->identity), TAG_END());
    if (!reg->nh) {
        set_state(ag, GW_REG_FAILED, "cannot create the REGISTER handle (bad identity?)");
        return;
    }
    reg->challenges = 0;
    reg->asked = expires;
    if (reg->view.state != GW_REG_RETRYING && reg->view.state != GW_REG_REGISTERED)
        set_state(ag, GW_REG_REGISTERING, "REGISTER sent");
    nua_register(reg->nh, NUTAG_REGISTRAR(ag->registrar), SIPTAG_EXPIRES_STR(exp),
                 NUTAG_M_USERNAME(ag->cfg->sip.username), TAG_END());
}

static void on_timer(struct gw_sip_agent *ag, su_timer_t *t, void *arg)
{
    (void)t;
    (void)arg;
    struct gw_sip_reg *reg = &ag->reg;
    if (ag->stopping)
        return;
    reg->view.next_attempt_ms = 0;
    if (reg->view.state == GW_REG_REGISTERED) {
        /* No refresh succeeded by the end of the binding: it is gone, and Sofia's refresh to a
         * silent registrar would hang until Timer F. Say so, and start over on a new handle. */
        GW_LOG_WARN("registration ran out without a successful refresh; registering again");
        if (reg->nh) {
            nua_handle_destroy(reg->nh);
            reg->nh = NULL;
        }
        reg->view.failures++;
        reg->view.expires_at_ms = 0;
        set_state(ag, GW_REG_RETRYING,
                  "the registration ran out without a successful refresh (the registrar did "
                  "not answer); registering again");
    }
    send_register(ag, ag->cfg->sip.expires);
}

static void arm_timer(struct gw_sip_agent *ag, int64_t delay_ms)
{
    struct gw_sip_reg *reg = &ag->reg;
    if (!reg->timer)
        reg->timer = su_timer_create(su_root_task(ag->root), 0);
    if (!reg->timer ||
        su_timer_set_interval(reg->timer, on_timer, NULL, (su_duration_t)delay_ms) < 0) {
        GW_LOG_ERR("cannot arm the registration timer");
        return;
    }
    reg->view.next_attempt_ms = gw_clock_now_ms() + delay_ms;
}

/* The expiry the registrar granted: our Contact's expires if it is the only one, else the
 * Expires header, else what we asked for. */
static unsigned granted_expires(const struct gw_sip_agent *ag, const sip_t *sip)
{
    if (sip && sip->sip_contact && !sip->sip_contact->m_next && sip->sip_contact->m_expires) {
        unsigned long v = strtoul(sip->sip_contact->m_expires, NULL, 10);
        if (v > 0 && v < 86400UL * 7)
            return (unsigned)v;
    }
    if (sip && sip->sip_expires && sip->sip_expires->ex_delta > 0)
        return (unsigned)sip->sip_expires->ex_delta;
    return ag->cfg->sip.expires;
}

static void on_registered(struct gw_sip_agent *ag, const sip_t *sip)
{
    struct gw_sip_reg *reg = &ag->reg;
    unsigned granted = granted_expires(ag, sip);
    int64_t now = gw_clock_now_ms();
    reg->view.granted_expires = granted;
    reg->view.registered_at_ms = now;
    reg->view.expires_at_ms = now + (int64_t)granted * 1000;
    reg->view.failures = 0;
    reg->auth_rejections = 0;
    /* Sofia refreshes well before expiry; if no refresh arrived by then, we do it. */
    arm_timer(ag, (int64_t)granted * 1000 - (granted > 10 ? 2000 : 500));
    char detail[96];
    snprintf(detail, sizeof(detail), "registered for %u s", granted);
    set_state(ag, GW_REG_REGISTERED, detail);
    GW_LOG_INFO("registered aor=%s expires=%u", ag->identity, granted);
    gw_sip_send_release_held(ag);
}

static int64_t backoff_ms(unsigned failures, int retry_after)
{
    unsigned cap = BACKOFF_BASE_S;
    for (unsigned i = 1; i < failures && cap < BACKOFF_CAP_S; i++)
        cap *= 2;
    if (cap > BACKOFF_CAP_S)
        cap = BACKOFF_CAP_S;
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = 0;
    /* Half fixed, half jitter: never hammer the registrar, never wait far longer than cap. */
    int64_t ms = (int64_t)cap * 500 + (int64_t)(r % (cap * 500 + 1));
    if (retry_after > 0 && ms < (int64_t)retry_after * 1000)
        ms = (int64_t)retry_after * 1000;
    return ms;
}

static void on_failed(struct gw_sip_agent *ag, const struct gw_sip_answer *a)
{
    struct gw_sip_reg *reg = &ag->reg;
    char detail[256];
    bool auth = a->status == 401 || a->status == 407 || a->status == 403 || a->status == 904;
    reg->auth_rejections = auth ? reg->auth_rejections + 1 : 0;
    reg->view.failures++;
    reg->view.expires_at_ms = 0;
    if (reg->nh) { /* Sofia stops refreshing after a failure: start over with a new handle */
        nua_handle_destroy(reg->nh);
        reg->nh = NULL;
    }
    if (reg->auth_rejections >= 2) {
        snprintf(detail, sizeof(detail),
                 "credentials refused twice (%d %s): check [sip] username, auth_username and "
                 "password; not retrying",
                 a->status, a->phrase);
        set_state(ag, GW_REG_FAILED, detail);
        GW_LOG_ERR("registration failed: %d %s", a->status, a->phrase);
        return;
    }
    int64_t delay = backoff_ms(reg->view.failures, a->retry_after);
    arm_timer(ag, delay);
    snprintf(detail, sizeof(detail), "%d %s; retrying in %.1f s", a->status, a->phrase,
             (double)delay / 1000.0);
    set_state(ag, GW_REG_RETRYING, detail);
    GW_LOG_WARN("registration: %s", detail);
}

/* Answers a 401/407 to REGISTER: Sofia for MD5 (it caches the credentials for refreshes),
 * our own digest for SHA-256 and SHA-512-256, which Sofia cannot compute. */
static int answer_challenge(struct gw_sip_agent *ag, int status, const sip_t *sip)
{
    struct gw_sip_reg *reg = &ag->reg;
    struct gw_digest_challenge ch;
    if (gw_sip_pick_challenge(status, sip, &ch) != 0 || ch.alg == GW_DIGEST_MD5 ||
        ch.alg == GW_DIGEST_MD5_SESS)
        return gw_sip_authenticate(ag, reg->nh, status, sip);
    char authz[GW_DIGEST_ANSWER_MAX], exp[16];
    int err = gw_sip_own_authorization(ag, &ch, "REGISTER", ag->registrar, "", 0, 1, authz,
                                       sizeof(authz));
    if (err)
        return err;
    snprintf(exp, sizeof(exp), "%u", reg->asked);
    GW_LOG_DEBUG("answering a %s REGISTER challenge ourselves", gw_digest_alg_name(ch.alg));
    nua_register(reg->nh, NUTAG_REGISTRAR(ag->registrar), SIPTAG_EXPIRES_STR(exp),
                 NUTAG_M_USERNAME(ag->cfg->sip.username),
                 TAG_IF(status == 401, SIPTAG_AUTHORIZATION_STR(authz)),
                 TAG_IF(status == 407, SIPTAG_PROXY_AUTHORIZATION_STR(authz)), TAG_END());
    return 0;
}

void gw_sip_reg_event(struct gw_sip_agent *ag, nua_event_t event, int status, const char *phrase,
                      const sip_t *sip)
{
    struct gw_sip_reg *reg = &ag->reg;
    if (status < 200)
        return;
    if ((status == 401 || status == 407) && reg->challenges == 0 &&
        answer_challenge(ag, status, sip) == 0) {
        reg->challenges++;
        return;
    }
    reg->challenges = 0; /* the next refresh may be challenged again */
    gw_sip_copy_answer(status, phrase, sip, &reg->view.last);
    if (event == nua_r_unregister) {
        reg->unregistering = false;
        set_state(ag, GW_REG_UNREGISTERED, "unregistered at shutdown");
        GW_LOG_INFO("unregistered: %d %s", status, phrase);
        return;
    }
    /* Only a longer interval than we asked can help; anything else would loop. */
    if (status == 423 && sip && sip->sip_min_expires &&
        sip->sip_min_expires->me_delta > reg->asked && sip->sip_min_expires->me_delta <= 86400) {
        unsigned min = (unsigned)sip->sip_min_expires->me_delta;
        GW_LOG_WARN("registrar wants at least %u s", min);
        send_register(ag, min);
        return;
    }
    if (status >= 200 && status < 300)
        on_registered(ag, sip);
    else
        on_failed(ag, &reg->view.last);
}

bool gw_sip_reg_lost(struct gw_sip_agent *ag, const struct gw_sip_answer *a)
{
    struct gw_sip_reg *reg = &ag->reg;
    if (!ag->cfg->sip.do_register || ag->stopping || reg->view.state == GW_REG_FAILED)
        return false;
    if (reg->view.state != GW_REG_REGISTERED)
        return true; /* a REGISTER is already under way or scheduled */
    GW_LOG_WARN("the operator says we are not registered (%d %s); registering again", a->status,
                a->phrase);
    if (reg->timer)
        su_timer_reset(reg->timer);
    if (reg->nh) { /* a new binding, not a refresh of the one the registrar forgot */
        nua_handle_destroy(reg->nh);
        reg->nh = NULL;
    }
    reg->view.expires_at_ms = 0;
    reg->view.next_attempt_ms = 0;
    set_state(ag, GW_REG_RETRYING,
              "the operator refused a MESSAGE as not registered (its registrar lost our "
              "binding); registering again");
    send_register(ag, ag->cfg->sip.expires);
    return true;
}

int gw_sip_reg_start(struct gw_sip_agent *ag)
{
    struct gw_sip_reg *reg = &ag->reg;
    reg->h.kind = GW_SIP_H_REGISTER;
    gw_sip_answer_init(&reg->view.last);
    snprintf(reg->view.aor, sizeof(reg->view.aor), "%s", ag->identity);
    snprintf(reg->view.registrar, sizeof(reg->view.registrar), "%s", ag->registrar);
    if (!ag->cfg->sip.do_register) {
        set_state(ag, GW_REG_DISABLED, "register = no");
        return 0;
    }
    send_register(ag, ag->cfg->sip.expires);
    return 0;
}

bool gw_sip_reg_stop(struct gw_sip_agent *ag)
{
    struct gw_sip_reg *reg = &ag->reg;
    if (reg->timer)
        su_timer_reset(reg->timer);
    if (!reg->nh || reg->view.state != GW_REG_REGISTERED)
        return false;
    reg->unregistering = true;
    reg->challenges = 0;
    /* nua_unregister removes only our own Contact (Expires: 0), never "*". */
    nua_unregister(reg->nh, TAG_END());
    return true;
}

void gw_sip_reg_free(struct gw_sip_agent *ag)
{
    struct gw_sip_reg *reg = &ag->reg;
    if (reg->timer)
        su_timer_destroy(reg->timer);
    reg->timer = NULL;
    if (reg->nh)
        nua_handle_destroy(reg->nh);
    reg->nh = NULL;
}
