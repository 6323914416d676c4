/* bpe_train.c: the BPE merge loop. Python twin: subtok/models/bpe_core.py (training half), mirrored
 * function by function with the same inputs, outputs and tie-break:
 *
 *   count_pairs       <-> count_pairs
 *   merge_word        <-> merge_word (in place; a word indexed twice is merged once, by a per-word stamp)
 *   new_token         <-> new_token
 *   merge_everywhere  <-> merge_everywhere
 *   apply_changes     <-> apply_changes (a `grew` callback instead of a returned list)
 *   train_merges      <-> train_merges
 *
 * The containers the reference gets from Python (dicts of pairs, the key list, heapq) are written out here:
 * PairMap, DeltaMap, Keys and Heap. wordpiece_train.c reuses the Trainer and Run of this file.
 */

/* ------------------------------------------------------------------------------------------------ */
/* Pair maps                                                                                        */
/* ------------------------------------------------------------------------------------------------ */
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
