/* Tests for gateway/msgsize.c: the SIP MESSAGE size estimate against a measured MESSAGE, how
 * each configured part moves it, and the largest text that fits UDP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/config.h"
#include "gateway/msgsize.h"

#define TO "+15550100"

static struct gw_config cfg;

/* The example configuration (deploy/smsgw.conf). */
static int setup(void **state)
{
    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.sip.domain, sizeof(cfg.sip.domain), "operator.test");
    snprintf(cfg.sip.username, sizeof(cfg.sip.username), "smsgw");
    snprintf(cfg.sip.local, sizeof(cfg.sip.local), "127.0.0.1:0");
    snprintf(cfg.sip.recipient_uri, sizeof(cfg.sip.recipient_uri),
             "sip:{e164}@{domain};user=phone");
    return 0;
}

/* "hello" to +15550100 went out (after a 407, MD5) as a 737-byte MESSAGE. */
static void example_config(void **state)
{
    (void)state;
    size_t est = gw_msgsize_estimate(&cfg, TO, "", 5);
    /* 540 fixed + 3 * 38 Request-URI + 23 From + 5 username + 13 realm + 21 Via + 64 nonce
     * + 64 response + 5 text */
    assert_int_equal(est, 849);
    assert_true(est >= 737);
    assert_true(est - 737 < 150); /* conservative, not absurd */
    assert_int_equal(gw_msgsize_estimate(&cfg, TO, NULL, 5), est);
}

static void parts_move_it(void **state)
{
    (void)state;
    size_t base = gw_msgsize_estimate(&cfg, TO, "", 5);
    /* text: byte for byte, plus Content-Length's extra digits */
    assert_int_equal(gw_msgsize_estimate(&cfg, TO, "", 9), base + 4);
    assert_int_equal(gw_msgsize_estimate(&cfg, TO, "", 10), base + 5 + 1);
    assert_int_equal(gw_msgsize_estimate(&cfg, TO, "", 1000), base + 995 + 3);
    /* a longer number: three times (request line, To, digest uri) */
    assert_int_equal(gw_msgsize_estimate(&cfg, "+4915112345678", "", 5),
                     base + 15); /* 5 more digits, three times */
    /* a sender number replaces the username in From */
    assert_int_equal(gw_msgsize_estimate(&cfg, TO, "+4930123456", 5),
                     base - 5 + strlen("+4930123456;user=phone"));
    /* identity headers */
    snprintf(cfg.sip.p_asserted_identity, sizeof(cfg.sip.p_asserted_identity),
             "sip:+4930123456@operator.test");
    assert_int_equal(gw_msgsize_estimate(&cfg, TO, "", 5),
                     base + 26 + strlen(cfg.sip.p_asserted_identity));
    cfg.sip.p_asserted_identity[0] = '\0';
    /* a separate digest username */
    snprintf(cfg.sip.auth_username, sizeof(cfg.sip.auth_username), "smsgw-auth-0001");
    assert_int_equal(gw_msgsize_estimate(&cfg, TO, "", 5), base + 10);
    cfg.sip.auth_username[0] = '\0';
    /* an IPv6 local address is longer than the IPv4 minimum */
    snprintf(cfg.sip.local, sizeof(cfg.sip.local), "[2001:db8::1234:5678:9abc]:5060");
    assert_int_equal(gw_msgsize_estimate(&cfg, TO, "", 5), base - 21 + strlen(cfg.sip.local) + 5);
    /* a template that cannot expand still gives an upper bound */
    snprintf(cfg.sip.local, sizeof(cfg.sip.local), "127.0.0.1:0");
    snprintf(cfg.sip.recipient_uri, sizeof(cfg.sip.recipient_uri), "sip:{nope}");
    assert_true(gw_msgsize_estimate(&cfg, TO, "", 5) > 540 + 3 * strlen("sip:{nope}"));
}

static void udp_text_max(void **state)
{
    (void)state;
    size_t max = gw_msgsize_udp_text_max(&cfg, TO, "");
    assert_true(gw_msgsize_estimate(&cfg, TO, "", max) <= GW_MSGSIZE_UDP_MAX);
    assert_true(gw_msgsize_estimate(&cfg, TO, "", max + 1) > GW_MSGSIZE_UDP_MAX);
    assert_int_equal(max, 1300 - (849 - 5) - 2); /* 3-digit Content-Length */
    /* nothing fits when the headers alone are too large */
    memset(cfg.sip.domain, 'd', 200);
    cfg.sip.domain[200] = '\0';
    assert_int_equal(gw_msgsize_udp_text_max(&cfg, TO, ""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(example_config, setup),
        cmocka_unit_test_setup(parts_move_it, setup),
        cmocka_unit_test_setup(udp_text_max, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
