/*
 * `logseal pipe`: stdin (or --in) through the pipeline to gzip (or plain
 * text on stdout), new mappings into a new sealed vault file, a one-line
 * summary on stderr.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli_internal.h"
#include "logseal/log.h"
#include "pipe_internal.h"

static void help(void)
{
    printf(
        "usage: logseal pipe --rule NAME|FILE|auto --keys KEYS\n"
        "                    --vault VAULTDIR [--state DIR] [--in FILE]\n"
        "                    [--out FILE|-|kafka://BROKERS/TOPIC]\n"
        "                    [--level 1-9] [--source NAME] [--host ID]\n"
        "                    [--max-line BYTES]\n"
        "                    [--ip-mode MODE] [--format text|jsonl]\n"
        "                    [--unparsed scrub|redact|drop]\n"
        "                    [--columns canonical|source] [--timezone TZ]\n"
        "                    [--progress|--no-progress]\n\n"
        "Read log lines from stdin (or --in FILE; gzip input, such as a\n"
        "rotated access.log.1.gz, is recognized and decompressed, every\n"
        "member), replace identifiers by keyed tokens, and write the lines\n"
        "in the same format: to --out FILE, gzip unless the name ends in\n"
        ".log, .jsonl, .ndjson, .json or .txt (written as FILE.part,\n"
        "renamed when complete; a FIFO or a character device is written in\n"
        "place, never replaced; a symbolic link is refused), or plain text\n"
        "to stdout when --out is '-' or absent, or to Kafka with --out\n"
        "kafka://HOST:PORT[,HOST:PORT...]/TOPIC (one message per line, one\n"
        "transaction per batch). New token mappings go to a\n"
        "new sealed vault file in VAULTDIR. Needs KEYS/hash.key and\n"
        "KEYS/vault.pub; never the officer key.\n\n"
        "  --state     where pipe keeps its place in the vault's chain of\n"
        "              files (writer-HEX.state, 0600); default KEYS, which\n"
        "              must then be writable\n"
        "  --rule      rule name (from the rules directory), .rules file,\n"
        "              or 'auto': the first rule (by file name) that\n"
        "              matches 80%% of the first 20 lines; when none\n"
        "              does, the text rule (with a warning)\n"
        "  --level     gzip level, default 6\n"
        "  --source    name recorded in the vault, default 'stdin' or the\n"
        "              --in file name\n"
        "  --host      host id in the vault file names and records\n"
        "              (HOST:SOURCE), default the hostname; A-Z a-z 0-9\n"
        "              . _ - only\n"
        "  --max-line  lines longer than this are scrubbed in pieces\n"
        "              (default 65536)\n"
        "  --ip-mode   write every address in one mode, whatever the rule\n"
        "              says: token (ip_...), ip6 (the token as an fd00::/8\n"
        "              address), prefix (keyed prefix-preserving address),\n"
        "              truncate[/B4[,B6]] (first B4 bits of IPv4, B6 of\n"
        "              IPv6 kept: B4 alone for both, 1-32; default /20 IPv4,\n"
        "              /44 IPv6; no vault entry, weak anonymization)\n"
        "  --format    text (default: the input's format) or jsonl (one\n"
        "              JSON object per line with the rule's named fields)\n"
        "  --columns   JSON lines' column names: canonical (default: the\n"
        "              names every shipped rule shares, client_ip, time,\n"
        "              status, bytes, request, user_agent, ...) or source\n"
        "              (the rule's groups, keys, columns)\n"
        "  --timezone  the UTC offset of times written without one (W3C\n"
        "              written in local time, HAProxy): Z, +09:00, -0500\n"
        "              (default Z)\n"
        "  --unparsed  what becomes of a line no rule matches: scrub\n"
        "              (default: written with every identifier the rule\n"
        "              knows of tokenized), redact (a fixed marker with its\n"
        "              length) or drop (not written); counted either way\n"
        "  --progress, --no-progress\n"
        "              a live status line on stderr (lines, MB, MB/s, and %%\n"
        "              with an ETA for a file): by default only when stderr\n"
        "              is a terminal\n\n"
        "SIGUSR1 prints the counters so far on stderr.\n"
        "Lines no rule matches are still written (unless --unparsed says\n"
        "otherwise), with every address, e-mail, device id, secret and\n"
        "what the rule's layout and parameters name tokenized, and counted\n"
        "as unparsed.\n");
}

/* `format`: enum lsl_out_format, which says what became of header lines. */
static void summary(const struct lsl_pipe_result *r, uint8_t format)
{
    const struct lsl_batch_stats *s = &r->st;

    fprintf(stderr,
            "logseal: pipe: %llu lines in, %llu lines out, %llu parsed, "
            "%llu unparsed, %llu tokens, %llu new vault entries",
            (unsigned long long)s->lines_in, (unsigned long long)s->lines_out,
            (unsigned long long)s->parsed, (unsigned long long)s->unparsed,
            (unsigned long long)s->tokens, (unsigned long long)r->vault_new);
    if (s->redacted || s->dropped)
        fprintf(stderr, "; %llu unparsed lines redacted, %llu dropped",
                (unsigned long long)s->redacted,
                (unsigned long long)s->dropped);
    if (s->meta)
        fprintf(stderr, "; %llu header lines (of parsed; %s)",
                (unsigned long long)s->meta,
                format == LSL_OUT_JSONL ? "no JSON row" : "passed as is");
    if (s->overlong || s->binary || s->noeol || s->limit_hits)
        fprintf(stderr,
                " (%llu overlong, %llu binary or invalid UTF-8, %llu without "
                "final newline, %llu over the match limit)",
                (unsigned long long)s->overlong, (unsigned long long)s->binary,
                (unsigned long long)s->noeol,
                (unsigned long long)s->limit_hits);
    if (s->late)
        fprintf(stderr,
                "; %llu late lines (older than the hash key's epoch: "
                "tokenized with the current key)",
                (unsigned long long)s->late);
    fprintf(stderr, "\n");
}

static int parse(int argc, char **argv, struct lsl_pipe_opts *o)
{
    static const struct option opts[] = {
        {"rule", required_argument, NULL, 'r'},
        {"keys", required_argument, NULL, 'k'},
        {"state", required_argument, NULL, 'S'},
        {"vault", required_argument, NULL, 'v'},
        {"in", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {"level", required_argument, NULL, 'l'},
        {"source", required_argument, NULL, 's'},
        {"host", required_argument, NULL, 'H'},
        {"max-line", required_argument, NULL, 'm'},
        {"ip-mode", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, 'f'},
        {"unparsed", required_argument, NULL, 'u'},
        {"columns", required_argument, NULL, 'c'},
        {"timezone", required_argument, NULL, 'z'},
        {"progress", no_argument, NULL, 'P'},
        {"no-progress", no_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "r:k:S:v:i:o:l:s:H:m:p:f:u:c:z:h", opts,
                            NULL)) != -1) {
        switch (c) {
        case 'r':
            o->rule = optarg;
            break;
        case 'k':
            o->keys_dir = optarg;
            break;
        case 'S':
            o->state_dir = optarg;
            break;
        case 'v':
            o->vault_dir = optarg;
            break;
        case 'i':
            o->in_path = optarg;
            o->source = optarg;
            break;
        case 'o':
            o->out_path = optarg;
            break;
        case 's':
            o->source = optarg;
            break;
        case 'H':
            if (!lsl_host_valid(optarg))
                return lsl_cli_usage_error("pipe",
                                           "--host takes 1-%d characters "
                                           "of A-Z a-z 0-9 . _ - (starting "
                                           "with a letter or digit, no "
                                           "'..')",
                                           LSL_HOST_MAX);
            snprintf(o->host, sizeof(o->host), "%s", optarg);
            break;
        case 'l':
            o->level = (int)strtol(optarg, &end, 10);
            if (*end || o->level < 1 || o->level > 9)
                return lsl_cli_usage_error("pipe", "--level takes 1-9");
            break;
        case 'm':
            o->max_line = strtoul(optarg, &end, 10);
            if (*end || o->max_line < 256 || o->max_line > (1u << 30))
                return lsl_cli_usage_error("pipe", "--max-line takes "
                                                   "256 to 1073741824");
            break;
        case 'p':
            if (lsl_ip_override_parse(optarg, &o->ip))
                return lsl_cli_usage_error("pipe",
                                           "--ip-mode takes token, "
                                           "ip6, prefix or truncate[/B4[,B6]] "
                                           "(B4 1-32, B6 1-128)");
            break;
        case 'f':
            if (lsl_out_format_parse(optarg, &o->format))
                return lsl_cli_usage_error("pipe",
                                           "--format takes text or jsonl");
            break;
        case 'u':
            if (lsl_unparsed_parse(optarg, &o->unparsed))
                return lsl_cli_usage_error("pipe", "--unparsed takes scrub, "
                                                   "redact or drop");
            break;
        case 'c':
            if (lsl_columns_parse(optarg, &o->columns))
                return lsl_cli_usage_error("pipe", "--columns takes "
                                                   "canonical or source");
            break;
        case 'z':
            if (lsl_tz_parse(optarg, &o->zone))
                return lsl_cli_usage_error("pipe",
                                           "--timezone takes Z, UTC or an "
                                           "offset such as +09:00 or -0500");
            break;
        case 'P':
        case 'N':
            o->progress = c == 'P';
            break;
        case 'h':
            help();
            return LSL_EXIT_OK;
        default:
            return lsl_cli_usage_error("pipe", "bad option");
        }
    }
    if (optind != argc)
        return lsl_cli_usage_error("pipe", "unexpected argument '%s'",
                                   argv[optind]);
    if (!o->rule || !o->keys_dir || !o->vault_dir)
        return lsl_cli_usage_error("pipe",
                                   "--rule, --keys and --vault are required");
    if (!o->host[0] && lsl_host_default(o->host) != 0)
        return lsl_cli_usage_error("pipe",
                                   "the hostname '%s' cannot be a host id "
                                   "(A-Z a-z 0-9 . _ -): give --host",
                                   o->host);
    return LSL_CLI_GO;
}

int lsl_cmd_pipe(int argc, char **argv)
{
    struct lsl_pipe_opts o;
    struct lsl_pipe_result r;
    int rc;

    lsl_pipe_opts_init(&o);
    rc = parse(argc, argv, &o);
    if (rc != LSL_CLI_GO)
        return rc;
    rc = lsl_pipe_run(&o, &r);
    summary(&r, o.format);
    if (rc == 0 && r.vault_path[0])
        lsl_log_info("vault file: %s", r.vault_path);
    return rc ? LSL_EXIT_ERROR : LSL_EXIT_OK;
}
