/* A data subject named by an original value (see subject.c). */
#ifndef LSL_CLI_SUBJECT_H
#define LSL_CLI_SUBJECT_H

#include "session_internal.h"

/* Slot of the phone number as written (lsl_token_normalize_legacy). */
#define LSL_SUBJECT_WRITTEN LSL_CLASS_COUNT

struct lsl_subject {
    char *norm; /* sodium_malloc: the value normalized per class, then the
                   phone number as written */
    size_t cap;
    size_t len[LSL_CLASS_COUNT + 1];
    bool want[LSL_CLASS_COUNT];
    struct lsl_tokset toks; /* the subject's tokens found in the vault */
    bool in_file;           /* the file being read holds one of them */
};

/*
 * Normalize `value` as the tokenizer would for `cls` (a class name) or,
 * with cls NULL, for every class. 0, LSL_EUSAGE (unknown class; logged)
 * or -ENOMEM.
 */
int lsl_subject_init(struct lsl_subject *s, const char *value, const char *cls);

/* True if r is a MAP record of the subject's value in a wanted class. */
bool lsl_subject_matches(const struct lsl_subject *s,
                         const struct lsl_vault_record *r);

/* The subject's normalized value in class c. */
struct lsl_span lsl_subject_value(const struct lsl_subject *s,
                                  enum lsl_class c);

/*
 * True, with *v, if the subject is wanted as a phone number whose spelling
 * as written differs from its digits: tokens and stop entries made before
 * numbers were read as their digits hashed *v.
 */
bool lsl_subject_written(const struct lsl_subject *s, struct lsl_span *v);

/*
 * Read the vault in session ss and collect the tokens mapped to the
 * subject's value (in any epoch) into s->toks; s->in_file tells, during
 * ss->on_file, whether the file just read held one. 0 or code (logged).
 */
int lsl_subject_find(struct lsl_subject *s, struct lsl_cli_session *ss);

/* Wipe and free. */
void lsl_subject_free(struct lsl_subject *s);

#endif
