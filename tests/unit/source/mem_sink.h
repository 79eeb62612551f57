/*
 * A sink that keeps the output in memory, for source tests on a real loop
 * and pipeline: the text outlives source restarts, and a gate can hold
 * writes back (a stuck output) to exercise backpressure.
 */
#ifndef LSL_TEST_MEM_SINK_H
#define LSL_TEST_MEM_SINK_H

#include <uv.h>
#include "logseal/buf.h"
#include "logseal/pipeline.h"

struct mem_sink {
    struct lsl_sink base;
    uv_mutex_t lock;
    uv_cond_t cond;
    bool gate_closed; /* writes wait while set (under lock) */
    struct lsl_buf out;
    unsigned writes, syncs; /* calls (under lock) */
};

/* Set up `m` (plain text, desc "memory"); cmocka-asserts on failure. */
void mem_sink_init(struct mem_sink *m);
void mem_sink_free(struct mem_sink *m);

/* Hold writes back (closed) or let them through again. */
void mem_sink_gate(struct mem_sink *m, bool closed);

/* Calls of write and sync so far. */
void mem_sink_calls(struct mem_sink *m, unsigned *writes, unsigned *syncs);

/* Lines written so far (newlines in the text). */
size_t mem_sink_lines(struct mem_sink *m);

/* A NUL-terminated copy of the text (caller frees). */
char *mem_sink_text(struct mem_sink *m);

#endif
