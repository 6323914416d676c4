/* pre_split.c: an HF pre-tokenizer Sequence whose steps the native core knows, run as one program over a
 * text's spans (Falcon's: Punctuation, GPT-2's pattern, byte-level spelling, Digits, a split of three
 * digits). Python twin: subtok/pre_tokenizers.py
 *
 *   split_program <-> SequencePreTokenizer.word_spans: equivalent by test, not a mirror (the reference
 *                     refines the spans step by step with the regex module; tests hold the two equal on
 *                     any str, hypothesis included)
 *
 * A program is int32 quintuples (op, a, b, c, d), compiled by pre_tokenizers.compile_program:
 *   PROGRAM_SCAN   a = scanner (text.SCANNED_PATTERNS): each span cut into the pattern's matches;
 *   PROGRAM_MATCH  a = CLASS_* bits, b = min, c = max (0: unbounded), d = behaviour: the matches of
 *                  [class]{min,max} (leftmost, greedy) and the text between them, kept as the behaviour
 *                  says (pre_tokenizers.BEHAVIORS' order), HF's split; min = max = 1 is HF's split on a
 *                  character predicate (Digits, Punctuation, WhitespaceSplit);
 *   PROGRAM_SPELL  spans from code points to bytes of the text's UTF-8 (HF's ByteLevel step with others
 *                  after it): the steps after see one character per byte, whose classes the caller gives
 *                  (the byte-level spelling's characters' classes).
 */

enum { PROGRAM_SCAN = 1, PROGRAM_MATCH = 2, PROGRAM_SPELL = 3 };
enum { BEHAVE_REMOVED, BEHAVE_ISOLATED, BEHAVE_MERGED_PREVIOUS, BEHAVE_MERGED_NEXT, BEHAVE_CONTIGUOUS, BEHAVE_KINDS };

typedef struct {
    Py_ssize_t *v; /* start, end, start, end, ... */
    Py_ssize_t n, cap; /* pairs */
} SpanVec;

static int spans_push(SpanVec *a, Py_ssize_t s, Py_ssize_t e) {
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? a->cap * 2 : 64;
        Py_ssize_t *p = realloc(a->v, (size_t)cap * 2 * sizeof(Py_ssize_t));
        if (!p) return -1;
        a->v = p;
        a->cap = cap;
    }
    a->v[2 * a->n] = s;
    a->v[2 * a->n + 1] = e;
    a->n++;
    return 0;
}

/* One piece's segments (a match or the text between two) kept by a behaviour, as
 * pre_tokenizers.behavior_spans keeps them; MergedWithNext, which the reference walks backwards, holds a
 * match until the next segment says whether it joins it. */
typedef struct {
    SpanVec *out;
    int behavior;
    int any, previous; /* a piece of this span written; the last segment was a match */
    int held;          /* MergedWithNext: a match is waiting at [hs, he) */
    Py_ssize_t hs, he;
} Segments;

static int segment(Segments *g, Py_ssize_t s, Py_ssize_t e, int is_match) {
    SpanVec *out = g->out;
    int rc = 0;
    switch (g->behavior) {
    case BEHAVE_ISOLATED: return spans_push(out, s, e);
    case BEHAVE_REMOVED: return is_match ? 0 : spans_push(out, s, e);
    case BEHAVE_CONTIGUOUS:
    case BEHAVE_MERGED_PREVIOUS: {
        int join = g->behavior == BEHAVE_CONTIGUOUS ? is_match == g->previous : is_match && !g->previous;
        if (g->any && join) out->v[2 * out->n - 1] = e;
        else rc = spans_push(out, s, e);
        g->any = 1;
        g->previous = is_match;
        return rc;
    }
    default: /* BEHAVE_MERGED_NEXT */
        if (g->held) {
            g->held = 0;
            if (!is_match) return spans_push(out, g->hs, e);
            if (spans_push(out, g->hs, g->he) < 0) return -1;
        }
        if (!is_match) return spans_push(out, s, e);
        g->held = 1;
        g->hs = s;
        g->he = e;
        return 0;
    }
}

/* A text as the program sees it: code points with their classes, or after PROGRAM_SPELL its UTF-8 bytes
 * with the spelled characters' classes. */
typedef struct {
    const Text *t;
    const unsigned char *bytes;       /* NULL before PROGRAM_SPELL */
    const unsigned char *byte_classes; /* 256 entries */
} ProgramText;

static inline int program_class(const ProgramText *p, Py_ssize_t i) {
    return p->bytes ? p->byte_classes[p->bytes[i]] : CLS(p->t, CP(p->t, i));
}

/* [class]{min,max} over [s, e): matches leftmost and greedy, the text between (and a run's rest shorter
 * than min) as non-matches. */
static int match_span(const ProgramText *p, Py_ssize_t s, Py_ssize_t e, const int32_t *op, SpanVec *out) {
    int bits = op[1];
    Py_ssize_t lo = op[2], hi = op[3];
    Segments g = {out, op[4], 0, 0, 0, 0, 0};
    Py_ssize_t gap = s; /* the start of the text since the last match */
    for (Py_ssize_t i = s; i < e;) {
        if (!(program_class(p, i) & bits)) {
            i++;
            continue;
        }
        Py_ssize_t j = i + 1;
        while (j < e && (program_class(p, j) & bits)) j++;
        for (Py_ssize_t k = i; j - k >= lo;) {
            Py_ssize_t len = hi && j - k > hi ? hi : j - k;
            if ((k > gap && segment(&g, gap, k, 0) < 0) || segment(&g, k, k + len, 1) < 0) return -1;
            k += len;
            gap = k;
        }
        i = j;
    }
    if (e > gap && segment(&g, gap, e, 0) < 0) return -1;
    if (g.held && spans_push(out, g.hs, g.he) < 0) return -1;
    return 0;
}

static int scan_span(const Text *t, Py_ssize_t s, Py_ssize_t e, int scanner, SpanVec *out) {
    Text sub = *t; /* the span as a text of its own: a lookahead ends where the piece ends */
    sub.data = (const char *)t->data + s * t->kind;
    sub.n = e - s;
    for (Py_ssize_t i = 0; i < sub.n;) {
        Py_ssize_t end = scanned_token_end(&sub, i, scanner);
        if (spans_push(out, s + i, s + end) < 0) return -1;
        i = end;
    }
    return 0;
}

/* The text's UTF-8 (common.h's utf8_of: surrogates as three bytes, Python's surrogatepass) and each code
 * point's byte offset in it. */
static int spell_text(const Text *t, unsigned char **bytes, Py_ssize_t **position) {
    Py_ssize_t cap = 0;
    *position = malloc(((size_t)t->n + 1) * sizeof(Py_ssize_t));
    if (!*position || utf8_of(t, 0, t->n, (char **)bytes, &cap) < 0) return -1;
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < t->n; i++) {
        Py_UCS4 c = CP(t, i);
        (*position)[i] = n;
        n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    }
    (*position)[t->n] = n;
    return 0;
}

/* split_program(text, program: bytes of int32 quintuples, byte_classes: bytes of 256) -> list[(start, end)]:
 * the non-empty words of text, in code points, or in bytes of its UTF-8 when the program spells it. */
static PyObject *split_program(PyObject *self, PyObject *args) {
    PyObject *str;
    Py_buffer prog, classes;
    if (!PyArg_ParseTuple(args, "Uy*y*", &str, &prog, &classes)) return NULL;
    PyObject *result = NULL;
    SpanVec spans = {0}, next = {0};
    unsigned char *bytes = NULL;
    Py_ssize_t *position = NULL;
    const int32_t *ops = prog.buf;
    Py_ssize_t n_ops = prog.len / (5 * (Py_ssize_t)sizeof(int32_t));
    if (require_classes() < 0) goto done;
    if (prog.len % (5 * (Py_ssize_t)sizeof(int32_t)) || classes.len != 256) {
        PyErr_SetString(PyExc_ValueError, "split_program takes int32 quintuples and 256 byte classes");
        goto done;
    }
    for (Py_ssize_t k = 0, spelled = 0; k < n_ops; k++) { /* every op checked before any runs */
        const int32_t *op = ops + 5 * k;
        int ok = (op[0] == PROGRAM_SCAN && !spelled && op[1] >= 0 && op[1] < SCAN_KINDS) ||
                 (op[0] == PROGRAM_MATCH && op[2] >= 1 && (op[3] == 0 || op[3] >= op[2]) && op[4] >= 0 &&
                  op[4] < BEHAVE_KINDS) ||
                 (op[0] == PROGRAM_SPELL && !spelled);
        if (!ok) {
            PyErr_Format(PyExc_ValueError, "split_program: step %zd (op %d) is not a valid step here", k, (int)op[0]);
            goto done;
        }
        spelled |= op[0] == PROGRAM_SPELL;
    }
    Text t;
    text_init(&t, str);
    ProgramText p = {&t, NULL, classes.buf};
    if (t.n && spans_push(&spans, 0, t.n) < 0) goto nomem;
    for (Py_ssize_t k = 0; k < n_ops; k++) {
        const int32_t *op = ops + 5 * k;
        if (op[0] == PROGRAM_SPELL) {
            if (spell_text(&t, &bytes, &position) < 0) goto nomem;
            for (Py_ssize_t j = 0; j < 2 * spans.n; j++) spans.v[j] = position[spans.v[j]];
            p.bytes = bytes;
            continue;
        }
        next.n = 0;
        for (Py_ssize_t j = 0; j < spans.n; j++) {
            Py_ssize_t s = spans.v[2 * j], e = spans.v[2 * j + 1];
            if ((op[0] == PROGRAM_SCAN ? scan_span(&t, s, e, op[1], &next) : match_span(&p, s, e, op, &next)) < 0)
                goto nomem;
        }
        SpanVec swap = spans;
        spans = next;
        next = swap;
    }
    result = PyList_New(spans.n);
    for (Py_ssize_t j = 0; result && j < spans.n; j++) {
        PyObject *span = Py_BuildValue("(nn)", spans.v[2 * j], spans.v[2 * j + 1]);
        if (!span) Py_CLEAR(result);
        else PyList_SET_ITEM(result, j, span);
    }
    goto done;
nomem:
    PyErr_NoMemory();
done:
    free(spans.v);
    free(next.v);
    free(bytes);
    free(position);
    PyBuffer_Release(&prog);
    PyBuffer_Release(&classes);
    return result;
}
