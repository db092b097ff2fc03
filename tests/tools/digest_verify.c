/* digest_verify: checks SIP digest credentials with sip/digest. It recomputes the response of
 * each Authorization / Proxy-Authorization value from the value's own fields (realm, nonce, uri,
 * qop, nc, cnonce, algorithm) and the given password. The integration tests use it to check what
 * the gateway sent to a sipp UAS.
 *
 *   digest_verify [--any-uri] USER PASSWORD METHOD < log
 *       Reads a SIP message log (sipp -trace_msg, or raw messages) and checks every request
 *       whose method is METHOD ("*" for any). The uri= must also equal the Request-URI unless
 *       --any-uri is given (sipp's own [authentication] puts the remote address there). An
 *       auth-int body is the Content-Length bytes after the headers.
 *   digest_verify --header 'Authorization: Digest ...' --user U --password P --method M
 *                 [--body-file F]
 *
 * Exit status: 0 when at least one value was checked and all match, 1 otherwise, 2 on a usage
 * or I/O error. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sip/digest.h"

#define LOG_MAX    (16u << 20) /* the largest log read from stdin */
#define BODY_MAX   (1u << 20)
#define HEADER_MAX 8192
#define METHOD_MAX 32

struct span {
    const char *p;
    size_t len;
};

struct tally {
    unsigned checked;
    unsigned bad;
};

static bool span_eq(struct span s, const char *word)
{
    return s.len == strlen(word) && memcmp(s.p, word, s.len) == 0;
}

static bool span_ieq(struct span s, const char *word)
{
    return s.len == strlen(word) && strncasecmp(s.p, word, s.len) == 0;
}

/* Reads f up to cap bytes into a NUL-terminated heap buffer. Returns 0, EMSGSIZE, ENOMEM or EIO. */
static int read_all(FILE *f, size_t cap, char **out, size_t *out_len)
{
    size_t len = 0, size = 0;
    char *buf = NULL;
    int err = 0;
    for (;;) {
        if (len == size) {
            if (size > cap) {
                err = EMSGSIZE;
                goto out;
            }
            size_t bigger = size ? 2 * size : 4096;
            char *grown = realloc(buf, bigger + 1);
            if (!grown) {
                err = ENOMEM;
                goto out;
            }
            buf = grown;
            size = bigger;
        }
        size_t n = fread(buf + len, 1, size - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f) || len > cap) {
        err = ferror(f) ? EIO : EMSGSIZE;
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
out:
    free(buf);
    return err;
}

/* Accepts a value with or without its header name ("Proxy-Authorization: Digest ..."). */
static const char *strip_name(const char *v)
{
    const char *colon = strchr(v, ':');
    if (!colon)
        return v;
    for (const char *p = v; p < colon; p++) {
        if (*p == ' ' || *p == '\t' || *p == '"' || *p == '=')
            return v;
    }
    return colon + 1;
}

/* Checks one credentials value and prints the verdict. request_uri may be NULL. Returns 0 when
 * it matches, 1 otherwise. */
static int check_value(const char *label, const char *value, const struct gw_digest_creds *cr,
                       const char *method, const char *request_uri, const void *body,
                       size_t body_len)
{
    struct gw_digest_authorization au;
    int err = gw_digest_parse_authorization(strip_name(value), &au);
    if (err) {
        printf("%s: cannot parse (%s) -> INVALID\n", label, strerror(err));
        return 1;
    }
    bool uri_ok = !request_uri || strcmp(request_uri, au.uri) == 0;
    err = gw_digest_verify(&au, cr, method, body, body_len);
    const char *why = err == EACCES ? " (wrong response or username)"
                      : err         ? " (cannot compute the response)"
                      : !uri_ok     ? " (uri is not the Request-URI)"
                                    : "";
    const char *qop = au.qop == GW_DIGEST_QOP_USE_AUTH       ? "auth"
                      : au.qop == GW_DIGEST_QOP_USE_AUTH_INT ? "auth-int"
                                                             : "none";
    printf("%s: username=%s realm=%s uri=%s algorithm=%s qop=%s nc=%s -> %s%s\n", label,
           au.username, au.realm, au.uri, gw_digest_alg_name(au.alg), qop, au.nc[0] ? au.nc : "-",
           err == 0 && uri_ok ? "VALID" : "INVALID", why);
    return err == 0 && uri_ok ? 0 : 1;
}

static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

static const char *next_line(const char *p, const char *end)
{
    const char *eol = line_end(p, end);
    return eol < end ? eol + 1 : end;
}

/* Recognises `METHOD SP Request-URI SP SIP/2.0` at p. */
static bool request_line(const char *p, const char *end, struct span *method, struct span *uri)
{
    const char *eol = line_end(p, end);
    if (eol > p && eol[-1] == '\r')
        eol--;
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    if (!sp1 || sp1 == p)
        return false;
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    if (!sp2 || sp2 == sp1 + 1)
        return false;
    struct span version = {sp2 + 1, (size_t)(eol - sp2 - 1)};
    for (const char *m = p; m < sp1; m++) {
        if (*m < 'A' || *m > 'Z')
            return false;
    }
    *method = (struct span){p, (size_t)(sp1 - p)};
    *uri = (struct span){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
    return span_eq(version, "SIP/2.0");
}

/* Reads the header at *pp with its continuation lines. Returns false at the blank line that
 * ends the headers (then *pp points past it) or at the end of the text. */
static bool next_header(const char **pp, const char *end, struct span *name, struct span *value)
{
    const char *p = *pp;
    if (p >= end)
        return false;
    const char *eol = line_end(p, end);
    if (eol == p || (eol == p + 1 && *p == '\r')) {
        *pp = next_line(p, end);
        return false;
    }
    const char *q = next_line(p, end);
    while (q < end && (*q == ' ' || *q == '\t')) {
        eol = line_end(q, end);
        q = next_line(q, end);
    }
    if (eol > p && eol[-1] == '\r')
        eol--;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    const char *name_end = colon ? colon : p;
    while (name_end > p && (name_end[-1] == ' ' || name_end[-1] == '\t'))
        name_end--;
    *name = (struct span){p, (size_t)(name_end - p)};
    *value = colon ? (struct span){colon + 1, (size_t)(eol - colon - 1)} : (struct span){eol, 0};
    *pp = q;
    return true;
}

static bool span_to_str(struct span s, char *buf, size_t cap)
{
    if (s.len >= cap)
        return false;
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    return true;
}

/* Finds where the body starts and how long it is (Content-Length, at most the rest). */
static void find_body(const char *headers, const char *end, struct span *body)
{
    const char *p = headers;
    struct span name, value;
    long clen = 0;
    while (next_header(&p, end, &name, &value)) {
        char num[32];
        if (!(span_ieq(name, "content-length") || span_ieq(name, "l")) ||
            !span_to_str(value, num, sizeof(num)))
            continue;
        char *stop = NULL;
        errno = 0;
        long v = strtol(num, &stop, 10);
        while (stop && (*stop == ' ' || *stop == '\t'))
            stop++;
        if (errno == 0 && stop != num && stop && *stop == '\0' && v >= 0)
            clen = v;
    }
    size_t rest = (size_t)(end - p);
    *body = (struct span){p, (size_t)clen < rest ? (size_t)clen : rest};
}

/* Checks the credentials of the request whose headers start at p; returns where to go on. */
static const char *check_message(const char *headers, const char *end, struct span method,
                                 struct span ruri, const struct gw_digest_creds *cr,
                                 const char *want_method, bool any_uri, struct tally *t)
{
    struct span body, name, value;
    find_body(headers, end, &body);
    char m[METHOD_MAX], uri[GW_DIGEST_URI_MAX], hv[HEADER_MAX], label[GW_DIGEST_URI_MAX + 64];
    bool wanted = strcmp(want_method, "*") == 0 || span_eq(method, want_method);
    if (!wanted || !span_to_str(method, m, sizeof(m)) || !span_to_str(ruri, uri, sizeof(uri)))
        return body.p + body.len;
    const char *p = headers;
    while (next_header(&p, end, &name, &value)) {
        if (!span_ieq(name, "authorization") && !span_ieq(name, "proxy-authorization"))
            continue;
        int n = snprintf(label, sizeof(label), "%s %s %.*s", m, uri, (int)name.len, name.p);
        t->checked++;
        if (n < 0 || (size_t)n >= sizeof(label) || !span_to_str(value, hv, sizeof(hv))) {
            printf("%s: value too long -> INVALID\n", label);
            t->bad++;
            continue;
        }
        t->bad += (unsigned)check_value(label, hv, cr, m, any_uri ? NULL : uri, body.p, body.len);
    }
    return body.p + body.len;
}

static int run_log(const char *user, const char *password, const char *method, bool any_uri)
{
    char *text = NULL;
    size_t len = 0;
    int err = read_all(stdin, LOG_MAX, &text, &len);
    if (err) {
        fprintf(stderr, "digest_verify: reading stdin: %s\n", strerror(err));
        return 2;
    }
    struct gw_digest_creds cr = {user, password};
    struct tally t = {0, 0};
    const char *p = text, *end = text + len;
    while (p < end) {
        struct span m, u;
        if (request_line(p, end, &m, &u))
            p = check_message(next_line(p, end), end, m, u, &cr, method, any_uri, &t);
        else
            p = next_line(p, end);
    }
    free(text);
    printf("%u credential value(s) checked, %u invalid\n", t.checked, t.bad);
    return t.checked > 0 && t.bad == 0 ? 0 : 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: digest_verify [--any-uri] USER PASSWORD METHOD < sip-message-log\n"
                    "       digest_verify --header 'Authorization: Digest ...' --user U "
                    "--password P --method M [--body-file F]\n");
    return 2;
}

static int run_header(int argc, char **argv)
{
    const char *header = NULL, *user = NULL, *password = NULL, *method = NULL, *body_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *opt = argv[i], *arg = argv[i + 1];
        const char **slot = strcmp(opt, "--header") == 0      ? &header
                            : strcmp(opt, "--user") == 0      ? &user
                            : strcmp(opt, "--password") == 0  ? &password
                            : strcmp(opt, "--method") == 0    ? &method
                            : strcmp(opt, "--body-file") == 0 ? &body_file
                                                              : NULL;
        if (!slot)
            return usage();
        *slot = arg;
    }
    if (argc % 2 == 0 || !header || !user || !password || !method)
        return usage();
    char *body = NULL;
    size_t body_len = 0;
    if (body_file) {
        FILE *f = fopen(body_file, "rb");
        int err = f ? read_all(f, BODY_MAX, &body, &body_len) : errno;
        if (f)
            fclose(f);
        if (err) {
            fprintf(stderr, "digest_verify: %s: %s\n", body_file, strerror(err));
            return 2;
        }
    }
    struct gw_digest_creds cr = {user, password};
    int rc = check_value("header", header, &cr, method, NULL, body, body_len);
    free(body);
    return rc;
}

int main(int argc, char **argv)
{
    bool any_uri = argc > 1 && strcmp(argv[1], "--any-uri") == 0;
    if (!any_uri && argc > 1 && strncmp(argv[1], "--", 2) == 0)
        return run_header(argc, argv);
    if (argc != (any_uri ? 5 : 4))
        return usage();
    return run_log(argv[any_uri + 1], argv[any_uri + 2], argv[any_uri + 3], any_uri);
}
