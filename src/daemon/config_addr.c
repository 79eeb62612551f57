/*
 * Loopback listener addresses of the configuration (metrics, syslog over
 * UDP): only 127.0.0.0/8 and, where allowed, [::1]. Plain text checks, no
 * resolver: a name could resolve to anything.
 */
#include <ctype.h>
#include <string.h>
#include "logseal/config.h"

static bool parse_port(const char *s, unsigned *port)
{
    unsigned v = 0;

    if (!*s || strlen(s) > 5)
        return false;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
        v = v * 10 + (unsigned)(*s - '0');
    }
    *port = v;
    return v >= 1 && v <= 65535;
}

static bool ipv4_loopback(const char *s, size_t len)
{
    unsigned parts = 0, v = 0, digits = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && isdigit((unsigned char)s[i])) {
            v = v * 10 + (unsigned)(s[i] - '0');
            if (++digits > 3 || v > 255)
                return false;
        } else if (i == len || s[i] == '.') {
            if (digits == 0 || (parts == 0 && v != 127))
                return false;
            parts++, v = 0, digits = 0;
        } else {
            return false;
        }
    }
    return parts == 4;
}

int lsl_config_loopback(const char *s, bool allow_v6, char *host, size_t cap,
                        unsigned *port)
{
    const char *colon = strrchr(s, ':');
    size_t hlen;

    if (!colon || !parse_port(colon + 1, port))
        return LSL_ECONFIG;
    hlen = (size_t)(colon - s);
    if (allow_v6 && hlen == 5 && memcmp(s, "[::1]", 5) == 0) {
        if (cap < 4)
            return LSL_ECONFIG;
        memcpy(host, "::1", 4);
        return 0;
    }
    if (!ipv4_loopback(s, hlen) || hlen >= cap)
        return LSL_ECONFIG;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    return 0;
}
