#!/usr/bin/env python3
"""Write the hostile identifier corpus, tests/data/hostile/ids.tsv.

    hostile_ids.py [OUT]

Every spelling of an identifier that issue 13 found coming out of logseal
raw (or stored as someone else's value), in many variants per class, and
look-alikes that must stay as they are. Deterministic: the same file every
run (random.Random(13)); values are from documentation ranges or made up.

One entry per line, tab-separated:

    KIND  SPELLING  GONE  ORIGINALS

KIND says where the spelling may be placed (test_hostile_ids.py places it
in every such spot of every shipped rule's lines):

    text   free text: a user agent, a chat message, a request path or a
           query value, a referer, a syslog line (no blank inside unless
           the spelling has one: then only where blanks are allowed)
    seg    a whole path segment (/devices/SPELLING/config)
    auth   an Authorization credential: free text, but no path (a
           credential may hold '/')
    pair   a query pair name=value, or a bare piece without '='
    ip     the value of an ip field ($remote_addr, an X-Forwarded-For
           element, a JSON "ip", W3C c-ip)
    phone  a phone number: free text only (a chat message, a user agent,
           a JSON value no key names), where the rules read phones
    label  a value after a label as Japanese users write one ("パスワード：",
           fullwidth separators): free text only, as phone
    neg    free text that must come out unchanged
    negua  a user agent's product version that must come out unchanged

GONE: '|'-separated texts that must not appear in the output (the
spelling's identifying parts as written and decoded). ORIGINALS:
'|'-separated CLASS=VALUE, the normalized values the spelling's tokens
must unseal to (each must be among the tokens of the line it was placed
in); '-' for negatives. Normalization here is written independently of
src/token/normalize.c, so the test compares the two.
"""

import ipaddress
import os
import random
import re
import socket
import sys
import unicodedata
from urllib.parse import quote

R = random.Random(13)
ENTRIES = []


def add(kind, spelling, gone, originals):
    for g in gone:
        assert g and '|' not in g and '\t' not in g, g
    ENTRIES.append((kind, spelling, '|'.join(gone),
                    '|'.join('%s=%s' % o for o in originals) or '-'))


def enc_all(s):
    return ''.join('%%%02X' % b for b in s.encode())


def enc_some(s, chars):
    return ''.join('%%%02x' % ord(c) if c in chars else c for c in s)


def hexs(n):
    return ''.join(R.choice('0123456789abcdef') for _ in range(n))


# ---- device ids ----

def macs():
    for i in range(8):
        b = [R.randrange(256) for _ in range(6)]
        low = ':'.join('%02x' % x for x in b)
        forms = [low, low.upper(), low.replace(':', '-'),
                 low.upper().replace(':', '-'),
                 '%02x%02x.%02x%02x.%02x%02x' % tuple(b)]
        for f in forms[:3 + i % 3]:
            add('text', f, [f], [('id', low)])
        add('pair', 'mac=' + forms[1], [forms[1]], [('id', low)])
        add('text', enc_some(low, ':'), [low], [('id', low)])


def luhn_digit(body):
    total = 0
    for k, ch in enumerate(reversed(body)):
        v = int(ch)
        if k % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return str((10 - total % 10) % 10)


def imeis():
    for i in range(10):
        body = R.choice(('35', '86', '01', '99')) + ''.join(
            R.choice('0123456789') for _ in range(12))
        imei = body + luhn_digit(body)
        dashed = '%s-%s-%s-%s' % (imei[:2], imei[2:8], imei[8:14], imei[14])
        add('text', imei, [imei], [('id', imei)])
        add('text', dashed, [dashed, imei], [('id', imei)])
        if i % 2:
            spaced = dashed.replace('-', ' ')
            add('text', spaced, [spaced], [('id', imei)])
        sv = imei[:14] + '%02d' % R.randrange(100)
        add('text', 'IMEISV: ' + sv, [sv], [('id', sv)])
        add('pair', 'imei=' + imei, [imei], [('id', imei)])
        add('pair', 'imeisv=' + sv, [sv], [('id', sv)])


def uuid_text():
    h = hexs(32)
    h = h[:12] + '4' + h[13:16] + R.choice('89ab') + h[17:]
    return '%s-%s-%s-%s-%s' % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def ad_ids():
    for i in range(8):
        u = uuid_text()
        for spelling in (u, u.upper(), u.replace('-', ''),
                         u.replace('-', '').upper()):
            dashless = '-' not in spelling
            add('text' if not dashless else 'pair',
                spelling if not dashless else 'adv=' + spelling,
                [spelling], [('id', u)])
        add('pair', 'idfa=' + u.upper(), [u.upper()], [('id', u)])
        add('pair', 'gaid=' + u.replace('-', ''), [u.replace('-', '')],
            [('id', u)])
        # A UUID glued to other text by an escape: device_id%3DA09F...
        glued = 'device_id%3D' + u.upper()
        add('pair', glued, [u.upper()], [('id', u)])
        if i % 2:
            glued = 'device_id%253D' + u
            add('pair', glued, [u], [('id', u)])


def android_ids():
    for i in range(8):
        a = hexs(16)
        if not any(c.isdigit() for c in a) or a.isdigit():
            a = '9' + a[1:-1] + 'c'
        add('pair', 'aid=' + (a.upper() if i % 2 else a), [a, a.upper()],
            [('id', a)])
        add('seg', a, [a], [('id', a)])
        add('pair', 'android_id=' + a, [a], [('id', a)])


def opaque_ids():
    alphabet = ('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                '0123456789-_')
    for i in range(10):
        while True:
            v = ''.join(R.choice(alphabet) for _ in range(22 + i))
            if (any(c.isdigit() for c in v) and any(c.isupper() for c in v)
                    and any(c.islower() for c in v)):
                break
        add('pair', 'fid=' + v, [v], [('id', v)])
    for n in (20, 32, 40, 64):
        h = hexs(n)
        add('pair', 'h=' + h, [h], [('id', h if n != 32 else '%s-%s-%s-%s-%s'
                                          % (h[:8], h[8:12], h[12:16],
                                             h[16:20], h[20:]))])


# ---- secrets ----

def b64url(n):
    return ''.join(R.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst'
                            'uvwxyz0123456789-_') for _ in range(n))


def jwts():
    heads = ('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9',
             'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ',
             'eyJhbGciOiJub25lIn0')
    for i in range(8):
        head = heads[i % 3]
        body = 'eyJ' + b64url(30 + i)
        if head.endswith('In0'):
            tok = head + '.' + body + '.'
        elif i == 7:  # JWE: five parts
            tok = '.'.join((head, b64url(20), b64url(16), b64url(40),
                            b64url(22)))
        else:
            tok = head + '.' + body + '.' + b64url(43)
        gone = [tok.split('.')[1]]
        add('text', tok, gone, [('secret', tok)])
        add('pair', 'jwt=' + tok, gone, [('secret', tok)])
        add('pair', 'state=' + tok, gone, [('secret', tok)])
        add('seg', tok, gone, [('secret', tok)])
        add('auth', 'Bearer ' + tok, gone, [('secret', tok)])


def bearers():
    for i in range(6):
        cred = b64url(24 + i) + ('==' if i % 2 else '')
        add('auth', 'Authorization: Bearer ' + cred, [cred],
            [('secret', cred)])
        add('auth', 'bearer+' + cred, [cred], [('secret', cred)])
    for user, pw in (('alice', 'Wonderland1'), ('svc-backup', 'k9#Zq!pL')):
        import base64
        b = base64.b64encode(('%s:%s' % (user, pw)).encode()).decode()
        add('auth', 'Basic ' + b, [b], [('secret', b)])


SECRET_NAMES = (
    'api_key', 'apikey', 'API_KEY', 'access_token', 'refresh_token',
    'id_token', 'client_secret', 'code', 'jwt', 'password', 'passwd', 'pwd',
    'Password', 'session', 'sessionid', 'sid', 'signature', 'sig',
    'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token',
    'Signature', 'Key-Pair-Id', 'Policy', 'remember_me', 'token',
    'auth_token', 'oauth_token', 'x-goog-signature', 'PHPSESSID',
    'JSESSIONID')


def secret_pairs():
    for name in SECRET_NAMES:
        v = 'S' + b64url(10) + 'x'
        add('pair', '%s=%s' % (name, v), [v], [('secret', v)])
    # Names percent-encoded, arrays, encoded values.
    for name, v in (('pass%77ord', 'hunter2xyz'), ('api%5Fkey', 'k3Yz9QpL'),
                    ('%74oken', 'Tk9zAbCdEf'), ('PASS%57ORD', 'Hunt3rTwo'),
                    ('token[]', 'arrTok11'), ('token%5B%5D', 'arrTok22'),
                    ('token[0]', 'arrTok33'), ('session[id]', 'sessX77q'),
                    ('%2561pi_key', 'dbl3nc0ded')):
        add('pair', '%s=%s' % (name, v), [v], [('secret', v)])
    v = 'sl4sh/pl+s=Q'
    add('pair', 'password=' + quote(v, safe=''), [v, quote(v, safe='')],
        [('secret', v)])
    # An encoded query inside a value, and an encoded '='.
    add('pair', 'next=' + quote('/cb?token=NstdT0k3n&uid=4242', safe=''),
        ['NstdT0k3n', '4242'], [('secret', 'NstdT0k3n'), ('user', '4242')])
    add('pair', 'token%3DEncEqT0k', ['EncEqT0k'], [('secret', 'EncEqT0k')])
    add('pair', 'token%253DDblEqTk', ['DblEqTk'], [('secret', 'DblEqTk')])


def userinfo():
    cases = (('alice', 's3cr3tPW'), ('bob', None), (None, 'onlyPass9'),
             ('svc_user', 'p%40ssW0rd'), ('carol.k', 'x:y:z-Colons'),
             ('dave%40corp.example', 'Dav3Pw'))
    hosts = ('host.example.com', '10.1.2.3', 'ftp.example.org:2121',
             '[2001:db8::5]')
    for i, (u, p) in enumerate(cases):
        for j, host in enumerate(hosts[:2 + i % 3]):
            scheme = ('https', 'http', 'ftp')[(i + j) % 3]
            info = (u or '') + (':' + p if p else '')
            url = '%s://%s@%s/path' % (scheme, info, host)
            gone, orig = [], []
            if u:
                du = u.replace('%40', '@')
                gone += [u, du]
                orig.append(('email' if '@' in du else 'user',
                             du.lower() if '@' in du else du))
            if p:
                dp = p.replace('%40', '@')
                gone += [p, dp]
                orig.append(('secret', dp))
            if host[0].isdigit():
                orig.append(('ip', host))
            if host.startswith('['):
                orig.append(('ip', host.strip('[]')))
            add('text', url, gone, orig)


# ---- encodings and addresses ----

def encoded():
    for i in range(6):
        a = ipaddress.IPv4Address(R.getrandbits(32) | 0x01000000)
        s = str(a)
        forms = (enc_all(s), enc_some(s, '.'), enc_some(s, s[0]),
                 enc_all(s).replace('%', '%25'), enc_all(s).lower())
        for f in forms[:3 + i % 3]:
            add('text', f, [s], [('ip', s)])
    for local, dom in (('john', 'example.com'), ('Mia.Tan', 'Mail.Example.ORG'),
                       ('x+tag', 'ex.co.jp'), ('o_o', 'example.net')):
        e = local + '@' + dom
        for f in (enc_some(e, '@'), enc_some(e, '@').replace('%', '%25'),
                  enc_all(e)):
            add('text', f, [e, e.lower()], [('email', e.lower())])
        add('pair', 'email=' + enc_some(e, '@'), [e], [('email', e.lower())])
    for a6 in ('2001:db8::7', 'fe80::1', '2001:db8:0:0:1:0:0:1'):
        canon = str(ipaddress.IPv6Address(a6))
        add('text', enc_some(a6, ':'), [a6], [('ip', canon)])
        add('text', enc_some(a6, ':').replace('%3a', '%3A'), [a6],
            [('ip', canon)])
    for zone in ('eth0', 'en1', 'wlan0'):
        add('text', 'fe80::1%25' + zone, ['fe80::1'], [('ip', 'fe80::1%' +
                                                       zone)])
        add('text', 'fe80%3A%3A1%2525' + zone, ['fe80::1'],
            [('ip', 'fe80::1%' + zone)])
    # The misattribution of issue 13.
    add('text', '%31%39%32.168.7.4', ['192.168.7.4'], [('ip', '192.168.7.4')])


def inet_aton_forms(a):
    b = a.packed
    n = int(a)
    return ('0x%08X' % n, '0x%08x' % n,
            '.'.join('0x%02X' % x for x in b),
            '.'.join('0%o' % x if x else '0' for x in b),
            str(n), '0%o' % n,
            '0x%02x.%d.%d.0%o' % (b[0], b[1], b[2], b[3]))


def as_logseal_reads(f):
    """A zero-padded dotted quad is decimal; other forms as inet_aton."""
    parts = f.split('.')
    if len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) < 256
                               for p in parts):
        return '.'.join(str(int(p)) for p in parts)
    return socket.inet_ntoa(socket.inet_aton(f))


def url_hosts():
    for i in range(4):
        a = ipaddress.IPv4Address(R.getrandbits(24) | 0x0a000000)
        for k, f in enumerate(inet_aton_forms(a)):
            port = ':8080' if (i + k) % 3 == 0 else ''
            add('text', 'http://%s%s/x' % (f, port), [f],
                [('ip', as_logseal_reads(f))])


def text_quads():
    """Four-part inet_aton spellings anywhere (a query value, a path, a
    message), not only in URL hosts: no count or version is written so."""
    for i in range(4):
        a = ipaddress.IPv4Address(R.getrandbits(24) | 0xc0000000)
        b = a.packed
        for f in ('.'.join('0x%02X' % x for x in b),
                  '.'.join('0%o' % x if x else '0' for x in b),
                  '%d.0x%x.%d.0%o' % (b[0], b[1], b[2], b[3] or 8)):
            add('text', f, [f], [('ip', as_logseal_reads(f))])


def wide(s):
    """s typed in fullwidth (U+FF01..U+FF5E), as a Japanese IME writes it."""
    return ''.join(chr(ord(c) + 0xFEE0) if '!' <= c <= '~' else c
                   for c in s)


def wide_forms():
    """Fullwidth spellings: their originals are what Unicode's NFKC makes
    of them (written independently of src/token/wide.c)."""
    for ascii, cls in (('192.168.0.7', 'ip'), ('2001:db8::7', 'ip'),
                       ('Mia.Tan@Mail.Example.org', 'email'),
                       ('6C7D8E9F-0A1B-4C2D-9E3F-4A5B6C7D8E9F', 'id')):
        for f in (wide(ascii), wide(ascii[:4]) + ascii[4:]):
            norm = unicodedata.normalize('NFKC', f)
            orig = (str(ipaddress.ip_address(norm)) if cls == 'ip'
                    else norm.lower())
            add('text', f, [f, norm], [(cls, orig)])


def ip_pairs():
    """Query values named as addresses: any spelling, one number too."""
    for name, v, orig in (('ip', '3232235521', '192.168.0.1'),
                          ('client_ip', '0xC0A80002', '192.168.0.2'),
                          ('CLIENTIP', '192.168.0.3', '192.168.0.3'),
                          ('remote%5Faddr', '3232235524', '192.168.0.4'),
                          ('xff', '2001:DB8::5', '2001:db8::5'),
                          ('real_ip', '0300.0250.0.6', '192.168.0.6')):
        add('pair', '%s=%s' % (name, v), [v], [('ip', orig)])


def ip_fields():
    for v, orig in (('unix:', 'unix:'), ('localhost', 'localhost'),
                    ('proxy.internal.example', 'proxy.internal.example'),
                    ('0xC0A80001', '192.168.0.1'),
                    ('3232235521', '192.168.0.1'),
                    ('0300.0250.0.1', '192.168.0.1'),
                    ('%31%39%32.168.0.9', '192.168.0.9'),
                    ('2001%3Adb8%3A%3A9', '2001:db8::9'),
                    ('garbage!x9', 'garbage!x9'), ('_hidden', '_hidden'),
                    ('::1%lo', '::1%lo'), ('1.2.3', '1.2.3'),
                    ('[2001:db8::8]:443', '2001:db8::8'),
                    ('10.9.8.7:5678', '10.9.8.7'),
                    ('ec2-54-1-2-3', 'ec2-54-1-2-3'),
                    ('010.020.030.040', '10.20.30.40')):
        gone = [v.split(':')[0] if v[0].isdigit() and '.' in v else v]
        if v.startswith('['):
            gone = ['2001:db8::8']
        add('ip', v, gone, [('ip', orig)])


def negatives():
    for v in ('Chrome/130.0.0.0', 'Edg/130.0.2849.68', 'OPR/114.0.0.0',
              'YaBrowser/24.10.0.0', 'Chrome/119.0.0.0 Safari/537.36',
              'Version/17.1 Mobile/15E148', 'AppleCoreMedia/1.0.0.21B101',
              'ExoPlayerLib/2.19.1', 'Firefox/120.0'):
        add('negua', v, [], [])
    for v in ('2298276', '1764403199605', '1709601630.123',
              '2025-11-29T08:00:00Z', '12:30:45.123', '29/Nov/2025:17:00:00',
              'seg_1444.ts', 'media_w38466_1.ts', 'app.3f9a1c2e.js',
              'vendor.8d1b0c77.js', 'main.a91e4b20.css', 'index-1080p.m3u8',
              'v1.2.3.4.5', 'HTTP/1.1', 'x86_64', 'rv:120.0', 'ch12',
              'ExampleLive/5.12.0', 'build-20241129', 'chunk.b3a1.js',
              '0x80070005', '3f9a1c2e', 'ETag-5f3c2a1b', 'page-2',
              '12345678901', '4.2', '1e10', 'ipv6', 'Bearers',
              'basically', 'code-review', 'imei-check', '35-10',
              '1.2.3.400', '1.2.3.0400', '0x1.0x2.0x3.0x4.0x5',
              'v1.0x2.3.4', '0x80070005.dll'):
        add('neg', v, [], [])


def phone_digits(v):
    """The normalized phone: its digits, "+81" and a "(0)" after it -> 0."""
    d = re.sub(r'[^0-9]', '', v)
    if v.startswith('+81'):
        d = '0' + (d[3:] if d[2:3] == '0' else d[2:])
    return d


def phones():
    """Japanese phone numbers as people write them: dashes, blanks, dots,
    parentheses as on business cards, +81 with "(0)", typed wide. A phone
    is tokenized as its digits (wide forms folded, as NFKC folds them; +81
    read as the national 0), so every spelling unseals to them."""
    for i in range(3):
        mob = R.choice(('090', '080', '070'))
        mid, last = str(R.randrange(1000, 10000)), str(R.randrange(6000, 10000))
        forms = ['%s-%s-%s' % (mob, mid, last), '%s %s %s' % (mob, mid, last),
                 '%s.%s.%s' % (mob, mid, last), '%s(%s)%s' % (mob, mid, last),
                 '(%s) %s-%s' % (mob, mid, last), '(%s)%s-%s' % (mob, mid, last),
                 '+81-%s-%s-%s' % (mob[1:], mid, last),
                 '+81 (0)%s-%s-%s' % (mob[1:], mid, last), mob + mid + last,
                 '03-%s-%s' % (mid, last), '03 %s %s' % (mid, last),
                 '03(%s)%s' % (mid, last), '(03) %s-%s' % (mid, last),
                 '+81 %s-%s-%s' % (mob[1:], mid, last),
                 '\u3000'.join((mob, mid, last))]
        for f in forms + [wide(forms[i])]:
            norm = unicodedata.normalize('NFKC', f)
            add('phone', f, [f, norm, last], [('phone', phone_digits(norm))])
    for v in ('090 1234-5678', '03(1234-5678', '0 1234 5678',
              '010.1234.5678'):
        add('neg', v, [], [])


def atdots():
    """E-mail addresses hidden from bots: "(at)", "[dot]" and the like."""
    for i in range(4):
        local = ''.join(R.choice('abcdefghkmnpqrstuvwxyz') for _ in range(8))
        dom = R.choice(('example', 'mail', 'live')) + str(i)
        orig = '%s@%s.co.jp' % (local, dom)
        for f in ('%s(at)%s.co.jp' % (local, dom),
                  '%s [at] %s [dot] co [dot] jp' % (local, dom),
                  '%s{AT}%s.co.jp' % (local.upper(), dom),
                  '%s<at>%s(dot)co(dot)jp' % (local, dom),
                  wide('%s(at)%s.co.jp' % (local, dom))):
            norm = unicodedata.normalize('NFKC', f)
            add('text', f, [f, norm, local], [('email', orig)])
    for v in ('meet (at) home', 'see [dot] com', 'Mozilla/5.0 (X11) [at]'):
        add('neg', v, [], [])


def idn_emails():
    """E-mail addresses at a domain written in Japanese (an IDN as it
    reads), and ASCII ones with Japanese text right after them."""
    for i, dom in enumerate(('例え.jp', '日本語ドメイン.com', 'ｅｘａｍｐｌｅ.jp')):
        local = ''.join(R.choice('abcdefghkmnpqrstuvwxyz') for _ in range(7))
        f = '%s@%s' % (local.title(), dom)
        norm = unicodedata.normalize('NFKC', f) if i == 2 else f
        add('text', f, [f, local], [('email', norm.lower())])
        f = '%s@mail%d.example.jpまで' % (local, i)
        add('text', f, [f[:-2], local], [('email', f[:-2])])


def stars():
    """Addresses as Japanese posts hide them: ★ or ☆ for '@' ("put @ for
    ★"), or the katakana word for it."""
    for mark in ('★', '☆', 'アットマーク', ' ★ '):
        local = ''.join(R.choice('abcdefghkmnpqrstuvwxyz') for _ in range(7))
        f = '%s%sstream.example.jp' % (local, mark)
        add('text', f, [f, local], [('email', local + '@stream.example.jp')])
    add('neg', '★すごい★', [], [])


def luhn_digit(body):
    """The check digit that makes body + it pass Luhn."""
    total = 0
    for k, c in enumerate(reversed(body)):
        v = int(c) * (2 if k % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return str((10 - total % 10) % 10)


def cards():
    """Payment card numbers of each network, plain and in printed groups;
    tokenized as secret, their digits the original."""
    for prefix, n, shape in (('4', 16, (4, 4, 4, 4)), ('53', 16, (4, 4, 4, 4)),
                             ('2221', 16, (4, 4, 4, 4)),
                             ('37', 15, (4, 6, 5)), ('3566', 16, (4, 4, 4, 4)),
                             ('36', 14, (4, 6, 4)), ('6011', 16, (4, 4, 4, 4)),
                             ('62', 19, (4, 4, 4, 4, 3))):
        body = prefix + ''.join(str(R.randrange(10))
                                for _ in range(n - len(prefix) - 1))
        d = body + luhn_digit(body)
        groups, at = [], 0
        for g in shape:
            groups.append(d[at:at + g])
            at += g
        # 19 digits are taken only in groups: plain, ids are that long.
        for f in ((d,) if n < 19 else ()) + (' '.join(groups),
                                             '-'.join(groups),
                                             '\u3000'.join(groups)):
            add('text', f, [f, d], [('secret', d)])
    bad = '4111111111111112'
    for v in (bad, ' '.join((bad[:4], bad[4:8], bad[8:12], bad[12:])),
              '1234 5678 9012 3456', '4111 1111-1111 1111'):
        add('neg', v, [], [])


def ja_labels():
    """Values after the labels Japanese users type, and listed names with
    a fullwidth separator: the value is the original, in the label's
    class."""
    for label, cls in (('パスワード', 'secret'), ('暗証番号', 'secret'),
                       ('ログインID', 'user'), ('会員番号', 'user'),
                       ('ユーザーＩＤ', 'user'), ('本名', 'name'),
                       ('password', 'secret'), ('uid', 'user')):
        for sep in ('：', '＝', ': ', '='):
            v = ''.join(R.choice('abcdefghkmnpqrstuvwxyz23456789')
                        for _ in range(9))
            if cls == 'name':
                v = R.choice(('山田', '佐藤', '鈴木')) + R.choice(('太郎', '花子'))
            if label.isascii() and sep in (': ', '='):
                continue  # the text rule's pairs, long covered
            f = '%s%s%s' % (label, sep, v)
            add('label', f, [v], [(cls, v)])
    for v in ('パスワードは秘密', 'パスワード設定：済', '本名は内緒'):
        add('neg', v, [], [])


def key_prefixes():
    """Keys known by their prefix: stream keys pasted in chat, access
    tokens; the whole key is the original."""
    alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

    def rnd(n, chars=alnum):
        return ''.join(R.choice(chars) for _ in range(n - 1)) + '7'
    for k in ('sk_' + rnd(24, '0123456789abcdef'), 'sk_live_' + rnd(24),
              'live_%d_%s' % (R.randrange(10 ** 8, 10 ** 9), rnd(30)),
              'ghp_' + rnd(36), 'github_pat_' + rnd(40, alnum + '_'),
              'xoxb-' + rnd(30, alnum + '-'), 'AKIA' + rnd(16, alnum[26:]),
              'AIza' + rnd(35, alnum + '_-'), 'sk-proj-' + rnd(40, alnum + '_-')):
        add('text', k, [k], [('secret', k)])
    for v in ('sk_learning_notes_for_today', 'live_stream_2024_highlights',
              'AKIAIOSFODNNXEXAMPLE'):
        add('neg', v, [], [])


def main():
    macs()
    imeis()
    ad_ids()
    android_ids()
    opaque_ids()
    jwts()
    bearers()
    secret_pairs()
    userinfo()
    encoded()
    url_hosts()
    text_quads()
    wide_forms()
    ip_pairs()
    ip_fields()
    negatives()
    phones()
    atdots()
    idn_emails()
    stars()
    cards()
    ja_labels()
    key_prefixes()
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, '..', 'data', 'hostile', 'ids.tsv')
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'w', encoding='utf-8') as f:
        f.write('# written by tests/tools/hostile_ids.py; see its header.\n'
                '# KIND\tSPELLING\tGONE\tORIGINALS\n')
        for e in ENTRIES:
            f.write('\t'.join(e) + '\n')
    pos = sum(1 for e in ENTRIES if not e[0].startswith('neg'))
    print('%d spellings, %d negatives' % (pos, len(ENTRIES) - pos))


if __name__ == '__main__':
    main()
