/*
 * Officer-side vault reading shared by unseal, disclose and `vault`: the
 * walk over every file with per-file reports, the erased list, and JSON
 * string output. A damaged file never stops the walk: its intact chunks
 * are used and the damage is reported (exit 3 for integrity failures).
 */
#include <errno.h>
#include <string.h>
#include "logseal/log.h"
#include "vread_internal.h"

static void on_file(const char *path, const struct lsl_vault_file_info *info,
                    int rc, void *ud)
{
    struct lsl_cli_vread *st = ud;

    if (rc == 0)
        return;
    if (rc == LSL_ETRUNC) {
        lsl_log_warn("%s: cut short after %llu intact chunks (a crash, or "
                     "still being written); its intact records were used",
                     path, (unsigned long long)info->chunks);
        st->truncated = true;
        return;
    }
    lsl_log_error("%s: integrity failure at byte %llu: %s; records after "
                  "it were not used",
                  path, (unsigned long long)info->error_offset,
                  lsl_strerror(rc));
    if (!st->integrity)
        st->integrity = rc;
}

int lsl_cli_vault_read(const char *vault, const struct lsl_officer_key *key,
                       lsl_vault_record_fn fn, void *ud,
                       struct lsl_cli_vread *st)
{
    int rc = lsl_vault_read_dir(vault, key, fn, ud, on_file, st);

    /* Per-file problems were reported by on_file. */
    if (rc == LSL_ETRUNC || rc == LSL_EAUTH || rc == LSL_ECORRUPT ||
        rc == LSL_EFORMAT || rc == LSL_EVERSION)
        return 0;
    if (rc)
        lsl_log_error("%s: cannot read the vault: %s", vault, lsl_strerror(rc));
    return rc;
}

int lsl_cli_erased_load(const char *vault, struct lsl_tokset *out)
{
    int rc = lsl_legal_erased_load(vault, out);

    if (rc)
        lsl_log_error("%s/erased: cannot read the list of erased tokens: "
                      "%s",
                      vault, lsl_strerror(rc));
    return rc;
}

void lsl_cli_json_str(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}
