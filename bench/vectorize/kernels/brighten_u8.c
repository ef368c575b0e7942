// Mixed types: uint8 pixels scaled in float, clamped and written back as uint8.
#include <stdio.h>
#include <stdint.h>
#define N (1 << 18)
static uint8_t in[N], out[N];

int main(void) {
  unsigned seed = 13;
  for (int i = 0; i < N; ++i) {
    seed = seed * 1103515245u + 12345u;
    in[i] = (uint8_t)(seed >> 24);
  }
  unsigned long h = 0;
  for (int rep = 0; rep < 1500; ++rep) {
    const float gain = 1.0f + (float)(rep % 7) * 0.125f;
    for (int i = 0; i < N; ++i) {
      float v = (float)in[i] * gain + 3.0f;
      v = v > 255.0f ? 255.0f : v;
      out[i] = (uint8_t)v;
    }
    h = h * 31 + out[(rep * 977) % N];
  }
  printf("%lu\n", h);
  return 0;
}
