#include <stdio.h>
#define N 10000
static float a[N];

int main(void) {
  for (int i = 0; i < N; ++i) a[i] = (i % 3 ? 1e4f : 1e-3f) / (float)(i + 1);
  float s = 0;
  for (int i = 0; i < N; ++i) s += a[i];
  printf("%.9g\n", s);
  return 0;
}
