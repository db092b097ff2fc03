/* Unit tests for sip/digest: published and recomputed response vectors, challenge parsing,
 * picking the strongest challenge, the Authorization value and its round trip through
 * gw_digest_parse_authorization and gw_digest_verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sip/digest.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static void check_str(const char *row, const char *got, const char *want)
{
    if (strcmp(got, want) != 0) {
        print_error("%s:\n  got  %s\n  want %s\n", row, got, want);
        fail();
    }
}

static void check_int(const char *row, int got, int want)
{
    if (got != want) {
        print_error("%s: got %d, want %d\n", row, got, want);
        fail();
    }
}

/* ---- Response vectors ---- */

struct vec {
    const char *name;
    enum gw_digest_alg alg;
    enum gw_digest_qop qop;
    const char *user, *realm, *password, *method, *uri, *nonce, *nc, *cnonce, *body;
    const char *want;
};

#define RFC2617                                                                                    \
    "Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",                    \
        "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b"
#define RFC7616                                                                                    \
    "Mufasa", "http-auth@example.org", "Circle of Life", "GET", "/dir/index.html",                 \
        "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",                                \
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define SIP_REG                                                                                    \
    "alice", "example.net", "s3cr3t", "REGISTER", "sip:example.net", "abc123nonce", "00000001",    \
        "0a4f113b"
#define SIP_MSG                                                                                    \
    "alice", "example.net", "s3cr3t", "MESSAGE", "sip:+4917612345678@example.net;user=phone",      \
        "abc123nonce", "00000002", "0a4f113b"
#define SIP_COLON                                                                                  \
    "alice", "example.net", "s3cr:et", "MESSAGE", "sip:bob@example.net", "abc123nonce",            \
        "00000001", "0a4f113b"

/* Rows marked "openssl dgst" were derived by chaining `printf '%s' "$x" | openssl dgst -<hash>`
 * through HA1, HA2 and the response by hand (and agree with Python's hashlib). */
static const struct vec vectors[] = {
    /* protocol.md §2.4, RFC 2617 §3.5 and its variants */
    {"rfc2617 md5 auth", GW_DIGEST_MD5, GW_DIGEST_QOP_USE_AUTH, RFC2617, NULL,
     "6629fae49393a05397450978507c4ef1"},
    {"rfc2617 md5 no qop", GW_DIGEST_MD5, GW_DIGEST_QOP_NONE, RFC2617, NULL,
     "670fd8c2df070c60b045671b8b24ff02"},
    {"rfc2617 md5-sess", GW_DIGEST_MD5_SESS, GW_DIGEST_QOP_USE_AUTH, RFC2617, NULL,
     "8e3825c57e897f5a0dec6c2d4e5059d0"},
    /* RFC 7616 §3.9.1 */
    {"rfc7616 md5", GW_DIGEST_MD5, GW_DIGEST_QOP_USE_AUTH, RFC7616, NULL,
     "8ca523f5e9506fed4657c9700eebdbec"},
    {"rfc7616 sha-256", GW_DIGEST_SHA256, GW_DIGEST_QOP_USE_AUTH, RFC7616, NULL,
     "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
    {"rfc7616 md5-sess", GW_DIGEST_MD5_SESS, GW_DIGEST_QOP_USE_AUTH, RFC7616, NULL,
     "e783283f46242139c486a698fec7211d"},
    {"rfc7616 sha-256-sess", GW_DIGEST_SHA256_SESS, GW_DIGEST_QOP_USE_AUTH, RFC7616, NULL,
     "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7"},
    /* RFC 7616 §3.9.2 inputs with real SHA-512/256 (protocol.md: the printed RFC value is
     * wrong) */
    {"rfc7616 sha-512-256", GW_DIGEST_SHA512_256, GW_DIGEST_QOP_USE_AUTH, "J\xc3\xa4s\xc3\xb8n Doe",
     "api@example.org", "Secret, or not?", "GET", "/doe.json",
     "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", "00000001",
     "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", NULL,
     "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"},
    /* protocol.md §2.4 SIP-shaped vectors */
    {"sip md5", GW_DIGEST_MD5, GW_DIGEST_QOP_USE_AUTH, SIP_REG, NULL,
     "af8953676ca3601fd5c44c834685cc29"},
    {"sip sha-256", GW_DIGEST_SHA256, GW_DIGEST_QOP_USE_AUTH, SIP_REG, NULL,
     "84da8a98dcabc716d56c4fcb20745acf514a2b742f807d58984f993ea2888ace"},
    {"sip sha-512-256", GW_DIGEST_SHA512_256, GW_DIGEST_QOP_USE_AUTH, SIP_REG, NULL,
     "c38fc520ab15e97e2be2e2b9f86422467fdafeb47c8f98436e41a35e6908624d"},
    {"sip md5-sess", GW_DIGEST_MD5_SESS, GW_DIGEST_QOP_USE_AUTH, SIP_REG, NULL,
     "94dd2e72db981f8af917739b384d514d"},
    {"sip md5 no qop", GW_DIGEST_MD5, GW_DIGEST_QOP_NONE, SIP_REG, NULL,
     "077c401f2214ae2010f25f25403511ed"},
    {"sip md5 auth-int hello", GW_DIGEST_MD5, GW_DIGEST_QOP_USE_AUTH_INT, SIP_MSG, "hello",
     "c9b61df963bd939e805e9e5a693ce3cb"},
    {"sip md5 auth-int empty", GW_DIGEST_MD5, GW_DIGEST_QOP_USE_AUTH_INT, SIP_MSG, "",
     "6e09c1f8d9707b63767a8e13ad0b9682"},
    /* openssl dgst */
    {"sip sha-512-256-sess", GW_DIGEST_SHA512_256_SESS, GW_DIGEST_QOP_USE_AUTH, SIP_REG, NULL,
     "f72bac078774272716a71620194b41cb13e2627e018783fe43ad112406cd21b7"},
    {"sip sha-256 auth-int hello", GW_DIGEST_SHA256, GW_DIGEST_QOP_USE_AUTH_INT, SIP_MSG, "hello",
     "76df4e1136845db59fe78408a857872fc2138548d7eab5be73fe7f1e70a41774"},
    {"sip sha-512-256 auth-int empty", GW_DIGEST_SHA512_256, GW_DIGEST_QOP_USE_AUTH_INT, SIP_MSG,
     "", "5e6112bfcbcb5c77ac048369590d370722e839fda0237f70fdb7a402cfae74ad"},
    {"sip sha-256 no qop", GW_DIGEST_SHA256, GW_DIGEST_QOP_NONE, SIP_REG, NULL,
     "c22529bb50b90a6f9eb903569830c0f38e96bd442ad6552faac689df17394f34"},
    {"password with colon md5", GW_DIGEST_MD5, GW_DIGEST_QOP_USE_AUTH, SIP_COLON, NULL,
     "dfce70846dc789ab0bc12be3de754e74"},
    {"password with colon sha-256", GW_DIGEST_SHA256, GW_DIGEST_QOP_USE_AUTH, SIP_COLON, NULL,
     "ad394c24770b816f4ef828f211908cd57d6467b08d80424c87a0b38114d7e746"},
};

static struct gw_digest_input vec_input(const struct vec *v)
{
    struct gw_digest_input in = {
        .alg = v->alg,
        .qop = v->qop,
        .user = v->user,
        .realm = v->realm,
        .password = v->password,
        .nonce = v->nonce,
        .cnonce = v->cnonce,
        .nc = v->nc,
        .method = v->method,
        .uri = v->uri,
        .body = v->body,
        .body_len = v->body ? strlen(v->body) : 0,
    };
    return in;
}

static void test_response_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(vectors); i++) {
        struct gw_digest_input in = vec_input(&vectors[i]);
        char hex[GW_DIGEST_HEX_MAX] = "";
        check_int(vectors[i].name, gw_digest_response(&in, hex), 0);
        check_str(vectors[i].name, hex, vectors[i].want);
    }
}

static void test_response_bad_input(void **state)
{
    (void)state;
    struct gw_digest_input base = vec_input(&vectors[0]);
    struct gw_digest_input in;
    char hex[GW_DIGEST_HEX_MAX] = "unchanged";
    in = base;
    in.nonce = NULL;
    assert_int_equal(gw_digest_response(&in, hex), EINVAL);
    in = base;
    in.nc = NULL; /* qop needs nc */
    assert_int_equal(gw_digest_response(&in, hex), EINVAL);
    in = base;
    in.alg = GW_DIGEST_MD5_SESS;
    in.qop = GW_DIGEST_QOP_NONE;
    in.cnonce = NULL; /* -sess needs cnonce even without qop */
    assert_int_equal(gw_digest_response(&in, hex), EINVAL);
    in = base;
    in.qop = GW_DIGEST_QOP_USE_AUTH_INT;
    in.body_len = 3; /* body NULL */
    assert_int_equal(gw_digest_response(&in, hex), EINVAL);
    in = base;
    in.alg = (enum gw_digest_alg)42;
    assert_int_equal(gw_digest_response(&in, hex), EINVAL);
    assert_int_equal(gw_digest_response(NULL, hex), EINVAL);
    assert_string_equal(hex, "unchanged");
}

/* ---- Challenge parsing ---- */

struct parse_row {
    const char *name;
    const char *value;
    int err;
    enum gw_digest_alg alg;
    bool alg_given;
    unsigned qop;
    bool stale, userhash, has_opaque;
    const char *realm, *nonce, *opaque;
};

#define A  GW_DIGEST_QOP_AUTH
#define AI GW_DIGEST_QOP_AUTH_INT
#define ERR(n, v, e)                                                                               \
    {                                                                                              \
        n, v, e, GW_DIGEST_MD5, false, 0, false, false, false, NULL, NULL, NULL                    \
    }

static const struct parse_row parse_rows[] = {
    {"plain", "Digest realm=\"r\", nonce=\"n\"", 0, GW_DIGEST_MD5, false, 0, false, false, false,
     "r", "n", ""},
    {"full",
     "Digest realm=\"sms.example.net\", nonce=\"y\", qop=\"auth,auth-int\", "
     "algorithm=SHA-256, stale=true, opaque=\"z\"",
     0, GW_DIGEST_SHA256, true, A | AI, true, false, true, "sms.example.net", "y", "z"},
    {"messy",
     "  digest   REALM = \"a b\" ,NONCE=abc/def==,  qop = \" auth-int , auth \","
     "algorithm=sha-512-256-SESS , Stale = TRUE, OPAQUE=\"q\\\"u\\\\o\", "
     "domain=\"sip:x\", charset=UTF-8",
     0, GW_DIGEST_SHA512_256_SESS, true, A | AI, true, false, true, "a b", "abc/def==", "q\"u\\o"},
    {"tabs and folding", "Digest\trealm=\"r\",\r\n nonce=\"n\",\talgorithm=MD5-sess", 0,
     GW_DIGEST_MD5_SESS, true, 0, false, false, false, "r", "n", ""},
    {"empty elements", "Digest ,realm=r,, nonce=\"n\" ,, qop=auth,", 0, GW_DIGEST_MD5, false, A,
     false, false, false, "r", "n", ""},
    {"quoted algorithm", "Digest realm=\"r\", nonce=\"n\", algorithm=\"sha-256\"", 0,
     GW_DIGEST_SHA256, true, 0, false, false, false, "r", "n", ""},
    {"userhash, stale false", "Digest realm=\"r\", nonce=\"n\", userhash=true, stale=FALSE", 0,
     GW_DIGEST_MD5, false, 0, false, true, false, "r", "n", ""},
    {"auth-int only", "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"", 0, GW_DIGEST_MD5, false,
     AI, false, false, false, "r", "n", ""},
    {"unknown qop next to auth", "Digest realm=\"r\", nonce=\"n\", qop=\"auth-conf,auth\"", 0,
     GW_DIGEST_MD5, false, A, false, false, false, "r", "n", ""},
    {"empty realm and opaque", "Digest realm=\"\", nonce=\"n\", opaque=\"\"", 0, GW_DIGEST_MD5,
     false, 0, false, false, true, "", "n", ""},
    ERR("basic", "Basic realm=\"r\"", EINVAL),
    ERR("scheme prefix only", "DigestX realm=\"r\", nonce=\"n\"", EINVAL),
    ERR("empty", "", EINVAL),
    ERR("scheme alone", "Digest", EINVAL),
    ERR("missing nonce", "Digest realm=\"r\", qop=\"auth\"", EINVAL),
    ERR("missing realm", "Digest nonce=\"n\"", EINVAL),
    ERR("empty nonce", "Digest realm=\"r\", nonce=\"\"", EINVAL),
    ERR("unknown algorithm", "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1", ENOTSUP),
    ERR("sha-512 is not sha-512-256", "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512",
        ENOTSUP),
    ERR("unknown algorithm, no nonce", "Digest realm=\"r\", algorithm=SHA-1", EINVAL),
    ERR("only unknown qop", "Digest realm=\"r\", nonce=\"n\", qop=\"auth-conf\"", ENOTSUP),
    ERR("unterminated quote", "Digest realm=\"r, nonce=\"n\"", EINVAL),
    ERR("escaped last quote", "Digest realm=\"r\\\", nonce=n", EINVAL),
    ERR("repeated realm", "Digest realm=\"r\", nonce=\"n\", realm=\"s\"", EINVAL),
    ERR("CR in quoted value", "Digest realm=\"r\rX\", nonce=\"n\"", EINVAL),
    ERR("escaped LF", "Digest realm=\"r\\\nX\", nonce=\"n\"", EINVAL),
    ERR("no equals", "Digest realm \"r\", nonce=\"n\"", EINVAL),
    ERR("junk after value", "Digest realm=\"r\"x, nonce=\"n\"", EINVAL),
    ERR("missing comma", "Digest realm=\"r\" nonce=\"n\"", EINVAL),
    ERR("empty bare value", "Digest realm=, nonce=\"n\"", EINVAL),
};

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(parse_rows); i++) {
        const struct parse_row *r = &parse_rows[i];
        struct gw_digest_challenge ch;
        memset(&ch, 0xa5, sizeof(ch));
        int err = gw_digest_parse(r->value, &ch);
        check_int(r->name, err, r->err);
        if (err) {
            check_int(r->name, ch.realm[0], (char)0xa5); /* untouched on failure */
            continue;
        }
        check_int(r->name, (int)ch.alg, (int)r->alg);
        check_int(r->name, ch.alg_given, r->alg_given);
        check_int(r->name, (int)ch.qop, (int)r->qop);
        check_int(r->name, ch.stale, r->stale);
        check_int(r->name, ch.userhash, r->userhash);
        check_int(r->name, ch.has_opaque, r->has_opaque);
        check_str(r->name, ch.realm, r->realm);
        check_str(r->name, ch.nonce, r->nonce);
        if (r->has_opaque)
            check_str(r->name, ch.opaque, r->opaque);
    }
}

/* A realm of n characters, in a challenge. */
static int parse_with_realm_len(size_t n, struct gw_digest_challenge *ch)
{
    char realm[GW_DIGEST_REALM_MAX + 8];
    char value[GW_DIGEST_REALM_MAX + 64];
    assert_true(n < sizeof(realm));
    memset(realm, 'x', n);
    realm[n] = '\0';
    int len = snprintf(value, sizeof(value), "Digest realm=\"%s\", nonce=\"n\"", realm);
    assert_true(len > 0 && (size_t)len < sizeof(value));
    return gw_digest_parse(value, ch);
}

static void test_parse_caps(void **state)
{
    (void)state;
    struct gw_digest_challenge ch;
    assert_int_equal(parse_with_realm_len(GW_DIGEST_REALM_MAX - 1, &ch), 0);
    assert_int_equal(strlen(ch.realm), GW_DIGEST_REALM_MAX - 1);
    assert_int_equal(parse_with_realm_len(GW_DIGEST_REALM_MAX, &ch), EMSGSIZE);

    char value[GW_DIGEST_NONCE_MAX + 64];
    char nonce[GW_DIGEST_NONCE_MAX + 1];
    memset(nonce, 'n', GW_DIGEST_NONCE_MAX);
    nonce[GW_DIGEST_NONCE_MAX] = '\0';
    int len = snprintf(value, sizeof(value), "Digest realm=r, nonce=%s", nonce);
    assert_true(len > 0 && (size_t)len < sizeof(value));
    assert_int_equal(gw_digest_parse(value, &ch), EMSGSIZE);
    /* Escapes count once: 127 escaped characters fill the realm exactly. */
    char esc[2 * GW_DIGEST_REALM_MAX + 64];
    size_t pos = (size_t)snprintf(esc, sizeof(esc), "Digest nonce=n, realm=\"");
    for (size_t i = 0; i < GW_DIGEST_REALM_MAX - 1; i++) {
        esc[pos++] = '\\';
        esc[pos++] = 'e';
    }
    memcpy(esc + pos, "\"", 2);
    assert_int_equal(gw_digest_parse(esc, &ch), 0);
    assert_int_equal(strlen(ch.realm), GW_DIGEST_REALM_MAX - 1);
    assert_int_equal(gw_digest_parse(NULL, &ch), EINVAL);
}

/* ---- Picking among several challenges ---- */

#define CH_MD5     "Digest realm=\"r\", nonce=\"md5\", qop=\"auth\""
#define CH_MD5S    "Digest realm=\"r\", nonce=\"md5s\", algorithm=MD5-sess, qop=\"auth\""
#define CH_SHA     "Digest realm=\"r\", nonce=\"sha\", algorithm=SHA-256, qop=\"auth\""
#define CH_SHAS    "Digest realm=\"r\", nonce=\"shas\", algorithm=SHA-256-sess, qop=\"auth\""
#define CH_512S    "Digest realm=\"r\", nonce=\"512s\", algorithm=SHA-512-256-sess"
#define CH_SHA1    "Digest realm=\"r\", nonce=\"sha1\", algorithm=SHA-1"
#define CH_BASIC   "Basic realm=\"r\""
#define CH_NOREALM "Digest nonce=\"x\", algorithm=SHA-512-256"

struct pick_row {
    const char *name;
    const char *values[4];
    size_t n;
    int err;
    const char *nonce;
};

static const struct pick_row pick_rows[] = {
    {"md5, sha-256", {CH_MD5, CH_SHA}, 2, 0, "sha"},
    {"sha-256, md5", {CH_SHA, CH_MD5}, 2, 0, "sha"},
    {"all three", {CH_MD5, CH_512S, CH_SHA}, 3, 0, "512s"},
    {"sha-512-256 beats sha-256", {CH_SHA, CH_512S}, 2, 0, "512s"},
    {"sha-256 beats md5-sess", {CH_MD5S, CH_SHAS}, 2, 0, "shas"},
    {"tie: first wins", {CH_SHAS, CH_SHA}, 2, 0, "shas"},
    {"tie: first wins, md5", {CH_MD5, CH_MD5S}, 2, 0, "md5"},
    {"unknown skipped", {CH_SHA1, CH_MD5}, 2, 0, "md5"},
    {"basic and broken skipped", {CH_BASIC, CH_NOREALM, NULL, CH_MD5S}, 4, 0, "md5s"},
    {"unknown only", {CH_SHA1}, 1, ENOTSUP, NULL},
    {"nothing usable", {CH_BASIC, CH_NOREALM}, 2, ENOTSUP, NULL},
    {"empty list", {NULL}, 0, ENOTSUP, NULL},
};

static void test_pick_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(pick_rows); i++) {
        const struct pick_row *r = &pick_rows[i];
        struct gw_digest_challenge ch = {.nonce = "untouched"};
        check_int(r->name, gw_digest_pick(r->values, r->n, &ch), r->err);
        check_str(r->name, ch.nonce, r->err ? "untouched" : r->nonce);
    }
    struct gw_digest_challenge ch;
    assert_int_equal(gw_digest_pick(NULL, 1, &ch), EINVAL);
}

/* ---- The Authorization value ---- */

static void parse_ok(const char *value, struct gw_digest_challenge *ch)
{
    assert_int_equal(gw_digest_parse(value, ch), 0);
}

static void test_answer_rfc2617(void **state)
{
    (void)state;
    struct gw_digest_challenge ch;
    parse_ok("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
             "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
             "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
             &ch);
    struct gw_digest_creds cr = {"Mufasa", "Circle Of Life"};
    char out[GW_DIGEST_ANSWER_MAX];
    assert_int_equal(gw_digest_answer(&ch, &cr, "GET", "/dir/index.html", NULL, 0, "0a4f113b", 1,
                                      out, sizeof(out)),
                     0);
    assert_string_equal(out, "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                             "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                             "uri=\"/dir/index.html\", "
                             "response=\"6629fae49393a05397450978507c4ef1\", "
                             "cnonce=\"0a4f113b\", "
                             "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001");
}

struct answer_row {
    const char *name;
    const char *challenge;
    const char *user, *password, *method, *uri, *body;
    unsigned nc;
    const char *want;
};

static const struct answer_row answer_rows[] = {
    {"sha-256 register",
     "Digest realm=\"example.net\", nonce=\"abc123nonce\", algorithm=SHA-256, "
     "qop=\"auth\"",
     "alice", "s3cr3t", "REGISTER", "sip:example.net", NULL, 1,
     "Digest username=\"alice\", realm=\"example.net\", nonce=\"abc123nonce\", "
     "uri=\"sip:example.net\", "
     "response=\"84da8a98dcabc716d56c4fcb20745acf514a2b742f807d58984f993ea2888ace\", "
     "algorithm=SHA-256, cnonce=\"0a4f113b\", qop=auth, nc=00000001"},
    {"auth-int only hashes the body",
     "Digest realm=example.net, nonce=abc123nonce, "
     "qop=\"auth-int\", algorithm=MD5",
     "alice", "s3cr3t", "MESSAGE", "sip:+4917612345678@example.net;user=phone", "hello", 2,
     "Digest username=\"alice\", realm=\"example.net\", nonce=\"abc123nonce\", "
     "uri=\"sip:+4917612345678@example.net;user=phone\", "
     "response=\"c9b61df963bd939e805e9e5a693ce3cb\", algorithm=MD5, cnonce=\"0a4f113b\", "
     "qop=auth-int, nc=00000002"},
    {"no qop: RFC 2069 form", "Digest realm=\"example.net\", nonce=\"abc123nonce\"", "alice",
     "s3cr3t", "REGISTER", "sip:example.net", NULL, 1,
     "Digest username=\"alice\", realm=\"example.net\", nonce=\"abc123nonce\", "
     "uri=\"sip:example.net\", response=\"077c401f2214ae2010f25f25403511ed\""},
    {"userhash sha-512-256",
     "Digest realm=\"api@example.org\", qop=\"auth\", "
     "algorithm=SHA-512-256, "
     "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
     "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", "
     "userhash=true",
     "J\xc3\xa4s\xc3\xb8n Doe", "Secret, or not?", "GET", "/doe.json", NULL, 1,
     "Digest username=\"793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b\", "
     "realm=\"api@example.org\", nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
     "uri=\"/doe.json\", "
     "response=\"3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5\", "
     "algorithm=SHA-512-256, cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", "
     "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", qop=auth, nc=00000001, "
     "userhash=true"},
    {"password with colon", "Digest realm=\"example.net\", nonce=\"abc123nonce\", qop=auth",
     "alice", "s3cr:et", "MESSAGE", "sip:bob@example.net", NULL, 1,
     "Digest username=\"alice\", realm=\"example.net\", nonce=\"abc123nonce\", "
     "uri=\"sip:bob@example.net\", response=\"dfce70846dc789ab0bc12be3de754e74\", "
     "cnonce=\"0a4f113b\", qop=auth, nc=00000001"},
};

static void test_answer_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(answer_rows); i++) {
        const struct answer_row *r = &answer_rows[i];
        struct gw_digest_challenge ch;
        check_int(r->name, gw_digest_parse(r->challenge, &ch), 0);
        struct gw_digest_creds cr = {r->user, r->password};
        const char *cnonce =
            ch.userhash ? "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v" : "0a4f113b";
        char out[GW_DIGEST_ANSWER_MAX] = "";
        int err = gw_digest_answer(&ch, &cr, r->method, r->uri, r->body,
                                   r->body ? strlen(r->body) : 0, cnonce, r->nc, out, sizeof(out));
        check_int(r->name, err, 0);
        check_str(r->name, out, r->want);
    }
}

static void test_answer_random_cnonce(void **state)
{
    (void)state;
    struct gw_digest_challenge ch;
    parse_ok("Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=SHA-256", &ch);
    struct gw_digest_creds cr = {"u", "p"};
    char a[GW_DIGEST_ANSWER_MAX], b[GW_DIGEST_ANSWER_MAX];
    assert_int_equal(
        gw_digest_answer(&ch, &cr, "MESSAGE", "sip:x@y", NULL, 0, NULL, 7, a, sizeof(a)), 0);
    assert_int_equal(
        gw_digest_answer(&ch, &cr, "MESSAGE", "sip:x@y", NULL, 0, NULL, 7, b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    struct gw_digest_authorization au;
    assert_int_equal(gw_digest_parse_authorization(a, &au), 0);
    assert_int_equal(strlen(au.cnonce), 32);
    assert_int_equal(strspn(au.cnonce, "0123456789abcdef"), 32);
    assert_string_equal(au.nc, "00000007");
    assert_int_equal(gw_digest_verify(&au, &cr, "MESSAGE", NULL, 0), 0);
}

static void test_answer_errors(void **state)
{
    (void)state;
    struct gw_digest_challenge ch, noqop, authint;
    parse_ok("Digest realm=\"r\", nonce=\"n\", qop=auth", &ch);
    parse_ok("Digest realm=\"r\", nonce=\"n\"", &noqop);
    parse_ok("Digest realm=\"r\", nonce=\"n\", qop=auth-int", &authint);
    struct gw_digest_creds cr = {"u", "p"};
    char out[GW_DIGEST_ANSWER_MAX] = "untouched";
    assert_int_equal(gw_digest_answer(&ch, &cr, "MESSAGE", "sip:x", NULL, 0, "c", 0, out, 100),
                     EINVAL); /* nc starts at 1 */
    assert_int_equal(
        gw_digest_answer(&noqop, &cr, "MESSAGE", "sip:x", NULL, 0, "c", 0, out, sizeof(out)),
        0); /* nc unused without qop */
    snprintf(out, sizeof(out), "untouched");
    assert_int_equal(gw_digest_answer(&ch, &cr, "MES SAGE", "sip:x", NULL, 0, "c", 1, out, 100),
                     EINVAL);
    assert_int_equal(gw_digest_answer(&ch, &cr, "", "sip:x", NULL, 0, "c", 1, out, 100), EINVAL);
    assert_int_equal(
        gw_digest_answer(&ch, &cr, "MESSAGE", "sip:x\r\nX: y", NULL, 0, "c", 1, out, 100), EINVAL);
    assert_int_equal(gw_digest_answer(&ch, &cr, "MESSAGE", "sip:x", NULL, 0, "", 1, out, 100),
                     EINVAL);
    assert_int_equal(gw_digest_answer(&authint, &cr, "MESSAGE", "sip:x", NULL, 5, "c", 1, out, 100),
                     EINVAL);
    struct gw_digest_creds nouser = {NULL, "p"};
    assert_int_equal(gw_digest_answer(&ch, &nouser, "MESSAGE", "sip:x", NULL, 0, "c", 1, out, 100),
                     EINVAL);
    assert_string_equal(out, "untouched");
}

static void test_answer_outlen(void **state)
{
    (void)state;
    struct gw_digest_challenge ch;
    parse_ok("Digest realm=\"r\", nonce=\"n\", qop=auth", &ch);
    struct gw_digest_creds cr = {"u", "p"};
    char full[GW_DIGEST_ANSWER_MAX], out[GW_DIGEST_ANSWER_MAX];
    assert_int_equal(
        gw_digest_answer(&ch, &cr, "MESSAGE", "sip:x", NULL, 0, "c", 1, full, sizeof(full)), 0);
    size_t len = strlen(full);
    snprintf(out, sizeof(out), "untouched");
    assert_int_equal(gw_digest_answer(&ch, &cr, "MESSAGE", "sip:x", NULL, 0, "c", 1, out, len),
                     EMSGSIZE);
    assert_string_equal(out, "untouched");
    assert_int_equal(gw_digest_answer(&ch, &cr, "MESSAGE", "sip:x", NULL, 0, "c", 1, out, len + 1),
                     0);
    assert_string_equal(out, full);
    /* A URI longer than any value we write. */
    char uri[GW_DIGEST_ANSWER_MAX + 16];
    memset(uri, 'u', sizeof(uri) - 1);
    uri[sizeof(uri) - 1] = '\0';
    assert_int_equal(gw_digest_answer(&ch, &cr, "MESSAGE", uri, NULL, 0, "c", 1, out, sizeof(out)),
                     EMSGSIZE);
}

/* ---- Round trips through the verifier's parser ---- */

static const enum gw_digest_alg all_algs[] = {
    GW_DIGEST_MD5,         GW_DIGEST_MD5_SESS,   GW_DIGEST_SHA256,
    GW_DIGEST_SHA256_SESS, GW_DIGEST_SHA512_256, GW_DIGEST_SHA512_256_SESS,
};
static const char *const qop_params[] = {"", ", qop=\"auth,auth-int\"", ", qop=\"auth-int\""};

/* Builds one challenge for alg and qop variant q, answers it and checks the verifier. */
static void round_trip(enum gw_digest_alg alg, size_t q, bool userhash)
{
    char value[256], row[96];
    int n = snprintf(value, sizeof(value),
                     "Digest realm=\"sms \\\"edge\\\"\", nonce=\"n/1+=\", opaque=\"o\"%s, "
                     "algorithm=%s%s",
                     qop_params[q], gw_digest_alg_name(alg), userhash ? ", userhash=true" : "");
    assert_true(n > 0 && (size_t)n < sizeof(value));
    snprintf(row, sizeof(row), "%s qop#%zu userhash=%d", gw_digest_alg_name(alg), q, userhash);
    struct gw_digest_challenge ch;
    check_int(row, gw_digest_parse(value, &ch), 0);
    struct gw_digest_creds cr = {"al\"ice\\", "pa:ss:word"};
    static const char body[] = "\x00\x01hello";
    char out[GW_DIGEST_ANSWER_MAX];
    check_int(row,
              gw_digest_answer(&ch, &cr, "MESSAGE", "sip:+4917612345678@example.net", body,
                               sizeof(body) - 1, NULL, 3, out, sizeof(out)),
              0);
    struct gw_digest_authorization au;
    check_int(row, gw_digest_parse_authorization(out, &au), 0);
    check_int(row, (int)au.alg, (int)alg);
    check_str(row, au.realm, "sms \"edge\"");
    check_str(row, au.opaque, "o");
    check_str(row, au.uri, "sip:+4917612345678@example.net");
    if (!userhash)
        check_str(row, au.username, "al\"ice\\");
    check_int(row, gw_digest_verify(&au, &cr, "MESSAGE", body, sizeof(body) - 1), 0);

    struct gw_digest_creds bad_pw = {cr.user, "pa:ss:wore"};
    struct gw_digest_creds bad_user = {"alice", cr.password};
    check_int(row, gw_digest_verify(&au, &bad_pw, "MESSAGE", body, sizeof(body) - 1), EACCES);
    check_int(row, gw_digest_verify(&au, &bad_user, "MESSAGE", body, sizeof(body) - 1), EACCES);
    check_int(row, gw_digest_verify(&au, &cr, "REGISTER", body, sizeof(body) - 1), EACCES);
    int body_err = au.qop == GW_DIGEST_QOP_USE_AUTH_INT ? EACCES : 0;
    check_int(row, gw_digest_verify(&au, &cr, "MESSAGE", "hello", 5), body_err);
    /* The response hashes the real user, so a changed username field must be caught apart. */
    au.username[0] = au.username[0] == 'a' ? 'b' : 'a';
    check_int(row, gw_digest_verify(&au, &cr, "MESSAGE", body, sizeof(body) - 1), EACCES);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t a = 0; a < N_ELEM(all_algs); a++) {
        for (size_t q = 0; q < N_ELEM(qop_params); q++) {
            round_trip(all_algs[a], q, false);
            round_trip(all_algs[a], q, true);
        }
    }
}

struct auth_row {
    const char *name;
    const char *value;
    int err;
};

static const struct auth_row auth_rows[] = {
    {"minimal", "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"ab\"",
     0},
    {"missing response", "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\"", EINVAL},
    {"qop without nc",
     "Digest username=u, realm=r, nonce=n, uri=\"sip:x\", response=ab, qop=auth, "
     "cnonce=c",
     EINVAL},
    {"unknown qop",
     "Digest username=u, realm=r, nonce=n, uri=\"sip:x\", response=ab, "
     "qop=auth-conf, cnonce=c, nc=00000001",
     ENOTSUP},
    {"unknown algorithm",
     "Digest username=u, realm=r, nonce=n, uri=\"sip:x\", response=ab, "
     "algorithm=SHA-1",
     ENOTSUP},
    {"response too long",
     "Digest username=u, realm=r, nonce=n, uri=\"sip:x\", "
     "response=0123456789012345678901234567890123456789012345678901234567890"
     "1234",
     EMSGSIZE},
    {"not digest", "Basic dTpw", EINVAL},
};

static void test_parse_authorization(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(auth_rows); i++) {
        struct gw_digest_authorization au;
        check_int(auth_rows[i].name, gw_digest_parse_authorization(auth_rows[i].value, &au),
                  auth_rows[i].err);
    }
    /* A peer's upper-case hex response still matches. */
    struct gw_digest_authorization au;
    assert_int_equal(gw_digest_parse_authorization(
                         "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                         "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
                         "qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
                         "response=\"6629FAE49393A05397450978507C4EF1\"",
                         &au),
                     0);
    struct gw_digest_creds cr = {"Mufasa", "Circle Of Life"};
    assert_int_equal(gw_digest_verify(&au, &cr, "GET", NULL, 0), 0);
    cr.password = "Circle of Life";
    assert_int_equal(gw_digest_verify(&au, &cr, "GET", NULL, 0), EACCES);
}

static void test_alg_name(void **state)
{
    (void)state;
    assert_string_equal(gw_digest_alg_name(GW_DIGEST_SHA512_256_SESS), "SHA-512-256-sess");
    assert_string_equal(gw_digest_alg_name(GW_DIGEST_MD5), "MD5");
    assert_string_equal(gw_digest_alg_name((enum gw_digest_alg)99), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response_vectors), cmocka_unit_test(test_response_bad_input),
        cmocka_unit_test(test_parse_table),      cmocka_unit_test(test_parse_caps),
        cmocka_unit_test(test_pick_table),       cmocka_unit_test(test_answer_rfc2617),
        cmocka_unit_test(test_answer_table),     cmocka_unit_test(test_answer_random_cnonce),
        cmocka_unit_test(test_answer_errors),    cmocka_unit_test(test_answer_outlen),
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_parse_authorization),
        cmocka_unit_test(test_alg_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
