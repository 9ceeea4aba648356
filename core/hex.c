/* Hex encodings of the execution-apis JSON-RPC specification
 * (src/schemas/base-types.yaml): "data"/"bytes" is 0x followed by two digits
 * per byte; a "quantity" (uint) is 0x followed by the shortest non-empty digit
 * string, so 0 is "0x0" and "0x01" or "0x" are invalid. Output is lowercase;
 * input digits may be either case, and the prefix may be "0x" or "0X". */
#include <ethd/error.h>
#include <ethd/hex.h>

#include <stdlib.h>
#include <string.h>

static const char digits[] = "0123456789abcdef";

/* -1 for a non-hex character. */
static inline int nibble(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* ASCII lowercase; maps nothing else into a-f */
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static inline bool has_prefix(const char *s)
{
    return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

void ethd_hex_encode_bare(const void *in, size_t len, char *out)
{
    const uint8_t *p = in;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

void ethd_hex_encode(const void *in, size_t len, char *out)
{
    out[0] = '0';
    out[1] = 'x';
    ethd_hex_encode_bare(in, len, out + 2);
}

/* Validate and measure: dp gets the digit string and n its length. */
static int scan(const char *in, const char **dp, size_t *n)
{
    const char *d = has_prefix(in) ? in + 2 : in;
    size_t len = strlen(d);
    if (len % 2)
        return ETHD_EINVAL;
    *dp = d;
    *n = len;
    return 0;
}

static int unhex(const char *d, size_t ndig, uint8_t *out)
{
    for (size_t i = 0; i < ndig / 2; i++) {
        int hi = nibble((unsigned char)d[2 * i]);
        int lo = nibble((unsigned char)d[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ETHD_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* Bad digits are reported before size, so a garbage string is EINVAL even
 * when it is also long. */
static int check_digits(const char *d, size_t ndig)
{
    for (size_t i = 0; i < ndig; i++)
        if (nibble((unsigned char)d[i]) < 0)
            return ETHD_EINVAL;
    return 0;
}

int ethd_hex_decode(const char *in, uint8_t *out, size_t cap, size_t *outlen)
{
    const char *d;
    size_t ndig;
    int rc = scan(in, &d, &ndig);
    if (rc)
        return rc;
    if (ndig / 2 > cap) {
        rc = check_digits(d, ndig);
        return rc ? rc : ETHD_ETOOBIG;
    }
    rc = unhex(d, ndig, out);
    if (rc)
        return rc;
    *outlen = ndig / 2;
    return 0;
}

int ethd_hex_decode_fixed(const char *in, uint8_t *out, size_t len)
{
    const char *d;
    size_t ndig;
    int rc = scan(in, &d, &ndig);
    if (rc)
        return rc;
    if (ndig / 2 != len) {
        rc = check_digits(d, ndig);
        return rc ? rc : ETHD_EINVAL;
    }
    return unhex(d, ndig, out);
}

int ethd_hex_decode_alloc(const char *in, uint8_t **out, size_t *outlen)
{
    const char *d;
    size_t ndig;
    int rc = scan(in, &d, &ndig);
    if (rc)
        return rc;
    uint8_t *buf = malloc(ndig / 2 ? ndig / 2 : 1);
    if (!buf)
        return ETHD_ENOMEM;
    rc = unhex(d, ndig, buf);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = ndig / 2;
    return 0;
}

void ethd_hex_quantity(uint64_t v, char *out)
{
    char tmp[16];
    unsigned n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    out[0] = '0';
    out[1] = 'x';
    for (unsigned i = 0; i < n; i++)
        out[2 + i] = tmp[n - 1 - i];
    out[2 + n] = '\0';
}

void ethd_hex_quantity_u256(const uint8_t be[32], char *out)
{
    char *w = out;
    *w++ = '0';
    *w++ = 'x';
    bool started = false;
    for (unsigned i = 0; i < 64; i++) {
        unsigned nib = i % 2 ? be[i / 2] & 15 : be[i / 2] >> 4;
        if (!started && nib == 0)
            continue;
        started = true;
        *w++ = digits[nib];
    }
    if (!started)
        *w++ = '0';
    *w = '\0';
}

/* Shared quantity checks: prefix, non-empty, no leading zero, valid digits.
 * On success dp and n describe the digit string. */
static int scan_quantity(const char *in, size_t maxdig, const char **dp, size_t *n)
{
    if (!has_prefix(in))
        return ETHD_EINVAL;
    const char *d = in + 2;
    size_t len = strlen(d);
    if (len == 0)
        return ETHD_EINVAL;
    if (d[0] == '0' && len > 1)
        return ETHD_EINVAL;
    int rc = check_digits(d, len);
    if (rc)
        return rc;
    if (len > maxdig)
        return ETHD_ERANGE;
    *dp = d;
    *n = len;
    return 0;
}

int ethd_hex_parse_quantity(const char *in, uint64_t *out)
{
    const char *d;
    size_t n;
    int rc = scan_quantity(in, 16, &d, &n);
    if (rc)
        return rc;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 4 | (uint64_t)nibble((unsigned char)d[i]);
    *out = v;
    return 0;
}

int ethd_hex_parse_quantity_u256(const char *in, uint8_t out[32])
{
    const char *d;
    size_t n;
    int rc = scan_quantity(in, 64, &d, &n);
    if (rc)
        return rc;
    memset(out, 0, 32);
    /* Fill from the least significant digit: digit j from the right goes to
     * byte 31 - j/2, high nibble when j is odd. */
    for (size_t j = 0; j < n; j++) {
        unsigned v = (unsigned)nibble((unsigned char)d[n - 1 - j]);
        out[31 - j / 2] |= (uint8_t)(j % 2 ? v << 4 : v);
    }
    return 0;
}
