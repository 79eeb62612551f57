"""The targets of bench/run (issue "pseudonymize and compress faster than
pigz compresses alone"), each judged from the rows of one run, with the
numbers of that run that explain the outcome.

evaluate() returns [(text, measured, met or None, why)]; met is None when
the run did not measure it. Standard library only.
"""

IR_TARGET = 3000
IR_MOONSHOT = 1500
RSS_TARGET_MIB = 64


def row(rows, name, fmt='nginx'):
    for r in rows:
        if r['name'] == name and r['fmt'] == fmt:
            return r
    return None


def cpu_s(rows, name, fmt='nginx'):
    r = row(rows, name, fmt)
    return r['cpu'] if r else None


def ratio(rows, ours, theirs, key='lps'):
    a, b = row(rows, ours), row(rows, theirs)
    if not a or not b or not a[key] or not b[key]:
        return None
    return a[key] / b[key]


def fx(v):
    return '-' if v is None else '%.2f' % v


def speed(rows, ours, theirs, want, text, why):
    """lines/s ours / theirs >= want, with the CPU-time ratio beside."""
    x = ratio(rows, ours, theirs)
    if x is None:
        return (text, 'not measured', None, '')
    a, b = row(rows, ours), row(rows, theirs)
    cpu = b['cpu'] / a['cpu'] if a['cpu'] else None
    got = '%.2fx (CPU time: %sx; load %s)' % (x, fx(cpu), a['load'])
    return (text, got, x >= want, why)


def size(rows, ours, theirs, text, same_text):
    a, b = row(rows, ours), row(rows, theirs)
    if not a or not b or not a.get('size') or not b.get('size'):
        return (text, 'not measured', None, '')
    x = a['size'] / b['size']
    why = ('tokens are 26 random base32 characters where the input had '
           'addresses and ids of a few bytes of entropy')
    if same_text:
        why += '; %s on logseal\'s own output: %.1f MB' % (
            theirs.split(' -p')[0], same_text / 1e6)
    return (text, '%.1f MB vs %.1f MB (%.3fx)'
            % (a['size'] / 1e6, b['size'] / 1e6, x), x <= 1.0, why)


def pigz_why(rows, ours, pigz, level):
    """Our CPU time split into the transform (the --out - row) and
    libdeflate (the rest), against pigz's."""
    a, p = cpu_s(rows, ours), cpu_s(rows, pigz)
    one = cpu_s(rows, 'logseal pipe --out -')
    if None in (a, p, one):
        return ''
    return ('CPU s per run: logseal %.2f (transform ~%.2f, libdeflate '
            'level %d ~%.2f) vs pigz %.2f; equal speed needs logseal\'s CPU '
            'time at pigz\'s' % (a, one, level, max(a - one, 0.0), p))


def evaluate(rows, ir, memory, memory_src='', same_text=None):
    """rows: bench/run's; ir: {'nginx': (Ir/line, stages)} or None;
    memory: peak RSS MiB or None; same_text: {'pigz -1 -p 2': bytes of
    logseal's own text compressed by it, ...}."""
    same_text = same_text or {}
    res = [
        speed(rows, 'logseal pipe gzip-1', 'pigz -1 -p 2', 1.0,
              'pipe gzip-1, all cores >= 1.0x pigz -1 -p 2 (lines/s; '
              'moonshot 1.3x)',
              pigz_why(rows, 'logseal pipe gzip-1', 'pigz -1 -p 2', 1)),
        size(rows, 'logseal pipe gzip-1', 'pigz -1 -p 2',
             'pipe gzip-1 output no larger than pigz -1\'s',
             same_text.get('pigz -1 -p 2')),
        speed(rows, 'logseal pipe gzip-6', 'pigz -6 -p 2', 1.0,
              'pipe gzip-6, all cores >= 1.0x pigz -6 -p 2 (lines/s)',
              pigz_why(rows, 'logseal pipe gzip-6', 'pigz -6 -p 2', 6)),
        size(rows, 'logseal pipe gzip-6', 'pigz -6 -p 2',
             'pipe gzip-6 output no larger than pigz -6\'s',
             same_text.get('pigz -6 -p 2')),
        speed(rows, 'logseal pipe gzip-1', 'anonip', 30.0,
              'pipe gzip-1, all cores >= 30x anonip (lines/s)',
              'anonip: %s CPU s per run (Python, one regex pass per line)'
              % fx(cpu_s(rows, 'anonip'))),
        speed(rows, 'logseal pipe --out -, 1 core', 'gzip -1', 2.0,
              'pipe --out -, one core >= 2x gzip -1 (lines/s)',
              'transform alone %s CPU s vs gzip -1 %s: 2x needs the '
              'transform at half of gzip -1\'s time'
              % (fx(cpu_s(rows, 'logseal pipe --out -, 1 core')),
                 fx(cpu_s(rows, 'gzip -1')))),
        speed(rows, 'logseal run (tail)', 'logseal pipe gzip-1', 0.9,
              '`logseal run` (tail -> segments) within 10% of pipe gzip-1',
              'CPU s: run %s vs pipe %s' % (
                  fx(cpu_s(rows, 'logseal run (tail)')),
                  fx(cpu_s(rows, 'logseal pipe gzip-1')))),
    ]
    res += ir_targets(ir)
    text = 'peak RSS <= %d MiB, 10M lines / 2M distinct' % RSS_TARGET_MIB
    if memory is None:
        res.append((text, 'not measured (bench/run --memory)', None, ''))
    else:
        res.append((text, '%.1f MiB%s' % (memory, memory_src),
                    memory <= RSS_TARGET_MIB, 'results-memory.md'))
    return res


def ir_targets(ir):
    text = ('<= %d instructions per line (callgrind, 100k nginx, `--out -`, '
            'one worker; moonshot %d)' % (IR_TARGET, IR_MOONSHOT))
    if not ir or 'nginx' not in ir:
        return [(text, 'not measured', None, '')]
    per_line, stages = ir['nginx']
    st = dict(stages)
    why = ''
    if 'transform' in st:
        why = 'transform %d (rule plan %s, tokens %s)' % (
            st['transform'], st.get('plan', '-'), st.get('tokens', '-'))
    why += ''.join(', %s %d' % (k, st[k]) for k in
                   ('read+split', 'commit', 'batch-clear') if k in st)
    if 'wipe' in st:
        why += '; wiping %d of it (callgrind counts rep stosb per byte)' \
            % st['wipe']
    others = ['%s %d' % (f, v[0]) for f, v in sorted(ir.items())
              if f != 'nginx']
    got = '%d' % per_line
    if others:
        got += ' (%s)' % ', '.join(others)
    return [(text, got, per_line <= IR_TARGET, 'per line: ' + why)]
