/* wordpiece_encode.c: WordPiece's longest-match encoder (LinMaxMatch) and BERT's whole pipeline in one call.
 * Python twin: subtok/models/wordpiece_core.py
 *
 *   make_trie             <-> make_trie              mirrored (WordTrie; edges in one hash table keyed by
 *                                                     node and code point, where the reference has a dict
 *                                                     per node; the links' pops in one pool)
 *   longest_match         <-> longest_match          mirrored (LinMaxMatch)
 *   greedy_match          <-> greedy_match           mirrored
 *   encode_longest_match  <-> encode_longest_match   mirrored
 *   BertEncoder           <-> BertEncoder: mirrored (bert_segment <-> _encode_segment, bert_text_core <->
 *                             encode_text); both apply the BERT normalizer as its per-code-point table and
 *                             split on the character classes (the reference with the BERT pattern's regex,
 *                             equivalent by test)
 */

/* A character trie (wordpiece_core.WordTrie): node 0 is the root of a word's first token (every token,
 * spelled in full), node 1 of the tokens after it (those with the prefix, stripped). Edges live in one hash
 * table keyed by (node, code point). LinMaxMatch's links per node: fail (-1: the word is unknown) and the
 * pops, (id, length) pairs at pop_start in one pool; linked is 0 where the pops went over their budget. */
typedef struct {
    PyObject_HEAD
    uint64_t *edge_key; /* (node + 1) << 21 | code point; 0 = empty */
    int32_t *edge_child;
    size_t edge_cap;
    int32_t *token; /* token id ending at each node, -1 for none */
    int32_t *parent, *depth, *fail, *pop_start, *pop_len;
    Py_UCS4 *ch; /* the character of the edge into each node */
    int32_t *pool; /* (id, length) pairs */
    int32_t n_nodes;
    int linked;
} Trie;

static void trie_dealloc(Trie *t) {
    free(t->edge_key);
    free(t->edge_child);
    free(t->token);
    free(t->parent);
    free(t->depth);
    free(t->fail);
    free(t->pop_start);
    free(t->pop_len);
    free(t->ch);
    free(t->pool);
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

/* trie_add: the path of text[start, len) from node, made where missing; its last node gets token_id unless
 * it has one (WordTrie._add). */
static void trie_add(Trie *t, int32_t node, int kind, const void *text, Py_ssize_t start, Py_ssize_t len,
                     int32_t token_id) {
    for (Py_ssize_t k = start; k < len; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, text, k);
        int32_t child = trie_child(t, node, c);
        if (child < 0) {
            child = t->n_nodes++;
            uint64_t key = ((uint64_t)(node + 1) << 21) | c;
            size_t j = mix64(key) & (t->edge_cap - 1);
            while (t->edge_key[j]) j = (j + 1) & (t->edge_cap - 1);
            t->edge_key[j] = key;
            t->edge_child[j] = child;
            t->parent[child] = node;
            t->ch[child] = c;
            t->depth[child] = t->depth[node] + 1;
        }
        node = child;
    }
    if (t->token[node] < 0) t->token[node] = token_id;
}

/* trie_link: LinMaxMatch's links, shallow nodes first (WordTrie._link); 0 where the pops go over budget
 * (8 per node), -1 without memory. */
static int trie_link(Trie *t) {
    int32_t n = t->n_nodes, max_depth = 0;
    int32_t *order = malloc((size_t)n * sizeof(int32_t)), *count = NULL;
    size_t budget = 8 * (size_t)n, pool_n = 0;
    t->fail = malloc((size_t)n * sizeof(int32_t));
    t->pop_start = calloc((size_t)n, sizeof(int32_t));
    t->pop_len = calloc((size_t)n, sizeof(int32_t));
    t->pool = malloc(2 * budget * sizeof(int32_t) + 2 * sizeof(int32_t));
    for (int32_t v = 0; v < n; v++) max_depth = t->depth[v] > max_depth ? t->depth[v] : max_depth;
    count = calloc((size_t)max_depth + 2, sizeof(int32_t));
    if (!order || !count || !t->fail || !t->pop_start || !t->pop_len || !t->pool) {
        free(order);
        free(count);
        return -1;
    }
    for (int32_t v = 0; v < n; v++) count[t->depth[v] + 1]++; /* nodes by depth, by creation within one */
    for (int32_t d = 0; d <= max_depth; d++) count[d + 1] += count[d];
    for (int32_t v = 0; v < n; v++) order[count[t->depth[v]]++] = v;
    free(count);
    int ok = 1;
    for (int32_t k = 0; k < n && ok; k++) {
        int32_t v = order[k];
        t->fail[v] = -1;
        if (v < 2) continue;
        t->pop_start[v] = (int32_t)pool_n;
        if (t->token[v] >= 0) {
            t->fail[v] = 1;
            t->pool[2 * pool_n] = t->token[v];
            t->pool[2 * pool_n + 1] = t->depth[v];
            pool_n++;
        } else {
            int32_t u = t->parent[v], z = t->fail[u], next = -1;
            for (int32_t w = u;; w = z, z = t->fail[z]) { /* the parent's pops, then each failure's on the way */
                if (pool_n + (size_t)t->pop_len[w] > budget) {
                    ok = 0;
                    break;
                }
                memcpy(t->pool + 2 * pool_n, t->pool + 2 * (size_t)t->pop_start[w], 2 * sizeof(int32_t) * (size_t)t->pop_len[w]);
                pool_n += (size_t)t->pop_len[w];
                if (z < 0 || (next = trie_child(t, z, t->ch[v])) >= 0) break;
            }
            t->fail[v] = next;
        }
        t->pop_len[v] = (int32_t)(pool_n - (size_t)t->pop_start[v]);
        ok = ok && pool_n <= budget;
    }
    free(order);
    t->linked = ok;
    return 0;
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
        total += 2 * PyUnicode_GET_LENGTH(tok); /* in full under node 0, and perhaps stripped under node 1 */
    }
    if (total > INT32_MAX / 8) {
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
    t->parent = malloc((size_t)total * sizeof(int32_t));
    t->depth = calloc((size_t)total, sizeof(int32_t));
    t->ch = malloc((size_t)total * sizeof(Py_UCS4));
    t->fail = t->pop_start = t->pop_len = t->pool = NULL;
    t->n_nodes = 2;
    t->linked = 0;
    if (!t->edge_key || !t->edge_child || !t->token || !t->parent || !t->depth || !t->ch) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < total; i++) t->token[i] = t->parent[i] = -1;
    Py_UCS4 *pre = PyUnicode_AsUCS4Copy(prefix);
    if (!pre) {
        Py_DECREF(t);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *tok = PyList_GET_ITEM(vocab, i);
        int kind = PyUnicode_KIND(tok);
        const void *data = PyUnicode_DATA(tok);
        Py_ssize_t len = PyUnicode_GET_LENGTH(tok), k = 0;
        trie_add(t, 0, kind, data, 0, len, (int32_t)i);
        while (plen && len > plen && k < plen && PyUnicode_READ(kind, data, k) == pre[k]) k++;
        if (plen && len > plen && k == plen) trie_add(t, 1, kind, data, plen, len, (int32_t)i); /* a continuation */
    }
    PyMem_Free(pre);
    if (trie_link(t) < 0) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    return (PyObject *)t;
}

/* greedy_match: longest_match by walking the trie from each token's start (wordpiece_core.greedy_match):
 * the id and end of each token written to ids and ends (at most n each); returns their number, or 0 when
 * some position matches no token. */
static Py_ssize_t greedy_match(const Trie *trie, const Py_UCS4 *cp, Py_ssize_t n, int32_t *ids, int32_t *ends) {
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

/* trie_pop: the pops of *node appended (ids, ends, *m; *end the last token's end) and *node its failure;
 * 0 where it has none (the word is unknown). */
static inline int trie_pop(const Trie *trie, int32_t *node, int32_t *end, int32_t *ids, int32_t *ends, Py_ssize_t *m) {
    if (trie->fail[*node] < 0) return 0;
    const int32_t *pop = trie->pool + 2 * (size_t)trie->pop_start[*node];
    for (int32_t k = 0; k < trie->pop_len[*node]; k++) {
        *end += pop[2 * k + 1];
        ids[*m] = pop[2 * k];
        ends[(*m)++] = *end;
    }
    *node = trie->fail[*node];
    return 1;
}

/* longest_match: BERT's greedy longest-match-first over cp[0, n) by LinMaxMatch's links (each character
 * read once), else greedy_match; as greedy_match returns (wordpiece_core.longest_match). */
static Py_ssize_t longest_match(const Trie *trie, const Py_UCS4 *cp, Py_ssize_t n, int32_t *ids, int32_t *ends) {
    if (!trie->linked) return greedy_match(trie, cp, n, ids, ends);
    Py_ssize_t m = 0;
    int32_t node = 0, end = 0, child;
    for (Py_ssize_t i = 0; i < n; i++) {
        while ((child = trie_child(trie, node, cp[i])) < 0)
            if (!trie_pop(trie, &node, &end, ids, ends, &m)) return 0;
        node = child;
    }
    while (node > 1) /* the word's end: what is pending pops */
        if (!trie_pop(trie, &node, &end, ids, ends, &m)) return 0;
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
    PyObject_HEAD
    Trie *trie;
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

/* BertEncoder(trie, unk_id, max_chars, table: (table, repl) from BertNormalizer.table() or None,
 * specials: list of (str, id)) */
static PyObject *bert_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    Trie *trie;
    long unk_id;
    Py_ssize_t max_chars;
    PyObject *tables, *specials, *table = Py_None, *repl = Py_None;
    if (!PyArg_ParseTuple(args, "O!lnOO!", &TrieType, &trie, &unk_id, &max_chars, &tables, &PyList_Type, &specials))
        return NULL;
    if (tables != Py_None && (!PyTuple_Check(tables) || PyTuple_GET_SIZE(tables) != 2)) {
        PyErr_SetString(PyExc_TypeError, "the normalizer table must be None or a (table, repl) tuple of bytes");
        return NULL;
    }
    if (tables != Py_None && !PyArg_ParseTuple(tables, "SS", &table, &repl)) return NULL;
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

/* encode_text(text: str) -> (ids, offsets as int32 (start, end) pairs) */
static PyObject *bert_encode_text(BertEncoderObject *enc, PyObject *args) {
    PyObject *str;
    if (!PyArg_ParseTuple(args, "U", &str) || require_classes() < 0 || check_text(str) < 0) return NULL;
    Text t;
    text_init(&t, str);
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

/* encode_batch(texts: list[str], num_threads: int = 1) -> list of (ids, offsets) */
static PyObject *bert_encode_batch(BertEncoderObject *enc, PyObject *args) {
    return run_batch(enc, &BERT_BATCH, &enc->ids, args, BATCH_PAIRS);
}

/* encode_batch_flat(texts, num_threads=1, prefix=None, suffix=None) -> (int32 ids bytearray, int64 row starts
 * bytearray); prefix and suffix: ids around each text's (a list, or None) */
static PyObject *bert_encode_batch_flat(BertEncoderObject *enc, PyObject *args) {
    return run_batch(enc, &BERT_BATCH, &enc->ids, args, BATCH_FLAT);
}

/* encode_lines_flat(block, num_threads=1, prefix=None, suffix=None): encode_batch_flat over the lines of one
 * str (batch.c's block_lines: split at "\n" as a file's lines are), without a str per line */
static PyObject *bert_encode_lines_flat(BertEncoderObject *enc, PyObject *args) {
    return run_batch(enc, &BERT_BATCH, &enc->ids, args, BATCH_LINES);
}

/* encode_batch_ids(texts, num_threads=1) -> list of each text's ids (list[int]) */
static PyObject *bert_encode_batch_ids(BertEncoderObject *enc, PyObject *args) {
    return run_batch(enc, &BERT_BATCH, &enc->ids, args, BATCH_IDS);
}

static PyMethodDef bert_methods[] = {
    {"encode_text", (PyCFunction)bert_encode_text, METH_VARARGS, "BERT's pipeline: (ids, (start, end) per token)."},
    {"encode_batch", (PyCFunction)bert_encode_batch, METH_VARARGS,
     "encode_text of each text, spread over num_threads threads without the GIL."},
    {"encode_batch_flat", (PyCFunction)bert_encode_batch_flat, METH_VARARGS,
     "encode_batch's ids as one int32 bytearray and each text's start as an int64 bytearray (n + 1), each\n"
     "text's ids between the ids of prefix and suffix (lists, or None)."},
    {"encode_lines_flat", (PyCFunction)bert_encode_lines_flat, METH_VARARGS,
     "encode_batch_flat over the lines of one str (split at \"\\n\", as a file's lines), no str made per line."},
    {"encode_batch_ids", (PyCFunction)bert_encode_batch_ids, METH_VARARGS,
     "encode_batch's ids as a list of lists of int, no other object per text."},
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
