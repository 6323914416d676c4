/* wordpiece_encode.c: WordPiece's longest-match encoder (LinMaxMatch) and BERT's whole pipeline in one call.
 * Python twin: subtok/models/wordpiece_core.py
 *
 *   make_trie             <-> make_trie              mirrored (WordTrie; each node's edges in a small hash
 *                                                     table of its own, where the reference has a dict per
 *                                                     node; the links' pops in one pool)
 *   longest_match         <-> longest_match          mirrored (LinMaxMatch)
 *   greedy_match          <-> greedy_match           mirrored
 *   encode_longest_match  <-> encode_longest_match   mirrored
 *   BertEncoder           <-> BertEncoder: mirrored (bert_segment <-> _encode_segment, bert_text_core <->
 *                             encode_text); both apply the BERT normalizer as its per-code-point table and
 *                             split on the character classes (the reference with the BERT pattern's regex,
 *                             equivalent by test)
 */

/* A character trie (wordpiece_core.WordTrie) on common.h's CpTrie: node 0 is the root of a word's first token
 * (every token, spelled in full), node 1 of the tokens after it (those with the prefix, stripped), reached
 * from node 0 by CONTINUATION, a code point no str holds. Once built, each node's children sit in a small
 * table of its own (cptrie_finish), so a walk's steps read few cache lines, where one table of all edges
 * put every step on a line of its own. LinMaxMatch's links per node (one record: a failure reads one line):
 * fail (-1: the word is unknown) and the pops, (id, length) pairs at pop_start in one pool; linked is 0
 * where the pops went over their budget. */
#define CONTINUATION 0x110000

typedef struct {
    int32_t fail, pop_start, pop_len;
} Link;

typedef struct {
    PyObject_HEAD
    CpTrie cp; /* its values: the token id ending at each node, -1 for none */
    Link *link;
    int32_t *pool; /* (id, length) pairs */
    int linked;
} Trie;

static void trie_dealloc(Trie *t) {
    cptrie_free(&t->cp);
    free(t->link);
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

/* trie_link: LinMaxMatch's links, shallow nodes first (WordTrie._link), on the trie before cptrie_finish;
 * linked 0 where the pops go over budget (8 per node), -1 without memory. */
static int trie_link(Trie *t) {
    const CpTrie *cp = &t->cp;
    int32_t n = cp->n_nodes, max_depth = 0;
    int32_t *parent = malloc((size_t)n * sizeof(int32_t)), *depth = calloc((size_t)n, sizeof(int32_t));
    Py_UCS4 *ch = malloc((size_t)n * sizeof(Py_UCS4));
    int32_t *order = malloc((size_t)n * sizeof(int32_t)), *count = NULL;
    size_t budget = 8 * (size_t)n, pool_n = 0;
    Link *link = t->link = calloc((size_t)n, sizeof(Link));
    t->pool = malloc(2 * budget * sizeof(int32_t) + 2 * sizeof(int32_t));
    int ok = parent && depth && ch && order && link && t->pool;
    for (size_t i = 0; ok && i <= cp->mask; i++) { /* each node's parent and the character into it */
        uint64_t key = cpedge_key(&cp->edges[i]);
        if (key == UINT64_MAX) continue;
        parent[cp->edges[i].child] = (int32_t)(key >> 21);
        ch[cp->edges[i].child] = (Py_UCS4)(key & 0x1FFFFF);
    }
    for (int32_t v = 2; ok && v < n; v++) { /* a child is made after its parent: depths in id order */
        depth[v] = depth[parent[v]] + 1;
        max_depth = depth[v] > max_depth ? depth[v] : max_depth;
    }
    count = ok ? calloc((size_t)max_depth + 2, sizeof(int32_t)) : NULL;
    if (!count) {
        free(parent), free(depth), free(ch), free(order);
        return -1;
    }
    for (int32_t v = 0; v < n; v++) count[depth[v] + 1]++; /* nodes by depth, by creation within one */
    for (int32_t d = 0; d <= max_depth; d++) count[d + 1] += count[d];
    for (int32_t v = 0; v < n; v++) order[count[depth[v]]++] = v;
    free(count);
    for (int32_t k = 0; k < n && ok; k++) {
        int32_t v = order[k];
        link[v].fail = -1;
        if (v < 2) continue;
        link[v].pop_start = (int32_t)pool_n;
        if (cp->token[v] >= 0) {
            link[v].fail = 1;
            t->pool[2 * pool_n] = cp->token[v];
            t->pool[2 * pool_n + 1] = depth[v];
            pool_n++;
        } else {
            int32_t u = parent[v], z = link[u].fail, next = -1;
            for (int32_t w = u;; w = z, z = link[z].fail) { /* the parent's pops, then each failure's on the way */
                if (pool_n + (size_t)link[w].pop_len > budget) {
                    ok = 0;
                    break;
                }
                memcpy(t->pool + 2 * pool_n, t->pool + 2 * (size_t)link[w].pop_start, 2 * sizeof(int32_t) * (size_t)link[w].pop_len);
                pool_n += (size_t)link[w].pop_len;
                if (z < 0 || (next = cptrie_next(cp, z, ch[v])) >= 0) break;
            }
            link[v].fail = next;
        }
        link[v].pop_len = (int32_t)(pool_n - (size_t)link[v].pop_start);
        ok = ok && pool_n <= budget;
    }
    free(parent), free(depth), free(ch), free(order);
    t->linked = ok;
    return 0;
}

/* make_trie(vocab: list[str], prefix: str) -> Trie (wordpiece_core.WordTrie) */
static PyObject *make_trie(PyObject *self, PyObject *args) {
    PyObject *vocab, *prefix;
    if (!PyArg_ParseTuple(args, "O!U", &PyList_Type, &vocab, &prefix)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(vocab), longest = 0, total = 2, plen = PyUnicode_GET_LENGTH(prefix);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *tok = PyList_GET_ITEM(vocab, i);
        if (!PyUnicode_Check(tok)) {
            PyErr_SetString(PyExc_TypeError, "the vocabulary must be a list of str");
            return NULL;
        }
        longest = PyUnicode_GET_LENGTH(tok) > longest ? PyUnicode_GET_LENGTH(tok) : longest;
        total += 2 * PyUnicode_GET_LENGTH(tok); /* nodes at most: in full under node 0, perhaps under node 1 */
    }
    if (total > INT32_MAX / 8) { /* node ids and the pops' budget (8 a node) stay within int32 */
        PyErr_SetString(PyExc_ValueError, "vocabulary too large for the trie");
        return NULL;
    }
    Trie *t = PyObject_New(Trie, &TrieType);
    if (!t) return NULL;
    memset(&t->cp, 0, sizeof t->cp);
    t->link = NULL;
    t->pool = NULL;
    t->linked = 0;
    Py_UCS4 *pre = PyUnicode_AsUCS4Copy(prefix), *buf = malloc((size_t)(longest + 2) * sizeof(Py_UCS4));
    const Py_UCS4 continuation = CONTINUATION;
    int ok = pre && buf && cptrie_add(&t->cp, &continuation, 1, -1) == 0; /* node 1 first */
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        PyObject *tok = PyList_GET_ITEM(vocab, i);
        Py_ssize_t len = PyUnicode_GET_LENGTH(tok);
        if (!PyUnicode_AsUCS4(tok, buf + 1, len + 1, 0)) {
            ok = 0;
            break;
        }
        ok = cptrie_add(&t->cp, buf + 1, len, (int32_t)i) == 0;
        if (ok && plen && len > plen && memcmp(buf + 1, pre, (size_t)plen * sizeof(Py_UCS4)) == 0) {
            buf[plen] = CONTINUATION; /* a continuation: the rest, under node 1 */
            ok = cptrie_add(&t->cp, buf + plen, len - plen + 1, (int32_t)i) == 0;
        }
    }
    PyMem_Free(pre);
    free(buf);
    if (!ok || trie_link(t) < 0 || cptrie_finish(&t->cp, 1) < 0) {
        Py_DECREF(t);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
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
            node = cptrie_step(&trie->cp, node, cp[i]);
            if (node < 0) break;
            if (trie->cp.token[node] >= 0) {
                best_id = trie->cp.token[node];
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
    const Link link = trie->link[*node];
    if (link.fail < 0) return 0;
    const int32_t *pop = trie->pool + 2 * (size_t)link.pop_start;
    for (int32_t k = 0; k < link.pop_len; k++) {
        *end += pop[2 * k + 1];
        ids[*m] = pop[2 * k];
        ends[(*m)++] = *end;
    }
    *node = link.fail;
    return 1;
}

/* longest_match: BERT's greedy longest-match-first over cp[0, n) by LinMaxMatch's links (each character
 * read once), else greedy_match; as greedy_match returns (wordpiece_core.longest_match). */
static Py_ssize_t longest_match(const Trie *trie, const Py_UCS4 *cp, Py_ssize_t n, int32_t *ids, int32_t *ends) {
    if (!trie->linked) return greedy_match(trie, cp, n, ids, ends);
    Py_ssize_t m = 0;
    int32_t node = 0, end = 0, child;
    for (Py_ssize_t i = 0; i < n; i++) {
        while ((child = cptrie_step(&trie->cp, node, cp[i])) < 0)
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
    for (int32_t i = 0; i < trie->cp.n_nodes; i++) top = trie->cp.token[i] > top ? trie->cp.token[i] : top;
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
     "encode_text of each text, spread over num_threads threads without the GIL; its ids between the prefix\n"
     "and suffix ids, where given."},
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
