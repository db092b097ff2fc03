/* Sending one MESSAGE (RFC 3428): Request-URI and To are the recipient, From is our identity,
 * no Contact; a 401/407 is answered once with our own digest (once more for a stale nonce; a
 * second refusal means the credentials were refused, never a loop); every attempt has a
 * deadline after which we finish it ourselves, because a lost challenge answer or Timer F must
 * not leave a message waiting forever. */
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
    if (snd->held) { /* not registered again in time: the refusal stands */
        GW_LOG_WARN("id=%s attempt=%u: not registered again within %u s", snd->job->id,
                    snd->job->attempt, ag->cfg->sip.timeout);
        finish(ag, snd, &snd->refusal);
        return;
    }
    GW_LOG_WARN("id=%s attempt=%u: no final answer within %u s", snd->job->id, snd->job->attempt,
                ag->cfg->sip.timeout);
    fail_locally(ag, snd, GW_SIP_NO_ANSWER, "No final answer within the deadline");
}

/* Builds the handle for job: Request-URI and To from the recipient template. Sofia restarts no
 * request on it by itself (retry count 0): we answer every challenge, and a 5xx with
 * Retry-After comes back to us and the store's retry policy instead of being sent again
 * silently after the delay, inside the same attempt and its deadline. */
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
                         TAG_IF(snd->job->from[0], SIPTAG_FROM_STR(from)), NUTAG_RETRY_COUNT(0),
                         TAG_END());
    return snd->nh ? 0 : EINVAL;
}

/* Sends the MESSAGE; with authz, as the answer to the 401/407 response resp. Sofia gives every
 * request on a handle a new Call-ID, so the answer takes the challenged request's Call-ID and
 * the next CSeq itself (RFC 3261 8.1.3.5): servers may tie their nonce to the call. */
static void send_request(struct gw_sip_agent *ag, struct gw_sip_send *snd, const sip_t *resp,
                         const char *authz)
{
    int status = resp && resp->sip_status ? resp->sip_status->st_status : 0;
    char pre[GW_DIGEST_ANSWER_MAX];
    if (!authz && ag->preauth_status &&
        gw_sip_own_authorization(ag, &ag->preauth, "MESSAGE", snd->ruri, snd->job->text,
                                 snd->job->text_len, ++ag->preauth_nc, pre, sizeof(pre)) == 0) {
        authz = pre;
        status = ag->preauth_status;
    }
    const sip_call_id_t *cid = authz && resp ? resp->sip_call_id : NULL;
    char cseq[32] = "";
    if (authz && resp && resp->sip_cseq)
        snprintf(cseq, sizeof(cseq), "%u MESSAGE", resp->sip_cseq->cs_seq + 1);
    nua_message(snd->nh, SIPTAG_CONTENT_TYPE_STR("text/plain;charset=UTF-8"),
                SIPTAG_PAYLOAD_STR(snd->job->text),
                TAG_IF(ag->identity_headers[0], SIPTAG_HEADER_STR(ag->identity_headers)),
                TAG_IF(cid, SIPTAG_CALL_ID(cid)), TAG_IF(cseq[0], SIPTAG_CSEQ_STR(cseq)),
                TAG_IF(authz && status == 401, SIPTAG_AUTHORIZATION_STR(authz)),
                TAG_IF(authz && status == 407, SIPTAG_PROXY_AUTHORIZATION_STR(authz)), TAG_END());
}

/* Answers a 401/407 with our digest (MD5, SHA-256, SHA-512-256; the strongest offered), once
 * per attempt, plus once more when the server says only our nonce went stale. Another
 * challenge means the credentials were refused: never a loop. Returns true when the request
 * went out again. */
static bool answer_challenge(struct gw_sip_agent *ag, struct gw_sip_send *snd, int status,
                             const sip_t *sip)
{
    struct gw_digest_challenge ch;
    char authz[GW_DIGEST_ANSWER_MAX];
    bool again = snd->challenges > 0;
    if (gw_sip_pick_challenge(status, sip, &ch) != 0)
        return false;
    if (again && (!ch.stale || snd->stale_answered))
        return false;
    if (gw_sip_own_authorization(ag, &ch, "MESSAGE", snd->ruri, snd->job->text, snd->job->text_len,
                                 1, authz, sizeof(authz)) != 0)
        return false;
    ag->preauth = ch;
    ag->preauth_status = status;
    ag->preauth_nc = 1;
    GW_LOG_DEBUG("id=%s answering a %s%s challenge", snd->job->id, again ? "stale " : "",
                 gw_digest_alg_name(ch.alg));
    snd->stale_answered = again;
    snd->challenges++;
    send_request(ag, snd, sip, authz);
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
    send_request(ag, snd, NULL, NULL);
}

/* 403 with Q.850 cause 55 or a Warning "not registered": how operators refuse a sender that
 * has no registration. */
static bool says_not_registered(const struct gw_sip_answer *a)
{
    if (a->status != 403)
        return false;
    if (strcmp(a->reason_protocol, "Q.850") == 0 && a->reason_cause == 55)
        return true;
    return a->warning_code == 399 && strcasestr(a->warning_text, "not registered") != NULL;
}

/* Holds a MESSAGE refused as not registered until our REGISTER succeeds (the deadline keeps
 * running), once per attempt. Returns false when that cannot help. */
static bool hold(struct gw_sip_agent *ag, struct gw_sip_send *snd, const struct gw_sip_answer *a)
{
    if (snd->resent || !says_not_registered(a) || !gw_sip_reg_lost(ag, a))
        return false;
    GW_LOG_INFO("id=%s attempt=%u: %d %s as not registered; sending again once registered",
                snd->job->id, snd->job->attempt, a->status, a->phrase);
    snd->refusal = *a;
    snd->held = true;
    nua_handle_destroy(snd->nh);
    snd->nh = NULL;
    return true;
}

void gw_sip_send_release_held(struct gw_sip_agent *ag)
{
    struct gw_sip_send *next;
    for (struct gw_sip_send *snd = ag->sends; snd; snd = next) {
        next = snd->next; /* finish() may unlink snd and put new sends at the head */
        if (!snd->held)
            continue;
        snd->held = false;
        snd->resent = true;
        snd->challenges = 0;
        snd->stale_answered = false;
        if (make_handle(ag, snd) != 0) {
            fail_locally(ag, snd, 900, "Cannot build the recipient URI");
            continue;
        }
        GW_LOG_DEBUG("id=%s attempt=%u MESSAGE again after registering", snd->job->id,
                     snd->job->attempt);
        send_request(ag, snd, NULL, NULL);
    }
}

void gw_sip_send_event(struct gw_sip_agent *ag, struct gw_sip_send *snd, nua_event_t event,
                       int status, const char *phrase, const sip_t *sip)
{
    if (event != nua_r_message || status < 200)
        return;
    if ((status == 401 || status == 407) && answer_challenge(ag, snd, status, sip))
        return;
    if (status == 401 || status == 407)
        ag->preauth_status = 0; /* credentials refused: the next MESSAGE starts afresh */
    struct gw_sip_answer a;
    gw_sip_copy_answer(status, phrase, sip, &a);
    if (hold(ag, snd, &a))
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
