/*
 * eval.c: tree evaluation, constant folding, compilation to postfix code
 * and the postfix stack machine.
 */
#include <stdio.h>
#include <string.h>

#include "expr.h"

eval_stats g_stats;

#define SIGN_BIT ((value_t)1 << 63)
#define RPN_STACK 256

static int is_negative(value_t v)
{
    return (v & SIGN_BIT) != 0;
}

/* signed comparison of two's complement values held in uint64_t */
static int signed_less(value_t a, value_t b)
{
    return (a ^ SIGN_BIT) < (b ^ SIGN_BIT);
}

static value_t abs_value(value_t v)
{
    return is_negative(v) ? 0u - v : v;
}

static value_t signed_div(value_t a, value_t b, int want_mod)
{
    value_t ua = abs_value(a), ub = abs_value(b), q, r;
    if (b == 0) {
        g_stats.divisions_by_zero++;
        return 0;
    }
    q = ua / ub;
    r = ua % ub;
    /* truncating division as in C */
    if (is_negative(a) != is_negative(b))
        q = 0u - q;
    if (is_negative(a))
        r = 0u - r;
    return want_mod ? r : q;
}

static value_t power(value_t base, value_t e)
{
    value_t result = 1;
    unsigned n = (unsigned)(e & 63u);
    while (n) {
        if (n & 1u)
            result *= base;
        base *= base;
        n >>= 1;
    }
    return result;
}

static value_t shift_right_arith(value_t a, unsigned s)
{
    value_t r = a >> s;
    if (is_negative(a) && s > 0)
        r |= ~(~(value_t)0 >> s);
    return r;
}

value_t apply_binary(token_kind op, value_t a, value_t b)
{
    switch (op) {
    case TOK_PLUS:    return a + b;
    case TOK_MINUS:   return a - b;
    case TOK_STAR:    return a * b;
    case TOK_SLASH:   return signed_div(a, b, 0);
    case TOK_PERCENT: return signed_div(a, b, 1);
    case TOK_CARET:   return power(a, b);
    case TOK_AMP:     return a & b;
    case TOK_PIPE:    return a | b;
    case TOK_XOR:     return a ^ b;
    case TOK_SHL:     return a << (b & 63u);
    case TOK_SHR:     return shift_right_arith(a, (unsigned)(b & 63u));
    case TOK_LT:      return signed_less(a, b);
    case TOK_LE:      return !signed_less(b, a);
    case TOK_GT:      return signed_less(b, a);
    case TOK_GE:      return !signed_less(a, b);
    case TOK_EQ:      return a == b;
    case TOK_NE:      return a != b;
    default:          return 0;
    }
}

value_t apply_unary(node_kind kind, value_t a)
{
    switch (kind) {
    case NODE_NEG:    return 0u - a;
    case NODE_NOT:    return a == 0;
    case NODE_BITNOT: return ~a;
    default:          return a;
    }
}

static value_t gcd(value_t a, value_t b)
{
    a = abs_value(a);
    b = abs_value(b);
    while (b) {
        value_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

value_t apply_call(int func, const value_t *args, int nargs)
{
    value_t x = nargs > 0 ? args[0] : 0;
    value_t y = nargs > 1 ? args[1] : 0;
    value_t z = nargs > 2 ? args[2] : 0;
    switch ((func_id)func) {
    case FN_MIN: return signed_less(y, x) ? y : x;
    case FN_MAX: return signed_less(x, y) ? y : x;
    case FN_ABS: return abs_value(x);
    case FN_GCD: return gcd(x, y);
    case FN_CLAMP:
        if (signed_less(x, y))
            return y;
        if (signed_less(z, x))
            return z;
        return x;
    default:
        return 0;
    }
}

value_t eval_tree(const node *n, const value_t *vars)
{
    value_t args[3];
    int i;
    g_stats.evaluated++;
    switch (n->kind) {
    case NODE_NUM:
        return n->num;
    case NODE_VAR:
        return vars[n->var];
    case NODE_NEG:
    case NODE_NOT:
    case NODE_BITNOT:
        return apply_unary(n->kind, eval_tree(n->kid[0], vars));
    case NODE_BINARY: {
        value_t a = eval_tree(n->kid[0], vars);
        value_t b = eval_tree(n->kid[1], vars);
        return apply_binary(n->op, a, b);
    }
    case NODE_COND:
        return eval_tree(n->kid[0], vars) ? eval_tree(n->kid[1], vars)
                                          : eval_tree(n->kid[2], vars);
    case NODE_CALL:
        for (i = 0; i < n->nargs; i++)
            args[i] = eval_tree(n->kid[i], vars);
        return apply_call(n->func, args, n->nargs);
    }
    return 0;
}

static int is_const(const node *n, value_t v)
{
    return n && n->kind == NODE_NUM && n->num == v;
}

static void make_const(node *n, value_t v)
{
    n->kind = NODE_NUM;
    n->num = v;
    n->kid[0] = n->kid[1] = n->kid[2] = NULL;
    n->nargs = 0;
    g_stats.folded++;
}

/* folds in place; returns the (possibly different) root of the subtree */
node *fold_constants(node *n, node_pool *pool)
{
    int i, all_const = 1;
    (void)pool;
    if (!n)
        return NULL;
    for (i = 0; i < 3; i++) {
        n->kid[i] = fold_constants(n->kid[i], pool);
        if (n->kid[i] && n->kid[i]->kind != NODE_NUM)
            all_const = 0;
    }
    switch (n->kind) {
    case NODE_NEG:
    case NODE_NOT:
    case NODE_BITNOT:
        if (all_const)
            make_const(n, apply_unary(n->kind, n->kid[0]->num));
        return n;
    case NODE_BINARY:
        if (all_const) {
            make_const(n, apply_binary(n->op, n->kid[0]->num, n->kid[1]->num));
            return n;
        }
        /* identities that hold for every value */
        switch (n->op) {
        case TOK_PLUS:
            if (is_const(n->kid[0], 0)) return n->kid[1];
            if (is_const(n->kid[1], 0)) return n->kid[0];
            break;
        case TOK_MINUS:
        case TOK_PIPE:
        case TOK_XOR:
        case TOK_SHL:
        case TOK_SHR:
            if (is_const(n->kid[1], 0)) return n->kid[0];
            break;
        case TOK_STAR:
            if (is_const(n->kid[0], 1)) return n->kid[1];
            if (is_const(n->kid[1], 1)) return n->kid[0];
            break;
        case TOK_SLASH:
            if (is_const(n->kid[1], 1)) return n->kid[0];
            break;
        case TOK_CARET:
            if (is_const(n->kid[1], 1)) return n->kid[0];
            if (is_const(n->kid[1], 0)) {
                make_const(n, 1);
                return n;
            }
            break;
        default:
            break;
        }
        return n;
    case NODE_COND:
        if (n->kid[0]->kind == NODE_NUM)
            return n->kid[0]->num ? n->kid[1] : n->kid[2];
        return n;
    case NODE_CALL:
        if (all_const) {
            value_t args[3];
            for (i = 0; i < n->nargs; i++)
                args[i] = n->kid[i]->num;
            make_const(n, apply_call(n->func, args, n->nargs));
        }
        return n;
    default:
        return n;
    }
}

/* ------------------------------------------------------------------ */

static int emit(rpn_program *prog, rpn_op op, int arg, int nargs, value_t num)
{
    rpn_insn *in;
    if (prog->count >= MAX_CODE)
        return -1;
    in = &prog->code[prog->count];
    in->op = op;
    in->arg = arg;
    in->nargs = nargs;
    in->num = num;
    return prog->count++;
}

static int compile_node(const node *n, rpn_program *prog, int depth)
{
    int i, jz, jmp;
    if (depth + 1 > prog->max_depth)
        prog->max_depth = depth + 1;
    switch (n->kind) {
    case NODE_NUM:
        return emit(prog, RPN_PUSH, 0, 0, n->num) < 0 ? -1 : 0;
    case NODE_VAR:
        return emit(prog, RPN_VAR, n->var, 0, 0) < 0 ? -1 : 0;
    case NODE_NEG:
    case NODE_NOT:
    case NODE_BITNOT:
        if (compile_node(n->kid[0], prog, depth) < 0)
            return -1;
        return emit(prog, RPN_UNARY, (int)n->kind, 0, 0) < 0 ? -1 : 0;
    case NODE_BINARY:
        if (compile_node(n->kid[0], prog, depth) < 0 ||
            compile_node(n->kid[1], prog, depth + 1) < 0)
            return -1;
        return emit(prog, RPN_BINARY, (int)n->op, 0, 0) < 0 ? -1 : 0;
    case NODE_CALL:
        for (i = 0; i < n->nargs; i++)
            if (compile_node(n->kid[i], prog, depth + i) < 0)
                return -1;
        return emit(prog, RPN_CALL, n->func, n->nargs, 0) < 0 ? -1 : 0;
    case NODE_COND:
        if (compile_node(n->kid[0], prog, depth) < 0)
            return -1;
        jz = emit(prog, RPN_JZ, 0, 0, 0);
        if (jz < 0 || compile_node(n->kid[1], prog, depth) < 0)
            return -1;
        jmp = emit(prog, RPN_JMP, 0, 0, 0);
        if (jmp < 0)
            return -1;
        prog->code[jz].arg = prog->count;
        if (compile_node(n->kid[2], prog, depth) < 0)
            return -1;
        prog->code[jmp].arg = prog->count;
        return 0;
    }
    return -1;
}

int compile_rpn(const node *n, rpn_program *prog)
{
    prog->count = 0;
    prog->max_depth = 0;
    if (compile_node(n, prog, 0) < 0 || prog->max_depth > RPN_STACK)
        return -1;
    return 0;
}

value_t run_rpn(const rpn_program *prog, const value_t *vars)
{
    value_t stack[RPN_STACK];
    int sp = 0, pc = 0;
    while (pc < prog->count) {
        const rpn_insn *in = &prog->code[pc++];
        switch (in->op) {
        case RPN_PUSH:
            stack[sp++] = in->num;
            break;
        case RPN_VAR:
            stack[sp++] = vars[in->arg];
            break;
        case RPN_UNARY:
            stack[sp - 1] = apply_unary((node_kind)in->arg, stack[sp - 1]);
            break;
        case RPN_BINARY:
            sp--;
            stack[sp - 1] = apply_binary((token_kind)in->arg, stack[sp - 1], stack[sp]);
            break;
        case RPN_CALL:
            sp -= in->nargs;
            stack[sp] = apply_call(in->arg, &stack[sp], in->nargs);
            sp++;
            break;
        case RPN_JZ:
            if (stack[--sp] == 0)
                pc = in->arg;
            break;
        case RPN_JMP:
            pc = in->arg;
            break;
        }
    }
    return sp > 0 ? stack[sp - 1] : 0;
}

/* ------------------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} out_buf;

static void put_str(out_buf *o, const char *s)
{
    while (*s) {
        if (o->len + 1 < o->cap)
            o->buf[o->len] = *s;
        o->len++;
        s++;
    }
}

static void print_node(const node *n, out_buf *o)
{
    char tmp[32];
    int i;
    switch (n->kind) {
    case NODE_NUM:
        if (is_negative(n->num)) {
            /* no negative literals in the grammar */
            snprintf(tmp, sizeof(tmp), "(-%llu)", (unsigned long long)(0u - n->num));
        } else {
            snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)n->num);
        }
        put_str(o, tmp);
        break;
    case NODE_VAR:
        tmp[0] = (char)('a' + n->var);
        tmp[1] = '\0';
        put_str(o, tmp);
        break;
    case NODE_NEG:
    case NODE_NOT:
    case NODE_BITNOT:
        put_str(o, n->kind == NODE_NEG ? "(-" : n->kind == NODE_NOT ? "(!" : "(~");
        print_node(n->kid[0], o);
        put_str(o, ")");
        break;
    case NODE_BINARY:
        put_str(o, "(");
        print_node(n->kid[0], o);
        put_str(o, token_name(n->op));
        print_node(n->kid[1], o);
        put_str(o, ")");
        break;
    case NODE_COND:
        put_str(o, "(");
        print_node(n->kid[0], o);
        put_str(o, "?");
        print_node(n->kid[1], o);
        put_str(o, ":");
        print_node(n->kid[2], o);
        put_str(o, ")");
        break;
    case NODE_CALL:
        put_str(o, func_name(n->func));
        put_str(o, "(");
        for (i = 0; i < n->nargs; i++) {
            if (i > 0)
                put_str(o, ",");
            print_node(n->kid[i], o);
        }
        put_str(o, ")");
        break;
    }
}

size_t print_tree(const node *n, char *buf, size_t cap)
{
    out_buf o;
    o.buf = buf;
    o.cap = cap;
    o.len = 0;
    print_node(n, &o);
    if (cap > 0)
        buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}
