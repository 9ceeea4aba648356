/* RLPx transport codec: the EIP-8 / pre-EIP-8 handshake, session secrets,
 * framing with the keccak MAC, and EIP-706 snappy (devp2p rlpx.md; EIP-8;
 * EIP-706). Pure functions over byte buffers; see rlpx.h for the contract. */
#include "p2p/rlpx.h"

#include "crypto/ecies.h"

#include <ethd/error.h>
#include <ethd/random.h>
#include <ethd/rlp.h>

#include <stdlib.h>
#include <string.h>

#include <nettle/aes.h>
#include <nettle/ctr.h>
#include <snappy-c.h>

#define HS_VERSION 4             /* auth-vsn / ack-vsn we send (rlpx.md) */
#define LEGACY_AUTH_PLAIN 194    /* sig 65 || keccak(eph-pubk) 32 || pubk 64 || nonce 32 || 0x00 */
#define LEGACY_ACK_PLAIN 97      /* eph-pubk 64 || nonce 32 || 0x00 */
#define PAD_MIN 100              /* EIP-8: at least 100 bytes of padding ... */
#define PAD_SPAN 201             /* ... a random amount in [100, 300] */
#define FRAME_SIZE_MAX 0xffffffu /* frame-size is a 24-bit field */
/* Frame bodies are encrypted and MACed in chunks so both passes run over
 * data still in L1; a multiple of the AES block (16) and Keccak rate (136). */
#define CHUNK (272u * 64u)
/* A read buffer grown past this by one large frame is released when a
 * smaller frame follows, so a connection does not keep 16 MiB forever. */
#define RBUF_KEEP (256u * 1024u)

_Static_assert(ETHD_RLPX_AUTH_LEGACY_LEN == LEGACY_AUTH_PLAIN + ETHD_ECIES_OVERHEAD,
               "legacy auth length");
_Static_assert(ETHD_RLPX_ACK_LEGACY_LEN == LEGACY_ACK_PLAIN + ETHD_ECIES_OVERHEAD,
               "legacy ack length");
_Static_assert(ETHD_RLPX_HANDSHAKE_MAX <= 0xffff, "size prefix is 16 bits");

static void xor32(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
    for (int i = 0; i < 32; i++)
        out[i] = a[i] ^ b[i];
}

/* Constant-time equality of two 16-byte MACs. */
static bool mac_equal(const uint8_t *a, const uint8_t *b)
{
    uint8_t d = 0;
    for (int i = 0; i < 16; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

static void set_need(size_t *need, size_t v)
{
    if (need)
        *need = v;
}

/* ------------------------------------------------------------------ */
/* handshake                                                           */

int ethd_rlpx_hs_init(struct ethd_rlpx_handshake *hs, const struct ethd_secp *secp,
                      bool initiator, const uint8_t static_priv[32], const uint8_t *remote_pub)
{
    if (hs == NULL)
        return ETHD_EINVAL;
    memset(hs, 0, sizeof *hs); /* also the two buffers: ETHD_BUF_INIT */
    if (secp == NULL || static_priv == NULL || (initiator && remote_pub == NULL))
        return ETHD_EINVAL;
    hs->secp = secp;
    hs->initiator = initiator;
    int rc = ethd_secp_seckey_check(secp, static_priv);
    if (rc == 0 && initiator)
        rc = ethd_secp_pubkey_check(secp, remote_pub);
    if (rc == 0)
        rc = ethd_secp_keygen(secp, hs->eph_priv);
    if (rc == 0)
        rc = ethd_random_bytes(hs->nonce, sizeof hs->nonce);
    if (rc) {
        explicit_bzero(hs, sizeof *hs);
        return rc;
    }
    memcpy(hs->static_priv, static_priv, 32);
    if (initiator)
        memcpy(hs->remote_pub, remote_pub, 64);
    return 0;
}

void ethd_rlpx_hs_set_ephemeral(struct ethd_rlpx_handshake *hs, const uint8_t eph_priv[32],
                                const uint8_t nonce[32])
{
    memcpy(hs->eph_priv, eph_priv, 32);
    memcpy(hs->nonce, nonce, 32);
}

void ethd_rlpx_hs_free(struct ethd_rlpx_handshake *hs)
{
    if (hs == NULL)
        return;
    ethd_buf_free(&hs->auth);
    ethd_buf_free(&hs->ack);
    explicit_bzero(hs, sizeof *hs);
}

/* EIP-8 sealing shared by auth and ack: body || 100..300 random bytes,
 * ECIES-encrypted to `to` with the 2-byte big-endian size of the ciphertext
 * as shared-mac-data; `wire` (empty) gets size || ciphertext. */
static int seal_eip8(const struct ethd_secp *secp, const uint8_t to[64], struct ethd_buf *plain,
                     struct ethd_buf *wire)
{
    uint8_t r[2];
    int rc = ethd_random_bytes(r, sizeof r);
    if (rc)
        return rc;
    size_t pad = PAD_MIN + (((size_t)r[0] << 8 | r[1]) % PAD_SPAN);
    rc = ethd_buf_reserve(plain, pad);
    if (rc)
        return rc;
    rc = ethd_random_bytes(plain->data + plain->len, pad);
    if (rc)
        return rc;
    plain->len += pad;
    size_t enc = ethd_ecies_encrypted_len(plain->len);
    if (enc == 0 || enc > ETHD_RLPX_HANDSHAKE_MAX)
        return ETHD_ETOOBIG;
    rc = ethd_buf_reserve(wire, 2 + enc);
    if (rc)
        return rc;
    wire->data[0] = (uint8_t)(enc >> 8);
    wire->data[1] = (uint8_t)enc;
    size_t olen = 0;
    rc = ethd_ecies_encrypt(secp, to, plain->data, plain->len, wire->data, 2, wire->data + 2, enc,
                            &olen);
    if (rc)
        return rc;
    wire->len = 2 + olen;
    return 0;
}

/* Append the finished message to the caller's buffer; on failure forget it
 * so the call can be repeated. */
static int emit(struct ethd_buf *msg, int rc, struct ethd_buf *out)
{
    if (rc == 0)
        rc = ethd_buf_append(out, msg->data, msg->len);
    if (rc)
        ethd_buf_reset(msg);
    return rc;
}

int ethd_rlpx_hs_write_auth(struct ethd_rlpx_handshake *hs, struct ethd_buf *out)
{
    if (hs == NULL || out == NULL)
        return ETHD_EINVAL;
    if (!hs->initiator || hs->auth.len > 0)
        return ETHD_ESTATE;
    /* rlpx.md: sig = sign(ephemeral-privkey, static-shared-secret ^ nonce) */
    uint8_t ss[32], msg[32], sig[65], pub[64];
    int rc = ethd_secp_ecdh(hs->secp, hs->static_priv, hs->remote_pub, ss);
    if (rc == 0) {
        xor32(msg, ss, hs->nonce);
        rc = ethd_secp_sign(hs->secp, hs->eph_priv, msg, sig);
    }
    if (rc == 0)
        rc = ethd_secp_pubkey(hs->secp, hs->static_priv, pub);
    explicit_bzero(ss, sizeof ss);
    explicit_bzero(msg, sizeof msg);
    if (rc)
        return rc;
    /* auth-body = [sig, initiator-pubk, initiator-nonce, auth-vsn] */
    struct ethd_buf plain = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &plain);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, sig, sizeof sig);
    ethd_rlp_bytes(&e, pub, sizeof pub);
    ethd_rlp_bytes(&e, hs->nonce, sizeof hs->nonce);
    ethd_rlp_uint(&e, HS_VERSION);
    ethd_rlp_list_end(&e);
    rc = ethd_rlp_enc_finish(&e);
    if (rc == 0)
        rc = seal_eip8(hs->secp, hs->remote_pub, &plain, &hs->auth);
    ethd_buf_free(&plain);
    return emit(&hs->auth, rc, out);
}

int ethd_rlpx_hs_write_ack(struct ethd_rlpx_handshake *hs, struct ethd_buf *out)
{
    if (hs == NULL || out == NULL)
        return ETHD_EINVAL;
    if (hs->initiator || hs->auth.len == 0 || hs->ack.len > 0)
        return ETHD_ESTATE;
    uint8_t eph_pub[64];
    int rc = ethd_secp_pubkey(hs->secp, hs->eph_priv, eph_pub);
    if (rc)
        return rc;
    if (hs->remote_eip8) {
        /* ack-body = [recipient-ephemeral-pubk, recipient-nonce, ack-vsn] */
        struct ethd_buf plain = ETHD_BUF_INIT;
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &plain);
        ethd_rlp_list_begin(&e);
        ethd_rlp_bytes(&e, eph_pub, sizeof eph_pub);
        ethd_rlp_bytes(&e, hs->nonce, sizeof hs->nonce);
        ethd_rlp_uint(&e, HS_VERSION);
        ethd_rlp_list_end(&e);
        rc = ethd_rlp_enc_finish(&e);
        if (rc == 0)
            rc = seal_eip8(hs->secp, hs->remote_pub, &plain, &hs->ack);
        ethd_buf_free(&plain);
        return emit(&hs->ack, rc, out);
    }
    /* Pre-EIP-8 ack answers a pre-EIP-8 auth (EIP-8, "Specification"):
     * ephemeral-pubk || nonce || token-flag 0x00, no prefix, no mac data. */
    uint8_t plain[LEGACY_ACK_PLAIN];
    memcpy(plain, eph_pub, 64);
    memcpy(plain + 64, hs->nonce, 32);
    plain[96] = 0;
    rc = ethd_buf_reserve(&hs->ack, ETHD_RLPX_ACK_LEGACY_LEN);
    size_t olen = 0;
    if (rc == 0)
        rc = ethd_ecies_encrypt(hs->secp, hs->remote_pub, plain, sizeof plain, NULL, 0,
                                hs->ack.data, ETHD_RLPX_ACK_LEGACY_LEN, &olen);
    if (rc == 0)
        hs->ack.len = olen;
    explicit_bzero(plain, sizeof plain);
    return emit(&hs->ack, rc, out);
}

/* ECIES-open `msg` with our static key into plain (HANDSHAKE_MAX bytes). */
static int open_ecies(const struct ethd_rlpx_handshake *hs, const uint8_t *msg, size_t msg_len,
                      const uint8_t *mac, size_t mac_len, uint8_t *plain, size_t *plen)
{
    if (msg_len < ETHD_ECIES_OVERHEAD)
        return ETHD_ECRYPTO;
    return ethd_ecies_decrypt(hs->secp, hs->static_priv, msg, msg_len, mac, mac_len, plain,
                              ETHD_RLPX_HANDSHAKE_MAX, plen) == 0
               ? 0
               : ETHD_ECRYPTO;
}

/* Find and decrypt a handshake message at the start of `in`, in either
 * format. A pre-EIP-8 message is a bare ECIES message, so its first byte is
 * 0x04 (the uncompressed R); read as an EIP-8 size prefix that is 1024..1279,
 * a plausible size, so until the fixed-length legacy decryption has been
 * tried both readings stand (EIP-8, "Rationale": try the old format first,
 * then use the prefix). Any other first byte can only be a size prefix, so
 * an oversized one is refused after two bytes.
 *
 * hs->remote_eip8 doubles as "the legacy reading already failed": callers
 * must pass the same start of input again, so while the rest of an EIP-8
 * message arrives the (ECDH-costly) legacy attempt is not repeated. */
static int open_msg(struct ethd_rlpx_handshake *hs, size_t legacy_len, const uint8_t *in,
                    size_t len, uint8_t *plain, size_t *plen, size_t *wire_len, size_t *need)
{
    set_need(need, 0);
    if (len < 2)
        return ETHD_EAGAIN;
    if (in[0] == 0x04 && !hs->remote_eip8) {
        if (len < legacy_len) {
            set_need(need, legacy_len);
            return ETHD_EAGAIN;
        }
        if (open_ecies(hs, in, legacy_len, NULL, 0, plain, plen) == 0) {
            *wire_len = legacy_len;
            return 0;
        }
        hs->remote_eip8 = true;
    }
    size_t size = (size_t)in[0] << 8 | in[1];
    if (size > ETHD_RLPX_HANDSHAKE_MAX)
        return ETHD_ETOOBIG;
    if (len < 2 + size) {
        hs->remote_eip8 = true;
        set_need(need, 2 + size);
        return ETHD_EAGAIN;
    }
    int rc = open_ecies(hs, in + 2, size, in, 2, plain, plen);
    if (rc)
        return rc;
    hs->remote_eip8 = true;
    *wire_len = 2 + size;
    return 0;
}

/* The RLP list at the start of an EIP-8 body; the padding after it (and any
 * trailing data) is ignored as EIP-8 requires. */
static int open_body(const uint8_t *p, size_t n, struct ethd_rlp_iter *it)
{
    struct ethd_rlp_item list;
    if (ethd_rlp_next(&p, &n, &list) != 0 || !list.is_list)
        return ETHD_EPROTO;
    return ethd_rlp_iter_init(it, &list) == 0 ? 0 : ETHD_EPROTO;
}

static int next_fixed(struct ethd_rlp_iter *it, void *out, size_t n)
{
    struct ethd_rlp_item item;
    if (ethd_rlp_iter_next(it, &item) != 0 || ethd_rlp_get_fixed(&item, out, n) != 0)
        return ETHD_EPROTO;
    return 0;
}

/* auth-vsn / ack-vsn: mismatches must be ignored (rlpx.md), so a version
 * too wide for 64 bits is kept as UINT64_MAX rather than refused; the element
 * itself is required and must be a canonical integer. Elements after it are
 * ignored. */
static int next_version(struct ethd_rlp_iter *it, uint64_t *v)
{
    struct ethd_rlp_item item;
    if (ethd_rlp_iter_next(it, &item) != 0)
        return ETHD_EPROTO;
    int rc = ethd_rlp_get_uint64(&item, v);
    if (rc == ETHD_ERANGE) {
        uint8_t wide[32];
        if (ethd_rlp_get_u256(&item, wide) != 0)
            return ETHD_EPROTO;
        *v = UINT64_MAX;
        return 0;
    }
    return rc == 0 ? 0 : ETHD_EPROTO;
}

/* Failure of a read: forget what open_msg noted unless we are only waiting. */
static int read_fail(struct ethd_rlpx_handshake *hs, int rc)
{
    if (rc != ETHD_EAGAIN)
        hs->remote_eip8 = false;
    return rc;
}

int ethd_rlpx_hs_read_auth(struct ethd_rlpx_handshake *hs, const uint8_t *in, size_t len,
                           size_t *consumed, size_t *need)
{
    if (hs == NULL || consumed == NULL || (in == NULL && len > 0))
        return ETHD_EINVAL;
    if (hs->initiator || hs->auth.len > 0)
        return ETHD_ESTATE;
    uint8_t plain[ETHD_RLPX_HANDSHAKE_MAX];
    size_t plen = 0, wire = 0;
    int rc = open_msg(hs, ETHD_RLPX_AUTH_LEGACY_LEN, in, len, plain, &plen, &wire, need);
    if (rc)
        return read_fail(hs, rc);

    uint8_t sig[65], pub[64], nonce[32], eph_hash[32], eph[64];
    uint64_t vsn = HS_VERSION; /* a pre-EIP-8 message is RLPx v4 by definition */
    if (!hs->remote_eip8) {
        memcpy(sig, plain, 65);
        memcpy(eph_hash, plain + 65, 32);
        memcpy(pub, plain + 97, 64);
        memcpy(nonce, plain + 161, 32);
        /* the last byte is the unused token flag */
    } else {
        struct ethd_rlp_iter it;
        rc = open_body(plain, plen, &it);
        if (rc == 0)
            rc = next_fixed(&it, sig, sizeof sig);
        if (rc == 0)
            rc = next_fixed(&it, pub, sizeof pub);
        if (rc == 0)
            rc = next_fixed(&it, nonce, sizeof nonce);
        if (rc == 0)
            rc = next_version(&it, &vsn);
    }
    explicit_bzero(plain, sizeof plain);
    if (rc)
        return read_fail(hs, rc);

    /* The signature is over static-shared-secret ^ initiator-nonce and
     * recovers the initiator's ephemeral key (rlpx.md, "Initial Handshake"). */
    uint8_t ss[32], msg[32];
    rc = ethd_secp_ecdh(hs->secp, hs->static_priv, pub, ss) == 0 ? 0 : ETHD_ECRYPTO;
    if (rc == 0) {
        xor32(msg, ss, nonce);
        rc = ethd_secp_recover(hs->secp, msg, sig, sizeof sig, eph) == 0 ? 0 : ETHD_ECRYPTO;
    }
    explicit_bzero(ss, sizeof ss);
    explicit_bzero(msg, sizeof msg);
    if (rc == 0 && !hs->remote_eip8) {
        /* legacy only: keccak256(ephemeral-pubk) must match the recovery */
        uint8_t h[32];
        ethd_keccak256(eph, sizeof eph, h);
        if (memcmp(h, eph_hash, 32) != 0)
            rc = ETHD_ECRYPTO;
    }
    if (rc == 0)
        rc = ethd_buf_append(&hs->auth, in, wire);
    if (rc)
        return read_fail(hs, rc);
    memcpy(hs->remote_pub, pub, 64);
    memcpy(hs->remote_eph_pub, eph, 64);
    memcpy(hs->remote_nonce, nonce, 32);
    hs->remote_version = vsn;
    *consumed = wire;
    set_need(need, 0);
    return 0;
}

int ethd_rlpx_hs_read_ack(struct ethd_rlpx_handshake *hs, const uint8_t *in, size_t len,
                          size_t *consumed, size_t *need)
{
    if (hs == NULL || consumed == NULL || (in == NULL && len > 0))
        return ETHD_EINVAL;
    if (!hs->initiator || hs->auth.len == 0 || hs->ack.len > 0)
        return ETHD_ESTATE;
    uint8_t plain[ETHD_RLPX_HANDSHAKE_MAX];
    size_t plen = 0, wire = 0;
    int rc = open_msg(hs, ETHD_RLPX_ACK_LEGACY_LEN, in, len, plain, &plen, &wire, need);
    if (rc)
        return read_fail(hs, rc);

    uint8_t eph[64], nonce[32];
    uint64_t vsn = HS_VERSION;
    if (!hs->remote_eip8) {
        memcpy(eph, plain, 64);
        memcpy(nonce, plain + 64, 32);
    } else {
        struct ethd_rlp_iter it;
        rc = open_body(plain, plen, &it);
        if (rc == 0)
            rc = next_fixed(&it, eph, sizeof eph);
        if (rc == 0)
            rc = next_fixed(&it, nonce, sizeof nonce);
        if (rc == 0)
            rc = next_version(&it, &vsn);
    }
    explicit_bzero(plain, sizeof plain);
    if (rc == 0 && ethd_secp_pubkey_check(hs->secp, eph) != 0)
        rc = ETHD_ECRYPTO;
    if (rc == 0)
        rc = ethd_buf_append(&hs->ack, in, wire);
    if (rc)
        return read_fail(hs, rc);
    memcpy(hs->remote_eph_pub, eph, 64);
    memcpy(hs->remote_nonce, nonce, 32);
    hs->remote_version = vsn;
    *consumed = wire;
    set_need(need, 0);
    return 0;
}

/* keccak256(a || b) of two 32-byte strings */
static void hash64(const uint8_t a[32], const uint8_t b[32], uint8_t out[32])
{
    uint8_t buf[64];
    memcpy(buf, a, 32);
    memcpy(buf + 32, b, 32);
    ethd_keccak256(buf, sizeof buf, out);
    explicit_bzero(buf, sizeof buf);
}

/* keccak256.init((mac-secret ^ nonce) || msg) */
static void mac_init(struct ethd_keccak *k, const uint8_t mac[32], const uint8_t nonce[32],
                     const struct ethd_buf *msg)
{
    uint8_t x[32];
    xor32(x, mac, nonce);
    ethd_keccak_init(k);
    ethd_keccak_update(k, x, sizeof x);
    ethd_keccak_update(k, msg->data, msg->len);
    explicit_bzero(x, sizeof x);
}

int ethd_rlpx_hs_secrets(const struct ethd_rlpx_handshake *hs, struct ethd_rlpx_secrets *out)
{
    if (hs == NULL || out == NULL)
        return ETHD_EINVAL;
    if (hs->auth.len == 0 || hs->ack.len == 0)
        return ETHD_ESTATE;
    const uint8_t *init_nonce = hs->initiator ? hs->nonce : hs->remote_nonce;
    const uint8_t *recip_nonce = hs->initiator ? hs->remote_nonce : hs->nonce;
    uint8_t eph_key[32], h[32], shared[32];
    if (ethd_secp_ecdh(hs->secp, hs->eph_priv, hs->remote_eph_pub, eph_key) != 0)
        return ETHD_ECRYPTO;
    /* rlpx.md, "Initial Handshake" (secrets):
     * shared-secret = keccak256(ephemeral-key || keccak256(nonce || initiator-nonce))
     * where nonce is the recipient's; aes-secret and mac-secret chain on. */
    hash64(recip_nonce, init_nonce, h);
    hash64(eph_key, h, shared);
    hash64(eph_key, shared, out->aes);
    hash64(eph_key, out->aes, out->mac);
    explicit_bzero(eph_key, sizeof eph_key);
    explicit_bzero(shared, sizeof shared);
    /* rlpx.md, "MAC": the initiator's egress and the recipient's ingress
     * start from (mac-secret ^ recipient-nonce) || auth; the other pair from
     * (mac-secret ^ initiator-nonce) || ack. */
    struct ethd_keccak *auth_side = hs->initiator ? &out->egress_mac : &out->ingress_mac;
    struct ethd_keccak *ack_side = hs->initiator ? &out->ingress_mac : &out->egress_mac;
    mac_init(auth_side, out->mac, recip_nonce, &hs->auth);
    mac_init(ack_side, out->mac, init_nonce, &hs->ack);
    memcpy(out->remote_pub, hs->remote_pub, 64);
    return 0;
}

/* ------------------------------------------------------------------ */
/* framing                                                             */

/* A MAC state with its last digest: the frame-mac digest of one frame is
 * also the digest the next header-mac seed starts from (nothing is absorbed
 * in between), so caching it saves one Keccak permutation per frame. */
struct mac {
    struct ethd_keccak k;
    uint8_t last[16]; /* keccak256.digest(k)[:16] when fresh */
    bool fresh;
};

struct ethd_rlpx_frame {
    struct aes256_ctx enc;     /* aes-secret: the CTR keystream of both directions */
    struct aes256_ctx mac_aes; /* mac-secret: the one-block AES of the MAC seeds */
    uint8_t egress_ctr[16];    /* counter blocks; IV zero (rlpx.md, "Framing") */
    uint8_t ingress_ctr[16];
    struct mac egress_mac;
    struct mac ingress_mac;
    size_t max_frame;
    int broken;        /* sticky error once the ingress stream is out of step */
    bool have_header;  /* header of the frame being read is verified and decrypted */
    size_t frame_size; /* its frame-size */
    struct ethd_buf rbuf; /* decrypted frame-data of the last frame read */
};

int ethd_rlpx_frame_new(const struct ethd_rlpx_secrets *s, size_t max_frame,
                        struct ethd_rlpx_frame **out)
{
    if (out == NULL)
        return ETHD_EINVAL;
    *out = NULL;
    if (s == NULL || max_frame > ETHD_RLPX_FRAME_MAX)
        return ETHD_EINVAL;
    struct ethd_rlpx_frame *f = calloc(1, sizeof *f);
    if (f == NULL)
        return ETHD_ENOMEM;
    aes256_set_encrypt_key(&f->enc, s->aes);
    aes256_set_encrypt_key(&f->mac_aes, s->mac);
    f->egress_mac.k = s->egress_mac;
    f->ingress_mac.k = s->ingress_mac;
    f->max_frame = max_frame ? max_frame : ETHD_RLPX_FRAME_MAX;
    if (f->max_frame > FRAME_SIZE_MAX)
        f->max_frame = FRAME_SIZE_MAX;
    *out = f;
    return 0;
}

void ethd_rlpx_frame_free(struct ethd_rlpx_frame *f)
{
    if (f == NULL)
        return;
    ethd_buf_free(&f->rbuf);
    explicit_bzero(f, sizeof *f);
    free(f);
}

static void ctr(struct ethd_rlpx_frame *f, uint8_t counter[16], size_t n, uint8_t *dst,
                const uint8_t *src)
{
    ctr_crypt(&f->enc, (nettle_cipher_func *)aes256_encrypt, AES_BLOCK_SIZE, counter, n, dst, src);
}

static void mac_absorb(struct mac *m, const uint8_t *p, size_t n)
{
    if (n > 0) {
        ethd_keccak_update(&m->k, p, n);
        m->fresh = false;
    }
}

/* keccak256.digest(mac)[:16] */
static const uint8_t *mac_digest(struct mac *m)
{
    if (!m->fresh) {
        uint8_t d[32];
        ethd_keccak_peek(&m->k, d);
        memcpy(m->last, d, 16);
        m->fresh = true;
    }
    return m->last;
}

/* rlpx.md, "MAC":
 *   header-mac-seed = aes(mac-secret, keccak256.digest(mac)[:16]) ^ header-ciphertext
 *   mac = keccak256.update(mac, header-mac-seed)
 *   header-mac = keccak256.digest(mac)[:16]
 * aes() here is one block of AES-256 (ECB). */
static void header_mac(const struct aes256_ctx *mac_aes, struct mac *m, const uint8_t hct[16],
                       uint8_t out[16])
{
    uint8_t seed[16];
    aes256_encrypt(mac_aes, 16, seed, mac_digest(m));
    for (int i = 0; i < 16; i++)
        seed[i] ^= hct[i];
    mac_absorb(m, seed, sizeof seed);
    memcpy(out, mac_digest(m), 16);
}

/* After mac has absorbed frame-ciphertext:
 *   frame-mac-seed = aes(mac-secret, keccak256.digest(mac)[:16]) ^ keccak256.digest(mac)[:16]
 *   mac = keccak256.update(mac, frame-mac-seed); frame-mac = keccak256.digest(mac)[:16] */
static void frame_mac(const struct aes256_ctx *mac_aes, struct mac *m, uint8_t out[16])
{
    uint8_t seed[16];
    const uint8_t *d = mac_digest(m);
    aes256_encrypt(mac_aes, 16, seed, d);
    for (int i = 0; i < 16; i++)
        seed[i] ^= d[i];
    mac_absorb(m, seed, sizeof seed);
    memcpy(out, mac_digest(m), 16);
}

/* RLP of a message code: 0 -> 0x80, < 0x80 itself, else 0x80+n || big-endian. */
static size_t put_code(uint64_t code, uint8_t out[9])
{
    if (code == 0) {
        out[0] = 0x80;
        return 1;
    }
    if (code < 0x80) {
        out[0] = (uint8_t)code;
        return 1;
    }
    size_t n = 0;
    for (uint64_t v = code; v; v >>= 8)
        n++;
    out[0] = (uint8_t)(0x80 + n);
    for (size_t i = 0; i < n; i++)
        out[n - i] = (uint8_t)(code >> (8 * i));
    return n + 1;
}

/* Bytes [off, off+n) of id || payload || zero padding into dst. */
static void gather(uint8_t *dst, size_t off, size_t n, const uint8_t *id, size_t idlen,
                   const uint8_t *payload, size_t plen)
{
    size_t i = 0;
    if (off < idlen) {
        i = idlen - off < n ? idlen - off : n;
        memcpy(dst, id + off, i);
    }
    if (i < n) {
        size_t p = off + i - idlen;
        if (p < plen) {
            size_t k = plen - p < n - i ? plen - p : n - i;
            memcpy(dst + i, payload + p, k);
            i += k;
        }
        memset(dst + i, 0, n - i);
    }
}

int ethd_rlpx_frame_write(struct ethd_rlpx_frame *f, uint64_t code, const uint8_t *payload,
                          size_t len, struct ethd_buf *out)
{
    if (f == NULL || out == NULL || (payload == NULL && len > 0))
        return ETHD_EINVAL;
    uint8_t id[9];
    size_t idlen = put_code(code, id);
    if (len > f->max_frame || idlen > f->max_frame - len)
        return ETHD_ETOOBIG;
    size_t size = idlen + len, padded = (size + 15) & ~(size_t)15;
    size_t total = 32 + padded + 16;
    int rc = ethd_buf_reserve(out, total);
    if (rc)
        return rc;
    uint8_t *hdr = out->data + out->len, *body = hdr + 32;

    /* header = frame-size (24-bit BE) || [capability-id 0, context-id 0] || zero fill */
    memset(hdr, 0, 16);
    hdr[0] = (uint8_t)(size >> 16);
    hdr[1] = (uint8_t)(size >> 8);
    hdr[2] = (uint8_t)size;
    hdr[3] = 0xc2;
    hdr[4] = 0x80;
    hdr[5] = 0x80;
    ctr(f, f->egress_ctr, 16, hdr, hdr);
    header_mac(&f->mac_aes, &f->egress_mac, hdr, hdr + 16);

    /* frame-ciphertext, absorbed into egress-mac chunk by chunk while hot */
    for (size_t off = 0; off < padded; off += CHUNK) {
        size_t n = padded - off < CHUNK ? padded - off : CHUNK;
        gather(body + off, off, n, id, idlen, payload, len);
        ctr(f, f->egress_ctr, n, body + off, body + off);
        mac_absorb(&f->egress_mac, body + off, n);
    }
    frame_mac(&f->mac_aes, &f->egress_mac, body + padded);
    out->len += total;
    return 0;
}

/* frame-data = msg-id || msg-data, msg-id an RLP integer (rlpx.md, "Message
 * Encoding"). */
static int parse_code(const uint8_t *p, size_t n, uint64_t *code, size_t *idlen)
{
    struct ethd_rlp_item item;
    if (n == 0 || p[0] >= 0xc0)
        return ETHD_EPROTO;
    const uint8_t *q = p;
    size_t left = n;
    if (ethd_rlp_next(&q, &left, &item) != 0 || ethd_rlp_get_uint64(&item, code) != 0)
        return ETHD_EPROTO;
    *idlen = item.raw_len;
    return 0;
}

int ethd_rlpx_frame_read(struct ethd_rlpx_frame *f, const uint8_t *in, size_t len,
                         size_t *consumed, size_t *need, uint64_t *code, const uint8_t **payload,
                         size_t *plen)
{
    if (f == NULL || consumed == NULL || code == NULL || payload == NULL || plen == NULL ||
        (in == NULL && len > 0))
        return ETHD_EINVAL;
    set_need(need, 0);
    if (f->broken)
        return f->broken;

    if (!f->have_header) {
        if (len < 32) {
            set_need(need, 32);
            return ETHD_EAGAIN;
        }
        /* rlpx.md, "MAC": verify before decrypting */
        uint8_t mac[16], hdr[16];
        header_mac(&f->mac_aes, &f->ingress_mac, in, mac);
        if (!mac_equal(mac, in + 16))
            return f->broken = ETHD_ECRYPTO;
        ctr(f, f->ingress_ctr, 16, hdr, in);
        /* header-data and padding are not checked: capability-id and
         * context-id are unused, and newer peers may put things there. */
        size_t size = (size_t)hdr[0] << 16 | (size_t)hdr[1] << 8 | hdr[2];
        if (size > f->max_frame)
            return f->broken = ETHD_ETOOBIG;
        f->frame_size = size;
        f->have_header = true;
    }

    size_t size = f->frame_size, padded = (size + 15) & ~(size_t)15;
    size_t total = 32 + padded + 16;
    if (len < total) {
        set_need(need, total);
        return ETHD_EAGAIN;
    }
    if (f->rbuf.cap > RBUF_KEEP && padded <= RBUF_KEEP)
        ethd_buf_free(&f->rbuf);
    ethd_buf_reset(&f->rbuf);
    int rc = ethd_buf_reserve(&f->rbuf, padded ? padded : 1);
    if (rc)
        return rc; /* nothing consumed from the MAC or cipher state yet */

    /* Each chunk is absorbed into ingress-mac and decrypted while it is in
     * cache; the plaintext stays private until the frame MAC has verified,
     * so this is the spec's "verify before decrypting" in effect. */
    const uint8_t *ct = in + 32;
    for (size_t off = 0; off < padded; off += CHUNK) {
        size_t n = padded - off < CHUNK ? padded - off : CHUNK;
        mac_absorb(&f->ingress_mac, ct + off, n);
        ctr(f, f->ingress_ctr, n, f->rbuf.data + off, ct + off);
    }
    uint8_t mac[16];
    frame_mac(&f->mac_aes, &f->ingress_mac, mac);
    if (!mac_equal(mac, ct + padded))
        return f->broken = ETHD_ECRYPTO;
    f->have_header = false;
    f->rbuf.len = size;
    *consumed = total;

    /* The stream stays in step even when the contents are bad, so a bad
     * msg-id is not sticky; *consumed is set either way. */
    size_t idlen = 0;
    rc = parse_code(f->rbuf.data, size, code, &idlen);
    if (rc)
        return rc;
    *payload = f->rbuf.data + idlen;
    *plen = size - idlen;
    return 0;
}

/* ------------------------------------------------------------------ */
/* snappy (EIP-706)                                                    */

int ethd_rlpx_snappy_compress(const uint8_t *in, size_t len, struct ethd_buf *out)
{
    static const char empty[1];
    if (out == NULL || (in == NULL && len > 0))
        return ETHD_EINVAL;
    /* the snappy length header is a 32-bit varint */
    if (len > UINT32_MAX)
        return ETHD_ETOOBIG;
    size_t cap = snappy_max_compressed_length(len);
    ethd_buf_reset(out);
    int rc = ethd_buf_reserve(out, cap);
    if (rc)
        return rc;
    size_t olen = cap;
    if (snappy_compress(in ? (const char *)in : empty, len, (char *)out->data, &olen) != SNAPPY_OK)
        return ETHD_ETOOBIG;
    out->len = olen;
    return 0;
}

int ethd_rlpx_snappy_decompress(const uint8_t *in, size_t len, size_t max, struct ethd_buf *out)
{
    static const char empty[1];
    if (out == NULL || (in == NULL && len > 0))
        return ETHD_EINVAL;
    const char *src = in ? (const char *)in : empty;
    size_t n = 0;
    /* EIP-706, "Avoiding DOS attacks": the declared size comes first and is
     * checked before any memory is committed to it. */
    if (snappy_uncompressed_length(src, len, &n) != SNAPPY_OK)
        return ETHD_EPROTO;
    if (n > max)
        return ETHD_ETOOBIG;
    ethd_buf_reset(out);
    int rc = ethd_buf_reserve(out, n ? n : 1);
    if (rc)
        return rc;
    size_t olen = n;
    if (snappy_uncompress(src, len, (char *)out->data, &olen) != SNAPPY_OK || olen != n)
        return ETHD_EPROTO;
    out->len = olen;
    return 0;
}
