/* libFuzzer target for RLPx ECIES (core/crypto/ecies.c).
 *
 * 1. Arbitrary bytes go to ethd_ecies_decrypt under the two static keys of
 *    the EIP-8 test vectors, both as a pre-EIP-8 message (no shared-mac-data)
 *    and as an EIP-8 one (2-byte size prefix = shared-mac-data). It must
 *    never crash, and a success must report exactly len - 113 bytes.
 * 2. The input is split into plaintext and shared-mac-data, encrypted to
 *    key B with a fixed ephemeral key and iv, decrypted again and compared;
 *    a mismatch, or a one-byte corruption that still decrypts, aborts.
 * Seeds (fuzz/corpus/ecies/) are the EIP-8 auth/ack messages, which decrypt
 * under these keys. */
#include "crypto/ecies.h"

#include <ethd/error.h>
#include <ethd/secp256k1.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* EIP-8 "Test Vectors": static keys of A (initiator) and B (recipient), and
 * A's ephemeral key, used here as the fixed encryption ephemeral key. */
static const uint8_t key_a[32] = {
    0x49, 0xa7, 0xb3, 0x7a, 0xa6, 0xf6, 0x64, 0x59, 0x17, 0xe7, 0xb8, 0x07, 0xe9, 0xd1, 0xc0, 0x0d,
    0x4f, 0xa7, 0x1f, 0x18, 0x34, 0x3b, 0x0d, 0x41, 0x22, 0xa4, 0xd2, 0xdf, 0x64, 0xdd, 0x6f, 0xee,
};
static const uint8_t key_b[32] = {
    0xb7, 0x1c, 0x71, 0xa6, 0x7e, 0x11, 0x77, 0xad, 0x4e, 0x90, 0x16, 0x95, 0xe1, 0xb4, 0xb9, 0xee,
    0x17, 0xae, 0x16, 0xc6, 0x66, 0x8d, 0x31, 0x3e, 0xac, 0x2f, 0x96, 0xdb, 0xcd, 0xa3, 0xf2, 0x91,
};
static const uint8_t key_eph[32] = {
    0x86, 0x9d, 0x6e, 0xcf, 0x52, 0x11, 0xf1, 0xcc, 0x60, 0x41, 0x8a, 0x13, 0xb9, 0xd8, 0x70, 0xb2,
    0x29, 0x59, 0xd0, 0xc1, 0x6f, 0x02, 0xbe, 0xc7, 0x14, 0xc9, 0x60, 0xdd, 0x22, 0x98, 0xa3, 0x2d,
};
static const uint8_t fixed_iv[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

/* The harness's one context, created on first use and kept for the run. */
static struct ethd_secp *secp;
static uint8_t pub_b[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_decrypt(const uint8_t *key, const uint8_t *msg, size_t len, const uint8_t *mac,
                        size_t mac_len)
{
    size_t cap = ethd_ecies_plain_len(len), olen = 0;
    uint8_t *out = malloc(cap ? cap : 1);
    if (out == NULL)
        abort();
    int rc = ethd_ecies_decrypt(secp, key, msg, len, mac, mac_len, out, cap, &olen);
    if (rc == 0 && olen != len - ETHD_ECIES_OVERHEAD)
        abort();
    if (rc != 0 && rc != ETHD_ECRYPTO && rc != ETHD_ETRUNC)
        abort(); /* no other outcome is possible for well-formed arguments */
    if (len < ETHD_ECIES_OVERHEAD && rc != ETHD_ETRUNC)
        abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (secp == NULL) {
        if (ethd_secp_new(&secp) != 0 || ethd_secp_pubkey(secp, key_b, pub_b) != 0)
            abort();
    }

    /* 1. Decrypt as received. */
    try_decrypt(key_a, data, size, NULL, 0);
    try_decrypt(key_b, data, size, NULL, 0);
    if (size >= 2) {
        try_decrypt(key_a, data + 2, size - 2, data, 2);
        try_decrypt(key_b, data + 2, size - 2, data, 2);
    }

    /* 2. Round trip: byte 0 picks how much of the rest is plaintext. */
    if (size == 0)
        return 0;
    const uint8_t *rest = data + 1;
    size_t rest_len = size - 1;
    size_t plain_len = rest_len ? (size_t)data[0] * rest_len / 255 : 0;
    const uint8_t *plain = rest, *mac = rest + plain_len;
    size_t mac_len = rest_len - plain_len;
    size_t ct_cap = ethd_ecies_encrypted_len(plain_len), ct_len = 0, back_len = 0;
    uint8_t *ct = malloc(ct_cap), *back = malloc(plain_len ? plain_len : 1);
    if (ct == NULL || back == NULL)
        abort();
    if (ethd_ecies_encrypt_with(secp, pub_b, key_eph, fixed_iv, plain, plain_len, mac, mac_len, ct,
                                ct_cap, &ct_len) != 0 ||
        ct_len != ct_cap)
        abort();
    if (ethd_ecies_decrypt(secp, key_b, ct, ct_len, mac, mac_len, back, plain_len, &back_len) != 0 ||
        back_len != plain_len || (plain_len && memcmp(back, plain, plain_len) != 0))
        abort();
    /* Corrupt one byte (position from the input): must not authenticate. */
    size_t pos = (size_t)data[size - 1] * 7919u % ct_len;
    ct[pos] ^= 0x01;
    if (ethd_ecies_decrypt(secp, key_b, ct, ct_len, mac, mac_len, back, plain_len, &back_len) == 0)
        abort();
    free(ct);
    free(back);
    return 0;
}
