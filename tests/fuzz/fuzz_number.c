/* libFuzzer target for gateway/number.c. Input: one byte choosing the default country code,
 * then the number, a NUL, and a URI template. An accepted number must be E.164 and normalise
 * to itself; an expanded URI must be safe to put into a SIP header. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/number.h"

#define FIELD_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok)
{
    if (!ok)
        abort();
}

static void check_e164(const char *e164)
{
    size_t n = strlen(e164);

    require(n >= 9 && n <= 16 && e164[0] == '+' && e164[1] != '0');
    for (size_t i = 1; i < n; i++)
        require(isdigit((unsigned char)e164[i]));
}

static void check_number(const char *in, const char *cc, char out[GW_E164_LEN])
{
    char again[GW_E164_LEN];

    require(strlen(in) <= 64);
    check_e164(out);
    for (const char *p = in; *p != '\0'; p++)
        require(isdigit((unsigned char)*p) || strchr("+ -.()/", *p) != NULL);
    require(gw_number_normalize(out, cc, again) == 0 && strcmp(again, out) == 0);
}

static void check_uri(const char *tmpl, const char *e164, const char *domain)
{
    char out[FIELD_MAX * 4];
    int err = gw_number_format_uri(tmpl, e164, domain, out, sizeof(out));

    require(err == 0 || err == EINVAL || err == EMSGSIZE);
    if (err != 0)
        return;
    size_t len = strlen(out);
    require(strncasecmp(out, "sip:", 4) == 0 || strncasecmp(out, "sips:", 5) == 0 ||
            strncasecmp(out, "tel:", 4) == 0);
    require(strstr(out, e164 + 1) != NULL);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        require(c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"');
    }
    /* exactly len + 1 bytes are enough, len are not */
    char *tight = malloc(len + 1);
    require(tight != NULL);
    require(gw_number_format_uri(tmpl, e164, domain, tight, len) == EMSGSIZE);
    require(gw_number_format_uri(tmpl, e164, domain, tight, len + 1) == 0);
    require(strcmp(tight, out) == 0);
    free(tight);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ccs[] = {NULL, "", "49", "1", "+44", "999", "0", "4x"};
    char number[FIELD_MAX] = "", tmpl[FIELD_MAX] = "";
    char e164[GW_E164_LEN];

    if (size < 1)
        return 0;
    const char *cc = ccs[data[0] % (sizeof(ccs) / sizeof(ccs[0]))];
    const uint8_t *p = data + 1;
    size_t rest = size - 1;
    const uint8_t *nul = memchr(p, '\0', rest);
    size_t nlen = nul != NULL ? (size_t)(nul - p) : rest;
    if (nlen >= FIELD_MAX)
        return 0;
    memcpy(number, p, nlen);
    if (nul != NULL) {
        size_t tlen = rest - nlen - 1;
        if (tlen >= FIELD_MAX)
            return 0;
        memcpy(tmpl, nul + 1, tlen); /* an embedded NUL just ends it early */
    }
    int err = gw_number_normalize(number, cc, e164);
    require(err == 0 || err == EINVAL);
    if (err == 0)
        check_number(number, cc, e164);
    else
        memcpy(e164, "+4917612345678", sizeof("+4917612345678"));
    check_uri(tmpl, e164, "ims.op.example");
    check_uri(tmpl, e164, number); /* the number bytes as a hostile domain */
    return 0;
}
