/*
 * expr.h: shared declarations of the expression evaluator.
 *
 * lexer.c   turns text into tokens
 * parser.c  builds an abstract syntax tree by precedence climbing
 * eval.c    evaluates trees, folds constants and compiles trees to a
 *           postfix program run by a small stack machine
 * main.c    generates expressions, runs all three evaluators, checks that
 *           they agree and prints checksums
 *
 * Values are 64-bit two's complement integers held in uint64_t so that all
 * arithmetic wraps without undefined behaviour.
 */
#ifndef EXPR_H
#define EXPR_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t value_t;

#define MAX_VARS 26
#define MAX_TOKENS 4096
#define MAX_NODES 4096
#define MAX_CODE 4096

typedef enum {
    TOK_END,
    TOK_NUM,
    TOK_VAR,
    TOK_FUNC,
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_COMMA,
    TOK_PLUS,
    TOK_MINUS,
    TOK_STAR,
    TOK_SLASH,
    TOK_PERCENT,
    TOK_CARET,
    TOK_AMP,
    TOK_PIPE,
    TOK_XOR,   /* '#' */
    TOK_SHL,
    TOK_SHR,
    TOK_LT,
    TOK_LE,
    TOK_GT,
    TOK_GE,
    TOK_EQ,
    TOK_NE,
    TOK_QUESTION,
    TOK_COLON,
    TOK_BANG,
    TOK_TILDE,
    TOK_ERROR
} token_kind;

typedef enum { FN_MIN, FN_MAX, FN_ABS, FN_GCD, FN_CLAMP, FN_COUNT } func_id;

typedef struct {
    token_kind kind;
    value_t num;   /* TOK_NUM */
    int index;     /* TOK_VAR: variable 0..25; TOK_FUNC: func_id */
    int pos;       /* offset in the source */
} token;

typedef struct {
    token toks[MAX_TOKENS];
    int count;
    int error_pos;
} token_list;

typedef enum {
    NODE_NUM,
    NODE_VAR,
    NODE_NEG,
    NODE_NOT,
    NODE_BITNOT,
    NODE_BINARY,
    NODE_COND,
    NODE_CALL
} node_kind;

typedef struct node {
    node_kind kind;
    token_kind op;        /* NODE_BINARY: operator token */
    int func;             /* NODE_CALL */
    int nargs;            /* NODE_CALL */
    value_t num;          /* NODE_NUM */
    int var;              /* NODE_VAR */
    struct node *kid[3];
} node;

typedef struct {
    node nodes[MAX_NODES];
    int used;
} node_pool;

typedef struct {
    const token_list *tl;
    int pos;
    node_pool *pool;
    const char *error;
} parser;

typedef enum {
    RPN_PUSH,
    RPN_VAR,
    RPN_UNARY,
    RPN_BINARY,
    RPN_CALL,
    RPN_JZ,   /* pop, jump if zero */
    RPN_JMP
} rpn_op;

typedef struct {
    rpn_op op;
    int arg;          /* token kind / node kind / func / var / jump target */
    int nargs;
    value_t num;
} rpn_insn;

typedef struct {
    rpn_insn code[MAX_CODE];
    int count;
    int max_depth;
} rpn_program;

typedef struct {
    unsigned long evaluated;
    unsigned long folded;
    unsigned long divisions_by_zero;
} eval_stats;

extern eval_stats g_stats;

/* lexer.c */
int lex(const char *src, token_list *out);
const char *token_name(token_kind k);
const char *func_name(int f);

/* parser.c */
node *parse_expression(parser *p);
node *parse(const token_list *tl, node_pool *pool, const char **error);
node *new_node(node_pool *pool, node_kind kind);
int tree_size(const node *n);
int tree_depth(const node *n);

/* eval.c */
value_t apply_binary(token_kind op, value_t a, value_t b);
value_t apply_unary(node_kind kind, value_t a);
value_t apply_call(int func, const value_t *args, int nargs);
value_t eval_tree(const node *n, const value_t *vars);
node *fold_constants(node *n, node_pool *pool);
int compile_rpn(const node *n, rpn_program *prog);
value_t run_rpn(const rpn_program *prog, const value_t *vars);
size_t print_tree(const node *n, char *buf, size_t cap);

#endif
