/*
 * rijndael: AES-128/192/256 (FIPS-197) block cipher.
 *
 *   - the S-box and its inverse are computed from GF(2^8) arithmetic
 *   - a byte-oriented reference cipher (SubBytes, ShiftRows, MixColumns)
 *   - a table-driven cipher with four 32-bit T-tables for encryption and
 *     four for decryption (equivalent inverse cipher)
 *   - CBC and CTR modes over a generated buffer
 *
 * The FIPS-197 appendix C vectors are checked, the two implementations are
 * compared, and CRCs of the ciphertexts are printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_SIZE (1u << 20)
#define MAX_ROUNDS 14

typedef struct {
    uint32_t enc[4 * (MAX_ROUNDS + 1)];
    uint32_t dec[4 * (MAX_ROUNDS + 1)];
    int rounds;
} aes_key;

static uint8_t sbox[256], inv_sbox[256];
static uint32_t te[4][256], td[4][256];

/* ------------------------------------------------------------------ */
/* field arithmetic and tables                                        */
/* ------------------------------------------------------------------ */

static uint8_t xtime(uint8_t x)
{
    return (uint8_t)((x << 1) ^ ((x & 0x80u) ? 0x1bu : 0u));
}

static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    uint8_t r = 0;
    while (b) {
        if (b & 1u)
            r ^= a;
        a = xtime(a);
        b >>= 1;
    }
    return r;
}

static uint8_t rotl8(uint8_t x, unsigned s)
{
    return (uint8_t)((x << s) | (x >> (8u - s)));
}

static uint32_t rotr32(uint32_t x, unsigned s)
{
    return (x >> s) | (x << ((32u - s) & 31u));
}

static void build_tables(void)
{
    uint8_t p = 1, q = 1;
    int i;
    /* walk the multiplicative group with generator 3 to get inverses */
    do {
        uint8_t x;
        p = (uint8_t)(p ^ xtime(p));          /* p *= 3 */
        q ^= (uint8_t)(q << 1);               /* q /= 3 */
        q ^= (uint8_t)(q << 2);
        q ^= (uint8_t)(q << 4);
        if (q & 0x80u)
            q ^= 0x09u;
        x = (uint8_t)(q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4));
        sbox[p] = (uint8_t)(x ^ 0x63u);
    } while (p != 1);
    sbox[0] = 0x63;
    for (i = 0; i < 256; i++)
        inv_sbox[sbox[i]] = (uint8_t)i;
    for (i = 0; i < 256; i++) {
        uint8_t s = sbox[i], v = inv_sbox[i];
        uint32_t e = ((uint32_t)gf_mul(s, 2) << 24) | ((uint32_t)s << 16) |
                     ((uint32_t)s << 8) | gf_mul(s, 3);
        uint32_t d = ((uint32_t)gf_mul(v, 14) << 24) | ((uint32_t)gf_mul(v, 9) << 16) |
                     ((uint32_t)gf_mul(v, 13) << 8) | gf_mul(v, 11);
        int k;
        for (k = 0; k < 4; k++) {
            te[k][i] = rotr32(e, 8u * (unsigned)k);
            td[k][i] = rotr32(d, 8u * (unsigned)k);
        }
    }
}

/* ------------------------------------------------------------------ */
/* key schedule                                                       */
/* ------------------------------------------------------------------ */

static uint32_t load_be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void store_be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t sub_word(uint32_t w)
{
    return ((uint32_t)sbox[w >> 24] << 24) | ((uint32_t)sbox[(w >> 16) & 0xffu] << 16) |
           ((uint32_t)sbox[(w >> 8) & 0xffu] << 8) | sbox[w & 0xffu];
}

static void expand_key(aes_key *k, const uint8_t *key, int key_bytes)
{
    int nk = key_bytes / 4, total, i, r;
    uint8_t rcon = 1;
    k->rounds = nk + 6;
    total = 4 * (k->rounds + 1);
    for (i = 0; i < nk; i++)
        k->enc[i] = load_be(key + 4 * i);
    for (i = nk; i < total; i++) {
        uint32_t t = k->enc[i - 1];
        if (i % nk == 0) {
            t = sub_word((t << 8) | (t >> 24)) ^ ((uint32_t)rcon << 24);
            rcon = xtime(rcon);
        } else if (nk > 6 && i % nk == 4) {
            t = sub_word(t);
        }
        k->enc[i] = k->enc[i - nk] ^ t;
    }
    /* decryption keys: reversed order, InvMixColumns on the inner rounds */
    for (r = 0; r <= k->rounds; r++)
        for (i = 0; i < 4; i++) {
            uint32_t w = k->enc[4 * (k->rounds - r) + i];
            if (r > 0 && r < k->rounds)
                w = td[0][sbox[w >> 24]] ^ td[1][sbox[(w >> 16) & 0xffu]] ^
                    td[2][sbox[(w >> 8) & 0xffu]] ^ td[3][sbox[w & 0xffu]];
            k->dec[4 * r + i] = w;
        }
}

/* ------------------------------------------------------------------ */
/* reference cipher on a 4x4 byte state                               */
/* ------------------------------------------------------------------ */

static void add_round_key(uint8_t s[16], const uint32_t *w)
{
    int c;
    for (c = 0; c < 4; c++) {
        s[4 * c] ^= (uint8_t)(w[c] >> 24);
        s[4 * c + 1] ^= (uint8_t)(w[c] >> 16);
        s[4 * c + 2] ^= (uint8_t)(w[c] >> 8);
        s[4 * c + 3] ^= (uint8_t)w[c];
    }
}

static void shift_rows(uint8_t s[16])
{
    uint8_t t[16];
    int r, c;
    for (c = 0; c < 4; c++)
        for (r = 0; r < 4; r++)
            t[4 * c + r] = s[4 * ((c + r) % 4) + r];
    memcpy(s, t, 16);
}

static void mix_columns(uint8_t s[16])
{
    int c;
    for (c = 0; c < 4; c++) {
        uint8_t *col = s + 4 * c;
        uint8_t a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
        col[0] = (uint8_t)(xtime(a0) ^ xtime(a1) ^ a1 ^ a2 ^ a3);
        col[1] = (uint8_t)(a0 ^ xtime(a1) ^ xtime(a2) ^ a2 ^ a3);
        col[2] = (uint8_t)(a0 ^ a1 ^ xtime(a2) ^ xtime(a3) ^ a3);
        col[3] = (uint8_t)(xtime(a0) ^ a0 ^ a1 ^ a2 ^ xtime(a3));
    }
}

static void ref_encrypt(const aes_key *k, const uint8_t in[16], uint8_t out[16])
{
    uint8_t s[16];
    int r, i;
    memcpy(s, in, 16);
    add_round_key(s, k->enc);
    for (r = 1; r <= k->rounds; r++) {
        for (i = 0; i < 16; i++)
            s[i] = sbox[s[i]];
        shift_rows(s);
        if (r != k->rounds)
            mix_columns(s);
        add_round_key(s, k->enc + 4 * r);
    }
    memcpy(out, s, 16);
}

/* ------------------------------------------------------------------ */
/* table-driven cipher                                                */
/* ------------------------------------------------------------------ */

static void fast_encrypt(const aes_key *k, const uint8_t in[16], uint8_t out[16])
{
    const uint32_t *rk = k->enc;
    uint32_t s0 = load_be(in) ^ rk[0], s1 = load_be(in + 4) ^ rk[1];
    uint32_t s2 = load_be(in + 8) ^ rk[2], s3 = load_be(in + 12) ^ rk[3];
    uint32_t t0, t1, t2, t3;
    int r;
    for (r = 1; r < k->rounds; r++) {
        rk += 4;
        t0 = te[0][s0 >> 24] ^ te[1][(s1 >> 16) & 0xffu] ^ te[2][(s2 >> 8) & 0xffu] ^ te[3][s3 & 0xffu] ^ rk[0];
        t1 = te[0][s1 >> 24] ^ te[1][(s2 >> 16) & 0xffu] ^ te[2][(s3 >> 8) & 0xffu] ^ te[3][s0 & 0xffu] ^ rk[1];
        t2 = te[0][s2 >> 24] ^ te[1][(s3 >> 16) & 0xffu] ^ te[2][(s0 >> 8) & 0xffu] ^ te[3][s1 & 0xffu] ^ rk[2];
        t3 = te[0][s3 >> 24] ^ te[1][(s0 >> 16) & 0xffu] ^ te[2][(s1 >> 8) & 0xffu] ^ te[3][s2 & 0xffu] ^ rk[3];
        s0 = t0; s1 = t1; s2 = t2; s3 = t3;
    }
    rk += 4;
    t0 = ((uint32_t)sbox[s0 >> 24] << 24) | ((uint32_t)sbox[(s1 >> 16) & 0xffu] << 16) |
         ((uint32_t)sbox[(s2 >> 8) & 0xffu] << 8) | sbox[s3 & 0xffu];
    t1 = ((uint32_t)sbox[s1 >> 24] << 24) | ((uint32_t)sbox[(s2 >> 16) & 0xffu] << 16) |
         ((uint32_t)sbox[(s3 >> 8) & 0xffu] << 8) | sbox[s0 & 0xffu];
    t2 = ((uint32_t)sbox[s2 >> 24] << 24) | ((uint32_t)sbox[(s3 >> 16) & 0xffu] << 16) |
         ((uint32_t)sbox[(s0 >> 8) & 0xffu] << 8) | sbox[s1 & 0xffu];
    t3 = ((uint32_t)sbox[s3 >> 24] << 24) | ((uint32_t)sbox[(s0 >> 16) & 0xffu] << 16) |
         ((uint32_t)sbox[(s1 >> 8) & 0xffu] << 8) | sbox[s2 & 0xffu];
    store_be(out, t0 ^ rk[0]);
    store_be(out + 4, t1 ^ rk[1]);
    store_be(out + 8, t2 ^ rk[2]);
    store_be(out + 12, t3 ^ rk[3]);
}

static void fast_decrypt(const aes_key *k, const uint8_t in[16], uint8_t out[16])
{
    const uint32_t *rk = k->dec;
    uint32_t s0 = load_be(in) ^ rk[0], s1 = load_be(in + 4) ^ rk[1];
    uint32_t s2 = load_be(in + 8) ^ rk[2], s3 = load_be(in + 12) ^ rk[3];
    uint32_t t0, t1, t2, t3;
    int r;
    for (r = 1; r < k->rounds; r++) {
        rk += 4;
        t0 = td[0][s0 >> 24] ^ td[1][(s3 >> 16) & 0xffu] ^ td[2][(s2 >> 8) & 0xffu] ^ td[3][s1 & 0xffu] ^ rk[0];
        t1 = td[0][s1 >> 24] ^ td[1][(s0 >> 16) & 0xffu] ^ td[2][(s3 >> 8) & 0xffu] ^ td[3][s2 & 0xffu] ^ rk[1];
        t2 = td[0][s2 >> 24] ^ td[1][(s1 >> 16) & 0xffu] ^ td[2][(s0 >> 8) & 0xffu] ^ td[3][s3 & 0xffu] ^ rk[2];
        t3 = td[0][s3 >> 24] ^ td[1][(s2 >> 16) & 0xffu] ^ td[2][(s1 >> 8) & 0xffu] ^ td[3][s0 & 0xffu] ^ rk[3];
        s0 = t0; s1 = t1; s2 = t2; s3 = t3;
    }
    rk += 4;
    t0 = ((uint32_t)inv_sbox[s0 >> 24] << 24) | ((uint32_t)inv_sbox[(s3 >> 16) & 0xffu] << 16) |
         ((uint32_t)inv_sbox[(s2 >> 8) & 0xffu] << 8) | inv_sbox[s1 & 0xffu];
    t1 = ((uint32_t)inv_sbox[s1 >> 24] << 24) | ((uint32_t)inv_sbox[(s0 >> 16) & 0xffu] << 16) |
         ((uint32_t)inv_sbox[(s3 >> 8) & 0xffu] << 8) | inv_sbox[s2 & 0xffu];
    t2 = ((uint32_t)inv_sbox[s2 >> 24] << 24) | ((uint32_t)inv_sbox[(s1 >> 16) & 0xffu] << 16) |
         ((uint32_t)inv_sbox[(s0 >> 8) & 0xffu] << 8) | inv_sbox[s3 & 0xffu];
    t3 = ((uint32_t)inv_sbox[s3 >> 24] << 24) | ((uint32_t)inv_sbox[(s2 >> 16) & 0xffu] << 16) |
         ((uint32_t)inv_sbox[(s1 >> 8) & 0xffu] << 8) | inv_sbox[s0 & 0xffu];
    store_be(out, t0 ^ rk[0]);
    store_be(out + 4, t1 ^ rk[1]);
    store_be(out + 8, t2 ^ rk[2]);
    store_be(out + 12, t3 ^ rk[3]);
}

/* ------------------------------------------------------------------ */
/* modes                                                              */
/* ------------------------------------------------------------------ */

static void cbc_encrypt(const aes_key *k, const uint8_t iv[16], uint8_t *buf, size_t n)
{
    uint8_t chain[16];
    size_t off;
    int i;
    memcpy(chain, iv, 16);
    for (off = 0; off + 16 <= n; off += 16) {
        for (i = 0; i < 16; i++)
            buf[off + i] ^= chain[i];
        fast_encrypt(k, buf + off, buf + off);
        memcpy(chain, buf + off, 16);
    }
}

static void cbc_decrypt(const aes_key *k, const uint8_t iv[16], uint8_t *buf, size_t n)
{
    uint8_t chain[16], saved[16];
    size_t off;
    int i;
    memcpy(chain, iv, 16);
    for (off = 0; off + 16 <= n; off += 16) {
        memcpy(saved, buf + off, 16);
        fast_decrypt(k, buf + off, buf + off);
        for (i = 0; i < 16; i++)
            buf[off + i] ^= chain[i];
        memcpy(chain, saved, 16);
    }
}

static void ctr_crypt(const aes_key *k, const uint8_t nonce[16], uint8_t *buf, size_t n)
{
    uint8_t counter[16], stream[16];
    size_t off, i;
    memcpy(counter, nonce, 16);
    for (off = 0; off < n; off += 16) {
        int j;
        fast_encrypt(k, counter, stream);
        for (i = 0; i < 16 && off + i < n; i++)
            buf[off + i] ^= stream[i];
        for (j = 15; j >= 0; j--)
            if (++counter[j] != 0)
                break;
    }
}

/* ------------------------------------------------------------------ */

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void hex(const uint8_t *p, int n, char *out)
{
    int i;
    for (i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

int main(void)
{
    static const char *const expected[3] = {
        "69c4e0d86a7b0430d8cdb78070b4c55a",
        "dda97ca4864cdfe06eaf70a0ec0d7191",
        "8ea2b7ca516745bfeafc49904b496089",
    };
    uint8_t key[32], pt[16], ct[16], ct2[16], back[16], iv[16];
    uint8_t *buf = malloc(BUFFER_SIZE), *orig = malloc(BUFFER_SIZE);
    char text[65];
    aes_key k;
    int i, v, failures = 0, mismatches = 0, round;
    uint32_t x = 0x13579BDFu;

    if (!buf || !orig)
        return 1;
    build_tables();
    printf("sbox[0x53]=%02x inv[0xed]=%02x te0[1]=%08x\n", sbox[0x53], inv_sbox[0xed],
           (unsigned)te[0][1]);

    for (i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    for (i = 0; i < 16; i++)
        pt[i] = (uint8_t)(i * 0x11);
    for (v = 0; v < 3; v++) {
        expand_key(&k, key, 16 + 8 * v);
        fast_encrypt(&k, pt, ct);
        ref_encrypt(&k, pt, ct2);
        fast_decrypt(&k, ct, back);
        hex(ct, 16, text);
        printf("aes-%d %s %s\n", 128 + 64 * v, text,
               strcmp(text, expected[v]) == 0 && memcmp(ct, ct2, 16) == 0 &&
                       memcmp(back, pt, 16) == 0
                   ? "ok" : "BAD");
        failures += strcmp(text, expected[v]) != 0;
    }

    /* random blocks: reference versus table-driven */
    for (i = 0; i < 20000; i++) {
        int j;
        for (j = 0; j < 16; j++) {
            x = x * 1103515245u + 12345u;
            pt[j] = (uint8_t)(x >> 16);
        }
        if (i % 1000 == 0) {
            memcpy(key, pt, 16);
            expand_key(&k, key, 16 + 8 * ((i / 1000) % 3));
        }
        fast_encrypt(&k, pt, ct);
        ref_encrypt(&k, pt, ct2);
        mismatches += memcmp(ct, ct2, 16) != 0;
    }
    printf("reference mismatches %d\n", mismatches);

    for (i = 0; i < (int)BUFFER_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        orig[i] = (uint8_t)(i % 3 == 0 ? x : (uint32_t)i >> 6);
    }
    for (i = 0; i < 16; i++)
        iv[i] = (uint8_t)(0xA0 + i);
    for (round = 0; round < 3; round++) {
        uint32_t c_cbc, c_ctr;
        int ok_cbc, ok_ctr;
        expand_key(&k, key, 16 + 8 * round);
        memcpy(buf, orig, BUFFER_SIZE);
        cbc_encrypt(&k, iv, buf, BUFFER_SIZE);
        c_cbc = crc32(buf, BUFFER_SIZE);
        cbc_decrypt(&k, iv, buf, BUFFER_SIZE);
        ok_cbc = memcmp(buf, orig, BUFFER_SIZE) == 0;
        ctr_crypt(&k, iv, buf, BUFFER_SIZE - 5);
        c_ctr = crc32(buf, BUFFER_SIZE);
        ctr_crypt(&k, iv, buf, BUFFER_SIZE - 5);
        ok_ctr = memcmp(buf, orig, BUFFER_SIZE) == 0;
        printf("aes-%d cbc crc %08x %s ctr crc %08x %s\n", 128 + 64 * round, (unsigned)c_cbc,
               ok_cbc ? "ok" : "BAD", (unsigned)c_ctr, ok_ctr ? "ok" : "BAD");
        failures += !ok_cbc + !ok_ctr;
    }
    printf("failures %d\n", failures + mismatches);
    free(buf);
    free(orig);
    return 0;
}
