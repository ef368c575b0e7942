/*
 * susan: SUSAN-style low-level image processing on a generated greyscale
 * image (after Smith and Brady's "Smallest Univalue Segment Assimilating
 * Nucleus" principle).
 *
 *   - brightness similarity look-up table c(d) = 100 exp(-(d/t)^6)
 *   - SUSAN edge response over the 37-pixel circular mask, with edge
 *     direction from the USAN centroid and non-maximum suppression
 *   - SUSAN corner response with the centroid-distance test
 *   - SUSAN structure-preserving smoothing with a Gaussian-weighted mask
 *   - a Sobel gradient and a 3x3 median filter for comparison
 *
 * Results are printed as feature counts and image checksums.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 640
#define HEIGHT 480
#define BT 20          /* brightness threshold */
#define MAX_USAN 3700  /* 37 pixels * 100 */
#define SMOOTH_RADIUS 2

typedef struct {
    int w, h;
    uint8_t *px;
} image;

typedef struct {
    int w, h;
    int *v;
} response;

typedef struct {
    int dx, dy;
} offset;

static offset mask37[37];
static int mask_count;
static uint8_t similarity[511]; /* indexed by d + 255 */

/* ------------------------------------------------------------------ */

static image image_new(int w, int h)
{
    image im;
    im.w = w;
    im.h = h;
    im.px = calloc((size_t)w * (size_t)h, 1);
    if (!im.px) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return im;
}

static response response_new(int w, int h)
{
    response r;
    r.w = w;
    r.h = h;
    r.v = calloc((size_t)w * (size_t)h, sizeof(int));
    if (!r.v) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return r;
}

static uint8_t pixel(const image *im, int x, int y)
{
    return im->px[y * im->w + x];
}

static uint32_t image_hash(const image *im)
{
    uint32_t h = 2166136261u;
    int i;
    for (i = 0; i < im->w * im->h; i++) {
        h ^= im->px[i];
        h *= 16777619u;
    }
    return h;
}

/* ------------------------------------------------------------------ */
/* test image                                                         */
/* ------------------------------------------------------------------ */

static uint32_t rng = 424242u;

static uint32_t rnd(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

static void draw_scene(image *im)
{
    int x, y, k;
    /* horizontal gradient background */
    for (y = 0; y < im->h; y++)
        for (x = 0; x < im->w; x++)
            im->px[y * im->w + x] = (uint8_t)(40 + (x * 60) / im->w + (y * 20) / im->h);
    /* rectangles */
    for (k = 0; k < 30; k++) {
        int x0 = (int)(rnd() % (uint32_t)(im->w - 40)), y0 = (int)(rnd() % (uint32_t)(im->h - 40));
        int w = 10 + (int)(rnd() % 60u), h = 10 + (int)(rnd() % 60u);
        uint8_t shade = (uint8_t)(rnd() % 256u);
        for (y = y0; y < y0 + h && y < im->h; y++)
            for (x = x0; x < x0 + w && x < im->w; x++)
                im->px[y * im->w + x] = shade;
    }
    /* discs */
    for (k = 0; k < 20; k++) {
        int cx = (int)(rnd() % (uint32_t)im->w), cy = (int)(rnd() % (uint32_t)im->h);
        int r = 6 + (int)(rnd() % 30u);
        uint8_t shade = (uint8_t)(rnd() % 256u);
        for (y = cy - r; y <= cy + r; y++)
            for (x = cx - r; x <= cx + r; x++)
                if (x >= 0 && y >= 0 && x < im->w && y < im->h &&
                    (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
                    im->px[y * im->w + x] = shade;
    }
    /* mild noise */
    for (k = 0; k < im->w * im->h; k++) {
        int v = im->px[k] + (int)(rnd() % 9u) - 4;
        im->px[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

/* ------------------------------------------------------------------ */
/* SUSAN                                                              */
/* ------------------------------------------------------------------ */

static void setup_tables(void)
{
    int d, dx, dy;
    for (d = -255; d <= 255; d++) {
        double t = (double)d / BT;
        similarity[d + 255] = (uint8_t)(100.0 * exp(-(t * t * t * t * t * t)));
    }
    /* 37-pixel approximately circular mask of radius 3.4 */
    mask_count = 0;
    for (dy = -3; dy <= 3; dy++)
        for (dx = -3; dx <= 3; dx++)
            if (dx * dx + dy * dy <= 11)
                mask37[mask_count++] = (offset){dx, dy};
}

/* USAN area and first moments for the pixel at (x, y) */
static int usan(const image *im, int x, int y, int *mx, int *my)
{
    int n = 0, sx = 0, sy = 0, k;
    int c = pixel(im, x, y);
    for (k = 0; k < mask_count; k++) {
        int s = similarity[pixel(im, x + mask37[k].dx, y + mask37[k].dy) - c + 255];
        n += s;
        sx += s * mask37[k].dx;
        sy += s * mask37[k].dy;
    }
    *mx = sx;
    *my = sy;
    return n;
}

static int susan_edges(const image *im, response *r, image *edges)
{
    const int g = 3 * MAX_USAN / 4;
    int x, y, count = 0;
    memset(r->v, 0, (size_t)r->w * (size_t)r->h * sizeof(int));
    memset(edges->px, 0, (size_t)edges->w * (size_t)edges->h);
    for (y = 3; y < im->h - 3; y++)
        for (x = 3; x < im->w - 3; x++) {
            int mx, my, n = usan(im, x, y, &mx, &my);
            if (n < g)
                r->v[y * r->w + x] = g - n;
        }
    /* non-maximum suppression along the direction of the USAN centroid */
    for (y = 4; y < im->h - 4; y++)
        for (x = 4; x < im->w - 4; x++) {
            int v = r->v[y * r->w + x], mx, my, ax, ay, dx, dy;
            if (v <= 0)
                continue;
            usan(im, x, y, &mx, &my);
            ax = mx < 0 ? -mx : mx;
            ay = my < 0 ? -my : my;
            if (ax == 0 && ay == 0) {
                dx = 1;
                dy = 0;
            } else if (2 * ax < ay) {
                dx = 0;
                dy = 1;
            } else if (2 * ay < ax) {
                dx = 1;
                dy = 0;
            } else {
                dx = 1;
                dy = ((mx < 0) == (my < 0)) ? 1 : -1;
            }
            if (v > r->v[(y + dy) * r->w + x + dx] && v >= r->v[(y - dy) * r->w + x - dx]) {
                edges->px[y * edges->w + x] = 255;
                count++;
            }
        }
    return count;
}

static int susan_corners(const image *im, response *r, int *strongest)
{
    const int g = MAX_USAN / 2;
    int x, y, count = 0, best = 0;
    memset(r->v, 0, (size_t)r->w * (size_t)r->h * sizeof(int));
    for (y = 3; y < im->h - 3; y++)
        for (x = 3; x < im->w - 3; x++) {
            int mx, my, n = usan(im, x, y, &mx, &my);
            /* centroid must be far from the nucleus (squared, scaled) */
            if (n < g && n > 0 &&
                (int64_t)mx * mx + (int64_t)my * my > (int64_t)n * n / 4)
                r->v[y * r->w + x] = g - n;
        }
    for (y = 5; y < im->h - 5; y++)
        for (x = 5; x < im->w - 5; x++) {
            int v = r->v[y * r->w + x], dx, dy, is_max = v > 0;
            for (dy = -2; dy <= 2 && is_max; dy++)
                for (dx = -2; dx <= 2; dx++) {
                    int o = r->v[(y + dy) * r->w + x + dx];
                    if ((dx || dy) && (o > v || (o == v && (dy < 0 || (dy == 0 && dx < 0))))) {
                        is_max = 0;
                        break;
                    }
                }
            if (is_max) {
                count++;
                if (v > best)
                    best = v;
            }
        }
    *strongest = best;
    return count;
}

static void susan_smooth(const image *in, image *out)
{
    int weights[2 * SMOOTH_RADIUS + 1][2 * SMOOTH_RADIUS + 1];
    int x, y, dx, dy;
    for (dy = -SMOOTH_RADIUS; dy <= SMOOTH_RADIUS; dy++)
        for (dx = -SMOOTH_RADIUS; dx <= SMOOTH_RADIUS; dx++)
            weights[dy + SMOOTH_RADIUS][dx + SMOOTH_RADIUS] =
                (int)(100.0 * exp(-(double)(dx * dx + dy * dy) / 4.0));
    memcpy(out->px, in->px, (size_t)in->w * (size_t)in->h);
    for (y = SMOOTH_RADIUS; y < in->h - SMOOTH_RADIUS; y++)
        for (x = SMOOTH_RADIUS; x < in->w - SMOOTH_RADIUS; x++) {
            int c = pixel(in, x, y), total = 0, sum = 0;
            for (dy = -SMOOTH_RADIUS; dy <= SMOOTH_RADIUS; dy++)
                for (dx = -SMOOTH_RADIUS; dx <= SMOOTH_RADIUS; dx++) {
                    int p, w;
                    if (dx == 0 && dy == 0)
                        continue;
                    p = pixel(in, x + dx, y + dy);
                    w = weights[dy + SMOOTH_RADIUS][dx + SMOOTH_RADIUS] *
                        similarity[p - c + 255];
                    total += w;
                    sum += w * p;
                }
            out->px[y * out->w + x] = (uint8_t)(total > 0 ? (sum + total / 2) / total : c);
        }
}

/* ------------------------------------------------------------------ */
/* classic filters                                                    */
/* ------------------------------------------------------------------ */

static long sobel(const image *in, image *out)
{
    int x, y;
    long energy = 0;
    memset(out->px, 0, (size_t)out->w * (size_t)out->h);
    for (y = 1; y < in->h - 1; y++)
        for (x = 1; x < in->w - 1; x++) {
            int gx = -pixel(in, x - 1, y - 1) - 2 * pixel(in, x - 1, y) - pixel(in, x - 1, y + 1) +
                     pixel(in, x + 1, y - 1) + 2 * pixel(in, x + 1, y) + pixel(in, x + 1, y + 1);
            int gy = -pixel(in, x - 1, y - 1) - 2 * pixel(in, x, y - 1) - pixel(in, x + 1, y - 1) +
                     pixel(in, x - 1, y + 1) + 2 * pixel(in, x, y + 1) + pixel(in, x + 1, y + 1);
            int mag = (gx < 0 ? -gx : gx) + (gy < 0 ? -gy : gy);
            energy += mag;
            out->px[y * out->w + x] = (uint8_t)(mag > 255 ? 255 : mag);
        }
    return energy;
}

static void median3(const image *in, image *out)
{
    int x, y;
    memcpy(out->px, in->px, (size_t)in->w * (size_t)in->h);
    for (y = 1; y < in->h - 1; y++)
        for (x = 1; x < in->w - 1; x++) {
            uint8_t v[9];
            int i, j, k = 0;
            for (j = -1; j <= 1; j++)
                for (i = -1; i <= 1; i++)
                    v[k++] = pixel(in, x + i, y + j);
            /* partial selection sort up to the median */
            for (i = 0; i <= 4; i++) {
                int m = i;
                for (j = i + 1; j < 9; j++)
                    if (v[j] < v[m])
                        m = j;
                if (m != i) {
                    uint8_t t = v[i];
                    v[i] = v[m];
                    v[m] = t;
                }
            }
            out->px[y * out->w + x] = v[4];
        }
}

static int count_set(const image *im)
{
    int i, n = 0;
    for (i = 0; i < im->w * im->h; i++)
        n += im->px[i] != 0;
    return n;
}

int main(void)
{
    image src = image_new(WIDTH, HEIGHT), smooth = image_new(WIDTH, HEIGHT);
    image edges = image_new(WIDTH, HEIGHT), tmp = image_new(WIDTH, HEIGHT);
    response r = response_new(WIDTH, HEIGHT);
    int n_edges, n_corners, strongest, pass;
    long energy;

    setup_tables();
    draw_scene(&src);
    printf("image %dx%d hash %08x mask %d c(0)=%d c(20)=%d c(30)=%d\n", WIDTH, HEIGHT,
           (unsigned)image_hash(&src), mask_count, similarity[255], similarity[275],
           similarity[285]);

    for (pass = 0; pass < 2; pass++) {
        const image *in = pass == 0 ? &src : &smooth;
        if (pass == 1)
            susan_smooth(&src, &smooth);
        n_edges = susan_edges(in, &r, &edges);
        printf("%s: edges %d edge-hash %08x\n", pass ? "smoothed" : "original", n_edges,
               (unsigned)image_hash(&edges));
        n_corners = susan_corners(in, &r, &strongest);
        printf("%s: corners %d strongest %d\n", pass ? "smoothed" : "original", n_corners,
               strongest);
    }
    printf("smoothed hash %08x\n", (unsigned)image_hash(&smooth));

    energy = sobel(&src, &tmp);
    printf("sobel energy %ld hash %08x strong %d\n", energy, (unsigned)image_hash(&tmp),
           count_set(&tmp));
    median3(&src, &tmp);
    printf("median hash %08x\n", (unsigned)image_hash(&tmp));
    energy = sobel(&tmp, &edges);
    printf("median+sobel energy %ld\n", energy);

    free(src.px);
    free(smooth.px);
    free(edges.px);
    free(tmp.px);
    free(r.v);
    return 0;
}
