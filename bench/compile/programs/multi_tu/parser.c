/*
 * parser.c: precedence-climbing parser producing an AST.
 *
 * Grammar (lowest to highest precedence):
 *   cond    := binary ( '?' cond ':' cond )?
 *   binary  := unary ( op binary )*        by the table below
 *   unary   := ('-' | '!' | '~') unary | power
 *   power   := primary ( '^' unary )?      right associative
 *   primary := number | var | func '(' args ')' | '(' cond ')'
 */
#include <stddef.h>

#include "expr.h"

typedef struct {
    token_kind tok;
    int prec;
} binop_info;

static const binop_info binops[] = {
    {TOK_PIPE, 1}, {TOK_XOR, 2}, {TOK_AMP, 3},
    {TOK_EQ, 4}, {TOK_NE, 4},
    {TOK_LT, 5}, {TOK_LE, 5}, {TOK_GT, 5}, {TOK_GE, 5},
    {TOK_SHL, 6}, {TOK_SHR, 6},
    {TOK_PLUS, 7}, {TOK_MINUS, 7},
    {TOK_STAR, 8}, {TOK_SLASH, 8}, {TOK_PERCENT, 8},
};

static int binop_prec(token_kind k)
{
    size_t i;
    for (i = 0; i < sizeof(binops) / sizeof(binops[0]); i++)
        if (binops[i].tok == k)
            return binops[i].prec;
    return -1;
}

node *new_node(node_pool *pool, node_kind kind)
{
    node *n;
    if (pool->used >= MAX_NODES)
        return NULL;
    n = &pool->nodes[pool->used++];
    n->kind = kind;
    n->op = TOK_END;
    n->func = 0;
    n->nargs = 0;
    n->num = 0;
    n->var = 0;
    n->kid[0] = n->kid[1] = n->kid[2] = NULL;
    return n;
}

static const token *peek(const parser *p)
{
    return &p->tl->toks[p->pos];
}

static const token *advance(parser *p)
{
    const token *t = &p->tl->toks[p->pos];
    if (t->kind != TOK_END)
        p->pos++;
    return t;
}

static int expect(parser *p, token_kind k, const char *msg)
{
    if (peek(p)->kind != k) {
        if (!p->error)
            p->error = msg;
        return 0;
    }
    advance(p);
    return 1;
}

static node *fail(parser *p, const char *msg)
{
    if (!p->error)
        p->error = msg;
    return NULL;
}

static node *parse_cond(parser *p);
static node *parse_unary(parser *p);

static node *parse_primary(parser *p)
{
    const token *t = advance(p);
    node *n;
    switch (t->kind) {
    case TOK_NUM:
        n = new_node(p->pool, NODE_NUM);
        if (!n)
            return fail(p, "out of nodes");
        n->num = t->num;
        return n;
    case TOK_VAR:
        n = new_node(p->pool, NODE_VAR);
        if (!n)
            return fail(p, "out of nodes");
        n->var = t->index;
        return n;
    case TOK_FUNC:
        n = new_node(p->pool, NODE_CALL);
        if (!n)
            return fail(p, "out of nodes");
        n->func = t->index;
        if (!expect(p, TOK_LPAREN, "expected ( after function"))
            return NULL;
        if (peek(p)->kind != TOK_RPAREN) {
            for (;;) {
                node *arg;
                if (n->nargs >= 3)
                    return fail(p, "too many arguments");
                arg = parse_cond(p);
                if (!arg)
                    return NULL;
                n->kid[n->nargs++] = arg;
                if (peek(p)->kind != TOK_COMMA)
                    break;
                advance(p);
            }
        }
        if (!expect(p, TOK_RPAREN, "expected ) after arguments"))
            return NULL;
        return n;
    case TOK_LPAREN:
        n = parse_cond(p);
        if (!n)
            return NULL;
        if (!expect(p, TOK_RPAREN, "expected )"))
            return NULL;
        return n;
    default:
        return fail(p, "unexpected token");
    }
}

static node *parse_power(parser *p)
{
    node *base = parse_primary(p), *n, *e;
    if (!base)
        return NULL;
    if (peek(p)->kind != TOK_CARET)
        return base;
    advance(p);
    e = parse_unary(p);
    if (!e)
        return NULL;
    n = new_node(p->pool, NODE_BINARY);
    if (!n)
        return fail(p, "out of nodes");
    n->op = TOK_CARET;
    n->kid[0] = base;
    n->kid[1] = e;
    return n;
}

static node *parse_unary(parser *p)
{
    node_kind kind;
    node *n, *operand;
    switch (peek(p)->kind) {
    case TOK_MINUS: kind = NODE_NEG; break;
    case TOK_BANG:  kind = NODE_NOT; break;
    case TOK_TILDE: kind = NODE_BITNOT; break;
    default:        return parse_power(p);
    }
    advance(p);
    operand = parse_unary(p);
    if (!operand)
        return NULL;
    n = new_node(p->pool, kind);
    if (!n)
        return fail(p, "out of nodes");
    n->kid[0] = operand;
    return n;
}

static node *parse_binary(parser *p, int min_prec)
{
    node *lhs = parse_unary(p);
    if (!lhs)
        return NULL;
    for (;;) {
        token_kind op = peek(p)->kind;
        int prec = binop_prec(op);
        node *rhs, *n;
        if (prec < 0 || prec < min_prec)
            return lhs;
        advance(p);
        rhs = parse_binary(p, prec + 1); /* left associative */
        if (!rhs)
            return NULL;
        n = new_node(p->pool, NODE_BINARY);
        if (!n)
            return fail(p, "out of nodes");
        n->op = op;
        n->kid[0] = lhs;
        n->kid[1] = rhs;
        lhs = n;
    }
}

static node *parse_cond(parser *p)
{
    node *c = parse_binary(p, 1), *a, *b, *n;
    if (!c)
        return NULL;
    if (peek(p)->kind != TOK_QUESTION)
        return c;
    advance(p);
    a = parse_cond(p);
    if (!a)
        return NULL;
    if (!expect(p, TOK_COLON, "expected :"))
        return NULL;
    b = parse_cond(p);
    if (!b)
        return NULL;
    n = new_node(p->pool, NODE_COND);
    if (!n)
        return fail(p, "out of nodes");
    n->kid[0] = c;
    n->kid[1] = a;
    n->kid[2] = b;
    return n;
}

node *parse_expression(parser *p)
{
    return parse_cond(p);
}

node *parse(const token_list *tl, node_pool *pool, const char **error)
{
    parser p;
    node *root;
    p.tl = tl;
    p.pos = 0;
    p.pool = pool;
    p.error = NULL;
    root = parse_expression(&p);
    if (root && peek(&p)->kind != TOK_END)
        root = fail(&p, "trailing input");
    *error = p.error;
    return root;
}

int tree_size(const node *n)
{
    int i, s = 1;
    if (!n)
        return 0;
    for (i = 0; i < 3; i++)
        s += tree_size(n->kid[i]);
    return s;
}

int tree_depth(const node *n)
{
    int i, d = 0;
    if (!n)
        return 0;
    for (i = 0; i < 3; i++) {
        int k = tree_depth(n->kid[i]);
        if (k > d)
            d = k;
    }
    return d + 1;
}
