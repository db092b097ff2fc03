/* smsgw: wiring only. Parse arguments, load the configuration, start the store, the SIP
 * agent and the HTTP server in that order, wait for SIGINT/SIGTERM, stop in reverse. Also
 * the one-shot --hash-key, which makes an API key (http/auth) and exits. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/queue.h"
#include "gateway/registration.h"
#include "gateway/store.h"
#include "http/auth.h"
#include "http/server.h"
#include "sip/agent.h"

#define GW_LOG_MODULE "main"

extern char **environ;

enum { EXIT_RUN_FAILED = 1, EXIT_CONFIG = 2 };

static void usage(FILE *to)
{
    fprintf(to, "usage: smsgw [--config FILE] [--check-config] [--hash-key] [--help] [--version]\n"
                "  --config FILE    configuration (INI); SMSGW_<SECTION>_<KEY> variables\n"
                "                   override it, e.g. SMSGW_SIP_PASSWORD\n"
                "  --check-config   validate the configuration and exit (0 valid, 2 not)\n"
                "  --hash-key       print a new random API key (key=...) and its SHA-256\n"
                "                   for [api] keys (sha256=...), then exit\n"
                "  --version        print the version and exit\n");
}

struct args {
    const char *config;
    bool check_only;
    bool hash_key;
};

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'k'},
        {"hash-key", no_argument, NULL, 'H'},     {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'k':
            a->check_only = true;
            break;
        case 'H':
            a->hash_key = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("smsgw %s\n", GW_VERSION);
            return 0;
        default:
            usage(stderr);
            return EXIT_CONFIG;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return EXIT_CONFIG;
    }
    return -1;
}

/* --hash-key: the key goes to the client, the hash into [api] keys. */
static int hash_key(void)
{
    char key[GW_AUTH_NEW_KEY_LEN], hash[65];
    if (gw_auth_new_key(key, hash) != 0) {
        fprintf(stderr, "smsgw: no randomness for a key\n");
        return EXIT_RUN_FAILED;
    }
    printf("key=%s\nsha256=%s\n", key, hash);
    return fflush(stdout) == 0 ? 0 : EXIT_RUN_FAILED;
}

static void wait_for_signal(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    GW_LOG_INFO("signal %d: shutting down", sig);
}

/* Blocks the stop signals in this thread and so in every thread it creates: only
 * sigwait in main receives them. */
static void block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int run(const struct gw_config *cfg)
{
    int rc = EXIT_RUN_FAILED;
    struct gw_store *store = NULL;
    struct gw_queue *queue = NULL;
    struct gw_registration *reg = NULL;
    struct gw_sip_agent *agent = NULL;
    struct gw_http_server *http = NULL;
    struct gw_store_options sopt = {
        .lease_s = 2 * cfg->sip.timeout + 30,
        /* a replay must find its key for as long as the message itself may still go out */
        .idem_keep_s = cfg->limits.validity_max > 86400 ? cfg->limits.validity_max : 86400,
        .send_rate = cfg->limits.send_rate,
        .max_backlog = cfg->limits.queue_depth,
    };

    if (gw_store_open(&store, cfg->store.path, &sopt) != 0 ||
        gw_queue_create(&queue, cfg->limits.queue_depth) != 0 ||
        gw_registration_create(&reg, GW_REG_UNREGISTERED) != 0)
        goto out;
    if (gw_store_start(store, queue, reg) != 0) {
        GW_LOG_ERR("cannot start the store writer");
        goto out;
    }
    if (gw_sip_agent_start(&agent, cfg, queue, store, reg) != 0)
        goto out;
    struct gw_http_deps deps = {.cfg = cfg, .store = store, .reg = reg, .queue = queue};
    int err = gw_http_server_start(&http, &deps);
    if (err) {
        GW_LOG_ERR("cannot serve HTTP on %s: %s", cfg->http.listen, strerror(err));
        goto out;
    }
    GW_LOG_INFO("smsgw %s ready: http=%s sip proxy=%s store=%s", GW_VERSION, cfg->http.listen,
                cfg->sip.proxy, cfg->store.path);
    wait_for_signal();
    rc = 0;
out:
    gw_http_server_stop(http); /* no new work */
    gw_sip_agent_stop(agent);  /* in-flight MESSAGEs finish, then un-REGISTER */
    gw_store_close(store);     /* commits what the SIP side reported last */
    gw_queue_free(queue);
    gw_registration_free(reg);
    GW_LOG_INFO("stopped");
    return rc;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (a.hash_key)
        return hash_key();
    static struct gw_config cfg; /* large; lives for the whole run */
    char err[512];
    if (gw_config_load(&cfg, a.config, environ, err, sizeof(err)) != 0) {
        fprintf(stderr, "smsgw: %s\n", err);
        return EXIT_CONFIG;
    }
    if (a.check_only) {
        printf("%s: configuration OK\n", a.config ? a.config : "(defaults and environment)");
        return 0;
    }
    gw_log_set_level(cfg.log.level);
    block_signals();
    return run(&cfg);
}
