/* Single-precision dot product of two L2-resident vectors of N floats, computed NREP times
 * per call (a reduction whose speed is bound by the latency of the accumulation chain).
 *
 *   VEC      vector width of each accumulator (GCC generic vectors; 1 means scalar)
 *   NACC     number of independent accumulators
 *   UNROLL   unroll factor of the loop over accumulator groups
 *   CHUNK    elements summed in ACC precision before the partial sum is added to a double total
 *   ACC      accumulator precision: 0 float, 1 double
 *   PF       software prefetch distance in elements (0: none)
 *
 * The result must match a double-precision reference to a relative error of TOL; float
 * accumulation over long chunks with few accumulators does not always meet it. */
#ifndef N
#define N (1 << 15)
#endif
#define NREP 512
#define TOL 2e-7

#include "../harness.h"

#if !defined(VEC) || !defined(NACC) || !defined(UNROLL) || !defined(CHUNK) || !defined(ACC) || \
    !defined(PF)
#error "define VEC, NACC, UNROLL, CHUNK, ACC and PF"
#endif
#if N % CHUNK || CHUNK % VEC
#error "CHUNK must divide N and VEC must divide CHUNK"
#endif

#if VEC == 1
typedef float vf;
#if ACC
typedef double va;
#else
typedef float va;
#endif
#define WIDEN(v) ((va)(v))
#else
typedef float vf __attribute__((vector_size(VEC * sizeof(float))));
#if ACC
typedef double va __attribute__((vector_size(VEC * sizeof(double))));
#define WIDEN(v) __builtin_convertvector((v), va)
#else
typedef float va __attribute__((vector_size(VEC * sizeof(float))));
#define WIDEN(v) (v)
#endif
#endif

#define GROUP (VEC * NACC)
#define UNROLL_PRAGMA _Pragma(STR(GCC unroll UNROLL))

static float *x, *y;
static double total;
static volatile double sink;

static void setup(void) {
  x = xmalloc(sizeof(float) * N);
  y = xmalloc(sizeof(float) * N);
  rng_seed(4);
  for (int i = 0; i < N; ++i) x[i] = (float)rng_unit();
  for (int i = 0; i < N; ++i) y[i] = (float)rng_unit();
}

static double lane_sum(va v) {
#if VEC == 1
  return (double)v;
#else
  double s = 0;
  for (int l = 0; l < VEC; ++l) s += (double)v[l];
  return s;
#endif
}

static double dot(const float* restrict a, const float* restrict b) {
  double sum = 0;
  for (int c = 0; c < N; c += CHUNK) {
    va acc[NACC];
    for (int q = 0; q < NACC; ++q) acc[q] = (va){0};
    const int groups = CHUNK / GROUP;
    UNROLL_PRAGMA
    for (int g = 0; g < groups; ++g) {
      const int base = c + g * GROUP;
#if PF
      __builtin_prefetch(&a[base + PF]);
      __builtin_prefetch(&b[base + PF]);
#endif
      _Pragma("GCC unroll 16") for (int q = 0; q < NACC; ++q) {
        vf u, v;
        memcpy(&u, &a[base + q * VEC], sizeof u);
        memcpy(&v, &b[base + q * VEC], sizeof v);
        acc[q] += WIDEN(u * v);
      }
    }
    double part = 0;
    for (int q = 0; q < NACC; ++q) part += lane_sum(acc[q]);
    /* the elements a whole number of groups does not cover */
    for (int i = c + groups * GROUP; i < c + CHUNK; ++i) part += (double)(a[i] * b[i]);
    sum += part;
  }
  return sum;
}

static void kernel(void) {
  double s = 0;
  for (int r = 0; r < NREP; ++r) {
    s = dot(x, y);
    sink = s;
    __asm__ volatile("" ::: "memory"); /* each repetition reads the vectors again */
  }
  total = s;
}

static int verify(void) {
  double want = 0;
  for (int i = 0; i < N; ++i) want += (double)x[i] * (double)y[i];
  return fabs(total - want) > TOL * fabs(want);
}
