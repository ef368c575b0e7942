/* Timing harness shared by the replay kernels.
 *
 * A kernel file defines
 *   static void setup(void);        inputs from a fixed seed, buffers
 *   static void kernel(void);       the tuned computation (one call is timed)
 *   static int verify(void);        0 when the output matches the reference
 * and then includes this file, which supplies main(): setup, one warm-up call, verification
 * (exit 3 on a wrong result), then REPS timed calls. It prints every time in milliseconds on a
 * line "times_ms: ..." and the median on the last line "time_ms: ...". When the kernel file
 * defines KERNEL_STACK (bytes), the kernel runs on a thread with that stack size, so a
 * configuration whose locals do not fit crashes (build with -fstack-clash-protection). */
#ifndef REPLAY_HARNESS_H
#define REPLAY_HARNESS_H

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef REPS
#define REPS 7
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

static uint64_t rng_state_ = 0x9E3779B97F4A7C15ull;

static void rng_seed(uint64_t seed) { rng_state_ = seed; }

/* splitmix64 */
static uint64_t rng_next(void) {
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static double rng_unit(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static void die(int code, const char* message) {
  fprintf(stderr, "%s\n", message);
  exit(code);
}

static void* xmalloc(size_t bytes) {
  void* p = NULL;
  if (posix_memalign(&p, 64, bytes) != 0) die(2, "out of memory");
  return p;
}

static int cmp_double_(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static void setup(void);
static void kernel(void);
static int verify(void);

static double times_[REPS];

static void* measure_(void* unused) {
  (void)unused;
  kernel(); /* warm-up */
  if (verify() != 0) die(3, "wrong result");
  for (int r = 0; r < REPS; ++r) {
    double t0 = now_ms();
    kernel();
    times_[r] = now_ms() - t0;
  }
  return NULL;
}

int main(void) {
  setup();
#ifdef KERNEL_STACK
  pthread_attr_t attr;
  pthread_t thread;
  pthread_attr_init(&attr);
  if (pthread_attr_setstacksize(&attr, KERNEL_STACK) != 0) die(2, "bad stack size");
  if (pthread_create(&thread, &attr, measure_, NULL) != 0) die(2, "cannot start thread");
  pthread_join(thread, NULL);
#else
  measure_(NULL);
#endif
  double sorted[REPS];
  memcpy(sorted, times_, sizeof sorted);
  qsort(sorted, REPS, sizeof sorted[0], cmp_double_);
  printf("times_ms:");
  for (int r = 0; r < REPS; ++r) printf(" %.6f", times_[r]);
  printf("\ntime_ms: %.6f\n", sorted[REPS / 2]);
  return 0;
}

#endif
