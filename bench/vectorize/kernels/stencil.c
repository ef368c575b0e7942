// Stencil: Jacobi sweeps of a 5-point stencil over a 512 x 512 grid (double).
#include <stdio.h>
#define N 512
static double a[N][N], b[N][N];

int main(void) {
  unsigned seed = 7;
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < N; ++j) {
      seed = seed * 1103515245u + 12345u;
      a[i][j] = (double)((seed >> 16) & 255);
    }
  }
  for (int t = 0; t < 144; ++t) {
    for (int i = 1; i < N - 1; ++i) {
      for (int j = 1; j < N - 1; ++j) {
        b[i][j] = 0.2 * (a[i][j] + a[i - 1][j] + a[i + 1][j] + a[i][j - 1] + a[i][j + 1]);
      }
    }
    for (int i = 1; i < N - 1; ++i) {
      for (int j = 1; j < N - 1; ++j) a[i][j] = b[i][j];
    }
  }
  unsigned long h = 0;
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < N; ++j) h = h * 31 + (unsigned long)(a[i][j] * 1024.0);
  }
  printf("%lu\n", h);
  return 0;
}
