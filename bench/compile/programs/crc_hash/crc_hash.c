/*
 * crc_hash: table-driven checksums and non-cryptographic hashes over
 * generated data.
 *
 *   - CRC-32 (IEEE 802.3, reflected, byte-at-a-time table)
 *   - CRC-32 slicing-by-4 (same polynomial, four tables)
 *   - CRC-32C (Castagnoli, reflected)
 *   - CRC-16/CCITT (non-reflected, MSB first)
 *   - Adler-32
 *   - FNV-1a 32 and 64 bit
 *   - a murmur3-style 32-bit block hash
 *   - an open-addressing hash table that counts distinct 8-byte shingles
 *
 * Every result is folded into a final checksum printed on stdout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_SIZE (1u << 20)
#define PASSES 6
#define TABLE_BITS 17
#define TABLE_SIZE (1u << TABLE_BITS)

typedef struct {
    uint32_t crc32[4][256];
    uint32_t crc32c[256];
    uint16_t crc16[256];
} crc_tables;

typedef struct {
    uint64_t *keys;
    uint32_t *counts;
    uint8_t *used;
    uint32_t size;
    uint32_t mask;
    uint32_t filled;
    uint32_t probes;
} shingle_table;

/* ------------------------------------------------------------------ */
/* deterministic data generation                                      */
/* ------------------------------------------------------------------ */

static uint32_t rng_state = 0x12345678u;

static uint32_t rng_next(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

static const char *const words[] = {
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
    "compiler", "pass", "ordering", "instruction", "count", "loop",
    "vector", "inline", "register", "alloca", "phi", "branch",
    "memory", "load", "store", "call", "return", "switch", "table",
    "hash", "checksum", "polynomial", "reflect", "window"
};

enum data_kind { DATA_RANDOM, DATA_TEXT, DATA_RUNS, DATA_RAMP, DATA_KINDS };

static void fill_random(uint8_t *buf, size_t n)
{
    size_t i;
    for (i = 0; i + 4 <= n; i += 4) {
        uint32_t r = rng_next();
        buf[i] = (uint8_t)r;
        buf[i + 1] = (uint8_t)(r >> 8);
        buf[i + 2] = (uint8_t)(r >> 16);
        buf[i + 3] = (uint8_t)(r >> 24);
    }
    for (; i < n; i++)
        buf[i] = (uint8_t)rng_next();
}

static void fill_text(uint8_t *buf, size_t n)
{
    size_t pos = 0;
    unsigned nwords = (unsigned)(sizeof(words) / sizeof(words[0]));
    while (pos < n) {
        const char *w = words[rng_next() % nwords];
        size_t len = strlen(w);
        size_t k;
        for (k = 0; k < len && pos < n; k++)
            buf[pos++] = (uint8_t)w[k];
        if (pos < n) {
            uint32_t r = rng_next() & 15u;
            buf[pos++] = (uint8_t)(r == 0 ? '\n' : (r == 1 ? ',' : ' '));
        }
    }
}

static void fill_runs(uint8_t *buf, size_t n)
{
    size_t pos = 0;
    while (pos < n) {
        uint8_t value = (uint8_t)(rng_next() & 0x0fu);
        size_t run = 1 + (rng_next() % 64u);
        while (run-- > 0 && pos < n)
            buf[pos++] = value;
    }
}

static void fill_ramp(uint8_t *buf, size_t n)
{
    size_t i;
    uint32_t acc = rng_next();
    for (i = 0; i < n; i++) {
        acc += 0x9e3779b9u;
        buf[i] = (uint8_t)((i * 7u) ^ (acc >> 27));
    }
}

static void fill_data(uint8_t *buf, size_t n, enum data_kind kind)
{
    switch (kind) {
    case DATA_RANDOM: fill_random(buf, n); break;
    case DATA_TEXT:   fill_text(buf, n); break;
    case DATA_RUNS:   fill_runs(buf, n); break;
    case DATA_RAMP:   fill_ramp(buf, n); break;
    default:          memset(buf, 0, n); break;
    }
}

/* ------------------------------------------------------------------ */
/* CRC tables                                                         */
/* ------------------------------------------------------------------ */

static void build_reflected_table(uint32_t *table, uint32_t poly)
{
    uint32_t i, j;
    for (i = 0; i < 256; i++) {
        uint32_t c = i;
        for (j = 0; j < 8; j++)
            c = (c & 1u) ? (poly ^ (c >> 1)) : (c >> 1);
        table[i] = c;
    }
}

static void build_tables(crc_tables *t)
{
    uint32_t i, k;
    build_reflected_table(t->crc32[0], 0xEDB88320u);
    for (i = 0; i < 256; i++) {
        uint32_t c = t->crc32[0][i];
        for (k = 1; k < 4; k++) {
            c = t->crc32[0][c & 0xffu] ^ (c >> 8);
            t->crc32[k][i] = c;
        }
    }
    build_reflected_table(t->crc32c, 0x82F63B78u);
    for (i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        int j;
        for (j = 0; j < 8; j++)
            c = (uint16_t)((c & 0x8000u) ? (((uint32_t)c << 1) ^ 0x1021u) : ((uint32_t)c << 1));
        t->crc16[i] = c;
    }
}

static uint32_t crc32_bytewise(const crc_tables *t, uint32_t crc,
                               const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--)
        crc = t->crc32[0][(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

static uint32_t crc32_slice4(const crc_tables *t, uint32_t crc,
                             const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n >= 4) {
        uint32_t w = (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
                     ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
        crc ^= w;
        crc = t->crc32[3][crc & 0xffu] ^ t->crc32[2][(crc >> 8) & 0xffu] ^
              t->crc32[1][(crc >> 16) & 0xffu] ^ t->crc32[0][crc >> 24];
        p += 4;
        n -= 4;
    }
    while (n--)
        crc = t->crc32[0][(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

static uint32_t crc32c(const crc_tables *t, const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    size_t i;
    for (i = 0; i < n; i++)
        crc = t->crc32c[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

static uint16_t crc16_ccitt(const crc_tables *t, const uint8_t *p, size_t n)
{
    uint16_t crc = 0xffffu;
    size_t i;
    for (i = 0; i < n; i++)
        crc = (uint16_t)(((uint32_t)crc << 8) ^ t->crc16[((crc >> 8) ^ p[i]) & 0xffu]);
    return crc;
}

/* ------------------------------------------------------------------ */
/* Adler / FNV / murmur                                               */
/* ------------------------------------------------------------------ */

static uint32_t adler32(const uint8_t *p, size_t n)
{
    const uint32_t mod = 65521u;
    uint32_t a = 1, b = 0;
    while (n > 0) {
        size_t chunk = n < 5552 ? n : 5552;
        n -= chunk;
        while (chunk--) {
            a += *p++;
            b += a;
        }
        a %= mod;
        b %= mod;
    }
    return (b << 16) | a;
}

static uint32_t fnv1a32(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint32_t rotl32(uint32_t x, unsigned r)
{
    return (x << r) | (x >> (32u - r));
}

static uint32_t fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static uint32_t murmur3_32(const uint8_t *p, size_t n, uint32_t seed)
{
    const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
    uint32_t h = seed;
    size_t nblocks = n / 4, i;
    uint32_t k;
    for (i = 0; i < nblocks; i++) {
        const uint8_t *b = p + 4 * i;
        k = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
            ((uint32_t)b[3] << 24);
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5u + 0xe6546b64u;
    }
    k = 0;
    switch (n & 3u) {
    case 3: k ^= (uint32_t)p[4 * nblocks + 2] << 16; /* fall through */
    case 2: k ^= (uint32_t)p[4 * nblocks + 1] << 8;  /* fall through */
    case 1:
        k ^= p[4 * nblocks];
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        break;
    default:
        break;
    }
    h ^= (uint32_t)n;
    return fmix32(h);
}

/* ------------------------------------------------------------------ */
/* shingle table                                                      */
/* ------------------------------------------------------------------ */

static int table_init(shingle_table *t, uint32_t bits)
{
    t->size = 1u << bits;
    t->mask = t->size - 1u;
    t->filled = 0;
    t->probes = 0;
    t->keys = calloc(t->size, sizeof(uint64_t));
    t->counts = calloc(t->size, sizeof(uint32_t));
    t->used = calloc(t->size, 1);
    return t->keys && t->counts && t->used;
}

static void table_free(shingle_table *t)
{
    free(t->keys);
    free(t->counts);
    free(t->used);
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* returns 1 if the key was new, 0 if it was already there, -1 if full */
static int table_add(shingle_table *t, uint64_t key)
{
    uint32_t h = fmix32((uint32_t)key ^ (uint32_t)(key >> 32) * 0x9e3779b1u);
    uint32_t idx = h & t->mask;
    uint32_t step = 0;
    while (t->used[idx]) {
        t->probes++;
        if (t->keys[idx] == key) {
            t->counts[idx]++;
            return 0;
        }
        step++;
        idx = (idx + step) & t->mask; /* triangular probing */
        if (step > t->size)
            return -1;
    }
    if (t->filled * 4u >= t->size * 3u)
        return -1;
    t->used[idx] = 1;
    t->keys[idx] = key;
    t->counts[idx] = 1;
    t->filled++;
    return 1;
}

static uint32_t count_shingles(const uint8_t *p, size_t n, uint32_t *max_count)
{
    shingle_table t;
    size_t i;
    uint32_t distinct = 0, best = 0, j;
    if (!table_init(&t, TABLE_BITS)) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (i = 0; i + 8 <= n; i += 3) {
        int r = table_add(&t, load64(p + i));
        if (r < 0)
            break;
        distinct += (uint32_t)r;
    }
    for (j = 0; j < t.size; j++)
        if (t.used[j] && t.counts[j] > best)
            best = t.counts[j];
    *max_count = best;
    distinct ^= t.probes << 1;
    table_free(&t);
    return distinct;
}

/* ------------------------------------------------------------------ */

int main(void)
{
    static crc_tables tables;
    uint8_t *data = malloc(DATA_SIZE);
    uint32_t total = 0;
    uint64_t total64 = 0;
    int pass;
    const char *check = "123456789";

    if (!data) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    build_tables(&tables);

    /* known check values of the standard algorithms */
    printf("check crc32=%08x crc32c=%08x crc16=%04x adler=%08x fnv=%08x\n",
           (unsigned)crc32_bytewise(&tables, 0, (const uint8_t *)check, 9),
           (unsigned)crc32c(&tables, (const uint8_t *)check, 9),
           (unsigned)crc16_ccitt(&tables, (const uint8_t *)check, 9),
           (unsigned)adler32((const uint8_t *)check, 9),
           (unsigned)fnv1a32((const uint8_t *)check, 9));

    for (pass = 0; pass < PASSES; pass++) {
        enum data_kind kind = (enum data_kind)(pass % DATA_KINDS);
        size_t len = DATA_SIZE - (size_t)(rng_next() % 4096u);
        uint32_t c1, c2, c3, a, f, m, distinct, maxc;
        uint16_t c16;
        uint64_t f64;

        fill_data(data, len, kind);
        c1 = crc32_bytewise(&tables, 0, data, len);
        c2 = crc32_slice4(&tables, 0, data, len);
        /* incremental CRC over two halves must equal the one-shot value */
        c3 = crc32_slice4(&tables, crc32_bytewise(&tables, 0, data, len / 3),
                          data + len / 3, len - len / 3);
        if (c1 != c2 || c1 != c3) {
            printf("crc mismatch in pass %d\n", pass);
            return 2;
        }
        a = adler32(data, len);
        f = fnv1a32(data, len);
        f64 = fnv1a64(data, len);
        m = murmur3_32(data, len, (uint32_t)pass * 0x1000193u);
        c16 = crc16_ccitt(&tables, data, len);
        distinct = count_shingles(data, len, &maxc);
        {
            uint32_t c32c = crc32c(&tables, data, len);
            printf("pass %d kind %d len %lu crc32=%08x crc32c=%08x crc16=%04x "
                   "adler=%08x fnv32=%08x fnv64=%016llx murmur=%08x "
                   "shingles=%u max=%u\n",
                   pass, (int)kind, (unsigned long)len, (unsigned)c1,
                   (unsigned)c32c, (unsigned)c16, (unsigned)a, (unsigned)f,
                   (unsigned long long)f64, (unsigned)m, (unsigned)distinct,
                   (unsigned)maxc);
            total = rotl32(total, 5) ^ c1 ^ c32c ^ a ^ f ^ m ^ distinct ^ c16;
        }
        total64 = total64 * 31u + f64;
    }
    printf("total %08x %016llx\n", (unsigned)total, (unsigned long long)total64);
    free(data);
    return 0;
}
