#!/usr/bin/env python3
"""The lawful-disclosure workflow, end to end, on generated logs.

    test_legal.py LOGSEAL_BINARY SOURCE_ROOT

(1) who posted: one pseudonymized posting record (a comment and a login)
    through `unseal --line` gives back the exact line: address, source
    port and time;
(2) access request: `disclose --subject USER_ID` over the posting and
    nginx segments prints exactly the lines holding that user's token,
    with only that token restored;
(3) deletion: a legal hold keeps `vault erase` from removing the mappings
    until it is released; after erase, unseal says `erased` (exit 4),
    disclose finds nothing, other users still unseal;
(4) retention: a key ratcheting daily over 3 days of lines leaves one vault
    file per day and only the last day's key in hash.key; an epoch hold
    keeps `vault expire --older-than 1` from deleting its file until
    released; expired tokens are not-found; re-running pipe on the old
    lines gives other tokens (their key is gone), the last day's the same.
Security: a vault file copied under another epoch's name, and chunks
swapped between two vault files, make unseal exit 3 naming the files.
"""

import gzip
import json
import os
import re
import shutil
import time

import lslib
from lslib import check

DAY = 86400
SEALED_START = 88                  # plaintext header (format 3)
SEALED_END = SEALED_START + 368    # sealed box: file key, vkey, secret
HEADER_BYTES = SEALED_END + 24     # and the stream header


def run_ok(ctx, args, what, code=0):
    proc = ctx.run(args)
    ctx.expect(proc, code, what)
    return proc


def read_lines(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rt', encoding='utf-8') as f:
        return f.read().splitlines()


def posting_setup(ctx):
    keys = ctx.keygen('keys-fixed')
    vault = ctx.path('vault')
    os.mkdir(vault)
    src = {}
    for fmt, rule in (('posting', 'posting'),
                      ('nginx', 'nginx-combined')):
        src[fmt] = ctx.path(fmt + '.log')
        ctx.genlogs(fmt, 1500, src[fmt], seed=7,
                    extra=('--start', '1764000000'))
        ctx.pipe(rule, keys, vault, src=src[fmt],
                 out=ctx.path(fmt + '.out.gz'))
    return keys, vault, src


def unseal_line(ctx, keys, vault, pseudo, what):
    proc = run_ok(ctx, ['unseal', '--keys', keys, '--vault', vault,
                        '--case', 'WHO-1', '--line', pseudo], what)
    out = proc.stdout.decode('utf-8').splitlines()
    table = [ln.split('\t') for ln in out[1:]]
    check(table and all(len(f) == 5 for f in table),
          '%s: the token table is not TOKEN CLASS VALUE FIRST LAST' % what)
    return out[0], {f[0]: f for f in table}


def check_who_posted(ctx, keys, vault, src):
    orig = read_lines(src['posting'])
    pseudo = read_lines(ctx.path('posting.out.gz'))
    for event in ('comment.post', 'login'):
        i = next(k for k, ln in enumerate(orig)
                 if json.loads(ln)['event'] == event)
        o = json.loads(orig[i])
        p = json.loads(pseudo[i])
        check(lslib.TOKEN_RE.fullmatch(p['ip']) and p['port'] == o['port'],
              '%s line %d: address not tokenized or port changed'
              % (event, i + 1))
        restored, table = unseal_line(ctx, keys, vault, pseudo[i], event)
        r = json.loads(restored)
        check(r['ip'] == lslib.normalize_value(o['ip']),
              '%s line %d: unseal --line did not restore the address'
              % (event, i + 1))
        check(r['port'] == o['port'] and r['time'] == o['time'],
              '%s line %d: port or time differ' % (event, i + 1))
        check(str(r['user_id']) == str(o['user_id']), '%s line %d: user id '
              'not restored' % (event, i + 1))
        row = table.get(p['ip'])
        check(row and row[1] == 'ip' and row[2] == r['ip'],
              '%s: the table lacks the address token' % event)
    proc = run_ok(ctx, ['unseal', '--keys', keys, '--vault', vault,
                        '--case', 'WHO-1', '--json', p['ip']], 'unseal --json')
    obj = json.loads(proc.stdout.decode('utf-8').splitlines()[0])
    check(obj['token'] == p['ip'] and obj['class'] == 'ip' and
          obj['value'] == r['ip'] and obj['sources'] and
          lslib.ISO_UTC_RE.match(obj['first_seen']),
          'unseal --json object lacks token/class/value/sources/times')
    print('ok who posted: unseal --line restores address, port, time')
    check_identify(ctx, keys, vault, o, i)
    return o['user_id'], p['user_id']


def check_identify(ctx, keys, vault, o, i):
    """Who had address A, port P at time T: one command."""
    seg = ctx.path('posting.out.gz')
    base = ['identify', '--keys', keys, '--vault', vault, '--case', 'WHO-2',
            '--address', o['ip'], '--at', o['time']]
    proc = run_ok(ctx, base + ['--port', str(o['port']), seg], 'identify')
    out = proc.stdout.decode().splitlines()
    hits = [ln for ln in out if not ln.startswith('  ')]
    check(any(ln.startswith('%s:%d\t' % (seg, i + 1)) for ln in hits),
          'identify does not print the line (%d lines)' % len(hits))
    line = next(ln for ln in hits if ln.startswith('%s:%d\t' % (seg, i + 1)))
    r = json.loads(line.split('\t', 1)[1])
    check(r['ip'] == lslib.normalize_value(o['ip']) and
          str(r['user_id']) == str(o['user_id']) and r['port'] == o['port'],
          'identify did not restore the address and the account')
    table = [ln.split('\t') for ln in out if ln.startswith('  ')]
    check(any(f[1] == 'user' and f[2] == str(o['user_id']) for f in table),
          "identify's table lacks the account")
    rows = [ln.split('\t') for ln in run_ok(
        ctx, ['audit', 'show', '--vault', vault, '--case', 'WHO-2'],
        'audit show').stdout.decode().splitlines()]
    check(rows and rows[-1][4] == 'identify' and 'tok=' in rows[-1][7],
          'identify is not audited with its tokens')
    run_ok(ctx, base + ['--port', str(o['port'] + 1), seg],
           'identify with another port', 4)
    print('ok identify: address, port and time give the line and its '
          'account')


def disclose(ctx, keys, vault, subject, code=0):
    segs = [ctx.path('posting.out.gz'), ctx.path('nginx.out.gz')]
    proc = run_ok(ctx, ['disclose', '--keys', keys, '--vault', vault,
                        '--case', 'DSAR-1', '--subject', str(subject),
                        '--json'] + segs, 'disclose', code)
    objs = [json.loads(ln) for ln in proc.stdout.decode().splitlines()]
    check(objs and 'summary' in objs[-1], 'disclose --json: no summary')
    return objs[:-1], objs[-1]['summary']


def check_disclose(ctx, keys, vault, uid, utok):
    recs, summ = disclose(ctx, keys, vault, uid)
    want = []
    for name in ('posting.out.gz', 'nginx.out.gz'):
        for no, ln in enumerate(read_lines(ctx.path(name)), 1):
            if re.search(r'\b%s\b' % utok, ln):
                want.append((ctx.path(name), no,
                             re.sub(r'\b%s\b' % utok, str(uid), ln)))
    got = [(r['file'], r['line'], r['record']) for r in recs]
    check(len(want) > 1, 'the subject has too few records to test')
    check(got == want, 'disclose returned %d records, expected %d (or '
          'they differ)' % (len(got), len(want)))
    # Equal to the pseudonymized lines with only the subject's token
    # restored: no other user's original can be in them.
    check(summ['records'] == len(want), 'disclose summary count is wrong')
    check(all(n > 0 for n in summ['files'].values()),
          'the subject has records in only one segment')
    print('ok disclose: %d records over 2 segments, only the subject '
          'restored' % len(got))


def check_erase(ctx, keys, vault, uid, utok, other_tok):
    base = ['--keys', keys, '--vault', vault]
    run_ok(ctx, ['vault', 'hold'] + base + ['--case', 'HOLD-1',
                                             '--subject', str(uid)], 'hold')
    proc = run_ok(ctx, ['vault', 'erase'] + base + ['--case', 'DEL-1',
                                                     '--subject', str(uid)],
                  'erase under hold', 5)
    check(b'kept under a legal hold' in proc.stdout,
          'erase under hold does not report the held tokens')
    _, res = ctx.unseal(keys, vault, [utok], code=0)
    check(res[utok][1] == str(uid), 'a held mapping was erased')
    run_ok(ctx, ['vault', 'release'] + base + ['--case', 'HOLD-1'],
           'release')
    before = {n: open(os.path.join(vault, n), 'rb').read()[:SEALED_END]
              for n in os.listdir(vault) if n.endswith('.lsv')}
    # A fixed key (keygen --epoch never) stays on the daemon host: the
    # erase is honest that a hash.key holder can still test guesses.
    proc = run_ok(ctx, ['vault', 'erase'] + base + ['--case', 'DEL-1',
                                                     '--subject', str(uid)],
                  'erase', 5)
    check(b'not unlinkable yet' in proc.stdout and
          b'kept under a legal hold' not in proc.stdout,
          'erase with a fixed key does not say what it could not do')
    after = {n: open(os.path.join(vault, n), 'rb').read()[:SEALED_END]
             for n in os.listdir(vault) if n.endswith('.lsv')}
    check(before.keys() == after.keys(), 'erase changed the set of files')
    check(all(before[n][SEALED_START:] != after[n][SEALED_START:]
              for n in before),
          'a rewritten vault file kept its sealed file key')
    proc = run_ok(ctx, ['unseal'] + base + ['--case', 'DEL-1', utok],
                  'unseal after erase', 4)
    check(proc.stdout.decode() == '%s\terased\n' % utok,
          'unseal of an erased token does not say erased')
    _, summ = disclose(ctx, keys, vault, uid, code=4)
    check(summ['records'] == 0, 'disclose still finds erased records')
    _, res = ctx.unseal(keys, vault, [other_tok], code=0)
    check(res[other_tok][0] == 'user', 'another user no longer unseals')
    print('ok erase: held until release, then erased; others intact')


def epoch_of(name):
    return int(name.split('-', 1)[0])


def key_file(keys):
    with open(os.path.join(keys, 'hash.key'), 'rb') as f:
        return f.read()


def first_tokens(path):
    return [ln.split(' ', 1)[0] for ln in read_lines(path)]


def check_retention(ctx):
    d0 = (int(time.time()) // DAY - 3) * DAY
    keys = ctx.path('keys-day')
    run_ok(ctx, ['keygen', '--dir', keys, '--epoch', 'day', '--since',
                 time.strftime('%Y-%m-%d', time.gmtime(d0))], 'keygen day')
    key0 = key_file(keys)
    days = []
    for i in range(3):
        days.append(ctx.path('day%d.log' % i))
        ctx.genlogs('nginx', 300, days[-1], seed=3,
                    extra=('--start', str(d0 + i * DAY + 3600)))
    src = ctx.path('3days.log')
    with open(src, 'wb') as f:
        for p in days:
            f.write(open(p, 'rb').read())
    vault = ctx.path('vault-day')
    ctx.pipe('nginx-combined', keys, vault, src=src,
             out=ctx.path('3days.out.gz'))
    files = sorted(n for n in os.listdir(vault) if n.endswith('.lsv'))
    check([epoch_of(n) for n in files] == [d0 // DAY + i for i in range(3)],
          'expected one vault file per day epoch, got %s' % files)
    key3 = key_file(keys)
    check(int.from_bytes(key3[12:16], 'little') == d0 // DAY + 2,
          'hash.key is not at the last day\'s epoch')
    check(key0[24:] not in key3 and key3[24:] != key0[24:],
          'hash.key still holds the first key')
    toks = first_tokens(ctx.path('3days.out.gz'))
    t0, t2 = toks[0], toks[-1]
    base = ['--keys', keys, '--vault', vault]
    run_ok(ctx, ['vault', 'hold'] + base + ['--case', 'KEEP-1', '--epoch',
                                             str(d0 // DAY)], 'epoch hold')
    run_ok(ctx, ['vault', 'expire'] + base + ['--older-than', '1'],
           'expire under hold')
    left = sorted(os.listdir(vault))
    check(files[0] in left and files[1] not in left and files[2] in left,
          'expire under an epoch hold: wrong files left')
    run_ok(ctx, ['vault', 'release'] + base + ['--case', 'KEEP-1'], 'release')
    run_ok(ctx, ['vault', 'expire'] + base + ['--older-than', '1'], 'expire')
    left = sorted(n for n in os.listdir(vault) if n.endswith('.lsv'))
    check(left == [files[2]], 'expire left %s' % left)
    _, res = ctx.unseal(keys, vault, [t0, t2], code=4)
    check(res[t0] == 'not-found' and res[t2] != 'not-found',
          'expired token still found, or current one lost')
    # Re-processing: the first day's key is gone, the last day's is not.
    vault2 = ctx.path('vault-day-again')
    proc, _ = ctx.pipe('nginx-combined', keys, vault2, src=src,
                       out=ctx.path('again.out.gz'))
    again = first_tokens(ctx.path('again.out.gz'))
    check(again[0] != t0, 'old lines got their old tokens after the ratchet')
    check(again[-1] == t2, 'last-day lines changed tokens on re-processing')
    check(b'late lines' in proc.stderr, 'pipe did not count late lines')
    print('ok retention: per-day vault files, ratchet, hold, expire')
    return keys, vault


def swap_first_chunks(a, b):
    da, db = open(a, 'rb').read(), open(b, 'rb').read()

    def split(d):
        n = int.from_bytes(d[HEADER_BYTES:HEADER_BYTES + 4], 'little')
        end = HEADER_BYTES + 4 + n
        return d[:HEADER_BYTES], d[HEADER_BYTES:end], d[end:]
    ha, ca, ra = split(da)
    hb, cb, rb = split(db)
    open(a, 'wb').write(ha + cb + ra)
    open(b, 'wb').write(hb + ca + rb)


def check_security(ctx, keys, vault, keys_day, vault_day, tok):
    v = ctx.path('vault-copy')
    shutil.copytree(vault_day, v)
    name = [n for n in os.listdir(v) if n.endswith('.lsv')][0]
    fake = '%d-%s' % (epoch_of(name) - 1, name.split('-', 1)[1])
    shutil.copy(os.path.join(v, name), os.path.join(v, fake))
    proc = ctx.run(['unseal', '--keys', keys_day, '--vault', v, '--case',
                    'SEC-1', tok])
    ctx.expect(proc, 3, 'unseal with a file copied into another epoch')
    check(fake.encode() in proc.stderr, 'the copied file is not named')
    v = ctx.path('vault-swap')
    shutil.copytree(vault, v)
    names = sorted(n for n in os.listdir(v) if n.endswith('.lsv'))
    check(len(names) >= 2, 'need two vault files to swap chunks')
    swap_first_chunks(os.path.join(v, names[0]), os.path.join(v, names[1]))
    proc = ctx.run(['unseal', '--keys', keys, '--vault', v, '--case',
                    'SEC-2', tok])
    ctx.expect(proc, 3, 'unseal with chunks swapped between files')
    check(all(n.encode() in proc.stderr for n in names[:2]),
          'the files with swapped chunks are not both named')
    print('ok security: epoch copy and chunk swap detected')


def body(ctx):
    keys, vault, src = posting_setup(ctx)
    uid, utok = check_who_posted(ctx, keys, vault, src)
    check_disclose(ctx, keys, vault, uid, utok)
    other = next(t for t in (json.loads(ln)['user_id'] for ln in
                             read_lines(ctx.path('posting.out.gz')))
                 if t != utok)
    keys_day, vault_day = check_retention(ctx)
    check_security(ctx, keys, vault, keys_day, vault_day, other)
    check_erase(ctx, keys, vault, uid, utok, other)


if __name__ == '__main__':
    lslib.main(body)
