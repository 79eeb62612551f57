"""The part of lslib for the Kafka sink: librdkafka's mock cluster as a
process (MockCluster, tests/tools/kafka_mock.c), the read_committed reader
(read_topics, tests/tools/kafka_read.c), and committed(), which rebuilds
what a consumer of a real broker would see.

What the mock can and cannot show (librdkafka 2.0.2): it implements the
transactional producer's protocol (InitProducerId with epoch bumps and the
fencing of an older epoch, AddPartitionsToTxn, EndTxn, idempotent
sequences, injected errors, brokers going down, coordinator moves), but it
writes no commit/abort markers and answers Fetch with the end offset as the
last stable offset: records of aborted or unfinished transactions are
visible to read_committed readers too. So committed() emulates
read_committed from what the sink writes for that purpose: every message
carries lsl.txn = "SEQ/NONCE" (the transaction's sequence number, a random
nonce of the attempt), and every transaction ends with a record on the
checkpoint topic carrying the same header. An attempt counts as committed
when its checkpoint record is the last one with its sequence number; its
lines are the records with its tag. The daemon resumes from the same view
(the last checkpoint record of its transactional id), so the test checks
that the stream a reader rebuilds this way holds every line once, in order.
What only a real broker shows: that read_committed hides an aborted
attempt (here it is hidden by committed()), and that the daemon's start-up
read skips a checkpoint of an aborted attempt (here the daemon trusts it,
and so does committed(): consistent, but the abort itself is emulated).

Tests import lslib_kafka; it uses lslib's helpers (check, fail,
wait_for).
"""

import os
import subprocess

import lslib

CKPT_TOPIC = 'logseal.checkpoints'


class MockCluster:
    """kafka_mock running until stop(); `bootstrap` is its address list.
    cmd() sends one command (see kafka_mock.c) and waits for its answer."""

    def __init__(self, ctx, brokers=3, topics=(('logs', 3), (CKPT_TOPIC, 1))):
        exe = os.environ.get('LSL_KAFKA_MOCK', '')
        lslib.check(os.path.exists(exe),
                    '$LSL_KAFKA_MOCK does not name tests/tools/kafka_mock')
        self.ctx = ctx
        self.log = open(os.path.join(ctx.tmp, 'kafka_mock.log'), 'wb')
        self.proc = subprocess.Popen([exe, str(brokers)],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log)
        first = self.proc.stdout.readline().decode().split()
        lslib.check(len(first) == 2 and first[0] == 'bootstrap',
                    'kafka_mock did not print its address: %r' % first)
        self.bootstrap = first[1]
        for name, parts in topics:
            self.cmd('topic %s %d' % (name, parts))

    def cmd(self, line):
        self.proc.stdin.write(line.encode() + b'\n')
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().decode().strip()
        lslib.check(answer == 'ok', 'kafka_mock: %s: %s' % (line, answer))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.log.close()

    def kafka_section(self, topic='logs', extra=''):
        """A [kafka] section for Daemon.config's `extra` (it follows the
        [daemon] keys)."""
        return ('\n[kafka]\nbrokers = %s\ntopic = %s\ntimeout = 3s\n%s\n'
                % (self.bootstrap, topic, extra))


def unescape(field):
    out, i = [], 0
    while i < len(field):
        c = field[i]
        if c == '\\' and i + 1 < len(field):
            nxt = field[i + 1]
            out.append({'t': '\t', 'n': '\n', '\\': '\\'}.get(nxt, nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def read_topics(mock, *topics):
    """Every record of `topics`, read_committed, as dicts: topic,
    partition, offset, key, headers (dict), value (str)."""
    exe = os.environ.get('LSL_KAFKA_READ', '')
    lslib.check(os.path.exists(exe),
                '$LSL_KAFKA_READ does not name tests/tools/kafka_read')
    p = subprocess.run([exe, mock.bootstrap] + list(topics),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    lslib.check(p.returncode == 0, 'kafka_read failed (%d): %s'
                % (p.returncode, p.stderr.decode(errors='replace')[-800:]))
    out = []
    for line in p.stdout.decode('utf-8', 'replace').splitlines():
        topic, part, off, key, hdrs, value = line.split('\t', 5)
        headers = {}
        for h in hdrs.split(';') if hdrs else ():
            name, _, v = h.partition('=')
            headers[name] = unescape(v)
        out.append({'topic': topic, 'partition': int(part),
                    'offset': int(off), 'key': unescape(key),
                    'headers': headers, 'value': unescape(value)})
    return out


def check_retained(records):
    """The mock keeps about 5 MB per partition and drops the oldest
    message sets beyond it: a test that reads from offset 0 must see
    offset 0."""
    first = {}
    for r in records:
        key = (r['topic'], r['partition'])
        first[key] = min(first.get(key, r['offset']), r['offset'])
    cut = {k: v for k, v in first.items() if v > 0}
    lslib.check(not cut, 'the mock cluster dropped the oldest records of '
                '%s (it keeps about 5 MB per partition): write less' % cut)


def committed(records, data_topic='logs'):
    """The data records of attempts that reached their commit point (see
    the module's text), in (partition, offset) order, and the number of
    attempts that did not (aborted or cut off)."""
    check_retained(records)
    last = {}
    for r in sorted((r for r in records if r['topic'] == CKPT_TOPIC),
                    key=lambda r: (r['partition'], r['offset'])):
        tag = r['headers'].get('lsl.txn', '')
        seq = tag.split('/')[0]
        last[(r['key'], seq)] = tag
    good = set(last.values())
    data = sorted((r for r in records if r['topic'] == data_topic),
                  key=lambda r: (r['partition'], r['offset']))
    tags = {r['headers'].get('lsl.txn') for r in data}
    return ([r for r in data if r['headers'].get('lsl.txn') in good],
            len(tags - good))
