#!/usr/bin/env python3
"""JSON lines of two formats in one DuckDB query (issue 19).

    test_duckdb.py LOGSEAL_BINARY SOURCE_ROOT

Generated nginx combined and W3C logs go through `logseal pipe --format
jsonl` with the default (canonical) columns. DuckDB (npm @duckdb/node-api,
installed under the build directory by lslib.duckdb_dir) reads
both files at once with read_json_auto(..., union_by_name = true):

- the shared columns have one type across the sources: status and bytes
  BIGINT, time TIMESTAMP (with the W3C zone given by --timezone), the
  rest VARCHAR; no column is typed JSON (an array of duplicate keys
  would be);
- per source and together: rows, rows with status 200, the sum of
  bytes, the distinct clients (client_ip tokens) and the first and last
  time equal what the original lines say; method, path and query of the
  nginx rows (split from request) answer the same GROUP BY as the W3C
  columns do.

Fails when node or the package cannot be had (.ci/deps.sh installs node
and npm).
"""

import calendar
import json
import os
import re
import subprocess
import time

import lslib
from lslib import check

LINES = 3000
COMBINED_RE = re.compile(
    r'^(\S+) - (.*?) \[([^\]]+)\] "(\S+) ([^" ]*) ([^"]*)" (\d{3}) (\d+) ')
MONTHS = {m: i for i, m in enumerate(
    ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct',
     'Nov', 'Dec'), 1)}


def query(d, sql):
    p = subprocess.run(['node', os.path.join(d, 'duckdb_query.mjs'), sql],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    check(p.returncode == 0, 'duckdb: %s' % lslib.redact(p.stderr))
    rows, types = p.stdout.decode().splitlines()
    return json.loads(rows), json.loads(types)


def iso(t, frac=''):
    return time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(t)) + frac


def nginx_truth(path):
    out = {'rows': 0, 'ok': 0, 'bytes': 0, 'clients': set(), 'times': [],
           'paths': {}}
    with open(path, encoding='utf-8') as f:
        for line in f:
            m = COMBINED_RE.match(line)
            check(m, 'generated nginx line does not parse')
            addr, _, when, method, uri, _, status, size = m.groups()
            d, mon, rest = when.split('/')
            y, hh, mm, ss = rest[:4], rest[5:7], rest[8:10], rest[11:13]
            sign, oh, om = rest[14], int(rest[15:17]), int(rest[17:19])
            t = calendar.timegm((int(y), MONTHS[mon], int(d), int(hh),
                                 int(mm), int(ss)))
            t -= (1 if sign == '+' else -1) * (oh * 3600 + om * 60)
            out['rows'] += 1
            out['ok'] += status == '200'
            out['bytes'] += int(size)
            out['clients'].add(lslib.normalize_value(addr))
            out['times'].append(t)
            key = (method, uri.split('?')[0])
            out['paths'][key] = out['paths'].get(key, 0) + 1
    return out


def w3c_truth(path, zone):
    out = {'rows': 0, 'ok': 0, 'bytes': 0, 'clients': set(), 'times': []}
    cols = None
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('#Fields:'):
                cols = line[8:].split()
            if line.startswith('#'):
                continue
            v = dict(zip(cols, line.split('\t') if '\t' in line
                         else line.split(' ')))
            t = calendar.timegm(time.strptime(v['date'] + ' ' + v['time'],
                                              '%Y-%m-%d %H:%M:%S')) - zone
            out['rows'] += 1
            out['ok'] += v['sc-status'] == '200'
            out['bytes'] += int(v['sc-bytes'])
            out['clients'].add(lslib.normalize_value(v['c-ip']))
            out['times'].append(t)
    return out


def body(ctx):
    d = lslib.duckdb_dir(ctx, 'tools/duckdb_query.mjs')
    keys = ctx.keygen()
    ng, w3 = ctx.path('nginx.log'), ctx.path('w3c.log')
    ctx.genlogs('nginx', LINES, ng, seed=23)
    ctx.genlogs('w3c', LINES, w3, seed=29)
    out_ng, out_w3 = ctx.path('nginx.jsonl.gz'), ctx.path('w3c.jsonl.gz')
    ctx.pipe('nginx-combined', keys, ctx.path('v1'), src=ng, out=out_ng,
             extra=['--format', 'jsonl'])
    # W3C written in local time 9 h east of UTC.
    ctx.pipe('w3c', keys, ctx.path('v2'), src=w3, out=out_w3,
             extra=['--format', 'jsonl', '--timezone', '+09:00'])
    want = {'nginx-combined': nginx_truth(ng),
            'w3c': w3c_truth(w3, 9 * 3600)}
    files = "['%s', '%s']" % (out_ng, out_w3)
    src = "read_json_auto(%s, union_by_name = true)" % files
    rows, types = query(d, (
        "SELECT _rule, count(*) AS n, count(*) FILTER (WHERE status = 200) "
        "AS ok, sum(bytes) AS b, count(DISTINCT client_ip) AS clients, "
        "min(time) AS t0, max(time) AS t1, any_value(typeof(status)) AS ts, "
        "any_value(typeof(bytes)) AS tb, any_value(typeof(time)) AS tt, "
        "any_value(typeof(client_ip)) AS tc FROM %s GROUP BY _rule "
        "ORDER BY _rule" % src))
    check(len(rows) == 2, 'duckdb: %d sources in the union, not 2'
          % len(rows))
    for r in rows:
        w = want[r['_rule']]
        check(int(r['n']) == w['rows'] and int(r['ok']) == w['ok'] and
              int(r['b']) == w['bytes'] and
              int(r['clients']) == len(w['clients']),
              '%s: rows/ok/bytes/clients %s vs %s'
              % (r['_rule'], [r['n'], r['ok'], r['b'], r['clients']],
                 [w['rows'], w['ok'], w['bytes'], len(w['clients'])]))
        check((r['ts'], r['tb'], r['tt'], r['tc']) ==
              ('BIGINT', 'BIGINT', 'TIMESTAMP', 'VARCHAR'),
              '%s: column types %s' % (r['_rule'], [r['ts'], r['tb'],
                                                    r['tt'], r['tc']]))
        check(r['t0'].startswith(iso(min(w['times']))) and
              r['t1'].startswith(iso(max(w['times']))),
              '%s: times %s..%s, expected %s..%s'
              % (r['_rule'], r['t0'], r['t1'], iso(min(w['times'])),
                 iso(max(w['times']))))
    # Both sources in one answer: the nginx request's parts and the W3C
    # columns are the same columns.
    rows, types = query(d, (
        "SELECT count(*) AS n, sum(bytes) AS b, count(DISTINCT method) AS "
        "m, count(*) FILTER (WHERE path IS NULL) AS nopath FROM %s" % src))
    total = sum(w['rows'] for w in want.values())
    check(int(rows[0]['n']) == total and
          int(rows[0]['b']) == sum(w['bytes'] for w in want.values()) and
          int(rows[0]['nopath']) == 0,
          'union: %s, expected %d rows and a path on every one'
          % (rows, total))
    check(all(t != 'JSON' for t in types.values()),
          'union: a column typed JSON: %s' % types)
    rows, _ = query(d, (
        "SELECT method, path, count(*) AS n FROM %s WHERE _rule = "
        "'nginx-combined' GROUP BY ALL ORDER BY n DESC LIMIT 5" % src))
    for r in rows:
        if lslib.TOKEN_RE.search(r['path'] or ''):
            continue
        check(int(r['n']) == want['nginx-combined']['paths'].get(
            (r['method'], r['path']), -1),
              'nginx: %s %s: %s rows in DuckDB' % (r['method'], r['path'],
                                                   r['n']))
    print('ok duckdb: %d rows of nginx and W3C in one query, shared '
          'columns typed alike' % total)


if __name__ == '__main__':
    lslib.main(body)
