/* Event bus: delivery order, topics, unsubscribe (also from inside a handler). */
#include "bus.h"

#include <check.h>
#include <ethd/error.h>
#include <stdlib.h>
#include <string.h>

struct rec {
    char log[256];
    struct ethd_bus *bus;
    uint64_t victim; /* subscription to drop from inside a handler */
};

static void h_a(const char *topic, const void *ev, void *arg)
{
    struct rec *r = arg;
    strcat(r->log, "a:");
    strcat(r->log, (const char *)ev);
    strcat(r->log, ";");
    (void)topic;
}

static void h_b(const char *topic, const void *ev, void *arg)
{
    struct rec *r = arg;
    strcat(r->log, "b:");
    strcat(r->log, (const char *)ev);
    strcat(r->log, ";");
    (void)topic;
}

static void h_killer(const char *topic, const void *ev, void *arg)
{
    struct rec *r = arg;
    (void)topic;
    (void)ev;
    strcat(r->log, "k;");
    ck_assert_int_eq(ethd_bus_unsubscribe(r->bus, r->victim), 0);
    /* Subscribing during delivery must not be called for this event. */
    uint64_t id;
    ck_assert_int_eq(ethd_bus_subscribe(r->bus, "t", h_b, r, &id), 0);
}

START_TEST(order_and_topics)
{
    struct ethd_bus *bus;
    ck_assert_int_eq(ethd_bus_new(&bus), 0);
    struct rec r = {.bus = bus};
    uint64_t a, b, c;
    ck_assert_int_eq(ethd_bus_subscribe(bus, "new-head", h_a, &r, &a), 0);
    ck_assert_int_eq(ethd_bus_subscribe(bus, "new-head", h_b, &r, &b), 0);
    ck_assert_int_eq(ethd_bus_subscribe(bus, "other", h_a, &r, &c), 0);
    unsigned n;
    ck_assert_int_eq(ethd_bus_publish(bus, "new-head", "1", &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(r.log, "a:1;b:1;");
    ck_assert_int_eq(ethd_bus_publish(bus, "nobody", "x", &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(ethd_bus_unsubscribe(bus, a), 0);
    ck_assert_int_eq(ethd_bus_unsubscribe(bus, a), ETHD_ENOTFOUND);
    r.log[0] = '\0';
    ck_assert_int_eq(ethd_bus_publish(bus, "new-head", "2", &n), 0);
    ck_assert_str_eq(r.log, "b:2;");
    ck_assert_int_eq(ethd_bus_subscribe(bus, NULL, h_a, &r, &a), ETHD_EINVAL);
    ethd_bus_free(bus);
}
END_TEST

START_TEST(unsubscribe_inside_handler)
{
    struct ethd_bus *bus;
    ck_assert_int_eq(ethd_bus_new(&bus), 0);
    struct rec r = {.bus = bus};
    uint64_t k, a;
    ck_assert_int_eq(ethd_bus_subscribe(bus, "t", h_killer, &r, &k), 0);
    ck_assert_int_eq(ethd_bus_subscribe(bus, "t", h_a, &r, &a), 0);
    r.victim = a;
    ck_assert_int_eq(ethd_bus_publish(bus, "t", "x", NULL), 0);
    ck_assert_str_eq(r.log, "k;"); /* a was removed before its turn; the new b waits */
    r.log[0] = '\0';
    ck_assert_int_eq(ethd_bus_unsubscribe(bus, k), 0);
    ck_assert_int_eq(ethd_bus_publish(bus, "t", "y", NULL), 0);
    ck_assert_str_eq(r.log, "b:y;");
    ethd_bus_free(bus);
}
END_TEST

START_TEST(many_subscribers_grow)
{
    struct ethd_bus *bus;
    ck_assert_int_eq(ethd_bus_new(&bus), 0);
    struct rec r = {.bus = bus};
    uint64_t id;
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(ethd_bus_subscribe(bus, i % 2 ? "odd" : "even", h_a, &r, &id), 0);
    unsigned n;
    ck_assert_int_eq(ethd_bus_publish(bus, "odd", "", &n), 0);
    ck_assert_uint_eq(n, 50);
    ethd_bus_free(bus);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bus");
    TCase *tc = tcase_create("bus");
    tcase_add_test(tc, order_and_topics);
    tcase_add_test(tc, unsubscribe_inside_handler);
    tcase_add_test(tc, many_subscribers_grow);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
