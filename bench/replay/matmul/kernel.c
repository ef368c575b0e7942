/* Tiled single-precision matrix multiply C = A * B, N x N, row-major.
 *
 *   MB, NB, KB   tile sizes along i, j, k
 *   ORDER_xyz    order of the point loops inside a tile, outermost first (e.g. -DORDER_ikj)
 *   UNROLL       unroll factor of the innermost point loop
 *   VEC          vector width along j (GCC generic vectors); only with j innermost
 *   PACK         1: copy each KB x NB tile of B into a contiguous local panel first
 *
 * The packed panel lives on the stack and must fit in PANEL_BYTES: larger tiles are
 * rejected at compile time. The result is checked with Freivalds' test against A (B x). */
#ifndef N
#define N 256
#endif
#define PANEL_BYTES 32768

#include "../harness.h"

#if !defined(MB) || !defined(NB) || !defined(KB) || !defined(UNROLL) || !defined(VEC) || \
    !defined(PACK)
#error "define MB, NB, KB, UNROLL, VEC, PACK and ORDER_xyz"
#endif
#if N % MB || N % NB || N % KB || NB % VEC
#error "tiles must divide N and VEC must divide NB"
#endif
#if PACK
_Static_assert(KB * NB * sizeof(float) <= PANEL_BYTES, "packed B panel exceeds PANEL_BYTES");
#endif

#if VEC == 1
typedef float vf;
#else
typedef float vf __attribute__((vector_size(VEC * sizeof(float))));
#endif

#define UNROLL_PRAGMA _Pragma(STR(GCC unroll UNROLL))
#define LOOP_I for (int i = 0; i < MB; ++i)
#define LOOP_J for (int j = 0; j < NB; j += VEC)
#define LOOP_K for (int k = 0; k < KB; ++k)

#if defined(ORDER_ijk)
#define L0 LOOP_I
#define L1 LOOP_J
#define L2 LOOP_K
#elif defined(ORDER_ikj)
#define L0 LOOP_I
#define L1 LOOP_K
#define L2 LOOP_J
#elif defined(ORDER_jik)
#define L0 LOOP_J
#define L1 LOOP_I
#define L2 LOOP_K
#elif defined(ORDER_jki)
#define L0 LOOP_J
#define L1 LOOP_K
#define L2 LOOP_I
#elif defined(ORDER_kij)
#define L0 LOOP_K
#define L1 LOOP_I
#define L2 LOOP_J
#elif defined(ORDER_kji)
#define L0 LOOP_K
#define L1 LOOP_J
#define L2 LOOP_I
#else
#error "define one ORDER_xyz"
#endif

static float *A, *B, *C;

static void setup(void) {
  A = xmalloc(sizeof(float) * N * N);
  B = xmalloc(sizeof(float) * N * N);
  C = xmalloc(sizeof(float) * N * N);
  rng_seed(1);
  for (int i = 0; i < N * N; ++i) A[i] = (float)(rng_unit() - 0.5);
  for (int i = 0; i < N * N; ++i) B[i] = (float)(rng_unit() - 0.5);
}

static void kernel(void) {
  memset(C, 0, sizeof(float) * N * N);
  for (int jj = 0; jj < N; jj += NB)
    for (int kk = 0; kk < N; kk += KB) {
#if PACK
      float panel[KB * NB] __attribute__((aligned(64)));
      for (int k = 0; k < KB; ++k) memcpy(&panel[k * NB], &B[(kk + k) * N + jj], NB * sizeof(float));
#define BAT(k, j) (&panel[(k) * NB + (j)])
#else
#define BAT(k, j) (&B[(kk + (k)) * N + jj + (j)])
#endif
      for (int ii = 0; ii < N; ii += MB) {
        float* Ct = &C[ii * N + jj];
        const float* At = &A[ii * N + kk];
        L0 L1 UNROLL_PRAGMA L2 {
          vf b, c;
          memcpy(&b, BAT(k, j), sizeof b);
          memcpy(&c, &Ct[i * N + j], sizeof c);
          c += At[i * N + k] * b;
          memcpy(&Ct[i * N + j], &c, sizeof c);
        }
      }
    }
}

static int verify(void) {
  static double x[N], bx[N];
  rng_seed(99);
  for (int j = 0; j < N; ++j) x[j] = rng_unit() - 0.5;
  for (int k = 0; k < N; ++k) {
    double s = 0;
    for (int j = 0; j < N; ++j) s += (double)B[k * N + j] * x[j];
    bx[k] = s;
  }
  for (int i = 0; i < N; ++i) {
    double want = 0, got = 0, scale = 0;
    for (int k = 0; k < N; ++k) want += (double)A[i * N + k] * bx[k];
    for (int j = 0; j < N; ++j) got += (double)C[i * N + j] * x[j], scale += fabs(C[i * N + j] * x[j]);
    if (fabs(want - got) > 1e-4 * scale + 1e-6) return 1;
  }
  return 0;
}
