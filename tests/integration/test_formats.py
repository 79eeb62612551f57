#!/usr/bin/env python3
"""End to end: the live-streaming service's other log formats.

    test_formats.py LOGSEAL_BINARY SOURCE_ROOT

Generated logs (tests/tools/genlogs.py, with --truth) go through
`logseal pipe` with their rule:
  rtmp -> nginx-rtmp, posting -> posting, w3c --w3c-switch -> w3c (a second
  #Fields line mid-file), and nginx-xff lines rewritten as the JSON lines of
  the log_format in rules/nginx-json.rules -> nginx-json.
For each:
- as many lines out as in, every line parsed;
- no identifier of the truth file (as written or normalized) survives as a
  word of the output; numeric user ids are checked where they are ids
  (uid=N, "user_id");
- every distinct token unseals to a normalized truth value (or, for class
  ip, an address the scrubber took from free text);
- JSON output lines are valid JSON with the input's keys in the input's
  order, and turning tokens back into originals gives the input's values
  (normalized; a number given a token comes back as its digits);
  text formats rebuild byte for byte, identifiers normalized;
- `pipe --rule auto` picks the same rule, says so on stderr, and writes the
  same bytes (the sampled lines are not lost).
JSON lines the rule does not match (a required key removed: another kind
of event) are read as free text; they must still come out as valid JSON
(a number under a key that names an id becomes a quoted token), rebuild
to their input and leak nothing.
"""

import json
import os
import re

import lslib
from lslib import check

N = 20000
UID_RE = re.compile(r'(?:[?&]uid=|/u/)(\d+)')
COMBINED_XFF_RE = re.compile(
    r'^(\S+) - (.*?) \[(\d\d)/(\w{3})/(\d{4}):(\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)'
    r'\] "(.*?)" (\d{3}) (\d+) "(.*?)" "(.*?)" "(.*?)" rid=(\S+) dev=(\S+) '
    r'rt=(\S+)$')
MONTHS = {m: i for i, m in enumerate(
    ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct',
     'Nov', 'Dec'), 1)}


def first(nos):
    return ', '.join(str(n) for n in nos[:5])


def to_json_line(no, line):
    """An nginx-xff line as nginx would write it with main_json."""
    m = COMBINED_XFF_RE.match(line)
    check(m, 'nginx-xff line %d does not have the expected shape' % no)
    (addr, user, d, mon, y, hms, oh, om, req, status, size, ref, ua, xff,
     rid, dev, rt) = m.groups()
    rec = {
        'time': '%s-%02d-%sT%s%s:%s' % (y, MONTHS[mon], d, hms, oh, om),
        'remote_addr': addr,
        'remote_port': str(1024 + (no * 7919) % 64000),
        'x_forwarded_for': xff,
        'remote_user': '' if user == '-' else user,
        'request': req,
        'status': int(status),
        'body_bytes_sent': int(size),
        'request_time': float(rt),
        'http_referer': ref,
        'http_user_agent': ua,
        'http_x_device_id': dev,
        'request_id': rid,
    }
    return json.dumps(rec, ensure_ascii=False, separators=(',', ':'))


def make_input(ctx, fmt, src, truth_path):
    if fmt != 'nginx-json':
        extra = ('--w3c-switch',) if fmt == 'w3c' else ()
        ctx.genlogs(fmt, N, src, seed=7, truth=truth_path, extra=extra)
        return
    raw = src + '.xff'
    ctx.genlogs('nginx-xff', N, raw, seed=7, truth=truth_path)
    with open(raw, encoding='utf-8') as f, \
            open(src, 'w', encoding='utf-8') as out:
        for no, line in enumerate(f, 1):
            out.write(to_json_line(no, line.rstrip('\n')) + '\n')


def check_no_leak(label, text, out_lines, truth):
    words = [v for v in truth if not v.isdigit()]
    bad = set(words) | {lslib.normalize_value(v) for v in words}
    seen = set(lslib.WORD_RE.findall(text))
    seen |= {w.strip(':.') for w in seen}
    leaked = seen & bad
    if leaked:
        nos = [no for no, line in enumerate(out_lines, 1)
               if leaked & set(lslib.WORD_RE.findall(line))]
        lslib.fail('%s: %d original identifier values survive in the output '
                   '(lines %s)' % (label, len(leaked), first(nos)))
    uids = {v for v in truth if v.isdigit()}
    nos = []
    for no, line in enumerate(out_lines, 1):
        spots = UID_RE.findall(line)
        m = re.search(r'"user_id":"?(\d+)', line)
        if m:
            spots.append(m.group(1))
        if any(u in uids for u in spots):
            nos.append(no)
    check(not nos, '%s: %d lines keep a user id (lines %s)'
          % (label, len(nos), first(nos)))


# An ip field (an X-Forwarded-For element too) is tokenized whatever it
# holds; genlogs writes "unknown" there, which names nobody.
IP_FIELD_WORDS = frozenset(('unknown',))


def check_originals(label, found, truth):
    allowed = {lslib.normalize_value(v) for v in truth}
    for tok, (cls, orig, _, _) in found.items():
        check(orig == lslib.normalize_value(orig),
              '%s: unseal of %s is not in normalized form' % (label, tok))
        check(orig in allowed or (cls == 'ip' and (
            lslib.is_address(orig) or orig in IP_FIELD_WORDS)),
              '%s: unseal of %s returns a value the input never held as an '
              'identifier' % (label, tok))


def untoken(s, found):
    return lslib.TOKEN_RE.sub(lambda m: found[m.group(0)][1], s)


def same_value(a, b, found):
    """Output value b, tokens restored, equals input value a."""
    if isinstance(a, (dict, list)):
        if type(a) is not type(b) or len(a) != len(b):
            return False
        if isinstance(a, dict):
            return list(a) == list(b) and all(
                same_value(a[k], b[k], found) for k in a)
        return all(same_value(x, y, found) for x, y in zip(a, b))
    if isinstance(b, str) and lslib.TOKEN_RE.search(b):
        back = untoken(b, found)
        if not isinstance(a, str):
            return back == str(a)
        return back in (a, lslib.normalize_words(a))
    return a == b


def check_json(label, in_lines, out_lines, found):
    bad, order = [], []
    for no, (src, dst) in enumerate(zip(in_lines, out_lines), 1):
        try:
            b = json.loads(dst)
        except ValueError:
            bad.append(no)
            continue
        a = json.loads(src)
        if list(a) != list(b):
            order.append(no)
        elif not same_value(a, b, found):
            bad.append(no)
    check(not order, '%s: %d JSON lines lost their key order (lines %s)'
          % (label, len(order), first(order)))
    check(not bad, '%s: %d JSON lines are invalid or do not rebuild to '
          'their input (lines %s)' % (label, len(bad), first(bad)))


def check_rebuild(label, in_lines, out_lines, found):
    bad = [no for no, (src, dst) in enumerate(zip(in_lines, out_lines), 1)
           if untoken(dst, found) not in (src, lslib.normalize_words(src))]
    check(not bad, '%s: %d lines do not rebuild to their input (lines %s)'
          % (label, len(bad), first(bad)))


def check_auto(ctx, keys, label, rule, src, data):
    vault = ctx.path('vault-auto-' + rule)
    os.mkdir(vault)
    proc, summ = ctx.pipe('auto', keys, vault, src=src, out='-')
    err = proc.stderr.decode('utf-8', 'replace')
    check('--rule auto chose %s (' % rule in err,
          '%s: --rule auto did not choose %s: %s'
          % (label, rule, lslib.redact(err)))
    check(proc.stdout == data, '%s: output with --rule auto differs from '
          'output with --rule %s' % (label, rule))
    check(summ['unparsed'] == 0, '%s: --rule auto left %d lines unparsed'
          % (label, summ['unparsed']))


def check_unmatched(ctx, keys, label, rule, in_lines, truth):
    """The JSON lines without the rule's first required key: unparsed."""
    drop = {'posting': 'event', 'nginx-json': 'remote_addr'}[rule]
    lines = []
    for ln in in_lines[:2000]:
        rec = json.loads(ln)
        rec.pop(drop)
        lines.append(json.dumps(rec, ensure_ascii=False,
                                separators=(',', ':')))
    vault = ctx.path('vault-unmatched-' + rule)
    data = ('\n'.join(lines) + '\n').encode()
    proc, summ = ctx.pipe(rule, keys, vault, input=data, out='-')
    check(summ['unparsed'] == len(lines), '%s: %d of %d lines without %r '
          'were parsed' % (label, len(lines) - summ['unparsed'], len(lines),
                           drop))
    text = proc.stdout.decode('utf-8')
    out_lines = text[:-1].split('\n')
    check(len(out_lines) == len(lines), '%s: lines lost' % label)
    check_no_leak(label + ' unmatched', text, out_lines, truth)
    tokens = sorted(set(lslib.TOKEN_RE.findall(text)))
    _, found = ctx.unseal(keys, vault, tokens, code=0)
    check_json(label + ' unmatched', lines, out_lines, found)
    print('ok %s: %d lines no rule matches, still JSON' % (label,
                                                             len(lines)))


def run_case(ctx, keys, fmt, rule):
    label = '%s/%s' % (fmt, rule)
    src, truth_path = ctx.path(fmt + '.log'), ctx.path(fmt + '.truth')
    make_input(ctx, fmt, src, truth_path)
    truth = lslib.read_truth(truth_path)
    with open(src, 'rb') as f:
        raw_in = f.read()
    vault = ctx.path('vault-' + fmt)
    os.mkdir(vault)
    proc, summ = ctx.pipe(rule, keys, vault, src=src, out='-')
    data = proc.stdout
    n = lslib.count_lines(raw_in)
    check(lslib.count_lines(data) == n, '%s: %d output lines for %d input '
          'lines' % (label, lslib.count_lines(data), n))
    check(summ['lines_in'] == n and summ['unparsed'] == 0,
          '%s: %d lines in, %d unparsed; the input has %d lines'
          % (label, summ['lines_in'], summ['unparsed'], n))
    text = data.decode('utf-8')
    out_lines = text[:-1].split('\n')
    in_lines = raw_in.decode('utf-8')[:-1].split('\n')
    check_no_leak(label, text, out_lines, truth)

    tokens = sorted(set(lslib.TOKEN_RE.findall(text)))
    check(tokens, '%s: no token in the output' % label)
    _, found = ctx.unseal(keys, vault, tokens, code=0)
    missing = [t for t in tokens if found.get(t, 'not-found') == 'not-found']
    check(not missing, '%s: unseal does not find %d of %d tokens'
          % (label, len(missing), len(tokens)))
    check_originals(label, found, truth)
    if fmt in ('posting', 'nginx-json'):
        check_json(label, in_lines, out_lines, found)
        check_unmatched(ctx, keys, label, rule, in_lines, truth)
    else:
        check_rebuild(label, in_lines, out_lines, found)
    check_auto(ctx, keys, label, rule, src, data)
    print('ok %s: %d lines, %d distinct tokens' % (label, n, len(tokens)))


def body(ctx):
    keys = ctx.keygen()
    for fmt, rule in (('rtmp', 'nginx-rtmp'), ('posting', 'posting'),
                      ('w3c', 'w3c'), ('nginx-json', 'nginx-json')):
        run_case(ctx, keys, fmt, rule)


if __name__ == '__main__':
    lslib.main(body)
