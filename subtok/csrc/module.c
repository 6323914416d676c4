/* subtok._native: the compiled twins of subtok's hot loops. This file is the module: it includes the
 * others (one translation unit, every function static) and lists what each entry point mirrors.
 *
 * Three tiers, named in each file's first comment:
 *   mirrored            the same functions, inputs, outputs and tie-breaks as the Python reference, to be
 *                       read side by side (bpe_train.c, wordpiece_train.c, bpe_encode.c's merge encoder,
 *                       wordpiece_encode.c, count_gpt2, alias_build);
 *   equivalent by test  another method for the same output, held equal to the reference by tests
 *                       (the pattern scanners and split_program against the regexes, the word caches,
 *                       csr_dot, batch.c);
 *   no library twin     sgns_train (tests/sgns_reference.py is its reference).
 *
 *   file                 entry points                                    Python twin
 *   bpe_train.c          train_merges                                    models/bpe_core.py
 *   wordpiece_train.c    train_likelihood                                models/wordpiece_core.py
 *   gpt2_split.c         split_scanned, count_gpt2, merge_count_tables   models/bpe_core.py
 *   pre_split.c          split_program                                   pre_tokenizers.py
 *   bpe_encode.c         make_merge_table, encode_symbols,               models/bpe_core.py
 *                        make_char_table, encode_chars,
 *                        ByteLevelEncoder
 *   wordpiece_encode.c   make_trie, encode_longest_match, BertEncoder    models/wordpiece_core.py
 *   unigram.c            SentencePieceEncoder                            models/unigram_core.py
 *   unigram_train.c      TrainingCorpus                                  models/unigram_train_core.py
 *   batch.c              encode_batch of the three encoders (and their   models/batch_core.py
 *                        flat, ids and lines forms)                      (a loop over encode_text)
 *   kernels.c            csr_dot, sgns_train                             sparse.py, word2vec.py
 *   common.h             set_char_classes and what the files share      text.char_classes
 *
 * Written against the CPython C API (no Cython) so the build needs nothing but a C compiler and the Python
 * headers. Every Python input is checked before the GIL is released.
 */
#include "common.h"

#include "bpe_train.c"
#include "wordpiece_train.c"
#include "gpt2_split.c"
#include "pre_split.c"
#include "batch.c"
#include "bpe_encode.c"
#include "wordpiece_encode.c"
#include "unigram.c"
#include "unigram_train.c"
#include "kernels.c"

/* subtok._backend loads this module only when its ABI equals its own: a stale build is never half used. */
#define SUBTOK_ABI 8

static PyMethodDef methods[] = {
    {"set_char_classes", set_char_classes, METH_O, "Install text.char_classes() for the scanners (once)."},
    {"train_merges", (PyCFunction)(void (*)(void))train_merges, METH_VARARGS | METH_KEYWORDS,
     "Learn BPE merges from word symbol lists (mirrors bpe_core.train_merges)."},
    {"train_likelihood", (PyCFunction)(void (*)(void))train_likelihood, METH_VARARGS | METH_KEYWORDS,
     "Learn WordPiece merges by likelihood (mirrors wordpiece_core.train_likelihood)."},
    {"make_merge_table", make_merge_table, METH_VARARGS, "Compile ranks and results for encode_symbols."},
    {"encode_symbols", encode_symbols, METH_VARARGS, "Apply merges to one word's symbols."},
    {"make_char_table", make_char_table, METH_VARARGS, "One-character tokens and byte-fallback tokens."},
    {"encode_chars", encode_chars, METH_VARARGS, "A word's character symbols, then merges (as bpe_core.encode_chars)."},
    {"split_scanned", split_scanned, METH_VARARGS, "Spans of a scanned pattern (as bpe_core.split_scanned)."},
    {"split_program", split_program, METH_VARARGS, "A pre-tokenizer Sequence's words (see pre_split.c)."},
    {"count_gpt2", (PyCFunction)(void (*)(void))count_gpt2, METH_VARARGS | METH_KEYWORDS,
     "Word counts with GPT-2's pattern (mirrors bpe_core.count_gpt2)."},
    {"merge_count_tables", merge_count_tables, METH_O, "Serialized word counts summed (as bpe_core's)."},
    {"make_trie", make_trie, METH_VARARGS, "A WordPiece vocabulary as a trie (mirrors wordpiece_core.make_trie)."},
    {"encode_longest_match", encode_longest_match, METH_VARARGS,
     "BERT's greedy longest-match-first (mirrors wordpiece_core.encode_longest_match)."},
    {"csr_dot", csr_dot, METH_VARARGS, "out = M @ x for a CSR matrix M (as sparse.csr_dot)."},
    {"sgns_train", sgns_train, METH_VARARGS, "One epoch of word2vec with negative sampling (see word2vec.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_native", "subtok's compiled core (see module.c).",
                                       -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    sigmoid_table_init();
    if (PyType_Ready(&MergeTableType) < 0 || PyType_Ready(&CharTableType) < 0 || PyType_Ready(&ByteLevelEncoderType) < 0 || PyType_Ready(&TrieType) < 0 ||
        PyType_Ready(&BertEncoderType) < 0 || PyType_Ready(&SentencePieceEncoderType) < 0 ||
        PyType_Ready(&TrainingCorpusType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Py_INCREF(&ByteLevelEncoderType);
    Py_INCREF(&BertEncoderType);
    Py_INCREF(&SentencePieceEncoderType);
    Py_INCREF(&TrainingCorpusType);
    if (PyModule_AddIntConstant(m, "ABI", SUBTOK_ABI) < 0 ||
        PyModule_AddObject(m, "ByteLevelEncoder", (PyObject *)&ByteLevelEncoderType) < 0 ||
        PyModule_AddObject(m, "BertEncoder", (PyObject *)&BertEncoderType) < 0 ||
        PyModule_AddObject(m, "SentencePieceEncoder", (PyObject *)&SentencePieceEncoderType) < 0 ||
        PyModule_AddObject(m, "TrainingCorpus", (PyObject *)&TrainingCorpusType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
