/*
 * nbody: floating-point gravitational n-body simulation.
 *
 * Part 1 is the classic Jovian planets problem (Sun, Jupiter, Saturn,
 * Uranus, Neptune) integrated with symplectic Euler, reporting the energy
 * before and after.  Part 2 is a softened Plummer-like cluster of generated
 * bodies integrated with velocity Verlet (leapfrog kick-drift-kick), with
 * energy, momentum, centre of mass and a virial ratio reported at intervals.
 *
 * Results are printed with a fixed number of digits.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.141592653589793
#define SOLAR_MASS (4.0 * PI * PI)
#define DAYS_PER_YEAR 365.24

#define CLUSTER_N 256
#define CLUSTER_STEPS 600
#define PLANET_STEPS 200000

typedef struct {
    double x, y, z;
} vec3;

typedef struct {
    vec3 pos;
    vec3 vel;
    double mass;
} body;

typedef struct {
    body *bodies;
    vec3 *acc;
    int n;
    double softening2;
    double g;
} system_state;

typedef struct {
    double kinetic;
    double potential;
    vec3 momentum;
    vec3 centre;
} diagnostics;

/* ------------------------------------------------------------------ */
/* small vector helpers                                               */
/* ------------------------------------------------------------------ */

static vec3 v_add(vec3 a, vec3 b) { vec3 r = {a.x + b.x, a.y + b.y, a.z + b.z}; return r; }
static vec3 v_sub(vec3 a, vec3 b) { vec3 r = {a.x - b.x, a.y - b.y, a.z - b.z}; return r; }
static vec3 v_scale(vec3 a, double s) { vec3 r = {a.x * s, a.y * s, a.z * s}; return r; }
static double v_dot(vec3 a, vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static double v_norm(vec3 a) { return sqrt(v_dot(a, a)); }

/* ------------------------------------------------------------------ */
/* planets                                                            */
/* ------------------------------------------------------------------ */

static body planets[5] = {
    {{0, 0, 0}, {0, 0, 0}, SOLAR_MASS},
    {{4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01},
     {1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
      -6.90460016972063023e-05 * DAYS_PER_YEAR},
     9.54791938424326609e-04 * SOLAR_MASS},
    {{8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01},
     {-2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
      2.30417297573763929e-05 * DAYS_PER_YEAR},
     2.85885980666130812e-04 * SOLAR_MASS},
    {{1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01},
     {2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
      -2.96589568540237556e-05 * DAYS_PER_YEAR},
     4.36624404335156298e-05 * SOLAR_MASS},
    {{1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01},
     {2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
      -9.51592254519715870e-05 * DAYS_PER_YEAR},
     5.15138902046611451e-05 * SOLAR_MASS},
};

static void offset_momentum(body *b, int n)
{
    vec3 p = {0, 0, 0};
    int i;
    for (i = 0; i < n; i++)
        p = v_add(p, v_scale(b[i].vel, b[i].mass));
    b[0].vel = v_scale(p, -1.0 / SOLAR_MASS);
}

static double planet_energy(const body *b, int n)
{
    double e = 0.0;
    int i, j;
    for (i = 0; i < n; i++) {
        e += 0.5 * b[i].mass * v_dot(b[i].vel, b[i].vel);
        for (j = i + 1; j < n; j++)
            e -= b[i].mass * b[j].mass / v_norm(v_sub(b[i].pos, b[j].pos));
    }
    return e;
}

static void planet_advance(body *b, int n, double dt)
{
    int i, j;
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            double dx = b[i].pos.x - b[j].pos.x;
            double dy = b[i].pos.y - b[j].pos.y;
            double dz = b[i].pos.z - b[j].pos.z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            b[i].vel.x -= dx * b[j].mass * mag;
            b[i].vel.y -= dy * b[j].mass * mag;
            b[i].vel.z -= dz * b[j].mass * mag;
            b[j].vel.x += dx * b[i].mass * mag;
            b[j].vel.y += dy * b[i].mass * mag;
            b[j].vel.z += dz * b[i].mass * mag;
        }
    }
    for (i = 0; i < n; i++)
        b[i].pos = v_add(b[i].pos, v_scale(b[i].vel, dt));
}

/* ------------------------------------------------------------------ */
/* cluster                                                            */
/* ------------------------------------------------------------------ */

static uint64_t rng_state = 88172645463325252ull;

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static vec3 random_direction(void)
{
    double z = 2.0 * uniform() - 1.0;
    double t = 2.0 * PI * uniform();
    double r = sqrt(1.0 - z * z);
    vec3 v = {r * cos(t), r * sin(t), z};
    return v;
}

static void cluster_init(system_state *s, int n)
{
    int i;
    vec3 p = {0, 0, 0}, c = {0, 0, 0};
    double total = 0.0;
    s->n = n;
    s->g = 1.0;
    s->softening2 = 0.01 * 0.01;
    s->bodies = malloc((size_t)n * sizeof(body));
    s->acc = malloc((size_t)n * sizeof(vec3));
    if (!s->bodies || !s->acc) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (i = 0; i < n; i++) {
        body *b = &s->bodies[i];
        /* Plummer radius distribution, truncated */
        double m = 0.05 + 0.9 * uniform();
        double r = 1.0 / sqrt(pow(m, -2.0 / 3.0) - 1.0);
        double speed = 0.5 * sqrt(2.0) * pow(1.0 + r * r, -0.25) * uniform();
        if (r > 8.0)
            r = 8.0;
        b->pos = v_scale(random_direction(), r);
        b->vel = v_scale(random_direction(), speed);
        b->mass = (1.0 + 0.5 * uniform()) / n;
        total += b->mass;
        p = v_add(p, v_scale(b->vel, b->mass));
        c = v_add(c, v_scale(b->pos, b->mass));
    }
    /* move to the centre-of-mass frame */
    p = v_scale(p, 1.0 / total);
    c = v_scale(c, 1.0 / total);
    for (i = 0; i < n; i++) {
        s->bodies[i].vel = v_sub(s->bodies[i].vel, p);
        s->bodies[i].pos = v_sub(s->bodies[i].pos, c);
    }
}

static void compute_accelerations(system_state *s)
{
    int i, j;
    for (i = 0; i < s->n; i++)
        s->acc[i].x = s->acc[i].y = s->acc[i].z = 0.0;
    for (i = 0; i < s->n; i++) {
        const body *bi = &s->bodies[i];
        vec3 ai = s->acc[i];
        for (j = i + 1; j < s->n; j++) {
            const body *bj = &s->bodies[j];
            vec3 d = v_sub(bj->pos, bi->pos);
            double r2 = v_dot(d, d) + s->softening2;
            double inv = 1.0 / sqrt(r2);
            double inv3 = s->g * inv * inv * inv;
            ai = v_add(ai, v_scale(d, bj->mass * inv3));
            s->acc[j] = v_sub(s->acc[j], v_scale(d, bi->mass * inv3));
        }
        s->acc[i] = ai;
    }
}

static void leapfrog_step(system_state *s, double dt)
{
    int i;
    for (i = 0; i < s->n; i++)
        s->bodies[i].vel = v_add(s->bodies[i].vel, v_scale(s->acc[i], 0.5 * dt));
    for (i = 0; i < s->n; i++)
        s->bodies[i].pos = v_add(s->bodies[i].pos, v_scale(s->bodies[i].vel, dt));
    compute_accelerations(s);
    for (i = 0; i < s->n; i++)
        s->bodies[i].vel = v_add(s->bodies[i].vel, v_scale(s->acc[i], 0.5 * dt));
}

static diagnostics measure(const system_state *s)
{
    diagnostics d;
    double mass = 0.0;
    int i, j;
    memset(&d, 0, sizeof(d));
    for (i = 0; i < s->n; i++) {
        const body *b = &s->bodies[i];
        d.kinetic += 0.5 * b->mass * v_dot(b->vel, b->vel);
        d.momentum = v_add(d.momentum, v_scale(b->vel, b->mass));
        d.centre = v_add(d.centre, v_scale(b->pos, b->mass));
        mass += b->mass;
        for (j = i + 1; j < s->n; j++) {
            vec3 r = v_sub(b->pos, s->bodies[j].pos);
            d.potential -= s->g * b->mass * s->bodies[j].mass /
                           sqrt(v_dot(r, r) + s->softening2);
        }
    }
    d.centre = v_scale(d.centre, 1.0 / mass);
    return d;
}

static double half_mass_radius(const system_state *s)
{
    /* sort radii with a simple shell sort, take the median by mass */
    double *r = malloc((size_t)s->n * sizeof(double));
    double *m = malloc((size_t)s->n * sizeof(double));
    double total = 0.0, acc = 0.0, result = 0.0;
    int gap, i, j;
    if (!r || !m)
        exit(1);
    for (i = 0; i < s->n; i++) {
        r[i] = v_norm(s->bodies[i].pos);
        m[i] = s->bodies[i].mass;
        total += m[i];
    }
    for (gap = s->n / 2; gap > 0; gap /= 2) {
        for (i = gap; i < s->n; i++) {
            double tr = r[i], tm = m[i];
            for (j = i; j >= gap && r[j - gap] > tr; j -= gap) {
                r[j] = r[j - gap];
                m[j] = m[j - gap];
            }
            r[j] = tr;
            m[j] = tm;
        }
    }
    for (i = 0; i < s->n; i++) {
        acc += m[i];
        if (acc >= 0.5 * total) {
            result = r[i];
            break;
        }
    }
    free(r);
    free(m);
    return result;
}

int main(void)
{
    system_state s;
    diagnostics d0, d;
    int step;

    offset_momentum(planets, 5);
    printf("planets energy %.9f\n", planet_energy(planets, 5));
    for (step = 0; step < PLANET_STEPS; step++)
        planet_advance(planets, 5, 0.01);
    printf("planets energy %.9f\n", planet_energy(planets, 5));
    printf("jupiter at %.6f %.6f %.6f\n", planets[1].pos.x, planets[1].pos.y, planets[1].pos.z);

    cluster_init(&s, CLUSTER_N);
    compute_accelerations(&s);
    d0 = measure(&s);
    printf("cluster n=%d E=%.8f K=%.8f W=%.8f rh=%.6f\n", s.n, d0.kinetic + d0.potential,
           d0.kinetic, d0.potential, half_mass_radius(&s));
    for (step = 1; step <= CLUSTER_STEPS; step++) {
        leapfrog_step(&s, 0.002);
        if (step % 100 == 0) {
            d = measure(&s);
            printf("step %4d E=%.8f dE/E=%.3e virial=%.6f |p|=%.3e com=%.3e rh=%.6f\n", step,
                   d.kinetic + d.potential,
                   (d.kinetic + d.potential - d0.kinetic - d0.potential) /
                       fabs(d0.kinetic + d0.potential),
                   -2.0 * d.kinetic / d.potential, v_norm(d.momentum), v_norm(d.centre),
                   half_mass_radius(&s));
        }
    }
    free(s.bodies);
    free(s.acc);
    return 0;
}
