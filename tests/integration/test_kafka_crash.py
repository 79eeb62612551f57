#!/usr/bin/env python3
"""Kafka exactly once across kill -9: a tailed file is appended to and
rotated (access.log -> .1 -> .2 ...) while the daemon, writing to
librdkafka's mock cluster over loopback TCP, is killed with SIGKILL at
random moments, again and again (also during its start: fencing the
previous producer, reading its checkpoint back), with broker faults in
between: produce and EndTxn requests refused, every broker down for a
second, the transaction coordinator moved. After a last run drained
by SIGTERM, the committed stream (lslib_kafka.committed: what a
read_committed consumer of a real broker reads; the mock itself does not
hide aborted attempts) holds every input line exactly once, pseudonymized
as `logseal pipe` does it, in input order on its one partition (key
host/source); no original address or user id is in any message, key,
header, or the daemon's log; the tokens in Kafka unseal from the vault.

LSL_KAFKA_KILLS (default 22) and LSL_CRASH_SEED vary the run."""
import os
import random
import re
import signal
import socket
import threading
import time

import lslib
import lslib_kafka
from lslib import check

N = 8000
KILLS = int(os.environ.get('LSL_KAFKA_KILLS', '22'))


def writer(path, lines, done, stop):
    """Append in bursts; rotate now and then (never deleting a file)."""
    rnd = random.Random(7)
    i, rotations = 0, 0
    while i < len(lines) and not stop.is_set():
        k = rnd.randrange(50, 400)
        with open(path, 'ab') as f:
            f.write(b''.join(ln + b'\n' for ln in lines[i:i + k]))
        i += k
        if rnd.random() < 0.08:
            rotations += 1
            for n in range(rotations, 0, -1):
                old = '%s.%d' % (path, n)
                if os.path.exists(old):
                    os.rename(old, '%s.%d' % (path, n + 1))
            os.rename(path, path + '.1')
            open(path, 'wb').close()
        time.sleep(rnd.uniform(0.02, 0.12))
    done.append(rotations)


def fault(mock, rnd, i, alive):
    """While the daemon of round i lives for `alive` seconds, one broker
    fault now and then: produce or EndTxn requests refused, every broker
    down for a second, the transaction coordinator moved."""
    kind = i % 6
    if kind == 1:
        mock.cmd('err 0 87')         # Produce: INVALID_RECORD (abort)
    elif kind == 2:
        mock.cmd('err 26 51 51')     # EndTxn: CONCURRENT_TRANSACTIONS
    elif kind == 3:
        mock.cmd('coord logseal.%s.web %d'
                 % (socket.gethostname(), rnd.randrange(1, 4)))
    elif kind == 4 and alive > 1.2:
        mock.cmd('down -1')
        time.sleep(1.0)
        mock.cmd('up -1')
        alive -= 1.0
    time.sleep(alive)


def numbers(records):
    out = []
    for r in records:
        m = re.search(rb' (\d+)$', r['value'].encode())
        check(m, 'a message without its line number: %r' % r['value'][:80])
        out.append(int(m.group(1)))
    return out


def check_stream(env, mock, lines):
    records = lslib_kafka.read_topics(mock, 'logs', lslib_kafka.CKPT_TOPIC)
    got, cut = lslib_kafka.committed(records)
    want = env.reference(lines)
    nums = numbers(got)
    dup = len(nums) - len(set(nums))
    missing = sorted(set(range(len(lines))) - set(nums))
    check(dup == 0 and not missing,
          '%d lines missing (first %s), %d repeated in the committed stream'
          % (len(missing), missing[:10], dup))
    check(nums == sorted(nums), 'the committed stream is out of order at '
          'line %s' % next((b for a, b in zip(nums, nums[1:]) if b < a), None))
    check([r['value'].encode() for r in got] == want,
          'committed messages differ from `logseal pipe` output')
    keys = {(r['key'], r['partition']) for r in got}
    check(len(keys) == 1, 'one key, one partition expected: %s' % keys)
    return records, cut


def check_no_originals(env, records, lines):
    originals = set()
    for ln in lines:
        ip, user = ln.decode().split(' ')[:2]
        originals.update((ip, user))
    blob = '\n'.join(r['value'] + ' ' + r['key'] + ' ' +
                     ' '.join(r['headers'].values()) for r in records)
    words = set(re.findall(r'[\w.]+', blob)) | set(
        re.findall(r'[\w.]+', env.log()))
    leaked = originals & words
    check(not leaked, '%d original identifiers in Kafka or the log, e.g. %s'
          % (len(leaked), sorted(leaked)[:3]))


def check_unsealable(ctx, env, records):
    """No token reached Kafka without its mapping sealed in the vault: a
    sample of the committed stream's tokens (uncommitted attempts too)
    unseals to the generator's values."""
    tokens = sorted({t for r in records
                     for t in lslib.TOKEN_RE.findall(r['value'])})
    sample = random.Random(2).sample(tokens, min(400, len(tokens)))
    # kill -9 leaves vault files cut short: unseal says so (exit 3) and
    # still reads every intact chunk; `vault repair` would finish them.
    proc, res = ctx.unseal(env.keys, env.vault, sample)
    check(proc.returncode in (0, 3), 'unseal: exit %d: %s'
          % (proc.returncode, lslib.redact(proc.stderr.decode())))
    missing = [t for t in sample if not isinstance(res.get(t), tuple)]
    check(sample and not missing, '%d of %d tokens in Kafka have no vault '
          'record, e.g. %s' % (len(missing), len(sample), missing[:3]))


def body(ctx):
    env = lslib.Daemon(ctx)
    mock = lslib_kafka.MockCluster(ctx)
    stop = threading.Event()
    try:
        rnd = random.Random(int(os.environ.get('LSL_CRASH_SEED', '1')))
        src = os.path.join(env.tmp, 'access.log')
        open(src, 'wb').close()
        cfg = env.config([('web', {'type': 'tail', 'path': src,
                                   'start': 'beginning', 'rule': env.rule,
                                   'sink': 'kafka', 'rotate_wait': '200ms'})],
                         extra=mock.kafka_section())
        lines = lslib.gen_lines(N, seed=3)
        done = []
        t = threading.Thread(target=writer, args=(src, lines, done, stop),
                             daemon=True)
        for i in range(KILLS):
            p = env.start(cfg)
            if i == 0:
                # A first run follows the file there is when it starts:
                # rotations before that are not its input.
                lslib.wait_for(lambda: os.path.exists(os.path.join(
                    env.state, 'web.ckpt')), 60, 'the first checkpoint',
                    [env])
                t.start()
            fault(mock, rnd, i, rnd.uniform(0.1, 2.5))
            check(p.poll() is None, 'daemon exited by itself (%s) in round '
                  '%d:\n%s' % (p.returncode, i, env.log_tail()))
            p.send_signal(signal.SIGKILL)
            p.wait()
        t.join(120)
        check(done, 'the writer did not finish')
        env.start(cfg)

        have = [0]

        def all_in():
            recs = lslib_kafka.read_topics(mock, 'logs',
                                           lslib_kafka.CKPT_TOPIC)
            have[0] = len(lslib_kafka.committed(recs)[0])
            return have[0] >= N
        try:
            lslib.wait_for(all_in, 120, 'every line committed after the '
                           'last restart', [env])
        except lslib.Failure as e:
            lslib.fail('%s: %d of %d lines committed; log:\n%s'
                       % (e, have[0], N, env.log_tail()))
        check(env.stop() == 0, 'exit after SIGTERM:\n' + env.log_tail())
        records, cut = check_stream(env, mock, lines)
        check_no_originals(env, records, lines)
        check_unsealable(ctx, env, records)
        print('ok: %d kill -9 restarts, %d rotations, %d lines exactly once '
              'in the committed stream (%d attempts cut off or aborted)'
              % (KILLS, done[0], N, cut))
    finally:
        stop.set()
        env.kill()
        mock.stop()


lslib.main(body)
