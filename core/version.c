/* The client version string (see version.h). */
#include "version.h"

#include <ethd/error.h>
#include <ethd/version.h>

#include <stdio.h>
#include <sys/utsname.h>

int ethd_client_version(char *buf, size_t len)
{
    struct utsname u;
    char os[sizeof(u.sysname)] = "unknown", arch[sizeof(u.machine)] = "unknown";
    if (uname(&u) == 0) {
        snprintf(os, sizeof(os), "%s", u.sysname);
        snprintf(arch, sizeof(arch), "%s", u.machine);
        for (char *p = os; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    }
    int w = snprintf(buf, len, "ethd/v%s/%s-%s", ETHD_VERSION, os, arch);
    return w < 0 || (size_t)w >= len ? ETHD_ETOOBIG : 0;
}
