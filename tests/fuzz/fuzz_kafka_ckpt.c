/*
 * Fuzz target: the checkpoint record the Kafka sink reads back at start
 * (kafka_ckpt_parse). Whoever can write the checkpoint topic controls its
 * bytes: a record is accepted whole or refused (LSL_ECORRUPT,
 * LSL_EVERSION, and for a sealed one LSL_EAUTH or LSL_EOTHERKEY), never
 * half-read; an accepted checkpoint is consistent (the fingerprinted
 * bytes lie before the offset, strings terminated, the done list within
 * its bounds). The key is fz_ckpt_key's, which sealed the version 5 seed.
 */
#include <errno.h>
#include <string.h>
#include "fuzz_util.h"
#include "src/sink/kafka_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lsl_ckpt_key *key;
    struct lsl_checkpoint cp;
    uint64_t seq = 0;
    bool have = false;
    int rc;

    if (!key)
        key = fz_ckpt_key();
    rc = kafka_ckpt_parse((const char *)data, size, "web", key, &seq, &cp,
                          &have);
    FZ_CHECK(rc == 0 || rc == LSL_ECORRUPT || rc == LSL_EVERSION ||
             rc == LSL_EAUTH || rc == LSL_EOTHERKEY || rc == -ENOMEM);
    if (rc == 0 && have) {
        FZ_CHECK(cp.end_len <= cp.offset);
        FZ_CHECK(cp.ndone <= LSL_CKPT_DONE);
        FZ_CHECK(memchr(cp.segment, '\0', sizeof(cp.segment)) != NULL);
    }
    return 0;
}
