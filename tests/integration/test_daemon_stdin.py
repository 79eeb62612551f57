#!/usr/bin/env python3
"""logseal run with a stdin source and the stdout sink: every line comes
out exactly once, pseudonymized exactly as `logseal pipe` does it, and the
daemon exits 0 when its only source has ended. With the writer still
attached but quiet, SIGTERM drains at once: the lines sent so far come
out and the daemon exits 0 without waiting for the pipe to close."""
import os
import signal
import subprocess
import threading

import lslib
from lslib import check


def body(ctx):
    d = lslib.Daemon(ctx)
    lines = lslib.gen_lines(20000, seed=7)
    cfg = d.config([('in', {'type': 'stdin', 'rule': d.rule,
                            'sink': 'stdout'})])
    p = d.start(cfg, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(b''.join(ln + b'\n' for ln in lines), timeout=90)
    check(p.returncode == 0, 'exit %d; log:\n%s' % (p.returncode,
                                                    d.log_tail()))
    got = out.splitlines()
    check(len(got) == len(lines),
          '%d lines out for %d in' % (len(got), len(lines)))
    check(got == d.reference(lines), 'output differs from `logseal pipe`')
    check(not any(ln.split()[0] in out for ln in lines[:100]),
          'an original address reached the output')
    log = d.log()
    check('started: config ' + cfg in log, 'no start line:\n' + d.log_tail())
    check('stopped' in log, 'no stop line:\n' + d.log_tail())
    print('ok: %d lines through `logseal run` exactly once' % len(got))
    quiet_writer(d)


def quiet_writer(d):
    lines = lslib.gen_lines(500, seed=9, tag='q')
    cfg = d.config([('in', {'type': 'stdin', 'rule': d.rule,
                            'sink': 'stdout'})], name='quiet.conf')
    r, w = os.pipe()
    p = d.start(cfg, stdin=r, stdout=subprocess.PIPE)
    os.close(r)
    got = []
    reader = threading.Thread(target=lambda: got.extend(p.stdout),
                              daemon=True)
    reader.start()
    try:
        os.write(w, b''.join(ln + b'\n' for ln in lines))
        # Every line read and written: what SIGTERM must not wait for is
        # the writer, which stays attached and quiet.
        lslib.wait_for(lambda: len(got) >= len(lines), 30,
                       'the lines written before SIGTERM', [d])
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            lslib.fail('SIGTERM with a quiet writer on stdin did not stop '
                       'the daemon within 15 s')
    finally:
        os.close(w)
    reader.join(10)
    check(p.returncode == 0, 'exit %d after SIGTERM; log:\n%s'
          % (p.returncode, d.log_tail()))
    check([ln.rstrip(b'\n') for ln in got] == d.reference(lines),
          '%d lines out for %d sent before SIGTERM, or they differ from '
          '`logseal pipe`' % (len(got), len(lines)))
    print('ok: SIGTERM drained a quiet stdin at once (%d lines)' % len(got))
    erased_subject(d)


def erased_subject(d):
    """After `vault erase`, the daemon writes the subject as the erased
    marker (fd00:: for an address field, written in ip6 mode by default)
    and maps it no more: it reads the signed stop list at start."""
    lines = lslib.gen_lines(50, seed=11, tag='e')
    cfg = d.config([('in', {'type': 'stdin', 'rule': d.rule,
                            'sink': 'stdout'})], name='erase.conf')
    addr = lines[0].split()[0].decode()
    r = d.ctx.run(['vault', 'erase', '--keys', d.keys, '--vault', d.vault,
                   '--case', 'DEL-D1', '--subject', addr, '--class', 'ip'])
    check(r.returncode in (4, 5), 'vault erase: exit %d: %s'
          % (r.returncode, lslib.redact(r.stderr)))
    p = d.start(cfg, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(lines[0] + b'\n', timeout=60)
    check(p.returncode == 0, 'exit %d; log:\n%s' % (p.returncode,
                                                    d.log_tail()))
    check(out.startswith(b'fd00:: '),
          'the daemon wrote an erased subject as %r' % out.split()[0])
    print('ok: the daemon writes an erased subject as fd00::')


lslib.main(body)
