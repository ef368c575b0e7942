#include <stdio.h>
#define N 4096
static float x[N], y[N];

int main(void) {
  for (int i = 0; i < N; ++i) x[i] = (float)(i % 17);
  for (int i = 0; i < N; ++i) y[i] = (float)(i % 5);
  for (int rep = 0; rep < 300; ++rep) {
    for (int i = 0; i < N; ++i) y[i] = 0.5f * x[i] + y[i] * 0.25f;
  }
  for (int i = 1; i < N; ++i) x[i] = x[i - 1] * 0.5f + x[i];
  long sum = 0;
  for (int i = 0; i < N; ++i) sum += (long)(y[i] * 16.0f) + (long)x[i];
  printf("%ld\n", sum);
  return 0;
}
