/* Unit tests for plugins/les/les_fc.c: les flow control arithmetic
 * (caps/les.md, "Client Side Flow Control"). */
#include "les_fc.h"

#include <check.h>
#include <ethd/error.h>
#include <stdlib.h>

static const struct ethd_les_cost table[] = {
    {0x02, 150, 30},
    {0x04, 200, 700},
};

START_TEST(test_init_full)
{
    struct ethd_les_fc fc;
    ethd_les_fc_init(&fc, 300000, 50000, 1000);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 1000), 300000);
    /* Recharging a full buffer keeps it at BL. */
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 99999), 300000);
}
END_TEST

START_TEST(test_charge_and_recharge)
{
    struct ethd_les_fc fc;
    ethd_les_fc_init(&fc, 10000, 1000, 0); /* 1000 units/s = 1 unit/ms */
    ck_assert_int_eq(ethd_les_fc_charge(&fc, 0, 6000), 0);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 0), 4000);
    /* 2.5 s later: +2500 */
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 2500), 6500);
    /* Never above BL */
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 100000), 10000);
}
END_TEST

START_TEST(test_fractional_recharge_exact)
{
    struct ethd_les_fc fc;
    ethd_les_fc_init(&fc, 1000, 3, 0); /* 3 units per second: 0.003 per ms */
    ck_assert_int_eq(ethd_les_fc_charge(&fc, 0, 1000), 0);
    /* 333 ms give 0.999 units: still 0 whole units; 334 ms give 1.002. */
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 333), 0);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 334), 1);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 1000), 3);
}
END_TEST

START_TEST(test_underrun_deducts_nothing)
{
    struct ethd_les_fc fc;
    ethd_les_fc_init(&fc, 1000, 10, 0);
    ck_assert_int_eq(ethd_les_fc_charge(&fc, 0, 700), 0);
    ck_assert_int_eq(ethd_les_fc_charge(&fc, 0, 301), ETHD_EAGAIN);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 0), 300);
    ck_assert_int_eq(ethd_les_fc_charge(&fc, 0, 300), 0);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 0), 0);
    /* A cost above BL can never be paid. */
    ethd_les_fc_init(&fc, 1000, 10, 0);
    ck_assert_int_eq(ethd_les_fc_charge(&fc, 0, 1001), ETHD_EAGAIN);
    ck_assert_int_eq(ethd_les_fc_charge(&fc, 0, UINT64_MAX), ETHD_EAGAIN);
}
END_TEST

START_TEST(test_wait_ms)
{
    struct ethd_les_fc fc;
    ethd_les_fc_init(&fc, 10000, 1000, 0);
    ck_assert_uint_eq(ethd_les_fc_wait_ms(&fc, 0, 5000), 0);
    ck_assert_int_eq(ethd_les_fc_charge(&fc, 0, 10000), 0);
    /* Resume threshold BL/2 = 5000 units at 1 unit/ms: 5000 ms. */
    ck_assert_uint_eq(ethd_les_fc_wait_ms(&fc, 0, 5000), 5000);
    ck_assert_uint_eq(ethd_les_fc_wait_ms(&fc, 1000, 5000), 4000);
    /* Rounds up: 3 units/s need 334 ms for one unit. */
    ethd_les_fc_init(&fc, 10, 3, 0);
    ethd_les_fc_charge(&fc, 0, 10);
    ck_assert_uint_eq(ethd_les_fc_wait_ms(&fc, 0, 1), 334);
    ck_assert_uint_eq(ethd_les_fc_wait_ms(&fc, 0, 11), UINT64_MAX);
    ethd_les_fc_init(&fc, 10, 0, 0);
    ethd_les_fc_charge(&fc, 0, 10);
    ck_assert_uint_eq(ethd_les_fc_wait_ms(&fc, 0, 1), UINT64_MAX);
}
END_TEST

START_TEST(test_time_going_back)
{
    struct ethd_les_fc fc;
    ethd_les_fc_init(&fc, 1000, 1000, 5000);
    ethd_les_fc_charge(&fc, 5000, 500);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 4000), 500); /* no recharge backwards */
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 5100), 600);
}
END_TEST

START_TEST(test_client_estimate_set)
{
    struct ethd_les_fc fc;
    ethd_les_fc_init(&fc, 1000, 100, 0);
    ethd_les_fc_set(&fc, 5000, 10); /* capped at BL */
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 10), 1000);
    ethd_les_fc_set(&fc, 250, 10);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 10), 250);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 1010), 350);
}
END_TEST

START_TEST(test_cost_table)
{
    uint64_t c = 0;
    ck_assert_int_eq(ethd_les_fc_cost(table, 2, 0x02, 192, &c), 0);
    ck_assert_uint_eq(c, 150 + 30 * 192);
    ck_assert_int_eq(ethd_les_fc_cost(table, 2, 0x04, 0, &c), 0);
    ck_assert_uint_eq(c, 200);
    ck_assert_int_eq(ethd_les_fc_cost(table, 2, 0x06, 1, &c), ETHD_ENOTFOUND);
    ck_assert_int_eq(ethd_les_fc_cost(table, 2, 0x02, UINT64_MAX, &c), 0);
    ck_assert_uint_eq(c, UINT64_MAX); /* saturates, never wraps */
    ck_assert_int_eq(ethd_les_fc_cost(table, 2, 0x02, 1000000, &c), 0);
    ck_assert_uint_eq(c, 150 + 30000000ull);
}
END_TEST

/* A sequence like the integration test's: the BV in each reply is BL minus
 * the sum of the costs, plus MRR * elapsed, capped at BL. */
START_TEST(test_reply_sequence)
{
    struct ethd_les_fc fc;
    uint64_t c1, c2;
    ethd_les_fc_cost(table, 2, 0x02, 10, &c1);
    ethd_les_fc_cost(table, 2, 0x04, 3, &c2);
    ethd_les_fc_init(&fc, 300000, 50000, 0);
    ck_assert_int_eq(ethd_les_fc_charge(&fc, 0, c1), 0);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 0), 300000 - c1);
    ck_assert_int_eq(ethd_les_fc_charge(&fc, 0, c2), 0);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 0), 300000 - c1 - c2);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 10), 300000 - c1 - c2 + 500);
    ck_assert_uint_eq(ethd_les_fc_value(&fc, 1000), 300000);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("les_fc");
    TCase *tc = tcase_create("flow control");
    tcase_add_test(tc, test_init_full);
    tcase_add_test(tc, test_charge_and_recharge);
    tcase_add_test(tc, test_fractional_recharge_exact);
    tcase_add_test(tc, test_underrun_deducts_nothing);
    tcase_add_test(tc, test_wait_ms);
    tcase_add_test(tc, test_time_going_back);
    tcase_add_test(tc, test_client_estimate_set);
    tcase_add_test(tc, test_cost_table);
    tcase_add_test(tc, test_reply_sequence);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
