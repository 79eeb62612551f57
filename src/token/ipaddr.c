/*
 * Address syntax shared by normalization, the ip6 token rendering and the
 * scrubber. The RFC 5952 formatter is ours rather than inet_ntop because
 * glibc writes ::0.2.0.3 for ::2:3, which is not the canonical text; the
 * unit tests pin both behaviours.
 */
#include <arpa/inet.h>
#include <string.h>
#include "logseal/token.h"
#include "ipaddr.h"

bool lsl_ip_valid(const char *s, size_t len)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    unsigned char bin[16];

    /* inet_pton reads a C string: a NUL would hide the bytes after it. */
    if (len == 0 || len >= sizeof(tmp) || memchr(s, '\0', len))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (memchr(tmp, ':', len))
        return inet_pton(AF_INET6, tmp, bin) == 1;
    return inet_pton(AF_INET, tmp, bin) == 1;
}

static char *put_group(char *p, unsigned w)
{
    static const char hex[] = "0123456789abcdef";
    int shift = 12;

    while (shift > 0 && ((w >> shift) & 0xf) == 0)
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        *p++ = hex[(w >> shift) & 0xf];
    return p;
}

/* Start of the longest run of >= 2 zero groups (leftmost wins), or -1. */
static int longest_zero_run(const unsigned w[8], int *run_len)
{
    int best = -1, best_len = 1;

    for (int i = 0; i < 8;) {
        int j = i;

        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    *run_len = best_len;
    return best;
}

size_t lsl_ip6_format(const uint8_t a[16], char out[LSL_IP6_TEXT_MAX])
{
    unsigned w[8];
    int best, best_len;
    char *p = out;

    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    best = longest_zero_run(w, &best_len);
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            *p++ = ':';
            *p++ = ':';
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len)
            *p++ = ':';
        p = put_group(p, w[i]);
    }
    *p = '\0';
    return (size_t)(p - out);
}
