#!/usr/bin/env python3
"""Sealed checkpoints with the real daemon (segments sink):

- a key directory without checkpoint.key (made before it existed): the
  first start makes it, mode 0600, and says so;
- the checkpoint holds no fingerprint in the clear, and `run --check`
  tells where the source resumes ("sealed");
- its offset edited (to skip lines, or to read them again): `run --check`
  and the start refuse it, naming the file ("authentication failed");
- checkpoint.key replaced: refused, "sealed with another key";
  checkpoint.key readable by others: refused, "chmod 600";
- a version 4 checkpoint (unsealed, as logseal wrote it before): taken;
  the source goes on from its offset (no line twice, none lost) and the
  checkpoint is sealed again.
"""
import hashlib
import os
import re
import shutil
import subprocess

import lslib
from lslib import check


def append(path, lines):
    with open(path, 'ab') as f:
        f.write(b''.join(ln + b'\n' for ln in lines))


def ckpt(env):
    try:
        with open(os.path.join(env.state, 'web.ckpt')) as f:
            return f.read()
    except FileNotFoundError:
        return ''


def put_ckpt(env, text):
    with open(os.path.join(env.state, 'web.ckpt'), 'w') as f:
        f.write(text)


def run_check(env):
    return subprocess.run([env.exe, 'run', '--config', env.conf, '--check'],
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def refused(env, why, words):
    r = run_check(env)
    check(r.returncode != 0 and words in r.stdout,
          '--check accepts a %s:\n%s%s' % (why, r.stdout, r.stderr))
    before = len(env.log())
    env.start()
    rc = env.wait(60)
    log = env.log()[before:]
    check(rc != 0 and words in log and 'web.ckpt' in log,
          'the start accepts a %s (exit %s):\n%s'
          % (why, rc, env.log_tail()))


def run_until(env, n):
    env.start()
    lslib.wait_for(lambda: re.search(r'\nlines %d\n' % n, ckpt(env)), 60,
                   '%d lines committed' % n, [env])
    check(env.stop() == 0, 'stop: ' + env.log_tail())


def b2(data):
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def version4(env, src, lines):
    """The checkpoint logseal wrote before version 5 for `src` read to its
    end: plain text, unkeyed fingerprints."""
    plain = dict(ln.split(' ', 1) for ln in ckpt(env).splitlines()
                 if not ln.startswith(('key ', 'sealed ')))
    with open(src, 'rb') as f:
        data = f.read()
    head = min(len(data), 1024)
    ends = [i + 1 for i in range(head - 1) if data[i] == 0x0a][:16]
    plain.update(version='4', offset=str(len(data)), lines=str(lines),
                 fp_len=str(head), fp=b2(data[:head]), end_len=str(head),
                 end_fp=b2(data[-head:]), done='',
                 heads=','.join('%d.%s' % (n, b2(data[:n])) for n in ends))
    order = ('version dev ino fp_len btime fp mtime end_len end_fp offset '
             'in_line segment segment_len lines done deleted heads').split()
    return ''.join('%s %s\n' % (k, plain[k]) for k in order)


def body(ctx):
    env = lslib.Daemon(ctx)
    key = os.path.join(env.keys, 'checkpoint.key')
    os.unlink(key)  # a key directory from before checkpoint.key
    src = os.path.join(env.tmp, 'access.log')
    first = lslib.gen_lines(30, seed=1, tag='a')
    append(src, first)
    env.config([('web', {'type': 'tail', 'path': src, 'rule': env.rule,
                         'start': 'beginning'})])
    run_until(env, 30)
    check(os.stat(key).st_mode & 0o777 == 0o600 and
          'checkpoint.key: created' in env.log(),
          'the first start did not make checkpoint.key 0600 and say so')
    text = ckpt(env)
    check(not re.search(r'(?m)^(fp|end_fp|heads|done) ', text) and
          re.search(r'\nsealed \S+\n$', text),
          'the checkpoint is not sealed:\n' + text)
    r = run_check(env)
    check(r.returncode == 0 and 'lines committed, sealed' in r.stdout,
          '--check does not tell the sealed checkpoint:\n' + r.stdout)

    put_ckpt(env, re.sub(r'\noffset \d+\n', '\noffset 0\n', text))
    refused(env, 'checkpoint with an edited offset', 'authentication failed')

    put_ckpt(env, text)
    shutil.move(key, key + '.mine')
    with open(key, 'wb') as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(b'LSLCKEY1' + os.urandom(32))
    refused(env, 'checkpoint of another key', 'sealed with another key')
    os.chmod(key + '.mine', 0o644)
    shutil.move(key + '.mine', key)
    before = len(env.log())
    env.start()
    check(env.wait(60) != 0 and 'chmod 600' in env.log()[before:],
          'a checkpoint.key readable by others is used:\n' + env.log_tail())
    os.chmod(key, 0o600)

    # The upgrade: version 4 text, taken as it is, sealed at the next commit.
    put_ckpt(env, version4(env, src, 30))
    r = run_check(env)
    check(r.returncode == 0 and 'unsealed' in r.stdout,
          '--check does not take the version 4 checkpoint:\n' + r.stdout)
    second = lslib.gen_lines(20, seed=2, tag='b')
    append(src, second)
    run_until(env, 50)
    check('\nsealed ' in ckpt(env), 'not sealed after the upgrade:\n'
          + ckpt(env))
    got = lslib.segment_lines(env.output)
    check(got == env.reference(first + second), 'after the upgrade the '
          'output holds %d lines, not the 50 written once each' % len(got))


if __name__ == '__main__':
    lslib.main(body)
