/*
 * `logseal rules test`: how a rule sees sample lines. For each line it
 * prints the rule that matched (or that the scrubber took it), the line
 * with every planned span shown as <class>, and the spans' offsets. The
 * originals themselves are never printed.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "cli_internal.h"
#include "logseal/buf.h"
#include "logseal/log.h"
#include "logseal/rules.h"

static void help(void)
{
    printf("usage: logseal rules test NAME|FILE|auto [--in FILE] < lines\n\n"
           "Show, for each input line, which rule matched ('unparsed' when\n"
           "none did and the scrubber took it), the line with each span\n"
           "that would be tokenized shown as <class> (or <drop>), and the\n"
           "spans as class@offset+length. 'auto' picks the rule from the\n"
           "first lines, as 'pipe --rule auto' does. A warning says what a\n"
           "disclosure request would miss in the rule's lines (a source\n"
           "port, a time to the second).\n");
}

static const char *span_label(const struct lsl_plan_span *s)
{
    if (s->action == LSL_ACT_DROP)
        return "drop";
    return lsl_class_name((enum lsl_class)s->cls);
}

static void show_line(unsigned long no, const char *rule, const char *p,
                      size_t len, const struct lsl_plan *plan)
{
    size_t at = 0;

    printf("%lu\t%s%s\t", no, plan->matched ? rule : "unparsed",
           plan->limit_hit ? " (match limit hit)" : "");
    for (size_t i = 0; i < plan->count; i++) {
        const struct lsl_plan_span *s = &plan->spans[i];

        fwrite(p + at, 1, s->off - at, stdout);
        printf("<%s>", span_label(s));
        at = (size_t)s->off + s->len;
    }
    fwrite(p + at, 1, len - at, stdout);
    putchar('\n');
    if (plan->count == 0)
        return;
    printf("\t");
    for (size_t i = 0; i < plan->count; i++)
        printf("%s%s@%u+%u", i ? " " : "", span_label(&plan->spans[i]),
               plan->spans[i].off, plan->spans[i].len);
    putchar('\n');
}

static int test_one(const struct lsl_rule *r, struct lsl_matcher *m,
                    unsigned long no, const char *line, size_t len)
{
    const struct lsl_plan *plan;
    int rc;

    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    rc = lsl_rule_plan(r, m, line, len, &plan);
    if (rc == 0)
        show_line(no, lsl_rule_name(r), line, len, plan);
    return rc;
}

/* The sample lines read ahead (for auto), then the rest of `in`. */
static int test_lines(const struct lsl_rule *r, const struct lsl_buf *sample,
                      FILE *in)
{
    struct lsl_matcher *m = NULL;
    const char *p = sample->p, *end = sample->p + sample->len;
    char *line = NULL;
    size_t cap = 0;
    unsigned long no = 0;
    ssize_t n;
    int rc;

    rc = lsl_matcher_open(&m);
    while (rc == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;

        rc = test_one(r, m, ++no, p, (size_t)(next - p));
        p = next;
    }
    while (rc == 0 && (n = getline(&line, &cap, in)) >= 0)
        rc = test_one(r, m, ++no, line, (size_t)n);
    free(line);
    lsl_matcher_free(m);
    return rc;
}

/* Whole lines from `in`, as many as --rule auto looks at. */
static int read_sample(FILE *in, struct lsl_buf *b, bool *at_eof)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = 0;
    int rc = 0;

    for (int i = 0;
         rc == 0 && i < LSL_DETECT_LINES && b->len < LSL_DETECT_BYTES; i++) {
        n = getline(&line, &cap, in);
        if (n < 0)
            break;
        rc = lsl_buf_append(b, line, (size_t)n);
    }
    *at_eof = n < 0;
    free(line);
    return rc;
}

static int detect(FILE *in, struct lsl_buf *sample, struct lsl_rule **r)
{
    struct lsl_rule_detect d;
    bool at_eof;
    int rc = read_sample(in, sample, &at_eof);

    if (rc) {
        lsl_log_error("cannot read the input: %s", lsl_strerror(rc));
        return rc;
    }
    rc = lsl_rule_detect(r, NULL, sample->p, sample->len, at_eof, &d);
    lsl_cli_log_detect(rc, &d);
    return rc;
}

void lsl_cli_log_detect(int rc, const struct lsl_rule_detect *d)
{
    const char *tried = d->tried[0] ? d->tried : "none";

    if (rc == 0 && d->fallback)
        lsl_log_warn("--rule auto: no rule matches at least 80%% of the "
                     "first lines (tried: %s); using %s: every line is "
                     "scrubbed as free text; give --rule NAME if a rule "
                     "should read them",
                     tried, d->chosen);
    else if (rc == 0)
        lsl_log_info("--rule auto chose %s (%u/%u sample lines)", d->chosen,
                     d->matched, d->counted);
    else if (rc == LSL_ENOTFOUND)
        lsl_log_error("--rule auto: no rule matches at least 80%% of the "
                      "first lines (tried: %s) and there is no text rule; "
                      "give --rule NAME",
                      tried);
    else
        lsl_log_error("--rule auto: cannot read the rules directory: %s",
                      lsl_strerror(rc));
}

static void warn_gaps(const struct lsl_rule *r)
{
    char msg[256];

    if (lsl_rule_disclosure_warning(r, msg, sizeof(msg)))
        lsl_log_warn("%s", msg);
}

static int load(const char *name, struct lsl_rule **r)
{
    char path[PATH_MAX];
    struct lsl_rule_error e = {0};
    int rc = lsl_rule_resolve(name, NULL, path, sizeof(path));

    if (rc) {
        lsl_log_error("rule '%s' not found", name);
        return rc;
    }
    rc = lsl_rule_load(r, path, &e);
    if (rc)
        lsl_log_error("%s:%u: %s", e.path[0] ? e.path : path, e.line,
                      e.msg[0] ? e.msg : lsl_strerror(rc));
    return rc;
}

int lsl_cmd_rules(int argc, char **argv)
{
    static const struct option opts[] = {
        {"in", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *in_path = NULL;
    struct lsl_rule *r = NULL;
    struct lsl_buf sample = {0};
    FILE *in = stdin;
    int c, rc;

    while ((c = getopt_long(argc, argv, "+i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            in_path = optarg;
            break;
        case 'h':
            help();
            return LSL_EXIT_OK;
        default:
            return lsl_cli_usage_error("rules", "bad option");
        }
    }
    if (optind + 2 != argc || strcmp(argv[optind], "test") != 0)
        return lsl_cli_usage_error("rules", "expected 'rules test NAME'");
    if (in_path && !(in = fopen(in_path, "r"))) {
        lsl_log_error("%s: %s", in_path, strerror(errno));
        return LSL_EXIT_ERROR;
    }
    if (strcmp(argv[optind + 1], "auto") == 0)
        rc = detect(in, &sample, &r);
    else
        rc = load(argv[optind + 1], &r);
    if (rc == 0) {
        warn_gaps(r);
        rc = test_lines(r, &sample, in);
    }
    if (in != stdin)
        fclose(in);
    lsl_buf_free(&sample);
    lsl_rule_free(r);
    return rc ? LSL_EXIT_ERROR : LSL_EXIT_OK;
}
