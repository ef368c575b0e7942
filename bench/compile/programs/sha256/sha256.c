/*
 * sha256: SHA-256 (FIPS 180-4) with an init/update/final interface,
 * HMAC-SHA256 (RFC 2104) and PBKDF2-HMAC-SHA256 (RFC 8018) on top of it.
 *
 * The program checks the standard test vectors, hashes a generated buffer in
 * chunks of varying size, runs a hash chain and a small PBKDF2 derivation,
 * and prints every digest in hex.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHA256_BLOCK 64
#define SHA256_DIGEST 32

typedef struct {
    uint32_t state[8];
    uint64_t length;      /* bytes hashed so far */
    uint8_t block[SHA256_BLOCK];
    size_t fill;          /* bytes waiting in block */
} sha256_ctx;

typedef struct {
    sha256_ctx inner;
    sha256_ctx outer;
} hmac_ctx;

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u,
    0x923f82a4u, 0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u,
    0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u,
    0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u,
    0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u,
    0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au,
    0x5b9cca4fu, 0x682e6ff3u, 0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
    0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u
};

static const uint32_t H0[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
    0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

static uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void sha256_compress(uint32_t state[8], const uint8_t *block)
{
    uint32_t w[64];
    uint32_t a, b, c, d, e, f, g, h;
    int t;

    for (t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (t = 16; t < 64; t++)
        w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];

    a = state[0]; b = state[1]; c = state[2]; d = state[3];
    e = state[4]; f = state[5]; g = state[6]; h = state[7];

    for (t = 0; t < 64; t++) {
        uint32_t t1 = h + BSIG1(e) + CH(e, f, g) + K[t] + w[t];
        uint32_t t2 = BSIG0(a) + MAJ(a, b, c);
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }

    state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
}

static void sha256_init(sha256_ctx *ctx)
{
    memcpy(ctx->state, H0, sizeof(H0));
    ctx->length = 0;
    ctx->fill = 0;
}

static void sha256_update(sha256_ctx *ctx, const uint8_t *data, size_t len)
{
    ctx->length += len;
    if (ctx->fill > 0) {
        size_t take = SHA256_BLOCK - ctx->fill;
        if (take > len)
            take = len;
        memcpy(ctx->block + ctx->fill, data, take);
        ctx->fill += take;
        data += take;
        len -= take;
        if (ctx->fill < SHA256_BLOCK)
            return;
        sha256_compress(ctx->state, ctx->block);
        ctx->fill = 0;
    }
    while (len >= SHA256_BLOCK) {
        sha256_compress(ctx->state, data);
        data += SHA256_BLOCK;
        len -= SHA256_BLOCK;
    }
    if (len > 0) {
        memcpy(ctx->block, data, len);
        ctx->fill = len;
    }
}

static void sha256_final(sha256_ctx *ctx, uint8_t out[SHA256_DIGEST])
{
    uint64_t bits = ctx->length * 8u;
    int i;
    ctx->block[ctx->fill++] = 0x80;
    if (ctx->fill > SHA256_BLOCK - 8) {
        memset(ctx->block + ctx->fill, 0, SHA256_BLOCK - ctx->fill);
        sha256_compress(ctx->state, ctx->block);
        ctx->fill = 0;
    }
    memset(ctx->block + ctx->fill, 0, SHA256_BLOCK - 8 - ctx->fill);
    for (i = 0; i < 8; i++)
        ctx->block[SHA256_BLOCK - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha256_compress(ctx->state, ctx->block);
    for (i = 0; i < 8; i++)
        store_be32(out + 4 * i, ctx->state[i]);
}

static void sha256(const uint8_t *data, size_t len, uint8_t out[SHA256_DIGEST])
{
    sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, data, len);
    sha256_final(&ctx, out);
}

/* ------------------------------------------------------------------ */
/* HMAC and PBKDF2                                                    */
/* ------------------------------------------------------------------ */

static void hmac_init(hmac_ctx *h, const uint8_t *key, size_t keylen)
{
    uint8_t k[SHA256_BLOCK];
    uint8_t pad[SHA256_BLOCK];
    size_t i;
    memset(k, 0, sizeof(k));
    if (keylen > SHA256_BLOCK)
        sha256(key, keylen, k);
    else
        memcpy(k, key, keylen);
    for (i = 0; i < SHA256_BLOCK; i++)
        pad[i] = (uint8_t)(k[i] ^ 0x36u);
    sha256_init(&h->inner);
    sha256_update(&h->inner, pad, SHA256_BLOCK);
    for (i = 0; i < SHA256_BLOCK; i++)
        pad[i] = (uint8_t)(k[i] ^ 0x5cu);
    sha256_init(&h->outer);
    sha256_update(&h->outer, pad, SHA256_BLOCK);
}

static void hmac_update(hmac_ctx *h, const uint8_t *data, size_t len)
{
    sha256_update(&h->inner, data, len);
}

static void hmac_final(hmac_ctx *h, uint8_t out[SHA256_DIGEST])
{
    uint8_t ih[SHA256_DIGEST];
    sha256_final(&h->inner, ih);
    sha256_update(&h->outer, ih, SHA256_DIGEST);
    sha256_final(&h->outer, out);
}

static void hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg,
                        size_t msglen, uint8_t out[SHA256_DIGEST])
{
    hmac_ctx h;
    hmac_init(&h, key, keylen);
    hmac_update(&h, msg, msglen);
    hmac_final(&h, out);
}

static void pbkdf2_sha256(const uint8_t *pw, size_t pwlen, const uint8_t *salt,
                          size_t saltlen, unsigned iterations, uint8_t *out,
                          size_t outlen)
{
    hmac_ctx base, h;
    uint32_t blockno = 1;
    hmac_init(&base, pw, pwlen);
    while (outlen > 0) {
        uint8_t u[SHA256_DIGEST], t[SHA256_DIGEST], be[4];
        size_t take = outlen < SHA256_DIGEST ? outlen : SHA256_DIGEST;
        unsigned it;
        size_t i;
        store_be32(be, blockno);
        h = base;
        hmac_update(&h, salt, saltlen);
        hmac_update(&h, be, 4);
        hmac_final(&h, u);
        memcpy(t, u, SHA256_DIGEST);
        for (it = 1; it < iterations; it++) {
            h = base;
            hmac_update(&h, u, SHA256_DIGEST);
            hmac_final(&h, u);
            for (i = 0; i < SHA256_DIGEST; i++)
                t[i] ^= u[i];
        }
        memcpy(out, t, take);
        out += take;
        outlen -= take;
        blockno++;
    }
}

/* ------------------------------------------------------------------ */
/* driver                                                             */
/* ------------------------------------------------------------------ */

static void to_hex(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15u];
    }
    out[2 * n] = '\0';
}

struct vector {
    const char *msg;
    unsigned repeat;
    const char *hex;
};

static const struct vector vectors[] = {
    {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"a", 1000000,
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

static int run_vectors(void)
{
    size_t v;
    int bad = 0;
    for (v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
        sha256_ctx ctx;
        uint8_t d[SHA256_DIGEST];
        char hex[2 * SHA256_DIGEST + 1];
        size_t len = strlen(vectors[v].msg);
        unsigned r;
        sha256_init(&ctx);
        for (r = 0; r < vectors[v].repeat; r++)
            sha256_update(&ctx, (const uint8_t *)vectors[v].msg, len);
        sha256_final(&ctx, d);
        to_hex(d, SHA256_DIGEST, hex);
        printf("vector %u %s %s\n", (unsigned)v, hex,
               strcmp(hex, vectors[v].hex) == 0 ? "ok" : "BAD");
        bad += strcmp(hex, vectors[v].hex) != 0;
    }
    return bad;
}

static uint32_t gen_state = 2463534242u;

static uint8_t gen_byte(void)
{
    gen_state ^= gen_state << 13;
    gen_state ^= gen_state >> 17;
    gen_state ^= gen_state << 5;
    return (uint8_t)(gen_state >> 11);
}

int main(void)
{
    const size_t size = 5u << 20;
    uint8_t *buf = malloc(size);
    uint8_t d[SHA256_DIGEST], d2[SHA256_DIGEST], key[SHA256_DIGEST];
    uint8_t derived[80];
    char hex[2 * 80 + 1];
    sha256_ctx ctx;
    size_t pos, i;
    unsigned chain;
    int bad;

    if (!buf)
        return 1;
    bad = run_vectors();

    for (i = 0; i < size; i++)
        buf[i] = gen_byte();

    /* one shot versus uneven chunks must agree */
    sha256(buf, size, d);
    sha256_init(&ctx);
    pos = 0;
    i = 1;
    while (pos < size) {
        size_t take = (i * 37u) % 1000u + 1u;
        if (take > size - pos)
            take = size - pos;
        sha256_update(&ctx, buf + pos, take);
        pos += take;
        i++;
    }
    sha256_final(&ctx, d2);
    to_hex(d, SHA256_DIGEST, hex);
    printf("buffer %s %s\n", hex, memcmp(d, d2, SHA256_DIGEST) == 0 ? "chunks-ok" : "chunks-BAD");
    bad += memcmp(d, d2, SHA256_DIGEST) != 0;

    /* hash chain */
    for (chain = 0; chain < 60000; chain++)
        sha256(d, SHA256_DIGEST, d);
    to_hex(d, SHA256_DIGEST, hex);
    printf("chain %s\n", hex);

    /* HMAC test case 2 of RFC 4231 */
    hmac_sha256((const uint8_t *)"Jefe", 4,
                (const uint8_t *)"what do ya want for nothing?", 28, key);
    to_hex(key, SHA256_DIGEST, hex);
    printf("hmac %s %s\n", hex,
           strcmp(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") == 0
               ? "ok" : "BAD");

    /* HMAC over the buffer, keyed with the chain value */
    hmac_sha256(d, SHA256_DIGEST, buf, size / 4, key);
    to_hex(key, SHA256_DIGEST, hex);
    printf("hmac-buffer %s\n", hex);

    pbkdf2_sha256((const uint8_t *)"password", 8, (const uint8_t *)"salt", 4, 2,
                  derived, 32);
    to_hex(derived, 32, hex);
    printf("pbkdf2-2 %s %s\n", hex,
           strcmp(hex, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43") == 0
               ? "ok" : "BAD");
    pbkdf2_sha256(key, SHA256_DIGEST, d, SHA256_DIGEST, 3000, derived, sizeof(derived));
    to_hex(derived, sizeof(derived), hex);
    printf("pbkdf2-3000 %s\n", hex);

    printf("failures %d\n", bad);
    free(buf);
    return 0;
}
