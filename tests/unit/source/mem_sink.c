/* The in-memory test sink: see mem_sink.h. */
#include "mem_sink.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static int mem_write(struct lsl_sink *s, const struct lsl_batch *b)
{
    struct mem_sink *m = (struct mem_sink *)s;
    int rc;

    uv_mutex_lock(&m->lock);
    while (m->gate_closed)
        uv_cond_wait(&m->cond, &m->lock);
    rc = lsl_buf_append(&m->out, b->out.p, b->out.len);
    m->writes++;
    uv_mutex_unlock(&m->lock);
    return rc;
}

static int mem_sync(struct lsl_sink *s)
{
    struct mem_sink *m = (struct mem_sink *)s;

    uv_mutex_lock(&m->lock);
    m->syncs++;
    uv_mutex_unlock(&m->lock);
    return 0;
}

static int mem_close(struct lsl_sink *s, bool finish)
{
    (void)s;
    (void)finish;
    return 0;
}

static const struct lsl_sink_ops mem_ops = {
    .write = mem_write,
    .sync = mem_sync,
    .close = mem_close,
};

void mem_sink_init(struct mem_sink *m)
{
    memset(m, 0, sizeof(*m));
    m->base.ops = &mem_ops;
    m->base.sync_each = true;
    strcpy(m->base.desc, "memory");
    assert_int_equal(uv_mutex_init(&m->lock), 0);
    assert_int_equal(uv_cond_init(&m->cond), 0);
}

void mem_sink_free(struct mem_sink *m)
{
    lsl_buf_free(&m->out);
    uv_cond_destroy(&m->cond);
    uv_mutex_destroy(&m->lock);
}

void mem_sink_gate(struct mem_sink *m, bool closed)
{
    uv_mutex_lock(&m->lock);
    m->gate_closed = closed;
    uv_cond_broadcast(&m->cond);
    uv_mutex_unlock(&m->lock);
}

void mem_sink_calls(struct mem_sink *m, unsigned *writes, unsigned *syncs)
{
    uv_mutex_lock(&m->lock);
    *writes = m->writes;
    *syncs = m->syncs;
    uv_mutex_unlock(&m->lock);
}

size_t mem_sink_lines(struct mem_sink *m)
{
    size_t n = 0;

    uv_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->out.len; i++)
        n += m->out.p[i] == '\n';
    uv_mutex_unlock(&m->lock);
    return n;
}

char *mem_sink_text(struct mem_sink *m)
{
    char *text;

    uv_mutex_lock(&m->lock);
    text = malloc(m->out.len + 1);
    if (text) {
        if (m->out.len)
            memcpy(text, m->out.p, m->out.len);
        text[m->out.len] = '\0';
    }
    uv_mutex_unlock(&m->lock);
    assert_non_null(text);
    return text;
}
