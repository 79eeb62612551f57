/*
 * The "\xHH" escapes of text-format access logs: nginx (escape=default)
 * writes every byte of a variable that is no printable ASCII, and '"' and
 * '\', as "\xHH"; Apache's mod_log_config writes bytes beyond ASCII and
 * controls so. A phone number sent raw in UTF-8 by an app that does not
 * percent-encode its query ("?q=０９０...") reaches the log as
 * "\xEF\xBC\x90\xEF\xBC\x99...", a user name from Basic auth as
 * "\xE6\xB8\xA1\xE8\xBE\xBA". The rules read such text decoded, and a
 * value's token is made from the decoded bytes, as for JSON's escapes
 * (jstr.c). Only "\x" and two hex digits of either case is an escape;
 * Apache's "\"" and "\\" are left as they are (they decode to no byte an
 * identifier holds).
 */
#include "hex_internal.h"
#include "logseal/token.h"

static bool escape_at(const char *s, size_t len, size_t i)
{
    return i + 3 < len && s[i] == '\\' && s[i + 1] == 'x' &&
           lsl_hexval((unsigned char)s[i + 2]) >= 0 &&
           lsl_hexval((unsigned char)s[i + 3]) >= 0;
}

bool lsl_xesc_has(const char *s, size_t len)
{
    /* Asked only of text that holds a '\' (lsl_decoded_run looks
     * first). */
    for (size_t i = 0; i + 3 < len; i++)
        if (escape_at(s, len, i))
            return true;
    return false;
}

size_t lsl_xesc_decode(const char *s, size_t len, char *out, uint32_t *map)
{
    size_t k = 0, i = 0;

    while (i < len) {
        if (map)
            map[k] = (uint32_t)i;
        if (escape_at(s, len, i)) {
            out[k++] = (char)(lsl_hexval((unsigned char)s[i + 2]) << 4 |
                              lsl_hexval((unsigned char)s[i + 3]));
            i += 4;
        } else {
            out[k++] = s[i++];
        }
    }
    if (map)
        map[k] = (uint32_t)len;
    return k;
}
