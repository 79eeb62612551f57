#!/usr/bin/env python3
"""Fault injection: `logseal pipe` and `unseal` when the disk fails them.

    test_faults.py LOGSEAL_BINARY SOURCE_ROOT

The LD_PRELOAD shim tests/tools/faultfs.c (its path in $LSL_FAULTFS) fails
write/pwrite/fsync/rename on the output, the vault file or the audit log
with ENOSPC, EIO or short writes. Each case checks what the user sees (a
log line naming the file; retry while the fault lasts, or a clean non-zero
exit) and what is left on disk once the fault is lifted: a gzip file that
decompresses to every input line, a vault that holds every token of the
output, complete and intact.
"""

import os
import subprocess
import time

import lslib
from lslib import check

RULE = 'nginx-combined'
LINES = 12000  # about 3 MiB: several 1 MiB batches, so several commits


class Faults:
    """Run logseal with the shim preloaded and a fault log to read."""

    def __init__(self, ctx, name, **spec):
        self.ctx = ctx
        self.log = ctx.path('faults-%s.log' % name)
        self.lift = ctx.path('lift-%s' % name)
        self.env = dict(ctx.env)
        self.env['LD_PRELOAD'] = os.environ['LSL_FAULTFS']
        # The shim is loaded ahead of a sanitizer runtime (ASan builds).
        self.env['ASAN_OPTIONS'] = (self.env.get('ASAN_OPTIONS', '') +
                                    ':verify_asan_link_order=0').lstrip(':')
        self.env['FAULTFS_LOG'] = self.log
        self.env['FAULTFS_LIFT'] = self.lift
        for k, v in spec.items():
            self.env['FAULTFS_' + k.upper()] = str(v)

    def injected(self):
        try:
            with open(self.log) as f:
                return len(f.readlines())
        except FileNotFoundError:
            return 0

    def start(self, args):
        return subprocess.Popen([self.ctx.exe] + args, env=self.env,
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def run(self, args, timeout=300):
        p = self.start(args)
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err

    def run_until_lifted(self, args, want_faults=2, timeout=120):
        """Start; once `want_faults` were injected, lift; wait for exit."""
        p = self.start(args)
        deadline = time.monotonic() + timeout
        while self.injected() < want_faults and p.poll() is None:
            check(time.monotonic() < deadline, 'fault never injected')
            time.sleep(0.05)
        with open(self.lift, 'w'):
            pass
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err


def pipe_args(keys, vault, src, out):
    return ['pipe', '--rule', RULE, '--keys', keys, '--vault', vault,
            '--in', src, '--out', out]


def check_intact(ctx, keys, vault, out, n, label):
    """out decompresses to n lines; every token in it unseals."""
    data = lslib.zcat(out)
    check(lslib.count_lines(data) == n, '%s: %d lines in the output, '
          'expected %d' % (label, lslib.count_lines(data), n))
    lslib.gz_members(out)
    tokens = sorted(set(lslib.TOKEN_RE.findall(data.decode('utf-8'))))
    check(tokens, '%s: no token in the output' % label)
    proc, found = ctx.unseal(keys, vault, tokens, case='FAULTS')
    ctx.expect(proc, 0, '%s: unseal after recovery' % label)
    missing = [t for t in tokens if found.get(t, 'not-found') == 'not-found']
    check(not missing, '%s: %d tokens of the output are not in the vault'
          % (label, len(missing)))


def vault_files(vault):
    return sorted(f for f in os.listdir(vault) if f.endswith('.lsv'))


def case_dir(ctx, name):
    d = ctx.path(name)
    os.mkdir(d)
    return d, os.path.join(d, 'vault'), os.path.join(d, 'out.gz')


def transient(ctx, keys, src, name, pattern, mode, ops, after, count=0):
    """A fault on `count` calls (0: until lifted): retried, nothing lost."""
    d, vault, out = case_dir(ctx, name)
    f = Faults(ctx, name, path=pattern, mode=mode, ops=ops, after=after,
               count=count)
    args = pipe_args(keys, vault, src, out)
    if count:
        rc, _, err = f.run(args)
    else:
        rc, _, err = f.run_until_lifted(args)
    text = err.decode('utf-8', 'replace')
    check(f.injected() > 0, '%s: no fault was injected' % name)
    check(rc == 0, '%s: exit %d after the fault was lifted; stderr: %s'
          % (name, rc, lslib.redact(text)))
    retries = [ln for ln in text.splitlines() if 'retrying' in ln]
    check(retries, '%s: no retry was logged: %s' % (name, lslib.redact(text)))
    named = out if 'part' in pattern else vault + '/'
    check(all(named in ln for ln in retries), '%s: the retry message does '
          'not name %s: %s' % (name, named, lslib.redact(retries[0])))
    check(not os.path.exists(out + '.part'), '%s: .part left' % name)
    check_intact(ctx, keys, vault, out, LINES, name)


def short_writes(ctx, keys, src, name, pattern):
    d, vault, out = case_dir(ctx, name)
    f = Faults(ctx, name, path=pattern, mode='short')
    rc, _, err = f.run(pipe_args(keys, vault, src, out))
    check(rc == 0, '%s: exit %d; stderr: %s' % (name, rc, lslib.redact(err)))
    check(f.injected() > 0, '%s: no short write happened' % name)
    check_intact(ctx, keys, vault, out, LINES, name)


def output_final_fault(ctx, keys, src, name, ops):
    """fsync or rename of the finished output fails: exit 1, .part kept."""
    d, vault, out = case_dir(ctx, name)
    f = Faults(ctx, name, path='*/out.gz*', mode='eio', ops=ops)
    rc, _, err = f.run(pipe_args(keys, vault, src, out))
    text = err.decode('utf-8', 'replace')
    check(rc == 1, '%s: exit %d, expected 1' % (name, rc))
    check(f.injected() > 0, '%s: no fault was injected' % name)
    check('cannot finish the output' in text and out in text,
          '%s: no error naming the output: %s' % (name, lslib.redact(text)))
    check(not os.path.exists(out), '%s: %s exists after a failed finish'
          % (name, out))
    # Everything up to the failure is there, whole, in the .part file, and
    # the vault file was finished before the output was touched.
    check_intact(ctx, keys, vault, out + '.part', LINES, name)


def vault_cannot_start(ctx, keys, src):
    name = 'vault-header-enospc'
    d, vault, out = case_dir(ctx, name)
    f = Faults(ctx, name, path='*/vault/*.lsv', mode='enospc')
    rc, _, err = f.run(pipe_args(keys, vault, src, out))
    text = err.decode('utf-8', 'replace')
    check(rc == 1, '%s: exit %d, expected 1' % (name, rc))
    check('cannot create a vault file' in text and vault in text,
          '%s: no error naming the vault: %s' % (name, lslib.redact(text)))
    check(not os.path.exists(out), '%s: output written without a vault'
          % name)


def audit_fault(ctx, keys, src):
    """unseal must not print what it could not record in the audit log."""
    name = 'audit-enospc'
    d, vault, out = case_dir(ctx, name)
    lslib.Ctx.pipe(ctx, RULE, keys, vault, src=src, out=out)
    tokens = lslib.TOKEN_RE.findall(lslib.zcat(out).decode('utf-8'))[:3]
    tf = ctx.path('audit-tokens.txt')
    with open(tf, 'w') as fh:
        fh.write('\n'.join(tokens) + '\n')
    args = ['unseal', '--keys', keys, '--vault', vault, '--case', 'AUDIT',
            '--tokens-from', tf]
    f = Faults(ctx, name, path='*/audit.log', mode='enospc', ops='write')
    rc, outb, err = f.run(args)
    text = err.decode('utf-8', 'replace')
    check(rc != 0, '%s: unseal succeeded without an audit record' % name)
    check(outb == b'', '%s: unseal printed originals it did not audit'
          % name)
    audit = os.path.join(vault, 'audit.log')
    check(audit in text, '%s: the error does not name %s: %s'
          % (name, audit, lslib.redact(text)))
    proc, found = ctx.unseal(keys, vault, tokens, case='AUDIT', code=0)
    check(len(found) == len(tokens), '%s: unseal after the fault' % name)
    with open(audit) as fh:
        recs = fh.read().splitlines()
    check(recs and all(r.count('\t') == recs[0].count('\t') for r in recs),
          '%s: audit log holds a torn record' % name)


def body(ctx):
    check(os.path.exists(os.environ.get('LSL_FAULTFS', '')),
          '$LSL_FAULTFS does not name the faultfs shim')
    keys = ctx.keygen()
    src = ctx.path('in.log')
    ctx.genlogs('nginx', LINES, src, seed=7)
    part = '*/out.gz.part'
    lsv = '*/vault/*.lsv'
    transient(ctx, keys, src, 'out-enospc', part, 'enospc', 'write', 1)
    transient(ctx, keys, src, 'out-eio', part, 'eio', 'write', 1, 2)
    transient(ctx, keys, src, 'vault-enospc', lsv, 'enospc', 'pwrite', 1)
    transient(ctx, keys, src, 'vault-fsync-eio', lsv, 'eio', 'fsync', 1, 2)
    # A commit that failed once must be retried, never counted as written
    # (a race once lost the error: exit 0, summary right, output short).
    for i in range(4):
        transient(ctx, keys, src, 'vault-once-%d' % i, lsv, 'enospc',
                  'pwrite', 1, 1)
    short_writes(ctx, keys, src, 'out-short', part)
    short_writes(ctx, keys, src, 'vault-short', lsv)
    output_final_fault(ctx, keys, src, 'out-fsync-eio', 'fsync')
    output_final_fault(ctx, keys, src, 'out-rename-eio', 'rename')
    vault_cannot_start(ctx, keys, src)
    audit_fault(ctx, keys, src)


if __name__ == '__main__':
    lslib.main(body)
