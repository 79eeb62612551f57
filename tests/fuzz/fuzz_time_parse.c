/*
 * Fuzz target: lsl_time_parse. Input: a format, a NUL byte, the text
 * (without a NUL: the format of nginx-combined). The result is 0 or
 * -EINVAL, never a read past either string (ASan) or a signed overflow
 * (UBSan); a parsed time is re-parsed identically (no hidden state).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul = memchr(data, '\0', size);
    const char *text = (const char *)data;
    size_t len = size;
    char *fmt = NULL;
    int64_t t, again;
    int rc;

    if (nul) {
        fmt = strndup((const char *)data, (size_t)(nul - text));
        len = size - (size_t)(nul - text) - 1;
        text = nul + 1;
    } else {
        fmt = strdup("%d/%b/%Y:%H:%M:%S %z");
    }
    FZ_CHECK(fmt != NULL);
    rc = lsl_time_parse(fmt, text, len, &t);
    FZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        FZ_CHECK(lsl_time_parse(fmt, text, len, &again) == 0);
        FZ_CHECK(again == t);
    }
    free(fmt);
    return 0;
}
