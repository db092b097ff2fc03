/* SIP digest authentication with OpenSSL EVP: parses challenges and credentials, computes
 * RFC 2617 / RFC 7616 responses (MD5, SHA-256, SHA-512-256 and their -sess variants) and writes
 * the Authorization value. Parsing reads the header value in place and copies each field into a
 * capped buffer; nothing is allocated except OpenSSL's digest context. */
#include "sip/digest.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* One name=value pair; name and val point into the parsed header value. */
struct param {
    const char *name;
    size_t name_len;
    const char *val; /* after the opening quote when quoted */
    size_t val_len;  /* raw length, escapes included */
    bool quoted;
};

/* Bits recording which parameters were seen, to reject repeats and find missing ones. */
enum {
    F_REALM = 1u << 0,
    F_NONCE = 1u << 1,
    F_OPAQUE = 1u << 2,
    F_ALG = 1u << 3,
    F_QOP = 1u << 4,
    F_STALE = 1u << 5,
    F_USERHASH = 1u << 6,
    F_USERNAME = 1u << 7,
    F_URI = 1u << 8,
    F_RESPONSE = 1u << 9,
    F_CNONCE = 1u << 10,
    F_NC = 1u << 11,
};

/* A string parameter copied into a fixed buffer of the target struct. */
struct field {
    const char *name;
    unsigned bit;
    size_t off;
    size_t cap;
};

#define FIELD(type, name, bit, member)                                                             \
    {                                                                                              \
        name, bit, offsetof(type, member), sizeof(((type *)NULL)->member)                          \
    }
#define CH_FIELD(name, bit, member) FIELD(struct gw_digest_challenge, name, bit, member)
#define AU_FIELD(name, bit, member) FIELD(struct gw_digest_authorization, name, bit, member)

static const struct field challenge_fields[] = {
    CH_FIELD("realm", F_REALM, realm),
    CH_FIELD("nonce", F_NONCE, nonce),
    CH_FIELD("opaque", F_OPAQUE, opaque),
};

static const struct field authorization_fields[] = {
    AU_FIELD("username", F_USERNAME, username),
    AU_FIELD("realm", F_REALM, realm),
    AU_FIELD("nonce", F_NONCE, nonce),
    AU_FIELD("uri", F_URI, uri),
    AU_FIELD("response", F_RESPONSE, response),
    AU_FIELD("cnonce", F_CNONCE, cnonce),
    AU_FIELD("nc", F_NC, nc),
    AU_FIELD("opaque", F_OPAQUE, opaque),
};

/* Handles the parameters that are not plain strings; sets *late to an error that only counts
 * once the syntax of the whole value has been checked (an unknown algorithm). */
typedef int (*special_fn)(const struct param *pm, void *obj, unsigned *seen, int *late);

static const struct {
    const char *name;
    enum gw_digest_alg alg;
} alg_table[] = {
    {"MD5", GW_DIGEST_MD5},
    {"MD5-sess", GW_DIGEST_MD5_SESS},
    {"SHA-256", GW_DIGEST_SHA256},
    {"SHA-256-sess", GW_DIGEST_SHA256_SESS},
    {"SHA-512-256", GW_DIGEST_SHA512_256},
    {"SHA-512-256-sess", GW_DIGEST_SHA512_256_SESS},
};

const char *gw_digest_alg_name(enum gw_digest_alg alg)
{
    for (size_t i = 0; i < sizeof(alg_table) / sizeof(alg_table[0]); i++) {
        if (alg_table[i].alg == alg)
            return alg_table[i].name;
    }
    return "?";
}

static bool is_sess(enum gw_digest_alg alg)
{
    return alg == GW_DIGEST_MD5_SESS || alg == GW_DIGEST_SHA256_SESS ||
           alg == GW_DIGEST_SHA512_256_SESS;
}

/* Strength order for gw_digest_pick; a -sess variant ranks with its base. */
static int rank(enum gw_digest_alg alg)
{
    switch (alg) {
    case GW_DIGEST_MD5:
    case GW_DIGEST_MD5_SESS:
        return 1;
    case GW_DIGEST_SHA256:
    case GW_DIGEST_SHA256_SESS:
        return 2;
    case GW_DIGEST_SHA512_256:
    case GW_DIGEST_SHA512_256_SESS:
        return 3;
    }
    return 0;
}

/* ---- Header syntax ---- */

static bool is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_lws(const char *p)
{
    while (is_lws(*p))
        p++;
    return p;
}

/* RFC 3261 token characters, without relying on the locale. */
static bool is_token_char(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-.!%*_+`'~", c) != NULL;
}

/* Control characters could split the header we write; horizontal tab is plain LWS. */
static bool is_ctl(char c)
{
    unsigned char u = (unsigned char)c;
    return (u < 0x20 && u != '\t') || u == 0x7f;
}

static bool span_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* Consumes the auth scheme "Digest" and the LWS after it. */
static int parse_scheme(const char **pp)
{
    const char *p = skip_lws(*pp);
    if (strncasecmp(p, "Digest", 6) != 0)
        return EINVAL;
    p += 6;
    if (*p != '\0' && !is_lws(*p))
        return EINVAL;
    *pp = p;
    return 0;
}

static int scan_quoted(const char **pp, struct param *pm)
{
    const char *p = *pp + 1;
    pm->val = p;
    while (*p != '"') {
        if (*p == '\0')
            return EINVAL;
        if (*p == '\\' && p[1] != '\0')
            p++;
        p++;
    }
    pm->val_len = (size_t)(p - pm->val);
    pm->quoted = true;
    *pp = p + 1;
    return 0;
}

/* Unquoted values are tokens by the grammar; servers also send nonces with '/' or '='. */
static int scan_bare(const char **pp, struct param *pm)
{
    const char *p = *pp;
    pm->val = p;
    while (*p != '\0' && *p != ',' && *p != '"' && !is_lws(*p))
        p++;
    pm->val_len = (size_t)(p - pm->val);
    pm->quoted = false;
    *pp = p;
    return pm->val_len == 0 ? EINVAL : 0;
}

/* Reads the next name=value pair, skipping empty list elements.
 * Returns 0, ENOENT at the end of the value, or EINVAL. */
static int next_param(const char **pp, struct param *pm)
{
    const char *p = skip_lws(*pp);
    while (*p == ',')
        p = skip_lws(p + 1);
    if (*p == '\0')
        return ENOENT;
    pm->name = p;
    while (is_token_char(*p))
        p++;
    pm->name_len = (size_t)(p - pm->name);
    p = skip_lws(p);
    if (pm->name_len == 0 || *p != '=')
        return EINVAL;
    p = skip_lws(p + 1);
    int err = *p == '"' ? scan_quoted(&p, pm) : scan_bare(&p, pm);
    if (err)
        return err;
    p = skip_lws(p);
    if (*p != ',' && *p != '\0')
        return EINVAL;
    *pp = p;
    return 0;
}

/* Copies the value, resolving quoted-pair escapes. Returns 0, EINVAL or EMSGSIZE. */
static int copy_value(const struct param *pm, char *dst, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < pm->val_len; i++) {
        char c = pm->val[i];
        if (pm->quoted && c == '\\')
            c = pm->val[++i];
        if (is_ctl(c))
            return EINVAL;
        if (n + 1 >= cap)
            return EMSGSIZE;
        dst[n++] = c;
    }
    dst[n] = '\0';
    return 0;
}

static int mark(unsigned *seen, unsigned bit)
{
    if (*seen & bit)
        return EINVAL;
    *seen |= bit;
    return 0;
}

/* Parses "Digest" and every parameter into obj: strings through tab, the rest through special.
 * Returns 0, EINVAL, EMSGSIZE or an error from special. */
static int parse_params(const char *value, const struct field *tab, size_t n, special_fn special,
                        void *obj, unsigned *seen, int *late)
{
    const char *p = value;
    int err = parse_scheme(&p);
    while (err == 0) {
        struct param pm;
        err = next_param(&p, &pm);
        if (err == ENOENT)
            return 0;
        if (err)
            break;
        const struct field *f = NULL;
        for (size_t i = 0; i < n && !f; i++) {
            if (span_is(pm.name, pm.name_len, tab[i].name))
                f = &tab[i];
        }
        if (!f) {
            err = special(&pm, obj, seen, late);
            continue;
        }
        err = mark(seen, f->bit);
        if (err == 0)
            err = copy_value(&pm, (char *)obj + f->off, f->cap);
    }
    return err;
}

static int parse_alg(const struct param *pm, enum gw_digest_alg *alg)
{
    for (size_t i = 0; i < sizeof(alg_table) / sizeof(alg_table[0]); i++) {
        if (span_is(pm->val, pm->val_len, alg_table[i].name)) {
            *alg = alg_table[i].alg;
            return 0;
        }
    }
    return ENOTSUP;
}

/* Turns a qop list ("auth, auth-int", quoted or not) into GW_DIGEST_QOP_* bits. */
static unsigned parse_qop_list(const struct param *pm)
{
    unsigned bits = 0;
    const char *p = pm->val, *end = pm->val + pm->val_len;
    while (p < end) {
        while (p < end && (is_lws(*p) || *p == ','))
            p++;
        const char *start = p;
        while (p < end && !is_lws(*p) && *p != ',')
            p++;
        if (span_is(start, (size_t)(p - start), "auth"))
            bits |= GW_DIGEST_QOP_AUTH;
        else if (span_is(start, (size_t)(p - start), "auth-int"))
            bits |= GW_DIGEST_QOP_AUTH_INT;
    }
    return bits;
}

static int challenge_special(const struct param *pm, void *obj, unsigned *seen, int *late)
{
    struct gw_digest_challenge *ch = obj;
    int err = 0;
    if (span_is(pm->name, pm->name_len, "algorithm")) {
        err = mark(seen, F_ALG);
        if (err == 0 && parse_alg(pm, &ch->alg) != 0)
            *late = ENOTSUP;
        ch->alg_given = true;
    } else if (span_is(pm->name, pm->name_len, "qop")) {
        err = mark(seen, F_QOP);
        ch->qop = parse_qop_list(pm);
        if (ch->qop == 0)
            *late = ENOTSUP;
    } else if (span_is(pm->name, pm->name_len, "stale")) {
        err = mark(seen, F_STALE);
        ch->stale = span_is(pm->val, pm->val_len, "true");
    } else if (span_is(pm->name, pm->name_len, "userhash")) {
        err = mark(seen, F_USERHASH);
        ch->userhash = span_is(pm->val, pm->val_len, "true");
    }
    return err;
}

int gw_digest_parse(const char *value, struct gw_digest_challenge *out)
{
    if (!value || !out)
        return EINVAL;
    struct gw_digest_challenge ch = {.alg = GW_DIGEST_MD5};
    unsigned seen = 0;
    int late = 0;
    int err = parse_params(value, challenge_fields,
                           sizeof(challenge_fields) / sizeof(challenge_fields[0]),
                           challenge_special, &ch, &seen, &late);
    if (err)
        return err;
    if (!(seen & F_REALM) || !(seen & F_NONCE) || ch.nonce[0] == '\0')
        return EINVAL;
    if (late)
        return late;
    ch.has_opaque = (seen & F_OPAQUE) != 0;
    *out = ch;
    return 0;
}

int gw_digest_pick(const char *const *values, size_t n, struct gw_digest_challenge *out)
{
    if (!values || !out)
        return EINVAL;
    struct gw_digest_challenge best = {0}, ch;
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (!values[i] || gw_digest_parse(values[i], &ch) != 0)
            continue;
        if (!found || rank(ch.alg) > rank(best.alg)) {
            best = ch;
            found = true;
        }
    }
    if (!found)
        return ENOTSUP;
    *out = best;
    return 0;
}

/* ---- Hashing ---- */

struct hasher {
    EVP_MD *md;
    EVP_MD_CTX *ctx;
};

static const char *md_name(enum gw_digest_alg alg)
{
    switch (alg) {
    case GW_DIGEST_MD5:
    case GW_DIGEST_MD5_SESS:
        return "MD5";
    case GW_DIGEST_SHA256:
    case GW_DIGEST_SHA256_SESS:
        return "SHA2-256";
    case GW_DIGEST_SHA512_256:
    case GW_DIGEST_SHA512_256_SESS:
        return "SHA2-512/256";
    }
    return NULL;
}

static int hasher_open(struct hasher *h, enum gw_digest_alg alg)
{
    const char *name = md_name(alg);
    if (!name)
        return EINVAL;
    h->md = EVP_MD_fetch(NULL, name, NULL);
    if (!h->md)
        return ENOTSUP;
    h->ctx = EVP_MD_CTX_new();
    return h->ctx ? 0 : ENOMEM;
}

static void hasher_close(struct hasher *h)
{
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_free(h->md);
    h->ctx = NULL;
    h->md = NULL;
}

static void to_hex(const unsigned char *raw, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[raw[i] >> 4];
        hex[2 * i + 1] = digits[raw[i] & 15u];
    }
    hex[2 * len] = '\0';
}

/* H(part[0] ":" part[1] ":" ...) in lower-case hex; one part may be raw bytes (the body). */
static int hash_join(struct hasher *h, const char *const *parts, size_t n, const void *raw,
                     size_t raw_len, char hex[GW_DIGEST_HEX_MAX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1)
        return EIO;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && EVP_DigestUpdate(h->ctx, ":", 1) != 1)
            return EIO;
        if (EVP_DigestUpdate(h->ctx, parts[i], strlen(parts[i])) != 1)
            return EIO;
    }
    if (raw_len > 0 && EVP_DigestUpdate(h->ctx, raw, raw_len) != 1)
        return EIO;
    if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || 2 * (size_t)len >= GW_DIGEST_HEX_MAX)
        return EIO;
    to_hex(md, len, hex);
    OPENSSL_cleanse(md, sizeof(md));
    return 0;
}

static const char *qop_name(enum gw_digest_qop qop)
{
    switch (qop) {
    case GW_DIGEST_QOP_NONE:
        return NULL;
    case GW_DIGEST_QOP_USE_AUTH:
        return "auth";
    case GW_DIGEST_QOP_USE_AUTH_INT:
        return "auth-int";
    }
    return NULL;
}

static bool input_ok(const struct gw_digest_input *in)
{
    if (!in->user || !in->realm || !in->password || !in->nonce || !in->method || !in->uri)
        return false;
    if (in->qop != GW_DIGEST_QOP_NONE && (!qop_name(in->qop) || !in->nc || !in->cnonce))
        return false;
    if (is_sess(in->alg) && !in->cnonce)
        return false;
    return in->body || in->body_len == 0;
}

/* HA1, then HA2 and the response, as in RFC 7616 §3.4.2/3.4.3. */
static int compute(struct hasher *h, const struct gw_digest_input *in, char ha1[GW_DIGEST_HEX_MAX],
                   char out[GW_DIGEST_HEX_MAX])
{
    char ha2[GW_DIGEST_HEX_MAX], hbody[GW_DIGEST_HEX_MAX];
    const char *a1[] = {in->user, in->realm, in->password};
    int err = hash_join(h, a1, 3, NULL, 0, ha1);
    if (err == 0 && is_sess(in->alg)) {
        const char *s1[] = {ha1, in->nonce, in->cnonce};
        err = hash_join(h, s1, 3, NULL, 0, ha1);
    }
    if (err)
        return err;
    const char *a2[] = {in->method, in->uri, hbody};
    size_t n2 = 2;
    if (in->qop == GW_DIGEST_QOP_USE_AUTH_INT) {
        err = hash_join(h, NULL, 0, in->body, in->body_len, hbody);
        n2 = 3;
    }
    if (err == 0)
        err = hash_join(h, a2, n2, NULL, 0, ha2);
    if (err)
        return err;
    if (in->qop == GW_DIGEST_QOP_NONE) {
        const char *r[] = {ha1, in->nonce, ha2};
        return hash_join(h, r, 3, NULL, 0, out);
    }
    const char *r[] = {ha1, in->nonce, in->nc, in->cnonce, qop_name(in->qop), ha2};
    return hash_join(h, r, 6, NULL, 0, out);
}

int gw_digest_response(const struct gw_digest_input *in, char hex[GW_DIGEST_HEX_MAX])
{
    if (!in || !hex || !input_ok(in))
        return EINVAL;
    struct hasher h = {0};
    char ha1[GW_DIGEST_HEX_MAX], out[GW_DIGEST_HEX_MAX];
    int err = hasher_open(&h, in->alg);
    if (err)
        goto out;
    err = compute(&h, in, ha1, out);
    if (err)
        goto out;
    memcpy(hex, out, sizeof(out));
out:
    OPENSSL_cleanse(ha1, sizeof(ha1));
    hasher_close(&h);
    return err;
}

/* RFC 7616 §3.4.4: username = H(user ":" realm) with the challenge's hash. */
static int user_hash(enum gw_digest_alg alg, const char *user, const char *realm,
                     char hex[GW_DIGEST_HEX_MAX])
{
    struct hasher h = {0};
    const char *parts[] = {user, realm};
    int err = hasher_open(&h, alg);
    if (err == 0)
        err = hash_join(&h, parts, 2, NULL, 0, hex);
    hasher_close(&h);
    return err;
}

/* ---- Writing the Authorization value ---- */

/* Bounded appender; the first error sticks. */
struct sbuf {
    char *p;
    size_t cap;
    size_t len;
    unsigned params;
    int err;
};

static void put_char(struct sbuf *b, char c)
{
    if (b->err)
        return;
    if (b->len + 1 >= b->cap) {
        b->err = EMSGSIZE;
        return;
    }
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

static void put_str(struct sbuf *b, const char *s)
{
    for (; *s != '\0' && !b->err; s++)
        put_char(b, *s);
}

/* Appends `, name=value`, quoting and escaping value when asked. */
static void put_param(struct sbuf *b, const char *name, const char *val, bool quote)
{
    if (b->params++ > 0)
        put_str(b, ", ");
    put_str(b, name);
    put_char(b, '=');
    if (quote)
        put_char(b, '"');
    for (const char *s = val; *s != '\0' && !b->err; s++) {
        if (is_ctl(*s) || (!quote && (*s == '"' || *s == ',' || is_lws(*s))))
            b->err = EINVAL;
        else if (quote && (*s == '"' || *s == '\\'))
            put_char(b, '\\');
        put_char(b, *s);
    }
    if (quote)
        put_char(b, '"');
}

static int make_cnonce(const char *given, char cn[GW_DIGEST_CNONCE_MAX])
{
    if (given) {
        size_t len = strlen(given);
        if (len == 0)
            return EINVAL;
        if (len >= GW_DIGEST_CNONCE_MAX)
            return EMSGSIZE;
        memcpy(cn, given, len + 1);
        return 0;
    }
    unsigned char rnd[16];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return EIO;
    to_hex(rnd, sizeof(rnd), cn);
    return 0;
}

static enum gw_digest_qop choose_qop(unsigned offered)
{
    if (offered & GW_DIGEST_QOP_AUTH)
        return GW_DIGEST_QOP_USE_AUTH;
    if (offered & GW_DIGEST_QOP_AUTH_INT)
        return GW_DIGEST_QOP_USE_AUTH_INT;
    return GW_DIGEST_QOP_NONE;
}

/* Writes the value for computed fields; in carries everything except the username to send. */
static int write_answer(struct sbuf *b, const struct gw_digest_challenge *ch,
                        const struct gw_digest_input *in, const char *username,
                        const char *response)
{
    put_str(b, "Digest ");
    put_param(b, "username", username, true);
    put_param(b, "realm", ch->realm, true);
    put_param(b, "nonce", ch->nonce, true);
    put_param(b, "uri", in->uri, true);
    put_param(b, "response", response, true);
    if (ch->alg_given || ch->alg != GW_DIGEST_MD5)
        put_param(b, "algorithm", gw_digest_alg_name(ch->alg), false);
    if (in->cnonce)
        put_param(b, "cnonce", in->cnonce, true);
    if (ch->has_opaque)
        put_param(b, "opaque", ch->opaque, true);
    if (in->qop != GW_DIGEST_QOP_NONE) {
        put_param(b, "qop", qop_name(in->qop), false);
        put_param(b, "nc", in->nc, false);
    }
    if (ch->userhash)
        put_param(b, "userhash", "true", false);
    return b->err;
}

int gw_digest_answer(const struct gw_digest_challenge *ch, const struct gw_digest_creds *cr,
                     const char *method, const char *uri, const void *body, size_t body_len,
                     const char *cnonce, unsigned nc, char *out, size_t outlen)
{
    if (!ch || !cr || !cr->user || !cr->password || !method || !uri || !out)
        return EINVAL;
    enum gw_digest_qop qop = choose_qop(ch->qop);
    if (method[0] == '\0' || uri[0] == '\0' || (qop != GW_DIGEST_QOP_NONE && nc == 0))
        return EINVAL;
    for (const char *m = method; *m != '\0'; m++) {
        if (!is_token_char(*m))
            return EINVAL;
    }
    char cn[GW_DIGEST_CNONCE_MAX], ncs[GW_DIGEST_NC_MAX], resp[GW_DIGEST_HEX_MAX];
    char uh[GW_DIGEST_HEX_MAX], buf[GW_DIGEST_ANSWER_MAX];
    int err = make_cnonce(cnonce, cn);
    if (err)
        return err;
    int n = snprintf(ncs, sizeof(ncs), "%08x", nc);
    if (n < 0 || (size_t)n >= sizeof(ncs))
        return EINVAL;
    bool with_cnonce = qop != GW_DIGEST_QOP_NONE || is_sess(ch->alg);
    struct gw_digest_input in = {
        .alg = ch->alg,
        .qop = qop,
        .user = cr->user,
        .realm = ch->realm,
        .password = cr->password,
        .nonce = ch->nonce,
        .cnonce = with_cnonce ? cn : NULL,
        .nc = ncs,
        .method = method,
        .uri = uri,
        .body = body,
        .body_len = body_len,
    };
    err = gw_digest_response(&in, resp);
    if (err == 0 && ch->userhash)
        err = user_hash(ch->alg, cr->user, ch->realm, uh);
    if (err)
        return err;
    struct sbuf b = {.p = buf, .cap = sizeof(buf)};
    err = write_answer(&b, ch, &in, ch->userhash ? uh : cr->user, resp);
    if (err)
        return err;
    if (b.len >= outlen)
        return EMSGSIZE;
    memcpy(out, buf, b.len + 1);
    return 0;
}

/* ---- Checking a received Authorization value ---- */

static int authorization_special(const struct param *pm, void *obj, unsigned *seen, int *late)
{
    struct gw_digest_authorization *au = obj;
    int err = 0;
    if (span_is(pm->name, pm->name_len, "algorithm")) {
        err = mark(seen, F_ALG);
        if (err == 0 && parse_alg(pm, &au->alg) != 0)
            *late = ENOTSUP;
    } else if (span_is(pm->name, pm->name_len, "qop")) {
        err = mark(seen, F_QOP);
        if (span_is(pm->val, pm->val_len, "auth"))
            au->qop = GW_DIGEST_QOP_USE_AUTH;
        else if (span_is(pm->val, pm->val_len, "auth-int"))
            au->qop = GW_DIGEST_QOP_USE_AUTH_INT;
        else
            *late = ENOTSUP;
    } else if (span_is(pm->name, pm->name_len, "userhash")) {
        err = mark(seen, F_USERHASH);
        au->userhash = span_is(pm->val, pm->val_len, "true");
    }
    return err;
}

int gw_digest_parse_authorization(const char *value, struct gw_digest_authorization *out)
{
    if (!value || !out)
        return EINVAL;
    static const unsigned needed = F_USERNAME | F_REALM | F_NONCE | F_URI | F_RESPONSE;
    struct gw_digest_authorization au = {.alg = GW_DIGEST_MD5};
    unsigned seen = 0;
    int late = 0;
    int err = parse_params(value, authorization_fields,
                           sizeof(authorization_fields) / sizeof(authorization_fields[0]),
                           authorization_special, &au, &seen, &late);
    if (err)
        return err;
    if ((seen & needed) != needed)
        return EINVAL;
    if ((seen & F_QOP) && (!(seen & F_CNONCE) || !(seen & F_NC)))
        return EINVAL;
    if (late)
        return late;
    au.has_opaque = (seen & F_OPAQUE) != 0;
    *out = au;
    return 0;
}

/* Constant-time comparison of two hex strings, ignoring the case of the letters. */
static bool hex_equal(const char *a, const char *b)
{
    size_t len = strlen(a);
    if (len != strlen(b) || len >= GW_DIGEST_HEX_MAX)
        return false;
    char la[GW_DIGEST_HEX_MAX], lb[GW_DIGEST_HEX_MAX];
    for (size_t i = 0; i < len; i++) {
        la[i] = (char)(a[i] | (a[i] >= 'A' && a[i] <= 'F' ? 0x20 : 0));
        lb[i] = (char)(b[i] | (b[i] >= 'A' && b[i] <= 'F' ? 0x20 : 0));
    }
    return CRYPTO_memcmp(la, lb, len) == 0;
}

int gw_digest_verify(const struct gw_digest_authorization *au, const struct gw_digest_creds *cr,
                     const char *method, const void *body, size_t body_len)
{
    if (!au || !cr || !cr->user || !cr->password || !method)
        return EINVAL;
    char hex[GW_DIGEST_HEX_MAX] = {0};
    int err = 0;
    if (au->userhash) {
        err = user_hash(au->alg, cr->user, au->realm, hex);
        if (err)
            return err;
        if (!hex_equal(hex, au->username))
            return EACCES;
    } else if (strcmp(au->username, cr->user) != 0) {
        return EACCES;
    }
    struct gw_digest_input in = {
        .alg = au->alg,
        .qop = au->qop,
        .user = cr->user,
        .realm = au->realm,
        .password = cr->password,
        .nonce = au->nonce,
        .cnonce = au->cnonce,
        .nc = au->nc,
        .method = method,
        .uri = au->uri,
        .body = body,
        .body_len = body_len,
    };
    err = gw_digest_response(&in, hex);
    if (err)
        return err;
    return hex_equal(hex, au->response) ? 0 : EACCES;
}
