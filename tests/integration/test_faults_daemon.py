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


def fault_env(d, faults):
    """Variables that preload the faultfs shim with `faults`."""
    e = {'ASAN_OPTIONS': (os.environ.get('ASAN_OPTIONS', '') +
                          ':verify_asan_link_order=0').lstrip(':'),
         'LD_PRELOAD': os.environ['LSL_FAULTFS'],
         'FAULTFS_LOG': os.path.join(d.tmp, 'faults.log')}
    for k, v in faults.items():
        e['FAULTFS_' + k.upper()] = str(v)
    return e


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
    d.start(env=fault_env(d, faults))
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


def body(ctx):
    check(os.path.exists(os.environ.get('LSL_FAULTFS', '')),
          '$LSL_FAULTFS does not name the faultfs shim')
    case(ctx, 'checkpoint-enospc',
         {'path': '@TMP@/state/*', 'mode': 'enospc', 'count': 3},
         '@TMP@/state')
    case(ctx, 'segment-eio',
         {'path': '@TMP@/out/*', 'mode': 'eio', 'ops': 'write', 'count': 3},
         '@TMP@/out/web')
    case(ctx, 'vault-enospc',
         {'path': '@TMP@/vault/*', 'mode': 'enospc', 'ops': 'pwrite,fsync',
          'after': 2, 'count': 3}, '@TMP@/vault/')


lslib.main(body)
