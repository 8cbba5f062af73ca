/* nn/threadpool.h — a small pthread pool: run N tasks over T threads and wait for all of them. */
#ifndef NN_THREADPOOL_H
#define NN_THREADPOOL_H
typedef struct nn_pool nn_pool;
typedef void (*nn_task_fn)(void *ctx, int task, int thread);
/* nthreads <= 0 means all online cores.  A pool of 1 runs tasks inline on the caller. */
nn_pool *nn_pool_new(int nthreads);
void nn_pool_free(nn_pool *p);
int nn_pool_threads(const nn_pool *p);
/* Runs fn(ctx, task, thread) for task in [0, ntasks); thread in [0, threads). Returns when all done.
 * Not reentrant: do not call nn_pool_run from inside a task of the same pool. */
void nn_pool_run(nn_pool *p, int ntasks, nn_task_fn fn, void *ctx);
int nn_cpu_count(void);
#endif
