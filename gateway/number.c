/* Phone numbers: turns what API clients type into E.164, and expands the operator's
 * Request-URI template. Both refuse anything that could smuggle SIP syntax (CR, LF, "<", ";",
 * "@", a "sip:" prefix) into the headers built from their output. */
#include "gateway/number.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define IN_MAX     64 /* longest input accepted, in bytes */
#define DIGITS_MIN 8
#define DIGITS_MAX 15
#define CC_MAX     3 /* E.164 country codes have 1 to 3 digits */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_separator(char c)
{
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/';
}

/* Copies the digits of in to digits, dropping separators. *plus tells whether in starts with
 * "+". Any other character, or a "+" further in, makes the whole input invalid. */
static int strip(const char *in, size_t len, char *digits, size_t *ndigits, bool *plus)
{
    size_t n = 0;

    *plus = len > 0 && in[0] == '+';
    for (size_t i = *plus ? 1 : 0; i < len; i++) {
        if (is_digit(in[i]))
            digits[n++] = in[i];
        else if (!is_separator(in[i]))
            return EINVAL;
    }
    *ndigits = n;
    return 0;
}

/* Checks a configured default country code ("49" or "+49") and returns its digits in cc. */
static int check_cc(const char *default_cc, const char **cc, size_t *cclen)
{
    const char *p = default_cc[0] == '+' ? default_cc + 1 : default_cc;
    size_t n = strnlen(p, CC_MAX + 1);

    if (n == 0 || n > CC_MAX || p[0] == '0')
        return EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return EINVAL;
    }
    *cc = p;
    *cclen = n;
    return 0;
}

static bool is_nanp(const char *default_cc)
{
    return default_cc != NULL && (strcmp(default_cc, "1") == 0 || strcmp(default_cc, "+1") == 0);
}

/* For digits dialled without "+": how many leading digits are a dialling prefix (*skip) and
 * which country code replaces them (*cc, *cclen; empty when the country code follows). */
static int read_prefix(const char *d, size_t n, const char *default_cc, size_t *skip,
                       const char **cc, size_t *cclen)
{
    *cc = "";
    *cclen = 0;
    if (n >= 2 && d[0] == '0' && d[1] == '0') {
        *skip = 2;
        return 0;
    }
    if (n >= 3 && is_nanp(default_cc) && memcmp(d, "011", 3) == 0) {
        *skip = 3;
        return 0;
    }
    if (n >= 1 && d[0] == '0') {
        /* a trunk prefix: a national number, which needs a configured country */
        if (default_cc == NULL || default_cc[0] == '\0')
            return EINVAL;
        *skip = 1;
        return check_cc(default_cc, cc, cclen);
    }
    return EINVAL; /* bare digits: international or national cannot be told apart */
}

int gw_number_normalize(const char *in, const char *default_cc, char out[GW_E164_LEN])
{
    char digits[IN_MAX];
    const char *cc = "";
    size_t len, n, skip = 0, cclen = 0;
    bool plus;
    int err;

    if (in == NULL || out == NULL)
        return EINVAL;
    len = strnlen(in, IN_MAX + 1);
    if (len == 0 || len > IN_MAX)
        return EINVAL;
    err = strip(in, len, digits, &n, &plus);
    if (err)
        return err;
    if (!plus) {
        err = read_prefix(digits, n, default_cc, &skip, &cc, &cclen);
        if (err)
            return err;
    }
    const char *national = digits + skip;
    size_t nlen = n - skip;
    size_t total = cclen + nlen;
    if (total < DIGITS_MIN || total > DIGITS_MAX)
        return EINVAL;
    if ((cclen > 0 ? cc[0] : national[0]) == '0')
        return EINVAL; /* no country code starts with 0 */
    out[0] = '+';
    memcpy(out + 1, cc, cclen);
    memcpy(out + 1 + cclen, national, nlen);
    out[1 + total] = '\0';
    return 0;
}

static bool is_e164(const char *s)
{
    size_t n = 0;

    if (s[0] != '+' || s[1] == '0')
        return false;
    for (s++; *s != '\0'; s++, n++) {
        if (!is_digit(*s) || n >= DIGITS_MAX)
            return false;
    }
    return n >= DIGITS_MIN;
}

/* A host, IPv4/IPv6 literal and optional port: nothing that could end the URI or add
 * parameters, headers or another user part. */
static bool is_hostport(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (; *s != '\0'; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
                  c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
        if (!ok)
            return false;
    }
    return true;
}

/* A URI byte that is safe inside a SIP header: printable ASCII, and none of the characters
 * that end a name-addr or a quoted string. */
static bool is_uri_char(char c)
{
    unsigned char u = (unsigned char)c;

    return u > 0x20 && u < 0x7f && c != '<' && c != '>' && c != '"';
}

struct expansion {
    char *dst; /* NULL while measuring */
    size_t cap;
    size_t len;
    char last; /* the byte emitted last */
    bool bad;  /* a byte that must not appear in a URI */
};

static void emit(struct expansion *x, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_uri_char(s[i]))
            x->bad = true;
        if (x->dst != NULL && x->len < x->cap)
            x->dst[x->len] = s[i];
        x->last = s[i];
        x->len++;
    }
}

/* Expands one "{name}" placeholder; name is not NUL-terminated. */
static int expand_one(struct expansion *x, const char *name, size_t n, const char *e164,
                      const char *domain, bool *has_number)
{
    if (n == 4 && memcmp(name, "e164", 4) == 0) {
        if (x->last == '+')
            return EINVAL; /* "+{e164}" would give "++": {e164} has its own "+" */
        emit(x, e164, strlen(e164));
        *has_number = true;
    } else if (n == 6 && memcmp(name, "digits", 6) == 0) {
        emit(x, e164 + 1, strlen(e164 + 1));
        *has_number = true;
    } else if (n == 6 && memcmp(name, "domain", 6) == 0) {
        if (domain == NULL || !is_hostport(domain))
            return EINVAL;
        emit(x, domain, strlen(domain));
    } else {
        return EINVAL;
    }
    return 0;
}

/* Walks the template once, writing into x->dst when it is set. */
static int expand(struct expansion *x, const char *tmpl, const char *e164, const char *domain)
{
    bool has_number = false;
    const char *p = tmpl;

    while (*p != '\0') {
        if (*p == '}')
            return EINVAL;
        if (*p != '{') {
            emit(x, p++, 1);
            continue;
        }
        const char *end = strchr(p + 1, '}');
        const char *open = strchr(p + 1, '{');
        if (end == NULL || (open != NULL && open < end))
            return EINVAL;
        int err = expand_one(x, p + 1, (size_t)(end - p - 1), e164, domain, &has_number);
        if (err)
            return err;
        p = end + 1;
    }
    /* a template without the number would send every message to one fixed address */
    return has_number && !x->bad ? 0 : EINVAL;
}

/* The scheme must be literal template text, not something a placeholder produced. */
static bool has_scheme(const char *tmpl)
{
    static const char *const schemes[] = {"sip:", "sips:", "tel:"};

    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strncasecmp(tmpl, schemes[i], strlen(schemes[i])) == 0)
            return true;
    }
    return false;
}

int gw_number_format_uri(const char *tmpl, const char *e164, const char *domain, char *out,
                         size_t outlen)
{
    struct expansion x = {0};
    int err;

    if (tmpl == NULL || e164 == NULL || out == NULL || !is_e164(e164) || !has_scheme(tmpl))
        return EINVAL;
    /* measure and validate first, so that out is only written on success */
    err = expand(&x, tmpl, e164, domain);
    if (err)
        return err;
    if (x.len >= outlen)
        return EMSGSIZE;
    x = (struct expansion){.dst = out, .cap = outlen};
    err = expand(&x, tmpl, e164, domain);
    if (err)
        return err;
    out[x.len] = '\0';
    return 0;
}
