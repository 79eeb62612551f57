/* Address syntax checks shared by normalization and the scrubber. */
#include <arpa/inet.h>
#include <string.h>
#include "logseal/token.h"

bool lsl_ip_valid(const char *s, size_t len)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    unsigned char bin[16];

    if (len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (memchr(tmp, ':', len))
        return inet_pton(AF_INET6, tmp, bin) == 1;
    return inet_pton(AF_INET, tmp, bin) == 1;
}
