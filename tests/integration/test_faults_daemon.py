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
import subprocess
import sys

import daemonlib as dl

N = 3000
MORE = 500


def start(env, cfg, faults):
    e = dict(os.environ)
    e['ASAN_OPTIONS'] = (e.get('ASAN_OPTIONS', '') +
                         ':verify_asan_link_order=0').lstrip(':')
    if faults:
        e['LD_PRELOAD'] = os.environ['LSL_FAULTFS']
        e['FAULTFS_LOG'] = os.path.join(env.tmp, 'faults.log')
        for k, v in faults.items():
            e['FAULTFS_' + k.upper()] = str(v)
    log = open(os.path.join(env.tmp, 'daemon.log'), 'ab')
    return subprocess.Popen([env.bin, 'run', '--config', cfg], env=e,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=log)


def injected(env):
    try:
        with open(os.path.join(env.tmp, 'faults.log')) as f:
            return len(f.readlines())
    except FileNotFoundError:
        return 0


def case(binary, root, name, faults, named):
    env = dl.Env(binary, root)
    src = os.path.join(env.tmp, 'access.log')
    lines = dl.gen_lines(N + MORE, seed=3, tag=name)
    with open(src, 'wb') as f:
        f.write(b''.join(l + b'\n' for l in lines[:N]))
    cfg = env.config([('web', {'type': 'tail', 'path': src,
                               'start': 'beginning', 'rule': env.rule})])
    for k in ('path',):
        faults[k] = faults[k].replace('@TMP@', env.tmp)
    proc = start(env, cfg, faults)
    dl.wait_for(lambda: len(dl.segment_lines(env.output)) >= N, 120,
                '%s: %d lines in the segments' % (name, N), proc, env)
    rc = dl.stop(proc)
    log = env.log()
    dl.check(rc == 0, '%s: exit %d:\n%s' % (name, rc, log[-3000:]))
    dl.check(injected(env) > 0, '%s: no fault was injected' % name)
    retry = [ln for ln in log.splitlines() if 'retrying' in ln]
    dl.check(retry, '%s: no retry logged:\n%s' % (name, log[-3000:]))
    dl.check(named.replace('@TMP@', env.tmp) in log, '%s: no message names '
             '%s:\n%s' % (name, named, log[-3000:]))
    # Restart without faults: the checkpoint says where to go on.
    with open(src, 'ab') as f:
        f.write(b''.join(l + b'\n' for l in lines[N:]))
    proc = start(env, cfg, None)
    dl.wait_for(lambda: len(dl.segment_lines(env.output)) >= N + MORE, 120,
                '%s: %d lines after the restart' % (name, N + MORE), proc,
                env)
    rc = dl.stop(proc)
    dl.check(rc == 0, '%s: exit %d after the restart' % (name, rc))
    got = dl.segment_lines(env.output)
    want = env.reference(lines)
    dl.check(sorted(got) == sorted(want), '%s: segments hold %d lines, %d '
             'expected, or other lines' % (name, len(got), len(want)))
    dl.check(not [p for p in dl.segment_files(env.output)
                  if p.endswith('.part')], '%s: .part left' % name)
    print('ok %s: %d faults, nothing lost or repeated' % (name,
                                                        injected(env)))


def main():
    binary, root = sys.argv[1], sys.argv[2]
    dl.check(os.path.exists(os.environ.get('LSL_FAULTFS', '')),
             '$LSL_FAULTFS does not name the faultfs shim')
    # The checkpoints (*.ckpt), not the vault writer state beside them:
    # a daemon that cannot record its writer state does not start.
    case(binary, root, 'checkpoint-enospc',
         {'path': '@TMP@/state/*.ckpt*', 'mode': 'enospc', 'count': 3},
         '@TMP@/state')
    case(binary, root, 'segment-eio',
         {'path': '@TMP@/out/*', 'mode': 'eio', 'ops': 'write', 'count': 3},
         '@TMP@/out/web')
    case(binary, root, 'vault-enospc',
         {'path': '@TMP@/vault/*', 'mode': 'enospc', 'ops': 'pwrite,fsync',
          'after': 2, 'count': 3}, '@TMP@/vault/')


if __name__ == '__main__':
    main()
