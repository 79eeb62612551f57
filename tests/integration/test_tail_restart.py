#!/usr/bin/env python3
"""A tailed file across restarts, with the shipped logrotate config.

    test_tail_restart.py LOGSEAL_BINARY SOURCE_ROOT

- start = end (the default) on an idle file, stopped before any line
  came: the lines written while the daemon was down are read at the
  restart (the checkpoint is written when the file is adopted).
- The real logrotate with src/dist/logrotate-nginx (compress +
  delaycompress) rotates twice while the daemon is down: the rotation
  that is still uncompressed is read, not skipped; the checkpointed file,
  compressed before it was read, is lost and counted exactly in
  logseal_abandoned_bytes_total, with a warning naming it.
Skips (77) without `logseal run` or logrotate.
"""

import os
import subprocess

import lslib
from lslib import check


def line(n):
    return ('192.0.2.%d - - [29/Nov/2024:17:00:00 +0000] "GET /live/ch1/'
            'seg_%d.ts?device_id=%s&n=%d HTTP/1.1" 200 5 "-" "curl/7.88.1"'
            '\n' % (n % 200 + 1, n, 'ab241101-e2bb-4255-8caf-4136c566a962',
                    n)).encode()


def append(path, ns):
    with open(path, 'ab') as f:
        f.write(b''.join(line(n) for n in ns))


def daemon(ctx, name, start):
    d = lslib.Daemon(ctx, base=ctx.path(name))
    logs = os.path.join(d.tmp, 'logs')
    os.makedirs(logs)
    access = os.path.join(logs, 'access.log')
    mport = lslib.free_port()
    d.config([('web', {'type': 'tail', 'path': access, 'start': start,
                       'rule': 'nginx-combined'})],
             extra='metrics = 127.0.0.1:%d' % mport)
    return d, access, mport


def wait_ns(d, ns):
    want = set(ns)
    lslib.wait_for(lambda: want <= set(lslib.seen_ns(d.output, 'web')), 60,
                   '%d lines in the output' % len(want), [d])


def idle_restart(ctx):
    d, access, _ = daemon(ctx, 'idle', 'end')
    append(access, range(10))  # before the first start: skipped
    d.start()
    lslib.wait_for(lambda: 'from its end' in d.log(), 30, 'the start', [d])
    check(d.stop() == 0, 'exit after SIGTERM:\n' + d.log_tail())
    append(access, range(10, 110))  # while down
    d.start()
    wait_ns(d, range(10, 110))
    check(d.stop() == 0, 'exit after SIGTERM:\n' + d.log_tail())
    lslib.check_final(d.output, 'web', range(10, 110))
    print('start = end, idle, SIGTERM: the 100 lines written while down '
          'were read at the restart')


def logrotate(ctx, d, access):
    ident = lslib.Identity()
    conf = os.path.join(d.tmp, 'logrotate.conf')
    with open(conf, 'w') as f:
        f.write(lslib.subst(lslib.dist_file(ctx, 'logrotate-nginx'), {
            'ACCESS_LOG': access, 'USER': ident.user, 'GROUP': ident.group,
            'NGINX_PID': os.path.join(d.tmp, 'no-nginx.pid')}))
    os.chmod(conf, 0o644)
    p = subprocess.run([lslib.find_tool('logrotate'), '-s',
                        os.path.join(d.tmp, 'logrotate.state'), '-f', conf],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    check(p.returncode == 0, 'logrotate failed (%d): %s'
          % (p.returncode, lslib.redact(p.stderr)))


def rotations_while_down(ctx):
    d, access, mport = daemon(ctx, 'rotate', 'beginning')
    append(access, range(100))
    d.start()
    wait_ns(d, range(100))
    check(d.stop() == 0, 'exit after SIGTERM:\n' + d.log_tail())
    append(access, range(100, 200))  # never read: compressed while down
    logrotate(ctx, d, access)
    append(access, range(200, 300))
    logrotate(ctx, d, access)
    append(access, range(300, 400))
    names = sorted(os.listdir(os.path.dirname(access)))
    check(names == ['access.log', 'access.log.1', 'access.log.2.gz'],
          'logrotate left %s' % names)
    d.start()
    wait_ns(d, range(200, 400))
    lost = lslib.metric(lslib.http_get(mport), 'abandoned_bytes_total', 'web')
    want = sum(len(line(n)) for n in range(100, 200))
    check(lost == want, 'logseal_abandoned_bytes_total %s, the compressed '
          'rotation held %d unread bytes' % (lost, want))
    check('access.log.2.gz' in d.log() and 'lost' in d.log(),
          'no warning names the compressed rotation:\n' + d.log_tail())
    check(d.stop() == 0, 'exit after SIGTERM:\n' + d.log_tail())
    lslib.check_final(d.output, 'web', range(400),
                      allowed_missing=range(100, 200))
    print('two rotations while down (compress + delaycompress): the '
          'uncompressed rotation read; %d bytes compressed before they were '
          'read counted' % want)


def body(ctx):
    lslib.need_daemon(ctx)
    idle_restart(ctx)
    lslib.find_tool('logrotate')
    rotations_while_down(ctx)


lslib.main(body)
