// Dense linear algebra: C += A * B in i-k-j order (float, 192 x 192), repeated.
#include <stdio.h>
#define N 192
static float A[N][N], B[N][N], C[N][N];

int main(void) {
  unsigned seed = 1;
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < N; ++j) {
      seed = seed * 1103515245u + 12345u;
      A[i][j] = (float)((seed >> 16) & 15);
      seed = seed * 1103515245u + 12345u;
      B[i][j] = (float)((seed >> 16) & 15);
    }
  }
  for (int rep = 0; rep < 90; ++rep) {
    for (int i = 0; i < N; ++i) {
      for (int k = 0; k < N; ++k) {
        const float a = A[i][k];
        for (int j = 0; j < N; ++j) C[i][j] += a * B[k][j];
      }
    }
  }
  unsigned long h = 0;
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < N; ++j) h = h * 31 + (unsigned long)C[i][j];
  }
  printf("%lu\n", h);
  return 0;
}
