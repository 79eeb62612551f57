"""The parts of bench/run that explain its numbers rather than time them:

- callgrind(): bench/callgrind per format (instructions per line, the
  stages, the top functions);
- compressors(): zlib, libdeflate and ISA-L at their levels on logseal's
  own nginx output, cut into batch-sized gzip members (bench/deflate_bench),
  and pigz on the same text, for the size targets.

Plain functions; standard library only.
"""

import os
import re
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH_KIB = 512  # the pipeline's batch size (src/pipeline/pipeline.c)


def callgrind(logseal, work, fmt, log):
    """(Ir per line, [(stage, Ir per line)], top functions text)."""
    log('callgrind: %s' % fmt)
    r = subprocess.run([os.path.join(ROOT, 'bench', 'callgrind'),
                        '--logseal', logseal, '--work', work, '--format',
                        fmt, '--top', '12'],
                       stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError('bench/callgrind --format %s failed' % fmt)
    m = re.search(r'instructions per line: (\d+)', r.stdout)
    stages = [(k, int(v)) for k, v in
              re.findall(r'^stage (\S+): (\d+)$', r.stdout, re.M)]
    top = r.stdout.split('top functions (self Ir):\n', 1)[-1]
    return int(m.group(1)), stages, top.rstrip('\n')


def own_text(logseal, inp, keys, work, env):
    """logseal's plain output of `inp` (nginx-combined), kept in work."""
    out = os.path.join(work, 'own-text.log')
    vault = os.path.join(work, 'vault-own')
    shutil.rmtree(vault, ignore_errors=True)
    os.makedirs(vault)
    with open(inp, 'rb') as fin, open(out, 'wb') as fout:
        subprocess.run([logseal, 'pipe', '--rule', 'nginx-combined',
                        '--keys', keys, '--vault', vault, '--out', '-'],
                       stdin=fin, stdout=fout, stderr=subprocess.DEVNULL,
                       env=env, check=True)
    shutil.rmtree(vault)
    return out


def compressors(logseal, inp, keys, work, env, log):
    """Rows {'lib', 'level', 'bytes', 'cpu'} of deflate_bench on logseal's
    own text, its size, and {peer: bytes} of pigz on that text."""
    bench = os.path.join(os.path.dirname(logseal), '..', '..', 'bench',
                         'deflate_bench')
    text = own_text(logseal, inp, keys, work, env)
    same = {}
    for level in ('1', '6'):
        with open(text, 'rb') as f:
            r = subprocess.run(['pigz', '-' + level, '-p', '2', '-c'],
                               stdin=f, stdout=subprocess.PIPE, check=True)
        same['pigz -%s -p 2' % level] = len(r.stdout)
    rows = []
    if os.access(bench, os.X_OK):
        log('compressors on logseal\'s own text (deflate_bench)')
        r = subprocess.run([bench, text, str(BATCH_KIB)],
                           stdout=subprocess.PIPE, text=True, check=True)
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) == 4:
                rows.append({'lib': f[0], 'level': int(f[1]),
                             'bytes': int(f[2]), 'cpu': float(f[3])})
    size = os.path.getsize(text)
    os.unlink(text)
    return rows, size, same


def compressor_notes(rows, size, same):
    if not rows:
        return ['Compressors: bench/deflate_bench was not built '
                '(-Dbench=true), not compared.']
    out = ['## Compressors on logseal\'s own output', '',
           'The nginx file through `logseal pipe --out -` (%.1f MB), cut '
           'at newlines into %d KiB batches, each one gzip member, as the '
           'pipeline writes them; CPU seconds of the compressing thread; '
           'every member inflated again by zlib and compared. pigz -p 2 on '
           'the same text, one stream: %s.'
           % (size / 1e6, BATCH_KIB,
              ', '.join('%s %.1f MB' % (k, v / 1e6)
                        for k, v in sorted(same.items()))), '',
           '| library | level | MB | ratio | CPU s | MB/s |',
           '|---|---:|---:|---:|---:|---:|']
    for r in rows:
        out.append('| %s | %d | %.1f | %.3f | %.2f | %.0f |'
                   % (r['lib'], r['level'], r['bytes'] / 1e6,
                      r['bytes'] / size, r['cpu'],
                      size / 1e6 / r['cpu'] if r['cpu'] else 0))
    return out
