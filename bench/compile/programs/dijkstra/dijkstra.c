/*
 * dijkstra: single-source shortest paths on a generated sparse road-like
 * graph, using a binary min-heap with decrease-key.
 *
 * The graph is a jittered grid (each node linked to its grid neighbours) plus
 * random long-range "highway" edges.  Edges are stored in compressed sparse
 * row form.  For several sources the program runs Dijkstra, rebuilds a few
 * shortest paths from the predecessor array, checks them against the
 * distances, and runs a Bellman-Ford style relaxation check on one source.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRID_W 160
#define GRID_H 120
#define NUM_NODES (GRID_W * GRID_H)
#define NUM_HIGHWAYS 3000
#define NUM_SOURCES 40
#define INF_DIST UINT64_MAX

typedef struct {
    uint32_t from;
    uint32_t to;
    uint32_t weight;
} edge;

typedef struct {
    uint32_t num_nodes;
    uint32_t num_edges;
    uint32_t *offsets;  /* num_nodes + 1 */
    uint32_t *targets;  /* num_edges */
    uint32_t *weights;  /* num_edges */
} graph;

typedef struct {
    uint32_t *nodes;    /* heap array of node ids */
    uint32_t *pos;      /* position of node in heap, or NOT_IN_HEAP */
    const uint64_t *key;
    uint32_t size;
} min_heap;

#define NOT_IN_HEAP UINT32_MAX

typedef struct {
    uint64_t *dist;
    uint32_t *pred;
    uint32_t settled;
    uint32_t relaxations;
    uint32_t heap_ops;
} sssp_result;

/* ------------------------------------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rand32(void)
{
    /* splitmix64 */
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 16);
}

static uint32_t rand_range(uint32_t n)
{
    return rand32() % n;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* graph construction                                                 */
/* ------------------------------------------------------------------ */

static uint32_t node_id(uint32_t x, uint32_t y)
{
    return y * GRID_W + x;
}

static uint32_t edge_cost(uint32_t a, uint32_t b, uint32_t base)
{
    uint32_t ax = a % GRID_W, ay = a / GRID_W;
    uint32_t bx = b % GRID_W, by = b / GRID_W;
    uint32_t dx = ax > bx ? ax - bx : bx - ax;
    uint32_t dy = ay > by ? ay - by : by - ay;
    return base * (dx + dy) + rand_range(base);
}

static size_t generate_edges(edge *edges, size_t cap)
{
    size_t n = 0;
    uint32_t x, y, i;
    for (y = 0; y < GRID_H; y++) {
        for (x = 0; x < GRID_W; x++) {
            uint32_t a = node_id(x, y);
            /* occasionally drop a street to make the grid irregular */
            if (x + 1 < GRID_W && rand_range(10) != 0 && n + 2 <= cap) {
                uint32_t b = node_id(x + 1, y);
                uint32_t w = edge_cost(a, b, 10 + rand_range(40));
                edges[n++] = (edge){a, b, w};
                edges[n++] = (edge){b, a, w + rand_range(3)};
            }
            if (y + 1 < GRID_H && rand_range(10) != 0 && n + 2 <= cap) {
                uint32_t b = node_id(x, y + 1);
                uint32_t w = edge_cost(a, b, 10 + rand_range(40));
                edges[n++] = (edge){a, b, w};
                edges[n++] = (edge){b, a, w};
            }
            if (x + 1 < GRID_W && y + 1 < GRID_H && rand_range(7) == 0 && n < cap) {
                uint32_t b = node_id(x + 1, y + 1);
                edges[n++] = (edge){a, b, edge_cost(a, b, 14)};
            }
        }
    }
    for (i = 0; i < NUM_HIGHWAYS && n + 2 <= cap; i++) {
        uint32_t a = rand_range(NUM_NODES), b = rand_range(NUM_NODES);
        uint32_t w;
        if (a == b)
            continue;
        w = edge_cost(a, b, 4) + 50;
        edges[n++] = (edge){a, b, w};
        edges[n++] = (edge){b, a, w};
    }
    return n;
}

static void build_csr(graph *g, const edge *edges, size_t m)
{
    uint32_t *fill;
    size_t i;
    uint32_t v;
    g->num_nodes = NUM_NODES;
    g->num_edges = (uint32_t)m;
    g->offsets = xmalloc((NUM_NODES + 1) * sizeof(uint32_t));
    g->targets = xmalloc(m * sizeof(uint32_t));
    g->weights = xmalloc(m * sizeof(uint32_t));
    memset(g->offsets, 0, (NUM_NODES + 1) * sizeof(uint32_t));
    for (i = 0; i < m; i++)
        g->offsets[edges[i].from + 1]++;
    for (v = 0; v < NUM_NODES; v++)
        g->offsets[v + 1] += g->offsets[v];
    fill = xmalloc(NUM_NODES * sizeof(uint32_t));
    memcpy(fill, g->offsets, NUM_NODES * sizeof(uint32_t));
    for (i = 0; i < m; i++) {
        uint32_t slot = fill[edges[i].from]++;
        g->targets[slot] = edges[i].to;
        g->weights[slot] = edges[i].weight;
    }
    free(fill);
}

static void free_graph(graph *g)
{
    free(g->offsets);
    free(g->targets);
    free(g->weights);
}

/* ------------------------------------------------------------------ */
/* binary heap keyed by an external distance array                    */
/* ------------------------------------------------------------------ */

static void heap_init(min_heap *h, uint32_t n, const uint64_t *key)
{
    uint32_t i;
    h->nodes = xmalloc(n * sizeof(uint32_t));
    h->pos = xmalloc(n * sizeof(uint32_t));
    for (i = 0; i < n; i++)
        h->pos[i] = NOT_IN_HEAP;
    h->key = key;
    h->size = 0;
}

static void heap_free(min_heap *h)
{
    free(h->nodes);
    free(h->pos);
}

static int heap_less(const min_heap *h, uint32_t a, uint32_t b)
{
    uint64_t ka = h->key[h->nodes[a]], kb = h->key[h->nodes[b]];
    if (ka != kb)
        return ka < kb;
    return h->nodes[a] < h->nodes[b];
}

static void heap_swap(min_heap *h, uint32_t a, uint32_t b)
{
    uint32_t na = h->nodes[a], nb = h->nodes[b];
    h->nodes[a] = nb;
    h->nodes[b] = na;
    h->pos[nb] = a;
    h->pos[na] = b;
}

static void sift_up(min_heap *h, uint32_t i)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!heap_less(h, i, parent))
            break;
        heap_swap(h, i, parent);
        i = parent;
    }
}

static void sift_down(min_heap *h, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < h->size && heap_less(h, l, best))
            best = l;
        if (r < h->size && heap_less(h, r, best))
            best = r;
        if (best == i)
            break;
        heap_swap(h, i, best);
        i = best;
    }
}

static void heap_push_or_decrease(min_heap *h, uint32_t node)
{
    uint32_t p = h->pos[node];
    if (p == NOT_IN_HEAP) {
        p = h->size++;
        h->nodes[p] = node;
        h->pos[node] = p;
    }
    sift_up(h, p);
}

static uint32_t heap_pop(min_heap *h)
{
    uint32_t top = h->nodes[0];
    h->size--;
    h->pos[top] = NOT_IN_HEAP;
    if (h->size > 0) {
        h->nodes[0] = h->nodes[h->size];
        h->pos[h->nodes[0]] = 0;
        sift_down(h, 0);
    }
    return top;
}

/* ------------------------------------------------------------------ */
/* algorithms                                                         */
/* ------------------------------------------------------------------ */

static void dijkstra(const graph *g, uint32_t source, sssp_result *res)
{
    min_heap heap;
    uint32_t v;
    for (v = 0; v < g->num_nodes; v++) {
        res->dist[v] = INF_DIST;
        res->pred[v] = UINT32_MAX;
    }
    res->settled = res->relaxations = res->heap_ops = 0;
    heap_init(&heap, g->num_nodes, res->dist);
    res->dist[source] = 0;
    heap_push_or_decrease(&heap, source);
    while (heap.size > 0) {
        uint32_t u = heap_pop(&heap);
        uint32_t e;
        res->settled++;
        res->heap_ops++;
        for (e = g->offsets[u]; e < g->offsets[u + 1]; e++) {
            uint32_t t = g->targets[e];
            uint64_t nd = res->dist[u] + g->weights[e];
            if (nd < res->dist[t]) {
                res->dist[t] = nd;
                res->pred[t] = u;
                res->relaxations++;
                heap_push_or_decrease(&heap, t);
                res->heap_ops++;
            }
        }
    }
    heap_free(&heap);
}

/* checks the triangle property d[t] <= d[u] + w for every edge */
static uint32_t verify_relaxed(const graph *g, const uint64_t *dist)
{
    uint32_t u, bad = 0;
    for (u = 0; u < g->num_nodes; u++) {
        uint32_t e;
        if (dist[u] == INF_DIST)
            continue;
        for (e = g->offsets[u]; e < g->offsets[u + 1]; e++)
            if (dist[g->targets[e]] > dist[u] + g->weights[e])
                bad++;
    }
    return bad;
}

static uint32_t edge_weight(const graph *g, uint32_t u, uint32_t v)
{
    uint32_t e, best = UINT32_MAX;
    for (e = g->offsets[u]; e < g->offsets[u + 1]; e++)
        if (g->targets[e] == v && g->weights[e] < best)
            best = g->weights[e];
    return best;
}

/* walks the predecessor chain and sums edge weights; returns hop count */
static uint32_t path_check(const graph *g, const sssp_result *res,
                           uint32_t source, uint32_t target, int *ok)
{
    uint64_t sum = 0;
    uint32_t hops = 0, v = target;
    *ok = 1;
    if (res->dist[target] == INF_DIST)
        return 0;
    while (v != source) {
        uint32_t p = res->pred[v];
        uint32_t w;
        if (p == UINT32_MAX || hops > g->num_nodes) {
            *ok = 0;
            return hops;
        }
        w = edge_weight(g, p, v);
        sum += w;
        v = p;
        hops++;
    }
    if (sum != res->dist[target])
        *ok = 0;
    return hops;
}

static uint32_t count_components(const graph *g)
{
    uint32_t *stack = xmalloc(g->num_nodes * sizeof(uint32_t));
    uint8_t *seen = xmalloc(g->num_nodes);
    uint32_t comps = 0, s;
    memset(seen, 0, g->num_nodes);
    for (s = 0; s < g->num_nodes; s++) {
        uint32_t top = 0;
        if (seen[s])
            continue;
        comps++;
        seen[s] = 1;
        stack[top++] = s;
        while (top > 0) {
            uint32_t u = stack[--top], e;
            for (e = g->offsets[u]; e < g->offsets[u + 1]; e++) {
                uint32_t t = g->targets[e];
                if (!seen[t]) {
                    seen[t] = 1;
                    stack[top++] = t;
                }
            }
        }
    }
    free(stack);
    free(seen);
    return comps;
}

int main(void)
{
    size_t cap = (size_t)NUM_NODES * 6 + 2 * NUM_HIGHWAYS;
    edge *edges = xmalloc(cap * sizeof(edge));
    graph g;
    sssp_result res;
    uint64_t checksum = 0;
    uint32_t s, bad_paths = 0;
    size_t m = generate_edges(edges, cap);

    build_csr(&g, edges, m);
    free(edges);
    printf("nodes %u edges %u components %u\n", (unsigned)g.num_nodes,
           (unsigned)g.num_edges, (unsigned)count_components(&g));

    res.dist = xmalloc(g.num_nodes * sizeof(uint64_t));
    res.pred = xmalloc(g.num_nodes * sizeof(uint32_t));

    for (s = 0; s < NUM_SOURCES; s++) {
        uint32_t source = (s * 7919u + 13u) % g.num_nodes;
        uint64_t far = 0, sum = 0;
        uint32_t v, far_node = source, reached = 0, k, hops = 0;
        dijkstra(&g, source, &res);
        for (v = 0; v < g.num_nodes; v++) {
            if (res.dist[v] == INF_DIST)
                continue;
            reached++;
            sum += res.dist[v];
            if (res.dist[v] > far) {
                far = res.dist[v];
                far_node = v;
            }
        }
        for (k = 0; k < 8; k++) {
            int ok;
            uint32_t target = k == 0 ? far_node : rand_range(g.num_nodes);
            hops += path_check(&g, &res, source, target, &ok);
            bad_paths += !ok;
        }
        if (s == 0)
            printf("relaxation violations %u\n", (unsigned)verify_relaxed(&g, res.dist));
        printf("source %5u reached %u settled %u relax %u heap %u far %llu@%u sum %llu hops %u\n",
               (unsigned)source, (unsigned)reached, (unsigned)res.settled,
               (unsigned)res.relaxations, (unsigned)res.heap_ops,
               (unsigned long long)far, (unsigned)far_node,
               (unsigned long long)sum, (unsigned)hops);
        checksum = checksum * 1000003u + sum + far * 31u + res.relaxations;
    }
    printf("bad paths %u checksum %016llx\n", (unsigned)bad_paths,
           (unsigned long long)checksum);
    free(res.dist);
    free(res.pred);
    free_graph(&g);
    return 0;
}
