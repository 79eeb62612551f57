#!/usr/bin/env python3
"""A fleet end to end (issue 18): the README's fleet recipe with two
daemons standing in for two hosts.

    test_fleet_hive.py LOGSEAL_BINARY SOURCE_ROOT

One key set made once and copied to both hosts without officer.key; each
daemon (lslib.Daemon, both running at once; host = edge-1 / edge-2,
layout = hive, format = jsonl, a stdin source) writes the same shared
output tree. Checked:
  - the same lines give the same tokens on both hosts;
  - the tree is OUTPUT/source=/dt=/hour=/host=/ with the host in every
    name, dated by the lines' own time (the logs are from 2025, the run is
    not), each segment's first line inside its partition;
  - DuckDB (npm @duckdb/node-api, installed under the build directory)
    reads the tree with hive partitioning: its rows per partition are the
    files' lines, the time is a TIMESTAMP and the status an integer, a
    filter on the partition columns reads that partition's rows; no raw
    identifier is in anything it returns;
  - both hosts' vaults collected with `vault import`, indexed, unseal every
    sampled token of both outputs (sources name both hosts);
  - disclose over the tree finds the subject's lines on both hosts;
  - a third host tailing a file, killed (-9) while reading and started
    again, has every line once in its hours' partitions (exactly once on
    the hive layout).
"""

import gzip
import json
import os
import shutil
import subprocess

import lslib
from lslib import check

RULE = 'nginx-combined'
# Blocks of log lines: (seed, start); the shared one is given to both.
SHARED = (9, 1764403200 + 600)           # 2025-11-29T08:10Z
EDGE1 = [(11, 1764403200 + 1200), (12, 1764403200 + 4200)]
EDGE2 = [(13, 1764460800 - 1200), (14, 1764460800 + 3000)]  # around 0h UTC


def make_input(ctx, host, blocks, truth):
    path = ctx.path(host + '.log')
    with open(path, 'wb') as out:
        for seed, start in blocks:
            part = ctx.path('%s-%d.log' % (host, seed))
            ctx.genlogs('nginx', 12000, part, seed=seed,
                        truth=truth + str(seed),
                        extra=['--start', str(start)])
            with open(part, 'rb') as f:
                out.write(f.read())
    return path


def host(ctx, name, officer_keys, output, source=None, fmt='jsonl'):
    """One host of the fleet (lslib.Daemon): the fleet's keys without
    officer.key, its own vault and state, the shared output; its source
    reads stdin unless given."""
    d = lslib.Daemon(ctx, base=ctx.path(name), output=output)
    shutil.rmtree(d.keys)
    shutil.copytree(officer_keys, d.keys)
    os.unlink(os.path.join(d.keys, 'officer.key'))
    d.config([('web', source or {'type': 'stdin', 'rule': RULE})],
             extra='host = %s\nlayout = hive\nformat = %s\n'
             'segment_size = 256K' % (name, fmt))
    d.name = name
    return d


def tail_line(n):
    """An nginx line numbered n (n=), its time in hour 17, 18 or 19."""
    return ('192.0.2.%d - - [29/Nov/2024:%02d:%02d:00 +0000] "GET /live/'
            'seg_%d.ts?device_id=ab241101-e2bb-4255-8caf-4136c566a962&n=%d '
            'HTTP/1.1" 200 5 "-" "curl/7.88.1"\n'
            % (n % 200 + 1, 17 + n // 150, n % 60, n, n)).encode()


def crash_restart(ctx, officer_keys):
    """Exactly once in the hive layout: a host tailing a file is killed
    (-9) while it reads, then started again; every line is in the tree
    once, in its hour's partition, and only its own host's files."""
    access = ctx.path('edge-3-access.log')
    d = host(ctx, 'edge-3', officer_keys, ctx.path('edge-3-out'),
             {'type': 'tail', 'path': access, 'start': 'beginning',
              'rule': RULE}, fmt='text')
    def add(ns):
        with open(access, 'ab') as f:
            f.write(b''.join(tail_line(n) for n in ns))

    def wait_all(n, what):
        lslib.wait_for(lambda: set(range(n)) <=
                       set(lslib.seen_ns(d.output, 'source=web')), 60,
                       what, [d])

    # A batch is dated by its first line: each hour's lines come once the
    # last hour's are out, so they make batches (and segments) of their own.
    add(range(150))
    d.start()
    lslib.wait_for(lambda: len(lslib.seen_ns(d.output, 'source=web')) >= 50,
                   60, 'the first lines in the output', [d])
    d.kill()
    add(range(150, 300))
    d.start()
    wait_all(300, 'hour 18 after the restart')
    add(range(300, 450))
    wait_all(450, 'hour 19')
    check(d.stop() == 0, 'exit after SIGTERM:\n' + d.log_tail())
    lslib.check_final(d.output, 'source=web', range(450))
    hours = set()
    for path in lslib.segments(d.output):
        rel = os.path.relpath(path, d.output).split(os.sep)
        check(rel[:2] == ['source=web', 'dt=2024-11-29'] and
              rel[3] == 'host=edge-3' and
              rel[4].startswith('web-edge-3-20241129T'),
              'segment outside its host\'s partition: %s' % path)
        hours.add(rel[2])
        first = lslib.read_gz(path).splitlines()[0]
        n = int(lslib.N_RE.search(first).group(1))
        check(rel[2] == 'hour=%02d' % (17 + n // 150),
              '%s: its first line (n=%d) is of another hour' % (path, n))
    check(hours == {'hour=17', 'hour=18', 'hour=19'},
          'partitions after the restart: %s' % sorted(hours))


def segments(output):
    """partition tuple -> [(path, rows)] from the files themselves."""
    parts = {}
    for root, _, files in os.walk(output):
        for name in sorted(files):
            path = os.path.join(root, name)
            check(name.endswith('.log.gz'), 'unfinished or odd file %s' % path)
            rel = os.path.relpath(root, output).split(os.sep)
            check(len(rel) == 4 and [r.split('=', 1)[0] for r in rel] ==
                  ['source', 'dt', 'hour', 'host'],
                  'not a hive partition path: %s' % path)
            key = tuple(r.split('=', 1)[1] for r in rel)
            check(name.startswith('web-%s-' % key[3]),
                  '%s: the name lacks its host' % path)
            with gzip.open(path, 'rt') as f:
                rows = [json.loads(line) for line in f]
            parts.setdefault(key, []).append((path, rows))
    return parts


def check_dating(parts):
    for (source, dt, hour, host), files in parts.items():
        start = '%sT%s:00:00Z' % (dt, hour)
        check(dt.startswith('2025-'), 'partition dt=%s is not the lines\' '
              'date (dated by processing time?)' % dt)
        for path, rows in files:
            check(rows and rows[0]['time'][:13] == start[:13],
                  '%s: its first line (%s) is not in its partition %s'
                  % (path, rows[0]['time'] if rows else None, start))
            check(all(r['time'] >= start for r in rows),
                  '%s: a line older than its partition' % path)


def same_tokens(parts):
    """The shared block's lines came out identical on both hosts."""
    by_host = {}
    for key, files in parts.items():
        for _, rows in files:
            by_host.setdefault(key[3], []).extend(
                r for r in rows if r['time'] < '2025-11-29T08:20')
    a, b = by_host.get('edge-1', []), by_host.get('edge-2', [])
    check(a and a == b, 'the shared lines differ between the hosts '
          '(%d and %d rows)' % (len(a), len(b)))
    return a


def duckdb(ctx, output, parts, total, truth_words):
    d = lslib.duckdb_dir(ctx, 'integration/hive_duckdb.mjs')
    rows_out = ctx.path('duckdb-rows.jsonl')
    p = subprocess.run(['node', os.path.join(d, 'hive_duckdb.mjs'), output,
                        rows_out], capture_output=True, timeout=600, cwd=d)
    check(p.returncode == 0, 'DuckDB: %s' % lslib.redact(p.stderr))
    got = json.loads(p.stdout)
    t = got['types']
    check(t.get('time', '').startswith('TIMESTAMP'),
          'time read as %s, not a TIMESTAMP' % t.get('time'))
    check(t.get('status') in ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT',
                              'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT'),
          'status read as %s, not an integer' % t.get('status'))
    for col in ('source', 'dt', 'hour', 'host'):
        check(col in t, 'partition column %s missing: %s' % (col, t))
    want = sorted([list(k) + [sum(len(r) for _, r in files)]
                   for k, files in parts.items()])
    seen = sorted(got['partitions'])
    check(seen == want, 'rows per partition: DuckDB %s, the files %s'
          % (seen, want))
    check(sum(r[4] for r in seen) == total, 'DuckDB read %d rows, %d lines '
          'went in' % (sum(r[4] for r in seen), total))
    check(got['one_partition_rows'] == got['one_partition'][4],
          'a filter on the partition columns read %d rows, the partition '
          'has %d' % (got['one_partition_rows'], got['one_partition'][4]))
    with open(rows_out, encoding='utf-8') as f:
        words = set(lslib.WORD_RE.findall(f.read()))
    words |= {w.strip(':.') for w in words}
    leaked = words & truth_words
    check(not leaked, '%d raw identifiers in what DuckDB returned'
          % len(leaked))


def collect(ctx, officer_keys, hosts, output, shared_rows):
    coll = ctx.path('collected')
    args = ['vault', 'import', '--keys', officer_keys, '--vault', coll]
    for h in hosts:
        args += ['--from', h.vault]
    ctx.expect(ctx.run(args), 0, 'vault import')
    ctx.expect(ctx.run(['vault', 'index', '--keys', officer_keys, '--vault',
                        coll]), 0, 'vault index')
    toks = set()
    for key, files in segments(output).items():
        for _, rows in files:
            for r in rows[:50]:
                toks.update(lslib.TOKEN_RE.findall(json.dumps(r)))
    proc, res = ctx.unseal(officer_keys, coll, sorted(toks), code=0)
    check(len(res) == len(toks) and 'not-found' not in res.values(),
          'tokens of the two hosts not all unsealed from one vault')
    shared_ip = shared_rows[0]['client_ip']
    proc = ctx.run(['unseal', '--keys', officer_keys, '--vault', coll,
                    '--case', 'FLEET', '--json', shared_ip])
    ctx.expect(proc, 0, 'unseal of a token both hosts wrote')
    srcs = json.loads(proc.stdout)['sources']
    check(sorted(srcs) == ['edge-1:daemon', 'edge-2:daemon'],
          'sources of a shared token: %s' % srcs)
    value = json.loads(proc.stdout)['value']
    proc = ctx.run(['disclose', '--keys', officer_keys, '--vault', coll,
                    '--case', 'DSAR-FLEET', '--subject', value, '--json',
                    '--from', '2025-11-29', '--to', '2025-11-30', output])
    ctx.expect(proc, 0, 'disclose over the tree')
    files = json.loads(proc.stdout.splitlines()[-1])['summary']['files']
    hit = {f.split('/host=')[1].split('/')[0] for f, n in files.items() if n}
    check(hit == {'edge-1', 'edge-2'}, 'disclose found the subject on %s'
          % sorted(hit))


def body(ctx):
    officer_keys = ctx.keygen('officer-keys')
    output = ctx.path('shared-output')
    truth = ctx.path('truth-')
    hosts, inputs, total = [], [], 0
    for name, blocks in (('edge-1', [SHARED] + EDGE1),
                         ('edge-2', [SHARED] + EDGE2)):
        src = make_input(ctx, name, blocks, truth)
        total += lslib.count_lines(open(src, 'rb').read())
        hosts.append(host(ctx, name, officer_keys, output))
        inputs.append(open(src, 'rb'))
    # Both at once, as two hosts would: one shared output tree.
    for h, fh in zip(hosts, inputs):
        h.start(stdin=fh)
    for h, fh in zip(hosts, inputs):
        rc = h.wait(300)
        fh.close()
        check(rc == 0, '%s: logseal run exited %s:\n%s'
              % (h.name, rc, h.log_tail()))
    parts = segments(output)
    check(len({k[3] for k in parts}) == 2 and len(parts) >= 4,
          'expected partitions of both hosts over several hours: %s'
          % sorted(parts))
    check_dating(parts)
    shared_rows = same_tokens(parts)
    truth_words = set()
    for name in os.listdir(ctx.tmp):
        if name.startswith('truth-'):
            # Numbers alone also stand for sizes and statuses: left out.
            vals = {v for v in lslib.read_truth(ctx.path(name))
                    if not v.isdigit()}
            truth_words |= vals | {lslib.normalize_value(v) for v in vals}
    duckdb(ctx, output, parts, total, truth_words)
    collect(ctx, officer_keys, hosts, output, shared_rows)
    crash_restart(ctx, officer_keys)


if __name__ == '__main__':
    lslib.main(body)
