/*
 * What a rule lets a disclosure answer. A lawful request names an address,
 * a source port and a moment (carrier-grade NAT shares one address among
 * many subscribers, so the port and a time to the second are what single
 * one out). A rule whose lines lack one of them can still pseudonymize,
 * but the records it keeps cannot answer such a request; this says so at
 * start-up (`pipe`, and `run` per source, again on reload) and in `rules
 * test`, all with the one sentence of lsl_rule_disclosure_warning, from
 * the rule alone, never from log data.
 */
#include <stdio.h>
#include <string.h>
#include "rules_internal.h"

/* Names taken as the source port when no `disclosure port=` line says. */
static const char *const port_names[] = {"remote_port", "client_port",
                                         "src_port", "c-port", "port"};

static bool is_port_name(const char *name)
{
    for (size_t i = 0; i < LSL_ARRAY_SIZE(port_names); i++)
        if (strcmp(name, port_names[i]) == 0)
            return true;
    return false;
}

static bool has_port(const struct lsl_rule *r)
{
    if (r->port_group)
        return true;
    for (size_t i = 0; i < r->nnames; i++)
        if (is_port_name(r->names[i].name))
            return true;
    /* JSON keys and W3C columns are known only through their lines. */
    for (size_t i = 0; i < r->nfields; i++)
        if (r->format != RULE_FMT_REGEX && is_port_name(r->fields[i].group))
            return true;
    return false;
}

static bool has_address(const struct lsl_rule *r)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].action == RULE_ACT_IP ||
            r->fields[i].action == RULE_ACT_IPLIST)
            return true;
    return false;
}

static bool has_seconds(const struct lsl_rule *r)
{
    const char *f = r->time_fmt;

    return strstr(f, "%S") || strstr(f, "%T") || strstr(f, "%s");
}

static void add_gap(char *buf, size_t cap, size_t *at, unsigned *n,
                    const char *what)
{
    int w;

    (*n)++;
    if (cap == 0 || *at >= cap)
        return;
    w = snprintf(buf + *at, cap - *at, "%s%s", *n > 1 ? "; " : "", what);
    if (w > 0)
        *at += (size_t)w;
}

unsigned lsl_rule_disclosure_gaps(const struct lsl_rule *r, char *buf,
                                  size_t cap)
{
    unsigned n = 0;
    size_t at = 0;

    if (cap)
        buf[0] = '\0';
    if (!has_address(r))
        add_gap(buf, cap, &at, &n, "no client address");
    if (!has_port(r))
        add_gap(buf, cap, &at, &n, "no source port");
    if (!r->time_fmt)
        add_gap(buf, cap, &at, &n, "no time");
    else if (!has_seconds(r))
        add_gap(buf, cap, &at, &n, "no time with second precision");
    return n;
}

unsigned lsl_rule_disclosure_warning(const struct lsl_rule *r, char *buf,
                                     size_t cap)
{
    char gaps[160];
    unsigned n = lsl_rule_disclosure_gaps(r, gaps, sizeof(gaps));

    if (cap)
        buf[0] = '\0';
    if (n && cap)
        snprintf(buf, cap,
                 "rule %s cannot fully answer a disclosure request: %s",
                 lsl_rule_name(r), gaps);
    return n;
}
