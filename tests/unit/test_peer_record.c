/* The downloader's per-peer record (plugins/downloader/peer_record.c):
 * request sizes follow measured throughput, timeouts follow the round trip
 * within their clamps, timeouts and empty answers shrink what a peer is
 * asked, and the lacking set remembers (and forgets, bounded) hashes. */
#include "peer_record.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static struct dl_rate_config cfg;

static void setup(void)
{
    ethd_dl_rate_config_default(&cfg);
}

START_TEST(test_defaults)
{
    ck_assert_uint_eq(cfg.target_rtt_ms, 3000);
    ck_assert_uint_eq(cfg.min_rtt_ms, 2000);
    ck_assert_uint_eq(cfg.max_rtt_ms, 20000);
    ck_assert_uint_eq(cfg.max_timeout_ms, 60000);
    struct dl_peer_record r;
    ck_assert_int_eq(ethd_dl_peer_record_init(&r, 8), 0);
    for (int k = 0; k < DL_KINDS; k++)
        ck_assert(r.rate[k].idle);
    /* 64 items/s x 3 s = 192, under every cap but bodies (128) */
    ck_assert_uint_eq(ethd_dl_rate_request_size(&r.rate[DL_HEADERS], &cfg, DL_HEADERS), 192);
    ck_assert_uint_eq(ethd_dl_rate_request_size(&r.rate[DL_BODIES], &cfg, DL_BODIES), 128);
    /* unknown rtt: the 2 s floor, x3, x1.5 for confidence 0.5 = 9 s */
    ck_assert_uint_eq(ethd_dl_rate_timeout(&r.rate[DL_HEADERS], &cfg), 9000);
    ethd_dl_peer_record_free(&r);
}
END_TEST

START_TEST(test_fast_peer_grows)
{
    struct dl_peer_record r;
    ck_assert_int_eq(ethd_dl_peer_record_init(&r, 8), 0);
    struct dl_rate *x = &r.rate[DL_HEADERS];
    uint64_t t = 1000;
    uint32_t prev = ethd_dl_rate_request_size(x, &cfg, DL_HEADERS);
    for (int i = 0; i < 40; i++) {
        uint32_t n = ethd_dl_rate_request_size(x, &cfg, DL_HEADERS);
        ethd_dl_rate_begin(x, n, t);
        ck_assert(!x->idle);
        t += 50; /* n items in 50 ms: 20n items/s */
        ethd_dl_rate_deliver(x, &cfg, n, t);
        ck_assert(x->idle);
    }
    uint32_t now = ethd_dl_rate_request_size(x, &cfg, DL_HEADERS);
    ck_assert_uint_gt(now, prev);
    ck_assert_uint_eq(now, 1024); /* capped */
    ck_assert(x->confidence > 0.9);
    /* the round trip estimate converges on 50 ms; the timeout keeps its floor */
    ck_assert(x->rtt_ms < 100);
    ck_assert_uint_ge(ethd_dl_rate_timeout(x, &cfg), cfg.min_rtt_ms);
    ck_assert_uint_le(ethd_dl_rate_timeout(x, &cfg), 3 * cfg.min_rtt_ms * 2);
    ethd_dl_peer_record_free(&r);
}
END_TEST

START_TEST(test_timeouts_shrink)
{
    struct dl_peer_record r;
    ck_assert_int_eq(ethd_dl_peer_record_init(&r, 8), 0);
    struct dl_rate *x = &r.rate[DL_BODIES];
    uint32_t before = ethd_dl_rate_request_size(x, &cfg, DL_BODIES);
    uint64_t tbefore = ethd_dl_rate_timeout(x, &cfg);
    ethd_dl_rate_begin(x, before, 0);
    ethd_dl_rate_timeout_hit(x, &cfg);
    ck_assert(x->idle);
    ck_assert_uint_eq(x->timeouts, 1);
    uint32_t after = ethd_dl_rate_request_size(x, &cfg, DL_BODIES);
    ck_assert_uint_lt(after, before);
    ck_assert_uint_ge(ethd_dl_rate_timeout(x, &cfg), tbefore); /* less confident: longer */
    for (int i = 0; i < 20; i++)
        ethd_dl_rate_timeout_hit(x, &cfg);
    ck_assert_uint_eq(ethd_dl_rate_request_size(x, &cfg, DL_BODIES), 3); /* 1 item/s x 3 s */
    ck_assert_uint_le(ethd_dl_rate_timeout(x, &cfg), cfg.max_timeout_ms);
    ck_assert_uint_eq(ethd_dl_rate_timeout(x, &cfg), cfg.max_timeout_ms); /* 3 x 20 s x 2 > 60 s */
    ethd_dl_peer_record_free(&r);
}
END_TEST

START_TEST(test_empty_and_short)
{
    struct dl_peer_record r;
    ck_assert_int_eq(ethd_dl_peer_record_init(&r, 8), 0);
    struct dl_rate *x = &r.rate[DL_RECEIPTS];
    double cap = x->capacity, conf = x->confidence;
    ethd_dl_rate_begin(x, 100, 0);
    ethd_dl_rate_deliver(x, &cfg, 0, 10);
    ck_assert_uint_eq(x->empties, 1);
    ck_assert(x->capacity < cap);
    ck_assert(x->confidence == conf); /* says nothing about speed */
    /* a short answer gains less confidence than a whole one */
    struct dl_peer_record a, b;
    ethd_dl_peer_record_init(&a, 8);
    ethd_dl_peer_record_init(&b, 8);
    ethd_dl_rate_begin(&a.rate[DL_HEADERS], 100, 0);
    ethd_dl_rate_deliver(&a.rate[DL_HEADERS], &cfg, 100, 100);
    ethd_dl_rate_begin(&b.rate[DL_HEADERS], 100, 0);
    ethd_dl_rate_deliver(&b.rate[DL_HEADERS], &cfg, 50, 100);
    ck_assert(a.rate[DL_HEADERS].confidence > b.rate[DL_HEADERS].confidence);
    ck_assert(b.rate[DL_HEADERS].confidence > 0.5);
    ethd_dl_peer_record_free(&a);
    ethd_dl_peer_record_free(&b);
    ethd_dl_peer_record_free(&r);
}
END_TEST

START_TEST(test_lacking_bounded)
{
    struct dl_peer_record r;
    ck_assert_int_eq(ethd_dl_peer_record_init(&r, 4), 0);
    uint8_t h[6][32];
    memset(h, 0, sizeof(h));
    for (int i = 0; i < 6; i++)
        h[i][0] = (uint8_t)(i + 1);
    ck_assert(!ethd_dl_peer_lacking(&r, h[0]));
    for (int i = 0; i < 6; i++)
        ethd_dl_peer_lacks(&r, h[i]);
    ethd_dl_peer_lacks(&r, h[5]); /* twice: counted once */
    ck_assert_uint_eq(r.lacking_added, 6);
    ck_assert(ethd_dl_peer_lacking(&r, h[5]));
    ck_assert(ethd_dl_peer_lacking(&r, h[2]));
    ck_assert(!ethd_dl_peer_lacking(&r, h[0])); /* the oldest forgotten */
    json_t *j = ethd_dl_peer_record_json(&r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "lacking")), 4);
    ck_assert(json_is_true(json_object_get(json_object_get(j, "headers"), "idle")));
    json_decref(j);
    ethd_dl_peer_record_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("peer_record");
    TCase *tc = tcase_create("rates");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_fast_peer_grows);
    tcase_add_test(tc, test_timeouts_shrink);
    tcase_add_test(tc, test_empty_and_short);
    tcase_add_test(tc, test_lacking_bounded);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
