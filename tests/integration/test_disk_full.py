#!/usr/bin/env python3
"""logseal run with its output directory on a full disk.

    test_disk_full.py LOGSEAL_BINARY SOURCE_ROOT

The output directory is a 2 MiB tmpfs (needs permission to mount: CI runs
as root; skipped with 77 otherwise, or without `logseal run`). Lines go in
through a stdin source. Once the first lines are in a segment, a filler
file takes all the space; more lines are written, slowly enough that each
is its own batch. logseal must log the write error naming the output
path, keep running, and stop reading (its stdin pipe fills up: the writer
blocks). After the filler is removed every line must be in the finished
segments exactly once, pseudonymized.
"""

import errno
import os
import subprocess
import threading
import time
import uuid

import lslib
from lslib import check

NLINES = 3000
FIRST = 20    # written before the disk is filled
CHUNK = 40    # lines per write while the disk is full
PAUSE = 0.3   # s between chunks: longer than the 200 ms batch flush


def line(n):
    return ('192.0.2.%d - - [29/Nov/2024:17:00:00 +0000] "GET /live/ch1/'
            'seg_%d.ts?device_id=%s&n=%d HTTP/1.1" 200 5 "-" "curl/7.88.1"'
            '\n' % (n % 20 + 1, n, uuid.UUID(int=n % 50), n)).encode()


class Writer(threading.Thread):
    """Writes lines FIRST.. in chunks; `written` is how far it got."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.written = FIRST
        self.error = None

    def run(self):
        try:
            for n in range(FIRST, NLINES, CHUNK):
                last = min(n + CHUNK, NLINES)
                self.pipe.write(b''.join(line(i) for i in range(n, last)))
                self.pipe.flush()
                self.written = last
                time.sleep(PAUSE)
        except OSError as e:
            self.error = e


def mount_tmpfs(path):
    os.makedirs(path)
    p = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs',
                        path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        lslib.skip('cannot mount a tmpfs (needs root): %s'
                % p.stderr.decode(errors='replace').strip())


def fill(path):
    """Take every free byte of the file system holding `path`."""
    with open(path, 'wb', buffering=0) as f:
        for size in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    f.write(b'\0' * size)
            except OSError as e:
                if e.errno not in (errno.ENOSPC, errno.EFBIG):
                    raise


def stalled(w, seconds):
    """True if the writer made no progress for `seconds`."""
    before = w.written
    time.sleep(seconds)
    return w.written == before and w.is_alive()


def body(ctx):
    lslib.need_daemon(ctx)
    out = ctx.path('out')
    mount_tmpfs(out)
    ls = None
    try:
        ls = lslib.Daemon(ctx, output=out)
        ls.config([('piped', {'type': 'stdin', 'rule': 'nginx-combined'})],
                  extra='segment_size = 64M\nlevel = 6')
        ls.start(stdin=subprocess.PIPE)
        ls.proc.stdin.write(b''.join(line(n) for n in range(FIRST)))
        ls.proc.stdin.flush()
        lslib.wait_for(lambda: set(range(FIRST)) <=
                    set(lslib.seen_ns(out, 'piped')), 60,
                    'the first lines in a segment', [ls])
        filler = os.path.join(out, 'filler')
        fill(filler)

        w = Writer(ls.proc.stdin)
        w.start()
        lslib.wait_for(lambda: 'No space left' in ls.log(), 60,
                    'logseal to report the full disk', [ls])
        lslib.wait_for(lambda: stalled(w, 3), 120,
                    'logseal to stop reading (writer blocked)', [ls])
        check(w.written < NLINES, 'every line was accepted while the disk '
              'was full: logseal did not stop reading')
        errs = [ln for ln in ls.log().splitlines() if 'No space left' in ln]
        check(any(out in ln for ln in errs),
              'the disk-full error does not name the output path: %s'
              % ls.log_tail())
        check(ls.alive(), 'logseal exited on a full disk')
        held = w.written
        os.unlink(filler)

        w.join(300)
        check(not w.is_alive() and w.error is None,
              'the writer did not finish after space was freed: %s' % w.error)
        # End of stdin ends the only source: logseal drains and exits.
        ls.proc.stdin.close()
        rc = ls.wait(300)
        check(rc == 0, 'logseal exited %s; log: %s' % (rc, ls.log_tail()))
        text = b''.join(lslib.read_gz(p) for p in lslib.segments(out, 'piped'))
        check(b'192.0.2.' not in text, 'a client address is in clear')
        lslib.check_final(out, 'piped', range(NLINES))
        print('disk full: error logged with the path, reading stopped after '
              '%d of %d lines; after freeing space all %d lines once'
              % (held, NLINES, NLINES))
    finally:
        if ls:
            ls.kill()
        subprocess.run(['umount', out], timeout=60)


lslib.main(body)
