/*
 * bst_list: pointer-chasing data structures built from malloc'd nodes.
 *
 *   - an unbalanced binary search tree with insert, lookup, delete (with
 *     in-order successor), in-order traversal with an explicit stack, height
 *     and range counting
 *   - a doubly linked list used as an LRU cache in front of the tree
 *   - a singly linked list with push, reverse, merge sort, dedupe and
 *     interleaving
 *
 * A generated sequence of operations drives the structures; counters and
 * traversal checksums are printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_OPS 400000
#define KEY_SPACE 60000u
#define LRU_CAPACITY 512
#define LIST_SIZE 120000

typedef struct tree_node {
    uint32_t key;
    uint32_t value;
    uint32_t hits;
    struct tree_node *left;
    struct tree_node *right;
} tree_node;

typedef struct {
    tree_node *root;
    size_t size;
    unsigned long steps;
} bst;

typedef struct lru_entry {
    uint32_t key;
    uint32_t value;
    struct lru_entry *prev;
    struct lru_entry *next;
    struct lru_entry *chain; /* hash bucket chain */
} lru_entry;

#define LRU_BUCKETS 1024

typedef struct {
    lru_entry *head; /* most recent */
    lru_entry *tail; /* least recent */
    lru_entry *buckets[LRU_BUCKETS];
    size_t size;
    unsigned long hits;
    unsigned long misses;
    unsigned long evictions;
} lru_cache;

typedef struct list_node {
    int32_t value;
    struct list_node *next;
} list_node;

/* ------------------------------------------------------------------ */

static uint32_t rng = 0xC0FFEEu;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* binary search tree                                                 */
/* ------------------------------------------------------------------ */

static tree_node *bst_find(bst *t, uint32_t key)
{
    tree_node *n = t->root;
    while (n) {
        t->steps++;
        if (key == n->key)
            return n;
        n = key < n->key ? n->left : n->right;
    }
    return NULL;
}

static int bst_insert(bst *t, uint32_t key, uint32_t value)
{
    tree_node **link = &t->root;
    tree_node *n;
    while (*link) {
        t->steps++;
        if (key == (*link)->key) {
            (*link)->value = value;
            return 0;
        }
        link = key < (*link)->key ? &(*link)->left : &(*link)->right;
    }
    n = xmalloc(sizeof(*n));
    n->key = key;
    n->value = value;
    n->hits = 0;
    n->left = n->right = NULL;
    *link = n;
    t->size++;
    return 1;
}

static int bst_delete(bst *t, uint32_t key)
{
    tree_node **link = &t->root;
    tree_node *n;
    while (*link && (*link)->key != key) {
        t->steps++;
        link = key < (*link)->key ? &(*link)->left : &(*link)->right;
    }
    n = *link;
    if (!n)
        return 0;
    if (!n->left) {
        *link = n->right;
    } else if (!n->right) {
        *link = n->left;
    } else {
        /* replace by in-order successor */
        tree_node **slink = &n->right;
        tree_node *s;
        while ((*slink)->left) {
            t->steps++;
            slink = &(*slink)->left;
        }
        s = *slink;
        *slink = s->right;
        s->left = n->left;
        s->right = n->right;
        *link = s;
    }
    free(n);
    t->size--;
    return 1;
}

static int bst_height(const tree_node *n)
{
    int hl, hr;
    if (!n)
        return 0;
    hl = bst_height(n->left);
    hr = bst_height(n->right);
    return 1 + (hl > hr ? hl : hr);
}

static size_t bst_count_range(const tree_node *n, uint32_t lo, uint32_t hi)
{
    size_t c = 0;
    while (n) {
        if (n->key < lo) {
            n = n->right;
        } else if (n->key > hi) {
            n = n->left;
        } else {
            c += 1 + bst_count_range(n->left, lo, hi);
            n = n->right;
        }
    }
    return c;
}

/* in-order walk with an explicit stack; returns a checksum, checks order */
static uint32_t bst_walk(const bst *t, int *sorted)
{
    const tree_node **stack = xmalloc((t->size + 1) * sizeof(*stack));
    const tree_node *n = t->root;
    size_t sp = 0;
    uint32_t h = 0, last = 0;
    int first = 1;
    *sorted = 1;
    while (n || sp > 0) {
        while (n) {
            stack[sp++] = n;
            n = n->left;
        }
        n = stack[--sp];
        if (!first && n->key <= last)
            *sorted = 0;
        first = 0;
        last = n->key;
        h = h * 31u + n->key + n->value * 7u + n->hits;
        n = n->right;
    }
    free(stack);
    return h;
}

static void bst_destroy(tree_node *n)
{
    while (n) {
        tree_node *l = n->left;
        bst_destroy(n->right);
        free(n);
        n = l;
    }
}

/* ------------------------------------------------------------------ */
/* LRU cache                                                          */
/* ------------------------------------------------------------------ */

static unsigned lru_bucket(uint32_t key)
{
    return (key * 2654435761u) >> 22;
}

static void lru_unlink(lru_cache *c, lru_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(lru_cache *c, lru_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static void lru_remove_from_bucket(lru_cache *c, lru_entry *e)
{
    lru_entry **link = &c->buckets[lru_bucket(e->key)];
    while (*link != e)
        link = &(*link)->chain;
    *link = e->chain;
}

static lru_entry *lru_lookup(lru_cache *c, uint32_t key)
{
    lru_entry *e = c->buckets[lru_bucket(key)];
    while (e && e->key != key)
        e = e->chain;
    return e;
}

static void lru_invalidate(lru_cache *c, uint32_t key)
{
    lru_entry *e = lru_lookup(c, key);
    if (!e)
        return;
    lru_unlink(c, e);
    lru_remove_from_bucket(c, e);
    free(e);
    c->size--;
}

/* returns 1 and the value if found in cache or tree, 0 otherwise */
static int cached_get(lru_cache *c, bst *t, uint32_t key, uint32_t *value)
{
    lru_entry *e = lru_lookup(c, key);
    tree_node *n;
    if (e) {
        c->hits++;
        lru_unlink(c, e);
        lru_push_front(c, e);
        *value = e->value;
        return 1;
    }
    c->misses++;
    n = bst_find(t, key);
    if (!n)
        return 0;
    n->hits++;
    if (c->size >= LRU_CAPACITY) {
        lru_entry *victim = c->tail;
        lru_unlink(c, victim);
        lru_remove_from_bucket(c, victim);
        free(victim);
        c->size--;
        c->evictions++;
    }
    e = xmalloc(sizeof(*e));
    e->key = key;
    e->value = n->value;
    e->chain = c->buckets[lru_bucket(key)];
    c->buckets[lru_bucket(key)] = e;
    lru_push_front(c, e);
    c->size++;
    *value = n->value;
    return 1;
}

static void lru_destroy(lru_cache *c)
{
    lru_entry *e = c->head;
    while (e) {
        lru_entry *n = e->next;
        free(e);
        e = n;
    }
}

/* ------------------------------------------------------------------ */
/* singly linked list                                                 */
/* ------------------------------------------------------------------ */

static list_node *list_push(list_node *head, int32_t v)
{
    list_node *n = xmalloc(sizeof(*n));
    n->value = v;
    n->next = head;
    return n;
}

static list_node *list_reverse(list_node *head)
{
    list_node *prev = NULL;
    while (head) {
        list_node *n = head->next;
        head->next = prev;
        prev = head;
        head = n;
    }
    return prev;
}

static list_node *list_merge(list_node *a, list_node *b)
{
    list_node dummy, *tail = &dummy;
    dummy.next = NULL;
    while (a && b) {
        if (a->value <= b->value) {
            tail->next = a;
            a = a->next;
        } else {
            tail->next = b;
            b = b->next;
        }
        tail = tail->next;
    }
    tail->next = a ? a : b;
    return dummy.next;
}

static list_node *list_sort(list_node *head)
{
    list_node *slow, *fast, *second;
    if (!head || !head->next)
        return head;
    slow = head;
    fast = head->next;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
    }
    second = slow->next;
    slow->next = NULL;
    return list_merge(list_sort(head), list_sort(second));
}

static size_t list_dedupe(list_node *head)
{
    size_t removed = 0;
    while (head && head->next) {
        if (head->next->value == head->value) {
            list_node *d = head->next;
            head->next = d->next;
            free(d);
            removed++;
        } else {
            head = head->next;
        }
    }
    return removed;
}

static list_node *list_interleave(list_node *a, list_node *b)
{
    list_node dummy, *tail = &dummy;
    int turn = 0;
    dummy.next = NULL;
    while (a || b) {
        list_node **src = (turn == 0 && a) || !b ? &a : &b;
        tail->next = *src;
        *src = (*src)->next;
        tail = tail->next;
        turn ^= 1;
    }
    tail->next = NULL;
    return dummy.next;
}

static uint32_t list_checksum(const list_node *n, size_t *len)
{
    uint32_t h = 5381u;
    size_t count = 0;
    while (n) {
        h = (h << 5) + h + (uint32_t)n->value;
        count++;
        n = n->next;
    }
    *len = count;
    return h;
}

static void list_free(list_node *n)
{
    while (n) {
        list_node *next = n->next;
        free(n);
        n = next;
    }
}

/* ------------------------------------------------------------------ */

int main(void)
{
    bst tree = {NULL, 0, 0};
    lru_cache *cache = calloc(1, sizeof(lru_cache));
    unsigned long inserted = 0, deleted = 0, found = 0, missing = 0;
    uint32_t value_sum = 0, i;
    int sorted;
    list_node *a = NULL, *b = NULL, *merged;
    size_t len, removed;
    uint32_t h;

    if (!cache)
        return 1;
    for (i = 0; i < NUM_OPS; i++) {
        uint32_t r = next_rand();
        uint32_t key = (r >> 8) % KEY_SPACE;
        uint32_t v;
        switch (r & 7u) {
        case 0:
        case 1:
        case 2:
            inserted += (unsigned long)bst_insert(&tree, key, r >> 4);
            lru_invalidate(cache, key);
            break;
        case 3:
            if (bst_delete(&tree, key)) {
                deleted++;
                lru_invalidate(cache, key);
            }
            break;
        default:
            /* lookups favour a hot set of keys */
            if (r & 0x10u)
                key %= 400u;
            if (cached_get(cache, &tree, key, &v)) {
                found++;
                value_sum += v;
            } else {
                missing++;
            }
            break;
        }
        if ((i & 0xffffu) == 0xffffu)
            printf("op %u size %lu height %d\n", (unsigned)i + 1, (unsigned long)tree.size,
                   bst_height(tree.root));
    }
    h = bst_walk(&tree, &sorted);
    printf("tree size %lu inserted %lu deleted %lu found %lu missing %lu\n",
           (unsigned long)tree.size, inserted, deleted, found, missing);
    printf("tree walk %08x sorted %d steps %lu range %lu value sum %08x\n", (unsigned)h, sorted,
           tree.steps, (unsigned long)bst_count_range(tree.root, 10000, 20000),
           (unsigned)value_sum);
    printf("cache size %lu hits %lu misses %lu evictions %lu\n", (unsigned long)cache->size,
           cache->hits, cache->misses, cache->evictions);

    for (i = 0; i < LIST_SIZE; i++) {
        int32_t v = (int32_t)(next_rand() % 50000u) - 25000;
        if (i & 1u)
            a = list_push(a, v);
        else
            b = list_push(b, v);
    }
    h = list_checksum(a, &len);
    printf("list a len %lu hash %08x\n", (unsigned long)len, (unsigned)h);
    a = list_reverse(a);
    h = list_checksum(a, &len);
    printf("list a reversed hash %08x\n", (unsigned)h);
    merged = list_interleave(a, b);
    h = list_checksum(merged, &len);
    printf("interleaved len %lu hash %08x\n", (unsigned long)len, (unsigned)h);
    merged = list_sort(merged);
    h = list_checksum(merged, &len);
    printf("sorted len %lu hash %08x min %d\n", (unsigned long)len, (unsigned)h,
           (int)merged->value);
    removed = list_dedupe(merged);
    h = list_checksum(merged, &len);
    printf("dedupe removed %lu len %lu hash %08x\n", (unsigned long)removed,
           (unsigned long)len, (unsigned)h);
    list_free(merged);

    bst_destroy(tree.root);
    lru_destroy(cache);
    free(cache);
    return 0;
}
