#!/usr/bin/env python3
"""A writer of the checkpoint topic against sealed checkpoints, with the
real daemon and librdkafka's mock cluster (tests/tools/kafka_mock.c
produces the hostile records, as any client with Write there could):

1. the daemon's records hold no fingerprint in the clear (no `fp`,
   `end_fp`, `heads` or `done` line; a `sealed` one);
2. a sealed record with its offset edited: the start is refused, naming
   the partition and offset, "authentication failed";
3. a sealed record naming another transactional id: refused;
4. an unsealed record (version 4, as a logseal before checkpoint version
   5 wrote) that the local copy does not hold: refused, "not trusted";
5. an older genuine record written again after the latest (a replay, to
   move the resume point back): ignored with a warning, no line sent
   twice;
6. the same unsealed record as in 4 when the local STATE/web.ckpt says the
   same (right after an upgrade): taken; the daemon goes on from its
   offset, and the local copy is sealed again.
"""
import hashlib
import os
import re

import lslib
import lslib_kafka
from lslib import check

CKPT = lslib_kafka.CKPT_TOPIC
TXID = 'logseal.h1.web'


def config(env, mock, src, topic=CKPT):
    return env.config([('web', {'type': 'tail', 'path': src,
                                'rule': env.rule, 'sink': 'kafka',
                                'start': 'beginning'})],
                      extra='host = h1\n' + mock.kafka_section(
                          extra='checkpoint_topic = ' + topic),
                      name=topic + '.conf')


def records(mock, topic=CKPT):
    recs = [r['value'] for r in lslib_kafka.read_topics(mock, topic)
            if r['key'] == TXID]
    check(recs, 'no checkpoint record of %s' % TXID)
    return recs


def last_record(mock, topic=CKPT):
    return records(mock, topic)[-1]


def forge(env, mock, values, name):
    """A checkpoint topic of its own holding only `values` (a record, or
    a list of them in order): the config that reads it."""
    mock.cmd('topic ck.%s 1' % name)
    for i, value in enumerate([values] if isinstance(values, str)
                              else values):
        path = os.path.join(env.tmp, '%s.%d' % (name, i))
        with open(path, 'w') as f:
            f.write(value)
        mock.cmd('produce ck.%s %s %s' % (name, TXID, path))
    return config(env, mock, env.src, 'ck.' + name)


def refused(env, cfg, why):
    env.start(cfg)
    rc = env.wait(60)
    log = env.log()
    check(rc != 0, 'the daemon started on a %s' % why)
    check(re.search(r'checkpoint topic .* partition \d+ offset \d+', log) or
          'not trusted' in log, 'the refusal of a %s names no record:\n%s'
          % (why, env.log_tail()))
    return log


def run_lines(env, cfg, src, lines, want):
    env.start(cfg)
    with open(src, 'ab') as f:
        f.write(b''.join(ln + b'\n' for ln in lines))
    try:
        lslib.wait_for(lambda: committed(env) >= want, 60,
                       '%d lines committed' % want, [env])
    except lslib.Failure as e:
        lslib.fail('%s; checkpoint:\n%s\nlog:\n%s'
                   % (e, ckpt_text(env), env.log_tail()))
    check(env.stop() == 0, 'stop: ' + env.log_tail())


def committed(env):
    m = re.search(r'\nlines (\d+)\n', ckpt_text(env))
    return int(m.group(1)) if m else 0


def ckpt_text(env):
    try:
        with open(os.path.join(env.state, 'web.ckpt')) as f:
            return f.read()
    except FileNotFoundError:
        return ''


def b2(data):
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def unsealed_v4(sealed, src, lines):
    """The version 4 record an older logseal wrote for `src` read to its
    end: the plain part of a sealed one, and the fingerprints (unkeyed
    BLAKE2b-128, as version 4 had them) of the file's bytes."""
    head, _, body = sealed.partition('version 5\n')
    keys = dict(ln.split(' ', 1) for ln in body.splitlines()
                if ln and not ln.startswith(('key ', 'sealed ')))
    with open(src, 'rb') as f:
        data = f.read()
    fp_len, end_len = min(len(data), 1024), min(len(data), 1024)
    ends = [i + 1 for i in range(fp_len - 1) if data[i] == 0x0a][:16]
    keys.update(version='4', offset=str(len(data)), lines=str(lines),
                fp_len=str(fp_len), fp=b2(data[:fp_len]),
                end_len=str(end_len), end_fp=b2(data[-end_len:]), done='',
                heads=','.join('%d.%s' % (n, b2(data[:n])) for n in ends))
    order = ('version dev ino fp_len btime fp mtime end_len end_fp offset '
             'in_line segment segment_len lines done deleted heads').split()
    return head + ''.join('%s %s\n' % (k, keys[k]) for k in order)


def body(ctx):
    env = lslib.Daemon(ctx)
    src = env.src = os.path.join(env.tmp, 'access.log')
    open(src, 'wb').close()
    mock = lslib_kafka.MockCluster(ctx)
    try:
        cfg = config(env, mock, src)
        run_lines(env, cfg, src, lslib.gen_lines(40, seed=3, tag='a'), 40)
        good = last_record(mock)
        for key in ('fp', 'end_fp', 'heads', 'done'):
            check(not re.search(r'(^|\n)%s ' % key, good),
                  'a checkpoint record holds `%s` in the clear:\n%s'
                  % (key, good))
        check('\nsealed ' in good and '\nversion 5\n' in good,
              'the checkpoint record is not sealed:\n' + good)

        edited = re.sub(r'\noffset \d+\n', '\noffset 1\n', good)
        log = refused(env, forge(env, mock, edited, 'edited'),
                      'sealed record with an edited offset')
        check('authentication failed' in log, 'an edited record is not '
              'refused as altered:\n' + env.log_tail())

        moved = good.replace('kafka:logseal.h1.web', 'kafka:logseal.h1.api')
        refused(env, forge(env, mock, moved, 'moved'),
                'record naming another transactional id')

        # A replay: the first record (offset 0) written after the latest.
        first = records(mock)[0]
        check(re.search(r'\nlines 0\n', first), 'the first record is not '
              'the one at the start:\n' + first)
        before = len(env.log())
        run_lines(env, forge(env, mock, [good, first], 'replay'), src,
                  lslib.gen_lines(10, seed=5, tag='r'), 50)
        check('an older record written again; ignored' in
              env.log()[before:], 'the replayed record is not ignored '
              'with a warning:\n' + env.log_tail())
        data = lslib_kafka.read_topics(mock, 'logs')
        check(len(data) == 50, 'after a replayed record the data topic '
              'holds %d lines, not the 50 written once each' % len(data))
        good = last_record(mock, 'ck.replay')

        local = ckpt_text(env)
        v4 = unsealed_v4(good, src, 50)
        refused(env, forge(env, mock, v4, 'v4'), 'forged unsealed record')
        check('not trusted' in env.log(), 'the unsealed record is not '
              'refused as untrusted:\n' + env.log_tail())
        check(ckpt_text(env) == local, 'a refused start changed the local '
              'checkpoint')

        # The upgrade: the local copy holds the same unsealed checkpoint;
        # the daemon goes on from its offset (nothing read twice).
        with open(os.path.join(env.state, 'web.ckpt'), 'w') as f:
            f.write(v4.partition('\n')[2].partition('\n')[2])
        more = lslib.gen_lines(20, seed=4, tag='b')
        run_lines(env, config(env, mock, src, 'ck.v4'), src, more, 70)
        check('\nlines 70\n' in ckpt_text(env) and
              '\nsealed ' in ckpt_text(env), 'after the upgrade the local '
              'copy is not sealed, or does not count 70 lines:\n'
              + ckpt_text(env))
        check('\nsealed ' in last_record(mock, 'ck.v4'), 'the record after '
              'the upgrade is not sealed')
        data = lslib_kafka.read_topics(mock, 'logs')
        check(len(data) == 70, 'the data topic holds %d lines, not the 70 '
              'written once each' % len(data))
    finally:
        mock.stop()


if __name__ == '__main__':
    lslib.main(body)
