/*
 * rle_lz: three small lossless compressors, each run as a round trip.
 *
 *   - PackBits-style run-length coding
 *   - LZ77 with a 32 KiB window, hash chains and lazy matching; the token
 *     stream is written as flag bytes followed by literals or
 *     (offset, length) pairs
 *   - LZW with variable-width codes (9..14 bits), a dictionary reset when
 *     full, and an MSB-first bit packer
 *
 * Inputs are generated: English-like text, structured records, and noisy
 * binary.  For each input and codec the program checks that decompression
 * restores the input and prints the compressed size and a CRC of the
 * compressed stream.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_SIZE (256 * 1024)

/* LZ77 parameters */
#define WINDOW_BITS 15
#define WINDOW_SIZE (1u << WINDOW_BITS)
#define HASH_BITS 14
#define HASH_SIZE (1u << HASH_BITS)
#define MIN_MATCH 3
#define MAX_MATCH 258
#define MAX_CHAIN 48
#define NO_POS UINT32_MAX

/* LZW parameters */
#define LZW_MIN_BITS 9
#define LZW_MAX_BITS 14
#define LZW_MAX_CODES (1u << LZW_MAX_BITS)
#define LZW_CLEAR 256u
#define LZW_END 257u
#define LZW_FIRST 258u

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} buffer;

typedef struct {
    uint32_t head[HASH_SIZE];
    uint32_t prev[WINDOW_SIZE];
} lz_chains;

typedef struct {
    buffer *out;
    uint32_t acc;
    unsigned nbits;
} bit_writer;

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t pos;
    uint32_t acc;
    unsigned nbits;
} bit_reader;

/* ------------------------------------------------------------------ */
/* buffers and CRC                                                    */
/* ------------------------------------------------------------------ */

static void buf_init(buffer *b, size_t cap)
{
    b->data = malloc(cap);
    b->len = 0;
    b->cap = cap;
    if (!b->data) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
}

static void buf_put(buffer *b, uint8_t v)
{
    if (b->len == b->cap) {
        b->cap *= 2;
        b->data = realloc(b->data, b->cap);
        if (!b->data) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    b->data[b->len++] = v;
}

static uint32_t crc_table[256];

static void crc_init(void)
{
    uint32_t i, k;
    for (i = 0; i < 256; i++) {
        uint32_t c = i;
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xffu] ^ (c >> 8);
    return ~c;
}

/* ------------------------------------------------------------------ */
/* input generation                                                   */
/* ------------------------------------------------------------------ */

static uint32_t rs = 7u;

static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}

static const char *const vocab[] = {
    "compression", "window", "dictionary", "literal", "match", "offset",
    "length", "stream", "the", "a", "of", "and", "to", "in", "is", "that",
    "for", "it", "with", "as", "was", "on", "byte", "code", "table"
};

static void gen_text(uint8_t *p, size_t n)
{
    size_t i = 0;
    unsigned nv = (unsigned)(sizeof(vocab) / sizeof(vocab[0]));
    int cap = 1;
    while (i < n) {
        /* skewed word choice: low indexes are frequent */
        unsigned w1 = rnd() % nv;
        unsigned w = w1 * (rnd() % nv) / nv;
        const char *s = vocab[w];
        while (*s && i < n) {
            char c = *s++;
            if (cap && c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            cap = 0;
            p[i++] = (uint8_t)c;
        }
        if (i < n) {
            uint32_t r = rnd() % 12u;
            p[i++] = (uint8_t)(r == 0 ? '.' : ' ');
            if (r == 0) {
                cap = 1;
                if (i < n)
                    p[i++] = (uint8_t)((rnd() & 3u) ? ' ' : '\n');
            }
        }
    }
}

static void gen_records(uint8_t *p, size_t n)
{
    size_t i = 0;
    uint32_t id = 1000;
    while (i < n) {
        char line[64];
        unsigned qty = rnd() % 50u;
        char flag = (rnd() & 1u) ? 'Y' : 'N';
        int len = sprintf(line, "id=%u;qty=%u;flag=%c;pad=0000\n", (unsigned)id, qty, flag);
        int k;
        id += 1 + rnd() % 3u;
        for (k = 0; k < len && i < n; k++)
            p[i++] = (uint8_t)line[k];
    }
}

static void gen_binary(uint8_t *p, size_t n)
{
    size_t i;
    uint8_t prev = 0;
    for (i = 0; i < n; i++) {
        uint32_t r = rnd();
        if ((r & 7u) == 0)
            prev = (uint8_t)(r >> 8);
        else if ((r & 7u) == 1)
            prev = (uint8_t)(prev + 1);
        p[i] = prev;
    }
}

/* ------------------------------------------------------------------ */
/* RLE (PackBits)                                                     */
/* ------------------------------------------------------------------ */

static void rle_encode(const uint8_t *in, size_t n, buffer *out)
{
    size_t i = 0;
    while (i < n) {
        size_t run = 1;
        while (i + run < n && run < 128 && in[i + run] == in[i])
            run++;
        if (run >= 2) {
            buf_put(out, (uint8_t)(257 - run));
            buf_put(out, in[i]);
            i += run;
        } else {
            size_t start = i, lit = 0;
            while (i < n && lit < 128) {
                if (i + 1 < n && in[i] == in[i + 1])
                    break;
                i++;
                lit++;
            }
            buf_put(out, (uint8_t)(lit - 1));
            while (start < i)
                buf_put(out, in[start++]);
        }
    }
}

static int rle_decode(const uint8_t *in, size_t n, buffer *out)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = in[i++];
        if (c < 128) {
            size_t lit = (size_t)c + 1;
            if (i + lit > n)
                return -1;
            while (lit--)
                buf_put(out, in[i++]);
        } else if (c > 128) {
            size_t run = 257u - c;
            if (i >= n)
                return -1;
            while (run--)
                buf_put(out, in[i]);
            i++;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* LZ77                                                               */
/* ------------------------------------------------------------------ */

static uint32_t hash3(const uint8_t *p)
{
    uint32_t v = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

static void chains_insert(lz_chains *c, const uint8_t *in, size_t pos)
{
    uint32_t h = hash3(in + pos);
    c->prev[pos & (WINDOW_SIZE - 1)] = c->head[h];
    c->head[h] = (uint32_t)pos;
}

static size_t longest_match(const lz_chains *c, const uint8_t *in, size_t n,
                            size_t pos, size_t *best_off)
{
    uint32_t cand = c->head[hash3(in + pos)];
    size_t best = 0, limit = n - pos < MAX_MATCH ? n - pos : MAX_MATCH;
    int chain = MAX_CHAIN;
    while (cand != NO_POS && chain-- > 0) {
        size_t off = pos - cand, len = 0;
        if (off == 0 || off > WINDOW_SIZE - 1)
            break;
        if (in[cand + best] == in[pos + best]) {
            while (len < limit && in[cand + len] == in[pos + len])
                len++;
            if (len > best) {
                best = len;
                *best_off = off;
                if (len == limit)
                    break;
            }
        }
        {
            uint32_t next = c->prev[cand & (WINDOW_SIZE - 1)];
            if (next != NO_POS && next >= cand)
                break; /* stale entry from an older window */
            cand = next;
        }
    }
    return best >= MIN_MATCH ? best : 0;
}

/* tokens: groups of 8 behind a flag byte; bit set = match (3 bytes) */
static void lz77_encode(const uint8_t *in, size_t n, buffer *out, lz_chains *c)
{
    size_t pos = 0, flag_at = 0;
    unsigned flag_bit = 8;
    uint32_t i;
    for (i = 0; i < HASH_SIZE; i++)
        c->head[i] = NO_POS;
    for (i = 0; i < WINDOW_SIZE; i++)
        c->prev[i] = NO_POS;
    while (pos < n) {
        size_t off = 0, len = 0;
        if (flag_bit == 8) {
            flag_at = out->len;
            buf_put(out, 0);
            flag_bit = 0;
        }
        if (pos + MIN_MATCH <= n) {
            len = longest_match(c, in, n, pos, &off);
            /* lazy evaluation: prefer a longer match starting one later */
            if (len > 0 && len < 32 && pos + 1 + MIN_MATCH <= n) {
                size_t off2 = 0, len2;
                chains_insert(c, in, pos);
                len2 = longest_match(c, in, n, pos + 1, &off2);
                if (len2 > len + 1) {
                    buf_put(out, in[pos]);
                    pos++;
                    flag_bit++;
                    continue;
                }
                /* already inserted pos */
                buf_put(out, (uint8_t)(off >> 8));
                buf_put(out, (uint8_t)off);
                buf_put(out, (uint8_t)(len - MIN_MATCH));
                out->data[flag_at] |= (uint8_t)(1u << flag_bit);
                flag_bit++;
                {
                    size_t k;
                    for (k = 1; k < len; k++)
                        if (pos + k + MIN_MATCH <= n)
                            chains_insert(c, in, pos + k);
                }
                pos += len;
                continue;
            }
        }
        if (len > 0) {
            size_t k;
            buf_put(out, (uint8_t)(off >> 8));
            buf_put(out, (uint8_t)off);
            buf_put(out, (uint8_t)(len - MIN_MATCH));
            out->data[flag_at] |= (uint8_t)(1u << flag_bit);
            for (k = 0; k < len; k++)
                if (pos + k + MIN_MATCH <= n)
                    chains_insert(c, in, pos + k);
            pos += len;
        } else {
            if (pos + MIN_MATCH <= n)
                chains_insert(c, in, pos);
            buf_put(out, in[pos]);
            pos++;
        }
        flag_bit++;
    }
}

static int lz77_decode(const uint8_t *in, size_t n, buffer *out)
{
    size_t i = 0;
    while (i < n) {
        uint8_t flags = in[i++];
        unsigned bit;
        for (bit = 0; bit < 8 && i < n; bit++) {
            if (flags & (1u << bit)) {
                size_t off, len, start;
                if (i + 3 > n)
                    return -1;
                off = ((size_t)in[i] << 8) | in[i + 1];
                len = (size_t)in[i + 2] + MIN_MATCH;
                i += 3;
                if (off == 0 || off > out->len)
                    return -2;
                start = out->len - off;
                while (len--)
                    buf_put(out, out->data[start++]);
            } else {
                buf_put(out, in[i++]);
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* LZW                                                                */
/* ------------------------------------------------------------------ */

static void bw_put(bit_writer *w, uint32_t code, unsigned bits)
{
    w->acc = (w->acc << bits) | code;
    w->nbits += bits;
    while (w->nbits >= 8) {
        w->nbits -= 8;
        buf_put(w->out, (uint8_t)(w->acc >> w->nbits));
    }
    w->acc &= (1u << w->nbits) - 1u;
}

static void bw_flush(bit_writer *w)
{
    if (w->nbits > 0)
        buf_put(w->out, (uint8_t)(w->acc << (8 - w->nbits)));
    w->nbits = 0;
    w->acc = 0;
}

static int br_get(bit_reader *r, unsigned bits, uint32_t *code)
{
    while (r->nbits < bits) {
        if (r->pos >= r->len)
            return -1;
        r->acc = (r->acc << 8) | r->data[r->pos++];
        r->nbits += 8;
    }
    r->nbits -= bits;
    *code = (r->acc >> r->nbits) & ((1u << bits) - 1u);
    r->acc &= (1u << r->nbits) - 1u;
    return 0;
}

/* encoder dictionary: open hash of (prefix code, byte) -> code */
#define LZW_HASH_SIZE 32768u

typedef struct {
    uint32_t key[LZW_HASH_SIZE]; /* prefix << 8 | byte, plus 1; 0 = empty */
    uint16_t code[LZW_HASH_SIZE];
} lzw_dict;

static void lzw_encode(const uint8_t *in, size_t n, buffer *out, lzw_dict *d)
{
    bit_writer w = {out, 0, 0};
    unsigned bits = LZW_MIN_BITS;
    uint32_t next = LZW_FIRST, prefix;
    size_t i;
    memset(d->key, 0, sizeof(d->key));
    bw_put(&w, LZW_CLEAR, bits);
    if (n == 0) {
        bw_put(&w, LZW_END, bits);
        bw_flush(&w);
        return;
    }
    prefix = in[0];
    for (i = 1; i < n; i++) {
        uint32_t key = ((prefix << 8) | in[i]) + 1u;
        uint32_t h = (key * 2654435761u) >> 17;
        int found = 0;
        while (d->key[h] != 0) {
            if (d->key[h] == key) {
                found = 1;
                break;
            }
            h = (h + 1) & (LZW_HASH_SIZE - 1);
        }
        if (found) {
            prefix = d->code[h];
            continue;
        }
        bw_put(&w, prefix, bits);
        if (next < LZW_MAX_CODES) {
            d->key[h] = key;
            d->code[h] = (uint16_t)next;
            if (next == (1u << bits) && bits < LZW_MAX_BITS)
                bits++;
            next++;
        } else {
            bw_put(&w, LZW_CLEAR, bits);
            memset(d->key, 0, sizeof(d->key));
            bits = LZW_MIN_BITS;
            next = LZW_FIRST;
        }
        prefix = in[i];
    }
    bw_put(&w, prefix, bits);
    if (next == (1u << bits) && bits < LZW_MAX_BITS)
        bits++;
    bw_put(&w, LZW_END, bits);
    bw_flush(&w);
}

typedef struct {
    uint16_t prefix[LZW_MAX_CODES];
    uint8_t suffix[LZW_MAX_CODES];
    uint8_t first[LZW_MAX_CODES];
} lzw_table;

static void lzw_emit(const lzw_table *t, uint32_t code, buffer *out)
{
    uint8_t stack[LZW_MAX_CODES];
    size_t sp = 0;
    while (code >= LZW_FIRST) {
        stack[sp++] = t->suffix[code];
        code = t->prefix[code];
    }
    stack[sp++] = (uint8_t)code;
    while (sp > 0)
        buf_put(out, stack[--sp]);
}

static int lzw_decode(const uint8_t *in, size_t n, buffer *out, lzw_table *t)
{
    bit_reader r = {in, n, 0, 0, 0};
    unsigned bits = LZW_MIN_BITS;
    uint32_t next = LZW_FIRST, prev = LZW_CLEAR, code;
    for (;;) {
        if (br_get(&r, bits, &code) != 0)
            return -1;
        if (code == LZW_END)
            return 0;
        if (code == LZW_CLEAR) {
            bits = LZW_MIN_BITS;
            next = LZW_FIRST;
            prev = LZW_CLEAR;
            continue;
        }
        if (prev == LZW_CLEAR) {
            if (code > 255)
                return -2;
            buf_put(out, (uint8_t)code);
            prev = code;
            continue;
        }
        if (code > next)
            return -3;
        {
            uint8_t first;
            if (code == next) {
                /* the KwKwK case */
                first = prev < 256 ? (uint8_t)prev : t->first[prev];
            } else {
                first = code < 256 ? (uint8_t)code : t->first[code];
            }
            if (next < LZW_MAX_CODES) {
                t->prefix[next] = (uint16_t)prev;
                t->suffix[next] = first;
                t->first[next] = prev < 256 ? (uint8_t)prev : t->first[prev];
                next++;
            }
            lzw_emit(t, code, out);
            if (next == (1u << bits) && bits < LZW_MAX_BITS)
                bits++;
        }
        prev = code;
    }
}

/* ------------------------------------------------------------------ */

enum codec { CODEC_RLE, CODEC_LZ77, CODEC_LZW, CODEC_COUNT };

static const char *const codec_names[CODEC_COUNT] = {"rle", "lz77", "lzw"};

int main(void)
{
    static lz_chains chains;
    static lzw_dict dict;
    static lzw_table table;
    uint8_t *input = malloc(INPUT_SIZE);
    uint32_t total = 0;
    int kind, rounds, failures = 0;

    if (!input)
        return 1;
    crc_init();
    for (rounds = 0; rounds < 2; rounds++) {
        for (kind = 0; kind < 3; kind++) {
            int cdc;
            switch (kind) {
            case 0: gen_text(input, INPUT_SIZE); break;
            case 1: gen_records(input, INPUT_SIZE); break;
            default: gen_binary(input, INPUT_SIZE); break;
            }
            for (cdc = 0; cdc < CODEC_COUNT; cdc++) {
                buffer packed, unpacked;
                int rc = 0;
                uint32_t crc;
                buf_init(&packed, 1024);
                buf_init(&unpacked, 1024);
                switch ((enum codec)cdc) {
                case CODEC_RLE:
                    rle_encode(input, INPUT_SIZE, &packed);
                    rc = rle_decode(packed.data, packed.len, &unpacked);
                    break;
                case CODEC_LZ77:
                    lz77_encode(input, INPUT_SIZE, &packed, &chains);
                    rc = lz77_decode(packed.data, packed.len, &unpacked);
                    break;
                case CODEC_LZW:
                    lzw_encode(input, INPUT_SIZE, &packed, &dict);
                    rc = lzw_decode(packed.data, packed.len, &unpacked, &table);
                    break;
                default:
                    break;
                }
                crc = crc32(packed.data, packed.len);
                if (rc != 0 || unpacked.len != INPUT_SIZE ||
                    memcmp(unpacked.data, input, INPUT_SIZE) != 0) {
                    failures++;
                    printf("round %d input %d %-4s FAILED rc=%d len=%lu\n", rounds, kind,
                           codec_names[cdc], rc, (unsigned long)unpacked.len);
                } else {
                    printf("round %d input %d %-4s %7lu -> %7lu (%5.1f%%) crc %08x\n", rounds,
                           kind, codec_names[cdc], (unsigned long)INPUT_SIZE,
                           (unsigned long)packed.len, 100.0 * (double)packed.len / INPUT_SIZE,
                           (unsigned)crc);
                }
                total = (total << 3 | total >> 29) ^ crc;
                free(packed.data);
                free(unpacked.data);
            }
        }
    }
    printf("input crc %08x failures %d total %08x\n", (unsigned)crc32(input, INPUT_SIZE),
           failures, (unsigned)total);
    free(input);
    return 0;
}
