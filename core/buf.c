/* Growable byte buffer: capacity doubles so n appends cost O(n) amortised. */
#include <ethd/buf.h>
#include <ethd/error.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 64

int ethd_buf_reserve(struct ethd_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX - b->len)
        return ETHD_ETOOBIG;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t *d = realloc(b->data, cap);
    if (!d)
        return ETHD_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int ethd_buf_append(struct ethd_buf *b, const void *p, size_t n)
{
    int rc = ethd_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
    return 0;
}

void ethd_buf_reset(struct ethd_buf *b)
{
    b->len = 0;
}

void ethd_buf_free(struct ethd_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
