/* Error codes shared by every ethd function (libuv style): 0 is success, a
 * negative ETHD_E* value is a failure. ethd_strerror() gives the text. */
#ifndef ETHD_ERROR_H
#define ETHD_ERROR_H

enum {
    ETHD_OK = 0,
    ETHD_EINVAL = -1,    /* invalid argument or malformed input */
    ETHD_ENOMEM = -2,    /* out of memory */
    ETHD_EPROTO = -3,    /* protocol violation by a peer */
    ETHD_ENOTFOUND = -4, /* no such item */
    ETHD_EABI = -5,      /* incompatible plugin ABI or interface version */
    ETHD_ETOOBIG = -6,   /* size limit exceeded */
    ETHD_EIO = -7,       /* I/O or storage failure */
    ETHD_ECONFIG = -8,   /* configuration error (message says where) */
    ETHD_EEXIST = -9,    /* already exists / already registered */
    ETHD_EBUSY = -10,    /* resource held by someone else (e.g. data dir lock) */
    ETHD_ESTATE = -11,   /* operation not valid in the current state */
    ETHD_ETIMEDOUT = -12,/* a wait ran out */
    ETHD_ECANCELED = -13,/* operation cancelled (shutdown, peer gone) */
    ETHD_ECRYPTO = -14,  /* bad signature, key, MAC or ciphertext */
    ETHD_ENOTSUP = -15,  /* not supported */
    ETHD_ERANGE = -16,   /* value out of range */
    ETHD_ENONCANON = -17,/* non-canonical encoding (RLP) */
    ETHD_ETRUNC = -18,   /* input ends early */
    ETHD_ETRAILING = -19,/* bytes after the end of the item */
    ETHD_EDEPTH = -20,   /* nesting too deep */
    ETHD_ETYPE = -21,    /* wrong kind of item (list vs string, ...) */
    ETHD_EAGAIN = -22,   /* not enough input yet: call again with more */
    ETHD_ECLOSED = -23,  /* the connection or peer is closed */
};

/* Static text for an ETHD_E* code; never NULL. */
const char *ethd_strerror(int code);

#endif
