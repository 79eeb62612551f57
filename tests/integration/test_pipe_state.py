#!/usr/bin/env python3
"""`logseal pipe --state DIR`: the writer state outside the key directory.

    test_pipe_state.py LOGSEAL_BINARY SOURCE_ROOT

- with --state, the writer state (writer-HEX.state, 0600) is made in DIR
  (created 0700), none in KEYS; a second pipe with the same --state goes
  on as the same writer (one state file, the vault verifies as one chain);
- as an unprivileged user with a read-only KEYS (keys mounted read-only,
  owned by root): without --state pipe fails, saying where its state would
  go and that --state DIR helps; with --state it works.
Run as root, the unprivileged part uses setpriv (skipped without it).
"""
import glob
import os
import shutil
import subprocess

import lslib
from lslib import check

RULE = 'nginx-combined'
NOBODY = 65534


def states(d):
    return glob.glob(os.path.join(d, 'writer-*.state'))


def same_writer(ctx, keys, lines):
    state = ctx.path('state')
    vault = ctx.path('vault')
    for i in range(2):
        proc, _ = ctx.pipe(RULE, keys, vault, input=lines,
                           extra=['--state', state])
        ctx.expect(proc, 0, 'pipe --state, run %d' % (i + 1))
    check(len(states(state)) == 1 and not states(keys),
          'writer state: %s in --state, %s in KEYS'
          % (states(state), states(keys)))
    check(os.stat(state).st_mode & 0o777 == 0o700 and
          os.stat(states(state)[0]).st_mode & 0o777 == 0o600,
          'the state directory or file is not private')
    ctx.expect(ctx.run(['vault', 'verify', '--vault', vault,
                        '--keys', keys]), 0, 'vault verify')


def as_user(args):
    if os.geteuid() != 0:
        return args
    return ['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY,
            '--clear-groups'] + args


def read_only_keys(ctx, keys, lines):
    if os.geteuid() == 0 and not shutil.which('setpriv'):
        lslib.skip('running as root without setpriv')
    ro = ctx.path('ro')
    shutil.copytree(keys, ro)
    os.unlink(os.path.join(ro, 'officer.key'))
    work = ctx.path('work')
    os.makedirs(work)
    if os.geteuid() == 0:
        for d in (ro, work):
            for f in os.listdir(d):
                os.chown(os.path.join(d, f), NOBODY, NOBODY)
        os.chown(work, NOBODY, NOBODY)
        os.chmod(ctx.tmp, 0o755)
    os.chmod(ro, 0o555)
    base = [ctx.exe, 'pipe', '--rule', RULE, '--keys', ro]
    r = subprocess.run(as_user(base + ['--vault', os.path.join(work, 'v1')]),
                       input=lines, capture_output=True, timeout=120)
    err = r.stderr.decode(errors='replace')
    check(r.returncode == 1 and '--state DIR' in err and ro in err,
          'pipe with a read-only KEYS: exit %d: %s' % (r.returncode, err))
    r = subprocess.run(as_user(base + ['--vault', os.path.join(work, 'v2'),
                                       '--state',
                                       os.path.join(work, 'state')]),
                       input=lines, capture_output=True, timeout=120)
    check(r.returncode == 0 and r.stdout.count(b'\n') == lines.count(b'\n'),
          'pipe --state with a read-only KEYS: exit %d: %s'
          % (r.returncode, r.stderr.decode(errors='replace')))


def body(ctx):
    keys = ctx.keygen()
    lines = b''.join(ln + b'\n' for ln in ctx.genlog_lines('nginx', 50))
    same_writer(ctx, keys, lines)
    read_only_keys(ctx, keys, lines)
    print('ok: pipe --state keeps the writer state out of KEYS')


if __name__ == '__main__':
    lslib.main(body)
