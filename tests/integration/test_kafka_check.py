#!/usr/bin/env python3
"""`run --check` validates a Kafka sink through librdkafka, and secrets
never show:

- a valid [kafka] section passes; --check prints the pass-through
  properties with secret values replaced by "(secret, not shown)";
- a property librdkafka does not know, a value it refuses, a missing
  brokers/topic, a bad key mode: refused with FILE:LINE and the name;
- a secret property whose value librdkafka refuses, and a configuration
  rd_kafka_new refuses while a secret is set: the secret is in no output;
- a daemon run with every librdkafka debug context on (debug = all) and
  secrets set writes none of them to its log (librdkafka's lines that
  would hold one are withheld);
- a source moved from sink = kafka to segments goes on from Kafka's
  checkpoint (a new segment, nothing again, nothing lost);
- a stdin source (no checkpoint) sends every line;
- pipe --out kafka:// with a malformed URL is a usage error.
"""
import os
import subprocess
import time

import lslib
import lslib_kafka
from lslib import check

SECRETS = ('Pw-7c1e9d-SASL', 'Pw-52aa0f-KEY', 'Tok-90b3-OAUTH')


def check_run(env, cfg):
    return subprocess.run([env.exe, 'run', '--config', cfg, '--check'],
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def no_secret(text, what):
    for s in SECRETS:
        check(s not in text, '%s shows a secret value:\n%s'
              % (what, lslib.redact(text)))


def source(env, src):
    return [('web', {'type': 'tail', 'path': src, 'rule': env.rule,
                     'sink': 'kafka'})]


def kafka(lines):
    return '\n[kafka]\n' + '\n'.join(lines) + '\n'


def switch_to_segments(env, src):
    """A source moved from Kafka to segments goes on where Kafka's
    checkpoint left it: a new segment, no line again, none lost."""
    cfg = env.config([('web', {'type': 'tail', 'path': src,
                               'rule': env.rule})])
    new = lslib.gen_lines(20, seed=8, tag='seg')
    env.start(cfg)
    lslib.wait_for(lambda: 'started:' in env.log().split('stopped')[-1], 60,
                   'the start with segments', [env])
    with open(src, 'ab') as f:
        f.write(b''.join(ln + b'\n' for ln in new))
    lslib.wait_for(lambda: len(lslib.segment_lines(env.output)) >= 20, 60,
                   'the new lines in a segment', [env])
    check(env.stop() == 0, 'stop: ' + env.log_tail())
    got = lslib.segment_lines(env.output)
    check(got == env.reference(new), 'after the switch to segments: %d '
          'lines, not the 20 new ones' % len(got))


def stdin_source(env, mock):
    """A source that keeps no checkpoint (stdin) commits its transactions
    with a record saying so ("none"): every line arrives."""
    lines = lslib.gen_lines(300, seed=6, tag='in')
    cfg = env.config([('in', {'type': 'stdin', 'rule': env.rule,
                              'sink': 'kafka'})],
                     extra=mock.kafka_section(topic='stdin'), name='in.conf')
    p = env.start(cfg, stdin=subprocess.PIPE)
    p.stdin.write(b''.join(ln + b'\n' for ln in lines))
    p.stdin.close()
    check(env.wait(60) == 0, 'stdin to kafka: ' + env.log_tail())
    recs = lslib_kafka.read_topics(mock, 'stdin', lslib_kafka.CKPT_TOPIC)
    got = lslib_kafka.committed(recs, data_topic='stdin')[0]
    check([r['value'].encode() for r in got] == env.reference(lines),
          'stdin to kafka: %d of %d lines' % (len(got), len(lines)))


def body(ctx):
    env = lslib.Daemon(ctx)
    src = os.path.join(env.tmp, 'access.log')
    open(src, 'wb').close()
    base = ['brokers = 127.0.0.1:1', 'topic = logs.{source}']
    good = base + ['key = source',
                   'kafka.security.protocol = sasl_plaintext',
                   'kafka.sasl.mechanisms = PLAIN',
                   'kafka.sasl.username = logseal',
                   'kafka.sasl.password = ' + SECRETS[0],
                   'kafka.ssl.key.password = ' + SECRETS[1],
                   'kafka.compression.codec = zstd']
    cfg = env.config(source(env, src), extra=kafka(good))
    r = check_run(env, cfg)
    check(r.returncode == 0, '--check of a good [kafka]: ' + r.stderr)
    out = r.stdout + r.stderr
    no_secret(out, '--check')
    check('kafka.sasl.password = (secret, not shown)' in out and
          'kafka.compression.codec = zstd' in out,
          '--check does not list the properties:\n' + out)

    cases = [
        (base + ['kafka.no.such.property = 1'], 'kafka.no.such.property'),
        (base + ['kafka.compression.codec = bogus'],
         'kafka.compression.codec'),
        (base + ['key = partition'], "key 'key'"),
        (['topic = t'], "'brokers'"),
        (base + ['kafka.security.protocol = ssl',
                 'kafka.ssl.key.location = /nonexistent/key.pem',
                 'kafka.ssl.key.password = ' + SECRETS[1]], 'kafka'),
        (base + ['kafka.sasl.oauthbearer.config = ' + SECRETS[2],
                 'kafka.enable.sasl.oauthbearer.unsecure.jwt = maybe'],
         'kafka.enable.sasl.oauthbearer.unsecure.jwt'),
    ]
    for lines, name in cases:
        cfg = env.config(source(env, src), extra=kafka(lines))
        r = check_run(env, cfg)
        check(r.returncode != 0, '--check accepted %s' % lines[-1])
        check(name in r.stderr and cfg in r.stderr,
              '--check does not name %s with the file:\n%s'
              % (name, r.stderr))
        no_secret(r.stdout + r.stderr, '--check of %s' % name)

    mock = lslib_kafka.MockCluster(ctx)
    try:
        cfg = env.config(
            source(env, src),
            extra='log_level = debug\n' + mock.kafka_section(extra='\n'.join(
                ['kafka.debug = all',
                 'kafka.ssl.key.password = ' + SECRETS[1],
                 'kafka.sasl.oauthbearer.config = principal=' +
                 SECRETS[2]])))
        env.start(cfg)
        lslib.wait_for(lambda: 'started:' in env.log(), 60, 'the start',
                       [env])
        with open(src, 'ab') as f:
            f.write(b''.join(ln + b'\n' for ln in lslib.gen_lines(50)))
        time.sleep(2)
        check(env.stop() == 0, 'stop: ' + env.log_tail())
        log = env.log()
        check('kafka:' in log, 'no librdkafka debug line in the log')
        no_secret(log, 'the daemon log with debug = all')
        switch_to_segments(env, src)
        stdin_source(env, mock)
    finally:
        env.kill()
        mock.stop()

    r = ctx.run(['pipe', '--rule', env.rule, '--keys', env.keys, '--vault',
                 env.vault, '--out', 'kafka://nowhere'], input=b'x\n')
    check(r.returncode != 0 and b'kafka://HOST:PORT' in r.stderr,
          'pipe --out kafka://nowhere: %d %r' % (r.returncode, r.stderr))
    print('ok: --check validates [kafka] through librdkafka; no secret in '
          '--check output or a debug = all log')


lslib.main(body)
