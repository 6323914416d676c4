/* gpt2_split.c: the published pre-tokenizer patterns that have a hand-written scanner over the character
 * classes (GPT-2's, alone or after StarCoder's digit split; Llama-3's, Qwen2's and tiktoken's cl100k, one
 * family; tiktoken's o200k; CLIP's), and training's counting step built on GPT-2's. Python twin: subtok/models/bpe_core.py
 *
 *   scanned_token_end, split_scanned <-> split_scanned: equivalent by test, not a mirror (the reference is
 *                                        the regex itself, text.SCANNED_PATTERNS; tests hold the two equal
 *                                        on any str, hypothesis included)
 *   count_gpt2                       <-> count_gpt2: mirrored (special tokens cut out first, then the scanner)
 */

static inline int is_other(const Text *t, Py_UCS4 c) { return !(CLS(t, c) & (CLASS_LETTER | CLASS_NUMBER | CLASS_SPACE)); }

/* gpt2_token_end: the end of the GPT-2 pattern's match at i, the alternatives tried in the pattern's order:
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+  (every position starts one).
 * With digits_apart, HF's Digits(individual_digits) before it (StarCoder's pre-tokenizer): each \p{N} is a
 * word, and GPT-2's pattern runs on the text between them, where a run of spaces before a digit ends its
 * piece (text.SCANNED_PATTERNS spells this as one regex). */
static inline Py_ssize_t gpt2_token_end(const Text *t, Py_ssize_t i, int digits_apart) {
    Py_UCS4 c = CP(t, i);
    if (digits_apart && (CLS(t, c) & CLASS_NUMBER)) return i + 1;
    if (c == '\'' && i + 1 < t->n) {
        Py_UCS4 d = CP(t, i + 1);
        if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 2;
        if (i + 2 < t->n) {
            Py_UCS4 e = CP(t, i + 2);
            if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return i + 3;
        }
    }
    Py_ssize_t j = i;
    if (c == ' ' && i + 1 < t->n && !(CLS(t, CP(t, i + 1)) & (digits_apart ? CLASS_SPACE | CLASS_NUMBER : CLASS_SPACE))) {
        /* the optional leading space */
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
    if (k == t->n || (digits_apart && (CLS(t, CP(t, k)) & CLASS_NUMBER))) return k; /* the end of a piece */
    return k - 1 > i ? k - 1 : k;
}

static inline int is_newline(Py_UCS4 c) { return c == '\r' || c == '\n'; }

/* (?i:x) for the ASCII letter x: x, its capital, and for 's' the long s U+017F (the regex module's case
 * folding; tests check every code point). */
static inline int folds_to(Py_UCS4 c, char x) { return c == (Py_UCS4)x || c == (Py_UCS4)(x - 32) || (x == 's' && c == 0x17F); }

/* contraction_end: the end of (?i:'s|'t|'re|'ve|'m|'ll|'d) matched at i, or i where none matches. */
static Py_ssize_t contraction_end(const Text *t, Py_ssize_t i) {
    if (i + 1 >= t->n || CP(t, i) != '\'') return i;
    Py_UCS4 d = CP(t, i + 1);
    if (folds_to(d, 's') || folds_to(d, 't') || folds_to(d, 'm') || folds_to(d, 'd')) return i + 2;
    if (i + 2 < t->n) {
        Py_UCS4 e = CP(t, i + 2);
        if (((folds_to(d, 'r') || folds_to(d, 'v')) && folds_to(e, 'e')) || (folds_to(d, 'l') && folds_to(e, 'l')))
            return i + 3;
    }
    return i;
}

/* run_end: the end of the run of characters with any of the class bits from j. */
static inline Py_ssize_t run_end(const Text *t, Py_ssize_t j, int bits) {
    while (j < t->n && (CLS(t, CP(t, j)) & bits)) j++;
    return j;
}

/* gpt2_prefixed_end: the end of GPT-2's first match in ' ' + t[start, t->n) (HF's ByteLevel add_prefix_space
 * puts the space before a piece that does not start with one), as a position of t: the space joins the
 * letters, numbers or others after it, or the run of whitespace after it, less its last character where
 * something follows (\s+(?!\S)); the space may also end up alone (t[start] is that last whitespace). */
static Py_ssize_t gpt2_prefixed_end(const Text *t, Py_ssize_t start) {
    int cls = CLS(t, CP(t, start)) & (CLASS_LETTER | CLASS_NUMBER | CLASS_SPACE);
    if (cls == CLASS_SPACE) {
        Py_ssize_t k = run_end(t, start, CLASS_SPACE);
        return k == t->n ? k : k - 1;
    }
    if (cls) return run_end(t, start, cls);
    Py_ssize_t j = start;
    do j++; while (j < t->n && is_other(t, CP(t, j)));
    return j;
}

/* space_token_end: the whitespace alternatives at i (a space there) of the Llama-3 family and o200k:
 * \s*[\r\n]+|\s+(?!\S)|\s+, and with cl100k set tiktoken's cl100k form \s++$|\s*[\r\n]|\s+(?!\S)|\s, which
 * differs only in a run of whitespace that ends the text: one word there even when it holds a newline. */
static Py_ssize_t space_token_end(const Text *t, Py_ssize_t i, int cl100k) {
    Py_ssize_t k = i, last_newline = -1;
    for (; k < t->n && (CLS(t, CP(t, k)) & CLASS_SPACE); k++)
        if (is_newline(CP(t, k))) last_newline = k;
    if (cl100k && k == t->n) return k;              /* \s++$ */
    if (last_newline >= 0) return last_newline + 1; /* \s*[\r\n]+ */
    if (k == t->n) return k;                        /* \s+(?!\S) */
    return k - 1 > i ? k - 1 : k;                   /* \s+(?!\S), else \s+ (cl100k: \s) */
}

/* others_token_end: ' ?[^\s\p{L}\p{N}]+' then the run of the given end characters ([\r\n]*, o200k's
 * [\r\n/]*), or -1 where it does not match at i. */
static Py_ssize_t others_token_end(const Text *t, Py_ssize_t i, int slash) {
    Py_ssize_t j = i;
    if (CP(t, i) == ' ' && i + 1 < t->n && is_other(t, CP(t, i + 1))) j = i + 1;
    if (!is_other(t, CP(t, j))) return -1;
    do j++; while (j < t->n && is_other(t, CP(t, j)));
    while (j < t->n && (is_newline(CP(t, j)) || (slash && CP(t, j) == '/'))) j++;
    return j;
}

/* llama3_token_end: the end of the match at i of the Llama-3 family (every position starts one):
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * Qwen2's pattern has \p{N} (max_digits 1); tiktoken's cl100k spells the same alternatives possessively and
 * its whitespace as space_token_end says (cl100k set). */
static Py_ssize_t llama3_token_end(const Text *t, Py_ssize_t i, int max_digits, int cl100k) {
    Py_ssize_t j = contraction_end(t, i);
    if (j > i) return j;
    Py_UCS4 c = CP(t, i);
    int cls = CLS(t, c) & (CLASS_LETTER | CLASS_NUMBER | CLASS_SPACE);
    if (cls == CLASS_LETTER) return run_end(t, i, CLASS_LETTER); /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (cls != CLASS_NUMBER && !is_newline(c) && i + 1 < t->n && (CLS(t, CP(t, i + 1)) & CLASS_LETTER))
        return run_end(t, i + 1, CLASS_LETTER);
    if (cls == CLASS_NUMBER) {
        do j++; while (j < t->n && j - i < max_digits && (CLS(t, CP(t, j)) & CLASS_NUMBER));
        return j;
    }
    j = others_token_end(t, i, 0);
    return j >= 0 ? j : space_token_end(t, i, cl100k);
}

/* o200k_token_end: the end of the match at i of tiktoken's o200k pattern, U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
 * and W = [\p{Ll}\p{Lm}\p{Lo}\p{M}] (they overlap, and marks are in both and in the prefix class):
 *   [^\r\n\p{L}\p{N}]?U*W+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?U+W*(?i:...)?|\p{N}{1,3}
 *   | ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * The first two are tried as the regex engine backtracks: the prefix taken, then not; U* from its longest
 * run down, the first place W+ can start wins. */
static Py_ssize_t o200k_token_end(const Text *t, Py_ssize_t i) {
    Py_UCS4 c = CP(t, i);
    int cls = CLS(t, c);
    int prefix = !is_newline(c) && !(cls & (CLASS_LETTER | CLASS_NUMBER)) && i + 1 < t->n;
    for (int k = prefix; k >= 0; k--) { /* U*W+ */
        Py_ssize_t p = i + k, u = run_end(t, p, CLASS_UPPERISH);
        for (Py_ssize_t b = u; b >= p; b--)
            if (b < t->n && (CLS(t, CP(t, b)) & CLASS_LOWERISH)) return contraction_end(t, run_end(t, b, CLASS_LOWERISH));
    }
    for (int k = prefix; k >= 0; k--) { /* U+W* */
        Py_ssize_t p = i + k, u = run_end(t, p, CLASS_UPPERISH);
        if (u > p) return contraction_end(t, run_end(t, u, CLASS_LOWERISH));
    }
    if (cls & CLASS_NUMBER) {
        Py_ssize_t j = i;
        do j++; while (j < t->n && j - i < 3 && (CLS(t, CP(t, j)) & CLASS_NUMBER));
        return j;
    }
    Py_ssize_t j = others_token_end(t, i, 1);
    return j >= 0 ? j : space_token_end(t, i, 0);
}

/* literal_end: i + the length of the ASCII literal s where the text spells it at i, else i. */
static Py_ssize_t literal_end(const Text *t, Py_ssize_t i, const char *s) {
    Py_ssize_t n = (Py_ssize_t)strlen(s);
    if (i + n > t->n) return i;
    for (Py_ssize_t k = 0; k < n; k++)
        if (CP(t, i + k) != (Py_UCS4)(unsigned char)s[k]) return i;
    return i + n;
}

/* clip_token_end: the end of the match at i of CLIP's pattern with the white space between its matches as
 * a last alternative (text.SPACE_GAPPED[text.CLIP_PATTERN], which tiles every text):
 *   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+|\s+ */
static Py_ssize_t clip_token_end(const Text *t, Py_ssize_t i) {
    Py_UCS4 c = CP(t, i);
    Py_ssize_t j = i;
    if (c == '<' && ((j = literal_end(t, i, "<|startoftext|>")) > i || (j = literal_end(t, i, "<|endoftext|>")) > i))
        return j;
    if (c == '\'' && i + 1 < t->n) { /* the contractions, as written (no case folding) */
        Py_UCS4 d = CP(t, i + 1);
        if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 2;
        if (i + 2 < t->n) {
            Py_UCS4 e = CP(t, i + 2);
            if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return i + 3;
        }
    }
    int cls = CLS(t, c) & (CLASS_LETTER | CLASS_NUMBER | CLASS_SPACE);
    if (cls == CLASS_NUMBER) return i + 1;
    if (cls) return run_end(t, i + 1, cls);
    for (j = i + 1; j < t->n && is_other(t, CP(t, j));) j++;
    return j;
}

/* The scanners by index into text.SCANNED_PATTERNS. */
enum { SCAN_GPT2, SCAN_LLAMA3, SCAN_QWEN2, SCAN_CL100K, SCAN_STARCODER, SCAN_O200K, SCAN_CLIP, SCAN_KINDS };

static inline Py_ssize_t scanned_token_end(const Text *t, Py_ssize_t i, int scanner) {
    switch (scanner) {
    case SCAN_LLAMA3: return llama3_token_end(t, i, 3, 0);
    case SCAN_QWEN2: return llama3_token_end(t, i, 1, 0);
    case SCAN_CL100K: return llama3_token_end(t, i, 3, 1);
    case SCAN_STARCODER: return gpt2_token_end(t, i, 1);
    case SCAN_O200K: return o200k_token_end(t, i);
    case SCAN_CLIP: return clip_token_end(t, i);
    default: return gpt2_token_end(t, i, 0);
    }
}

/* split_scanned(text, scanner) -> list[(start, end)]: a scanner alone, for the tests that hold it against
 * the regex. */
static PyObject *split_scanned(PyObject *self, PyObject *args) {
    PyObject *str;
    int scanner;
    if (!PyArg_ParseTuple(args, "Ui", &str, &scanner) || require_classes() < 0) return NULL;
    if (scanner < 0 || scanner >= SCAN_KINDS) {
        PyErr_SetString(PyExc_ValueError, "scanner must index text.SCANNED_PATTERNS");
        return NULL;
    }
    Text t;
    text_init(&t, str);
    PyObject *out = PyList_New(0);
    for (Py_ssize_t i = 0; out && i < t.n;) {
        Py_ssize_t e = scanned_token_end(&t, i, scanner);
        PyObject *span = Py_BuildValue("(nn)", i, e);
        if (!span || PyList_Append(out, span) < 0) Py_CLEAR(out);
        Py_XDECREF(span);
        i = e;
    }
    return out;
}

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
        if (e->hash == h && e->nbytes == nbytes && bytes_equal(e->bytes, bytes, nbytes)) {
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
        Py_ssize_t e = gpt2_token_end(&seg, i, 0);
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

/* count_gpt2(texts: list[str], specials: list[str]) -> dict[str, int] */
static PyObject *count_gpt2(PyObject *self, PyObject *args) {
    PyObject *list, *specials_list;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &list, &PyList_Type, &specials_list) || require_classes() < 0)
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
        text_init(&texts[i], PyTuple_GET_ITEM(items, i));
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
