"""Reports of bench/run: the targets on stdout, results.md, results.svg.

Plain functions of the rows bench/run measured; standard library only.
Hand-written notes below NOTES_MARK in results.md survive a rewrite.
"""

import os

def loadavg():
    return '%.1f' % os.getloadavg()[0]


def verdict(met):
    return {True: 'met', False: 'MISSED', None: '-'}[met]


def print_targets(res):
    for text, got, met, _ in res:
        print('target %-58s %-28s %s' % (text, got, verdict(met)))


# ---- results.md ----

def fmt_x(v):
    return '%.2f' % v if v is not None else '-'


def fmt_mb(v):
    return '%.1f' % (v / 1e6) if v else '-'


def write_md(path, rows, res, info, notes):
    m = info['machine']
    out = ['# logseal benchmark results', '',
           'Written by `bench/run` (%d lines per format, %d repetitions, '
           'commands alternated; median wall time, min-max in brackets).'
           % (info['lines'], info['reps']), '',
           'Machine: %d cores, %s, Linux %s; %s; load average %s at the '
           'start, %s at the end (the "load" column: the 1-minute load '
           'average before each run of the command, median).'
           % (m['cores'], m['cpu'], m['kernel'], m['date'], m['load'],
              loadavg()), '',
           '| format | command | lines/s | MB/s | wall s (min-max) '
           '| CPU s | load | x anonip | x pigz | out MB | peak RSS MiB |',
           '|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        out.append('| %s | %s | %.0f | %.1f | %.3f (%.3f-%.3f) | %.3f | %s '
                   '| %s | %s | %s | %.1f |'
                   % (r['fmt'], r['name'], r['lps'], r['mbs'], r['median'],
                      r['min'], r['max'], r['cpu'], r['load'],
                      fmt_x(r['x_anonip']), fmt_x(r['x_pigz']),
                      fmt_mb(r.get('size')), r['rss']))
    out += ['', '"x anonip" compares with anonip on the nginx file; '
            '"x pigz" with pigz -p 2 at the same level (-6 for gzip-6 '
            'rows, -1 otherwise) on the same file; "out MB" is what the '
            'command wrote (gzip, or plain text for `--out -` and anonip). '
            'One core: `UV_THREADPOOL_SIZE=1 taskset -c 0`.', '',
            '## Targets', '', '| target | measured | | explained by |',
            '|---|---|---|---|']
    for text, got, met, why in res:
        out.append('| %s | %s | %s | %s |' % (text, got, verdict(met), why))
    out += [''] + notes + ['', NOTES_MARK, kept_notes(path)]
    with open(path, 'w') as f:
        f.write('\n'.join(out).rstrip('\n') + '\n')


NOTES_MARK = '<!-- hand-written notes below: bench/run keeps them -->'


def kept_notes(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return ''
    at = text.find(NOTES_MARK)
    return text[at + len(NOTES_MARK):].strip('\n') if at >= 0 else ''


# ---- results.svg: horizontal bars of lines/s, min-max whiskers ----

COLORS = {'logseal': '#2b6cb0', 'logseal1': '#63b3ed', 'peer': '#a0aec0'}


def svg_escape(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def write_svg(path, rows, info, formats):
    label_w, bar_w, row_h, top = 300, 560, 22, 50
    fmts = [f for f in formats if any(r['fmt'] == f for r in rows)]
    height = top + sum(row_h * (1 + sum(r['fmt'] == f for r in rows))
                       for f in fmts) + 30
    peak = max(r['lps_hi'] for r in rows)
    scale = bar_w / peak
    el = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
          'font-family="sans-serif" font-size="12">'
          % (label_w + bar_w + 110, height),
          '<rect width="100%" height="100%" fill="white"/>',
          '<text x="10" y="22" font-size="15" font-weight="bold">logseal '
          'pipe vs peers: lines per second (median, min-max)</text>',
          '<text x="10" y="40" fill="#555">%d lines, %d reps, %d cores, '
          '%s, %s</text>' % (info['lines'], info['reps'],
                             info['machine']['cores'],
                             svg_escape(info['machine']['cpu']),
                             info['machine']['date'])]
    y = top
    for f in fmts:
        el.append('<text x="10" y="%d" font-weight="bold">%s</text>'
                  % (y + 15, f))
        y += row_h
        for r in (r for r in rows if r['fmt'] == f):
            w = r['lps'] * scale
            cy = y + row_h / 2 - 2
            el += ['<text x="%d" y="%d" text-anchor="end">%s</text>'
                   % (label_w - 8, y + 14, svg_escape(r['name'])),
                   '<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                   % (label_w, y + 3, w, row_h - 8,
                      COLORS[r['cmd'].group]),
                   '<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" '
                   'stroke="black"/>' % (label_w + r['lps_lo'] * scale,
                                         label_w + r['lps_hi'] * scale,
                                         cy, cy),
                   '<text x="%.1f" y="%d">%s</text>'
                   % (label_w + r['lps_hi'] * scale + 6, y + 14,
                      human(r['lps']))]
            y += row_h
    el.append('</svg>')
    with open(path, 'w') as fh:
        fh.write('\n'.join(el) + '\n')


def human(v):
    return '%.2fM' % (v / 1e6) if v >= 1e6 else '%.0fk' % (v / 1e3)
