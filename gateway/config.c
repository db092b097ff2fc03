/* Configuration: the defaults, then an INI file read through libinih, then SMSGW_<SECTION>_<KEY>
 * environment overrides. Every key is one row of a table (section, name, setter, field, range,
 * default), so the file, the environment and the defaults all pass the same checks. Errors name
 * their origin: "file:line: ...", "VARIABLE: ..." or "file: ..." for the checks that need the
 * whole configuration. Values are never quoted back, so secrets stay out of logs. */
#include "gateway/config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/number.h"

#define WHY_LEN   160 /* one reason, without the "file:line: [section] key: " prefix */
#define SHOW_LEN  48  /* longest name from the input quoted back in an error */
#define ENV_PFX   "SMSGW_"
#define TEST_E164 "+15550100"        /* what recipient_uri is tried with while parsing */
#define LONG_E164 "+155501001234567" /* the longest number it must have room for */
#define LIST_LEN  2048               /* a list value with its continuation lines */

enum {
    F_NONEMPTY = 1, /* an empty value is refused */
    F_REQUIRED = 2, /* no default: the file or the environment must set it */
    F_LIST = 4,     /* comma-separated; may go on over indented lines in the file */
};

struct key;

/* Parses v into the row's field of cfg. Returns 0, or EINVAL with the reason in why. */
typedef int (*set_fn)(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                      size_t whylen);

/* Returns NULL if the non-empty string value v is acceptable, or why it is not. */
typedef const char *(*check_fn)(const char *v);

struct key {
    const char *section;
    const char *name;
    set_fn set;
    size_t offset; /* of the field in struct gw_config */
    size_t size;   /* of the field; for strings the buffer with its NUL */
    unsigned long min, max;
    check_fn check;  /* set_str only */
    const char *def; /* default as it would be written in the file; NULL: none */
    unsigned flags;
};

static int set_str(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                   size_t whylen);
static int set_uint(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                    size_t whylen);
static int set_bool(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                    size_t whylen);
static int set_listen(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                      size_t whylen);
static int set_transport(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                         size_t whylen);
static int set_keys(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                    size_t whylen);
static int set_cc(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                  size_t whylen);
static int set_senders(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                       size_t whylen);
static int set_level(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                     size_t whylen);
static const char *check_uri(const char *v);
static const char *check_domain(const char *v);
static const char *check_user(const char *v);
static const char *check_quotable(const char *v);
static const char *check_local(const char *v);
static const char *check_template(const char *v);
static const char *check_identity(const char *v);

#define FIELD(f) offsetof(struct gw_config, f), sizeof(((struct gw_config *)0)->f)
/* Row contents; the table puts each in braces. */
#define STR(sec, name, f, check, flags, def) sec, name, set_str, FIELD(f), 0, 0, check, def, flags
#define NUM(sec, name, f, min, max, def)     sec, name, set_uint, FIELD(f), min, max, NULL, def, 0
#define FN(sec, name, fn, f, def)            sec, name, fn, FIELD(f), 0, 0, NULL, def, 0
#define LIST(sec, name, fn, f)               sec, name, fn, FIELD(f), 0, 0, NULL, "", F_LIST

/* deploy/smsgw.conf documents every row. */
static const struct key keys[] = {
    {FN("http", "listen", set_listen, http.listen, "127.0.0.1:8080")},
    {NUM("http", "connection_limit", http.connection_limit, 1, 100000, "256")},
    {NUM("http", "connection_timeout", http.connection_timeout, 1, 3600, "10")},
    {STR("sip", "proxy", sip.proxy, check_uri, F_NONEMPTY | F_REQUIRED, NULL)},
    {STR("sip", "registrar", sip.registrar, check_uri, 0, "")},
    {STR("sip", "domain", sip.domain, check_domain, F_NONEMPTY | F_REQUIRED, NULL)},
    {STR("sip", "username", sip.username, check_user, F_NONEMPTY | F_REQUIRED, NULL)},
    {STR("sip", "password", sip.password, NULL, 0, "")},
    {STR("sip", "auth_username", sip.auth_username, check_quotable, 0, "")},
    {STR("sip", "local", sip.local, check_local, F_NONEMPTY, "127.0.0.1:0")},
    {FN("sip", "transport", set_transport, sip.transport, "udp")},
    {FN("sip", "register", set_bool, sip.do_register, "yes")},
    {NUM("sip", "expires", sip.expires, 10, 86400, "3600")},
    {STR("sip", "recipient_uri", sip.recipient_uri, check_template, F_NONEMPTY,
         "sip:{e164}@{domain};user=phone")},
    {NUM("sip", "timeout", sip.timeout, 1, 3600, "60")},
    {STR("sip", "ca_file", sip.ca_file, NULL, 0, "")},
    {FN("sip", "tls_verify", set_bool, sip.tls_verify, "yes")},
    {STR("sip", "p_asserted_identity", sip.p_asserted_identity, check_identity, 0, "")},
    {STR("sip", "p_preferred_identity", sip.p_preferred_identity, check_identity, 0, "")},
    {STR("store", "path", store.path, NULL, F_NONEMPTY, "smsgw.db")},
    {LIST("api", "keys", set_keys, api.keys)},
    {FN("api", "default_country_code", set_cc, api.default_country_code, "")},
    {LIST("api", "senders", set_senders, api.senders)},
    {NUM("limits", "max_body_bytes", limits.max_body, 256, 1048576, "16384")},
    {NUM("limits", "max_text_segments", limits.max_segments, 1, 50, "10")},
    {NUM("limits", "queue_depth", limits.queue_depth, 1, 1000000, "4096")},
    {NUM("limits", "max_inflight", limits.max_inflight, 1, 100000, "256")},
    {NUM("limits", "send_rate", limits.send_rate, 0, 100000, "0")},
    /* validity_default <= validity_max is checked once both are known */
    {NUM("limits", "validity_default", limits.validity_default, 60, 2592000, "86400")},
    {NUM("limits", "validity_max", limits.validity_max, 60, 2592000, "259200")},
    {FN("log", "level", set_level, log.level, "info")},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const sections[] = {"http", "sip", "store", "api", "limits", "log"};

/* Where a key got its value from, for the errors found once everything is loaded. */
struct origin {
    int line;        /* file line; 0: not set in the file */
    const char *env; /* environment entry; NULL: not set there */
};

struct loader {
    struct gw_config cfg;
    const char *path;
    FILE *fp;
    int line;        /* line being parsed; 0 when an error concerns no line */
    const char *env; /* entry being applied; named instead of the line in errors */
    bool indented;   /* the current line starts with a blank: libinih continues a value */
    bool failed;
    int fail_line;
    int read_err;
    size_t last;         /* row of the previous pair, NKEYS if none */
    char list[LIST_LEN]; /* value of the previous pair so far, if it was a list */
    struct origin from[NKEYS];
    char *err;
    size_t errlen;
};

static void *field(struct gw_config *cfg, const struct key *k)
{
    return (char *)cfg + k->offset;
}

static int bad(char *why, size_t whylen, const char *reason)
{
    snprintf(why, whylen, "%s", reason);
    return EINVAL;
}

/* Copies at most len bytes of src for quoting in an error, printable ASCII only. */
static void show(char *dst, size_t size, const char *src, size_t len)
{
    size_t i = 0;
    for (; i + 1 < size && i < len && src[i]; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[i] = '\0';
}

static bool has_control(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return true;
    }
    return false;
}

/* True if each of the n bytes of s is a letter or digit (a hex digit when hex) or in extra. */
static bool all_of(const char *s, size_t n, bool hex, const char *extra)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        bool ok = (hex ? isxdigit(c) : isalnum(c)) != 0;
        if (c == 0 || (!ok && !strchr(extra, c)))
            return false;
    }
    return true;
}

static int parse_ulong(const char *v, unsigned long *out)
{
    if (!isdigit((unsigned char)v[0]))
        return EINVAL; /* strtoul would take blanks and a sign */
    errno = 0;
    char *end = NULL;
    unsigned long n = strtoul(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return EINVAL;
    *out = n;
    return 0;
}

/* Splits "host:port" or "[ipv6]:port"; host holds GW_CFG_STR bytes. Returns NULL or why not. */
static const char *split_hostport(const char *v, char *host, unsigned long *port)
{
    const char *h = v, *colon;
    size_t hlen;
    if (strlen(v) >= GW_CFG_STR)
        return "is too long";
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (!close || close[1] != ':')
            return "must be [address]:port, e.g. [::1]:8080";
        h = v + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
        if (hlen == 0 || !all_of(h, hlen, true, ":."))
            return "must hold an IPv6 address in its brackets";
    } else {
        colon = strrchr(v, ':');
        if (!colon)
            return "must be host:port, e.g. 127.0.0.1:8080";
        hlen = (size_t)(colon - v);
        if (memchr(v, ':', hlen))
            return "needs brackets around an IPv6 address, e.g. [::1]:8080";
        if (hlen == 0 || !all_of(v, hlen, false, ".-_"))
            return "must have a host of letters, digits, '.', '-' or '_' before the port";
    }
    if (parse_ulong(colon + 1, port) != 0 || *port > 65535)
        return "must end in a port from 0 to 65535";
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    return NULL;
}

static const char *check_local(const char *v)
{
    char host[GW_CFG_STR];
    unsigned long port;
    return split_hostport(v, host, &port);
}

/* proxy and registrar: whole SIP URIs that go into headers as they are. */
static const char *check_uri(const char *v)
{
    size_t skip = 0;
    if (strncasecmp(v, "sip:", 4) == 0)
        skip = 4;
    else if (strncasecmp(v, "sips:", 5) == 0)
        skip = 5;
    if (skip == 0 || v[skip] == '\0')
        return "must be a SIP URI starting with sip: or sips:";
    if (strpbrk(v, " <>\"\\"))
        return "must not contain spaces, '<', '>', '\"' or '\\'";
    return NULL;
}

/* Host or host:port, as gw_number_format_uri accepts for {domain}. */
static const char *check_domain(const char *v)
{
    if (!all_of(v, strlen(v), false, ".-_:[]"))
        return "may contain only letters, digits and . - _ : [ ]";
    return NULL;
}

/* The user part of our SIP URI: RFC 3261 user characters, without the ; ? / that end it. */
static const char *check_user(const char *v)
{
    if (!all_of(v, strlen(v), false, "-_.!~*'()&=+$,%"))
        return "may contain only letters, digits and - _ . ! ~ * ' ( ) & = + $ , %";
    return NULL;
}

/* A value that goes into a quoted-string of the Authorization header. */
static const char *check_quotable(const char *v)
{
    if (strpbrk(v, "\"\\"))
        return "must not contain '\"' or '\\'";
    return NULL;
}

/* An identity header value: a sip:, sips: or tel: URI that cannot break out of the header. */
static const char *check_identity(const char *v)
{
    if (v[0] == '\0')
        return NULL;
    if (strncmp(v, "sip:", 4) != 0 && strncmp(v, "sips:", 5) != 0 && strncmp(v, "tel:", 4) != 0)
        return "must be a sip:, sips: or tel: URI";
    if (strpbrk(v, " <>\",\\"))
        return "must not contain spaces, '<', '>', '\"', ',' or '\\'";
    return NULL;
}

/* The domain may not be known yet; the template is tried with the real one at the end. */
static const char *check_template(const char *v)
{
    char uri[GW_CFG_STR];
    int rc = gw_number_format_uri(v, TEST_E164, "example.test", uri, sizeof(uri));
    if (rc == EMSGSIZE)
        return "is too long once expanded";
    if (rc != 0)
        return "must be a sip:, sips: or tel: URI using {e164} or {digits}, and optionally "
               "{domain}, with no other {placeholder} and no spaces, '<', '>' or '\"'";
    return NULL;
}

static int set_str(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                   size_t whylen)
{
    size_t len = strlen(v);
    if (len >= k->size) {
        snprintf(why, whylen, "is too long (at most %zu characters)", k->size - 1);
        return EINVAL;
    }
    if (len == 0 && (k->flags & F_NONEMPTY))
        return bad(why, whylen, "must not be empty");
    const char *reason = (len > 0 && k->check) ? k->check(v) : NULL;
    if (reason)
        return bad(why, whylen, reason);
    memcpy(field(cfg, k), v, len + 1);
    return 0;
}

static int set_uint(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                    size_t whylen)
{
    unsigned long n;
    if (parse_ulong(v, &n) != 0 || n < k->min || n > k->max) {
        snprintf(why, whylen, "must be a number from %lu to %lu", k->min, k->max);
        return EINVAL;
    }
    if (k->size == sizeof(size_t))
        *(size_t *)field(cfg, k) = n;
    else
        *(unsigned *)field(cfg, k) = (unsigned)n;
    return 0;
}

static int set_bool(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                    size_t whylen)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *(bool *)field(cfg, k) = strcasecmp(v, yes[i]) == 0;
            return 0;
        }
    }
    return bad(why, whylen, "must be yes or no");
}

/* The HTTP server binds an address, never a resolved name (localhost aside). */
static bool is_ip_literal(const char *host, bool bracketed)
{
    unsigned char addr[sizeof(struct in6_addr)];
    if (bracketed)
        return inet_pton(AF_INET6, host, addr) == 1;
    return strcasecmp(host, "localhost") == 0 || inet_pton(AF_INET, host, addr) == 1;
}

static int set_listen(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                      size_t whylen)
{
    (void)k;
    char host[GW_CFG_STR];
    unsigned long port;
    const char *reason = split_hostport(v, host, &port);
    if (!reason && !is_ip_literal(host, v[0] == '['))
        reason = "must be an IPv4 address, an IPv6 address in brackets or localhost, then :port";
    if (!reason && port == 0)
        reason = "must end in a port from 1 to 65535";
    if (reason)
        return bad(why, whylen, reason);
    /* split_hostport refused whatever would not fit these buffers */
    memcpy(cfg->http.listen, v, strlen(v) + 1);
    memcpy(cfg->http.host, host, strlen(host) + 1);
    cfg->http.port = (uint16_t)port;
    return 0;
}

static int set_transport(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                         size_t whylen)
{
    (void)k;
    static const char *const names[] = {
        [GW_TRANSPORT_UDP] = "udp", [GW_TRANSPORT_TCP] = "tcp", [GW_TRANSPORT_TLS] = "tls"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(v, names[i]) == 0) {
            cfg->sip.transport = (enum gw_transport)i;
            return 0;
        }
    }
    return bad(why, whylen, "must be udp, tcp or tls");
}

static int set_level(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                     size_t whylen)
{
    (void)k;
    enum gw_log_level level;
    if (gw_log_level_parse(v, &level) != 0)
        return bad(why, whylen, "must be error, warn, info or debug");
    cfg->log.level = level;
    return 0;
}

static int set_cc(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                  size_t whylen)
{
    (void)k;
    size_t len = strlen(v);
    if (len > 0 && (len > 3 || v[0] == '0' || strspn(v, "0123456789") != len))
        return bad(why, whylen, "must be 1 to 3 digits, not starting with 0, e.g. 49");
    memcpy(cfg->api.default_country_code, v, len + 1);
    return 0;
}

/* Walks a comma-separated list: blanks around items are dropped, "" has no items, and a
 * trailing comma is allowed so that a list can go on over continuation lines. */
struct items {
    const char *p; /* rest of the list; NULL once it is used up */
};

static void items_init(struct items *it, const char *v)
{
    it->p = v[strspn(v, " ")] != '\0' ? v : NULL;
}

static bool next_item(struct items *it, const char **item, size_t *len)
{
    if (!it->p)
        return false;
    const char *comma = strchr(it->p, ',');
    const char *s = it->p, *e = comma ? comma : s + strlen(s);
    while (s < e && *s == ' ')
        s++;
    while (e > s && e[-1] == ' ')
        e--;
    it->p = comma && comma[1 + strspn(comma + 1, " ")] != '\0' ? comma + 1 : NULL;
    *item = s;
    *len = (size_t)(e - s);
    return true;
}

static int set_keys(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                    size_t whylen)
{
    (void)k;
    char hashes[GW_CFG_MAX_KEYS][65];
    unsigned n = 0;
    struct items it;
    items_init(&it, v);
    const char *item;
    size_t len;
    while (next_item(&it, &item, &len)) {
        if (n == GW_CFG_MAX_KEYS) {
            snprintf(why, whylen, "has more than %d entries", GW_CFG_MAX_KEYS);
            return EINVAL;
        }
        if (len != 64 || !all_of(item, len, true, "")) {
            snprintf(why, whylen, "entry %u is not a SHA-256 hash in 64 hex digits", n + 1);
            return EINVAL;
        }
        for (size_t i = 0; i < len; i++)
            hashes[n][i] = (char)tolower((unsigned char)item[i]);
        hashes[n++][len] = '\0';
    }
    memcpy(cfg->api.keys, hashes, (size_t)n * sizeof(hashes[0]));
    cfg->api.nkeys = n;
    return 0;
}

static int set_senders(struct gw_config *cfg, const struct key *k, const char *v, char *why,
                       size_t whylen)
{
    (void)k;
    static_assert(GW_E164_LEN <= sizeof(cfg->api.senders[0]), "sender slot too small");
    char numbers[GW_CFG_MAX_SENDERS][GW_E164_LEN];
    unsigned n = 0;
    struct items it;
    items_init(&it, v);
    const char *item;
    size_t len;
    while (next_item(&it, &item, &len)) {
        if (n == GW_CFG_MAX_SENDERS) {
            snprintf(why, whylen, "has more than %d entries", GW_CFG_MAX_SENDERS);
            return EINVAL;
        }
        char one[65]; /* gw_number_normalize reads at most 64 bytes */
        int rc = EINVAL;
        if (len < sizeof(one)) {
            memcpy(one, item, len);
            one[len] = '\0';
            rc = gw_number_normalize(one, NULL, numbers[n]);
        }
        if (rc != 0) {
            snprintf(why, whylen, "entry %u is not an E.164 number such as +4930123456", n + 1);
            return EINVAL;
        }
        n++;
    }
    for (unsigned i = 0; i < n; i++)
        memcpy(cfg->api.senders[i], numbers[i], sizeof(numbers[i]));
    cfg->api.nsenders = n;
    return 0;
}

void gw_config_defaults(struct gw_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NKEYS; i++) {
        if (!keys[i].def)
            continue;
        char why[WHY_LEN];
        int rc = keys[i].set(cfg, &keys[i], keys[i].def, why, sizeof(why));
        assert(rc == 0); /* the table's defaults pass the table's checks */
        (void)rc;
    }
}

static void report(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records an error, prefixed with where it comes from. A message cut short by a small err
 * buffer still starts with the right place, so truncation is accepted here. */
static void report(struct loader *ld, const char *fmt, ...)
{
    ld->failed = true;
    ld->fail_line = ld->line;
    if (!ld->err || ld->errlen == 0)
        return;
    int n = 0;
    if (ld->env) {
        char name[SHOW_LEN];
        show(name, sizeof(name), ld->env, strcspn(ld->env, "="));
        n = snprintf(ld->err, ld->errlen, "%s: ", name);
    } else if (ld->path && ld->line > 0) {
        n = snprintf(ld->err, ld->errlen, "%s:%d: ", ld->path, ld->line);
    } else if (ld->path) {
        n = snprintf(ld->err, ld->errlen, "%s: ", ld->path);
    } else {
        ld->err[0] = '\0';
    }
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used >= ld->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err + used, ld->errlen - used, fmt, ap);
    va_end(ap);
}

static bool known_section(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        if (strlen(sections[i]) == len && strncmp(sections[i], name, len) == 0)
            return true;
    }
    return false;
}

static size_t find_key(const char *section, const char *name)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
            return i;
    }
    return NKEYS;
}

/* Runs row i's setter on v. A control character (CR, LF, ...) is refused in every value, as
 * several of them go into SIP headers. Returns 0 or EINVAL, reported. */
static int apply(struct loader *ld, size_t i, const char *v)
{
    const struct key *k = &keys[i];
    char why[WHY_LEN] = "";
    int rc;
    if (has_control(v))
        rc = bad(why, sizeof(why), "must not contain control characters such as CR or LF");
    else
        rc = k->set(&ld->cfg, k, v, why, sizeof(why));
    if (rc == 0)
        return 0;
    if (ld->env)
        report(ld, "%s", why);
    else
        report(ld, "[%s] %s: %s", k->section, k->name, why);
    return rc;
}

/* Section headers are checked as they are read, since libinih only reports pairs. */
static void check_section(struct loader *ld, const char *str)
{
    const char *p = str;
    if (ld->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* libinih skips a UTF-8 byte order mark */
    const char *start = p;
    while (isspace((unsigned char)*p))
        p++;
    ld->indented = p > start && *p != '\0';
    const char *close = *p == '[' ? strchr(p, ']') : NULL;
    if (!close || known_section(p + 1, (size_t)(close - p - 1)))
        return; /* not a header, a known one, or one libinih reports as a syntax error */
    char name[SHOW_LEN];
    show(name, sizeof(name), p + 1, (size_t)(close - p - 1));
    report(ld, "unknown section [%s]", name);
}

/* libinih's reader: one whole line per call, counted so that errors can name it. A line too
 * long for libinih's buffer would be parsed as two, and a NUL byte would hide the rest of its
 * line, so both are refused. The first error ends the parse. */
static char *read_line(char *str, int num, void *stream)
{
    struct loader *ld = stream;
    if (ld->failed)
        return NULL;
    errno = 0;
    if (!fgets(str, num, ld->fp)) {
        if (ferror(ld->fp))
            ld->read_err = errno != 0 ? errno : EIO;
        return NULL;
    }
    ld->line++;
    size_t len = strlen(str);
    if (len == 0 || str[len - 1] != '\n') {
        bool full = len + 1 == (size_t)num;
        int next = full ? getc(ld->fp) : EOF; /* a '\n' just past a full buffer is fine */
        if (full && next != '\n' && next != EOF)
            report(ld, "line is too long (at most %d characters)", num - 1);
        else if (!full && !feof(ld->fp))
            report(ld, "line contains a NUL byte");
    }
    if (!ld->failed)
        check_section(ld, str);
    return ld->failed ? NULL : str;
}

/* An indented line after a list key adds its items to the value so far. */
static int extend(struct loader *ld, size_t i, const char *value)
{
    size_t used = strlen(ld->list);
    const char *sep = used > 0 && ld->list[used - 1] != ',' ? "," : "";
    int n = snprintf(ld->list + used, sizeof(ld->list) - used, "%s%s", sep, value);
    if (n < 0 || (size_t)n >= sizeof(ld->list) - used) {
        report(ld, "[%s] %s: is too long (at most %d characters)", keys[i].section, keys[i].name,
               LIST_LEN - 1);
        return EINVAL;
    }
    return apply(ld, i, ld->list);
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    struct loader *ld = user;
    char shown[SHOW_LEN];
    if (ld->failed)
        return 0;
    show(shown, sizeof(shown), name, strlen(name));
    if (!known_section(section, strlen(section))) {
        report(ld,
               "'%s' is not inside one of the sections [http] [sip] [store] [api] "
               "[limits] [log]",
               shown);
        return 0;
    }
    size_t i = find_key(section, name);
    if (i == NKEYS) {
        report(ld, "[%s] unknown key '%s'", section, shown);
        return 0;
    }
    if (ld->from[i].line != 0) {
        if (ld->indented && ld->last == i && (keys[i].flags & F_LIST))
            return extend(ld, i, value) == 0;
        if (ld->indented && ld->last == i)
            report(ld, "[%s] %s: continuation lines are not supported (remove the indentation)",
                   section, keys[i].name);
        else
            report(ld, "[%s] %s: duplicate key (first set on line %d)", section, keys[i].name,
                   ld->from[i].line);
        return 0;
    }
    if (apply(ld, i, value) != 0)
        return 0;
    ld->from[i].line = ld->line;
    ld->last = i;
    if (keys[i].flags & F_LIST)
        snprintf(ld->list, sizeof(ld->list), "%s", value); /* one line always fits */
    return 1;
}

static int load_file(struct loader *ld)
{
    char buf[128];
    ld->fp = fopen(ld->path, "re");
    if (!ld->fp) {
        int err = errno;
        report(ld, "cannot open: %s", strerror_r(err, buf, sizeof(buf)));
        return err;
    }
    int rc = ini_parse_stream(read_line, ld, on_pair, ld);
    int err = ld->failed ? EINVAL : 0;
    if (ld->read_err != 0) {
        err = ld->read_err;
        ld->line = 0;
        report(ld, "cannot read: %s", strerror_r(err, buf, sizeof(buf)));
    } else if (rc == -2) {
        err = ENOMEM;
        ld->line = 0;
        report(ld, "out of memory");
    } else if (rc > 0 && (!ld->failed || rc < ld->fail_line)) {
        /* libinih stops at no error; a syntax error before ours is the first one */
        err = EINVAL;
        ld->line = rc;
        report(ld, "expected [section] or key = value");
    }
    fclose(ld->fp);
    ld->fp = NULL;
    ld->line = 0;
    return err;
}

/* Maps "SMSGW_<SECTION>_<KEY>=value" to a row. Returns the row, NKEYS for a known section with
 * an unknown key (*section set), or NKEYS + 1 for a variable that is not ours. */
static size_t env_key(const char *e, const char **section, const char **name, size_t *namelen)
{
    const char *eq = strchr(e, '=');
    if (strncmp(e, ENV_PFX, strlen(ENV_PFX)) != 0 || !eq)
        return NKEYS + 1;
    const char *s = e + strlen(ENV_PFX);
    for (size_t j = 0; j < sizeof(sections) / sizeof(sections[0]); j++) {
        size_t n = strlen(sections[j]), i = 0;
        while (i < n && s[i] == toupper((unsigned char)sections[j][i]))
            i++;
        if (i < n || s[n] != '_')
            continue;
        *section = sections[j];
        *name = s + n + 1;
        *namelen = (size_t)(eq - *name);
        for (i = 0; i < NKEYS; i++) {
            const char *kn = keys[i].name;
            size_t m = 0;
            while (m < *namelen && (*name)[m] == toupper((unsigned char)kn[m]))
                m++;
            if (strcmp(keys[i].section, sections[j]) == 0 && m == *namelen && kn[m] == '\0')
                return i;
        }
        return NKEYS;
    }
    return NKEYS + 1;
}

static int apply_env(struct loader *ld, char *const *envp)
{
    for (char *const *e = envp; *e; e++) {
        const char *section = NULL, *name = NULL;
        size_t len = 0;
        size_t i = env_key(*e, &section, &name, &len);
        if (i > NKEYS)
            continue; /* not ours, such as SMSGW_BUILD */
        ld->env = *e;
        ld->line = 0;
        if (i == NKEYS) {
            char shown[SHOW_LEN];
            show(shown, sizeof(shown), name, len);
            for (char *p = shown; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            report(ld, "[%s] unknown key '%s'", section, shown);
            return EINVAL;
        }
        if (apply(ld, i, strchr(*e, '=') + 1) != 0)
            return EINVAL;
        ld->from[i].env = *e;
    }
    ld->env = NULL;
    return 0;
}

/* Puts the loader where row i got its value, or where row alt did if i kept its default. */
static void point_at(struct loader *ld, size_t i, size_t alt)
{
    if (!ld->from[i].env && ld->from[i].line == 0)
        i = alt;
    ld->env = ld->from[i].env;
    ld->line = ld->from[i].line;
}

bool gw_config_host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) != 1)
        return false;
    return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

/* The checks that involve more than one key, and the defaults taken from other keys. */
static int finish(struct loader *ld)
{
    struct gw_config *c = &ld->cfg;
    for (size_t i = 0; i < NKEYS; i++) {
        if ((keys[i].flags & F_REQUIRED) && *(char *)field(c, &keys[i]) == '\0') {
            report(ld, "[%s] %s is required", keys[i].section, keys[i].name);
            return EINVAL;
        }
    }
    if (c->sip.registrar[0] == '\0')
        memcpy(c->sip.registrar, c->sip.proxy, sizeof(c->sip.registrar));
    if (c->sip.auth_username[0] == '\0')
        memcpy(c->sip.auth_username, c->sip.username, sizeof(c->sip.auth_username));
    if (c->limits.validity_default > c->limits.validity_max) {
        point_at(ld, find_key("limits", "validity_default"), find_key("limits", "validity_max"));
        report(ld, "[limits] validity_default (%u) must not exceed validity_max (%u)",
               c->limits.validity_default, c->limits.validity_max);
        return EINVAL;
    }
    char uri[GW_CFG_STR];
    int rc = gw_number_format_uri(c->sip.recipient_uri, LONG_E164, c->sip.domain, uri, sizeof(uri));
    if (rc != 0) {
        point_at(ld, find_key("sip", "recipient_uri"), find_key("sip", "domain"));
        report(ld, "[sip] recipient_uri: %s with [sip] domain",
               rc == EMSGSIZE ? "is too long once expanded" : "does not give a valid URI");
        return EINVAL;
    }
    if (c->api.nkeys == 0 && !gw_config_host_is_loopback(c->http.host)) {
        point_at(ld, find_key("http", "listen"), find_key("api", "keys"));
        report(ld, "[http] listen: %s is not a loopback address, so [api] keys must be set",
               c->http.host);
        return EINVAL;
    }
    return 0;
}

int gw_config_load(struct gw_config *cfg, const char *path, char *const *envp, char *err,
                   size_t errlen)
{
    struct loader ld;
    memset(&ld, 0, sizeof(ld));
    ld.path = path;
    ld.err = err;
    ld.errlen = errlen;
    ld.last = NKEYS;
    gw_config_defaults(&ld.cfg);
    int ret = 0;
    if (!cfg) {
        report(&ld, "no configuration to fill");
        ret = EINVAL;
        goto out;
    }
    if (path) {
        ret = load_file(&ld);
        if (ret != 0)
            goto out;
    }
    if (envp) {
        ret = apply_env(&ld, envp);
        if (ret != 0)
            goto out;
    }
    ret = finish(&ld);
    if (ret != 0)
        goto out;
    *cfg = ld.cfg;
out:
    OPENSSL_cleanse(&ld.cfg, sizeof(ld.cfg)); /* the password */
    return ret;
}

int gw_config_identity(const struct gw_config *cfg, char *out, size_t outlen)
{
    char buf[2 * GW_CFG_STR + 8];
    int n = snprintf(buf, sizeof(buf), "sip:%s@%s", cfg->sip.username, cfg->sip.domain);
    if (n < 0 || (size_t)n >= sizeof(buf) || (size_t)n >= outlen)
        return EMSGSIZE;
    memcpy(out, buf, (size_t)n + 1);
    return 0;
}
