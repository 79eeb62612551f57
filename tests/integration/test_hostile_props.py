#!/usr/bin/env python3
"""Property test of the scrubber through `logseal pipe` (deterministic).

    test_hostile_props.py LOGSEAL_BINARY SOURCE_ROOT

Random lines are built from random identifiers (IPv4, zero-padded IPv4,
IPv6 full, compressed, upper-case, zero-padded, with a zone id,
IPv4-mapped, bracketed with a port, addresses in host names, e-mails,
UUIDs) placed in random text: at the start or end of the line, next to
punctuation, inside quotes and URLs. The filler holds look-alikes that are
not identifiers (versions 1.2.3.4.5 and 5.12.0, times 12:30:45, numbers).

They go through a rule that matches nothing, so only the scrubber acts.
For every line: the output with each token cut out equals the input with
each identifier cut out (so no identifier survives and no other byte
changed, look-alikes included); the summary counts one token per
identifier; unsealing every token gives back the identifier's normalized
spelling.
"""

import ipaddress
import random
import re

import lslib
from lslib import check

NOMATCH_RULE = '''name     nomatch
pattern  ^(?<never>\\x00never\\x00)$
field    never  keep
'''
SEEDS = (11, 12, 13)
LINES = 1500
SEPS = ' "\'()<>,;=&?|{}!*'
WORDS = ('GET', 'POST', 'peer', 'from', 'to', 'user', 'ok', 'denied',
         'HTTP/1.1', '200', '404', '5.12.0', '1.2.3.4.5', '12:30:45',
         'v2.0', 'x64', 'mp4', 'ch7', '2025-11-29', '+0900', 'ExoPlayer')
ZONES = ('eth0', 'en1', 'wlan0', 'lo')
HOSTS = ('ec2-{}.compute-1.example.com', 'host-{}.example.net',
         'ip-{}.ec2.internal')
CUT = '\x00'
# Tokens may be glued to the text before them (ec2-ip_...), so no \b.
TOKEN_CUT_RE = re.compile(r'(?:ip|id|user|email|secret|phone|name)_'
                          r'[a-z2-7]{26}')


def r_ip4(r):
    return '.'.join(str(r.randrange(1, 255)) for _ in range(4))


def r_ip6_addr(r):
    groups = [r.randrange(0, 0x10000) for _ in range(8)]
    if r.random() < 0.6:  # a run of zeros so that :: appears
        start = r.randrange(0, 7)
        for i in range(start, min(8, start + r.randrange(2, 5))):
            groups[i] = 0
    if groups[:6] == [0, 0, 0, 0, 0, 0xffff]:
        groups[0] = 0x2001
    return ipaddress.IPv6Address(bytes(
        b for g in groups for b in g.to_bytes(2, 'big')))


def ident(r):
    """(text as written, normalized spelling, text around it)."""
    kind = r.randrange(12)
    if kind == 0:
        a = r_ip4(r)
        return a, a, ('', '')
    if kind == 1:
        parts = [r.randrange(0, 256) for _ in range(4)]
        a = '.'.join('%03d' % p for p in parts)
        return a, '.'.join(map(str, parts)), ('', '')
    a6 = r_ip6_addr(r)
    norm6 = str(a6)
    if kind == 2:
        return a6.exploded, norm6, ('', '')
    if kind == 3:
        return norm6, norm6, ('', '')
    if kind == 4:
        return norm6.upper(), norm6, ('', '')
    if kind == 5:
        return a6.exploded.upper(), norm6, ('', '')
    if kind == 6:
        z = r.choice(ZONES)
        return norm6 + '%' + z, norm6 + '%' + z, ('', '')
    if kind == 7:
        a = r_ip4(r)
        mapped = r.choice(('::ffff:', '::FFFF:', '0:0:0:0:0:ffff:'))
        return mapped + a, a, ('', '')
    if kind == 8:
        return norm6, norm6, ('[', ']:%d' % r.randrange(1, 65536))
    if kind == 9:
        a = r_ip4(r)
        host = r.choice(HOSTS).split('{}')
        return a.replace('.', '-'), a, (host[0], host[1])
    if kind == 10:
        local = ''.join(r.choice('abcdefghijklmnopqrstuvwxyzABC0123456789._')
                        for _ in range(r.randrange(1, 12)))
        local = local.strip('.') or 'u'
        dom = r.choice(('example.com', 'Mail.Example.ORG', 'ex.co.jp'))
        e = local + '@' + dom
        return e, e.lower(), ('', '')
    u = '%08x-%04x-%04x-%04x-%012x' % (
        r.getrandbits(32), r.getrandbits(16), r.getrandbits(16),
        r.getrandbits(16), r.getrandbits(48))
    if r.random() < 0.5:
        u = u.upper()
    return u, u.lower(), ('', '')


def wrap(r, text, around, real):
    """Put an identifier (with its own surroundings) in a context; `real`
    is the identifier that `text` (its placeholder) stands for. An e-mail
    is never a URL's host: after "://" it would be user@host, the user
    tokenized and the host kept (test_hostile_ids.py covers that)."""
    pre, post = around
    ctxt = r.randrange(5)
    if ctxt == 0 and not pre:
        return '"' + text + '"'
    if ctxt == 1 and not pre:
        return "'" + text + "'"
    if ctxt == 2 and not pre and '%' not in real and '@' not in real:
        if ':' in real:
            return 'http://[' + text + ']:8080/live/x.m3u8'
        return 'http://' + text + '/live/x.m3u8'
    if ctxt == 3:
        return '?q=' + pre + text + post + '&z=1'
    return pre + text + post


def make_line(r):
    """(line, skeleton with identifiers cut, [(written, normalized)])."""
    parts, skel, ids = [], [], []
    n = r.randrange(1, 7)
    for i in range(n):
        if r.random() < 0.5 or i == 0:
            w = ' '.join(r.choice(WORDS) for _ in range(r.randrange(0, 4)))
            parts.append(w)
            skel.append(w)
        text, norm, around = ident(r)
        placed = wrap(r, CUT, around, text)
        parts.append(placed.replace(CUT, text))
        skel.append(placed)
        ids.append((text, norm))
    seps = [r.choice(SEPS) for _ in range(len(parts) - 1)]
    line = parts[0] + ''.join(s + p for s, p in zip(seps, parts[1:]))
    sk = skel[0] + ''.join(s + p for s, p in zip(seps, skel[1:]))
    return line, sk, ids


def run_seed(ctx, keys, rule, seed):
    r = random.Random(seed)
    lines = [make_line(r) for _ in range(LINES)]
    data = ''.join(l[0] + '\n' for l in lines).encode()
    vault = ctx.path('vault-%d' % seed)
    proc, summ = ctx.pipe(rule, keys, vault, input=data, out='-')
    out = proc.stdout.decode('utf-8').split('\n')
    want = sum(len(l[2]) for l in lines)
    check(summ['tokens'] == want, 'seed %d: %d tokens for %d identifiers'
          % (seed, summ['tokens'], want))
    bad = []
    norm_of = {}
    for no, ((line, skel, ids), got) in enumerate(zip(lines, out), 1):
        toks = TOKEN_CUT_RE.findall(got)
        if TOKEN_CUT_RE.sub(CUT, got) != skel or len(toks) != len(ids):
            bad.append(no)
            continue
        for t, (_, norm) in zip(toks, ids):
            norm_of.setdefault(t, set()).add(norm)
    check(not bad, 'seed %d: %d lines keep an identifier or changed other '
          'bytes (lines %s)' % (seed, len(bad), bad[:10]))
    split = [t for t, v in norm_of.items() if len(v) > 1]
    check(not split, 'seed %d: %d tokens stand for two values'
          % (seed, len(split)))
    _, found = ctx.unseal(keys, vault, sorted(norm_of), code=0)
    wrong = [t for t, v in norm_of.items()
             if found.get(t, 'not-found') == 'not-found' or
             found[t][1] not in v]
    check(not wrong, 'seed %d: %d tokens unseal to another value (e.g. %s)'
          % (seed, len(wrong), wrong[:3]))
    print('ok seed %d: %d lines, %d identifiers' % (seed, LINES, want))


def body(ctx):
    keys = ctx.keygen()
    rule = ctx.path('nomatch.rules')
    with open(rule, 'w') as f:
        f.write(NOMATCH_RULE)
    for seed in SEEDS:
        run_seed(ctx, keys, rule, seed)


if __name__ == '__main__':
    lslib.main(body)
