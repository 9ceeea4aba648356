/* Cryptographically secure random bytes from the kernel (getrandom). */
#ifndef ETHD_RANDOM_H
#define ETHD_RANDOM_H
#include <stddef.h>

/* Fill p[0..n) from the kernel CSPRNG, riding out EINTR and short reads.
 * ETHD_EIO if the kernel refuses. */
int ethd_random_bytes(void *p, size_t n);

#endif
