/* unigram_train.c: the Unigram trainer's loops (mirrors models/unigram_train_core; tier: mirrored, but
 * for the seeds, equivalent by test).
 *
 *   ut_valid          <-> unigram_train_core.valid_piece
 *   ut_seed_heap      <-> seed_substrings: the same candidates, counts and order, found from the sorted
 *                         suffixes of the words (compared over max_len + 1 code points) and their lcp
 *                         intervals instead of by counting every substring
 *   ut_lattice        <-> TrainTable.lattice
 *   ut_best_path      <-> best_path
 *   ut_marginals      <-> _word_marginals (the same sums in the same order: the same bits)
 *   ut_digamma        <-> digamma
 *   ut_prune          <-> prune
 *   TrainingCorpus    <-> TrainingCorpus: seed, estep, em_round, viterbi_counts, prune, model; the words
 *                         and the model live here; the lattice loops run over threads without the GIL,
 *                         and expected counts are integers (units of 2**-32), so the thread count
 *                         changes nothing
 *
 * Pieces sit in common.h's code-point trie (CpTrie).
 */

#define UT_ANY 0
#define UT_SPACE 1
#define UT_FORBIDDEN 2
#define UT_INHERITED 3
#define UT_DIGIT (1 << 20)
#define UT_FIXED 4294967296.0
#define UT_EXPECTED_MIN 0.5
#define UT_UNK_PENALTY 10.0
#define UT_END 0xFFFFFFFFu /* after each word in a corpus buffer */

typedef struct {
    int max_len, split_ws, suffix, split_digits, by_script;
} PieceRules;

typedef struct {
    uint32_t *keys; /* code point + 1; 0: empty */
    int32_t *vals;
    size_t mask;
} ClassMap;

static int32_t ut_class(const ClassMap *m, uint32_t c) {
    size_t i = mix64(c) & m->mask;
    while (m->keys[i]) {
        if (m->keys[i] == c + 1) return m->vals[i];
        i = (i + 1) & m->mask;
    }
    return UT_FORBIDDEN;
}

static int ut_class_map(PyObject *dict, ClassMap *m) {
    size_t cap = 16;
    while (cap < 2 * (size_t)PyDict_GET_SIZE(dict) + 2) cap *= 2;
    m->keys = calloc(cap, sizeof(uint32_t));
    m->vals = malloc(cap * sizeof(int32_t));
    m->mask = cap - 1;
    if (!m->keys || !m->vals) return PyErr_NoMemory(), -1;
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(dict, &pos, &k, &v)) {
        if (!PyUnicode_Check(k) || PyUnicode_GET_LENGTH(k) != 1 || !PyLong_Check(v)) {
            PyErr_SetString(PyExc_TypeError, "classes must map single characters to integers");
            return -1;
        }
        uint32_t c = PyUnicode_READ_CHAR(k, 0);
        long cls = PyLong_AsLong(v);
        if (cls == -1 && PyErr_Occurred()) return -1;
        size_t i = mix64(c) & m->mask;
        while (m->keys[i] && m->keys[i] != c + 1) i = (i + 1) & m->mask;
        m->keys[i] = c + 1;
        m->vals[i] = (int32_t)cls;
    }
    return 0;
}

/* ut_valid <-> valid_piece: the n code points at s, their classes from the map */
static int ut_valid(const uint32_t *s, Py_ssize_t n, const ClassMap *m, const PieceRules *r) {
    if (n <= 0 || n > r->max_len) return 0;
    int32_t prev = UT_ANY;
    for (Py_ssize_t pos = 0; pos < n; pos++) {
        int32_t k = ut_class(m, s[pos]), script = k & (UT_DIGIT - 1);
        if (script == UT_FORBIDDEN) return 0;
        if (script == UT_SPACE) {
            if (r->suffix) {
                if (pos < n - 1 && (r->split_ws || pos == 0)) return 0;
            } else if (pos > 0 && (r->split_ws || pos == n - 1))
                return 0;
            continue;
        }
        if ((k & UT_DIGIT) && r->split_digits && n > 1) return 0;
        if (script == UT_INHERITED) script = prev;
        if (r->by_script && script != UT_ANY && prev != UT_ANY && prev != script) return 0;
        prev = script;
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------------ */
/* Seeds                                                                                            */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    const uint32_t *text;
    int lim; /* max_len + 1 */
} SuffixOrder;

/* the order of two suffixes over at most lim code points; a word's end sorts first */
static int ut_suffix_cmp(const SuffixOrder *o, int32_t a, int32_t b) {
    for (int k = 0; k < o->lim; k++) {
        uint32_t x = o->text[a + k], y = o->text[b + k];
        if (x == y) {
            if (x == UT_END) return 0;
            continue;
        }
        if (x == UT_END) return -1;
        if (y == UT_END) return 1;
        return x < y ? -1 : 1;
    }
    return 0;
}

static int ut_lcp(const SuffixOrder *o, int32_t a, int32_t b) {
    int k = 0;
    while (k < o->lim && o->text[a + k] == o->text[b + k] && o->text[a + k] != UT_END) k++;
    return k;
}

static void ut_sort_suffixes(const SuffixOrder *o, int32_t *v, int32_t *tmp, Py_ssize_t n) {
    for (Py_ssize_t width = 1; width < n; width *= 2) { /* bottom-up merge sort: stable, O(n log n) */
        for (Py_ssize_t lo = 0; lo < n; lo += 2 * width) {
            Py_ssize_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            Py_ssize_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = ut_suffix_cmp(o, v[j], v[i]) < 0 ? v[j++] : v[i++];
            while (i < mid) tmp[k++] = v[i++];
            while (j < hi) tmp[k++] = v[j++];
        }
        memcpy(v, tmp, (size_t)n * sizeof(int32_t));
    }
}

typedef struct {
    int64_t score, occ;
    int32_t pos, len;
} SeedCand;

/* whether a is a worse seed than b: a smaller score, or the same and a larger string */
static int ut_worse(const uint32_t *text, const SeedCand *a, const SeedCand *b) {
    if (a->score != b->score) return a->score < b->score;
    int n = a->len < b->len ? a->len : b->len;
    for (int k = 0; k < n; k++)
        if (text[a->pos + k] != text[b->pos + k]) return text[a->pos + k] > text[b->pos + k];
    return a->len > b->len;
}

typedef struct {
    SeedCand *v;
    Py_ssize_t n, cap, limit;
    const uint32_t *text;
} SeedHeap; /* the limit best so far; the root is the worst of them */

static void ut_heap_down(SeedHeap *h, Py_ssize_t i) {
    for (;;) {
        Py_ssize_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && ut_worse(h->text, &h->v[l], &h->v[m])) m = l;
        if (r < h->n && ut_worse(h->text, &h->v[r], &h->v[m])) m = r;
        if (m == i) return;
        SeedCand t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
}

static int ut_heap_offer(SeedHeap *h, SeedCand c) {
    if (h->n < h->limit) {
        if (h->n == h->cap) {
            Py_ssize_t cap = h->cap ? 2 * h->cap : 1024;
            SeedCand *v = realloc(h->v, (size_t)cap * sizeof(SeedCand));
            if (!v) return -1;
            h->v = v, h->cap = cap;
        }
        Py_ssize_t i = h->n++;
        h->v[i] = c;
        while (i > 0 && ut_worse(h->text, &h->v[i], &h->v[(i - 1) / 2])) {
            SeedCand t = h->v[i];
            h->v[i] = h->v[(i - 1) / 2];
            h->v[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (h->n && ut_worse(h->text, &h->v[0], &c)) {
        h->v[0] = c;
        ut_heap_down(h, 0);
    }
    return 0;
}

/* the words' code points back to back, each followed by UT_END; returns the buffer's length or -1 */
static Py_ssize_t ut_words_buffer(PyObject *words, uint32_t **out, Py_ssize_t **starts) {
    Py_ssize_t n = PyList_GET_SIZE(words), total = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *w = PyList_GET_ITEM(words, k);
        if (!PyUnicode_Check(w)) return PyErr_SetString(PyExc_TypeError, "words must be str"), -1;
        total += PyUnicode_GET_LENGTH(w) + 1;
    }
    if (total >= INT32_MAX) return PyErr_SetString(PyExc_ValueError, "the words are too long in all"), -1;
    uint32_t *buf = malloc((size_t)(total + 1) * sizeof(uint32_t));
    Py_ssize_t *st = malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    if (!buf || !st) return free(buf), free(st), PyErr_NoMemory(), -1;
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *w = PyList_GET_ITEM(words, k);
        int kind = PyUnicode_KIND(w);
        const void *data = PyUnicode_DATA(w);
        st[k] = at;
        for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(w); i++) buf[at++] = PyUnicode_READ(kind, data, i);
        buf[at++] = UT_END;
    }
    st[n] = at;
    buf[at] = UT_END;
    *out = buf, *starts = st;
    return at;
}

static int ut_counts(PyObject *counts, Py_ssize_t n, int64_t **out) {
    if (!PyList_Check(counts) || PyList_GET_SIZE(counts) != n)
        return PyErr_SetString(PyExc_ValueError, "counts must be a list as long as words"), -1;
    int64_t *c = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    if (!c) return PyErr_NoMemory(), -1;
    for (Py_ssize_t k = 0; k < n; k++) {
        c[k] = PyLong_AsLongLong(PyList_GET_ITEM(counts, k));
        if (c[k] == -1 && PyErr_Occurred()) return free(c), -1;
        if (c[k] < 1 || c[k] > ((int64_t)1 << 52)) {
            free(c);
            return PyErr_SetString(PyExc_ValueError, "a word count must be between 1 and 2**52"), -1;
        }
    }
    *out = c;
    return 0;
}

/* the count of the word text position p is in */
static int64_t ut_word_count(const Py_ssize_t *starts, const int64_t *wcount, Py_ssize_t n_words, int32_t p) {
    Py_ssize_t lo = 0, hi = n_words;
    while (hi - lo > 1) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (starts[mid] <= p) lo = mid;
        else hi = mid;
    }
    return wcount[lo];
}

/* ut_seed_heap <-> unigram_train_core.seed_substrings over a corpus's buffers: the best candidates in
 * heap->v, best first (heap->n of them); -1 when out of memory */
static int ut_seed_heap(const uint32_t *text, const Py_ssize_t *starts, const int64_t *wcount, Py_ssize_t n_words,
                        const ClassMap *cmap, const PieceRules *r, int64_t min_count, SeedHeap *heap) {
    Py_ssize_t size = starts[n_words];
    int32_t *sa = malloc((size_t)(size + 1) * sizeof(int32_t)), *tmp = malloc((size_t)(size + 1) * sizeof(int32_t));
    uint16_t *lcp = NULL;
    int ok = 0;
    if (!sa || !tmp) goto done;
    Py_ssize_t m = 0; /* suffixes that may start a piece */
    for (Py_ssize_t w = 0; w < n_words; w++)
        for (Py_ssize_t p = starts[w]; p < starts[w + 1] - 1; p++)
            if ((ut_class(cmap, text[p]) & (UT_DIGIT - 1)) != UT_FORBIDDEN) sa[m++] = (int32_t)p;
    SuffixOrder o = {text, r->max_len + 1};
    ut_sort_suffixes(&o, sa, tmp, m);
    free(tmp), tmp = NULL;
    lcp = malloc((size_t)(m + 1) * sizeof(uint16_t)); /* lcp[k]: of suffixes k-1 and k (0 at both ends) */
    if (!lcp) goto done;
    lcp[0] = lcp[m] = 0;
    for (Py_ssize_t k = 1; k < m; k++) lcp[k] = (uint16_t)ut_lcp(&o, sa[k - 1], sa[k]);
    heap->text = text;
    /* each candidate: a suffix's prefix of length d that all its occurrences share and no longer string
     * does (an lcp interval's depth, or a suffix that ends its word alone). An interval's occurrences are
     * its suffixes' word counts, gathered as the intervals close (bottom-up over the lcp array). */
    struct {
        int32_t lcp, lb;
        int64_t occ;
    } stack[520];
    int top = 0;
    stack[0].lcp = 0, stack[0].lb = 0, stack[0].occ = 0;
    for (Py_ssize_t k = 1; k <= m; k++) {
        int32_t l = lcp[k], lb = (int32_t)(k - 1);
        int64_t carry = ut_word_count(starts, wcount, n_words, sa[k - 1]);
        while (l < stack[top].lcp) {
            int32_t d = stack[top].lcp, b = stack[top].lb;
            int64_t occ = stack[top].occ + carry;
            top--;
            if (d >= 2 && d <= r->max_len && occ >= min_count && ut_valid(text + sa[b], d, cmap, r) &&
                ut_heap_offer(heap, (SeedCand){occ * d, occ, sa[b], d}) < 0)
                goto done;
            carry = occ;
            lb = b;
        }
        if (l > stack[top].lcp) {
            top++;
            stack[top].lcp = l, stack[top].lb = lb, stack[top].occ = carry;
        } else
            stack[top].occ += carry;
    }
    for (Py_ssize_t k = 0; k < m; k++) {
        int32_t len = 0;
        while (len <= r->max_len && text[sa[k] + len] != UT_END) len++;
        if (len <= lcp[k] || len <= lcp[k + 1] || len < 2 || len > r->max_len) continue;
        int64_t occ = ut_word_count(starts, wcount, n_words, sa[k]);
        if (occ >= min_count && ut_valid(text + sa[k], len, cmap, r) &&
            ut_heap_offer(heap, (SeedCand){occ * len, occ, sa[k], len}) < 0)
            goto done;
    }
    /* best first: pop the worst into the last free slot */
    Py_ssize_t count = heap->n;
    for (Py_ssize_t k = heap->n - 1; k > 0; k--) {
        SeedCand t = heap->v[0];
        heap->v[0] = heap->v[k];
        heap->v[k] = t;
        heap->n = k;
        ut_heap_down(heap, 0);
    }
    heap->n = count;
    ok = 1;
done:
    free(sa), free(tmp), free(lcp);
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------------ */
/* The training lattice                                                                             */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    CpTrie trie;
    double *score;
    Py_ssize_t n;
    double unk_score;
} TrainTable;

static void ut_table_free(TrainTable *t) {
    cptrie_free(&t->trie);
    free(t->score);
    memset(t, 0, sizeof *t);
}

/* ut_table_make <-> TrainTable(pieces, scores): the n pieces ptext[pstart[k] .. pstart[k+1]) */
static int ut_table_make(TrainTable *t, const uint32_t *ptext, const Py_ssize_t *pstart, const double *pscore,
                         Py_ssize_t n) {
    memset(t, 0, sizeof *t);
    t->n = n;
    t->score = malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!t->score) return -1;
    double low = 0.0;
    for (Py_ssize_t k = 0; k < n; k++) {
        t->score[k] = pscore[k];
        if (!k || pscore[k] < low) low = pscore[k];
    }
    t->unk_score = low - UT_UNK_PENALTY;
    for (Py_ssize_t k = 0; k < n; k++)
        if (cptrie_add(&t->trie, ptext + pstart[k], pstart[k + 1] - pstart[k], (int32_t)k) < 0) return -1;
    return cptrie_finish(&t->trie, 0);
}

typedef struct {
    int32_t *start, *end, *id; /* nodes by start, shortest first */
    double *score;
    int32_t *first;                 /* per start: its first node; first[n]: the node count */
    int32_t *by_end, *by_end_first; /* node indices by end, start ascending */
    double *alpha, *beta;
    int32_t *back_start, *back_id;
    size_t cap_nodes, cap_pos;
} UtScratch;

static void ut_scratch_free(UtScratch *s) {
    free(s->start), free(s->end), free(s->id), free(s->score), free(s->first), free(s->by_end);
    free(s->by_end_first), free(s->alpha), free(s->beta), free(s->back_start), free(s->back_id);
    memset(s, 0, sizeof *s);
}

static int ut_grow_nodes(UtScratch *s, size_t need) {
    if (need <= s->cap_nodes) return 0;
    size_t cap = s->cap_nodes ? s->cap_nodes : 256;
    while (cap < need) cap *= 2;
    int32_t *a = realloc(s->start, cap * sizeof(int32_t));
    if (a) s->start = a;
    int32_t *b = realloc(s->end, cap * sizeof(int32_t));
    if (b) s->end = b;
    int32_t *c = realloc(s->id, cap * sizeof(int32_t));
    if (c) s->id = c;
    double *d = realloc(s->score, cap * sizeof(double));
    if (d) s->score = d;
    int32_t *e = realloc(s->by_end, cap * sizeof(int32_t));
    if (e) s->by_end = e;
    if (!a || !b || !c || !d || !e) return -1;
    s->cap_nodes = cap;
    return 0;
}

static int ut_grow_pos(UtScratch *s, size_t n) {
    if (n + 2 <= s->cap_pos) return 0;
    size_t cap = s->cap_pos ? s->cap_pos : 256;
    while (cap < n + 2) cap *= 2;
    int32_t *f = realloc(s->first, cap * sizeof(int32_t));
    if (f) s->first = f;
    int32_t *g = realloc(s->by_end_first, cap * sizeof(int32_t));
    if (g) s->by_end_first = g;
    double *a = realloc(s->alpha, cap * sizeof(double));
    if (a) s->alpha = a;
    double *b = realloc(s->beta, cap * sizeof(double));
    if (b) s->beta = b;
    int32_t *c = realloc(s->back_start, cap * sizeof(int32_t));
    if (c) s->back_start = c;
    int32_t *d = realloc(s->back_id, cap * sizeof(int32_t));
    if (d) s->back_id = d;
    if (!f || !g || !a || !b || !c || !d) return -1;
    s->cap_pos = cap;
    return 0;
}

/* ut_lattice <-> TrainTable.lattice: the nodes of text[0..n), without piece skip; -1 when out of memory */
static int ut_lattice(const TrainTable *t, const uint32_t *text, int32_t n, int32_t skip, UtScratch *s) {
    if (ut_grow_pos(s, (size_t)n) < 0) return -1;
    size_t count = 0;
    for (int32_t start = 0; start < n; start++) {
        s->first[start] = (int32_t)count;
        int32_t node = 0;
        for (int32_t end = start + 1; end <= n; end++) {
            node = cptrie_step(&t->trie, node, text[end - 1]);
            if (node < 0) break;
            int32_t tok = t->trie.token[node];
            if (tok < 0 || tok == skip) continue;
            if (ut_grow_nodes(s, count + 2) < 0) return -1;
            s->start[count] = start, s->end[count] = end, s->id[count] = tok, s->score[count] = t->score[tok];
            count++;
        }
        size_t f = (size_t)s->first[start];
        if (count == f || s->end[f] != start + 1) { /* an unknown node first */
            if (ut_grow_nodes(s, count + 2) < 0) return -1;
            for (size_t k = count; k > f; k--) {
                s->start[k] = s->start[k - 1], s->end[k] = s->end[k - 1];
                s->id[k] = s->id[k - 1], s->score[k] = s->score[k - 1];
            }
            s->start[f] = start, s->end[f] = start + 1, s->id[f] = -1, s->score[f] = t->unk_score;
            count++;
        }
    }
    s->first[n] = (int32_t)count;
    return 0;
}

/* ut_best_path <-> best_path: the best path's score; its nodes back from the end in back_start/back_id */
static double ut_best_path(const UtScratch *s, int32_t n) {
    double *best = s->alpha;
    best[0] = 0.0;
    for (int32_t p = 1; p <= n; p++) best[p] = -INFINITY, s->back_start[p] = -1;
    for (int32_t k = 0; k < s->first[n]; k++) {
        double cand = best[s->start[k]] + s->score[k];
        int32_t e = s->end[k];
        if (s->back_start[e] < 0 || cand > best[e]) {
            best[e] = cand;
            s->back_start[e] = s->start[k];
            s->back_id[e] = s->id[k];
        }
    }
    return best[n];
}

/* ut_marginals <-> _word_marginals: add freq x each node's marginal to expected (units of 1/FIXED, rounded
 * half up) and return the log marginal likelihood; each log-sum-exp as unigram_core.logsumexp (first largest, then a
 * left-to-right sum) */
static double ut_marginals(const UtScratch *s, int32_t n, int64_t freq, int64_t *expected) {
    int32_t count = s->first[n];
    /* nodes by end, start ascending (a stable counting sort) */
    for (int32_t p = 0; p <= n + 1; p++) s->by_end_first[p] = 0;
    for (int32_t k = 0; k < count; k++) s->by_end_first[s->end[k] + 1]++;
    for (int32_t p = 1; p <= n + 1; p++) s->by_end_first[p] += s->by_end_first[p - 1];
    for (int32_t k = 0; k < count; k++) s->by_end[s->by_end_first[s->end[k]]++] = k;
    for (int32_t p = n + 1; p > 0; p--) s->by_end_first[p] = s->by_end_first[p - 1];
    s->by_end_first[0] = 0;
    double *alpha = s->alpha, *beta = s->beta;
    alpha[0] = 0.0;
    for (int32_t p = 1; p <= n; p++) {
        double top = -INFINITY, acc = 0.0;
        for (int32_t j = s->by_end_first[p]; j < s->by_end_first[p + 1]; j++) {
            int32_t k = s->by_end[j];
            double v = alpha[s->start[k]] + s->score[k];
            if (v > top) top = v;
        }
        if (top == -INFINITY) {
            alpha[p] = top;
            continue;
        }
        for (int32_t j = s->by_end_first[p]; j < s->by_end_first[p + 1]; j++) {
            int32_t k = s->by_end[j];
            acc += exp(alpha[s->start[k]] + s->score[k] - top);
        }
        alpha[p] = top + log(acc);
    }
    beta[n] = 0.0;
    for (int32_t start = n - 1; start >= 0; start--) {
        double top = -INFINITY, acc = 0.0;
        for (int32_t k = s->first[start]; k < s->first[start + 1]; k++) {
            double v = s->score[k] + beta[s->end[k]];
            if (v > top) top = v;
        }
        if (top == -INFINITY) {
            beta[start] = top;
            continue;
        }
        for (int32_t k = s->first[start]; k < s->first[start + 1]; k++) acc += exp(s->score[k] + beta[s->end[k]] - top);
        beta[start] = top + log(acc);
    }
    double z = alpha[n];
    for (int32_t k = 0; k < count; k++)
        if (s->id[k] >= 0)
            expected[s->id[k]] +=
                (int64_t)floor((double)freq * exp(alpha[s->start[k]] + s->score[k] + beta[s->end[k]] - z) * UT_FIXED + 0.5);
    return z;
}

/* ------------------------------------------------------------------------------------------------ */
/* TrainingCorpus                                                                                   */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    PyObject_HEAD
    uint32_t *text;     /* the words, each followed by UT_END */
    Py_ssize_t *starts; /* word k: text[starts[k] .. starts[k+1] - 1) */
    int64_t *counts, all_words;
    Py_ssize_t n_words;
    uint32_t *ptext;     /* the model: piece k is ptext[pstart[k] .. pstart[k+1]) */
    Py_ssize_t *pstart;
    double *pscore;
    Py_ssize_t n_pieces;
} TrainingCorpusObject;

static void tc_dealloc(TrainingCorpusObject *c) {
    free(c->text), free(c->starts), free(c->counts), free(c->ptext), free(c->pstart), free(c->pscore);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyObject *tc_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *words, *counts;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &words, &counts)) return NULL;
    TrainingCorpusObject *c = (TrainingCorpusObject *)type->tp_alloc(type, 0);
    if (!c) return NULL;
    c->n_words = PyList_GET_SIZE(words);
    if (ut_words_buffer(words, &c->text, &c->starts) < 0 || ut_counts(counts, c->n_words, &c->counts) < 0 ||
        !(c->pstart = calloc(1, sizeof(Py_ssize_t)))) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        Py_DECREF(c);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < c->n_words; k++) c->all_words += c->counts[k];
    return (PyObject *)c;
}

static Py_ssize_t tc_len(TrainingCorpusObject *c) { return c->n_pieces; }

/* keep the pieces whose keep[k] is set, in order, with new_score[k] when given */
static void tc_compact(TrainingCorpusObject *c, const char *keep, const double *new_score) {
    Py_ssize_t out = 0, at = 0;
    for (Py_ssize_t k = 0; k < c->n_pieces; k++) {
        if (!keep[k]) continue;
        Py_ssize_t len = c->pstart[k + 1] - c->pstart[k];
        memmove(c->ptext + at, c->ptext + c->pstart[k], (size_t)len * sizeof(uint32_t));
        c->pscore[out] = new_score ? new_score[k] : c->pscore[k];
        c->pstart[out] = at;
        at += len;
        out++;
    }
    c->pstart[out] = at;
    c->n_pieces = out;
}

/* seed(chars, classes, rules, min_count, limit) <-> TrainingCorpus.seed */
static PyObject *tc_seed(TrainingCorpusObject *c, PyObject *args) {
    PyObject *chars, *classes, *out = NULL;
    long long min_count;
    Py_ssize_t limit;
    PieceRules r;
    if (!PyArg_ParseTuple(args, "O!O!(iiiii)Ln", &PyList_Type, &chars, &PyDict_Type, &classes, &r.max_len, &r.split_ws,
                          &r.suffix, &r.split_digits, &r.by_script, &min_count, &limit))
        return NULL;
    if (r.max_len < 1 || r.max_len > 512 || limit < 0)
        return PyErr_SetString(PyExc_ValueError, "max_len must be in [1, 512] and limit at least 0"), NULL;
    ClassMap cmap = {0};
    SeedHeap heap = {.limit = limit};
    Py_ssize_t n_chars = PyList_GET_SIZE(chars);
    int64_t *value = NULL;
    if (ut_class_map(classes, &cmap) < 0) goto done;
    if (ut_seed_heap(c->text, c->starts, c->counts, c->n_words, &cmap, &r, min_count, &heap) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t n = n_chars + heap.n, total_len = n_chars;
    for (Py_ssize_t k = 0; k < heap.n; k++) total_len += heap.v[k].len;
    uint32_t *ptext = malloc((size_t)(total_len + 1) * sizeof(uint32_t));
    Py_ssize_t *pstart = malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    double *pscore = malloc((size_t)(n ? n : 1) * sizeof(double));
    value = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    if (!ptext || !pstart || !pscore || !value) {
        PyErr_NoMemory();
        goto fail;
    }
    pstart[0] = 0;
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < n_chars; k++) {
        PyObject *item = PyList_GET_ITEM(chars, k), *ch;
        long long count;
        if (!PyArg_ParseTuple(item, "UL", &ch, &count) || PyUnicode_GET_LENGTH(ch) != 1 || count < 1) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "chars must be (character, count >= 1) pairs");
            goto fail;
        }
        ptext[at++] = PyUnicode_READ_CHAR(ch, 0);
        pstart[k + 1] = at;
        value[k] = count;
    }
    for (Py_ssize_t k = 0; k < heap.n; k++) {
        const SeedCand *s = &heap.v[k];
        memcpy(ptext + at, c->text + s->pos, (size_t)s->len * sizeof(uint32_t));
        at += s->len;
        pstart[n_chars + k + 1] = at;
        value[n_chars + k] = s->occ * s->len;
    }
    int64_t sum = 0;
    for (Py_ssize_t k = 0; k < n; k++) sum += value[k];
    double logsum = n ? log((double)sum) : 0.0;
    for (Py_ssize_t k = 0; k < n; k++) pscore[k] = log((double)value[k]) - logsum;
    free(c->ptext), free(c->pstart), free(c->pscore);
    c->ptext = ptext, c->pstart = pstart, c->pscore = pscore, c->n_pieces = n;
    out = Py_NewRef(Py_None);
    goto done;
fail:
    free(ptext), free(pstart), free(pscore);
done:
    free(cmap.keys), free(cmap.vals), free(heap.v), free(value);
    return out;
}

/* model() <-> TrainingCorpus.model */
static PyObject *tc_model(TrainingCorpusObject *c, PyObject *unused) {
    PyObject *pieces = PyList_New(c->n_pieces), *scores = PyList_New(c->n_pieces);
    for (Py_ssize_t k = 0; pieces && scores && k < c->n_pieces; k++) {
        PyObject *p = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, c->ptext + c->pstart[k],
                                                c->pstart[k + 1] - c->pstart[k]);
        PyObject *s = PyFloat_FromDouble(c->pscore[k]);
        if (!p || !s) {
            Py_XDECREF(p), Py_XDECREF(s);
            Py_CLEAR(pieces);
            break;
        }
        PyList_SET_ITEM(pieces, k, p);
        PyList_SET_ITEM(scores, k, s);
    }
    if (!pieces || !scores) {
        Py_XDECREF(pieces), Py_XDECREF(scores);
        return NULL;
    }
    return Py_BuildValue("(NN)", pieces, scores);
}

enum { TC_ESTEP, TC_VITERBI };

typedef struct {
    const TrainingCorpusObject *corpus;
    const TrainTable *table;
    int task;
    atomic_size_t next;
    atomic_int failed;
    double *z;      /* per word: its log marginal (E-step) */
    int64_t **sums; /* per worker: per piece */
    int64_t *tokens; /* per worker */
} TcJob;

typedef struct {
    TcJob *job;
    int index;
} TcWorker;

#define TC_CHUNK 64

static void tc_work(TcWorker *w) {
    TcJob *j = w->job;
    const TrainingCorpusObject *c = j->corpus;
    UtScratch s = {0};
    int64_t *sums = j->sums[w->index];
    int64_t tokens = 0;
    for (;;) {
        size_t first = atomic_fetch_add(&j->next, TC_CHUNK);
        if ((Py_ssize_t)first >= c->n_words || atomic_load(&j->failed)) break;
        Py_ssize_t last = (Py_ssize_t)first + TC_CHUNK < c->n_words ? (Py_ssize_t)first + TC_CHUNK : c->n_words;
        for (Py_ssize_t k = (Py_ssize_t)first; k < last; k++) {
            const uint32_t *word = c->text + c->starts[k];
            int32_t n = (int32_t)(c->starts[k + 1] - 1 - c->starts[k]);
            if (ut_lattice(j->table, word, n, -1, &s) < 0) {
                atomic_store(&j->failed, 1);
                break;
            }
            if (j->task == TC_ESTEP) {
                j->z[k] = ut_marginals(&s, n, c->counts[k], sums);
                continue;
            }
            ut_best_path(&s, n);
            for (int32_t e = n; e > 0; e = s.back_start[e]) {
                tokens += c->counts[k];
                if (s.back_id[e] >= 0) sums[s.back_id[e]] += c->counts[k];
            }
        }
    }
    j->tokens[w->index] = tokens;
    ut_scratch_free(&s);
}

#if SUBTOK_THREADS
static void *tc_thread(void *arg) {
    tc_work(arg);
    return NULL;
}
#endif

/* run the job's task over the corpus with the model on num_threads threads (GIL released); sums[0] gets
 * the per-piece totals, tokens[0] the tokens; -1 with an exception set on failure */
static int tc_run(TrainingCorpusObject *c, TcJob *j, TrainTable *t, int task, int num_threads) {
    if (num_threads < 1) num_threads = 1;
    if (num_threads > 64) num_threads = 64;
    *j = (TcJob){.corpus = c, .table = t, .task = task};
    j->z = task == TC_ESTEP ? malloc((size_t)(c->n_words ? c->n_words : 1) * sizeof(double)) : NULL;
    j->sums = calloc((size_t)num_threads, sizeof(int64_t *));
    j->tokens = calloc((size_t)num_threads, sizeof(int64_t));
    TcWorker workers[64];
    int ok = (j->z || task != TC_ESTEP) && j->sums && j->tokens &&
             ut_table_make(t, c->ptext, c->pstart, c->pscore, c->n_pieces) == 0;
    for (int k = 0; ok && k < num_threads; k++) {
        j->sums[k] = calloc((size_t)(c->n_pieces ? c->n_pieces : 1), sizeof(int64_t));
        ok = j->sums[k] != NULL;
        workers[k] = (TcWorker){j, k};
    }
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        int started = 0;
#if SUBTOK_THREADS
        pthread_t tids[64];
        for (int k = 1; k < num_threads; k++, started++)
            if (pthread_create(&tids[k - 1], NULL, tc_thread, &workers[k]) != 0) break;
#endif
        tc_work(&workers[0]);
#if SUBTOK_THREADS
        for (int k = 0; k < started; k++) pthread_join(tids[k], NULL);
#endif
        for (int k = 1; k <= started; k++) {
            for (Py_ssize_t i = 0; i < c->n_pieces; i++) j->sums[0][i] += j->sums[k][i];
            j->tokens[0] += j->tokens[k];
        }
        Py_END_ALLOW_THREADS
        ok = !atomic_load(&j->failed);
    }
    for (int k = 1; j->sums && k < num_threads; k++) free(j->sums[k]);
    if (!ok) PyErr_NoMemory();
    return ok ? 0 : -1;
}

static void tc_job_free(TcJob *j, TrainTable *t) {
    if (j->sums) free(j->sums[0]);
    free(j->sums), free(j->tokens), free(j->z);
    ut_table_free(t);
}

/* the corpus's log-likelihood from an E-step's per-word log marginals, summed in word order */
static double tc_loglik(const TrainingCorpusObject *c, const TcJob *j) {
    double sum = 0.0;
    for (Py_ssize_t k = 0; k < c->n_words; k++) sum += (double)c->counts[k] * j->z[k];
    return sum;
}

static PyObject *tc_int_list(const int64_t *v, Py_ssize_t n) {
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; list && i < n; i++) {
        PyObject *x = PyLong_FromLongLong(v[i]);
        if (!x) Py_CLEAR(list);
        else PyList_SET_ITEM(list, i, x);
    }
    return list;
}

/* estep(num_threads) <-> TrainingCorpus.estep */
static PyObject *tc_estep(TrainingCorpusObject *c, PyObject *args) {
    int num_threads = 1;
    TcJob j;
    TrainTable t = {0};
    PyObject *out = NULL;
    if (!PyArg_ParseTuple(args, "|i", &num_threads)) return NULL;
    if (tc_run(c, &j, &t, TC_ESTEP, num_threads) == 0) out = Py_BuildValue("(Nd)", tc_int_list(j.sums[0], c->n_pieces), tc_loglik(c, &j));
    tc_job_free(&j, &t);
    return out;
}

/* ut_digamma <-> digamma */
static double ut_digamma(double x) {
    double result = 0.0;
    while (x < 7) {
        result -= 1 / x;
        x += 1;
    }
    x -= 0.5;
    double xx = 1.0 / x, xx2 = xx * xx, xx4 = xx2 * xx2;
    return result + log(x) + xx2 / 24 - 7 * xx4 / 960 + 31 * xx4 * xx2 / 8064 - 127 * xx4 * xx4 / 30720;
}

/* em_round(num_threads) <-> TrainingCorpus.em_round */
static PyObject *tc_em_round(TrainingCorpusObject *c, PyObject *args) {
    int num_threads = 1;
    TcJob j;
    TrainTable t = {0};
    PyObject *out = NULL;
    if (!PyArg_ParseTuple(args, "|i", &num_threads)) return NULL;
    char *keep = NULL;
    double *score = NULL;
    int ran = tc_run(c, &j, &t, TC_ESTEP, num_threads) == 0;
    ut_table_free(&t); /* (before the M-step's arrays: the peak is the E-step's) */
    if (ran && (!(keep = malloc((size_t)(c->n_pieces ? c->n_pieces : 1))) ||
                !(score = malloc((size_t)(c->n_pieces ? c->n_pieces : 1) * sizeof(double)))))
        PyErr_NoMemory();
    else if (ran) {
        const int64_t *e = j.sums[0];
        int64_t total = 0;
        for (Py_ssize_t i = 0; i < c->n_pieces; i++) {
            keep[i] = (double)e[i] / UT_FIXED >= UT_EXPECTED_MIN;
            if (keep[i]) total += e[i];
        }
        double logsum = total ? ut_digamma((double)total / UT_FIXED) : 0.0;
        for (Py_ssize_t i = 0; i < c->n_pieces; i++)
            if (keep[i]) score[i] = ut_digamma((double)e[i] / UT_FIXED) - logsum;
        double loglik = tc_loglik(c, &j);
        tc_compact(c, keep, score);
        out = PyFloat_FromDouble(loglik);
    }
    tc_job_free(&j, &t);
    free(keep), free(score);
    return out;
}

/* viterbi_counts(num_threads) <-> TrainingCorpus.viterbi_counts */
static PyObject *tc_viterbi_counts(TrainingCorpusObject *c, PyObject *args) {
    int num_threads = 1;
    TcJob j;
    TrainTable t = {0};
    PyObject *out = NULL;
    if (!PyArg_ParseTuple(args, "|i", &num_threads)) return NULL;
    if (tc_run(c, &j, &t, TC_VITERBI, num_threads) == 0)
        out = Py_BuildValue("(NL)", tc_int_list(j.sums[0], c->n_pieces), (long long)j.tokens[0]);
    tc_job_free(&j, &t);
    return out;
}

typedef struct {
    double loss; /* negated: the kept come first */
    Py_ssize_t index;
} LossIndex;

static int ut_loss_cmp(const void *a, const void *b) {
    const LossIndex *x = a, *y = b;
    if (x->loss != y->loss) return x->loss < y->loss ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* ut_prune <-> unigram_train_core.prune: keep[k] set for the pieces that stay; -1 when out of memory */
static int ut_prune(const TrainTable *t, const TrainingCorpusObject *c, const int64_t *freq, Py_ssize_t size,
                    char *keep) {
    UtScratch s = {0};
    LossIndex *losses = malloc((size_t)(t->n ? t->n : 1) * sizeof(LossIndex));
    int32_t *ids = NULL;
    int ok = 0;
    if (!losses) goto done;
    int64_t total = 0;
    for (Py_ssize_t i = 0; i < t->n; i++) total += freq[i], keep[i] = 0;
    double logsum = log((double)total);
    Py_ssize_t n_keep = 0, n_loss = 0;
    for (Py_ssize_t i = 0; i < t->n; i++) {
        if (freq[i] == 0) continue;
        int32_t len = (int32_t)(c->pstart[i + 1] - c->pstart[i]);
        if (len == 1) {
            keep[i] = 1, n_keep++;
            continue;
        }
        if (ut_lattice(t, c->ptext + c->pstart[i], len, (int32_t)i, &s) < 0) goto done;
        double alt_score = ut_best_path(&s, len);
        if (alt_score > t->score[i]) continue;
        int64_t n_alt = 0;
        for (int32_t e = len; e > 0; e = s.back_start[e]) n_alt++;
        int32_t *grown = realloc(ids, (size_t)n_alt * sizeof(int32_t));
        if (!grown) goto done;
        ids = grown;
        int64_t k = n_alt;
        for (int32_t e = len; e > 0; e = s.back_start[e]) ids[--k] = s.back_id[e];
        double logprob_sp = log((double)freq[i]) - logsum;
        double logsum_alt = log((double)(total + freq[i] * (n_alt - 1)));
        double logprob_alt = 0.0; /* the path's pieces from its start, as the reference sums them */
        for (k = 0; k < n_alt; k++) logprob_alt += log((double)((ids[k] >= 0 ? freq[ids[k]] : 0) + freq[i])) - logsum_alt;
        losses[n_loss++] = (LossIndex){-((double)freq[i] / (double)c->all_words) * (logprob_sp - logprob_alt), i};
    }
    qsort(losses, (size_t)n_loss, sizeof(LossIndex), ut_loss_cmp);
    for (Py_ssize_t k = 0; k < n_loss && n_keep < size; k++) keep[losses[k].index] = 1, n_keep++;
    ok = 1;
done:
    ut_scratch_free(&s);
    free(losses), free(ids);
    return ok ? 0 : -1;
}

/* prune(size, num_threads) <-> TrainingCorpus.prune */
static PyObject *tc_prune(TrainingCorpusObject *c, PyObject *args) {
    Py_ssize_t size;
    int num_threads = 1;
    TcJob j;
    TrainTable t = {0};
    PyObject *out = NULL;
    if (!PyArg_ParseTuple(args, "n|i", &size, &num_threads)) return NULL;
    char *keep = malloc((size_t)(c->n_pieces ? c->n_pieces : 1));
    if (!keep) return PyErr_NoMemory();
    if (tc_run(c, &j, &t, TC_VITERBI, num_threads) == 0) {
        if (ut_prune(&t, c, j.sums[0], size, keep) < 0) PyErr_NoMemory();
        else {
            tc_compact(c, keep, NULL);
            out = Py_NewRef(Py_None);
        }
    }
    tc_job_free(&j, &t);
    free(keep);
    return out;
}

static PyMethodDef tc_methods[] = {
    {"seed", (PyCFunction)tc_seed, METH_VARARGS, "The seed model (as TrainingCorpus.seed)."},
    {"model", (PyCFunction)tc_model, METH_NOARGS, "The pieces and their scores (as TrainingCorpus.model)."},
    {"estep", (PyCFunction)tc_estep, METH_VARARGS, "Expected piece counts and log-likelihood (as TrainingCorpus.estep)."},
    {"em_round", (PyCFunction)tc_em_round, METH_VARARGS, "One E-step and M-step (as TrainingCorpus.em_round)."},
    {"viterbi_counts", (PyCFunction)tc_viterbi_counts, METH_VARARGS,
     "Viterbi piece counts and tokens (as TrainingCorpus.viterbi_counts)."},
    {"prune", (PyCFunction)tc_prune, METH_VARARGS, "Shrink the model (as TrainingCorpus.prune)."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods tc_as_sequence = {.sq_length = (lenfunc)tc_len};

static PyTypeObject TrainingCorpusType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "subtok._native.TrainingCorpus",
    .tp_basicsize = sizeof(TrainingCorpusObject),
    .tp_dealloc = (destructor)tc_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Unique words, their counts and the Unigram model EM refines (unigram_train_core.TrainingCorpus).",
    .tp_methods = tc_methods,
    .tp_as_sequence = &tc_as_sequence,
    .tp_new = tc_new,
};
