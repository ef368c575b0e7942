/* 2-D Jacobi 5-point stencil, STEPS sweeps over a G x G grid of doubles with fixed (Dirichlet)
 * boundary values, interior NI x NI.
 *
 *   BX, BY   tile width (x, contiguous) and height (y) of the interior
 *   TT       time tile: sweeps done per tile before moving on. TT == 1 is a plain blocked sweep;
 *            TT > 1 is overlapped (ghost-zone) tiling: each tile loads a halo of TT cells into
 *            two local buffers on the stack and recomputes the halo redundantly.
 *   UNROLL   unroll factor of the x loop
 *
 * The kernel runs on a thread with a KERNEL_STACK-byte stack; a tile whose local buffers do not
 * fit overflows it and crashes (build with -fstack-clash-protection). The result is compared
 * with a plain sweep. */
#ifndef NI
#define NI 512
#endif
#define G (NI + 2)
#define P 8 /* padding around the grid, >= the largest TT */
#define S (G + 2 * P)
#define STEPS 8
#define KERNEL_STACK (256 * 1024)

#include "../harness.h"

#if !defined(BX) || !defined(BY) || !defined(TT) || !defined(UNROLL)
#error "define BX, BY, TT and UNROLL"
#endif
#if NI % BX || NI % BY || STEPS % TT || TT > P
#error "BX and BY must divide NI, TT must divide STEPS"
#endif

#define AT(g, y, x) (g)[((y) + P) * S + (x) + P]
#define C0 0.2
#define C1 0.2
#define UNROLL_PRAGMA _Pragma(STR(GCC unroll UNROLL))

static double *init, *buf[2], *ref;
static double* result;

static void setup(void) {
  init = xmalloc(sizeof(double) * S * S);
  buf[0] = xmalloc(sizeof(double) * S * S);
  buf[1] = xmalloc(sizeof(double) * S * S);
  ref = xmalloc(sizeof(double) * S * S);
  memset(init, 0, sizeof(double) * S * S);
  rng_seed(2);
  for (int y = 0; y < G; ++y)
    for (int x = 0; x < G; ++x) AT(init, y, x) = rng_unit();
  memcpy(buf[0], init, sizeof(double) * S * S);
  memcpy(buf[1], init, sizeof(double) * S * S);
}

#if TT == 1
static void kernel(void) {
  const double* src = init;
  for (int s = 0; s < STEPS; ++s) {
    double* restrict dst = buf[s & 1];
    for (int by = 1; by <= NI; by += BY)
      for (int bx = 1; bx <= NI; bx += BX)
        for (int y = by; y < by + BY; ++y) {
          const double* restrict c = &AT(src, y, 0);
          const double* restrict n = &AT(src, y - 1, 0);
          const double* restrict so = &AT(src, y + 1, 0);
          double* restrict d = &AT(dst, y, 0);
          UNROLL_PRAGMA
          for (int x = bx; x < bx + BX; ++x)
            d[x] = C0 * c[x] + C1 * (n[x] + so[x] + c[x - 1] + c[x + 1]);
        }
    src = dst;
  }
  result = (double*)src;
}
#else
#define LY (BY + 2 * TT)
#define LX (BX + 2 * TT)

/* Puts the fixed boundary values back into a local buffer whose cell (0, 0) is grid cell
 * (gy0, gx0). */
static void restore(double (*l)[LX], int gy0, int gx0) {
  if (gy0 <= 0)
    for (int x = 0; x < LX; ++x) l[-gy0][x] = AT(init, 0, gx0 + x);
  if (gy0 + LY > G - 1)
    for (int x = 0; x < LX; ++x) l[G - 1 - gy0][x] = AT(init, G - 1, gx0 + x);
  if (gx0 <= 0)
    for (int y = 0; y < LY; ++y) l[y][-gx0] = AT(init, gy0 + y, 0);
  if (gx0 + LX > G - 1)
    for (int y = 0; y < LY; ++y) l[y][G - 1 - gx0] = AT(init, gy0 + y, G - 1);
}

static void kernel(void) {
  const double* src = init;
  for (int s = 0; s < STEPS; s += TT) {
    double* dst = buf[(s / TT) & 1];
    for (int by = 1; by <= NI; by += BY)
      for (int bx = 1; bx <= NI; bx += BX) {
        double a[LY][LX], b[LY][LX];
        const int gy0 = by - TT, gx0 = bx - TT;
        for (int y = 0; y < LY; ++y) memcpy(a[y], &AT(src, gy0 + y, gx0), sizeof a[y]);
        double (*from)[LX] = a, (*to)[LX] = b;
        for (int t = 1; t <= TT; ++t) {
          for (int y = t; y < LY - t; ++y) {
            const double* restrict c = from[y];
            const double* restrict n = from[y - 1];
            const double* restrict so = from[y + 1];
            double* restrict d = to[y];
            UNROLL_PRAGMA
            for (int x = t; x < LX - t; ++x)
              d[x] = C0 * c[x] + C1 * (n[x] + so[x] + c[x - 1] + c[x + 1]);
          }
          restore(to, gy0, gx0);
          double (*swap)[LX] = from;
          from = to;
          to = swap;
        }
        for (int y = TT; y < TT + BY; ++y) memcpy(&AT(dst, gy0 + y, bx), &from[y][TT], BX * sizeof(double));
      }
    src = dst;
  }
  result = (double*)src;
}
#endif

static int verify(void) {
  double* g[2] = {xmalloc(sizeof(double) * S * S), ref};
  memcpy(g[0], init, sizeof(double) * S * S);
  memcpy(g[1], init, sizeof(double) * S * S);
  for (int s = 0; s < STEPS; ++s) {
    double *src = g[s & 1], *dst = g[(s + 1) & 1];
    for (int y = 1; y <= NI; ++y)
      for (int x = 1; x <= NI; ++x)
        AT(dst, y, x) = C0 * AT(src, y, x) +
                        C1 * (AT(src, y - 1, x) + AT(src, y + 1, x) + AT(src, y, x - 1) + AT(src, y, x + 1));
  }
  const double* want = g[STEPS & 1];
  for (int y = 0; y < G; ++y)
    for (int x = 0; x < G; ++x)
      if (fabs(AT(want, y, x) - AT(result, y, x)) > 1e-12) return 1;
  free(g[0]);
  return 0;
}
