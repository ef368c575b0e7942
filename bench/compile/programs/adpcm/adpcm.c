/*
 * adpcm: speech/audio codecs on generated 16-bit PCM.
 *
 *   - IMA/DVI ADPCM (4 bits per sample) in the block layout of WAV files:
 *     every block starts with a header holding the predictor and step index,
 *     then packed nibbles; stereo input is coded per channel
 *   - G.711 mu-law and A-law companding (8 bits per sample)
 *   - a first-order pre-emphasis / de-emphasis filter pair in fixed point
 *
 * The input is a synthetic signal: a few tones from a sine table with slow
 * amplitude envelopes, a chirp, and noise.  For each codec the program
 * prints the coded size, a CRC of the coded bytes and the signal-to-noise
 * ratio of the round trip.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_RATE 16000
#define SECONDS 30
#define NUM_FRAMES (SAMPLE_RATE * SECONDS)
#define CHANNELS 2
#define BLOCK_SAMPLES 505 /* samples per channel per block, as in WAV */
#define SINE_BITS 12
#define SINE_SIZE (1 << SINE_BITS)

typedef struct {
    int predictor; /* last decoded sample */
    int index;     /* index into the step table */
} adpcm_state;

typedef struct {
    uint32_t phase;
    uint32_t step;
    int amplitude;
    int envelope_period;
} tone;

static const int index_table[16] = {
    -1, -1, -1, -1, 2, 4, 6, 8,
    -1, -1, -1, -1, 2, 4, 6, 8,
};

static const int step_table[89] = {
    7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41,
    45, 50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130, 143, 157, 173, 190, 209,
    230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724, 796, 876,
    963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272, 2499, 2749,
    3024, 3327, 3660, 4026, 4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630,
    9493, 10442, 11487, 12635, 13899, 15289, 16818, 18500, 20350, 22385,
    24623, 27086, 29794, 32767
};

static int16_t sine_table[SINE_SIZE];

/* ------------------------------------------------------------------ */
/* helpers                                                            */
/* ------------------------------------------------------------------ */

static int clamp16(int v)
{
    if (v > 32767)
        return 32767;
    if (v < -32768)
        return -32768;
    return v;
}

static uint32_t crc_table[256];

static void crc_init(void)
{
    uint32_t i, k;
    for (i = 0; i < 256; i++) {
        uint32_t c = i;
        for (k = 0; k < 8; k++)
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
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

static uint32_t noise_state = 0x1234567u;

static int noise(int amplitude)
{
    noise_state = noise_state * 1664525u + 1013904223u;
    return (int)((noise_state >> 16) % (uint32_t)(2 * amplitude + 1)) - amplitude;
}

/* ------------------------------------------------------------------ */
/* signal generation                                                  */
/* ------------------------------------------------------------------ */

static void build_sine_table(void)
{
    int i;
    for (i = 0; i < SINE_SIZE; i++)
        sine_table[i] = (int16_t)lrint(32767.0 * sin(2.0 * 3.14159265358979323846 * i / SINE_SIZE));
}

static uint32_t freq_to_step(double hz)
{
    return (uint32_t)(hz / SAMPLE_RATE * 4294967296.0);
}

static int tone_sample(tone *t, int n)
{
    int env_pos = n % t->envelope_period;
    int env = env_pos < t->envelope_period / 2 ? env_pos : t->envelope_period - env_pos;
    int s = sine_table[t->phase >> (32 - SINE_BITS)];
    t->phase += t->step;
    /* envelope in 0..period/2 scaled to 0..amplitude */
    return (int)((int64_t)s * t->amplitude / 32768 * env / (t->envelope_period / 2));
}

static void generate_signal(int16_t *pcm, int frames)
{
    tone tones[4];
    uint32_t chirp_phase = 0;
    int n, c;
    tones[0] = (tone){0, freq_to_step(220.0), 9000, 7000};
    tones[1] = (tone){0, freq_to_step(554.37), 6000, 5300};
    tones[2] = (tone){0, freq_to_step(1318.5), 3000, 9100};
    tones[3] = (tone){0, freq_to_step(3520.0), 1500, 2900};
    for (n = 0; n < frames; n++) {
        int mix = 0;
        uint32_t chirp_step;
        for (c = 0; c < 4; c++)
            mix += tone_sample(&tones[c], n);
        /* chirp sweeping 100 Hz .. 6 kHz every two seconds */
        chirp_step = freq_to_step(100.0 + 5900.0 * (double)(n % (2 * SAMPLE_RATE)) /
                                              (2.0 * SAMPLE_RATE));
        chirp_phase += chirp_step;
        mix += sine_table[chirp_phase >> (32 - SINE_BITS)] / 6;
        /* short bursts of noise and a few clipped peaks */
        if ((n / 4000) % 5 == 3)
            mix += noise(4000);
        else
            mix += noise(60);
        pcm[CHANNELS * n] = (int16_t)clamp16(mix);
        pcm[CHANNELS * n + 1] = (int16_t)clamp16(mix / 2 + noise(300) +
                                                 sine_table[(n * 37) & (SINE_SIZE - 1)] / 8);
    }
}

/* ------------------------------------------------------------------ */
/* IMA ADPCM                                                          */
/* ------------------------------------------------------------------ */

static int adpcm_encode_sample(adpcm_state *st, int sample)
{
    int step = step_table[st->index];
    int diff = sample - st->predictor;
    int code = 0, vpdiff = step >> 3;
    if (diff < 0) {
        code = 8;
        diff = -diff;
    }
    if (diff >= step) {
        code |= 4;
        diff -= step;
        vpdiff += step;
    }
    step >>= 1;
    if (diff >= step) {
        code |= 2;
        diff -= step;
        vpdiff += step;
    }
    step >>= 1;
    if (diff >= step) {
        code |= 1;
        vpdiff += step;
    }
    if (code & 8)
        st->predictor -= vpdiff;
    else
        st->predictor += vpdiff;
    st->predictor = clamp16(st->predictor);
    st->index += index_table[code];
    if (st->index < 0)
        st->index = 0;
    if (st->index > 88)
        st->index = 88;
    return code;
}

static int adpcm_decode_sample(adpcm_state *st, int code)
{
    int step = step_table[st->index];
    int vpdiff = step >> 3;
    if (code & 4)
        vpdiff += step;
    if (code & 2)
        vpdiff += step >> 1;
    if (code & 1)
        vpdiff += step >> 2;
    if (code & 8)
        st->predictor -= vpdiff;
    else
        st->predictor += vpdiff;
    st->predictor = clamp16(st->predictor);
    st->index += index_table[code];
    if (st->index < 0)
        st->index = 0;
    if (st->index > 88)
        st->index = 88;
    return st->predictor;
}

static void put_le16(uint8_t *p, int v)
{
    uint16_t u = (uint16_t)v;
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
}

static int get_le16(const uint8_t *p)
{
    int u = p[0] | (p[1] << 8);
    return u >= 32768 ? u - 65536 : u;
}

/* one block: per channel a 4-byte header (sample, index, 0), then 4-byte
 * groups of 8 nibbles per channel, interleaved channel by channel */
static size_t block_bytes(void)
{
    return (size_t)CHANNELS * (4 + (BLOCK_SAMPLES - 1) / 2);
}

static size_t adpcm_encode(const int16_t *pcm, int frames, uint8_t *out)
{
    adpcm_state st[CHANNELS];
    size_t pos = 0;
    int start, c;
    for (c = 0; c < CHANNELS; c++) {
        st[c].predictor = 0;
        st[c].index = 0;
    }
    for (start = 0; start + BLOCK_SAMPLES <= frames; start += BLOCK_SAMPLES) {
        int i;
        for (c = 0; c < CHANNELS; c++) {
            st[c].predictor = pcm[CHANNELS * start + c];
            put_le16(out + pos, st[c].predictor);
            out[pos + 2] = (uint8_t)st[c].index;
            out[pos + 3] = 0;
            pos += 4;
        }
        for (i = 1; i < BLOCK_SAMPLES; i += 8) {
            for (c = 0; c < CHANNELS; c++) {
                int k;
                for (k = 0; k < 8; k += 2) {
                    int lo = adpcm_encode_sample(&st[c], pcm[CHANNELS * (start + i + k) + c]);
                    int hi = adpcm_encode_sample(&st[c], pcm[CHANNELS * (start + i + k + 1) + c]);
                    out[pos++] = (uint8_t)(lo | (hi << 4));
                }
            }
        }
    }
    return pos;
}

static int adpcm_decode(const uint8_t *in, size_t len, int16_t *pcm)
{
    adpcm_state st[CHANNELS];
    size_t pos = 0;
    int frame = 0, c;
    while (pos + block_bytes() <= len) {
        int i;
        for (c = 0; c < CHANNELS; c++) {
            st[c].predictor = get_le16(in + pos);
            st[c].index = in[pos + 2];
            if (st[c].index > 88 || in[pos + 3] != 0)
                return -1;
            pcm[CHANNELS * frame + c] = (int16_t)st[c].predictor;
            pos += 4;
        }
        for (i = 1; i < BLOCK_SAMPLES; i += 8) {
            for (c = 0; c < CHANNELS; c++) {
                int k;
                for (k = 0; k < 8; k += 2) {
                    uint8_t b = in[pos++];
                    pcm[CHANNELS * (frame + i + k) + c] =
                        (int16_t)adpcm_decode_sample(&st[c], b & 15);
                    pcm[CHANNELS * (frame + i + k + 1) + c] =
                        (int16_t)adpcm_decode_sample(&st[c], b >> 4);
                }
            }
        }
        frame += BLOCK_SAMPLES;
    }
    return frame;
}

/* ------------------------------------------------------------------ */
/* G.711                                                              */
/* ------------------------------------------------------------------ */

#define ULAW_BIAS 0x84
#define ULAW_CLIP 32635

static uint8_t ulaw_encode(int sample)
{
    int sign = 0, exponent, mantissa, mask;
    if (sample < 0) {
        sample = -sample;
        sign = 0x80;
    }
    if (sample > ULAW_CLIP)
        sample = ULAW_CLIP;
    sample += ULAW_BIAS;
    exponent = 7;
    for (mask = 0x4000; (sample & mask) == 0 && exponent > 0; mask >>= 1)
        exponent--;
    mantissa = (sample >> (exponent + 3)) & 0x0f;
    return (uint8_t)~(sign | (exponent << 4) | mantissa);
}

static int ulaw_decode(uint8_t code)
{
    int c = (uint8_t)~code;
    int exponent = (c >> 4) & 7, mantissa = c & 15;
    int magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    return (c & 0x80) ? -magnitude : magnitude;
}

static uint8_t alaw_encode(int sample)
{
    int sign = 0x80, exponent, mantissa, magnitude;
    if (sample < 0) {
        sign = 0;
        magnitude = -sample - 1;
    } else {
        magnitude = sample;
    }
    if (magnitude > 32767)
        magnitude = 32767;
    if (magnitude >= 256) {
        exponent = 1;
        while (exponent < 7 && magnitude >= (256 << exponent))
            exponent++;
        mantissa = (magnitude >> (exponent + 3)) & 15;
    } else {
        exponent = 0;
        mantissa = magnitude >> 4;
    }
    return (uint8_t)((sign | (exponent << 4) | mantissa) ^ 0x55);
}

static int alaw_decode(uint8_t code)
{
    int c = code ^ 0x55;
    int exponent = (c >> 4) & 7, mantissa = c & 15, magnitude;
    if (exponent == 0)
        magnitude = (mantissa << 4) + 8;
    else
        magnitude = ((mantissa << 4) + 0x108) << (exponent - 1);
    return (c & 0x80) ? magnitude : -magnitude;
}

/* ------------------------------------------------------------------ */
/* pre-emphasis                                                       */
/* ------------------------------------------------------------------ */

#define EMPH_Q 15
#define EMPH_COEF 29491 /* 0.9 in Q15 */

static void pre_emphasis(const int16_t *in, int16_t *out, int n, int stride)
{
    int prev = 0, i;
    for (i = 0; i < n; i++) {
        int x = in[i * stride];
        out[i * stride] = (int16_t)clamp16(x - (int)(((int64_t)EMPH_COEF * prev) >> EMPH_Q) / 2);
        prev = x;
    }
}

static void de_emphasis(const int16_t *in, int16_t *out, int n, int stride)
{
    int prev = 0, i;
    for (i = 0; i < n; i++) {
        int y = in[i * stride] + (int)(((int64_t)EMPH_COEF * prev) >> EMPH_Q) / 2;
        out[i * stride] = (int16_t)clamp16(y);
        prev = y;
    }
}

/* ------------------------------------------------------------------ */

static void report(const char *name, const int16_t *ref, const int16_t *got, int samples,
                   size_t coded, uint32_t crc)
{
    int64_t signal = 0, error = 0;
    int i, worst = 0;
    double snr;
    for (i = 0; i < samples; i++) {
        int d = ref[i] - got[i];
        signal += (int64_t)ref[i] * ref[i];
        error += (int64_t)d * d;
        if (d < 0)
            d = -d;
        if (d > worst)
            worst = d;
    }
    snr = error > 0 ? 10.0 * log10((double)signal / (double)error) : 999.0;
    printf("%-10s coded %8lu bytes crc %08x snr %7.3f dB max error %5d\n", name,
           (unsigned long)coded, (unsigned)crc, snr, worst);
}

int main(void)
{
    int samples = NUM_FRAMES * CHANNELS;
    int16_t *pcm = malloc((size_t)samples * sizeof(int16_t));
    int16_t *dec = malloc((size_t)samples * sizeof(int16_t));
    int16_t *emph = malloc((size_t)samples * sizeof(int16_t));
    uint8_t *coded = malloc((size_t)samples + 4096);
    int frames, i, c, pass;
    size_t len;

    if (!pcm || !dec || !emph || !coded)
        return 1;
    crc_init();
    build_sine_table();
    generate_signal(pcm, NUM_FRAMES);
    printf("input crc %08x\n", (unsigned)crc32((const uint8_t *)pcm, (size_t)samples * 2));

    for (pass = 0; pass < 2; pass++) {
        len = adpcm_encode(pcm, NUM_FRAMES, coded);
        frames = adpcm_decode(coded, len, dec);
        if (frames < 0) {
            printf("adpcm decode failed\n");
            return 1;
        }
        if (pass == 1)
            report("ima-adpcm", pcm, dec, frames * CHANNELS, len, crc32(coded, len));
    }

    for (i = 0; i < samples; i++)
        coded[i] = ulaw_encode(pcm[i]);
    for (i = 0; i < samples; i++)
        dec[i] = (int16_t)ulaw_decode(coded[i]);
    report("mu-law", pcm, dec, samples, (size_t)samples, crc32(coded, (size_t)samples));

    for (i = 0; i < samples; i++)
        coded[i] = alaw_encode(pcm[i]);
    for (i = 0; i < samples; i++)
        dec[i] = (int16_t)alaw_decode(coded[i]);
    report("a-law", pcm, dec, samples, (size_t)samples, crc32(coded, (size_t)samples));

    /* pre-emphasis, ADPCM, de-emphasis */
    for (c = 0; c < CHANNELS; c++)
        pre_emphasis(pcm + c, emph + c, NUM_FRAMES, CHANNELS);
    len = adpcm_encode(emph, NUM_FRAMES, coded);
    frames = adpcm_decode(coded, len, dec);
    for (c = 0; c < CHANNELS; c++)
        de_emphasis(dec + c, emph + c, frames, CHANNELS);
    report("emph-adpcm", pcm, emph, frames * CHANNELS, len, crc32(coded, len));

    free(pcm);
    free(dec);
    free(emph);
    free(coded);
    return 0;
}
