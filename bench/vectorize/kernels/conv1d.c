// 1-D convolution with a 9-tap filter (int32 taps on int16 samples), output loop innermost.
#include <stdio.h>
#include <stdint.h>
#define N 32768
#define T 9
static int16_t x[N + T];
static int32_t y[N];
static const int32_t taps[T] = {1, -3, 7, 12, 20, 12, 7, -3, 1};

int main(void) {
  unsigned seed = 17;
  for (int i = 0; i < N + T; ++i) {
    seed = seed * 1103515245u + 12345u;
    x[i] = (int16_t)((seed >> 16) & 4095);
  }
  unsigned long h = 0;
  for (int rep = 0; rep < 1800; ++rep) {
    for (int i = 0; i < N; ++i) y[i] = 0;
    for (int t = 0; t < T; ++t) {
      const int32_t c = taps[t];
      for (int i = 0; i < N; ++i) y[i] += c * x[i + t];
    }
    h = h * 31 + (unsigned)y[(rep * 31) % N];
    x[rep % N] ^= 5;
  }
  printf("%lu\n", h);
  return 0;
}
