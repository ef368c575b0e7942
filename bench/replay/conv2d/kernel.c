/* 2-D convolution (cross-correlation) of an NO x NO single-precision image with a 7 x 7
 * filter, "same" size output from an input padded by 3 on each side.
 *
 *   TX, TY   output tile width (x, contiguous) and height
 *   RX, RY   register block: outputs computed together in registers, RX along x, RY along y
 *   UF       unrolling of the filter loops: 0 none, 1 the fx loop, 2 both fx and fy
 *   COPY     1: copy each input tile with its halo into a contiguous local buffer first
 *
 * The local tile buffer lives on the stack and must fit in TILE_BYTES; larger tiles are
 * rejected at compile time. The result is compared with a plain convolution. */
#ifndef NO
#define NO 512
#endif
#define FW 7
#define NIN (NO + FW - 1)
#define TILE_BYTES 32768

#include "../harness.h"

#if !defined(TX) || !defined(TY) || !defined(RX) || !defined(RY) || !defined(UF) || !defined(COPY)
#error "define TX, TY, RX, RY, UF and COPY"
#endif
#if NO % TX || NO % TY || TX % RX || TY % RY
#error "tiles must divide NO and register blocks must divide tiles"
#endif
#if COPY
_Static_assert((TY + FW - 1) * (TX + FW - 1) * sizeof(float) <= TILE_BYTES,
               "local input tile exceeds TILE_BYTES");
#endif

#define PRAGMA(x) _Pragma(STR(x))
#if UF >= 1
#define UNROLL_FX PRAGMA(GCC unroll 7)
#else
#define UNROLL_FX PRAGMA(GCC unroll 1)
#endif
#if UF >= 2
#define UNROLL_FY PRAGMA(GCC unroll 7)
#else
#define UNROLL_FY PRAGMA(GCC unroll 1)
#endif

static float *in, *out, w[FW][FW];

static void setup(void) {
  in = xmalloc(sizeof(float) * NIN * NIN);
  out = xmalloc(sizeof(float) * NO * NO);
  rng_seed(3);
  for (int i = 0; i < NIN * NIN; ++i) in[i] = (float)rng_unit();
  for (int i = 0; i < FW; ++i)
    for (int j = 0; j < FW; ++j) w[i][j] = (float)(rng_unit() - 0.5);
}

static void kernel(void) {
  for (int ty = 0; ty < NO; ty += TY)
    for (int tx = 0; tx < NO; tx += TX) {
#if COPY
      float tile[TY + FW - 1][TX + FW - 1];
      for (int y = 0; y < TY + FW - 1; ++y)
        memcpy(tile[y], &in[(ty + y) * NIN + tx], sizeof tile[y]);
      const float* src = &tile[0][0];
      const int ld = TX + FW - 1;
#else
      const float* src = &in[ty * NIN + tx];
      const int ld = NIN;
#endif
      for (int y = 0; y < TY; y += RY)
        for (int x = 0; x < TX; x += RX) {
          float acc[RY][RX];
          PRAGMA(GCC unroll 16) for (int ry = 0; ry < RY; ++ry)
          PRAGMA(GCC unroll 16) for (int rx = 0; rx < RX; ++rx) acc[ry][rx] = 0.0f;
          UNROLL_FY for (int fy = 0; fy < FW; ++fy)
          UNROLL_FX for (int fx = 0; fx < FW; ++fx) {
            const float c = w[fy][fx];
            const float* s = &src[(y + fy) * ld + x + fx];
            PRAGMA(GCC unroll 16) for (int ry = 0; ry < RY; ++ry)
            PRAGMA(GCC unroll 16) for (int rx = 0; rx < RX; ++rx) acc[ry][rx] += c * s[ry * ld + rx];
          }
          PRAGMA(GCC unroll 16) for (int ry = 0; ry < RY; ++ry)
          PRAGMA(GCC unroll 16) for (int rx = 0; rx < RX; ++rx)
            out[(ty + y + ry) * NO + tx + x + rx] = acc[ry][rx];
        }
    }
}

static int verify(void) {
  for (int y = 0; y < NO; ++y)
    for (int x = 0; x < NO; ++x) {
      double s = 0;
      for (int fy = 0; fy < FW; ++fy)
        for (int fx = 0; fx < FW; ++fx) s += (double)w[fy][fx] * in[(y + fy) * NIN + x + fx];
      if (fabs(s - out[y * NO + x]) > 1e-4) return 1;
    }
  return 0;
}
