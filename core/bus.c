/* Event bus: synchronous publish/subscribe within the loop thread.
 * Subscriptions live in one array in subscription order. Unsubscribing only
 * marks an entry dead; dead entries are compacted when no publish is running,
 * so a handler may unsubscribe itself or others safely mid-delivery. */
#include "bus.h"

#include <ethd/error.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct subscription {
    uint64_t id;
    char *topic;
    ethd_bus_fn fn;
    void *arg;
    bool dead;
};

struct ethd_bus {
    struct subscription *subs;
    size_t n, cap;
    uint64_t next_id;
    unsigned publishing; /* nesting depth of ethd_bus_publish */
    bool need_compact;
};

int ethd_bus_new(struct ethd_bus **out)
{
    struct ethd_bus *bus = calloc(1, sizeof(*bus));
    if (!bus)
        return ETHD_ENOMEM;
    bus->next_id = 1;
    *out = bus;
    return 0;
}

void ethd_bus_free(struct ethd_bus *bus)
{
    if (!bus)
        return;
    for (size_t i = 0; i < bus->n; i++)
        free(bus->subs[i].topic);
    free(bus->subs);
    free(bus);
}

static void compact(struct ethd_bus *bus)
{
    size_t w = 0;
    for (size_t r = 0; r < bus->n; r++) {
        if (bus->subs[r].dead)
            free(bus->subs[r].topic);
        else
            bus->subs[w++] = bus->subs[r];
    }
    bus->n = w;
    bus->need_compact = false;
}

int ethd_bus_subscribe(struct ethd_bus *bus, const char *topic, ethd_bus_fn fn, void *arg,
                       uint64_t *id)
{
    if (!bus || !topic || !fn)
        return ETHD_EINVAL;
    if (bus->n == bus->cap) {
        size_t cap = bus->cap ? bus->cap * 2 : 8;
        struct subscription *s = realloc(bus->subs, cap * sizeof(*s));
        if (!s)
            return ETHD_ENOMEM;
        bus->subs = s;
        bus->cap = cap;
    }
    char *t = strdup(topic);
    if (!t)
        return ETHD_ENOMEM;
    struct subscription *s = &bus->subs[bus->n++];
    *s = (struct subscription){.id = bus->next_id++, .topic = t, .fn = fn, .arg = arg};
    if (id)
        *id = s->id;
    return 0;
}

int ethd_bus_unsubscribe(struct ethd_bus *bus, uint64_t id)
{
    for (size_t i = 0; i < bus->n; i++) {
        if (bus->subs[i].id == id && !bus->subs[i].dead) {
            bus->subs[i].dead = true;
            bus->need_compact = true;
            if (!bus->publishing)
                compact(bus);
            return 0;
        }
    }
    return ETHD_ENOTFOUND;
}

int ethd_bus_publish(struct ethd_bus *bus, const char *topic, const void *event,
                     unsigned *delivered)
{
    if (!bus || !topic)
        return ETHD_EINVAL;
    unsigned count = 0;
    /* Subscriptions added during delivery are not called for this event. */
    size_t n = bus->n;
    bus->publishing++;
    for (size_t i = 0; i < n; i++) {
        /* Re-read through bus->subs each time: a handler may subscribe and
         * so move the array. */
        struct subscription *s = &bus->subs[i];
        if (s->dead || strcmp(s->topic, topic) != 0)
            continue;
        ethd_bus_fn fn = s->fn;
        void *arg = s->arg;
        fn(topic, event, arg);
        count++;
    }
    bus->publishing--;
    if (!bus->publishing && bus->need_compact)
        compact(bus);
    if (delivered)
        *delivered = count;
    return 0;
}
