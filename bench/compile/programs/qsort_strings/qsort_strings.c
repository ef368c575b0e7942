/*
 * qsort_strings: sorts generated strings with hand-written sorting routines
 * and string comparisons.
 *
 *   - an introsort-like quicksort (median of three, insertion sort for small
 *     ranges, heapsort fallback when recursion gets too deep)
 *   - a stable merge sort with a scratch buffer
 *   - libc qsort as the reference
 *   - a case-insensitive "natural" comparison (digit runs compared as
 *     numbers) used for a second ordering
 *
 * The strings are pseudo-words built from syllables with optional numeric
 * suffixes, stored in one arena.  Results are compared between the sorters
 * and folded into a checksum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_STRINGS 60000
#define ARENA_SIZE (NUM_STRINGS * 40)
#define SMALL_RANGE 12

typedef int (*cmp_fn)(const char *a, const char *b);

typedef struct {
    char *data;
    size_t used;
    size_t cap;
} arena;

typedef struct {
    unsigned long comparisons;
    unsigned long swaps;
    unsigned long fallbacks;
} sort_stats;

static sort_stats stats;

/* ------------------------------------------------------------------ */
/* string generation                                                  */
/* ------------------------------------------------------------------ */

static uint32_t lcg_state = 12345u;

static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 16) & 0x7fffu;
}

static const char *const syllables[] = {
    "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "an", "el", "or", "ux",
    "str", "ing", "qu", "ee", "zz", "th", "ch", "sh", "Ba", "Do", "Ge", "Xi"
};

static char *arena_alloc(arena *a, size_t n)
{
    char *p;
    if (a->used + n > a->cap)
        return NULL;
    p = a->data + a->used;
    a->used += n;
    return p;
}

static char *make_string(arena *a)
{
    char tmp[64];
    size_t len = 0;
    unsigned nsyl = 1 + lcg() % 5u, i;
    unsigned nsyllables = (unsigned)(sizeof(syllables) / sizeof(syllables[0]));
    char *out;
    for (i = 0; i < nsyl; i++) {
        const char *s = syllables[lcg() % nsyllables];
        while (*s && len < sizeof(tmp) - 12)
            tmp[len++] = *s++;
    }
    if (lcg() % 3u == 0) {
        unsigned num = lcg() % 2000u;
        tmp[len++] = (char)('-' + (lcg() & 1u) * ('_' - '-'));
        len += (size_t)sprintf(tmp + len, "%u", num);
    }
    tmp[len] = '\0';
    out = arena_alloc(a, len + 1);
    if (!out)
        return NULL;
    memcpy(out, tmp, len + 1);
    return out;
}

/* ------------------------------------------------------------------ */
/* comparisons                                                        */
/* ------------------------------------------------------------------ */

static int my_strcmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    stats.comparisons++;
    while (*p && *p == *q) {
        p++;
        q++;
    }
    return (int)*p - (int)*q;
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* compares digit runs numerically, letters case-insensitively */
static int natural_cmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    stats.comparisons++;
    for (;;) {
        if (is_digit(*p) && is_digit(*q)) {
            const unsigned char *ps, *qs;
            size_t lp, lq;
            while (*p == '0')
                p++;
            while (*q == '0')
                q++;
            ps = p;
            qs = q;
            while (is_digit(*p))
                p++;
            while (is_digit(*q))
                q++;
            lp = (size_t)(p - ps);
            lq = (size_t)(q - qs);
            if (lp != lq)
                return lp < lq ? -1 : 1;
            while (ps < p) {
                if (*ps != *qs)
                    return *ps < *qs ? -1 : 1;
                ps++;
                qs++;
            }
            continue;
        }
        if (*p == '\0' || *q == '\0')
            return (*p != '\0') - (*q != '\0');
        {
            int cp = lower(*p), cq = lower(*q);
            if (cp != cq)
                return cp - cq;
        }
        p++;
        q++;
    }
}

/* ties in natural order are broken by plain order, so the order is total */
static int natural_total(const char *a, const char *b)
{
    int r = natural_cmp(a, b);
    return r != 0 ? r : my_strcmp(a, b);
}

static int qsort_adapter(const void *a, const void *b)
{
    return my_strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ------------------------------------------------------------------ */
/* introsort                                                          */
/* ------------------------------------------------------------------ */

static void swap_ptr(const char **a, const char **b)
{
    const char *t = *a;
    *a = *b;
    *b = t;
    stats.swaps++;
}

static void insertion_sort(const char **v, size_t n, cmp_fn cmp)
{
    size_t i;
    for (i = 1; i < n; i++) {
        const char *x = v[i];
        size_t j = i;
        while (j > 0 && cmp(v[j - 1], x) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void sift_down(const char **v, size_t start, size_t n, cmp_fn cmp)
{
    size_t root = start;
    while (2 * root + 1 < n) {
        size_t child = 2 * root + 1;
        if (child + 1 < n && cmp(v[child], v[child + 1]) < 0)
            child++;
        if (cmp(v[root], v[child]) >= 0)
            return;
        swap_ptr(&v[root], &v[child]);
        root = child;
    }
}

static void heap_sort(const char **v, size_t n, cmp_fn cmp)
{
    size_t i;
    if (n < 2)
        return;
    for (i = n / 2; i-- > 0;)
        sift_down(v, i, n, cmp);
    for (i = n - 1; i > 0; i--) {
        swap_ptr(&v[0], &v[i]);
        sift_down(v, 0, i, cmp);
    }
}

static size_t median_of_three(const char **v, size_t a, size_t b, size_t c, cmp_fn cmp)
{
    if (cmp(v[a], v[b]) < 0) {
        if (cmp(v[b], v[c]) < 0)
            return b;
        return cmp(v[a], v[c]) < 0 ? c : a;
    }
    if (cmp(v[a], v[c]) < 0)
        return a;
    return cmp(v[b], v[c]) < 0 ? c : b;
}

static void intro_sort_rec(const char **v, size_t n, unsigned depth, cmp_fn cmp)
{
    while (n > SMALL_RANGE) {
        size_t m, i, j;
        const char *pivot;
        if (depth == 0) {
            stats.fallbacks++;
            heap_sort(v, n, cmp);
            return;
        }
        depth--;
        m = median_of_three(v, 0, n / 2, n - 1, cmp);
        swap_ptr(&v[0], &v[m]);
        pivot = v[0];
        /* Hoare partition */
        i = 0;
        j = n;
        for (;;) {
            do {
                i++;
            } while (i < n && cmp(v[i], pivot) < 0);
            do {
                j--;
            } while (cmp(v[j], pivot) > 0);
            if (i >= j)
                break;
            swap_ptr(&v[i], &v[j]);
        }
        swap_ptr(&v[0], &v[j]);
        /* recurse into the smaller side, loop on the larger */
        if (j < n - j - 1) {
            intro_sort_rec(v, j, depth, cmp);
            v += j + 1;
            n -= j + 1;
        } else {
            intro_sort_rec(v + j + 1, n - j - 1, depth, cmp);
            n = j;
        }
    }
    insertion_sort(v, n, cmp);
}

static void intro_sort(const char **v, size_t n, cmp_fn cmp)
{
    unsigned depth = 0;
    size_t k = n;
    while (k > 1) {
        depth += 2;
        k >>= 1;
    }
    intro_sort_rec(v, n, depth, cmp);
}

/* ------------------------------------------------------------------ */
/* merge sort                                                         */
/* ------------------------------------------------------------------ */

static void merge_sort_rec(const char **v, const char **tmp, size_t n, cmp_fn cmp)
{
    size_t half, i, j, k;
    if (n <= SMALL_RANGE) {
        insertion_sort(v, n, cmp);
        return;
    }
    half = n / 2;
    merge_sort_rec(v, tmp, half, cmp);
    merge_sort_rec(v + half, tmp, n - half, cmp);
    if (cmp(v[half - 1], v[half]) <= 0)
        return;
    memcpy(tmp, v, half * sizeof(*v));
    i = 0;
    j = half;
    k = 0;
    while (i < half && j < n) {
        if (cmp(v[j], tmp[i]) < 0)
            v[k++] = v[j++];
        else
            v[k++] = tmp[i++];
    }
    while (i < half)
        v[k++] = tmp[i++];
}

static void merge_sort(const char **v, size_t n, cmp_fn cmp)
{
    const char **tmp = malloc((n / 2 + 1) * sizeof(*tmp));
    if (!tmp) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    merge_sort_rec(v, tmp, n, cmp);
    free(tmp);
}

/* ------------------------------------------------------------------ */

static uint32_t hash_order(const char **v, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) {
        const unsigned char *s = (const unsigned char *)v[i];
        while (*s) {
            h ^= *s++;
            h *= 16777619u;
        }
        h ^= 0xffu;
        h *= 16777619u;
    }
    return h;
}

static size_t count_unsorted(const char **v, size_t n, cmp_fn cmp)
{
    size_t i, bad = 0;
    for (i = 1; i < n; i++)
        if (cmp(v[i - 1], v[i]) > 0)
            bad++;
    return bad;
}

static size_t count_distinct(const char **v, size_t n)
{
    size_t i, d = n > 0;
    for (i = 1; i < n; i++)
        if (strcmp(v[i - 1], v[i]) != 0)
            d++;
    return d;
}

static int same_strings(const char **a, const char **b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

static void report(const char *name, const char **v, size_t n, cmp_fn cmp)
{
    sort_stats sorted = stats; /* before the check below adds comparisons */
    size_t unsorted = count_unsorted(v, n, cmp);
    printf("%-10s unsorted %lu hash %08x cmps %lu swaps %lu fallbacks %lu first %s last %s\n",
           name, (unsigned long)unsorted, (unsigned)hash_order(v, n), sorted.comparisons,
           sorted.swaps, sorted.fallbacks, v[0], v[n - 1]);
    memset(&stats, 0, sizeof(stats));
}

int main(void)
{
    arena a;
    const char **orig, **v1, **v2, **v3;
    size_t n = 0, i;
    int round;

    a.cap = ARENA_SIZE;
    a.used = 0;
    a.data = malloc(a.cap);
    orig = malloc(NUM_STRINGS * sizeof(*orig));
    v1 = malloc(NUM_STRINGS * sizeof(*v1));
    v2 = malloc(NUM_STRINGS * sizeof(*v2));
    v3 = malloc(NUM_STRINGS * sizeof(*v3));
    if (!a.data || !orig || !v1 || !v2 || !v3)
        return 1;

    while (n < NUM_STRINGS) {
        char *s = make_string(&a);
        if (!s)
            break;
        orig[n++] = s;
    }
    printf("strings %lu arena %lu\n", (unsigned long)n, (unsigned long)a.used);

    for (round = 0; round < 2; round++) {
        size_t shift = (size_t)round * 7919u % n;
        for (i = 0; i < n; i++)
            v1[i] = v2[i] = v3[i] = orig[(i + shift) % n];
        memset(&stats, 0, sizeof(stats));

        intro_sort(v1, n, my_strcmp);
        report("introsort", v1, n, my_strcmp);
        merge_sort(v2, n, my_strcmp);
        report("mergesort", v2, n, my_strcmp);
        qsort(v3, n, sizeof(*v3), qsort_adapter);
        memset(&stats, 0, sizeof(stats));
        printf("qsort agrees %d %d distinct %lu\n", same_strings(v1, v3, n),
               same_strings(v2, v3, n), (unsigned long)count_distinct(v1, n));

        /* resort the sorted array in natural order: a presorted input */
        intro_sort(v1, n, natural_total);
        report("natural", v1, n, natural_total);
        merge_sort(v2, n, natural_total);
        report("nat-merge", v2, n, natural_total);
        printf("natural agrees %d\n", same_strings(v1, v2, n));

        /* reverse then sort again: a descending input */
        for (i = 0; i < n / 2; i++) {
            const char *t = v1[i];
            v1[i] = v1[n - 1 - i];
            v1[n - 1 - i] = t;
        }
        intro_sort(v1, n, my_strcmp);
        report("reversed", v1, n, my_strcmp);
    }

    free(a.data);
    free(orig);
    free(v1);
    free(v2);
    free(v3);
    return 0;
}
