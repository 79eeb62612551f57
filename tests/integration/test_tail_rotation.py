#!/usr/bin/env python3
"""`logseal run` tailing a file across rotations, restarts and kill -9.

    test_tail_rotation.py LOGSEAL_BINARY SOURCE_ROOT

Generated nginx lines are appended to a followed access.log in steps:
rename-and-create rotation with a late writer on the old file,
copytruncate (writes paused around it), a stop with SIGTERM and a rotation
while the daemon is down, and a kill -9 in the middle of writing. At the
end, the finished segments (gunzipped, in name order) must equal
`logseal pipe` of every line written, in order: nothing lost, nothing
repeated, no .part left behind. Skipped (exit 77) while the binary has no
`run` command.
"""

import os
import time

import lslib
from lslib import check

WAIT_S = 60


class Daemon(lslib.Daemon):
    """lslib.Daemon that must stay up and stop with status 0."""

    def check_alive(self):
        check(self.alive(), 'logseal run exited with %s; stderr: %s'
              % (self.proc.returncode, self.log_tail()))

    def stop(self, timeout=30):
        rc = super().stop(timeout)
        check(rc == 0, 'logseal run exited %d after SIGTERM; stderr: %s'
              % (rc, self.log_tail()))


def committed_lines(state):
    try:
        with open(os.path.join(state, 'web.ckpt')) as f:
            for line in f:
                key, _, value = line.rstrip('\n').partition(' ')
                if key == 'lines':
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def wait_lines(daemon, state, n):
    end = time.time() + WAIT_S
    while time.time() < end:
        daemon.check_alive()
        if committed_lines(state) >= n:
            check(committed_lines(state) == n, 'the checkpoint counts %d '
                  'lines, %d were written' % (committed_lines(state), n))
            return
        time.sleep(0.1)
    lslib.fail('after %d s the checkpoint counts %d of %d lines; stderr: %s'
               % (WAIT_S, committed_lines(state), n, daemon.log_tail()))


class Writer:
    """Hands out the pool's lines in order and remembers what was written."""

    def __init__(self, pool, logdir):
        self.pool = pool
        self.next = 0
        self.logdir = logdir

    def path(self, name):
        return os.path.join(self.logdir, name)

    def take(self, n):
        lines = self.pool[self.next:self.next + n]
        check(len(lines) == n, 'the line pool is too small')
        self.next += n
        return b''.join(lines)

    def append(self, name, n):
        with open(self.path(name), 'ab') as f:
            f.write(self.take(n))


def rename_rotation(w, daemon, state):
    late = open(w.path('access.log'), 'ab')
    os.rename(w.path('access.log'), w.path('access.log.1'))
    late.write(w.take(200))  # the writer has not reopened yet
    late.close()
    w.append('access.log', 500)
    wait_lines(daemon, state, w.next)


def copytruncate(w, daemon, state):
    w.append('access.log', 300)
    os.rename(w.path('access.log.1'), w.path('access.log.2'))
    with open(w.path('access.log'), 'rb') as src, \
            open(w.path('access.log.1'), 'wb') as dst:
        dst.write(src.read())
    os.truncate(w.path('access.log'), 0)
    w.append('access.log', 300)
    wait_lines(daemon, state, w.next)


def rotate_while_down(w, daemon, state):
    daemon.stop()
    w.append('access.log', 200)
    os.replace(w.path('access.log.1'), w.path('access.log.2'))
    os.rename(w.path('access.log'), w.path('access.log.1'))
    w.append('access.log', 200)
    daemon.start()
    wait_lines(daemon, state, w.next)


def kill_while_writing(w, daemon, state):
    for i in range(30):
        w.append('access.log', 10)
        time.sleep(0.02)
        if i == 15:
            daemon.kill()
    daemon.start()
    wait_lines(daemon, state, w.next)
    daemon.stop()


def segments_text(out):
    parts = lslib.segments(out, 'web', finished_only=False)
    names = sorted(lslib.segments(out, 'web'), key=os.path.basename)
    check(len(parts) == len(names), '%d segments left unfinished after '
          'SIGTERM' % (len(parts) - len(names)))
    check(names, 'no finished segments in %s' % out)
    return b''.join(lslib.read_gz(name) for name in names)


def body(ctx):
    lslib.need_daemon(ctx)
    daemon = Daemon(ctx)
    logdir = ctx.path('logs')
    os.makedirs(logdir)
    daemon.config([('web', {'type': 'tail',
                            'path': os.path.join(logdir, 'access.log'),
                            'start': 'beginning', 'rule': 'nginx-combined'})],
                  extra='segment_size = 64K\nsegment_age = 5m\n'
                  'metrics = 127.0.0.1:%d' % lslib.free_port())
    pool = [ln + b'\n' for ln in ctx.genlog_lines('nginx', 3000, seed=7)]
    w = Writer(pool, logdir)
    state = daemon.state

    w.append('access.log', 1000)
    daemon.start()
    wait_lines(daemon, state, w.next)
    rename_rotation(w, daemon, state)
    copytruncate(w, daemon, state)
    rotate_while_down(w, daemon, state)
    kill_while_writing(w, daemon, state)

    got = segments_text(daemon.output)
    proc, _ = ctx.pipe('nginx-combined', daemon.keys, ctx.path('vault-pipe'),
                       input=b''.join(pool[:w.next]))
    want = proc.stdout
    check(got.count(b'\n') == want.count(b'\n'),
          'segments hold %d lines, %d were written'
          % (got.count(b'\n'), want.count(b'\n')))
    if got != want:
        g, e = got.split(b'\n'), want.split(b'\n')
        first = next(i for i in range(len(e)) if i >= len(g) or g[i] != e[i])
        lslib.fail('segment text differs from `logseal pipe` from line %d '
                   'on' % (first + 1))


if __name__ == '__main__':
    lslib.main(body)
