#!/usr/bin/env python3
"""Rotating checkpoint.key on a host that keeps its checkpoints in Kafka
(the real daemon, librdkafka's mock cluster):

1. rotated between two runs: the start resumes from the record sealed
   with the old key (checkpoint.key.old), the next record is sealed with
   the new key, and the data topic holds every line once;
2. checkpoint.key.old removed while the topic still holds the old key's
   records before the new ones (compaction has not run): they are skipped
   with a warning, the start resumes from the latest, no line twice;
3. a record of a key no longer held written after the latest (an old
   record replayed by whoever kept it): the start is refused, naming the
   record, rather than resuming before it or skipping it.
"""
import os
import re

import lslib
import lslib_kafka
from lslib import check
from test_daemon_ckpt_rotate import key_of, rotate
from test_kafka_seal import config, forge, last_record, records, run_lines


def body(ctx):
    env = lslib.Daemon(ctx)
    src = env.src = os.path.join(env.tmp, 'access.log')
    open(src, 'wb').close()
    mock = lslib_kafka.MockCluster(ctx)
    try:
        cfg = config(env, mock, src)
        run_lines(env, cfg, src, lslib.gen_lines(30, seed=1, tag='a'), 30)
        retired = last_record(mock)
        r = rotate(env)
        check(r.returncode == 0, 'rotation: ' + r.stdout + r.stderr)
        new_key = re.search(r'new key ([0-9a-f]{16})', r.stdout).group(1)

        run_lines(env, cfg, src, lslib.gen_lines(20, seed=2, tag='b'), 50)
        check(key_of(last_record(mock)) == new_key and
              key_of(retired) != new_key, 'the record after the rotation '
              'is not sealed with the new key')
        data = lslib_kafka.read_topics(mock, 'logs')
        check(len(data) == 50, 'across the rotation the data topic holds '
              '%d lines, not the 50 written once each' % len(data))

        os.unlink(os.path.join(env.keys, 'checkpoint.key.old'))
        check(len(records(mock)) > 2, 'too few records to test skipping')
        before = len(env.log())
        run_lines(env, cfg, src, lslib.gen_lines(10, seed=3, tag='c'), 60)
        check('does not hold' in env.log()[before:], 'the old key\'s '
              'records are not skipped with a warning:\n' + env.log_tail())
        data = lslib_kafka.read_topics(mock, 'logs')
        check(len(data) == 60, 'with the old key gone the data topic holds '
              '%d lines, not the 60 written once each' % len(data))

        before = len(env.log())
        env.start(forge(env, mock, [last_record(mock), retired], 'stale'))
        check(env.wait(60) != 0, 'the daemon started with a record of a '
              'retired key after the latest')
        check(re.search(r'latest checkpoint record of \S+ \(partition \d+ '
                        r'offset 1\)', env.log()[before:]),
              'the refusal does not name the record:\n' + env.log_tail())
    finally:
        mock.stop()


if __name__ == '__main__':
    lslib.main(body)
