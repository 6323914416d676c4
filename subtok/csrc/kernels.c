/* kernels.c: the numeric kernels, apart from the tokenizers.
 *
 *   csr_dot      <-> subtok/sparse.py csr_dot: equivalent by test (chunked numpy there, a row loop over
 *                    threads here; equal to rounding)
 *   alias_build  <-> subtok/nn/layers.py AliasTable.__init__: mirrored line for line
 *   sgns_train   <-> no library twin: word2vec.py's numpy engine learns the same model a minibatch at a
 *                    time (equal in distribution, not bit for bit). tests/sgns_reference.py is this
 *                    kernel's word-at-a-time reference in Python, and a test holds the two equal bit for bit.
 */

/* ------------------------------------------------------------------------------------------------ */
/* Sparse matrix times dense matrix                                                                 */
/* ------------------------------------------------------------------------------------------------ */
/* Rows [row0, row1) of out = M @ x. */
typedef struct {
    const int64_t *indptr, *indices;
    const double *data, *x;
    double *out;
    Py_ssize_t row0, row1, k;
} DotPart;

static void *csr_dot_rows(void *arg) {
    const DotPart *p = arg;
    for (Py_ssize_t r = p->row0; r < p->row1; r++) {
        double *o_row = p->out + r * p->k;
        for (Py_ssize_t c = 0; c < p->k; c++) o_row[c] = 0.0;
        for (int64_t j = p->indptr[r]; j < p->indptr[r + 1]; j++) {
            const double v = p->data[j], *x_row = p->x + p->indices[j] * p->k;
            for (Py_ssize_t c = 0; c < p->k; c++) o_row[c] += v * x_row[c];
        }
    }
    return NULL;
}

/* csr_dot(indptr, indices, data, x, out, num_threads=1): out = M @ x for M in CSR form (int64 indptr and
 * indices, float64 data), x (n_cols, k) and out (n_rows, k) float64. Every index is checked before the GIL
 * is released; threads take contiguous row ranges of equal nonzeros, each row summed in the same order. */
static PyObject *csr_dot(PyObject *self, PyObject *args) {
    PyObject *o[5];
    int num_threads = 1;
    if (!PyArg_ParseTuple(args, "OOOOO|i", &o[0], &o[1], &o[2], &o[3], &o[4], &num_threads)) return NULL;
    Py_buffer b[5];
    const char *names[5] = {"indptr", "indices", "data", "x", "out"};
    const char kinds[5] = {'q', 'q', 'd', 'd', 'd'};
    const int dims[5] = {1, 1, 1, 2, 2};
    int got = 0;
    for (; got < 5; got++)
        if (get_buffer(o[got], &b[got], names[got], kinds[got], dims[got], got == 4) < 0) break;
    PyObject *res = NULL;
    if (got == 5) {
        const int64_t *indptr = b[0].buf, *indices = b[1].buf;
        Py_ssize_t n_rows = b[0].shape[0] - 1, nnz = b[1].shape[0], n_cols = b[3].shape[0], k = b[3].shape[1];
        int ok = n_rows >= 0 && b[2].shape[0] == nnz && b[4].shape[0] == n_rows && b[4].shape[1] == k &&
                 indptr[0] == 0 && indptr[n_rows] == nnz;
        for (Py_ssize_t r = 0; ok && r < n_rows; r++) ok = indptr[r] <= indptr[r + 1];
        for (Py_ssize_t j = 0; ok && j < nnz; j++) ok = indices[j] >= 0 && indices[j] < n_cols;
        if (!ok) {
            PyErr_SetString(PyExc_ValueError, "csr_dot: inconsistent CSR arrays or shapes");
        } else {
            if (num_threads < 1 || (double)nnz * (double)k < 4e6) num_threads = 1; /* small: not worth threads */
            if (num_threads > 16) num_threads = 16;
            DotPart parts[16];
            Py_BEGIN_ALLOW_THREADS
            Py_ssize_t row = 0;
            for (int t = 0; t < num_threads; t++) { /* split where the nonzeros reach t+1 shares */
                int64_t goal = (int64_t)((double)nnz * (t + 1) / num_threads);
                Py_ssize_t end = row;
                while (end < n_rows && (t == num_threads - 1 || indptr[end] < goal)) end++;
                parts[t] = (DotPart){indptr, indices, b[2].buf, b[3].buf, b[4].buf, row, end, k};
                row = end;
            }
            int started = 0;
#if SUBTOK_THREADS
            pthread_t tids[16];
            for (int t = 1; t < num_threads; t++, started++)
                if (pthread_create(&tids[t - 1], NULL, csr_dot_rows, &parts[t]) != 0) break;
#endif
            csr_dot_rows(&parts[0]);
            for (int t = started + 1; t < num_threads; t++) csr_dot_rows(&parts[t]); /* threads that did not start */
#if SUBTOK_THREADS
            for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
#endif
            Py_END_ALLOW_THREADS
            res = Py_None;
            Py_INCREF(res);
        }
    }
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return res;
}

/* ------------------------------------------------------------------------------------------------ */
/* word2vec: skip-gram and CBOW with negative sampling, one word at a time as word2vec.c            */
/* (the numpy engine in word2vec.py runs the same algorithm a minibatch at a time)                  */
/* ------------------------------------------------------------------------------------------------ */
static inline uint64_t rng_next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline double rng_uniform(uint64_t *s) { return (rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }

/* Walker's alias table: a negative in O(1) from the noise distribution (mirrors nn.layers.AliasTable). */
typedef struct {
    double *prob;
    int64_t *alias;
    int64_t n;
} Alias;

static int alias_build(Alias *a, const double *weights, double total, int64_t V) {
    a->n = V;
    a->prob = malloc((size_t)V * sizeof(double));
    a->alias = malloc((size_t)V * sizeof(int64_t));
    int64_t *small = malloc((size_t)V * sizeof(int64_t)), *large = malloc((size_t)V * sizeof(int64_t));
    if (!a->prob || !a->alias || !small || !large) {
        free(small);
        free(large);
        return -1;
    }
    int64_t ns = 0, nl = 0;
    for (int64_t i = 0; i < V; i++) {
        double p = weights[i] / total * (double)V; /* each of the V columns holds 1 */
        a->prob[i] = p;
        a->alias[i] = i;
        if (p < 1.0) small[ns++] = i; else large[nl++] = i;
    }
    while (ns && nl) {
        int64_t s_ = small[--ns], l = large[nl - 1];
        a->alias[s_] = l;
        a->prob[l] -= 1.0 - a->prob[s_];
        if (a->prob[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    while (nl) a->prob[large[--nl]] = 1.0;
    while (ns) a->prob[small[--ns]] = 1.0;
    free(small);
    free(large);
    return 0;
}

static inline int64_t draw_negative(const Alias *a, uint64_t *s) {
    uint64_t r = rng_next(s);
    int64_t i = (int64_t)((r >> 32) % (uint64_t)a->n);
    return ((double)(uint32_t)r / 4294967296.0) < a->prob[i] ? i : a->alias[i];
}

#define EXP_TABLE 1000
#define MAX_EXP 6 /* a score beyond +-6 makes no update, as in gensim (word2vec.c takes sigmoid 0 or 1) */
static float sigmoid_table[EXP_TABLE];

static void sigmoid_table_init(void) {
    for (int i = 0; i < EXP_TABLE; i++) {
        double x = (i / (double)EXP_TABLE * 2 - 1) * MAX_EXP;
        sigmoid_table[i] = (float)(1.0 / (1.0 + exp(-x)));
    }
}

static inline float dot8(const float *a, const float *b, int64_t n) { /* 8 partial sums: vectorizes */
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[j + k] * b[j + k];
    float f = 0;
    for (; j < n; j++) f += a[j] * b[j];
    for (int k = 0; k < 8; k++) f += acc[k];
    return f;
}

/* One (input vector h, output word) update with negatives: grad accumulates the input's gradient. */
static void sgns_step(float *syn1, int64_t D, const float *h, int64_t out_word, int negative, const Alias *noise,
                      float lr, float *grad, uint64_t *rng) {
    for (int d = 0; d <= negative; d++) {
        int64_t target = d == 0 ? out_word : draw_negative(noise, rng);
        if (d > 0 && target == out_word) continue;
        float *o = syn1 + target * D;
        float f = dot8(h, o, D);
        if (f <= -MAX_EXP || f >= MAX_EXP) continue;
        float sig = sigmoid_table[(int)((f + MAX_EXP) * (EXP_TABLE / MAX_EXP / 2))];
        float g = ((d == 0 ? 1.0f : 0.0f) - sig) * lr;
        for (int64_t j = 0; j < D; j++) grad[j] += g * o[j];
        for (int64_t j = 0; j < D; j++) o[j] += g * h[j];
    }
}

/* sgns_train(syn0, syn1neg, stream, segments, noise, window, negative, sg, lr_start, lr_end, seed):
 * noise holds the unnormalized weights of the noise distribution, one per word. */
static PyObject *sgns_train(PyObject *self, PyObject *args) {
    PyObject *o[5];
    int window, negative, sg;
    double lr0, lr1;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "OOOOOiiiddK", &o[0], &o[1], &o[2], &o[3], &o[4], &window, &negative, &sg, &lr0,
                          &lr1, &seed))
        return NULL;
    Py_buffer b[5];
    const char *names[5] = {"syn0", "syn1neg", "stream", "segments", "noise"};
    const char kinds[5] = {'f', 'f', 'q', 'q', 'd'};
    const int dims[5] = {2, 2, 1, 1, 1};
    int got = 0;
    for (; got < 5; got++)
        if (get_buffer(o[got], &b[got], names[got], kinds[got], dims[got], got < 2) < 0) break;
    int ok = got == 5;
    PyObject *res = NULL;
    float *h = NULL;
    Alias noise = {0};
    if (ok && got == 5) {
        float *syn0 = b[0].buf, *syn1 = b[1].buf;
        const int64_t *stream = b[2].buf, *segs = b[3].buf;
        const double *noise_weights = b[4].buf;
        int64_t V = b[0].shape[0], D = b[0].shape[1], n = b[2].shape[0];
        int valid = b[1].shape[0] == V && b[1].shape[1] == D && b[3].shape[0] == n && b[4].shape[0] == V &&
                    window >= 1 && negative >= 0 && V > 0 && isfinite(lr0) && isfinite(lr1) && lr0 >= 0.0 &&
                    lr1 >= 0.0;
        for (int64_t i = 0; valid && i < n; i++) valid = stream[i] >= 0 && stream[i] < V;
        double total = 0.0;
        for (int64_t i = 0; valid && i < V; i++) {
            valid = noise_weights[i] >= 0.0 && isfinite(noise_weights[i]);
            total += noise_weights[i];
        }
        valid = valid && total > 0.0;
        h = valid ? malloc((size_t)(D > 0 ? D : 1) * 2 * sizeof(float)) : NULL; /* (malloc(0) may be NULL) */
        if (!valid) {
            PyErr_SetString(PyExc_ValueError,
                            "sgns_train: inconsistent shapes, ids outside the vocabulary, bad noise weights or a "
                            "learning rate that is not a finite number of at least 0");
        } else if (!h || alias_build(&noise, noise_weights, total, V) < 0) {
            PyErr_NoMemory();
        } else {
            float *grad = h + D;
            uint64_t rng = seed;
            Py_BEGIN_ALLOW_THREADS
            for (int64_t i = 0; i < n; i++) {
                float lr = (float)(lr0 + (lr1 - lr0) * (double)i / (double)n);
                int reach = window - (int)(rng_next(&rng) % (uint64_t)window);
                int64_t lo = i - reach < 0 ? 0 : i - reach, hi = i + reach >= n ? n - 1 : i + reach;
                if (sg) { /* each context word's vector predicts the centre, as word2vec.c and gensim */
                    for (int64_t c = lo; c <= hi; c++) {
                        if (c == i || segs[c] != segs[i]) continue;
                        float *in = syn0 + stream[c] * D;
                        memset(grad, 0, (size_t)D * sizeof(float));
                        sgns_step(syn1, D, in, stream[i], negative, &noise, lr, grad, &rng);
                        for (int64_t j = 0; j < D; j++) in[j] += grad[j];
                    }
                } else { /* the mean of the context vectors predicts the centre */
                    int count = 0;
                    memset(h, 0, (size_t)D * sizeof(float));
                    for (int64_t c = lo; c <= hi; c++) {
                        if (c == i || segs[c] != segs[i]) continue;
                        const float *in = syn0 + stream[c] * D;
                        for (int64_t j = 0; j < D; j++) h[j] += in[j];
                        count++;
                    }
                    if (!count) continue;
                    for (int64_t j = 0; j < D; j++) h[j] /= (float)count;
                    memset(grad, 0, (size_t)D * sizeof(float));
                    sgns_step(syn1, D, h, stream[i], negative, &noise, lr, grad, &rng);
                    for (int64_t c = lo; c <= hi; c++) {
                        if (c == i || segs[c] != segs[i]) continue;
                        float *in = syn0 + stream[c] * D;
                        for (int64_t j = 0; j < D; j++) in[j] += grad[j];
                    }
                }
            }
            Py_END_ALLOW_THREADS
            res = Py_None;
            Py_INCREF(res);
        }
    }
    free(h);
    free(noise.prob);
    free(noise.alias);
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return res;
}
