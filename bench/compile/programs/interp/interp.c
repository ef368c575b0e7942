/*
 * interp: a small stack-based bytecode virtual machine with a two-pass text
 * assembler.
 *
 * The assembler reads programs written as text (labels, mnemonics, integer
 * or label operands, '|' between statements on one line, ';' comments)
 * and resolves labels.  The interpreter is
 * a switch-dispatch loop over 40 opcodes with call frames, locals, a word
 * addressed memory and 32-bit wrap-around arithmetic.  Several programs
 * (sieve, recursive Fibonacci, Collatz, insertion sort, GCD table, bit
 * counting) are assembled and run, and their outputs are checked against
 * the same computations written directly in C.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CODE 1024
#define MAX_LABELS 128
#define STACK_SIZE 4096
#define MAX_FRAMES 256
#define MEM_WORDS (1u << 18)
#define MEM_MASK (MEM_WORDS - 1u)
#define MAX_OUTPUT 64

typedef enum {
    OP_HALT, OP_NOP, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_NEG,
    OP_AND, OP_OR, OP_XOR, OP_NOT, OP_SHL, OP_SHR, OP_SAR,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
    OP_JMP, OP_JZ, OP_JNZ,
    OP_LOAD, OP_STORE, OP_INC,
    OP_GLOAD, OP_GSTORE, OP_ALOAD, OP_ASTORE,
    OP_CALL, OP_RET, OP_ENTER, OP_PRINT,
    OP_COUNT
} opcode;

typedef enum { ARG_NONE, ARG_INT, ARG_LABEL, ARG_LABEL_INT, ARG_INT_INT } arg_kind;

typedef struct {
    const char *name;
    arg_kind args;
} op_info;

static const op_info op_table[OP_COUNT] = {
    {"HALT", ARG_NONE}, {"NOP", ARG_NONE}, {"PUSH", ARG_INT}, {"POP", ARG_NONE},
    {"DUP", ARG_NONE}, {"SWAP", ARG_NONE}, {"OVER", ARG_NONE},
    {"ADD", ARG_NONE}, {"SUB", ARG_NONE}, {"MUL", ARG_NONE}, {"DIV", ARG_NONE},
    {"MOD", ARG_NONE}, {"NEG", ARG_NONE},
    {"AND", ARG_NONE}, {"OR", ARG_NONE}, {"XOR", ARG_NONE}, {"NOT", ARG_NONE},
    {"SHL", ARG_NONE}, {"SHR", ARG_NONE}, {"SAR", ARG_NONE},
    {"EQ", ARG_NONE}, {"NE", ARG_NONE}, {"LT", ARG_NONE}, {"LE", ARG_NONE},
    {"GT", ARG_NONE}, {"GE", ARG_NONE},
    {"JMP", ARG_LABEL}, {"JZ", ARG_LABEL}, {"JNZ", ARG_LABEL},
    {"LOAD", ARG_INT}, {"STORE", ARG_INT}, {"INC", ARG_INT_INT},
    {"GLOAD", ARG_INT}, {"GSTORE", ARG_INT}, {"ALOAD", ARG_NONE}, {"ASTORE", ARG_NONE},
    {"CALL", ARG_LABEL_INT}, {"RET", ARG_NONE}, {"ENTER", ARG_INT}, {"PRINT", ARG_NONE},
};

typedef struct {
    uint8_t op;
    int32_t a;
    int32_t b;
} insn;

typedef struct {
    char name[32];
    int addr;
} label;

typedef struct {
    insn code[MAX_CODE];
    int ncode;
    label labels[MAX_LABELS];
    int nlabels;
    int error_line;
    const char *error;
} program;

typedef struct {
    int ret_pc;
    int fp;
} frame;

typedef struct {
    uint32_t stack[STACK_SIZE];
    frame frames[MAX_FRAMES];
    uint32_t *mem;
    int sp;
    int fp;
    int nframes;
    uint64_t steps;
    uint32_t output[MAX_OUTPUT];
    int noutput;
    const char *fault;
} vm;

/* ------------------------------------------------------------------ */
/* assembler                                                          */
/* ------------------------------------------------------------------ */

static int find_label(const program *p, const char *name)
{
    int i;
    for (i = 0; i < p->nlabels; i++)
        if (strcmp(p->labels[i].name, name) == 0)
            return p->labels[i].addr;
    return -1;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static const char *read_word(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    while (*s && (isalnum((unsigned char)*s) || *s == '_' || *s == '-')) {
        if (n + 1 < cap)
            out[n++] = *s;
        s++;
    }
    out[n] = '\0';
    return s;
}

static int parse_int(const char *w, int32_t *v)
{
    long x = 0;
    int neg = 0;
    if (*w == '-') {
        neg = 1;
        w++;
    }
    if (!isdigit((unsigned char)*w))
        return 0;
    while (isdigit((unsigned char)*w)) {
        x = x * 10 + (*w - '0');
        if (x > 2147483647L)
            return 0;
        w++;
    }
    if (*w)
        return 0;
    *v = (int32_t)(neg ? -x : x);
    return 1;
}

static int lookup_op(const char *w)
{
    int i;
    for (i = 0; i < OP_COUNT; i++)
        if (strcmp(op_table[i].name, w) == 0)
            return i;
    return -1;
}

/* pass 1 collects labels (resolve == 0); pass 2 emits code */
static int assemble_pass(program *p, const char *src, int resolve)
{
    const char *s = src;
    int line = 1;
    p->ncode = 0;
    while (*s) {
        char word[32], operand[32];
        const char *e = s;
        while (*e && *e != '\n' && *e != '|')
            e++;
        s = skip_space(s);
        if (*s && *s != ';' && *s != '\n') {
            int op;
            s = read_word(s, word, sizeof(word));
            if (*s == ':') {
                if (!resolve) {
                    if (p->nlabels >= MAX_LABELS)
                        goto fail_msg_labels;
                    strcpy(p->labels[p->nlabels].name, word);
                    p->labels[p->nlabels].addr = p->ncode;
                    p->nlabels++;
                }
                s = skip_space(s + 1);
                if (*s && *s != ';' && *s != '\n')
                    s = read_word(s, word, sizeof(word));
                else
                    word[0] = '\0';
            }
            if (word[0]) {
                insn in = {0, 0, 0};
                op = lookup_op(word);
                if (op < 0) {
                    p->error = "unknown mnemonic";
                    p->error_line = line;
                    return -1;
                }
                if (p->ncode >= MAX_CODE) {
                    p->error = "program too long";
                    p->error_line = line;
                    return -1;
                }
                in.op = (uint8_t)op;
                switch (op_table[op].args) {
                case ARG_NONE:
                    break;
                case ARG_INT:
                case ARG_INT_INT:
                    s = read_word(skip_space(s), operand, sizeof(operand));
                    if (!parse_int(operand, &in.a))
                        goto fail_operand;
                    if (op_table[op].args == ARG_INT_INT) {
                        s = read_word(skip_space(s), operand, sizeof(operand));
                        if (!parse_int(operand, &in.b))
                            goto fail_operand;
                    }
                    break;
                case ARG_LABEL:
                case ARG_LABEL_INT:
                    s = read_word(skip_space(s), operand, sizeof(operand));
                    if (resolve) {
                        in.a = find_label(p, operand);
                        if (in.a < 0) {
                            p->error = "undefined label";
                            p->error_line = line;
                            return -1;
                        }
                    }
                    if (op_table[op].args == ARG_LABEL_INT) {
                        s = read_word(skip_space(s), operand, sizeof(operand));
                        if (!parse_int(operand, &in.b))
                            goto fail_operand;
                    }
                    break;
                }
                p->code[p->ncode++] = in;
            }
        }
        s = e;
        if (*s == '|') {
            s++;
        } else if (*s == '\n') {
            s++;
            line++;
        }
    }
    return 0;
fail_operand:
    p->error = "bad operand";
    p->error_line = line;
    return -1;
fail_msg_labels:
    p->error = "too many labels";
    p->error_line = line;
    return -1;
}

static int assemble(program *p, const char *src)
{
    p->nlabels = 0;
    p->error = NULL;
    p->error_line = 0;
    if (assemble_pass(p, src, 0) != 0)
        return -1;
    return assemble_pass(p, src, 1);
}

/* ------------------------------------------------------------------ */
/* interpreter                                                        */
/* ------------------------------------------------------------------ */

#define NEED(n) do { if (m->sp < (n)) { m->fault = "stack underflow"; return -1; } } while (0)
#define ROOM(n) do { if (m->sp + (n) > STACK_SIZE) { m->fault = "stack overflow"; return -1; } } while (0)

static int run(vm *m, const program *p, uint64_t max_steps)
{
    int pc = 0;
    m->sp = 0;
    m->fp = 0;
    m->nframes = 0;
    m->steps = 0;
    m->noutput = 0;
    m->fault = NULL;
    while (m->steps < max_steps) {
        const insn *in;
        uint32_t x, y;
        if (pc < 0 || pc >= p->ncode) {
            m->fault = "pc out of range";
            return -1;
        }
        in = &p->code[pc++];
        m->steps++;
        switch ((opcode)in->op) {
        case OP_HALT:
            return 0;
        case OP_NOP:
            break;
        case OP_PUSH:
            ROOM(1);
            m->stack[m->sp++] = (uint32_t)in->a;
            break;
        case OP_POP:
            NEED(1);
            m->sp--;
            break;
        case OP_DUP:
            NEED(1);
            ROOM(1);
            m->stack[m->sp] = m->stack[m->sp - 1];
            m->sp++;
            break;
        case OP_SWAP:
            NEED(2);
            x = m->stack[m->sp - 1];
            m->stack[m->sp - 1] = m->stack[m->sp - 2];
            m->stack[m->sp - 2] = x;
            break;
        case OP_OVER:
            NEED(2);
            ROOM(1);
            m->stack[m->sp] = m->stack[m->sp - 2];
            m->sp++;
            break;
        case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD:
        case OP_AND: case OP_OR: case OP_XOR: case OP_SHL: case OP_SHR: case OP_SAR:
        case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE: {
            int32_t sx, sy;
            uint32_t r = 0;
            NEED(2);
            y = m->stack[--m->sp];
            x = m->stack[m->sp - 1];
            sx = (int32_t)x;
            sy = (int32_t)y;
            switch ((opcode)in->op) {
            case OP_ADD: r = x + y; break;
            case OP_SUB: r = x - y; break;
            case OP_MUL: r = x * y; break;
            case OP_DIV:
            case OP_MOD:
                if (y == 0) {
                    m->fault = "division by zero";
                    return -1;
                }
                if (sx == INT32_MIN && sy == -1)
                    r = in->op == OP_DIV ? x : 0u;
                else
                    r = (uint32_t)(in->op == OP_DIV ? sx / sy : sx % sy);
                break;
            case OP_AND: r = x & y; break;
            case OP_OR:  r = x | y; break;
            case OP_XOR: r = x ^ y; break;
            case OP_SHL: r = x << (y & 31u); break;
            case OP_SHR: r = x >> (y & 31u); break;
            case OP_SAR:
                r = x >> (y & 31u);
                if ((x & 0x80000000u) && (y & 31u))
                    r |= ~(0xffffffffu >> (y & 31u));
                break;
            case OP_EQ: r = x == y; break;
            case OP_NE: r = x != y; break;
            case OP_LT: r = sx < sy; break;
            case OP_LE: r = sx <= sy; break;
            case OP_GT: r = sx > sy; break;
            case OP_GE: r = sx >= sy; break;
            default: break;
            }
            m->stack[m->sp - 1] = r;
            break;
        }
        case OP_NEG:
            NEED(1);
            m->stack[m->sp - 1] = 0u - m->stack[m->sp - 1];
            break;
        case OP_NOT:
            NEED(1);
            m->stack[m->sp - 1] = ~m->stack[m->sp - 1];
            break;
        case OP_JMP:
            pc = in->a;
            break;
        case OP_JZ:
            NEED(1);
            if (m->stack[--m->sp] == 0)
                pc = in->a;
            break;
        case OP_JNZ:
            NEED(1);
            if (m->stack[--m->sp] != 0)
                pc = in->a;
            break;
        case OP_LOAD:
            ROOM(1);
            if (m->fp + in->a < 0 || m->fp + in->a >= m->sp) {
                m->fault = "bad local";
                return -1;
            }
            m->stack[m->sp++] = m->stack[m->fp + in->a];
            break;
        case OP_STORE:
            NEED(1);
            if (m->fp + in->a < 0 || m->fp + in->a >= m->sp - 1) {
                m->fault = "bad local";
                return -1;
            }
            m->stack[m->fp + in->a] = m->stack[--m->sp];
            break;
        case OP_INC:
            if (m->fp + in->a < 0 || m->fp + in->a >= m->sp) {
                m->fault = "bad local";
                return -1;
            }
            m->stack[m->fp + in->a] += (uint32_t)in->b;
            break;
        case OP_GLOAD:
            ROOM(1);
            m->stack[m->sp++] = m->mem[(uint32_t)in->a & MEM_MASK];
            break;
        case OP_GSTORE:
            NEED(1);
            m->mem[(uint32_t)in->a & MEM_MASK] = m->stack[--m->sp];
            break;
        case OP_ALOAD:
            NEED(1);
            m->stack[m->sp - 1] = m->mem[m->stack[m->sp - 1] & MEM_MASK];
            break;
        case OP_ASTORE:
            NEED(2);
            x = m->stack[--m->sp];
            y = m->stack[--m->sp];
            m->mem[y & MEM_MASK] = x;
            break;
        case OP_CALL:
            NEED(in->b);
            if (m->nframes >= MAX_FRAMES) {
                m->fault = "call depth";
                return -1;
            }
            m->frames[m->nframes].ret_pc = pc;
            m->frames[m->nframes].fp = m->fp;
            m->nframes++;
            m->fp = m->sp - in->b;
            pc = in->a;
            break;
        case OP_RET:
            NEED(1);
            if (m->nframes == 0) {
                m->fault = "return without call";
                return -1;
            }
            x = m->stack[m->sp - 1];
            m->sp = m->fp;
            m->stack[m->sp++] = x;
            m->nframes--;
            pc = m->frames[m->nframes].ret_pc;
            m->fp = m->frames[m->nframes].fp;
            break;
        case OP_ENTER:
            ROOM(in->a);
            {
                int k;
                for (k = 0; k < in->a; k++)
                    m->stack[m->sp++] = 0;
            }
            break;
        case OP_PRINT:
            NEED(1);
            x = m->stack[--m->sp];
            if (m->noutput < MAX_OUTPUT)
                m->output[m->noutput++] = x;
            break;
        default:
            m->fault = "bad opcode";
            return -1;
        }
    }
    m->fault = "step limit";
    return -1;
}

/* ------------------------------------------------------------------ */
/* programs                                                           */
/* ------------------------------------------------------------------ */

static const char prog_sieve[] =
    "; count primes below 200000, print the count and the last prime\n"
    "main:   ENTER 4          ; l0=i l1=j l2=count l3=last\n"
    "        PUSH 2 | STORE 0\n"
    "outer:  LOAD 0 | PUSH 200000 | LT | JZ done\n"
    "        LOAD 0 | ALOAD | JNZ next\n"
    "        INC 2 1 | LOAD 0 | STORE 3 | LOAD 0 | PUSH 447\n"
    "        GT | JNZ next\n"
    "        LOAD 0 | DUP | MUL | STORE 1\n"
    "inner:  LOAD 1 | PUSH 200000 | LT | JZ next\n"
    "        LOAD 1 | PUSH 1 | ASTORE | LOAD 1 | LOAD 0\n"
    "        ADD | STORE 1 | JMP inner\n"
    "next:   INC 0 1 | JMP outer\n"
    "done:   LOAD 2 | PRINT | LOAD 3 | PRINT | HALT\n";

static const char prog_fib[] =
    "main:   PUSH 27 | CALL fib 1 | PRINT | HALT\n"
    "; fib(n) with n in local 0\n"
    "fib:    LOAD 0 | PUSH 2 | LT | JZ rec\n"
    "        LOAD 0 | RET\n"
    "rec:    LOAD 0 | PUSH 1 | SUB | CALL fib 1 | LOAD 0\n"
    "        PUSH 2 | SUB | CALL fib 1 | ADD | RET\n";

static const char prog_collatz[] =
    "; longest Collatz chain for n < 30000; prints best n, its length, total steps\n"
    "main:   ENTER 5          ; l0=n l1=x l2=len l3=best l4=bestn\n"
    "        PUSH 1 | STORE 0\n"
    "loop:   LOAD 0 | PUSH 30000 | LT | JZ fin\n"
    "        LOAD 0 | STORE 1 | PUSH 0 | STORE 2\n"
    "step:   LOAD 1 | PUSH 1 | EQ | JNZ end\n"
    "        INC 2 1 | LOAD 1 | PUSH 1 | AND | JZ even\n"
    "        LOAD 1 | PUSH 3 | MUL | PUSH 1 | ADD\n"
    "        STORE 1 | JMP step\n"
    "even:   LOAD 1 | PUSH 1 | SHR | STORE 1 | JMP step\n"
    "end:    LOAD 2 | GLOAD 0 | ADD | GSTORE 0 | LOAD 2\n"
    "        LOAD 3 | GT | JZ skip\n"
    "        LOAD 2 | STORE 3 | LOAD 0 | STORE 4\n"
    "skip:   INC 0 1 | JMP loop\n"
    "fin:    LOAD 4 | PRINT | LOAD 3 | PRINT | GLOAD 0\n"
    "        PRINT | HALT\n";

static const char prog_sort[] =
    "; fill mem[0..1600) with an LCG, insertion sort, print a weighted sum\n"
    "main:   ENTER 4          ; l0=i l1=j l2=key l3=seed\n"
    "        PUSH 12345 | STORE 3\n"
    "fill:   LOAD 0 | PUSH 1600 | LT | JZ sort\n"
    "        LOAD 3 | PUSH 1103515245 | MUL | PUSH 12345 | ADD\n"
    "        DUP | STORE 3 | PUSH 16 | SHR | PUSH 32767\n"
    "        AND | LOAD 0 | SWAP | ASTORE | INC 0 1\n"
    "        JMP fill\n"
    "sort:   PUSH 1 | STORE 0\n"
    "outer:  LOAD 0 | PUSH 1600 | LT | JZ sum\n"
    "        LOAD 0 | ALOAD | STORE 2 | LOAD 0 | STORE 1\n"
    "inner:  LOAD 1 | JZ place\n"
    "        LOAD 1 | PUSH 1 | SUB | ALOAD | LOAD 2\n"
    "        LE | JNZ place\n"
    "        LOAD 1 | LOAD 1 | PUSH 1 | SUB | ALOAD\n"
    "        ASTORE | INC 1 -1 | JMP inner\n"
    "place:  LOAD 1 | LOAD 2 | ASTORE | INC 0 1 | JMP outer\n"
    "sum:    PUSH 0 | STORE 0 | PUSH 0 | STORE 2\n"
    "sloop:  LOAD 0 | PUSH 1600 | LT | JZ out\n"
    "        LOAD 2 | PUSH 31 | MUL | LOAD 0 | ALOAD\n"
    "        XOR | STORE 2 | INC 0 1 | JMP sloop\n"
    "out:    LOAD 2 | PRINT | PUSH 0 | ALOAD | PRINT\n"
    "        PUSH 1599 | ALOAD | PRINT | HALT\n";

static const char prog_gcd[] =
    "; sum of gcd(i, j) for 1 <= i, j <= 220, and popcount sum of i*j\n"
    "main:   ENTER 4          ; l0=i l1=j l2=sum l3=bits\n"
    "        PUSH 1 | STORE 0\n"
    "iloop:  LOAD 0 | PUSH 220 | GT | JNZ done\n"
    "        PUSH 1 | STORE 1\n"
    "jloop:  LOAD 1 | PUSH 220 | GT | JNZ inext\n"
    "        LOAD 0 | LOAD 1 | CALL gcd 2 | LOAD 2 | ADD\n"
    "        STORE 2 | LOAD 0 | LOAD 1 | MUL | CALL popc 1\n"
    "        LOAD 3 | ADD | STORE 3 | INC 1 1 | JMP jloop\n"
    "inext:  INC 0 1 | JMP iloop\n"
    "done:   LOAD 2 | PRINT | LOAD 3 | PRINT | HALT\n"
    "gcd:    LOAD 1           ; gcd(a=l0, b=l1)\n"
    "        JZ gdone\n"
    "        LOAD 0 | LOAD 1 | MOD | LOAD 1 | STORE 0\n"
    "        STORE 1 | JMP gcd\n"
    "gdone:  LOAD 0 | RET\n"
    "popc:   ENTER 1          ; popcount(x=l0), l1=count\n"
    "ploop:  LOAD 0 | JZ pdone\n"
    "        LOAD 0 | DUP | PUSH 1 | SUB | AND\n"
    "        STORE 0 | INC 1 1 | JMP ploop\n"
    "pdone:  LOAD 1 | RET\n";

/* ------------------------------------------------------------------ */
/* reference results computed directly                                */
/* ------------------------------------------------------------------ */

static void ref_sieve(uint32_t *out)
{
    static uint8_t comp[200000];
    uint32_t i, j, count = 0, last = 0;
    memset(comp, 0, sizeof(comp));
    for (i = 2; i < 200000; i++) {
        if (comp[i])
            continue;
        count++;
        last = i;
        if (i > 447)
            continue;
        for (j = i * i; j < 200000; j += i)
            comp[j] = 1;
    }
    out[0] = count;
    out[1] = last;
}

static uint32_t ref_fib(uint32_t n)
{
    return n < 2 ? n : ref_fib(n - 1) + ref_fib(n - 2);
}

static void ref_collatz(uint32_t *out)
{
    uint32_t n, best = 0, bestn = 0, total = 0;
    for (n = 1; n < 30000; n++) {
        uint32_t x = n, len = 0;
        while (x != 1) {
            len++;
            x = (x & 1u) ? 3u * x + 1u : x >> 1;
        }
        total += len;
        if (len > best) {
            best = len;
            bestn = n;
        }
    }
    out[0] = bestn;
    out[1] = best;
    out[2] = total;
}

static uint32_t gcd_u(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static void ref_gcd(uint32_t *out)
{
    uint32_t i, j, sum = 0, bits = 0;
    for (i = 1; i <= 220; i++)
        for (j = 1; j <= 220; j++) {
            uint32_t x = i * j;
            sum += gcd_u(i, j);
            while (x) {
                x &= x - 1;
                bits++;
            }
        }
    out[0] = sum;
    out[1] = bits;
}

typedef struct {
    const char *name;
    const char *source;
    int repeat;
} bench_program;

static const bench_program programs[] = {
    {"sieve", prog_sieve, 2},
    {"fib", prog_fib, 1},
    {"collatz", prog_collatz, 1},
    {"sort", prog_sort, 1},
    {"gcd", prog_gcd, 2},
};

int main(void)
{
    static program prog;
    static vm machine;
    uint32_t ref[4];
    size_t k;
    int failures = 0;
    uint64_t total_steps = 0;

    machine.mem = calloc(MEM_WORDS, sizeof(uint32_t));
    if (!machine.mem)
        return 1;
    for (k = 0; k < sizeof(programs) / sizeof(programs[0]); k++) {
        int r, i, rep;
        if (assemble(&prog, programs[k].source) != 0) {
            printf("%s: assembly error line %d: %s\n", programs[k].name, prog.error_line,
                   prog.error);
            failures++;
            continue;
        }
        for (rep = 0; rep < programs[k].repeat; rep++) {
            memset(machine.mem, 0, MEM_WORDS * sizeof(uint32_t));
            r = run(&machine, &prog, 2000000000u);
            total_steps += machine.steps;
            printf("%-8s code %3d steps %9llu rc %d%s%s out", programs[k].name, prog.ncode,
                   (unsigned long long)machine.steps, r, machine.fault ? " fault " : "",
                   machine.fault ? machine.fault : "");
            for (i = 0; i < machine.noutput; i++)
                printf(" %u", (unsigned)machine.output[i]);
            printf("\n");
        }
        /* compare with the reference computation */
        switch (k) {
        case 0: ref_sieve(ref); break;
        case 1: ref[0] = ref_fib(27); break;
        case 2: ref_collatz(ref); break;
        case 4: ref_gcd(ref); break;
        default: ref[0] = machine.output[0]; break;
        }
        if (machine.noutput == 0 || machine.output[0] != ref[0]) {
            printf("%s: mismatch with reference\n", programs[k].name);
            failures++;
        }
    }
    printf("total steps %llu failures %d\n", (unsigned long long)total_steps, failures);
    free(machine.mem);
    return 0;
}
