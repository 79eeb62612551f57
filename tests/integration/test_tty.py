#!/usr/bin/env python3
"""What an operator sees on a terminal (a pseudo-terminal here).

    test_tty.py LOGSEAL_BINARY SOURCE_ROOT

- `pipe` with stderr on a terminal shows one live status line (lines, MB
  in, MB/s, and % with an ETA for a regular input file), redrawn in place
  and erased before the summary; --no-progress, or stderr not a terminal,
  shows none;
- Ctrl-C at a passphrase prompt (keygen --shares) ends the command with
  the terminal's echo back on.
"""

import fcntl
import os
import select
import signal
import subprocess
import termios
import threading
import time

import lslib
from lslib import check

RULE = 'nginx-combined'
STATUS = b'\rlogseal: pipe: '


def spawn_on_pty(ctx, args, stdout=subprocess.DEVNULL, stdin=None):
    """Run logseal with its controlling terminal (and stderr) a pty."""
    master, slave = os.openpty()

    def setup():
        os.setsid()
        fcntl.ioctl(0 if stdin is None else 2, termios.TIOCSCTTY, 0)
    proc = subprocess.Popen([ctx.exe] + args, stdin=stdin or slave,
                            stdout=stdout, stderr=slave, env=ctx.env,
                            preexec_fn=setup)
    return proc, master, slave


def read_until(master, proc, pred, timeout=60):
    """Bytes from the pty until pred(bytes) or the process ends."""
    got = b''
    end = time.monotonic() + timeout
    while not pred(got):
        check(time.monotonic() < end, 'timed out on the terminal; got %r'
              % lslib.redact(got[-300:]))
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            got += chunk
        elif proc.poll() is not None and not r:
            break
    return got


def progress(ctx, keys, log):
    """The output is a FIFO read only once the status line showed: the
    run is held mid-way, so the line is seen however fast the machine."""
    fifo = ctx.path('hold.fifo')
    os.mkfifo(fifo)
    # Opened for reading (so pipe can open it) but not read yet.
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    proc, master, slave = spawn_on_pty(
        ctx, ['pipe', '--rule', RULE, '--keys', keys, '--vault',
              ctx.path('v-progress'), '--in', log, '--out', fifo],
        stdin=subprocess.DEVNULL)

    def drain():
        os.set_blocking(rfd, True)
        while os.read(rfd, 65536):
            pass
    got = read_until(master, proc, lambda b: b'ETA' in b)
    threading.Thread(target=drain, daemon=True).start()
    got += read_until(master, proc, lambda b: b'new vault entries' in b)
    proc.wait(120)
    os.close(slave)
    os.close(master)
    check(proc.returncode == 0, 'pipe on a terminal: exit %d: %s'
          % (proc.returncode, lslib.redact(got)))
    check(STATUS in got, 'no status line on the terminal: %r'
          % lslib.redact(got[-300:]))
    line = got[got.index(STATUS):]
    line = line[:line.index(b'\x1b[K')]
    for part in (b' lines, ', b' MB in, ', b' MB/s', b'%', b' ETA '):
        check(part in line, 'the status line lacks %r: %r' % (part, line))
    summary = got.index(b'logseal: pipe: 3')
    check(got.rfind(b'\r\x1b[K', 0, summary) > got.rfind(STATUS, 0, summary),
          'the status line is not erased before the summary')

    proc, master, slave = spawn_on_pty(
        ctx, ['pipe', '--rule', RULE, '--keys', keys, '--vault',
              ctx.path('v-np'), '--in', log, '--out', ctx.path('np.gz'),
              '--no-progress'], stdin=subprocess.DEVNULL)
    got = read_until(master, proc, lambda b: b'new vault entries' in b)
    proc.wait(120)
    os.close(slave)
    os.close(master)
    check(STATUS not in got, '--no-progress still drew a status line')

    proc = ctx.run(['pipe', '--rule', RULE, '--keys', keys, '--vault',
                    ctx.path('v-pipe'), '--in', log, '--out',
                    ctx.path('p.gz')])
    check(b'\r' not in proc.stderr and b'MB/s' not in proc.stderr,
          'a status line on stderr that is not a terminal')


def passphrase_interrupt(ctx):
    proc, master, slave = spawn_on_pty(
        ctx, ['keygen', '--dir', ctx.path('share-keys'), '--shares', '3',
              '--threshold', '2'])
    read_until(master, proc, lambda b: b'passphrase for' in b)
    os.write(master, b'\x03')  # Ctrl-C, as the line discipline sends it
    code = proc.wait(60)
    attrs = termios.tcgetattr(slave)
    os.close(slave)
    os.close(master)
    check(code == -signal.SIGINT, 'Ctrl-C at the prompt: exit %d' % code)
    check(attrs[3] & termios.ECHO,
          'Ctrl-C at a passphrase prompt left the terminal without echo')


def body(ctx):
    keys = ctx.keygen()
    log = ctx.path('access.log')
    ctx.genlogs('nginx', 30000, log)
    progress(ctx, keys, log)
    passphrase_interrupt(ctx)
    print('ok: a live status line on a terminal only; echo restored after '
          'Ctrl-C at a passphrase prompt')


lslib.main(body)
