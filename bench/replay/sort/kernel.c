/* Most-significant-digit radix sort of N random 32-bit keys, out of place, with a small-sort
 * cutoff for short buckets.
 *
 *   BITS     digit size in bits (the top digit first; the last digit may be shorter)
 *   CUTOFF   buckets of at most CUTOFF keys are finished by the small sort
 *   SMALL    small sort: 0 insertion sort, 1 binary insertion sort, 2 shell sort (gaps 4, 1)
 *   NHIST    number of interleaved histograms used while counting digits
 *   PINGPONG 1: each level scatters into the other buffer and recurses there;
 *            0: each level scatters into a scratch buffer and copies the keys back
 *
 * The counters of each recursion level live on the stack of a KERNEL_STACK-byte thread: deep
 * recursion with many large histograms overflows it and crashes (build with
 * -fstack-clash-protection). The output is checked for order and against the input's sum. */
#ifndef N
#define N (1 << 17)
#endif
#define KERNEL_STACK (192 * 1024)

#include "../harness.h"

#if !defined(BITS) || !defined(CUTOFF) || !defined(SMALL) || !defined(NHIST) || !defined(PINGPONG)
#error "define BITS, CUTOFF, SMALL, NHIST and PINGPONG"
#endif
#define RADIX (1u << BITS)

static uint32_t *input, *keys, *tmp;
static uint32_t* sorted;

static void setup(void) {
  input = xmalloc(sizeof(uint32_t) * N);
  keys = xmalloc(sizeof(uint32_t) * N);
  tmp = xmalloc(sizeof(uint32_t) * N);
  rng_seed(5);
  for (int i = 0; i < N; ++i) input[i] = (uint32_t)rng_next();
}

static void small_sort(uint32_t* a, size_t n) {
#if SMALL == 0
  for (size_t i = 1; i < n; ++i) {
    uint32_t v = a[i];
    size_t j = i;
    while (j > 0 && a[j - 1] > v) a[j] = a[j - 1], --j;
    a[j] = v;
  }
#elif SMALL == 1
  for (size_t i = 1; i < n; ++i) {
    uint32_t v = a[i];
    size_t lo = 0, hi = i;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (a[mid] <= v) lo = mid + 1; else hi = mid;
    }
    memmove(&a[lo + 1], &a[lo], (i - lo) * sizeof a[0]);
    a[lo] = v;
  }
#else
  static const size_t gaps[2] = {4, 1};
  for (int g = 0; g < 2; ++g) {
    const size_t h = gaps[g];
    for (size_t i = h; i < n; ++i) {
      uint32_t v = a[i];
      size_t j = i;
      while (j >= h && a[j - h] > v) a[j] = a[j - h], j -= h;
      a[j] = v;
    }
  }
#endif
}

/* Sorts a[0..n) on the bits below `shift + BITS` (already equal above), using b as scratch of
 * the same size. With PINGPONG the sorted keys end up in `a` when `in_a`, else in `b`. */
static void msd(uint32_t* a, uint32_t* b, size_t n, int shift, int in_a) {
  uint32_t* dst_final = in_a ? a : b;
  if (n <= CUTOFF || shift < -BITS + 1) {
    small_sort(a, n);
    if (dst_final != a) memcpy(dst_final, a, n * sizeof a[0]);
    return;
  }
  const int sh = shift < 0 ? 0 : shift;
  const uint32_t mask = shift < 0 ? (RADIX >> -shift) - 1 : RADIX - 1;
  uint32_t count[NHIST][RADIX];
  size_t start[RADIX + 1];
  memset(count, 0, sizeof count);
  size_t i = 0;
  for (; i + NHIST <= n; i += NHIST)
    for (int h = 0; h < NHIST; ++h) ++count[h][(a[i + h] >> sh) & mask];
  for (; i < n; ++i) ++count[0][(a[i] >> sh) & mask];
  size_t pos = 0;
  for (uint32_t d = 0; d < RADIX; ++d) {
    start[d] = pos;
    for (int h = 0; h < NHIST; ++h) pos += count[h][d];
  }
  start[RADIX] = n;
  size_t next[RADIX];
  memcpy(next, start, sizeof next);
  for (size_t k = 0; k < n; ++k) b[next[(a[k] >> sh) & mask]++] = a[k];
  if (sh == 0) { /* last digit: b is fully sorted */
    if (dst_final != b) memcpy(dst_final, b, n * sizeof b[0]);
    return;
  }
#if PINGPONG
  for (uint32_t d = 0; d < RADIX; ++d)
    if (start[d + 1] > start[d])
      msd(b + start[d], a + start[d], start[d + 1] - start[d], shift - BITS, !in_a);
#else
  memcpy(a, b, n * sizeof a[0]);
  for (uint32_t d = 0; d < RADIX; ++d)
    if (start[d + 1] > start[d])
      msd(a + start[d], b + start[d], start[d + 1] - start[d], shift - BITS, in_a);
#endif
}

static void kernel(void) {
  memcpy(keys, input, sizeof(uint32_t) * N);
  msd(keys, tmp, N, 32 - BITS, 1);
  sorted = keys;
}

static int verify(void) {
  uint64_t sum_in = 0, sum_out = 0;
  for (int i = 0; i < N; ++i) sum_in += input[i], sum_out += sorted[i];
  if (sum_in != sum_out) return 1;
  for (int i = 1; i < N; ++i)
    if (sorted[i - 1] > sorted[i]) return 1;
  return 0;
}
