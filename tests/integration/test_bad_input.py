#!/usr/bin/env python3
"""Hostile input through `logseal pipe`: nothing lost, nothing left raw.

    test_bad_input.py LOGSEAL_BINARY SOURCE_ROOT

Cases: empty input; one 1 MiB line full of addresses, e-mails and UUIDs;
NUL bytes; invalid UTF-8; no newline after the last line; CRLF line ends.
Each must exit 0, give as many lines out as in, count every line in the
summary (parsed + unparsed), keep the non-identifier bytes that identify
each line, and leave no address, e-mail or UUID of the input in the output.
"""

import os
import re

import lslib
from lslib import check

RULE = 'nginx-combined'
LINE = ('{ip} - - [29/Nov/2025:17:00:{sec:02d} +0900] '
        '"GET /live/ch3/index.m3u8?device_id={dev}&token={token} HTTP/1.1" '
        '200 {size} "-" "ExampleLive/5.12.0 (Android 14; Pixel 7){ua}"')
ADDRS = ('198.51.100.23', '2001:db8:85a3::8a2e:370:7334',
         '::ffff:192.0.2.44', '2001:DB8:0:0:0:0:0:1a')
TOKEN = '5f0c2b8e9d7a41c3b6e2f1a0d9c8b7a6'
DEVS = ('0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
        '6C7D8E9F-0A1B-4C2D-9E3F-4A5B6C7D8E9F')


def nginx_line(i, ua=''):
    return LINE.format(ip=ADDRS[i % len(ADDRS)], sec=i % 60,
                       dev=DEVS[i % len(DEVS)], token=TOKEN, size=1000 + i,
                       ua=ua)


def originals_b(values):
    """Identifier values as bytes, as written and normalized."""
    out = set()
    for v in values:
        out.add(v.encode())
        out.add(lslib.normalize_value(v).encode())
    return out


WORD_RE_B = re.compile(lslib.WORD_RE.pattern.encode())


def run_case(ctx, keys, name, data, n, secret_values, markers=(),
             parsed=None):
    """Pipe `data` (n lines); check counts, leaks and kept bytes.

    markers[i]: bytes (or a tuple of them) output line i must hold.
    parsed: how many lines the rule must match, if known.
    """
    vault = ctx.path('vault-' + name)
    os.mkdir(vault)
    proc, summ = ctx.pipe(RULE, keys, vault, input=data, out='-')
    out = proc.stdout
    got = lslib.count_lines(out)
    check(got == n, '%s: %d lines out for %d in' % (name, got, n))
    check(summ['lines_in'] == n and summ['lines_out'] == n,
          '%s: summary says %d in, %d out; expected %d'
          % (name, summ['lines_in'], summ['lines_out'], n))
    check(summ['parsed'] + summ['unparsed'] == n, '%s: summary counts %d '
          'parsed + %d unparsed for %d lines'
          % (name, summ['parsed'], summ['unparsed'], n))
    if parsed is not None:
        check(summ['parsed'] == parsed, '%s: the rule matched %d lines, '
              'expected %d' % (name, summ['parsed'], parsed))
    leaked = set(WORD_RE_B.findall(out)) & originals_b(secret_values)
    check(not leaked, '%s: %d original identifiers survive in the output'
          % (name, len(leaked)))
    if secret_values:
        check(lslib.TOKEN_RE_B.search(out), '%s: no token in the output'
              % name)
    out_lines = out.split(b'\n')
    for i, marker in enumerate(markers):
        wanted = marker if isinstance(marker, tuple) else (marker,)
        check(i < len(out_lines) and all(w in out_lines[i] for w in wanted),
              '%s: output line %d lost bytes of its input' % (name, i + 1))
    print('ok %s: %d lines, %d parsed, %d unparsed, %d tokens'
          % (name, n, summ['parsed'], summ['unparsed'], summ['tokens']))
    return out


def huge_line():
    """About 1 MiB of text with addresses, e-mails and UUIDs spread in it."""
    parts, values, i = [], [], 0
    size = 0
    while size < 1 << 20:
        i += 1
        if i % 3 == 0:
            v = '198.%d.%d.%d' % (18 + i % 2, (i >> 8) % 256, i % 256)
        elif i % 3 == 1:
            v = '2001:db8:%x::%x' % (i >> 16, i & 0xffff)
        elif i % 9 == 2:
            v = 'viewer%d@example.com' % i
        else:
            v = '%08x-1234-4abc-8def-%012x' % (i, i * 7919)
        values.append(v)
        piece = 'seg=%d from %s ok; ' % (i, v)
        parts.append(piece)
        size += len(piece)
    return ''.join(parts), values


def body(ctx):
    keys = ctx.keygen()
    ids = list(ADDRS) + list(DEVS)

    out = run_case(ctx, keys, 'empty', b'', 0, [])
    check(out == b'', 'empty: output is not empty')

    text, values = huge_line()
    run_case(ctx, keys, 'huge-line', text.encode() + b'\n', 1, values,
             markers=[(b'seg=1 from ', b'seg=%d from ' % len(values))])

    lines = [nginx_line(i, ua=' \x00x%d\x00' % i).encode() for i in range(4)]
    run_case(ctx, keys, 'nul-bytes', b'\n'.join(lines) + b'\n', 4, ids,
             markers=[b'\x00x%d\x00' % i for i in range(4)])

    lines = [nginx_line(i).encode().replace(b'Pixel 7', b'Pixel \xff\xfe\xc3('
                                            + str(i).encode())
             for i in range(4)]
    lines.append(b'\x80\x81 loose bytes near 198.51.100.23 \xf0\x28\x8c')
    run_case(ctx, keys, 'invalid-utf8', b'\n'.join(lines) + b'\n', 5, ids,
             markers=[b'\xff\xfe\xc3(%d' % i for i in range(4)] +
             [b'\x80\x81 loose bytes near '])

    lines = [nginx_line(i).encode() for i in range(3)]
    run_case(ctx, keys, 'no-final-newline', b'\n'.join(lines), 3,
             ids + [TOKEN], parsed=3,
             markers=[b' 200 %d "-"' % (1000 + i) for i in range(3)])

    lines = [nginx_line(i).encode() for i in range(4)]
    out = run_case(ctx, keys, 'crlf', b'\r\n'.join(lines) + b'\r\n', 4,
                   ids + [TOKEN], parsed=4,
                   markers=[b' 200 %d "-"' % (1000 + i) for i in range(4)])
    check(all(ln.endswith(b'\r') for ln in out.split(b'\n')[:4]),
          'crlf: the CR of a line was not kept')
    check(len(lslib.pseudonyms(out.decode('utf-8', 'replace'))) >= 12,
          "crlf: expected each line's address, device id and token to be "
          'tokenized')


if __name__ == '__main__':
    lslib.main(body)
