/* The SIP thread: owns the su_root and the nua stack, watches the dispatch queue's eventfd
 * and the stop eventfd, routes nua events to register.c, send.c and inbound.c, and shuts
 * the stack down in order (finish in-flight MESSAGEs, un-REGISTER, nua_shutdown). */
#include "sip/agent.h"
#include "sip/ua.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/x509.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/tport_tag.h>

#include "gateway/clock.h"
#include "sip/uri.h"

#define GW_LOG_MODULE "sip"

#define STOP_GRACE_MS 5000 /* in-flight MESSAGEs get this long to finish at shutdown */
#define UDP_BUFFER    (4 << 20)
/* How long a finished UDP client transaction lingers to absorb retransmitted answers (T4,
 * Timer K; 5 s by default). About 10 KB each: at 1,000 SMS/s the default keeps 50 MB alive
 * for nothing, since the operator's answer retransmissions arrive within a second. */
#define TIMER_K_MS 1000

extern su_log_t nua_log[], nta_log[], tport_log[];

void gw_sip_assert_thread(const struct gw_sip_agent *ag)
{
    assert(pthread_equal(pthread_self(), ag->sip_tid));
    (void)ag;
}

static void sofia_logger(void *arg, char const *fmt, va_list ap)
{
    (void)arg;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    GW_LOG_DEBUG("sofia: %s", line);
}

void gw_sip_drain_queue(struct gw_sip_agent *ag)
{
    gw_sip_assert_thread(ag);
    while (!ag->stopping && ag->inflight < ag->cfg->limits.max_inflight) {
        struct gw_job *job = gw_queue_pop(ag->queue);
        if (!job)
            break;
        if (job->kind == GW_JOB_STOP) {
            gw_job_free(job);
            continue;
        }
        gw_sip_send_start(ag, job);
    }
}

static int on_queue(struct gw_sip_agent *ag, su_wait_t *w, struct gw_sip_agent *arg)
{
    (void)w;
    (void)arg;
    gw_queue_clear_wakeup(ag->queue);
    gw_sip_drain_queue(ag);
    return 0;
}

static void shutdown_stack(struct gw_sip_agent *ag)
{
    if (ag->shutdown_sent)
        return;
    ag->shutdown_sent = true;
    GW_LOG_INFO("shutting the SIP stack down");
    nua_shutdown(ag->nua);
}

/* Runs every 100 ms while stopping: first in-flight MESSAGEs finish (bounded), then
 * the un-REGISTER, then the stack. */
static void on_stop_tick(struct gw_sip_agent *ag, su_timer_t *t, void *arg)
{
    (void)t;
    (void)arg;
    if (ag->shutdown_sent)
        return;
    if (ag->reg.unregistering) {
        /* a registrar that does not answer must not hold the exit for Timer F */
        if (gw_clock_mono_ms() > ag->stop_deadline_ms + STOP_GRACE_MS)
            shutdown_stack(ag);
        return;
    }
    if (ag->inflight > 0 && gw_clock_mono_ms() < ag->stop_deadline_ms)
        return;
    gw_sip_send_abort_all(ag);
    if (!gw_sip_reg_stop(ag))
        shutdown_stack(ag);
}

static int on_stop(struct gw_sip_agent *ag, su_wait_t *w, struct gw_sip_agent *arg)
{
    (void)w;
    (void)arg;
    uint64_t v;
    ssize_t r = read(ag->stop_fd, &v, sizeof(v));
    (void)r;
    if (ag->stopping)
        return 0;
    ag->stopping = true;
    ag->stop_deadline_ms = gw_clock_mono_ms() + STOP_GRACE_MS;
    GW_LOG_INFO("stopping: %u MESSAGEs in flight", ag->inflight);
    ag->stop_timer = su_timer_create(su_root_task(ag->root), 100);
    if (!ag->stop_timer || su_timer_set_for_ever(ag->stop_timer, on_stop_tick, NULL) < 0)
        shutdown_stack(ag);
    return 0;
}

static void respond_and_drop(nua_t *nua, nua_handle_t *nh, int status, const char *phrase)
{
    nua_respond(nh, status, phrase, NUTAG_WITH_THIS(nua), TAG_END());
    nua_handle_destroy(nh);
}

static void on_event(nua_event_t event, int status, char const *phrase, nua_t *nua,
                     struct gw_sip_agent *ag, nua_handle_t *nh, struct gw_sip_hctx *hctx,
                     sip_t const *sip, tagi_t tags[])
{
    (void)tags;
    gw_sip_assert_thread(ag);
    if (hctx && hctx->kind == GW_SIP_H_MESSAGE) {
        gw_sip_send_event(ag, (struct gw_sip_send *)hctx, event, status, phrase, sip);
        return;
    }
    switch (event) {
    case nua_r_register:
    case nua_r_unregister:
        gw_sip_reg_event(ag, event, status, phrase, sip);
        if (event == nua_r_unregister && status >= 200 && ag->stopping)
            shutdown_stack(ag);
        return;
    case nua_i_message:
        gw_sip_inbound_message(ag, nh, sip);
        return;
    case nua_r_shutdown:
        if (status >= 200)
            su_root_break(ag->root);
        return;
    default:
        break;
    }
    if (!hctx && nh && nua_event_is_incoming_request(event))
        respond_and_drop(nua, nh, SIP_501_NOT_IMPLEMENTED);
    else if (status >= 300)
        GW_LOG_DEBUG("event %s: %d %s", nua_event_name(event), status, phrase);
}

/* "127.0.0.1:0" -> "sip:127.0.0.1:*;transport=udp"; IPv6 addresses keep their brackets. */
static int bind_url(const struct gw_config *cfg, char *out, size_t len)
{
    const char *local = cfg->sip.local;
    const char *colon = strrchr(local, ':');
    if (!colon || colon == local)
        return EINVAL;
    const char *port = strcmp(colon + 1, "0") == 0 ? "*" : colon + 1;
    static const char *const names[] = {"udp", "tcp", "tls"};
    const char *scheme = cfg->sip.transport == GW_TRANSPORT_TLS ? "sips" : "sip";
    int n = snprintf(out, len, "%s:%.*s:%s;transport=%s", scheme, (int)(colon - local), local, port,
                     names[cfg->sip.transport]);
    return n < 0 || (size_t)n >= len ? EMSGSIZE : 0;
}

/* P-Asserted-Identity / P-Preferred-Identity (RFC 3325) for every MESSAGE, when configured. */
static void set_identity_headers(struct gw_sip_agent *ag)
{
    const struct gw_config *cfg = ag->cfg;
    const char *pai = cfg->sip.p_asserted_identity, *ppi = cfg->sip.p_preferred_identity;
    snprintf(ag->identity_headers, sizeof(ag->identity_headers), "%s%s%s%s%s%s%s",
             pai[0] ? "P-Asserted-Identity: <" : "", pai, pai[0] ? ">" : "",
             pai[0] && ppi[0] ? "\r\n" : "", ppi[0] ? "P-Preferred-Identity: <" : "", ppi,
             ppi[0] ? ">" : "");
}

/* Sofia takes its TLS tls_trust_dir from a directory (TPTAG_CERTIFICATE: DIR/cafile.pem), while
 * [sip] ca_file names a PEM file and empty means the system's default CA file. So a private
 * directory gets a cafile.pem link to the file we mean. Sofia loads it while the stack is
 * created; the directory goes right after. dir is "" when there is nothing to trust.
 * Returns 0, ENOENT (no such ca_file) or an errno. */
static int make_trust_dir(const struct gw_config *cfg, char *dir, size_t len)
{
    const char *ca = cfg->sip.ca_file[0] ? cfg->sip.ca_file : X509_get_default_cert_file();
    const char *tmp = getenv("TMPDIR");
    char target[PATH_MAX], link[PATH_MAX + 16];
    dir[0] = '\0';
    if (!realpath(ca, target)) {
        if (!cfg->sip.ca_file[0]) { /* tls_verify = no may not need one */
            GW_LOG_WARN("no system CA file %s: TLS peers cannot be verified", ca);
            return 0;
        }
        GW_LOG_ERR("TLS CA file %s: %s", ca, strerror(errno));
        return ENOENT;
    }
    int n = snprintf(dir, len, "%s/smsgw-tls.XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
    if (n < 0 || (size_t)n >= len)
        return ENAMETOOLONG;
    if (!mkdtemp(dir)) {
        int err = errno;
        dir[0] = '\0';
        return err;
    }
    n = snprintf(link, sizeof(link), "%s/cafile.pem", dir);
    if (n < 0 || (size_t)n >= sizeof(link) || symlink(target, link) != 0) {
        int err = n < 0 || (size_t)n >= sizeof(link) ? ENAMETOOLONG : errno;
        rmdir(dir);
        dir[0] = '\0';
        return err;
    }
    GW_LOG_DEBUG("TLS peers are checked against %s", target);
    return 0;
}

static void remove_trust_dir(const char *dir)
{
    char link[PATH_MAX + 16];
    if (!dir[0])
        return;
    int n = snprintf(link, sizeof(link), "%s/cafile.pem", dir);
    if (n > 0 && (size_t)n < sizeof(link))
        unlink(link);
    rmdir(dir);
}

static int create_stack(struct gw_sip_agent *ag)
{
    const struct gw_config *cfg = ag->cfg;
    char url[GW_CFG_STR + 32];
    char ua[64];
    char tls_trust_dir[PATH_MAX] = "";
    int err = bind_url(cfg, url, sizeof(url));
    if (!err)
        err = gw_sip_uri_resolve(cfg->sip.proxy, cfg->sip.transport, ag->proxy, sizeof(ag->proxy));
    if (!err)
        err = gw_sip_uri_resolve(cfg->sip.registrar, cfg->sip.transport, ag->registrar,
                                 sizeof(ag->registrar));
    if (!err)
        err = gw_config_identity(cfg, ag->identity, sizeof(ag->identity));
    if (err) {
        GW_LOG_ERR("bad SIP addresses (proxy %s, local %s)", cfg->sip.proxy, cfg->sip.local);
        return err;
    }
    if (cfg->sip.transport == GW_TRANSPORT_TLS) {
        err = make_trust_dir(cfg, tls_trust_dir, sizeof(tls_trust_dir));
        if (err)
            return err == ENOENT ? EINVAL : err;
    }
    snprintf(ua, sizeof(ua), "smsgw/%s", GW_VERSION);
    set_identity_headers(ag);
    ag->nua =
        nua_create(ag->root, on_event, ag, NUTAG_URL(url), SIPTAG_FROM_STR(ag->identity),
                   NUTAG_PROXY(ag->proxy), NUTAG_USER_AGENT(ua),
                   NUTAG_OUTBOUND("no-validate no-options-keepalive no-natify"), NUTAG_KEEPALIVE(0),
                   NUTAG_ENABLEMESSAGE(1), NUTAG_APPL_METHOD("MESSAGE"), NUTAG_MEDIA_ENABLE(0),
                   NUTAG_ENABLEINVITE(0), NUTAG_RETRY_COUNT(1), TPTAG_UDP_RMEM(UDP_BUFFER),
                   TPTAG_UDP_WMEM(UDP_BUFFER), NTATAG_SIP_T4(TIMER_K_MS),
                   TAG_IF(tls_trust_dir[0], TPTAG_CERTIFICATE(tls_trust_dir)),
                   TAG_IF(cfg->sip.transport == GW_TRANSPORT_TLS && cfg->sip.tls_verify,
                          TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_OUT)),
                   TAG_END());
    remove_trust_dir(tls_trust_dir);
    if (!ag->nua) {
        GW_LOG_ERR("cannot bind SIP to %s (address in use?)", url);
        return EADDRINUSE;
    }
    nua_set_params(ag->nua, SIPTAG_ALLOW_STR("MESSAGE, OPTIONS"), SIPTAG_SUPPORTED_STR(""),
                   TAG_END());
    return 0;
}

static int watch_fds(struct gw_sip_agent *ag)
{
    if (su_wait_create(&ag->queue_wait, gw_queue_fd(ag->queue), SU_WAIT_IN) < 0)
        return ENOMEM;
    ag->queue_index = su_root_register(ag->root, &ag->queue_wait, on_queue, ag, 0);
    if (ag->queue_index <= 0 || su_wait_create(&ag->stop_wait, ag->stop_fd, SU_WAIT_IN) < 0)
        return ENOMEM;
    ag->stop_index = su_root_register(ag->root, &ag->stop_wait, on_stop, ag, 0);
    return ag->stop_index > 0 ? 0 : ENOMEM;
}

static void report_start(struct gw_sip_agent *ag, int err)
{
    pthread_mutex_lock(&ag->start_lock);
    ag->start_err = err;
    ag->start_done = true;
    pthread_cond_signal(&ag->start_cond);
    pthread_mutex_unlock(&ag->start_lock);
}

static void *sip_main(void *arg)
{
    struct gw_sip_agent *ag = arg;
    int err = 0;
    ag->sip_tid = pthread_self();
    su_init();
    su_home_init(ag->home);
    su_log_redirect(NULL, sofia_logger, NULL);
    su_log_redirect(nua_log, sofia_logger, NULL);
    su_log_redirect(nta_log, sofia_logger, NULL);
    su_log_redirect(tport_log, sofia_logger, NULL);
    ag->root = su_root_create(ag);
    if (!ag->root) {
        err = ENOMEM;
        goto out;
    }
    su_root_threading(ag->root, 0);
    err = create_stack(ag);
    if (!err)
        err = watch_fds(ag);
    if (!err)
        err = gw_sip_reg_start(ag);
    if (err)
        goto out;
    report_start(ag, 0);
    gw_sip_drain_queue(ag); /* jobs pushed before we watched the eventfd */
    su_root_run(ag->root);
    GW_LOG_INFO("SIP stack stopped");
out:
    if (err)
        report_start(ag, err);
    gw_sip_send_abort_all(ag);
    gw_sip_reg_free(ag);
    if (ag->stop_timer)
        su_timer_destroy(ag->stop_timer);
    if (ag->root) {
        su_root_deregister(ag->root, ag->queue_index);
        su_root_deregister(ag->root, ag->stop_index);
    }
    if (ag->nua)
        nua_destroy(ag->nua);
    if (ag->root)
        su_root_destroy(ag->root);
    su_home_deinit(ag->home);
    su_deinit();
    return NULL;
}

int gw_sip_agent_start(struct gw_sip_agent **out, const struct gw_config *cfg, struct gw_queue *q,
                       struct gw_store *store, struct gw_registration *reg)
{
    int err = 0;
    struct gw_sip_agent *ag = calloc(1, sizeof(*ag));
    if (!ag)
        return ENOMEM;
    ag->cfg = cfg;
    ag->queue = q;
    ag->store = store;
    ag->shared_reg = reg;
    pthread_mutex_init(&ag->start_lock, NULL);
    pthread_cond_init(&ag->start_cond, NULL);
    ag->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ag->stop_fd < 0) {
        err = errno;
        goto out;
    }
    err = pthread_create(&ag->thread, NULL, sip_main, ag);
    if (err)
        goto out;
    pthread_mutex_lock(&ag->start_lock);
    while (!ag->start_done)
        pthread_cond_wait(&ag->start_cond, &ag->start_lock);
    err = ag->start_err;
    pthread_mutex_unlock(&ag->start_lock);
    if (err) {
        pthread_join(ag->thread, NULL);
        goto out;
    }
    *out = ag;
    ag = NULL;
out:
    if (ag) {
        if (ag->stop_fd >= 0)
            close(ag->stop_fd);
        pthread_cond_destroy(&ag->start_cond);
        pthread_mutex_destroy(&ag->start_lock);
        free(ag);
    }
    return err;
}

void gw_sip_agent_stop(struct gw_sip_agent *ag)
{
    if (!ag)
        return;
    uint64_t one = 1;
    ssize_t w = write(ag->stop_fd, &one, sizeof(one));
    (void)w;
    pthread_join(ag->thread, NULL);
    close(ag->stop_fd);
    pthread_cond_destroy(&ag->start_cond);
    pthread_mutex_destroy(&ag->start_lock);
    free(ag);
}
