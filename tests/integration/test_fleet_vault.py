#!/usr/bin/env python3
"""A fleet's vaults: many hosts, one key set, one collected vault with a
sealed index (issue 18, the vault side).

    test_fleet_vault.py LOGSEAL_BINARY SOURCE_ROOT

(1) one key, two hosts: keygen once, hash.key/vault.pub/audit.pub/stop.key
    copied to each host (never officer.key); the same lines give the same
    tokens on both; the host id is in every vault file name and record;
    a ratcheting key stays in step: a host that ratcheted through a day
    and one that starts that day from the key as given tokenize it alike;
(2) one vault from many hosts: `vault import` takes both hosts' files,
    every token of both outputs unseals from the collected vault, and a
    second import takes nothing; refused, each naming the file: a file of
    another key set (another officer key), a file written with another
    hash key under the right vault.pub (a foreign keyset), a tampered copy,
    a file planted in a writer's place;
(3) per-host completeness: a host's file 2 without its file 1 is a gap
    named with the host (exit 3), filled by the next import;
(4) a file its host had not finished is taken up to its last whole chunk
    (vault verify stays whole) and replaced by the finished file later;
(5) an erased subject written by a host before it had the stop list is
    left out of what an import takes;
(6) disclose over a directory tree (the hive layout): every finished
    segment under it, none through a symlink, no .part; partitions far
    outside --from/--to are not read;
(7) the index: unseal of every token of a 200k-line run, through the index
    and with --no-index, byte for byte equal; disclose likewise for
    subjects of every class, and identify; the index is used (the command says so) and
    kept up to date by import; a damaged index is reported, the answers
    stay equal, and it is rebuilt.
"""

import fcntl
import json
import os
import shutil
import subprocess

import lslib
from lslib import check

RULE = 'nginx-combined'


def distribute(ctx, keys, host):
    """What a host gets of the key set: everything but officer.key."""
    dst = ctx.path(host, 'keys')
    os.makedirs(ctx.path(host), mode=0o700)
    shutil.copytree(keys, dst)
    os.unlink(os.path.join(dst, 'officer.key'))
    check(not any(n.startswith('officer') for n in os.listdir(dst)),
          'the officer key was copied to a host')
    return dst


def host_pipe(ctx, host, keys, src, out, code=0):
    vault = ctx.path(host, 'vault')
    # Printed tokens (ip_...): the forged record below takes one.
    ctx.pipe(RULE, keys, vault, src=src, out=out,
             extra=['--host', host, '--ip-mode', 'token'], code=code)
    return vault


def lsv(d):
    return sorted(n for n in os.listdir(d) if n.endswith('.lsv'))


def tokens_of(paths):
    toks = set()
    for p in paths:
        toks.update(lslib.TOKEN_RE.findall(lslib.read_gz(p).decode()))
    return sorted(toks)


def vault_cmd(ctx, sub, keys, vault, extra=(), code=None):
    proc = ctx.run(['vault', sub, '--keys', keys, '--vault', vault] +
                   list(extra))
    if code is not None:
        ctx.expect(proc, code, 'vault ' + sub)
    return proc


def imp(ctx, keys, coll, dirs, code):
    extra = []
    for d in dirs:
        extra += ['--from', d]
    return vault_cmd(ctx, 'import', keys, coll, extra, code)


def chunk_offsets(data):
    off, offs = 480, []
    while off + 4 <= len(data):
        offs.append(off)
        off += 4 + int.from_bytes(data[off:off + 4], 'little')
    check(off == len(data), 'vault file does not end at a chunk boundary')
    return offs


def one_key_two_hosts(ctx, keys):
    src = ctx.path('same.log')
    ctx.genlogs('nginx', 500, src, seed=3)
    ka, kb = distribute(ctx, keys, 'edge-1'), distribute(ctx, keys, 'edge-2')
    va = host_pipe(ctx, 'edge-1', ka, src, ctx.path('same-1.gz'))
    vb = host_pipe(ctx, 'edge-2', kb, src, ctx.path('same-2.gz'))
    check(lslib.read_gz(ctx.path('same-1.gz')) ==
          lslib.read_gz(ctx.path('same-2.gz')),
          'the same lines gave different output on two hosts of one key set')
    for vault, host in ((va, 'edge-1'), (vb, 'edge-2')):
        names = lsv(vault)
        check(names and all(n.split('-', 1)[1].startswith(host + '-')
                            for n in names),
              'vault file names lack the host id %s: %s' % (host, names))
    return ka, kb, va, vb


def collect_both(ctx, keys, va, vb, coll):
    proc = imp(ctx, keys, coll, [va, vb], 0)
    check(b'2 taken' in proc.stdout, 'import: %s' % lslib.redact(proc.stdout))
    check(len(lsv(coll)) == 2, 'collected vault holds %d files, expected 2'
          % len(lsv(coll)))
    toks = tokens_of([ctx.path('same-1.gz')])
    proc = ctx.run(['unseal', '--keys', keys, '--vault', coll, '--case',
                    'FLEET-1', '--json'] + toks[:20])
    ctx.expect(proc, 0, 'unseal from the collected vault')
    for line in proc.stdout.decode().splitlines():
        check('"edge-1:' in line and '"edge-2:' in line,
              'a token seen on both hosts does not name both as sources')
    proc = imp(ctx, keys, coll, [va, vb], 0)
    check(b'0 taken' in proc.stdout and b'2 already here' in proc.stdout,
          'a second import took something: %s' % lslib.redact(proc.stdout))


def refusals(ctx, keys, coll):
    src = ctx.path('same.log')
    # Another key set altogether (another officer key).
    other = ctx.keygen('other-keys')
    v_other = host_pipe(ctx, 'other', other, src, ctx.path('o.gz'))
    # The right vault.pub, another hash key: a foreign keyset.
    rogue = ctx.keygen('rogue-keys')
    shutil.copy(os.path.join(keys, 'vault.pub'),
                os.path.join(rogue, 'vault.pub'))
    v_rogue = host_pipe(ctx, 'rogue', rogue, src, ctx.path('r.gz'))
    # A tampered copy of a genuine file.
    tam = ctx.path('tampered')
    os.makedirs(tam)
    name = lsv(coll)[0]
    data = bytearray(open(os.path.join(coll, name), 'rb').read())
    data[chunk_offsets(bytes(data))[0] + 40] ^= 1
    with open(os.path.join(tam, name.replace('edge', 'edgx', 1)), 'wb') as f:
        f.write(data)
    # A file planted in a genuine file's place (vault.pub alone).
    plant = ctx.path('planted')
    os.makedirs(plant)
    forge = os.environ['LSL_VAULT_FORGE']
    tok = tokens_of([ctx.path('same-1.gz')])[0]
    p = subprocess.run([forge, os.path.join(plant, '0-edge-1-planted.lsv'),
                        os.path.join(keys, 'vault.pub'), '0', tok,
                        '198.51.100.99', os.path.join(coll, name)],
                       capture_output=True)
    check(p.returncode == 0, 'vault_forge failed: %s' % lslib.redact(p.stderr))
    before = lsv(coll)
    for d, why in ((v_other, b'another officer key'),
                   (v_rogue, b'foreign keyset'),
                   (tam, b'integrity failure'),
                   (plant, b'forged')):
        proc = imp(ctx, keys, coll, [d], 3)
        check(why in proc.stderr and b'not imported' in proc.stderr,
              'import of %s: expected "%s": %s'
              % (os.path.basename(d), why.decode(), lslib.redact(proc.stderr)))
        check(lsv(coll) == before, 'a refused file entered the vault')
    check(not [n for n in os.listdir(coll) if n.startswith('.import-')],
          'import left temporary copies in the vault')
    # One import at a time; what an interrupted one left is removed.
    with open(os.path.join(coll, '.import-stale1'), 'wb') as f:
        f.write(b'LSLVAULT half a copy')
    with open(os.path.join(coll, '.import.lock'), 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = imp(ctx, keys, coll, [v_other], 1)
        check(b'another import is running' in proc.stderr,
              'a second import at once was not refused')
    imp(ctx, keys, coll, [tam], 3)
    check(not os.path.exists(os.path.join(coll, '.import-stale1')),
          'a copy an interrupted import left was not removed')


def per_host_gap(ctx, keys, kb):
    # edge-2 writes a second file; the collection sees file 2 before 1.
    src = ctx.path('gap.log')
    ctx.genlogs('nginx', 300, src, seed=4)
    vb = host_pipe(ctx, 'edge-2', kb, src, ctx.path('gap.gz'))
    coll = ctx.path('coll-gap')
    newest = ctx.path('newest')
    os.makedirs(newest)
    seqs = {}
    for n in lsv(vb):
        with open(os.path.join(vb, n), 'rb') as f:
            seqs[int.from_bytes(f.read(64)[56:64], 'little')] = n
    shutil.copy(os.path.join(vb, seqs[2]), newest)
    proc = imp(ctx, keys, coll, [newest], 3)
    check(b'host edge-2' in proc.stderr and b'1..1 are missing' in
          proc.stderr, 'the gap is not named with its host: %s'
          % lslib.redact(proc.stderr))
    imp(ctx, keys, coll, [vb], 0)
    vault_cmd(ctx, 'verify', keys, coll, code=0)


def unfinished(ctx, keys, coll):
    src = ctx.path('long.log')
    ctx.genlogs('nginx', 30000, src, seed=5)
    k3 = distribute(ctx, keys, 'edge-3')
    v3 = host_pipe(ctx, 'edge-3', k3, src, ctx.path('long.gz'))
    name = lsv(v3)[0]
    data = open(os.path.join(v3, name), 'rb').read()
    offs = chunk_offsets(data)
    check(len(offs) > 2, 'the file has too few chunks to cut')
    cut = ctx.path('cut')
    os.makedirs(cut)
    with open(os.path.join(cut, name), 'wb') as f:
        f.write(data[:offs[-1]])  # no final chunk: still being written
    proc = imp(ctx, keys, coll, [cut], 0)
    check(b'unfinished' in proc.stdout, 'not taken as unfinished: %s'
          % lslib.redact(proc.stdout))
    vault_cmd(ctx, 'verify', keys, coll, code=0)
    log = ctx.run(['audit', 'show', '--vault', coll]).stdout
    check(b'unfinished=' in log, 'the import record does not say unfinished')
    proc = imp(ctx, keys, coll, [v3], 0)
    check(b'replaced the unfinished copy' in proc.stdout,
          'the finished file did not replace the copy: %s'
          % lslib.redact(proc.stdout))
    check(open(os.path.join(coll, name), 'rb').read() == data,
          'the collected file is not the finished one')
    proc = imp(ctx, keys, coll, [v3], 0)
    check(b'1 already here' in proc.stdout, 'finished file imported twice')
    return ctx.path('long.gz')


def erased_stays_out(ctx, keys, coll):
    src = ctx.path('same.log')
    addr = open(src).readline().split(' ', 1)[0]
    vault_cmd(ctx, 'erase', keys, coll,
              ['--case', 'DEL-1', '--subject', addr, '--class', 'ip'])
    # A host without the new stop list writes the subject again.
    k4 = distribute(ctx, keys, 'edge-4')
    v4 = host_pipe(ctx, 'edge-4', k4, src, ctx.path('late.gz'))
    proc = imp(ctx, keys, coll, [v4], 0)
    check(b'erased subjects left out' in proc.stdout,
          'import kept an erased subject: %s' % lslib.redact(proc.stdout))
    vault_cmd(ctx, 'erase', keys, coll,
              ['--case', 'DEL-2', '--subject', addr, '--class', 'ip'], code=4)


def unseal_json(ctx, keys, coll, toks, extra):
    tf = ctx.path('toks.txt')
    with open(tf, 'w') as f:
        f.writelines(t + '\n' for t in toks)
    proc = ctx.run(['unseal', '--keys', keys, '--vault', coll, '--case',
                    'DIFF-1', '--json', '--tokens-from', tf] + extra)
    check(proc.returncode in (0, 4), 'unseal %s: exit %d: %s'
          % (extra, proc.returncode, lslib.redact(proc.stderr)))
    return proc


def differential(ctx, keys, coll):
    outs = []
    for host, seed in (('edge-5', 11), ('edge-6', 12)):
        src = ctx.path('%s.log' % host)
        ctx.genlogs('nginx', 100000, src, seed=seed, extra=['--distinct',
                                                              '60000'])
        k = distribute(ctx, keys, host)
        out = ctx.path('%s.gz' % host)
        v = host_pipe(ctx, host, k, src, out)
        outs.append(out)
        imp(ctx, keys, coll, [v], 0)
        if host == 'edge-5':
            vault_cmd(ctx, 'index', keys, coll, code=0)
    outs.append(ctx.path('long.gz'))
    toks = tokens_of(outs)
    check(len(toks) > 50000, 'only %d tokens in the 200k-line run'
          % len(toks))
    via = unseal_json(ctx, keys, coll, toks, [])
    check(b'answered through the index' in via.stderr and
          b', 0 read whole' in via.stderr,
          'unseal did not use the index for every file (import keeps it '
          'up to date): %s' % lslib.redact(via.stderr))
    full = unseal_json(ctx, keys, coll, toks, ['--no-index'])
    check(b'through the index' not in full.stderr, '--no-index used it')
    check(via.stdout == full.stdout and via.returncode == full.returncode,
          'unseal through the index differs from reading every file '
          '(%d tokens)' % len(toks))
    check(via.stdout.count(b'"value"') > 50000, 'few tokens unsealed')
    return toks, outs, via.stdout


def disclose_equal(ctx, keys, coll, outs, unsealed):
    subjects = {}
    for line in unsealed.decode().splitlines():
        rec = json.loads(line)
        if 'value' in rec:
            subjects.setdefault(rec['class'], rec['value'])
    check(len(subjects) >= 3, 'too few classes to disclose: %s'
          % sorted(subjects))
    for cls, val in sorted(subjects.items()):
        runs = []
        for extra in ([], ['--no-index']):
            runs.append(ctx.run(['disclose', '--keys', keys, '--vault',
                                 coll, '--case', 'DSAR-1', '--subject', val,
                                 '--json'] + extra + outs))
        check(runs[0].returncode == 0 and runs[0].stdout == runs[1].stdout,
              'disclose of a %s differs through the index (exit %d/%d)'
              % (cls, runs[0].returncode, runs[1].returncode))


def identify_equal(ctx, keys, coll):
    """identify reads the vault twice (the address's tokens, then every
    token of the lines found): through the index as without it."""
    lines = open(ctx.path('same.log')).read().splitlines()
    first = lines[0].split(' ', 1)[0]
    addr = next(ln.split(' ', 1)[0] for ln in lines[1:]
                if ln.split(' ', 1)[0] != first)
    runs = [ctx.run(['identify', '--keys', keys, '--vault', coll, '--case',
                     'COURT-1', '--address', addr, '--at',
                     '2025-11-29T17:00:00+09:00', '--window', '300',
                     ctx.path('same-1.gz')] + extra)
            for extra in ([], ['--no-index'])]
    check(runs[0].returncode == 0 and runs[0].stdout == runs[1].stdout and
          b'through the index' in runs[0].stderr,
          'identify through the index differs (exit %d/%d)'
          % (runs[0].returncode, runs[1].returncode))


def damage(ctx, keys, coll, toks, expect):
    manifest = os.path.join(coll, 'index', 'manifest')
    data = bytearray(open(manifest, 'rb').read())
    data[-3] ^= 0x40
    with open(manifest, 'wb') as f:
        f.write(data)
    proc = unseal_json(ctx, keys, coll, toks, [])
    check(b'does not open' in proc.stderr and b'rebuilt' in proc.stderr,
          'a damaged index was not reported: %s' % lslib.redact(proc.stderr))
    check(proc.stdout == expect, 'answers changed with a damaged index')
    check(open(manifest, 'rb').read() != bytes(data), 'index not rebuilt')
    proc = unseal_json(ctx, keys, coll, toks, [])
    check(b'answered through the index' in proc.stderr and
          b'does not open' not in proc.stderr and proc.stdout == expect,
          'the rebuilt index is not used or differs')


def disclose_tree(ctx, keys, coll):
    """disclose over a directory tree: every finished segment under it, no
    symlink followed, no .part read; partitions far outside --from/--to
    not read at all (a segment misfiled in one is not found)."""
    src = ctx.path('same.log')
    lines = open(src).read().splitlines()
    first = lines[0].split(' ', 1)[0]
    subject = next(ln.split(' ', 1)[0] for ln in lines[1:]
                   if ln.split(' ', 1)[0] != first)
    # 29/Nov/2025:17:00:00 +0900 -> 2025-11-29, hour 08 UTC
    day, hour = '2025-11-29', '08'
    tree = ctx.path('tree')
    good = os.path.join(tree, 'source=web', 'dt=' + day, 'hour=' + hour,
                        'host=edge-1')
    old = os.path.join(tree, 'source=web', 'dt=2020-01-01', 'hour=00',
                       'host=edge-1')
    for d in (good, old):
        os.makedirs(d)
    shutil.copy(ctx.path('same-1.gz'), os.path.join(good, 'web-1.log.gz'))
    shutil.copy(ctx.path('same-1.gz'), os.path.join(old, 'web-1.log.gz'))
    shutil.copy(ctx.path('same-1.gz'), os.path.join(good, 'web-2.log.gz.part'))
    os.symlink(ctx.path('same-2.gz'), os.path.join(good, 'web-3.log.gz'))

    def records(paths, extra=()):
        proc = ctx.run(['disclose', '--keys', keys, '--vault', coll,
                        '--case', 'DSAR-TREE', '--subject', subject,
                        '--json'] + list(extra) + paths)
        ctx.expect(proc, 0, 'disclose over %s' % paths)
        out = proc.stdout.decode().splitlines()
        summary = json.loads(out[-1])['summary']
        return summary['records'], sorted(summary['files']), proc.stderr

    one, _, _ = records([ctx.path('same-1.gz')])
    check(one > 0, 'the subject has no record in the segment')
    n, files, _ = records([tree])
    check(n == 2 * one and len(files) == 2,
          'a tree gave %d records from %s, expected %d from the two '
          'finished, regular segments' % (n, files, 2 * one))
    n, files, err = records([tree], ['--from', day, '--to', '2025-11-30'])
    check(n == one and files == [os.path.join(good, 'web-1.log.gz')],
          '--from/--to read %s (%d records): the 2020 partition was not '
          'skipped' % (files, n))
    check(b'1 partitions skipped' in err, 'no word of the skipped partition')


def ratchet_in_step(ctx):
    """A ratcheting key stays in step across hosts: a host that ratcheted
    through a day and one that starts that day from the key as given make
    the same tokens of it, and one vault takes both."""
    keys = ctx.path('day-keys')
    ctx.expect(ctx.run(['keygen', '--dir', keys, '--epoch', 'day',
                        '--since', '2025-11-28']), 0, 'keygen --epoch day')
    ka, kb = distribute(ctx, keys, 'day-a'), distribute(ctx, keys, 'day-b')
    d29, d30 = ctx.path('d29.log'), ctx.path('d30.log')
    ctx.genlogs('nginx', 800, d29, seed=21, extra=['--start', '1764403200'])
    ctx.genlogs('nginx', 800, d30, seed=22, extra=['--start', '1764489600'])
    host_pipe(ctx, 'day-a', ka, d29, ctx.path('a29.gz'))
    va = host_pipe(ctx, 'day-a', ka, d30, ctx.path('a30.gz'))
    vb = host_pipe(ctx, 'day-b', kb, d30, ctx.path('b30.gz'))
    with open(os.path.join(ka, 'hash.key'), 'rb') as f, \
            open(os.path.join(kb, 'hash.key'), 'rb') as g:
        check(f.read() == g.read(), 'the hosts hold different keys after '
              'reaching the same day')
    check(lslib.read_gz(ctx.path('a30.gz')) ==
          lslib.read_gz(ctx.path('b30.gz')),
          'a host that ratcheted through a day and one that started it '
          'from the key as given make different tokens of that day')
    coll = ctx.path('day-collected')
    imp(ctx, keys, coll, [va, vb], 0)
    toks = tokens_of([ctx.path('a29.gz'), ctx.path('b30.gz')])
    proc, res = ctx.unseal(keys, coll, toks, code=0)
    check(len(res) == len(toks), 'tokens of both days not all unsealed')


def body(ctx):
    keys = ctx.keygen()
    ka, kb, va, vb = one_key_two_hosts(ctx, keys)
    ratchet_in_step(ctx)
    coll = ctx.path('collected')
    collect_both(ctx, keys, va, vb, coll)
    refusals(ctx, keys, coll)
    per_host_gap(ctx, keys, kb)
    unfinished(ctx, keys, coll)
    erased_stays_out(ctx, keys, coll)
    disclose_tree(ctx, keys, coll)
    toks, outs, unsealed = differential(ctx, keys, coll)
    disclose_equal(ctx, keys, coll, outs, unsealed)
    identify_equal(ctx, keys, coll)
    damage(ctx, keys, coll, toks, unsealed)


if __name__ == '__main__':
    lslib.main(body)
