// Indirect access: y[i] = w[i] * x[idx[i]] (a sparse gather), repeated.
#include <stdio.h>
#define N 16384
static float x[N], w[N], y[N];
static int idx[N];

int main(void) {
  unsigned seed = 5;
  for (int i = 0; i < N; ++i) {
    seed = seed * 1103515245u + 12345u;
    idx[i] = (int)((seed >> 8) % N);
    x[i] = (float)(i & 255);
    w[i] = (float)((seed >> 20) & 7);
  }
  unsigned long h = 0;
  for (int rep = 0; rep < 10000; ++rep) {
    for (int i = 0; i < N; ++i) y[i] = w[i] * x[idx[i]] + 1.0f;
    h = h * 31 + (unsigned long)y[rep % N];
    x[rep % N] = y[(rep * 13) % N];
  }
  printf("%lu\n", h);
  return 0;
}
