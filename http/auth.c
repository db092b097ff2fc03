/* API key check (OpenSSL SHA-256 and CRYPTO_memcmp). A caller learns only yes or no: every
 * failure looks the same. */
#include "http/auth.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

bool gw_auth_required(const struct gw_config *cfg)
{
    return cfg->api.nkeys > 0;
}

int gw_auth_sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return EIO;
    memcpy(out, md, 32);
    OPENSSL_cleanse(md, sizeof(md));
    return 0;
}

/* Finds the token of "Bearer <token>": the scheme is case-insensitive, then one or more
 * spaces, then a token without spaces or control characters. */
static bool bearer_token(const char *h, const char **tok, size_t *len)
{
    static const char scheme[] = "bearer";
    if (!h || strncasecmp(h, scheme, sizeof(scheme) - 1) != 0)
        return false;
    const char *p = h + sizeof(scheme) - 1;
    if (*p != ' ')
        return false;
    while (*p == ' ')
        p++;
    size_t n = 0;
    while (p[n] != '\0' && p[n] != ' ') {
        unsigned char c = (unsigned char)p[n];
        if (c < 0x21 || c > 0x7e || n >= GW_AUTH_MAX_KEY)
            return false;
        n++;
    }
    for (size_t i = n; p[i] != '\0'; i++) {
        if (p[i] != ' ')
            return false;
    }
    if (n == 0)
        return false;
    *tok = p;
    *len = n;
    return true;
}

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15u];
    }
    out[2 * n] = '\0';
}

bool gw_auth_check(const struct gw_config *cfg, const char *authorization)
{
    if (!gw_auth_required(cfg))
        return true;
    const char *tok = NULL;
    size_t len = 0;
    if (!bearer_token(authorization, &tok, &len))
        return false;
    unsigned char md[32];
    char hex[65];
    if (gw_auth_sha256(tok, len, md) != 0)
        return false;
    to_hex(md, sizeof(md), hex);
    int match = 0;
    unsigned nkeys = cfg->api.nkeys < GW_CFG_MAX_KEYS ? cfg->api.nkeys : GW_CFG_MAX_KEYS;
    for (unsigned i = 0; i < nkeys; i++) {
        char want[65];
        /* The configured hash may be written in upper case. */
        for (size_t j = 0; j < sizeof(want); j++)
            want[j] = (char)tolower((unsigned char)cfg->api.keys[i][j]);
        want[64] = '\0';
        match |= CRYPTO_memcmp(hex, want, 64) == 0;
    }
    OPENSSL_cleanse(md, sizeof(md));
    OPENSSL_cleanse(hex, sizeof(hex));
    return match != 0;
}

int gw_auth_new_key(char key[GW_AUTH_NEW_KEY_LEN], char hash[65])
{
    unsigned char raw[32], md[32];
    unsigned char b64[48]; /* EVP_EncodeBlock writes 44 characters and a NUL */
    char k[GW_AUTH_NEW_KEY_LEN];
    int err = EIO;
    if (RAND_bytes(raw, sizeof(raw)) != 1 || EVP_EncodeBlock(b64, raw, sizeof(raw)) != 44)
        goto out;
    for (size_t i = 0; i < GW_AUTH_NEW_KEY_LEN - 1; i++) /* base64 to base64url, no '=' */
        k[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    k[GW_AUTH_NEW_KEY_LEN - 1] = '\0';
    if (gw_auth_sha256(k, GW_AUTH_NEW_KEY_LEN - 1, md) != 0)
        goto out;
    memcpy(key, k, sizeof(k));
    to_hex(md, sizeof(md), hash);
    err = 0;
out:
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(b64, sizeof(b64));
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(md, sizeof(md));
    return err;
}
