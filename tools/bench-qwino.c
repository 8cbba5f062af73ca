/* tools/bench-qwino.c — the int8 3x3 stride-1 convolutions of FaceNet one by one, direct (nn/qgemm.h) against
 * exact Winograd F(2x2, 3x3) (nn/qwino.h), on the int8 kernels of the ISA level in force (SORTBYFACE_ISA or
 * --isa), in one process: best of R calls each, alternately.  Inputs: 12-bit activations of which a third are
 * nonzero (about FaceNet's share); weights uniform in -20..20 (the same for both forms, within the exactness
 * bound).  The two outputs are compared (they must be equal).
 * usage: bench-qwino [--threads T] [--runs R] [--isa NAME]
 * Prints per layer: name, shape, direct ms, Winograd ms, ratio; then the sum weighted by how often each shape
 * occurs in the network (Block35's occurs 15 times). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "nn/cpu.h"
#include "nn/qgemm.h"
#include "nn/threadpool.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct {
    const nn_qconv_call *c;
    void **ws;
} run_ctx;

static void run_task(void *ctx, int task, int thread) {
    const run_ctx *r = ctx;
    nn_qconv_task_ws(r->c, task, r->ws[thread]);
}

static double run(const nn_qconv *cv, nn_pool *pool, void **ws, const uint16_t *in, int h, int w, uint16_t *out,
                  const float *qinv) {
    nn_qconv_call c;
    memset(&c, 0, sizeof c);
    c.cv = cv;
    c.in = in;
    c.n = 1;
    c.h = h;
    c.w = w;
    c.in_ld = cv->cin;
    c.outq = out;
    c.ldq = cv->cout;
    c.out_qinv = qinv;
    c.flags = NN_RELU;
    double t0 = now();
    int nt = nn_qconv_plan(&c, nn_pool_threads(pool));
    run_ctx r = {&c, ws};
    nn_pool_run(pool, nt, run_task, &r);
    return now() - t0;
}

int main(int argc, char **argv) {
    int threads = 1, runs = 50;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            if (nn_set_isa(argv[++i])) {
                fprintf(stderr, "bench-qwino: this CPU cannot run --isa %s\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: bench-qwino [--threads T] [--runs R] [--isa NAME]\n");
            return 2;
        }
    }
    if (threads < 1 || runs < 1) {
        fprintf(stderr, "bench-qwino: --threads and --runs take positive numbers\n");
        return 2;
    }
    static const struct {
        const char *name;
        int h, w, cin, cout, times;
        nn_padding pad;
    } L[] = {
        {"Conv2d_2a_3x3", 79, 79, 32, 32, 1, NN_PAD_VALID},
        {"Conv2d_2b_3x3", 77, 77, 32, 64, 1, NN_PAD_SAME},
        {"Conv2d_4a_3x3", 38, 38, 80, 192, 1, NN_PAD_VALID},
        {"Block35_*_3x3", 17, 17, 32, 32, 15, NN_PAD_SAME},
        {"Mixed_6a_Branch_1_Conv2d_0b_3x3", 17, 17, 192, 192, 1, NN_PAD_SAME},
        {"Mixed_7a_Branch_2_Conv2d_0b_3x3", 8, 8, 256, 256, 1, NN_PAD_SAME},
    };
    nn_pool *pool = nn_pool_new(threads);
    void *ws[64] = {0};
    if (!pool || nn_pool_threads(pool) > 64) return 1;
    for (int i = 0; i < nn_pool_threads(pool); i++)
        if (posix_memalign(&ws[i], 64, 1u << 20)) return 1;
    printf("int8 kernels %s, %d thread(s), best of %d calls\n", nn_qkern()->name, nn_pool_threads(pool), runs);
    srand(1);
    double sum[2] = {0, 0};
    for (size_t l = 0; l < sizeof L / sizeof *L; l++) {
        const int h = L[l].h, w = L[l].w, cin = L[l].cin, cout = L[l].cout;
        uint16_t *in = malloc((size_t)h * w * cin * sizeof *in + 64);
        int8_t *wt = malloc((size_t)cout * 9 * cin);
        uint16_t *out[2] = {malloc((size_t)h * w * cout * sizeof(uint16_t)),
                            malloc((size_t)h * w * cout * sizeof(uint16_t))};
        float *ones = malloc(sizeof(float) * (size_t)cout), *qinv = malloc(sizeof(float) * (size_t)cout);
        if (!in || !wt || !out[0] || !out[1] || !ones || !qinv) return 1;
        for (size_t i = 0; i < (size_t)h * w * cin; i++) in[i] = rand() % 3 ? 0 : (uint16_t)(rand() % 4096);
        for (size_t i = 0; i < (size_t)cout * 9 * cin; i++) wt[i] = (int8_t)(rand() % 41 - 20);
        for (int j = 0; j < cout; j++) {
            ones[j] = 1e-4f;
            qinv[j] = 5.0f;
        }
        nn_qconv cv[2];
        for (int m = 0; m < 2; m++)
            if (nn_qconv_init(&cv[m], NULL, NULL, wt, ones, NULL, 1.0f, cout, 3, 3, cin, 1, 1, L[l].pad) ||
                (m == 1 && nn_qconv_winograd(&cv[1], wt))) {
                fprintf(stderr, "bench-qwino: %s: cannot prepare the %s form\n", L[l].name, m ? "Winograd" : "direct");
                return 1;
            }
        double best[2] = {1e9, 1e9};
        for (int r = 0; r < runs; r++)
            for (int m = 0; m < 2; m++) {
                double t = run(&cv[m], pool, ws, in, h, w, out[m], qinv);
                if (t < best[m]) best[m] = t;
            }
        const size_t outs = (size_t)(L[l].pad == NN_PAD_VALID ? (h - 2) * (w - 2) : h * w) * cout;
        if (memcmp(out[0], out[1], outs * sizeof(uint16_t))) {
            fprintf(stderr, "bench-qwino: %s: the two forms' outputs differ\n", L[l].name);
            return 1;
        }
        printf("%-32s %2dx%-2d %3d->%-3d x%-2d direct %.3f ms  winograd %.3f ms  ratio %.2f\n", L[l].name, h, w, cin,
               cout, L[l].times, best[0] * 1e3, best[1] * 1e3, best[1] / best[0]);
        for (int m = 0; m < 2; m++) {
            sum[m] += L[l].times * best[m];
            nn_qconv_free(&cv[m]);
            free(out[m]);
        }
        free(in);
        free(wt);
        free(ones);
        free(qinv);
    }
    printf("all 20 layers: direct %.3f ms  winograd %.3f ms  ratio %.2f\n", sum[0] * 1e3, sum[1] * 1e3,
           sum[1] / sum[0]);
    for (int i = 0; i < nn_pool_threads(pool); i++) free(ws[i]);
    nn_pool_free(pool);
    return 0;
}
