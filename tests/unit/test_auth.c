/* Tests for http/auth.c (API keys, reliability.md §5.1 rows 6-8, the loopback rule and new
 * keys for --hash-key) and http/idem.c (Idempotency-Key syntax, row 5, and the request
 * fingerprint). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/config.h"
#include "gateway/store.h"
#include "http/auth.h"
#include "http/idem.h"

/* sha256("smsgw_k1_secret") and sha256("smsgw_k2_other"), from sha256sum. */
#define HASH1 "0d6e69e6b6ee8e8fac3e2e7fb26b7914a47c769761a4c29fcd3cd9f54fc32ea8"
#define HASH2 "344AE9DE7F2FC9FBA78C1FAB24B912F64C98B9218971FF0082D58B383AA8D75A"

static struct gw_config cfg;

static int setup(void **state)
{
    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.api.keys[0], sizeof(cfg.api.keys[0]), "%s", HASH1);
    snprintf(cfg.api.keys[1], sizeof(cfg.api.keys[1]), "%s", HASH2);
    cfg.api.nkeys = 2;
    return 0;
}

static void right_keys(void **state)
{
    (void)state;
    assert_true(gw_auth_required(&cfg));
    assert_true(gw_auth_check(&cfg, "Bearer smsgw_k1_secret"));
    assert_true(gw_auth_check(&cfg, "bearer smsgw_k1_secret"));
    assert_true(gw_auth_check(&cfg, "BEARER   smsgw_k1_secret  "));
    /* a second key, configured in upper-case hex */
    assert_true(gw_auth_check(&cfg, "Bearer smsgw_k2_other"));
}

static void wrong_keys(void **state)
{
    (void)state;
    assert_false(gw_auth_check(&cfg, NULL));
    assert_false(gw_auth_check(&cfg, ""));
    assert_false(gw_auth_check(&cfg, "Bearer"));
    assert_false(gw_auth_check(&cfg, "Bearer "));
    assert_false(gw_auth_check(&cfg, "Bearer smsgw_k1_secreT"));
    assert_false(gw_auth_check(&cfg, "Bearer smsgw_k1_secret2"));
    assert_false(gw_auth_check(&cfg, "Bearer smsgw_k1 secret"));
    assert_false(gw_auth_check(&cfg, "Bearersmsgw_k1_secret"));
    assert_false(gw_auth_check(&cfg, "Basic c21zZ3c6c21zZ3dfazFfc2VjcmV0"));
    assert_false(gw_auth_check(&cfg, "Token smsgw_k1_secret"));
    assert_false(gw_auth_check(&cfg, "smsgw_k1_secret"));
    /* the hash itself is not a key */
    assert_false(gw_auth_check(&cfg, "Bearer " HASH1));
    /* a removed key no longer works */
    cfg.api.nkeys = 1;
    assert_false(gw_auth_check(&cfg, "Bearer smsgw_k2_other"));
    assert_true(gw_auth_check(&cfg, "Bearer smsgw_k1_secret"));
}

static void long_token(void **state)
{
    (void)state;
    char h[GW_AUTH_MAX_KEY + 16];
    memcpy(h, "Bearer ", 7);
    memset(h + 7, 'k', sizeof(h) - 8);
    h[sizeof(h) - 1] = '\0';
    assert_false(gw_auth_check(&cfg, h));
}

static void no_keys_configured(void **state)
{
    (void)state;
    cfg.api.nkeys = 0;
    assert_false(gw_auth_required(&cfg));
    assert_true(gw_auth_check(&cfg, NULL));
    assert_true(gw_auth_check(&cfg, "Basic xyz"));
}

static void sha256_vector(void **state)
{
    (void)state;
    unsigned char md[32];
    static const unsigned char empty[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
                                            0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
                                            0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
                                            0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    assert_int_equal(gw_auth_sha256("", 0, md), 0);
    assert_memory_equal(md, empty, 32);
}

/* A new key is 43 base64url characters; its hash is what [api] keys takes and accepts it. */
static void new_keys(void **state)
{
    (void)state;
    char key[GW_AUTH_NEW_KEY_LEN], again[GW_AUTH_NEW_KEY_LEN], hash[65];
    assert_int_equal(gw_auth_new_key(key, hash), 0);
    assert_int_equal(strlen(key), 43);
    assert_int_equal(strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789-_"),
                     43);
    assert_int_equal(strlen(hash), 64);
    assert_int_equal(strspn(hash, "0123456789abcdef"), 64);
    unsigned char md[32];
    char hex[65];
    assert_int_equal(gw_auth_sha256(key, strlen(key), md), 0);
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(hex, hash);

    struct gw_config c;
    memset(&c, 0, sizeof(c));
    snprintf(c.api.keys[0], sizeof(c.api.keys[0]), "%s", hash);
    c.api.nkeys = 1;
    char authz[80];
    snprintf(authz, sizeof(authz), "Bearer %s", key);
    assert_true(gw_auth_check(&c, authz));
    assert_int_equal(gw_auth_new_key(again, hash), 0);
    assert_string_not_equal(again, key); /* 256 random bits: never the same twice */
    snprintf(authz, sizeof(authz), "Bearer %s", again);
    assert_false(gw_auth_check(&c, authz));
}

static void idempotency_keys(void **state)
{
    (void)state;
    char key[GW_IDEM_KEY_LEN] = "untouched";
    struct gw_problem p;
    assert_int_equal(gw_idem_key(NULL, key, &p), 0);
    assert_string_equal(key, "");
    assert_int_equal(gw_idem_key("order-17 retry#1", key, &p), 0);
    assert_string_equal(key, "order-17 retry#1");

    char long_key[GW_IDEM_KEY_LEN + 1];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[GW_IDEM_KEY_LEN - 1] = '\0'; /* 255 characters: accepted */
    assert_int_equal(gw_idem_key(long_key, key, &p), 0);
    long_key[GW_IDEM_KEY_LEN - 1] = 'k';
    long_key[GW_IDEM_KEY_LEN] = '\0'; /* 256 */
    static const char *const bad[] = {"", "a\tb", "a\x7f", "caf\xc3\xa9", "a\x01"};
    snprintf(key, sizeof(key), "untouched");
    assert_int_equal(gw_idem_key(long_key, key, &p), EINVAL);
    assert_int_equal(p.code, GW_PROB_INVALID_IDEMPOTENCY_KEY);
    assert_int_equal(gw_problem_status(p.code), 400);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&p, 0, sizeof(p));
        p.code = GW_PROB_INTERNAL_ERROR;
        assert_int_equal(gw_idem_key(bad[i], key, &p), EINVAL);
        assert_int_equal(p.code, GW_PROB_INVALID_IDEMPOTENCY_KEY);
    }
    assert_string_equal(key, "untouched");
}

static void make_msg(struct gw_msg_new *m, const char *text)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->to, sizeof(m->to), "+4915112345678");
    m->text = text;
    m->text_len = strlen(text);
    m->validity_s = 86400;
}

static void fingerprints(void **state)
{
    (void)state;
    struct gw_msg_new a, b;
    make_msg(&a, "hello");
    make_msg(&b, "hello");
    assert_int_equal(gw_idem_fingerprint(&a), 0);
    assert_int_equal(gw_idem_fingerprint(&b), 0);
    assert_memory_equal(a.fingerprint, b.fingerprint, 32);

    static const unsigned char zero[32];
    assert_memory_not_equal(a.fingerprint, zero, 32);

    make_msg(&b, "hellO");
    assert_int_equal(gw_idem_fingerprint(&b), 0);
    assert_memory_not_equal(a.fingerprint, b.fingerprint, 32);

    make_msg(&b, "hello");
    b.validity_s = 600;
    assert_int_equal(gw_idem_fingerprint(&b), 0);
    assert_memory_not_equal(a.fingerprint, b.fingerprint, 32);

    /* moving bytes between fields changes the fingerprint */
    make_msg(&a, "ab");
    snprintf(a.reference, sizeof(a.reference), "c");
    make_msg(&b, "a");
    snprintf(b.reference, sizeof(b.reference), "bc");
    assert_int_equal(gw_idem_fingerprint(&a), 0);
    assert_int_equal(gw_idem_fingerprint(&b), 0);
    assert_memory_not_equal(a.fingerprint, b.fingerprint, 32);

    make_msg(&b, "ab");
    snprintf(b.reference, sizeof(b.reference), "c");
    snprintf(b.from, sizeof(b.from), "+4930123456");
    assert_int_equal(gw_idem_fingerprint(&b), 0);
    assert_memory_not_equal(a.fingerprint, b.fingerprint, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(right_keys, setup),
        cmocka_unit_test_setup(wrong_keys, setup),
        cmocka_unit_test_setup(long_token, setup),
        cmocka_unit_test_setup(no_keys_configured, setup),
        cmocka_unit_test(sha256_vector),
        cmocka_unit_test(new_keys),
        cmocka_unit_test(idempotency_keys),
        cmocka_unit_test(fingerprints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
