/* Text for the ETHD_E* codes. */
#include <ethd/error.h>

const char *ethd_strerror(int code)
{
    switch (code) {
    case ETHD_OK: return "success";
    case ETHD_EINVAL: return "invalid argument";
    case ETHD_ENOMEM: return "out of memory";
    case ETHD_EPROTO: return "protocol violation";
    case ETHD_ENOTFOUND: return "not found";
    case ETHD_EABI: return "incompatible ABI or interface version";
    case ETHD_ETOOBIG: return "size limit exceeded";
    case ETHD_EIO: return "I/O error";
    case ETHD_ECONFIG: return "configuration error";
    case ETHD_EEXIST: return "already exists";
    case ETHD_EBUSY: return "resource busy";
    case ETHD_ESTATE: return "invalid state";
    case ETHD_ETIMEDOUT: return "timed out";
    case ETHD_ECANCELED: return "canceled";
    case ETHD_ECRYPTO: return "cryptographic check failed";
    case ETHD_ENOTSUP: return "not supported";
    case ETHD_ERANGE: return "value out of range";
    case ETHD_ENONCANON: return "non-canonical encoding";
    case ETHD_ETRUNC: return "input truncated";
    case ETHD_ETRAILING: return "trailing bytes after item";
    case ETHD_EDEPTH: return "nesting too deep";
    case ETHD_ETYPE: return "wrong item type";
    case ETHD_EAGAIN: return "need more input";
    case ETHD_ECLOSED: return "connection closed";
    default: return "unknown error";
    }
}
