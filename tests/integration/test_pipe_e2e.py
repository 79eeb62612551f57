#!/usr/bin/env python3
"""End to end: generated nginx logs through `logseal pipe` and back.

    test_pipe_e2e.py LOGSEAL_BINARY SOURCE_ROOT

For 200000 `nginx` lines (rule nginx-combined) and 100000 `nginx-xff` lines
(rule nginx-main):
- pipe --out FILE.gz; the real zcat and Python's gzip read the same text;
- as many lines out as in; the summary line agrees with the output (lines,
  parsed + unparsed, token occurrences, new vault entries = distinct tokens);
- no identifier the generator wrote (its --truth file, also normalized)
  occurs in the output; user ids are checked where they are identifiers
  (uid=N, /u/N/) because the same digits may be a byte count elsewhere;
- unseal of every distinct token finds all of them; originals are the
  generator's values, normalized; one token per (class, value); first and
  last seen are the earliest and latest line times of the token;
- replacing each token by its original rebuilds the input line with its
  identifiers normalized: every other byte is unchanged;
- a second run with the same keys gives byte-identical text, and so does
  plain output on stdout.
"""

import calendar
import os
import re
import time
import uuid

import lslib
from lslib import check

CASES = (('nginx', 'nginx-combined', 200000, 5),
         ('nginx-xff', 'nginx-main', 100000, 6))
UID_POS_RE = re.compile(r'(?:[?&]uid=|/u/)(\d+)')
TIME_RE = re.compile(r'\[(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) '
                     r'([+-])(\d\d)(\d\d)\]')
MONTHS = {m: i for i, m in enumerate(
    ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct',
     'Nov', 'Dec'), 1)}


def iso_of_line(line, cache):
    """The line's nginx time as ISO 8601 UTC, or None."""
    m = TIME_RE.search(line)
    if not m:
        return None
    key = m.group(0)
    iso = cache.get(key)
    if iso is None:
        d, mon, y, hh, mm, ss, sign, oh, om = m.groups()
        t = calendar.timegm((int(y), MONTHS[mon], int(d), int(hh), int(mm),
                             int(ss)))
        off = (int(oh) * 3600 + int(om) * 60) * (1 if sign == '+' else -1)
        iso = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t - off))
        cache[key] = iso
    return iso


def first_lines(nos):
    return ', '.join(str(n) for n in nos[:5])


def check_no_leak(label, text, out_lines, truth):
    """No truth value in the output: whole identifier words, uid spots."""
    words = [v for v in truth if not v.isdigit()]
    bad = set(words) | {lslib.normalize_value(v) for v in words}
    seen = set(lslib.WORD_RE.findall(text))
    seen |= {w.strip(':') for w in seen}
    leaked = seen & bad
    if leaked:
        nos = [no for no, line in enumerate(out_lines, 1)
               if leaked & set(lslib.WORD_RE.findall(line))]
        lslib.fail('%s: %d original identifier values survive in the output '
                   '(lines %s ...)' % (label, len(leaked), first_lines(nos)))
    uids = {v for v in truth if v.isdigit()}
    nos = [no for no, line in enumerate(out_lines, 1)
           if any(u in uids for u in UID_POS_RE.findall(line))]
    check(not nos, '%s: %d lines keep a user id in uid= or /u/N/ (lines %s)'
          % (label, len(nos), first_lines(nos)))


def check_summary(label, summ, n, occurrences, distinct):
    check(summ['lines_in'] == n and summ['lines_out'] == n,
          '%s: summary says %d lines in, %d out; the input has %d'
          % (label, summ['lines_in'], summ['lines_out'], n))
    check(summ['parsed'] + summ['unparsed'] == n,
          '%s: summary: %d parsed + %d unparsed != %d lines'
          % (label, summ['parsed'], summ['unparsed'], n))
    check(summ['unparsed'] == 0, '%s: %d generated lines were not parsed by '
          'the rule' % (label, summ['unparsed']))
    check(summ['tokens'] == occurrences, '%s: summary says %d tokens, the '
          'output holds %d' % (label, summ['tokens'], occurrences))
    check(summ['vault'] == distinct, '%s: summary says %d new vault entries, '
          'the output holds %d distinct tokens'
          % (label, summ['vault'], distinct))


def check_originals(label, found, truth):
    """Originals are normalized truth values, one token per value."""
    allowed = {lslib.normalize_value(v) for v in truth} | {'unknown'}
    by_value = {}
    for tok, (cls, orig, _, _) in found.items():
        check(orig == lslib.normalize_value(orig),
              '%s: unseal of %s returns a value not in normalized form'
              % (label, tok))
        # The scrubber takes every address-shaped word of free text (by
        # design, e.g. the "119.0.0.0" of "Chrome/119.0.0.0"): allowed too;
        # so are the request ids of nginx-main's trailing fields (rid=, 32
        # hex digits: an opaque value, read as an id there, and written
        # as the UUID its digits spell).
        check(orig in allowed or (cls == 'ip' and lslib.is_address(orig)) or
              (cls == 'id' and lslib.UUID_RE.match(orig) and
               label.startswith('nginx-xff')),
              '%s: unseal of %s returns a value the input never held as an '
              'identifier' % (label, tok))
        other = by_value.setdefault((cls, orig), tok)
        check(other == tok, '%s: %s and %s stand for the same %s value'
              % (label, other, tok, cls))


RID_RE = re.compile(r'(rid=)([0-9a-f]{32})\b')


def check_rebuild(label, in_lines, out_lines, found):
    """Tokens -> originals gives the input, identifiers normalized."""
    spans = {}
    cache = {}
    bad = []
    for no, (src, dst) in enumerate(zip(in_lines, out_lines), 1):
        toks = lslib.TOKEN_RE.findall(dst)
        rebuilt = lslib.TOKEN_RE.sub(lambda m: found[m.group(0)][1], dst)
        # nginx-main's rid= (32 hex digits, an opaque value of its free
        # text) comes back as the UUID its digits spell.
        src = RID_RE.sub(lambda m: m.group(1) + str(uuid.UUID(m.group(2))),
                         src)
        if rebuilt != src and rebuilt != lslib.normalize_words(src):
            bad.append(no)
        when = iso_of_line(src, cache)
        for t in toks:
            lo, hi = spans.get(t, (when, when))
            spans[t] = (min(lo, when), max(hi, when))
    check(not bad, '%s: %d lines do not rebuild to their input (lines %s)'
          % (label, len(bad), first_lines(bad)))
    wrong = sorted(t for t, (lo, hi) in spans.items()
                   if (found[t][2], found[t][3]) != (lo, hi))
    check(not wrong, '%s: %d tokens have first/last seen other than their '
          'line times (e.g. %s)' % (label, len(wrong), ', '.join(wrong[:3])))


def run_case(ctx, keys, fmt, rule, n, seed):
    label = '%s/%s' % (fmt, rule)
    src, truth_path = ctx.path(fmt + '.log'), ctx.path(fmt + '.truth')
    ctx.genlogs(fmt, n, src, seed=seed, truth=truth_path)
    truth = lslib.read_truth(truth_path)
    with open(src, 'rb') as f:
        raw_in = f.read()
    vault = ctx.path('vault-' + fmt)
    os.mkdir(vault)
    out = ctx.path(fmt + '.out.gz')
    _, summ = ctx.pipe(rule, keys, vault, src=src, out=out)

    with open(out, 'rb') as f:
        check(f.read(2) == b'\x1f\x8b', '%s: %s is not gzip' % (label, out))
    data = lslib.read_gz(out)
    check(lslib.zcat(out) == data,
          '%s: zcat and Python gzip read different text' % label)
    members = lslib.gz_members(out)
    check(data.endswith(b'\n') and lslib.count_lines(data) == n,
          '%s: %d output lines for %d input lines'
          % (label, lslib.count_lines(data), n))
    text = data.decode('utf-8')
    out_lines = text[:-1].split('\n')
    in_lines = raw_in.decode('utf-8')[:-1].split('\n')

    occurrences = lslib.TOKEN_RE.findall(text)
    tokens = sorted(set(occurrences))
    check_summary(label, summ, n, len(occurrences), len(tokens))
    check_no_leak(label, text, out_lines, truth)

    proc, found = ctx.unseal(keys, vault, tokens, code=0)
    missing = [t for t in tokens if found.get(t, 'not-found') == 'not-found']
    check(not missing, '%s: unseal does not find %d of %d tokens (e.g. %s)'
          % (label, len(missing), len(tokens), ', '.join(missing[:3])))
    check(len(found) == len(tokens), '%s: unseal printed %d results for %d '
          'tokens' % (label, len(found), len(tokens)))
    check_originals(label, found, truth)
    check_rebuild(label, in_lines, out_lines, found)

    rerun(ctx, keys, label, rule, src, data, summ)
    print('ok %s: %d lines, %d gzip members, %d tokens (%d distinct)'
          % (label, n, members, len(occurrences), len(tokens)))


def rerun(ctx, keys, label, rule, src, data, summ):
    """Same keys, same input: same bytes, gzip or plain, same counts."""
    tag = label.replace('/', '-')
    vault2 = ctx.path('vault2-' + tag)
    os.mkdir(vault2)
    out2 = ctx.path(tag + '.again.gz')
    _, summ2 = ctx.pipe(rule, keys, vault2, src=src, out=out2)
    check(lslib.read_gz(out2) == data,
          '%s: a second run with the same keys gives different text' % label)
    check(summ2 == summ, '%s: a second run gives other summary counts'
          % label)
    for how, out in (('--out -', '-'), ('no --out', None)):
        vault3 = ctx.path('vault3-%s-%d' % (tag, out is None))
        os.mkdir(vault3)
        proc, summ3 = ctx.pipe(rule, keys, vault3, src=src, out=out)
        check(proc.stdout == data, '%s: plain output (%s) differs from the '
              'gzip output' % (label, how))
        check(summ3 == summ, '%s: plain output (%s) gives other summary '
              'counts' % (label, how))


def body(ctx):
    keys = ctx.keygen()
    for fmt, rule, n, seed in CASES:
        run_case(ctx, keys, fmt, rule, n, seed)


if __name__ == '__main__':
    lslib.main(body)
