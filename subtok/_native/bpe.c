/* subtok._native: the BPE merge loop and word encoder, and WordPiece's longest-match encoder, in C.
 *
 * This file mirrors subtok/models/bpe_core.py and wordpiece_core.py function by function, with the same
 * inputs, outputs and tie-breaks, so they can be read side by side:
 *
 *   count_pairs        <-> count_pairs
 *   merge_word         <-> merge_word
 *   train_merges       <-> train_merges
 *   encode_scan        <-> _encode_scan
 *   encode_heap        <-> _encode_heap
 *   make_merge_table   <-> make_merge_table
 *   encode_symbols     <-> encode_symbols
 *   split_gpt2         <-> split_gpt2 (the reference is the regex; this scans a class table by hand)
 *   count_gpt2         <-> count_gpt2
 *   train_likelihood   <-> wordpiece_core.train_likelihood (exact scores in 128-bit integers: counts < 2**42)
 *   make_trie          <-> wordpiece_core.make_trie (a hash table of (node, code point) edges)
 *   longest_match      <-> wordpiece_core.longest_match (encode_longest_match adds the unknown token and
 *                          the length limit)
 *   BertEncoder        <-> wordpiece_core.BertEncoder (the normalizer comes as BertNormalizer.table())
 *   csr_dot            <-> sparse.csr_dot (a sparse matrix times a dense one, for the randomized SVD)
 *   alias_build        <-> nn.layers.AliasTable (Walker's alias table for the negatives)
 *   sgns_train         <-> Word2Vec._epoch_numpy (word2vec: the same algorithm, a word at a time here and a
 *                          minibatch at a time there, so equal in distribution, not bit for bit; the
 *                          minibatch shares negatives within blocks and holds a row to UPDATE_CAP
 *                          updates, which one word at a time needs not)
 *   ByteLevelEncoder   <-> ByteLevelEncoder (encode_word, encode_text, encode_batch; a call takes the
 *                          shared word cache when it is free and a private one when it is not, so
 *                          threads never wait on each other)
 *
 * Written against the CPython C API (no Cython) so the build needs nothing but a C11 compiler and the
 * Python headers, and so the hot loops use plain arrays and open-addressing hash tables. Every Python
 * input is checked before use; the merge encoder releases the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#define HEAP_MIN_SYMBOLS 48 /* as bpe_core.HEAP_MIN_SYMBOLS */

/* ------------------------------------------------------------------------------------------------ */
/* Small containers                                                                                 */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    int32_t *v;
    Py_ssize_t n, cap;
} IntVec;

static int ivec_push(IntVec *a, int32_t x) {
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? a->cap * 2 : 4;
        int32_t *p = realloc(a->v, (size_t)cap * sizeof(int32_t));
        if (!p) return -1;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

static inline uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

static inline size_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (size_t)x;
}

/* Pair -> (count, words holding it). Entries are never removed: a count of 0 means gone. */
typedef struct {
    uint64_t key;
    int64_t count;
    IntVec where;
    int used;
} PairSlot;

typedef struct {
    PairSlot *slots;
    size_t cap, n;
} PairMap;

static int pmap_init(PairMap *m, size_t cap) {
    m->cap = 64;
    while (m->cap < cap * 2) m->cap <<= 1;
    m->n = 0;
    m->slots = calloc(m->cap, sizeof(PairSlot));
    return m->slots ? 0 : -1;
}

static void pmap_free(PairMap *m) {
    if (!m->slots) return;
    for (size_t i = 0; i < m->cap; i++) free(m->slots[i].where.v);
    free(m->slots);
    m->slots = NULL;
}

static int pmap_grow(PairMap *m) {
    size_t cap = m->cap * 2;
    PairSlot *slots = calloc(cap, sizeof(PairSlot));
    if (!slots) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].used) continue;
        size_t j = mix64(m->slots[i].key) & (cap - 1);
        while (slots[j].used) j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* The slot of a pair; with create, a new empty slot when absent (NULL on allocation failure).
 * The pointer is valid until the next call that creates. */
static PairSlot *pmap_get(PairMap *m, uint64_t key, int create) {
    size_t j = mix64(key) & (m->cap - 1);
    while (m->slots[j].used) {
        if (m->slots[j].key == key) return &m->slots[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (!create) return NULL;
    if ((m->n + 1) * 2 > m->cap) {
        if (pmap_grow(m) < 0) return NULL;
        return pmap_get(m, key, create);
    }
    m->slots[j].used = 1;
    m->slots[j].key = key;
    m->n++;
    return &m->slots[j];
}

/* Pair -> count change during one merge; `order` lists the used slots so iteration and clearing cost
 * what was touched, not the table's size. */
typedef struct {
    uint64_t *keys;
    int64_t *deltas;
    uint8_t *used;
    size_t *order;
    size_t cap, n;
} DeltaMap;

static int dmap_init(DeltaMap *d, size_t cap) {
    d->cap = cap;
    d->n = 0;
    d->keys = malloc(cap * sizeof(uint64_t));
    d->deltas = malloc(cap * sizeof(int64_t));
    d->used = calloc(cap, 1);
    d->order = malloc(cap * sizeof(size_t));
    return (d->keys && d->deltas && d->used && d->order) ? 0 : -1;
}

static void dmap_free(DeltaMap *d) {
    free(d->keys);
    free(d->deltas);
    free(d->used);
    free(d->order);
}

static void dmap_insert(DeltaMap *d, uint64_t key, int64_t delta) {
    size_t j = mix64(key) & (d->cap - 1);
    while (d->used[j]) {
        if (d->keys[j] == key) {
            d->deltas[j] += delta;
            return;
        }
        j = (j + 1) & (d->cap - 1);
    }
    d->used[j] = 1;
    d->keys[j] = key;
    d->deltas[j] = delta;
    d->order[d->n++] = j;
}

static int dmap_add(DeltaMap *d, uint64_t key, int64_t delta) {
    if ((d->n + 1) * 2 > d->cap) {
        DeltaMap bigger;
        if (dmap_init(&bigger, d->cap * 2) < 0) {
            dmap_free(&bigger);
            return -1;
        }
        for (size_t k = 0; k < d->n; k++) dmap_insert(&bigger, d->keys[d->order[k]], d->deltas[d->order[k]]);
        dmap_free(d);
        *d = bigger;
    }
    dmap_insert(d, key, delta);
    return 0;
}

static void dmap_clear(DeltaMap *d) {
    for (size_t k = 0; k < d->n; k++) d->used[d->order[k]] = 0;
    d->n = 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Token keys (bytes): storage, comparison, key -> id                                               */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    char **p;
    Py_ssize_t *len;
    Py_ssize_t n, cap;
    int32_t *table; /* open addressing: id + 1, 0 = empty */
    size_t tcap;
} Keys;

static size_t hash_bytes(const char *p, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return mix64(h);
}

static int keys_cmp(const Keys *k, int32_t a, int32_t b) {
    Py_ssize_t la = k->len[a], lb = k->len[b];
    int r = memcmp(k->p[a], k->p[b], (size_t)(la < lb ? la : lb));
    if (r) return r;
    return (la > lb) - (la < lb);
}

static int32_t keys_find(const Keys *k, const char *p, Py_ssize_t n) {
    size_t j = hash_bytes(p, n) & (k->tcap - 1);
    while (k->table[j]) {
        int32_t id = k->table[j] - 1;
        if (k->len[id] == n && memcmp(k->p[id], p, (size_t)n) == 0) return id;
        j = (j + 1) & (k->tcap - 1);
    }
    return -1;
}

static void keys_index(Keys *k, int32_t id) {
    size_t j = hash_bytes(k->p[id], k->len[id]) & (k->tcap - 1);
    while (k->table[j]) j = (j + 1) & (k->tcap - 1);
    k->table[j] = id + 1;
}

/* Append a key (copied); -1 on allocation failure. */
static int keys_append(Keys *k, const char *p, Py_ssize_t n) {
    if (k->n == k->cap) {
        Py_ssize_t cap = k->cap ? k->cap * 2 : 512;
        char **np = realloc(k->p, (size_t)cap * sizeof(char *));
        if (!np) return -1;
        k->p = np;
        Py_ssize_t *nl = realloc(k->len, (size_t)cap * sizeof(Py_ssize_t));
        if (!nl) return -1;
        k->len = nl;
        k->cap = cap;
    }
    if ((size_t)(k->n + 1) * 2 > k->tcap) {
        size_t tcap = k->tcap ? k->tcap * 2 : 1024;
        int32_t *t = calloc(tcap, sizeof(int32_t));
        if (!t) return -1;
        free(k->table);
        k->table = t;
        k->tcap = tcap;
        for (Py_ssize_t i = 0; i < k->n; i++) keys_index(k, (int32_t)i);
    }
    char *copy = malloc((size_t)n + 1);
    if (!copy) return -1;
    memcpy(copy, p, (size_t)n);
    k->p[k->n] = copy;
    k->len[k->n] = n;
    keys_index(k, (int32_t)k->n);
    k->n++;
    return 0;
}

static void keys_free(Keys *k) {
    for (Py_ssize_t i = 0; i < k->n; i++) free(k->p[i]);
    free(k->p);
    free(k->len);
    free(k->table);
}

/* ------------------------------------------------------------------------------------------------ */
/* The training heap: max by count, then min by (key[a], key[b])                                    */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    int64_t count;
    int32_t a, b;
} Entry;

typedef struct {
    Entry *e;
    Py_ssize_t n, cap;
    const Keys *keys;
} Heap;

/* 1 when x should pop before y. */
static int entry_before(const Heap *h, const Entry *x, const Entry *y) {
    if (x->count != y->count) return x->count > y->count;
    int r = keys_cmp(h->keys, x->a, y->a);
    if (r) return r < 0;
    r = keys_cmp(h->keys, x->b, y->b);
    if (r) return r < 0;
    return 0;
}

static int heap_push(Heap *h, int64_t count, int32_t a, int32_t b) {
    if (h->n == h->cap) {
        Py_ssize_t cap = h->cap ? h->cap * 2 : 1024;
        Entry *p = realloc(h->e, (size_t)cap * sizeof(Entry));
        if (!p) return -1;
        h->e = p;
        h->cap = cap;
    }
    Py_ssize_t i = h->n++;
    Entry x = {count, a, b};
    while (i > 0) {
        Py_ssize_t parent = (i - 1) / 2;
        if (!entry_before(h, &x, &h->e[parent])) break;
        h->e[i] = h->e[parent];
        i = parent;
    }
    h->e[i] = x;
    return 0;
}

static Entry heap_pop(Heap *h) {
    Entry top = h->e[0];
    Entry x = h->e[--h->n];
    Py_ssize_t i = 0;
    for (;;) {
        Py_ssize_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && entry_before(h, &h->e[c + 1], &h->e[c])) c++;
        if (!entry_before(h, &h->e[c], &x)) break;
        h->e[i] = h->e[c];
        i = c;
    }
    if (h->n) h->e[i] = x;
    return top;
}

/* ------------------------------------------------------------------------------------------------ */
/* Training                                                                                         */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    int32_t *sym;      /* all words' symbols, word w at sym[start[w] .. start[w] + len[w]) */
    Py_ssize_t *start; /* per word */
    Py_ssize_t *len;   /* per word, shrinks as merges apply */
    int64_t *count;    /* per word */
    Py_ssize_t nwords;
    PairMap pairs;
    DeltaMap changes;
    Keys keys;
    Heap heap;
} Trainer;

static void trainer_free(Trainer *t) {
    free(t->sym);
    free(t->start);
    free(t->len);
    free(t->count);
    pmap_free(&t->pairs);
    dmap_free(&t->changes);
    keys_free(&t->keys);
    free(t->heap.e);
}

static int where_add(Trainer *t, int32_t a, int32_t b, int32_t w) {
    PairSlot *s = pmap_get(&t->pairs, pair_key(a, b), 1);
    return (s && ivec_push(&s->where, w) == 0) ? 0 : -1;
}

/* count_pairs: the count of every adjacent pair (weighted by word count) and the words holding it. */
static int count_pairs(Trainer *t) {
    for (Py_ssize_t w = 0; w < t->nwords; w++) {
        const int32_t *s = t->sym + t->start[w];
        for (Py_ssize_t i = 0; i + 1 < t->len[w]; i++) {
            PairSlot *slot = pmap_get(&t->pairs, pair_key(s[i], s[i + 1]), 1);
            if (!slot) return -1;
            slot->count += t->count[w];
            if (slot->where.n == 0 || slot->where.v[slot->where.n - 1] != (int32_t)w)
                if (ivec_push(&slot->where, (int32_t)w) < 0) return -1;
        }
    }
    return 0;
}

/* merge_word: replace each non-overlapping (a, b), left to right, by z in word w, in place, adding the
 * neighbouring pairs' count changes to t->changes and indexing the new pairs. */
static int merge_word(Trainer *t, Py_ssize_t w, int32_t a, int32_t b, int32_t z) {
    int32_t *sym = t->sym + t->start[w];
    Py_ssize_t n = t->len[w], i = 0, j = 0;
    int64_t c = t->count[w];
    while (i < n) {
        if (i + 1 < n && sym[i] == a && sym[i + 1] == b) {
            if (j > 0) {
                int32_t prev = sym[j - 1];
                if (dmap_add(&t->changes, pair_key(prev, a), -c) < 0) return -1;
                if (dmap_add(&t->changes, pair_key(prev, z), c) < 0) return -1;
                if (where_add(t, prev, z, (int32_t)w) < 0) return -1;
            }
            if (i + 2 < n) {
                int32_t nxt = sym[i + 2];
                if (dmap_add(&t->changes, pair_key(b, nxt), -c) < 0) return -1;
                if (dmap_add(&t->changes, pair_key(z, nxt), c) < 0) return -1;
                if (where_add(t, z, nxt, (int32_t)w) < 0) return -1;
            }
            sym[j++] = z;
            i += 2;
        } else {
            sym[j++] = sym[i++];
        }
    }
    t->len[w] = j;
    return 0;
}

static int is_blocked(PyObject *blocked, const char *p, Py_ssize_t n, int *err) {
    if (PySet_GET_SIZE(blocked) == 0) return 0;
    PyObject *b = PyBytes_FromStringAndSize(p, n);
    if (!b) {
        *err = 1;
        return 0;
    }
    int r = PySet_Contains(blocked, b);
    Py_DECREF(b);
    if (r < 0) *err = 1;
    return r > 0;
}

/* Read the Python inputs into the trainer, checking every type and range. */
static int trainer_load(Trainer *t, PyObject *words, PyObject *counts, PyObject *keys) {
    Py_ssize_t nw = PyList_GET_SIZE(words), total = 0;
    if (PyList_GET_SIZE(counts) != nw) {
        PyErr_SetString(PyExc_ValueError, "words and counts differ in length");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
        PyObject *k = PyList_GET_ITEM(keys, i);
        if (!PyBytes_Check(k)) {
            PyErr_SetString(PyExc_TypeError, "keys must be bytes");
            return -1;
        }
        if (PyBytes_GET_SIZE(k) == 0) {
            PyErr_SetString(PyExc_ValueError, "keys must not be empty");
            return -1;
        }
        if (keys_append(&t->keys, PyBytes_AS_STRING(k), PyBytes_GET_SIZE(k)) < 0) goto nomem;
    }
    for (Py_ssize_t w = 0; w < nw; w++) {
        PyObject *word = PyList_GET_ITEM(words, w);
        if (!PyList_Check(word)) {
            PyErr_SetString(PyExc_TypeError, "each word must be a list of ints");
            return -1;
        }
        total += PyList_GET_SIZE(word);
    }
    t->nwords = nw;
    t->sym = malloc((size_t)(total ? total : 1) * sizeof(int32_t));
    t->start = malloc((size_t)(nw ? nw : 1) * sizeof(Py_ssize_t));
    t->len = malloc((size_t)(nw ? nw : 1) * sizeof(Py_ssize_t));
    t->count = malloc((size_t)(nw ? nw : 1) * sizeof(int64_t));
    if (!t->sym || !t->start || !t->len || !t->count) goto nomem;
    Py_ssize_t pos = 0;
    for (Py_ssize_t w = 0; w < nw; w++) {
        PyObject *word = PyList_GET_ITEM(words, w);
        t->start[w] = pos;
        t->len[w] = PyList_GET_SIZE(word);
        for (Py_ssize_t i = 0; i < t->len[w]; i++) {
            long v = PyLong_AsLong(PyList_GET_ITEM(word, i));
            if (v == -1 && PyErr_Occurred()) return -1;
            if (v < 0 || v >= t->keys.n) {
                PyErr_Format(PyExc_ValueError, "word %zd holds symbol %ld outside the %zd keys", w, v, t->keys.n);
                return -1;
            }
            t->sym[pos++] = (int32_t)v;
        }
        long long c = PyLong_AsLongLong(PyList_GET_ITEM(counts, w));
        if (c == -1 && PyErr_Occurred()) return -1;
        if (c < 0) {
            PyErr_SetString(PyExc_ValueError, "word counts must be non-negative");
            return -1;
        }
        t->count[w] = c;
    }
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* Write the words back (shrunk by the merges), as the reference updates them in place. */
static int trainer_store_words(Trainer *t, PyObject *words) {
    for (Py_ssize_t w = 0; w < t->nwords; w++) {
        PyObject *word = PyList_New(t->len[w]);
        if (!word) return -1;
        for (Py_ssize_t i = 0; i < t->len[w]; i++) {
            PyObject *v = PyLong_FromLong(t->sym[t->start[w] + i]);
            if (!v) {
                Py_DECREF(word);
                return -1;
            }
            PyList_SET_ITEM(word, i, v);
        }
        if (PyList_SetItem(words, w, word) < 0) return -1;
    }
    return 0;
}

/* What both trainers take (train_merges and train_likelihood have the same signature), and the state of a
 * run beyond the Trainer: the merges made, the blocked keys, a buffer for merged keys, per-word stamps. */
typedef struct {
    PyObject *words, *counts, *keys, *blocked, *on_merge;
    Py_ssize_t strip, max_tokens;
    long long min_frequency;
    PyObject *merges;     /* list of (a, b, z), returned */
    PyObject *blocked_set;
    char *buf;            /* the merged key being built */
    Py_ssize_t bufcap;
    int32_t *stamp;       /* stamp[w] == n_merges: word w already merged in this step */
    int32_t n_merges;
} Run;

/* Parse the arguments and load the words: 0, or -1 with an exception set (run_close cleans up). */
static int run_open(Trainer *t, Run *r, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"words", "counts", "keys", "strip", "max_tokens", "min_frequency", "blocked",
                             "on_merge", NULL};
    memset(t, 0, sizeof *t);
    memset(r, 0, sizeof *r);
    t->heap.keys = &t->keys;
    r->on_merge = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!O!nnL|OO", kwlist, &PyList_Type, &r->words, &PyList_Type,
                                     &r->counts, &PyList_Type, &r->keys, &r->strip, &r->max_tokens, &r->min_frequency,
                                     &r->blocked, &r->on_merge))
        return -1;
    if (r->strip < 0) {
        PyErr_SetString(PyExc_ValueError, "strip must be >= 0");
        return -1;
    }
    r->blocked_set = r->blocked ? PyFrozenSet_New(r->blocked) : PyFrozenSet_New(NULL);
    r->merges = PyList_New(0);
    if (!r->blocked_set || !r->merges || trainer_load(t, r->words, r->counts, r->keys) < 0) return -1;
    r->stamp = malloc((size_t)(t->nwords ? t->nwords : 1) * sizeof(int32_t));
    if (!r->stamp || pmap_init(&t->pairs, 1024) < 0 || dmap_init(&t->changes, 1024) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t w = 0; w < t->nwords; w++) r->stamp[w] = -1;
    return 0;
}

/* Free the run; returns the merges when ok (the new keys and words written back), else NULL. */
static PyObject *run_close(Trainer *t, Run *r, int ok) {
    if (ok) {
        for (Py_ssize_t i = PyList_GET_SIZE(r->keys); ok && i < t->keys.n; i++) {
            PyObject *k = PyBytes_FromStringAndSize(t->keys.p[i], t->keys.len[i]);
            ok = k && PyList_Append(r->keys, k) == 0;
            Py_XDECREF(k);
        }
        ok = ok && trainer_store_words(t, r->words) == 0;
    }
    trainer_free(t);
    free(r->buf);
    free(r->stamp);
    Py_XDECREF(r->blocked_set);
    if (!ok) Py_CLEAR(r->merges);
    return r->merges;
}

/* new_token: the id of the token that merging (a, b) makes (its key keys[a] + keys[b][strip:]), appended
 * when new, and the merge recorded: 0; 1 when the key is blocked (nothing done); -1 on error. */
static int new_token(Trainer *t, Run *r, int32_t a, int32_t b, int32_t *z_out) {
    Py_ssize_t la = t->keys.len[a], lb = t->keys.len[b];
    Py_ssize_t cut = r->strip < lb ? r->strip : lb;
    Py_ssize_t klen = la + lb - cut;
    if (klen > r->bufcap) {
        char *nb = realloc(r->buf, (size_t)klen);
        if (!nb) {
            PyErr_NoMemory();
            return -1;
        }
        r->buf = nb;
        r->bufcap = klen;
    }
    memcpy(r->buf, t->keys.p[a], (size_t)la);
    memcpy(r->buf + la, t->keys.p[b] + cut, (size_t)(lb - cut));
    int err = 0;
    if (is_blocked(r->blocked_set, r->buf, klen, &err)) return 1;
    if (err) return -1;
    int32_t z = keys_find(&t->keys, r->buf, klen);
    if (z < 0) {
        z = (int32_t)t->keys.n;
        if (keys_append(&t->keys, r->buf, klen) < 0) {
            PyErr_NoMemory();
            return -1;
        }
    }
    PyObject *m = Py_BuildValue("(iii)", a, b, z);
    if (!m || PyList_Append(r->merges, m) < 0) {
        Py_XDECREF(m);
        return -1;
    }
    Py_DECREF(m);
    *z_out = z;
    return 0;
}

/* merge_everywhere: merge (a, b) into z in every word that holds it; the neighbouring pairs' count changes
 * go to t->changes and the number of occurrences merged (weighted) to *merged. 0, or -1 on error. */
static int merge_everywhere(Trainer *t, Run *r, int32_t a, int32_t b, int32_t z, int64_t *merged) {
    PairSlot *slot = pmap_get(&t->pairs, pair_key(a, b), 0);
    IntVec where = slot->where; /* taken out of the slot: merge_word may grow the map and move slots */
    slot->where = (IntVec){0};
    *merged = 0;
    for (Py_ssize_t k = 0; k < where.n; k++) {
        int32_t w = where.v[k];
        if (r->stamp[w] == r->n_merges) continue; /* a word indexed twice is merged once */
        r->stamp[w] = r->n_merges;
        Py_ssize_t before = t->len[w];
        if (merge_word(t, w, a, b, z) < 0) {
            free(where.v);
            PyErr_NoMemory();
            return -1;
        }
        *merged += (before - t->len[w]) * t->count[w];
    }
    free(where.v);
    return 0;
}

/* apply_changes: the merged pair's count drops to 0 and the changes are added; grew(ctx, key, count) hears
 * of each pair that grew, the only ones a lazy heap must hear about. 0, or -1 on error. */
static int apply_changes(Trainer *t, uint64_t merged_key, int (*grew)(void *, uint64_t, int64_t), void *ctx) {
    pmap_get(&t->pairs, merged_key, 0)->count = 0;
    for (size_t k = 0; k < t->changes.n; k++) {
        uint64_t key = t->changes.keys[t->changes.order[k]];
        int64_t d = t->changes.deltas[t->changes.order[k]];
        if (d == 0) continue;
        PairSlot *ps = pmap_get(&t->pairs, key, 1);
        if (!ps) {
            PyErr_NoMemory();
            return -1;
        }
        ps->count += d;
        if (d > 0 && grew(ctx, key, ps->count) < 0) return -1;
    }
    dmap_clear(&t->changes);
    return 0;
}

/* The end of a merge step: the stamps move on and the progress callback hears the token count. */
static int step_done(Trainer *t, Run *r) {
    r->n_merges++;
    if (r->on_merge == Py_None) return 0;
    PyObject *res = PyObject_CallFunction(r->on_merge, "n", t->keys.n);
    Py_XDECREF(res);
    return res ? 0 : -1;
}

static int bpe_grew(void *ctx, uint64_t key, int64_t count) {
    Trainer *t = ctx;
    if (heap_push(&t->heap, count, (int32_t)(key >> 32), (int32_t)(key & 0xffffffffu)) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* train_merges(words, counts, keys, strip, max_tokens, min_frequency, blocked=frozenset(), on_merge=None) */
static PyObject *train_merges(PyObject *self, PyObject *args, PyObject *kwargs) {
    Trainer t;
    Run r;
    int ok = run_open(&t, &r, args, kwargs) == 0 && count_pairs(&t) == 0;
    if (!ok && !PyErr_Occurred()) PyErr_NoMemory();
    for (size_t i = 0; ok && i < t.pairs.cap; i++)
        if (t.pairs.slots[i].used && t.pairs.slots[i].count > 0)
            ok = bpe_grew(&t, t.pairs.slots[i].key, t.pairs.slots[i].count) == 0;
    while (ok && t.keys.n < r.max_tokens && t.heap.n) {
        Entry top = heap_pop(&t.heap);
        PairSlot *slot = pmap_get(&t.pairs, pair_key(top.a, top.b), 0);
        int64_t live = slot ? slot->count : 0, merged;
        if (live != top.count) { /* stale: re-queue at the live count */
            ok = live <= 0 || bpe_grew(&t, pair_key(top.a, top.b), live) == 0;
            continue;
        }
        if (live < r.min_frequency) break;
        int32_t z;
        int made = new_token(&t, &r, top.a, top.b, &z);
        if (made == 1) continue;
        ok = made == 0 && merge_everywhere(&t, &r, top.a, top.b, z, &merged) == 0 &&
             apply_changes(&t, pair_key(top.a, top.b), bpe_grew, &t) == 0 && step_done(&t, &r) == 0;
    }
    return run_close(&t, &r, ok);
}

/* ------------------------------------------------------------------------------------------------ */
/* WordPiece training by likelihood (mirrors wordpiece_core.train_likelihood)                       */
/* ------------------------------------------------------------------------------------------------ */
#define MAX_LIKELIHOOD_COUNT ((int64_t)1 << 42) /* so count(ab) * count(a) * count(b) fits 128 bits */

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
    unsigned __int128 lhs = (unsigned __int128)x->pair_count * ((unsigned __int128)y->count_a * (uint64_t)y->count_b);
    unsigned __int128 rhs = (unsigned __int128)y->pair_count * ((unsigned __int128)x->count_a * (uint64_t)x->count_b);
    if (lhs != rhs) return lhs > rhs;
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
    PairSlot *s = pmap_get(&t->pairs, key, 0);
    return s ? s->count : 0;
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
        total += t.count[w] * t.len[w];
        if (t.count[w] >= MAX_LIKELIHOOD_COUNT || total >= MAX_LIKELIHOOD_COUNT) {
            PyErr_SetString(PyExc_OverflowError, "counts too large for the native likelihood trainer (2**42)");
            ok = 0;
        }
    }
    ok = ok && tokens_reserve(&tk, t.keys.n + 1) == 0 && count_pairs(&t) == 0;
    if (!ok && !PyErr_Occurred()) PyErr_NoMemory();
    for (Py_ssize_t w = 0; ok && w < t.nwords; w++)
        for (Py_ssize_t i = 0; i < t.len[w]; i++) tk.count[t.sym[t.start[w] + i]] += t.count[w];
    LikelihoodCtx ctx = {&t, &heap, &tk};
    for (size_t i = 0; ok && i < t.pairs.cap; i++) {
        PairSlot *sl = &t.pairs.slots[i];
        if (!sl->used || sl->count <= 0) continue;
        ok = tokens_add_pair(&tk, (int32_t)(sl->key >> 32), sl->key) == 0 &&
             tokens_add_pair(&tk, (int32_t)(sl->key & 0xffffffffu), sl->key) == 0 &&
             (sl->count < r.min_frequency || lpush(&t, &heap, &tk, sl->key) == 0);
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

/* ------------------------------------------------------------------------------------------------ */
/* Encoding: the merge table and the word encoder                                                   */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    PyObject_HEAD uint64_t *keys; /* pair keys, open addressing */
    int32_t *rank;                /* rank of the pair, -1 = empty slot */
    size_t cap;
    int32_t *results;             /* results[rank] */
    Py_ssize_t nranks;
} MergeTable;

static void table_dealloc(MergeTable *t) {
    free(t->keys);
    free(t->rank);
    free(t->results);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyTypeObject MergeTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "subtok._native.MergeTable",
    .tp_basicsize = sizeof(MergeTable),
    .tp_dealloc = (destructor)table_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A compiled BPE merge table: pair -> (rank, result).",
};

static inline int32_t table_rank(const MergeTable *t, int32_t a, int32_t b) {
    uint64_t key = pair_key(a, b);
    size_t j = mix64(key) & (t->cap - 1);
    while (t->rank[j] >= 0) {
        if (t->keys[j] == key) return t->rank[j];
        j = (j + 1) & (t->cap - 1);
    }
    return -1;
}

/* make_merge_table(ranks: dict[(a, b)] -> rank, results: list[int]) */
static PyObject *make_merge_table(PyObject *self, PyObject *args) {
    PyObject *ranks, *results;
    if (!PyArg_ParseTuple(args, "O!O!", &PyDict_Type, &ranks, &PyList_Type, &results)) return NULL;
    MergeTable *t = PyObject_New(MergeTable, &MergeTableType);
    if (!t) return NULL;
    t->nranks = PyList_GET_SIZE(results);
    t->cap = 64;
    while (t->cap < (size_t)PyDict_Size(ranks) * 2 + 2) t->cap <<= 1;
    t->keys = malloc(t->cap * sizeof(uint64_t));
    t->rank = malloc(t->cap * sizeof(int32_t));
    t->results = malloc((size_t)(t->nranks ? t->nranks : 1) * sizeof(int32_t));
    if (!t->keys || !t->rank || !t->results) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    for (size_t j = 0; j < t->cap; j++) t->rank[j] = -1;
    for (Py_ssize_t r = 0; r < t->nranks; r++) {
        long v = PyLong_AsLong(PyList_GET_ITEM(results, r));
        if ((v == -1 && PyErr_Occurred()) || v < 0 || v > INT32_MAX) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "results must be ids >= 0");
            Py_DECREF(t);
            return NULL;
        }
        t->results[r] = (int32_t)v;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(ranks, &pos, &key, &value)) {
        long a, b, r = PyLong_AsLong(value);
        if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != 2 || (r == -1 && PyErr_Occurred())) goto bad;
        a = PyLong_AsLong(PyTuple_GET_ITEM(key, 0));
        b = PyLong_AsLong(PyTuple_GET_ITEM(key, 1));
        if (PyErr_Occurred() || a < 0 || b < 0 || a > INT32_MAX || b > INT32_MAX || r < 0 || r >= t->nranks)
            goto bad;
        uint64_t k = pair_key((int32_t)a, (int32_t)b);
        size_t j = mix64(k) & (t->cap - 1);
        while (t->rank[j] >= 0 && t->keys[j] != k) j = (j + 1) & (t->cap - 1);
        t->keys[j] = k;
        t->rank[j] = (int32_t)r;
    }
    return (PyObject *)t;
bad:
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "ranks must map (a, b) id pairs to ranks < len(results)");
    Py_DECREF(t);
    return NULL;
}

/* encode_scan: find the lowest-rank (leftmost) pair, merge it, repeat. Returns the new length. */
static Py_ssize_t encode_scan(const MergeTable *t, int32_t *sym, Py_ssize_t n) {
    while (n > 1) {
        int32_t best_rank = -1;
        Py_ssize_t best = -1;
        for (Py_ssize_t i = 0; i + 1 < n; i++) {
            int32_t r = table_rank(t, sym[i], sym[i + 1]);
            if (r >= 0 && (best < 0 || r < best_rank)) {
                best_rank = r;
                best = i;
            }
        }
        if (best < 0) break;
        sym[best] = t->results[best_rank];
        memmove(sym + best + 1, sym + best + 2, (size_t)(n - best - 2) * sizeof(int32_t));
        n--;
    }
    return n;
}

typedef struct {
    int32_t rank;
    Py_ssize_t pos;
} RankPos;

static inline int rp_less(RankPos x, RankPos y) { return x.rank != y.rank ? x.rank < y.rank : x.pos < y.pos; }

static void rp_push(RankPos *h, Py_ssize_t *n, RankPos x) {
    Py_ssize_t i = (*n)++;
    while (i > 0 && rp_less(x, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static RankPos rp_pop(RankPos *h, Py_ssize_t *n) {
    RankPos top = h[0], x = h[--(*n)];
    Py_ssize_t i = 0;
    for (;;) {
        Py_ssize_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && rp_less(h[c + 1], h[c])) c++;
        if (!rp_less(h[c], x)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}

/* encode_heap: the same rule with a heap of (rank, position) over a linked list, O(n log n).
 * Returns the new length, or -1 when memory runs out. */
static Py_ssize_t encode_heap(const MergeTable *t, int32_t *sym, Py_ssize_t n) {
    Py_ssize_t *nxt = malloc((size_t)n * sizeof(Py_ssize_t));
    Py_ssize_t *prev = malloc((size_t)n * sizeof(Py_ssize_t));
    char *alive = malloc((size_t)n);
    /* each merge pushes at most two entries and removes one pair: 3n bounds the heap */
    RankPos *heap = malloc((size_t)(3 * n + 1) * sizeof(RankPos));
    Py_ssize_t hn = 0, out = -1;
    if (!nxt || !prev || !alive || !heap) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        nxt[i] = i + 1;
        prev[i] = i - 1;
        alive[i] = 1;
    }
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        int32_t r = table_rank(t, sym[i], sym[i + 1]);
        if (r >= 0) rp_push(heap, &hn, (RankPos){r, i});
    }
    while (hn) {
        RankPos top = rp_pop(heap, &hn);
        Py_ssize_t i = top.pos, j = nxt[i];
        if (!alive[i] || j >= n || table_rank(t, sym[i], sym[j]) != top.rank) continue; /* stale */
        sym[i] = t->results[top.rank];
        alive[j] = 0;
        nxt[i] = nxt[j];
        if (nxt[j] < n) prev[nxt[j]] = i;
        Py_ssize_t p = prev[i];
        if (p >= 0) {
            int32_t rp = table_rank(t, sym[p], sym[i]);
            if (rp >= 0) rp_push(heap, &hn, (RankPos){rp, p});
        }
        Py_ssize_t k = nxt[i];
        if (k < n) {
            int32_t rk = table_rank(t, sym[i], sym[k]);
            if (rk >= 0) rp_push(heap, &hn, (RankPos){rk, i});
        }
    }
    out = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (alive[i]) sym[out++] = sym[i];
done:
    free(nxt);
    free(prev);
    free(alive);
    free(heap);
    return out;
}

/* encode_symbols(symbols: list[int], table: MergeTable) -> list[int] */
static PyObject *encode_symbols(PyObject *self, PyObject *args) {
    PyObject *symbols;
    MergeTable *t;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &symbols, &MergeTableType, &t)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(symbols);
    int32_t stackbuf[64];
    int32_t *sym = n <= 64 ? stackbuf : malloc((size_t)n * sizeof(int32_t));
    if (!sym) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        long v = PyLong_AsLong(PyList_GET_ITEM(symbols, i));
        if ((v == -1 && PyErr_Occurred()) || v < 0 || v > INT32_MAX) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "symbols must be ids >= 0");
            if (sym != stackbuf) free(sym);
            return NULL;
        }
        sym[i] = (int32_t)v;
    }
    Py_ssize_t m;
    Py_BEGIN_ALLOW_THREADS
    m = n < HEAP_MIN_SYMBOLS ? encode_scan(t, sym, n) : encode_heap(t, sym, n);
    Py_END_ALLOW_THREADS
    PyObject *out = m < 0 ? PyErr_NoMemory() : PyList_New(m);
    for (Py_ssize_t i = 0; out && i < m; i++) {
        PyObject *v = PyLong_FromLong(sym[i]);
        if (!v) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, v);
    }
    if (sym != stackbuf) free(sym);
    return out;
}

/* ------------------------------------------------------------------------------------------------ */
/* Byte-level text encoding: GPT-2 pre-tokenization and a cached word encoder                       */
/* ------------------------------------------------------------------------------------------------ */
#define CLASS_LETTER 1 /* as bpe_core.CLASS_* */
#define CLASS_NUMBER 2
#define CLASS_SPACE 4
#define CLASS_PUNCT 8 /* BERT's punctuation */
#define N_CODEPOINTS 0x110000
#define CACHE_SIZE (1 << 16) /* as bpe_core.CACHE_SIZE */

/* The text being scanned: a str's code points, read without the GIL (the str is immutable and held). */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
    const unsigned char *classes;
} Text;

#define CP(t, i) PyUnicode_READ((t)->kind, (t)->data, (i))
#define CLS(t, c) ((t)->classes[(c)])

static inline int is_other(const Text *t, Py_UCS4 c) { return !(CLS(t, c) & (CLASS_LETTER | CLASS_NUMBER | CLASS_SPACE)); }

/* gpt2_token_end: the end of the GPT-2 pattern's match at i, the alternatives tried in the pattern's order:
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+  (every position starts one) */
static Py_ssize_t gpt2_token_end(const Text *t, Py_ssize_t i) {
    Py_UCS4 c = CP(t, i);
    if (c == '\'' && i + 1 < t->n) {
        Py_UCS4 d = CP(t, i + 1);
        if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 2;
        if (i + 2 < t->n) {
            Py_UCS4 e = CP(t, i + 2);
            if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return i + 3;
        }
    }
    Py_ssize_t j = i;
    if (c == ' ' && i + 1 < t->n && !(CLS(t, CP(t, i + 1)) & CLASS_SPACE)) { /* the optional leading space */
        j = i + 1;
        c = CP(t, j);
    }
    int cls = CLS(t, c) & (CLASS_LETTER | CLASS_NUMBER | CLASS_SPACE);
    if (cls == CLASS_LETTER || cls == CLASS_NUMBER) {
        do j++; while (j < t->n && (CLS(t, CP(t, j)) & cls));
        return j;
    }
    if (cls == 0) {
        do j++; while (j < t->n && is_other(t, CP(t, j)));
        return j;
    }
    Py_ssize_t k = i; /* whitespace: \s+(?!\S) leaves the last space before a non-space, else \s+ */
    while (k < t->n && (CLS(t, CP(t, k)) & CLASS_SPACE)) k++;
    if (k == t->n) return k;
    return k - 1 > i ? k - 1 : k;
}

static int check_classes(PyObject *classes) {
    if (!PyBytes_Check(classes) || PyBytes_GET_SIZE(classes) != N_CODEPOINTS) {
        PyErr_SetString(PyExc_ValueError, "classes must be bytes of length 0x110000 (bpe_core.char_classes())");
        return -1;
    }
    return 0;
}

static void text_init(Text *t, PyObject *str, PyObject *classes) {
    t->kind = PyUnicode_KIND(str);
    t->data = PyUnicode_DATA(str);
    t->n = PyUnicode_GET_LENGTH(str);
    t->classes = (const unsigned char *)PyBytes_AS_STRING(classes);
}

/* split_gpt2(text, classes) -> list[(start, end)] */
static PyObject *split_gpt2(PyObject *self, PyObject *args) {
    PyObject *str, *classes;
    if (!PyArg_ParseTuple(args, "UO", &str, &classes) || check_classes(classes) < 0) return NULL;
    Text t;
    text_init(&t, str, classes);
    PyObject *out = PyList_New(0);
    for (Py_ssize_t i = 0; out && i < t.n;) {
        Py_ssize_t e = gpt2_token_end(&t, i);
        PyObject *span = Py_BuildValue("(nn)", i, e);
        if (!span || PyList_Append(out, span) < 0) Py_CLEAR(out);
        Py_XDECREF(span);
        i = e;
    }
    return out;
}

/* Growable int32 buffer, used without the GIL. */
typedef struct {
    int32_t *v;
    Py_ssize_t n, cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->n + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra) cap *= 2;
    int32_t *p = realloc(b->v, (size_t)cap * sizeof(int32_t));
    if (!p) return -1;
    b->v = p;
    b->cap = cap;
    return 0;
}

/* One cached word: its ids then its UTF-8 bytes, in one allocation (starting at ids). */
typedef struct {
    uint64_t hash;
    int32_t nbytes, nids;
    int32_t *ids;
    char *bytes;
} CacheEntry;

/* A word cache for one thread at a time: open addressing, emptied when half full (as the reference empties
 * its dict). */
typedef struct {
    CacheEntry *slots;
    size_t cap, n;
} WordCache;

static int cache_init(WordCache *c) {
    c->cap = 2 * CACHE_SIZE;
    c->n = 0;
    c->slots = calloc(c->cap, sizeof(CacheEntry));
    return c->slots ? 0 : -1;
}

static void cache_clear(WordCache *c) {
    for (size_t i = 0; c->n && i < c->cap; i++) {
        free(c->slots[i].ids);
        c->slots[i] = (CacheEntry){0};
    }
    c->n = 0;
}

static void cache_free(WordCache *c) {
    if (c->slots) cache_clear(c);
    free(c->slots);
    c->slots = NULL;
}

/* Append the cached ids of a word to out: 1 if found, 0 if not, -1 on allocation failure. */
static int cache_get(const WordCache *c, const char *bytes, int32_t nbytes, uint64_t h, Buf *out) {
    size_t j = h & (c->cap - 1);
    while (c->slots[j].ids) {
        const CacheEntry *e = &c->slots[j];
        if (e->hash == h && e->nbytes == nbytes && memcmp(e->bytes, bytes, (size_t)nbytes) == 0) {
            if (buf_reserve(out, e->nids) < 0) return -1;
            if (e->nids) memcpy(out->v + out->n, e->ids, (size_t)e->nids * sizeof(int32_t));
            out->n += e->nids;
            return 1;
        }
        j = (j + 1) & (c->cap - 1);
    }
    return 0;
}

static void cache_put(WordCache *c, const char *bytes, int32_t nbytes, uint64_t h, const int32_t *ids, int32_t nids) {
    /* ids first (aligned), then the bytes; nids + 1 keeps the block non-empty */
    char *block = malloc((size_t)(nids + 1) * sizeof(int32_t) + (size_t)nbytes);
    if (!block) return; /* the cache is an optimisation: skip it when memory is short */
    if (c->n * 2 >= c->cap) cache_clear(c);
    size_t j = h & (c->cap - 1);
    while (c->slots[j].ids) j = (j + 1) & (c->cap - 1);
    int32_t *idp = (int32_t *)block;
    if (nids) memcpy(idp, ids, (size_t)nids * sizeof(int32_t));
    char *bp = block + (size_t)(nids + 1) * sizeof(int32_t);
    if (nbytes) memcpy(bp, bytes, (size_t)nbytes);
    c->slots[j] = (CacheEntry){h, nbytes, nids, idp, bp};
    c->n++;
}

/* Special tokens as code points, in the order given (longest first), each with its id. */
typedef struct {
    Py_ssize_t n;
    Py_UCS4 **cp;
    Py_ssize_t *len;
    int32_t *id;
    uint8_t first[128]; /* ASCII first characters of the tokens: most positions are rejected here */
    int non_ascii_first; /* some token starts with a non-ASCII character */
} Specials;

static void specials_free(Specials *sp) {
    for (Py_ssize_t k = 0; k < sp->n; k++) PyMem_Free(sp->cp[k]);
    free(sp->cp);
    free(sp->len);
    free(sp->id);
    memset(sp, 0, sizeof *sp);
}

/* From a list of (str, id) pairs, or of str when with_ids is 0. */
static int specials_load(Specials *sp, PyObject *list, int with_ids) {
    Py_ssize_t n = PyList_GET_SIZE(list);
    sp->cp = calloc((size_t)(n ? n : 1), sizeof(Py_UCS4 *));
    sp->len = calloc((size_t)(n ? n : 1), sizeof(Py_ssize_t));
    sp->id = calloc((size_t)(n ? n : 1), sizeof(int32_t));
    if (!sp->cp || !sp->len || !sp->id) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PyList_GET_ITEM(list, k), *tok = item;
        long id = 0;
        if (with_ids && (!PyTuple_Check(item) || !PyArg_ParseTuple(item, "Ul", &tok, &id))) tok = NULL;
        if (!tok || !PyUnicode_Check(tok) || PyUnicode_GET_LENGTH(tok) == 0 || id < 0 || id > INT32_MAX) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, with_ids ? "specials must be (non-empty str, id >= 0) pairs"
                                                       : "specials must be non-empty str");
            return -1;
        }
        sp->cp[k] = PyUnicode_AsUCS4Copy(tok);
        if (!sp->cp[k]) return -1;
        sp->len[k] = PyUnicode_GET_LENGTH(tok);
        sp->id[k] = (int32_t)id;
        if (sp->cp[k][0] < 128)
            sp->first[sp->cp[k][0]] = 1;
        else
            sp->non_ascii_first = 1;
        sp->n = k + 1;
    }
    return 0;
}

/* The special token that starts at i (its index), or -1: the first listed that matches, as the regex does. */
static Py_ssize_t special_at(const Specials *sp, const Text *t, Py_ssize_t i) {
    Py_UCS4 c = CP(t, i);
    if (c < 128 ? !sp->first[c] : !sp->non_ascii_first) return -1;
    for (Py_ssize_t k = 0; k < sp->n; k++) {
        Py_ssize_t len = sp->len[k];
        if (i + len > t->n || CP(t, i) != sp->cp[k][0]) continue;
        Py_ssize_t j = 1;
        while (j < len && CP(t, i + j) == sp->cp[k][j]) j++;
        if (j == len) return k;
    }
    return -1;
}

/* An int object per id an encoder can emit: result lists reference them instead of allocating. */
typedef struct {
    PyObject **obj;
    int32_t n;
} IdObjects;

static int id_objects_make(IdObjects *io, int32_t top) {
    io->obj = calloc((size_t)top + 1, sizeof(PyObject *));
    if (!io->obj) return -1;
    for (int32_t i = 0; i <= top; i++) {
        io->obj[i] = PyLong_FromLong(i);
        if (!io->obj[i]) return -1;
        io->n = i + 1;
    }
    return 0;
}

static void id_objects_free(IdObjects *io) {
    for (int32_t i = 0; i < io->n; i++) Py_DECREF(io->obj[i]);
    free(io->obj);
    io->obj = NULL;
    io->n = 0;
}

/* Move an entry into a cache (the cache takes its block); duplicates are dropped. */
static void cache_adopt(WordCache *c, CacheEntry e) {
    size_t j = e.hash & (c->cap - 1);
    while (c->slots[j].ids) {
        const CacheEntry *x = &c->slots[j];
        if (x->hash == e.hash && x->nbytes == e.nbytes && memcmp(x->bytes, e.bytes, (size_t)e.nbytes) == 0) {
            free(e.ids);
            return;
        }
        j = (j + 1) & (c->cap - 1);
    }
    if (c->n * 2 >= c->cap) {
        cache_clear(c);
        j = e.hash & (c->cap - 1);
    }
    c->slots[j] = e;
    c->n++;
}

/* A read-write lock guarding the encoder's shared cache: calls read it together and write it one at a time. */
#ifndef _WIN32
#include <pthread.h>
typedef pthread_rwlock_t RWLock;
static int rwlock_init(RWLock *l) { return pthread_rwlock_init(l, NULL) == 0 ? 0 : -1; }
#define rwlock_tryread(l) (pthread_rwlock_tryrdlock(l) == 0)
#define rwlock_trywrite(l) (pthread_rwlock_trywrlock(l) == 0)
#define rwlock_unlock(l) pthread_rwlock_unlock(l)
#define rwlock_destroy(l) pthread_rwlock_destroy(l)
#else /* without POSIX threads: one holder at a time */
typedef PyThread_type_lock RWLock;
static int rwlock_init(RWLock *l) { return (*l = PyThread_allocate_lock()) ? 0 : -1; }
#define rwlock_tryread(l) PyThread_acquire_lock(*(l), NOWAIT_LOCK)
#define rwlock_trywrite(l) PyThread_acquire_lock(*(l), NOWAIT_LOCK)
#define rwlock_unlock(l) PyThread_release_lock(*(l))
#define rwlock_destroy(l) PyThread_free_lock(*(l))
#endif

typedef struct {
    PyObject_HEAD int32_t byte_ids[256];
    MergeTable *table;
    WordCache shared;
    RWLock lock;
    int lock_ready;
    Specials specials;
    IdObjects ids;
} ByteLevelEncoderObject;

/* What one call (or one batch thread) sees of the caches: the shared cache when it could lock it (to write
 * into when it holds it alone, else only to read), and a private cache for what it learns otherwise.
 * Words are never locked one by one, so threads never wait on each other. */
enum { SHARED_NONE, SHARED_READ, SHARED_WRITE };
typedef struct {
    WordCache *shared;
    int mode;
    WordCache local; /* allocated on first use */
} CacheView;

static void view_open(ByteLevelEncoderObject *enc, CacheView *v, int want_write) {
    memset(v, 0, sizeof *v);
    if (want_write && rwlock_trywrite(&enc->lock))
        v->mode = SHARED_WRITE;
    else if (rwlock_tryread(&enc->lock))
        v->mode = SHARED_READ;
    v->shared = v->mode == SHARED_NONE ? NULL : &enc->shared;
}

static void view_close(ByteLevelEncoderObject *enc, CacheView *v) {
    if (v->mode != SHARED_NONE) rwlock_unlock(&enc->lock);
    v->mode = SHARED_NONE;
    v->shared = NULL;
}

static int view_get(const CacheView *v, const char *bytes, int32_t nbytes, uint64_t h, Buf *out) {
    int r = v->shared ? cache_get(v->shared, bytes, nbytes, h, out) : 0;
    if (r == 0 && v->local.slots) r = cache_get(&v->local, bytes, nbytes, h, out);
    return r;
}

static void view_put(CacheView *v, const char *bytes, int32_t nbytes, uint64_t h, const int32_t *ids, int32_t nids) {
    if (v->mode == SHARED_WRITE) {
        cache_put(v->shared, bytes, nbytes, h, ids, nids);
        return;
    }
    if (!v->local.slots && cache_init(&v->local) < 0) return; /* no room to cache: encode without */
    cache_put(&v->local, bytes, nbytes, h, ids, nids);
}

/* Hand what a view learnt privately to the shared cache when it can be had, else drop it. */
static void view_merge(ByteLevelEncoderObject *enc, CacheView *v) {
    if (v->local.slots && rwlock_trywrite(&enc->lock)) {
        for (size_t i = 0; i < v->local.cap; i++)
            if (v->local.slots[i].ids) {
                cache_adopt(&enc->shared, v->local.slots[i]);
                v->local.slots[i] = (CacheEntry){0};
            }
        v->local.n = 0;
        rwlock_unlock(&enc->lock);
    }
    cache_free(&v->local);
}

/* encode_word_bytes: append the ids of one word (its UTF-8 bytes) to out, through the cache. */
static int encode_word_bytes(const ByteLevelEncoderObject *enc, CacheView *cache, const char *bytes, int32_t nbytes,
                             Buf *out) {
    if (nbytes == 0) return 0; /* an empty word has no ids */
    uint64_t h = hash_bytes(bytes, nbytes);
    int r = view_get(cache, bytes, nbytes, h, out);
    if (r) return r < 0 ? -1 : 0;
    if (buf_reserve(out, nbytes) < 0) return -1;
    int32_t *sym = out->v + out->n;
    for (int32_t i = 0; i < nbytes; i++) sym[i] = enc->byte_ids[(unsigned char)bytes[i]];
    Py_ssize_t m = nbytes < HEAP_MIN_SYMBOLS ? encode_scan(enc->table, sym, nbytes) : encode_heap(enc->table, sym, nbytes);
    if (m < 0) return -1;
    view_put(cache, bytes, nbytes, h, sym, (int32_t)m);
    out->n += m;
    return 0;
}

/* UTF-8 of code points [s, e) into *dst (grown as needed); surrogates as in 'surrogatepass'. */
static Py_ssize_t utf8_of(const Text *t, Py_ssize_t s, Py_ssize_t e, char **dst, Py_ssize_t *cap) {
    if (4 * (e - s) > *cap) {
        Py_ssize_t c = 4 * (e - s);
        char *p = realloc(*dst, (size_t)c);
        if (!p) return -1;
        *dst = p;
        *cap = c;
    }
    unsigned char *o = (unsigned char *)*dst;
    Py_ssize_t n = 0;
    for (Py_ssize_t i = s; i < e; i++) {
        Py_UCS4 c = CP(t, i);
        if (c < 0x80) {
            o[n++] = (unsigned char)c;
        } else if (c < 0x800) {
            o[n++] = (unsigned char)(0xC0 | (c >> 6));
            o[n++] = (unsigned char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            o[n++] = (unsigned char)(0xE0 | (c >> 12));
            o[n++] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            o[n++] = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            o[n++] = (unsigned char)(0xF0 | (c >> 18));
            o[n++] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            o[n++] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            o[n++] = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    return n;
}

/* A list of ids from shared int objects (every id is below io->n). */
static PyObject *list_of_ids(const IdObjects *io, const Buf *b) {
    PyObject *out = PyList_New(b->n);
    if (!out) return NULL;
    for (Py_ssize_t i = 0; i < b->n; i++) {
        PyObject *v = io->obj[b->v[i]];
        Py_INCREF(v);
        PyList_SET_ITEM(out, i, v);
    }
    return out;
}

static int32_t encoder_top_id(const ByteLevelEncoderObject *enc) {
    int32_t top = 0;
    for (int b = 0; b < 256; b++) top = enc->byte_ids[b] > top ? enc->byte_ids[b] : top;
    for (Py_ssize_t r = 0; r < enc->table->nranks; r++) top = enc->table->results[r] > top ? enc->table->results[r] : top;
    for (Py_ssize_t k = 0; k < enc->specials.n; k++) top = enc->specials.id[k] > top ? enc->specials.id[k] : top;
    return top;
}

/* ByteLevelEncoder(byte_ids: list of 256 ids, table: MergeTable, specials: list of (str, id) = []) */
static PyObject *encoder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *byte_ids, *specials = NULL;
    MergeTable *table;
    if (!PyArg_ParseTuple(args, "O!O!|O!", &PyList_Type, &byte_ids, &MergeTableType, &table, &PyList_Type, &specials))
        return NULL;
    if (PyList_GET_SIZE(byte_ids) != 256) {
        PyErr_SetString(PyExc_ValueError, "byte_ids must list 256 ids");
        return NULL;
    }
    ByteLevelEncoderObject *enc = (ByteLevelEncoderObject *)type->tp_alloc(type, 0);
    if (!enc) return NULL;
    for (int b = 0; b < 256; b++) {
        long v = PyLong_AsLong(PyList_GET_ITEM(byte_ids, b));
        if ((v == -1 && PyErr_Occurred()) || v < 0 || v > INT32_MAX) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "byte ids must be >= 0");
            Py_DECREF(enc);
            return NULL;
        }
        enc->byte_ids[b] = (int32_t)v;
    }
    Py_INCREF(table);
    enc->table = table;
    if (specials && specials_load(&enc->specials, specials, 1) < 0) {
        Py_DECREF(enc);
        return NULL;
    }
    enc->lock_ready = rwlock_init(&enc->lock) == 0;
    if (!enc->lock_ready || cache_init(&enc->shared) < 0 || id_objects_make(&enc->ids, encoder_top_id(enc)) < 0) {
        Py_DECREF(enc);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    return (PyObject *)enc;
}

static void encoder_dealloc(ByteLevelEncoderObject *enc) {
    cache_free(&enc->shared);
    if (enc->lock_ready) rwlock_destroy(&enc->lock);
    id_objects_free(&enc->ids);
    specials_free(&enc->specials);
    Py_XDECREF(enc->table);
    Py_TYPE(enc)->tp_free((PyObject *)enc);
}

/* encode_word(word: str) -> list[int] */
static PyObject *encoder_encode_word(ByteLevelEncoderObject *enc, PyObject *args) {
    PyObject *word;
    if (!PyArg_ParseTuple(args, "U", &word)) return NULL;
    PyObject *bytes = PyUnicode_AsEncodedString(word, "utf-8", "surrogatepass");
    if (!bytes) return NULL;
    Buf out = {0};
    CacheView view;
    int r;
    Py_BEGIN_ALLOW_THREADS
    view_open(enc, &view, 1);
    r = encode_word_bytes(enc, &view, PyBytes_AS_STRING(bytes), (int32_t)PyBytes_GET_SIZE(bytes), &out);
    view_close(enc, &view);
    view_merge(enc, &view);
    Py_END_ALLOW_THREADS
    Py_DECREF(bytes);
    PyObject *res = r < 0 ? PyErr_NoMemory() : list_of_ids(&enc->ids, &out);
    free(out.v);
    return res;
}

/* encode_segment: GPT-2 words of t[start, end) appended to ids, with (start, end, n_ids) records. */
static int encode_segment(const ByteLevelEncoderObject *enc, CacheView *cache, const Text *t, Py_ssize_t start,
                          Py_ssize_t end, Buf *ids, Buf *words, char **utf8, Py_ssize_t *utf8_cap) {
    Text seg = *t;
    seg.n = end; /* the pattern must not see past the next special token */
    for (Py_ssize_t i = start; i < end;) {
        Py_ssize_t e = gpt2_token_end(&seg, i);
        Py_ssize_t nb = utf8_of(t, i, e, utf8, utf8_cap);
        Py_ssize_t before = ids->n;
        if (nb < 0 || encode_word_bytes(enc, cache, *utf8, (int32_t)nb, ids) < 0 || buf_reserve(words, 3) < 0)
            return -1;
        words->v[words->n++] = (int32_t)i;
        words->v[words->n++] = (int32_t)e;
        words->v[words->n++] = (int32_t)(ids->n - before);
        i = e;
    }
    return 0;
}

/* encode_text_core: the whole of one text, specials first; runs without the GIL. */
static int encode_text_core(const ByteLevelEncoderObject *enc, CacheView *cache, const Text *t, Buf *ids, Buf *words) {
    char *utf8 = NULL;
    Py_ssize_t utf8_cap = 0, pos = 0;
    int r = 0;
    const Specials *sp = &enc->specials;
    for (Py_ssize_t i = 0; i < t->n && sp->n; i++) {
        Py_ssize_t k = special_at(sp, t, i);
        if (k < 0) continue;
        if (encode_segment(enc, cache, t, pos, i, ids, words, &utf8, &utf8_cap) < 0 || buf_reserve(ids, 1) < 0 ||
            buf_reserve(words, 3) < 0) {
            r = -1;
            break;
        }
        ids->v[ids->n++] = sp->id[k];
        words->v[words->n++] = (int32_t)i;
        words->v[words->n++] = (int32_t)(i + sp->len[k]);
        words->v[words->n++] = -1;
        pos = i + sp->len[k];
        i = pos - 1;
    }
    if (r == 0) r = encode_segment(enc, cache, t, pos, t->n, ids, words, &utf8, &utf8_cap);
    free(utf8);
    return r;
}

static int check_text(PyObject *str) {
    if (!PyUnicode_Check(str)) {
        PyErr_Format(PyExc_TypeError, "texts must be str, not %.100s", Py_TYPE(str)->tp_name);
        return -1;
    }
    if (PyUnicode_GET_LENGTH(str) > INT32_MAX / 4) {
        PyErr_SetString(PyExc_ValueError, "text too long for one call (over 500M characters): split it");
        return -1;
    }
    return 0;
}

static PyObject *result_pair(const IdObjects *io, const Buf *ids, const Buf *words) {
    PyObject *id_list = list_of_ids(io, ids);
    PyObject *word_bytes =
        id_list ? PyBytes_FromStringAndSize((const char *)words->v, words->n * (Py_ssize_t)sizeof(int32_t)) : NULL;
    PyObject *res = (id_list && word_bytes) ? PyTuple_Pack(2, id_list, word_bytes) : NULL;
    Py_XDECREF(id_list);
    Py_XDECREF(word_bytes);
    return res;
}

/* encode_text(text: str, classes: bytes) -> (ids, words): words holds (start, end, n_ids) per word as int32
 * bytes, n_ids -1 for a special token. Runs with the GIL released. */
static PyObject *encoder_encode_text(ByteLevelEncoderObject *enc, PyObject *args) {
    PyObject *str, *classes;
    if (!PyArg_ParseTuple(args, "UO", &str, &classes) || check_classes(classes) < 0 || check_text(str) < 0)
        return NULL;
    Text t;
    text_init(&t, str, classes);
    Buf ids = {0}, words = {0};
    CacheView view;
    int r;
    Py_BEGIN_ALLOW_THREADS
    view_open(enc, &view, 1);
    r = encode_text_core(enc, &view, &t, &ids, &words);
    view_close(enc, &view);
    view_merge(enc, &view);
    Py_END_ALLOW_THREADS
    PyObject *res = r < 0 ? PyErr_NoMemory() : result_pair(&enc->ids, &ids, &words);
    free(ids.v);
    free(words.v);
    return res;
}

/* A batch shared by worker threads: each takes the next text until none is left. What a worker keeps
 * (a cache view, scratch buffers) and how a text is encoded come from the encoder's BatchOps. */
typedef struct Batch Batch;
typedef struct {
    void (*begin)(Batch *b, void *state);
    int (*encode)(Batch *b, void *state, const Text *t, Buf *ids, Buf *aux);
    void (*end)(Batch *b, void *state);
    void (*finish)(Batch *b, void *state); /* once every worker has ended */
    size_t state_size;
} BatchOps;

struct Batch {
    void *enc;
    const BatchOps *ops;
    Text *texts;
    Buf *ids, *aux;
    Py_ssize_t n;
    atomic_size_t next;
    atomic_int failed;
};

typedef struct {
    Batch *batch;
    void *state;
} Worker;

static void batch_work(Batch *b, void *state) {
    b->ops->begin(b, state);
    for (;;) {
        size_t i = atomic_fetch_add(&b->next, 1);
        if ((Py_ssize_t)i >= b->n || atomic_load(&b->failed)) break;
        Buf ids = {0}, aux = {0}; /* thread-local while filled: neighbouring slots belong to other threads */
        int r = b->ops->encode(b, state, &b->texts[i], &ids, &aux);
        b->ids[i] = ids;
        b->aux[i] = aux;
        if (r < 0) atomic_store(&b->failed, 1);
    }
    b->ops->end(b, state);
}

#ifndef _WIN32
static void *batch_thread(void *arg) {
    Worker *w = arg;
    batch_work(w->batch, w->state);
    return NULL;
}
#endif

/* encode_batch for any encoder: texts -> list of (ids, aux bytes), over num_threads threads. */
static PyObject *run_batch(void *enc, const BatchOps *ops, const IdObjects *io, PyObject *args) {
    PyObject *list, *classes;
    int num_threads = 1;
    if (!PyArg_ParseTuple(args, "O!O|i", &PyList_Type, &list, &classes, &num_threads) || check_classes(classes) < 0)
        return NULL;
    /* hold every text: another Python thread may change the list while the GIL is released */
    PyObject *items = PySequence_Tuple(list);
    if (!items) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    Batch b = {enc, ops, NULL, NULL, NULL, n, 0, 0};
    PyObject *out = NULL;
    Worker *workers = NULL;
    char *states = NULL;
    b.texts = calloc((size_t)(n ? n : 1), sizeof(Text));
    b.ids = calloc((size_t)(n ? n : 1), sizeof(Buf));
    b.aux = calloc((size_t)(n ? n : 1), sizeof(Buf));
    if (num_threads < 1) num_threads = 1;
    if (num_threads > n) num_threads = n > 0 ? (int)n : 1;
    workers = calloc((size_t)num_threads, sizeof(Worker));
    states = calloc((size_t)num_threads, ops->state_size);
    if (!b.texts || !b.ids || !b.aux || !workers || !states) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (check_text(PyTuple_GET_ITEM(items, i)) < 0) goto done;
        text_init(&b.texts[i], PyTuple_GET_ITEM(items, i), classes);
    }
    Py_BEGIN_ALLOW_THREADS
    int started = 0;
    for (int k = 0; k < num_threads; k++) workers[k] = (Worker){&b, states + (size_t)k * ops->state_size};
#ifndef _WIN32
    pthread_t *tids = num_threads > 1 ? malloc((size_t)(num_threads - 1) * sizeof(pthread_t)) : NULL;
    for (int k = 1; tids && k < num_threads; k++, started++)
        if (pthread_create(&tids[k - 1], NULL, batch_thread, &workers[k]) != 0) break; /* fewer: still correct */
#endif
    batch_work(&b, workers[0].state);
#ifndef _WIN32
    for (int k = 0; k < started; k++) pthread_join(tids[k], NULL);
    free(tids);
#endif
    for (int k = 0; k <= started; k++) ops->finish(&b, workers[k].state);
    Py_END_ALLOW_THREADS
    if (atomic_load(&b.failed)) {
        PyErr_NoMemory();
        goto done;
    }
    out = PyList_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *pair = result_pair(io, &b.ids[i], &b.aux[i]);
        if (!pair) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, pair);
    }
done:
    for (Py_ssize_t i = 0; i < n && b.ids && b.aux; i++) {
        free(b.ids[i].v);
        free(b.aux[i].v);
    }
    free(b.texts);
    free(b.ids);
    free(b.aux);
    free(workers);
    free(states);
    Py_DECREF(items);
    return out;
}

/* The byte-level encoder's batch: workers read the shared cache together and keep new words apart. */
static void bpe_batch_begin(Batch *b, void *state) { view_open(b->enc, state, 0); }
static int bpe_batch_encode(Batch *b, void *state, const Text *t, Buf *ids, Buf *aux) {
    return encode_text_core(b->enc, state, t, ids, aux);
}
static void bpe_batch_end(Batch *b, void *state) { view_close(b->enc, state); }
static void bpe_batch_finish(Batch *b, void *state) { view_merge(b->enc, state); }
static const BatchOps BPE_BATCH = {bpe_batch_begin, bpe_batch_encode, bpe_batch_end, bpe_batch_finish,
                                   sizeof(CacheView)};

/* encode_batch(texts: list[str], classes: bytes, num_threads: int) -> list of (ids, words) */
static PyObject *encoder_encode_batch(ByteLevelEncoderObject *enc, PyObject *args) {
    return run_batch(enc, &BPE_BATCH, &enc->ids, args);
}

static PyMethodDef encoder_methods[] = {
    {"encode_word", (PyCFunction)encoder_encode_word, METH_VARARGS, "Ids of one word (cached)."},
    {"encode_text", (PyCFunction)encoder_encode_text, METH_VARARGS,
     "Split with GPT-2's pattern and encode: (ids, per-word (start, end, n_ids) as int32 bytes)."},
    {"encode_batch", (PyCFunction)encoder_encode_batch, METH_VARARGS,
     "encode_text of each text, spread over num_threads threads without the GIL."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ByteLevelEncoderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "subtok._native.ByteLevelEncoder",
    .tp_basicsize = sizeof(ByteLevelEncoderObject),
    .tp_dealloc = (destructor)encoder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Byte-level words -> ids with a thread-safe cache (mirrors bpe_core.ByteLevelEncoder).",
    .tp_methods = encoder_methods,
    .tp_new = encoder_new,
};

/* ------------------------------------------------------------------------------------------------ */
/* Training's counting step for byte-level BPE                                                      */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    uint64_t hash;
    int64_t count;
    char *bytes; /* NULL: empty slot */
    int32_t nbytes;
} CountSlot;

typedef struct {
    CountSlot *slots;
    size_t cap, n;
} WordCounts;

static int counts_add(WordCounts *c, const char *bytes, int32_t nbytes) {
    uint64_t h = hash_bytes(bytes, nbytes);
    size_t j = h & (c->cap - 1);
    while (c->slots[j].bytes) {
        CountSlot *e = &c->slots[j];
        if (e->hash == h && e->nbytes == nbytes && memcmp(e->bytes, bytes, (size_t)nbytes) == 0) {
            e->count++;
            return 0;
        }
        j = (j + 1) & (c->cap - 1);
    }
    if ((c->n + 1) * 2 > c->cap) {
        size_t cap = c->cap * 2;
        CountSlot *slots = calloc(cap, sizeof(CountSlot));
        if (!slots) return -1;
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->slots[i].bytes) continue;
            size_t k = c->slots[i].hash & (cap - 1);
            while (slots[k].bytes) k = (k + 1) & (cap - 1);
            slots[k] = c->slots[i];
        }
        free(c->slots);
        c->slots = slots;
        c->cap = cap;
        j = h & (cap - 1);
        while (c->slots[j].bytes) j = (j + 1) & (cap - 1);
    }
    char *copy = malloc((size_t)nbytes + 1);
    if (!copy) return -1;
    memcpy(copy, bytes, (size_t)nbytes);
    c->slots[j] = (CountSlot){h, 1, copy, nbytes};
    c->n++;
    return 0;
}

static void counts_free(WordCounts *c) {
    for (size_t i = 0; c->slots && i < c->cap; i++) free(c->slots[i].bytes);
    free(c->slots);
}

/* count_segment: the GPT-2 words of t[start, end) into counts. */
static int count_segment(const Text *t, Py_ssize_t start, Py_ssize_t end, WordCounts *counts, char **utf8,
                         Py_ssize_t *utf8_cap) {
    Text seg = *t;
    seg.n = end;
    for (Py_ssize_t i = start; i < end;) {
        Py_ssize_t e = gpt2_token_end(&seg, i);
        Py_ssize_t nb = utf8_of(t, i, e, utf8, utf8_cap);
        if (nb < 0 || counts_add(counts, *utf8, (int32_t)nb) < 0) return -1;
        i = e;
    }
    return 0;
}

/* count_text: one text's words, special tokens cut out first. */
static int count_text(const Specials *sp, const Text *t, WordCounts *counts, char **utf8, Py_ssize_t *utf8_cap) {
    Py_ssize_t pos = 0;
    for (Py_ssize_t i = 0; i < t->n && sp->n; i++) {
        Py_ssize_t k = special_at(sp, t, i);
        if (k < 0) continue;
        if (count_segment(t, pos, i, counts, utf8, utf8_cap) < 0) return -1;
        pos = i + sp->len[k];
        i = pos - 1;
    }
    return count_segment(t, pos, t->n, counts, utf8, utf8_cap);
}

/* count_gpt2(texts: list[str], classes: bytes, specials: list[str]) -> dict[str, int] */
static PyObject *count_gpt2(PyObject *self, PyObject *args) {
    PyObject *list, *classes, *specials_list;
    if (!PyArg_ParseTuple(args, "O!OO!", &PyList_Type, &list, &classes, &PyList_Type, &specials_list) ||
        check_classes(classes) < 0)
        return NULL;
    PyObject *items = PySequence_Tuple(list); /* held while the GIL is released */
    if (!items) return NULL;
    Specials sp = {0};
    WordCounts counts = {calloc(1024, sizeof(CountSlot)), 1024, 0};
    PyObject *out = NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    Text *texts = calloc((size_t)(n ? n : 1), sizeof(Text));
    if (!counts.slots || !texts) {
        PyErr_NoMemory();
        goto done;
    }
    if (specials_load(&sp, specials_list, 0) < 0) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (check_text(PyTuple_GET_ITEM(items, i)) < 0) goto done;
        text_init(&texts[i], PyTuple_GET_ITEM(items, i), classes);
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    char *utf8 = NULL;
    Py_ssize_t utf8_cap = 0;
    for (Py_ssize_t i = 0; i < n && !failed; i++) failed = count_text(&sp, &texts[i], &counts, &utf8, &utf8_cap) < 0;
    free(utf8);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    out = PyDict_New();
    for (size_t j = 0; out && j < counts.cap; j++) {
        const CountSlot *e = &counts.slots[j];
        if (!e->bytes) continue;
        PyObject *word = PyUnicode_DecodeUTF8(e->bytes, e->nbytes, "surrogatepass");
        PyObject *c = word ? PyLong_FromLongLong(e->count) : NULL;
        if (!c || PyDict_SetItem(out, word, c) < 0) Py_CLEAR(out);
        Py_XDECREF(word);
        Py_XDECREF(c);
    }
done:
    counts_free(&counts);
    specials_free(&sp);
    free(texts);
    Py_DECREF(items);
    return out;
}

/* ------------------------------------------------------------------------------------------------ */
/* WordPiece: the longest-match encoder (mirrors models/wordpiece_core.py)                          */
/* ------------------------------------------------------------------------------------------------ */
/* A character trie: node 0 is the root of word-initial tokens, node 1 of continuation tokens (prefix
 * stripped). Edges live in one hash table keyed by (node, code point). */
typedef struct {
    PyObject_HEAD uint64_t *edge_key; /* (node + 1) << 21 | code point; 0 = empty */
    int32_t *edge_child;
    size_t edge_cap;
    int32_t *token; /* token id ending at each node, -1 for none */
    int32_t n_nodes;
} Trie;

static void trie_dealloc(Trie *t) {
    free(t->edge_key);
    free(t->edge_child);
    free(t->token);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyTypeObject TrieType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "subtok._native.Trie",
    .tp_basicsize = sizeof(Trie),
    .tp_dealloc = (destructor)trie_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A WordPiece vocabulary as a character trie.",
};

static inline int32_t trie_child(const Trie *t, int32_t node, Py_UCS4 c) {
    uint64_t key = ((uint64_t)(node + 1) << 21) | c; /* never 0, the empty mark */
    size_t j = mix64(key) & (t->edge_cap - 1);
    while (t->edge_key[j]) {
        if (t->edge_key[j] == key) return t->edge_child[j];
        j = (j + 1) & (t->edge_cap - 1);
    }
    return -1;
}

/* make_trie(vocab: list[str], prefix: str) -> Trie */
static PyObject *make_trie(PyObject *self, PyObject *args) {
    PyObject *vocab, *prefix;
    if (!PyArg_ParseTuple(args, "O!U", &PyList_Type, &vocab, &prefix)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(vocab), total = 2, plen = PyUnicode_GET_LENGTH(prefix);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *tok = PyList_GET_ITEM(vocab, i);
        if (!PyUnicode_Check(tok)) {
            PyErr_SetString(PyExc_TypeError, "the vocabulary must be a list of str");
            return NULL;
        }
        total += PyUnicode_GET_LENGTH(tok);
    }
    if (total > INT32_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "vocabulary too large for the trie");
        return NULL;
    }
    Trie *t = PyObject_New(Trie, &TrieType);
    if (!t) return NULL;
    t->edge_cap = 64;
    while (t->edge_cap < (size_t)total * 2) t->edge_cap <<= 1;
    t->edge_key = calloc(t->edge_cap, sizeof(uint64_t));
    t->edge_child = malloc(t->edge_cap * sizeof(int32_t));
    t->token = malloc((size_t)total * sizeof(int32_t));
    t->n_nodes = 2;
    if (!t->edge_key || !t->edge_child || !t->token) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < total; i++) t->token[i] = -1;
    Py_UCS4 *pre = PyUnicode_AsUCS4Copy(prefix);
    if (!pre) {
        Py_DECREF(t);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *tok = PyList_GET_ITEM(vocab, i);
        int kind = PyUnicode_KIND(tok);
        const void *data = PyUnicode_DATA(tok);
        Py_ssize_t len = PyUnicode_GET_LENGTH(tok), start = 0;
        int32_t node = 0;
        if (plen && len > plen) { /* a continuation token: its prefix is stripped, under root 1 */
            Py_ssize_t k = 0;
            while (k < plen && PyUnicode_READ(kind, data, k) == pre[k]) k++;
            if (k == plen) {
                node = 1;
                start = plen;
            }
        }
        for (Py_ssize_t k = start; k < len; k++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, k);
            int32_t child = trie_child(t, node, c);
            if (child < 0) {
                child = t->n_nodes++;
                uint64_t key = ((uint64_t)(node + 1) << 21) | c; /* never 0, the empty mark */
                size_t j = mix64(key) & (t->edge_cap - 1);
                while (t->edge_key[j]) j = (j + 1) & (t->edge_cap - 1);
                t->edge_key[j] = key;
                t->edge_child[j] = child;
            }
            node = child;
        }
        if (t->token[node] < 0) t->token[node] = (int32_t)i; /* the first of duplicate spellings, as setdefault */
    }
    PyMem_Free(pre);
    return (PyObject *)t;
}

/* longest_match: BERT's greedy longest-match-first over cp[0, n): the id and end of each token, written to
 * ids and ends (at most n each); returns their number, or 0 when some position matches no token. */
static Py_ssize_t longest_match(const Trie *trie, const Py_UCS4 *cp, Py_ssize_t n, int32_t *ids, int32_t *ends) {
    Py_ssize_t start = 0, m = 0;
    while (start < n) {
        int32_t node = start == 0 ? 0 : 1, best_id = -1;
        Py_ssize_t best_end = start;
        for (Py_ssize_t i = start; i < n; i++) {
            node = trie_child(trie, node, cp[i]);
            if (node < 0) break;
            if (trie->token[node] >= 0) {
                best_id = trie->token[node];
                best_end = i + 1;
            }
        }
        if (best_id < 0) return 0;
        ids[m] = best_id;
        ends[m++] = (int32_t)best_end;
        start = best_end;
    }
    return m;
}

/* encode_longest_match(word: str, trie: Trie, unk_id: int, max_chars: int) -> list[int] */
static PyObject *encode_longest_match(PyObject *self, PyObject *args) {
    PyObject *word;
    Trie *trie;
    long unk_id;
    Py_ssize_t max_chars;
    if (!PyArg_ParseTuple(args, "UO!ln", &word, &TrieType, &trie, &unk_id, &max_chars)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(word);
    if (n > max_chars) return Py_BuildValue("[l]", unk_id);
    Py_UCS4 *cp = PyUnicode_AsUCS4Copy(word);
    int32_t *buf = malloc((size_t)(2 * n + 1) * sizeof(int32_t));
    if (!cp || !buf) {
        PyMem_Free(cp);
        free(buf);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    Py_ssize_t m;
    Py_BEGIN_ALLOW_THREADS
    m = longest_match(trie, cp, n, buf, buf + n);
    Py_END_ALLOW_THREADS
    PyObject *out = (m == 0 && n > 0) ? Py_BuildValue("[l]", unk_id) : PyList_New(m);
    for (Py_ssize_t i = 0; out && n > 0 && i < m; i++) {
        PyObject *v = PyLong_FromLong(buf[i]);
        if (!v) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, v);
    }
    PyMem_Free(cp);
    free(buf);
    return out;
}

/* BERT's pipeline in one call (mirrors wordpiece_core.BertEncoder): specials, the normalizer as a
 * per-code-point table, the BERT pre-tokenizer over the class table, longest match, offsets. */
typedef struct {
    PyObject_HEAD Trie *trie;
    int32_t unk_id;
    Py_ssize_t max_chars;
    PyObject *table_obj, *repl_obj; /* bytes, or NULL for no normalizer */
    const int32_t *table, *repl;
    Specials specials;
    IdObjects ids;
} BertEncoderObject;

typedef struct {
    Buf norm, orig, match; /* normalized code points, their original index, longest_match's ids and ends */
} BertScratch;

static int buf_push(Buf *b, int32_t v) {
    if (buf_reserve(b, 1) < 0) return -1;
    b->v[b->n++] = v;
    return 0;
}

/* bert_segment: t[start, end) normalized, split and encoded; ids and per-token (start, end) appended. */
static int bert_segment(const BertEncoderObject *enc, BertScratch *s, const Text *t, Py_ssize_t start,
                        Py_ssize_t end, Buf *ids, Buf *offs) {
    s->norm.n = s->orig.n = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 c = CP(t, i);
        int32_t v = enc->table ? enc->table[c] : -1;
        if (v == -2) continue;
        int32_t len = v == -1 ? 1 : (v & 15), off = v >> 4;
        if (buf_reserve(&s->norm, len) < 0 || buf_reserve(&s->orig, len) < 0) return -1;
        for (int32_t k = 0; k < len; k++) {
            s->norm.v[s->norm.n++] = v == -1 ? (int32_t)c : enc->repl[off + k];
            s->orig.v[s->orig.n++] = (int32_t)i;
        }
    }
    const Py_UCS4 *cp = (const Py_UCS4 *)s->norm.v;
    const int32_t *orig = s->orig.v;
    Py_ssize_t n = s->norm.n;
    for (Py_ssize_t j = 0; j < n;) {
        int cls = t->classes[cp[j]];
        if (cls & CLASS_SPACE) {
            j++;
            continue;
        }
        Py_ssize_t we = j + 1;
        if (!(cls & CLASS_PUNCT))
            while (we < n && !(t->classes[cp[we]] & (CLASS_SPACE | CLASS_PUNCT))) we++;
        Py_ssize_t len = we - j, m = 0;
        if (len <= enc->max_chars) {
            if (buf_reserve(&s->match, 2 * len) < 0) return -1;
            m = longest_match(enc->trie, cp + j, len, s->match.v, s->match.v + len);
        }
        if (buf_reserve(ids, m ? m : 1) < 0 || buf_reserve(offs, 2 * (m ? m : 1)) < 0) return -1;
        if (m == 0) {
            ids->v[ids->n++] = enc->unk_id;
            offs->v[offs->n++] = orig[j];
            offs->v[offs->n++] = orig[we - 1] + 1;
        }
        for (Py_ssize_t k = 0; k < m; k++) {
            Py_ssize_t s0 = j + (k ? s->match.v[len + k - 1] : 0), e0 = j + s->match.v[len + k];
            ids->v[ids->n++] = s->match.v[k];
            offs->v[offs->n++] = orig[s0];
            offs->v[offs->n++] = orig[e0 - 1] + 1;
        }
        j = we;
    }
    return 0;
}

/* bert_text_core: one text, special tokens first; runs without the GIL. */
static int bert_text_core(const BertEncoderObject *enc, BertScratch *s, const Text *t, Buf *ids, Buf *offs) {
    const Specials *sp = &enc->specials;
    Py_ssize_t pos = 0;
    for (Py_ssize_t i = 0; i < t->n && sp->n; i++) {
        Py_ssize_t k = special_at(sp, t, i);
        if (k < 0) continue;
        if (bert_segment(enc, s, t, pos, i, ids, offs) < 0 || buf_push(ids, sp->id[k]) < 0 ||
            buf_push(offs, (int32_t)i) < 0 || buf_push(offs, (int32_t)(i + sp->len[k])) < 0)
            return -1;
        pos = i + sp->len[k];
        i = pos - 1;
    }
    return bert_segment(enc, s, t, pos, t->n, ids, offs);
}

static void bert_scratch_free(BertScratch *s) {
    free(s->norm.v);
    free(s->orig.v);
    free(s->match.v);
    memset(s, 0, sizeof *s);
}

static PyObject *bert_make(PyTypeObject *type, Trie *trie, long unk_id, Py_ssize_t max_chars, PyObject *table,
                           PyObject *repl, PyObject *specials);

/* BertEncoder(trie, unk_id, max_chars, normalizer: BertNormalizer | None, specials: list of (str, id));
 * the normalizer is read through its table() */
static PyObject *bert_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    Trie *trie;
    long unk_id;
    Py_ssize_t max_chars;
    PyObject *normalizer, *specials, *table = Py_None, *repl = Py_None;
    if (!PyArg_ParseTuple(args, "O!lnOO!", &TrieType, &trie, &unk_id, &max_chars, &normalizer, &PyList_Type,
                          &specials))
        return NULL;
    PyObject *tables = normalizer == Py_None ? NULL : PyObject_CallMethod(normalizer, "table", NULL);
    if (normalizer != Py_None && (!tables || !PyArg_ParseTuple(tables, "SS", &table, &repl))) {
        Py_XDECREF(tables);
        return NULL;
    }
    PyObject *res = bert_make(type, trie, unk_id, max_chars, table, repl, specials);
    Py_XDECREF(tables);
    return res;
}

static PyObject *bert_make(PyTypeObject *type, Trie *trie, long unk_id, Py_ssize_t max_chars, PyObject *table,
                           PyObject *repl, PyObject *specials) {
    if (unk_id < 0 || unk_id > INT32_MAX || max_chars < 0) {
        PyErr_SetString(PyExc_ValueError, "unk_id and max_chars must be >= 0");
        return NULL;
    }
    Py_ssize_t n_repl = 0;
    if (table != Py_None) { /* check every entry once, so the hot loop can trust the table */
        if (!PyBytes_Check(table) || PyBytes_GET_SIZE(table) != N_CODEPOINTS * 4 || !PyBytes_Check(repl) ||
            PyBytes_GET_SIZE(repl) % 4) {
            PyErr_SetString(PyExc_ValueError, "table must be 0x110000 int32 and repl int32 code points (BertNormalizer.table())");
            return NULL;
        }
        n_repl = PyBytes_GET_SIZE(repl) / 4;
        const int32_t *tb = (const int32_t *)PyBytes_AS_STRING(table), *rp = (const int32_t *)PyBytes_AS_STRING(repl);
        for (Py_ssize_t k = 0; k < n_repl; k++)
            if (rp[k] < 0 || rp[k] >= N_CODEPOINTS) {
                PyErr_SetString(PyExc_ValueError, "repl holds a value that is not a code point");
                return NULL;
            }
        for (Py_ssize_t c = 0; c < N_CODEPOINTS; c++)
            if (tb[c] < -2 || (tb[c] >= 0 && ((tb[c] & 15) == 0 || (tb[c] >> 4) + (tb[c] & 15) > n_repl))) {
                PyErr_Format(PyExc_ValueError, "table entry for U+%04zX points outside repl", c);
                return NULL;
            }
    }
    BertEncoderObject *enc = (BertEncoderObject *)type->tp_alloc(type, 0);
    if (!enc) return NULL;
    Py_INCREF(trie);
    enc->trie = trie;
    enc->unk_id = (int32_t)unk_id;
    enc->max_chars = max_chars;
    if (table != Py_None) {
        Py_INCREF(table);
        Py_INCREF(repl);
        enc->table_obj = table;
        enc->repl_obj = repl;
        enc->table = (const int32_t *)PyBytes_AS_STRING(table);
        enc->repl = (const int32_t *)PyBytes_AS_STRING(repl);
    }
    if (specials_load(&enc->specials, specials, 1) < 0) {
        Py_DECREF(enc);
        return NULL;
    }
    int32_t top = enc->unk_id;
    for (int32_t i = 0; i < trie->n_nodes; i++) top = trie->token[i] > top ? trie->token[i] : top;
    for (Py_ssize_t k = 0; k < enc->specials.n; k++) top = enc->specials.id[k] > top ? enc->specials.id[k] : top;
    if (id_objects_make(&enc->ids, top) < 0) {
        Py_DECREF(enc);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    return (PyObject *)enc;
}

static void bert_dealloc(BertEncoderObject *enc) {
    id_objects_free(&enc->ids);
    specials_free(&enc->specials);
    Py_XDECREF(enc->trie);
    Py_XDECREF(enc->table_obj);
    Py_XDECREF(enc->repl_obj);
    Py_TYPE(enc)->tp_free((PyObject *)enc);
}

/* encode_text(text: str, classes: bytes) -> (ids, offsets as int32 (start, end) pairs) */
static PyObject *bert_encode_text(BertEncoderObject *enc, PyObject *args) {
    PyObject *str, *classes;
    if (!PyArg_ParseTuple(args, "UO", &str, &classes) || check_classes(classes) < 0 || check_text(str) < 0)
        return NULL;
    Text t;
    text_init(&t, str, classes);
    Buf ids = {0}, offs = {0};
    BertScratch scratch = {0};
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = bert_text_core(enc, &scratch, &t, &ids, &offs);
    Py_END_ALLOW_THREADS
    bert_scratch_free(&scratch);
    PyObject *res = r < 0 ? PyErr_NoMemory() : result_pair(&enc->ids, &ids, &offs);
    free(ids.v);
    free(offs.v);
    return res;
}

static void bert_batch_begin(Batch *b, void *state) { memset(state, 0, sizeof(BertScratch)); }
static int bert_batch_encode(Batch *b, void *state, const Text *t, Buf *ids, Buf *aux) {
    return bert_text_core(b->enc, state, t, ids, aux);
}
static void bert_batch_end(Batch *b, void *state) { bert_scratch_free(state); }
static void bert_batch_finish(Batch *b, void *state) {}
static const BatchOps BERT_BATCH = {bert_batch_begin, bert_batch_encode, bert_batch_end, bert_batch_finish,
                                    sizeof(BertScratch)};

static PyObject *bert_encode_batch(BertEncoderObject *enc, PyObject *args) {
    return run_batch(enc, &BERT_BATCH, &enc->ids, args);
}

static PyMethodDef bert_methods[] = {
    {"encode_text", (PyCFunction)bert_encode_text, METH_VARARGS, "BERT's pipeline: (ids, (start, end) per token)."},
    {"encode_batch", (PyCFunction)bert_encode_batch, METH_VARARGS,
     "encode_text of each text, spread over num_threads threads without the GIL."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject BertEncoderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "subtok._native.BertEncoder",
    .tp_basicsize = sizeof(BertEncoderObject),
    .tp_dealloc = (destructor)bert_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "BERT's normalizer, pre-tokenizer and WordPiece in one call (mirrors wordpiece_core.BertEncoder).",
    .tp_methods = bert_methods,
    .tp_new = bert_new,
};

/* ------------------------------------------------------------------------------------------------ */
/* Sparse matrix times dense matrix (mirrors sparse.csr_dot)                                        */
/* ------------------------------------------------------------------------------------------------ */
static int get_buffer(PyObject *obj, Py_buffer *view, const char *name, char kind, int ndim, int writable) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    const char *fmt = view->format ? view->format : "B";
    if (*fmt == '<' || *fmt == '=' || *fmt == '@') fmt++;
    int ok = view->ndim == ndim && (kind == 'f'   ? view->itemsize == 4 && strcmp(fmt, "f") == 0
                                    : kind == 'd' ? view->itemsize == 8 && strcmp(fmt, "d") == 0
                                                  : view->itemsize == 8 && (strcmp(fmt, "q") == 0 || strcmp(fmt, "l") == 0));
    if (!ok) {
        PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous %d-D array of %s", name, ndim,
                     kind == 'f' ? "float32" : kind == 'd' ? "float64" : "int64");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* Rows [row0, row1) of out = M @ x. */
typedef struct {
    const int64_t *indptr, *indices;
    const double *data, *x;
    double *out;
    Py_ssize_t row0, row1, k;
} DotPart;

static void *csr_dot_rows(void *arg) {
    const DotPart *p = arg;
    for (Py_ssize_t r = p->row0; r < p->row1; r++) {
        double *o_row = p->out + r * p->k;
        for (Py_ssize_t c = 0; c < p->k; c++) o_row[c] = 0.0;
        for (int64_t j = p->indptr[r]; j < p->indptr[r + 1]; j++) {
            const double v = p->data[j], *x_row = p->x + p->indices[j] * p->k;
            for (Py_ssize_t c = 0; c < p->k; c++) o_row[c] += v * x_row[c];
        }
    }
    return NULL;
}

/* csr_dot(indptr, indices, data, x, out, num_threads=1): out = M @ x for M in CSR form (int64 indptr and
 * indices, float64 data), x (n_cols, k) and out (n_rows, k) float64. Every index is checked before the GIL
 * is released; threads take contiguous row ranges of equal nonzeros, each row summed in the same order. */
static PyObject *csr_dot(PyObject *self, PyObject *args) {
    PyObject *o[5];
    int num_threads = 1;
    if (!PyArg_ParseTuple(args, "OOOOO|i", &o[0], &o[1], &o[2], &o[3], &o[4], &num_threads)) return NULL;
    Py_buffer b[5];
    const char *names[5] = {"indptr", "indices", "data", "x", "out"};
    const char kinds[5] = {'q', 'q', 'd', 'd', 'd'};
    const int dims[5] = {1, 1, 1, 2, 2};
    int got = 0;
    for (; got < 5; got++)
        if (get_buffer(o[got], &b[got], names[got], kinds[got], dims[got], got == 4) < 0) break;
    PyObject *res = NULL;
    if (got == 5) {
        const int64_t *indptr = b[0].buf, *indices = b[1].buf;
        Py_ssize_t n_rows = b[0].shape[0] - 1, nnz = b[1].shape[0], n_cols = b[3].shape[0], k = b[3].shape[1];
        int ok = n_rows >= 0 && b[2].shape[0] == nnz && b[4].shape[0] == n_rows && b[4].shape[1] == k &&
                 indptr[0] == 0 && indptr[n_rows] == nnz;
        for (Py_ssize_t r = 0; ok && r < n_rows; r++) ok = indptr[r] <= indptr[r + 1];
        for (Py_ssize_t j = 0; ok && j < nnz; j++) ok = indices[j] >= 0 && indices[j] < n_cols;
        if (!ok) {
            PyErr_SetString(PyExc_ValueError, "csr_dot: inconsistent CSR arrays or shapes");
        } else {
            if (num_threads < 1 || (double)nnz * (double)k < 4e6) num_threads = 1; /* small: not worth threads */
            if (num_threads > 16) num_threads = 16;
            DotPart parts[16];
            Py_BEGIN_ALLOW_THREADS
            Py_ssize_t row = 0;
            for (int t = 0; t < num_threads; t++) { /* split where the nonzeros reach t+1 shares */
                int64_t goal = (int64_t)((double)nnz * (t + 1) / num_threads);
                Py_ssize_t end = row;
                while (end < n_rows && (t == num_threads - 1 || indptr[end] < goal)) end++;
                parts[t] = (DotPart){indptr, indices, b[2].buf, b[3].buf, b[4].buf, row, end, k};
                row = end;
            }
            int started = 0;
#ifndef _WIN32
            pthread_t tids[16];
            for (int t = 1; t < num_threads; t++, started++)
                if (pthread_create(&tids[t - 1], NULL, csr_dot_rows, &parts[t]) != 0) break;
#endif
            csr_dot_rows(&parts[0]);
            for (int t = started + 1; t < num_threads; t++) csr_dot_rows(&parts[t]); /* threads that did not start */
#ifndef _WIN32
            for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
#endif
            Py_END_ALLOW_THREADS
            res = Py_None;
            Py_INCREF(res);
        }
    }
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return res;
}

/* ------------------------------------------------------------------------------------------------ */
/* word2vec: skip-gram and CBOW with negative sampling, one word at a time as word2vec.c            */
/* (the numpy engine in word2vec.py runs the same algorithm a minibatch at a time)                  */
/* ------------------------------------------------------------------------------------------------ */
static inline uint64_t rng_next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline double rng_uniform(uint64_t *s) { return (rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }

/* Walker's alias table: a negative in O(1) from the noise distribution (mirrors nn.layers.AliasTable). */
typedef struct {
    double *prob;
    int64_t *alias;
    int64_t n;
} Alias;

static int alias_build(Alias *a, const double *weights, double total, int64_t V) {
    a->n = V;
    a->prob = malloc((size_t)V * sizeof(double));
    a->alias = malloc((size_t)V * sizeof(int64_t));
    int64_t *small = malloc((size_t)V * sizeof(int64_t)), *large = malloc((size_t)V * sizeof(int64_t));
    if (!a->prob || !a->alias || !small || !large) {
        free(small);
        free(large);
        return -1;
    }
    int64_t ns = 0, nl = 0;
    for (int64_t i = 0; i < V; i++) {
        double p = weights[i] / total * (double)V; /* each of the V columns holds 1 */
        a->prob[i] = p;
        a->alias[i] = i;
        if (p < 1.0) small[ns++] = i; else large[nl++] = i;
    }
    while (ns && nl) {
        int64_t s_ = small[--ns], l = large[nl - 1];
        a->alias[s_] = l;
        a->prob[l] -= 1.0 - a->prob[s_];
        if (a->prob[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    while (nl) a->prob[large[--nl]] = 1.0;
    while (ns) a->prob[small[--ns]] = 1.0;
    free(small);
    free(large);
    return 0;
}

static inline int64_t draw_negative(const Alias *a, uint64_t *s) {
    uint64_t r = rng_next(s);
    int64_t i = (int64_t)((r >> 32) % (uint64_t)a->n);
    return ((double)(uint32_t)r / 4294967296.0) < a->prob[i] ? i : a->alias[i];
}

#define EXP_TABLE 1000
#define MAX_EXP 6 /* a score beyond +-6 makes no update, as in gensim (word2vec.c takes sigmoid 0 or 1) */
static float sigmoid_table[EXP_TABLE];

static void sigmoid_table_init(void) {
    for (int i = 0; i < EXP_TABLE; i++) {
        double x = (i / (double)EXP_TABLE * 2 - 1) * MAX_EXP;
        sigmoid_table[i] = (float)(1.0 / (1.0 + exp(-x)));
    }
}

static inline float dot8(const float *a, const float *b, int64_t n) { /* 8 partial sums: vectorizes */
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[j + k] * b[j + k];
    float f = 0;
    for (; j < n; j++) f += a[j] * b[j];
    for (int k = 0; k < 8; k++) f += acc[k];
    return f;
}

/* One (input vector h, output word) update with negatives: grad accumulates the input's gradient. */
static void sgns_step(float *syn1, int64_t D, const float *h, int64_t out_word, int negative, const Alias *noise,
                      float lr, float *grad, uint64_t *rng) {
    for (int d = 0; d <= negative; d++) {
        int64_t target = d == 0 ? out_word : draw_negative(noise, rng);
        if (d > 0 && target == out_word) continue;
        float *o = syn1 + target * D;
        float f = dot8(h, o, D);
        if (f <= -MAX_EXP || f >= MAX_EXP) continue;
        float sig = sigmoid_table[(int)((f + MAX_EXP) * (EXP_TABLE / MAX_EXP / 2))];
        float g = ((d == 0 ? 1.0f : 0.0f) - sig) * lr;
        for (int64_t j = 0; j < D; j++) grad[j] += g * o[j];
        for (int64_t j = 0; j < D; j++) o[j] += g * h[j];
    }
}

/* sgns_train(syn0, syn1neg, stream, segments, noise, window, negative, sg, lr_start, lr_end, seed):
 * noise holds the unnormalized weights of the noise distribution, one per word. */
static PyObject *sgns_train(PyObject *self, PyObject *args) {
    PyObject *o[5];
    int window, negative, sg;
    double lr0, lr1;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "OOOOOiiiddK", &o[0], &o[1], &o[2], &o[3], &o[4], &window, &negative, &sg, &lr0,
                          &lr1, &seed))
        return NULL;
    Py_buffer b[5];
    const char *names[5] = {"syn0", "syn1neg", "stream", "segments", "noise"};
    const char kinds[5] = {'f', 'f', 'q', 'q', 'd'};
    const int dims[5] = {2, 2, 1, 1, 1};
    int got = 0;
    for (; got < 5; got++)
        if (get_buffer(o[got], &b[got], names[got], kinds[got], dims[got], got < 2) < 0) break;
    int ok = got == 5;
    PyObject *res = NULL;
    float *h = NULL;
    Alias noise = {0};
    if (ok && got == 5) {
        float *syn0 = b[0].buf, *syn1 = b[1].buf;
        const int64_t *stream = b[2].buf, *segs = b[3].buf;
        const double *noise_weights = b[4].buf;
        int64_t V = b[0].shape[0], D = b[0].shape[1], n = b[2].shape[0];
        int valid = b[1].shape[0] == V && b[1].shape[1] == D && b[3].shape[0] == n && b[4].shape[0] == V &&
                    window >= 1 && negative >= 0 && V > 0;
        for (int64_t i = 0; valid && i < n; i++) valid = stream[i] >= 0 && stream[i] < V;
        double total = 0.0;
        for (int64_t i = 0; valid && i < V; i++) {
            valid = noise_weights[i] >= 0.0 && isfinite(noise_weights[i]);
            total += noise_weights[i];
        }
        valid = valid && total > 0.0;
        h = valid ? malloc((size_t)D * 2 * sizeof(float)) : NULL;
        if (!valid) {
            PyErr_SetString(PyExc_ValueError,
                            "sgns_train: inconsistent shapes, ids outside the vocabulary or bad noise weights");
        } else if (!h || alias_build(&noise, noise_weights, total, V) < 0) {
            PyErr_NoMemory();
        } else {
            float *grad = h + D;
            uint64_t rng = seed;
            Py_BEGIN_ALLOW_THREADS
            for (int64_t i = 0; i < n; i++) {
                float lr = (float)(lr0 + (lr1 - lr0) * (double)i / (double)n);
                int reach = window - (int)(rng_next(&rng) % (uint64_t)window);
                int64_t lo = i - reach < 0 ? 0 : i - reach, hi = i + reach >= n ? n - 1 : i + reach;
                if (sg) { /* each context word's vector predicts the centre, as word2vec.c and gensim */
                    for (int64_t c = lo; c <= hi; c++) {
                        if (c == i || segs[c] != segs[i]) continue;
                        float *in = syn0 + stream[c] * D;
                        memset(grad, 0, (size_t)D * sizeof(float));
                        sgns_step(syn1, D, in, stream[i], negative, &noise, lr, grad, &rng);
                        for (int64_t j = 0; j < D; j++) in[j] += grad[j];
                    }
                } else { /* the mean of the context vectors predicts the centre */
                    int count = 0;
                    memset(h, 0, (size_t)D * sizeof(float));
                    for (int64_t c = lo; c <= hi; c++) {
                        if (c == i || segs[c] != segs[i]) continue;
                        const float *in = syn0 + stream[c] * D;
                        for (int64_t j = 0; j < D; j++) h[j] += in[j];
                        count++;
                    }
                    if (!count) continue;
                    for (int64_t j = 0; j < D; j++) h[j] /= (float)count;
                    memset(grad, 0, (size_t)D * sizeof(float));
                    sgns_step(syn1, D, h, stream[i], negative, &noise, lr, grad, &rng);
                    for (int64_t c = lo; c <= hi; c++) {
                        if (c == i || segs[c] != segs[i]) continue;
                        float *in = syn0 + stream[c] * D;
                        for (int64_t j = 0; j < D; j++) in[j] += grad[j];
                    }
                }
            }
            Py_END_ALLOW_THREADS
            res = Py_None;
            Py_INCREF(res);
        }
    }
    free(h);
    free(noise.prob);
    free(noise.alias);
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return res;
}

/* ------------------------------------------------------------------------------------------------ */
static PyMethodDef methods[] = {
    {"train_merges", (PyCFunction)(void (*)(void))train_merges, METH_VARARGS | METH_KEYWORDS,
     "Learn BPE merges from word symbol lists (mirrors bpe_core.train_merges)."},
    {"train_likelihood", (PyCFunction)(void (*)(void))train_likelihood, METH_VARARGS | METH_KEYWORDS,
     "Learn WordPiece merges by likelihood (mirrors wordpiece_core.train_likelihood)."},
    {"make_merge_table", make_merge_table, METH_VARARGS, "Compile ranks and results for encode_symbols."},
    {"encode_symbols", encode_symbols, METH_VARARGS, "Apply merges to one word's symbols."},
    {"split_gpt2", split_gpt2, METH_VARARGS, "Spans of GPT-2's pre-tokenizer pattern (mirrors bpe_core.split_gpt2)."},
    {"count_gpt2", count_gpt2, METH_VARARGS, "Word counts with GPT-2's pattern (mirrors bpe_core.count_gpt2)."},
    {"sgns_train", sgns_train, METH_VARARGS, "One epoch of word2vec with negative sampling (see word2vec.py)."},
    {"csr_dot", csr_dot, METH_VARARGS, "out = M @ x for a CSR matrix M (mirrors sparse.csr_dot)."},
    {"make_trie", make_trie, METH_VARARGS, "A WordPiece vocabulary as a trie (mirrors wordpiece_core.make_trie)."},
    {"encode_longest_match", encode_longest_match, METH_VARARGS,
     "BERT's greedy longest-match-first (mirrors wordpiece_core.encode_longest_match)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_native", "subtok's compiled BPE core.", -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    sigmoid_table_init();
    if (PyType_Ready(&MergeTableType) < 0 || PyType_Ready(&ByteLevelEncoderType) < 0 || PyType_Ready(&TrieType) < 0 ||
        PyType_Ready(&BertEncoderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Py_INCREF(&ByteLevelEncoderType);
    Py_INCREF(&BertEncoderType);
    if (PyModule_AddObject(m, "ByteLevelEncoder", (PyObject *)&ByteLevelEncoderType) < 0 ||
        PyModule_AddObject(m, "BertEncoder", (PyObject *)&BertEncoderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
