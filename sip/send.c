/* Sending one MESSAGE (RFC 3428): Request-URI and To are the recipient, From is our identity,
 * no Contact; a 401/407 is answered once (a second challenge means the credentials were
 * refused, never a loop); every attempt has a deadline after which we finish it ourselves,
 * because a lost challenge answer or Timer F must not leave a message waiting forever. */
#include "sip/ua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/clock.h"
#include "gateway/number.h"

#define GW_LOG_MODULE "sip"

static void unlink_send(struct gw_sip_agent *ag, struct gw_sip_send *snd)
{
    if (snd->prev)
        snd->prev->next = snd->next;
    else
        ag->sends = snd->next;
    if (snd->next)
        snd->next->prev = snd->prev;
}

/* Reports the outcome (unless report is NULL), releases the handle and the job, and lets
 * the next queued job in. */
static void finish(struct gw_sip_agent *ag, struct gw_sip_send *snd,
                   const struct gw_sip_answer *report)
{
    if (report)
        gw_store_report(ag->store, snd->job->id, snd->job->attempt, report);
    if (snd->deadline)
        su_timer_destroy(snd->deadline);
    if (snd->nh)
        nua_handle_destroy(snd->nh);
    unlink_send(ag, snd);
    gw_job_free(snd->job);
    free(snd);
    ag->inflight--;
    gw_sip_drain_queue(ag);
}

static void fail_locally(struct gw_sip_agent *ag, struct gw_sip_send *snd, int status,
                         const char *phrase)
{
    struct gw_sip_answer a;
    gw_sip_answer_init(&a);
    a.status = status;
    snprintf(a.phrase, sizeof(a.phrase), "%s", phrase);
    finish(ag, snd, &a);
}

static void on_deadline(struct gw_sip_agent *ag, su_timer_t *t, void *arg)
{
    (void)t;
    struct gw_sip_send *snd = arg;
    GW_LOG_WARN("id=%s attempt=%u: no final answer within %u s", snd->job->id, snd->job->attempt,
                ag->cfg->sip.timeout);
    fail_locally(ag, snd, GW_SIP_NO_ANSWER, "No final answer within the deadline");
}

/* Builds the handle for job: Request-URI and To from the recipient template. */
static int make_handle(struct gw_sip_agent *ag, struct gw_sip_send *snd)
{
    const struct gw_config *cfg = ag->cfg;
    char to[GW_CFG_STR * 2 + 2], from[GW_CFG_STR * 2 + 2];
    if (gw_number_format_uri(cfg->sip.recipient_uri, snd->job->to, cfg->sip.domain, snd->ruri,
                             sizeof(snd->ruri)) != 0)
        return EINVAL;
    snprintf(to, sizeof(to), "<%s>", snd->ruri);
    if (snd->job->from[0])
        snprintf(from, sizeof(from), "<sip:%s@%s;user=phone>", snd->job->from, cfg->sip.domain);
    snd->nh = nua_handle(ag->nua, &snd->h, NUTAG_URL(snd->ruri), SIPTAG_TO_STR(to),
                         TAG_IF(snd->job->from[0], SIPTAG_FROM_STR(from)), TAG_END());
    return snd->nh ? 0 : EINVAL;
}

/* Sends the MESSAGE; with authz, as the answer to a `status` (401/407) challenge. */
static void send_request(struct gw_sip_agent *ag, struct gw_sip_send *snd, int status,
                         const char *authz)
{
    nua_message(snd->nh, SIPTAG_CONTENT_TYPE_STR("text/plain;charset=UTF-8"),
                SIPTAG_PAYLOAD_STR(snd->job->text),
                TAG_IF(ag->identity_headers[0], SIPTAG_HEADER_STR(ag->identity_headers)),
                TAG_IF(authz && status == 401, SIPTAG_AUTHORIZATION_STR(authz)),
                TAG_IF(authz && status == 407, SIPTAG_PROXY_AUTHORIZATION_STR(authz)), TAG_END());
}

/* Answers a 401/407 once (plus one stale=true re-challenge of our own digest). Returns true
 * when the request went out again. */
static bool answer_challenge(struct gw_sip_agent *ag, struct gw_sip_send *snd, int status,
                             const sip_t *sip)
{
    struct gw_digest_challenge ch;
    bool own = gw_sip_pick_challenge(status, sip, &ch) == 0 && gw_sip_needs_own_digest(&ch);
    if (!own) {
        if (snd->challenges > 0 || gw_sip_authenticate(ag, snd->nh, status, sip) != 0)
            return false;
        snd->challenges++;
        return true;
    }
    if (snd->challenges > 0 && (!ch.stale || snd->stale_answered))
        return false;
    char authz[GW_DIGEST_ANSWER_MAX];
    if (gw_sip_own_authorization(ag, &ch, "MESSAGE", snd->ruri, snd->job->text, snd->job->text_len,
                                 authz, sizeof(authz)) != 0)
        return false;
    snd->stale_answered = snd->challenges > 0;
    snd->challenges++;
    GW_LOG_DEBUG("id=%s answering a %s challenge ourselves", snd->job->id,
                 gw_digest_alg_name(ch.alg));
    send_request(ag, snd, status, authz);
    return true;
}

void gw_sip_send_start(struct gw_sip_agent *ag, struct gw_job *job)
{
    gw_sip_assert_thread(ag);
    struct gw_sip_send *snd = calloc(1, sizeof(*snd));
    if (!snd) {
        struct gw_sip_answer a;
        gw_sip_answer_init(&a);
        a.status = 900;
        snprintf(a.phrase, sizeof(a.phrase), "Out of memory");
        gw_store_report(ag->store, job->id, job->attempt, &a);
        gw_job_free(job);
        return;
    }
    snd->h.kind = GW_SIP_H_MESSAGE;
    snd->ag = ag;
    snd->job = job;
    snd->next = ag->sends;
    if (ag->sends)
        ag->sends->prev = snd;
    ag->sends = snd;
    ag->inflight++;
    if (gw_clock_now_ms() >= job->expires_at_ms) {
        fail_locally(ag, snd, 900, "Validity period ended before sending");
        return;
    }
    snd->deadline = su_timer_create(su_root_task(ag->root), 0);
    if (!snd->deadline || su_timer_set_interval(snd->deadline, on_deadline, snd,
                                                (su_duration_t)ag->cfg->sip.timeout * 1000) < 0) {
        fail_locally(ag, snd, 900, "Cannot arm the deadline timer");
        return;
    }
    if (make_handle(ag, snd) != 0) {
        fail_locally(ag, snd, 900, "Cannot build the recipient URI");
        return;
    }
    GW_LOG_DEBUG("id=%s attempt=%u MESSAGE to=%s", job->id, job->attempt, job->to);
    send_request(ag, snd, 0, NULL);
}

void gw_sip_send_event(struct gw_sip_agent *ag, struct gw_sip_send *snd, nua_event_t event,
                       int status, const char *phrase, const sip_t *sip)
{
    if (event != nua_r_message && event != nua_r_authenticate)
        return;
    if (status < 200)
        return;
    if (event == nua_r_message && (status == 401 || status == 407) &&
        answer_challenge(ag, snd, status, sip))
        return;
    /* 904 from nua_r_authenticate: the challenge could not be answered; the 407 is final. */
    struct gw_sip_answer a;
    gw_sip_copy_answer(status, phrase, sip, &a);
    if (event == nua_r_authenticate && status < 300)
        return;
    GW_LOG_INFO("id=%s attempt=%u final %d %s call_id=%s", snd->job->id, snd->job->attempt, status,
                phrase, a.call_id);
    finish(ag, snd, &a);
}

void gw_sip_send_abort_all(struct gw_sip_agent *ag)
{
    /* Their outcome is unknown: no report, so the lease brings them back after a restart. */
    while (ag->sends) {
        GW_LOG_WARN("id=%s abandoned at shutdown; it will be sent again after a restart",
                    ag->sends->job->id);
        finish(ag, ag->sends, NULL);
    }
}
