/* nn/threadpool.c — fixed pthread pool.  A run is a struct on the caller's stack that workers join
 * while it is open; tasks are claimed with an atomic counter.  The caller works too and, once every
 * task is claimed, waits only for the workers that joined — never for a sleeping thread to wake up
 * (on a busy machine that wake-up can cost milliseconds per run). */
#include "nn/threadpool.h"
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
    nn_task_fn fn;
    void *ctx;
    int ntasks;
    int next; /* atomic task counter */
    int refs; /* workers inside this run (under the pool mutex) */
} run_t;

struct nn_pool {
    int n; /* threads including the caller */
    pthread_t *th;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long gen; /* bumped per run */
    run_t *cur;        /* the open run, NULL between runs */
    int quit;
};

typedef struct {
    nn_pool *p;
    int id;
} worker_arg;

static void drain(run_t *r, int id) {
    for (;;) {
        int t = __atomic_fetch_add(&r->next, 1, __ATOMIC_RELAXED);
        if (t >= r->ntasks) break;
        r->fn(r->ctx, t, id);
    }
}

static void *worker(void *a) {
    worker_arg *wa = a;
    nn_pool *p = wa->p;
    int id = wa->id;
    free(wa);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->gen == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        run_t *r = p->cur;
        if (!r) continue; /* woke after that run closed: nothing to do */
        r->refs++;
        pthread_mutex_unlock(&p->mu);
        drain(r, id);
        pthread_mutex_lock(&p->mu);
        if (--r->refs == 0) pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int nn_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

nn_pool *nn_pool_new(int nthreads) {
    if (nthreads <= 0) nthreads = nn_cpu_count();
    if (nthreads > 256) nthreads = 256;
    nn_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = nthreads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (nthreads > 1) {
        p->th = calloc((size_t)nthreads - 1, sizeof *p->th);
        if (!p->th) {
            free(p);
            return NULL;
        }
        for (int i = 1; i < nthreads; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (wa) {
                wa->p = p;
                wa->id = i;
            }
            if (!wa || pthread_create(&p->th[i - 1], NULL, worker, wa) != 0) {
                free(wa);
                p->n = i; /* run with the threads we got */
                break;
            }
        }
    }
    return p;
}

int nn_pool_threads(const nn_pool *p) { return p ? p->n : 1; }

void nn_pool_run(nn_pool *p, int ntasks, nn_task_fn fn, void *ctx) {
    if (ntasks <= 0) return;
    if (!p || p->n == 1 || ntasks == 1) {
        for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
        return;
    }
    run_t r = {fn, ctx, ntasks, 0, 0};
    pthread_mutex_lock(&p->mu);
    p->cur = &r;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    drain(&r, 0);
    pthread_mutex_lock(&p->mu);
    p->cur = NULL; /* late wakers skip it; r lives until the joined ones leave */
    while (r.refs > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void nn_pool_free(nn_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->th[i - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->go);
    free(p->th);
    free(p);
}
