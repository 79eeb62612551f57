#!/usr/bin/env python3
"""Security staff's tools: split officer keys, the audit trail, vault verify.

    test_officer.py LOGSEAL_BINARY SOURCE_ROOT

Good paths: keygen --shares 3 --threshold 2 writes three 0600 share files
and no officer.key; unseal works with any 2 shares (passphrases through
--passphrase-fd); `audit verify` passes on an untouched log; `audit show`
lists the unseals with their case references.

Each failure must exit non-zero with a clear message and reveal nothing:
a share of another keygen, too few shares, a wrong passphrase, a share or
officer.key with mode 0644, an edited / deleted / reordered / inserted
audit record (`audit verify`, exit 3, naming the line), a flipped bit in a
vault chunk (`vault verify`, exit 3) and a truncated vault file (`vault
verify`: exit 3, and `vault repair` finishes it). A file a writer still
holds (its flock) is reported as being written: exit 0, with --strict 3.
"""

import fcntl
import os
import shutil

import lslib
from lslib import check

RULE = 'nginx-combined'
PASS = ('first holder pass', 'second: holder', 'third-holder-pass')
PAIRS = ((0, 1), (0, 2), (1, 2))


def run_pw(ctx, args, passphrases, input=b''):
    return ctx.run_pw(args, passphrases, input)


def expect_fail(proc, what, *needles):
    """A refusal: non-zero exit, nothing on stdout, stderr names `needles`."""
    err = proc.stderr.decode('utf-8', 'replace')
    check(proc.returncode != 0, '%s: exit 0, expected a failure' % what)
    check(not proc.stdout, '%s: printed output despite failing' % what)
    for n in needles:
        check(n in err, '%s: stderr lacks %r: %s'
              % (what, n, lslib.redact(err)))


def shares(keys, idx):
    return [os.path.join(keys, 'officer.share.%d' % (i + 1)) for i in idx]


def share_args(paths):
    out = []
    for p in paths:
        out += ['--share', p]
    return out


def keygen_split(ctx, name):
    keys = ctx.path(name)
    proc = run_pw(ctx, ['keygen', '--dir', keys, '--shares', '3',
                        '--threshold', '2'], PASS)
    ctx.expect(proc, 0, 'keygen --shares 3 --threshold 2')
    names = sorted(os.listdir(keys))
    check(names == ['audit.pub', 'checkpoint.key', 'hash.key',
                    'officer.share.1', 'officer.share.2', 'officer.share.3',
                    'stop.key', 'vault.pub'],
          'keygen --shares wrote %s' % names)
    for p in shares(keys, range(3)):
        mode = os.stat(p).st_mode & 0o777
        check(mode == 0o600, '%s has mode %o, expected 600' % (p, mode))
    return keys


def unseal(ctx, keys, vault, idx, case, tokens, passphrases=None):
    args = ['unseal', '--keys', keys, '--vault', vault, '--case', case]
    args += share_args(shares(keys, idx)) + list(tokens)
    pw = passphrases if passphrases is not None else [PASS[i] for i in idx]
    return run_pw(ctx, args, pw)


def audit_records(vault):
    path = os.path.join(vault, 'audit.log')
    if not os.path.exists(path):
        return []
    with open(path, encoding='ascii') as f:
        return f.read().splitlines(True)


def check_good_unseals(ctx, keys, vault, tokens, truth):
    for n, (a, b) in enumerate(PAIRS):
        proc = unseal(ctx, keys, vault, (a, b), 'IT-SPLIT-%d' % n, tokens)
        ctx.expect(proc, 0, 'unseal with shares %d and %d' % (a + 1, b + 1))
        res = lslib.parse_unseal(proc.stdout)
        check(set(res) == set(tokens) and
              all(v != 'not-found' and v[1] in truth for v in res.values()),
              'unseal with shares %d+%d did not reveal every token'
              % (a + 1, b + 1))
    check(len(audit_records(vault)) == len(PAIRS),
          'expected one audit record per unseal')
    print('ok 2-of-3: every pair of shares unseals')


def check_bad_shares(ctx, keys, other, vault, tokens):
    before = audit_records(vault)
    proc = unseal(ctx, keys, vault, (1,), 'IT-BAD', tokens)
    expect_fail(proc, 'unseal with one share', 'too few shares', 'needs 2')
    proc = unseal(ctx, keys, vault, (0, 2), 'IT-BAD', tokens,
                  [PASS[0], 'not the passphrase'])
    expect_fail(proc, 'unseal with a wrong passphrase', 'officer.share.3',
                'wrong passphrase')
    mixed = shares(keys, (0,)) + shares(other, (1,))
    proc = run_pw(ctx, ['unseal', '--keys', keys, '--vault', vault,
                        '--case', 'IT-BAD'] + share_args(mixed) + tokens,
                  PASS[:2])
    expect_fail(proc, 'unseal with a share of another keygen',
                os.path.join(other, 'officer.share.2'), 'another vault')
    os.chmod(shares(keys, (2,))[0], 0o644)
    proc = unseal(ctx, keys, vault, (0, 2), 'IT-BAD', tokens)
    os.chmod(shares(keys, (2,))[0], 0o600)
    expect_fail(proc, 'unseal with a 0644 share', 'officer.share.3',
                'readable by others')
    check(audit_records(vault) == before,
          'a refused unseal added an audit record')
    print('ok wrong, foreign, missing and exposed shares are refused')


def check_officer_key_mode(ctx, tokens_vault, tokens):
    keys = ctx.keygen('plain-keys')
    os.chmod(os.path.join(keys, 'officer.key'), 0o644)
    proc = ctx.run(['unseal', '--keys', keys, '--vault', tokens_vault,
                    '--case', 'IT-MODE'] + tokens)
    expect_fail(proc, 'unseal with officer.key mode 0644', 'officer.key',
                'chmod 600')
    print('ok officer.key readable by others is refused')


def check_audit_good(ctx, vault):
    proc = ctx.run(['audit', 'verify', '--vault', vault])
    ctx.expect(proc, 0, 'audit verify on an untouched log')
    check(b'%d records' % len(PAIRS) in proc.stdout,
          'audit verify does not count %d records: %s'
          % (len(PAIRS), lslib.redact(proc.stdout)))
    proc = ctx.run(['audit', 'show', '--vault', vault])
    ctx.expect(proc, 0, 'audit show')
    rows = [ln.split('\t') for ln in proc.stdout.decode().splitlines()]
    check([r[3] for r in rows] == ['IT-SPLIT-%d' % n
                                   for n in range(len(PAIRS))] and
          all(r[4] == 'unseal' and r[2] == 'it-officer' for r in rows),
          'audit show does not list the unseals with operator and case: %s'
          % rows)
    # Each record names the tokens asked for and the holders who opened.
    for r, (a, b) in zip(rows, PAIRS):
        items = r[7].split(' ')
        check('shares=%d,%d' % (a + 1, b + 1) in items and
              sum(i.startswith('tok=') for i in items) == 6,
              'audit record of shares %d+%d lacks its shares or tokens: %s'
              % (a + 1, b + 1, lslib.redact(r[7])))
    proc = ctx.run(['audit', 'show', '--vault', vault, '--case',
                    'IT-SPLIT-1'])
    ctx.expect(proc, 0, 'audit show --case')
    check(proc.stdout.count(b'\n') == 1 and b'IT-SPLIT-1' in proc.stdout,
          'audit show --case IT-SPLIT-1 did not list exactly that record')
    print('ok audit verify passes, audit show lists the unseals')


def tampered_copy(ctx, vault, tag, edit):
    bad = ctx.path('audit-' + tag)
    os.mkdir(bad)
    for name in ('audit.log', 'audit.pub'):
        shutil.copy(os.path.join(vault, name), bad)
    lines = audit_records(bad)
    with open(os.path.join(bad, 'audit.log'), 'w', encoding='ascii') as f:
        f.writelines(edit(lines))
    return bad


def check_audit_tamper(ctx, keys, vault):
    def edited(ls):
        ls[1] = ls[1].replace('IT-SPLIT-1', 'IT-SPLIT-X')
        return ls

    cases = (
        ('edited', edited, 2, 'edited'),
        ('deleted', lambda ls: ls[:1] + ls[2:], 2, 'deleted'),
        ('reordered', lambda ls: [ls[0], ls[2], ls[1]], 2, 'reordered'),
        ('inserted', lambda ls: ls[:2] + [ls[0]] + ls[2:], 3, 'inserted'),
    )
    for tag, edit, line, word in cases:
        bad = tampered_copy(ctx, vault, tag, edit)
        for extra in ([], ['--pub', os.path.join(keys, 'audit.pub')]):
            proc = ctx.run(['audit', 'verify', '--vault', bad] + extra)
            ctx.expect(proc, 3, 'audit verify of a log with a %s record'
                       % tag)
            err = proc.stderr.decode()
            check('line %d' % line in err and word in err,
                  'audit verify of a %s record does not say "line %d" and '
                  '"%s": %s' % (tag, line, word, lslib.redact(err)))
    print('ok edited, deleted, reordered, inserted audit records detected')


def vault_verify(ctx, keys, vault, extra=()):
    return run_pw(ctx, ['vault', 'verify', '--vault', vault, '--keys',
                        keys] + share_args(shares(keys, (2, 0))) +
                  list(extra), [PASS[2], PASS[0]])


def check_vault_verify(ctx, keys, vault):
    proc = vault_verify(ctx, keys, vault)
    ctx.expect(proc, 0, 'vault verify of an intact vault')
    out = proc.stdout.decode()
    check('\tok\t' in out and '1 ok, 0 being written, 0 cut short, 0 failed'
          in out and 'ip ' in out,
          'vault verify output lacks ok/counts: %s' % out)
    name = [f for f in os.listdir(vault) if f.endswith('.lsv')][0]
    flipped = ctx.path('vault-flipped')
    shutil.copytree(vault, flipped)
    with open(os.path.join(flipped, name), 'r+b') as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(bytes([b[0] ^ 0x01]))
    proc = vault_verify(ctx, keys, flipped)
    ctx.expect(proc, 3, 'vault verify with a flipped bit')
    check(b'integrity failure at byte' in proc.stdout and
          name.encode() in proc.stdout,
          'vault verify does not report the flipped bit in %s' % name)
    cut = ctx.path('vault-cut')
    shutil.copytree(vault, cut)
    with open(os.path.join(cut, name), 'r+b') as f:
        f.truncate(f.seek(0, os.SEEK_END) - 10)
    proc = vault_verify(ctx, keys, cut)
    ctx.expect(proc, 3, 'vault verify of a cut-short file')
    check(b'cut short' in proc.stdout, 'vault verify does not report the '
          'cut-short file: %s' % lslib.redact(proc.stdout))
    proc = run_pw(ctx, ['vault', 'repair', '--vault', cut, '--keys', keys,
                        '--case', 'IT-REPAIR'] +
                  share_args(shares(keys, (2, 0))), [PASS[2], PASS[0]])
    ctx.expect(proc, 0, 'vault repair of a cut-short file')
    proc = vault_verify(ctx, keys, cut)
    ctx.expect(proc, 0, 'vault verify after vault repair')
    # A writer's lock on the file: being written, not cut short.
    held = ctx.path('vault-held')
    shutil.copytree(vault, held)
    with open(os.path.join(held, name), 'r+b') as f:
        f.truncate(f.seek(0, os.SEEK_END) - 10)
        fcntl.flock(f, fcntl.LOCK_EX)
        proc = vault_verify(ctx, keys, held)
        ctx.expect(proc, 0, 'vault verify of a file being written')
        check(b'being written' in proc.stdout, 'vault verify does not say '
              'being written: %s' % lslib.redact(proc.stdout))
        proc = vault_verify(ctx, keys, held, ['--strict'])
        ctx.expect(proc, 3, 'vault verify --strict of a file being written')
    print('ok vault verify: intact, flipped bit (3), cut short (3, repaired), '
          'being written (0, --strict 3)')


def body(ctx):
    ctx.env['LOGSEAL_PWHASH'] = 'interactive'
    ctx.env['LOGSEAL_OPERATOR'] = 'it-officer'
    keys = keygen_split(ctx, 'keys')
    other = keygen_split(ctx, 'other-keys')
    src, truth_path = ctx.path('in.log'), ctx.path('in.truth')
    ctx.genlogs('nginx', 200, src, seed=5, truth=truth_path)
    # Unsealed values are normalized (an IPv6 address in RFC 5952 form).
    truth = {lslib.normalize_value(v) for v in lslib.read_truth(truth_path)}
    vault = ctx.path('vault')
    # Printed tokens, which the audit records name as they are asked.
    proc, _ = ctx.pipe(RULE, keys, vault, src=src, out='-',
                       extra=['--ip-mode', 'token'])
    tokens = sorted(set(lslib.TOKEN_RE.findall(proc.stdout.decode())))[:6]
    check(tokens, 'pipe produced no tokens')
    check_good_unseals(ctx, keys, vault, tokens, truth)
    check_bad_shares(ctx, keys, other, vault, tokens)
    check_officer_key_mode(ctx, vault, tokens)
    check_audit_good(ctx, vault)
    check_audit_tamper(ctx, keys, vault)
    check_vault_verify(ctx, keys, vault)


if __name__ == '__main__':
    lslib.main(body)
