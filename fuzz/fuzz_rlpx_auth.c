/* libFuzzer target for the RLPx handshake readers (core/p2p/rlpx.c).
 *
 * 1. The input as received: ethd_rlpx_hs_read_auth by a recipient holding
 *    key B of the EIP-8 vectors, and ethd_rlpx_hs_read_ack by an initiator
 *    holding key A. Never a crash; the result obeys the contract (consumed
 *    within the input, EAGAIN's need beyond it, only documented codes).
 * 2. The input as a plaintext body: sealed as an EIP-8 auth to B (fixed
 *    ephemeral key and iv, so the fuzzer gets past the ECIES MAC) and read,
 *    which reaches the RLP body parser and signature recovery; the first
 *    194 bytes are also sealed as a pre-EIP-8 auth.
 * Seeds (fuzz/corpus/rlpx_auth/): the EIP-8 auth and ack messages. */
#include "p2p/rlpx.h"

#include "crypto/ecies.h"

#include <ethd/error.h>
#include <ethd/secp256k1.h>

#include <stdlib.h>
#include <string.h>

/* EIP-8 "Test Vectors": static keys A and B, ephemeral key A. */
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
static const uint8_t fixed_iv[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static struct ethd_secp *secp; /* the harness's one context, kept for the run */
static uint8_t pub_b[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, const uint8_t *in, size_t len, size_t consumed, size_t need,
                  const struct ethd_buf *kept)
{
    switch (rc) {
    case 0:
        if (consumed == 0 || consumed > len || kept->len != consumed ||
            memcmp(kept->data, in, consumed) != 0)
            abort();
        break;
    case ETHD_EAGAIN:
        if (need != 0 && need <= len)
            abort();
        if (need > ETHD_RLPX_HANDSHAKE_MAX + 2)
            abort();
        break;
    case ETHD_ECRYPTO:
    case ETHD_EPROTO:
    case ETHD_ETOOBIG:
        if (kept->len != 0)
            abort();
        break;
    default:
        abort();
    }
}

static void read_as_auth(const uint8_t *in, size_t len)
{
    struct ethd_rlpx_handshake hs;
    if (ethd_rlpx_hs_init(&hs, secp, false, key_b, NULL) != 0)
        abort();
    size_t consumed = 0, need = 0;
    int rc = ethd_rlpx_hs_read_auth(&hs, in, len, &consumed, &need);
    check(rc, in, len, consumed, need, &hs.auth);
    if (rc == 0) {
        /* a successful auth must lead to an ack and secrets */
        struct ethd_buf out = ETHD_BUF_INIT;
        if (ethd_rlpx_hs_write_ack(&hs, &out) != 0 || out.len == 0)
            abort();
        struct ethd_rlpx_secrets s;
        if (ethd_rlpx_hs_secrets(&hs, &s) != 0)
            abort();
        ethd_buf_free(&out);
    }
    ethd_rlpx_hs_free(&hs);
}

static void read_as_ack(const uint8_t *in, size_t len)
{
    struct ethd_rlpx_handshake hs;
    if (ethd_rlpx_hs_init(&hs, secp, true, key_a, pub_b) != 0)
        abort();
    if (ethd_buf_append(&hs.auth, "auth", 4) != 0) /* pretend it was sent */
        abort();
    size_t consumed = 0, need = 0;
    int rc = ethd_rlpx_hs_read_ack(&hs, in, len, &consumed, &need);
    check(rc, in, len, consumed, need, &hs.ack);
    ethd_rlpx_hs_free(&hs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (secp == NULL) {
        if (ethd_secp_new(&secp) != 0 || ethd_secp_pubkey(secp, key_b, pub_b) != 0)
            abort();
    }
    if (size > 4 * ETHD_RLPX_HANDSHAKE_MAX)
        return 0;

    /* 1. as received */
    read_as_auth(data, size);
    read_as_ack(data, size);

    /* 2. as a plaintext body, sealed so that it decrypts */
    size_t plain_len = size < ETHD_RLPX_HANDSHAKE_MAX - ETHD_ECIES_OVERHEAD
                           ? size
                           : ETHD_RLPX_HANDSHAKE_MAX - ETHD_ECIES_OVERHEAD;
    uint8_t wire[ETHD_RLPX_HANDSHAKE_MAX + 2];
    size_t enc = ethd_ecies_encrypted_len(plain_len), olen = 0;
    wire[0] = (uint8_t)(enc >> 8);
    wire[1] = (uint8_t)enc;
    if (ethd_ecies_encrypt_with(secp, pub_b, key_eph, fixed_iv, data, plain_len, wire, 2,
                                wire + 2, sizeof wire - 2, &olen) != 0)
        abort();
    read_as_auth(wire, 2 + olen);

    uint8_t legacy_plain[194] = {0};
    memcpy(legacy_plain, data, size < sizeof legacy_plain ? size : sizeof legacy_plain);
    if (ethd_ecies_encrypt_with(secp, pub_b, key_eph, fixed_iv, legacy_plain, sizeof legacy_plain,
                                NULL, 0, wire, sizeof wire, &olen) != 0 ||
        olen != ETHD_RLPX_AUTH_LEGACY_LEN)
        abort();
    read_as_auth(wire, olen);
    return 0;
}
