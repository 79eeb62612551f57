#!/usr/bin/env python3
"""Self-test of genlogs.py, the generator the integration tests rely on.

    check_genlogs.py [SOURCE_ROOT]

For every format: two runs with the same arguments are byte-identical and a
different seed changes the output; the record count is right; every line
has the documented shape; every identifier the format carries is listed in
the truth file and every truth value occurs in the output; the client
address mix and the Zipf-like popularity are roughly as documented. Also
checks --start, --distinct and that the committed sample still matches its
recipe. Exits 1 with a message naming the failed check; never prints a
generated identifier (only line numbers and counts).
"""

import collections
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GENLOGS = os.path.join(HERE, 'genlogs.py')
START = 1764403200
RECORDS = 20000
SEED = 11

UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-'
                     r'[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$')
HEX32_RE = re.compile(r'^[0-9a-f]{32}$')
WORD_RE = re.compile(r'[A-Za-z0-9_.:@\-]+')
TIME_LOCAL = r'\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0900'
REQUEST = r'(?:GET|POST) /\S* HTTP/(?:1\.1|2\.0)'
COMBINED = (r'(?P<addr>\S+) - (?P<ruser>\S+) \[(?P<time>' + TIME_LOCAL +
            r')\] "(?P<req>' + REQUEST + r')" (?P<status>\d{3}) \d+'
            r' "(?P<ref>[^"]*)" "(?P<ua>[^"]*)"')
NGINX_RE = re.compile('^' + COMBINED + '$')
XFF_RE = re.compile('^' + COMBINED + r' "(?P<xff>[^"]+)"'
                    r' rid=[0-9a-f]{32} dev=(?P<dev>\S+) rt=\d+\.\d{3}$')
RTMP_RE = re.compile(
    r'^(?P<addr>\S+) \[(?P<time>' + TIME_LOCAL + r')\]'
    r' (?P<cmd>PLAY|PUBLISH|PLAY PUBLISH) "live" "(?P<name>[^"]+)"'
    r' "device_id=(?P<dev>[^&"]+)&uid=(?P<uid>\d+)" - \d+ \d+'
    r' "(?P<page>[^"]*)" "(?P<flash>[^"]*)"'
    r' \((?:\d+h )?(?:\d+m )?\d+s\)$')
POST_TIME_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$')
W3C_BASE = ('date time c-ip cs-method cs-uri-stem cs-uri-query sc-status'
            ' sc-bytes time-taken cs(User-Agent) x-duration').split()
W3C_SWITCHED = W3C_BASE + ['x-forwarded-for', 'cs(Cookie)']
MIX = {'v4': 0.68, 'v6': 0.24, 'mapped': 0.04, 'private': 0.02,
       'v6odd': 0.02}


class CheckError(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CheckError(msg)


def gen(fmt, records, *extra, truth=None):
    cmd = [sys.executable, GENLOGS, fmt, str(records)] + list(extra)
    if truth:
        cmd += ['--truth', truth]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    check(p.returncode == 0, '%s: genlogs exited %d: %s' % (
        ' '.join(cmd[2:]), p.returncode, p.stderr.decode()[-500:]))
    return p.stdout


def addr_kind(s):
    a = ipaddress.ip_address(s)
    if a.version == 4:
        return 'private' if a.is_private else 'v4'
    if a.ipv4_mapped:
        return 'mapped'
    return 'v6' if str(a) == s else 'v6odd'


def valid_ip(s):
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


class Record:
    """Identifier values of one record, by role."""

    def __init__(self):
        self.client = None      # the client's address, if the line has it
        self.addrs = []         # every address in the line
        self.ids = []           # device ids, tokens, keys, cookies, names
        self.uids = []


def query_ids(req, rec):
    for key in ('device_id', 'token', 'uid'):
        for m in re.finditer(r'[?&]%s=([^&\s]*)' % key, req):
            (rec.uids if key == 'uid' else rec.ids).append(m.group(1))
    for m in re.finditer(r'^\S+ /u/([^/]+)/', req):
        rec.uids.append(m.group(1))


def parse_combined(m, rec):
    if m.group('ruser') != '-':
        rec.ids.append(m.group('ruser'))
    query_ids(m.group('req'), rec)


def parse_nginx(line):
    m = NGINX_RE.match(line)
    if not m:
        return None
    rec = Record()
    rec.client = m.group('addr')
    rec.addrs.append(rec.client)
    parse_combined(m, rec)
    return rec


def parse_xff(line):
    m = XFF_RE.match(line)
    if not m:
        return None
    rec = Record()
    hops = m.group('xff').split(', ')
    if not 2 <= len(hops) <= 3:
        return None
    if hops[0] != 'unknown':
        rec.client = hops[0]
    rec.addrs += [m.group('addr')] + [h for h in hops if h != 'unknown']
    rec.ids.append(m.group('dev'))
    parse_combined(m, rec)
    return rec


def parse_rtmp(line):
    m = RTMP_RE.match(line)
    if not m:
        return None
    rec = Record()
    rec.client = m.group('addr')
    rec.addrs.append(rec.client)
    rec.ids.append(m.group('dev'))
    rec.uids.append(m.group('uid'))
    publish = 'PUBLISH' in m.group('cmd')
    if publish != m.group('name').startswith('sk_'):
        return None
    if publish:
        rec.ids.append(m.group('name'))
    return rec


def parse_posting(line):
    try:
        o = json.loads(line)
    except ValueError:
        return None
    keys = ['time', 'event', 'user_id', 'user_name', 'ip', 'port',
            'device_id', 'ua']
    if o.get('event') == 'comment.post':
        keys[2:2] = ['channel']
        keys.append('message')
    elif o.get('event') not in ('login', 'logout', 'account.create'):
        return None
    if list(o) != keys or not POST_TIME_RE.match(o['time']):
        return None
    if not isinstance(o['user_id'], int) or not isinstance(o['port'], int):
        return None
    rec = Record()
    rec.client = o['ip']
    rec.addrs.append(o['ip'])
    rec.ids += [o['device_id'], o['user_name']]
    rec.uids.append(str(o['user_id']))
    return rec


class W3cParser:
    def __init__(self):
        self.fields = None

    def __call__(self, line):
        if line.startswith('#'):
            if line.startswith('#Fields: '):
                self.fields = line[9:].split(' ')
                if self.fields not in (W3C_BASE, W3C_SWITCHED):
                    return None
            elif line.split(':')[0] not in ('#Version', '#Software'):
                return None
            return 'header'
        row = line.split('\t')
        if self.fields is None or len(row) != len(self.fields):
            return None
        f = dict(zip(self.fields, row))
        if not f['cs-uri-query'].startswith('device_id='):
            return None
        rec = Record()
        rec.ids.append(f['cs-uri-query'][10:])
        rec.addrs.append(f['c-ip'])
        rec.client = f.get('x-forwarded-for', f['c-ip'])
        if 'x-forwarded-for' in f:
            rec.addrs.append(rec.client)
            cookie = f['cs(Cookie)']
            if cookie != '-':
                m = re.match(r'^sid=([0-9a-f]+);\+lang=ja$', cookie)
                if not m:
                    return None
                rec.ids.append(m.group(1))
        return rec


def check_ids(where, rec, truth):
    for a in rec.addrs:
        check(valid_ip(a), '%s: an address field is not an address' % where)
    for v in rec.addrs + rec.ids + rec.uids:
        check(v in truth, '%s: an identifier is missing from the truth file'
              % where)
    for v in rec.ids:
        check(UUID_RE.match(v) or HEX32_RE.match(v) or
              re.match(r'^(sk_[0-9a-f]{24}|[a-z]+_?[a-z]+\d+)$', v),
              '%s: an identifier field has an unexpected shape' % where)


def check_mix(fmt, clients):
    kinds = collections.Counter(addr_kind(a) for a in clients)
    n = sum(kinds.values())
    check(n >= 2000, '%s: only %d distinct clients seen' % (fmt, n))
    for kind, want in MIX.items():
        got = kinds[kind] / n
        check(abs(got - want) <= 0.01 + 0.1 * want,
              '%s: address kind %s is %.1f%% of clients, expected ~%.0f%%'
              % (fmt, kind, 100 * got, 100 * want))


def check_popularity(fmt, hits):
    total = sum(hits.values())
    top10 = sum(v for _, v in hits.most_common(10))
    once = sum(1 for v in hits.values() if v == 1)
    check(top10 / total >= 0.08, '%s: the 10 heaviest clients make only '
          '%.1f%% of lines: not Zipf-like' % (fmt, 100 * top10 / total))
    check(once / len(hits) >= 0.3, '%s: only %.1f%% of clients appear once: '
          'no long tail' % (fmt, 100 * once / len(hits)))


def check_format(fmt, tmp, *extra):
    label = ' '.join((fmt,) + extra)
    t1, t2 = os.path.join(tmp, 't1'), os.path.join(tmp, 't2')
    out = gen(fmt, RECORDS, '--seed', str(SEED), *extra, truth=t1)
    again = gen(fmt, RECORDS, '--seed', str(SEED), *extra, truth=t2)
    check(out == again, '%s: two runs with the same seed differ' % label)
    with open(t1, 'rb') as a, open(t2, 'rb') as b:
        tbytes = a.read()
        check(tbytes == b.read(), '%s: truth files of two runs differ' % label)
    other = gen(fmt, RECORDS, '--seed', str(SEED + 1), *extra)
    check(out != other, '%s: a different seed gives the same output' % label)
    truth = tbytes.decode().splitlines()
    check(len(truth) == len(set(truth)), '%s: truth has duplicates' % label)
    truth = set(truth)
    text = out.decode('utf-8')
    check(text.endswith('\n'), '%s: output does not end in a newline' % label)
    lines = text[:-1].split('\n')
    parse = {'nginx': parse_nginx, 'nginx-xff': parse_xff,
             'rtmp': parse_rtmp, 'posting': parse_posting,
             'w3c': W3cParser()}[fmt]
    hits = collections.Counter()
    records = 0
    for no, line in enumerate(lines, 1):
        rec = parse(line)
        check(rec is not None, '%s: line %d has not the documented shape'
              % (label, no))
        if rec == 'header':
            continue
        records += 1
        check_ids('%s line %d' % (label, no), rec, truth)
        if rec.client:
            hits[rec.client] += 1
    check(records == RECORDS, '%s: %d records, expected %d'
          % (label, records, RECORDS))
    words = set(WORD_RE.findall(text))
    words |= {w.strip(':') for w in words}  # JSON `"key":123`
    missing = sum(1 for v in truth if v not in words)
    check(missing == 0, '%s: %d truth values do not occur in the output as '
          'a whole word' % (label, missing))
    check_mix(label, hits)
    check_popularity(label, hits)
    print('ok %s: %d lines, %d truth values, %d distinct clients'
          % (label, len(lines), len(truth), len(hits)))


def check_options(tmp):
    out = gen('nginx', 3000, '--distinct', '100', '--start', '1700000000')
    lines = out.decode().splitlines()
    first = parse_nginx(lines[0])
    check(first is not None, 'nginx --start: bad first line')
    m = NGINX_RE.match(lines[0])
    check(m.group('time') == '15/Nov/2023:07:13:20 +0900',
          'nginx --start 1700000000: the first line has the wrong time')
    clients = {parse_nginx(line).client for line in lines}
    check(len(clients) <= 100, '--distinct 100: %d clients' % len(clients))
    check(gen('nginx', 0) == b'', 'LINES 0: output is not empty')
    header = gen('w3c', 0).decode().splitlines()
    check(len(header) == 3 and header[2].startswith('#Fields: '),
          'w3c with 0 records: expected only the 3 header lines')
    switched = gen('w3c', 10, '--w3c-switch').decode().splitlines()
    check(len(switched) == 14 and switched[8].startswith('#Fields: '),
          'w3c --w3c-switch: the second #Fields line is not halfway')
    print('ok options: --start, --distinct, zero records, w3c switch')


def check_sample(root):
    path = os.path.join(root, 'tests', 'data', 'sample', 'nginx-access.log')
    with open(path, 'rb') as f:
        committed = f.read()
    check(committed == gen('nginx', 2000, '--seed', '7'),
          '%s no longer matches `genlogs.py nginx 2000 --seed 7`: '
          'regenerate it' % path)
    print('ok sample: %s' % path)


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(HERE))
    try:
        with tempfile.TemporaryDirectory(prefix='check-genlogs-') as tmp:
            for fmt in ('nginx', 'nginx-xff', 'rtmp', 'posting', 'w3c'):
                check_format(fmt, tmp)
            check_format('w3c', tmp, '--w3c-switch')
            check_options(tmp)
            check_sample(root)
    except CheckError as e:
        print('FAIL: %s' % e, file=sys.stderr)
        return 1
    print('all genlogs checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
