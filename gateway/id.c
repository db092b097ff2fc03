/* ULID-style ids with OpenSSL randomness. */
#include "gateway/id.h"

#include <errno.h>
#include <string.h>

#include <openssl/rand.h>

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int gw_id_new(int64_t ms, char out[GW_ID_LEN])
{
    unsigned char rnd[10];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return EIO;
    uint64_t t = (uint64_t)ms;
    /* 10 characters of time (50 bits, top 2 always 0), then 16 of randomness (80 bits). */
    for (int i = 9; i >= 0; i--) {
        out[i] = alphabet[t & 31u];
        t >>= 5;
    }
    unsigned acc = 0, bits = 0;
    int pos = 10;
    for (size_t i = 0; i < sizeof(rnd); i++) {
        acc = (acc << 8) | rnd[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[pos++] = alphabet[(acc >> bits) & 31u];
        }
    }
    out[26] = '\0';
    return 0;
}

bool gw_id_valid(const char *s)
{
    if (strlen(s) != 26)
        return false;
    for (size_t i = 0; i < 26; i++) {
        if (!strchr(alphabet, s[i]) || s[i] == '\0')
            return false;
    }
    return true;
}
