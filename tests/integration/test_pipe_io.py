#!/usr/bin/env python3
"""`logseal pipe` pointed at real-world inputs and outputs.

    test_pipe_io.py LOGSEAL_BINARY SOURCE_ROOT

- gzip input (a rotated access.log.1.gz; several members): the same text
  out as from the plain file, from --in and from stdin; a file cut short,
  or junk after a member, fails (exit 1) naming the file and the byte, and
  leaves the output as .part;
- --out a FIFO: written in place (a reader gets the gzip stream), still a
  FIFO afterwards; a character device (a private node of /dev/null's
  kind, when root may make one) stays a device; a symbolic link is
  refused, link and target untouched; a directory is refused; a planted
  FILE.part link is removed, never followed; '-' is stdout, no '-.part';
- --out follows the name: x.jsonl, x.log and x.txt are plain text (the
  same bytes as stdout), x.jsonl.gz and a name without an extension gzip;
- SIGUSR1 prints the counters so far and the run goes on to the end.
"""

import gzip
import os
import signal
import stat
import subprocess
import threading
import time

import lslib
from lslib import check

RULE = 'nginx-combined'


def plain_out(ctx, keys, src):
    proc, _ = ctx.pipe(RULE, keys, ctx.path('v-plain'), src=src, out='-')
    return proc.stdout


def gzip_input(ctx, keys, log, want):
    data = open(log, 'rb').read()
    half = data.index(b'\n', len(data) // 2) + 1
    gz = ctx.path('access.log.1.gz')
    with open(gz, 'wb') as f:  # two members, as `cat a.gz b.gz` makes
        f.write(gzip.compress(data[:half]) + gzip.compress(data[half:]))
    proc, summ = ctx.pipe(RULE, keys, ctx.path('v-gz'), src=gz, out='-')
    check(proc.stdout == want, '--in FILE.gz: output differs from the plain '
          'file\'s (%d vs %d bytes)' % (len(proc.stdout), len(want)))
    with open(gz, 'rb') as f:
        proc = ctx.run(['pipe', '--rule', RULE, '--keys', keys, '--vault',
                        ctx.path('v-gz2')], input=f.read())
    ctx.expect(proc, 0, 'gzip on stdin')
    check(proc.stdout == want, 'gzip on stdin: output differs')

    blob = open(gz, 'rb').read()
    for name, bad, what in (('cut.gz', blob[:len(blob) * 2 // 3],
                             'cut short'),
                            ('junk.gz', blob + b'not gzip\n', 'damaged')):
        path = ctx.path(name)
        with open(path, 'wb') as f:
            f.write(bad)
        out = ctx.path(name + '.out.gz')
        proc = ctx.run(['pipe', '--rule', RULE, '--keys', keys, '--vault',
                        ctx.path('v-' + name), '--in', path, '--out', out])
        err = proc.stderr.decode()
        ctx.expect(proc, 1, name)
        check(path in err and what in err and 'compressed byte' in err,
              '%s: the error does not name the file, the damage and the '
              'byte: %s' % (name, lslib.redact(err)))
        check(not os.path.exists(out) and os.path.exists(out + '.part'),
              '%s: output renamed into place despite damaged input' % name)


def fifo_out(ctx, keys, log, want):
    fifo = ctx.path('out.fifo')
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(
        target=lambda: got.append(open(fifo, 'rb').read()), daemon=True)
    reader.start()
    ctx.pipe(RULE, keys, ctx.path('v-fifo'), src=log, out=fifo)
    reader.join(60)
    if not got and stat.S_ISFIFO(os.lstat(fifo).st_mode):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # free it
    check(got and gzip.decompress(got[0]) == want,
          '--out FIFO: the reader did not get the gzip stream')
    check(stat.S_ISFIFO(os.lstat(fifo).st_mode),
          '--out FIFO: the FIFO was replaced by a regular file')
    check(not os.path.exists(fifo + '.part'), '--out FIFO: a .part appeared')


def device_out(ctx, keys, log):
    if os.geteuid() != 0:
        print('skip: --out character device (needs root to make a node)')
        return
    node = ctx.path('null')
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    ctx.pipe(RULE, keys, ctx.path('v-dev'), src=log, out=node)
    check(stat.S_ISCHR(os.lstat(node).st_mode),
          '--out character device: the device node was replaced')


def refused_outs(ctx, keys, log):
    target = ctx.path('precious.txt')
    with open(target, 'w') as f:
        f.write('keep me\n')
    link = ctx.path('link.gz')
    os.symlink(target, link)
    proc = ctx.run(['pipe', '--rule', RULE, '--keys', keys, '--vault',
                    ctx.path('v-link'), '--in', log, '--out', link])
    ctx.expect(proc, 1, '--out symlink')
    check(b'symbolic link' in proc.stderr, '--out symlink: no reason given')
    check(os.path.islink(link) and os.readlink(link) == target and
          open(target).read() == 'keep me\n',
          '--out symlink: the link or its target changed')
    proc = ctx.run(['pipe', '--rule', RULE, '--keys', keys, '--vault',
                    ctx.path('v-dir'), '--in', log, '--out', ctx.tmp])
    ctx.expect(proc, 1, '--out directory')

    out = ctx.path('planted.gz')
    os.symlink(target, out + '.part')
    ctx.pipe(RULE, keys, ctx.path('v-planted'), src=log, out=out)
    check(open(target).read() == 'keep me\n',
          'a planted FILE.part link was followed: its target changed')
    check(os.path.isfile(out) and not os.path.islink(out),
          'output not written after removing a planted .part')


def dash_out(ctx, keys, log, want):
    proc = subprocess.run(
        [ctx.exe, 'pipe', '--rule', RULE, '--keys', keys, '--vault',
         ctx.path('v-dash'), '--in', log, '--out', '-'],
        cwd=ctx.tmp, env=ctx.env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=300)
    ctx.expect(proc, 0, '--out -')
    check(proc.stdout == want, '--out -: stdout is not the plain text')
    check(not os.path.exists(ctx.path('-.part')) and
          not os.path.exists(ctx.path('-')), '--out - made a file')


def catches(pid, sig):
    """True once process pid has a handler for sig (/proc SigCgt)."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('SigCgt:'):
                return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


def wait_until(cond, what, timeout=60):
    end = time.monotonic() + timeout
    while not cond():
        check(time.monotonic() < end, 'timed out waiting for ' + what)
        time.sleep(0.02)


def usr1(ctx, keys, log, want):
    data = open(log, 'rb').read()
    proc = subprocess.Popen(
        [ctx.exe, 'pipe', '--rule', RULE, '--keys', keys, '--vault',
         ctx.path('v-usr1')], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=ctx.env)
    err, out = [], []

    def read_err():
        for chunk in iter(lambda: proc.stderr.read1(4096), b''):
            err.append(chunk)
    threading.Thread(target=read_err, daemon=True).start()
    oreader = threading.Thread(target=lambda: out.append(proc.stdout.read()))
    oreader.start()
    half = data.index(b'\n', len(data) // 2) + 1
    proc.stdin.write(data[:half])
    proc.stdin.flush()
    wait_until(lambda: proc.poll() is not None or
               catches(proc.pid, signal.SIGUSR1), 'the SIGUSR1 handler')
    proc.send_signal(signal.SIGUSR1)
    wait_until(lambda: proc.poll() is not None or
               b'counters: source stdin: lines_in' in b''.join(err),
               'the counters')
    check(proc.poll() is None, 'pipe died on SIGUSR1: exit %s'
          % proc.returncode)
    proc.stdin.write(data[half:])
    proc.stdin.close()
    code = proc.wait(120)
    oreader.join(30)
    check(code == 0, 'pipe after SIGUSR1: exit %d' % code)
    check(out[0] == want, 'pipe after SIGUSR1: output differs')


def named_outs(ctx, keys, log, want):
    """The output's name says plain or gzip (x.jsonl was gzip)."""
    for name, gz in (('x.jsonl', False), ('x.log', False), ('x.txt', False),
                     ('x.log.gz', True), ('x-out', True)):
        out = ctx.path(name)
        ctx.pipe(RULE, keys, ctx.path('v-' + name), src=log, out=out)
        with open(out, 'rb') as f:
            data = f.read()
        check(data[:2] == b'\x1f\x8b' if gz else data == want,
              '--out %s: %s expected' % (name, 'gzip' if gz else
                                         'plain text equal to stdout\'s'))
        if gz:
            check(gzip.decompress(data) == want,
                  '--out %s: decompresses to other text' % name)


def body(ctx):
    keys = ctx.keygen()
    log = ctx.path('access.log')
    ctx.genlogs('nginx', 3000, log)
    want = plain_out(ctx, keys, log)
    gzip_input(ctx, keys, log, want)
    fifo_out(ctx, keys, log, want)
    device_out(ctx, keys, log)
    refused_outs(ctx, keys, log)
    dash_out(ctx, keys, log, want)
    named_outs(ctx, keys, log, want)
    usr1(ctx, keys, log, want)
    print('ok: gzip input, --out FIFO/device/symlink/-, SIGUSR1')


lslib.main(body)
