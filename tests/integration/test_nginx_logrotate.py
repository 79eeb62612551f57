#!/usr/bin/env python3
"""A real nginx writes its access log to a file that logseal follows while
the real logrotate rotates it.

    test_nginx_logrotate.py LOGSEAL_BINARY SOURCE_ROOT

logrotate runs as `logrotate -s STATE -f CONF` with src/dist/logrotate-nginx
(placeholders filled in); nginx uses src/dist/nginx-logseal.conf with the
file access_log active. Each mode has its own nginx, logseal and files:

create: rename + create + postrotate USR1, rotated in the middle of NLOAD
  requests made without pause. Every request must be in the finished
  segments exactly once.
copytruncate: (1) writes paused around the rotation: NPAUSED requests, wait
  until logseal has them, rotate, NPAUSED more: nothing may be lost.
  (2) rotated in the middle of NLOAD requests made without pause: lines
  nginx writes between logrotate's copy and its truncate may be lost (the
  design's copytruncate window). The loss is printed; the test fails only
  if a line outside the logrotate run is lost, or any line is repeated.
Client addresses and device UUIDs must not appear in clear.
Skips (77) without `logseal run`, nginx or logrotate.
"""

import os
import subprocess
import threading
import time

import lslib
from lslib import check, redact

NLOAD = 3000
NPAUSED = 300


class Load(threading.Thread):
    """Requests n = first .. first+count-1 without pause."""

    def __init__(self, client, first, count):
        super().__init__(daemon=True)
        self.client, self.first, self.count = client, first, count
        self.error = None

    def run(self):
        try:
            for n in range(self.first, self.first + self.count):
                self.client.get(n)
        except Exception as e:  # reported by the main thread
            self.error = e


class Setup:
    def __init__(self, ctx, mode):
        self.mode = mode
        self.ctx = lslib.Ctx(ctx.exe, ctx.root, ctx.path(mode))
        os.makedirs(self.ctx.tmp)
        self.ident = lslib.Identity()
        logs = self.ctx.path('nginx-logs')
        self.ident.give(logs, 0o755)
        self.access = os.path.join(logs, 'access.log')
        self.ngx = lslib.Nginx(self.ctx, self.ident, lslib.access_log_conf(
            self.ctx, ('file',), {'LOGSEAL_SOCKET': '-',
                                  'LOGSEAL_UDP_PORT': '-',
                                  'ACCESS_LOG': self.access}))
        self.ls = lslib.Daemon(self.ctx)
        self.ls.config([('tailed', {'type': 'tail', 'path': self.access,
                                    'start': 'beginning',
                                    'rule': 'nginx-combined'})])
        self.rotate_conf = self.ctx.path('logrotate.conf')
        text = lslib.subst(lslib.dist_file(ctx, 'logrotate-nginx'), {
            'ACCESS_LOG': self.access, 'USER': self.ident.user,
            'GROUP': self.ident.group, 'NGINX_PID': self.ngx.pid_file})
        if mode == 'copytruncate':
            text = text.replace('\tcreate ', '\t#create ')
            text = text.replace('\t#copytruncate', '\tcopytruncate')
        check(('\n\t%s' % ('copytruncate' if mode == 'copytruncate' else
                           'create ')) in text,
              'logrotate-nginx: cannot select mode %s' % mode)
        with open(self.rotate_conf, 'w') as f:
            f.write(text)
        os.chmod(self.rotate_conf, 0o644)
        self.client = None

    def start(self):
        self.ngx.start()
        self.ls.start()
        self.client = lslib.Client(self.ngx.port)

    def rotate(self):
        p = subprocess.run([lslib.find_tool('logrotate'), '-s',
                            self.ctx.path('logrotate.state'), '-f',
                            self.rotate_conf], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        check(p.returncode == 0, 'logrotate failed (%d): %s'
              % (p.returncode, redact(p.stderr)))

    def load_with_rotation(self, first, count):
        """count requests from n=first, one rotation in the middle; returns
        the n values whose request completed while logrotate ran."""
        base = len(self.client.done)
        load = Load(self.client, first, count)
        load.start()
        lslib.wait_for(lambda: len(self.client.done) >= base + count // 2 or
                    not load.is_alive(), 120, 'half the load')
        i0 = len(self.client.done)
        self.rotate()
        i1 = len(self.client.done)
        load.join(300)
        check(not load.is_alive() and load.error is None,
              'the load did not complete: %s' % load.error)
        # A request answered just before logrotate started may be written
        # to the log after nginx answered: widen the window by one.
        return self.client.done[max(i0 - 1, 0):i1 + 1]

    def wait_seen(self, expected, what):
        want = set(expected)
        try:
            lslib.wait_for(lambda: want <= set(lslib.seen_ns(self.ls.output,
                                                             'tailed')),
                           120, what, [self.ls])
        except lslib.Failure as e:
            # Say enough to tell a lost rotation from a slow reader.
            missing = sorted(want - set(lslib.seen_ns(self.ls.output,
                                                   'tailed')))
            log = self.ls.log().splitlines()
            raise lslib.Failure(
                '%s (%s): %d of %d lines missing, n %s..%s; files %s; '
                'last log lines:\n%s'
                % (e, self.mode, len(missing), len(want), missing[:1],
                   missing[-1:], sorted(os.listdir(os.path.dirname(
                       self.access))), redact('\n'.join(log[-15:]), 3000)))

    def finish(self, allowed_missing=()):
        self.client.close()
        self.ngx.stop()
        want = set(self.client.done) - set(allowed_missing)
        self.wait_seen(want, 'logseal to read every line')
        rc = self.ls.stop()
        check(rc == 0, 'logseal exited %s after SIGTERM; log: %s'
              % (rc, self.ls.log_tail()))
        return lslib.check_final(self.ls.output, 'tailed', self.client.done,
                              allowed_missing)

    def cleanup(self):
        self.ngx.stop()
        self.ls.kill()


def rotated_lines(s):
    path = s.access + '.1'
    check(os.path.exists(path), 'logrotate did not rotate %s' % s.access)
    with open(path, 'rb') as f:
        return f.read().count(b'\n')


def mode_create(ctx):
    s = Setup(ctx, 'create')
    try:
        s.start()
        s.load_with_rotation(0, NLOAD)
        old = rotated_lines(s)
        with open(s.access, 'rb') as f:
            new = f.read().count(b'\n')
        check(old > 0 and new > 0, 'rotation was not during the load '
              '(%d lines before, %d after)' % (old, new))
        s.finish()
        print('create: %d requests (%d before the rotation, %d after), '
              'each once' % (len(s.client.done), old, new))
    finally:
        s.cleanup()


def mode_copytruncate(ctx):
    s = Setup(ctx, 'copytruncate')
    try:
        s.start()
        for n in range(NPAUSED):
            s.client.get(n)
        s.wait_seen(range(NPAUSED), 'logseal to read the paused batch')
        s.rotate()
        check(rotated_lines(s) == NPAUSED, 'the copy does not hold the '
              '%d lines written before the rotation' % NPAUSED)
        for n in range(NPAUSED, 2 * NPAUSED):
            s.client.get(n)
        s.wait_seen(range(2 * NPAUSED), 'logseal to read the lines after '
                    'the paused rotation')
        window = s.load_with_rotation(2 * NPAUSED, NLOAD)
        lost = s.finish(allowed_missing=window)
        print('copytruncate: paused rotation: %d requests, none lost; '
              'under load: %d requests, %d completed while logrotate ran, '
              '%d lost in the copy/truncate window'
              % (2 * NPAUSED, NLOAD, len(window), len(lost)))
    finally:
        s.cleanup()


def body(ctx):
    lslib.need_daemon(ctx)
    lslib.find_tool('nginx')
    lslib.find_tool('logrotate')
    os.chmod(ctx.tmp, 0o755)  # nginx (nobody) writes below it
    mode_create(ctx)
    mode_copytruncate(ctx)


lslib.main(body)
