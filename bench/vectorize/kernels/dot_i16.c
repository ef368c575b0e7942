// Reduction with mixed types: dot products of int16 vectors accumulated in int32.
#include <stdio.h>
#include <stdint.h>
#define N 4096
static int16_t x[N], y[N];

int main(void) {
  unsigned seed = 3;
  for (int i = 0; i < N; ++i) {
    seed = seed * 1103515245u + 12345u;
    x[i] = (int16_t)((seed >> 16) & 1023) - 512;
    seed = seed * 1103515245u + 12345u;
    y[i] = (int16_t)((seed >> 16) & 1023) - 512;
  }
  unsigned long h = 0;
  for (int rep = 0; rep < 150000; ++rep) {
    int32_t s = 0;
    for (int i = 0; i < N; ++i) s += (int32_t)x[i] * (int32_t)y[i];
    h = h * 31 + (unsigned)s;
    x[rep % N] ^= 1;
  }
  printf("%lu\n", h);
  return 0;
}
