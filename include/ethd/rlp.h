/* RLP (Recursive Length Prefix), Ethereum Yellow Paper appendix B.
 *
 * Encoder: appends to an ethd_buf; lists get their length back-patched when
 * closed. Errors are sticky and reported by ethd_rlp_enc_finish.
 *
 * Decoder: zero-copy views into the input. Strict: non-canonical length
 * prefixes (ETHD_ENONCANON), a single byte < 0x80 wrapped as a string
 * (ETHD_ENONCANON), lengths past the input (ETHD_ETRUNC), bytes after the
 * top-level item (ETHD_ETRAILING), nesting deeper than ETHD_RLP_MAX_DEPTH
 * (ETHD_EDEPTH). Integer readers reject leading zero bytes (ETHD_ENONCANON)
 * and values too wide for the target (ETHD_ERANGE). */
#ifndef ETHD_RLP_H
#define ETHD_RLP_H
#include <ethd/buf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETHD_RLP_MAX_DEPTH 64

/* ---- encoder ---- */
struct ethd_rlp_enc {
    struct ethd_buf *buf; /* borrowed */
    size_t open[ETHD_RLP_MAX_DEPTH];
    unsigned depth;
    int err;
};

void ethd_rlp_enc_init(struct ethd_rlp_enc *e, struct ethd_buf *buf);
void ethd_rlp_bytes(struct ethd_rlp_enc *e, const void *p, size_t n);
void ethd_rlp_uint(struct ethd_rlp_enc *e, uint64_t v); /* 0 -> 0x80 */
/* 256-bit big-endian unsigned integer; leading zero bytes are stripped. */
void ethd_rlp_u256(struct ethd_rlp_enc *e, const uint8_t be[32]);
/* Already-encoded item(s), copied verbatim. */
void ethd_rlp_raw(struct ethd_rlp_enc *e, const void *p, size_t n);
void ethd_rlp_list_begin(struct ethd_rlp_enc *e);
void ethd_rlp_list_end(struct ethd_rlp_enc *e);
/* 0, or the first error: ETHD_ENOMEM, ETHD_ETOOBIG (size overflow), ETHD_EDEPTH,
 * ETHD_ESTATE (unbalanced lists). */
int ethd_rlp_enc_finish(struct ethd_rlp_enc *e);

/* ---- decoder ---- */
struct ethd_rlp_item {
    const uint8_t *payload; /* string bytes, or the concatenated items of a list */
    size_t len;             /* payload length */
    const uint8_t *raw;     /* the whole encoding, prefix included */
    size_t raw_len;
    bool is_list;
};

struct ethd_rlp_iter {
    const uint8_t *p;
    size_t left;
    unsigned depth; /* depth of the list being iterated, for the nesting bound */
};

/* Decode exactly one item filling the whole input, validating everything
 * nested inside it. */
int ethd_rlp_decode(const uint8_t *in, size_t len, struct ethd_rlp_item *out);
/* Decode the next item of a byte stream (e.g. concatenated blocks in a chain
 * file), validating it fully, and advance *p / *left past it. */
int ethd_rlp_next(const uint8_t **p, size_t *left, struct ethd_rlp_item *out);

/* Iterate the items of a list. ETHD_ETYPE if `list` is a string. */
int ethd_rlp_iter_init(struct ethd_rlp_iter *it, const struct ethd_rlp_item *list);
bool ethd_rlp_iter_more(const struct ethd_rlp_iter *it);
/* Next item; ETHD_ENOTFOUND when there is none left. */
int ethd_rlp_iter_next(struct ethd_rlp_iter *it, struct ethd_rlp_item *out);
/* Number of items in a list (ETHD_ETYPE for a string). */
int ethd_rlp_list_count(const struct ethd_rlp_item *list, size_t *count);

/* Decode a list into a new array of its items: *out gets calloc(count,
 * elem_size) (NULL for an empty list; the caller frees it), and fn(item,
 * element, arg) fills each element in order. *n counts the elements fn was
 * called on, the failed one included, so the caller's element cleanup can
 * release whatever a failing fn left behind (fn must leave an element it
 * fails on safe to clean up). Returns 0, the first fn error, ETHD_ETYPE
 * for a string, ETHD_ENOMEM. */
typedef int (*ethd_rlp_elem_fn)(const struct ethd_rlp_item *item, void *elem, void *arg);
int ethd_rlp_decode_array(const struct ethd_rlp_item *list, size_t elem_size, ethd_rlp_elem_fn fn,
                          void *arg, void **out, size_t *n);

/* Typed readers (ETHD_ETYPE when the item is of the other kind). */
int ethd_rlp_get_bytes(const struct ethd_rlp_item *it, const uint8_t **p, size_t *len);
/* String of exactly n bytes, copied to out (ETHD_EINVAL on another length). */
int ethd_rlp_get_fixed(const struct ethd_rlp_item *it, void *out, size_t n);
int ethd_rlp_get_uint64(const struct ethd_rlp_item *it, uint64_t *out);
/* Up to 32 bytes, right-aligned big-endian into out. */
int ethd_rlp_get_u256(const struct ethd_rlp_item *it, uint8_t out[32]);

/* Size of the encoding of a string of n bytes whose first byte is b0. */
size_t ethd_rlp_bytes_size(size_t n, uint8_t b0);
/* Size of the prefix of a list whose payload is n bytes. */
size_t ethd_rlp_list_prefix_size(size_t n);

#endif
