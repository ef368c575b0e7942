#include <stdio.h>
#include <time.h>
static int a[256];
int main(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  for (int i = 0; i < 256; ++i) a[i] = i;
  printf("%d %ld\n", a[255], (long)t.tv_nsec);
  return 0;
}
