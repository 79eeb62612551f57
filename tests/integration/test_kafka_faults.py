#!/usr/bin/env python3
"""The Kafka sink under broker faults, against librdkafka's mock cluster
(over loopback TCP, three brokers):

1. injected request errors (rd_kafka_mock_push_request_errors): produce
   requests refused (the transaction is aborted and its batch sent again:
   logseal_sink_aborts_total grows), EndTxn and AddPartitionsToTxn
   refused with retriable errors;
2. every broker down for seconds: reading pauses (logseal_output_blocked
   is 1, the log says it retries); SIGTERM meanwhile drains: the daemon
   waits for the brokers, commits, and exits 0;
3. the transaction coordinator moved twice while lines flow;
4. fencing: the broker answers the daemon's EndTxn as it answers a
   producer whose epoch a newer daemon with the same transactional id
   bumped; the daemon stops with a message saying so, and a restart goes
   on without loss (the mock cannot fence a zombie by itself: see
   fencing());
5. a start with every broker down waits and retries, then reads.
After 1-5 the committed stream (lslib_kafka.committed) holds every line
once, in order. What the mock cannot show (an aborted transaction hidden
from read_committed readers) is emulated there: see lslib_kafka."""
import os
import re
import signal
import socket
import time

import lslib
import lslib_kafka
from lslib import check

BURST = 300


def append(path, lines):
    with open(path, 'ab') as f:
        f.write(b''.join(ln + b'\n' for ln in lines))


def count(mock):
    recs = lslib_kafka.read_topics(mock, 'logs', lslib_kafka.CKPT_TOPIC)
    return len(lslib_kafka.committed(recs)[0])


def wait_committed(env, mock, n, what):
    have = [0]

    def enough():
        have[0] = count(mock)
        return have[0] >= n
    try:
        lslib.wait_for(enough, 90, what, [env])
    except lslib.Failure as e:
        lslib.fail('%s: %d of %d lines committed; log:\n%s'
                   % (e, have[0], n, env.log_tail()))


def metrics(port):
    return lslib.http_get(port)


def check_once(env, mock, lines):
    recs = lslib_kafka.read_topics(mock, 'logs', lslib_kafka.CKPT_TOPIC)
    got, cut = lslib_kafka.committed(recs)
    nums = [int(re.search(r' (\d+)$', r['value']).group(1)) for r in got]
    check(nums == list(range(len(lines))),
          'committed stream: %d lines, %d distinct, in order: %s (want %d)'
          % (len(nums), len(set(nums)), nums == sorted(nums), len(lines)))
    check([r['value'].encode() for r in got] == env.reference(lines),
          'committed messages differ from `logseal pipe` output')
    return cut


def injected_errors(env, mock, src, lines, port):
    # Produce (0): INVALID_RECORD (87), permanent: the batch's
    # transaction must be aborted. AddPartitionsToTxn (24) and EndTxn (26):
    # CONCURRENT_TRANSACTIONS (51), NOT_COORDINATOR (16), retried by
    # librdkafka inside one commit.
    plan = ['err 0 87 87', 'err 24 51 51', 'err 26 51', 'err 26 16',
            'err 0 87']
    for i, cmd in enumerate(plan):
        mock.cmd(cmd)
        append(src, lines[i * BURST:(i + 1) * BURST])
        wait_committed(env, mock, (i + 1) * BURST,
                       'burst %d after "%s"' % (i, cmd))
    m = metrics(port)
    aborts = lslib.metric(m, 'sink_aborts_total', 'web')
    commits = lslib.metric(m, 'sink_commits_total', 'web')
    check(aborts is not None and aborts >= 1,
          'no aborted transaction after refused produce requests (%s)'
          % aborts)
    check(commits is not None and commits >= len(plan),
          'sink_commits_total %s' % commits)
    check(lslib.metric(m, 'sink_queue_depth', 'web') is not None,
          'no logseal_sink_queue_depth')
    return len(plan) * BURST, aborts


def brokers_down(env, mock, src, cfg, lines, done, port):
    """Every broker down: reading pauses, the log says it retries; SIGTERM
    then drains: the daemon says it waits, and once the brokers are back
    the batch is committed and it exits 0 (each broker round is bounded by
    `timeout`; the drain itself waits, as for a full disk)."""
    mock.cmd('down -1')
    append(src, lines[done:done + BURST])
    lslib.wait_for(lambda: lslib.metric(metrics(port), 'output_blocked') == 1,
                   60, 'logseal_output_blocked = 1 with every broker down',
                   [env])
    check('retrying' in env.log(), 'the log does not say it retries:\n'
          + env.log_tail())
    env.proc.send_signal(signal.SIGTERM)
    lslib.wait_for(lambda: 'drain waits' in env.log(), 30,
                   'the drain to say it waits for the output', [env])
    time.sleep(1)
    check(env.alive(), 'the daemon stopped with uncommitted lines:\n'
          + env.log_tail())
    mock.cmd('up -1')
    try:
        code = env.proc.wait(60)
    except Exception:
        lslib.fail('no exit within 60 s of the brokers coming back:\n'
                   + env.log_tail())
    check(code == 0, 'exit %s after the drain:\n%s' % (code, env.log_tail()))
    check(count(mock) >= done + BURST, 'the drain did not commit the lines '
          'written while every broker was down')
    starts = env.log().count('started:')
    env.start(cfg)
    lslib.wait_for(lambda: env.log().count('started:') > starts, 60,
                   'the restart', [env])
    return done + BURST


def coordinator_moves(env, mock, src, lines, done):
    txid = 'logseal.%s.web' % socket.gethostname()
    for broker in (2, 3):
        mock.cmd('coord %s %d' % (txid, broker))
        append(src, lines[done:done + BURST])
        done += BURST
        wait_committed(env, mock, done, 'lines after the coordinator moved '
                       'to broker %d' % broker)
    return done


def fencing(env, mock, src, cfg, lines, done):
    """The mock cannot fence a zombie: its InitProducerId gives a new
    producer (a restarted daemon) a new producer id instead of bumping the
    epoch of the old one, so the old process could go on committing. What
    it can do is answer the zombie's EndTxn as a broker answers a fenced
    producer (INVALID_PRODUCER_EPOCH, 47): the daemon must stop, say why,
    and a restart must go on without loss or repetition."""
    mock.cmd('err 26 47')
    append(src, lines[done:done + BURST])
    try:
        env.proc.wait(60)
    except Exception:
        lslib.fail('the fenced daemon still runs:\n' + env.log_tail())
    check(env.proc.returncode != 0, 'the fenced daemon exited 0')
    check('took over' in env.log(), 'the fenced daemon does not say '
          'why it stops:\n' + env.log_tail())
    env.start(cfg)
    wait_committed(env, mock, done + BURST, 'the lines after a restart '
                   'that followed fencing')
    return done + BURST


def start_while_down(env, mock, src, cfg, lines, done):
    """A start with every broker down waits (nothing read) and retries;
    once they are back the source is read."""
    check(env.stop() == 0, 'stop: ' + env.log_tail())
    mock.cmd('down -1')
    env.start(cfg)
    lslib.wait_for(lambda: 'cannot start yet' in env.log(), 60,
                   'the start to wait for the brokers', [env])
    append(src, lines[done:done + BURST])
    time.sleep(1)
    mock.cmd('up -1')
    wait_committed(env, mock, done + BURST, 'the lines after a start that '
                   'waited for the brokers')
    return done + BURST


def body(ctx):
    env = lslib.Daemon(ctx)
    mock = lslib_kafka.MockCluster(ctx)
    try:
        src = os.path.join(env.tmp, 'access.log')
        open(src, 'wb').close()
        port = lslib.free_port()
        cfg = env.config(
            [('web', {'type': 'tail', 'path': src, 'start': 'beginning',
                      'rule': env.rule, 'sink': 'kafka'})],
            extra='metrics = 127.0.0.1:%d\n' % port + mock.kafka_section())
        lines = lslib.gen_lines(10 * BURST, seed=4)
        env.start(cfg)
        lslib.wait_for(lambda: 'started:' in env.log(), 60, 'the start',
                       [env])
        done, aborts = injected_errors(env, mock, src, lines, port)
        done = brokers_down(env, mock, src, cfg, lines, done, port)
        done = coordinator_moves(env, mock, src, lines, done)
        done = fencing(env, mock, src, cfg, lines, done)
        done = start_while_down(env, mock, src, cfg, lines, done)
        cut = check_once(env, mock, lines[:done])
        print('ok: %d lines once through refused requests (%d aborts), '
              'brokers down, 2 coordinator moves and a fenced stop (%d '
              'attempts not committed), a start that waited for them'
              % (done, aborts, cut))
    finally:
        env.kill()
        mock.stop()


lslib.main(body)
