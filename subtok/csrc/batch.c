/* batch.c: encode_batch (and encode_batch_flat, encode_batch_ids, encode_lines_flat) for any whole-text encoder
 * (ByteLevelEncoder, BertEncoder, SentencePieceEncoder): the texts of a batch shared by worker threads that
 * each take the next text until none is left, without the GIL. No Python twin: the references'
 * encode_batch is a loop over encode_text, and tests hold the two equal. Where POSIX threads are missing
 * (SUBTOK_THREADS 0) the calling thread does all the work.
 */

/* A batch shared by worker threads: each takes the next text until none is left. What a worker keeps
 * (a cache view, scratch buffers) and how a text is encoded come from the encoder's BatchOps. */
typedef struct Batch Batch;
typedef struct {
    void (*begin)(Batch *b, void *state);
    /* encode: appends the text's ids to ids (from ids->n) and its aux ints to aux; aux is NULL in a flat
     * batch when aux_optional (the encoder then skips them), else a buffer */
    int (*encode)(Batch *b, void *state, const Text *t, Buf *ids, Buf *aux);
    void (*end)(Batch *b, void *state);
    void (*finish)(Batch *b, void *state); /* once every worker has ended */
    size_t state_size;
    int aux_optional;
} BatchOps;

typedef struct { /* where a text's output lies: in worker ``worker``'s buffers, from ids_at and aux_at */
    Py_ssize_t ids_at, ids_n, aux_at, aux_n;
    int worker;
} BatchRow;

typedef struct {
    Batch *batch;
    Buf ids, aux; /* the worker's texts' outputs one after the other (aux: reset per text in a flat batch) */
    void *state;
    int index;
} Worker;

struct Batch {
    void *enc;
    const BatchOps *ops;
    Text *texts;
    BatchRow *rows;
    char *workers;      /* worker k (a Worker, then its state) at workers + k * worker_size: batch_worker */
    size_t worker_size; /* each worker's memory a cache line or more apart from the next one's: the workers
                           write their buffers' lengths all the time, and two threads writing one line
                           (false sharing) had cost each 15-35% of its speed */
    int threads;        /* how many workers there are */
    Py_ssize_t n;
    int flat; /* only the ids are wanted */
    Buf prefix, suffix; /* ids written before and after each text's (a post-processor's template, such as
                           BERT's [CLS] ... [SEP]) */
    size_t run; /* texts a worker takes at a time: a 32nd of a thread's share, 1 to BATCH_RUN */
    char apart[64]; /* (what the workers write together on a line of its own: the fields above are read at
                       every text) */
    atomic_size_t next;
    atomic_int failed;
    char apart_after[64];
};

#define BATCH_RUN 8 /* the most texts a worker takes at a time (fewer when the batch is small) */
#define WORKER_STATE_AT ((sizeof(Worker) + 15) & ~(size_t)15) /* where a worker's state starts in its memory */

static inline Worker *batch_worker(const Batch *b, int k) { return (Worker *)(b->workers + (size_t)k * b->worker_size); }

/* batch_work: a worker's loop. Its texts' outputs go one after the other into its own two buffers (no
 * allocation per text once they have grown), each text's place recorded in b->rows. */
static void batch_work(Batch *b, Worker *w) {
    b->ops->begin(b, w->state);
    Buf *aux = b->flat && b->ops->aux_optional ? NULL : &w->aux;
    for (;;) { /* texts in runs: fewer trips to the shared counter */
        size_t first = atomic_fetch_add(&b->next, b->run);
        if ((Py_ssize_t)first >= b->n || atomic_load(&b->failed)) break;
        size_t last = first + b->run < (size_t)b->n ? first + b->run : (size_t)b->n;
        for (size_t i = first; i < last; i++) {
            if (aux && b->flat) aux->n = 0; /* a flat batch keeps no aux: the buffer is scratch */
            Py_ssize_t ids_at = w->ids.n, aux_at = aux ? aux->n : 0;
            int r = buf_extend(&w->ids, &b->prefix);
            if (r >= 0) r = b->ops->encode(b, w->state, &b->texts[i], &w->ids, aux);
            if (r >= 0) r = buf_extend(&w->ids, &b->suffix);
            b->rows[i] = (BatchRow){ids_at, w->ids.n - ids_at, aux_at, aux ? aux->n - aux_at : 0, w->index};
            if (r < 0) atomic_store(&b->failed, 1);
        }
    }
    b->ops->end(b, w->state);
}

#if SUBTOK_THREADS
static void *batch_thread(void *arg) {
    Worker *w = arg;
    batch_work(w->batch, w);
    return NULL;
}
#endif

/* flat_result: the ids of every text one after the other (int32) and where each text's ids start (int64,
 * n + 1 of them, the last the total), as two bytearrays: no Python object per text. */
static PyObject *flat_result(const Batch *b) {
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < b->n; i++) total += b->rows[i].ids_n;
    PyObject *ids = PyByteArray_FromStringAndSize(NULL, total * (Py_ssize_t)sizeof(int32_t));
    PyObject *splits = ids ? PyByteArray_FromStringAndSize(NULL, (b->n + 1) * (Py_ssize_t)sizeof(int64_t)) : NULL;
    PyObject *out = NULL;
    if (splits) {
        int32_t *dst = (int32_t *)PyByteArray_AS_STRING(ids);
        int64_t *row = (int64_t *)PyByteArray_AS_STRING(splits);
        Py_ssize_t at = 0;
        row[0] = 0;
        for (Py_ssize_t i = 0; i < b->n;) { /* one copy per run of rows that lie one after the other in a
                                                worker's buffer (a run of texts it took) */
            const BatchRow *first = &b->rows[i];
            Py_ssize_t count = 0;
            do {
                count += b->rows[i].ids_n, row[i + 1] = at + count, i++;
            } while (i < b->n && b->rows[i].worker == first->worker && b->rows[i].ids_at == first->ids_at + count);
            if (count) memcpy(dst + at, batch_worker(b, first->worker)->ids.v + first->ids_at, (size_t)count * sizeof(int32_t));
            at += count;
        }
        out = PyTuple_Pack(2, ids, splits);
    }
    Py_XDECREF(ids);
    Py_XDECREF(splits);
    return out;
}

/* ids_lists_result: each text's ids as a list of the encoder's shared int objects (no other object). */
static PyObject *ids_lists_result(const Batch *b, const IdObjects *io) {
    PyObject *out = PyList_New(b->n);
    for (Py_ssize_t i = 0; out && i < b->n; i++) {
        const BatchRow *r = &b->rows[i];
        const Buf *all = &batch_worker(b, r->worker)->ids;
        Buf ids = {all->v ? all->v + r->ids_at : NULL, r->ids_n, r->ids_n};
        PyObject *row = list_of_ids(io, &ids);
        if (!row) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, row);
    }
    return out;
}

enum { BATCH_PAIRS, BATCH_FLAT, BATCH_IDS, BATCH_LINES }; /* what run_batch returns (BATCH_LINES: as BATCH_FLAT) */

/* block_lines: the lines of a str as a file has them (each ended by "\n", the newline not in it, the last
 * one perhaps by the end of the text; an empty text has none), as views into it: a malloc'd array (NULL
 * when out of memory) of *n. */
static Text *block_lines(PyObject *block, Py_ssize_t *n) {
    Text whole;
    text_init(&whole, block);
    Py_ssize_t cap = 1024, count = 0;
    Text *texts = malloc((size_t)cap * sizeof(Text));
    for (Py_ssize_t start = 0, next; texts && start < whole.n; start = next) {
        next = line_end(&whole, start);
        const Py_ssize_t end = CP(&whole, next - 1) == '\n' ? next - 1 : next;
        if (count == cap) {
            Text *more = realloc(texts, (size_t)(cap *= 2) * sizeof(Text));
            if (!more) free(texts);
            if (!(texts = more)) break;
        }
        texts[count] = whole;
        texts[count].data = (const char *)whole.data + start * whole.kind;
        texts[count++].n = end - start;
    }
    *n = count;
    return texts;
}

/* template_ids: a list of ints (ids, each 0 to INT32_MAX) into out; None leaves it empty. -1 with an error. */
static int template_ids(PyObject *list, Buf *out, const char *name) {
    if (list == Py_None) return 0;
    if (!PyList_Check(list)) return PyErr_Format(PyExc_TypeError, "%s must be a list of ids", name), -1;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(list); k++) {
        long id = PyLong_AsLong(PyList_GET_ITEM(list, k));
        if (id == -1 && PyErr_Occurred()) return -1;
        if (id < 0 || id > INT32_MAX) return PyErr_Format(PyExc_ValueError, "%s holds %ld, not an id", name, id), -1;
        if (buf_push(out, (int32_t)id) < 0) return PyErr_NoMemory(), -1;
    }
    return 0;
}

/* encode_batch for any encoder: texts -> list of (ids, aux bytes), over num_threads threads (args: texts,
 * num_threads, prefix ids, suffix ids: each text's ids between them); with BATCH_FLAT, flat_result's (ids,
 * row starts) instead (the same args),
 * with BATCH_IDS a list of each text's ids; BATCH_LINES is BATCH_FLAT over the lines of one str (args:
 * block, num_threads, prefix ids, suffix ids; block_lines), no str made per line. */
static PyObject *run_batch(void *enc, const BatchOps *ops, const IdObjects *io, PyObject *args, int what) {
    PyObject *list, *prefix = Py_None, *suffix = Py_None;
    int num_threads = 1;
    const int lines = what == BATCH_LINES;
    if (!(lines ? PyArg_ParseTuple(args, "U|iOO", &list, &num_threads, &prefix, &suffix)
                : PyArg_ParseTuple(args, what == BATCH_IDS ? "O!|i" : "O!|iOO", &PyList_Type, &list, &num_threads,
                                   &prefix, &suffix)) ||
        require_classes() < 0 || (lines && check_text(list) < 0))
        return NULL;
    /* hold every text: another Python thread may change the list while the GIL is released */
    PyObject *items = lines ? (Py_INCREF(list), list) : PySequence_Tuple(list);
    if (!items) return NULL;
    Py_ssize_t n = lines ? 0 : PyTuple_GET_SIZE(items);
    Text *texts = lines ? block_lines(list, &n) : calloc((size_t)(n ? n : 1), sizeof(Text));
    Batch b = {.enc = enc, .ops = ops, .n = n, .flat = what != BATCH_PAIRS, .run = 1};
    PyObject *out = NULL;
    if (num_threads < 1) num_threads = 1;
    if (num_threads > n) num_threads = n > 0 ? (int)n : 1;
    b.threads = num_threads;
    b.texts = texts;
    b.rows = calloc((size_t)(n ? n : 1), sizeof(BatchRow));
    b.worker_size = ((WORKER_STATE_AT + ops->state_size + 63) & ~(size_t)63) + 64; /* (+64: calloc aligns to 16) */
    b.workers = calloc((size_t)num_threads, b.worker_size);
    b.run = (size_t)(n / ((Py_ssize_t)num_threads * 32));
    b.run = b.run < 1 ? 1 : b.run > BATCH_RUN ? BATCH_RUN : b.run;
    if (!b.texts || !b.rows || !b.workers) {
        PyErr_NoMemory();
        goto done;
    }
    if (template_ids(prefix, &b.prefix, "prefix") < 0 || template_ids(suffix, &b.suffix, "suffix") < 0) goto done;
    for (Py_ssize_t i = 0; !lines && i < n; i++) {
        if (check_text(PyTuple_GET_ITEM(items, i)) < 0) goto done;
        text_init(&b.texts[i], PyTuple_GET_ITEM(items, i));
    }
    Py_BEGIN_ALLOW_THREADS
    int started = 0;
    for (int k = 0; k < num_threads; k++) {
        Worker *w = batch_worker(&b, k);
        w->batch = &b, w->state = (char *)w + WORKER_STATE_AT, w->index = k;
    }
#if SUBTOK_THREADS
    pthread_t *tids = num_threads > 1 ? malloc((size_t)(num_threads - 1) * sizeof(pthread_t)) : NULL;
    for (int k = 1; tids && k < num_threads; k++, started++)
        if (pthread_create(&tids[k - 1], NULL, batch_thread, batch_worker(&b, k)) != 0) break; /* fewer: still correct */
#endif
    batch_work(&b, batch_worker(&b, 0));
#if SUBTOK_THREADS
    for (int k = 0; k < started; k++) pthread_join(tids[k], NULL);
    free(tids);
#endif
    for (int k = 0; k <= started; k++) ops->finish(&b, batch_worker(&b, k)->state);
    Py_END_ALLOW_THREADS
    if (atomic_load(&b.failed)) {
        PyErr_NoMemory();
        goto done;
    }
    if (what != BATCH_PAIRS) {
        out = what == BATCH_IDS ? ids_lists_result(&b, io) : flat_result(&b);
        goto done;
    }
    out = PyList_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        const BatchRow *r = &b.rows[i];
        const Worker *w = batch_worker(&b, r->worker);
        Buf ids = {w->ids.v ? w->ids.v + r->ids_at : NULL, r->ids_n, r->ids_n};
        Buf aux = {w->aux.v ? w->aux.v + r->aux_at : NULL, r->aux_n, r->aux_n};
        PyObject *pair = result_pair(io, &ids, &aux);
        if (!pair) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, pair);
    }
done:
    for (int k = 0; b.workers && k < num_threads; k++) {
        free(batch_worker(&b, k)->ids.v);
        free(batch_worker(&b, k)->aux.v);
    }
    free(b.texts);
    free(b.rows);
    free(b.workers);
    free(b.prefix.v);
    free(b.suffix.v);
    Py_DECREF(items);
    return out;
}
