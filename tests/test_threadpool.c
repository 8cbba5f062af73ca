/* tests/test_threadpool.c — every task runs exactly once, thread ids stay in range, pools are reusable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "nn/threadpool.h"

typedef struct {
    int hits[1000];
    int bad_thread;
    int threads;
} ctx_t;
static void task(void *c, int t, int th) {
    ctx_t *x = c;
    __atomic_fetch_add(&x->hits[t], 1, __ATOMIC_RELAXED);
    if (th < 0 || th >= x->threads) x->bad_thread = 1;
}

static void test_pool(void **state) {
    (void)state;
    for (int n = 1; n <= 4; n++) {
        nn_pool *p = nn_pool_new(n);
        assert_non_null(p);
        assert_int_equal(nn_pool_threads(p), n);
        for (int rep = 0; rep < 50; rep++) {
            ctx_t c;
            memset(&c, 0, sizeof c);
            c.threads = n;
            int ntasks = 1 + (rep * 37) % 1000;
            nn_pool_run(p, ntasks, task, &c);
            for (int t = 0; t < 1000; t++) assert_int_equal(c.hits[t], t < ntasks ? 1 : 0);
            assert_int_equal(c.bad_thread, 0);
        }
        nn_pool_free(p);
    }
    assert_true(nn_cpu_count() >= 1);
    nn_pool_run(NULL, 3, task, &(ctx_t){.threads = 1}); /* NULL pool runs inline */
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pool)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
