#!/usr/bin/env python3
"""Exactly once for the sources that cannot read anything twice.

    test_syslog_crash.py LOGSEAL_BINARY SOURCE_ROOT

syslog over a unix socket, kill -9 at random moments while a sender keeps
sending: every line that was in the output when the daemon died is still
there after the restarts (a crash's .part is finished, not removed), none
is repeated, and the only lines missing were sent to a daemon that died
before writing them (in flight: counted and printed). The same for a
stdin source. With the output failing (faultfs: ENOSPC) the metrics say
so (logseal_output_blocked, input_paused, commit_failures_total); a
SIGTERM then logs that the drain waits and that a second signal forces
the exit, and once space is back every datagram waiting in the socket is
read and written; a second SIGTERM ends the drain at once. UDP datagrams
the kernel drops on a full buffer are counted in
logseal_lost_datagrams_total and logged, with no new traffic needed, and
received + lost = sent.
"""

import errno
import os
import random
import signal
import socket
import subprocess
import threading
import time

import lslib
from lslib import check

KILLS = 8


def line(n):
    return ('192.0.2.%d - - [29/Nov/2024:17:00:00 +0000] "GET /live/ch1/'
            'seg_%d.ts?device_id=%s&n=%d HTTP/1.1" 200 5 "-" "curl/7.88.1"'
            % (n % 200 + 1, n, '3b241101-e2bb-4255-8caf-4136c566a962', n))


def frame(n):
    return ('<190>Nov 29 17:00:00 edge-01 nginx: %s' % line(n)).encode()


class Sender(threading.Thread):
    """Sends n = 0, 1, ... to a unix datagram socket; `sent` holds the n
    the kernel accepted (a dead daemon refuses them), with the time."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.sent = []  # (n, monotonic time)
        self.stop = threading.Event()

    def run(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.setblocking(False)
        n = 0
        while not self.stop.is_set():
            try:
                s.sendto(frame(n), self.path)
                self.sent.append((n, time.monotonic()))
                n += 1
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.ECONNREFUSED,
                                   errno.ENOENT):
                    raise
                time.sleep(0.002)
            if n % 20 == 0:
                time.sleep(0.001)
        s.close()


def visible(d, source):
    """n values in whole members right now (the daemon is dead: exact)."""
    return set(lslib.seen_ns(d.output, source))


def unix_kills(ctx, rnd):
    d = lslib.Daemon(ctx, base=ctx.path('unix'))
    sock = os.path.join(d.tmp, 'nginx.sock')
    d.config([('api', {'type': 'syslog', 'listen': 'unix:' + sock,
                       'rule': 'nginx-combined'})])
    snd = Sender(sock)
    kept, windows = set(), []
    d.start()
    lslib.wait_for(lambda: os.path.exists(sock), 30, 'the socket', [d])
    snd.start()
    for _ in range(KILLS):
        started = time.monotonic()
        lslib.wait_for(lambda: len(visible(d, 'api')) > len(kept), 30,
                       'new lines in the output', [d])
        time.sleep(rnd.uniform(0.05, 0.4))
        d.kill()
        died = time.monotonic()
        now = visible(d, 'api')
        check(kept <= now, '%d lines that were in the output before are '
              'gone after a kill -9' % len(kept - now))
        kept = now
        windows.append((started, died, now))
        d.start()
        lslib.wait_for(lambda: os.path.exists(sock), 30, 'the socket', [d])
    last = snd.sent[-1][0] if snd.sent else -1
    lslib.wait_for(lambda: len(snd.sent) > 0 and snd.sent[-1][0] > last + 200,
                   30, 'more lines after the last restart', [d])
    snd.stop.set()
    snd.join(10)
    sent = {n for n, _ in snd.sent}
    lslib.wait_for(lambda: visible(d, 'api') >= {n for n, t in snd.sent
                                                 if t > windows[-1][1]},
                   60, 'every line sent to the last daemon', [d])
    check(d.stop() == 0, 'exit after SIGTERM:\n' + d.log_tail())
    final = set(lslib.seen_ns(d.output, 'api'))
    # Lost may only be what a daemon had not written when it died.
    in_flight = set()
    for (start, died, seen) in windows:
        in_flight |= {n for n, t in snd.sent if t <= died and n not in seen}
    missing = lslib.check_final(d.output, 'api', sent,
                                allowed_missing=in_flight)
    check(kept <= final, 'committed lines lost')
    print('unix syslog, %d kill -9: %d lines sent, %d kept; %d in flight at '
          'a kill were lost (the kernel accepted them, the daemon died '
          'before writing them)' % (KILLS, len(sent), len(final),
                                    len(missing)))


def stdin_kill(ctx):
    d = lslib.Daemon(ctx, base=ctx.path('stdin'))
    d.config([('piped', {'type': 'stdin', 'rule': 'nginx-combined'})])
    p = d.start(stdin=subprocess.PIPE)
    p.stdin.write(''.join(line(n) + '\n' for n in range(2000)).encode())
    p.stdin.flush()
    lslib.wait_for(lambda: len(visible(d, 'piped')) == 2000, 60,
                   'the first 2000 lines in the output', [d])
    d.kill()
    check(len(visible(d, 'piped')) == 2000, 'lines gone at the kill')
    p = d.start(stdin=subprocess.PIPE)
    p.stdin.write(''.join(line(n) + '\n' for n in range(2000, 3000))
                  .encode())
    p.stdin.close()
    check(d.wait(120) == 0, 'exit at the end of stdin:\n' + d.log_tail())
    lslib.check_final(d.output, 'piped', range(3000))
    print('stdin: 2000 lines committed before a kill -9 kept, 1000 after')


def udp_daemon(ctx, name, env=None, extra=''):
    d = lslib.Daemon(ctx, base=ctx.path(name))
    port = lslib.free_port(socket.SOCK_DGRAM)
    mport = lslib.free_port()
    d.config([('udp', {'type': 'syslog', 'listen': 'udp:127.0.0.1:%d' % port,
                       'rule': 'nginx-combined'})],
             extra='metrics = 127.0.0.1:%d\n%s' % (mport, extra))
    d.start(env=env(d) if env else None)
    lslib.wait_for(lambda: lslib.udp_bound(port), 30, 'the UDP socket', [d])
    lslib.wait_for(lambda: 'metrics on' in d.log(), 30, 'metrics', [d])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return d, s, port, mport


def blocked_daemon(ctx, name, extra=''):
    """A UDP source whose output fails (ENOSPC) until `lift` exists. Each
    datagram sent alone becomes a batch (200 ms flush); once four wait for
    the output every source is paused: later datagrams stay in the socket.
    Returns the daemon, a socket, the port, the lift path and how many
    datagrams were sent (n = 0 ..)."""
    lift = ctx.path(name + '.lift')
    d, s, port, mport = udp_daemon(ctx, name, lambda d: d.fault_env(
        path=d.output + '/*', mode='enospc', ops='write', lift=lift), extra)
    n = 0
    while lslib.metric(lslib.http_get(mport), 'input_paused') != 1:
        check(n < 40 and d.alive(), 'the input was not paused after %d '
              'batches waiting for a blocked output:\n%s'
              % (n, d.log_tail()))
        s.sendto(frame(n), ('127.0.0.1', port))
        n += 1
        time.sleep(0.3)
    text = lslib.http_get(mport)
    check(lslib.metric(text, 'output_blocked') == 1 and
          lslib.metric(text, 'commit_failures_total') >= 1,
          'blocked output: output_blocked %s, commit_failures_total %s'
          % (lslib.metric(text, 'output_blocked'),
             lslib.metric(text, 'commit_failures_total')))
    return d, s, port, lift, n


def sigterm_drains(ctx):
    """SIGTERM while the output is full and datagrams wait in the socket:
    the drain says it waits, and once space is back every datagram the
    kernel accepted is written."""
    d, s, port, lift, first = blocked_daemon(ctx, 'drain')
    for n in range(first, first + 100):
        s.sendto(frame(n), ('127.0.0.1', port))
    d.proc.send_signal(signal.SIGTERM)
    lslib.wait_for(lambda: 'the drain waits' in d.log(), 30,
                   'the drain to say it waits for the output', [d])
    check('a second signal exits at once' in d.log(),
          'the log does not say that a second signal forces the exit:\n'
          + d.log_tail())
    with open(lift, 'w'):
        pass
    check(d.wait(120) == 0, 'exit after SIGTERM:\n' + d.log_tail())
    lslib.check_final(d.output, 'udp', range(first + 100))
    print('SIGTERM with the output full: the drain waited; 100 datagrams '
          'queued in the socket read and written')


def sigterm_twice(ctx):
    """A second SIGTERM ends a drain that waits for blocked output."""
    d = blocked_daemon(ctx, 'twice')[0]
    d.proc.send_signal(signal.SIGTERM)
    lslib.wait_for(lambda: 'the drain waits' in d.log(), 30, 'the drain',
                   [d])
    check(d.alive(), 'exited on the first SIGTERM with the output blocked')
    d.proc.send_signal(signal.SIGTERM)
    try:
        rc = d.proc.wait(30)
    except subprocess.TimeoutExpired:
        lslib.fail('a second SIGTERM did not end the blocked drain')
    check(rc != 0, 'exit status 0 after a forced stop')
    print('a second SIGTERM ended the blocked drain (exit %d)' % rc)


def sigterm_timeout(ctx):
    """stop_timeout ends a drain that waits for blocked output, as a
    second signal would, and says why."""
    d = blocked_daemon(ctx, 'timeout', 'stop_timeout = 2s')[0]
    d.proc.send_signal(signal.SIGTERM)
    lslib.wait_for(lambda: 'the drain waits' in d.log(), 30, 'the drain',
                   [d])
    try:
        rc = d.proc.wait(60)
    except subprocess.TimeoutExpired:
        lslib.fail('stop_timeout = 2s did not end the blocked drain')
    check(rc != 0, 'exit status 0 after a drain cut short')
    check('longer than stop_timeout' in d.log(),
          'the log does not say why the drain ended:\n' + d.log_tail())
    print('stop_timeout ended the blocked drain (exit %d)' % rc)


def udp_drops(ctx):
    d, s, port, mport = udp_daemon(ctx, 'drops')
    d.proc.send_signal(signal.SIGSTOP)
    sent = 20000
    for n in range(sent):
        s.sendto(frame(n), ('127.0.0.1', port))
    d.proc.send_signal(signal.SIGCONT)

    def lost():
        return lslib.metric(lslib.http_get(mport), 'lost_datagrams_total',
                            'udp') or 0
    # The first read after SIGCONT already sees the drops: no new traffic.
    lslib.wait_for(lambda: lost() > 0, 30,
                   'logseal_lost_datagrams_total to count the drops', [d])
    lslib.wait_for(lambda: len(set(lslib.seen_ns(d.output, 'udp'))) +
                   lost() == sent, 60,
                   'received + counted as lost = sent', [d])
    dropped = lost()
    check('the kernel dropped' in d.log(), 'no warning about the drops:\n'
          + d.log_tail())
    check(d.stop() == 0, 'exit after SIGTERM:\n' + d.log_tail())
    missing = lslib.check_final(d.output, 'udp', range(sent),
                                allowed_missing=range(sent))
    check(len(missing) == dropped, '%d missing, %d counted as dropped'
          % (len(missing), dropped))
    print('UDP overflow: %d of %d datagrams dropped by the kernel, all '
          'counted' % (dropped, sent))


def body(ctx):
    lslib.need_daemon(ctx)
    rnd = random.Random(int(os.environ.get('LSL_CRASH_SEED', '2')))
    unix_kills(ctx, rnd)
    stdin_kill(ctx)
    sigterm_drains(ctx)
    sigterm_twice(ctx)
    sigterm_timeout(ctx)
    udp_drops(ctx)


lslib.main(body)
