#!/usr/bin/env python3
"""Real logs as they are (issue 19): every shipped rule, its lines as
written and mutated.

    test_reallogs.py LOGSEAL_BINARY SOURCE_ROOT

Fixtures: tests/data/reallogs (one file per format, written from the
formats' documentation; MANIFEST names the rule for each, NAME.truth its
identifiers), and for the rules of the streaming service generated logs
(tests/tools/genlogs.py --truth: nginx-combined, nginx-main, nginx-rtmp,
posting, w3c) and tests/data/samples (nginx-json, nginx-disclosure).

- auto: `rules test auto` chooses the fixture's rule, and `pipe --rule
  auto` writes what `pipe --rule RULE` writes;
- as written: every line parsed, no identifier of the truth file left;
- mutated: every data line, once per cell (blank-separated, quoted and
  bracketed values as one; a W3C line's columns; a JSON line's members)
  with that cell removed, replaced by "-", followed by an extra cell, or
  opened by a stray quote. The fallback reads such lines with what the
  rule knows: no identifier of the truth file may survive in any of them
  (a cell holding one is not removed or replaced: that would remove the
  identifier with it);
- --unparsed redact and drop: no byte of an unparsed line is written,
  each is counted;
- JSON lines hold no helper column (nginx-rtmp's `publish`).

One mutation is left out: nginx-rtmp's command cell (PLAY, PUBLISH)
removed or replaced. A PUBLISH line without its verb is a well-formed
line of another command, and a PLAY line's stream name is a channel the
rule keeps: no reading can tell them apart (any verb but PLAY makes the
name a secret).

Failures name the fixture, line, mutation and the truth line number of
the value, never the value.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import lslib
from lslib import check

DATA = 'tests/data/reallogs'
GENERATED = (('nginx', 'nginx-combined'), ('nginx-xff', 'nginx-main'),
             ('rtmp', 'nginx-rtmp'), ('posting', 'posting'), ('w3c', 'w3c'))
SAMPLES = (('nginx-json', 'nginx-json'),
           ('nginx-disclosure', 'nginx-disclosure'))
GEN_LINES = 40
CELL_RE = re.compile(r'"(?:[^"]*)"(?= |$)|\[[^\]]*\](?= |$)|\S+')


def manifest(root):
    out = []
    with open(os.path.join(root, DATA, 'MANIFEST')) as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                name, rule = line.split()
                out.append((name, rule))
    return out


def truth_values(path, generated):
    with open(path, encoding='utf-8') as f:
        vals = [v for v in f.read().splitlines() if v]
    if generated:
        # Short numbers of a generated log are also byte counts and times.
        vals = [v for v in vals if len(v) >= 6 and not v.isdigit()]
    return vals


def cells(line):
    """(start, end) of each cell: a JSON member, a tab column, or a CLF
    word, quoted string or bracketed time."""
    if line.startswith('{'):
        out, depth, instr, esc, start = [], 0, False, False, 1
        for i, c in enumerate(line):
            if instr:
                esc = not esc and c == '\\'
                if c == '"' and not esc:
                    instr = False
                continue
            if c == '"':
                instr = True
            elif c in '{[':
                depth += 1
            elif c in '}]':
                depth -= 1
            elif c == ',' and depth == 1:
                out.append((start, i))
                start = i + 1
        out.append((start, len(line) - 1))
        return out
    if '\t' in line:
        out, start = [], 0
        for part in line.split('\t'):
            out.append((start, start + len(part)))
            start += len(part) + 1
        return out
    return [(m.start(), m.end()) for m in CELL_RE.finditer(line)]


RTMP_VERBS = ('PLAY', 'PUBLISH', 'PLAY+PUBLISH', 'NONE')


def mutations(line, truth, rule=''):
    """(label, mutated line) for every cell and mutation."""
    sep = '\t' if '\t' in line and not line.startswith('{') else ' '
    is_json = line.startswith('{')
    out = []
    for k, (s, e) in enumerate(cells(line)):
        cell = line[s:e]
        holds = any(v in cell for v in truth) or (
            rule == 'nginx-rtmp' and cell in RTMP_VERBS)
        dash = (cell[:cell.index(':') + 1] + '"-"'
                if is_json and ':' in cell else '-')
        extra = '"extra":"x"' if is_json else 'extra'
        joiner = ',' if is_json else sep
        if not holds:
            first = k == 0
            cut_s, cut_e = (s, e + 1) if first else (s - 1, e)
            out.append(('cell %d removed' % k, line[:cut_s] + line[cut_e:]))
            out.append(('cell %d as -' % k, line[:s] + dash + line[e:]))
            out.append(('stray quote at cell %d' % k,
                        line[:s] + '"' + line[s:]))
        out.append(('extra after cell %d' % k,
                    line[:e] + joiner + extra + line[e:]))
    return out


def pipe_text(ctx, keys, rule, data, extra=()):
    vault = ctx.path('vault-%d' % len(os.listdir(ctx.tmp)))
    proc, summ = ctx.pipe(rule, keys, vault, input=data, out='-',
                          extra=list(extra))
    return proc.stdout.decode('utf-8', 'replace'), summ, proc


def leaks(text, truth):
    return [i + 1 for i, v in enumerate(truth) if v in text]


def check_fixture(ctx, keys, label, rule, src, truth, auto=True):
    with open(src, 'rb') as f:
        data = f.read()
    lines = data.decode('utf-8').splitlines()
    if auto:
        p = ctx.run(['rules', 'test', 'auto', '--in', src])
        err = p.stderr.decode('utf-8', 'replace')
        m = re.search(r'--rule auto chose (\S+)', err)
        check(m and m.group(1) == rule, '%s: --rule auto chose %s, not %s'
              % (label, m.group(1) if m else 'nothing', rule))
    out, summ, _ = pipe_text(ctx, keys, rule, data)
    check(summ['unparsed'] == 0 and summ['lines_in'] == len(lines),
          '%s: %d of %d lines unparsed by %s'
          % (label, summ['unparsed'], summ['lines_in'], rule))
    bad = leaks(out, truth)
    check(not bad, '%s: truth values %s survive as written' % (label, bad))
    if auto:
        out2, _, _ = pipe_text(ctx, keys, 'auto', data)
        check(out2 == out, '%s: pipe --rule auto writes other bytes than '
              '--rule %s' % (label, rule))
    head = [ln for ln in lines if ln.startswith('#')][:8]
    body = [ln for ln in lines if not ln.startswith('#')]
    cases = []
    for no, line in enumerate(body, 1):
        for what, mut in mutations(line, truth, rule):
            cases.append(('line %d, %s' % (no, what), mut))
    data = '\n'.join(head + [c[1] for c in cases]) + '\n'
    out, summ, _ = pipe_text(ctx, keys, rule, data.encode())
    outl = out.splitlines()[len(head):]
    check(len(outl) == len(cases), '%s: %d mutated lines in, %d out'
          % (label, len(cases), len(outl)))
    for (what, _), got in zip(cases, outl):
        bad = leaks(got, truth)
        check(not bad, '%s: %s: truth values %s survive'
              % (label, what, bad))
    print('ok %s (%s): %d lines, %d mutations (%d unparsed), no leak'
          % (label, rule, len(body), len(cases), summ['unparsed']))
    return summ['unparsed']


def check_unparsed_modes(ctx, keys):
    """redact and drop: counted, and no byte of the line written."""
    data = (b'203.0.113.7 - alice [10/Oct/2023:13:55:36 -0700] "GET '
            b'/?uid=u4242 HTTP/1.1" 200 - "-" "curl/8"\n'
            b'198.51.100.9 - - [10/Oct/2023:13:55:36 -0700] "GET / '
            b'HTTP/1.1" 200 5 "-" "curl/8"\n')
    out, summ, proc = pipe_text(ctx, keys, 'nginx-combined', data,
                                ['--unparsed', 'redact'])
    lines = out.splitlines()
    check(lines[0] == '[logseal: unparsed line redacted, %d bytes]'
          % len(data.split(b'\n')[0]) and len(lines) == 2 and
          summ['lines_out'] == 2 and summ['unparsed'] == 1 and
          b'1 unparsed lines redacted, 0 dropped' in proc.stderr,
          'redact: marker or counts wrong: %r' % summ)
    out, summ, proc = pipe_text(ctx, keys, 'nginx-combined', data,
                                ['--unparsed', 'drop', '--format', 'jsonl'])
    lines = out.splitlines()
    check(len(lines) == 1 and json.loads(lines[0])['_rule'] ==
          'nginx-combined' and summ['lines_out'] == 1 and
          b'0 unparsed lines redacted, 1 dropped' in proc.stderr,
          'drop: line written or not counted: %r' % summ)
    for t in (b'alice', b'u4242', b'203.0.113.7'):
        check(t not in out.encode(), 'drop: an original was written')
    print('ok --unparsed redact and drop')


RTMP_GROUPS = {'remote_addr', 'time_local', 'command', 'app', 'name',
               'stream_key', 'args', 'bytes_received', 'bytes_sent',
               'pageurl', 'flashver', 'session_time'}


def check_no_helper_columns(ctx, keys):
    """JSON lines hold the rule's fields only (issue 20): nginx-rtmp's
    pattern had a helper group `publish` (the PUBLISH flag), written as a
    column of its own."""
    src = os.path.join(ctx.root, 'tests/data/samples/nginx-rtmp.log')
    with open(src, 'rb') as f:
        data = f.read()
    out, summ, _ = pipe_text(ctx, keys, 'nginx-rtmp', data,
                             ['--format', 'jsonl', '--columns', 'source'])
    rows = [json.loads(ln) for ln in out.splitlines()]
    check(len(rows) == summ['lines_out'] > 2, 'nginx-rtmp: %d JSON rows '
          'for %d lines out' % (len(rows), summ['lines_out']))
    for no, row in enumerate(rows, 1):
        if '_line' in row:
            continue
        extra = set(row) - RTMP_GROUPS - {'_rule'}
        check(not extra, 'nginx-rtmp row %d: columns no field of the rule '
              'names: %s' % (no, sorted(extra)))
    print('ok nginx-rtmp JSON rows: the rule\'s fields only')


def body(ctx):
    keys = ctx.keygen()
    check_no_helper_columns(ctx, keys)
    for name, rule in manifest(ctx.root):
        src = os.path.join(ctx.root, DATA, name + '.log')
        truth = truth_values(os.path.join(ctx.root, DATA, name + '.truth'),
                             False)
        check_fixture(ctx, keys, name, rule, src, truth)
    for fmt, rule in GENERATED:
        src, tp = ctx.path(fmt + '.log'), ctx.path(fmt + '.truth')
        ctx.genlogs(fmt, GEN_LINES, src, seed=19, truth=tp)
        check_fixture(ctx, keys, 'genlogs ' + fmt, rule, src,
                      truth_values(tp, True))
    for name, rule in SAMPLES:
        src = os.path.join(ctx.root, 'tests/data/samples', name + '.log')
        tp = os.path.join(ctx.root, 'tests/data/samples', name + '.truth')
        src2 = ctx.path(name + '-parsed.log')
        # The samples hold unparsed lines on purpose: only the parsed ones.
        with open(src, encoding='utf-8') as f, open(src2, 'w') as g:
            keep = [ln for ln in f.read().splitlines()
                    if ln and not ln.endswith(',}') and '"status":200}' not in ln]
            g.write('\n'.join(keep) + '\n')
        check_fixture(ctx, keys, 'sample ' + name, rule, src2,
                      truth_values(tp, False), auto=False)
    check_unparsed_modes(ctx, keys)


if __name__ == '__main__':
    lslib.main(body)
