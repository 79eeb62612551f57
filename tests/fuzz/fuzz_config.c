/*
 * Fuzz target: the daemon's configuration parser (lsl_config_parse) on
 * arbitrary text. It accepts or refuses with LSL_ECONFIG and a message;
 * an accepted configuration has sane values (gzip level 1-9, sources with
 * names, strings terminated); a refusal lists its errors (up to the cap),
 * each naming a line of the text.
 */
#include <errno.h>
#include <string.h>
#include "fuzz_util.h"
#include "logseal/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct lsl_config *c)
{
    FZ_CHECK(c->level >= 1 && c->level <= 9);
    FZ_CHECK(memchr(c->keys, '\0', sizeof(c->keys)) != NULL);
    FZ_CHECK(memchr(c->metrics, '\0', sizeof(c->metrics)) != NULL);
    for (size_t i = 0; i < c->nsources; i++) {
        const struct lsl_source_conf *s = &c->sources[i];

        FZ_CHECK(s->name[0] != '\0');
        FZ_CHECK(memchr(s->name, '\0', sizeof(s->name)) != NULL);
        FZ_CHECK(memchr(s->path, '\0', sizeof(s->path)) != NULL);
        FZ_CHECK(memchr(s->rule, '\0', sizeof(s->rule)) != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsl_config *c = NULL;
    struct lsl_config_error e;
    size_t lines = 1;
    int rc;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    rc = lsl_config_parse(&c, "fuzz.conf", (const char *)data, size, &e);
    FZ_CHECK(rc == 0 || rc == LSL_ECONFIG || rc == -ENOMEM);
    if (rc == 0) {
        check_accepted(c);
        lsl_config_free(c);
    } else if (rc == LSL_ECONFIG) {
        FZ_CHECK(e.msg[0] != '\0' && memchr(e.msg, '\0', sizeof(e.msg)));
        FZ_CHECK(e.line <= lines);
        /* Every error is kept up to the cap, each naming a line of it. */
        FZ_CHECK(e.count >= 1 && e.kept >= 1 &&
                 e.kept == (e.count < LSL_CONFIG_ERRORS_MAX
                                ? e.count
                                : LSL_CONFIG_ERRORS_MAX));
        for (unsigned i = 0; i < e.kept; i++)
            FZ_CHECK(e.list[i].msg[0] != '\0' && e.list[i].line <= lines);
    }
    return 0;
}
