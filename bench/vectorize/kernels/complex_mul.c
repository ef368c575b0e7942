// Strided access: element-wise complex multiply on interleaved (re, im) float arrays.
#include <stdio.h>
#define N 8192
static float a[2 * N], b[2 * N], c[2 * N];

int main(void) {
  unsigned seed = 11;
  for (int i = 0; i < 2 * N; ++i) {
    seed = seed * 1103515245u + 12345u;
    a[i] = (float)((seed >> 16) & 63) / 64.0f;
    seed = seed * 1103515245u + 12345u;
    b[i] = (float)((seed >> 16) & 63) / 64.0f;
  }
  unsigned long h = 0;
  for (int rep = 0; rep < 22500; ++rep) {
    for (int i = 0; i < N; ++i) {
      const float ar = a[2 * i], ai = a[2 * i + 1], br = b[2 * i], bi = b[2 * i + 1];
      c[2 * i] = ar * br - ai * bi;
      c[2 * i + 1] = ar * bi + ai * br;
    }
    h = h * 31 + (unsigned long)(c[rep % (2 * N)] * 4096.0f);
    a[rep % (2 * N)] = c[(rep * 7) % (2 * N)];
  }
  printf("%lu\n", h);
  return 0;
}
