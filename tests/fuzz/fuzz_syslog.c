/*
 * Fuzz target: lsl_syslog_strip on arbitrary datagrams. The message it
 * returns lies inside the datagram, has no trailing newline, and
 * stripping is stable: a message that itself looks like a header is not
 * stripped twice by a second call on the same datagram.
 */
#include <string.h>
#include "fuzz_util.h"
#include "logseal/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct lsl_span msg, again;

    lsl_syslog_strip(p, size, &msg);
    FZ_CHECK(msg.len == 0 || (msg.p >= p && msg.p + msg.len <= p + size));
    FZ_CHECK(msg.len == 0 || msg.p[msg.len - 1] != '\n');
    lsl_syslog_strip(p, size, &again);
    FZ_CHECK(again.p == msg.p && again.len == msg.len);
    return 0;
}
