/*
 * Fuzz target: the checkpoint record the Kafka sink reads back at start
 * (kafka_ckpt_parse). Whoever can write the checkpoint topic controls its
 * bytes: a record is accepted whole or refused (LSL_ECORRUPT,
 * LSL_EVERSION), never half-read; an accepted checkpoint is consistent
 * (the fingerprinted bytes lie before the offset, strings terminated, the
 * done list within its bounds).
 */
#include <errno.h>
#include <string.h>
#include "fuzz_util.h"
#include "src/sink/kafka_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsl_checkpoint cp;
    uint64_t seq = 0;
    bool have = false;
    int rc = kafka_ckpt_parse((const char *)data, size, &seq, &cp, &have);

    FZ_CHECK(rc == 0 || rc == LSL_ECORRUPT || rc == LSL_EVERSION ||
             rc == -ENOMEM);
    if (rc == 0 && have) {
        FZ_CHECK(cp.end_len <= cp.offset);
        FZ_CHECK(cp.ndone <= LSL_CKPT_DONE);
        FZ_CHECK(memchr(cp.segment, '\0', sizeof(cp.segment)) != NULL);
    }
    return 0;
}
