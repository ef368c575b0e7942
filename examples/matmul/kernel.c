/* Tiled single-precision matrix multiply C = A * B (N x N), specialised at compile time.
 *
 *   TI, TJ, TK   tile sizes along i, j, k
 *   L0, L1, L2   the point loops inside a tile, outermost first: LOOP_I, LOOP_J, LOOP_K
 *   UNROLL       unroll factor of the innermost loop
 *   VEC          vector width along j (GCC generic vectors; 1 means scalar)
 *
 * Prints the best of REPS wall-clock times in seconds as its last line; exits 3 when the
 * result differs from a plain reference product. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>

#ifndef N
#define N 384
#endif
#ifndef REPS
#define REPS 3
#endif
#ifndef TI
#define TI N
#endif
#ifndef TJ
#define TJ N
#endif
#ifndef TK
#define TK N
#endif
#ifndef UNROLL
#define UNROLL 1
#endif
#ifndef VEC
#define VEC 1
#endif
#ifndef L0
#define L0 LOOP_I
#define L1 LOOP_J
#define L2 LOOP_K
#endif

#if VEC == 1
typedef float vf;
#else
typedef float vf __attribute__((vector_size(VEC * sizeof(float))));
#endif

#define STR_(x) #x
#define STR(x) STR_(x)
#define UNROLL_PRAGMA _Pragma(STR(GCC unroll UNROLL))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define LOOP_I for (int i = ii; i < MIN(ii + TI, N); ++i)
#define LOOP_K for (int k = kk; k < MIN(kk + TK, N); ++k)
#define LOOP_J for (int j = jj; j < MIN(jj + TJ, N); j += VEC)

static float A[N * N], B[N * N], C[N * N];

static void multiply(void) {
  for (int ii = 0; ii < N; ii += TI)
    for (int kk = 0; kk < N; kk += TK)
      for (int jj = 0; jj < N; jj += TJ)
        L0 L1 UNROLL_PRAGMA L2 {
          vf b, c;
          memcpy(&b, &B[k * N + j], sizeof b);
          memcpy(&c, &C[i * N + j], sizeof c);
          c += A[i * N + k] * b;
          memcpy(&C[i * N + j], &c, sizeof c);
        }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(void) {
  srand(7);
  for (int x = 0; x < N * N; ++x) {
    A[x] = (float)(rand() % 17 - 8) / 8.0f;
    B[x] = (float)(rand() % 13 - 6) / 8.0f;
  }
  double best = 1e30;
  for (int r = 0; r < REPS; ++r) {
    memset(C, 0, sizeof C);
    const double t0 = now();
    multiply();
    const double t = now() - t0;
    if (t < best) best = t;
  }
  /* Spot-check rows against a plain double-precision product. */
  for (int i = 0; i < N; i += 37) {
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int k = 0; k < N; ++k) s += (double)A[i * N + k] * B[k * N + j];
      if (fabs(s - C[i * N + j]) > 1e-3 * (1 + fabs(s))) {
        fprintf(stderr, "wrong result at C[%d][%d]: %f, expected %f\n", i, j, C[i * N + j], s);
        return 3;
      }
    }
  }
  printf("%.6f\n", best);
  return 0;
}
