/* lexer.c: turns expression text into a token list. */
#include <string.h>

#include "expr.h"

static const char *const func_names[FN_COUNT] = {"min", "max", "abs", "gcd", "clamp"};

static const char *const token_names[] = {
    "end", "number", "variable", "function", "(", ")", ",", "+", "-", "*", "/",
    "%", "^", "&", "|", "#", "<<", ">>", "<", "<=", ">", ">=", "==", "!=", "?",
    ":", "!", "~", "error"
};

const char *token_name(token_kind k)
{
    if ((int)k < 0 || (size_t)k >= sizeof(token_names) / sizeof(token_names[0]))
        return "?";
    return token_names[k];
}

const char *func_name(int f)
{
    return (f >= 0 && f < FN_COUNT) ? func_names[f] : "?";
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int lookup_func(const char *s, size_t len)
{
    int f;
    for (f = 0; f < FN_COUNT; f++)
        if (strlen(func_names[f]) == len && memcmp(func_names[f], s, len) == 0)
            return f;
    return -1;
}

/* two-character operators first, then one-character ones */
static token_kind match_operator(const char *s, int *width)
{
    *width = 2;
    switch (s[0]) {
    case '<':
        if (s[1] == '<') return TOK_SHL;
        if (s[1] == '=') return TOK_LE;
        *width = 1;
        return TOK_LT;
    case '>':
        if (s[1] == '>') return TOK_SHR;
        if (s[1] == '=') return TOK_GE;
        *width = 1;
        return TOK_GT;
    case '=':
        if (s[1] == '=') return TOK_EQ;
        break;
    case '!':
        if (s[1] == '=') return TOK_NE;
        *width = 1;
        return TOK_BANG;
    default:
        break;
    }
    *width = 1;
    switch (s[0]) {
    case '(': return TOK_LPAREN;
    case ')': return TOK_RPAREN;
    case ',': return TOK_COMMA;
    case '+': return TOK_PLUS;
    case '-': return TOK_MINUS;
    case '*': return TOK_STAR;
    case '/': return TOK_SLASH;
    case '%': return TOK_PERCENT;
    case '^': return TOK_CARET;
    case '&': return TOK_AMP;
    case '|': return TOK_PIPE;
    case '#': return TOK_XOR;
    case '?': return TOK_QUESTION;
    case ':': return TOK_COLON;
    case '~': return TOK_TILDE;
    default: return TOK_ERROR;
    }
}

int lex(const char *src, token_list *out)
{
    const char *s = src;
    out->count = 0;
    out->error_pos = -1;
    for (;;) {
        token t;
        while (is_space(*s))
            s++;
        t.pos = (int)(s - src);
        t.num = 0;
        t.index = 0;
        if (out->count >= MAX_TOKENS - 1) {
            out->error_pos = t.pos;
            return -1;
        }
        if (*s == '\0') {
            t.kind = TOK_END;
            out->toks[out->count++] = t;
            return 0;
        }
        if (is_digit(*s)) {
            value_t v = 0;
            if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                s += 2;
                for (;;) {
                    char c = *s;
                    unsigned d;
                    if (is_digit(c)) d = (unsigned)(c - '0');
                    else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
                    else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
                    else break;
                    v = v * 16u + d;
                    s++;
                }
            } else {
                while (is_digit(*s))
                    v = v * 10u + (value_t)(*s++ - '0');
            }
            t.kind = TOK_NUM;
            t.num = v;
        } else if (is_alpha(*s)) {
            const char *start = s;
            size_t len;
            while (is_alpha(*s) || is_digit(*s))
                s++;
            len = (size_t)(s - start);
            if (len == 1 && start[0] >= 'a' && start[0] <= 'z') {
                t.kind = TOK_VAR;
                t.index = start[0] - 'a';
            } else {
                int f = lookup_func(start, len);
                if (f < 0) {
                    out->error_pos = t.pos;
                    return -1;
                }
                t.kind = TOK_FUNC;
                t.index = f;
            }
        } else {
            int width;
            t.kind = match_operator(s, &width);
            if (t.kind == TOK_ERROR) {
                out->error_pos = t.pos;
                return -1;
            }
            s += width;
        }
        out->toks[out->count++] = t;
    }
}
