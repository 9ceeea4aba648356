/* Known-item sets (include/ethd/p2p.h): a ring of the last `capacity` hashes
 * in insertion order plus an open-addressing index into it. When full, the
 * oldest hash is evicted (FIFO). The index is keyed with a random seed so a
 * peer choosing "hashes" (fake transaction hashes cost nothing) cannot make
 * every lookup probe the whole table. */
#include <ethd/error.h>
#include <ethd/p2p.h>

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MAX_CAPACITY (1u << 24)

struct ethd_known_set {
    size_t cap, count, head; /* ring: the oldest entry is at head */
    uint8_t (*ring)[32];
    uint32_t *table;         /* ring index + 1; 0 = empty slot */
    size_t mask;
    uint64_t seed;
};

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static size_t home(const struct ethd_known_set *s, const uint8_t h[32])
{
    uint64_t x = s->seed;
    for (int i = 0; i < 4; i++) {
        x ^= load64(h + 8 * i);
        x *= 0x9e3779b97f4a7c15ull;
        x ^= x >> 29;
    }
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x & s->mask;
}

int ethd_known_set_new(size_t capacity, struct ethd_known_set **out)
{
    if (!out || capacity == 0 || capacity > MAX_CAPACITY)
        return ETHD_EINVAL;
    struct ethd_known_set *s = calloc(1, sizeof(*s));
    if (!s)
        return ETHD_ENOMEM;
    size_t tsize = 16;
    while (tsize < 2 * capacity)
        tsize <<= 1;
    s->cap = capacity;
    s->mask = tsize - 1;
    s->ring = malloc(capacity * sizeof(*s->ring));
    s->table = calloc(tsize, sizeof(*s->table));
    if (!s->ring || !s->table) {
        ethd_known_set_free(s);
        return ETHD_ENOMEM;
    }
    if (getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) != (ssize_t)sizeof(s->seed))
        s->seed = (uint64_t)(uintptr_t)s ^ 0x5bd1e9955bd1e995ull; /* still unpredictable enough */
    *out = s;
    return 0;
}

void ethd_known_set_free(struct ethd_known_set *set)
{
    if (!set)
        return;
    free(set->ring);
    free(set->table);
    free(set);
}

/* Slot holding `hash`, or the empty slot where it would go. */
static size_t find_slot(const struct ethd_known_set *s, const uint8_t hash[32], bool *found)
{
    size_t i = home(s, hash);
    for (;;) {
        uint32_t e = s->table[i];
        if (e == 0) {
            *found = false;
            return i;
        }
        if (memcmp(s->ring[e - 1], hash, 32) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & s->mask;
    }
}

/* Linear-probing deletion by backward shift: no tombstones, so a long-lived
 * set never degrades. */
static void remove_slot(struct ethd_known_set *s, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & s->mask;
        uint32_t e = s->table[j];
        if (e == 0)
            break;
        size_t k = home(s, s->ring[e - 1]);
        /* The entry at j may move to i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            s->table[i] = e;
            i = j;
        }
    }
    s->table[i] = 0;
}

void ethd_known_set_add(struct ethd_known_set *set, const uint8_t hash[32])
{
    bool found;
    find_slot(set, hash, &found);
    if (found)
        return;
    size_t pos;
    if (set->count == set->cap) {
        pos = set->head;
        size_t slot = find_slot(set, set->ring[pos], &found);
        remove_slot(set, slot);
        set->head = (set->head + 1) % set->cap;
    } else {
        pos = (set->head + set->count) % set->cap;
        set->count++;
    }
    memcpy(set->ring[pos], hash, 32);
    size_t slot = find_slot(set, hash, &found);
    set->table[slot] = (uint32_t)pos + 1;
}

bool ethd_known_set_has(const struct ethd_known_set *set, const uint8_t hash[32])
{
    bool found;
    find_slot(set, hash, &found);
    return found;
}

size_t ethd_known_set_count(const struct ethd_known_set *set)
{
    return set->count;
}
