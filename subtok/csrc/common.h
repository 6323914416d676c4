/* common.h: what the files of subtok's native core share. It has no Python twin of its own: small
 * containers and hashing, the character-class table (subtok.text.char_classes, installed once by
 * subtok._backend through set_char_classes), the view of a str read without the GIL, special tokens,
 * shared int objects for result lists, numpy buffers, and the shims that keep the core portable (threads
 * and atomics exist only where POSIX threads do; elsewhere, as under MSVC, everything runs on the calling
 * thread). module.c includes this header and then each .c file: one translation unit, every function static.
 */
#ifndef SUBTOK_COMMON_H
#define SUBTOK_COMMON_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define SUBTOK_THREADS 0 /* one thread: plain integers serve as the batch's counters */
typedef size_t atomic_size_t;
typedef int atomic_int;
#define atomic_fetch_add(p, v) ((*(p) += (v)) - (v))
#define atomic_load(p) (*(p))
#define atomic_store(p, v) ((void)(*(p) = (v)))
#else
#define SUBTOK_THREADS 1
#include <pthread.h>
#include <stdatomic.h>
#endif

#define HEAP_MIN_SYMBOLS 48  /* as bpe_core.HEAP_MIN_SYMBOLS */
/* PREFETCH(p): ask for the cache line at p ahead of its use (a hint: nothing where the compiler has none) */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif
#define CACHE_SIZE (1 << 16) /* as bpe_core.CACHE_SIZE */
#define CACHE_MAX_WORD 256   /* as bpe_core.CACHE_MAX_WORD: longer words are not cached (bounded memory) */

/* ------------------------------------------------------------------------------------------------ */
/* Small containers and hashing                                                                     */
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

/* PairIndex: (id a, id b) -> a value >= 0, open addressing by mix64, key and value side by side (one cache
 * line a probe; a key of PAIR_EMPTY, which pair_key of ids >= 0 never gives, marks an empty slot); at most
 * half full. BPE's merge ranks (MergeTable) and SentencePiece BPE's piece + piece -> piece table.
 * In front of it, a filter: PAIR_FILTER_BITS bits for each pair it may hold, the bit that each pair's mix64
 * names (its top bits) set, so that a pair it does not hold (most pairs the symbols of a word never seen
 * form) is mostly turned away in a table that stays in the L2 cache, without a probe of the slots (1 MB for
 * 32k merges). Measured on a million characters of mixed scripts: encoding 12-17% quicker. */
#define PAIR_EMPTY UINT64_MAX
#define PAIR_FILTER_BITS 16 /* one bit in 16 set: about 6% of the pairs not held pass the filter */
typedef struct {
    uint64_t key;
    int32_t val;
} PairIndexSlot;

typedef struct {
    PairIndexSlot *slots; /* NULL: none built */
    size_t mask;
    uint64_t *filter;
    int filter_shift; /* 64 - log2 of the filter's bits */
} PairIndex;

/* pair_index_init: room for n pairs; -1 when out of memory */
static int pair_index_init(PairIndex *p, size_t n) {
    size_t cap = 64;
    while (cap < n * 2 + 2) cap <<= 1;
    int filter_log2 = 9; /* (at least 512 bits) */
    while (filter_log2 < 48 && ((size_t)1 << filter_log2) < n * PAIR_FILTER_BITS) filter_log2++;
    p->slots = malloc(cap * sizeof(PairIndexSlot));
    p->mask = cap - 1;
    p->filter = calloc((size_t)1 << (filter_log2 - 6), sizeof(uint64_t));
    p->filter_shift = 64 - filter_log2;
    if (!p->slots || !p->filter) {
        free(p->slots), free(p->filter);
        p->slots = NULL, p->filter = NULL;
        return -1;
    }
    for (size_t i = 0; i < cap; i++) p->slots[i].key = PAIR_EMPTY, p->slots[i].val = -1;
    return 0;
}

static void pair_index_free(PairIndex *p) {
    free(p->slots), free(p->filter);
    p->slots = NULL, p->filter = NULL;
}

/* pair_index_put: (a, b) -> v (v >= 0), replacing what it held; at most the n pairs of pair_index_init */
static void pair_index_put(PairIndex *p, int32_t a, int32_t b, int32_t v) {
    const uint64_t key = pair_key(a, b);
    const size_t h = mix64(key), bit = h >> p->filter_shift;
    p->filter[bit >> 6] |= (uint64_t)1 << (bit & 63);
    size_t i = h & p->mask;
    while (p->slots[i].key != PAIR_EMPTY && p->slots[i].key != key) i = (i + 1) & p->mask;
    p->slots[i].key = key, p->slots[i].val = v;
}

/* pair_index_get: the value of (a, b), or -1 */
static inline int32_t pair_index_get(const PairIndex *p, int32_t a, int32_t b) {
    const uint64_t key = pair_key(a, b);
    const size_t h = mix64(key), bit = h >> p->filter_shift;
    if (!(p->filter[bit >> 6] >> (bit & 63) & 1)) return -1;
    for (size_t i = h & p->mask;; i = (i + 1) & p->mask) {
        const uint64_t k = p->slots[i].key;
        if (k == key) return p->slots[i].val;
        if (k == PAIR_EMPTY) return -1;
    }
}

/* Up to 8 bytes at p (n <= 8) as one integer, reading only those bytes (two overlapping loads from 4 on): two
 * runs of bytes of one length give the same integer exactly when they are equal. */
static inline uint64_t load_upto8(const char *p, Py_ssize_t n) {
    uint32_t lo, hi;
    if (n >= 4) {
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        return (uint64_t)lo | (uint64_t)hi << 32;
    }
    if (n == 0) return 0;
    return (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << 8 |
           (uint64_t)(unsigned char)p[n - 1] << 16;
}

/* hash_short: hash_bytes of a word of n <= 8 bytes whose load_upto8 is head (the same number, without
 * reading the bytes back from memory) */
static inline uint64_t hash_short(uint64_t head, Py_ssize_t n) { return mix64(0x9E3779B97F4A7C15ULL ^ (uint64_t)n ^ head); }

/* upto8_of: load_upto8 of the n <= 8 bytes that w holds, the first in its low byte (as memcpy lays them out
 * on the little-endian hosts this is built for) */
static inline uint64_t upto8_of(uint64_t w, Py_ssize_t n) {
    if (n >= 4) return (w & 0xFFFFFFFFu) | ((w >> (8 * (n - 4))) & 0xFFFFFFFFu) << 32;
    if (n == 0) return 0;
    return (w & 0xFF) | ((w >> (8 * (n / 2))) & 0xFF) << 8 | ((w >> (8 * (n - 1))) & 0xFF) << 16;
}

static inline size_t hash_bytes(const char *p, Py_ssize_t n) {
    if (n <= 8) return hash_short(load_upto8(p, n), n); /* (hash_short is this, by construction) */
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n, w; /* eight bytes a step; only table layout hangs on it */
    for (; n > 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 29;
    }
    return mix64(h ^ load_upto8(p, n));
}

/* Whether the n bytes at a and b are equal: words up to 64 bytes without a call (eight bytes a step, the
 * last step ending at the last byte). */
static inline int bytes_equal(const char *a, const char *b, Py_ssize_t n) {
    if (n <= 8) return load_upto8(a, n) == load_upto8(b, n);
    if (n > 64) return memcmp(a, b, (size_t)n) == 0;
    uint64_t x, y, diff = 0;
    for (Py_ssize_t i = 0; i < n - 8; i += 8) memcpy(&x, a + i, 8), memcpy(&y, b + i, 8), diff |= x ^ y;
    memcpy(&x, a + n - 8, 8), memcpy(&y, b + n - 8, 8);
    return (diff | (x ^ y)) == 0;
}

/* Memory carved from blocks of a megabyte (or one of its own for a larger request) that are freed together:
 * no allocation per item. Sizes that are multiples of 8 keep every piece 8-byte aligned. */
typedef struct {
    char **blocks;
    size_t n, cap;
    char *at;
    size_t left;
} Arena;

#define ARENA_BLOCK (1 << 20)

static void *arena_take(Arena *a, size_t size) {
    if (size > a->left) {
        if (a->n == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 16;
            char **blocks = realloc(a->blocks, cap * sizeof(char *));
            if (!blocks) return NULL;
            a->blocks = blocks, a->cap = cap;
        }
        size_t block_size = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        char *block = malloc(block_size);
        if (!block) return NULL;
        a->blocks[a->n++] = a->at = block;
        a->left = block_size;
    }
    void *piece = a->at;
    a->at += size, a->left -= size;
    return piece;
}

static void arena_free(Arena *a) {
    for (size_t i = 0; i < a->n; i++) free(a->blocks[i]);
    free(a->blocks);
    memset(a, 0, sizeof *a); /* empty, ready to take again */
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

/* buf_extend: more's ints appended to b; -1 when out of memory */
static inline int buf_extend(Buf *b, const Buf *more) {
    if (!more->n) return 0;
    if (buf_reserve(b, more->n) < 0) return -1;
    memcpy(b->v + b->n, more->v, (size_t)more->n * sizeof(int32_t));
    b->n += more->n;
    return 0;
}

static int buf_push(Buf *b, int32_t v) {
    if (buf_reserve(b, 1) < 0) return -1;
    b->v[b->n++] = v;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Character classes and the text view                                                              */
/* ------------------------------------------------------------------------------------------------ */
#define CLASS_LETTER 1 /* as text.CLASS_* */
#define CLASS_NUMBER 2
#define CLASS_SPACE 4
#define CLASS_PUNCT 8 /* BERT's punctuation */
#define CLASS_UPPERISH 16 /* o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] */
#define CLASS_LOWERISH 32 /* o200k's [\p{Ll}\p{Lm}\p{Lo}\p{M}] */
#define N_CODEPOINTS 0x110000

/* One byte of CLASS_* bits per code point, as the regex module defines the classes (text.char_classes). */
static PyObject *char_classes_obj;
static const unsigned char *char_classes;

/* set_char_classes(classes: bytes): install the table once; every scanner reads it from then on. A second
 * call may only repeat the same table (encoders running without the GIL may be reading the first). */
static PyObject *set_char_classes(PyObject *self, PyObject *classes) {
    if (!PyBytes_Check(classes) || PyBytes_GET_SIZE(classes) != N_CODEPOINTS) {
        PyErr_SetString(PyExc_ValueError, "classes must be bytes of length 0x110000 (text.char_classes())");
        return NULL;
    }
    if (char_classes) {
        if (memcmp(char_classes, PyBytes_AS_STRING(classes), N_CODEPOINTS) == 0) Py_RETURN_NONE;
        PyErr_SetString(PyExc_ValueError, "other character classes are installed already");
        return NULL;
    }
    Py_INCREF(classes);
    char_classes_obj = classes; /* held for the life of the process */
    char_classes = (const unsigned char *)PyBytes_AS_STRING(classes);
    Py_RETURN_NONE;
}

/* 0 when the class table is installed, else -1 with an error set. */
static int require_classes(void) {
    if (char_classes) return 0;
    PyErr_SetString(PyExc_RuntimeError, "the character classes are not installed (subtok._backend does it)");
    return -1;
}

/* The text being scanned: a str's code points, read without the GIL (the str is immutable and held). */
typedef struct {
    int kind;
    int ascii; /* every code point < 128: the data is its own UTF-8 */
    const void *data;
    Py_ssize_t n;
    const unsigned char *classes; /* char_classes */
} Text;

#define CP(t, i) PyUnicode_READ((t)->kind, (t)->data, (i))
#define CLS(t, c) ((t)->classes[(c)])


static void text_init(Text *t, PyObject *str) {
    t->kind = PyUnicode_KIND(str);
    t->ascii = PyUnicode_IS_ASCII(str);
    t->data = PyUnicode_DATA(str);
    t->n = PyUnicode_GET_LENGTH(str);
    t->classes = char_classes;
}

/* line_end: the position just past the next "\n" at or after i, or t->n (count_gpt2's lines, batch.c's
 * block_lines). */
static Py_ssize_t line_end(const Text *t, Py_ssize_t i) {
    if (t->kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = t->data;
        const void *hit = i < t->n ? memchr(d + i, '\n', (size_t)(t->n - i)) : NULL;
        return hit ? (const Py_UCS1 *)hit - d + 1 : t->n;
    }
    if (t->kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *d = t->data;
        while (i < t->n && d[i] != '\n') i++;
    } else {
        const Py_UCS4 *d = t->data;
        while (i < t->n && d[i] != '\n') i++;
    }
    return i < t->n ? i + 1 : t->n;
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


/* The UTF-8 of code points [s, e): the text's own bytes when it is ASCII (no copy), else utf8_of's copy in *dst;
 * its length in *nbytes (-1 on allocation failure). */
static Py_ssize_t utf8_of(const Text *t, Py_ssize_t s, Py_ssize_t e, char **dst, Py_ssize_t *cap);
static inline const char *utf8_view(const Text *t, Py_ssize_t s, Py_ssize_t e, char **dst, Py_ssize_t *cap,
                                    Py_ssize_t *nbytes) {
    if (t->ascii) {
        *nbytes = e - s;
        return (const char *)t->data + s;
    }
    if (t->kind == PyUnicode_2BYTE_KIND && *dst && e - s <= *cap) { /* an ASCII word of a 2-byte text: no call */
        const Py_UCS2 *d = (const Py_UCS2 *)t->data + s;
        Py_ssize_t n = e - s, k = 0;
        for (; k < n && d[k] < 0x80; k++) (*dst)[k] = (char)d[k];
        if (k == n) {
            *nbytes = n;
            return *dst;
        }
    }
    *nbytes = utf8_of(t, s, e, dst, cap);
    return *dst;
}

/* One code point's UTF-8 at o[n]: the new length. */
static inline Py_ssize_t put_utf8(unsigned char *o, Py_ssize_t n, Py_UCS4 c) {
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
    return n;
}

/* UTF-8 of code points [s, e) into *dst (grown as needed); surrogates as in 'surrogatepass'. A loop per
 * string kind (the kind is read once, not per character), ASCII characters first in each. */
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
#define UTF8_OF_KIND(T)                                                                                         \
    for (Py_ssize_t i = s; i < e; i++) {                                                                         \
        Py_UCS4 c = ((const T *)t->data)[i];                                                                     \
        if (c < 0x80)                                                                                            \
            o[n++] = (unsigned char)c;                                                                           \
        else                                                                                                     \
            n = put_utf8(o, n, c);                                                                               \
    }
    if (t->kind == PyUnicode_1BYTE_KIND)
        UTF8_OF_KIND(Py_UCS1)
    else if (t->kind == PyUnicode_2BYTE_KIND)
        UTF8_OF_KIND(Py_UCS2)
    else
        UTF8_OF_KIND(Py_UCS4)
#undef UTF8_OF_KIND
    return n;
}

/* ------------------------------------------------------------------------------------------------ */
/* A trie of code-point strings (pieces, special tokens), keyed by (node, code point) in one           */
/* open-addressing table                                                                            */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    uint32_t key[2]; /* (node << 21) | code point (cpedge_key); UINT64_MAX: empty. Two halves: 12 bytes an edge,
                        not 16 (a trainer's table of a million seed pieces has millions of slots) */
    int32_t child;
} CpEdge;

static inline uint64_t cpedge_key(const CpEdge *e) {
    uint64_t key;
    memcpy(&key, e->key, sizeof key);
    return key;
}

static inline void cpedge_set(CpEdge *e, uint64_t key, int32_t child) {
    memcpy(e->key, &key, sizeof key);
    e->child = child;
}

typedef struct { /* an edge in a node's own table (CpTrie.slots) */
    uint32_t label;  /* the code point */
    int32_t child;   /* -1: an empty slot */
} CpSlot;

typedef struct { /* where a node's table starts in CpTrie.slots, log2 of its size, and the node's filter (kids) */
    uint32_t at;
    uint16_t bits, kids;
} CpTable;

typedef struct {
    CpEdge *edges; /* key and child side by side: one cache line per probe; NULL once the tables replace it */
    size_t mask;
    int shift;      /* 64 - log2(slots): a key's first slot is the top bits of key * 2^64/phi */
    int32_t *token; /* per node: piece id or -1 */
    int32_t n_nodes, cap_nodes;
    int32_t *root;       /* after cptrie_finish: the root's child per BMP code point (-1: none) */
    uint16_t *kids;      /* after cptrie_finish: per node, bit c & 15 set when a child's code point c has those low
                            bits (0: a leaf): most failed steps end here, without a probe (two bytes a node:
                            a trainer's trie has millions); moved into table once there is one */
    CpTable *table;      /* after cptrie_finish(roomy): per node, its children's table in slots (a leaf's: the
                            one empty slot 0) and its filter, read together; the shared hash table is then gone */
    CpSlot *slots;
} CpTrie;

static inline size_t cptrie_slot(const CpTrie *t, uint64_t key) {
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> t->shift);
    for (uint64_t k; (k = cpedge_key(&t->edges[i])) != UINT64_MAX && k != key;) i = (i + 1) & t->mask;
    return i;
}

/* cptrie_table_slot: the first slot of code point c in a node table of 2^bits slots (Fibonacci hashing:
 * consecutive code points, as a script's letters are, land apart) */
static inline uint32_t cptrie_table_slot(uint32_t c, uint32_t bits) {
    return (uint32_t)((uint64_t)(uint32_t)(c * 0x9E3779B1u) >> (32 - bits));
}

/* cptrie_next: node's child by code point c, or -1; on a trie with node tables, a probe of the node's own
 * table (a few slots side by side: a walk's steps touch few cache lines), else of the shared hash table */
static inline int32_t cptrie_table_next(const CpSlot *slots, CpTable tab, Py_UCS4 c) {
    const uint32_t mask = (1u << tab.bits) - 1;
    for (uint32_t i = cptrie_table_slot(c, tab.bits);; i = (i + 1) & mask) {
        if (slots[i].label == c) return slots[i].child;
        if (slots[i].child < 0) return -1;
    }
}

static inline int32_t cptrie_next(const CpTrie *t, int32_t node, Py_UCS4 c) {
    if (t->slots) return cptrie_table_next(t->slots + t->table[node].at, t->table[node], c);
    uint64_t key = ((uint64_t)node << 21) | c;
    size_t i = cptrie_slot(t, key);
    return cpedge_key(&t->edges[i]) == key ? t->edges[i].child : -1;
}

/* cptrie_grow: twice the slots (or the first 1024), every edge rehashed; -1 when out of memory */
static int cptrie_grow(CpTrie *t) {
    size_t cap = t->edges ? 2 * (t->mask + 1) : 1024;
    CpEdge *edges = malloc(cap * sizeof(CpEdge));
    int32_t *token = realloc(t->token, (cap * 7 / 10 + 2) * sizeof(int32_t)); /* nodes <= edges + 1 */
    if (token) t->token = token;
    if (!edges || !token) return free(edges), -1;
    for (size_t i = 0; i < cap; i++) cpedge_set(&edges[i], UINT64_MAX, -1);
    CpTrie bigger = *t;
    bigger.edges = edges, bigger.mask = cap - 1, bigger.shift = 64;
    for (size_t c = cap; c > 1; c >>= 1) bigger.shift--;
    for (size_t i = 0; t->edges && i <= t->mask; i++)
        if (cpedge_key(&t->edges[i]) != UINT64_MAX) edges[cptrie_slot(&bigger, cpedge_key(&t->edges[i]))] = t->edges[i];
    free(t->edges);
    t->edges = edges, t->mask = cap - 1, t->shift = bigger.shift;
    if (!t->n_nodes) t->token[0] = -1, t->n_nodes = 1; /* the root */
    return 0;
}

/* cptrie_add: insert code points s[0..n) with value id (the first id of a piece wins, as the reference's
 * setdefault); the table grows to keep at most 70% of its slots full. -1 when out of memory. Not on a
 * trie that cptrie_finish gave node tables. */
static int cptrie_add(CpTrie *t, const Py_UCS4 *s, Py_ssize_t n, int32_t id) {
    if (!t->edges && cptrie_grow(t) < 0) return -1;
    int32_t node = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        if ((size_t)t->n_nodes + 1 > (t->mask + 1) * 7 / 10 && cptrie_grow(t) < 0) return -1;
        uint64_t key = ((uint64_t)node << 21) | s[k];
        size_t i = cptrie_slot(t, key);
        if (cpedge_key(&t->edges[i]) != key) {
            cpedge_set(&t->edges[i], key, t->n_nodes);
            t->token[t->n_nodes++] = -1;
        }
        node = t->edges[i].child;
    }
    if (t->token[node] < 0) t->token[node] = id;
    return 0;
}

/* cptrie_tables: each node's children moved from the shared hash table into a table of the node's own, the
 * smallest power of two at least twice its child count, one after another in t->slots (slot 0: the empty
 * table of every leaf); the hash table is freed. A lookup then reads a few slots side by side, where the shared
 * table put every edge of a walk on a cache line of its own. -1 when out of memory (the trie unchanged). */
static int cptrie_tables(CpTrie *t) {
    CpTable *table = calloc((size_t)t->n_nodes, sizeof(CpTable));
    if (!table) return -1;
    for (size_t i = 0; i <= t->mask; i++) /* first the child counts, in .at */
        if (cpedge_key(&t->edges[i]) != UINT64_MAX) table[cpedge_key(&t->edges[i]) >> 21].at++;
    size_t total = 1;
    for (int32_t v = 0; v < t->n_nodes; v++) {
        const uint32_t count = table[v].at;
        uint32_t bits = 0;
        while (count && (1u << bits) < 2 * count) bits++; /* at most half full */
        table[v].bits = (uint16_t)bits;
        table[v].kids = t->kids[v];
        table[v].at = count ? (uint32_t)total : 0;
        total += count ? (size_t)1 << bits : 0;
    }
    CpSlot *slots = total <= UINT32_MAX ? malloc(total * sizeof(CpSlot)) : NULL;
    if (!slots) return free(table), -1;
    for (size_t i = 0; i < total; i++) slots[i] = (CpSlot){UINT32_MAX, -1};
    for (size_t i = 0; i <= t->mask; i++) {
        const uint64_t key = cpedge_key(&t->edges[i]);
        if (key == UINT64_MAX) continue;
        const CpTable tab = table[key >> 21];
        const uint32_t c = (uint32_t)(key & 0x1FFFFF), mask = (1u << tab.bits) - 1;
        uint32_t k = cptrie_table_slot(c, tab.bits);
        while (slots[tab.at + k].child >= 0) k = (k + 1) & mask;
        slots[tab.at + k] = (CpSlot){c, t->edges[i].child};
    }
    free(t->edges), free(t->kids);
    t->edges = NULL, t->kids = NULL, t->table = table, t->slots = slots;
    return 0;
}

/* cptrie_finish: the lookup aids of a trie that is complete: the root's children by BMP code point and
 * each node's filter of its children's low code point bits (a walk that cannot go on mostly stops without
 * probing the table). With roomy (an encoder's trie, kept for long and read at every character), the
 * children then move into tables per node (cptrie_tables: at most half full, and a walk's probes stay
 * near each other); a trainer's trie of a million seed pieces keeps the shared hash table, 70% full.
 * -1 when out of memory. */
static int cptrie_finish(CpTrie *t, int roomy) {
    if (!t->edges && cptrie_grow(t) < 0) return -1;
    free(t->root), free(t->kids);
    t->root = malloc(0x10000 * sizeof(int32_t));
    t->kids = calloc((size_t)t->n_nodes + 1, sizeof(uint16_t));
    if (!t->root || !t->kids) return -1;
    memset(t->root, 0xFF, 0x10000 * sizeof(int32_t));
    for (size_t i = 0; i <= t->mask; i++) {
        uint64_t key = cpedge_key(&t->edges[i]);
        if (key == UINT64_MAX) continue;
        t->kids[key >> 21] |= (uint16_t)(1u << (key & 15));
        if ((key >> 21) == 0 && (key & 0x1FFFFF) < 0x10000) t->root[key & 0xFFFF] = t->edges[i].child;
    }
    return roomy ? cptrie_tables(t) : 0;
}

/* cptrie_step <-> cptrie_next on a finished trie: the root's children by table, a child the filter rules
 * out without a probe */
static inline int32_t cptrie_step(const CpTrie *t, int32_t node, Py_UCS4 c) {
    if (t->slots) { /* the filter, then the root's table or the node's own, from one read of its entry */
        const CpTable tab = t->table[node];
        if (!(tab.kids >> (c & 15) & 1)) return -1;
        if (node == 0 && c < 0x10000) return t->root[c];
        return cptrie_table_next(t->slots + tab.at, tab, c);
    }
    if (!(t->kids[node] >> (c & 15) & 1)) return -1;
    if (node == 0 && c < 0x10000) return t->root[c];
    return cptrie_next(t, node, c);
}

static void cptrie_free(CpTrie *t) {
    free(t->edges);
    free(t->table);
    free(t->slots);
    free(t->token);
    free(t->root);
    free(t->kids);
    memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------------------------------------------ */
/* Special tokens, and results as Python objects                                                    */
/* ------------------------------------------------------------------------------------------------ */
/* Special tokens as code points, in the order given (longest first), each with its id. */
typedef struct {
    Py_ssize_t n;
    Py_UCS4 **cp;
    Py_ssize_t *len;
    int32_t *id;
    uint8_t *strip;     /* SPECIAL_LSTRIP, SPECIAL_RSTRIP: the white space before / after it joins the token */
    uint8_t first[128]; /* ASCII first characters of the tokens: most positions are rejected here */
    int non_ascii_first; /* some token starts with a non-ASCII character */
    int one_first;       /* the one ASCII character every token starts with, or -1 */
    CpTrie trie;         /* the tokens, each node's value its index: one walk finds the longest match */
} Specials;

static void specials_free(Specials *sp) {
    for (Py_ssize_t k = 0; k < sp->n; k++) PyMem_Free(sp->cp[k]);
    free(sp->cp);
    free(sp->len);
    free(sp->id);
    free(sp->strip);
    cptrie_free(&sp->trie);
    memset(sp, 0, sizeof *sp);
}

#define SPECIAL_LSTRIP 1
#define SPECIAL_RSTRIP 2

/* From a list of (str, id) pairs, or of str when with_ids is 0; with_ids 2 also takes (str, id, lstrip,
 * rstrip). */
static int specials_load(Specials *sp, PyObject *list, int with_ids) {
    Py_ssize_t n = PyList_GET_SIZE(list);
    sp->cp = calloc((size_t)(n ? n : 1), sizeof(Py_UCS4 *));
    sp->len = calloc((size_t)(n ? n : 1), sizeof(Py_ssize_t));
    sp->id = calloc((size_t)(n ? n : 1), sizeof(int32_t));
    sp->strip = calloc((size_t)(n ? n : 1), 1);
    if (!sp->cp || !sp->len || !sp->id || !sp->strip) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PyList_GET_ITEM(list, k), *tok = item;
        long id = 0;
        int lstrip = 0, rstrip = 0;
        if (with_ids && (!PyTuple_Check(item) || (PyTuple_GET_SIZE(item) == 4 && with_ids < 2) ||
                         !PyArg_ParseTuple(item, "Ul|pp", &tok, &id, &lstrip, &rstrip)))
            tok = NULL;
        if (!tok || !PyUnicode_Check(tok) || PyUnicode_GET_LENGTH(tok) == 0 || id < 0 || id > INT32_MAX) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, with_ids ? "specials must be (non-empty str, id >= 0) pairs"
                                                       : "specials must be non-empty str");
            return -1;
        }
        sp->strip[k] = (uint8_t)((lstrip ? SPECIAL_LSTRIP : 0) | (rstrip ? SPECIAL_RSTRIP : 0));
        sp->cp[k] = PyUnicode_AsUCS4Copy(tok);
        if (!sp->cp[k]) return -1;
        sp->len[k] = PyUnicode_GET_LENGTH(tok);
        sp->id[k] = (int32_t)id;
        if (sp->cp[k][0] < 128)
            sp->first[sp->cp[k][0]] = 1;
        else
            sp->non_ascii_first = 1;
        sp->n = k + 1;
        if (cptrie_add(&sp->trie, sp->cp[k], sp->len[k], (int32_t)k) < 0) return PyErr_NoMemory(), -1;
    }
    if (cptrie_finish(&sp->trie, 1) < 0) return PyErr_NoMemory(), -1;
    sp->one_first = -1;
    for (int c = 0, seen = 0; c < 128 && !sp->non_ascii_first; c++)
        if (sp->first[c]) sp->one_first = seen++ ? -2 : c;
    if (sp->one_first == -2) sp->one_first = -1;
    return 0;
}

/* The first position from i where a special token may start (its first character is one of theirs), or
 * t->n: a tight loop per string kind, memchr where the tokens share one ASCII first character. */
static Py_ssize_t special_candidate(const Specials *sp, const Text *t, Py_ssize_t i) {
    if (sp->n == 0) return t->n;
    if (t->kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = t->data;
        if (sp->one_first >= 0) {
            const void *hit = i < t->n ? memchr(d + i, sp->one_first, (size_t)(t->n - i)) : NULL;
            return hit ? (const Py_UCS1 *)hit - d : t->n;
        }
        while (i < t->n && (d[i] < 128 ? !sp->first[d[i]] : !sp->non_ascii_first)) i++;
        return i;
    }
    if (t->kind == PyUnicode_2BYTE_KIND && sp->one_first >= 0) { /* (a 2-byte text: one compare a character) */
        const Py_UCS2 *d = t->data;
        while (i < t->n && d[i] != sp->one_first) i++;
        return i;
    }
    for (; i < t->n; i++) {
        Py_UCS4 c = CP(t, i);
        if (c < 128 ? sp->first[c] : sp->non_ascii_first) break;
    }
    return i;
}

/* The special token that starts at i (its index), or -1: the first listed that matches, as the regex does
 * (the lowest index among the tokens along one walk of the trie: the cost does not grow with the number of
 * tokens; listed longest first, that is the longest match). */
static Py_ssize_t special_at(const Specials *sp, const Text *t, Py_ssize_t i) {
    Py_UCS4 c = CP(t, i);
    if (c < 128 ? !sp->first[c] : !sp->non_ascii_first) return -1;
    Py_ssize_t found = -1;
    int32_t node = 0;
    for (Py_ssize_t j = i; j < t->n && (node = cptrie_step(&sp->trie, node, CP(t, j))) >= 0; j++) {
        int32_t k = sp->trie.token[node];
        if (k >= 0 && (found < 0 || k < found)) found = k;
    }
    return found;
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

static PyObject *result_pair(const IdObjects *io, const Buf *ids, const Buf *words) {
    PyObject *id_list = list_of_ids(io, ids);
    PyObject *word_bytes =
        id_list ? PyBytes_FromStringAndSize((const char *)words->v, words->n * (Py_ssize_t)sizeof(int32_t)) : NULL;
    PyObject *res = (id_list && word_bytes) ? PyTuple_Pack(2, id_list, word_bytes) : NULL;
    Py_XDECREF(id_list);
    Py_XDECREF(word_bytes);
    return res;
}

/* ------------------------------------------------------------------------------------------------ */
/* Buffers of numpy arrays                                                                          */
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

#endif /* SUBTOK_COMMON_H */
