/* Hex helpers for RPC, logs and tests. "Data" is 0x + two digits per byte;
 * a "quantity" is 0x + the shortest digits of a number ("0x0", "0x1f"), as
 * the execution-apis JSON-RPC specification defines them. */
#ifndef ETHD_HEX_H
#define ETHD_HEX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes -> "0x..." (NUL-terminated); `out` must hold 2 + 2*len + 1 bytes. */
void ethd_hex_encode(const void *in, size_t len, char *out);
/* Same without the 0x prefix. */
void ethd_hex_encode_bare(const void *in, size_t len, char *out);
/* "0x..." or bare hex (even number of digits, either case) -> bytes.
 * *outlen gets the byte count. ETHD_EINVAL on bad digits or odd length,
 * ETHD_ETOOBIG if it needs more than `cap` bytes. */
int ethd_hex_decode(const char *in, uint8_t *out, size_t cap, size_t *outlen);
/* Like ethd_hex_decode but the result must be exactly `len` bytes. */
int ethd_hex_decode_fixed(const char *in, uint8_t *out, size_t len);
/* Decode into a freshly allocated buffer. *out: caller frees with free(). */
int ethd_hex_decode_alloc(const char *in, uint8_t **out, size_t *outlen);

/* Quantity encoding of a uint64 into out (at least 19 bytes). */
void ethd_hex_quantity(uint64_t v, char *out);
/* Quantity of a 256-bit big-endian number into out (at least 67 bytes). */
void ethd_hex_quantity_u256(const uint8_t be[32], char *out);
/* Parse a quantity: "0x" prefix required, no leading zeros (except "0x0"),
 * at most 16 digits. ETHD_EINVAL / ETHD_ERANGE. */
int ethd_hex_parse_quantity(const char *in, uint64_t *out);
/* Parse a quantity of up to 64 digits into 32 big-endian bytes. */
int ethd_hex_parse_quantity_u256(const char *in, uint8_t out[32]);

#endif
