/*
 * Reading vault files for the sealed index (sidx_build.c), on several
 * threads: each file is read whole, verified as every reading verifies
 * it, into its own entries and chunk table; the builder takes the results
 * in file order on the calling thread.
 *
 * Invariants: a job is touched by one worker until it is marked ready,
 * then only by the calling thread; workers run at most `window` jobs ahead
 * of the one being taken, which bounds the memory the results hold. The
 * officer key is only read. Stream states and verification keys of a job
 * are wiped when it is released.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "logseal/array.h"
#include "sidx_internal.h"

#define THREADS_MAX 4

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct sidx_job *jobs;
    size_t n, next, taken, window;
    bool stop;
    const struct lsl_officer_key *key;
};

static int job_chunk(uint64_t offset, const uint8_t *state, void *ud)
{
    struct sidx_job *j = ud;
    uint8_t e[SIDX_CT];
    int rc;

    if (j->chunks.len / SIDX_CT >= UINT32_MAX)
        return -EFBIG;
    lsl_put_le(e, j->no, 4);
    lsl_put_le(e + 4, offset, 8);
    memcpy(e + 12, state, SIDX_STATE_BYTES);
    rc = lsl_buf_append(&j->chunks, e, sizeof(e));
    sodium_memzero(e, sizeof(e));
    return rc;
}

static int job_record(const struct lsl_vault_record *r, void *ud)
{
    struct sidx_job *j = ud;
    uint8_t *e;
    int rc = lsl_array_grow(&j->entries, &j->cap, j->n + 1, SIDX_ENTRY, 16384);

    if (rc)
        return rc;
    e = j->entries + j->n++ * SIDX_ENTRY;
    lsl_sidx_tok_key(&r->tok, e);
    lsl_sidx_put_be(e + SIDX_KEY, j->chunks.len / SIDX_CT - 1, 4);
    return 0;
}

static void read_job(struct sidx_job *j, const struct lsl_officer_key *key)
{
    struct lsl_vault_read_ext x = {.on_chunk = job_chunk, .ud = j};

    j->vkey = sodium_malloc(LSL_VKEY_BYTES);
    if (!j->vkey) {
        j->rc = -ENOMEM;
        return;
    }
    x.vkey = j->vkey;
    j->rc = lsl_vault_read_file_ext(j->path, key, job_record, j, &j->info, &x);
    j->info.writing = false; /* decided at each reading, from the lock */
}

void lsl_sidx_job_release(struct sidx_job *j)
{
    free(j->entries);
    lsl_buf_free(&j->chunks);
    sodium_free(j->vkey);
    j->entries = NULL;
    j->vkey = NULL;
    j->n = j->cap = 0;
}

static void *worker(void *arg)
{
    struct pool *p = arg;

    for (;;) {
        size_t i;

        pthread_mutex_lock(&p->mu);
        while (!p->stop && p->next < p->n && p->next >= p->taken + p->window)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop || p->next >= p->n) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        i = p->next++;
        pthread_mutex_unlock(&p->mu);
        read_job(&p->jobs[i], p->key);
        pthread_mutex_lock(&p->mu);
        p->jobs[i].ready = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

static unsigned threads_for(unsigned want, size_t n)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    if (!want)
        want = cpus > THREADS_MAX ? THREADS_MAX : cpus > 1 ? (unsigned)cpus : 1;
    if (want > THREADS_MAX)
        want = THREADS_MAX;
    return n < want ? (unsigned)n : want;
}

/* Take the jobs in order as they become ready. */
static int take_all(struct pool *p, int (*done)(struct sidx_job *, void *),
                    void *ud)
{
    int rc = 0;

    for (size_t i = 0; i < p->n && rc == 0; i++) {
        pthread_mutex_lock(&p->mu);
        while (!p->jobs[i].ready)
            pthread_cond_wait(&p->cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
        rc = done(&p->jobs[i], ud);
        lsl_sidx_job_release(&p->jobs[i]);
        pthread_mutex_lock(&p->mu);
        p->taken = i + 1;
        p->stop = rc != 0;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    return rc;
}

static int read_here(const struct lsl_officer_key *key, struct sidx_job *jobs,
                     size_t n, int (*done)(struct sidx_job *, void *), void *ud)
{
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        read_job(&jobs[i], key);
        rc = done(&jobs[i], ud);
        lsl_sidx_job_release(&jobs[i]);
    }
    return rc;
}

int lsl_sidx_read_jobs(const struct lsl_officer_key *key, struct sidx_job *jobs,
                       size_t n, unsigned threads,
                       int (*done)(struct sidx_job *, void *), void *ud)
{
    struct pool p = {.jobs = jobs, .n = n, .key = key};
    pthread_t tid[THREADS_MAX];
    unsigned t = threads_for(threads, n), started = 0;
    int rc;

    if (t <= 1)
        return read_here(key, jobs, n, done, ud);
    p.window = 2 * (size_t)t;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    while (started < t && pthread_create(&tid[started], NULL, worker, &p) == 0)
        started++;
    /* No thread could start: read here. */
    rc = started ? take_all(&p, done, ud) : read_here(key, jobs, n, done, ud);
    pthread_mutex_lock(&p.mu);
    p.stop = true;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    /* Jobs read ahead of an error are released here. */
    for (size_t i = 0; i < n; i++)
        lsl_sidx_job_release(&jobs[i]);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    return rc;
}
