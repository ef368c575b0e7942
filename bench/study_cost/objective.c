// The mixed8 objective as a program: 4 reals, 2 integers, 2 categoricals, squared distances
// plus penalties; its optimum 0 lies inside the box. Instant, so a study measures the tuner.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char** argv) {
  double t[4] = {0.3, 1.1, 1.7, 0.6}, f = 0;
  for (int i = 0; i < 4; ++i) { double x = atof(argv[1 + i]) - t[i]; f += x * x; }
  double d1 = (atof(argv[5]) - 3) / 4, d2 = (atof(argv[6]) - 12) / 8;
  f += d1 * d1 + d2 * d2;
  const char* c1 = argv[7]; const char* c2 = argv[8];
  f += !strcmp(c1, "a") ? 0.5 : !strcmp(c1, "b") ? 0 : !strcmp(c1, "c") ? 0.25 : 1.0;
  f += !strcmp(c2, "x") ? 0.3 : !strcmp(c2, "y") ? 0.6 : 0;
  printf("%.17g\n", f);
  return 0;
}
