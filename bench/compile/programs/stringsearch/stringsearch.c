/*
 * stringsearch: exact string matching over generated text.
 *
 *   - naive search (reference)
 *   - Knuth-Morris-Pratt with a failure table
 *   - Boyer-Moore-Horspool with a bad-character table
 *   - Boyer-Moore with bad-character and good-suffix rules
 *   - Rabin-Karp with a rolling hash
 *   - Aho-Corasick over the whole pattern set (goto/failure automaton)
 *   - case-insensitive Horspool
 *
 * Every algorithm counts all (overlapping) occurrences of every pattern; the
 * counts must agree with the naive search.  Texts come from a small
 * alphabet (DNA-like), from words, and from a skewed byte distribution.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_SIZE (1 << 17)
#define NUM_PATTERNS 40
#define MAX_PATTERN 48
#define AC_MAX_STATES (NUM_PATTERNS * MAX_PATTERN + 1)

typedef struct {
    unsigned char text[MAX_PATTERN + 1];
    size_t len;
} pattern;

typedef size_t (*search_fn)(const unsigned char *text, size_t n, const pattern *p);

typedef struct {
    int next[AC_MAX_STATES][256];
    int fail[AC_MAX_STATES];
    int out_count[AC_MAX_STATES]; /* patterns ending here, including via fail links */
    int out_first[AC_MAX_STATES]; /* one pattern id ending exactly here, or -1 */
    int nstates;
} aho_corasick;

static uint32_t rs = 0xBADC0DEu;

static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}

/* ------------------------------------------------------------------ */
/* text and pattern generation                                        */
/* ------------------------------------------------------------------ */

static void gen_dna(unsigned char *t, size_t n)
{
    static const char acgt[4] = {'A', 'C', 'G', 'T'};
    size_t i;
    for (i = 0; i < n; i++) {
        /* occasional tandem repeats */
        if (i >= 8 && (rnd() & 63u) == 0) {
            size_t k, len = 4 + rnd() % 20u;
            for (k = 0; k < len && i < n; k++, i++)
                t[i] = t[i - 4];
            i--;
        } else {
            t[i] = (unsigned char)acgt[rnd() & 3u];
        }
    }
}

static void gen_words(unsigned char *t, size_t n)
{
    static const char *const w[] = {
        "search", "string", "pattern", "text", "match", "shift", "table",
        "Search", "SEARCH", "automaton", "failure", "prefix", "suffix", "the",
        "of", "a", "in", "horspool", "boyer", "moore", "knuth", "morris", "pratt"
    };
    size_t i = 0;
    while (i < n) {
        const char *s = w[rnd() % (sizeof(w) / sizeof(w[0]))];
        while (*s && i < n)
            t[i++] = (unsigned char)*s++;
        if (i < n)
            t[i++] = (rnd() % 9u == 0) ? '\n' : ' ';
    }
}

static void gen_skewed(unsigned char *t, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t r = rnd();
        /* mostly a few bytes, sometimes anything */
        t[i] = (unsigned char)((r & 7u) ? 'a' + (r >> 8) % 3u : (r >> 16) & 0xffu);
    }
}

static void make_patterns(pattern *pats, int count, const unsigned char *text, size_t n)
{
    int i;
    for (i = 0; i < count; i++) {
        size_t len = 1 + rnd() % MAX_PATTERN;
        if (i % 4 == 3) {
            /* random pattern that may not occur */
            size_t k;
            for (k = 0; k < len; k++)
                pats[i].text[k] = text[rnd() % n];
        } else {
            size_t start = rnd() % (n - len);
            memcpy(pats[i].text, text + start, len);
            if (i % 5 == 1 && len > 2)
                pats[i].text[len / 2] ^= 1; /* near miss */
        }
        if (i % 7 == 0 && len > 4)
            len = 2 + i % 3; /* some very short patterns */
        pats[i].text[len] = '\0';
        pats[i].len = len;
    }
}

/* ------------------------------------------------------------------ */
/* single-pattern algorithms                                          */
/* ------------------------------------------------------------------ */

static size_t search_naive(const unsigned char *t, size_t n, const pattern *p)
{
    size_t i, count = 0, m = p->len;
    if (m == 0 || m > n)
        return 0;
    for (i = 0; i + m <= n; i++) {
        size_t k = 0;
        while (k < m && t[i + k] == p->text[k])
            k++;
        if (k == m)
            count++;
    }
    return count;
}

static size_t search_kmp(const unsigned char *t, size_t n, const pattern *p)
{
    size_t fail[MAX_PATTERN + 1];
    size_t m = p->len, i, k, count = 0;
    if (m == 0 || m > n)
        return 0;
    fail[0] = 0;
    k = 0;
    for (i = 1; i < m; i++) {
        while (k > 0 && p->text[i] != p->text[k])
            k = fail[k - 1];
        if (p->text[i] == p->text[k])
            k++;
        fail[i] = k;
    }
    k = 0;
    for (i = 0; i < n; i++) {
        while (k > 0 && t[i] != p->text[k])
            k = fail[k - 1];
        if (t[i] == p->text[k])
            k++;
        if (k == m) {
            count++;
            k = fail[k - 1];
        }
    }
    return count;
}

static size_t search_horspool(const unsigned char *t, size_t n, const pattern *p)
{
    size_t shift[256];
    size_t m = p->len, i, count = 0, pos;
    if (m == 0 || m > n)
        return 0;
    for (i = 0; i < 256; i++)
        shift[i] = m;
    for (i = 0; i + 1 < m; i++)
        shift[p->text[i]] = m - 1 - i;
    pos = 0;
    while (pos + m <= n) {
        unsigned char last = t[pos + m - 1];
        if (last == p->text[m - 1] && memcmp(t + pos, p->text, m - 1) == 0)
            count++;
        pos += shift[last];
    }
    return count;
}

static int fold_case(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static size_t search_horspool_nocase(const unsigned char *t, size_t n, const pattern *p)
{
    size_t shift[256];
    size_t m = p->len, i, count = 0, pos;
    if (m == 0 || m > n)
        return 0;
    for (i = 0; i < 256; i++)
        shift[i] = m;
    for (i = 0; i + 1 < m; i++) {
        int c = fold_case(p->text[i]);
        shift[c] = m - 1 - i;
        if (c >= 'a' && c <= 'z')
            shift[c - ('a' - 'A')] = m - 1 - i;
    }
    pos = 0;
    while (pos + m <= n) {
        size_t k = m;
        while (k > 0 && fold_case(t[pos + k - 1]) == fold_case(p->text[k - 1]))
            k--;
        if (k == 0)
            count++;
        pos += shift[t[pos + m - 1]];
    }
    return count;
}

static size_t search_nocase_naive(const unsigned char *t, size_t n, const pattern *p)
{
    size_t i, count = 0, m = p->len;
    if (m == 0 || m > n)
        return 0;
    for (i = 0; i + m <= n; i++) {
        size_t k = 0;
        while (k < m && fold_case(t[i + k]) == fold_case(p->text[k]))
            k++;
        if (k == m)
            count++;
    }
    return count;
}

static void good_suffix_table(const pattern *p, size_t *gs)
{
    size_t m = p->len, i, j;
    size_t border[MAX_PATTERN + 1];
    /* case 1: the matched suffix occurs elsewhere */
    for (i = 0; i <= m; i++)
        gs[i] = 0;
    i = m;
    j = m + 1;
    border[i] = j;
    while (i > 0) {
        while (j <= m && p->text[i - 1] != p->text[j - 1]) {
            if (gs[j] == 0)
                gs[j] = j - i;
            j = border[j];
        }
        i--;
        j--;
        border[i] = j;
    }
    /* case 2: only a prefix of the pattern matches a suffix */
    j = border[0];
    for (i = 0; i <= m; i++) {
        if (gs[i] == 0)
            gs[i] = j;
        if (i == j)
            j = border[j];
    }
}

static size_t search_boyer_moore(const unsigned char *t, size_t n, const pattern *p)
{
    size_t last[256], gs[MAX_PATTERN + 1];
    size_t m = p->len, i, count = 0, pos = 0;
    if (m == 0 || m > n)
        return 0;
    for (i = 0; i < 256; i++)
        last[i] = 0; /* 0 = not present; else index + 1 */
    for (i = 0; i < m; i++)
        last[p->text[i]] = i + 1;
    good_suffix_table(p, gs);
    while (pos + m <= n) {
        size_t j = m;
        while (j > 0 && p->text[j - 1] == t[pos + j - 1])
            j--;
        if (j == 0) {
            count++;
            pos += gs[0];
        } else {
            size_t lc = last[t[pos + j - 1]];
            size_t bc = lc < j ? j - lc : 1;
            size_t g = gs[j];
            pos += bc > g ? bc : g;
        }
    }
    return count;
}

static size_t search_rabin_karp(const unsigned char *t, size_t n, const pattern *p)
{
    const uint32_t base = 257u;
    size_t m = p->len, i, count = 0;
    uint32_t hp = 0, ht = 0, high = 1;
    if (m == 0 || m > n)
        return 0;
    for (i = 0; i + 1 < m; i++)
        high *= base;
    for (i = 0; i < m; i++) {
        hp = hp * base + p->text[i];
        ht = ht * base + t[i];
    }
    for (i = 0;; i++) {
        if (hp == ht && memcmp(t + i, p->text, m) == 0)
            count++;
        if (i + m >= n)
            break;
        ht = (ht - t[i] * high) * base + t[i + m];
    }
    return count;
}

/* ------------------------------------------------------------------ */
/* Aho-Corasick                                                       */
/* ------------------------------------------------------------------ */

static void ac_build(aho_corasick *ac, const pattern *pats, int count)
{
    int *queue = malloc(AC_MAX_STATES * sizeof(int));
    int head = 0, tail = 0, i, c;
    if (!queue)
        exit(1);
    ac->nstates = 1;
    memset(ac->next[0], -1, sizeof(ac->next[0]));
    ac->fail[0] = 0;
    ac->out_count[0] = 0;
    ac->out_first[0] = -1;
    for (i = 0; i < count; i++) {
        int s = 0;
        size_t k;
        for (k = 0; k < pats[i].len; k++) {
            int ch = pats[i].text[k];
            if (ac->next[s][ch] < 0) {
                int ns = ac->nstates++;
                memset(ac->next[ns], -1, sizeof(ac->next[ns]));
                ac->out_count[ns] = 0;
                ac->out_first[ns] = -1;
                ac->next[s][ch] = ns;
            }
            s = ac->next[s][ch];
        }
        ac->out_count[s]++;
        ac->out_first[s] = i;
    }
    /* breadth-first: failure links, then a complete goto function */
    for (c = 0; c < 256; c++) {
        int s = ac->next[0][c];
        if (s < 0) {
            ac->next[0][c] = 0;
        } else {
            ac->fail[s] = 0;
            queue[tail++] = s;
        }
    }
    while (head < tail) {
        int r = queue[head++];
        ac->out_count[r] += ac->out_count[ac->fail[r]];
        for (c = 0; c < 256; c++) {
            int s = ac->next[r][c];
            if (s < 0) {
                ac->next[r][c] = ac->next[ac->fail[r]][c];
            } else {
                ac->fail[s] = ac->next[ac->fail[r]][c];
                queue[tail++] = s;
            }
        }
    }
    free(queue);
}

/* counts per pattern by walking the dictionary suffix chain at each hit */
static size_t ac_search(const aho_corasick *ac, const unsigned char *t, size_t n,
                        const pattern *pats, size_t *per_pattern)
{
    size_t i, total = 0;
    int s = 0;
    (void)pats;
    for (i = 0; i < n; i++) {
        s = ac->next[s][t[i]];
        if (ac->out_count[s] > 0) {
            int u = s;
            total += (size_t)ac->out_count[s];
            while (u != 0) {
                if (ac->out_first[u] >= 0)
                    per_pattern[ac->out_first[u]]++;
                u = ac->fail[u];
            }
        }
    }
    return total;
}

/* ------------------------------------------------------------------ */

static const struct {
    const char *name;
    search_fn fn;
} algorithms[] = {
    {"kmp", search_kmp},
    {"horspool", search_horspool},
    {"boyer-moore", search_boyer_moore},
    {"rabin-karp", search_rabin_karp},
};

int main(void)
{
    unsigned char *text = malloc(TEXT_SIZE + 1);
    static pattern pats[NUM_PATTERNS];
    static aho_corasick ac;
    size_t ref[NUM_PATTERNS], per[NUM_PATTERNS];
    int kind, i, failures = 0;
    size_t a;
    uint32_t checksum = 0;

    if (!text)
        return 1;
    for (kind = 0; kind < 3; kind++) {
        size_t total = 0, nocase_total = 0, ac_total;
        switch (kind) {
        case 0: gen_dna(text, TEXT_SIZE); break;
        case 1: gen_words(text, TEXT_SIZE); break;
        default: gen_skewed(text, TEXT_SIZE); break;
        }
        text[TEXT_SIZE] = '\0';
        make_patterns(pats, NUM_PATTERNS, text, TEXT_SIZE);
        for (i = 0; i < NUM_PATTERNS; i++) {
            ref[i] = search_naive(text, TEXT_SIZE, &pats[i]);
            total += ref[i];
            checksum = checksum * 31u + (uint32_t)ref[i];
        }
        for (a = 0; a < sizeof(algorithms) / sizeof(algorithms[0]); a++) {
            int bad = 0;
            for (i = 0; i < NUM_PATTERNS; i++)
                if (algorithms[a].fn(text, TEXT_SIZE, &pats[i]) != ref[i])
                    bad++;
            if (bad)
                printf("text %d: %s disagrees on %d patterns\n", kind, algorithms[a].name, bad);
            failures += bad;
        }
        for (i = 0; i < NUM_PATTERNS; i++) {
            size_t x = search_horspool_nocase(text, TEXT_SIZE, &pats[i]);
            if (i % 4 == 0 && x != search_nocase_naive(text, TEXT_SIZE, &pats[i]))
                failures++;
            nocase_total += x;
        }
        /* Aho-Corasick needs distinct patterns for the per-pattern counts */
        for (i = 0; i < NUM_PATTERNS; i++) {
            int j;
            for (j = 0; j < i; j++)
                if (pats[j].len == pats[i].len && memcmp(pats[j].text, pats[i].text, pats[i].len) == 0) {
                    pats[i].text[0] = (unsigned char)(pats[i].text[0] + 1u);
                    ref[i] = search_naive(text, TEXT_SIZE, &pats[i]);
                    j = -1;
                }
        }
        total = 0;
        for (i = 0; i < NUM_PATTERNS; i++)
            total += ref[i];
        ac_build(&ac, pats, NUM_PATTERNS);
        memset(per, 0, sizeof(per));
        ac_total = ac_search(&ac, text, TEXT_SIZE, pats, per);
        for (i = 0; i < NUM_PATTERNS; i++)
            if (per[i] != ref[i])
                failures++;
        printf("text %d matches %lu nocase %lu aho-corasick %lu states %d\n", kind,
               (unsigned long)total, (unsigned long)nocase_total, (unsigned long)ac_total,
               ac.nstates);
        for (i = 0; i < NUM_PATTERNS; i += 8)
            printf("  pattern %2d len %2lu count %lu\n", i, (unsigned long)pats[i].len,
                   (unsigned long)ref[i]);
    }
    printf("failures %d checksum %08x\n", failures, (unsigned)checksum);
    free(text);
    return 0;
}
