/* Private to the rule file reader: parse.c (lines, directives, the
 * checks of a whole rule) and parse_field.c (field, key, column, type and
 * canonical lines). */
#ifndef LSL_PARSE_INTERNAL_H
#define LSL_PARSE_INTERNAL_H

#include "rules_internal.h"

/* The most words a directive line takes. */
#define LSL_PARSE_MAX_WORDS 6

struct rule_parser {
    struct lsl_rule *r;
    const char *origin;
    struct lsl_rule_error *err;
    unsigned line;
    bool log_format_open; /* last line was log_format's quoted strings */
    bool is_file;         /* origin is a path: `include` reads beside it */
    bool in_include;      /* reading an included file: params only */
};

/* Records the error of the current line in ps->err; LSL_ERULE. */
int lsl_parse_fail(struct rule_parser *ps, const char *fmt, ...)
    LSL_PRINTF(2, 3);

/* The words of [rest, end) (a word starting with '#' ends them) into w
 * (LSL_PARSE_MAX_WORDS of room): their count, between min and want, or
 * LSL_ERULE naming `usage`. */
LSL_MUST_CHECK int lsl_parse_words(struct rule_parser *ps, const char *rest,
                                   const char *end, struct lsl_span *w,
                                   size_t min, size_t want, const char *usage);

bool lsl_parse_word_is(struct lsl_span w, const char *s);

/* A NUL-terminated copy of p[0..len), the caller's to free; NULL when out
 * of memory. */
char *lsl_parse_dup(const char *p, size_t len);

/* arr with room for n + 1 elements of `size` (realloc: on failure arr is
 * left as it was); NULL when out of memory. */
void *lsl_parse_grow(void *arr, size_t n, size_t size);

/* A class name (ip, id, user, ...) into *cls; 0 or LSL_ERULE. */
LSL_MUST_CHECK int lsl_parse_class(struct rule_parser *ps, struct lsl_span w,
                                   uint8_t *cls);

/* The directives of parse_field.c: 0, LSL_ERULE or -ENOMEM. */
LSL_MUST_CHECK int lsl_parse_field(struct rule_parser *ps, const char *rest,
                                   const char *end);
LSL_MUST_CHECK int lsl_parse_key(struct rule_parser *ps, const char *rest,
                                 const char *end);
LSL_MUST_CHECK int lsl_parse_column(struct rule_parser *ps, const char *rest,
                                    const char *end);
LSL_MUST_CHECK int lsl_parse_type(struct rule_parser *ps, const char *rest,
                                  const char *end);
LSL_MUST_CHECK int lsl_parse_canonical(struct rule_parser *ps, const char *rest,
                                       const char *end);

#endif
