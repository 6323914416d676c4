/* unigram.c: SentencePieceEncoder, SentencePiece's whole pipeline for one text (mirrors
 * models/unigram_core.SentencePieceEncoder; tier: mirrored).
 *
 *   sp_normalize  <-> normalizers.SentencePieceNormalizer.normalize (and its _prefix), over code points:
 *                     the longest user-defined symbol, else the longest precompiled-charsmap rule over the
 *                     text's UTF-8 (at most 64 bytes from the point, as the reference looks), else one code
 *                     point (a surrogate, not UTF-8, is three U+FFFD, as its 'surrogatepass' bytes there)
 *   sp_viterbi    <-> unigram_core.viterbi: the same float32 sums (float64 for the HF flavor), rounding and
 *                     tie-breaks
 *   sp_sample     <-> unigram_core.sample: the same lattice, float64 sums in the same order, and the draws
 *                     from the same generator (sp_random <-> SplitMix64), so a seed gives the reference's
 *                     segmentation
 *   sp_bpe        <-> unigram_core.bpe_path: SentencePiece BPE's merges (the encoder's BPE mode), the same
 *                     heap order, stale-pair test, dropout draws and splitting back of unused pieces
 *   sp_text_core  <-> SentencePieceEncoder.encode_text: ids, unknown runs fused or byte-fallback spans
 *
 * The pieces sit in common.h's code-point trie (CpTrie), with the root's children also in a table by code
 * point and each node's children in a small table of its own (cptrie_finish).
 */

#define SP_WINDOW 64 /* bytes of text a charsmap lookup sees, as SentencePieceNormalizer._prefix */
/* SPEncoderObject.run per BMP code point: its kind (the low two bits) and SP_CONTINUES */
enum { SP_PLAIN = 1, SP_PLAIN_UNLESS_NEXT = 2, SP_SPACE = 3, SP_KIND = 3, SP_CONTINUES = 4 };

typedef struct {
    PyObject_HEAD
    PyObject *charsmap; /* bytes or NULL */
    const uint32_t *units;
    Py_ssize_t n_units;
    const unsigned char *pool;
    Py_ssize_t pool_size;
    int add_dummy_prefix, remove_extra, escape, suffix;
    Py_UCS4 **user; /* user-defined symbols as code points */
    Py_ssize_t *user_len, n_user;
    CpTrie trie;
    double *score;    /* per id (rounded to float32 unless float64) */
    double *vscore;   /* per id: its score in Viterbi (a user-defined piece's by its UTF-8 length); at
                         vscore[-1], minus infinity: the score of a trie node that is no piece (token -1) */
    float *fscore;    /* vscore as float32 (fscore[-1] too), where every one of them is one (else NULL) */
    double *user_score; /* per id: the byte-length score of a user-defined piece (NaN: not one) */
    double *user_score_chars; /* per id: its character-length score (the lattice's, for sampling) */
    int32_t n_ids, unk_id;
    double unk_score;
    int float32;      /* SentencePiece's float32 path sums; else HF tokenizers' float64 ones */
    int32_t byte_ids[256];
    int has_bytes;
    unsigned char *cm_slow;       /* bit per BMP code point: some charsmap key starts with its UTF-8 */
    unsigned char *cm_next;       /* bit per BMP code point: sp_charsmap_kind 1 (rules go on past it, none ends) */
    unsigned char cont_lead[32];  /* bit per byte: a rule of a cm_next code point goes on with this byte */
    unsigned char cm_astral[(0x110000 - 0x10000) / 64 / 8]; /* bit per 64 code points beyond the BMP (one
                                     UTF-8 lead of three bytes): some charsmap key starts with such a lead */
    unsigned char *run;           /* per BMP code point, for sp_normalize's runs: SP_PLAIN (never rewritten),
                                     SP_PLAIN_UNLESS_NEXT (cm_next: as it is unless the next code point may go
                                     on with its rules), SP_SPACE (' ' that no rule starts) or 0 (a lookup);
                                     and SP_CONTINUES where its UTF-8 starts with a cont_lead byte */
    int bpe;                      /* segment by SentencePiece BPE's merges (sp_bpe), not Viterbi */
    unsigned char *unused;        /* BPE: per id, an unused piece (split back after merging) */
    Py_UCS4 **bpe_user;           /* BPE: the user-defined pieces, longest first (frozen symbols) */
    Py_ssize_t *bpe_user_len, n_bpe_user;
    PairIndex merges;             /* BPE: (id a, id b) -> the id of piece a + piece b, for every piece that
                                     splits into two pieces (slots NULL: none built) */
    int bpe_words;                /* BPE: no piece spans a word start (a space after its first character), no
                                     unused piece: each word merges alone, and sp_bpe caches words */
    unsigned char user_first[32]; /* bit per (code point & 255): some user-defined symbol starts so */
    IdObjects ids;
} SPEncoderObject;

#define BPE_CACHE_SLOTS 8192 /* sp_bpe's word cache: slots (half of them used at most) */
#define BPE_CACHE_WORD 64     /* ... and the longest word it keeps, in code points */

typedef struct {
    uint64_t hash;
    int32_t at, len;           /* the word: len code points at chars[at]; len -1: an empty slot */
    int32_t pieces, n_pieces;  /* its pieces: (end, start, id) relative to the word, at pieces[pieces] */
} BpeWord;

typedef struct {
    BpeWord *slots;
    size_t mask;
    Py_ssize_t used;
    Buf chars, pieces;
} BpeCache;

typedef struct {
    double score;
    int32_t a, b, size, id; /* symbols a and b (b follows a), their text's length and the merged piece's id */
} BpePair;

typedef struct {
    BpePair *v;
    Py_ssize_t n, cap;
} BpeHeap;

typedef struct { /* a position's best way in: the last piece's start and id (-1: unknown; from -1: none yet) */
    int32_t from, id;
} SPLink;

typedef struct {
    Buf norm, start; /* normalized code points, the original index where each one's input starts */
    BpeCache words;  /* sp_bpe: segmentations of the words seen (Python-free, per worker) */
    int many;        /* a batch worker's: texts follow (the word cache pays off even for short ones) */
    Buf path;        /* sp_path_ids: the pieces' (end, id) */
    Buf bpe_ints;    /* bpe_range: its symbols' arrays */
    BpeHeap bpe_heap;
    Buf bpe_left;    /* bpe_range: (unused id, length of its left part when last offered) pairs */
    double *best;    /* Viterbi's path scores (float or double, as the encoder's flavor) */
    SPLink *link;    /* per position of s->norm: the path into it */
    Py_ssize_t cap;
} SPScratch;

static void sp_scratch_free(SPScratch *s) {
    free(s->words.slots), free(s->words.chars.v), free(s->words.pieces.v);
    free(s->path.v);
    free(s->bpe_ints.v), free(s->bpe_heap.v), free(s->bpe_left.v);
    free(s->norm.v);
    free(s->start.v);
    free(s->best);
    free(s->link);
    memset(s, 0, sizeof *s);
}

static int utf8_put(Py_UCS4 c, unsigned char *out) {
    if (c < 0x80) return out[0] = (unsigned char)c, 1;
    if (c < 0x800) return out[0] = 0xC0 | (c >> 6), out[1] = 0x80 | (c & 63), 2;
    if (c < 0x10000) return out[0] = 0xE0 | (c >> 12), out[1] = 0x80 | ((c >> 6) & 63), out[2] = 0x80 | (c & 63), 3;
    out[0] = 0xF0 | (c >> 18), out[1] = 0x80 | ((c >> 12) & 63), out[2] = 0x80 | ((c >> 6) & 63);
    out[3] = 0x80 | (c & 63);
    return 4;
}

/* The precompiled charsmap's double array (darts-clone units, as charsmap.CharsMap reads them): a unit's
 * offset to its children, and the mask of its label (bit 31 set on a value unit: no label matches it). */
#define SP_OFFSET(x) (((x) >> 10) << (((x) & (1u << 9)) >> 6))
#define SP_LABEL ((1u << 31) | 0xFF)

/* charsmap_step: one byte of a walk down the charsmap from *pos (the root: SP_OFFSET(units[0])). 0: no key
 * goes on with it; 1: *pos moved to that node; 2: moved, and a key ends there (its value's unit at *pos,
 * which the caller checks is in range). */
static inline int charsmap_step(const SPEncoderObject *e, size_t *pos, unsigned char byte) {
    const size_t p = *pos ^ byte;
    if (p >= (size_t)e->n_units || (e->units[p] & SP_LABEL) != byte) return 0;
    *pos = p ^ SP_OFFSET(e->units[p]);
    return (e->units[p] >> 8) & 1 ? 2 : 1;
}

/* charsmap_child: whether a key goes on from node pos with byte b (1 to 255) */
static inline int charsmap_child(const SPEncoderObject *e, size_t pos, unsigned b) {
    return (pos ^ b) < (size_t)e->n_units && (e->units[pos ^ b] & SP_LABEL) == b;
}

/* charsmap_at <-> CharsMap.longest over the UTF-8 ('surrogatepass') of the text from code point i, at most
 * SP_WINDOW bytes, as SentencePieceNormalizer._prefix reads it: the byte length of the longest key there (0:
 * none), its value, and in *chars how many code points those bytes reach into. Code points are encoded only
 * as far as the walk goes (most walks end within the first one). */
static int charsmap_at(const SPEncoderObject *e, const Text *t, Py_ssize_t i, uint32_t *value, Py_ssize_t *chars) {
    size_t pos = SP_OFFSET(e->units[0]);
    int best = 0, nb = 0;
    for (Py_ssize_t j = i; j < t->n; j++) {
        unsigned char data[4];
        Py_UCS4 c = CP(t, j);
        int len = c >= 0xD800 && c <= 0xDFFF
                      ? (data[0] = 0xED, data[1] = 0x80 | ((c >> 6) & 63), data[2] = 0x80 | (c & 63), 3)
                      : utf8_put(c, data);
        for (int k = 0; k < len; k++, nb++) {
            if (nb >= SP_WINDOW || data[k] == 0) return best;
            const int step = charsmap_step(e, &pos, data[k]);
            if (!step) return best;
            if (step == 2) {
                if (pos >= (size_t)e->n_units) return best;
                best = nb + 1;
                *value = e->units[pos] & 0x7FFFFFFFu;
                *chars = j - i + 1;
            }
        }
    }
    return best;
}

/* sp_charsmap_kind: how the charsmap may rewrite text starting with code point c: 0 when no key begins with
 * its UTF-8 (c stays as it is), 1 when keys begin with it but none ends within or with it (c stays as it is
 * unless the next code point's first byte goes on with one: those bytes are added to cont; a letter that
 * starts letter + combining mark rules), 3 when one key is c and no other starts with it and its value is
 * " " (c becomes a space wherever it stands: a newline, a tab, U+3000), 2 otherwise. */
static int sp_charsmap_kind(const SPEncoderObject *e, Py_UCS4 c, unsigned char *cont) {
    unsigned char data[4];
    const int n = utf8_put(c, data);
    size_t pos = SP_OFFSET(e->units[0]);
    for (int i = 0; i < n; i++) {
        const int step = data[i] ? charsmap_step(e, &pos, data[i]) : 0;
        if (!step) return 0;
        if (step == 2) {
            if (i < n - 1 || pos >= (size_t)e->n_units) return 2;
            for (unsigned b = 1; b < 0x100; b++)
                if (charsmap_child(e, pos, b)) return 2;
            const size_t value = e->units[pos] & 0x7FFFFFFFu;
            return value + 1 < (size_t)e->pool_size && e->pool[value] == ' ' && e->pool[value + 1] == 0 ? 3 : 2;
        }
    }
    for (unsigned b = 1; b < 0x100; b++)
        if (charsmap_child(e, pos, b)) cont[b >> 3] |= (unsigned char)(1u << (b & 7));
    return 1;
}

/* sp_continues: whether code point c, after one of kind 1, may go on with a rule: its first UTF-8 byte is
 * one of cont_lead (0, the end of the text, never is) */
static inline int sp_continues(const SPEncoderObject *e, Py_UCS4 c) {
    if (c < 0x10000) return e->run[c] & SP_CONTINUES;
    unsigned lead = 0xF0 | (c >> 18);
    return e->cont_lead[lead >> 3] >> (lead & 7) & 1;
}

/* sp_charsmap_astral: whether a charsmap key starts with the first three UTF-8 bytes of the code points
 * beyond the BMP from ``first`` (a multiple of 64, all of which share them), or a key ends within them. */
static int sp_charsmap_astral(const SPEncoderObject *e, Py_UCS4 first) {
    unsigned char data[4];
    utf8_put(first, data);
    size_t pos = SP_OFFSET(e->units[0]);
    for (int i = 0; i < 3; i++) {
        const int step = charsmap_step(e, &pos, data[i]);
        if (step != 1) return step == 2;
    }
    return 1;
}

/* sp_slow: whether code point c may start something other than itself: a surrogate (three U+FFFD), a
 * user-defined symbol, or a charsmap rule (beyond the BMP: one that starts with c's 64-code-point block). */
static inline int sp_slow(const SPEncoderObject *e, Py_UCS4 c) {
    if ((c >= 0xD800 && c <= 0xDFFF) || (e->n_user && e->user_first[(c & 255) >> 3] >> (c & 7) & 1)) return 1;
    if (!e->units) return 0;
    if (c >= 0x10000) {
        const Py_UCS4 block = (c - 0x10000) >> 6;
        return e->cm_astral[block >> 3] >> (block & 7) & 1;
    }
    return e->cm_slow[c >> 3] >> (c & 7) & 1;
}

/* sp_plain: whether the code point at i is emitted as it is, without a lookup: not sp_slow, or only the
 * start of charsmap rules (sp_charsmap_kind 1) that the next character, or the text's end, does not go on
 * with. */
static inline int sp_plain(const SPEncoderObject *e, const Text *t, Py_ssize_t i) {
    Py_UCS4 c = CP(t, i);
    if (!sp_slow(e, c)) return 1;
    if (c >= 0x10000 || !e->cm_next || !(e->cm_next[c >> 3] >> (c & 7) & 1) ||
        (e->n_user && e->user_first[(c & 255) >> 3] >> (c & 7) & 1))
        return 0; /* (a surrogate is never in cm_next) */
    return i + 1 >= t->n || !sp_continues(e, CP(t, i + 1));
}

/* utf8_decode_one: the code point at p (n bytes left) and its length, or 0 if not valid UTF-8. */
static int utf8_decode_one(const unsigned char *p, Py_ssize_t n, Py_UCS4 *out) {
    unsigned char b = p[0];
    int len = b < 0x80 ? 1 : b >> 5 == 6 ? 2 : b >> 4 == 14 ? 3 : b >> 3 == 30 ? 4 : 0;
    if (!len || len > n) return 0;
    Py_UCS4 c = len == 1 ? b : len == 2 ? b & 31 : len == 3 ? b & 15 : b & 7;
    for (int k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (p[k] & 63);
    }
    static const Py_UCS4 min_of[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min_of[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *out = c;
    return len;
}

static int sp_emit(SPScratch *s, Py_UCS4 c, int32_t start) {
    if (buf_push(&s->norm, (int32_t)c) < 0 || buf_push(&s->start, start) < 0) return -1;
    return 0;
}

/* sp_prefix <-> SentencePieceNormalizer._prefix at code point i: writes the replacement's code points to rep
 * (at most SP_WINDOW) and returns how many code points of the text it consumes; 0: a surrogate's first byte, not UTF-8 (the caller emits its three
 * U+FFFD); -2: a charsmap replacement that is not UTF-8. */
static Py_ssize_t sp_prefix(const SPEncoderObject *e, const Text *t, Py_ssize_t i, Py_UCS4 *rep, int *n_rep) {
    Py_UCS4 c0 = CP(t, i);
    if (sp_plain(e, t, i)) { /* the common case: a character no rule or user-defined symbol here starts with */
        rep[0] = c0;
        *n_rep = 1;
        return 1;
    }
    Py_ssize_t best = 0, which = -1;
    for (Py_ssize_t k = 0; e->user_first[(c0 & 255) >> 3] >> (c0 & 7) & 1 && k < e->n_user; k++) {
        Py_ssize_t len = e->user_len[k];
        if (len <= best || i + len > t->n) continue;
        Py_ssize_t j = 0;
        while (j < len && CP(t, i + j) == e->user[k][j]) j++;
        if (j == len) best = len, which = k;
    }
    if (which >= 0) {
        for (Py_ssize_t j = 0; j < best; j++) rep[j] = e->user[which][j];
        *n_rep = (int)best;
        return best;
    }
    if (c0 >= 0xD800 && c0 <= 0xDFFF) return 0;
    if (e->units) {
        uint32_t value = 0;
        Py_ssize_t chars = 1;
        if (charsmap_at(e, t, i, &value, &chars)) {
            if ((Py_ssize_t)value >= e->pool_size) return -2;
            const unsigned char *p = e->pool + value;
            Py_ssize_t room = e->pool_size - value, k = 0;
            int n = 0;
            while (k < room && p[k] && n < SP_WINDOW) {
                int l = utf8_decode_one(p + k, room - k, &rep[n]);
                if (!l) return -2;
                k += l;
                n++;
            }
            *n_rep = n;
            return chars;
        }
    }
    rep[0] = c0;
    *n_rep = 1;
    return 1;
}

/* sp_normalize <-> SentencePieceNormalizer.normalize: fills s->norm and s->start; *end: where the last
 * character's input ends. */
static int sp_normalize(const SPEncoderObject *e, SPScratch *s, const Text *t, int32_t *end) {
    const Py_UCS4 space = e->escape ? 0x2581 : ' ';
    Py_UCS4 rep[SP_WINDOW];
    int n_rep;
    Py_ssize_t i = 0, n = t->n;
    s->norm.n = s->start.n = 0;
    if (e->remove_extra) {
        while (i < n) {
            Py_ssize_t used = sp_prefix(e, t, i, rep, &n_rep);
            if (used == -2) return -2;
            if (used == 0 || n_rep != 1 || rep[0] != ' ') break;
            i += used;
        }
    }
    if (i == n) {
        *end = (int32_t)n;
        return 0;
    }
    if (e->add_dummy_prefix && !e->suffix && sp_emit(s, space, (int32_t)i) < 0) return -1;
    int prev_space = e->remove_extra;
    while (i < n) {
        /* a run of characters that stay as they are and of spaces (when no rule starts with one), one loop per
         * string kind */
        if (buf_reserve(&s->norm, n - i) < 0 || buf_reserve(&s->start, n - i) < 0) return -1;
        int32_t *nv = s->norm.v + s->norm.n, *sv = s->start.v + s->start.n;
        const int squeeze = e->remove_extra;
        const unsigned char *run = e->run;
#define SP_RUN(T)                                                                                             \
    do {                                                                                                      \
        const T *d = (const T *)t->data;                                                                      \
        while (i < n) {                                                                                       \
            Py_UCS4 c = d[i];                                                                                 \
            int kind = c < 0x10000 ? run[c] & SP_KIND : sp_slow(e, c) ? 0 : SP_PLAIN;                         \
            if (kind == SP_PLAIN || (kind == SP_PLAIN_UNLESS_NEXT && (i + 1 >= n || !sp_continues(e, d[i + 1])))) { \
                *nv++ = (int32_t)c, *sv++ = (int32_t)i, i++, prev_space = 0;                                  \
            } else if (kind == SP_SPACE) {                                                                    \
                if (!(squeeze && prev_space)) *nv++ = (int32_t)space, *sv++ = (int32_t)i, prev_space = squeeze; \
                i++;                                                                                          \
            } else {                                                                                          \
                break;                                                                                        \
            }                                                                                                 \
        }                                                                                                     \
    } while (0)
        if (t->kind == PyUnicode_1BYTE_KIND)
            SP_RUN(Py_UCS1);
        else if (t->kind == PyUnicode_2BYTE_KIND)
            SP_RUN(Py_UCS2);
        else
            SP_RUN(Py_UCS4);
#undef SP_RUN
        s->norm.n = nv - s->norm.v, s->start.n = sv - s->start.v;
        if (i >= n) break;
        Py_UCS4 c = CP(t, i);
        if (c != ' ' && sp_plain(e, t, i)) { /* (a code point the runs stop at: one that is plain after all) */
            if (sp_emit(s, c, (int32_t)i) < 0) return -1;
            prev_space = 0;
            i++;
            continue;
        }
        Py_ssize_t used = sp_prefix(e, t, i, rep, &n_rep);
        if (used == -2) return -2;
        if (used == 0) { /* a surrogate: three U+FFFD, no space among them */
            for (int k = 0; k < 3; k++)
                if (sp_emit(s, 0xFFFD, (int32_t)i) < 0) return -1;
            prev_space = 0;
            i += 1;
            continue;
        }
        int k = 0;
        if (prev_space)
            while (k < n_rep && rep[k] == ' ') k++;
        if (k < n_rep) {
            for (int m = k; m < n_rep; m++)
                if (sp_emit(s, rep[m] == ' ' ? space : rep[m], (int32_t)i) < 0) return -1;
            prev_space = rep[n_rep - 1] == ' ';
        }
        i += used;
        if (!e->remove_extra) prev_space = 0;
    }
    int32_t last = (int32_t)n;
    if (e->remove_extra)
        while (s->norm.n && (Py_UCS4)s->norm.v[s->norm.n - 1] == space) {
            last = s->start.v[--s->start.n];
            s->norm.n--;
        }
    if (e->add_dummy_prefix && e->suffix && sp_emit(s, space, last) < 0) return -1;
    *end = last;
    return 0;
}

/* room in best[] and link[] for a path over s->norm */
static int sp_reserve_path(SPScratch *s) {
    Py_ssize_t n = s->norm.n;
    if (n + 1 > s->cap) {
        Py_ssize_t cap = 2 * (n + 1);
        double *best = realloc(s->best, (size_t)cap * sizeof(double));
        if (best) s->best = best;
        SPLink *link = realloc(s->link, (size_t)cap * sizeof(SPLink));
        if (link) s->link = link;
        if (!best || !link) return -1;
        s->cap = cap;
    }
    return 0;
}

/* sp_way: link (start, id) as the one 64-bit word an SPLink is in memory; sp_way_of: an SPLink's */
static inline uint64_t sp_way_of(const SPLink *l) {
    uint64_t w;
    memcpy(&w, l, sizeof w);
    return w;
}

static inline uint64_t sp_way(Py_ssize_t start, int32_t id) {
    const SPLink l = {(int32_t)start, id};
    return sp_way_of(&l);
}

/* SP_VITERBI(NAME, T, ROUND): sp_viterbi's loop with path scores of type T, each candidate through ROUND
 * before it is compared. From each start the trie walk goes on while the node has a child by the next
 * character; a candidate replaces an end's way in only when strictly greater (the first of equal
 * ones stays, as the reference's): every end but 0 starts at minus infinity, so the first candidate always
 * wins, and the way in is chosen by a mask, not a branch (its outcome is a coin). */
#define SP_VITERBI(NAME, T, ROUND)                                                                            \
    static void NAME(const SPEncoderObject *e, const Py_UCS4 *cp, Py_ssize_t n, T *best, SPLink *link,       \
                     const T *score, T unk) {                                                                 \
        const CpTrie *trie = &e->trie;                                                                        \
        const int32_t *token = trie->token, *root = trie->root;                                               \
        best[0] = 0, link[0].from = -1;                                                                       \
        for (Py_ssize_t k = 1; k <= n; k++) best[k] = -(T)INFINITY, link[k].from = -1;                        \
        for (Py_ssize_t start = 0; start < n; start++) {                                                      \
            const T here = best[start];                                                                       \
            const Py_UCS4 c = cp[start];                                                                      \
            int32_t node = c < 0x10000 ? root[c] : cptrie_step(trie, 0, c);                                   \
            const int single = node >= 0 && token[node] >= 0;                                                 \
            for (Py_ssize_t end = start + 1; node >= 0; end++) {                                              \
                const int32_t id = token[node]; /* -1: no piece, scored minus infinity: never taken */      \
                const T cand = ROUND(score[id] + here), old = best[end];                                      \
                const uint64_t take = -(uint64_t)(cand > old), way = (sp_way(start, id) & take) |              \
                                                                   (sp_way_of(&link[end]) & ~take);           \
                best[end] = cand > old ? cand : old;                                                          \
                memcpy(&link[end], &way, sizeof way); /* (start, id) as one word, chosen without a branch */  \
                if (end == n) break;                                                                          \
                node = cptrie_step(trie, node, cp[end]);                                                      \
            }                                                                                                 \
            if (!single) {                                                                                    \
                const T cand = ROUND(unk + here);                                                             \
                if (cand > best[start + 1]) best[start + 1] = cand, link[start + 1] = (SPLink){(int32_t)start, -1}; \
            }                                                                                                 \
        }                                                                                                     \
    }
#define SP_TO_FLOAT32(x) ((double)(float)(x))
SP_VITERBI(sp_viterbi_float, float, )                /* SentencePiece's float32 sums, in float32 */
SP_VITERBI(sp_viterbi_rounded, double, SP_TO_FLOAT32) /* the same, where a score is not a float32 */
SP_VITERBI(sp_viterbi_double, double, )              /* HF tokenizers' float64 sums */
#undef SP_VITERBI
#undef SP_TO_FLOAT32

/* sp_viterbi <-> unigram_core.viterbi over s->norm: link[end] = (start, id), id -1 for an unknown character.
 * A float32 sum of two float32 numbers computed in float64 and then rounded is the float32 sum, so where
 * every score is a float32 (e->fscore) the loop runs in float32 (half the memory, no conversions). */
static int sp_viterbi(const SPEncoderObject *e, SPScratch *s) {
    if (sp_reserve_path(s) < 0) return -1;
    const Py_UCS4 *cp = (const Py_UCS4 *)s->norm.v;
    if (e->fscore)
        sp_viterbi_float(e, cp, s->norm.n, (float *)s->best, s->link, e->fscore, (float)e->unk_score);
    else if (e->float32)
        sp_viterbi_rounded(e, cp, s->norm.n, s->best, s->link, e->vscore, e->unk_score);
    else
        sp_viterbi_double(e, cp, s->norm.n, s->best, s->link, e->vscore, e->unk_score);
    return 0;
}

/* sp_random <-> unigram_core.SplitMix64.random */
static double sp_random(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
}

/* ------------------------------------------------------------------------------------------------ */
/* SentencePiece BPE                                                                                */
/* ------------------------------------------------------------------------------------------------ */
/* whether pair x comes out of the heap before y (unigram_core.bpe_path's tuple order) */
static int bpe_before(const BpePair *x, const BpePair *y) {
    if (x->score != y->score) return x->score > y->score;
    if (x->a != y->a) return x->a < y->a;
    if (x->b != y->b) return x->b < y->b;
    return x->size < y->size;
}

static int bpe_push(BpeHeap *h, BpePair p) {
    if (h->n == h->cap) {
        Py_ssize_t cap = h->cap ? 2 * h->cap : 64;
        BpePair *v = realloc(h->v, (size_t)cap * sizeof(BpePair));
        if (!v) return -1;
        h->v = v, h->cap = cap;
    }
    Py_ssize_t i = h->n++;
    h->v[i] = p;
    while (i > 0 && bpe_before(&h->v[i], &h->v[(i - 1) / 2])) {
        BpePair t = h->v[i];
        h->v[i] = h->v[(i - 1) / 2];
        h->v[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
    return 0;
}

static BpePair bpe_pop(BpeHeap *h) {
    BpePair top = h->v[0];
    h->v[0] = h->v[--h->n];
    for (Py_ssize_t i = 0;;) {
        Py_ssize_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && bpe_before(&h->v[l], &h->v[m])) m = l;
        if (r < h->n && bpe_before(&h->v[r], &h->v[m])) m = r;
        if (m == i) break;
        BpePair t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
    return top;
}

/* the id of the mergeable piece cp[a, b), or -1 */
static int32_t bpe_lookup(const SPEncoderObject *e, const Py_UCS4 *cp, Py_ssize_t a, Py_ssize_t b) {
    int32_t node = 0;
    for (Py_ssize_t k = a; k < b && node >= 0; k++) node = cptrie_step(&e->trie, node, cp[k]);
    return node > 0 ? e->trie.token[node] : -1;
}

/* bpe_merged: the id of piece a + piece b (a symbol's id is its text's piece, -1 none), or -1: by the
 * merge table, or by the trie for a symbol that is no piece (its text is then walked) */
static inline int32_t bpe_merged(const SPEncoderObject *e, const Py_UCS4 *cp, int32_t ida, int32_t idb, Py_ssize_t a,
                                 Py_ssize_t b) {
    if (ida < 0 || idb < 0 || !e->merges.slots) return bpe_lookup(e, cp, a, b);
    return pair_index_get(&e->merges, ida, idb);
}

typedef struct {
    const SPEncoderObject *e;
    const Py_UCS4 *cp; /* the symbols' text: s->norm from position base */
    int32_t base;
    int32_t *start, *end, *nxt, *prv, *sym; /* per symbol: its text, neighbours and piece id (-1: none) */
    int32_t *alive, *frozen;
    BpeHeap *heap;
    Buf *left; /* (unused id, length of its left part when last offered) pairs */
} BpeState;

static int bpe_offer(BpeState *st, int32_t a, int32_t b) {
    if (a < 0 || b < 0 || st->frozen[a] || st->frozen[b]) return 0;
    int32_t id = bpe_merged(st->e, st->cp, st->sym[a], st->sym[b], st->start[a], st->end[b]);
    if (id < 0) return 0;
    if (bpe_push(st->heap, (BpePair){st->e->score[id], a, b, st->end[b] - st->start[a], id}) < 0) return -1;
    if (!st->e->unused[id]) return 0;
    Buf *left = st->left;
    for (Py_ssize_t k = 0; k < left->n; k += 2)
        if (left->v[k] == id) return left->v[k + 1] = st->end[a] - st->start[a], 0;
    return buf_push(left, id) < 0 || buf_push(left, st->end[a] - st->start[a]) < 0 ? -1 : 0;
}

/* resegment <-> bpe_path's: the piece cp[a, b) (id: its piece, -1 none) onto the path in link[], unused
 * ones split back */
static void bpe_resegment(const BpeState *st, SPScratch *s, int32_t a, int32_t b, int32_t id) {
    const Buf *left = st->left;
    if (id >= 0 && st->e->unused[id])
        for (Py_ssize_t k = 0; k < left->n; k += 2)
            if (left->v[k] == id) {
                int32_t mid = a + left->v[k + 1];
                bpe_resegment(st, s, a, mid, bpe_lookup(st->e, st->cp, a, mid));
                bpe_resegment(st, s, mid, b, bpe_lookup(st->e, st->cp, mid, b));
                return;
            }
    s->link[st->base + b] = (SPLink){st->base + a, id};
}

/* bpe_range <-> unigram_core.bpe_path over s->norm[lo, hi), the path into link[] there; dropout
 * with rng when rng is not NULL (SplitMix64, one number per merge considered). */
static int bpe_range(const SPEncoderObject *e, SPScratch *s, Py_ssize_t lo, Py_ssize_t hi, double dropout,
                     uint64_t *rng) {
    Py_ssize_t n = hi - lo;
    BpeState st = {e, (const Py_UCS4 *)s->norm.v + lo, (int32_t)lo};
    s->bpe_ints.n = s->bpe_heap.n = s->bpe_left.n = 0;
    if (buf_reserve(&s->bpe_ints, 7 * (n + 1)) < 0) return -1;
    st.start = s->bpe_ints.v, st.end = st.start + (n + 1), st.nxt = st.end + (n + 1), st.prv = st.nxt + (n + 1);
    st.sym = st.prv + (n + 1), st.alive = st.sym + (n + 1), st.frozen = st.alive + (n + 1);
    st.heap = &s->bpe_heap, st.left = &s->bpe_left;
    int32_t count = 0;
    for (Py_ssize_t pos = 0; pos < n;) { /* characters; a user-defined symbol whole and frozen */
        Py_ssize_t len = 1;
        st.frozen[count] = 0;
        for (Py_ssize_t k = 0; k < e->n_bpe_user; k++) {
            Py_ssize_t ul = e->bpe_user_len[k], j = 0;
            if (pos + ul > n) continue;
            while (j < ul && st.cp[pos + j] == e->bpe_user[k][j]) j++;
            if (j == ul) {
                len = ul, st.frozen[count] = 1;
                break;
            }
        }
        st.start[count] = (int32_t)pos;
        st.sym[count] = bpe_lookup(e, st.cp, pos, pos + len);
        st.alive[count] = 1;
        count++;
        pos += len;
    }
    for (int32_t k = 0; k < count; k++) {
        st.end[k] = k + 1 < count ? st.start[k + 1] : (int32_t)n;
        st.nxt[k] = k + 1 < count ? k + 1 : -1;
        st.prv[k] = k - 1;
    }
    for (int32_t k = 1; k < count; k++)
        if (bpe_offer(&st, k - 1, k) < 0) return -1;
    while (st.heap->n) {
        BpePair p = bpe_pop(st.heap);
        if (!st.alive[p.a] || !st.alive[p.b] || st.nxt[p.a] != p.b || st.end[p.b] - st.start[p.a] != p.size) continue;
        if (rng && dropout != 0.0 && (dropout >= 1.0 || sp_random(rng) < dropout)) continue;
        st.end[p.a] = st.end[p.b];
        st.sym[p.a] = p.id;
        st.alive[p.b] = 0;
        st.nxt[p.a] = st.nxt[p.b];
        if (st.nxt[p.b] >= 0) st.prv[st.nxt[p.b]] = p.a;
        if (bpe_offer(&st, st.prv[p.a], p.a) < 0 || bpe_offer(&st, p.a, st.nxt[p.a]) < 0) return -1;
    }
    for (int32_t k = count ? 0 : -1; k >= 0; k = st.nxt[k]) bpe_resegment(&st, s, st.start[k], st.end[k], st.sym[k]);
    return 0;
}

/* bpe_word_slot: the cache slot of word cp[0, len) (hash h): the word's, or the empty one where it would go */
static size_t bpe_word_slot(const BpeCache *c, const Py_UCS4 *cp, int32_t len, uint64_t h) {
    size_t i = (size_t)h & c->mask;
    for (;; i = (i + 1) & c->mask) {
        const BpeWord *w = &c->slots[i];
        if (w->len < 0) return i;
        if (w->hash == h && w->len == len && !memcmp(c->chars.v + w->at, cp, (size_t)len * sizeof(Py_UCS4))) return i;
    }
}

/* sp_bpe <-> unigram_core.bpe_path over s->norm. Where each word merges alone (e->bpe_words), no dropout
 * draws and the cache pays off (a batch, or a text of 1024 characters or more), word by word (a word: a
 * space and what follows up to the next one), each word's segmentation cached in s->words (it is the same
 * wherever the word stands: merges never cross a word start, and the heap's order within a word is the
 * same alone); otherwise bpe_range over it all. */
static int sp_bpe(const SPEncoderObject *e, SPScratch *s, double dropout, uint64_t *rng) {
    Py_ssize_t n = s->norm.n;
    if (sp_reserve_path(s) < 0) return -1;
    if (rng || !e->bpe_words || (!s->many && n < 1024)) return bpe_range(e, s, 0, n, dropout, rng);
    BpeCache *c = &s->words;
    if (!c->slots) {
        c->slots = malloc(BPE_CACHE_SLOTS * sizeof(BpeWord));
        if (!c->slots) return -1;
        c->mask = BPE_CACHE_SLOTS - 1;
        for (size_t i = 0; i <= c->mask; i++) c->slots[i].len = -1;
    }
    const Py_UCS4 *cp = (const Py_UCS4 *)s->norm.v, space = e->escape ? 0x2581 : ' ';
    for (Py_ssize_t lo = 0, hi; lo < n; lo = hi) {
        for (hi = lo + 1; hi < n && cp[hi] != space; hi++) {
        }
        int32_t len = (int32_t)(hi - lo);
        uint64_t h = 0x9E3779B97F4A7C15ull;
        for (int32_t k = 0; k < len; k++) h = mix64(h ^ cp[lo + k]);
        size_t at = len <= BPE_CACHE_WORD ? bpe_word_slot(c, cp + lo, len, h) : 0;
        if (len <= BPE_CACHE_WORD && c->slots[at].len >= 0) { /* seen: its pieces as (end, start, id) */
            const BpeWord *w = &c->slots[at];
            for (int32_t k = 0; k < w->n_pieces; k++) {
                const int32_t *p = c->pieces.v + w->pieces + 3 * k;
                s->link[lo + p[0]] = (SPLink){(int32_t)lo + p[1], p[2]};
            }
            continue;
        }
        if (bpe_range(e, s, lo, hi, 0.0, NULL) < 0) return -1;
        if (len > BPE_CACHE_WORD) continue;
        if (c->used >= BPE_CACHE_SLOTS / 2) { /* full: start again */
            for (size_t i = 0; i <= c->mask; i++) c->slots[i].len = -1;
            c->used = c->chars.n = c->pieces.n = 0;
            at = bpe_word_slot(c, cp + lo, len, h);
        }
        BpeWord w = {h, (int32_t)c->chars.n, len, (int32_t)c->pieces.n, 0};
        if (buf_reserve(&c->chars, len) < 0) return -1;
        memcpy(c->chars.v + c->chars.n, cp + lo, (size_t)len * sizeof(Py_UCS4));
        c->chars.n += len;
        for (Py_ssize_t b = hi; b > lo; b = s->link[b].from, w.n_pieces++)
            if (buf_push(&c->pieces, (int32_t)(b - lo)) < 0 || buf_push(&c->pieces, s->link[b].from - (int32_t)lo) < 0 ||
                buf_push(&c->pieces, s->link[b].id) < 0)
                return -1;
        c->slots[at] = w;
        c->used++;
    }
    return 0;
}

/* span <-> Normalized.original_span with ends[i] = starts[i + 1] and the last one's end ``end``. */
static void sp_span(const SPScratch *s, int32_t end, Py_ssize_t a, Py_ssize_t b, int32_t *out) {
    Py_ssize_t n = s->norm.n;
    if (a >= b) {
        out[0] = out[1] = a < n ? s->start.v[a] : end;
        return;
    }
    out[0] = s->start.v[a];
    out[1] = b < n ? s->start.v[b] : end;
}

/* byte_fallback_ids: the byte pieces' ids of code point c's UTF-8 (a surrogate's as 'surrogatepass' writes
 * it: the same three-byte form) written at out; returns the end. */
static inline int32_t *byte_fallback_ids(const SPEncoderObject *e, Py_UCS4 c, int32_t *out) {
    const int32_t *byte = e->byte_ids;
    if (c < 0x80) {
        *out++ = byte[c];
    } else if (c < 0x800) {
        *out++ = byte[0xC0 | (c >> 6)], *out++ = byte[0x80 | (c & 63)];
    } else if (c < 0x10000) {
        *out++ = byte[0xE0 | (c >> 12)], *out++ = byte[0x80 | ((c >> 6) & 63)], *out++ = byte[0x80 | (c & 63)];
    } else {
        *out++ = byte[0xF0 | (c >> 18)], *out++ = byte[0x80 | ((c >> 12) & 63)];
        *out++ = byte[0x80 | ((c >> 6) & 63)], *out++ = byte[0x80 | (c & 63)];
    }
    return out;
}

/* sp_path_only_ids: sp_path_ids without spans (a flat or list batch), in the one walk back along link[]: the
 * ids written from the end of room for the most there can be (one per code point, four with byte fallback),
 * then moved to the front (the walk back is a chain of loads, and a second pass over the pieces cost as
 * much again). Unknown pieces in a row keep one id (each writes it, the first written keeps its place),
 * or are spelled as their characters' bytes. */
static int sp_path_only_ids(const SPEncoderObject *e, SPScratch *s, Buf *ids) {
    const Py_ssize_t n = s->norm.n, most = e->has_bytes ? 4 * n : n;
    if (buf_reserve(ids, most) < 0) return -1;
    const Py_UCS4 *cp = (const Py_UCS4 *)s->norm.v;
    const SPLink *link = s->link;
    const int32_t unk_id = e->unk_id;
    int32_t *const first = ids->v + ids->n, *out = first + most;
    int next_unk = 0; /* whether the piece after this one (the one written before) is unknown */
    if (e->has_bytes) {
        for (Py_ssize_t k = n; k > 0;) {
            const SPLink in = link[k];
            if (in.id < 0 || in.id == unk_id) {
                for (Py_ssize_t j = k - 1; j >= in.from; j--) {
                    const Py_UCS4 c = cp[j];
                    out -= 1 + (c >= 0x80) + (c >= 0x800) + (c >= 0x10000);
                    byte_fallback_ids(e, c, out);
                }
            } else {
                *--out = in.id;
            }
            k = in.from;
        }
    } else {
        for (Py_ssize_t k = n; k > 0;) { /* (no branch but the loop's: whether a piece is unknown is a coin) */
            const SPLink in = link[k];
            const int is_unk = (in.id < 0) | (in.id == unk_id);
            out[-1] = in.id + ((unk_id - in.id) & -is_unk); /* (is_unk ? unk_id : in.id, which gcc branches on) */
            out -= 1 - (is_unk & next_unk);
            next_unk = is_unk;
            k = in.from;
        }
    }
    const Py_ssize_t written = first + most - out;
    memmove(first, out, (size_t)written * sizeof(int32_t));
    ids->n += written;
    return 0;
}

/* sp_path_ids <-> SentencePieceEncoder._ids_and_spans: the ids and spans of the path that link[] holds
 * (from the end of s->norm back to its start); end: where the normalized text ends. offs NULL:
 * the ids alone (sp_path_only_ids), the same ids. */
static int sp_path_ids(const SPEncoderObject *e, SPScratch *s, int32_t end, Buf *ids, Buf *offs) {
    if (!offs) return sp_path_only_ids(e, s, ids);
    Py_ssize_t n = s->norm.n, count = 0;
    Buf *path = &s->path; /* (end, id) of each piece, last first: one walk back, at most n pieces */
    if (buf_reserve(path, 2 * n + 2) < 0) return -1;
    int32_t *pv = path->v;
    for (Py_ssize_t k = n; k > 0; k = s->link[k].from, count++) pv[2 * count] = (int32_t)k, pv[2 * count + 1] = s->link[k].id;
    pv[2 * count] = 0; /* the first piece's start */
    const int has_bytes = e->has_bytes;
    /* at most one id per piece, and with byte fallback up to three more per code point */
    const Py_ssize_t most = count + (has_bytes ? 3 * n : 0);
    if (buf_reserve(ids, most) < 0 || buf_reserve(offs, 2 * most) < 0) return -1;
    const Py_UCS4 *cp = (const Py_UCS4 *)s->norm.v;
    const int32_t unk_id = e->unk_id;
    int32_t *out = ids->v + ids->n, *ov = offs->v + offs->n;
    int prev_unk = 0;
    for (Py_ssize_t m = count - 1; m >= 0; m--) {
        const int32_t b = pv[2 * m], id = pv[2 * m + 1], a = pv[2 * m + 2];
        const int is_unk = id < 0 || id == unk_id;
        int32_t span[2];
        if (is_unk && has_bytes) {
            int32_t *first = out, empty[2]; /* every byte but the last spans nothing, where the piece starts */
            for (int32_t k = a; k < b; k++) out = byte_fallback_ids(e, cp[k], out);
            sp_span(s, end, a, a, empty);
            sp_span(s, end, a, b, span);
            for (int32_t *at = first; at < out; at++) {
                const int32_t *x = at == out - 1 ? span : empty;
                *ov++ = x[0], *ov++ = x[1];
            }
        } else if (is_unk && prev_unk) {
            sp_span(s, end, a, b, span);
            ov[-1] = span[1];
        } else {
            *out++ = is_unk ? unk_id : id;
            sp_span(s, end, a, b, span);
            *ov++ = span[0], *ov++ = span[1];
        }
        prev_unk = is_unk;
    }
    ids->n = out - ids->v;
    offs->n = ov - offs->v;
    return 0;
}

/* sp_text_core <-> SentencePieceEncoder.encode_text; runs without the GIL. -2: a damaged charsmap. */
static int sp_text_core(const SPEncoderObject *e, SPScratch *s, const Text *t, Buf *ids, Buf *offs) {
    int32_t end;
    int r = sp_normalize(e, s, t, &end);
    if (r < 0) return r;
    if (!s->norm.n) return 0;
    if ((e->bpe ? sp_bpe(e, s, 0.0, NULL) : sp_viterbi(e, s)) < 0) return -1;
    return sp_path_ids(e, s, end, ids, offs);
}

/* sp_logsumexp <-> unigram_core.logsumexp over v[0..n): the first largest, then a left-to-right sum */
static double sp_logsumexp(const double *v, Py_ssize_t n) {
    double top = -INFINITY, acc = 0.0;
    for (Py_ssize_t k = 0; k < n; k++)
        if (v[k] > top) top = v[k];
    if (top == -INFINITY) return top;
    for (Py_ssize_t k = 0; k < n; k++) acc += exp(v[k] - top);
    return top + log(acc);
}

/* sp_sample <-> unigram_core.sample over s->norm: a path drawn from the lattice (PieceTable.lattice's nodes
 * and scores) into link[], its numbers from the SplitMix64 state. */
static int sp_sample(const SPEncoderObject *e, SPScratch *s, double theta, uint64_t *rng) {
    Py_ssize_t n = s->norm.n;
    const Py_UCS4 *cp = (const Py_UCS4 *)s->norm.v;
    Buf start = {0}, endb = {0}, id = {0};
    double *score = NULL, *alpha = NULL, *vals = NULL;
    int32_t *first = NULL, *order = NULL;
    size_t cap = 0;
    int ok = 0;
    if (sp_reserve_path(s) < 0) return -1;
    for (Py_ssize_t a = 0; a < n; a++) { /* nodes by start: the unknown one first, then pieces shortest first */
        Py_ssize_t before = id.n;
        int32_t node = 0;
        int single = 0;
        for (Py_ssize_t b = a + 1; b <= n; b++) {
            node = cptrie_step(&e->trie, node, cp[b - 1]);
            if (node < 0) break;
            int32_t tok = e->trie.token[node];
            if (tok < 0) continue;
            if (b == a + 1) single = 1;
            if (buf_push(&start, (int32_t)a) < 0 || buf_push(&endb, (int32_t)b) < 0 || buf_push(&id, tok) < 0) goto done;
        }
        if (!single) {
            if (buf_push(&start, 0) < 0 || buf_push(&endb, 0) < 0 || buf_push(&id, 0) < 0) goto done;
            for (Py_ssize_t k = id.n - 1; k > before; k--)
                start.v[k] = start.v[k - 1], endb.v[k] = endb.v[k - 1], id.v[k] = id.v[k - 1];
            start.v[before] = (int32_t)a, endb.v[before] = (int32_t)(a + 1), id.v[before] = -1;
        }
    }
    cap = (size_t)id.n + 1;
    score = malloc(cap * sizeof(double));
    vals = malloc(cap * sizeof(double));
    alpha = malloc((size_t)(n + 1) * sizeof(double));
    first = calloc((size_t)(n + 2), sizeof(int32_t));
    order = malloc(cap * sizeof(int32_t));
    if (!score || !vals || !alpha || !first || !order) goto done;
    for (Py_ssize_t k = 0; k < id.n; k++) {
        int32_t i = id.v[k];
        score[k] = i < 0 ? e->unk_score : isnan(e->user_score_chars[i]) ? e->score[i] : e->user_score_chars[i];
        first[endb.v[k] + 1]++;
    }
    for (Py_ssize_t p = 1; p <= n + 1; p++) first[p] += first[p - 1]; /* nodes by end, start ascending */
    for (Py_ssize_t k = 0; k < id.n; k++) order[first[endb.v[k]]++] = (int32_t)k;
    for (Py_ssize_t p = n + 1; p > 0; p--) first[p] = first[p - 1];
    first[0] = 0;
    alpha[0] = 0.0;
    for (Py_ssize_t p = 1; p <= n; p++) {
        Py_ssize_t m = 0;
        for (int32_t j = first[p]; j < first[p + 1]; j++) vals[m++] = alpha[start.v[order[j]]] + theta * score[order[j]];
        alpha[p] = sp_logsumexp(vals, m);
    }
    for (Py_ssize_t p = n; p > 0;) {
        double total = 0.0;
        Py_ssize_t m = 0;
        for (int32_t j = first[p]; j < first[p + 1]; j++) {
            int32_t k = order[j];
            vals[m] = exp(alpha[start.v[k]] + theta * score[k] - alpha[p]);
            total += vals[m++];
        }
        double r = sp_random(rng) * total;
        Py_ssize_t pick = 0;
        while (pick < m - 1 && r >= vals[pick]) r -= vals[pick++];
        int32_t k = order[first[p] + pick];
        s->link[p] = (SPLink){start.v[k], id.v[k]};
        p = start.v[k];
    }
    ok = 1;
done:
    free(start.v), free(endb.v), free(id.v), free(score), free(vals), free(alpha), free(first), free(order);
    return ok ? 0 : -1;
}

/* sp_sample_core <-> SentencePieceEncoder.sample_text; runs without the GIL. -2: a damaged charsmap. */
static int sp_sample_core(const SPEncoderObject *e, SPScratch *s, const Text *t, double theta, uint64_t seed, Buf *ids,
                          Buf *offs) {
    int32_t end;
    int r = sp_normalize(e, s, t, &end);
    if (r < 0) return r;
    if (!s->norm.n) return 0;
    if ((e->bpe ? sp_bpe(e, s, theta, &seed) : sp_sample(e, s, theta, &seed)) < 0) return -1;
    return sp_path_ids(e, s, end, ids, offs);
}

static void sp_free_fields(SPEncoderObject *e) {
    for (Py_ssize_t k = 0; k < e->n_user && e->user; k++) PyMem_Free(e->user[k]); /* from AsUCS4Copy */
    free(e->user);
    free(e->user_len);
    e->user = NULL;
    e->user_len = NULL;
    e->n_user = 0;
    cptrie_free(&e->trie);
    free(e->score);
    free(e->user_score);
    free(e->user_score_chars);
    free(e->vscore ? e->vscore - 1 : NULL), free(e->fscore ? e->fscore - 1 : NULL);
    e->vscore = NULL, e->fscore = NULL;
    free(e->cm_slow), free(e->cm_next), free(e->run);
    e->cm_slow = e->cm_next = e->run = NULL;
    for (Py_ssize_t k = 0; k < e->n_bpe_user; k++) PyMem_Free(e->bpe_user[k]);
    free(e->bpe_user), free(e->bpe_user_len), free(e->unused);
    pair_index_free(&e->merges);
    e->bpe_user = NULL, e->bpe_user_len = NULL, e->unused = NULL, e->n_bpe_user = 0;
    e->score = NULL;
    e->user_score = NULL;
    e->user_score_chars = NULL;
    id_objects_free(&e->ids);
    Py_CLEAR(e->charsmap);
}

static Py_UCS4 *ucs4_of(PyObject *str, Py_ssize_t *n) {
    *n = PyUnicode_GET_LENGTH(str);
    return PyUnicode_AsUCS4Copy(str);
}

#define SP_MAX_MERGES (1 << 22) /* more (piece, split) pairs than this: no table, the trie walks instead */

/* sp_build_merges: bpe_merged's table, from every matchable piece's splits into two pieces (its trie id,
 * as bpe_lookup finds it, for the pair of its halves' trie ids). -1 with an exception set. */
static int sp_build_merges(SPEncoderObject *e, PyObject *pieces, PyObject *matchable) {
    Buf triples = {0};
    int ok = 0;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(pieces) && triples.n / 3 <= SP_MAX_MERGES; k++) {
        int m = PyObject_IsTrue(PyList_GET_ITEM(matchable, k));
        if (m < 0) goto done;
        if (!m) continue;
        Py_ssize_t len;
        Py_UCS4 *cp = ucs4_of(PyList_GET_ITEM(pieces, k), &len);
        if (!cp) goto done;
        int32_t whole = bpe_lookup(e, cp, 0, len);
        for (Py_ssize_t j = 1; j < len && whole >= 0; j++) {
            int32_t a = bpe_lookup(e, cp, 0, j), b = bpe_lookup(e, cp, j, len);
            if (a >= 0 && b >= 0 && (buf_push(&triples, a) < 0 || buf_push(&triples, b) < 0 || buf_push(&triples, whole) < 0)) {
                PyMem_Free(cp);
                PyErr_NoMemory();
                goto done;
            }
        }
        PyMem_Free(cp);
    }
    if (triples.n / 3 > SP_MAX_MERGES) { /* a vocabulary this large keeps its memory: bpe_merged walks the trie */
        ok = 1;
        goto done;
    }
    if (pair_index_init(&e->merges, (size_t)triples.n / 3) < 0) {
        pair_index_free(&e->merges);
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t t = 0; t < triples.n; t += 3) /* (a repeated pair names the same text) */
        pair_index_put(&e->merges, triples.v[t], triples.v[t + 1], triples.v[t + 2]);
    ok = 1;
done:
    free(triples.v);
    return ok ? 0 : -1;
}

/* SentencePieceEncoder(charsmap, flags, user_defined, pieces, scores, matchable, user, unk_id, byte_ids,
 * float32=True) */
static PyObject *sp_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *charsmap, *flags, *user_defined, *pieces, *scores, *matchable, *user, *byte_ids;
    long unk_id;
    int float32 = 1;
    PyObject *bpe_unused = Py_None;
    if (!PyArg_ParseTuple(args, "OO!O!O!O!O!O!lO!|pO", &charsmap, &PyTuple_Type, &flags, &PyList_Type, &user_defined,
                          &PyList_Type, &pieces, &PyList_Type, &scores, &PyList_Type, &matchable, &PyList_Type, &user,
                          &unk_id, &PyList_Type, &byte_ids, &float32, &bpe_unused))
        return NULL;
    if (bpe_unused != Py_None && (!PyList_Check(bpe_unused) || PyList_GET_SIZE(bpe_unused) != PyList_GET_SIZE(pieces)))
        return PyErr_SetString(PyExc_ValueError, "bpe_unused must be None or one flag per piece"), NULL;
    Py_ssize_t n = PyList_GET_SIZE(pieces);
    if (PyList_GET_SIZE(scores) != n || PyList_GET_SIZE(matchable) != n || PyList_GET_SIZE(user) != n ||
        n > INT32_MAX / 2 || unk_id < 0 || unk_id >= n || (PyList_GET_SIZE(byte_ids) != 0 && PyList_GET_SIZE(byte_ids) != 256)) {
        PyErr_SetString(PyExc_ValueError, "pieces, scores, matchable and user must have one entry per id; "
                                          "unk_id must be one of them; byte_ids empty or 256");
        return NULL;
    }
    SPEncoderObject *e = (SPEncoderObject *)type->tp_alloc(type, 0);
    if (!e) return NULL;
    e->float32 = float32;
    int fl[4];
    if (!PyArg_ParseTuple(flags, "pppp", &fl[0], &fl[1], &fl[2], &fl[3])) goto error;
    e->add_dummy_prefix = fl[0], e->remove_extra = fl[1], e->escape = fl[2], e->suffix = fl[3];
    if (charsmap != Py_None) {
        if (!PyBytes_Check(charsmap)) {
            PyErr_SetString(PyExc_TypeError, "charsmap must be bytes or None");
            goto error;
        }
        Py_ssize_t size = PyBytes_GET_SIZE(charsmap);
        const unsigned char *blob = (const unsigned char *)PyBytes_AS_STRING(charsmap);
        uint32_t trie_size = size >= 4 ? (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 |
                                             (uint32_t)blob[3] << 24
                                       : 0;
        if (size < 4 || trie_size == 0 || trie_size % 4 || 4 + (Py_ssize_t)trie_size > size) {
            PyErr_SetString(PyExc_ValueError, "precompiled charsmap: the trie does not fit the blob");
            goto error;
        }
        Py_INCREF(charsmap);
        e->charsmap = charsmap;
        e->units = (const uint32_t *)(blob + 4); /* little-endian hosts; the blob is little-endian */
        e->n_units = trie_size / 4;
        e->pool = blob + 4 + trie_size;
        e->pool_size = size - 4 - trie_size;
    }
    Py_ssize_t nu = PyList_GET_SIZE(user_defined);
    e->user = calloc((size_t)(nu ? nu : 1), sizeof(Py_UCS4 *));
    e->user_len = calloc((size_t)(nu ? nu : 1), sizeof(Py_ssize_t));
    if (!e->user || !e->user_len) goto nomem;
    for (Py_ssize_t k = 0; k < nu; k++) {
        PyObject *u = PyList_GET_ITEM(user_defined, k);
        if (!PyUnicode_Check(u)) {
            PyErr_SetString(PyExc_TypeError, "user_defined must be a list of str");
            goto error;
        }
        e->user[k] = ucs4_of(u, &e->user_len[k]);
        e->n_user = k + 1;
        if (!e->user[k]) goto error;
    }
    for (Py_ssize_t k = 0; k < nu; k++)
        if (e->user_len[k]) e->user_first[(e->user[k][0] & 255) >> 3] |= (unsigned char)(1u << (e->user[k][0] & 7));
    if (e->units) {
        e->cm_slow = calloc(0x10000 / 8, 1);
        e->cm_next = calloc(0x10000 / 8, 1);
        if (!e->cm_slow || !e->cm_next || !(e->run = calloc(0x10000, 1))) goto nomem;
        for (Py_UCS4 c = 0; c < 0x10000; c++) {
            int kind = c >= 0xD800 && c <= 0xDFFF ? 0 : sp_charsmap_kind(e, c, e->cont_lead);
            if (kind) e->cm_slow[c >> 3] |= (unsigned char)(1u << (c & 7));
            if (kind == 1) e->cm_next[c >> 3] |= (unsigned char)(1u << (c & 7));
            if (kind == 3) e->run[c] = SP_SPACE; /* (read and rewritten below) */
        }
        for (Py_UCS4 block = 0; block < (0x110000 - 0x10000) / 64; block++)
            if (sp_charsmap_astral(e, 0x10000 + 64 * block))
                e->cm_astral[block >> 3] |= (unsigned char)(1u << (block & 7));
    }
    if (!e->run && !(e->run = calloc(0x10000, 1))) goto nomem;
    for (Py_UCS4 c = 0; c < 0x10000; c++) { /* sp_normalize's runs (after user_first and the charsmap bits) */
        int slow = sp_slow(e, c), user = e->n_user && e->user_first[(c & 255) >> 3] >> (c & 7) & 1;
        const int to_space = e->run[c] == SP_SPACE;
        e->run[c] = 0;
        if (!slow)
            e->run[c] = c == ' ' ? SP_SPACE : SP_PLAIN;
        else if (c != ' ' && !user && e->cm_next && e->cm_next[c >> 3] >> (c & 7) & 1)
            e->run[c] = SP_PLAIN_UNLESS_NEXT;
        else if (!user && to_space)
            e->run[c] = SP_SPACE; /* mapped to " " alone: what a space does */
        unsigned char first[4]; /* c's first UTF-8 byte (a surrogate's, as charsmap_at writes it: 0xED) */
        utf8_put(c, first);
        if (e->cont_lead[first[0] >> 3] >> (first[0] & 7) & 1) e->run[c] |= SP_CONTINUES;
    }
    e->n_ids = (int32_t)n;
    e->unk_id = (int32_t)unk_id;
    e->score = malloc((size_t)(n ? n : 1) * sizeof(double));
    e->vscore = malloc((size_t)(n + 1) * sizeof(double));
    if (e->vscore) *e->vscore++ = -INFINITY;
    e->user_score = malloc((size_t)(n ? n : 1) * sizeof(double));
    e->user_score_chars = malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!e->score || !e->vscore || !e->user_score || !e->user_score_chars) goto nomem;
    /* min and max over normal pieces, as PieceTable */
    double min_s = 0.0, max_s = 1.1754943508222875e-38;
    int any = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        double v = PyFloat_AsDouble(PyList_GET_ITEM(scores, k));
        if (v == -1.0 && PyErr_Occurred()) goto error;
        e->score[k] = e->float32 ? (double)(float)v : v;
        e->user_score[k] = e->user_score_chars[k] = NAN;
        int m = PyObject_IsTrue(PyList_GET_ITEM(matchable, k)), u = PyObject_IsTrue(PyList_GET_ITEM(user, k));
        if (m < 0 || u < 0) goto error;
        PyObject *p = PyList_GET_ITEM(pieces, k);
        if (m && !PyUnicode_Check(p)) {
            PyErr_SetString(PyExc_TypeError, "a matchable piece must be a str");
            goto error;
        }
        if (m && !u) {
            if (!any || e->score[k] < min_s) min_s = e->score[k];
            if (e->score[k] > max_s) max_s = e->score[k];
            any = 1;
        }
    }
    e->unk_score = e->float32 ? (double)(float)(min_s - 10.0) : min_s - 10.0;
    int spans_words = e->suffix; /* (words end with the space there: not cached) */
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!PyObject_IsTrue(PyList_GET_ITEM(matchable, k))) continue;
        Py_ssize_t len;
        Py_UCS4 *s = ucs4_of(PyList_GET_ITEM(pieces, k), &len);
        if (!s) goto error;
        for (Py_ssize_t j = 1; j < len; j++) spans_words |= s[j] == (e->escape ? 0x2581 : ' ');
        int added = cptrie_add(&e->trie, s, len, (int32_t)k);
        PyMem_Free(s);
        if (added < 0) goto nomem;
        if (PyObject_IsTrue(PyList_GET_ITEM(user, k))) {
            Py_ssize_t nbytes;
            if (!PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(pieces, k), &nbytes)) {
                PyErr_Clear();
                PyObject *b = PyUnicode_AsEncodedString(PyList_GET_ITEM(pieces, k), "utf-8", "surrogatepass");
                if (!b) goto error;
                nbytes = PyBytes_GET_SIZE(b);
                Py_DECREF(b);
            }
            e->user_score[k] = (double)(float)((float)nbytes * (float)max_s) - 0.1;
            e->user_score_chars[k] = (double)(float)((double)(float)((float)len * (float)max_s) - 0.1);
        }
    }
    if (cptrie_finish(&e->trie, 1) < 0) goto nomem;
    if (bpe_unused != Py_None) { /* SentencePiece BPE: unused flags, user-defined pieces longest first */
        e->bpe = 1;
        e->unused = calloc((size_t)(n ? n : 1), 1);
        e->bpe_user = calloc((size_t)(n ? n : 1), sizeof(Py_UCS4 *));
        e->bpe_user_len = calloc((size_t)(n ? n : 1), sizeof(Py_ssize_t));
        if (!e->unused || !e->bpe_user || !e->bpe_user_len) goto nomem;
        for (Py_ssize_t k = 0; k < n; k++) {
            int un = PyObject_IsTrue(PyList_GET_ITEM(bpe_unused, k)), u = PyObject_IsTrue(PyList_GET_ITEM(user, k));
            if (un < 0 || u < 0) goto error;
            e->unused[k] = (unsigned char)un;
            if (!u) continue;
            Py_ssize_t len, at = e->n_bpe_user;
            Py_UCS4 *cps = ucs4_of(PyList_GET_ITEM(pieces, k), &len);
            if (!cps) goto error;
            while (at > 0 && e->bpe_user_len[at - 1] < len) { /* stable: equal lengths keep their order */
                e->bpe_user[at] = e->bpe_user[at - 1], e->bpe_user_len[at] = e->bpe_user_len[at - 1];
                at--;
            }
            e->bpe_user[at] = cps, e->bpe_user_len[at] = len;
            e->n_bpe_user++;
        }
    }
    if (e->bpe && sp_build_merges(e, pieces, matchable) < 0) goto error;
    if (e->bpe) {
        for (Py_ssize_t k = 0; k < n; k++) spans_words |= e->unused[k];
        for (Py_ssize_t k = 0; k < e->n_bpe_user; k++)
            for (Py_ssize_t j = 1; j < e->bpe_user_len[k]; j++) spans_words |= e->bpe_user[k][j] == (e->escape ? 0x2581 : ' ');
        e->bpe_words = !spans_words;
    }
    for (Py_ssize_t k = 0; k < n; k++) e->vscore[k] = isnan(e->user_score[k]) ? e->score[k] : e->user_score[k];
    int all_float = e->float32 && (double)(float)e->unk_score == e->unk_score;
    for (Py_ssize_t k = 0; k < n; k++) all_float &= (double)(float)e->vscore[k] == e->vscore[k];
    if (all_float) {
        if (!(e->fscore = malloc((size_t)(n + 1) * sizeof(float)))) goto nomem;
        *e->fscore++ = -INFINITY;
        for (Py_ssize_t k = 0; k < n; k++) e->fscore[k] = (float)e->vscore[k];
    }
    e->has_bytes = PyList_GET_SIZE(byte_ids) == 256;
    int32_t top = e->unk_id;
    for (int k = 0; k < 256 && e->has_bytes; k++) {
        long v = PyLong_AsLong(PyList_GET_ITEM(byte_ids, k));
        if (v == -1 && PyErr_Occurred()) goto error;
        if (v < 0 || v >= n) {
            PyErr_SetString(PyExc_ValueError, "byte_ids must be ids of pieces");
            goto error;
        }
        e->byte_ids[k] = (int32_t)v;
    }
    top = (int32_t)(n - 1);
    if (id_objects_make(&e->ids, top) < 0) goto nomem;
    return (PyObject *)e;
nomem:
    if (!PyErr_Occurred()) PyErr_NoMemory();
error:
    Py_DECREF(e);
    return NULL;
}

static void sp_dealloc(SPEncoderObject *e) {
    sp_free_fields(e);
    Py_TYPE(e)->tp_free((PyObject *)e);
}

static PyObject *sp_error(int r) {
    if (r == -2) PyErr_SetString(PyExc_ValueError, "precompiled charsmap: a replacement is not UTF-8");
    else PyErr_NoMemory();
    return NULL;
}

/* encode_text(text: str) -> (ids, offsets as int32 (start, end) pairs) */
static PyObject *sp_encode_text(SPEncoderObject *e, PyObject *args) {
    PyObject *str;
    if (!PyArg_ParseTuple(args, "U", &str) || check_text(str) < 0) return NULL;
    Text t;
    text_init(&t, str);
    Buf ids = {0}, offs = {0};
    SPScratch scratch = {0};
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = sp_text_core(e, &scratch, &t, &ids, &offs);
    Py_END_ALLOW_THREADS
    sp_scratch_free(&scratch);
    PyObject *res = r < 0 ? sp_error(r) : result_pair(&e->ids, &ids, &offs);
    free(ids.v);
    free(offs.v);
    return res;
}

/* sample_text(text, theta, seed) <-> SentencePieceEncoder.sample_text */
static PyObject *sp_sample_text(SPEncoderObject *e, PyObject *args) {
    PyObject *str;
    double theta;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "UdK", &str, &theta, &seed) || check_text(str) < 0) return NULL;
    Text t;
    text_init(&t, str);
    Buf ids = {0}, offs = {0};
    SPScratch scratch = {0};
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = sp_sample_core(e, &scratch, &t, theta, (uint64_t)seed, &ids, &offs);
    Py_END_ALLOW_THREADS
    sp_scratch_free(&scratch);
    PyObject *res = r < 0 ? sp_error(r) : result_pair(&e->ids, &ids, &offs);
    free(ids.v);
    free(offs.v);
    return res;
}

static void sp_batch_begin(Batch *b, void *state) {
    memset(state, 0, sizeof(SPScratch));
    ((SPScratch *)state)->many = 1; /* a worker's texts share its word cache */
}
static int sp_batch_encode(Batch *b, void *state, const Text *t, Buf *ids, Buf *aux) {
    return sp_text_core(b->enc, state, t, ids, aux) < 0 ? -1 : 0;
}
static void sp_batch_end(Batch *b, void *state) { sp_scratch_free(state); }
static void sp_batch_finish(Batch *b, void *state) {}
static const BatchOps SP_BATCH = {sp_batch_begin, sp_batch_encode, sp_batch_end, sp_batch_finish, sizeof(SPScratch), 1};

/* encode_batch(texts: list[str], num_threads: int = 1) -> list of (ids, offsets) */
static PyObject *sp_encode_batch(SPEncoderObject *e, PyObject *args) { return run_batch(e, &SP_BATCH, &e->ids, args, BATCH_PAIRS); }

/* encode_batch_flat(texts, num_threads=1, prefix=None, suffix=None) -> (int32 ids bytearray, int64 row starts
 * bytearray); prefix and suffix: ids around each text's (a list, or None) */
static PyObject *sp_encode_batch_flat(SPEncoderObject *e, PyObject *args) {
    return run_batch(e, &SP_BATCH, &e->ids, args, BATCH_FLAT);
}

/* encode_lines_flat(block, num_threads=1, prefix=None, suffix=None): encode_batch_flat over the lines of one
 * str (batch.c's block_lines: split at "\n" as a file's lines are), without a str per line */
static PyObject *sp_encode_lines_flat(SPEncoderObject *e, PyObject *args) {
    return run_batch(e, &SP_BATCH, &e->ids, args, BATCH_LINES);
}

/* encode_batch_ids(texts, num_threads=1) -> list of each text's ids (list[int]) */
static PyObject *sp_encode_batch_ids(SPEncoderObject *e, PyObject *args) {
    return run_batch(e, &SP_BATCH, &e->ids, args, BATCH_IDS);
}

typedef struct { /* a sampled batch: the encoder, theta and each text's seed */
    SPEncoderObject *e;
    double theta;
    uint64_t *seeds;
} SPSampleJob;

static int sp_sample_batch_encode(Batch *b, void *state, const Text *t, Buf *ids, Buf *aux) {
    const SPSampleJob *job = b->enc;
    return sp_sample_core(job->e, state, t, job->theta, job->seeds[t - b->texts], ids, aux) < 0 ? -1 : 0;
}
static const BatchOps SP_SAMPLE_BATCH = {sp_batch_begin, sp_sample_batch_encode, sp_batch_end, sp_batch_finish,
                                         sizeof(SPScratch), 1};

/* sample_batch(texts, theta, seeds, num_threads=1) <-> SentencePieceEncoder.sample_batch */
static PyObject *sp_sample_batch(SPEncoderObject *e, PyObject *args) {
    PyObject *texts, *seeds;
    double theta;
    int num_threads = 1;
    if (!PyArg_ParseTuple(args, "O!dO!|i", &PyList_Type, &texts, &theta, &PyList_Type, &seeds, &num_threads)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    if (PyList_GET_SIZE(seeds) != n) return PyErr_SetString(PyExc_ValueError, "one seed per text"), NULL;
    SPSampleJob job = {e, theta, malloc((size_t)(n ? n : 1) * sizeof(uint64_t))};
    if (!job.seeds) return PyErr_NoMemory();
    for (Py_ssize_t k = 0; k < n; k++) {
        job.seeds[k] = (uint64_t)PyLong_AsUnsignedLongLongMask(PyList_GET_ITEM(seeds, k));
        if (PyErr_Occurred()) return free(job.seeds), NULL;
    }
    PyObject *sub = Py_BuildValue("(Oi)", texts, num_threads), *out = sub ? run_batch(&job, &SP_SAMPLE_BATCH, &e->ids, sub, BATCH_PAIRS) : NULL;
    Py_XDECREF(sub);
    free(job.seeds);
    return out;
}

static PyMethodDef sp_methods[] = {
    {"encode_text", (PyCFunction)sp_encode_text, METH_VARARGS, "SentencePiece's pipeline: (ids, (start, end) per id)."},
    {"sample_text", (PyCFunction)sp_sample_text, METH_VARARGS,
     "encode_text with a segmentation drawn from the lattice (as SentencePieceEncoder.sample_text)."},
    {"sample_batch", (PyCFunction)sp_sample_batch, METH_VARARGS,
     "sample_text of each text with its seed, over num_threads threads (as SentencePieceEncoder.sample_batch)."},
    {"encode_batch", (PyCFunction)sp_encode_batch, METH_VARARGS,
     "encode_text of each text, spread over num_threads threads without the GIL; its ids between the prefix\n"
     "and suffix ids, where given."},
    {"encode_batch_flat", (PyCFunction)sp_encode_batch_flat, METH_VARARGS,
     "encode_batch's ids as one int32 bytearray and each text's start as an int64 bytearray (n + 1), each\n"
     "text's ids between the ids of prefix and suffix (lists, or None)."},
    {"encode_lines_flat", (PyCFunction)sp_encode_lines_flat, METH_VARARGS,
     "encode_batch_flat over the lines of one str (split at \"\\n\", as a file's lines), no str made per line."},
    {"encode_batch_ids", (PyCFunction)sp_encode_batch_ids, METH_VARARGS,
     "encode_batch's ids as a list of lists of int, no other object per text."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SentencePieceEncoderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "subtok._native.SentencePieceEncoder",
    .tp_basicsize = sizeof(SPEncoderObject),
    .tp_dealloc = (destructor)sp_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "SentencePiece's normalizer and Unigram Viterbi in one call (mirrors unigram_core.SentencePieceEncoder).",
    .tp_methods = sp_methods,
    .tp_new = sp_new,
};
