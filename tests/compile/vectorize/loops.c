#include "loops_header.h"
#define SCALE(a, n) for (int m = 0; m < (n); ++m) (a)[m] *= 2.0f
#define TWICE(x) ((x) * 2)

void nested(float *restrict a, const float *restrict b, int n) {
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      a[i * n + j] += b[j];
    }
  }
}

void several(float *restrict a, const float *restrict b, int n) {
  for (int i = 0; i < n; ++i) a[i] = b[i] + 1;
  int k = 0;
  while (k < n) {
    a[k] = TWICE(a[k]);
    ++k;
  }
  SCALE(a, n);
#pragma clang loop unroll(disable)
  for (int i = 0; i < n; ++i) a[i] -= b[i];
  do { a[0] += sum_header(b, n); } while (a[0] < 10);
}
