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
 * Pairs, Keys and Heap. wordpiece_train.c reuses the Trainer and Run of this file.
 */

/* ------------------------------------------------------------------------------------------------ */
/* Pairs                                                                                            */
/* ------------------------------------------------------------------------------------------------ */
/* Every pair seen gets a dense id (in order of first sight), never removed: a count of 0 means gone. By
 * id: the key, the count, the words holding it, and the change the merge under way makes to its count.
 * A hash table of (key, id) finds the id: 16 bytes a slot, where everything else lies in the arrays. */
typedef struct {
    uint64_t key;
    int32_t id1; /* id + 1; 0: empty */
} PairSlot;

typedef struct { /* the words holding a pair, int32 throughout: one of these per pair */
    int32_t *v;
    int32_t n, cap; /* cap: 0 or a power of two, the size of a block of the pool below */
} WordIds;

/* Blocks of 2^k word ids (k >= 1), carved from an arena and kept on a free list per k when given back: the
 * pairs' word lists grow and are dropped by the hundred thousand, which malloc would serve a call each. */
typedef struct {
    void *free_list[32]; /* a free block holds the next one's address in its first bytes */
    Arena arena;
} IdPool;

static int32_t *pool_take(IdPool *p, int k) {
    void *block = p->free_list[k];
    if (!block) return arena_take(&p->arena, sizeof(int32_t) << k);
    memcpy(&p->free_list[k], block, sizeof(void *));
    return block;
}

static int pool_class(int32_t cap) {
    int k = 0;
    while ((1 << k) < cap) k++;
    return k;
}

static void pool_give(IdPool *p, WordIds *a) {
    if (!a->cap) return;
    int k = pool_class(a->cap);
    memcpy(a->v, &p->free_list[k], sizeof(void *));
    p->free_list[k] = a->v;
}


typedef struct {
    PairSlot *slots;
    size_t mask;
    int32_t n, cap;
    uint64_t *key;
    int64_t *count;
    int64_t *delta;  /* the merge under way's change (0 outside apply_changes' reach) */
    WordIds *where;
    IdPool pool;     /* where the word lists live */
    IntVec changed;  /* ids whose delta went from 0 in this merge, in that order */
} Pairs;

static int pairs_init(Pairs *p) {
    memset(p, 0, sizeof *p);
    p->mask = 1023;
    p->slots = calloc(p->mask + 1, sizeof(PairSlot));
    return p->slots ? 0 : -1;
}

static void pairs_free(Pairs *p) {
    arena_free(&p->pool.arena);
    free(p->slots);
    free(p->key);
    free(p->count);
    free(p->delta);
    free(p->where);
    free(p->changed.v);
}

/* The id of a pair, or -1. */
static int32_t pairs_find(const Pairs *p, uint64_t key) {
    size_t j = mix64(key) & p->mask;
    for (; p->slots[j].id1; j = (j + 1) & p->mask)
        if (p->slots[j].key == key) return p->slots[j].id1 - 1;
    return -1;
}

static int pairs_room(Pairs *p) {
    if (p->n == p->cap) {
        int32_t cap = p->cap ? p->cap * 2 : 1024;
        uint64_t *key = realloc(p->key, (size_t)cap * sizeof(uint64_t));
        if (key) p->key = key;
        int64_t *count = realloc(p->count, (size_t)cap * sizeof(int64_t));
        if (count) p->count = count;
        int64_t *delta = realloc(p->delta, (size_t)cap * sizeof(int64_t));
        if (delta) p->delta = delta;
        WordIds *where = realloc(p->where, (size_t)cap * sizeof(WordIds));
        if (where) p->where = where;
        if (!key || !count || !delta || !where) return -1;
        p->cap = cap;
    }
    if ((size_t)(p->n + 1) * 2 > p->mask + 1) {
        size_t mask = p->mask * 2 + 1;
        PairSlot *slots = calloc(mask + 1, sizeof(PairSlot));
        if (!slots) return -1;
        for (size_t i = 0; i <= p->mask; i++) {
            if (!p->slots[i].id1) continue;
            size_t j = mix64(p->slots[i].key) & mask;
            while (slots[j].id1) j = (j + 1) & mask;
            slots[j] = p->slots[i];
        }
        free(p->slots);
        p->slots = slots;
        p->mask = mask;
    }
    return 0;
}

/* The id of a pair, a new one (count 0, in no word) when it is absent; -1 on allocation failure. */
static int32_t pairs_add(Pairs *p, uint64_t key) {
    size_t j = mix64(key) & p->mask;
    for (; p->slots[j].id1; j = (j + 1) & p->mask)
        if (p->slots[j].key == key) return p->slots[j].id1 - 1;
    if (p->n == p->cap || (size_t)(p->n + 1) * 2 > p->mask + 1) {
        if (pairs_room(p) < 0) return -1;
        j = mix64(key) & p->mask;
        while (p->slots[j].id1) j = (j + 1) & p->mask;
    }
    int32_t id = p->n++;
    p->slots[j] = (PairSlot){key, id + 1};
    p->key[id] = key;
    p->count[id] = 0;
    p->delta[id] = 0;
    p->where[id] = (WordIds){NULL, 0, 0};
    return id;
}

/* Word w holds pair id (once per word in a row: a word indexed twice is merged once anyway). */
static int pairs_where_add(Pairs *p, int32_t id, int32_t w) {
    WordIds *a = &p->where[id];
    if (a->n && a->v[a->n - 1] == w) return 0;
    if (a->n == a->cap) {
        int32_t cap = a->cap ? a->cap * 2 : 2;
        int32_t *v = pool_take(&p->pool, pool_class(cap));
        if (!v) return -1;
        if (a->n) memcpy(v, a->v, (size_t)a->n * sizeof(int32_t));
        pool_give(&p->pool, a);
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = w;
    return 0;
}

/* The merge under way changes pair id's count by d. */
static int pairs_change(Pairs *p, int32_t id, int64_t d) {
    if (p->delta[id] == 0 && ivec_push(&p->changed, id) < 0) return -1;
    p->delta[id] += d;
    return 0;
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
/* A word as training holds it: where its symbols are, how many (fewer as merges apply), its count, and the
 * merge step that last merged it (a word indexed twice is merged once), side by side: one cache line a visit. */
typedef struct {
    Py_ssize_t start;
    int64_t count;
    int32_t len;
    int32_t stamp;
} TrainWord;

typedef struct {
    int32_t *sym;      /* all words' symbols, word w at sym[start[w] .. start[w] + len[w]) */
    int32_t *pid;      /* beside each symbol but a word's last, the id of the pair it starts */
    TrainWord *word;   /* per word */
    Py_ssize_t nwords;
    Pairs pairs;
    Keys keys;
    Heap heap;
    /* The pairs a merge of (a, b) into z makes are (x, z) and (z, y): their ids by x (side 0) and by y (side
     * 1), valid where the stamp is the merge's step, so that each is looked up once a merge, not once a word */
    int32_t *made_id[2], *made_stamp[2];
    int32_t made_cap, step;
} Trainer;

static void trainer_free(Trainer *t) {
    free(t->sym);
    free(t->pid);
    free(t->word);
    pairs_free(&t->pairs);
    keys_free(&t->keys);
    free(t->heap.e);
    for (int side = 0; side < 2; side++) {
        free(t->made_id[side]);
        free(t->made_stamp[side]);
    }
}

/* A new merge step: the made-pair ids start afresh, with room for every token. 0, or -1 when out of memory. */
static int made_pairs_step(Trainer *t) {
    t->step++;
    if (t->made_cap >= t->keys.n) return 0;
    int32_t cap = t->made_cap ? t->made_cap : 1024;
    while (cap < t->keys.n) cap *= 2;
    for (int side = 0; side < 2; side++) {
        int32_t *id = realloc(t->made_id[side], (size_t)cap * sizeof(int32_t));
        if (id) t->made_id[side] = id;
        int32_t *stamp = realloc(t->made_stamp[side], (size_t)cap * sizeof(int32_t));
        if (stamp) t->made_stamp[side] = stamp;
        if (!id || !stamp) return -1;
        memset(stamp + t->made_cap, 0, (size_t)(cap - t->made_cap) * sizeof(int32_t));
    }
    t->made_cap = cap;
    return 0;
}

/* The id of the pair `key` that this merge makes: (x, z) on side 0, (z, x) on side 1; -1 when out of memory. */
static inline int32_t made_pair(Trainer *t, int side, int32_t x, uint64_t key) {
    if (t->made_stamp[side][x] == t->step) return t->made_id[side][x];
    int32_t id = pairs_add(&t->pairs, key);
    if (id >= 0) t->made_stamp[side][x] = t->step, t->made_id[side][x] = id;
    return id;
}

/* count_pairs: the count of every adjacent pair (weighted by word count) and the words holding it. */
static int count_pairs(Trainer *t) {
    Pairs *p = &t->pairs;
    for (Py_ssize_t w = 0; w < t->nwords; w++) {
        const int32_t *s = t->sym + t->word[w].start;
        for (Py_ssize_t i = 0; i + 1 < t->word[w].len; i++) {
            int32_t id = t->pid[t->word[w].start + i] = pairs_add(p, pair_key(s[i], s[i + 1]));
            if (id < 0 || pairs_where_add(p, id, (int32_t)w) < 0) return -1;
            p->count[id] += t->word[w].count;
        }
    }
    return 0;
}

/* Two adjacent symbols as one 64-bit load, to compare with pair_bits(a, b): one test a position. */
static inline uint64_t load_pair(const int32_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t pair_bits(int32_t a, int32_t b) {
    int32_t two[2] = {a, b};
    return load_pair(two);
}

/* One pair's count change in a merge: pair `gone` loses c, pair `made` (-1: out of memory) gains c and is
 * held by word w; made, or -1 when out of memory. */
static int32_t swap_pair(Pairs *p, int32_t gone, int32_t made, int64_t c, int32_t w) {
    if (made < 0 || pairs_change(p, gone, -c) < 0 || pairs_change(p, made, c) < 0 || pairs_where_add(p, made, w) < 0)
        return -1;
    return made;
}

/* merge_word: replace each non-overlapping (a, b), left to right, by z in word w, in place, adding the
 * neighbouring pairs' count changes to the pairs' deltas and indexing the new pairs. The pairs that go are
 * known by the ids beside the symbols; those that come are looked up (and made) by key. */
static int merge_word(Trainer *t, Py_ssize_t w, int32_t a, int32_t b, int32_t z) {
    int32_t *sym = t->sym + t->word[w].start, *pid = t->pid + t->word[w].start;
    Py_ssize_t n = t->word[w].len, i = 0;
    int64_t c = t->word[w].count;
    uint64_t ab = pair_bits(a, b);
    while (i + 1 < n && load_pair(sym + i) != ab) i++; /* before the first (a, b) nothing moves */
    Py_ssize_t j = i;
    while (i < n) {
        if (i + 1 < n && load_pair(sym + i) == ab) {
            if (j > 0) {
                int32_t x = sym[j - 1];
                pid[j - 1] = swap_pair(&t->pairs, pid[j - 1], made_pair(t, 0, x, pair_key(x, z)), c, (int32_t)w);
                if (pid[j - 1] < 0) return -1;
            }
            if (i + 2 < n) {
                int32_t y = sym[i + 2];
                pid[j] = swap_pair(&t->pairs, pid[i + 1], made_pair(t, 1, y, pair_key(z, y)), c, (int32_t)w);
                if (pid[j] < 0) return -1;
            }
            sym[j++] = z;
            i += 2;
        } else {
            pid[j] = pid[i]; /* (a word's last symbol has none: a stale value, never read) */
            sym[j++] = sym[i++];
        }
    }
    t->word[w].len = j;
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
static int trainer_load(Trainer *t, PyObject *words, PyObject *counts, PyObject *keys, char **utf8,
                        Py_ssize_t *utf8_cap) {
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
        if (PyBytes_Check(word)) {
            total += PyBytes_GET_SIZE(word);
            continue;
        }
        if (PyUnicode_Check(word)) { /* its UTF-8: at most 4 bytes a character */
            total += PyUnicode_GET_LENGTH(word) * (PyUnicode_IS_ASCII(word) ? 1 : 4);
            continue;
        }
        if (!PyList_Check(word)) {
            PyErr_SetString(PyExc_TypeError, "each word must be a list of ints, bytes or a str");
            return -1;
        }
        total += PyList_GET_SIZE(word);
    }
    t->nwords = nw;
    t->sym = malloc((size_t)(total ? total : 1) * sizeof(int32_t));
    t->pid = calloc((size_t)(total ? total : 1), sizeof(int32_t)); /* (a last symbol's stays 0, never read) */
    t->word = malloc((size_t)(nw ? nw : 1) * sizeof(TrainWord));
    if (!t->sym || !t->pid || !t->word) goto nomem;
    Py_ssize_t pos = 0;
    for (Py_ssize_t w = 0; w < nw; w++) {
        PyObject *word = PyList_GET_ITEM(words, w);
        t->word[w].start = pos;
        t->word[w].stamp = -1;
        const unsigned char *b = NULL; /* bytes or a str's UTF-8: the symbols are the byte values */
        Py_ssize_t nb = 0;
        if (PyBytes_Check(word)) {
            b = (const unsigned char *)PyBytes_AS_STRING(word), nb = PyBytes_GET_SIZE(word);
        } else if (PyUnicode_Check(word)) {
            Text text;
            text_init(&text, word);
            b = (const unsigned char *)utf8_view(&text, 0, text.n, utf8, utf8_cap, &nb);
            if (nb < 0) goto nomem;
        }
        if (b) {
            for (Py_ssize_t i = 0; i < nb; i++) {
                if (b[i] >= t->keys.n) {
                    PyErr_Format(PyExc_ValueError, "word %zd holds symbol %d outside the %zd keys", w, b[i], t->keys.n);
                    return -1;
                }
                t->sym[pos++] = b[i];
            }
        }
        for (Py_ssize_t i = 0; PyList_Check(word) && i < PyList_GET_SIZE(word); i++) {
            long v = PyLong_AsLong(PyList_GET_ITEM(word, i));
            if (v == -1 && PyErr_Occurred()) return -1;
            if (v < 0 || v >= t->keys.n) {
                PyErr_Format(PyExc_ValueError, "word %zd holds symbol %ld outside the %zd keys", w, v, t->keys.n);
                return -1;
            }
            if (pos == total) { /* an int's __index__ grew a word after the sizes were read */
                PyErr_SetString(PyExc_ValueError, "the words changed while being read");
                return -1;
            }
            t->sym[pos++] = (int32_t)v;
        }
        if (pos - t->word[w].start > INT32_MAX) {
            PyErr_Format(PyExc_ValueError, "word %zd is too long (over 2**31 symbols)", w);
            return -1;
        }
        t->word[w].len = (int32_t)(pos - t->word[w].start);
        long long c = PyLong_AsLongLong(PyList_GET_ITEM(counts, w));
        if (c == -1 && PyErr_Occurred()) return -1;
        if (c < 0) {
            PyErr_SetString(PyExc_ValueError, "word counts must be non-negative");
            return -1;
        }
        t->word[w].count = c;
    }
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* Write the words back (shrunk by the merges), as the reference updates them in place. */
static int trainer_store_words(Trainer *t, PyObject *words) {
    for (Py_ssize_t w = 0; w < t->nwords; w++) {
        if (!PyList_Check(PyList_GET_ITEM(words, w))) continue; /* bytes, str: immutable, left as given */
        PyObject *word = PyList_New(t->word[w].len);
        if (!word) return -1;
        for (Py_ssize_t i = 0; i < t->word[w].len; i++) {
            PyObject *v = PyLong_FromLong(t->sym[t->word[w].start + i]);
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
    IntVec made;          /* the merges as they are made: a, b, z each */
    PyObject *blocked_set;
    char *buf;            /* the merged key being built */
    Py_ssize_t bufcap;
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
    if (!r->blocked_set || !r->merges || trainer_load(t, r->words, r->counts, r->keys, &r->buf, &r->bufcap) < 0)
        return -1;
    if (pairs_init(&t->pairs) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* Free the run; returns the merges when ok (the new keys and words written back), else NULL. */
static PyObject *run_close(Trainer *t, Run *r, int ok) {
    if (ok) {
        for (Py_ssize_t i = 0; ok && i + 2 < r->made.n; i += 3) {
            PyObject *m = Py_BuildValue("(iii)", r->made.v[i], r->made.v[i + 1], r->made.v[i + 2]);
            ok = m && PyList_Append(r->merges, m) == 0;
            Py_XDECREF(m);
        }
        for (Py_ssize_t i = PyList_GET_SIZE(r->keys); ok && i < t->keys.n; i++) {
            PyObject *k = PyBytes_FromStringAndSize(t->keys.p[i], t->keys.len[i]);
            ok = k && PyList_Append(r->keys, k) == 0;
            Py_XDECREF(k);
        }
        ok = ok && trainer_store_words(t, r->words) == 0;
    }
    trainer_free(t);
    free(r->buf);
    free(r->made.v);
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
    if (ivec_push(&r->made, a) < 0 || ivec_push(&r->made, b) < 0 || ivec_push(&r->made, z) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    *z_out = z;
    return 0;
}

/* merge_everywhere: merge (a, b) into z in every word that holds it; the neighbouring pairs' count changes
 * go to their deltas and the number of occurrences merged (weighted) to *merged. 0, or -1 on error. */
static int merge_everywhere(Trainer *t, Run *r, int32_t a, int32_t b, int32_t z, int64_t *merged) {
    int32_t id = pairs_find(&t->pairs, pair_key(a, b));
    if (made_pairs_step(t) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    WordIds where = t->pairs.where[id]; /* taken out: merge_word may grow the arrays and move them */
    t->pairs.where[id] = (WordIds){NULL, 0, 0};
    *merged = 0;
    for (int32_t k = 0; k < where.n; k++) {
        /* the words come in no order, each a cache miss: a word's record is asked for 16 steps ahead, and
         * its symbols and pair ids 8 steps ahead, from the record asked for before */
        if (k + 16 < where.n) PREFETCH(&t->word[where.v[k + 16]]);
        if (k + 8 < where.n) {
            const Py_ssize_t start = t->word[where.v[k + 8]].start;
            PREFETCH(t->sym + start);
            PREFETCH(t->pid + start);
        }
        int32_t w = where.v[k];
        if (t->word[w].stamp == r->n_merges) continue; /* a word indexed twice is merged once */
        t->word[w].stamp = r->n_merges;
        Py_ssize_t before = t->word[w].len;
        if (merge_word(t, w, a, b, z) < 0) {
            pool_give(&t->pairs.pool, &where);
            PyErr_NoMemory();
            return -1;
        }
        *merged += (before - t->word[w].len) * t->word[w].count;
    }
    pool_give(&t->pairs.pool, &where);
    return 0;
}

/* apply_changes: the merged pair's count drops to 0 and the changes are added (in the order the pairs were
 * first changed); grew(ctx, key, count) hears of each pair that grew, the only ones a lazy heap must hear
 * about. 0, or -1 on error. */
static int apply_changes(Trainer *t, uint64_t merged_key, int (*grew)(void *, uint64_t, int64_t), void *ctx) {
    Pairs *p = &t->pairs;
    p->count[pairs_find(p, merged_key)] = 0;
    for (Py_ssize_t k = 0; k < p->changed.n; k++) {
        int32_t id = p->changed.v[k];
        int64_t d = p->delta[id];
        p->delta[id] = 0; /* (a pair listed twice, its delta back to 0 in between: applied once) */
        if (d == 0) continue;
        p->count[id] += d;
        if (d > 0 && grew(ctx, p->key[id], p->count[id]) < 0) return -1;
    }
    p->changed.n = 0;
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
    for (int32_t id = 0; ok && id < t.pairs.n; id++)
        if (t.pairs.count[id] > 0) ok = bpe_grew(&t, t.pairs.key[id], t.pairs.count[id]) == 0;
    while (ok && t.keys.n < r.max_tokens && t.heap.n) {
        Entry top = heap_pop(&t.heap);
        int32_t id = pairs_find(&t.pairs, pair_key(top.a, top.b));
        int64_t live = id >= 0 ? t.pairs.count[id] : 0, merged;
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
