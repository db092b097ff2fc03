/* Idempotency-Key syntax and the canonical request fingerprint. */
#include "http/idem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

int gw_idem_key(const char *header, char out[GW_IDEM_KEY_LEN], struct gw_problem *err)
{
    if (!header) {
        out[0] = '\0';
        return 0;
    }
    size_t len = strlen(header);
    if (len == 0 || len >= GW_IDEM_KEY_LEN) {
        gw_problem_set(err, GW_PROB_INVALID_IDEMPOTENCY_KEY, NULL,
                       "Idempotency-Key must be 1 to %d characters long", GW_IDEM_KEY_LEN - 1);
        return EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)header[i];
        if (c < 0x20 || c > 0x7e) {
            gw_problem_set(err, GW_PROB_INVALID_IDEMPOTENCY_KEY, NULL,
                           "Idempotency-Key may hold printable ASCII characters only");
            return EINVAL;
        }
    }
    memcpy(out, header, len + 1);
    return 0;
}

static int put(EVP_MD_CTX *ctx, const char *s, size_t len)
{
    char head[32];
    int n = snprintf(head, sizeof(head), "%zu:", len);
    if (n < 0 || (size_t)n >= sizeof(head))
        return EIO;
    if (EVP_DigestUpdate(ctx, head, (size_t)n) != 1 || EVP_DigestUpdate(ctx, s, len) != 1 ||
        EVP_DigestUpdate(ctx, ";", 1) != 1)
        return EIO;
    return 0;
}

int gw_idem_fingerprint(struct gw_msg_new *m)
{
    char validity[24];
    int n = snprintf(validity, sizeof(validity), "%" PRId64, m->validity_s);
    if (n < 0 || (size_t)n >= sizeof(validity))
        return EIO;
    int err = EIO;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    if (put(ctx, m->to, strlen(m->to)) || put(ctx, m->from, strlen(m->from)) ||
        put(ctx, m->text, m->text_len) || put(ctx, m->reference, strlen(m->reference)) ||
        put(ctx, validity, (size_t)n))
        goto out;
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != sizeof(m->fingerprint))
        goto out;
    memcpy(m->fingerprint, md, sizeof(m->fingerprint));
    err = 0;
out:
    EVP_MD_CTX_free(ctx);
    return err;
}
