/* wordpiece_train.c: WordPiece's merge loop scored by likelihood. Python twin:
 * subtok/models/wordpiece_core.py train_likelihood, mirrored function by function (lentry_before is
 * _Score.__lt__; token counts and the token -> pairs index as there). It runs on the Trainer and Run of
 * bpe_train.c, as the reference runs on bpe_core's count_pairs, merge_everywhere and apply_changes.
 *
 * Scores count(ab) / (count(a) count(b)) are compared exactly by cross-multiplying: counts below 2**42 keep
 * the products within 128 bits (larger counts raise OverflowError and the caller runs the reference).
 */
#define MAX_LIKELIHOOD_COUNT ((int64_t)1 << 42) /* so count(ab) * count(a) * count(b) fits 128 bits */

/* The sign of a*b*c - d*e*f for factors below 2**42 (products below 2**126). Compilers with a 128-bit
 * integer use it; others (MSVC) the portable 64x64 -> 128 product below. Defining SUBTOK_NO_INT128 forces
 * the portable one (tests/sanitize.sh builds it that way, so both are tested). */
#if defined(__SIZEOF_INT128__) && !defined(SUBTOK_NO_INT128)
static inline int cmp_products(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f) {
    unsigned __int128 x = (unsigned __int128)a * ((unsigned __int128)b * c);
    unsigned __int128 y = (unsigned __int128)d * ((unsigned __int128)e * f);
    return (x > y) - (x < y);
}
#else
typedef struct {
    uint64_t hi, lo;
} U128;

static inline U128 mul_64x64(uint64_t a, uint64_t b) {
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    U128 r = {p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32), (mid << 32) | (uint32_t)p00};
    return r;
}

/* x * c, for products that fit 128 bits */
static inline U128 mul_128x64(U128 x, uint64_t c) {
    U128 r = mul_64x64(x.lo, c);
    r.hi += x.hi * c;
    return r;
}

static inline int cmp_products(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f) {
    U128 x = mul_128x64(mul_64x64(b, c), a), y = mul_128x64(mul_64x64(e, f), d);
    if (x.hi != y.hi) return x.hi > y.hi ? 1 : -1;
    return (x.lo > y.lo) - (x.lo < y.lo);
}
#endif

typedef struct {
    int64_t pair_count, count_a, count_b;
    int32_t a, b;
} LEntry;

typedef struct {
    LEntry *e;
    Py_ssize_t n, cap;
    const Keys *keys;
} LHeap;

/* 1 when x pops before y: the higher score count(ab) / (count(a) count(b)), compared exactly by
 * cross-multiplying, then the higher pair count, then the smaller keys. */
static int lentry_before(const LHeap *h, const LEntry *x, const LEntry *y) {
    int c = cmp_products((uint64_t)x->pair_count, (uint64_t)y->count_a, (uint64_t)y->count_b,
                         (uint64_t)y->pair_count, (uint64_t)x->count_a, (uint64_t)x->count_b);
    if (c) return c > 0;
    if (x->pair_count != y->pair_count) return x->pair_count > y->pair_count;
    int r = keys_cmp(h->keys, x->a, y->a);
    if (r) return r < 0;
    return keys_cmp(h->keys, x->b, y->b) < 0;
}

static int lheap_push(LHeap *h, LEntry x) {
    if (h->n == h->cap) {
        Py_ssize_t cap = h->cap ? h->cap * 2 : 1024;
        LEntry *p = realloc(h->e, (size_t)cap * sizeof(LEntry));
        if (!p) return -1;
        h->e = p;
        h->cap = cap;
    }
    Py_ssize_t i = h->n++;
    while (i > 0 && lentry_before(h, &x, &h->e[(i - 1) / 2])) {
        h->e[i] = h->e[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->e[i] = x;
    return 0;
}

static LEntry lheap_pop(LHeap *h) {
    LEntry top = h->e[0], x = h->e[--h->n];
    Py_ssize_t i = 0;
    for (;;) {
        Py_ssize_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && lentry_before(h, &h->e[c + 1], &h->e[c])) c++;
        if (!lentry_before(h, &h->e[c], &x)) break;
        h->e[i] = h->e[c];
        i = c;
    }
    if (h->n) h->e[i] = x;
    return top;
}

/* Per token: its count over all words, and the pairs it is part of (pruned as they die). */
typedef struct {
    int64_t *count;
    uint64_t **pairs;
    Py_ssize_t *npairs, *cap_pairs;
    Py_ssize_t cap;
} Tokens;

static int tokens_reserve(Tokens *tk, Py_ssize_t n) {
    if (n <= tk->cap) return 0;
    Py_ssize_t cap = tk->cap ? tk->cap : 1024;
    while (cap < n) cap *= 2;
    int64_t *c = realloc(tk->count, (size_t)cap * sizeof(int64_t));
    if (c) tk->count = c;
    uint64_t **p = realloc(tk->pairs, (size_t)cap * sizeof(uint64_t *));
    if (p) tk->pairs = p;
    Py_ssize_t *np = realloc(tk->npairs, (size_t)cap * sizeof(Py_ssize_t));
    if (np) tk->npairs = np;
    Py_ssize_t *cp = realloc(tk->cap_pairs, (size_t)cap * sizeof(Py_ssize_t));
    if (cp) tk->cap_pairs = cp;
    if (!c || !p || !np || !cp) return -1;
    for (Py_ssize_t i = tk->cap; i < cap; i++) {
        tk->count[i] = 0;
        tk->pairs[i] = NULL;
        tk->npairs[i] = tk->cap_pairs[i] = 0;
    }
    tk->cap = cap;
    return 0;
}

static int tokens_add_pair(Tokens *tk, int32_t t, uint64_t key) {
    if (tk->npairs[t] == tk->cap_pairs[t]) {
        Py_ssize_t cap = tk->cap_pairs[t] ? tk->cap_pairs[t] * 2 : 4;
        uint64_t *p = realloc(tk->pairs[t], (size_t)cap * sizeof(uint64_t));
        if (!p) return -1;
        tk->pairs[t] = p;
        tk->cap_pairs[t] = cap;
    }
    tk->pairs[t][tk->npairs[t]++] = key;
    return 0;
}

static void tokens_free(Tokens *tk) {
    for (Py_ssize_t i = 0; i < tk->cap; i++) free(tk->pairs ? tk->pairs[i] : NULL);
    free(tk->count);
    free(tk->pairs);
    free(tk->npairs);
    free(tk->cap_pairs);
}

static int64_t live_count(Trainer *t, uint64_t key) {
    int32_t id = pairs_find(&t->pairs, key);
    return id >= 0 ? t->pairs.count[id] : 0;
}

static int lpush(Trainer *t, LHeap *h, const Tokens *tk, uint64_t key) {
    int32_t a = (int32_t)(key >> 32), b = (int32_t)(key & 0xffffffffu);
    return lheap_push(h, (LEntry){live_count(t, key), tk->count[a], tk->count[b], a, b});
}

typedef struct {
    Trainer *t;
    LHeap *heap;
    Tokens *tk;
} LikelihoodCtx;

/* A pair that grew joins its tokens' pair lists and is queued when it counts enough. */
static int likelihood_grew(void *ctx, uint64_t key, int64_t count) {
    LikelihoodCtx *c = ctx;
    if (tokens_add_pair(c->tk, (int32_t)(key >> 32), key) < 0 ||
        tokens_add_pair(c->tk, (int32_t)(key & 0xffffffffu), key) < 0 || lpush(c->t, c->heap, c->tk, key) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* train_likelihood(words, counts, keys, strip, max_tokens, min_frequency, blocked=frozenset(), on_merge=None) */
static PyObject *train_likelihood(PyObject *self, PyObject *args, PyObject *kwargs) {
    Trainer t;
    Run r;
    LHeap heap = {NULL, 0, 0, NULL};
    Tokens tk = {0};
    int ok = run_open(&t, &r, args, kwargs) == 0;
    heap.keys = &t.keys;
    int64_t total = 0;
    for (Py_ssize_t w = 0; ok && w < t.nwords; w++) {
        total += t.word[w].count * t.word[w].len;
        if (t.word[w].count >= MAX_LIKELIHOOD_COUNT || total >= MAX_LIKELIHOOD_COUNT) {
            PyErr_SetString(PyExc_OverflowError, "counts too large for the native likelihood trainer (2**42)");
            ok = 0;
        }
    }
    ok = ok && tokens_reserve(&tk, t.keys.n + 1) == 0 && count_pairs(&t) == 0;
    if (!ok && !PyErr_Occurred()) PyErr_NoMemory();
    for (Py_ssize_t w = 0; ok && w < t.nwords; w++)
        for (Py_ssize_t i = 0; i < t.word[w].len; i++) tk.count[t.sym[t.word[w].start + i]] += t.word[w].count;
    LikelihoodCtx ctx = {&t, &heap, &tk};
    for (int32_t id = 0; ok && id < t.pairs.n; id++) {
        uint64_t key = t.pairs.key[id];
        if (t.pairs.count[id] <= 0) continue;
        ok = tokens_add_pair(&tk, (int32_t)(key >> 32), key) == 0 &&
             tokens_add_pair(&tk, (int32_t)(key & 0xffffffffu), key) == 0 &&
             (t.pairs.count[id] < r.min_frequency || lpush(&t, &heap, &tk, key) == 0);
        if (!ok) PyErr_NoMemory();
    }
    while (ok && t.keys.n < r.max_tokens && heap.n) {
        LEntry top = lheap_pop(&heap);
        uint64_t pkey = pair_key(top.a, top.b);
        int64_t live = live_count(&t, pkey), merged;
        if (live < r.min_frequency) continue; /* a pair's count never grows back */
        if (live != top.pair_count || tk.count[top.a] != top.count_a || tk.count[top.b] != top.count_b) {
            ok = lpush(&t, &heap, &tk, pkey) == 0; /* stale: re-queue at its score now */
            if (!ok) PyErr_NoMemory();
            continue;
        }
        int32_t z;
        int made = new_token(&t, &r, top.a, top.b, &z);
        if (made == 1) continue;
        ok = made == 0 && tokens_reserve(&tk, t.keys.n) == 0;
        if (made == 0 && !ok) PyErr_NoMemory();
        ok = ok && merge_everywhere(&t, &r, top.a, top.b, z, &merged) == 0;
        if (!ok) break;
        tk.count[top.a] -= merged;
        tk.count[top.b] -= merged;
        tk.count[z] += merged;
        ok = apply_changes(&t, pkey, likelihood_grew, &ctx) == 0;
        int32_t touched[3] = {top.a, top.b, z}; /* their counts changed: so did the scores of their pairs */
        for (int q = 0; ok && q < 3; q++) {
            int32_t tok = touched[q];
            Py_ssize_t kept = 0;
            for (Py_ssize_t k = 0; ok && k < tk.npairs[tok]; k++) {
                uint64_t key = tk.pairs[tok][k];
                if (live_count(&t, key) < r.min_frequency) continue; /* dead for good: prune */
                tk.pairs[tok][kept++] = key;
                ok = lpush(&t, &heap, &tk, key) == 0;
                if (!ok) PyErr_NoMemory();
            }
            tk.npairs[tok] = kept;
        }
        ok = ok && step_done(&t, &r) == 0;
    }
    tokens_free(&tk);
    free(heap.e);
    return run_close(&t, &r, ok);
}
