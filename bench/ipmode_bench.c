/*
 * ns per address of each IP output mode, through the same path as the
 * pipeline (lsl_span_emit on a worker: normalization, token cache, vault
 * mapping set), for IPv4 and IPv6 over a population of distinct addresses
 * that recur as client addresses do. The tokenizer is reset every
 * BATCH renders, like a batch. Usage: ipmode_bench [renders] [population]
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "src/pipeline/batch_internal.h"

#define BATCH 8192

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static char (*population(size_t n, int v6))[48]
{
    char(*a)[48] = malloc(n * sizeof(*a));
    uint8_t b[16];

    for (size_t i = 0; a && i < n; i++) {
        randombytes_buf(b, sizeof(b));
        if (v6)
            snprintf(a[i], 48, "2001:db8:%x:%x::%x", b[0] << 8 | b[1],
                     b[2] << 8 | b[3], b[4] << 8 | b[5]);
        else
            snprintf(a[i], 48, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    }
    return a;
}

static double run(struct lsl_worker *w, char (*pop)[48], size_t npop,
                  size_t renders, unsigned mode)
{
    struct lsl_buf out = {0};
    double t0 = now_ns();

    for (size_t i = 0; i < renders; i++) {
        const char *v = pop[(i * 2654435761u) % npop];
        struct lsl_plan_span s = {.len = (uint32_t)strlen(v),
                                  .cls = LSL_CLASS_IP,
                                  .mode = (uint8_t)mode};

        if (i % BATCH == 0) {
            lsl_tokenizer_reset(w->tz);
            out.len = 0;
        }
        if (lsl_span_emit(w, v, s.len, &s, 0, &out) != 0) {
            fprintf(stderr, "render failed\n");
            exit(1);
        }
    }
    lsl_buf_free(&out);
    return (now_ns() - t0) / (double)renders;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"token", "ip6", "prefix", "truncate"};
    size_t renders = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
    size_t npop = argc > 2 ? strtoul(argv[2], NULL, 10) : 50000;
    char key[] = "/tmp/lsl-bench-key-XXXXXX";
    struct lsl_worker_opts wo = {0};
    struct lsl_keyring *kr = NULL;
    struct lsl_worker *w = NULL;
    int fd = mkstemp(key);

    if (fd < 0 || sodium_init() < 0)
        return 1;
    close(fd);
    unlink(key);
    if (lsl_keyring_create(key, LSL_EPOCH_NEVER) || lsl_keyring_open(&kr, key))
        return 1;
    unlink(key);
    wo.keyring = kr;
    if (lsl_worker_open(&w, &wo))
        return 1;
    printf("%zu renders, %zu distinct addresses\nmode      IPv4 ns  IPv6 ns"
           "\n",
           renders, npop);
    for (unsigned m = 0; m < 4; m++) {
        double ns[2];

        for (int v6 = 0; v6 < 2; v6++) {
            char(*pop)[48] = population(npop, v6);

            if (!pop)
                return 1;
            ns[v6] = run(w, pop, npop, renders, m);
            free(pop);
        }
        printf("%-9s %7.0f  %7.0f\n", names[m], ns[0], ns[1]);
    }
    lsl_worker_close(w);
    lsl_keyring_close(kr);
    return 0;
}
