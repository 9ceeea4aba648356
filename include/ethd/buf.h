/* Growable byte buffer used by encoders. */
#ifndef ETHD_BUF_H
#define ETHD_BUF_H
#include <stddef.h>
#include <stdint.h>

struct ethd_buf {
    uint8_t *data; /* owned; free with ethd_buf_free */
    size_t len;
    size_t cap;
};

#define ETHD_BUF_INIT {NULL, 0, 0}

/* Make room for `extra` more bytes. ETHD_ENOMEM, ETHD_ETOOBIG on size overflow. */
int ethd_buf_reserve(struct ethd_buf *b, size_t extra);
int ethd_buf_append(struct ethd_buf *b, const void *p, size_t n);
void ethd_buf_reset(struct ethd_buf *b); /* len = 0, keeps memory */
void ethd_buf_free(struct ethd_buf *b);  /* frees data, zeroes the struct */

#endif
