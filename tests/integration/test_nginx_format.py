#!/usr/bin/env python3
"""`format nginx` rules write what their regex equivalents write.

    test_nginx_format.py LOGSEAL_BINARY SOURCE_ROOT

The shipped nginx-combined, nginx-main and nginx-disclosure rules read
lines by their log_format (nginx-main with `trailing extra`). For each, a twin rule is built from the shipped file with the
log_format replaced by the PCRE2 pattern these rules used before (same
field, param, time and disclosure lines). Generated logs plus hand-made
hostile lines (user names holding " [", raw quotes, IPv6 server
addresses, cut lines, binary) go through `logseal pipe --out -` with both
rules and the same keys: the outputs must be byte for byte equal, and the
summaries must agree on parsed and unparsed counts. Lines neither rule
matches may differ: the fallback reads them by the log_format's cells,
which a regex rule has not (fallback.c); there, neither output may keep
an address, e-mail or user name of the hostile lines.
"""

import os
import re
import shutil

import lslib

TIME = r'(?<time_local>\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})'
COMBINED = (r'^(?<remote_addr>\S+) - (?<remote_user>.*?) \[' + TIME +
            r'\] "(?<request>[^"]*)" (?<status>\d{3}) '
            r'(?<body_bytes_sent>\d+) "(?<http_referer>[^"]*)" '
            r'"(?<http_user_agent>[^"]*)"')
PATTERNS = {
    'nginx-combined': COMBINED + '$',
    'nginx-main': COMBINED + r' "(?<http_x_forwarded_for>[^"]*)"'
    r'(?: (?<extra>.*))?$',
    'nginx-disclosure': COMBINED +
    r' (?<remote_port>\d+) (?<server_addr>\S+):(?<server_port>\d+) '
    r'(?<msec>\d+\.\d+) (?<request_id>\S+)$',
}

T = '[05/Mar/2024:10:20:30 +0900]'
HOSTILE = [
    '203.0.113.7 - a [b ' + T + ' "GET /?uid=7 HTTP/1.1" 200 5 "-" "ua"',
    '203.0.113.7 - x] [y [z ' + T + ' "GET / HTTP/1.1" 200 5 "-" "ua"',
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5 "-" "u"a"',
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 2000 5 "-" "ua"',
    '203.0.113.7 - - [05/Mar/2024:10:20:3 +0900] "GET / HTTP/1.1" 200 5 '
    '"-" "ua"',
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5 "-"',
    '203.0.113.7  - - ' + T + ' "GET / HTTP/1.1" 200 5 "-" "ua"',
    '2001:db8::7 - bob ' + T + ' "GET /u/42/x?email=a@b.example HTTP/2.0" '
    '404 0 "https://r.example/?device_id=abc" "Mozilla/5.0 (198.51.100.9)"',
    '- - - ' + T + ' "" 400 0 "-" "-"',
    '',
    'garbage without structure 192.0.2.55 user@example.org',
]
XFF = ' "-" "ua" "203.0.113.9, 10.0.0.1"'
MAIN = [
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5' + XFF,
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5' + XFF + ' ',
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5' + XFF +
    ' rid=4f7c dev=6C7D8E9F-0A1B-4C2D-9E3F-4A5B6C7D8E9F ip=198.51.100.4',
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5' + XFF + 'x',
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5' + XFF + ' "q" "r"',
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5 "-" "ua"',
]
DISCLOSURE = [
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5 "-" "ua" 51234 '
    '2001:db8::10:443 1709601630.123 4f7c2a9e0b6d4e1f',
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5 "-" "ua" 51234 '
    '192.0.2.10:443 1709601630.123 -',
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5 "-" "ua" 51234 '
    '192.0.2.10 1709601630.123 -',
    '203.0.113.7 - - ' + T + ' "GET / HTTP/1.1" 200 5 "-" "ua" 51234 '
    '::1:x:80 1709601630 -',
]


def twin_rule(ctx, name, rules_dir):
    """The shipped rule with its log_format swapped for the pattern."""
    with open(os.path.join(ctx.root, 'rules', name + '.rules')) as f:
        text = f.read()
    out, skipping = [], False
    for line in text.splitlines():
        if line.startswith('format') or line.startswith('trailing'):
            continue
        if line.startswith('log_format'):
            out.append('pattern  ' + PATTERNS[name])
            skipping = True
            continue
        if skipping and re.match(r"\s+['\"]", line):
            continue
        skipping = False
        out.append(line)
    lslib.check(any(l.startswith('pattern') for l in out),
                '%s: no log_format line to replace' % name)
    with open(os.path.join(rules_dir, name + '.rules'), 'w') as f:
        f.write('\n'.join(out) + '\n')


def disclosure_lines(ctx, n):
    """Generated combined lines with the disclosure fields appended."""
    src = ctx.path('gen-combined.log')
    ctx.genlogs('nginx', n, src, seed=5)
    out = []
    with open(src, 'rb') as f:
        for i, line in enumerate(f.read().splitlines()):
            out.append(line + b' %d 192.0.2.%d:443 17096016%02d.%03d %x'
                       % (1024 + i % 60000, i % 250, i % 100, i % 1000, i))
    return out


# Originals of the hostile lines that the fallback must not leave.
HOSTILE_IDS = (b'203.0.113.7', b'2001:db8::7', b'a@b.example', b'192.0.2.55',
               b'user@example.org', b'198.51.100.9', b' bob ', b'uid=7 ')


def unparsed_ok(name, no, x, y):
    """Line `no` differs: both outputs are fallbacks without originals."""
    for out in (x, y):
        for v in HOSTILE_IDS:
            lslib.check(v not in out, '%s: line %d differs (format nginx vs '
                        'regex) and keeps an original' % (name, no))


def run_both(ctx, name, data, keys, twin_dir):
    results = []
    for tag, env_dir in (('shipped', None), ('regex', twin_dir)):
        if env_dir:
            ctx.env['LOGSEAL_RULES_DIR'] = env_dir
        else:
            ctx.env['LOGSEAL_RULES_DIR'] = os.path.join(ctx.root, 'rules')
        vault = ctx.path('vault-%s-%s' % (name, tag))
        os.makedirs(vault)
        proc, summary = ctx.pipe(name, keys, vault, input=data,
                                 extra=['--out', '-'])
        results.append((proc.stdout, summary))
    ctx.env['LOGSEAL_RULES_DIR'] = os.path.join(ctx.root, 'rules')
    (ours, s1), (theirs, s2) = results
    if ours != theirs:
        a, b = ours.splitlines(), theirs.splitlines()
        lslib.check(len(a) == len(b), '%s: outputs differ in length' % name)
        src = data.splitlines()
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y and src[i].decode('utf-8', 'replace') not in (
                    HOSTILE + MAIN + DISCLOSURE):
                lslib.fail('%s: line %d differs (format nginx vs regex):\n'
                           '%s\n%s' % (name, i + 1, lslib.redact(x),
                                       lslib.redact(y)))
            if x != y:
                unparsed_ok(name, i + 1, x, y)
    for key in ('parsed', 'unparsed', 'lines_in', 'lines_out'):
        lslib.check(s1.get(key) == s2.get(key),
                    '%s: %s %r (format nginx) vs %r (regex)'
                    % (name, key, s1.get(key), s2.get(key)))
    return s1


def body(ctx):
    keys = ctx.keygen()
    twin_dir = ctx.path('twin-rules')
    os.makedirs(twin_dir)
    # The rules include the shared parameter list from beside them.
    shutil.copy(os.path.join(ctx.root, 'rules', 'web.params'), twin_dir)
    for name in PATTERNS:
        twin_rule(ctx, name, twin_dir)

    gen = ctx.path('combined.log')
    ctx.genlogs('nginx', 20000, gen, seed=3)
    with open(gen, 'rb') as f:
        data = f.read()
    data += '\n'.join(HOSTILE).encode() + b'\n\xff\xfe binary \x00 line\n'
    s = run_both(ctx, 'nginx-combined', data, keys, twin_dir)
    lslib.check(s.get('parsed', 0) >= 20000 and s.get('unparsed', 0) >= 5,
                'nginx-combined: expected the generated lines parsed and '
                'the hostile ones not, got %r' % s)

    gen = ctx.path('main.log')
    ctx.genlogs('nginx-xff', 20000, gen, seed=3)
    with open(gen, 'rb') as f:
        data = f.read()
    data += '\n'.join(MAIN + HOSTILE).encode() + b'\n'
    s = run_both(ctx, 'nginx-main', data, keys, twin_dir)
    lslib.check(s.get('parsed', 0) >= 20004,
                'nginx-main: generated lines not parsed: %r' % s)

    data = b'\n'.join(disclosure_lines(ctx, 5000)) + b'\n'
    data += '\n'.join(DISCLOSURE + HOSTILE).encode() + b'\n'
    s = run_both(ctx, 'nginx-disclosure', data, keys, twin_dir)
    lslib.check(s.get('parsed', 0) >= 5002,
                'nginx-disclosure: generated lines not parsed: %r' % s)


if __name__ == '__main__':
    lslib.main(body)
