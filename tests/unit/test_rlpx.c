/* RLPx transport codec (core/p2p/rlpx.c): the EIP-8 handshake vectors
 * ($ETHD_VECTORS/rlpx/eip8-handshake.json) read from both sides, the session
 * secrets and ingress-mac("foo") of the EIP, in-memory handshakes (EIP-8 and
 * pre-EIP-8), framing both ways checked against an independent frame encoder
 * written here from rlpx.md, snappy (EIP-706), and the bad-input paths. */
#include "p2p/rlpx.h"

#include "crypto/ecies.h"
#include "testutil.h"

#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/secp256k1.h>

#include <check.h>
#include <jansson.h>
#include <nettle/aes.h>
#include <nettle/ctr.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static struct ethd_secp *secp;

static void setup(void)
{
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
}

static void teardown(void)
{
    ethd_secp_free(secp);
    secp = NULL;
}

static uint32_t rand_u32(void)
{
    uint32_t v;
    tu_rand_bytes(&v, sizeof v);
    return v;
}

/* ------------------------------------------------------------------ */
/* vectors                                                             */

/* The EIP-8 vectors, cross-checked with the collection's derived public
 * keys. json_decref(v->root) when done. */
static void vec_load(struct tu_eip8 *v)
{
    tu_eip8_load(secp, v);
    json_t *d = json_object_get(v->root, "derived_not_in_source");
    uint8_t p[64];
    tu_hex_fixed(tu_jstr(d, "static_pub_b"), p, 64);
    ck_assert_mem_eq(p, v->pb, 64);
    tu_hex_fixed(tu_jstr(d, "ephemeral_pub_a"), p, 64);
    ck_assert_mem_eq(p, v->epa, 64);
}

/* B reads an auth vector; checks the recovered initiator values. */
static void check_vec_auth(const char *name, bool eip8, uint64_t vsn)
{
    struct tu_eip8 v;
    vec_load(&v);
    size_t len;
    uint8_t *msg = tu_eip8_msg(&v, name, &len);
    struct ethd_rlpx_handshake hs;
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, false, v.sb, NULL), 0);
    size_t consumed = 0, need = 1;
    /* incomplete: nothing known before 2 bytes, then the total */
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, msg, 0, &consumed, &need), ETHD_EAGAIN);
    ck_assert_uint_eq(need, 0);
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, msg, 1, &consumed, &need), ETHD_EAGAIN);
    ck_assert_uint_eq(need, 0);
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, msg, 2, &consumed, &need), ETHD_EAGAIN);
    ck_assert_uint_eq(need, eip8 ? len : ETHD_RLPX_AUTH_LEGACY_LEN);
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, msg, len - 1, &consumed, &need), ETHD_EAGAIN);
    ck_assert_uint_eq(need, len);
    /* complete, with trailing bytes (the first frame) that are not consumed */
    uint8_t *more = malloc(len + 50);
    ck_assert_ptr_nonnull(more);
    memcpy(more, msg, len);
    memset(more + len, 0xab, 50);
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, more, len + 50, &consumed, &need), 0);
    ck_assert_uint_eq(consumed, len);
    ck_assert(hs.remote_eip8 == eip8);
    ck_assert_uint_eq(hs.remote_version, vsn);
    ck_assert_mem_eq(hs.remote_pub, v.pa, 64);
    ck_assert_mem_eq(hs.remote_eph_pub, v.epa, 64);
    ck_assert_mem_eq(hs.remote_nonce, v.na, 32);
    ck_assert_uint_eq(hs.auth.len, len);
    ck_assert_mem_eq(hs.auth.data, msg, len);
    /* a second auth on the same handshake is a state error */
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, msg, len, &consumed, &need), ETHD_ESTATE);
    ethd_rlpx_hs_free(&hs);
    free(more);
    free(msg);
    json_decref(v.root);
}

START_TEST(test_vec_auth1_legacy)
{
    check_vec_auth("auth1_a_to_b_pre_eip8", false, 4);
}
END_TEST

START_TEST(test_vec_auth2)
{
    check_vec_auth("auth2_a_to_b_eip8_version4", true, 4);
}
END_TEST

START_TEST(test_vec_auth3_extra)
{
    check_vec_auth("auth3_a_to_b_eip8_version56_3_extra_elements", true, 56);
}
END_TEST

/* A as initiator with the vector's ephemeral key and nonce, having sent
 * `auth`; reads `ack`. *out_hs is left initialised; caller frees. */
static void vec_initiator(struct tu_eip8 *v, const char *auth, const char *ack, bool eip8,
                          uint64_t vsn, struct ethd_rlpx_handshake *hs)
{
    size_t alen, klen;
    uint8_t *a = tu_eip8_msg(v, auth, &alen), *k = tu_eip8_msg(v, ack, &klen);
    ck_assert_int_eq(ethd_rlpx_hs_init(hs, secp, true, v->sa, v->pb), 0);
    ethd_rlpx_hs_set_ephemeral(hs, v->ea, v->na);
    ck_assert_int_eq(ethd_buf_append(&hs->auth, a, alen), 0);
    size_t consumed = 0, need = 0;
    ck_assert_int_eq(ethd_rlpx_hs_read_ack(hs, k, 2, &consumed, &need), ETHD_EAGAIN);
    ck_assert_uint_eq(need, eip8 ? klen : ETHD_RLPX_ACK_LEGACY_LEN);
    ck_assert_int_eq(ethd_rlpx_hs_read_ack(hs, k, klen - 1, &consumed, &need), ETHD_EAGAIN);
    ck_assert_uint_eq(need, klen);
    ck_assert_int_eq(ethd_rlpx_hs_read_ack(hs, k, klen, &consumed, &need), 0);
    ck_assert_uint_eq(consumed, klen);
    ck_assert(hs->remote_eip8 == eip8);
    ck_assert_uint_eq(hs->remote_version, vsn);
    ck_assert_mem_eq(hs->remote_eph_pub, v->epb, 64);
    ck_assert_mem_eq(hs->remote_nonce, v->nb, 32);
    ck_assert_uint_eq(hs->ack.len, klen);
    ck_assert_mem_eq(hs->ack.data, k, klen);
    free(a);
    free(k);
}

START_TEST(test_vec_ack1_legacy)
{
    struct tu_eip8 v;
    vec_load(&v);
    struct ethd_rlpx_handshake hs;
    vec_initiator(&v, "auth1_a_to_b_pre_eip8", "ack1_b_to_a_pre_eip8", false, 4, &hs);
    ethd_rlpx_hs_free(&hs);
    json_decref(v.root);
}
END_TEST

START_TEST(test_vec_ack2)
{
    struct tu_eip8 v;
    vec_load(&v);
    struct ethd_rlpx_handshake hs;
    vec_initiator(&v, "auth2_a_to_b_eip8_version4", "ack2_b_to_a_eip8_version4", true, 4, &hs);
    ethd_rlpx_hs_free(&hs);
    json_decref(v.root);
}
END_TEST

START_TEST(test_vec_ack3_extra)
{
    struct tu_eip8 v;
    vec_load(&v);
    struct ethd_rlpx_handshake hs;
    vec_initiator(&v, "auth3_a_to_b_eip8_version56_3_extra_elements",
                  "ack3_b_to_a_eip8_version57_3_extra_elements", true, 57, &hs);
    ethd_rlpx_hs_free(&hs);
    json_decref(v.root);
}
END_TEST

/* EIP-8 "Test Vectors": B's secrets for (auth2, ack2) and
 * ingress-mac("foo"); A's side must agree and mirror the MACs. */
START_TEST(test_vec_secrets)
{
    struct tu_eip8 v;
    vec_load(&v);
    json_t *s = json_object_get(v.root, "secrets_for_auth2_ack2");
    uint8_t want_aes[32], want_mac[32], want_foo[32];
    tu_hex_fixed(tu_jstr(s, "aes_secret"), want_aes, 32);
    tu_hex_fixed(tu_jstr(s, "mac_secret"), want_mac, 32);
    tu_hex_fixed(tu_jstr(s, "ingress_mac_foo"), want_foo, 32);

    /* B: reads auth2, "sent" ack2 with its vector ephemeral key and nonce */
    size_t alen, klen, consumed, need;
    uint8_t *auth = tu_eip8_msg(&v, "auth2_a_to_b_eip8_version4", &alen);
    uint8_t *ack = tu_eip8_msg(&v, "ack2_b_to_a_eip8_version4", &klen);
    struct ethd_rlpx_handshake b;
    ck_assert_int_eq(ethd_rlpx_hs_init(&b, secp, false, v.sb, NULL), 0);
    ethd_rlpx_hs_set_ephemeral(&b, v.eb, v.nb);
    struct ethd_rlpx_secrets sb;
    ck_assert_int_eq(ethd_rlpx_hs_secrets(&b, &sb), ETHD_ESTATE); /* nothing exchanged yet */
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&b, auth, alen, &consumed, &need), 0);
    ck_assert_int_eq(ethd_rlpx_hs_secrets(&b, &sb), ETHD_ESTATE); /* no ack yet */
    ck_assert_int_eq(ethd_buf_append(&b.ack, ack, klen), 0);
    ck_assert_int_eq(ethd_rlpx_hs_secrets(&b, &sb), 0);
    ck_assert_mem_eq(sb.aes, want_aes, 32);
    ck_assert_mem_eq(sb.mac, want_mac, 32);
    ck_assert_mem_eq(sb.remote_pub, v.pa, 64);
    uint8_t d[32];
    struct ethd_keccak k = sb.ingress_mac;
    ethd_keccak_update(&k, "foo", 3);
    ethd_keccak_peek(&k, d);
    ck_assert_mem_eq(d, want_foo, 32);

    /* A: the same secrets; its egress is B's ingress and vice versa */
    struct ethd_rlpx_handshake a;
    vec_initiator(&v, "auth2_a_to_b_eip8_version4", "ack2_b_to_a_eip8_version4", true, 4, &a);
    struct ethd_rlpx_secrets sa;
    ck_assert_int_eq(ethd_rlpx_hs_secrets(&a, &sa), 0);
    ck_assert_mem_eq(sa.aes, want_aes, 32);
    ck_assert_mem_eq(sa.mac, want_mac, 32);
    ck_assert_mem_eq(sa.remote_pub, v.pb, 64);
    k = sa.egress_mac;
    ethd_keccak_update(&k, "foo", 3);
    ethd_keccak_peek(&k, d);
    ck_assert_mem_eq(d, want_foo, 32);
    uint8_t d2[32];
    ethd_keccak_peek(&sa.ingress_mac, d);
    ethd_keccak_peek(&sb.egress_mac, d2);
    ck_assert_mem_eq(d, d2, 32);
    ethd_keccak_peek(&sa.egress_mac, d2);
    ck_assert(memcmp(d, d2, 32) != 0); /* the two directions differ */

    ethd_rlpx_hs_free(&a);
    ethd_rlpx_hs_free(&b);
    free(auth);
    free(ack);
    json_decref(v.root);
}
END_TEST

/* ------------------------------------------------------------------ */
/* in-memory sessions                                                  */

struct session {
    uint8_t ka[32], kb[32], pa[64], pb[64];
    struct ethd_rlpx_handshake a, b; /* a initiates */
    struct ethd_rlpx_secrets sa, sb;
    struct ethd_rlpx_frame *fa, *fb;
};

static void keypair(uint8_t priv[32], uint8_t pub[64])
{
    ck_assert_int_eq(ethd_secp_keygen(secp, priv), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, priv, pub), 0);
}

/* EIP-8 handshake in memory, then frame states with the given limits. */
static void session_open(struct session *s, size_t max_a, size_t max_b)
{
    memset(s, 0, sizeof *s);
    keypair(s->ka, s->pa);
    keypair(s->kb, s->pb);
    ck_assert_int_eq(ethd_rlpx_hs_init(&s->a, secp, true, s->ka, s->pb), 0);
    ck_assert_int_eq(ethd_rlpx_hs_init(&s->b, secp, false, s->kb, NULL), 0);
    struct ethd_buf wire = ETHD_BUF_INIT;
    size_t consumed = 0, need = 0;
    ck_assert_int_eq(ethd_rlpx_hs_write_auth(&s->a, &wire), 0);
    /* EIP-8 layout: size prefix of the rest, 100..300 bytes of padding after
     * the ~169-byte body, ECIES overhead 113 */
    ck_assert_uint_eq(((size_t)wire.data[0] << 8 | wire.data[1]), wire.len - 2);
    ck_assert_uint_ge(wire.len, 2 + 113 + 169 + 100);
    ck_assert_uint_le(wire.len, 2 + 113 + 172 + 300);
    ck_assert_uint_eq(s->a.auth.len, wire.len);
    ck_assert_mem_eq(s->a.auth.data, wire.data, wire.len);
    ck_assert_int_eq(ethd_rlpx_hs_write_auth(&s->a, &wire), ETHD_ESTATE);
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&s->b, wire.data, wire.len, &consumed, &need), 0);
    ck_assert_uint_eq(consumed, wire.len);
    ck_assert(s->b.remote_eip8);
    ck_assert_uint_eq(s->b.remote_version, 4);
    ck_assert_mem_eq(s->b.remote_pub, s->pa, 64);
    ck_assert_mem_eq(s->b.remote_nonce, s->a.nonce, 32);
    ethd_buf_reset(&wire);
    ck_assert_int_eq(ethd_rlpx_hs_write_ack(&s->b, &wire), 0);
    ck_assert_uint_eq(((size_t)wire.data[0] << 8 | wire.data[1]), wire.len - 2);
    ck_assert_int_eq(ethd_rlpx_hs_write_ack(&s->b, &wire), ETHD_ESTATE);
    ck_assert_int_eq(ethd_rlpx_hs_read_ack(&s->a, wire.data, wire.len, &consumed, &need), 0);
    ck_assert_uint_eq(consumed, wire.len);
    ck_assert(s->a.remote_eip8);
    ck_assert_uint_eq(s->a.remote_version, 4);
    ck_assert_mem_eq(s->a.remote_nonce, s->b.nonce, 32);
    ethd_buf_free(&wire);
    ck_assert_int_eq(ethd_rlpx_hs_secrets(&s->a, &s->sa), 0);
    ck_assert_int_eq(ethd_rlpx_hs_secrets(&s->b, &s->sb), 0);
    ck_assert_mem_eq(s->sa.aes, s->sb.aes, 32);
    ck_assert_mem_eq(s->sa.mac, s->sb.mac, 32);
    ck_assert_mem_eq(s->sa.remote_pub, s->pb, 64);
    ck_assert_mem_eq(s->sb.remote_pub, s->pa, 64);
    ck_assert_int_eq(ethd_rlpx_frame_new(&s->sa, max_a, &s->fa), 0);
    ck_assert_int_eq(ethd_rlpx_frame_new(&s->sb, max_b, &s->fb), 0);
}

static void session_close(struct session *s)
{
    ethd_rlpx_frame_free(s->fa);
    ethd_rlpx_frame_free(s->fb);
    ethd_rlpx_hs_free(&s->a);
    ethd_rlpx_hs_free(&s->b);
}

/* Read exactly one message from `in` and compare it. */
static void expect_msg(struct ethd_rlpx_frame *f, const uint8_t *in, size_t len, size_t *consumed,
                       uint64_t code, const uint8_t *payload, size_t plen)
{
    size_t need = 0, got_len = 0;
    uint64_t got_code = 0;
    const uint8_t *got = NULL;
    ck_assert_int_eq(ethd_rlpx_frame_read(f, in, len, consumed, &need, &got_code, &got, &got_len),
                     0);
    ck_assert_uint_eq(got_code, code);
    ck_assert_uint_eq(got_len, plen);
    if (plen)
        ck_assert(memcmp(got, payload, plen) == 0);
}

/* Framed size on the wire of a message. */
static size_t wire_size(uint64_t code, size_t plen)
{
    size_t id = 1;
    if (code >= 0x80)
        for (uint64_t c = code; c; c >>= 8)
            id++;
    return 32 + ((id + plen + 15) & ~(size_t)15) + 16;
}

/* One side writes a batch of messages into one buffer, the other reads the
 * stream back and must consume exactly all of it. */
static void exchange(struct ethd_rlpx_frame *w, struct ethd_rlpx_frame *r, const size_t *sizes,
                     size_t nsizes, const uint64_t *codes, size_t ncodes, const uint8_t *pool)
{
    struct ethd_buf wire = ETHD_BUF_INIT;
    size_t expect_total = 0, n = 0;
    for (size_t i = 0; i < nsizes; i++)
        for (size_t j = 0; j < ncodes; j++, n++) {
            const uint8_t *p = pool + (n * 131) % 1000;
            ck_assert_int_eq(ethd_rlpx_frame_write(w, codes[j], p, sizes[i], &wire), 0);
            expect_total += wire_size(codes[j], sizes[i]);
            ck_assert_uint_eq(wire.len, expect_total);
        }
    size_t off = 0;
    n = 0;
    for (size_t i = 0; i < nsizes; i++)
        for (size_t j = 0; j < ncodes; j++, n++) {
            size_t consumed = 0;
            expect_msg(r, wire.data + off, wire.len - off, &consumed, codes[j],
                       pool + (n * 131) % 1000, sizes[i]);
            ck_assert_uint_eq(consumed, wire_size(codes[j], sizes[i]));
            off += consumed;
        }
    ck_assert_uint_eq(off, wire.len);
    /* nothing left: the next read waits for a header */
    size_t consumed = 0, need = 0, plen = 0;
    uint64_t code;
    const uint8_t *pl;
    ck_assert_int_eq(ethd_rlpx_frame_read(r, wire.data + off, 0, &consumed, &need, &code, &pl, &plen),
                     ETHD_EAGAIN);
    ck_assert_uint_eq(need, 32);
    ethd_buf_free(&wire);
}

START_TEST(test_session_frames)
{
    struct session s;
    session_open(&s, 0, 0);
    static const size_t sizes[] = {0,    1,     2,     14,    15,    16,    17,    31,
                                   100,  135,   136,   137,   1000,  4096,  17391, 17392,
                                   17393, 17408, 34816, 65535, 65536, 70000};
    static const uint64_t codes[] = {0,    1,      0x10,    0x7f,    0x80,
                                     0xff, 0x100,  0xffff,  0x10000, (uint64_t)1 << 20};
    size_t pool_len = 70000 + 1000;
    uint8_t *pool = malloc(pool_len);
    ck_assert_ptr_nonnull(pool);
    tu_rand_bytes(pool, pool_len);
    /* several rounds each way, interleaved, so both CTR streams and MAC
     * states advance independently */
    for (int round = 0; round < 3; round++) {
        exchange(s.fa, s.fb, sizes, sizeof sizes / sizeof *sizes, codes,
                 sizeof codes / sizeof *codes, pool);
        exchange(s.fb, s.fa, sizes, sizeof sizes / sizeof *sizes, codes,
                 sizeof codes / sizeof *codes, pool);
    }
    /* largest code */
    static const uint64_t big[] = {UINT64_MAX};
    static const size_t one[] = {5};
    exchange(s.fa, s.fb, one, 1, big, 1, pool);
    free(pool);
    session_close(&s);
}
END_TEST

/* Independent frame encoder from rlpx.md "Framing"/"MAC", for crafting frames
 * (arbitrary frame-data and header-data) and cross-checking the codec. */
struct tframe {
    struct aes256_ctx enc, mac;
    uint8_t ctr[16];
    struct ethd_keccak egress;
};

static void tframe_init(struct tframe *t, const struct ethd_rlpx_secrets *s)
{
    aes256_set_encrypt_key(&t->enc, s->aes);
    aes256_set_encrypt_key(&t->mac, s->mac);
    memset(t->ctr, 0, 16);
    t->egress = s->egress_mac;
}

static void tframe_write(struct tframe *t, const uint8_t *fd, size_t n, const uint8_t *hdata,
                         size_t hdlen, struct ethd_buf *out)
{
    size_t padded = (n + 15) / 16 * 16;
    uint8_t *buf = calloc(1, 32 + padded + 16);
    ck_assert_ptr_nonnull(buf);
    buf[0] = (uint8_t)(n >> 16);
    buf[1] = (uint8_t)(n >> 8);
    buf[2] = (uint8_t)n;
    memcpy(buf + 3, hdata, hdlen);
    ctr_crypt(&t->enc, (nettle_cipher_func *)aes256_encrypt, 16, t->ctr, 16, buf, buf);
    uint8_t d[32], seed[16];
    ethd_keccak_peek(&t->egress, d);
    aes256_encrypt(&t->mac, 16, seed, d);
    for (int i = 0; i < 16; i++)
        seed[i] ^= buf[i];
    ethd_keccak_update(&t->egress, seed, 16);
    ethd_keccak_peek(&t->egress, d);
    memcpy(buf + 16, d, 16);
    memcpy(buf + 32, fd, n);
    ctr_crypt(&t->enc, (nettle_cipher_func *)aes256_encrypt, 16, t->ctr, padded, buf + 32,
              buf + 32);
    ethd_keccak_update(&t->egress, buf + 32, padded);
    ethd_keccak_peek(&t->egress, d);
    aes256_encrypt(&t->mac, 16, seed, d);
    for (int i = 0; i < 16; i++)
        seed[i] ^= d[i];
    ethd_keccak_update(&t->egress, seed, 16);
    ethd_keccak_peek(&t->egress, d);
    memcpy(buf + 32 + padded, d, 16);
    ck_assert_int_eq(ethd_buf_append(out, buf, 32 + padded + 16), 0);
    free(buf);
}

static const uint8_t zero_hdata[] = {0xc2, 0x80, 0x80};

/* The codec's frames are byte-for-byte those of the spec construction, and
 * it reads frames of the independent encoder, including header-data it does
 * not know. */
START_TEST(test_frame_matches_spec)
{
    struct session s;
    session_open(&s, 0, 0);
    struct tframe t;
    tframe_init(&t, &s.sa);
    struct ethd_buf mine = ETHD_BUF_INIT, theirs = ETHD_BUF_INIT;
    uint8_t payload[40000];
    tu_rand_bytes(payload, sizeof payload);
    static const size_t lens[] = {0, 3, 16, 1000, 17400, 40000};
    static const uint64_t codes[] = {0, 0x22, 0x1234};
    for (size_t i = 0; i < 6; i++) {
        uint64_t code = codes[i % 3];
        ck_assert_int_eq(ethd_rlpx_frame_write(s.fa, code, payload, lens[i], &mine), 0);
        uint8_t *fd = malloc(lens[i] + 3);
        size_t idl;
        if (code == 0) {
            fd[0] = 0x80;
            idl = 1;
        } else if (code < 0x80) {
            fd[0] = (uint8_t)code;
            idl = 1;
        } else {
            fd[0] = 0x82;
            fd[1] = (uint8_t)(code >> 8);
            fd[2] = (uint8_t)code;
            idl = 3;
        }
        memcpy(fd + idl, payload, lens[i]);
        tframe_write(&t, fd, idl + lens[i], zero_hdata, sizeof zero_hdata, &theirs);
        free(fd);
    }
    ck_assert_uint_eq(mine.len, theirs.len);
    ck_assert(memcmp(mine.data, theirs.data, mine.len) == 0);

    /* header-data with a capability id and extra elements is accepted */
    struct tframe tb;
    tframe_init(&tb, &s.sb);
    ethd_buf_reset(&theirs);
    static const uint8_t odd_hdata[] = {0xc5, 0x01, 0x02, 0x83, 0x61, 0x62, 0x63};
    uint8_t fd[] = {0x05, 0xc3, 0x01, 0x02, 0x03};
    tframe_write(&tb, fd, sizeof fd, odd_hdata, sizeof odd_hdata, &theirs);
    size_t consumed;
    expect_msg(s.fa, theirs.data, theirs.len, &consumed, 5, fd + 1, 4);
    ck_assert_uint_eq(consumed, theirs.len);
    ethd_buf_free(&mine);
    ethd_buf_free(&theirs);
    session_close(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* pre-EIP-8                                                           */

/* A pre-EIP-8 auth as an old client writes it: ECIES without prefix of
 * sig || keccak256(ephemeral-pubk) || pubk || nonce || 0x00. */
static void legacy_auth(const uint8_t static_a[32], const uint8_t eph_a[32],
                        const uint8_t nonce[32], const uint8_t pub_b[64],
                        uint8_t out[ETHD_RLPX_AUTH_LEGACY_LEN])
{
    uint8_t ss[32], msg[32], plain[194], epub[64];
    ck_assert_int_eq(ethd_secp_ecdh(secp, static_a, pub_b, ss), 0);
    for (int i = 0; i < 32; i++)
        msg[i] = ss[i] ^ nonce[i];
    ck_assert_int_eq(ethd_secp_sign(secp, eph_a, msg, plain), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, eph_a, epub), 0);
    ethd_keccak256(epub, 64, plain + 65);
    ck_assert_int_eq(ethd_secp_pubkey(secp, static_a, plain + 97), 0);
    memcpy(plain + 161, nonce, 32);
    plain[193] = 0;
    size_t olen;
    ck_assert_int_eq(ethd_ecies_encrypt(secp, pub_b, plain, sizeof plain, NULL, 0, out,
                                        ETHD_RLPX_AUTH_LEGACY_LEN, &olen),
                     0);
    ck_assert_uint_eq(olen, ETHD_RLPX_AUTH_LEGACY_LEN);
}

START_TEST(test_legacy_session)
{
    uint8_t ka[32], kb[32], pa[64], pb[64], eph[32], nonce[32];
    keypair(ka, pa);
    keypair(kb, pb);
    ck_assert_int_eq(ethd_secp_keygen(secp, eph), 0);
    tu_rand_bytes(nonce, 32);
    uint8_t auth[ETHD_RLPX_AUTH_LEGACY_LEN];
    legacy_auth(ka, eph, nonce, pb, auth);

    struct ethd_rlpx_handshake a, b;
    ck_assert_int_eq(ethd_rlpx_hs_init(&a, secp, true, ka, pb), 0);
    ethd_rlpx_hs_set_ephemeral(&a, eph, nonce);
    ck_assert_int_eq(ethd_buf_append(&a.auth, auth, sizeof auth), 0); /* "sent" */
    ck_assert_int_eq(ethd_rlpx_hs_init(&b, secp, false, kb, NULL), 0);
    size_t consumed = 0, need = 0;
    /* one byte at a time */
    for (size_t n = 0; n < sizeof auth; n++) {
        ck_assert_int_eq(ethd_rlpx_hs_read_auth(&b, auth, n, &consumed, &need), ETHD_EAGAIN);
        ck_assert_uint_eq(need, n < 2 ? 0 : ETHD_RLPX_AUTH_LEGACY_LEN);
    }
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&b, auth, sizeof auth, &consumed, &need), 0);
    ck_assert_uint_eq(consumed, sizeof auth);
    ck_assert(!b.remote_eip8);
    ck_assert_mem_eq(b.remote_pub, pa, 64);
    ck_assert_mem_eq(b.remote_nonce, nonce, 32);
    uint8_t epub[64];
    ck_assert_int_eq(ethd_secp_pubkey(secp, eph, epub), 0);
    ck_assert_mem_eq(b.remote_eph_pub, epub, 64);

    struct ethd_buf ack = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_rlpx_hs_write_ack(&b, &ack), 0);
    ck_assert_uint_eq(ack.len, ETHD_RLPX_ACK_LEGACY_LEN);
    ck_assert_uint_eq(ack.data[0], 0x04);
    ck_assert_int_eq(ethd_rlpx_hs_read_ack(&a, ack.data, ack.len, &consumed, &need), 0);
    ck_assert_uint_eq(consumed, ETHD_RLPX_ACK_LEGACY_LEN);
    ck_assert(!a.remote_eip8);
    ck_assert_mem_eq(a.remote_nonce, b.nonce, 32);

    struct ethd_rlpx_secrets sa, sb;
    ck_assert_int_eq(ethd_rlpx_hs_secrets(&a, &sa), 0);
    ck_assert_int_eq(ethd_rlpx_hs_secrets(&b, &sb), 0);
    ck_assert_mem_eq(sa.aes, sb.aes, 32);
    ck_assert_mem_eq(sa.mac, sb.mac, 32);
    struct ethd_rlpx_frame *fa, *fb;
    ck_assert_int_eq(ethd_rlpx_frame_new(&sa, 0, &fa), 0);
    ck_assert_int_eq(ethd_rlpx_frame_new(&sb, 0, &fb), 0);
    struct ethd_buf wire = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_rlpx_frame_write(fb, 0, (const uint8_t *)"hello", 5, &wire), 0);
    ck_assert_int_eq(ethd_rlpx_frame_write(fb, 2, NULL, 0, &wire), 0);
    size_t c1, c2;
    expect_msg(fa, wire.data, wire.len, &c1, 0, (const uint8_t *)"hello", 5);
    expect_msg(fa, wire.data + c1, wire.len - c1, &c2, 2, NULL, 0);
    ck_assert_uint_eq(c1 + c2, wire.len);
    ethd_buf_reset(&wire);
    ck_assert_int_eq(ethd_rlpx_frame_write(fa, 0x10, (const uint8_t *)"x", 1, &wire), 0);
    expect_msg(fb, wire.data, wire.len, &c1, 0x10, (const uint8_t *)"x", 1);
    ethd_buf_free(&wire);
    ethd_buf_free(&ack);
    ethd_rlpx_frame_free(fa);
    ethd_rlpx_frame_free(fb);
    ethd_rlpx_hs_free(&a);
    ethd_rlpx_hs_free(&b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* crafted EIP-8 auth bodies                                           */

/* prefix || ECIES(body) to pub with the prefix as mac data; returns length. */
static size_t eip8_seal(const uint8_t pub[64], const uint8_t *body, size_t n, uint8_t *out,
                        size_t cap)
{
    size_t enc = ethd_ecies_encrypted_len(n), olen = 0;
    ck_assert_uint_le(2 + enc, cap);
    out[0] = (uint8_t)(enc >> 8);
    out[1] = (uint8_t)enc;
    ck_assert_int_eq(ethd_ecies_encrypt(secp, pub, body, n, out, 2, out + 2, enc, &olen), 0);
    return 2 + olen;
}

struct craft {
    uint8_t ka[32], kb[32], pa[64], pb[64], eph[32], epub[64], nonce[32], sig[65];
};

static void craft_init(struct craft *c)
{
    keypair(c->ka, c->pa);
    keypair(c->kb, c->pb);
    keypair(c->eph, c->epub);
    tu_rand_bytes(c->nonce, 32);
    uint8_t ss[32], msg[32];
    ck_assert_int_eq(ethd_secp_ecdh(secp, c->ka, c->pb, ss), 0);
    for (int i = 0; i < 32; i++)
        msg[i] = ss[i] ^ c->nonce[i];
    ck_assert_int_eq(ethd_secp_sign(secp, c->eph, msg, c->sig), 0);
}

/* B reads `wire` (all of it). */
static int craft_read(struct craft *c, const uint8_t *wire, size_t len,
                      struct ethd_rlpx_handshake *hs)
{
    ck_assert_int_eq(ethd_rlpx_hs_init(hs, secp, false, c->kb, NULL), 0);
    size_t consumed = 0, need = 0;
    int rc = ethd_rlpx_hs_read_auth(hs, wire, len, &consumed, &need);
    if (rc == 0)
        ck_assert_uint_eq(consumed, len);
    return rc;
}

static int craft_body(struct craft *c, struct ethd_buf *body, struct ethd_rlpx_handshake *hs)
{
    uint8_t wire[ETHD_RLPX_HANDSHAKE_MAX + 2];
    size_t n = eip8_seal(c->pb, body->data, body->len, wire, sizeof wire);
    return craft_read(c, wire, n, hs);
}

START_TEST(test_auth_crafted)
{
    struct craft c;
    craft_init(&c);
    struct ethd_rlpx_handshake hs;
    struct ethd_buf body = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    uint8_t pad[150];
    tu_rand_bytes(pad, sizeof pad);

    /* forward compatibility: version too wide for 64 bits, extra list and
     * string elements, no padding at all */
    ethd_rlp_enc_init(&e, &body);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, c.sig, 65);
    ethd_rlp_bytes(&e, c.pa, 64);
    ethd_rlp_bytes(&e, c.nonce, 32);
    static const uint8_t wide[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    ethd_rlp_bytes(&e, wide, sizeof wide);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, 7);
    ethd_rlp_list_end(&e);
    ethd_rlp_bytes(&e, "future", 6);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_int_eq(craft_body(&c, &body, &hs), 0);
    ck_assert_uint_eq(hs.remote_version, UINT64_MAX);
    ck_assert_mem_eq(hs.remote_eph_pub, c.epub, 64);
    ck_assert_mem_eq(hs.remote_pub, c.pa, 64);
    ck_assert(hs.remote_eip8);
    ethd_rlpx_hs_free(&hs);

    /* missing auth-vsn */
    ethd_buf_reset(&body);
    ethd_rlp_enc_init(&e, &body);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, c.sig, 65);
    ethd_rlp_bytes(&e, c.pa, 64);
    ethd_rlp_bytes(&e, c.nonce, 32);
    ethd_rlp_list_end(&e);
    ethd_rlp_raw(&e, pad, sizeof pad);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_int_eq(craft_body(&c, &body, &hs), ETHD_EPROTO);
    ck_assert(!hs.remote_eip8);
    ck_assert_uint_eq(hs.auth.len, 0);
    ethd_rlpx_hs_free(&hs);

    /* 64-byte signature */
    ethd_buf_reset(&body);
    ethd_rlp_enc_init(&e, &body);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, c.sig, 64);
    ethd_rlp_bytes(&e, c.pa, 64);
    ethd_rlp_bytes(&e, c.nonce, 32);
    ethd_rlp_uint(&e, 4);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_int_eq(craft_body(&c, &body, &hs), ETHD_EPROTO);
    ethd_rlpx_hs_free(&hs);

    /* non-canonical version (leading zero) */
    ethd_buf_reset(&body);
    ethd_rlp_enc_init(&e, &body);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, c.sig, 65);
    ethd_rlp_bytes(&e, c.pa, 64);
    ethd_rlp_bytes(&e, c.nonce, 32);
    ethd_rlp_bytes(&e, "\x00\x04", 2);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_int_eq(craft_body(&c, &body, &hs), ETHD_EPROTO);
    ethd_rlpx_hs_free(&hs);

    /* body is a string, not a list */
    ethd_buf_reset(&body);
    ethd_rlp_enc_init(&e, &body);
    ethd_rlp_bytes(&e, pad, sizeof pad);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_int_eq(craft_body(&c, &body, &hs), ETHD_EPROTO);
    ethd_rlpx_hs_free(&hs);

    /* truncated RLP */
    ethd_buf_reset(&body);
    static const uint8_t trunc[] = {0xf8, 0xa0, 0xb8, 0x41, 0x00};
    ck_assert_int_eq(ethd_buf_append(&body, trunc, sizeof trunc), 0);
    ck_assert_int_eq(craft_body(&c, &body, &hs), ETHD_EPROTO);
    ethd_rlpx_hs_free(&hs);

    /* signature with r = 0 does not recover */
    uint8_t badsig[65];
    memcpy(badsig, c.sig, 65);
    memset(badsig, 0, 32);
    ethd_buf_reset(&body);
    ethd_rlp_enc_init(&e, &body);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, badsig, 65);
    ethd_rlp_bytes(&e, c.pa, 64);
    ethd_rlp_bytes(&e, c.nonce, 32);
    ethd_rlp_uint(&e, 4);
    ethd_rlp_list_end(&e);
    ethd_rlp_raw(&e, pad, sizeof pad);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_int_eq(craft_body(&c, &body, &hs), ETHD_ECRYPTO);
    ethd_rlpx_hs_free(&hs);

    /* initiator public key not on the curve */
    uint8_t badpub[64] = {0};
    badpub[31] = 5;
    ethd_buf_reset(&body);
    ethd_rlp_enc_init(&e, &body);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, c.sig, 65);
    ethd_rlp_bytes(&e, badpub, 64);
    ethd_rlp_bytes(&e, c.nonce, 32);
    ethd_rlp_uint(&e, 4);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_int_eq(craft_body(&c, &body, &hs), ETHD_ECRYPTO);
    ethd_rlpx_hs_free(&hs);

    /* a valid signature by another key recovers a different ephemeral key:
     * accepted (the recovered key is whatever signed), but not c.epub */
    uint8_t other[32], opub[64];
    keypair(other, opub);
    ethd_buf_reset(&body);
    ethd_rlp_enc_init(&e, &body);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, c.sig, 65);
    ethd_rlp_bytes(&e, opub, 64); /* wrong static key: the signed value differs */
    ethd_rlp_bytes(&e, c.nonce, 32);
    ethd_rlp_uint(&e, 4);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    int rc = craft_body(&c, &body, &hs);
    if (rc == 0)
        ck_assert(memcmp(hs.remote_eph_pub, c.epub, 64) != 0);
    else
        ck_assert_int_eq(rc, ETHD_ECRYPTO);
    ethd_rlpx_hs_free(&hs);
    ethd_buf_free(&body);
}
END_TEST

/* An EIP-8 auth whose size prefix starts with 0x04, like a legacy message:
 * the legacy reading is tried at 307 bytes, then the prefix is used. */
START_TEST(test_auth_prefix_0x04)
{
    struct craft c;
    craft_init(&c);
    struct ethd_buf body = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    uint8_t extra[850]; /* sealed size 1136 = 0x0470 */
    tu_rand_bytes(extra, sizeof extra);
    ethd_rlp_enc_init(&e, &body);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, c.sig, 65);
    ethd_rlp_bytes(&e, c.pa, 64);
    ethd_rlp_bytes(&e, c.nonce, 32);
    ethd_rlp_uint(&e, 5);
    ethd_rlp_bytes(&e, extra, sizeof extra);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    uint8_t wire[ETHD_RLPX_HANDSHAKE_MAX + 2];
    size_t n = eip8_seal(c.pb, body.data, body.len, wire, sizeof wire);
    ck_assert_uint_eq(wire[0], 0x04);
    struct ethd_rlpx_handshake hs;
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, false, c.kb, NULL), 0);
    size_t consumed = 0, need = 0;
    for (size_t len = 0; len < n; len += (len < 320 ? 1 : 97)) {
        ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, wire, len, &consumed, &need), ETHD_EAGAIN);
        ck_assert_uint_eq(need, len < 2 ? 0 : len < 307 ? 307 : n);
    }
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, wire, n, &consumed, &need), 0);
    ck_assert_uint_eq(consumed, n);
    ck_assert(hs.remote_eip8);
    ck_assert_uint_eq(hs.remote_version, 5);
    ck_assert_mem_eq(hs.remote_eph_pub, c.epub, 64);
    ethd_rlpx_hs_free(&hs);
    ethd_buf_free(&body);
}
END_TEST

/* ------------------------------------------------------------------ */
/* bad handshake input                                                 */

/* Random bytes instead of an auth: the result is exactly what the size
 * rules predict, and never a success. */
START_TEST(test_auth_random)
{
    uint8_t k[32], p[64];
    keypair(k, p);
    uint8_t buf[2200];
    for (int iter = 0; iter < 300; iter++) {
        size_t len = rand_u32() % sizeof buf;
        tu_rand_bytes(buf, len);
        if (iter % 3 == 0 && len >= 2) /* often a plausible prefix */
            buf[0] = (uint8_t)(rand_u32() % 9);
        if (iter % 7 == 0 && len >= 1)
            buf[0] = 0x04;
        struct ethd_rlpx_handshake hs;
        ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, false, k, NULL), 0);
        size_t consumed = 0, need = 12345;
        int rc = ethd_rlpx_hs_read_auth(&hs, buf, len, &consumed, &need);
        size_t size = len >= 2 ? ((size_t)buf[0] << 8 | buf[1]) : 0;
        int want;
        size_t want_need = 0;
        if (len < 2) {
            want = ETHD_EAGAIN;
        } else if (buf[0] == 0x04 && len < 307) {
            want = ETHD_EAGAIN;
            want_need = 307;
        } else if (size > ETHD_RLPX_HANDSHAKE_MAX) {
            want = ETHD_ETOOBIG;
        } else if (len < 2 + size) {
            want = ETHD_EAGAIN;
            want_need = 2 + size;
        } else {
            want = ETHD_ECRYPTO;
        }
        ck_assert_int_eq(rc, want);
        if (rc == ETHD_EAGAIN)
            ck_assert_uint_eq(need, want_need);
        ck_assert_uint_eq(hs.auth.len, 0);
        ethd_rlpx_hs_free(&hs);
    }
}
END_TEST

START_TEST(test_auth_tampered)
{
    struct tu_eip8 v;
    vec_load(&v);
    size_t len, consumed, need;
    uint8_t *msg = tu_eip8_msg(&v, "auth2_a_to_b_eip8_version4", &len);
    struct ethd_rlpx_handshake hs;
    /* last byte (ECIES MAC), a ciphertext byte, the iv, R */
    static const size_t pos[] = {0, 200, 70, 10};
    for (size_t i = 0; i < 4; i++) {
        size_t at = i == 0 ? len - 1 : pos[i];
        msg[at] ^= 0x01;
        ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, false, v.sb, NULL), 0);
        ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, msg, len, &consumed, &need), ETHD_ECRYPTO);
        ck_assert_uint_eq(hs.auth.len, 0);
        ethd_rlpx_hs_free(&hs);
        msg[at] ^= 0x01;
    }
    /* the size prefix is authenticated: a shorter claimed size fails too */
    msg[1] ^= 0x01;
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, false, v.sb, NULL), 0);
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, msg, len, &consumed, &need), ETHD_ECRYPTO);
    ethd_rlpx_hs_free(&hs);
    msg[1] ^= 0x01;
    /* wrong static key */
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, false, v.sa, NULL), 0);
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, msg, len, &consumed, &need), ETHD_ECRYPTO);
    ethd_rlpx_hs_free(&hs);
    /* tampered legacy auth */
    free(msg);
    msg = tu_eip8_msg(&v, "auth1_a_to_b_pre_eip8", &len);
    msg[len - 1] ^= 0x80;
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, false, v.sb, NULL), 0);
    /* legacy fails; 0x048c as a size prefix is 1164: more bytes wanted */
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, msg, len, &consumed, &need), ETHD_EAGAIN);
    ck_assert_uint_eq(need, 2 + 0x048c);
    ethd_rlpx_hs_free(&hs);
    /* a tampered ack */
    free(msg);
    ethd_rlpx_hs_init(&hs, secp, true, v.sa, v.pb);
    ethd_buf_append(&hs.auth, "x", 1);
    msg = tu_eip8_msg(&v, "ack2_b_to_a_eip8_version4", &len);
    msg[len - 5] ^= 0x10;
    ck_assert_int_eq(ethd_rlpx_hs_read_ack(&hs, msg, len, &consumed, &need), ETHD_ECRYPTO);
    ck_assert_uint_eq(hs.ack.len, 0);
    ethd_rlpx_hs_free(&hs);
    free(msg);
    json_decref(v.root);
}
END_TEST

START_TEST(test_auth_too_big)
{
    uint8_t k[32], p[64];
    keypair(k, p);
    static const uint8_t prefixes[][2] = {{0x08, 0x01}, {0x09, 0x00}, {0xff, 0xff}, {0x10, 0x00}};
    for (size_t i = 0; i < 4; i++) {
        struct ethd_rlpx_handshake hs;
        ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, false, k, NULL), 0);
        size_t consumed, need;
        /* refused as soon as the prefix is there, before any body */
        ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, prefixes[i], 2, &consumed, &need),
                         ETHD_ETOOBIG);
        ethd_rlpx_hs_free(&hs);
        ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, true, k, p), 0);
        ethd_buf_append(&hs.auth, "x", 1);
        ck_assert_int_eq(ethd_rlpx_hs_read_ack(&hs, prefixes[i], 2, &consumed, &need),
                         ETHD_ETOOBIG);
        ethd_rlpx_hs_free(&hs);
    }
    /* exactly the maximum is still waited for */
    struct ethd_rlpx_handshake hs;
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, false, k, NULL), 0);
    static const uint8_t max[2] = {ETHD_RLPX_HANDSHAKE_MAX >> 8, ETHD_RLPX_HANDSHAKE_MAX & 0xff};
    size_t consumed, need;
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, max, 2, &consumed, &need), ETHD_EAGAIN);
    ck_assert_uint_eq(need, 2 + ETHD_RLPX_HANDSHAKE_MAX);
    ethd_rlpx_hs_free(&hs);
}
END_TEST

START_TEST(test_hs_state)
{
    uint8_t k[32], p[64], zero[32] = {0};
    keypair(k, p);
    struct ethd_rlpx_handshake hs;
    struct ethd_buf out = ETHD_BUF_INIT;
    size_t consumed, need;
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, true, zero, p), ETHD_ECRYPTO);
    ethd_rlpx_hs_free(&hs);
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, true, k, NULL), ETHD_EINVAL);
    ethd_rlpx_hs_free(&hs);
    uint8_t badpub[64] = {0};
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, true, k, badpub), ETHD_ECRYPTO);
    ethd_rlpx_hs_free(&hs);
    /* recipient: no auth to write, no ack to read, no ack before auth */
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, false, k, NULL), 0);
    ck_assert_int_eq(ethd_rlpx_hs_write_auth(&hs, &out), ETHD_ESTATE);
    ck_assert_int_eq(ethd_rlpx_hs_read_ack(&hs, (const uint8_t *)"ab", 2, &consumed, &need),
                     ETHD_ESTATE);
    ck_assert_int_eq(ethd_rlpx_hs_write_ack(&hs, &out), ETHD_ESTATE);
    ethd_rlpx_hs_free(&hs);
    /* initiator: no ack before auth, no auth to read */
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, true, k, p), 0);
    ck_assert_int_eq(ethd_rlpx_hs_read_ack(&hs, (const uint8_t *)"ab", 2, &consumed, &need),
                     ETHD_ESTATE);
    ck_assert_int_eq(ethd_rlpx_hs_read_auth(&hs, (const uint8_t *)"ab", 2, &consumed, &need),
                     ETHD_ESTATE);
    ck_assert_int_eq(ethd_rlpx_hs_write_ack(&hs, &out), ETHD_ESTATE);
    ck_assert_uint_eq(out.len, 0);
    ethd_rlpx_hs_free(&hs);
    /* two handshakes draw different ephemeral keys and nonces */
    struct ethd_rlpx_handshake h2;
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, true, k, p), 0);
    ck_assert_int_eq(ethd_rlpx_hs_init(&h2, secp, true, k, p), 0);
    ck_assert(memcmp(hs.eph_priv, h2.eph_priv, 32) != 0);
    ck_assert(memcmp(hs.nonce, h2.nonce, 32) != 0);
    ethd_rlpx_hs_free(&hs);
    ethd_rlpx_hs_free(&h2);
    /* write_auth appends */
    ck_assert_int_eq(ethd_rlpx_hs_init(&hs, secp, true, k, p), 0);
    ethd_buf_append(&out, "pre", 3);
    ck_assert_int_eq(ethd_rlpx_hs_write_auth(&hs, &out), 0);
    ck_assert_uint_eq(out.len, 3 + hs.auth.len);
    ck_assert_mem_eq(out.data, "pre", 3);
    ck_assert_mem_eq(out.data + 3, hs.auth.data, hs.auth.len);
    ethd_rlpx_hs_free(&hs);
    ethd_buf_free(&out);
}
END_TEST

/* ------------------------------------------------------------------ */
/* bad frames                                                          */

static int read1(struct ethd_rlpx_frame *f, const uint8_t *in, size_t len, size_t *consumed,
                 size_t *need)
{
    uint64_t code;
    const uint8_t *p;
    size_t plen;
    return ethd_rlpx_frame_read(f, in, len, consumed, need, &code, &p, &plen);
}

/* Flip one bit at `at` of a valid frame; the reader must fail with `want`
 * and stay failed. */
static void frame_flip(size_t at, int want)
{
    struct session s;
    session_open(&s, 0, 0);
    struct ethd_buf wire = ETHD_BUF_INIT;
    uint8_t payload[100];
    tu_rand_bytes(payload, sizeof payload);
    ck_assert_int_eq(ethd_rlpx_frame_write(s.fa, 3, payload, sizeof payload, &wire), 0);
    ck_assert_int_eq(ethd_rlpx_frame_write(s.fa, 3, payload, sizeof payload, &wire), 0);
    wire.data[at] ^= 0x04;
    size_t consumed = 0, need = 0;
    ck_assert_int_eq(read1(s.fb, wire.data, wire.len, &consumed, &need), want);
    ck_assert_int_eq(read1(s.fb, wire.data, wire.len, &consumed, &need), want);
    ethd_buf_free(&wire);
    session_close(&s);
}

START_TEST(test_frame_bad_header_mac)
{
    frame_flip(20, ETHD_ECRYPTO);  /* header-mac */
    frame_flip(0, ETHD_ECRYPTO);   /* header-ciphertext: frame-size */
    frame_flip(15, ETHD_ECRYPTO);  /* header-ciphertext: padding */
}
END_TEST

START_TEST(test_frame_bad_frame_mac)
{
    size_t body = 32, padded = 112; /* 1 + 100 -> 112 */
    frame_flip(body + padded + 15, ETHD_ECRYPTO); /* frame-mac */
    frame_flip(body + 7, ETHD_ECRYPTO);           /* frame-ciphertext */
    frame_flip(body + padded - 1, ETHD_ECRYPTO);  /* frame-padding */
}
END_TEST

START_TEST(test_frame_too_big)
{
    struct session s;
    session_open(&s, 0, 1024); /* b accepts frames of up to 1024 bytes */
    struct ethd_buf wire = ETHD_BUF_INIT;
    uint8_t *payload = calloc(1, 4096);
    /* 1 + 1023 = 1024 is fine */
    ck_assert_int_eq(ethd_rlpx_frame_write(s.fa, 0, payload, 1023, &wire), 0);
    size_t consumed, need;
    expect_msg(s.fb, wire.data, wire.len, &consumed, 0, payload, 1023);
    /* the writer refuses what its own limit forbids, leaving out alone */
    ck_assert_int_eq(ethd_rlpx_frame_write(s.fb, 0, payload, 1024, &wire), ETHD_ETOOBIG);
    ck_assert_int_eq(ethd_rlpx_frame_write(s.fb, 0x80, payload, 1023, &wire), ETHD_ETOOBIG);
    ck_assert_uint_eq(wire.len, consumed);
    /* 1 + 1024 claimed in a header: refused after the header, before the body */
    ethd_buf_reset(&wire);
    ck_assert_int_eq(ethd_rlpx_frame_write(s.fa, 0, payload, 1024, &wire), 0);
    ck_assert_int_eq(read1(s.fb, wire.data, 32, &consumed, &need), ETHD_ETOOBIG);
    ck_assert_int_eq(read1(s.fb, wire.data, wire.len, &consumed, &need), ETHD_ETOOBIG);
    /* the 24-bit frame-size and the absolute limit */
    struct ethd_rlpx_frame *f;
    ck_assert_int_eq(ethd_rlpx_frame_new(&s.sa, ETHD_RLPX_FRAME_MAX + 1, &f), ETHD_EINVAL);
    ck_assert_ptr_null(f);
    ck_assert_int_eq(ethd_rlpx_frame_write(s.fa, 0, payload, (size_t)1 << 24, &wire),
                     ETHD_ETOOBIG);
    free(payload);
    ethd_buf_free(&wire);
    session_close(&s);
}
END_TEST

/* frame-data that does not start with a valid RLP message id: EPROTO, the
 * frame is still consumed, and the stream stays usable. */
START_TEST(test_frame_bad_msg_id)
{
    static const struct {
        uint8_t d[12];
        size_t n;
    } bad[] = {
        {{0}, 0},                                        /* empty frame-data */
        {{0xc0}, 1},                                     /* a list */
        {{0xc3, 0x01, 0x02, 0x03}, 4},                   /* a list */
        {{0x00, 0x01}, 2},                               /* 0 not as 0x80 */
        {{0x81, 0x05}, 2},                               /* single byte wrapped */
        {{0x82, 0x00, 0x80}, 3},                         /* leading zero */
        {{0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10},         /* wider than 64 bits */
        {{0x85, 1, 2}, 3},                               /* truncated */
        {{0xb8, 0x02, 0x01, 0x02}, 4},                   /* non-canonical long form */
    };
    struct session s;
    session_open(&s, 0, 0);
    struct tframe t;
    tframe_init(&t, &s.sa);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct ethd_buf wire = ETHD_BUF_INIT;
        tframe_write(&t, bad[i].d, bad[i].n, zero_hdata, sizeof zero_hdata, &wire);
        size_t consumed = 0, need;
        ck_assert_msg(read1(s.fb, wire.data, wire.len, &consumed, &need) == ETHD_EPROTO, "case %zu",
                      i);
        ck_assert_uint_eq(consumed, wire.len);
        /* a good frame right after still reads */
        ethd_buf_reset(&wire);
        uint8_t good[] = {0x10, 0xc0};
        tframe_write(&t, good, 2, zero_hdata, sizeof zero_hdata, &wire);
        expect_msg(s.fb, wire.data, wire.len, &consumed, 0x10, good + 1, 1);
        ethd_buf_free(&wire);
    }
    session_close(&s);
}
END_TEST

START_TEST(test_frame_bytewise)
{
    struct session s;
    session_open(&s, 0, 0);
    struct ethd_buf wire = ETHD_BUF_INIT;
    uint8_t payload[300];
    tu_rand_bytes(payload, sizeof payload);
    ck_assert_int_eq(ethd_rlpx_frame_write(s.fa, 0x21, payload, 100, &wire), 0);
    size_t first = wire.len;
    ck_assert_int_eq(ethd_rlpx_frame_write(s.fa, 0x22, payload, 300, &wire), 0);
    size_t off = 0;
    for (int m = 0; m < 2; m++) {
        size_t total = m == 0 ? first : wire.len - first;
        size_t consumed = 0, need = 0;
        for (size_t n = 0; n < total; n++) {
            ck_assert_int_eq(read1(s.fb, wire.data + off, n, &consumed, &need), ETHD_EAGAIN);
            ck_assert_uint_eq(need, n < 32 ? 32 : total);
        }
        expect_msg(s.fb, wire.data + off, total, &consumed, 0x21 + (uint64_t)m, payload,
                   m == 0 ? 100 : 300);
        ck_assert_uint_eq(consumed, total);
        off += total;
    }
    ck_assert_uint_eq(off, wire.len);
    ethd_buf_free(&wire);
    session_close(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* snappy                                                              */

START_TEST(test_snappy_roundtrip)
{
    static const size_t sizes[] = {0, 1, 100, 1024, 65536, 1000000};
    uint8_t *in = malloc(1000000);
    ck_assert_ptr_nonnull(in);
    struct ethd_buf c = ETHD_BUF_INIT, d = ETHD_BUF_INIT;
    for (int kind = 0; kind < 2; kind++) {
        if (kind == 0)
            tu_rand_bytes(in, 1000000);
        else
            for (size_t i = 0; i < 1000000; i++)
                in[i] = (uint8_t)(i / 100 % 7);
        for (size_t i = 0; i < 6; i++) {
            ck_assert_int_eq(ethd_rlpx_snappy_compress(in, sizes[i], &c), 0);
            if (kind == 1 && sizes[i] >= 1024)
                ck_assert_uint_lt(c.len, sizes[i] / 4);
            ck_assert_int_eq(ethd_rlpx_snappy_decompress(c.data, c.len, sizes[i], &d), 0);
            ck_assert_uint_eq(d.len, sizes[i]);
            if (sizes[i])
                ck_assert(memcmp(d.data, in, sizes[i]) == 0);
            if (sizes[i])
                ck_assert_int_eq(ethd_rlpx_snappy_decompress(c.data, c.len, sizes[i] - 1, &d),
                                 ETHD_ETOOBIG);
        }
    }
    /* content is replaced, not appended */
    ethd_buf_append(&c, "junk", 4);
    ck_assert_int_eq(ethd_rlpx_snappy_compress(in, 10, &c), 0);
    ck_assert_int_eq(ethd_rlpx_snappy_decompress(c.data, c.len, 10, &d), 0);
    ck_assert_uint_eq(d.len, 10);
    free(in);
    ethd_buf_free(&c);
    ethd_buf_free(&d);
}
END_TEST

START_TEST(test_snappy_bomb)
{
    /* declared 0xffffffff bytes (varint ff ff ff ff 0f), then a little data */
    static const uint8_t bomb[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x41};
    struct ethd_buf out = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_rlpx_snappy_decompress(bomb, sizeof bomb, 1000, &out), ETHD_ETOOBIG);
    ck_assert_ptr_null(out.data); /* nothing was allocated */
    ck_assert_uint_eq(out.cap, 0);
    ck_assert_int_eq(ethd_rlpx_snappy_decompress(bomb, sizeof bomb, 16u << 20, &out),
                     ETHD_ETOOBIG);
    ck_assert_ptr_null(out.data);
    /* a real compressed message of 2000 bytes against max 1999 */
    uint8_t plain[2000] = {0};
    struct ethd_buf c = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_rlpx_snappy_compress(plain, sizeof plain, &c), 0);
    ck_assert_int_eq(ethd_rlpx_snappy_decompress(c.data, c.len, 1999, &out), ETHD_ETOOBIG);
    ck_assert_ptr_null(out.data);
    ethd_buf_free(&c);
}
END_TEST

START_TEST(test_snappy_invalid)
{
    struct ethd_buf out = ETHD_BUF_INIT;
    /* empty input has no length header */
    ck_assert_int_eq(ethd_rlpx_snappy_decompress(NULL, 0, 100, &out), ETHD_EPROTO);
    /* unterminated varint */
    static const uint8_t v1[] = {0x80, 0x80};
    ck_assert_int_eq(ethd_rlpx_snappy_decompress(v1, sizeof v1, 100, &out), ETHD_EPROTO);
    /* declares 10 bytes, literal of 4 then nothing */
    static const uint8_t v2[] = {0x0a, 0x0c, 'a', 'b', 'c', 'd'};
    ck_assert_int_eq(ethd_rlpx_snappy_decompress(v2, sizeof v2, 100, &out), ETHD_EPROTO);
    /* copy with an offset before the start */
    static const uint8_t v3[] = {0x08, 0x00, 'a', 0x0d, 0x05};
    ck_assert_int_eq(ethd_rlpx_snappy_decompress(v3, sizeof v3, 100, &out), ETHD_EPROTO);
    /* literal running past the input */
    static const uint8_t v4[] = {0x05, 0x10, 'a'};
    ck_assert_int_eq(ethd_rlpx_snappy_decompress(v4, sizeof v4, 100, &out), ETHD_EPROTO);
    /* random garbage: never a crash, only the documented codes */
    uint8_t junk[512];
    for (int i = 0; i < 500; i++) {
        size_t n = rand_u32() % sizeof junk;
        tu_rand_bytes(junk, n);
        int rc = ethd_rlpx_snappy_decompress(junk, n, 4096, &out);
        ck_assert(rc == 0 || rc == ETHD_EPROTO || rc == ETHD_ETOOBIG);
        if (rc == 0)
            ck_assert_uint_le(out.len, 4096);
    }
    /* a valid one still decodes */
    static const uint8_t ok[] = {0x04, 0x0c, 'a', 'b', 'c', 'd'};
    ck_assert_int_eq(ethd_rlpx_snappy_decompress(ok, sizeof ok, 100, &out), 0);
    ck_assert_uint_eq(out.len, 4);
    ck_assert_mem_eq(out.data, "abcd", 4);
    ethd_buf_free(&out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rlpx");
    TCase *tc = tcase_create("vectors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_vec_auth1_legacy);
    tcase_add_test(tc, test_vec_auth2);
    tcase_add_test(tc, test_vec_auth3_extra);
    tcase_add_test(tc, test_vec_ack1_legacy);
    tcase_add_test(tc, test_vec_ack2);
    tcase_add_test(tc, test_vec_ack3_extra);
    tcase_add_test(tc, test_vec_secrets);
    suite_add_tcase(s, tc);

    tc = tcase_create("session");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_session_frames);
    tcase_add_test(tc, test_frame_matches_spec);
    tcase_add_test(tc, test_legacy_session);
    tcase_add_test(tc, test_auth_crafted);
    tcase_add_test(tc, test_auth_prefix_0x04);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_handshake");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_auth_random);
    tcase_add_test(tc, test_auth_tampered);
    tcase_add_test(tc, test_auth_too_big);
    tcase_add_test(tc, test_hs_state);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_frames");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_frame_bad_header_mac);
    tcase_add_test(tc, test_frame_bad_frame_mac);
    tcase_add_test(tc, test_frame_too_big);
    tcase_add_test(tc, test_frame_bad_msg_id);
    tcase_add_test(tc, test_frame_bytewise);
    suite_add_tcase(s, tc);

    tc = tcase_create("snappy");
    tcase_add_test(tc, test_snappy_roundtrip);
    tcase_add_test(tc, test_snappy_bomb);
    tcase_add_test(tc, test_snappy_invalid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
