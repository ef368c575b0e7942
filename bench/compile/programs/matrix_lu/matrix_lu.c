/*
 * matrix_lu: dense linear algebra kernels in double precision.
 *
 *   - LU decomposition with partial pivoting (Doolittle, row-major, in place)
 *   - forward/back substitution, several right-hand sides
 *   - iterative refinement of the solution
 *   - determinant (as log|det| and sign) and inverse via LU
 *   - Cholesky factorisation of a generated symmetric positive definite matrix
 *   - a blocked matrix multiply used for residual checks (A * inv(A) - I)
 *
 * Norms and residuals are printed with a fixed number of digits.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 400
#define NRHS 4
#define BLOCK 32

typedef struct {
    int rows;
    int cols;
    double *a; /* row-major */
} matrix;

typedef struct {
    matrix lu;
    int *perm;
    int sign;
    int singular;
} lu_factor;

/* ------------------------------------------------------------------ */

static uint32_t seed = 20240601u;

static double rnd(void)
{
    seed = seed * 1664525u + 1013904223u;
    return (double)(seed >> 8) / 16777216.0 - 0.5;
}

static matrix mat_new(int rows, int cols)
{
    matrix m;
    m.rows = rows;
    m.cols = cols;
    m.a = calloc((size_t)rows * (size_t)cols, sizeof(double));
    if (!m.a) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return m;
}

static void mat_free(matrix *m)
{
    free(m->a);
    m->a = NULL;
}

#define AT(m, i, j) ((m).a[(size_t)(i) * (size_t)(m).cols + (size_t)(j)])

static matrix mat_copy(matrix src)
{
    matrix m = mat_new(src.rows, src.cols);
    memcpy(m.a, src.a, (size_t)src.rows * (size_t)src.cols * sizeof(double));
    return m;
}

static void mat_random(matrix m, double diag_boost)
{
    int i, j;
    for (i = 0; i < m.rows; i++)
        for (j = 0; j < m.cols; j++)
            AT(m, i, j) = rnd() + (i == j ? diag_boost : 0.0);
}

/* C = A * B, blocked over i, k, j */
static void mat_mul(matrix a, matrix b, matrix c)
{
    int ii, kk, jj, i, k, j;
    memset(c.a, 0, (size_t)c.rows * (size_t)c.cols * sizeof(double));
    for (ii = 0; ii < a.rows; ii += BLOCK)
        for (kk = 0; kk < a.cols; kk += BLOCK)
            for (jj = 0; jj < b.cols; jj += BLOCK) {
                int imax = ii + BLOCK < a.rows ? ii + BLOCK : a.rows;
                int kmax = kk + BLOCK < a.cols ? kk + BLOCK : a.cols;
                int jmax = jj + BLOCK < b.cols ? jj + BLOCK : b.cols;
                for (i = ii; i < imax; i++)
                    for (k = kk; k < kmax; k++) {
                        double aik = AT(a, i, k);
                        for (j = jj; j < jmax; j++)
                            AT(c, i, j) += aik * AT(b, k, j);
                    }
            }
}

static void mat_vec(matrix a, const double *x, double *y)
{
    int i, j;
    for (i = 0; i < a.rows; i++) {
        double s = 0.0;
        for (j = 0; j < a.cols; j++)
            s += AT(a, i, j) * x[j];
        y[i] = s;
    }
}

static double norm_inf(const double *v, int n)
{
    double m = 0.0;
    int i;
    for (i = 0; i < n; i++)
        if (fabs(v[i]) > m)
            m = fabs(v[i]);
    return m;
}

static double mat_norm1(matrix a)
{
    double best = 0.0;
    int i, j;
    for (j = 0; j < a.cols; j++) {
        double s = 0.0;
        for (i = 0; i < a.rows; i++)
            s += fabs(AT(a, i, j));
        if (s > best)
            best = s;
    }
    return best;
}

/* ------------------------------------------------------------------ */
/* LU                                                                  */
/* ------------------------------------------------------------------ */

static lu_factor lu_decompose(matrix a)
{
    lu_factor f;
    int n = a.rows, i, j, k;
    f.lu = mat_copy(a);
    f.perm = malloc((size_t)n * sizeof(int));
    f.sign = 1;
    f.singular = 0;
    if (!f.perm)
        exit(1);
    for (i = 0; i < n; i++)
        f.perm[i] = i;
    for (k = 0; k < n; k++) {
        int p = k;
        double maxv = fabs(AT(f.lu, k, k));
        for (i = k + 1; i < n; i++) {
            double v = fabs(AT(f.lu, i, k));
            if (v > maxv) {
                maxv = v;
                p = i;
            }
        }
        if (maxv == 0.0) {
            f.singular = 1;
            continue;
        }
        if (p != k) {
            int t = f.perm[k];
            f.perm[k] = f.perm[p];
            f.perm[p] = t;
            for (j = 0; j < n; j++) {
                double tmp = AT(f.lu, k, j);
                AT(f.lu, k, j) = AT(f.lu, p, j);
                AT(f.lu, p, j) = tmp;
            }
            f.sign = -f.sign;
        }
        for (i = k + 1; i < n; i++) {
            double l = AT(f.lu, i, k) / AT(f.lu, k, k);
            AT(f.lu, i, k) = l;
            if (l == 0.0)
                continue;
            for (j = k + 1; j < n; j++)
                AT(f.lu, i, j) -= l * AT(f.lu, k, j);
        }
    }
    return f;
}

static void lu_solve(const lu_factor *f, const double *b, double *x)
{
    int n = f->lu.rows, i, j;
    for (i = 0; i < n; i++) {
        double s = b[f->perm[i]];
        for (j = 0; j < i; j++)
            s -= AT(f->lu, i, j) * x[j];
        x[i] = s;
    }
    for (i = n - 1; i >= 0; i--) {
        double s = x[i];
        for (j = i + 1; j < n; j++)
            s -= AT(f->lu, i, j) * x[j];
        x[i] = s / AT(f->lu, i, i);
    }
}

static double lu_log_det(const lu_factor *f, int *sign)
{
    double s = 0.0;
    int i, sg = f->sign;
    for (i = 0; i < f->lu.rows; i++) {
        double d = AT(f->lu, i, i);
        if (d < 0.0)
            sg = -sg;
        s += log(fabs(d));
    }
    *sign = sg;
    return s;
}

static matrix lu_inverse(const lu_factor *f)
{
    int n = f->lu.rows, i, j;
    matrix inv = mat_new(n, n);
    double *e = calloc((size_t)n, sizeof(double));
    double *x = calloc((size_t)n, sizeof(double));
    if (!e || !x)
        exit(1);
    for (j = 0; j < n; j++) {
        e[j] = 1.0;
        lu_solve(f, e, x);
        for (i = 0; i < n; i++)
            AT(inv, i, j) = x[i];
        e[j] = 0.0;
    }
    free(e);
    free(x);
    return inv;
}

static void lu_free(lu_factor *f)
{
    mat_free(&f->lu);
    free(f->perm);
}

/* ------------------------------------------------------------------ */
/* Cholesky                                                           */
/* ------------------------------------------------------------------ */

static int cholesky(matrix a, matrix l)
{
    int n = a.rows, i, j, k;
    memset(l.a, 0, (size_t)n * (size_t)n * sizeof(double));
    for (j = 0; j < n; j++) {
        double d = AT(a, j, j);
        for (k = 0; k < j; k++)
            d -= AT(l, j, k) * AT(l, j, k);
        if (d <= 0.0)
            return -1;
        d = sqrt(d);
        AT(l, j, j) = d;
        for (i = j + 1; i < n; i++) {
            double s = AT(a, i, j);
            for (k = 0; k < j; k++)
                s -= AT(l, i, k) * AT(l, j, k);
            AT(l, i, j) = s / d;
        }
    }
    return 0;
}

static void cholesky_solve(matrix l, const double *b, double *x)
{
    int n = l.rows, i, k;
    for (i = 0; i < n; i++) {
        double s = b[i];
        for (k = 0; k < i; k++)
            s -= AT(l, i, k) * x[k];
        x[i] = s / AT(l, i, i);
    }
    for (i = n - 1; i >= 0; i--) {
        double s = x[i];
        for (k = i + 1; k < n; k++)
            s -= AT(l, k, i) * x[k];
        x[i] = s / AT(l, i, i);
    }
}

/* ------------------------------------------------------------------ */

int main(void)
{
    matrix a = mat_new(N, N), inv, prod, spd, l, at;
    lu_factor f;
    double *b = malloc(N * sizeof(double)), *x = malloc(N * sizeof(double));
    double *r = malloc(N * sizeof(double)), *dx = malloc(N * sizeof(double));
    double *xtrue = malloc(N * sizeof(double));
    double logdet, err;
    int sign, rhs, i, j, iter;

    if (!b || !x || !r || !dx || !xtrue)
        return 1;
    mat_random(a, 2.0);
    f = lu_decompose(a);
    logdet = lu_log_det(&f, &sign);
    printf("lu singular %d sign %d log|det| %.9f norm1 %.6f\n", f.singular, sign, logdet,
           mat_norm1(a));

    for (rhs = 0; rhs < NRHS; rhs++) {
        for (i = 0; i < N; i++)
            xtrue[i] = (double)((i * (rhs + 3)) % 17) - 8.0;
        mat_vec(a, xtrue, b);
        lu_solve(&f, b, x);
        for (iter = 0; iter < 2; iter++) {
            mat_vec(a, x, r);
            for (i = 0; i < N; i++)
                r[i] = b[i] - r[i];
            lu_solve(&f, r, dx);
            for (i = 0; i < N; i++)
                x[i] += dx[i];
        }
        for (i = 0; i < N; i++)
            dx[i] = x[i] - xtrue[i];
        err = norm_inf(dx, N);
        printf("rhs %d |x| %.6f error %s x[0] %.9f x[n-1] %.9f\n", rhs, norm_inf(x, N),
               err < 1e-9 ? "small" : "LARGE", x[0], x[N - 1]);
    }

    inv = lu_inverse(&f);
    prod = mat_new(N, N);
    mat_mul(a, inv, prod);
    for (i = 0; i < N; i++)
        AT(prod, i, i) -= 1.0;
    err = mat_norm1(prod);
    printf("inverse norm1 %.6f residual %s cond1 %.4f\n", mat_norm1(inv),
           err < 1e-9 ? "small" : "LARGE", mat_norm1(a) * mat_norm1(inv));

    /* SPD matrix: A^T A + n I */
    at = mat_new(N, N);
    for (i = 0; i < N; i++)
        for (j = 0; j < N; j++)
            AT(at, i, j) = AT(a, j, i);
    spd = mat_new(N, N);
    mat_mul(at, a, spd);
    for (i = 0; i < N; i++)
        AT(spd, i, i) += (double)N;
    l = mat_new(N, N);
    if (cholesky(spd, l) != 0) {
        printf("cholesky failed\n");
    } else {
        double ld = 0.0, trace = 0.0;
        for (i = 0; i < N; i++) {
            xtrue[i] = 1.0 / (double)(i + 1);
            ld += 2.0 * log(AT(l, i, i));
        }
        mat_vec(spd, xtrue, b);
        cholesky_solve(l, b, x);
        for (i = 0; i < N; i++)
            dx[i] = x[i] - xtrue[i];
        for (j = 0; j < N; j++)
            trace += AT(l, j, j);
        printf("cholesky log|det| %.9f error %s trace(L) %.6f\n", ld,
               norm_inf(dx, N) < 1e-10 ? "small" : "LARGE", trace);
    }

    lu_free(&f);
    mat_free(&a);
    mat_free(&inv);
    mat_free(&prod);
    mat_free(&at);
    mat_free(&spd);
    mat_free(&l);
    free(b);
    free(x);
    free(r);
    free(dx);
    free(xtrue);
    return 0;
}
