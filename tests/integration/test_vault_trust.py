#!/usr/bin/env python3
"""A vault a court can trust: each finding of issue 12, as an attacker and
an officer meet it. Every case failed on the code before the issue.

    test_vault_trust.py LOGSEAL_BINARY SOURCE_ROOT

(1) forged files: a file written with vault.pub alone that maps a real
    token to another address is refused (exit 3, naming it); unseal never
    prints the planted address, and a file planted in a genuine file's
    place is told by its missing writer secret;
(2) truncation and deletion: a file cut after its header or missing its
    final chunk, a deleted file in the middle of a writer's chain, and the
    newest file deleted after an officer saw it all fail `vault verify`
    and make unseal exit 3;
(3) the audit trail: a deleted log stops the next officer command (exit 3,
    nothing printed) unless --new-audit-log, which the new record says; a
    replayed older copy fails `audit verify --head` and, once an erase
    wrote the stop list, every officer command; records name the tokens;
    a torn record is cut by the next command, which says so; a symlinked
    log is not followed;
(4) legal state: holds live in the signed log: deleting the log stops
    expire (the held file stays); a plain `erased` file hides nothing;
(5) erasure: erase finishes a cut-short file, overwrites the old bytes (a
    hard-linked backup loses them), puts the subject on the stop list so
    pipe writes <class>_erased and maps it no more, reports a fixed key
    (exit 5) and a file being written (exit 5), and with a ratcheted-past
    epoch erases fully (exit 0);
(6) smaller ones: a wrong officer key exits 3 and claims nothing; a
    world-writable keys directory is refused; weak share splits are
    refused; `pipe --out missing-dir/x.gz` leaves no vault file; `audit
    verify --help` exits 0; `audit show --case` takes patterns and says
    when nothing matches; epochs are shown with their dates.
"""

import fcntl
import os
import re
import shutil
import subprocess
import time

import lslib
from lslib import check

RULE = 'nginx-combined'
FORGED_ADDR = '198.51.100.99'
DAY = 86400


def vault_files(vault):
    return sorted(n for n in os.listdir(vault) if n.endswith('.lsv'))


def by_seq(vault):
    """The vault's files in their writer's order (the header's seq)."""
    def seq(name):
        with open(os.path.join(vault, name), 'rb') as f:
            return int.from_bytes(f.read(64)[56:64], 'little')
    return sorted(vault_files(vault), key=seq)


def officer(ctx, args, keys, vault, case='TRUST-1', code=None, extra=()):
    proc = ctx.run(list(args) + ['--keys', keys, '--vault', vault,
                                 '--case', case] + list(extra))
    if code is not None:
        ctx.expect(proc, code, ' '.join(args))
    return proc


def verify(ctx, keys, vault, code):
    proc = ctx.run(['vault', 'verify', '--keys', keys, '--vault', vault])
    ctx.expect(proc, code, 'vault verify')
    return proc


def pipe_run(ctx, keys, vault, seed, lines=120):
    src = ctx.path('in-%s-%d.log' % (os.path.basename(vault), seed))
    ctx.genlogs('nginx', lines, src, seed=seed)
    # Printed tokens (the forger takes one): token mode for addresses too.
    proc, _ = ctx.pipe(RULE, keys, vault, src=src, out='-',
                       extra=['--ip-mode', 'token'])
    return proc.stdout.decode()


def setup(ctx, name, runs=1):
    """Keys, and a vault written by `runs` pipe runs; tokens seen."""
    keys = ctx.keygen('keys-' + name)
    vault = ctx.path('vault-' + name)
    out = ''.join(pipe_run(ctx, keys, vault, seed) for seed in
                  range(3, 3 + runs))
    return keys, vault, sorted(set(re.findall(r'\bip_[a-z2-7]{26}\b', out)))


def value_of(ctx, keys, vault, tok):
    _, res = ctx.unseal(keys, vault, [tok], code=0)
    return res[tok][1]


def forge(ctx, keys, vault, name, tok, value, like=None):
    args = [os.environ['LSL_VAULT_FORGE'], os.path.join(vault, name),
            os.path.join(keys, 'vault.pub'), name.split('-')[0], tok, value]
    p = subprocess.run(args + ([os.path.join(vault, like)] if like else []),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, 'vault_forge failed: %s'
          % lslib.redact(p.stderr))


def check_forged(ctx):
    keys, vault, toks = setup(ctx, 'forged', runs=2)
    tok = toks[0]
    real = value_of(ctx, keys, vault, tok)
    check(real != FORGED_ADDR, 'the test address is a real one')
    # Named to sort before the genuine files: it used to win.
    forge(ctx, keys, vault, '0-00000000T000000Z-00000000.lsv', tok,
          FORGED_ADDR)
    proc = verify(ctx, keys, vault, 3)
    check(b'00000000T000000Z' in proc.stdout and
          b'does not match its token' in proc.stdout,
          'vault verify does not refuse the forged file: %s'
          % lslib.redact(proc.stdout))
    for args in (['unseal', tok], ['unseal', '--line', 'x %s y' % tok]):
        proc = officer(ctx, args, keys, vault, code=3)
        check(FORGED_ADDR.encode() not in proc.stdout and
              real.encode() in proc.stdout,
              '%s printed the planted address' % args[0])
        check(b'00000000T000000Z' in proc.stderr,
              'unseal does not name the forged file')
    os.unlink(os.path.join(vault, '0-00000000T000000Z-00000000.lsv'))
    # A file planted in a genuine one's place (its header copied): the
    # audit log saw the writer's secret, the planted file lacks it.
    officer(ctx, ['unseal', tok], keys, vault, code=0)
    first = vault_files(vault)[0]
    os.rename(os.path.join(vault, first), ctx.path('moved.lsv'))
    shutil.copy(ctx.path('moved.lsv'), ctx.path('like.lsv'))
    forge(ctx, keys, vault, first, tok, FORGED_ADDR, like='../like.lsv')
    proc = verify(ctx, keys, vault, 3)
    check(b'lacks its secret' in proc.stderr,
          'a planted file in a genuine place is not reported: %s'
          % lslib.redact(proc.stderr))
    proc = officer(ctx, ['unseal', tok], keys, vault, code=3)
    check(FORGED_ADDR.encode() not in proc.stdout,
          'unseal printed the address of a planted file')
    print('ok (1) forged and planted vault files are refused, named, exit 3')


def cut(path, keep):
    with open(path, 'r+b') as f:
        f.truncate(keep(f.seek(0, os.SEEK_END)))


def check_truncation(ctx):
    keys, vault, toks = setup(ctx, 'cut', runs=3)
    names = by_seq(vault)
    check(len(names) == 3, 'three pipe runs wrote %d vault files'
          % len(names))
    for tag, keep in (('after its header', lambda n: 480),
                      ('without its final chunk', lambda n: n - 20)):
        v = ctx.path('vault-cut-' + tag.split()[0])
        shutil.copytree(vault, v)
        cut(os.path.join(v, names[1]), keep)
        proc = verify(ctx, keys, v, 3)
        check(b'cut short' in proc.stdout, 'a file cut %s passes vault '
              'verify' % tag)
        officer(ctx, ['unseal'] + toks[:3], keys, v, code=3)
    v = ctx.path('vault-deleted')
    shutil.copytree(vault, v)
    os.unlink(os.path.join(v, names[1]))
    proc = verify(ctx, keys, v, 3)
    check(b'vault files 2..2 are missing' in proc.stderr,
          'a deleted file is not noticed: %s' % lslib.redact(proc.stderr))
    proc = officer(ctx, ['unseal'] + toks[:3], keys, v, code=3)
    check(b'missing' in proc.stderr, 'unseal does not say files are missing')
    # The newest file, deleted after an officer action saw it.
    v = ctx.path('vault-tail')
    shutil.copytree(vault, v)
    officer(ctx, ['unseal', toks[0]], keys, v, code=0)
    os.unlink(os.path.join(v, names[2]))
    proc = verify(ctx, keys, v, 3)
    check(b'the audit log saw them' in proc.stderr,
          'the newest file deleted after an unseal is not noticed: %s'
          % lslib.redact(proc.stderr))
    print('ok (2) cut-short and deleted vault files fail verify and unseal')


def audit_items(ctx, vault):
    proc = ctx.run(['audit', 'show', '--vault', vault])
    ctx.expect(proc, 0, 'audit show')
    return [ln.split('\t') for ln in proc.stdout.decode().splitlines()]


def check_audit(ctx):
    keys, vault, toks = setup(ctx, 'audit')
    officer(ctx, ['unseal', toks[0], toks[1]], keys, vault, code=0)
    rows = audit_items(ctx, vault)
    check(rows[0][7].split(' ')[:2] == ['tok=' + toks[0], 'tok=' + toks[1]],
          'the audit record does not name the tokens asked for')
    head = ctx.run(['audit', 'head', '--vault', vault])
    ctx.expect(head, 0, 'audit head')
    head = head.stdout.decode().strip()
    check(re.fullmatch(r'1:[0-9a-f]{16}', head), 'audit head printed %r'
          % head)
    log = os.path.join(vault, 'audit.log')
    old = open(log, 'rb').read()
    officer(ctx, ['unseal', toks[2]], keys, vault, code=0)
    new_head = ctx.run(['audit', 'head', '--vault', vault])
    new_head = new_head.stdout.decode().strip()
    # Replay: the older copy over the newer log.
    open(log, 'wb').write(old)
    proc = ctx.run(['audit', 'verify', '--vault', vault, '--head', new_head])
    ctx.expect(proc, 3, 'audit verify --head of a replayed log')
    proc = ctx.run(['audit', 'verify', '--vault', vault, '--head', head])
    ctx.expect(proc, 0, 'audit verify --head of the head the log holds')
    # Deleted: refused, nothing printed; --new-audit-log goes on, says so.
    os.unlink(log)
    proc = officer(ctx, ['unseal', toks[0]], keys, vault, code=3)
    check(not proc.stdout and b'missing or empty' in proc.stderr,
          'unseal started a new audit log in a used vault')
    proc = officer(ctx, ['unseal', toks[0]], keys, vault, code=0,
                   extra=['--new-audit-log'])
    check(any(i.startswith('restart=0:') for i in
              audit_items(ctx, vault)[0][7].split(' ')),
          'the record after --new-audit-log does not say restart')
    # Torn: a crash or a full disk during an append; the next one cuts it.
    torn = b'2\t2025-11-29T00:00:00Z\tana\tX\tunse'
    with open(log, 'ab') as f:
        f.write(torn)
    proc = ctx.run(['audit', 'verify', '--vault', vault])
    ctx.expect(proc, 3, 'audit verify of a torn record')
    check(b'torn' in proc.stderr, 'audit verify does not say torn')
    officer(ctx, ['unseal', toks[1]], keys, vault, code=0)
    proc = ctx.run(['audit', 'verify', '--vault', vault])
    ctx.expect(proc, 0, 'audit verify after a torn record was cut')
    check('repaired=%d' % len(torn) in audit_items(ctx, vault)[-1][7],
          'the record after a torn one does not say repaired')
    # A symlinked log is not followed (its target is left alone).
    shutil.move(log, ctx.path('elsewhere.log'))
    os.symlink(ctx.path('elsewhere.log'), log)
    before = open(ctx.path('elsewhere.log'), 'rb').read()
    proc = officer(ctx, ['unseal', toks[0]], keys, vault)
    check(proc.returncode != 0 and not proc.stdout,
          'unseal went on with a symlinked audit log')
    check(open(ctx.path('elsewhere.log'), 'rb').read() == before,
          'the symlink target of audit.log was written')
    print('ok (3) audit log: tokens named, head, replay, deletion, torn '
          'record, symlink')


def day_keys(ctx, name, days_ago):
    """Keys ratcheting daily since `days_ago` days, a vault of those days."""
    d0 = (int(time.time()) // DAY - days_ago) * DAY
    keys = ctx.path('keys-' + name)
    proc = ctx.run(['keygen', '--dir', keys, '--epoch', 'day', '--since',
                    time.strftime('%Y-%m-%d', time.gmtime(d0))])
    ctx.expect(proc, 0, 'keygen --epoch day')
    src = ctx.path(name + '.log')
    with open(src, 'wb') as f:
        for i in range(2):
            part = ctx.path('%s-%d.log' % (name, i))
            ctx.genlogs('nginx', 80, part, seed=9 + i,
                        extra=('--start', str(d0 + i * DAY + 3600)))
            f.write(open(part, 'rb').read())
    vault = ctx.path('vault-' + name)
    proc, _ = ctx.pipe(RULE, keys, vault, src=src, out=ctx.path(name + '.gz'),
                       extra=['--ip-mode', 'token'])
    return keys, vault, d0 // DAY


def check_legal_state(ctx):
    keys, vault, e0 = day_keys(ctx, 'legal', 4)
    first = vault_files(vault)[0]
    officer(ctx, ['vault', 'hold', '--epoch', str(e0)], keys, vault,
            case='PRES-1', code=0)
    for name in ('holds', 'erased'):
        if os.path.exists(os.path.join(vault, name)):
            os.unlink(os.path.join(vault, name))
    officer(ctx, ['vault', 'expire', '--older-than', '1'], keys, vault,
            case='retention', code=0)
    check(first in vault_files(vault), 'expire deleted a held file')
    os.unlink(os.path.join(vault, 'audit.log'))
    officer(ctx, ['vault', 'expire', '--older-than', '1'], keys, vault,
            case='retention', code=3)
    check(first in vault_files(vault),
          'expire deleted a held file once the audit log was gone')
    # A plain `erased` file written by someone: it hides nothing.
    keys, vault, toks = setup(ctx, 'hide')
    officer(ctx, ['unseal', toks[1]], keys, vault, code=0)
    with open(os.path.join(vault, 'erased'), 'w') as f:
        f.write('%s\t2025-11-29T00:00:00Z\tX\n' % toks[0])
    proc = officer(ctx, ['unseal', toks[0]], keys, vault, code=0)
    check(b'\terased' not in proc.stdout, 'a plain erased file hid a token')
    print('ok (4) holds and erasures live in the signed log')


def subject_line(ctx, keys, vault, tok):
    proc = officer(ctx, ['unseal', tok], keys, vault, code=0)
    return proc.stdout.decode().split('\t')[2]


def check_erasure(ctx):
    keys, vault, toks = setup(ctx, 'erase', runs=2)
    names = by_seq(vault)
    # The subject: the client of the first run's first line (file 1).
    line = open(ctx.path('in-vault-erase-3.log')).readline()
    addr = line.split(' ', 1)[0]
    backup = ctx.path('backup.lsv')
    os.link(os.path.join(vault, names[0]), backup)
    # The second file cut short by a crash (mid-chunk).
    cut(os.path.join(vault, names[1]), lambda n: n - 7)
    proc = officer(ctx, ['vault', 'erase', '--subject', addr, '--class',
                         'ip'], keys, vault, case='DEL-1')
    ctx.expect(proc, 5, 'vault erase with a fixed key')
    check(b'not unlinkable yet' in proc.stdout, 'erase does not say a fixed '
          'key keeps small-space values guessable')
    verify(ctx, keys, vault, 0)  # the cut-short file is finished
    check(set(open(backup, 'rb').read()) <= {0},
          'the hard-linked backup still holds the old bytes')
    # The subject comes back: written as the marker, never mapped again.
    proc, summ = ctx.pipe(RULE, keys, vault, input=line.encode(), out='-')
    # The erased marker of an address field in its (default) ip6 mode.
    check(proc.stdout.decode().startswith('fd00:: '),
          'pipe wrote the erased subject as %r'
          % proc.stdout.decode().split(' ')[0])
    check(summ['vault'] == 0, 'the erased subject entered the vault again')
    proc = officer(ctx, ['disclose', '--subject', addr, '--class', 'ip',
                         ctx.path('backup.lsv')], keys, vault, case='DEL-2')
    ctx.expect(proc, 4, 'disclose of the erased subject')
    # A file being written keeps the subject: said, exit 5.
    keys, vault, toks = setup(ctx, 'busy')
    addr = subject_line(ctx, keys, vault, toks[0])
    with open(os.path.join(vault, vault_files(vault)[0]), 'rb') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        proc = officer(ctx, ['vault', 'erase', '--subject', addr],
                       keys, vault, case='DEL-3')
    ctx.expect(proc, 5, 'vault erase of a file being written')
    check(b'being written' in proc.stdout, 'erase does not report the file '
          'being written')
    # A key ratcheted past the subject's epoch: fully erased, exit 0.
    keys, vault, e0 = day_keys(ctx, 'ratchet', 4)
    out = lslib.read_gz(ctx.path('ratchet.gz')).decode()
    tok = re.search(r'\bip_[a-z2-7]{26}\b', out).group(0)
    addr = subject_line(ctx, keys, vault, tok)
    proc = officer(ctx, ['vault', 'erase', '--subject', addr, '--class',
                         'ip'], keys, vault, case='DEL-4')
    ctx.expect(proc, 0, 'vault erase with the key ratcheted past')
    print('ok (5) erase: cut-short file, hard link, stop list, fixed key '
          'and busy file reported, full erase exits 0')


def check_small(ctx):
    keys, vault, toks = setup(ctx, 'small')
    other = ctx.keygen('keys-other')
    proc = officer(ctx, ['unseal', toks[0]], other, vault, code=3)
    check(not proc.stdout and
          not os.path.exists(os.path.join(vault, 'audit.pub')),
          'a wrong officer key printed or claimed the vault')
    officer(ctx, ['unseal', toks[0]], keys, vault, code=0)
    os.chmod(keys, 0o777)
    proc = ctx.run(['pipe', '--rule', RULE, '--keys', keys, '--vault',
                    ctx.path('vault-ww'), '--out', '-'], input=b'x\n')
    os.chmod(keys, 0o700)
    check(proc.returncode == 1 and b'writable by others' in proc.stderr and
          not vault_files(ctx.path('vault-ww')) if
          os.path.exists(ctx.path('vault-ww')) else proc.returncode == 1,
          'pipe used a world-writable keys directory')
    ctx.env['LOGSEAL_PWHASH'] = 'interactive'
    for why, k, pw in (('one character', '2', ['a', 'second holder pass']),
                       ('the same twice', '2', ['one passphrase here'] * 2),
                       ('threshold 1', '1', ['first holder pass',
                                             'second holder pass'])):
        d = ctx.path('split-' + why.replace(' ', '-'))
        proc = ctx.run_pw(['keygen', '--dir', d, '--shares', '2',
                           '--threshold', k], pw)
        check(proc.returncode == 2 and not os.path.exists(
            os.path.join(d, 'officer.share.1')),
              'keygen accepted a split with %s' % why)
    v = ctx.path('vault-no-out')
    proc = ctx.run(['pipe', '--rule', RULE, '--keys', keys, '--vault', v,
                    '--out', ctx.path('missing-dir', 'x.gz')], input=b'x\n')
    check(proc.returncode == 1 and
          (not os.path.exists(v) or not vault_files(v)),
          'pipe --out missing-dir/x.gz left a vault file')
    proc = ctx.run(['audit', 'verify', '--help'])
    check(proc.returncode == 0 and b'usage:' in proc.stdout and
          not proc.stderr, 'audit verify --help: exit %d' % proc.returncode)
    officer(ctx, ['unseal', toks[1]], keys, vault, case='COURT-2025-117',
            code=0)
    proc = ctx.run(['audit', 'show', '--vault', vault, '--case',
                    'court-2025-*'])
    ctx.expect(proc, 0, 'audit show --case with a pattern')
    check(proc.stdout.count(b'\n') == 1, 'audit show --case pattern')
    proc = ctx.run(['audit', 'show', '--vault', vault, '--case', 'NONE'])
    check(proc.returncode == 4 and b'no record' in proc.stderr,
          'audit show --case without a match is silent')
    keys, vault, e0 = day_keys(ctx, 'dates', 2)
    proc = verify(ctx, keys, vault, 0)
    day = time.strftime('%Y-%m-%d', time.gmtime(e0 * DAY))
    check(('epoch %d (day %s)' % (e0, day)).encode() in proc.stdout,
          'vault verify shows epochs without their dates')
    print('ok (6) wrong key, keys dir, weak splits, pipe --out, audit '
          '--help, --case, dates')


def body(ctx):
    ctx.env['LOGSEAL_OPERATOR'] = 'it-officer'
    check_forged(ctx)
    check_truncation(ctx)
    check_audit(ctx)
    check_legal_state(ctx)
    check_erasure(ctx)
    check_small(ctx)


if __name__ == '__main__':
    lslib.main(body)
