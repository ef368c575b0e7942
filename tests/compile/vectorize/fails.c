#include <stdio.h>
static int a[1024];
int main(int argc, char **argv) {
  for (int i = 0; i < 1024; ++i) a[i] = i * 3;
  if (argc > 1) {
    fprintf(stderr, "cannot open %s\n", argv[1]);
    return 3;
  }
  printf("%d\n", a[1000]);
  return 0;
}
