/*
 * Host ids (file.h): the name a host's segments, vault files and vault
 * records carry, so that output and vaults collected from a fleet stay
 * apart and say where they came from.
 *
 * Invariant: a valid id is safe as one path component and as a hive
 * partition value (host=<id>): letters, digits, '.', '_' and '-' only (no
 * '/', no '=', no ':'), starting with a letter or digit, no "..", at most
 * LSL_HOST_MAX bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "logseal/file.h"

bool lsl_host_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > LSL_HOST_MAX || !isalnum((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
        if (c == '.' && s[i + 1] == '.')
            return false;
    }
    return true;
}

int lsl_host_default(char out[LSL_HOST_MAX + 1])
{
    char name[256] = "";

    if (gethostname(name, sizeof(name) - 1) != 0)
        return -errno;
    if (!lsl_host_valid(name)) {
        /* Still give the name, so the caller can say which one. */
        snprintf(out, LSL_HOST_MAX + 1, "%s", name);
        return -EINVAL;
    }
    memcpy(out, name, strlen(name) + 1);
    return 0;
}
