/* Node identity: enode URL parsing/formatting (core/p2p/enode.c) and the
 * node key file (core/p2p/nodekey.c). */
#include "p2p/enode.h"
#include "p2p/nodekey.h"
#include "testutil.h"

#include <check.h>
#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/secp256k1.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID128 "d6a54fb738dd107ddceeb7335b08d1270acfd2d724e83bb7bd522bdc19ee1350" \
              "8133fd9f5a0c5e083b5938b35f5eab9dcd421cf19757233f4b38455057529b4e"

START_TEST(parse_ipv4)
{
    struct ethd_enode n;
    char err[256];
    ck_assert_int_eq(ethd_enode_parse("enode://" ID128 "@127.0.0.1:30303", &n, err, sizeof(err)), 0);
    ck_assert_int_eq(n.family, AF_INET);
    ck_assert_int_eq(n.tcp_port, 30303);
    ck_assert_int_eq(n.udp_port, 30303);
    ck_assert_int_eq(n.id[0], 0xd6);
    ck_assert_int_eq(n.id[63], 0x4e);
    const uint8_t ip[4] = {127, 0, 0, 1};
    ck_assert_mem_eq(n.ip, ip, 4);
    char out[ETHD_ENODE_MAX_LEN];
    ck_assert_int_eq(ethd_enode_format(&n, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "enode://" ID128 "@127.0.0.1:30303");
}
END_TEST

START_TEST(parse_ipv6_and_discport)
{
    struct ethd_enode n;
    char err[256], out[ETHD_ENODE_MAX_LEN];
    ck_assert_int_eq(ethd_enode_parse("enode://" ID128 "@[::1]:30303?discport=30301", &n, err,
                                      sizeof(err)),
                     0);
    ck_assert_int_eq(n.family, AF_INET6);
    ck_assert_int_eq(n.ip[15], 1);
    ck_assert_int_eq(n.tcp_port, 30303);
    ck_assert_int_eq(n.udp_port, 30301);
    ck_assert_int_eq(ethd_enode_format(&n, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "enode://" ID128 "@[::1]:30303?discport=30301");
    /* upper-case hex is accepted, output is lower case */
    char upper[300];
    snprintf(upper, sizeof(upper), "enode://%s@10.0.0.2:1", ID128);
    for (char *p = upper + 8; *p != '@'; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    ck_assert_int_eq(ethd_enode_parse(upper, &n, err, sizeof(err)), 0);
    ck_assert_int_eq(ethd_enode_format(&n, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "enode://" ID128 "@10.0.0.2:1");
    /* too small an output buffer */
    ck_assert_int_eq(ethd_enode_format(&n, out, 20), ETHD_ETOOBIG);
}
END_TEST

START_TEST(parse_sockaddr)
{
    struct ethd_enode n;
    ck_assert_int_eq(ethd_enode_parse("enode://" ID128 "@192.168.1.9:4000", &n, NULL, 0), 0);
    struct sockaddr_storage ss;
    socklen_t sl;
    ethd_enode_sockaddr(&n, &ss, &sl);
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
    ck_assert_int_eq(sl, sizeof(*s4));
    ck_assert_int_eq(s4->sin_family, AF_INET);
    ck_assert_int_eq(ntohs(s4->sin_port), 4000);
    char ip[64];
    ethd_enode_ip_str(&n, ip, sizeof(ip));
    ck_assert_str_eq(ip, "192.168.1.9");
}
END_TEST

/* Each bad form is refused with a message naming the problem. */
START_TEST(parse_bad_forms)
{
    static const struct {
        const char *url, *needle;
    } cases[] = {
        {"", "not an enode URL"},
        {"http://" ID128 "@127.0.0.1:30303", "not an enode URL"},
        {"ENODE://" ID128 "@127.0.0.1:30303", "not an enode URL"},
        {"enode://abcd@127.0.0.1:30303", "128 hex digits"},
        {"enode://" ID128 "00@127.0.0.1:30303", "128 hex digits"},
        {"enode://0x" ID128 "@127.0.0.1:30303", "128 hex digits"},
        {"enode://zz" ID128 "@127.0.0.1:30303", "128 hex digits"},
        {"enode://" ID128, "lacks '@"},
        {"enode://" ID128 "@", "empty host"},
        {"enode://" ID128 "@:30303", "empty host"},
        {"enode://" ID128 "@localhost:30303", "host names are not supported"},
        {"enode://" ID128 "@node-1.example.org:30303", "host names are not supported"},
        {"enode://" ID128 "@::1:30303", "in brackets"},
        {"enode://" ID128 "@[::1:30303", "closing ']'"},
        {"enode://" ID128 "@[1.2.3.4]:30303", "not an IPv6 address"},
        {"enode://" ID128 "@256.1.1.1:30303", "not an IPv4 address"},
        {"enode://" ID128 "@1.2.3:30303", "not an IPv4 address"},
        {"enode://" ID128 "@127.0.0.1", "lacks ':<port>'"},
        {"enode://" ID128 "@127.0.0.1:", "TCP port"},
        {"enode://" ID128 "@127.0.0.1:0", "TCP port"},
        {"enode://" ID128 "@127.0.0.1:65536", "TCP port"},
        {"enode://" ID128 "@127.0.0.1:+80", "TCP port"},
        {"enode://" ID128 "@127.0.0.1:80x", "TCP port"},
        {"enode://" ID128 "@127.0.0.1:30303?foo=1", "unsupported query"},
        {"enode://" ID128 "@127.0.0.1:30303?discport=", "discport"},
        {"enode://" ID128 "@127.0.0.1:30303?discport=99999", "discport"},
        {"enode://" ID128 "@127.0.0.1:30303?discport=1&x=2", "at the end"},
        {"enode://" ID128 "@127.0.0.1:30303/", "at the end"},
        {"enode://" ID128 "@127.0.0.1:30303#frag", "at the end"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct ethd_enode n;
        char err[256] = "";
        ck_assert_msg(ethd_enode_parse(cases[i].url, &n, err, sizeof(err)) == ETHD_EINVAL,
                      "accepted: %s", cases[i].url);
        ck_assert_msg(strstr(err, cases[i].needle), "'%s': message '%s' lacks '%s'", cases[i].url,
                      err, cases[i].needle);
    }
    char longurl[400];
    memset(longurl, 'a', sizeof(longurl) - 1);
    longurl[sizeof(longurl) - 1] = '\0';
    memcpy(longurl, "enode://", 8);
    struct ethd_enode n;
    char err[256];
    ck_assert_int_eq(ethd_enode_parse(longurl, &n, err, sizeof(err)), ETHD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "longer than"));
    ck_assert_int_eq(ethd_enode_parse(NULL, &n, err, sizeof(err)), ETHD_EINVAL);
}
END_TEST

/* ---- node key ---- */

static char tmpdir[256];
static struct ethd_secp *secp;

static void key_setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ethd-test-nodekey-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
}

static void key_teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    ethd_secp_free(secp);
}

static void write_file(const char *name, const char *content, mode_t mode)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
    ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(nodekey_create_then_reuse)
{
    uint8_t k1[32], k2[32];
    bool created;
    char err[512];
    ck_assert_int_eq(ethd_nodekey_load(secp, tmpdir, k1, &created, err, sizeof(err)), 0);
    ck_assert(created);
    char path[512];
    snprintf(path, sizeof(path), "%s/nodekey", tmpdir);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, 64);
    FILE *f = fopen(path, "r");
    char hex[80] = "";
    ck_assert_ptr_nonnull(fgets(hex, sizeof(hex), f));
    fclose(f);
    uint8_t fromfile[32];
    ck_assert_int_eq(ethd_hex_decode_fixed(hex, fromfile, 32), 0);
    ck_assert_mem_eq(fromfile, k1, 32);
    ck_assert_int_eq(ethd_nodekey_load(secp, tmpdir, k2, &created, err, sizeof(err)), 0);
    ck_assert(!created);
    ck_assert_mem_eq(k1, k2, 32);
    /* no temporary file left behind */
    snprintf(path, sizeof(path), "%s/nodekey.tmp", tmpdir);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(nodekey_accepts_geth_format_with_newline)
{
    const char *hex = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
    char content[80];
    snprintf(content, sizeof(content), "%s\n", hex);
    write_file("nodekey", content, 0600);
    uint8_t k[32], want[32];
    bool created;
    char err[512];
    ck_assert_int_eq(ethd_nodekey_load(secp, tmpdir, k, &created, err, sizeof(err)), 0);
    ck_assert(!created);
    ck_assert_int_eq(ethd_hex_decode_fixed(hex, want, 32), 0);
    ck_assert_mem_eq(k, want, 32);
}
END_TEST

START_TEST(nodekey_refuses_open_permissions)
{
    write_file("nodekey", "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291", 0644);
    uint8_t k[32];
    bool created;
    char err[512];
    ck_assert_int_eq(ethd_nodekey_load(secp, tmpdir, k, &created, err, sizeof(err)), ETHD_EINVAL);
    ck_assert_msg(strstr(err, "mode 0644") && strstr(err, "chmod 600"), "%s", err);
    /* the file is left alone */
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/nodekey", tmpdir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
}
END_TEST

START_TEST(nodekey_refuses_bad_content)
{
    static const char *const bad[] = {
        "",
        "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f2",     /* 62 digits */
        "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f29100", /* 66 digits */
        "zz1c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291",
        "0xb71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f2",
        "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291\n\n",
        "0000000000000000000000000000000000000000000000000000000000000000", /* not a scalar */
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", /* = n */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        write_file("nodekey", bad[i], 0600);
        uint8_t k[32];
        bool created = true;
        char err[512] = "";
        ck_assert_msg(ethd_nodekey_load(secp, tmpdir, k, &created, err, sizeof(err)) == ETHD_EINVAL,
                      "accepted key file %zu", i);
        ck_assert(!created);
        ck_assert_msg(strstr(err, "nodekey"), "%s", err);
    }
}
END_TEST

START_TEST(nodekey_missing_directory)
{
    uint8_t k[32];
    bool created;
    char err[512], dir[300];
    snprintf(dir, sizeof(dir), "%s/does/not/exist", tmpdir);
    ck_assert_int_eq(ethd_nodekey_load(secp, dir, k, &created, err, sizeof(err)), ETHD_EIO);
    ck_assert_ptr_nonnull(strstr(err, "nodekey.tmp"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("enode");
    TCase *tc = tcase_create("enode_url");
    tcase_add_test(tc, parse_ipv4);
    tcase_add_test(tc, parse_ipv6_and_discport);
    tcase_add_test(tc, parse_sockaddr);
    tcase_add_test(tc, parse_bad_forms);
    suite_add_tcase(s, tc);
    tc = tcase_create("nodekey");
    tcase_add_checked_fixture(tc, key_setup, key_teardown);
    tcase_add_test(tc, nodekey_create_then_reuse);
    tcase_add_test(tc, nodekey_accepts_geth_format_with_newline);
    tcase_add_test(tc, nodekey_refuses_open_permissions);
    tcase_add_test(tc, nodekey_refuses_bad_content);
    tcase_add_test(tc, nodekey_missing_directory);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
