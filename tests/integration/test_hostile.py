#!/usr/bin/env python3
"""Hostile input through the real binary.

    test_hostile.py LOGSEAL_BINARY SOURCE_ROOT

- addresses inside reverse-DNS host names, IPv6 with ports (bracketed and
  not), upper-case and zero-padded IPv6: tokenized, the rest kept;
- a 100 MB line, streamed: one line out, memory well below the line size;
- a file of NUL bytes and lines of random bytes: every line out, counted;
- 1M distinct addresses: one token per address, with the caches full;
- a rule with a catastrophic-backtracking pattern: PCRE2's limit stops it,
  the line is scrubbed and counted as over the match limit;
- key files that others may read, or that another user owns: refused.
Set LSL_HOSTILE_BIG_MB to change the size of the long line; with
LSL_TEST_SANITIZED set (sanitizer builds) its memory is not checked.
"""

import os
import random
import re
import subprocess
import threading
import time

import lslib
from lslib import check

RULE = 'nginx-combined'


def pipe_text(ctx, keys, name, data, rule=RULE, code=0):
    vault = ctx.path('vault-' + name)
    proc, summ = ctx.pipe(rule, keys, vault, input=data, out='-', code=code)
    return proc.stdout, summ, proc.stderr


def no_leak(name, out, values):
    for v in values:
        check(v.encode() not in out, '%s: an original identifier survives '
              'in the output (value #%d)' % (name, values.index(v)))


HOSTS = [
    # (text, originals that must vanish, bytes that must stay)
    ('ec2-198-51-100-23.compute-1.amazonaws.com',
     ['198-51-100-23'], ['ec2-', '.compute-1.amazonaws.com']),
    ('host-192-0-2-1.example.net', ['192-0-2-1'], ['host-', '.example.net']),
    ('23.100.51.198.in-addr.arpa', ['23.100.51.198'], ['.in-addr.arpa']),
    ('p203-0-113-9.tkyo.example.jp', ['203-0-113-9'], ['p', '.tkyo.']),
    ('[2001:db8::1]:443', ['2001:db8::1'], ['[', ']:443']),
    ('[::1]:8080', ['::1'], ['[', ']:8080']),
    ('2001:DB8:0:0:0:0:0:1A port 443', ['2001:DB8:0:0:0:0:0:1A'],
     [' port 443']),
    ('2001:0db8:0000:0000:0000:0000:0000:0001,', ['2001:0db8:0000'], [',']),
    ('fe80::1%eth0 via', ['fe80::1'], [' via']),
    ('::FFFF:192.0.2.44;', ['192.0.2.44'], [';']),
    ('2001:db8::7/64', ['2001:db8::7'], ['/64']),
]


def check_shapes(ctx, keys):
    lines = ['%d peer %s end' % (i, h[0]) for i, h in enumerate(HOSTS)]
    out, summ, _ = pipe_text(ctx, keys, 'shapes',
                             ('\n'.join(lines) + '\n').encode())
    got = out.split(b'\n')
    check(summ['lines_out'] == len(HOSTS), 'shapes: %d lines out'
          % summ['lines_out'])
    for i, (_, gone, kept) in enumerate(HOSTS):
        line = got[i]
        # A token may be glued to a host-name prefix (pip_... for p1-2-3-4).
        check(re.search(rb'ip_[a-z2-7]{26}', line), 'shapes: line %d has '
              'no token' % (i + 1))
        for v in gone:
            check(v.encode() not in line, 'shapes: line %d keeps the address'
                  % (i + 1))
        for k in kept + ['%d peer ' % i, ' end']:
            check(k.encode() in line, 'shapes: line %d lost %r' % (i + 1, k))
    print('ok addresses in host names, with ports, upper case, padded')


def check_long_line(ctx, keys):
    """A line of LSL_HOSTILE_BIG_MB MiB, streamed in and out."""
    mib = int(os.environ.get('LSL_HOSTILE_BIG_MB', '100'))
    unit = b'GET /x?ip=192.0.2.77&id=0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b ' * 16
    reps = mib * (1 << 20) // len(unit)
    vault = ctx.path('vault-long')
    proc = subprocess.Popen(
        [ctx.exe, 'pipe', '--rule', RULE, '--keys', keys, '--vault', vault,
         '--out', '-'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=ctx.env)
    stats = {'nl': 0, 'leak': False, 'bytes': 0, 'tail': b''}

    def reader():
        while True:
            chunk = proc.stdout.read(1 << 20)
            if not chunk:
                break
            stats['nl'] += chunk.count(b'\n')
            stats['bytes'] += len(chunk)
            both = stats['tail'] + chunk
            if b'192.0.2.77' in both or b'0f8e2c1a-3b4d' in both:
                stats['leak'] = True
            stats['tail'] = chunk[-64:]
    err = []
    hwm = [0]

    def sampler():
        # VmHWM counts from exec; rusage would count the forked Python too.
        while proc.poll() is None:
            try:
                with open('/proc/%d/status' % proc.pid) as f:
                    m = re.search(r'VmHWM:\s+(\d+) kB', f.read())
                hwm[0] = max(hwm[0], int(m.group(1)) if m else 0)
            except (OSError, AttributeError):
                pass
            time.sleep(0.05)
    t = threading.Thread(target=reader)
    e = threading.Thread(target=lambda: err.append(proc.stderr.read()))
    w = threading.Thread(target=sampler)
    for th in (t, e, w):
        th.start()
    for _ in range(reps):
        proc.stdin.write(unit)
    proc.stdin.write(b'\n')
    proc.stdin.close()
    t.join()
    e.join()
    rc = proc.wait()
    w.join()
    check(rc == 0, 'long line: exit %d: %s' % (rc, lslib.redact(err[0])))
    check(stats['nl'] == 1, 'long line: %d lines out, expected 1'
          % stats['nl'])
    check(not stats['leak'], 'long line: an original survives')
    rss = hwm[0]  # KiB
    # Sanitizer builds keep freed memory in quarantine: no bound there.
    check(rss < mib * 1024 * 8 // 10 or os.environ.get('LSL_TEST_SANITIZED'),
          'long line: peak RSS %d KiB for a %d MiB line' % (rss, mib))
    summ = lslib.parse_summary(err[0])
    check(summ['lines_in'] == 1 and summ['tokens'] == 2 * 16 * reps,
          'long line: summary %s' % summ)
    print('ok %d MiB line: one line out, peak RSS %d MiB' % (mib, rss >> 10))


def check_binary(ctx, keys):
    nuls = b'\0' * (1 << 20)
    out, summ, err = pipe_text(ctx, keys, 'nuls', nuls)
    check(out == nuls + b'\n', 'NULs: the output is not the input plus '
          'a newline')
    check(summ['lines_in'] == 1, 'NULs: %d lines in' % summ['lines_in'])
    short = (b'\0' * 100 + b'\n') * 1000
    out, summ, err = pipe_text(ctx, keys, 'nul-lines', short)
    check(out == short, 'NUL lines: the output is not the input')
    check(summ['lines_in'] == 1000 and b'1000 binary' in err,
          'NUL lines: not counted as binary: %s' % lslib.redact(err))
    rnd = random.Random(5)
    lines = []
    for _ in range(3000):
        n = rnd.randrange(0, 400)
        lines.append(bytes(rnd.randrange(256) for _ in range(n))
                     .replace(b'\n', b' '))
    data = b'\n'.join(lines) + b'\n'
    out, summ, _ = pipe_text(ctx, keys, 'random', data)
    check(lslib.count_lines(out) == len(lines) and
          summ['lines_in'] == len(lines), 'random bytes: %d lines out of %d'
          % (lslib.count_lines(out), len(lines)))
    # Lines without an address-shaped word come out unchanged.
    same = sum(1 for a, b in zip(lines, out.split(b'\n')) if a == b)
    check(same >= len(lines) * 9 // 10, 'random bytes: only %d of %d lines '
          'unchanged' % (same, len(lines)))
    print('ok NUL bytes and random bytes')


def check_million(ctx, keys):
    n = 1000000
    addr = ['10.%d.%d.%d' % (i >> 16, (i >> 8) & 255, i & 255)
            for i in range(n)]
    order = list(range(n)) + list(range(0, n, 97))  # repeats at the end
    src = ctx.path('million.log')
    with open(src, 'w') as f:
        f.writelines('c=%s\n' % addr[i] for i in order)
    vault = ctx.path('vault-million')
    out = ctx.path('million.gz')
    _, summ = ctx.pipe(RULE, keys, vault, src=src, out=out)
    # The writer's once-per-value set is bounded (2^18): past it, repeated
    # values are written again (readers merge). Never fewer than n.
    check(n <= summ['vault'] <= len(order), 'million: %d vault entries for '
          '%d addresses' % (summ['vault'], n))
    toks = lslib.read_gz(out).decode().splitlines()
    check(len(toks) == len(order), 'million: %d lines out' % len(toks))
    by_addr = {}
    for i, line in zip(order, toks):
        check(line.startswith('c=ip_'), 'million: a line is not tokenized')
        prev = by_addr.setdefault(i, line)
        check(prev == line, 'million: one address got two tokens')
    check(len(set(by_addr.values())) == n, 'million: two addresses share '
          'a token')
    sample = random.Random(3).sample(range(n), 50)
    proc, found = ctx.unseal(keys, vault, [by_addr[i][2:] for i in sample],
                             code=0)
    for i in sample:
        check(found[by_addr[i][2:]][1] == addr[i], 'million: unseal returns '
              'another address')
    print('ok 1M distinct addresses')


BACKTRACK_RULE = r'''name     backtrack
pattern  ^(?<lead>(a+)+)b (?<client>\S+)$
field    client   ip
match-limit 10000
'''


def check_backtracking(ctx, keys):
    rule = ctx.path('backtrack.rules')
    with open(rule, 'w') as f:
        f.write(BACKTRACK_RULE)
    data = ('a' * 40 + 'c 192.0.2.200\n' + 'aab 192.0.2.201\n').encode()
    out, summ, err = pipe_text(ctx, keys, 'backtrack', data, rule=rule)
    no_leak('backtrack', out, ['192.0.2.200', '192.0.2.201'])
    check(summ['parsed'] == 1 and summ['unparsed'] == 1,
          'backtrack: %d parsed, %d unparsed' % (summ['parsed'],
                                                 summ['unparsed']))
    check(re.search(rb'\b1 over the match limit', err), 'backtrack: the '
          'summary does not count the limit hit: %s' % lslib.redact(err))
    check(out.startswith(b'a' * 40 + b'c ip_'), 'backtrack: line not kept')
    print('ok catastrophic backtracking is cut off and scrubbed')


def refused(proc, name, what):
    check(proc.returncode == 1, '%s: %s accepted (exit %d)'
          % (what, name, proc.returncode))
    check(name.encode() in proc.stderr, '%s: refusal does not name %s: %s'
          % (what, name, lslib.redact(proc.stderr)))
    check(not proc.stdout, '%s: output written anyway' % what)


def check_key_files(ctx, keys):
    vault = ctx.path('vault-keys')
    _, summ, _ = pipe_text(ctx, keys, 'keys', b'192.0.2.9\n')
    vfiles = os.listdir(vault)
    check(vfiles and all(os.stat(os.path.join(vault, v)).st_mode & 0o077
                         == 0 for v in vfiles), 'vault files readable by '
          'others')
    check(os.stat(vault).st_mode & 0o077 == 0, 'vault dir open to others')
    tok = [ctx.path('t.txt')]
    with open(tok[0], 'w') as f:
        f.write('ip_' + 'a' * 26 + '\n')
    unseal = ['unseal', '--keys', keys, '--vault', vault, '--case', 'K',
              '--tokens-from', tok[0]]
    pipe = ['pipe', '--rule', RULE, '--keys', keys, '--vault', vault,
            '--out', '-']
    ok = os.path.join(keys, 'officer.key')
    os.chmod(ok, 0o644)
    refused(ctx.run(unseal), 'officer.key', 'world-readable')
    os.chmod(ok, 0o600)
    if os.geteuid() != 0:
        print('ok key modes (ownership not tested: not root)')
        return
    import pwd
    nobody = pwd.getpwnam('nobody').pw_uid
    for name, args in (('hash.key', pipe), ('officer.key', unseal)):
        path = os.path.join(keys, name)
        os.chown(path, nobody, -1)
        refused(ctx.run(args, input=b'192.0.2.9\n'), name,
                'owned by nobody')
        os.chown(path, 0, -1)
    print('ok key files readable by others or owned by another user')


def body(ctx):
    keys = ctx.keygen()
    check_shapes(ctx, keys)
    check_binary(ctx, keys)
    check_backtracking(ctx, keys)
    check_key_files(ctx, keys)
    check_million(ctx, keys)
    check_long_line(ctx, keys)


if __name__ == '__main__':
    lslib.main(body)
