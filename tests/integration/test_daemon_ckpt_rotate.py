#!/usr/bin/env python3
"""Rotating checkpoint.key with the real daemon (segments sink), as an
operator would after a leak:

- `keygen --rotate-checkpoint-key` while the daemon runs: a new key, the
  old one kept as checkpoint.key.old (0600); `run --check` shows the
  checkpoint sealed with the previous key and the old key still needed;
- SIGHUP: the new run opens the old checkpoint, says so, and its next
  commit seals with the new key; no line lost or written twice;
- `run --check` then says the old key is needed by no checkpoint; a
  second rotation is refused while checkpoint.key.old exists;
- checkpoint.key.old readable by others: the start is refused, naming it;
- checkpoint.key.old removed: the daemon goes on from its checkpoint;
- a checkpoint sealed with the retired key (put back from a backup, to
  read lines again) is refused as another key's once checkpoint.key.old
  is gone.
"""
import os
import re
import signal
import subprocess

import lslib
from lslib import check
from test_daemon_ckpt_seal import append, ckpt, run_check


def committed(env, n):
    lslib.wait_for(lambda: re.search(r'\nlines %d\n' % n, ckpt(env)), 60,
                   '%d lines committed' % n, [env])


def key_of(text):
    m = re.search(r'\nkey ([0-9a-f]{16})\n', text)
    check(m is not None, 'no key line in the checkpoint:\n' + text)
    return m.group(1)


def rotate(env):
    return subprocess.run([env.exe, 'keygen', '--dir', env.keys,
                           '--rotate-checkpoint-key'], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def body(ctx):
    env = lslib.Daemon(ctx)
    key = os.path.join(env.keys, 'checkpoint.key')
    old = key + '.old'
    src = os.path.join(env.tmp, 'access.log')
    batches = [lslib.gen_lines(20, seed=i, tag='r%d' % i) for i in range(4)]
    append(src, batches[0])
    env.config([('web', {'type': 'tail', 'path': src, 'rule': env.rule,
                         'start': 'beginning'})])
    p = env.start()
    committed(env, 20)
    first_key = key_of(ckpt(env))

    r = rotate(env)
    check(r.returncode == 0 and first_key in r.stdout,
          'rotation failed: %s%s' % (r.stdout, r.stderr))
    new_key = re.search(r'new key ([0-9a-f]{16})', r.stdout).group(1)
    check(new_key != first_key and os.stat(old).st_mode & 0o777 == 0o600 and
          os.stat(key).st_mode & 0o777 == 0o600,
          'the rotation did not keep the old key 0600 beside a new one')
    # The running daemon still holds the old key: it seals with it.
    append(src, batches[1])
    committed(env, 40)
    retired_ckpt = ckpt(env)
    check(key_of(retired_ckpt) == first_key, 'sealed with a key the running '
          'daemon had not loaded')
    r = run_check(env)
    check(r.returncode == 0 and 'sealed with the previous key' in r.stdout and
          'still needed by 1 checkpoint' in r.stdout,
          '--check does not tell the old key is needed:\n' + r.stdout)

    before = len(env.log())
    p.send_signal(signal.SIGHUP)
    lslib.wait_for(lambda: 'reloaded' in env.log()[before:], 30, 'reloaded',
                   [env])
    check('sealed with the previous checkpoint key' in env.log()[before:],
          'the reload does not say the checkpoint had the old key:\n'
          + env.log_tail())
    append(src, batches[2])
    committed(env, 60)
    check(key_of(ckpt(env)) == new_key, 'the commit after the reload is '
          'not sealed with the new key:\n' + ckpt(env))
    check(env.stop() == 0, 'stop: ' + env.log_tail())

    r = run_check(env)
    check(r.returncode == 0 and 'needed by no checkpoint: remove it'
          in r.stdout, '--check does not clear the old key:\n' + r.stdout)
    r = rotate(env)
    check(r.returncode == 1 and 'checkpoint.key.old exists' in r.stderr,
          'a second rotation is not refused while the old key is kept:\n'
          + r.stdout + r.stderr)

    os.chmod(old, 0o644)
    before = len(env.log())
    env.start()
    check(env.wait(60) != 0 and 'checkpoint.key.old' in env.log()[before:]
          and 'chmod 600' in env.log()[before:],
          'a checkpoint.key.old readable by others is used:\n'
          + env.log_tail())
    os.unlink(old)

    env.start()
    append(src, batches[3])
    committed(env, 80)
    check(env.stop() == 0, 'stop: ' + env.log_tail())
    got = lslib.segment_lines(env.output)
    want = env.reference([ln for b in batches for ln in b])
    check(got == want, 'after the rotation the output holds %d lines, not '
          'the 80 written once each' % len(got))

    # A checkpoint of the retired key put back (from a backup, to read
    # lines again): another key's, refused.
    text = ckpt(env)
    with open(os.path.join(env.state, 'web.ckpt'), 'w') as f:
        f.write(retired_ckpt)
    r = run_check(env)
    check(r.returncode != 0 and 'sealed with another key' in r.stdout,
          '--check takes a checkpoint of the retired key:\n' + r.stdout)
    with open(os.path.join(env.state, 'web.ckpt'), 'w') as f:
        f.write(text)
    r = run_check(env)
    check(r.returncode == 0, '--check refuses the new key\'s checkpoint:\n'
          + r.stdout)


if __name__ == '__main__':
    lslib.main(body)
