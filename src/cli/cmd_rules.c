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
#include "cli.h"
#include "logseal/log.h"
#include "logseal/rules.h"

static void help(void)
{
    printf("usage: logseal rules test NAME|FILE [--in FILE] < lines\n\n"
           "Show, for each input line, which rule matched ('unparsed' when\n"
           "none did and the scrubber took it), the line with each span\n"
           "that would be tokenized shown as <class> (or <drop>), and the\n"
           "spans as class@offset+length.\n");
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

static int test_lines(const struct lsl_rule *r, FILE *in)
{
    struct lsl_matcher *m = NULL;
    const struct lsl_plan *plan;
    char *line = NULL;
    size_t cap = 0;
    unsigned long no = 0;
    ssize_t n;
    int rc;

    rc = lsl_matcher_open(&m);
    while (rc == 0 && (n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;

        no++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        rc = lsl_rule_plan(r, m, line, len, &plan);
        if (rc == 0)
            show_line(no, lsl_rule_name(r), line, len, plan);
    }
    free(line);
    lsl_matcher_free(m);
    return rc;
}

static int load(const char *name, struct lsl_rule **r)
{
    char path[PATH_MAX];
    struct lsl_rule_error e = { 0 };
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
        { "in", required_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *in_path = NULL;
    struct lsl_rule *r = NULL;
    FILE *in = stdin;
    int c, rc;

    while ((c = getopt_long(argc, argv, "+i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in_path = optarg; break;
        case 'h':
            help();
            return LSL_EXIT_OK;
        default:
            return lsl_cli_usage_error("rules", "bad option");
        }
    }
    if (optind + 2 != argc || strcmp(argv[optind], "test") != 0)
        return lsl_cli_usage_error("rules", "expected 'rules test NAME'");
    if (load(argv[optind + 1], &r) != 0)
        return LSL_EXIT_ERROR;
    if (in_path && !(in = fopen(in_path, "r"))) {
        lsl_log_error("%s: %s", in_path, strerror(errno));
        lsl_rule_free(r);
        return LSL_EXIT_ERROR;
    }
    rc = test_lines(r, in);
    if (in != stdin)
        fclose(in);
    lsl_rule_free(r);
    return rc ? LSL_EXIT_ERROR : LSL_EXIT_OK;
}
