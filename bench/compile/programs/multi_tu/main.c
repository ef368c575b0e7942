/*
 * main.c: generates random expressions as text and checks that the tree
 * evaluator, the postfix machine, the constant-folded tree and a
 * print/re-parse round trip all give the same values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"

#define NUM_EXPRS 6000
#define NUM_ENVS 24
#define TEXT_CAP 65536

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
} text;

static uint32_t seed = 0x2545F491u;

static uint32_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return seed;
}

static void emit(text *t, const char *s)
{
    while (*s && t->len + 1 < t->cap)
        t->buf[t->len++] = *s++;
    t->buf[t->len] = '\0';
}

static const char *const binary_ops[] = {
    "+", "-", "*", "/", "%", "&", "|", "#", "<<", ">>",
    "<", "<=", ">", ">=", "==", "!=", "+", "-", "*", "+"
};

static void gen_expr(text *t, int depth)
{
    uint32_t r = rnd() % 100u;
    char tmp[32];
    if (depth <= 0 || r < 18) {
        if (rnd() & 1u) {
            tmp[0] = (char)('a' + rnd() % 8u);
            tmp[1] = '\0';
        } else if (rnd() % 4u == 0) {
            snprintf(tmp, sizeof(tmp), "0x%X", (unsigned)(rnd() & 0xffffu));
        } else {
            snprintf(tmp, sizeof(tmp), "%u", (unsigned)(rnd() % 1000u));
        }
        emit(t, tmp);
        return;
    }
    if (r < 60) {
        int paren = (rnd() & 3u) == 0;
        if (paren)
            emit(t, "(");
        gen_expr(t, depth - 1);
        emit(t, " ");
        emit(t, binary_ops[rnd() % (sizeof(binary_ops) / sizeof(binary_ops[0]))]);
        emit(t, " ");
        gen_expr(t, depth - 1);
        if (paren)
            emit(t, ")");
    } else if (r < 70) {
        static const char *const unary[] = {"-", "!", "~"};
        emit(t, unary[rnd() % 3u]);
        emit(t, "(");
        gen_expr(t, depth - 1);
        emit(t, ")");
    } else if (r < 76) {
        emit(t, "(");
        gen_expr(t, depth - 1);
        emit(t, ")^");
        snprintf(tmp, sizeof(tmp), "%u", (unsigned)(rnd() % 6u));
        emit(t, tmp);
    } else if (r < 86) {
        emit(t, "(");
        gen_expr(t, depth - 1);
        emit(t, " ? ");
        gen_expr(t, depth - 1);
        emit(t, " : ");
        gen_expr(t, depth - 1);
        emit(t, ")");
    } else {
        static const char *const funcs[] = {"min", "max", "abs", "gcd", "clamp"};
        static const int arity[] = {2, 2, 1, 2, 3};
        int f = (int)(rnd() % 5u), i;
        emit(t, funcs[f]);
        emit(t, "(");
        for (i = 0; i < arity[f]; i++) {
            if (i > 0)
                emit(t, ", ");
            gen_expr(t, depth - 1);
        }
        emit(t, ")");
    }
}

static value_t mix(value_t h, value_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h;
}

int main(void)
{
    static token_list tokens;
    static node_pool pool, pool2;
    static rpn_program prog, prog_folded;
    static char src[TEXT_CAP], printed[TEXT_CAP];
    value_t envs[NUM_ENVS][MAX_VARS];
    value_t checksum = 0;
    unsigned long total_nodes = 0, total_folded_nodes = 0, total_code = 0;
    int e, k, v, mismatches = 0, errors = 0, max_depth = 0;

    for (k = 0; k < NUM_ENVS; k++)
        for (v = 0; v < MAX_VARS; v++) {
            uint32_t r = rnd();
            /* small values, large values and negatives */
            switch (r & 3u) {
            case 0: envs[k][v] = r % 16u; break;
            case 1: envs[k][v] = (value_t)r << 20; break;
            case 2: envs[k][v] = 0u - (value_t)(r % 1000u); break;
            default: envs[k][v] = ((value_t)rnd() << 32) | r; break;
            }
        }

    for (e = 0; e < NUM_EXPRS; e++) {
        text t;
        const char *err = NULL;
        node *root, *root2, *folded;
        value_t results[NUM_ENVS];
        int depth;

        t.buf = src;
        t.cap = sizeof(src);
        t.len = 0;
        src[0] = '\0';
        gen_expr(&t, 3 + (int)(rnd() % 4u));

        pool.used = 0;
        if (lex(src, &tokens) != 0) {
            errors++;
            continue;
        }
        root = parse(&tokens, &pool, &err);
        if (!root) {
            printf("parse error in expression %d: %s\n", e, err ? err : "?");
            errors++;
            continue;
        }
        depth = tree_depth(root);
        if (depth > max_depth)
            max_depth = depth;
        total_nodes += (unsigned long)tree_size(root);
        if (compile_rpn(root, &prog) != 0) {
            errors++;
            continue;
        }
        total_code += (unsigned long)prog.count;

        /* print, re-lex and re-parse into a second pool */
        print_tree(root, printed, sizeof(printed));
        pool2.used = 0;
        if (lex(printed, &tokens) != 0 || !(root2 = parse(&tokens, &pool2, &err))) {
            printf("round trip failed for expression %d\n", e);
            errors++;
            continue;
        }

        for (k = 0; k < NUM_ENVS; k++) {
            value_t a = eval_tree(root, envs[k]);
            value_t b = run_rpn(&prog, envs[k]);
            value_t c = eval_tree(root2, envs[k]);
            results[k] = a;
            if (a != b || a != c)
                mismatches++;
            checksum = mix(checksum, a);
        }

        folded = fold_constants(root, &pool);
        total_folded_nodes += (unsigned long)tree_size(folded);
        if (compile_rpn(folded, &prog_folded) != 0) {
            errors++;
            continue;
        }
        for (k = 0; k < NUM_ENVS; k++) {
            value_t a = eval_tree(folded, envs[k]);
            value_t b = run_rpn(&prog_folded, envs[k]);
            if (a != results[k] || b != results[k])
                mismatches++;
        }
        if (e < 4 || e % 1000 == 0)
            printf("expr %4d nodes %3d depth %2d code %3d value %016llx: %.60s%s\n", e,
                   tree_size(root2), depth, prog.count, (unsigned long long)results[0], src,
                   strlen(src) > 60 ? "..." : "");
    }
    printf("exprs %d errors %d mismatches %d nodes %lu folded-nodes %lu code %lu max-depth %d\n",
           NUM_EXPRS, errors, mismatches, total_nodes, total_folded_nodes, total_code,
           max_depth);
    printf("evaluated %lu folded %lu div-by-zero %lu checksum %016llx\n", g_stats.evaluated,
           g_stats.folded, g_stats.divisions_by_zero, (unsigned long long)checksum);
    return 0;
}
