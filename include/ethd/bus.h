/* Event bus: publish/subscribe by topic, within the loop thread.
 * Delivery is synchronous, in subscription order. Subscribing or
 * unsubscribing from inside a handler is allowed (takes effect for the next
 * publish; an unsubscribed handler is not called again). */
#ifndef ETHD_BUS_H
#define ETHD_BUS_H
#include <stdint.h>

struct ethd_bus;

/* `event` is borrowed: valid only during the call. */
typedef void (*ethd_bus_fn)(const char *topic, const void *event, void *arg);

/* Subscribe `fn(arg)` to `topic` (copied). *id identifies the subscription. */
int ethd_bus_subscribe(struct ethd_bus *bus, const char *topic, ethd_bus_fn fn, void *arg,
                       uint64_t *id);
/* ETHD_ENOTFOUND if no such subscription. */
int ethd_bus_unsubscribe(struct ethd_bus *bus, uint64_t id);
/* Deliver `event` to every subscriber of `topic`; *delivered (may be NULL) gets the count. */
int ethd_bus_publish(struct ethd_bus *bus, const char *topic, const void *event,
                     unsigned *delivered);

#endif
