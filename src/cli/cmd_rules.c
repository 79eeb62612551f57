/*
 * `logseal rules list`: which rule a NAME finds. `logseal rules test`: how
 * a rule sees sample lines. For each line it
 * prints the rule that matched (or that the scrubber took it), the line
 * with every planned span shown as <class>, and the spans' offsets. The
 * originals themselves are never printed.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli_internal.h"
#include "logseal/buf.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "logseal/rules.h"

static void help_test(void)
{
    printf("usage: logseal rules test NAME|FILE|auto [--in FILE] [< lines]\n\n"
           "Show, for each input line (stdin, or --in FILE), which rule\n"
           "matched ('unparsed' when none did and the scrubber took it), the\n"
           "line with each span that would be replaced shown as its class\n"
           "(<ip>, <id>, <user>, <email>, <secret>, <phone>, <name>, or\n"
           "<drop>), and the spans as class@offset+length. 'auto' picks the\n"
           "rule from the first lines, as 'pipe --rule auto' does, and falls\n"
           "back to the text rule (with a warning) when none fits. A warning\n"
           "says what a disclosure request would miss in the rule's lines (a\n"
           "source port, a time to the second). Options and NAME go in any\n"
           "order.\n");
}

static void help_list(void)
{
    printf("usage: logseal rules list\n\n"
           "Print the rules that a NAME finds, one per line: the name and\n"
           "the file, tab-separated, searching the rules directories in\n"
           "order ($LOGSEAL_RULES_DIR, the source tree's rules/ for a binary\n"
           "run from its build directory, the installed rules); a name found\n"
           "twice is listed once, as the first directory has it. The\n"
           "directories searched are named on stderr.\n");
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
    else {
        char dirs[1024];

        lsl_rule_dirs_text(NULL, dirs, sizeof(dirs));
        lsl_log_error("--rule auto: cannot read a rules directory (looked "
                      "in %s): %s",
                      dirs, lsl_strerror(rc));
    }
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
        char dirs[1024];

        lsl_rule_dirs_text(NULL, dirs, sizeof(dirs));
        lsl_log_error("rule '%s' not found (looked in %s); give a NAME or a "
                      "path to a .rules file",
                      name, dirs);
        return rc;
    }
    rc = lsl_rule_load(r, path, &e);
    if (rc)
        lsl_log_error("%s:%u: %s", e.path[0] ? e.path : path, e.line,
                      e.msg[0] ? e.msg : lsl_strerror(rc));
    return rc;
}

/* Options and the rule NAME in any order (getopt permutes them). */
static int parse_test(int argc, char **argv, const char **in_path,
                      const char **name)
{
    static const struct option opts[] = {
        {"in", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            *in_path = optarg;
            break;
        case 'h':
            help_test();
            return LSL_EXIT_OK;
        default:
            return lsl_cli_usage_error("rules test", "bad option");
        }
    }
    if (optind + 1 != argc)
        return lsl_cli_usage_error("rules test",
                                   "expected one rule: NAME, FILE or auto");
    *name = argv[optind];
    return LSL_CLI_GO;
}

static int rules_test(int argc, char **argv)
{
    const char *in_path = NULL, *name = NULL;
    struct lsl_rule *r = NULL;
    struct lsl_buf sample = {0};
    FILE *in = stdin;
    int rc;

    rc = parse_test(argc, argv, &in_path, &name);
    if (rc != LSL_CLI_GO)
        return rc;
    if (in_path && !(in = fopen(in_path, "r"))) {
        lsl_log_error("%s: cannot open the input: %s", in_path,
                      strerror(errno));
        return LSL_EXIT_ERROR;
    }
    if (strcmp(name, "auto") == 0)
        rc = detect(in, &sample, &r);
    else
        rc = load(name, &r);
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

/* Print the rules of `dir` not already printed from an earlier one. */
static int list_dir(const char *dir, const char *const *earlier, size_t n)
{
    char **names = NULL, path[PATH_MAX];
    size_t count = 0;
    int rc = lsl_rule_dir_list(dir, &names, &count);

    for (size_t i = 0; rc == 0 && i < count; i++) {
        bool seen = false;

        for (size_t j = 0; j < n && !seen; j++)
            seen =
                lsl_path_join(path, sizeof(path), earlier[j], names[i]) == 0 &&
                access(path, R_OK) == 0;
        if (!seen && lsl_path_join(path, sizeof(path), dir, names[i]) == 0)
            printf("%.*s\t%s\n", (int)(strlen(names[i]) - 6), names[i], path);
    }
    lsl_rule_names_free(names, count);
    return rc == -ENOENT ? 0 : rc;
}

static int rules_list(int argc, char **argv)
{
    const char *dirs[LSL_RULE_DIRS_MAX];
    char text[1024];
    size_t n;
    int rc = 0;

    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        help_list();
        return LSL_EXIT_OK;
    }
    if (argc > 1)
        return lsl_cli_usage_error("rules list", "unexpected argument '%s'",
                                   argv[1]);
    n = lsl_rule_dirs(NULL, dirs);
    lsl_rule_dirs_text(NULL, text, sizeof(text));
    lsl_log_info("rules directories, in order: %s", text);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = list_dir(dirs[i], dirs, i);
        if (rc)
            lsl_log_error("%s: cannot list the rules: %s", dirs[i],
                          lsl_strerror(rc));
    }
    return rc ? LSL_EXIT_ERROR : LSL_EXIT_OK;
}

static const struct lsl_cmd rules_subcommands[] = {
    {"test", "show what a rule makes of sample lines", rules_test, false},
    {"list", "list the rules a NAME finds, and their files", rules_list, false},
};

int lsl_cmd_rules(int argc, char **argv)
{
    return lsl_cli_dispatch("rules", rules_subcommands,
                            LSL_ARRAY_SIZE(rules_subcommands), argc, argv);
}
