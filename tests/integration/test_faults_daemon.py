#!/usr/bin/env python3
"""Fault injection on `logseal run`: the checkpoint, the segment output and
the vault file fail for a while (ENOSPC/EIO through the faultfs shim, path
in $LSL_FAULTFS). The daemon logs the failure naming the file and retries
with the input paused; once the fault is gone the segments hold every
input line exactly once, pseudonymized as `logseal pipe` does it, and a
restart (which reads the checkpoint) neither loses nor repeats a line.

    test_faults_daemon.py LOGSEAL_BINARY SOURCE_ROOT
"""
import os

import lslib
from lslib import check

N = 3000
MORE = 500


def injected(d):
    try:
        with open(os.path.join(d.tmp, 'faults.log')) as f:
            return len(f.readlines())
    except FileNotFoundError:
        return 0


def case(ctx, name, faults, named):
    d = lslib.Daemon(ctx, base=ctx.path(name))
    src = os.path.join(d.tmp, 'access.log')
    lines = lslib.gen_lines(N + MORE, seed=3, tag=name)
    with open(src, 'wb') as f:
        f.write(b''.join(ln + b'\n' for ln in lines[:N]))
    d.config([('web', {'type': 'tail', 'path': src, 'start': 'beginning',
                       'rule': d.rule})])
    faults['path'] = faults['path'].replace('@TMP@', d.tmp)
    d.start(env=d.fault_env(**faults))
    lslib.wait_for(lambda: len(lslib.segment_lines(d.output)) >= N, 120,
                   '%s: %d lines in the segments' % (name, N), [d])
    rc = d.stop()
    log = d.log()
    check(rc == 0, '%s: exit %d:\n%s' % (name, rc, d.log_tail()))
    check(injected(d) > 0, '%s: no fault was injected' % name)
    retry = [ln for ln in log.splitlines() if 'retrying' in ln]
    check(retry, '%s: no retry logged:\n%s' % (name, d.log_tail()))
    check(named.replace('@TMP@', d.tmp) in log, '%s: no message names '
          '%s:\n%s' % (name, named, d.log_tail()))
    # Restart without faults: the checkpoint says where to go on.
    with open(src, 'ab') as f:
        f.write(b''.join(ln + b'\n' for ln in lines[N:]))
    d.start()
    lslib.wait_for(lambda: len(lslib.segment_lines(d.output)) >= N + MORE,
                   120, '%s: %d lines after the restart' % (name, N + MORE),
                   [d])
    rc = d.stop()
    check(rc == 0, '%s: exit %d after the restart' % (name, rc))
    got = lslib.segment_lines(d.output)
    want = d.reference(lines)
    check(sorted(got) == sorted(want), '%s: segments hold %d lines, %d '
          'expected, or other lines' % (name, len(got), len(want)))
    check(not [p for p in lslib.segments(d.output, finished_only=False)
               if p.endswith('.part')], '%s: .part left' % name)
    print('ok %s: %d faults, nothing lost or repeated' % (name, injected(d)))


def vault_full_at_start(ctx):
    """The vault directory full when the daemon starts: it waits and
    retries (as at run time), it does not exit."""
    d = lslib.Daemon(ctx, base=ctx.path('vault-full-start'))
    src = os.path.join(d.tmp, 'access.log')
    lines = lslib.gen_lines(N, seed=4, tag='vfs')
    with open(src, 'wb') as f:
        f.write(b''.join(ln + b'\n' for ln in lines))
    d.config([('web', {'type': 'tail', 'path': src, 'start': 'beginning',
                       'rule': d.rule})])
    d.start(env=d.fault_env(path=d.vault + '/*', mode='enospc', count=4))
    lslib.wait_for(lambda: 'cannot start yet' in d.log(), 60,
                   'a retried start', [d])
    lslib.wait_for(lambda: len(lslib.segment_lines(d.output)) >= N, 120,
                   'every line once the vault can be written', [d])
    check(d.stop() == 0, 'exit %s:\n%s' % (d.proc.returncode, d.log_tail()))
    check(sorted(lslib.segment_lines(d.output)) == sorted(d.reference(lines)),
          'vault full at start: the output is not every line once')
    print('ok vault-full-at-start: waited, then every line once')


def body(ctx):
    # The checkpoints (*.ckpt), not the vault writer state beside them:
    # a daemon that cannot record its writer state does not start.
    case(ctx, 'checkpoint-enospc',
         {'path': '@TMP@/state/*.ckpt*', 'mode': 'enospc', 'count': 3},
         '@TMP@/state')
    case(ctx, 'segment-eio',
         {'path': '@TMP@/out/*', 'mode': 'eio', 'ops': 'write', 'count': 3},
         '@TMP@/out/web')
    case(ctx, 'vault-enospc',
         {'path': '@TMP@/vault/*', 'mode': 'enospc', 'ops': 'pwrite,fsync',
          'after': 2, 'count': 3}, '@TMP@/vault/')
    vault_full_at_start(ctx)


lslib.main(body)
