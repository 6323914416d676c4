/* bpe_encode.c: applying BPE merges to words, and byte-level BPE's whole-text encoder with its word
 * cache. Python twin: subtok/models/bpe_core.py (encoding half)
 *
 *   make_merge_table  <-> make_merge_table (a hash table of pair -> rank here, a dict there)
 *   encode_scan       <-> _encode_scan         equivalent by test (each pair's rank kept beside it)
 *   encode_heap       <-> _encode_heap         equivalent by test (a sorted run and a heap as one queue)
 *   chunked_merges    <-> _encode_heap         equivalent by test: a word of CHUNK_MIN bytes or more merged
 *                                              a chunk at a time, cut where no merge joins two bytes
 *                                              (byte_joins), where the reference merges it whole
 *   encode_symbols    <-> encode_symbols       mirrored
 *   make_char_table,  <-> make_char_table, encode_chars: mirrored (a hash table of code points here, a
 *   encode_chars          dict filled as characters are met there)
 *   ByteLevelEncoder  <-> ByteLevelEncoder: encode_word, encode_words, encode_text (encode_segment <->
 *                         _encode_segment) and encode_batch mirrored; the word cache is equivalent by
 *                         test, not a mirror (a dict there; here WORD_CACHES caches, each taken whole by
 *                         one call or batch worker at a time, and a private one when all are taken, so
 *                         threads never wait on each other)
 */

/* ------------------------------------------------------------------------------------------------ */
/* The merge table and the word encoder                                                             */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    PyObject_HEAD
    PairIndex ranks;  /* (a, b) -> the pair's rank */
    int32_t *results; /* results[rank] */
    Py_ssize_t nranks;
} MergeTable;

static void table_dealloc(MergeTable *t) {
    pair_index_free(&t->ranks);
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

static inline int32_t table_rank(const MergeTable *t, int32_t a, int32_t b) { return pair_index_get(&t->ranks, a, b); }

/* make_merge_table(ranks: dict[(a, b)] -> rank, results: list[int]) */
static PyObject *make_merge_table(PyObject *self, PyObject *args) {
    PyObject *ranks, *results;
    if (!PyArg_ParseTuple(args, "O!O!", &PyDict_Type, &ranks, &PyList_Type, &results)) return NULL;
    MergeTable *t = PyObject_New(MergeTable, &MergeTableType);
    if (!t) return NULL;
    t->nranks = PyList_GET_SIZE(results);
    int made = pair_index_init(&t->ranks, (size_t)PyDict_Size(ranks));
    t->results = malloc((size_t)(t->nranks ? t->nranks : 1) * sizeof(int32_t));
    if (made < 0 || !t->results) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
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
        pair_index_put(&t->ranks, (int32_t)a, (int32_t)b, (int32_t)r);
    }
    return (PyObject *)t;
bad:
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "ranks must map (a, b) id pairs to ranks < len(results)");
    Py_DECREF(t);
    return NULL;
}

/* pair_ranks: rank[i] = the rank of the pair (sym[i], sym[i + 1]) for i < n - 1, unsigned so that "none" (-1)
 * is the largest; rank[n - 1] = UINT32_MAX. */
static void pair_ranks(const MergeTable *t, const int32_t *sym, Py_ssize_t n, uint32_t *rank) {
    for (Py_ssize_t i = 0; i + 1 < n; i++) rank[i] = (uint32_t)table_rank(t, sym[i], sym[i + 1]);
    if (n) rank[n - 1] = UINT32_MAX;
}

/* encode_scan: find the lowest-rank (leftmost) pair, merge it, repeat, for n < HEAP_MIN_SYMBOLS. Each pair's
 * rank is looked up once, when the pair forms, and kept beside it (rank: pair_ranks' on entry): a merge
 * rescans small integers, not the table. Returns the new length. */
static Py_ssize_t encode_scan(const MergeTable *t, int32_t *sym, uint32_t *rank, Py_ssize_t n) {
    while (n > 1) {
        Py_ssize_t best = 0;
        for (Py_ssize_t i = 1; i + 1 < n; i++) best = rank[i] < rank[best] ? i : best;
        if (rank[best] == UINT32_MAX) break;
        sym[best] = t->results[rank[best]];
        memmove(sym + best + 1, sym + best + 2, (size_t)(n - best - 2) * sizeof(int32_t));
        if (n - best - 3 > 0) memmove(rank + best + 1, rank + best + 2, (size_t)(n - best - 3) * sizeof(uint32_t));
        n--;
        if (best > 0) rank[best - 1] = (uint32_t)table_rank(t, sym[best - 1], sym[best]);
        if (best + 1 < n) rank[best] = (uint32_t)table_rank(t, sym[best], sym[best + 1]);
    }
    return n;
}

/* A queued pair: its rank in the high half, its left symbol's position in the low half, so that one
 * comparison orders by rank, then leftmost. */
#define QUEUED(rank, pos) ((uint64_t)(rank) << 32 | (uint32_t)(pos))

static void queue_push(uint64_t *h, Py_ssize_t *n, uint64_t x) {
    Py_ssize_t i = (*n)++;
    while (i > 0 && x < h[(i - 1) / 2]) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static uint64_t queue_pop(uint64_t *h, Py_ssize_t *n) {
    uint64_t top = h[0], x = h[--(*n)];
    Py_ssize_t i = 0;
    for (;;) {
        Py_ssize_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= x) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = x;
    return top;
}

/* sort_by_rank: keys[0, m) (QUEUED, positions ascending) by rank, then position: by insertion when few, else
 * stably by rank, 11 bits a radix pass (spare: room for m) */
static void sort_by_rank(uint64_t *keys, uint64_t *spare, Py_ssize_t m, uint32_t max_rank) {
    if (m <= 256) {
        for (Py_ssize_t i = 1; i < m; i++) {
            const uint64_t x = keys[i];
            Py_ssize_t j = i;
            for (; j > 0 && keys[j - 1] > x; j--) keys[j] = keys[j - 1];
            keys[j] = x;
        }
        return;
    }
    uint64_t *from = keys, *to = spare;
    for (int shift = 32; shift < 64 && (uint64_t)max_rank >> (shift - 32); shift += 11) {
        Py_ssize_t at[2049] = {0};
        for (Py_ssize_t i = 0; i < m; i++) at[((from[i] >> shift) & 2047) + 1]++;
        for (int d = 0; d < 2048; d++) at[d + 1] += at[d];
        for (Py_ssize_t i = 0; i < m; i++) to[at[(from[i] >> shift) & 2047]++] = from[i];
        uint64_t *swap = from;
        from = to, to = swap;
    }
    if (from != keys) memcpy(keys, from, (size_t)m * sizeof(uint64_t));
}

/* encode_heap: the same rule for long words over a linked list, O(n log n) (equivalent to bpe_core's
 * _encode_heap by test, not a mirror). The word's first pairs are sorted once by (rank, position); the
 * pairs that merges make go into a heap; the two are read as one queue in (rank, position) order. rank[i]
 * keeps the rank of the pair at live position i (UINT32_MAX: none, or i merged away), so a queued pair is
 * stale exactly when rank[i] differs from it, with no lookup (rank: pair_ranks' on entry). A symbol merged
 * away is marked -1 in sym (ids are never negative), and the survivors are gathered in one pass. Returns
 * the new length, or -1 when memory runs out. */
static Py_ssize_t encode_heap(const MergeTable *t, int32_t *sym, uint32_t *rank, Py_ssize_t n) {
    if (n < 2) return n;
    if (n >= INT32_MAX / 2) return -1;
    /* each merge queues at most two pairs: 2n bounds the heap, which is also the sort's spare room */
    uint64_t *first = malloc((size_t)(3 * n + 1) * sizeof(uint64_t));
    int32_t *links = malloc((size_t)(2 * n) * sizeof(int32_t));
    if (!first || !links) return free(first), free(links), -1;
    uint64_t *heap = first + n;
    int32_t *nxt = links, *prev = links + n;
    Py_ssize_t m = 0, hn = 0, fi = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        nxt[i] = (int32_t)i + 1, prev[i] = (int32_t)i - 1;
        if (rank[i] != UINT32_MAX) first[m++] = QUEUED(rank[i], i);
    }
    sort_by_rank(first, heap, m, t->nranks ? (uint32_t)(t->nranks - 1) : 0);
    while (fi < m || hn) {
        const uint64_t top = fi < m && (!hn || first[fi] < heap[0]) ? first[fi++] : queue_pop(heap, &hn);
        const int32_t i = (int32_t)(uint32_t)top;
        if (rank[i] != (uint32_t)(top >> 32)) continue; /* stale: the pair at i changed since it was queued */
        const int32_t j = nxt[i], k = nxt[j];
        sym[i] = t->results[rank[i]];
        sym[j] = -1; /* merged away (ids are never negative) */
        rank[j] = UINT32_MAX;
        nxt[i] = k;
        if (k < n) prev[k] = i;
        const int32_t p = prev[i];
        if (p >= 0) {
            rank[p] = (uint32_t)table_rank(t, sym[p], sym[i]);
            if (rank[p] != UINT32_MAX) queue_push(heap, &hn, QUEUED(rank[p], p));
        }
        rank[i] = k < n ? (uint32_t)table_rank(t, sym[i], sym[k]) : UINT32_MAX;
        if (rank[i] != UINT32_MAX) queue_push(heap, &hn, QUEUED(rank[i], i));
    }
    Py_ssize_t out = 0; /* the symbols left, in one pass over the array (following nxt is a chain of loads) */
    for (Py_ssize_t i = 0; i < n; i++) {
        sym[out] = sym[i];
        out += sym[i] >= 0;
    }
    free(first);
    free(links);
    return out;
}
#undef QUEUED

/* apply_merges: BPE's merges on sym[0, n) in place, its pairs' ranks given (pair_ranks'; rank is scratch
 * after); the new length, or -1 when memory runs out */
static Py_ssize_t apply_merges(const MergeTable *t, int32_t *sym, uint32_t *rank, Py_ssize_t n) {
    return n < HEAP_MIN_SYMBOLS ? encode_scan(t, sym, rank, n) : encode_heap(t, sym, rank, n);
}

/* merged_list: the merges of sym[0, n) applied in place (the GIL released), the result as a list of ids. */
static PyObject *merged_list(const MergeTable *t, int32_t *sym, Py_ssize_t n) {
    Py_ssize_t m = -1;
    uint32_t near[HEAP_MIN_SYMBOLS], *rank = n < HEAP_MIN_SYMBOLS ? near : malloc((size_t)n * sizeof(uint32_t));
    if (rank) {
        Py_BEGIN_ALLOW_THREADS
        pair_ranks(t, sym, n, rank);
        m = apply_merges(t, sym, rank, n);
        Py_END_ALLOW_THREADS
        if (rank != near) free(rank);
    }
    PyObject *out = m < 0 ? PyErr_NoMemory() : PyList_New(m);
    for (Py_ssize_t i = 0; out && i < m; i++) {
        PyObject *v = PyLong_FromLong(sym[i]);
        if (!v) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, v);
    }
    return out;
}

/* byte_ids_load: 256 byte ids from a list into out, each >= 0 (or -1, a missing byte, where allowed). */
static int byte_ids_load(PyObject *list, int32_t *out, int allow_missing) {
    if (PyList_GET_SIZE(list) != 256) {
        PyErr_SetString(PyExc_ValueError, "byte_ids must list 256 ids");
        return -1;
    }
    for (int b = 0; b < 256; b++) {
        long v = PyLong_AsLong(PyList_GET_ITEM(list, b));
        if ((v == -1 && PyErr_Occurred()) || v < -allow_missing || v > INT32_MAX) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, allow_missing ? "byte ids must be >= 0 (or -1: missing)"
                                                                : "byte ids must be >= 0");
            return -1;
        }
        out[b] = (int32_t)v;
    }
    return 0;
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
    PyObject *out = merged_list(t, sym, n);
    if (sym != stackbuf) free(sym);
    return out;
}

/* ------------------------------------------------------------------------------------------------ */
/* Character-level BPE with byte fallback: a word's symbols and merges in one call                  */
/* ------------------------------------------------------------------------------------------------ */
/* A vocabulary's one-character tokens (code point -> id, open addressing, CHAR_EMPTY marks a free slot) and
 * its byte-fallback tokens <0x00>..<0xFF>. */
#define CHAR_EMPTY 0xFFFFFFFFu
typedef struct {
    PyObject_HEAD
    uint32_t *keys;
    int32_t *ids;
    size_t cap;
    int32_t byte_ids[256];
} CharTable;

static void char_table_dealloc(CharTable *t) {
    free(t->keys);
    free(t->ids);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyTypeObject CharTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "subtok._native.CharTable",
    .tp_basicsize = sizeof(CharTable),
    .tp_dealloc = (destructor)char_table_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A vocabulary's one-character tokens and byte-fallback tokens (as bpe_core.CharSymbols).",
};

static inline size_t char_slot(uint32_t cp, size_t cap) { return (size_t)((cp * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1); }

/* make_char_table(chars: dict[str, int], byte_ids: list of 256 ids) -> CharTable */
static PyObject *make_char_table(PyObject *self, PyObject *args) {
    PyObject *chars, *byte_ids;
    if (!PyArg_ParseTuple(args, "O!O!", &PyDict_Type, &chars, &PyList_Type, &byte_ids)) return NULL;
    CharTable *t = PyObject_New(CharTable, &CharTableType);
    if (!t) return NULL;
    t->keys = NULL;
    t->ids = NULL;
    if (byte_ids_load(byte_ids, t->byte_ids, 0) < 0) {
        Py_DECREF(t);
        return NULL;
    }
    t->cap = 64;
    while (t->cap < (size_t)PyDict_Size(chars) * 2 + 2) t->cap <<= 1;
    t->keys = malloc(t->cap * sizeof(uint32_t));
    t->ids = malloc(t->cap * sizeof(int32_t));
    if (!t->keys || !t->ids) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    memset(t->keys, 0xFF, t->cap * sizeof(uint32_t));
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(chars, &pos, &key, &value)) {
        long v = PyLong_Check(value) ? PyLong_AsLong(value) : -1;
        if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) != 1 || v < 0 || v > INT32_MAX) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "chars must map single characters to ids >= 0");
            Py_DECREF(t);
            return NULL;
        }
        uint32_t cp = PyUnicode_READ_CHAR(key, 0);
        size_t j = char_slot(cp, t->cap);
        while (t->keys[j] != CHAR_EMPTY && t->keys[j] != cp) j = (j + 1) & (t->cap - 1);
        t->keys[j] = cp;
        t->ids[j] = (int32_t)v;
    }
    return (PyObject *)t;
}

static inline int32_t char_id(const CharTable *t, uint32_t cp) {
    size_t j = char_slot(cp, t->cap);
    for (; t->keys[j] != CHAR_EMPTY; j = (j + 1) & (t->cap - 1))
        if (t->keys[j] == cp) return t->ids[j];
    return -1;
}

/* encode_chars(word: str, chars: CharTable, table: MergeTable) -> list[int]: each character's token, else
 * its UTF-8 bytes' tokens (surrogates as 'surrogatepass' writes them), then the merges
 * (bpe_core.encode_chars: encode_symbols of char_symbols). */
static PyObject *encode_chars(PyObject *self, PyObject *args) {
    PyObject *word;
    CharTable *chars;
    MergeTable *t;
    if (!PyArg_ParseTuple(args, "UO!O!", &word, &CharTableType, &chars, &MergeTableType, &t)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(word);
    if (n > PY_SSIZE_T_MAX / 4 / (Py_ssize_t)sizeof(int32_t)) return PyErr_NoMemory();
    int32_t stackbuf[256];
    int32_t *sym = 4 * n <= 256 ? stackbuf : malloc((size_t)(4 * n) * sizeof(int32_t));
    if (!sym) return PyErr_NoMemory();
    int kind = PyUnicode_KIND(word);
    const void *data = PyUnicode_DATA(word);
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t c = PyUnicode_READ(kind, data, i);
        int32_t id = char_id(chars, c);
        if (id >= 0) {
            sym[m++] = id;
        } else if (c < 0x80) {
            sym[m++] = chars->byte_ids[c];
        } else if (c < 0x800) {
            sym[m++] = chars->byte_ids[0xC0 | (c >> 6)];
            sym[m++] = chars->byte_ids[0x80 | (c & 0x3F)];
        } else if (c < 0x10000) {
            sym[m++] = chars->byte_ids[0xE0 | (c >> 12)];
            sym[m++] = chars->byte_ids[0x80 | ((c >> 6) & 0x3F)];
            sym[m++] = chars->byte_ids[0x80 | (c & 0x3F)];
        } else {
            sym[m++] = chars->byte_ids[0xF0 | (c >> 18)];
            sym[m++] = chars->byte_ids[0x80 | ((c >> 12) & 0x3F)];
            sym[m++] = chars->byte_ids[0x80 | ((c >> 6) & 0x3F)];
            sym[m++] = chars->byte_ids[0x80 | (c & 0x3F)];
        }
    }
    PyObject *out = merged_list(t, sym, m);
    if (sym != stackbuf) free(sym);
    return out;
}

/* ------------------------------------------------------------------------------------------------ */
/* The word cache                                                                                   */
/* ------------------------------------------------------------------------------------------------ */
/* One cached word, 32 bytes: its hash, its head (word_head), its lengths, and its one id
 * where it is that short and one token (most words of most texts: a hit then reads nothing else), else a
 * block with its ids then all its bytes. nbytes 0 marks an empty slot (words are never empty). */
typedef struct {
    uint64_t hash;
    uint64_t head;
    int32_t nbytes, nids;
    union {
        int32_t id;
        int32_t *block;
    } v;
} CacheEntry;

static inline int entry_inline(const CacheEntry *e) { return e->nbytes <= 8 && e->nids == 1; }

/* A word of up to eight bytes as one integer that tells it from any other of its length (load_upto8's
 * overlapping loads); a longer word's first eight bytes, a first test before the whole comparison. */
static inline uint64_t word_head(const char *bytes, int32_t nbytes) {
    uint64_t head;
    if (nbytes <= 8) return load_upto8(bytes, nbytes);
    memcpy(&head, bytes, sizeof head);
    return head;
}

static inline int entry_is(const CacheEntry *e, uint64_t h, uint64_t head, const char *bytes, int32_t nbytes) {
    return e->hash == h && e->head == head && e->nbytes == nbytes &&
           (nbytes <= 8 || bytes_equal((const char *)(e->v.block + e->nids), bytes, nbytes));
}

/* An entry for a word (its ids and bytes in a block from the cache's arena unless it fits inline): 0, or -1
 * when out of memory. */
static int entry_make(Arena *arena, CacheEntry *e, uint64_t h, const char *bytes, int32_t nbytes, const int32_t *ids,
                      int32_t nids) {
    *e = (CacheEntry){h, word_head(bytes, nbytes), nbytes, nids, {0}};
    if (entry_inline(e)) {
        e->v.id = ids[0];
        return 0;
    }
    char *block = arena_take(arena, ((size_t)nids * sizeof(int32_t) + (size_t)nbytes + 7) & ~(size_t)7);
    if (!block) return -1;
    if (nids) memcpy(block, ids, (size_t)nids * sizeof(int32_t));
    memcpy(block + (size_t)nids * sizeof(int32_t), bytes, (size_t)nbytes);
    e->v.block = (int32_t *)block;
    return 0;
}

/* A word of up to eight bytes that is one token, in a cache's hot table: its head (the bytes themselves,
 * word_head) and length tell it exactly, without its hash. nbytes 0: empty. */
typedef struct {
    uint64_t head;
    int32_t nbytes, id;
} HotEntry;

#define HOT_BITS 13 /* 8,192 slots, 128 kB: a direct-mapped table of recent short words, before the cache's own */
#define HOT_SLOTS (1 << HOT_BITS)

/* hot_slot: where a word of up to eight bytes sits in a hot table, from what tells it exactly (its head and
 * length) by one multiply: a lookup that hits needs no hash */
static inline size_t hot_slot(uint64_t head, int32_t nbytes) {
    return (size_t)(((head ^ (uint64_t)nbytes << 56) * 0x9E3779B97F4A7C15ULL) >> (64 - HOT_BITS));
}

/* A word cache for one thread at a time: open addressing, emptied when half full (as the reference empties
 * its dict); the entries' blocks come from its arena, freed together when it empties. */
typedef struct {
    CacheEntry *slots;
    size_t cap, n;
    size_t hits; /* words found in it (or through the view that writes it) since it last grew or emptied */
    Arena arena;
    HotEntry *hot; /* the short one-token words last found or put, by hash; NULL until the first */
} WordCache;

#define GROW_SHARE 4 /* a cache half full doubles only where it found a word for every GROW_SHARE it holds */
#define CACHE_FIRST_SLOTS 4096 /* a cache's first table; it doubles as it fills, up to 2 * CACHE_SIZE slots */

static int cache_init(WordCache *c) {
    c->cap = CACHE_FIRST_SLOTS;
    c->n = c->hits = 0;
    c->slots = calloc(c->cap, sizeof(CacheEntry));
    return c->slots ? 0 : -1;
}

static void cache_clear(WordCache *c) {
    if (c->n) memset(c->slots, 0, c->cap * sizeof(CacheEntry));
    c->n = c->hits = 0;
    arena_free(&c->arena);
}

/* cache_make_room: before an entry goes in, a table half full doubles (its entries placed anew) until it has
 * 2 * CACHE_SIZE slots, and then empties (at CACHE_SIZE entries, as the reference's dict). A table that found
 * fewer words than a GROW_SHARE-th of those it holds empties at its size instead: on text of words seen once
 * (a million characters of mixed scripts) a table small enough for the L2 cache made encoding 30% quicker
 * than one of 4 MB, while English text (about a word found for each held, once started) grows it as before.
 * The ids do not change: a cache only saves merging a word again. */
static void cache_make_room(WordCache *c) {
    if (c->n * 2 < c->cap) return;
    const int earns = c->hits * GROW_SHARE >= c->n;
    c->hits = 0;
    CacheEntry *slots = c->cap < 2 * CACHE_SIZE && earns ? calloc(2 * c->cap, sizeof(CacheEntry)) : NULL;
    if (!slots) { /* (out of memory too: emptying keeps it correct) */
        cache_clear(c);
        return;
    }
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->slots[i].nbytes) continue;
        size_t j = c->slots[i].hash & (2 * c->cap - 1);
        while (slots[j].nbytes) j = (j + 1) & (2 * c->cap - 1);
        slots[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = slots, c->cap *= 2;
}

static void cache_free(WordCache *c) {
    cache_clear(c);
    free(c->slots), free(c->hot);
    c->slots = NULL, c->hot = NULL;
}

/* hot_put: a word of up to eight bytes that is one token (id) into c's hot table, made on first use (none
 * when memory is short). A word's ids never change, so an entry stays true when the cache empties. */
static void hot_put(WordCache *c, uint64_t head, int32_t nbytes, int32_t id) {
    if (!c->hot && !(c->hot = calloc(HOT_SLOTS, sizeof(HotEntry)))) return;
    c->hot[hot_slot(head, nbytes)] = (HotEntry){head, nbytes, id};
}

/* The entry of a word (hash h, head word_head(bytes, nbytes)), or NULL. */
static inline const CacheEntry *cache_find(const WordCache *c, uint64_t h, uint64_t head, const char *bytes,
                                           int32_t nbytes) {
    for (size_t j = h & (c->cap - 1); c->slots[j].nbytes; j = (j + 1) & (c->cap - 1))
        if (entry_is(&c->slots[j], h, head, bytes, nbytes)) return &c->slots[j];
    return NULL;
}

/* Append an entry's ids to out: 0, or -1 on allocation failure. */
static inline int entry_emit(const CacheEntry *e, Buf *out) {
    if (entry_inline(e)) { /* most words */
        if (buf_reserve(out, 1) < 0) return -1;
        out->v[out->n++] = e->v.id;
        return 0;
    }
    if (buf_reserve(out, e->nids) < 0) return -1;
    int32_t *dst = out->v + out->n;
    for (int32_t k = 0; k < e->nids; k++) dst[k] = e->v.block[k]; /* (a few ids: no call) */
    out->n += e->nids;
    return 0;
}

static void cache_put(WordCache *c, const char *bytes, int32_t nbytes, uint64_t h, const int32_t *ids, int32_t nids) {
    CacheEntry e; /* (the cache is an optimisation: a word is not cached when memory is short) */
    if (nbytes > CACHE_MAX_WORD) return;
    cache_make_room(c);
    if (entry_make(&c->arena, &e, h, bytes, nbytes, ids, nids) < 0) return;
    size_t j = h & (c->cap - 1);
    while (c->slots[j].nbytes) j = (j + 1) & (c->cap - 1);
    c->slots[j] = e;
    c->n++;
}

/* Copy an entry into a cache (its block into the cache's arena); duplicates are dropped. */
static void cache_adopt(WordCache *c, const CacheEntry *e) {
    size_t j = e->hash & (c->cap - 1);
    const char *bytes = e->nbytes <= 8 ? NULL : (const char *)(e->v.block + e->nids); /* (short: the head is it) */
    for (; c->slots[j].nbytes; j = (j + 1) & (c->cap - 1))
        if (entry_is(&c->slots[j], e->hash, e->head, bytes, e->nbytes)) return;
    if (c->n * 2 >= c->cap) {
        cache_make_room(c);
        for (j = e->hash & (c->cap - 1); c->slots[j].nbytes;) j = (j + 1) & (c->cap - 1);
    }
    CacheEntry mine = *e;
    if (!entry_inline(e)) { /* a copy of its block in this cache's arena */
        const size_t size = (size_t)e->nids * sizeof(int32_t) + (size_t)e->nbytes;
        char *block = arena_take(&c->arena, (size + 7) & ~(size_t)7);
        if (!block) return;
        memcpy(block, e->v.block, size);
        mine.v.block = (int32_t *)block;
    }
    c->slots[j] = mine;
    c->n++;
}

/* A lock guarding one of the encoder's word caches, only ever tried (a thread that finds it held goes on to
 * the next cache: none waits). */
#if SUBTOK_THREADS
typedef pthread_mutex_t CacheLock;
static int cache_lock_init(CacheLock *l) { return pthread_mutex_init(l, NULL) == 0 ? 0 : -1; }
#define cache_lock_try(l) (pthread_mutex_trylock(l) == 0)
#define cache_lock_release(l) pthread_mutex_unlock(l)
#define cache_lock_destroy(l) pthread_mutex_destroy(l)
#else
typedef PyThread_type_lock CacheLock;
static int cache_lock_init(CacheLock *l) { return (*l = PyThread_allocate_lock()) ? 0 : -1; }
#define cache_lock_try(l) PyThread_acquire_lock(*(l), NOWAIT_LOCK)
#define cache_lock_release(l) PyThread_release_lock(*(l))
#define cache_lock_destroy(l) PyThread_free_lock(*(l))
#endif

/* The word caches an encoder keeps. Each call, and each worker of a batch, takes the first one no other
 * holds and writes it alone for its whole run. One cache that a batch's workers only read (each learning
 * new words into a cache of its own, handed over at the end) had cost a two-thread batch of 1 MB of lines
 * a third more CPU than one thread's: the private caches made and filled anew every call, their words
 * merged again by the other worker, and the handing over done by one thread while the other waited.
 * Up to WORD_CACHES * (4 MB of slots + their words) when that many threads encode at once. */
#define WORD_CACHES 8

/* One of them with its lock, a cache line or more apart from the next (each thread writes its cache's
 * counts at every word: two on one line had made each lookup wait for the other thread's writes) */
typedef struct {
    WordCache cache; /* made when first taken (no slots until then) */
    CacheLock lock;
    char apart[64];
} HeldCache;

/* ------------------------------------------------------------------------------------------------ */
/* ByteLevelEncoder                                                                                 */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    PyObject_HEAD
    int32_t byte_ids[256]; /* -1: a byte the vocabulary lacks, dropped from the word (HF without unk_token) */
    int32_t last_ids[256]; /* with has_last: a word's last byte's id (the byte with CLIP's end-of-word suffix),
                            * -1: dropped */
    int has_missing, has_last;
    MergeTable *table;
    char apart[64]; /* (the fields around the caches are read at every word) */
    HeldCache caches[WORD_CACHES];
    int locks_ready; /* how many of the caches' locks are made */
    Specials specials;
    IdObjects ids;
    int scanner;      /* the pre-tokenizer pattern: an index into text.SCANNED_PATTERNS */
    int prefix_space; /* GPT-2's pattern on ' ' + each piece that does not start with a space */
    WordCache whole;  /* ignore_merges: each vocabulary token's bytes -> its id, one id per entry (or no slots) */
    uint32_t *byte_pair_rank; /* at x << 8 | y: the rank of (byte_ids[x], byte_ids[y]) as pair_ranks gives it, so
                                 that a word's first pairs need no probe; NULL where a byte lacks an id or
                                 has_last (a word's symbols are then not its bytes) */
    unsigned char *joins;     /* with byte_pair_rank, a bit at x << 8 | y: some merge joins a symbol ending in byte
                                 x to one starting with y (byte_joins); NULL: not known */
} ByteLevelEncoderObject;

static int32_t encoder_top_id(const ByteLevelEncoderObject *enc);

/* byte_joins: for an encoder whose symbols start as bytes, the byte pairs some merge can join (the last byte
 * of its left part, the first of its right part), as 65,536 bits; NULL when a token reachable from the bytes
 * is spelt two ways or the table does not settle (the caller then never cuts a word). A word cannot be
 * merged across two bytes x, y that no merge joins: every token a merge makes holds the bytes of its parts'
 * junction, so no symbol can come to span that place, and the merges on either side of it are those of
 * each side alone, in the same order (chunked_merges cuts long words there). */
static unsigned char *byte_joins(const ByteLevelEncoderObject *enc, const MergeTable *t) {
    int32_t top = encoder_top_id(enc);
    int16_t *first = malloc(((size_t)top + 1) * 2 * sizeof(int16_t)), *last = first + top + 1;
    Py_ssize_t n_pairs = 0;
    for (size_t i = 0; i <= t->ranks.mask; i++) n_pairs += t->ranks.slots[i].key != PAIR_EMPTY;
    int32_t *pairs = malloc(((size_t)n_pairs + 1) * 3 * sizeof(int32_t)); /* (a, b, result) of every merge */
    unsigned char *joins = calloc(0x10000 / 8, 1);
    if (!first || !pairs || !joins) goto fail;
    for (int32_t k = 0; k <= top; k++) first[k] = last[k] = -1;
    for (int b = 0; b < 256; b++) {
        const int32_t id = enc->byte_ids[b];
        if (first[id] >= 0) goto fail; /* two bytes with one id */
        first[id] = last[id] = (int16_t)b;
    }
    Py_ssize_t m = 0;
    for (size_t i = 0; i <= t->ranks.mask; i++) {
        const PairIndexSlot *slot = &t->ranks.slots[i];
        if (slot->key == PAIR_EMPTY) continue;
        pairs[3 * m] = (int32_t)(slot->key >> 32), pairs[3 * m + 1] = (int32_t)(uint32_t)slot->key;
        pairs[3 * m + 2] = t->results[slot->val], m++;
    }
    for (int pass = 0, changed = 1; changed; pass++) { /* each token's first and last byte, from its parts' */
        if (pass == 16) goto fail;                    /* (a table in creation order settles in one pass) */
        changed = 0;
        for (Py_ssize_t k = 0; k < m; k++) {
            const int32_t a = pairs[3 * k], b = pairs[3 * k + 1], r = pairs[3 * k + 2];
            if (a > top || b > top || r > top || first[a] < 0 || first[b] < 0) continue;
            if (first[r] < 0) {
                first[r] = first[a], last[r] = last[b], changed = 1;
            } else if (first[r] != first[a] || last[r] != last[b]) {
                goto fail; /* a token spelt two ways */
            }
        }
    }
    for (Py_ssize_t k = 0; k < m; k++) { /* (a merge with a part never made from the bytes never applies) */
        const int32_t a = pairs[3 * k], b = pairs[3 * k + 1];
        if (a > top || b > top || first[a] < 0 || first[b] < 0) continue;
        const unsigned x = (unsigned)last[a] << 8 | (unsigned)first[b];
        joins[x >> 3] |= (unsigned char)(1u << (x & 7));
    }
    free(first), free(pairs);
    return joins;
fail:
    free(first), free(pairs), free(joins);
    return NULL;
}

#define CHUNK_MIN 1024   /* words of at least these many bytes are merged in chunks (chunked_merges) */
#define CHUNK_BYTES 256  /* ... of about this many bytes, each ended where no merge joins two bytes */

/* chunked_merges: apply_merges on sym[0, n) (the word's bytes u as symbols, rank as pair_ranks gives it)
 * a chunk at a time, each cut at the first place from CHUNK_BYTES on where no merge joins the two bytes
 * (byte_joins: no merge crosses it), so that a long word's merges run on small arrays that stay in cache.
 * The new length, or -1 when memory runs out. */
static Py_ssize_t chunked_merges(const ByteLevelEncoderObject *enc, const unsigned char *u, int32_t *sym,
                                 uint32_t *rank, Py_ssize_t n) {
    const unsigned char *joins = enc->joins;
    Py_ssize_t m = 0;
    for (Py_ssize_t start = 0; start < n;) {
        Py_ssize_t end = start + CHUNK_BYTES < n ? start + CHUNK_BYTES : n;
        for (unsigned x; end < n && (x = (unsigned)u[end - 1] << 8 | u[end], joins[x >> 3] >> (x & 7) & 1);) end++;
        const Py_ssize_t got = apply_merges(enc->table, sym + start, rank + start, end - start);
        if (got < 0) return -1;
        if (m != start) memmove(sym + m, sym + start, (size_t)got * sizeof(int32_t));
        m += got, start = end;
    }
    return m;
}

/* The cache one call (or one batch worker) encodes through: the first of the encoder's WORD_CACHES that no
 * other holds, held for the whole run, or when every one is held a private cache for the call, handed to
 * one that is free at the end. Words are never locked one by one, and no thread waits on another. */
typedef struct {
    WordCache *held; /* one of the encoder's caches, or NULL */
    int slot;        /* its index */
    WordCache local; /* where held is NULL: allocated on first use */
} CacheView;

static void view_open(ByteLevelEncoderObject *enc, CacheView *v) {
    memset(v, 0, sizeof *v);
    for (int k = 0; k < enc->locks_ready; k++) {
        if (!cache_lock_try(&enc->caches[k].lock)) continue;
        if (enc->caches[k].cache.slots || cache_init(&enc->caches[k].cache) == 0) {
            v->held = &enc->caches[k].cache, v->slot = k;
            return;
        }
        cache_lock_release(&enc->caches[k].lock); /* no memory for it: a private cache, or none */
        return;
    }
}

static void view_close(ByteLevelEncoderObject *enc, CacheView *v) {
    if (v->held) cache_lock_release(&enc->caches[v->slot].lock);
    v->held = NULL;
}

/* view_mine: the cache a view reads and writes (the one it holds, else its own), whose hot table it uses */
static inline WordCache *view_mine(CacheView *v) { return v->held ? v->held : &v->local; }

static inline const CacheEntry *view_find(CacheView *v, uint64_t h, uint64_t head, const char *bytes, int32_t nbytes) {
    const WordCache *c = view_mine(v);
    return c->slots ? cache_find(c, h, head, bytes, nbytes) : NULL;
}

static void view_put(CacheView *v, const char *bytes, int32_t nbytes, uint64_t h, const int32_t *ids, int32_t nids) {
    WordCache *c = view_mine(v);
    if (!c->slots && cache_init(c) < 0) return; /* no room to cache: encode without */
    cache_put(c, bytes, nbytes, h, ids, nids);
}

/* Hand what a view learnt privately (every cache was held) to the first cache now free, else drop it. */
static void view_merge(ByteLevelEncoderObject *enc, CacheView *v) {
    for (int k = 0; v->local.slots && k < enc->locks_ready; k++) {
        if (!cache_lock_try(&enc->caches[k].lock)) continue;
        if (enc->caches[k].cache.slots || cache_init(&enc->caches[k].cache) == 0)
            for (size_t i = 0; i < v->local.cap; i++)
                if (v->local.slots[i].nbytes) cache_adopt(&enc->caches[k].cache, &v->local.slots[i]);
        cache_lock_release(&enc->caches[k].lock);
        break;
    }
    cache_free(&v->local);
}

/* hot_emit: a word of up to eight bytes (head, length) that the hot table holds appended to out: 1, or 0
 * where it is not there (-1: no memory). Most words of English text end here, in a table that stays in the
 * L2 cache where the word cache (megabytes) does not. */
static inline int hot_emit(CacheView *cache, uint64_t head, int32_t nbytes, Buf *out) {
    const WordCache *mine = view_mine(cache);
    if (!mine->hot) return 0;
    const HotEntry *x = &mine->hot[hot_slot(head, nbytes)];
    if (x->nbytes != nbytes || x->head != head) return 0;
    if (buf_reserve(out, 1) < 0) return -1;
    out->v[out->n++] = x->id;
    return 1;
}

static int encode_word_hashed(const ByteLevelEncoderObject *enc, CacheView *cache, const char *bytes, int32_t nbytes,
                              uint64_t h, uint64_t head, Buf *out);

/* encode_word_bytes: append the ids of one word (its UTF-8 bytes) to out, through the caches. */
static int encode_word_bytes(const ByteLevelEncoderObject *enc, CacheView *cache, const char *bytes, int32_t nbytes,
                             Buf *out) {
    if (nbytes == 0) return 0; /* an empty word has no ids */
    const uint64_t head = word_head(bytes, nbytes);
    const int hot = nbytes <= 8 ? hot_emit(cache, head, nbytes, out) : 0;
    return hot ? (hot < 0 ? -1 : 0) : encode_word_hashed(enc, cache, bytes, nbytes, hash_bytes(bytes, nbytes), head, out);
}

/* encode_word_hashed: encode_word_bytes of a word (not empty, not in the hot table) whose hash_bytes is h and
 * word_head head. */
static int encode_word_hashed(const ByteLevelEncoderObject *enc, CacheView *cache, const char *bytes, int32_t nbytes,
                              uint64_t h, uint64_t head, Buf *out) {
    WordCache *mine = view_mine(cache);
    const CacheEntry *e = view_find(cache, h, head, bytes, nbytes);
    if (e) {
        mine->hits++;
        if (entry_inline(e)) hot_put(mine, head, nbytes, e->v.id);
        return entry_emit(e, out);
    }
    /* ignore_merges: a word that is a token is that one id (looked up after the cache, which holds the
     * words seen, these included: the vocabulary's table is the larger and the colder of the two) */
    if (enc->whole.slots && (e = cache_find(&enc->whole, h, head, bytes, nbytes))) {
        const int32_t id = entry_inline(e) ? e->v.id : e->v.block[0];
        view_put(cache, bytes, nbytes, h, &id, 1);
        if (nbytes <= 8) hot_put(mine, head, nbytes, id);
        return entry_emit(e, out);
    }
    if (buf_reserve(out, nbytes) < 0) return -1;
    int32_t *sym = out->v + out->n, nsym = 0;
    uint32_t near[HEAP_MIN_SYMBOLS], *rank = nbytes < HEAP_MIN_SYMBOLS ? near : malloc((size_t)nbytes * sizeof(uint32_t));
    if (!rank) return -1;
    if (enc->byte_pair_rank) { /* every byte is a symbol: its id and its pair's rank by table */
        const unsigned char *u = (const unsigned char *)bytes;
        const int32_t *ids = enc->byte_ids;
        const uint32_t *pair_rank = enc->byte_pair_rank;
        for (int32_t i = 0; i + 1 < nbytes; i++) sym[i] = ids[u[i]], rank[i] = pair_rank[u[i] << 8 | u[i + 1]];
        sym[nbytes - 1] = ids[u[nbytes - 1]], rank[nbytes - 1] = UINT32_MAX;
        nsym = nbytes;
    } else {
        for (int32_t i = 0; i < nbytes; i++) {
            sym[nsym] = enc->byte_ids[(unsigned char)bytes[i]];
            nsym += !enc->has_missing || sym[nsym] >= 0;
        }
        if (enc->has_last) { /* -1: the vocabulary lacks the last byte's token and has no unknown token: dropped */
            sym[nsym - 1] = enc->last_ids[(unsigned char)bytes[nbytes - 1]];
            nsym -= sym[nsym - 1] < 0;
        }
        pair_ranks(enc->table, sym, nsym, rank);
    }
    Py_ssize_t m = enc->joins && nsym >= CHUNK_MIN ? chunked_merges(enc, (const unsigned char *)bytes, sym, rank, nsym)
                                                  : apply_merges(enc->table, sym, rank, nsym);
    if (rank != near) free(rank);
    if (m < 0) return -1;
    view_put(cache, bytes, nbytes, h, sym, (int32_t)m);
    if (m == 1 && nbytes <= 8) hot_put(mine, head, nbytes, sym[0]);
    out->n += m;
    return 0;
}

static int32_t encoder_top_id(const ByteLevelEncoderObject *enc) {
    int32_t top = 0;
    for (int b = 0; b < 256; b++) top = enc->byte_ids[b] > top ? enc->byte_ids[b] : top;
    for (int b = 0; enc->has_last && b < 256; b++) top = enc->last_ids[b] > top ? enc->last_ids[b] : top;
    for (Py_ssize_t r = 0; r < enc->table->nranks; r++) top = enc->table->results[r] > top ? enc->table->results[r] : top;
    for (Py_ssize_t k = 0; k < enc->specials.n; k++) top = enc->specials.id[k] > top ? enc->specials.id[k] : top;
    return top;
}

/* whole_load: ignore_merges' table from a dict of bytes -> id (ids 0..top), every entry kept (no eviction). */
static int whole_load(WordCache *c, PyObject *whole, int32_t top) {
    Py_ssize_t n = PyDict_Size(whole), pos = 0;
    c->cap = 16;
    while (c->cap < (size_t)n * 2 + 2) c->cap *= 2;
    c->n = 0;
    if (!(c->slots = calloc(c->cap, sizeof(CacheEntry)))) return PyErr_NoMemory(), -1;
    PyObject *key, *value;
    while (PyDict_Next(whole, &pos, &key, &value)) {
        long id = PyLong_Check(value) ? PyLong_AsLong(value) : -1;
        if (!PyBytes_Check(key) || PyBytes_GET_SIZE(key) == 0 || PyBytes_GET_SIZE(key) > INT32_MAX || id < 0 ||
            id > top) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "whole must map non-empty bytes to ids of the encoder (0 to top_id)");
            return -1;
        }
        int32_t nbytes = (int32_t)PyBytes_GET_SIZE(key), one = (int32_t)id;
        uint64_t h = hash_bytes(PyBytes_AS_STRING(key), nbytes);
        size_t j = h & (c->cap - 1);
        while (c->slots[j].nbytes) j = (j + 1) & (c->cap - 1);
        if (entry_make(&c->arena, &c->slots[j], h, PyBytes_AS_STRING(key), nbytes, &one, 1) < 0)
            return PyErr_NoMemory(), -1;
        c->n++;
    }
    return 0;
}

/* ByteLevelEncoder(byte_ids: list of 256 ids, table: MergeTable, specials: list of (str, id) = [],
 *                  top_id: int = 0, scanner: int = 0, whole: dict = None, prefix_space: bool = False,
 *                  last_ids: list of 256 ids = None): ids up to top_id may come back too (encode_words' whole
 * words); scanner picks the pattern of encode_text (text.SCANNED_PATTERNS); whole maps the bytes of each
 * token to its id for ignore_merges (a word that is a token is that one id); last_ids, where every byte has
 * an id, give a word's last byte its own (CLIP's end-of-word suffix; -1: dropped). */
static PyObject *encoder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *byte_ids, *specials = NULL, *whole = NULL, *last_ids = NULL;
    MergeTable *table;
    int top_id = 0, scanner = 0, prefix_space = 0;
    if (!PyArg_ParseTuple(args, "O!O!|O!iiOpO", &PyList_Type, &byte_ids, &MergeTableType, &table, &PyList_Type,
                          &specials, &top_id, &scanner, &whole, &prefix_space, &last_ids))
        return NULL;
    if (whole == Py_None) whole = NULL;
    if (last_ids == Py_None) last_ids = NULL;
    if (last_ids && !PyList_Check(last_ids)) {
        PyErr_SetString(PyExc_TypeError, "last_ids must be a list of 256 ids or None");
        return NULL;
    }
    const char *bad = top_id < 0                               ? "top_id must be >= 0"
                      : scanner < 0 || scanner >= SCAN_KINDS   ? "scanner must index text.SCANNED_PATTERNS"
                      : whole && !PyDict_Check(whole)          ? "whole must be a dict of bytes -> id"
                      : prefix_space && scanner != SCAN_GPT2   ? "prefix_space goes with GPT-2's pattern only"
                                                               : NULL;
    if (bad) {
        PyErr_SetString(PyExc_ValueError, bad);
        return NULL;
    }
    ByteLevelEncoderObject *enc = (ByteLevelEncoderObject *)type->tp_alloc(type, 0);
    if (!enc) return NULL;
    if (byte_ids_load(byte_ids, enc->byte_ids, 1) < 0) {
        Py_DECREF(enc);
        return NULL;
    }
    for (int b = 0; b < 256; b++) enc->has_missing |= enc->byte_ids[b] < 0;
    if (last_ids && (enc->has_missing || byte_ids_load(last_ids, enc->last_ids, 1) < 0)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "last_ids need every byte to have an id");
        Py_DECREF(enc);
        return NULL;
    }
    enc->has_last = last_ids != NULL;
    Py_INCREF(table);
    enc->table = table;
    if (!enc->has_missing && !enc->has_last) {
        enc->byte_pair_rank = malloc(0x10000 * sizeof(uint32_t));
        if (!enc->byte_pair_rank) {
            Py_DECREF(enc);
            return PyErr_NoMemory();
        }
        for (int x = 0; x < 0x10000; x++)
            enc->byte_pair_rank[x] = (uint32_t)table_rank(table, enc->byte_ids[x >> 8], enc->byte_ids[x & 255]);
        enc->joins = byte_joins(enc, table); /* (NULL: long words merged whole, as before) */
    }
    enc->scanner = scanner;
    enc->prefix_space = prefix_space;
    if (specials && specials_load(&enc->specials, specials, 2) < 0) {
        Py_DECREF(enc);
        return NULL;
    }
    while (enc->locks_ready < WORD_CACHES && cache_lock_init(&enc->caches[enc->locks_ready].lock) == 0) enc->locks_ready++;
    int32_t top = encoder_top_id(enc);
    if (whole && whole_load(&enc->whole, whole, top > top_id ? top : top_id) < 0) {
        Py_DECREF(enc);
        return NULL;
    }
    if (!enc->locks_ready || id_objects_make(&enc->ids, top > top_id ? top : top_id) < 0) {
        Py_DECREF(enc);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    return (PyObject *)enc;
}

static void encoder_dealloc(ByteLevelEncoderObject *enc) {
    for (int k = 0; k < WORD_CACHES; k++) cache_free(&enc->caches[k].cache);
    cache_free(&enc->whole);
    for (int k = 0; k < enc->locks_ready; k++) cache_lock_destroy(&enc->caches[k].lock);
    id_objects_free(&enc->ids);
    specials_free(&enc->specials);
    Py_XDECREF(enc->table);
    free(enc->byte_pair_rank);
    free(enc->joins);
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
    view_open(enc, &view);
    r = encode_word_bytes(enc, &view, PyBytes_AS_STRING(bytes), (int32_t)PyBytes_GET_SIZE(bytes), &out);
    view_close(enc, &view);
    view_merge(enc, &view);
    Py_END_ALLOW_THREADS
    Py_DECREF(bytes);
    PyObject *res = r < 0 ? PyErr_NoMemory() : list_of_ids(&enc->ids, &out);
    free(out.v);
    return res;
}

/* encode_words(words: list of str or bytes, whole: dict = None) -> (ids, counts): the ids of each word (of a
 * str, its UTF-8), one after the other, and how many each word has; a word that is a key of ``whole`` is
 * its value, one id (HF's ignore_merges). The words are read with the GIL held, encoded without it. */
static PyObject *encoder_encode_words(ByteLevelEncoderObject *enc, PyObject *args) {
    PyObject *words, *whole = NULL;
    if (!PyArg_ParseTuple(args, "O!|O", &PyList_Type, &words, &whole)) return NULL;
    if (whole == Py_None) whole = NULL;
    if (whole && !PyDict_Check(whole)) {
        PyErr_SetString(PyExc_TypeError, "whole must be a dict of word -> id");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(words);
    const char **utf8 = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *utf8);
    Py_ssize_t *len = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *len);
    PyObject *keep = PyList_New(0); /* bytes made for words with lone surrogates */
    int32_t *counts = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *counts);
    int32_t *found = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *found); /* the whole-word id, or -1 */
    PyObject *res = NULL;
    Buf out = {0};
    if (!utf8 || !len || !keep || !counts || !found) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *w = PyList_GET_ITEM(words, i);
        found[i] = -1;
        if (whole) {
            PyObject *v = PyDict_GetItemWithError(whole, w);
            if (!v && PyErr_Occurred()) goto done;
            if (v) {
                long id = PyLong_AsLong(v);
                if (id < 0 || id >= enc->ids.n) {
                    if (!PyErr_Occurred())
                        PyErr_SetString(PyExc_ValueError, "a whole-word id is outside the encoder's ids");
                    goto done;
                }
                found[i] = (int32_t)id;
            }
        }
        if (PyBytes_Check(w)) { /* the word's bytes themselves */
            utf8[i] = PyBytes_AS_STRING(w);
            len[i] = PyBytes_GET_SIZE(w);
            continue;
        }
        if (!PyUnicode_Check(w)) {
            PyErr_SetString(PyExc_TypeError, "words must be str or bytes");
            goto done;
        }
        utf8[i] = PyUnicode_AsUTF8AndSize(w, &len[i]);
        if (!utf8[i]) { /* lone surrogates: their surrogatepass bytes, as encode_word reads them */
            PyErr_Clear();
            PyObject *b = PyUnicode_AsEncodedString(w, "utf-8", "surrogatepass");
            if (!b || PyList_Append(keep, b) < 0) {
                Py_XDECREF(b);
                goto done;
            }
            Py_DECREF(b);
            utf8[i] = PyBytes_AS_STRING(b);
            len[i] = PyBytes_GET_SIZE(b);
        }
        if (len[i] > INT32_MAX) {
            PyErr_SetString(PyExc_ValueError, "a word is longer than 2 GiB");
            goto done;
        }
    }
    int r = 0;
    CacheView view;
    Py_BEGIN_ALLOW_THREADS
    view_open(enc, &view);
    for (Py_ssize_t i = 0; i < n && r == 0; i++) {
        Py_ssize_t before = out.n;
        if (found[i] >= 0) {
            r = buf_reserve(&out, 1);
            if (r == 0) out.v[out.n++] = found[i];
        } else {
            r = encode_word_bytes(enc, &view, utf8[i], (int32_t)len[i], &out);
        }
        counts[i] = (int32_t)(out.n - before);
    }
    view_close(enc, &view);
    view_merge(enc, &view);
    Py_END_ALLOW_THREADS
    if (r < 0) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject *id_list = list_of_ids(&enc->ids, &out);
    PyObject *count_list = id_list ? PyList_New(n) : NULL;
    for (Py_ssize_t i = 0; count_list && i < n; i++) {
        PyObject *c = PyLong_FromLong(counts[i]);
        if (!c) {
            Py_CLEAR(count_list);
            break;
        }
        PyList_SET_ITEM(count_list, i, c);
    }
    res = count_list ? PyTuple_Pack(2, id_list, count_list) : NULL;
    Py_XDECREF(id_list);
    Py_XDECREF(count_list);
done:
    PyMem_Free(utf8);
    PyMem_Free(len);
    PyMem_Free(counts);
    PyMem_Free(found);
    Py_XDECREF(keep);
    free(out.v);
    return res;
}

/* A word's record (start, end, n_ids) in words, unless only the ids are wanted (words NULL): 0, or -1. */
static inline int word_record(Buf *words, Py_ssize_t start, Py_ssize_t end, int32_t n_ids) {
    if (!words) return 0;
    if (buf_reserve(words, 3) < 0) return -1;
    words->v[words->n++] = (int32_t)start;
    words->v[words->n++] = (int32_t)end;
    words->v[words->n++] = n_ids;
    return 0;
}

/* encode_segment: the words (the encoder's pattern) of t[start, end) appended to ids, with (start, end, n_ids)
 * records in words (NULL: none). */
static int encode_segment(const ByteLevelEncoderObject *enc, CacheView *cache, const Text *t, Py_ssize_t start,
                          Py_ssize_t end, Buf *ids, Buf *words, char **utf8, Py_ssize_t *utf8_cap) {
    Text seg = *t;
    seg.n = end; /* the pattern must not see past the next special token */
    Py_ssize_t i = start;
    const int short_words = t->kind == PyUnicode_1BYTE_KIND || t->kind == PyUnicode_2BYTE_KIND;
    if (short_words && *utf8_cap < 64) { /* room for the short words' fast path below */
        char *grown = realloc(*utf8, 64);
        if (!grown) return -1;
        *utf8 = grown, *utf8_cap = 64;
    }
    if (enc->prefix_space && start < end && CP(t, start) != ' ') { /* the first word has the space before it */
        Py_ssize_t e = gpt2_prefixed_end(&seg, start);
        Py_ssize_t nb = utf8_of(t, start, e, utf8, utf8_cap), before = ids->n;
        if (nb < 0) return -1;
        if (nb + 1 > *utf8_cap) {
            char *grown = realloc(*utf8, (size_t)nb + 1);
            if (!grown) return -1;
            *utf8 = grown;
            *utf8_cap = nb + 1;
        }
        memmove(*utf8 + 1, *utf8, (size_t)nb);
        (*utf8)[0] = ' ';
        if (encode_word_bytes(enc, cache, *utf8, (int32_t)nb + 1, ids) < 0 ||
            word_record(words, start, e, (int32_t)(-2 - (ids->n - before))) < 0) /* -2 - n: the space before it */
            return -1;
        i = e;
    }
    /* (not GPT-2's in a 1-byte text: its inlined scanner and the text's own bytes are quicker there; the
     * lane made 10 kB documents 8-12% slower) */
    const int lane = short_words && (t->kind == PyUnicode_2BYTE_KIND || enc->scanner != SCAN_GPT2)
                         ? scanner_lane(enc->scanner)
                         : LANE_NONE;
    for (; i < end;) {
        Py_ssize_t e = -1, nb, before = ids->n;
        uint64_t w = 0; /* a short ASCII word's bytes, when gathered is set */
        int gathered = 0;
        if (lane != LANE_NONE) { /* a word of ASCII letters, scanned and gathered in one pass */
            e = t->kind == PyUnicode_1BYTE_KIND ? ascii_word_end(t, PyUnicode_1BYTE_KIND, i, end, lane, &w)
                                                : ascii_word_end(t, PyUnicode_2BYTE_KIND, i, end, lane, &w);
            gathered = e >= 0 && e - i <= 8;
        }
        if (e < 0) {
            /* GPT-2's scanner inlined with its option fixed: the common case pays nothing for the others */
            e = enc->scanner == SCAN_GPT2 ? gpt2_token_end(&seg, i, 0) : scanned_token_end(&seg, i, enc->scanner);
            if (t->kind == PyUnicode_2BYTE_KIND && e - i <= 8) {
                const Py_UCS2 *d = (const Py_UCS2 *)t->data + i;
                unsigned any = 0;
                for (int32_t k = 0; k < e - i; k++) any |= d[k], w |= (uint64_t)(d[k] & 0xFF) << (8 * k);
                gathered = any < 0x80;
            }
        }
        if (gathered) {
            /* a short ASCII word (most of an English text): its bytes gathered in a register, its head and
             * hash made from there, and stored at once, so that nothing waits on loading back bytes stored
             * one by one (a load that spans several smaller stores stalls) */
            const int32_t n = (int32_t)(e - i);
            const uint64_t head = upto8_of(w, n);
            int r = hot_emit(cache, head, n, ids);
            if (r == 0) {
                memcpy(*utf8, &w, sizeof w);
                r = encode_word_hashed(enc, cache, *utf8, n, hash_short(head, n), head, ids);
            }
            if (r < 0 || word_record(words, i, e, (int32_t)(ids->n - before)) < 0) return -1;
            i = e;
            continue;
        }
        const char *bytes = utf8_view(t, i, e, utf8, utf8_cap, &nb);
        if (nb < 0 || encode_word_bytes(enc, cache, bytes, (int32_t)nb, ids) < 0 ||
            word_record(words, i, e, (int32_t)(ids->n - before)) < 0)
            return -1;
        i = e;
    }
    return 0;
}

/* encode_text_core: the whole of one text, specials first, with word records in words (NULL: the ids alone);
 * runs without the GIL. */
static int encode_text_core(const ByteLevelEncoderObject *enc, CacheView *cache, const Text *t, Buf *ids, Buf *words) {
    char *utf8 = NULL;
    Py_ssize_t utf8_cap = 0, pos = 0;
    int r = 0;
    const Specials *sp = &enc->specials;
    for (Py_ssize_t i = special_candidate(sp, t, 0); i < t->n; i = special_candidate(sp, t, i + 1)) {
        Py_ssize_t k = special_at(sp, t, i);
        if (k < 0) continue;
        Py_ssize_t s = i, e = i + sp->len[k]; /* lstrip / rstrip: the white space around it joins it */
        if (sp->strip[k] & SPECIAL_LSTRIP)
            while (s > pos && (CLS(t, CP(t, s - 1)) & CLASS_SPACE)) s--;
        if (sp->strip[k] & SPECIAL_RSTRIP)
            while (e < t->n && (CLS(t, CP(t, e)) & CLASS_SPACE)) e++;
        if (encode_segment(enc, cache, t, pos, s, ids, words, &utf8, &utf8_cap) < 0 || buf_reserve(ids, 1) < 0 ||
            word_record(words, s, e, -1) < 0) {
            r = -1;
            break;
        }
        ids->v[ids->n++] = sp->id[k];
        pos = e;
        i = pos - 1;
    }
    if (r == 0) r = encode_segment(enc, cache, t, pos, t->n, ids, words, &utf8, &utf8_cap);
    free(utf8);
    return r;
}

/* encode_text(text: str) -> (ids, words): words holds (start, end, n_ids) per word as int32 bytes, n_ids -1
 * for a special token. Runs with the GIL released. */
static PyObject *encoder_encode_text(ByteLevelEncoderObject *enc, PyObject *args) {
    PyObject *str;
    if (!PyArg_ParseTuple(args, "U", &str) || require_classes() < 0 || check_text(str) < 0) return NULL;
    Text t;
    text_init(&t, str);
    Buf ids = {0}, words = {0};
    CacheView view;
    int r;
    Py_BEGIN_ALLOW_THREADS
    view_open(enc, &view);
    r = encode_text_core(enc, &view, &t, &ids, &words);
    view_close(enc, &view);
    view_merge(enc, &view);
    Py_END_ALLOW_THREADS
    PyObject *res = r < 0 ? PyErr_NoMemory() : result_pair(&enc->ids, &ids, &words);
    free(ids.v);
    free(words.v);
    return res;
}

/* The byte-level encoder's batch: each worker holds a word cache of its own for the whole batch (view_open). */
static void bpe_batch_begin(Batch *b, void *state) { view_open(b->enc, state); }
static int bpe_batch_encode(Batch *b, void *state, const Text *t, Buf *ids, Buf *aux) {
    return encode_text_core(b->enc, state, t, ids, aux);
}
static void bpe_batch_end(Batch *b, void *state) { view_close(b->enc, state); }
static void bpe_batch_finish(Batch *b, void *state) { view_merge(b->enc, state); }
static const BatchOps BPE_BATCH = {bpe_batch_begin, bpe_batch_encode, bpe_batch_end, bpe_batch_finish,
                                   sizeof(CacheView), 1};

/* encode_batch(texts: list[str], num_threads: int = 1) -> list of (ids, words) */
static PyObject *encoder_encode_batch(ByteLevelEncoderObject *enc, PyObject *args) {
    return run_batch(enc, &BPE_BATCH, &enc->ids, args, BATCH_PAIRS);
}

/* encode_batch_flat(texts, num_threads=1, prefix=None, suffix=None) -> (int32 ids bytearray, int64 row starts
 * bytearray); prefix and suffix: ids around each text's (a list, or None) */
static PyObject *encoder_encode_batch_flat(ByteLevelEncoderObject *enc, PyObject *args) {
    return run_batch(enc, &BPE_BATCH, &enc->ids, args, BATCH_FLAT);
}

/* encode_lines_flat(block, num_threads=1, prefix=None, suffix=None): encode_batch_flat over the lines of one
 * str (batch.c's block_lines: split at "\n" as a file's lines are), without a str per line */
static PyObject *encoder_encode_lines_flat(ByteLevelEncoderObject *enc, PyObject *args) {
    return run_batch(enc, &BPE_BATCH, &enc->ids, args, BATCH_LINES);
}

/* encode_batch_ids(texts, num_threads=1) -> list of each text's ids (list[int]) */
static PyObject *encoder_encode_batch_ids(ByteLevelEncoderObject *enc, PyObject *args) {
    return run_batch(enc, &BPE_BATCH, &enc->ids, args, BATCH_IDS);
}

static PyMethodDef encoder_methods[] = {
    {"encode_word", (PyCFunction)encoder_encode_word, METH_VARARGS, "Ids of one word (cached)."},
    {"encode_words", (PyCFunction)encoder_encode_words, METH_VARARGS,
     "(ids of the words one after the other, number of ids of each word)."},
    {"encode_text", (PyCFunction)encoder_encode_text, METH_VARARGS,
     "Split with the encoder's pattern and encode: (ids, per-word (start, end, n_ids) as int32 bytes)."},
    {"encode_batch", (PyCFunction)encoder_encode_batch, METH_VARARGS,
     "encode_text of each text, spread over num_threads threads without the GIL; its ids between the prefix\n"
     "and suffix ids, where given."},
    {"encode_batch_flat", (PyCFunction)encoder_encode_batch_flat, METH_VARARGS,
     "encode_batch's ids as one int32 bytearray and each text's start as an int64 bytearray (n + 1), each\n"
     "text's ids between the ids of prefix and suffix (lists, or None)."},
    {"encode_lines_flat", (PyCFunction)encoder_encode_lines_flat, METH_VARARGS,
     "encode_batch_flat over the lines of one str (split at \"\\n\", as a file's lines), no str made per line."},
    {"encode_batch_ids", (PyCFunction)encoder_encode_batch_ids, METH_VARARGS,
     "encode_batch's ids as a list of lists of int, no other object per text."},
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
