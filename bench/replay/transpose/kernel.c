/* Out-of-place transpose B = A^T of an N x N single-precision matrix (row-major, N a power of
 * two, so columns map to few cache sets).
 *
 *   TBX, TBY   outer tile: TBX columns by TBY rows of A
 *   IB         inner block edge inside a tile (two-level tiling); 1 means none
 *   ORDER      0: inner loop walks a row of A (contiguous reads, strided writes);
 *              1: inner loop walks a row of B (strided reads, contiguous writes)
 *   UNROLL     unroll factor of the innermost loop
 *   BUF        1: transpose each tile into a local buffer, then copy it out row by row
 *
 * The local buffer lives on the stack and must fit in BUF_BYTES; larger tiles are rejected at
 * compile time. The result is compared element by element with A. */
#ifndef N
#define N 1024
#endif
#define BUF_BYTES 32768

#include "../harness.h"

#if !defined(TBX) || !defined(TBY) || !defined(IB) || !defined(ORDER) || !defined(UNROLL) || \
    !defined(BUF)
#error "define TBX, TBY, IB, ORDER, UNROLL and BUF"
#endif
#if N % TBX || N % TBY || TBX % IB || TBY % IB
#error "tiles must divide N and IB must divide the tiles"
#endif
#if BUF
#if TBX * TBY * 4 > BUF_BYTES
#error "tile buffer exceeds BUF_BYTES"
#endif
#endif

#define UNROLL_PRAGMA _Pragma(STR(GCC unroll UNROLL))

static float *A, *B;

static void setup(void) {
  A = xmalloc(sizeof(float) * N * N);
  B = xmalloc(sizeof(float) * N * N);
  rng_seed(6);
  for (int i = 0; i < N * N; ++i) A[i] = (float)rng_unit();
}

/* Transposes the IB x IB (or tile-sized, when IB == 1) block of A at (r0, c0) into dst, where
 * dst(c, r) is dst[(c - dc) * ld + (r - dr)]. */
#if IB == 1
#define BH TBY
#define BW TBX
#else
#define BH IB
#define BW IB
#endif

static inline void block(int r0, int c0, float* restrict dst, int ld, int dr, int dc) {
#if ORDER == 0
  for (int r = r0; r < r0 + BH; ++r) {
    const float* restrict src = &A[(size_t)r * N];
    UNROLL_PRAGMA
    for (int c = c0; c < c0 + BW; ++c) dst[(size_t)(c - dc) * ld + (r - dr)] = src[c];
  }
#else
  for (int c = c0; c < c0 + BW; ++c) {
    float* restrict d = &dst[(size_t)(c - dc) * ld - dr];
    UNROLL_PRAGMA
    for (int r = r0; r < r0 + BH; ++r) d[r] = A[(size_t)r * N + c];
  }
#endif
}

static void kernel(void) {
  for (int tr = 0; tr < N; tr += TBY)
    for (int tc = 0; tc < N; tc += TBX) {
#if BUF
      float buf[TBX * TBY] __attribute__((aligned(64)));
      for (int r = tr; r < tr + TBY; r += BH)
        for (int c = tc; c < tc + TBX; c += BW) block(r, c, buf, TBY, tr, tc);
      for (int c = 0; c < TBX; ++c)
        memcpy(&B[(size_t)(tc + c) * N + tr], &buf[c * TBY], TBY * sizeof(float));
#else
      for (int r = tr; r < tr + TBY; r += BH)
        for (int c = tc; c < tc + TBX; c += BW) block(r, c, B, N, 0, 0);
#endif
    }
}

static int verify(void) {
  for (int r = 0; r < N; ++r)
    for (int c = 0; c < N; ++c)
      if (B[(size_t)c * N + r] != A[(size_t)r * N + c]) return 1;
  return 0;
}
