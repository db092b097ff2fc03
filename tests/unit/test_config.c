/* Configuration loader: defaults, a full file, every kind of bad value with its file:line,
 * unknown names, environment overrides, required keys, and the shipped deploy/smsgw.conf. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/config.h"

/* Four lines: the keys without a default. */
#define MIN_SIP "[sip]\nproxy = sip:127.0.0.1:5070\ndomain = operator.test\nusername = smsgw\n"

#define HASH_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HASH_B "FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210"

struct run {
    char path[64];
    char err[512];
    struct gw_config cfg;
    int rc;
};

/* Writes len bytes to a fresh temporary file, loads it with envp, and removes it. */
static void load_bytes(struct run *r, const char *text, size_t len, char *const *envp)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->path, sizeof(r->path), "%s", "/tmp/smsgw-conf-XXXXXX");
    int fd = mkstemp(r->path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    r->rc = gw_config_load(&r->cfg, r->path, envp, r->err, sizeof(r->err));
    assert_int_equal(unlink(r->path), 0);
}

static void load_text(struct run *r, const char *text, char *const *envp)
{
    load_bytes(r, text, strlen(text), envp);
}

/* Loading must have failed with exactly "<path>:<line>: <msg>". */
static void expect_error_at(const struct run *r, int line, const char *msg)
{
    char want[700];
    snprintf(want, sizeof(want), "%s:%d: %s", r->path, line, msg);
    assert_int_equal(r->rc, EINVAL);
    assert_string_equal(r->err, want);
}

static void test_defaults(void **state)
{
    (void)state;
    struct gw_config c;
    memset(&c, 0x5a, sizeof(c));
    gw_config_defaults(&c);
    assert_string_equal(c.http.listen, "127.0.0.1:8080");
    assert_string_equal(c.http.host, "127.0.0.1");
    assert_int_equal(c.http.port, 8080);
    assert_int_equal(c.http.connection_limit, 256);
    assert_int_equal(c.http.connection_timeout, 10);
    assert_string_equal(c.sip.proxy, "");
    assert_string_equal(c.sip.registrar, "");
    assert_string_equal(c.sip.domain, "");
    assert_string_equal(c.sip.username, "");
    assert_string_equal(c.sip.password, "");
    assert_string_equal(c.sip.auth_username, "");
    assert_string_equal(c.sip.local, "127.0.0.1:0");
    assert_int_equal(c.sip.transport, GW_TRANSPORT_UDP);
    assert_true(c.sip.do_register);
    assert_int_equal(c.sip.expires, 3600);
    assert_string_equal(c.sip.recipient_uri, "sip:{e164}@{domain};user=phone");
    assert_int_equal(c.sip.timeout, 60);
    assert_string_equal(c.sip.ca_file, "");
    assert_true(c.sip.tls_verify);
    assert_string_equal(c.store.path, "smsgw.db");
    assert_int_equal(c.api.nkeys, 0);
    assert_string_equal(c.api.default_country_code, "");
    assert_int_equal(c.api.nsenders, 0);
    assert_int_equal(c.limits.max_body, 16384);
    assert_int_equal(c.limits.max_segments, 10);
    assert_int_equal(c.limits.queue_depth, 4096);
    assert_int_equal(c.limits.max_inflight, 256);
    assert_int_equal(c.limits.validity_default, 86400);
    assert_int_equal(c.limits.validity_max, 259200);
    assert_int_equal(c.log.level, GW_LOG_LEVEL_INFO);
}

static void test_minimal_file_and_derived(void **state)
{
    (void)state;
    struct run r;
    load_text(&r, MIN_SIP, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.cfg.sip.proxy, "sip:127.0.0.1:5070");
    assert_string_equal(r.cfg.sip.registrar, "sip:127.0.0.1:5070");
    assert_string_equal(r.cfg.sip.auth_username, "smsgw");
    assert_int_equal(r.cfg.sip.expires, 3600);
    assert_int_equal(r.cfg.http.port, 8080);
    char id[64];
    assert_int_equal(gw_config_identity(&r.cfg, id, sizeof(id)), 0);
    assert_string_equal(id, "sip:smsgw@operator.test");
}

static void test_explicit_registrar_and_auth_username_kept(void **state)
{
    (void)state;
    struct run r;
    load_text(&r, MIN_SIP "registrar = sip:reg.operator.test\nauth_username = acct-77\n", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.cfg.sip.registrar, "sip:reg.operator.test");
    assert_string_equal(r.cfg.sip.auth_username, "acct-77");
    /* an empty value asks for the default */
    load_text(&r, MIN_SIP "registrar =\nauth_username =\n", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.cfg.sip.registrar, "sip:127.0.0.1:5070");
    assert_string_equal(r.cfg.sip.auth_username, "smsgw");
}

static const char full_file[] = "[http]\n"
                                "listen = [::1]:9090\n"
                                "connection_limit = 50\n"
                                "connection_timeout = 30\n"
                                "[sip]\n"
                                "proxy = sips:edge.operator.test:5061;transport=tls\n"
                                "registrar = sip:reg.operator.test\n"
                                "domain = operator.test:5061\n"
                                "username = +4930123\n"
                                "password = p;ss#word\n"
                                "auth_username = auth user\n"
                                "local = 0.0.0.0:5080\n"
                                "transport = TLS\n"
                                "register = off\n"
                                "expires = 10 ; inline comment\n"
                                "recipient_uri = tel:{e164}\n"
                                "timeout = 3600\n"
                                "ca_file = /etc/ssl/operator.pem\n"
                                "tls_verify = false\n"
                                "p_asserted_identity = tel:+4930123456\n"
                                "p_preferred_identity = sip:+4930123456@ims.example\n"
                                "[store]\n"
                                "path = /var/lib/smsgw/messages.db\n"
                                "[api]\n"
                                "keys = " HASH_A " , " HASH_B "\n"
                                "default_country_code = 49\n"
                                "senders = +4930123456, +1 555 0100 999\n"
                                "[limits]\n"
                                "max_body_bytes = 1048576\n"
                                "max_text_segments = 50\n"
                                "queue_depth = 1\n"
                                "max_inflight = 100000\n"
                                "validity_default = 60\n"
                                "validity_max = 2592000\n"
                                "[log]\n"
                                "level = debug\n";

static void test_full_file(void **state)
{
    (void)state;
    struct run r;
    load_text(&r, full_file, NULL);
    assert_int_equal(r.rc, 0);
    const struct gw_config *c = &r.cfg;
    assert_string_equal(c->http.listen, "[::1]:9090");
    assert_string_equal(c->http.host, "::1");
    assert_int_equal(c->http.port, 9090);
    assert_int_equal(c->http.connection_limit, 50);
    assert_int_equal(c->http.connection_timeout, 30);
    assert_string_equal(c->sip.proxy, "sips:edge.operator.test:5061;transport=tls");
    assert_string_equal(c->sip.registrar, "sip:reg.operator.test");
    assert_string_equal(c->sip.domain, "operator.test:5061");
    assert_string_equal(c->sip.username, "+4930123");
    assert_string_equal(c->sip.password, "p;ss#word");
    assert_string_equal(c->sip.auth_username, "auth user");
    assert_string_equal(c->sip.local, "0.0.0.0:5080");
    assert_int_equal(c->sip.transport, GW_TRANSPORT_TLS);
    assert_false(c->sip.do_register);
    assert_int_equal(c->sip.expires, 10);
    assert_string_equal(c->sip.recipient_uri, "tel:{e164}");
    assert_int_equal(c->sip.timeout, 3600);
    assert_string_equal(c->sip.ca_file, "/etc/ssl/operator.pem");
    assert_false(c->sip.tls_verify);
    assert_string_equal(c->sip.p_asserted_identity, "tel:+4930123456");
    assert_string_equal(c->sip.p_preferred_identity, "sip:+4930123456@ims.example");
    assert_string_equal(c->store.path, "/var/lib/smsgw/messages.db");
    assert_int_equal(c->api.nkeys, 2);
    assert_string_equal(c->api.keys[0], HASH_A);
    assert_string_equal(c->api.keys[1],
                        "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
    assert_string_equal(c->api.default_country_code, "49");
    assert_int_equal(c->api.nsenders, 2);
    assert_string_equal(c->api.senders[0], "+4930123456");
    assert_string_equal(c->api.senders[1], "+15550100999");
    assert_int_equal(c->limits.max_body, 1048576);
    assert_int_equal(c->limits.max_segments, 50);
    assert_int_equal(c->limits.queue_depth, 1);
    assert_int_equal(c->limits.max_inflight, 100000);
    assert_int_equal(c->limits.validity_default, 60);
    assert_int_equal(c->limits.validity_max, 2592000);
    assert_int_equal(c->log.level, GW_LOG_LEVEL_DEBUG);
}

static void test_bool_spellings(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool want;
    } cases[] = {{"yes", true}, {"True", true},   {"ON", true},   {"1", true},
                 {"no", false}, {"FALSE", false}, {"off", false}, {"0", false}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), MIN_SIP "register = %s\ntls_verify = %s\n", cases[i].text,
                 cases[i].text);
        struct run r;
        load_text(&r, text, NULL);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.cfg.sip.do_register, cases[i].want);
        assert_int_equal(r.cfg.sip.tls_verify, cases[i].want);
    }
}

#define URI_TEMPLATE_MSG                                                                           \
    "must be a sip:, sips: or tel: URI using {e164} or {digits}, and optionally {domain}, "        \
    "with no other {placeholder} and no spaces, '<', '>' or '\"'"

/* Each text is a whole file; the error must name the line and the exact reason. */
static const struct {
    const char *text;
    int line;
    const char *msg;
} bad_cases[] = {
    {MIN_SIP "[http]\nlisten = 127.0.0.1\n", 6,
     "[http] listen: must be host:port, e.g. 127.0.0.1:8080"},
    {MIN_SIP "[http]\nlisten = ::1:8080\n", 6,
     "[http] listen: needs brackets around an IPv6 address, e.g. [::1]:8080"},
    {MIN_SIP "[http]\nlisten = [::1]8080\n", 6,
     "[http] listen: must be [address]:port, e.g. [::1]:8080"},
    {MIN_SIP "[http]\nlisten = [::1]\n", 6,
     "[http] listen: must be [address]:port, e.g. [::1]:8080"},
    {MIN_SIP "[http]\nlisten = 127.evil.test:8080\n", 6,
     "[http] listen: must be an IPv4 address, an IPv6 address in brackets or localhost, then "
     ":port"},
    {MIN_SIP "[http]\nlisten = [1::2::3]:8080\n", 6,
     "[http] listen: must be an IPv4 address, an IPv6 address in brackets or localhost, then "
     ":port"},
    {MIN_SIP "[http]\nlisten = []:80\n", 6,
     "[http] listen: must hold an IPv6 address in its brackets"},
    {MIN_SIP "[http]\nlisten = 127.0.0.1:65536\n", 6,
     "[http] listen: must end in a port from 0 to 65535"},
    {MIN_SIP "[http]\nlisten = 127.0.0.1:0\n", 6,
     "[http] listen: must end in a port from 1 to 65535"},
    {MIN_SIP "[http]\nlisten = :8080\n", 6,
     "[http] listen: must have a host of letters, digits, '.', '-' or '_' before the port"},
    {MIN_SIP "[http]\nconnection_limit = 0\n", 6,
     "[http] connection_limit: must be a number from 1 to 100000"},
    {MIN_SIP "[http]\nconnection_timeout = 3601\n", 6,
     "[http] connection_timeout: must be a number from 1 to 3600"},
    {MIN_SIP "expires = 9\n", 5, "[sip] expires: must be a number from 10 to 86400"},
    {MIN_SIP "expires = 86401\n", 5, "[sip] expires: must be a number from 10 to 86400"},
    {MIN_SIP "expires = -60\n", 5, "[sip] expires: must be a number from 10 to 86400"},
    {MIN_SIP "expires = +60\n", 5, "[sip] expires: must be a number from 10 to 86400"},
    {MIN_SIP "expires = 60s\n", 5, "[sip] expires: must be a number from 10 to 86400"},
    {MIN_SIP "expires = 99999999999999999999999\n", 5,
     "[sip] expires: must be a number from 10 to 86400"},
    {MIN_SIP "expires =\n", 5, "[sip] expires: must be a number from 10 to 86400"},
    {MIN_SIP "timeout = 0\n", 5, "[sip] timeout: must be a number from 1 to 3600"},
    {MIN_SIP "register = maybe\n", 5, "[sip] register: must be yes or no"},
    {MIN_SIP "tls_verify = 2\n", 5, "[sip] tls_verify: must be yes or no"},
    {MIN_SIP "p_asserted_identity = +4930123456\n", 5,
     "[sip] p_asserted_identity: must be a sip:, sips: or tel: URI"},
    {MIN_SIP "p_preferred_identity = <sip:a@b>\n", 5,
     "[sip] p_preferred_identity: must be a sip:, sips: or tel: URI"},
    {MIN_SIP "p_asserted_identity = sip:a@b>, <sip:evil@x\n", 5,
     "[sip] p_asserted_identity: must not contain spaces, '<', '>', '\"', ',' or '\\'"},
    {MIN_SIP "transport = sctp\n", 5, "[sip] transport: must be udp, tcp or tls"},
    {MIN_SIP "local = 127.0.0.1:x\n", 5, "[sip] local: must end in a port from 0 to 65535"},
    {MIN_SIP "local =\n", 5, "[sip] local: must not be empty"},
    {MIN_SIP "registrar = http://reg.test\n", 5,
     "[sip] registrar: must be a SIP URI starting with sip: or sips:"},
    {MIN_SIP "registrar = sip:\n", 5,
     "[sip] registrar: must be a SIP URI starting with sip: or sips:"},
    {MIN_SIP "registrar = sip:<reg.test>\n", 5,
     "[sip] registrar: must not contain spaces, '<', '>', '\"' or '\\'"},
    {MIN_SIP "recipient_uri = sip:{nope}@{domain}\n", 5, "[sip] recipient_uri: " URI_TEMPLATE_MSG},
    {MIN_SIP "recipient_uri = http://{e164}\n", 5, "[sip] recipient_uri: " URI_TEMPLATE_MSG},
    {MIN_SIP "auth_username = a\"b\n", 5, "[sip] auth_username: must not contain '\"' or '\\'"},
    {"[sip]\nproxy = tel:+15550100\n", 2,
     "[sip] proxy: must be a SIP URI starting with sip: or sips:"},
    {"[sip]\nproxy =\n", 2, "[sip] proxy: must not be empty"},
    {"[sip]\nproxy = sip:a\ndomain = operator test\n", 3,
     "[sip] domain: may contain only letters, digits and . - _ : [ ]"},
    {"[sip]\nproxy = sip:a\ndomain = <operator.test>\n", 3,
     "[sip] domain: may contain only letters, digits and . - _ : [ ]"},
    {"[sip]\nusername = gw@operator.test\n", 2,
     "[sip] username: may contain only letters, digits and - _ . ! ~ * ' ( ) & = + $ , %"},
    {"[sip]\nusername = gw;lr\n", 2,
     "[sip] username: may contain only letters, digits and - _ . ! ~ * ' ( ) & = + $ , %"},
    {MIN_SIP "[store]\npath =\n", 6, "[store] path: must not be empty"},
    {MIN_SIP "[api]\nkeys = abc\n", 6,
     "[api] keys: entry 1 is not a SHA-256 hash in 64 hex digits"},
    {MIN_SIP "[api]\nkeys = " HASH_A ",," HASH_A "\n", 6,
     "[api] keys: entry 2 is not a SHA-256 hash in 64 hex digits"},
    {MIN_SIP "[api]\ndefault_country_code = 049\n", 6,
     "[api] default_country_code: must be 1 to 3 digits, not starting with 0, e.g. 49"},
    {MIN_SIP "[api]\ndefault_country_code = 1234\n", 6,
     "[api] default_country_code: must be 1 to 3 digits, not starting with 0, e.g. 49"},
    {MIN_SIP "[api]\ndefault_country_code = +49\n", 6,
     "[api] default_country_code: must be 1 to 3 digits, not starting with 0, e.g. 49"},
    {MIN_SIP "[api]\nsenders = +4930123456, 12345\n", 6,
     "[api] senders: entry 2 is not an E.164 number such as +4930123456"},
    {MIN_SIP "[api]\nsenders = sip:alice@example.test\n", 6,
     "[api] senders: entry 1 is not an E.164 number such as +4930123456"},
    {MIN_SIP "[limits]\nmax_body_bytes = 255\n", 6,
     "[limits] max_body_bytes: must be a number from 256 to 1048576"},
    {MIN_SIP "[limits]\nmax_text_segments = 51\n", 6,
     "[limits] max_text_segments: must be a number from 1 to 50"},
    {MIN_SIP "[limits]\nqueue_depth = 0\n", 6,
     "[limits] queue_depth: must be a number from 1 to 1000000"},
    {MIN_SIP "[limits]\nsend_rate = -1\n", 6,
     "[limits] send_rate: must be a number from 0 to 100000"},
    {MIN_SIP "[limits]\nmax_inflight = 100001\n", 6,
     "[limits] max_inflight: must be a number from 1 to 100000"},
    {MIN_SIP "[limits]\nvalidity_default = 59\n", 6,
     "[limits] validity_default: must be a number from 60 to 2592000"},
    {MIN_SIP "[limits]\nvalidity_max = 2592001\n", 6,
     "[limits] validity_max: must be a number from 60 to 2592000"},
    {MIN_SIP "[log]\nlevel = verbose\n", 6, "[log] level: must be error, warn, info or debug"},
    /* the file's structure */
    {MIN_SIP "[smtp]\nhost = mail.test\n", 5, "unknown section [smtp]"},
    {MIN_SIP "[ sip ]\n", 5, "unknown section [ sip ]"},
    {MIN_SIP "exprires = 60\n", 5, "[sip] unknown key 'exprires'"},
    {MIN_SIP "[log]\nlevel = info\nlevel = debug\n", 7,
     "[log] level: duplicate key (first set on line 6)"},
    {MIN_SIP "[sip]\nproxy = sip:other.test\n", 6,
     "[sip] proxy: duplicate key (first set on line 2)"},
    {MIN_SIP "  more\n", 5,
     "[sip] username: continuation lines are not supported (remove the indentation)"},
    {"expires = 60\n" MIN_SIP, 1,
     "'expires' is not inside one of the sections [http] [sip] [store] [api] [limits] [log]"},
    {MIN_SIP "just words\n", 5, "expected [section] or key = value"},
    {MIN_SIP "[log\nlevel = debug\n", 5, "expected [section] or key = value"},
    /* a syntax error before a bad value is the one reported */
    {MIN_SIP "oops\nexpires = 1\n", 5, "expected [section] or key = value"},
    /* checks that need the whole file name the line of the key that broke them */
    {MIN_SIP "[limits]\nvalidity_default = 300000\n", 6,
     "[limits] validity_default (300000) must not exceed validity_max (259200)"},
    {MIN_SIP "[limits]\nvalidity_max = 600\n", 6,
     "[limits] validity_default (86400) must not exceed validity_max (600)"},
    {"[http]\nlisten = 0.0.0.0:8080\n" MIN_SIP, 2,
     "[http] listen: 0.0.0.0 is not a loopback address, so [api] keys must be set"},
    {"[http]\nlisten = [::]:8080\n" MIN_SIP, 2,
     "[http] listen: :: is not a loopback address, so [api] keys must be set"},
};

static void test_bad_values_name_file_and_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct run r;
        load_text(&r, bad_cases[i].text, NULL);
        if (r.rc != EINVAL || !strstr(r.err, bad_cases[i].msg))
            print_error("case %zu gave: %s\n", i, r.err);
        expect_error_at(&r, bad_cases[i].line, bad_cases[i].msg);
    }
}

static void test_too_many_list_entries(void **state)
{
    (void)state;
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s", MIN_SIP "[api]\nsenders = ");
    for (int i = 0; i < GW_CFG_MAX_SENDERS + 1; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s+15550100", i ? "," : "");
    snprintf(text + n, sizeof(text) - n, "\n");
    struct run r;
    load_text(&r, text, NULL);
    expect_error_at(&r, 6, "[api] senders: has more than 16 entries");

    /* the environment has no line length limit */
    char keys[32 + (GW_CFG_MAX_KEYS + 1) * 65] = "SMSGW_API_KEYS=";
    for (int i = 0; i < GW_CFG_MAX_KEYS + 1; i++) {
        size_t len = strlen(keys);
        snprintf(keys + len, sizeof(keys) - len, "%s%s", i ? "," : "", HASH_A);
    }
    char *env[] = {keys, NULL};
    load_text(&r, MIN_SIP, env);
    assert_int_equal(r.rc, EINVAL);
    assert_string_equal(r.err, "SMSGW_API_KEYS: has more than 16 entries");
    keys[strlen(keys) - 65] = '\0'; /* exactly 16 */
    load_text(&r, MIN_SIP, env);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.cfg.api.nkeys, GW_CFG_MAX_KEYS);
    assert_string_equal(r.cfg.api.keys[15], HASH_A);
}

/* Lists may go on over indented lines, as long lines of hashes need to. */
static void test_list_continuation_lines(void **state)
{
    (void)state;
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s", MIN_SIP "[api]\nkeys = " HASH_A ",\n");
    for (int i = 1; i < GW_CFG_MAX_KEYS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "    %s%s\n", HASH_B,
                              i + 1 < GW_CFG_MAX_KEYS ? "," : "");
    snprintf(text + n, sizeof(text) - n, "%s",
             "senders = +4930123456\n  +15550100999, +15550100\n");
    struct run r;
    load_text(&r, text, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.cfg.api.nkeys, GW_CFG_MAX_KEYS);
    assert_string_equal(r.cfg.api.keys[0], HASH_A);
    assert_string_equal(r.cfg.api.keys[GW_CFG_MAX_KEYS - 1],
                        "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
    assert_int_equal(r.cfg.api.nsenders, 3);
    assert_string_equal(r.cfg.api.senders[1], "+15550100999");
    assert_string_equal(r.cfg.api.senders[2], "+15550100");

    /* a trailing comma with nothing after it is harmless */
    load_text(&r, MIN_SIP "[api]\nkeys = " HASH_A ", \n", NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.cfg.api.nkeys, 1);

    /* the seventeenth key is refused on its own line */
    n = (size_t)snprintf(text, sizeof(text), "%s", MIN_SIP "[api]\nkeys =\n");
    for (int i = 0; i <= GW_CFG_MAX_KEYS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "  %s\n", HASH_A);
    load_text(&r, text, NULL);
    expect_error_at(&r, 6 + GW_CFG_MAX_KEYS + 1, "[api] keys: has more than 16 entries");

    /* a bad item names the line it is on */
    load_text(&r, MIN_SIP "[api]\nsenders = +4930123456,\n  +4930123457,\n  bob\n", NULL);
    expect_error_at(&r, 8, "[api] senders: entry 3 is not an E.164 number such as +4930123456");
}

static void test_control_characters_refused(void **state)
{
    (void)state;
    struct run r;
    load_text(&r, MIN_SIP "password = top\rsecret\n", NULL);
    expect_error_at(&r, 5, "[sip] password: must not contain control characters such as CR or LF");
    assert_null(strstr(r.err, "secret"));
    load_text(&r, MIN_SIP "recipient_uri = sip:{e164}@{domain}\x7f\n", NULL);
    expect_error_at(&r, 5,
                    "[sip] recipient_uri: must not contain control characters such as CR or LF");
    load_text(&r, MIN_SIP "ca_file = a\tb\n", NULL);
    expect_error_at(&r, 5, "[sip] ca_file: must not contain control characters such as CR or LF");

    char user[] = "SMSGW_SIP_USERNAME=smsgw\r\nX-Injected: 1";
    char pass[] = "SMSGW_SIP_PASSWORD=hunter2\nhunter3";
    char *env1[] = {user, NULL};
    load_text(&r, MIN_SIP, env1);
    assert_int_equal(r.rc, EINVAL);
    assert_string_equal(r.err,
                        "SMSGW_SIP_USERNAME: must not contain control characters such as CR or LF");
    char *env2[] = {pass, NULL};
    load_text(&r, MIN_SIP, env2);
    assert_int_equal(r.rc, EINVAL);
    assert_string_equal(r.err,
                        "SMSGW_SIP_PASSWORD: must not contain control characters such as CR or LF");
    assert_null(strstr(r.err, "hunter"));
}

static void test_crlf_and_bom_file(void **state)
{
    (void)state;
    struct run r;
    load_text(&r,
              "\xEF\xBB\xBF[sip]\r\nproxy = sip:127.0.0.1:5070\r\ndomain = operator.test\r\n"
              "username = smsgw\r\n; a comment\r\n# another\r\n\r\nexpires = 120\r\n",
              NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.cfg.sip.username, "smsgw");
    assert_int_equal(r.cfg.sip.expires, 120);
}

static void test_long_line_and_nul_byte(void **state)
{
    (void)state;
    char text[512];
    int n = snprintf(text, sizeof(text), "%s", MIN_SIP "password = ");
    memset(text + n, 'x', 300);
    snprintf(text + n + 300, sizeof(text) - (size_t)n - 300, "\nexpires = 60\n");
    struct run r;
    load_text(&r, text, NULL);
    char want[128];
    snprintf(want, sizeof(want), "%s:5: line is too long (at most ", r.path);
    assert_int_equal(r.rc, EINVAL);
    assert_memory_equal(r.err, want, strlen(want));

    static const char nul[] = "[sip]\nproxy = sip:a\0b\ndomain = operator.test\n";
    load_bytes(&r, nul, sizeof(nul) - 1, NULL);
    expect_error_at(&r, 2, "line contains a NUL byte");
}

static void test_ipv6_listen(void **state)
{
    (void)state;
    struct run r;
    load_text(&r, "[http]\nlisten = [::1]:8080\n" MIN_SIP, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.cfg.http.listen, "[::1]:8080");
    assert_string_equal(r.cfg.http.host, "::1");
    assert_int_equal(r.cfg.http.port, 8080);
    load_text(&r,
              "[http]\nlisten = [2001:db8::10]:443\n[api]\nkeys = " HASH_A "\n"
              "[sip]\nproxy = sip:[2001:db8::1]:5060\ndomain = [2001:db8::1]\nusername = gw\n",
              NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.cfg.http.host, "2001:db8::10");
    assert_int_equal(r.cfg.http.port, 443);
    assert_string_equal(r.cfg.sip.domain, "[2001:db8::1]");
    /* loopback without keys, as the HTTP server judges it */
    static const char *const loopback[] = {"localhost:80", "127.1.2.3:80", "[::ffff:127.0.0.1]:80"};
    for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "[http]\nlisten = %s\n" MIN_SIP, loopback[i]);
        load_text(&r, text, NULL);
        assert_int_equal(r.rc, 0);
    }
}

static void test_missing_required_keys(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"[sip]\ndomain = operator.test\nusername = smsgw\n", "[sip] proxy is required"},
        {"[sip]\nproxy = sip:a\nusername = smsgw\n", "[sip] domain is required"},
        {"[sip]\nproxy = sip:a\ndomain = operator.test\n", "[sip] username is required"},
        {"", "[sip] proxy is required"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run r;
        load_text(&r, cases[i].text, NULL);
        char want[256];
        snprintf(want, sizeof(want), "%s: %s", r.path, cases[i].msg);
        assert_int_equal(r.rc, EINVAL);
        assert_string_equal(r.err, want);
    }
    /* no file and nothing in the environment */
    struct gw_config c;
    char err[256];
    char *env[] = {NULL};
    assert_int_equal(gw_config_load(&c, NULL, env, err, sizeof(err)), EINVAL);
    assert_string_equal(err, "[sip] proxy is required");
}

static void test_env_overrides_file(void **state)
{
    (void)state;
    char e1[] = "SMSGW_SIP_EXPIRES=900";
    char e2[] = "SMSGW_SIP_PASSWORD=from-env";
    char e3[] = "SMSGW_LIMITS_MAX_BODY_BYTES=2048";
    char e4[] = "SMSGW_HTTP_LISTEN=[::1]:9000";
    char e5[] = "SMSGW_LOG_LEVEL=warn";
    char e6[] = "SMSGW_SIP_REGISTER=no";
    char *env[] = {e1, e2, e3, e4, e5, e6, NULL};
    struct run r;
    load_text(&r, MIN_SIP "expires = 600\npassword = from-file\n", env);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.cfg.sip.expires, 900);
    assert_string_equal(r.cfg.sip.password, "from-env");
    assert_int_equal(r.cfg.limits.max_body, 2048);
    assert_string_equal(r.cfg.http.host, "::1");
    assert_int_equal(r.cfg.http.port, 9000);
    assert_int_equal(r.cfg.log.level, GW_LOG_LEVEL_WARN);
    assert_false(r.cfg.sip.do_register);
}

static void test_env_only_config(void **state)
{
    (void)state;
    char e1[] = "SMSGW_SIP_PROXY=sip:edge.test";
    char e2[] = "SMSGW_SIP_DOMAIN=operator.test";
    char e3[] = "SMSGW_SIP_USERNAME=gw";
    char e4[] = "SMSGW_SIP_AUTH_USERNAME=acct";
    char *env[] = {e1, e2, e3, e4, NULL};
    struct gw_config c;
    char err[256] = "";
    assert_int_equal(gw_config_load(&c, NULL, env, err, sizeof(err)), 0);
    assert_string_equal(c.sip.proxy, "sip:edge.test");
    assert_string_equal(c.sip.registrar, "sip:edge.test");
    assert_string_equal(c.sip.auth_username, "acct");
    assert_string_equal(c.store.path, "smsgw.db");
}

static void test_env_errors_name_the_variable(void **state)
{
    (void)state;
    static const struct {
        const char *var;
        const char *msg;
    } cases[] = {
        {"SMSGW_SIP_EXPIRES=5", "SMSGW_SIP_EXPIRES: must be a number from 10 to 86400"},
        {"SMSGW_SIP_EXPRIRES=60", "SMSGW_SIP_EXPRIRES: [sip] unknown key 'exprires'"},
        {"SMSGW_LIMITS_=1", "SMSGW_LIMITS_: [limits] unknown key ''"},
        {"SMSGW_SIP_PROXY=", "SMSGW_SIP_PROXY: must not be empty"},
        {"SMSGW_API_SENDERS=bob", "SMSGW_API_SENDERS: entry 1 is not an E.164 number such as "
                                  "+4930123456"},
        {"SMSGW_SIP_TRANSPORT=quic", "SMSGW_SIP_TRANSPORT: must be udp, tcp or tls"},
        {"SMSGW_LIMITS_VALIDITY_MAX=600", "SMSGW_LIMITS_VALIDITY_MAX: [limits] validity_default "
                                          "(86400) must not exceed validity_max (600)"},
        {"SMSGW_HTTP_LISTEN=0.0.0.0:80", "SMSGW_HTTP_LISTEN: [http] listen: 0.0.0.0 is not a "
                                         "loopback address, so [api] keys must be set"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char var[128];
        snprintf(var, sizeof(var), "%s", cases[i].var);
        char *env[] = {var, NULL};
        struct run r;
        load_text(&r, MIN_SIP, env);
        assert_int_equal(r.rc, EINVAL);
        assert_string_equal(r.err, cases[i].msg);
    }
}

/* The Request-URI must fit GW_CFG_STR for any number, with the real domain. */
static void test_recipient_uri_too_long(void **state)
{
    (void)state;
    char tmpl[GW_CFG_STR + 32] = "SMSGW_SIP_RECIPIENT_URI=sip:";
    for (int i = 0; i < 40; i++) /* 244 characters that expand to more than 300 */
        snprintf(tmpl + strlen(tmpl), sizeof(tmpl) - strlen(tmpl), "%s", "{e164}");
    char *env1[] = {tmpl, NULL};
    struct run r;
    load_text(&r, MIN_SIP, env1);
    assert_int_equal(r.rc, EINVAL);
    assert_string_equal(r.err, "SMSGW_SIP_RECIPIENT_URI: is too long once expanded");

    char domain[GW_CFG_STR] = "SMSGW_SIP_DOMAIN=";
    size_t n = strlen(domain);
    memset(domain + n, 'd', 230);
    domain[n + 230] = '\0';
    char *env2[] = {domain, NULL};
    load_text(&r, MIN_SIP, env2);
    assert_int_equal(r.rc, EINVAL);
    assert_string_equal(r.err, "SMSGW_SIP_DOMAIN: [sip] recipient_uri: is too long once expanded "
                               "with [sip] domain");
}

static void test_env_not_ours_ignored(void **state)
{
    (void)state;
    char e1[] = "SMSGW_BUILD=build-asan";
    char e2[] = "SMSGW_SIPX_EXPIRES=5";
    char e3[] = "SMSGW_HTTP=1";
    char e4[] = "SMSGW_SIP_EXPIRES";
    char e5[] = "PATH=/usr/bin";
    char e6[] = "SIP_EXPIRES=5";
    char *env[] = {e1, e2, e3, e4, e5, e6, NULL};
    struct run r;
    load_text(&r, MIN_SIP, env);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.cfg.sip.expires, 3600);
}

static void test_failure_leaves_cfg_untouched(void **state)
{
    (void)state;
    struct gw_config c;
    memset(&c, 0x5a, sizeof(c));
    char err[256];
    char e1[] = "SMSGW_SIP_EXPIRES=1";
    char *env[] = {e1, NULL};
    assert_int_equal(gw_config_load(&c, NULL, env, err, sizeof(err)), EINVAL);
    const unsigned char *p = (const unsigned char *)&c;
    for (size_t i = 0; i < sizeof(c); i++)
        assert_int_equal(p[i], 0x5a);
}

static void test_unreadable_file(void **state)
{
    (void)state;
    struct gw_config c;
    char err[256];
    assert_int_equal(gw_config_load(&c, "/nonexistent/smsgw.conf", NULL, err, sizeof(err)), ENOENT);
    assert_string_equal(err, "/nonexistent/smsgw.conf: cannot open: No such file or directory");
    assert_int_equal(gw_config_load(&c, "/", NULL, err, sizeof(err)), EISDIR);
    assert_string_equal(err, "/: cannot read: Is a directory");
}

static void test_identity(void **state)
{
    (void)state;
    struct gw_config c;
    gw_config_defaults(&c);
    snprintf(c.sip.username, sizeof(c.sip.username), "%s", "smsgw");
    snprintf(c.sip.domain, sizeof(c.sip.domain), "%s", "operator.test");
    char out[24];
    memset(out, '#', sizeof(out));
    assert_int_equal(gw_config_identity(&c, out, sizeof(out) - 1), EMSGSIZE);
    assert_int_equal(out[0], '#');
    assert_int_equal(gw_config_identity(&c, out, sizeof(out)), 0);
    assert_string_equal(out, "sip:smsgw@operator.test");
}

/* The shipped example documents every default: apart from the local operator's identity,
 * loading it must give exactly what gw_config_defaults gives. Run from the repository root. */
static void test_deploy_example_loads(void **state)
{
    (void)state;
    char pass[] = "SMSGW_SIP_PASSWORD=from-env";
    char *none[] = {NULL};
    char *env[] = {pass, NULL};
    struct gw_config c, d;
    memset(&c, 0, sizeof(c)); /* padding compares equal below */
    char err[512] = "";
    int rc = gw_config_load(&c, "deploy/smsgw.conf", none, err, sizeof(err));
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_string_equal(c.sip.proxy, "sip:127.0.0.1:5070");
    assert_string_equal(c.sip.domain, "operator.test");
    assert_string_equal(c.sip.username, "smsgw");
    assert_string_equal(c.sip.password, "smsgw-secret");
    assert_string_equal(c.store.path, "smsgw.db");

    gw_config_defaults(&d);
    memcpy(d.sip.proxy, c.sip.proxy, sizeof(d.sip.proxy));
    memcpy(d.sip.registrar, c.sip.proxy, sizeof(d.sip.registrar));
    memcpy(d.sip.domain, c.sip.domain, sizeof(d.sip.domain));
    memcpy(d.sip.username, c.sip.username, sizeof(d.sip.username));
    memcpy(d.sip.auth_username, c.sip.username, sizeof(d.sip.auth_username));
    memcpy(d.sip.password, c.sip.password, sizeof(d.sip.password));
    assert_memory_equal(&c.http, &d.http, sizeof(c.http));
    assert_memory_equal(&c.sip, &d.sip, sizeof(c.sip));
    assert_memory_equal(&c.store, &d.store, sizeof(c.store));
    assert_memory_equal(&c.api, &d.api, sizeof(c.api));
    assert_memory_equal(&c.limits, &d.limits, sizeof(c.limits));
    assert_memory_equal(&c.log, &d.log, sizeof(c.log));

    assert_int_equal(gw_config_load(&c, "deploy/smsgw.conf", env, err, sizeof(err)), 0);
    assert_string_equal(c.sip.password, "from-env");
}

static void test_loopback_hosts(void **state)
{
    (void)state;
    assert_true(gw_config_host_is_loopback("127.0.0.1"));
    assert_true(gw_config_host_is_loopback("127.8.9.10"));
    assert_true(gw_config_host_is_loopback("::1"));
    assert_true(gw_config_host_is_loopback("localhost"));
    assert_true(gw_config_host_is_loopback("::ffff:127.0.0.1"));
    assert_false(gw_config_host_is_loopback(""));
    assert_false(gw_config_host_is_loopback("0.0.0.0"));
    assert_false(gw_config_host_is_loopback("::"));
    assert_false(gw_config_host_is_loopback("10.0.0.1"));
    assert_false(gw_config_host_is_loopback("128.0.0.1"));
    assert_false(gw_config_host_is_loopback("::ffff:10.0.0.1"));
    assert_false(gw_config_host_is_loopback("example.com"));
    assert_false(gw_config_host_is_loopback("localhost.example.com"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_minimal_file_and_derived),
        cmocka_unit_test(test_explicit_registrar_and_auth_username_kept),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_bool_spellings),
        cmocka_unit_test(test_bad_values_name_file_and_line),
        cmocka_unit_test(test_loopback_hosts),
        cmocka_unit_test(test_too_many_list_entries),
        cmocka_unit_test(test_list_continuation_lines),
        cmocka_unit_test(test_control_characters_refused),
        cmocka_unit_test(test_crlf_and_bom_file),
        cmocka_unit_test(test_long_line_and_nul_byte),
        cmocka_unit_test(test_ipv6_listen),
        cmocka_unit_test(test_missing_required_keys),
        cmocka_unit_test(test_env_overrides_file),
        cmocka_unit_test(test_env_only_config),
        cmocka_unit_test(test_env_errors_name_the_variable),
        cmocka_unit_test(test_recipient_uri_too_long),
        cmocka_unit_test(test_env_not_ours_ignored),
        cmocka_unit_test(test_failure_leaves_cfg_untouched),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_deploy_example_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
