#!/usr/bin/env python3
"""Analytics on pseudonymized output: GoAccess and JSON lines.

    test_analytics.py LOGSEAL_BINARY SOURCE_ROOT

$LSL_ANALYTICS selects a part (goaccess, jsonl, w3c; default all).

goaccess: 20000 generated nginx lines through `logseal pipe` with no
option (the default output: address fields in ip6 mode), in `ip6`,
`prefix` (all read with --log-format=COMBINED) and `token` mode (a custom
--log-format with --no-ip-validation, as a token is no address). The real
GoAccess (Debian package goaccess) reports, from its JSON output, the same
total, valid and failed requests, bandwidth, per-status-code hits, unique
visitors (GoAccess counts ip + date + user agent) and hosts as on the
original log. GoAccess 1.7 keys its hosts panel by the 32-bit djb2 hash of
the host text and merges two hosts whose hashes collide (seen here: about
one run in sixty, as every run draws a new key); the test models that: the
output has as many distinct hosts as the source, and GoAccess reports as
many hosts as there are distinct djb2 values among them. Exit 77 (skipped)
without goaccess.

jsonl: the same log plus unparseable lines through `--format jsonl --out
FILE.gz`: Python's gzip and json read every line; one object per input
line; matched lines carry the rule's fields with the source's values once
tokens are unsealed (addresses normalized), status and bytes as numbers,
time_local as RFC 3339 UTC; unparsed lines carry "_line" with their
addresses tokenized, never raw.

w3c: generated W3C extended logs with a mid-file #Fields switch through
`--rule w3c --format jsonl`: every data line is one object (strict UTF-8
JSON) with the columns of the header in force; date and time are one RFC
3339 "time"; numeric columns are numbers equal to the source's; tokens
unseal to the source's identifiers and the other columns equal the
source's; no identifier of the truth file survives; the '#' lines write no
row and are counted: lines in = rows + header lines (pipe summary).
The jsonl part also sends nginx-json lines whose strings hold invalid
UTF-8 and lone surrogate escapes: every output line is strict UTF-8 JSON,
the address a token, no original left.
"""

import calendar
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import time

import lslib
from lslib import check

LINES = 20000
COMBINED_RE = re.compile(
    r'^(\S+) - (.*?) \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" '
    r'"([^"]*)"$')
FIELDS = ('remote_addr', 'remote_user', 'time_local', 'request', 'status',
          'body_bytes_sent', 'http_referer', 'http_user_agent')
TOKEN_FMT = '%h %^[%d:%t %^] "%r" %s %b "%R" "%u"'
MONTHS = {m: i for i, m in enumerate(
    ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct',
     'Nov', 'Dec'), 1)}
JUNK = [b'garbage from 10.9.8.7 "quoted" \\ tab\there \xff\xfe end',
        b'2001:db8::77 said \x01 hello']


def goaccess(ctx, log, name, fmt_args):
    """GoAccess's counts for `log` as a dict."""
    out = ctx.path(name + '.json')
    cmd = ['goaccess', log, '--no-global-config', '-o', out] + fmt_args
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    check(p.returncode == 0 and os.path.exists(out),
          'goaccess on %s: exit %d: %s'
          % (name, p.returncode, lslib.redact(p.stderr)))
    with open(out) as f:
        d = json.load(f)
    g = d['general']
    codes = {}
    for group in d['status_codes']['data']:
        for item in group.get('items', []):
            codes[item['data']] = item['hits']['count']
    return {'total': g['total_requests'], 'valid': g['valid_requests'],
            'failed': g['failed_requests'], 'bytes': g['bandwidth'],
            'visitors': g['unique_visitors'], 'codes': codes,
            'hosts': d['hosts']['metadata']['data']['total']['value']}


def djb2(text):
    """GoAccess's string hash (src/util.c), 32 bits."""
    h = 5381
    for b in text.encode():
        h = (h * 33 + b) & 0xffffffff
    return h


def goaccess_hosts(data):
    """(distinct hosts, hosts GoAccess 1.7 reports) of a log's bytes."""
    hosts = {line.split(' ', 1)[0]
             for line in data.decode('utf-8', 'replace').splitlines()}
    return len(hosts), len({djb2(h) for h in hosts})


def part_goaccess(ctx, keys, src):
    if not shutil.which('goaccess'):
        print('SKIP: goaccess not installed (.ci/deps.sh installs it)',
              file=sys.stderr)
        sys.exit(77)
    combined = ['--log-format=COMBINED']
    custom = ['--no-ip-validation', '--log-format=' + TOKEN_FMT,
              '--date-format=%d/%b/%Y', '--time-format=%T']
    want = goaccess(ctx, src, 'orig', combined)
    check(want['total'] == LINES and want['failed'] == 0 and
          want['visitors'] > 100 and len(want['codes']) >= 3,
          'goaccess on the original: unexpected counts %r' % want)
    with open(src, 'rb') as f:
        distinct, keyed = goaccess_hosts(f.read())
    check(want['hosts'] == keyed,
          'goaccess on the original: %d hosts, %d djb2 keys'
          % (want['hosts'], keyed))
    # The default output first (issue 19: GoAccess read none of it when
    # address fields were written as ip_... tokens).
    for mode, args in (('default', combined), ('ip6', combined),
                       ('prefix', combined), ('token', custom)):
        out = ctx.path('out-%s.log.gz' % mode)
        ctx.pipe('nginx-combined', keys, ctx.path('vault-' + mode), src=src,
                 out=out, extra=(['--ip-mode', mode] if mode != 'default'
                                 else []) + ['--level', '1'])
        plain = ctx.path('out-%s.txt' % mode)
        data = lslib.read_gz(out)
        with open(plain, 'wb') as g:
            g.write(data)
        got = goaccess(ctx, plain, mode, args)
        out_distinct, out_keyed = goaccess_hosts(data)
        check(out_distinct == distinct,
              '%s mode: %d distinct hosts written, %d in the source'
              % (mode, out_distinct, distinct))
        for key in want:
            expect = out_keyed if key == 'hosts' else want[key]
            check(got[key] == expect,
                  '%s mode: GoAccess %s %r, expected %r (on the original '
                  '%r)' % (mode, key, got[key], expect, want[key]))


def norm_ip(v):
    try:
        a = ipaddress.ip_address(v)
    except ValueError:
        return v
    if a.version == 6 and a.ipv4_mapped:
        return str(a.ipv4_mapped)
    return str(a)


def rfc3339(t):
    m = re.match(r'(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)'
                 r'(\d\d)$', t)
    check(m, 'source time %r' % t)
    d, mon, y, hh, mm, ss, sign, oh, om = m.groups()
    secs = calendar.timegm((int(y), MONTHS[mon], int(d), int(hh), int(mm),
                            int(ss)))
    off = (int(oh) * 3600 + int(om) * 60) * (1 if sign == '+' else -1)
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(secs - off))


def canon(s):
    """Text with its identifiers normalized as tokens normalize them."""
    return re.sub(r'[0-9A-Fa-f:.]{7,}', lambda m: norm_ip(m.group(0)),
                  s).lower()


def read_jsonl(path):
    objs = []
    for no, raw in enumerate(lslib.read_gz(path).splitlines(True), 1):
        try:
            objs.append(json.loads(raw.decode('utf-8')))
        except (UnicodeDecodeError, ValueError) as e:
            lslib.fail('jsonl line %d is not JSON: %s' % (no, e))
    return objs


def unseal_all(ctx, keys, vault, objs):
    tokens = set()
    for o in objs:
        for v in o.values():
            if isinstance(v, str):
                tokens.update(lslib.TOKEN_RE.findall(v))
    _, res = ctx.unseal(keys, vault, sorted(tokens), code=0)
    return {t: r[1] for t, r in res.items()}


def check_matched(no, o, src_line, orig):
    m = COMBINED_RE.match(src_line)
    check(m, 'source line %d does not parse' % no)
    src = dict(zip(FIELDS, m.groups()))

    def restore(v):
        return lslib.TOKEN_RE.sub(lambda t: orig[t.group(0)], v)

    check(o.get('_rule') == 'nginx-combined',
          'line %d: _rule is %r' % (no, o.get('_rule')))
    check(set(FIELDS) <= set(o), 'line %d: fields %s missing'
          % (no, sorted(set(FIELDS) - set(o))))
    check(lslib.TOKEN_RE.fullmatch(o['remote_addr']),
          'line %d: remote_addr is not a token' % no)
    check(restore(o['remote_addr']) == norm_ip(src['remote_addr']),
          'line %d: remote_addr does not unseal to the source' % no)
    check(o['status'] == int(src['status']) and
          o['body_bytes_sent'] == int(src['body_bytes_sent']),
          'line %d: status/bytes are not the source numbers' % no)
    check(o['time_local'] == rfc3339(src['time_local']),
          'line %d: time_local %r is not the source time in UTC'
          % (no, o['time_local']))
    for k in ('remote_user', 'request', 'http_referer', 'http_user_agent'):
        check(canon(restore(o[k])) == canon(src[k]),
              'line %d: %s differs from the source once unsealed' % (no, k))


BAD_JSON = [
    b'{"time":"2024-03-05T10:20:30+09:00","remote_addr":"203.0.113.9",'
    b'"request":"GET /a\xff\xc0\xaf\xed\xa0\x80?device_id=dev42abc HTTP/1.1",'
    b'"http_user_agent":"ua \\ud800 \\udc00x \\ud83d\\ude00 \xe2\x82",'
    b'"status":200}',
    b'{"time":"2024-03-05T10:20:31+09:00","remote_addr":"2001:db8::5",'
    b'"request":"GET /\xf4\x90\x80\x80 HTTP/1.1","status":404}',
]


def part_json_source(ctx, keys):
    """A JSON source's bad strings come out as strict UTF-8 JSON."""
    out, vault = ctx.path('bad.jsonl.gz'), ctx.path('vault-badjson')
    ctx.pipe('nginx-json', keys, vault, out=out, input=b'\n'.join(BAD_JSON)
             + b'\n', extra=['--format', 'jsonl', '--columns', 'source'])
    raw = lslib.read_gz(out)
    objs = [strict_json(line, no)
            for no, line in enumerate(raw.splitlines(), 1)]
    check(len(objs) == len(BAD_JSON) and
          all(o.get('_rule') == 'nginx-json' for o in objs),
          'nginx-json: %d rows for %d lines' % (len(objs), len(BAD_JSON)))
    check(b'203.0.113.9' not in raw and b'2001:db8::5' not in raw and
          b'dev42abc' not in raw, 'nginx-json: an identifier survives')
    orig = unseal_all(ctx, keys, vault, objs)
    check(orig[objs[0]['remote_addr']] == '203.0.113.9' and
          orig[objs[1]['remote_addr']] == '2001:db8::5',
          'nginx-json: remote_addr does not unseal to the source')
    check(objs[0]['http_user_agent'] == 'ua \ufffd \ufffdx \U0001f600 '
          '\u00e2\u0082' and objs[1]['status'] == 404,
          'nginx-json: bad strings not replaced as documented')


def part_jsonl(ctx, keys, src):
    mixed = ctx.path('mixed.log')
    with open(src, 'rb') as f, open(mixed, 'wb') as g:
        g.write(f.read() + b'\n'.join(JUNK) + b'\n')
    out, vault = ctx.path('out.jsonl.gz'), ctx.path('vault-jsonl')
    _, summary = ctx.pipe('nginx-combined', keys, vault, src=mixed, out=out,
                          extra=['--format', 'jsonl', '--columns', 'source'])
    objs = read_jsonl(out)
    check(len(objs) == LINES + len(JUNK) == summary['lines_out'],
          '%d JSON objects for %d lines in' % (len(objs), LINES + len(JUNK)))
    orig = unseal_all(ctx, keys, vault, objs)
    with open(src, encoding='utf-8') as f:
        for no, (line, o) in enumerate(zip(f, objs), 1):
            check_matched(no, o, line.rstrip('\n'), orig)
    for o, junk in zip(objs[LINES:], JUNK):
        check(o.get('_unparsed') is True and '_rule' not in o,
              'an unparsed line is not flagged')
        line = o['_line']
        check('10.9.8.7' not in line and '2001:db8::77' not in line and
              lslib.TOKEN_RE.search(line),
              'an unparsed line kept an address raw')
        restored = lslib.TOKEN_RE.sub(lambda t: orig[t.group(0)], line)
        check(restored.encode('latin-1') == junk,
              'an unparsed line does not round-trip its bytes')


W3C_LINES = 6000
W3C_NUMBERS = ('sc-status', 'sc-bytes', 'cs-bytes', 'time-taken',
               'x-duration', 'c-port')


def strict_json(raw, no):
    """One output line as JSON, refusing what strict readers refuse."""
    try:
        text = raw.decode('utf-8')
        obj = json.loads(text)
    except (UnicodeDecodeError, ValueError) as e:
        lslib.fail('w3c: jsonl line %d is not JSON: %s' % (no, e))
    check(not re.search(r'[\ud800-\udfff]', json.dumps(obj,
                                                        ensure_ascii=False)),
          'w3c: jsonl line %d holds a lone surrogate' % no)
    return obj


def w3c_records(src):
    """(header lines, [(columns, values)]) of a W3C log."""
    headers, records, cols = 0, [], None
    with open(src, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('#'):
                headers += 1
                if line.startswith('#Fields:'):
                    cols = line[len('#Fields:'):].split()
                continue
            vals = line.split('\t') if '\t' in line else line.split(' ')
            check(cols and len(vals) == len(cols),
                  'w3c: generated data line without its header')
            records.append(dict(zip(cols, vals)))
    return headers, records


def check_w3c_row(no, o, src, orig):
    def restore(v):
        return lslib.TOKEN_RE.sub(lambda t: orig[t.group(0)], v)

    want = ['_rule', 'time'] + [c for c in src if c not in ('date', 'time')]
    check(list(o) == want, 'w3c row %d: keys %r, expected %r'
          % (no, list(o), want))
    check(o['time'] == time.strftime('%Y-%m-%dT%H:%M:%SZ', time.strptime(
        src['date'] + ' ' + src['time'], '%Y-%m-%d %H:%M:%S')),
        'w3c row %d: time %r is not the source date and time' % (no, o['time']))
    check(lslib.TOKEN_RE.fullmatch(o['c-ip']) and
          orig[o['c-ip']] == norm_ip(src['c-ip']),
          'w3c row %d: c-ip is not a token of the source address' % no)
    for c, v in src.items():
        if c in ('date', 'time'):
            continue
        if c in W3C_NUMBERS:
            check(isinstance(o[c], (int, float)) and o[c] == float(v) and
                  isinstance(o[c], int) == ('.' not in v),
                  'w3c row %d: %s is not the source number' % (no, c))
            continue
        check(isinstance(o[c], str) and canon(restore(o[c])) == canon(v),
              'w3c row %d: %s differs from the source once unsealed'
              % (no, c))


def part_w3c(ctx, keys):
    src, truth = ctx.path('w3c.log'), ctx.path('w3c.truth')
    ctx.genlogs('w3c', W3C_LINES, src, seed=11, truth=truth,
                extra=['--w3c-switch'])
    headers, records = w3c_records(src)
    check(headers >= 4 and len({tuple(r) for r in records}) == 2,
          'w3c: the generated log lacks its #Fields switch')
    out, vault = ctx.path('w3c.jsonl.gz'), ctx.path('vault-w3c')
    proc, summ = ctx.pipe('w3c', keys, vault, src=src, out=out,
                          extra=['--format', 'jsonl', '--columns', 'source'])
    err = proc.stderr.decode('utf-8', 'replace')
    m = re.search(r'(\d+) header lines \(of parsed; no JSON row\)', err)
    check(m and int(m.group(1)) == headers,
          'w3c: the summary does not count %d header lines: %s'
          % (headers, lslib.redact(err)))
    check(summ['lines_in'] == headers + len(records) and
          summ['parsed'] == summ['lines_in'] and summ['unparsed'] == 0 and
          summ['lines_out'] == len(records),
          'w3c: summary %r for %d header and %d data lines'
          % (summ, headers, len(records)))
    raw = lslib.read_gz(out)
    objs = [strict_json(line, no)
            for no, line in enumerate(raw.splitlines(), 1)]
    check(len(objs) == len(records), 'w3c: %d rows for %d data lines'
          % (len(objs), len(records)))
    text = raw.decode('utf-8')
    words = set(lslib.WORD_RE.findall(text))
    words |= {w.strip(':.') for w in words}
    bad = {v for v in lslib.read_truth(truth) if not v.isdigit()}
    bad |= {lslib.normalize_value(v) for v in bad}
    check(not words & bad, 'w3c: %d identifier values of the source survive '
          'in the JSON lines' % len(words & bad))
    orig = unseal_all(ctx, keys, vault, objs)
    for no, (o, rec) in enumerate(zip(objs, records), 1):
        check_w3c_row(no, o, rec, orig)
    print('ok w3c: %d rows, %d header lines counted'
          % (len(objs), headers))


def body(ctx):
    keys = ctx.keygen()
    src = ctx.path('in.log')
    ctx.genlogs('nginx', LINES, src, seed=7)
    part = os.environ.get('LSL_ANALYTICS', '')
    if part in ('', 'goaccess'):
        part_goaccess(ctx, keys, src)
    if part in ('', 'jsonl'):
        part_jsonl(ctx, keys, src)
        part_json_source(ctx, keys)
    if part in ('', 'w3c'):
        part_w3c(ctx, keys)


if __name__ == '__main__':
    lslib.main(body)
