// Short trip counts: many small 3 x 3 colour transforms over 12-element rows.
#include <stdio.h>
#define ROWS 4096
#define W 12
static float px[ROWS][W], out[ROWS][W];

int main(void) {
  unsigned seed = 9;
  for (int r = 0; r < ROWS; ++r) {
    for (int j = 0; j < W; ++j) {
      seed = seed * 1103515245u + 12345u;
      px[r][j] = (float)((seed >> 16) & 255);
    }
  }
  unsigned long h = 0;
  for (int rep = 0; rep < 4500; ++rep) {
    const float g = 1.0f + (float)(rep & 3) * 0.25f;
    for (int r = 0; r < ROWS; ++r) {
      float *restrict o = out[r];
      const float *restrict p = px[r];
      const int w = W - (r & 1);
      for (int j = 0; j < w; ++j) o[j] = p[j] * g + 0.5f;
    }
    h = h * 31 + (unsigned long)out[rep % ROWS][rep % W];
  }
  printf("%lu\n", h);
  return 0;
}
