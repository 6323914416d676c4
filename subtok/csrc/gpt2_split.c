/* gpt2_split.c: the published pre-tokenizer patterns that have a hand-written scanner over the character
 * classes (GPT-2's, alone or after StarCoder's digit split; Llama-3's, Qwen2's and tiktoken's cl100k, one
 * family; tiktoken's o200k; CLIP's), and training's counting step built on GPT-2's. Python twin: subtok/models/bpe_core.py
 *
 *   scanned_token_end, split_scanned <-> split_scanned: equivalent by test, not a mirror (the reference is
 *                                        the regex itself, text.SCANNED_PATTERNS; tests hold the two equal
 *                                        on any str, hypothesis included)
 *   ascii_word_end                   <-> the same: the scanners' common case in one pass, held to the
 *                                        reference encoder by test
 *   count_gpt2                       <-> count_gpt2: mirrored (special tokens cut out first, then the scanner)
 *   merge_count_tables               <-> merge_count_tables: mirrored (tables in turn, words in order)
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

/* The scanners' common case in one pass: a word of ASCII letters, perhaps after a prefix, read from a 1- or
 * 2-byte text with its bytes gathered on the way. LANE_NONE: the pattern has no such lane (CLIP's). */
enum { LANE_NONE, LANE_GPT2, LANE_LLAMA3, LANE_O200K };

static inline int scanner_lane(int scanner) {
    switch (scanner) {
    case SCAN_GPT2:
    case SCAN_STARCODER: return LANE_GPT2; /* ' ?\p{L}+' (StarCoder's digits do not touch letters) */
    case SCAN_LLAMA3:
    case SCAN_QWEN2:
    case SCAN_CL100K: return LANE_LLAMA3; /* [^\r\n\p{L}\p{N}]?\p{L}+, after the contractions */
    case SCAN_O200K: return LANE_O200K;   /* [^\r\n\p{L}\p{N}]?U*W+(?i:'s|...)? and ...U+W*... */
    default: return LANE_NONE;
    }
}

static inline int ascii_letter(unsigned c) { return ((c | 0x20) - 'a') < 26u; }

/* ascii_word_end: the end of the word the lane's pattern matches at i of t[0, n) (a 1- or 2-byte text; kind
 * is t's, passed so that each call site compiles for its own), where that word is ASCII letters with, for
 * LANE_GPT2, a space before them, for the others any ASCII character but a letter, a digit, "\r", "\n" (and,
 * for LANE_LLAMA3, the quote that starts a contraction); its first eight bytes or fewer in *w, the first in
 * the low byte. -1 where it is not such a word, or where the character after the letters is not ASCII (a
 * letter or a mark may join the word), or an o200k word is followed by a quote (a contraction may join it):
 * the scanner decides those. Equal to scanned_token_end wherever it answers (tests hold the encoder to the
 * regexes with texts of ASCII words of each kind). */
static inline Py_ssize_t ascii_word_end(const Text *t, int kind, Py_ssize_t i, Py_ssize_t n, int lane, uint64_t *w) {
#define AT(k) (kind == PyUnicode_1BYTE_KIND ? (unsigned)((const Py_UCS1 *)t->data)[k] : (unsigned)((const Py_UCS2 *)t->data)[k])
    const unsigned c = AT(i);
    Py_ssize_t k = i;
    uint64_t bytes = 0;
    if (!ascii_letter(c)) {
        if (c >= 0x80 || i + 1 >= n || !ascii_letter(AT(i + 1))) return -1;
        if (lane == LANE_GPT2 ? c != ' ' : (c - '0' < 10u || c == '\r' || c == '\n' || (lane == LANE_LLAMA3 && c == '\'')))
            return -1;
        bytes = c, k = i + 1; /* the prefix */
    }
    if (lane == LANE_O200K) { /* ASCII's U*W+ or U+W*: capitals, then small letters */
        for (; k < n && AT(k) - 'A' < 26u; k++)
            if (k - i < 8) bytes |= (uint64_t)AT(k) << (8 * (k - i));
        for (; k < n && AT(k) - 'a' < 26u; k++)
            if (k - i < 8) bytes |= (uint64_t)AT(k) << (8 * (k - i));
        if (k < n && (AT(k) >= 0x80 || AT(k) == '\'')) return -1;
    } else {
        for (; k < n && ascii_letter(AT(k)); k++)
            if (k - i < 8) bytes |= (uint64_t)AT(k) << (8 * (k - i));
        if (k < n && AT(k) >= 0x80) return -1;
    }
#undef AT
    *w = bytes;
    return k;
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
    int64_t first;     /* where the word was first seen (its place in the output's order, and its characters) */
    const char *bytes; /* its UTF-8, in a counting thread's arena */
    int32_t nbytes;
    int32_t nchars;
} WordEntry;

/* Word -> count: the words in an array in order of first sight, found through a table of 8-byte slots, each
 * the high half of a word's hash beside its index + 1 (0: empty), so that a probe reads an entry only when
 * the halves agree, and the table is small enough to stay in cache longer. */
typedef struct {
    uint64_t *slots;
    size_t mask;
    WordEntry *e;
    size_t n, cap;
} WordCounts;

static int counts_init(WordCounts *c) {
    c->mask = 1023, c->n = 0, c->cap = 512;
    c->slots = calloc(c->mask + 1, sizeof(uint64_t));
    c->e = malloc(c->cap * sizeof(WordEntry));
    return c->slots && c->e ? 0 : -1;
}

static void counts_free(WordCounts *c) {
    free(c->slots);
    free(c->e);
}

static inline uint64_t count_slot(uint64_t h, size_t index) { return (h & 0xffffffff00000000ULL) | (index + 1); }

/* The entry of the word (hash h), or NULL with *at the slot where it goes. */
static WordEntry *counts_find(WordCounts *c, uint64_t h, const char *bytes, int32_t nbytes, size_t *at) {
    size_t j = h & c->mask;
    for (uint64_t s; (s = c->slots[j]); j = (j + 1) & c->mask) {
        if ((s ^ h) >> 32) continue;
        WordEntry *e = &c->e[(uint32_t)s - 1];
        if (e->hash == h && e->nbytes == nbytes && bytes_equal(e->bytes, bytes, nbytes)) return e;
    }
    *at = j;
    return NULL;
}

/* A new entry for a word that counts_find did not find (at: its slot): its index, or -1 when out of memory. */
static Py_ssize_t counts_insert(WordCounts *c, const WordEntry *word, size_t at) {
    if (c->n == c->cap) {
        WordEntry *e = realloc(c->e, c->cap * 2 * sizeof(WordEntry));
        if (!e) return -1;
        c->e = e, c->cap *= 2;
    }
    if (c->n >= UINT32_MAX - 1) return -1;
    c->e[c->n] = *word;
    if ((c->n + 1) * 2 > c->mask + 1) { /* grow: the entries in order, into a table twice the size */
        size_t mask = c->mask * 2 + 1;
        uint64_t *slots = calloc(mask + 1, sizeof(uint64_t));
        if (!slots) return -1;
        for (size_t i = 0; i <= c->n; i++) {
            size_t j = c->e[i].hash & mask;
            while (slots[j]) j = (j + 1) & mask;
            slots[j] = count_slot(c->e[i].hash, i);
        }
        free(c->slots);
        c->slots = slots, c->mask = mask;
    } else {
        c->slots[at] = count_slot(word->hash, c->n);
    }
    return (Py_ssize_t)c->n++;
}

/* What one counting thread fills: its own table, the arena of its words' bytes, a buffer for UTF-8. */
typedef struct {
    WordCounts counts;
    Arena arena;
    char *utf8;
    Py_ssize_t utf8_cap;
} CountScratch;

/* One more of the word whose UTF-8 is bytes, its nchars characters first seen at place `first`. */
static int counts_add(CountScratch *k, const char *bytes, int32_t nbytes, int32_t nchars, int64_t first) {
    uint64_t h = hash_bytes(bytes, nbytes);
    size_t at;
    WordEntry *e = counts_find(&k->counts, h, bytes, nbytes, &at);
    if (e) {
        e->count++;
        return 0;
    }
    char *copy = arena_take(&k->arena, (size_t)nbytes);
    if (!copy) return -1;
    memcpy(copy, bytes, (size_t)nbytes);
    WordEntry word = {h, 1, first, copy, nbytes, nchars};
    return counts_insert(&k->counts, &word, at) >= 0 ? 0 : -1;
}

/* Another table's entry added to c (its bytes stay in the other thread's arena). */
static int counts_take(WordCounts *c, const WordEntry *from) {
    size_t at;
    WordEntry *e = counts_find(c, from->hash, from->bytes, from->nbytes, &at);
    if (!e) return counts_insert(c, from, at) >= 0 ? 0 : -1;
    e->count += from->count;
    if (from->first < e->first) e->first = from->first;
    return 0;
}

/* count_segment: the GPT-2 words of t[start, end) into the counter; `base` places t in the output order. */
static int count_segment(const Text *t, Py_ssize_t start, Py_ssize_t end, CountScratch *k, int64_t base) {
    Text seg = *t;
    seg.n = end;
    for (Py_ssize_t i = start; i < end;) {
        Py_ssize_t e = gpt2_token_end(&seg, i, 0), nb;
        const char *bytes = utf8_view(t, i, e, &k->utf8, &k->utf8_cap, &nb);
        if (nb < 0 || counts_add(k, bytes, (int32_t)nb, (int32_t)(e - i), base + i) < 0) return -1;
        i = e;
    }
    return 0;
}

/* count_range: the words of t[start, end) as a text of its own, special tokens cut out first. */
static int count_range(const Specials *sp, const Text *t, Py_ssize_t start, Py_ssize_t end, CountScratch *k,
                       int64_t base) {
    Text seg = *t;
    seg.n = end;
    Py_ssize_t pos = start;
    for (Py_ssize_t i = special_candidate(sp, &seg, start); i < end; i = special_candidate(sp, &seg, i + 1)) {
        Py_ssize_t s = special_at(sp, &seg, i);
        if (s < 0) continue;
        if (count_segment(t, pos, i, k, base) < 0) return -1;
        pos = i + sp->len[s];
        i = pos - 1;
    }
    return count_segment(t, pos, end, k, base);
}

/* A piece of the work: characters [start, end) of text `text`, whole lines when cut into lines. */
typedef struct {
    Py_ssize_t text, start, end;
} CountUnit;

typedef struct {
    const Specials *sp;
    const Text *texts;
    const int64_t *base; /* per text: the characters of the texts before it (the output order) */
    const CountUnit *units;
    Py_ssize_t n_units;
    int lines;
    char apart[64]; /* (the counter the workers write on a line of its own) */
    atomic_size_t next;
    atomic_int failed;
} CountJob;

typedef struct {
    CountJob *job;
    CountScratch counter;
    char apart[64]; /* no cache line shared with the next worker's (each writes its table's fields at every
                       new word) */
} CountWorker;

/* count_work: a worker's loop, a unit at a time until none is left. */
static void count_work(CountWorker *w) {
    CountJob *job = w->job;
    for (;;) {
        size_t u = atomic_fetch_add(&job->next, 1);
        if ((Py_ssize_t)u >= job->n_units || atomic_load(&job->failed)) return;
        const CountUnit *unit = &job->units[u];
        const Text *t = &job->texts[unit->text];
        int64_t base = job->base[unit->text];
        for (Py_ssize_t s = unit->start; s < unit->end;) {
            Py_ssize_t e = job->lines ? line_end(t, s) : unit->end;
            if (e > unit->end) e = unit->end;
            if (count_range(job->sp, t, s, e, &w->counter, base) < 0) {
                atomic_store(&job->failed, 1);
                return;
            }
            s = e;
        }
    }
}

#if SUBTOK_THREADS
static void *count_thread(void *arg) {
    count_work(arg);
    return NULL;
}
#endif

#define COUNT_UNIT_CHARS (1 << 18) /* a text cut into lines is shared among the threads in pieces of about this */

/* The units of the texts: one per text, or with lines a long text cut at line ends into pieces of about
 * COUNT_UNIT_CHARS (NULL when out of memory). */
static CountUnit *count_units(const Text *texts, Py_ssize_t n, int lines, Py_ssize_t *n_units) {
    Py_ssize_t cap = n ? n : 1, m = 0;
    CountUnit *units = malloc((size_t)cap * sizeof(CountUnit));
    for (Py_ssize_t i = 0; units && i < n; i++) {
        for (Py_ssize_t s = 0; s < texts[i].n || (s == 0 && !lines);) {
            Py_ssize_t e = !lines || texts[i].n - s <= COUNT_UNIT_CHARS ? texts[i].n
                                                                          : line_end(&texts[i], s + COUNT_UNIT_CHARS - 1);
            if (m == cap) {
                CountUnit *more = realloc(units, (size_t)(cap *= 2) * sizeof(CountUnit));
                if (!more) {
                    free(units);
                    return NULL;
                }
                units = more;
            }
            units[m++] = (CountUnit){i, s, e};
            s = e;
            if (!lines) break;
        }
    }
    *n_units = m;
    return units;
}

typedef struct {
    uint64_t first;
    const WordEntry *word;
} Placed;

/* Sort by `first` (non-negative, below `top`): least significant digit first, 16 bits a pass, as many
 * passes as `top` needs (a comparison sort of a million words costs several times as much). */
static int placed_sort(Placed *p, size_t n, uint64_t top) {
    Placed *tmp = malloc((n ? n : 1) * sizeof(Placed));
    size_t *at = malloc(65536 * sizeof(size_t));
    if (!tmp || !at) {
        free(tmp);
        free(at);
        return -1;
    }
    for (int shift = 0; shift < 64 && (top >> shift); shift += 16) {
        memset(at, 0, 65536 * sizeof(size_t));
        for (size_t i = 0; i < n; i++) at[(p[i].first >> shift) & 0xffff]++;
        for (size_t d = 0, sum = 0; d < 65536; d++) {
            size_t c = at[d];
            at[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) tmp[at[(p[i].first >> shift) & 0xffff]++] = p[i];
        memcpy(p, tmp, n * sizeof(Placed));
    }
    free(tmp);
    free(at);
    return 0;
}

/* Add the counted words to the dict `out`, in the order they were first seen (as the reference's loop),
 * each word cut from the text where it was first seen. */
static int counts_to_dict(WordCounts *c, PyObject *out, PyObject *items, const int64_t *base) {
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    Placed *order = malloc((c->n ? c->n : 1) * sizeof(Placed));
    size_t m = 0;
    for (size_t j = 0; order && j < c->n; j++) order[m++] = (Placed){(uint64_t)c->e[j].first, &c->e[j]};
    uint64_t top = n ? (uint64_t)(base[n - 1] + PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(items, n - 1))) : 0;
    if (!order || placed_sort(order, m, top) < 0) {
        free(order);
        PyErr_NoMemory();
        return -1;
    }
    int r = 0;
    Py_ssize_t ti = 0; /* the text of the word: the places come in order */
    for (size_t k = 0; k < m && r == 0; k++) {
        const WordEntry *e = order[k].word;
        while (ti + 1 < n && base[ti + 1] <= e->first) ti++;
        Py_ssize_t at = (Py_ssize_t)(e->first - base[ti]);
        PyObject *word = PyUnicode_Substring(PyTuple_GET_ITEM(items, ti), at, at + e->nchars);
        PyObject *had = word ? PyDict_GetItemWithError(out, word) : NULL; /* borrowed */
        PyObject *sum = word && !PyErr_Occurred() ? PyLong_FromLongLong(e->count) : NULL;
        if (sum && had) {
            PyObject *add = sum;
            sum = PyNumber_Add(had, add);
            Py_DECREF(add);
        }
        r = sum && PyDict_SetItem(out, word, sum) == 0 ? 0 : -1;
        Py_XDECREF(word);
        Py_XDECREF(sum);
    }
    free(order);
    return r;
}

/* count_gpt2(texts: list[str], specials: list[str], counts: dict | None = None, lines: bool = False,
 *            num_threads: int = 1) -> dict[str, int] */
static PyObject *count_gpt2(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"texts", "specials", "counts", "lines", "num_threads", NULL};
    PyObject *list, *specials_list, *given = Py_None;
    int lines = 0, num_threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!|Opi", kwlist, &PyList_Type, &list, &PyList_Type,
                                     &specials_list, &given, &lines, &num_threads) ||
        require_classes() < 0)
        return NULL;
    if (given != Py_None && !PyDict_Check(given)) {
        PyErr_SetString(PyExc_TypeError, "counts must be a dict (or None)");
        return NULL;
    }
    PyObject *items = PySequence_Tuple(list); /* held while the GIL is released */
    if (!items) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items), n_units = 0;
    Specials sp = {0};
    CountJob job = {.sp = &sp, .lines = lines};
    Text *texts = calloc((size_t)(n ? n : 1), sizeof(Text));
    int64_t *base = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    CountWorker *workers = NULL;
    CountUnit *units = NULL;
    PyObject *out = NULL;
    int started = 0, n_workers = 0;
    if (!texts || !base) {
        PyErr_NoMemory();
        goto done;
    }
    if (specials_load(&sp, specials_list, 0) < 0) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (check_text(PyTuple_GET_ITEM(items, i)) < 0) goto done;
        text_init(&texts[i], PyTuple_GET_ITEM(items, i));
        base[i] = i ? base[i - 1] + texts[i - 1].n : 0;
    }
    units = count_units(texts, n, lines, &n_units);
    if (num_threads > n_units) num_threads = (int)n_units; /* no more threads than pieces of work, at least one */
    if (num_threads < 1) num_threads = 1;
    workers = units ? calloc((size_t)num_threads, sizeof(CountWorker)) : NULL;
    int ready = workers != NULL;
    for (; ready && n_workers < num_threads; n_workers++) ready = counts_init(&workers[n_workers].counter.counts) == 0;
    if (!ready) {
        PyErr_NoMemory();
        goto done;
    }
    job.texts = texts, job.base = base, job.units = units, job.n_units = n_units;
    Py_BEGIN_ALLOW_THREADS
    for (int k = 0; k < num_threads; k++) workers[k].job = &job;
#if SUBTOK_THREADS
    pthread_t *tids = num_threads > 1 ? malloc((size_t)(num_threads - 1) * sizeof(pthread_t)) : NULL;
    for (int k = 1; tids && k < num_threads; k++, started++)
        if (pthread_create(&tids[k - 1], NULL, count_thread, &workers[k]) != 0) break; /* fewer: still correct */
#endif
    count_work(&workers[0]);
#if SUBTOK_THREADS
    for (int k = 0; k < started; k++) pthread_join(tids[k], NULL);
    free(tids);
#endif
    for (int k = 1; k <= started; k++) { /* the workers' tables into the first's */
        WordCounts *c = &workers[k].counter.counts;
        for (size_t j = 0; j < c->n && !atomic_load(&job.failed); j++)
            if (counts_take(&workers[0].counter.counts, &c->e[j]) < 0) atomic_store(&job.failed, 1);
    }
    Py_END_ALLOW_THREADS
    if (atomic_load(&job.failed)) {
        PyErr_NoMemory();
        goto done;
    }
    out = given == Py_None ? PyDict_New() : (Py_INCREF(given), given);
    if (out && counts_to_dict(&workers[0].counter.counts, out, items, base) < 0) Py_CLEAR(out);
done:
    for (int k = 0; workers && k < n_workers; k++) {
        counts_free(&workers[k].counter.counts);
        arena_free(&workers[k].counter.arena);
        free(workers[k].counter.utf8);
    }
    free(workers);
    free(units);
    specials_free(&sp);
    free(texts);
    free(base);
    Py_DECREF(items);
    return out;
}

/* The little-endian int64 at p (a counts message's numbers, wherever they fall). */
static inline int64_t load_le64(const char *p) {
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--) v = v << 8 | (unsigned char)p[k];
    return (int64_t)v;
}

/* merge_count_tables(tables: list[tuple[buffer, buffer, buffer]]) -> dict[str, int]: each table's int64
 * counts, int64 offsets (one more than the words, rising) and the words' UTF-8 one after the other, added
 * up in one table of bytes; the dict made once at the end, words in the order first met. */
static PyObject *merge_count_tables(PyObject *self, PyObject *arg) {
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "tables must be a list of (counts, offsets, blob)");
        return NULL;
    }
    Py_ssize_t n_tables = PyList_GET_SIZE(arg), held = 0;
    Py_buffer *views = calloc((size_t)(3 * n_tables + 1), sizeof(Py_buffer));
    WordCounts table;
    PyObject *out = NULL;
    if (!views || counts_init(&table) < 0) {
        free(views);
        return PyErr_NoMemory();
    }
    int overflow = 0;
    for (Py_ssize_t t = 0; t < n_tables; t++) {
        PyObject *item = PyList_GET_ITEM(arg, t);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
            PyErr_SetString(PyExc_TypeError, "tables must be a list of (counts, offsets, blob)");
            goto done;
        }
        Py_buffer *v = &views[3 * t];
        for (int k = 0; k < 3; k++, held++)
            if (PyObject_GetBuffer(PyTuple_GET_ITEM(item, k), &v[k], PyBUF_C_CONTIGUOUS) < 0) goto done;
        Py_ssize_t n = v[1].len / 8 - 1;
        const char *ends = v[1].buf, *counts = v[0].buf;
        if (v[1].len % 8 || n < 0 || v[0].len < 8 * n || load_le64(ends) != 0 || load_le64(ends + 8 * n) != v[2].len)
            goto bad;
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t count = load_le64(counts + 8 * i), a = load_le64(ends + 8 * i), b = load_le64(ends + 8 * i + 8);
            if (b <= a || b > v[2].len || b - a > INT32_MAX || count <= 0) goto bad;
            const char *bytes = (const char *)v[2].buf + a;
            uint64_t h = hash_bytes(bytes, b - a);
            size_t at;
            WordEntry *e = counts_find(&table, h, bytes, (int32_t)(b - a), &at);
            if (e) {
                overflow |= __builtin_add_overflow(e->count, count, &e->count);
                continue;
            }
            WordEntry word = {h, count, 0, bytes, (int32_t)(b - a), 0};
            if (counts_insert(&table, &word, at) < 0) {
                PyErr_NoMemory();
                goto done;
            }
        }
    }
    if (overflow) {
        PyErr_SetString(PyExc_OverflowError, "a word's counts sum past 2**63 - 1");
        goto done;
    }
    out = PyDict_New();
    for (size_t j = 0; out && j < table.n; j++) {
        const WordEntry *e = &table.e[j];
        PyObject *word = PyUnicode_DecodeUTF8(e->bytes, e->nbytes, "surrogatepass");
        PyObject *count = word ? PyLong_FromLongLong(e->count) : NULL;
        if (!count || PyDict_SetItem(out, word, count) < 0) Py_CLEAR(out);
        Py_XDECREF(word);
        Py_XDECREF(count);
    }
    goto done;
bad:
    PyErr_SetString(PyExc_ValueError, "a count table's offsets do not rise through its words, or a count is not positive");
done:
    for (Py_ssize_t k = 0; k < held; k++) PyBuffer_Release(&views[k]);
    free(views);
    counts_free(&table);
    return out;
}
