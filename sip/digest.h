/* SIP digest authentication (RFC 2617, RFC 7616, RFC 8760) computed with OpenSSL: parses
 * WWW-/Proxy-Authenticate challenges, picks the strongest one, writes the Authorization value,
 * and checks a received Authorization value. Sofia-SIP 1.12 cannot answer SHA-256 or
 * SHA-512-256 challenges, so the SIP thread answers those with this module. No Sofia types, no
 * heap buffers of its own (OpenSSL allocates its digest context), no shared state: every
 * function may be called from any thread. */
#ifndef GW_SIP_DIGEST_H
#define GW_SIP_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/log.h"

/* Buffer sizes, each including the terminating NUL. */
#define GW_DIGEST_REALM_MAX  128
#define GW_DIGEST_NONCE_MAX  256
#define GW_DIGEST_OPAQUE_MAX 256
#define GW_DIGEST_CNONCE_MAX 128
#define GW_DIGEST_USER_MAX   128
#define GW_DIGEST_URI_MAX    1024
#define GW_DIGEST_NC_MAX     16
#define GW_DIGEST_HEX_MAX    65 /* longest hash in hex (SHA-256, SHA-512-256) and NUL */
/* Ample room for a header value written by gw_digest_answer. */
#define GW_DIGEST_ANSWER_MAX 2048

enum gw_digest_alg {
    GW_DIGEST_MD5 = 0, /* also the default when a challenge names no algorithm */
    GW_DIGEST_MD5_SESS,
    GW_DIGEST_SHA256,
    GW_DIGEST_SHA256_SESS,
    GW_DIGEST_SHA512_256, /* FIPS 180-4 SHA-512/256, not a cut SHA-512 */
    GW_DIGEST_SHA512_256_SESS,
};

/* Bits of gw_digest_challenge.qop. */
#define GW_DIGEST_QOP_AUTH     1u
#define GW_DIGEST_QOP_AUTH_INT 2u

/* The quality of protection used in one response. */
enum gw_digest_qop {
    GW_DIGEST_QOP_NONE = 0, /* RFC 2069 form, no cnonce or nc */
    GW_DIGEST_QOP_USE_AUTH,
    GW_DIGEST_QOP_USE_AUTH_INT, /* the message body is hashed too */
};

/* One parsed Digest challenge. Strings are unquoted and unescaped. */
struct gw_digest_challenge {
    enum gw_digest_alg alg;
    bool alg_given; /* the challenge named the algorithm, so the answer echoes it */
    unsigned qop;   /* GW_DIGEST_QOP_* bits offered; 0 when the challenge has no qop */
    bool stale;
    bool userhash; /* RFC 7616: send username = H(user ":" realm) and userhash=true */
    bool has_opaque;
    char realm[GW_DIGEST_REALM_MAX];
    char nonce[GW_DIGEST_NONCE_MAX];
    char opaque[GW_DIGEST_OPAQUE_MAX];
};

/* Credentials; both strings are borrowed and may contain any byte but NUL (':' included). */
struct gw_digest_creds {
    const char *user;
    const char *password;
};

/* Every field that goes into one response hash; all strings borrowed, used exactly as given.
 * cnonce and nc may be NULL when qop is GW_DIGEST_QOP_NONE (cnonce is still needed by the
 * -sess algorithms). body may be NULL when body_len is 0. */
struct gw_digest_input {
    enum gw_digest_alg alg;
    enum gw_digest_qop qop;
    const char *user; /* the real user name, also when userhash is in use */
    const char *realm;
    const char *password;
    const char *nonce;
    const char *cnonce;
    const char *nc; /* as sent, normally 8 hex digits */
    const char *method;
    const char *uri;
    const void *body;
    size_t body_len;
};

/* One parsed Authorization or Proxy-Authorization value (what a UAC sent). */
struct gw_digest_authorization {
    enum gw_digest_alg alg;
    enum gw_digest_qop qop;
    bool userhash;
    bool has_opaque;
    char username[GW_DIGEST_USER_MAX];
    char realm[GW_DIGEST_REALM_MAX];
    char nonce[GW_DIGEST_NONCE_MAX];
    char uri[GW_DIGEST_URI_MAX];
    char response[GW_DIGEST_HEX_MAX];
    char cnonce[GW_DIGEST_CNONCE_MAX];
    char nc[GW_DIGEST_NC_MAX];
    char opaque[GW_DIGEST_OPAQUE_MAX];
};

/* The algorithm token as sent on the wire ("SHA-256-sess"); "?" for a value out of range. */
const char *gw_digest_alg_name(enum gw_digest_alg alg);

/* Parses one WWW-Authenticate or Proxy-Authenticate header value (without the header name),
 * such as `Digest realm="x", nonce="y", qop="auth,auth-int", algorithm=SHA-256`. Parameter
 * names and tokens are case-insensitive; quoted and unquoted values, escapes and any spacing
 * are accepted; unknown parameters are ignored. Borrows value; writes *out on success only.
 * Returns 0; EINVAL for another scheme, bad syntax, a repeated parameter, a control character
 * or a missing realm or nonce; EMSGSIZE when a field exceeds its buffer; ENOTSUP for an
 * unknown algorithm or a qop list with neither auth nor auth-int. */
int gw_digest_parse(const char *value, struct gw_digest_challenge *out) GW_MUST_CHECK;

/* Chooses among several challenge values (one per header) the strongest one this module can
 * answer: SHA-512-256 > SHA-256 > MD5, a -sess variant ranking with its base, the first one
 * winning a tie (RFC 8760 lists them in order of preference). Values that fail to parse are
 * skipped. Borrows values; writes *out on success only. Returns 0, EINVAL (NULL values) or
 * ENOTSUP (no usable Digest challenge). */
int gw_digest_pick(const char *const *values, size_t n,
                   struct gw_digest_challenge *out) GW_MUST_CHECK;

/* Writes into hex (lower-case, NUL-terminated) the response for the given fields.
 * Borrows everything; writes hex on success only. Returns 0, EINVAL (a missing field),
 * ENOTSUP (hash not available from OpenSSL, e.g. MD5 in FIPS mode), ENOMEM or EIO (another
 * OpenSSL failure). */
int gw_digest_response(const struct gw_digest_input *in, char hex[GW_DIGEST_HEX_MAX]) GW_MUST_CHECK;

/* Writes the complete Authorization / Proxy-Authorization header value answering ch:
 * `Digest username="..", realm="..", nonce="..", uri="..", response="..", algorithm=..,
 * cnonce="..", opaque="..", qop=auth, nc=00000001`. qop=auth is preferred, auth-int is used
 * only when it is the only option offered (then body is hashed); a challenge without qop gets
 * the RFC 2069 form. cnonce NULL means 16 random bytes in hex; the caller counts nc (from 1
 * per nonce). uri is the Request-URI exactly as sent. Borrows every pointer; writes out only
 * on success. Returns 0; EINVAL (a NULL or empty argument, nc 0 with qop, a control character
 * in a field, or body NULL with body_len > 0); EMSGSIZE (outlen too small); EIO (no
 * randomness); ENOTSUP, ENOMEM or EIO from hashing. */
int gw_digest_answer(const struct gw_digest_challenge *ch, const struct gw_digest_creds *cr,
                     const char *method, const char *uri, const void *body, size_t body_len,
                     const char *cnonce, unsigned nc, char *out, size_t outlen) GW_MUST_CHECK;

/* Parses an Authorization / Proxy-Authorization value (without the header name) with the same
 * syntax rules as gw_digest_parse. Borrows value; writes *out on success only. Returns 0;
 * EINVAL (another scheme, bad syntax, a missing username, realm, nonce, uri or response, or
 * qop without cnonce or nc); EMSGSIZE; ENOTSUP (unknown algorithm or qop). */
int gw_digest_parse_authorization(const char *value,
                                  struct gw_digest_authorization *out) GW_MUST_CHECK;

/* Recomputes the response of au from its own fields (realm, nonce, uri, qop, nc, cnonce,
 * algorithm) with the given credentials, method and body, and compares it in constant time.
 * With userhash the username must equal H(user ":" realm), otherwise the user itself.
 * Borrows everything. Returns 0 on a match, EACCES on a mismatch (user or response), EINVAL,
 * ENOTSUP, ENOMEM or EIO. */
int gw_digest_verify(const struct gw_digest_authorization *au, const struct gw_digest_creds *cr,
                     const char *method, const void *body, size_t body_len) GW_MUST_CHECK;

#endif
