/* The one place ethd reads the kernel CSPRNG. */
#include <ethd/error.h>
#include <ethd/random.h>

#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

int ethd_random_bytes(void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = getrandom(b, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return ETHD_EIO;
        }
        b += r;
        n -= (size_t)r;
    }
    return 0;
}
