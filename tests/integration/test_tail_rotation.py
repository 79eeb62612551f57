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

import glob
import gzip
import os
import signal
import socket
import subprocess
import sys
import time

import lslib
from lslib import check

WAIT_S = 60


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    """One `logseal run` process with its stderr in a file."""

    def __init__(self, ctx, cfg):
        self.ctx = ctx
        self.cfg = cfg
        self.proc = None
        self.log = ctx.path('daemon.log')

    def start(self):
        with open(self.log, 'ab') as err:
            self.proc = subprocess.Popen(
                [self.ctx.exe, 'run', '--config', self.cfg],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=err, env=self.ctx.env)

    def stderr(self):
        with open(self.log, 'rb') as f:
            return lslib.redact(f.read()[-3000:])

    def check_alive(self):
        check(self.proc.poll() is None, 'logseal run exited with %s; '
              'stderr: %s' % (self.proc.returncode, self.stderr()))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            lslib.fail('logseal run did not stop within 30 s of SIGTERM; '
                       'stderr: %s' % self.stderr())
        check(rc == 0, 'logseal run exited %d after SIGTERM; stderr: %s'
              % (rc, self.stderr()))

    def kill9(self):
        self.proc.kill()
        self.proc.wait(30)


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
               % (WAIT_S, committed_lines(state), n, daemon.stderr()))


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
            daemon.kill9()
    daemon.start()
    wait_lines(daemon, state, w.next)
    daemon.stop()


def segments_text(out):
    parts = glob.glob(os.path.join(out, 'web', '*', '*.part'))
    check(not parts, '%d segments left unfinished after SIGTERM: %s'
          % (len(parts), parts[:3]))
    names = sorted(glob.glob(os.path.join(out, 'web', '*', 'web-*.log.gz')),
                   key=os.path.basename)
    check(names, 'no finished segments in %s' % out)
    text = b''
    for name in names:
        with gzip.open(name, 'rb') as f:
            text += f.read()
    return text


def write_config(ctx, keys, logdir):
    cfg = ctx.path('logseal.conf')
    with open(cfg, 'w') as f:
        f.write('[daemon]\nkeys = %s\nvault = %s\nstate = %s\noutput = %s\n'
                'level = 6\nsegment_size = 64K\nsegment_age = 5m\n'
                'metrics = 127.0.0.1:%d\nlog_level = info\n\n'
                '[source web]\ntype = tail\npath = %s\nstart = beginning\n'
                'rule = nginx-combined\nsink = segments\n'
                % (keys, ctx.path('vault'), ctx.path('state'),
                   ctx.path('out'), free_port(),
                   os.path.join(logdir, 'access.log')))
    return cfg


def body(ctx):
    helptext = ctx.run(['run', '--help'])
    if helptext.returncode != 0:
        print('SKIP: this logseal has no `run` command yet')
        sys.exit(77)
    keys = ctx.keygen()
    logdir = ctx.path('logs')
    for d in (logdir, ctx.path('state'), ctx.path('out'), ctx.path('vault')):
        os.makedirs(d)
    pool_path = ctx.path('pool.log')
    ctx.genlogs('nginx', 3000, pool_path, seed=7)
    with open(pool_path, 'rb') as f:
        pool = f.readlines()
    w = Writer(pool, logdir)
    daemon = Daemon(ctx, write_config(ctx, keys, logdir))

    w.append('access.log', 1000)
    daemon.start()
    wait_lines(daemon, ctx.path('state'), w.next)
    rename_rotation(w, daemon, ctx.path('state'))
    copytruncate(w, daemon, ctx.path('state'))
    rotate_while_down(w, daemon, ctx.path('state'))
    kill_while_writing(w, daemon, ctx.path('state'))

    got = segments_text(ctx.path('out'))
    proc, _ = ctx.pipe('nginx-combined', keys, ctx.path('vault-pipe'),
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
