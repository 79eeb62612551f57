#!/usr/bin/env python3
"""Differential test of the new matchers and the percent-decoder.

    test_ids_diff.py LOGSEAL_BINARY SOURCE_ROOT

Each matcher of src/rules/ids.c (MAC, IMEI, JWT, Bearer/Basic, URL
userinfo, URL hosts in inet_aton spellings), the card numbers of
src/rules/card.c and the query action's opaque
values are compared with a plain Python reference written from the
documented rules (regular expressions, the inet_aton manual page): random candidates, valid ones and near misses (a
separator changed, a digit more or less, a bad check digit, a letter
out of place), each alone between blanks in a line; `logseal rules test`
shows which bytes it plans, as what, and that must be exactly what the
reference says. The percent-decoder is compared with Python's
urllib.parse.unquote_to_bytes applied until nothing changes: a value
percent-encoded and the same value decoded get one token, and the vault
holds the decoded (normalized) value; `disclose --subject` finds a
subject's records in any of its spellings.
"""

import ipaddress
import random
import re
from urllib.parse import unquote_to_bytes

import lslib
from lslib import check

SCRUB_RULE = 'name diff-scrub\npattern ^(?<t>.*)$\nfield t scrub\n'
QUERY_RULE = ('name diff-query\npattern ^(?<t>.*)$\nfield t query\n'
              'param email email\nparam listed secret\n')
SPAN_RE = re.compile(r'(\w+)@(\d+)\+(\d+)')
HEX = '0123456789abcdefABCDEF'
B64URL = ('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
          '-_')


# ---- references ----

def ref_mac(c):
    h = '[0-9A-Fa-f]'
    return bool(re.fullmatch(r'{0}{{2}}([:-]){0}{{2}}(\1{0}{{2}}){{4}}'
                             .format(h), c) or
                re.fullmatch(r'{0}{{4}}\.{0}{{4}}\.{0}{{4}}'.format(h), c))


def luhn(d):
    total = 0
    for k, ch in enumerate(reversed(d)):
        v = int(ch) * (2 if k % 2 else 1)
        total += v - 9 if v > 9 else v
    return total % 10 == 0


def ref_imei(c):
    if re.fullmatch(r'\d{15}', c):
        return luhn(c)
    m = re.fullmatch(r'(\d{2})([- ])(\d{6})\2(\d{6})\2(\d)', c)
    return bool(m) and luhn(''.join(m.group(1, 3, 4, 5)))


CARD_SHAPES = ((4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4))


def card_lengths(d):
    """The lengths the issuer of d's first digits gives out."""
    p2, p3, p4 = int(d[:2]), int(d[:3]), int(d[:4])
    if d[0] == '4':
        return {13, 16, 19}
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return {16}
    if p2 in (34, 37):
        return {15}
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return {14, 16}
    if 3528 <= p4 <= 3589 or p4 == 6011 or 644 <= p3 <= 649 or p2 in (62, 65):
        return set(range(16, 20))
    return set()


def ref_card(c):
    """A payment card number: plain 14-16 digits or printed groups joined
    by one of ' ' '-', an issuer's prefix and length, a Luhn digit."""
    if not re.fullmatch(r'\d+(?:([ -])\d+(?:\1\d+)*)?', c):
        return False
    groups = re.split(r'[ -]', c)
    d = ''.join(groups)
    if len(groups) == 1 and not 14 <= len(d) <= 16:
        return False
    if len(groups) > 1 and tuple(map(len, groups)) not in CARD_SHAPES:
        return False
    return len(d) >= 4 and len(d) in card_lengths(d) and luhn(d)


def ref_number(c):
    """Card numbers are tried first (a 15-digit 34/37 number is an Amex
    card, no IMEI), then IMEIs."""
    if ref_card(c):
        return [('secret', 0, len(c))]
    return [('id', 0, len(c))] if ref_imei(c) else []


def ref_jwt(c):
    """The token's length in c (b64url parts joined by '.'), or 0: the
    first five parts at most, three at least, the first "eyJ" and ten
    bytes or more; of "a.b.c." the last '.' ends a sentence, not the
    token (an empty third part is an unsecured token's, and kept)."""
    parts = c.split('.')[:5]
    if len(parts) == 4 and parts[3] == '':
        parts = parts[:3]
    if len(parts) < 3 or not parts[0].startswith('eyJ') or \
            len(parts[0]) < 10:
        return 0
    return len('.'.join(parts))


def ref_auth(c):
    """The credential's (start, end) in c, or None."""
    m = re.fullmatch(r'(?i:bearer|basic)[ \t+]+([A-Za-z0-9._~+/-]+=*)', c)
    return m.span(1) if m else None


def aton(host):
    """inet_aton's reading, from its manual page."""
    parts = host.split('.')
    if not 1 <= len(parts) <= 4:
        return None
    vals = []
    for p in parts:
        if re.fullmatch(r'0[xX][0-9A-Fa-f]+', p):
            v = int(p[2:], 16)
        elif re.fullmatch(r'0[0-7]*', p):
            v = int(p, 8)
        elif re.fullmatch(r'[1-9][0-9]*', p):
            v = int(p)
        else:
            return None
        vals.append(v)
    if any(v > 255 for v in vals[:-1]) or \
            vals[-1] >= 1 << (8 * (5 - len(vals))):
        return None
    return vals


def ref_opaque(v):
    """An unlisted query value that is an id: 16 bytes or more of
    [A-Za-z0-9_/-] ('+' is a blank in a raw query string), '=' padding,
    not a path, letters in it; hex with digits and letters of one case,
    or letters and digits switching at least every fifth byte (letter
    cases every third, without digits, from 20 bytes on)."""
    core = v
    while len(core) > 16 and core.endswith('='):
        core = core[:-1]
    if len(core) < 16 or core[0] == '/' or \
            not re.fullmatch(r'[A-Za-z0-9_/-]+', core):
        return False
    kinds = [0 if ch.isdigit() else 1 if ch.islower() else 2
             for ch in core if ch.isalnum()]
    if not any(k for k in kinds):
        return False
    switches = sum(1 for a, b in zip(kinds, kinds[1:]) if a != b)
    digits = 0 in kinds
    if digits and re.fullmatch(r'[0-9a-f]+|[0-9A-F]+', core):
        return True
    if digits:
        return switches * 5 >= len(core)
    return 1 in kinds and 2 in kinds and len(core) >= 20 and \
        switches * 3 >= len(core)


def opaque_cands(r):
    words = ('blackfriday', 'promo', 'summer', 'Example', 'Live', 'ch')
    for _ in range(500):
        k = r.randrange(4)
        n = r.randrange(10, 40)
        if k == 0:
            v = ''.join(r.choice('0123456789abcdef') for _ in range(n))
        elif k == 1:
            v = ''.join(r.choice(B64URL) for _ in range(n))
        elif k == 2:
            v = ''.join(r.choice(words) + str(r.randrange(3000))
                        for _ in range(r.randrange(1, 4)))
        else:
            v = ''.join(r.choice(B64URL + '+/=') for _ in range(n))
        if r.random() < 0.2:
            v = v.upper()
        yield v + '=' * (r.randrange(3) if r.random() < 0.2 else 0)


# ---- candidates ----

def mutate(r, s, alphabet):
    s = list(s)
    k = r.randrange(3)
    i = r.randrange(len(s))
    if k == 0:
        s[i] = r.choice(alphabet)
    elif k == 1:
        del s[i]
    else:
        s.insert(i, r.choice(alphabet))
    return ''.join(s)


def is_ip(c):
    try:
        ipaddress.ip_address(c)
        return True
    except ValueError:
        return False


def mac_cands(r):
    for _ in range(400):
        b = ['%02x' % r.randrange(256) for _ in range(6)]
        sep = r.choice(':-')
        c = sep.join(b) if r.random() < 0.7 else '%s%s.%s%s.%s%s' % tuple(b)
        if r.random() < 0.3:
            c = c.upper()
        c = mutate(r, c, HEX + ':-.g') if r.random() < 0.4 else c
        if '::' not in c and not is_ip(c):  # IPv6 is tried first
            yield c


def imei_cands(r):
    for _ in range(400):
        d = r.choice('3589') + ''.join(r.choice('0123456789')
                                       for _ in range(14))
        if r.random() < 0.6:  # fix the check digit
            for last in '0123456789':
                if luhn(d[:14] + last):
                    d = d[:14] + last
                    break
        if r.random() < 0.3:
            sep = r.choice('- ')
            d = sep.join((d[:2], d[2:8], d[8:14], d[14:]))
        d = mutate(r, d, '0123456789-') if r.random() < 0.3 else d
        if not d.startswith('0'):  # Japanese phone numbers start with 0
            yield d


def card_cands(r):
    """Numbers of every issuer and of none, plain and in printed groups,
    with right and wrong check digits, then mutated."""
    for _ in range(400):
        pre = r.choice(('4', '51', '55', '2221', '2720', '34', '37', '300',
                        '36', '38', '3528', '3589', '6011', '644', '65',
                        '62', '1', '7', '56', '2220'))
        n = r.choice((13, 14, 15, 16, 17, 19))
        d = pre + ''.join(r.choice('0123456789')
                          for _ in range(n - len(pre)))
        if r.random() < 0.7:
            d = d[:-1] + next(x for x in '0123456789' if luhn(d[:-1] + x))
        if r.random() < 0.5:
            shape, at, groups = r.choice(CARD_SHAPES), 0, []
            for g in shape:
                groups.append(d[at:at + g])
                at += g
            d = r.choice(' -').join(x for x in groups + [d[at:]] if x)
        yield mutate(r, d, '0123456789- ') if r.random() < 0.3 else d


def jwt_cands(r):
    heads = ('eyJhbGciOiJIUzI1NiJ9', 'eyJhbGciOiJub25lIn0', 'eyJ0eXAi')
    for _ in range(400):
        n = r.choice((2, 3, 3, 3, 4, 5))
        parts = [r.choice(heads)] + [
            ''.join(r.choice(B64URL) for _ in range(r.randrange(0, 30)))
            for _ in range(n - 1)]
        c = '.'.join(parts)
        yield mutate(r, c, B64URL) if r.random() < 0.2 else c


def auth_cands(r):
    for _ in range(300):
        scheme = r.choice(('Bearer', 'bearer', 'BASIC', 'Basic', 'Bear',
                           'Bearerx'))
        sep = r.choice((' ', '  ', '+', '\t', ''))
        cred = ''.join(r.choice(B64URL + '._~+/') for _ in
                       range(r.randrange(0, 30))) + '=' * r.randrange(3)
        yield scheme + sep + cred


def host_cands(r):
    for _ in range(400):
        n = r.randrange(1, 5)
        parts = []
        for k in range(n):
            v = r.randrange(1 << (8 if k < n - 1 else 8 * (5 - n)))
            if r.random() < 0.05:
                v += 256
            form = r.randrange(3)
            parts.append(('%d' % v, '0x%X' % v, '0%o' % v)[form])
        c = '.'.join(parts)
        if r.random() < 0.2:
            c = mutate(r, c, '0123456789abcdefxX.')
        if not re.search(r'\d{14}', c):  # an IMEI, if its check fits
            yield c


# ---- runs ----

def plans(ctx, rule, lines):
    """[(rendered, [(cls, off, len)])] per line, from `rules test`."""
    src = ctx.path('in-%d.txt' % (len(lines) + hash(rule) % 1000))
    with open(src, 'w', encoding='utf-8') as f:
        f.writelines(line + '\n' for line in lines)
    proc = ctx.run(['rules', 'test', rule, '--in', src])
    ctx.expect(proc, 0, 'rules test')
    out = []
    for line in proc.stdout.decode('utf-8').split('\n'):
        if line[:1].isdigit():
            out.append([])
        elif line.startswith('\t') and out:
            out[-1] = [(m.group(1), int(m.group(2)), int(m.group(3)))
                       for m in SPAN_RE.finditer(line)]
    check(len(out) == len(lines), 'rules test: %d plans for %d lines'
          % (len(out), len(lines)))
    return out


def compare(ctx, rule, name, cands, want_of, pre='x ', post=', y'):
    """want_of(c) -> [(cls, start, end)] within c, or []. Each candidate
    is planned in a line pre + c + post."""
    cands = list(cands)
    got = plans(ctx, rule, [pre + c + post for c in cands])
    bad = []
    for c, spans in zip(cands, got):
        have = [(cls, off - len(pre), off - len(pre) + n)
                for cls, off, n in spans]
        if have != want_of(c):
            bad.append('%r: got %s, want %s' % (c, have, want_of(c)))
    check(not bad, '%s: %d of %d candidates differ from the reference, '
          'e.g. %s' % (name, len(bad), len(cands), bad[:3]))
    taken = sum(1 for c in cands if want_of(c))
    check(0 < taken < len(cands), '%s: the candidates are all alike (%d of '
          '%d taken)' % (name, taken, len(cands)))
    print('ok %s: %d candidates, %d taken' % (name, len(cands), taken))


def whole(cls, ref):
    return lambda c: [(cls, 0, len(c))] if ref(c) else []


def pct_decode(s):
    b = s.encode()
    while True:
        n = unquote_to_bytes(b)
        if n == b:
            return b
        b = n


def check_decoder(ctx, keys, rule):
    r = random.Random(3986)
    values = []
    for _ in range(300):
        local = ''.join(r.choice('abcXYZ019._+-') for _ in
                        range(r.randrange(1, 10)))
        v = local + '@' + r.choice(('example.com', 'Ex.ORG'))
        enc = ''.join('%%%02X' % ord(ch) if r.random() < 0.4 else ch
                      for ch in v)
        # Some escapes encoded again, once or twice: %40 -> %2540.
        for _ in range(r.randrange(3)):
            enc = ''.join('%25' if ch == '%' and r.random() < 0.5 else ch
                          for ch in enc)
        values.append((v, enc))
    lines = []
    for v, enc in values:
        lines.append('/a?email=%s' % enc)
        lines.append('/a?email=%s' % pct_decode(enc).decode())
    vault = ctx.path('vault-decoder')
    proc, _ = ctx.pipe(rule, keys, vault,
                       input=''.join(x + '\n' for x in lines).encode(),
                       out='-')
    out = proc.stdout.decode().split('\n')
    toks = [lslib.TOKEN_RE.findall(x) for x in out[:len(lines)]]
    _, found = ctx.unseal(keys, vault, sorted({t for ts in toks for t in ts}),
                          code=0)
    bad = []
    for k, (v, enc) in enumerate(values):
        a, b = toks[2 * k], toks[2 * k + 1]
        want = pct_decode(enc).decode().lower()
        if len(a) != 1 or a != b or found[a[0]][1] != want:
            bad.append(enc)
    check(not bad, 'decoder: %d of %d encoded values get another token or '
          'original than Python decodes (e.g. %s)'
          % (len(bad), len(values), lslib.redact(repr(bad[:3]))))
    print('ok decoder: %d values' % len(values))


def check_one_subject(ctx, keys, rule):
    """Three spellings of one e-mail are one subject for `disclose`, asked
    for in any of them."""
    spellings = ('john%40example.com', 'John@Example.com',
                 'john%2540EXAMPLE.com')
    seg = ctx.path('subject.log.gz')
    data = ''.join('/a?email=%s&n=%d\n' % (v, k)
                   for k, v in enumerate(spellings)).encode()
    ctx.pipe(rule, keys, ctx.path('vault-subject'), input=data, out=seg)
    for ask in spellings:
        proc = ctx.run(['disclose', '--keys', keys, '--vault',
                        ctx.path('vault-subject'), '--case', 'IT-SUBJ',
                        '--subject', ask, seg])
        ctx.expect(proc, 0, 'disclose --subject')
        got = [ln for ln in proc.stdout.decode().splitlines()
               if ln.startswith('/a?')]
        check(len(got) == 3 and all('john@example.com' in ln for ln in got),
              'disclose of one spelling finds %d of 3 records' % len(got))
    print('ok one subject: 3 spellings, each finds all 3 records')


def body(ctx):
    r = random.Random(13)
    scrub = ctx.path('diff-scrub.rules')
    query = ctx.path('diff-query.rules')
    with open(scrub, 'w') as f:
        f.write(SCRUB_RULE)
    with open(query, 'w') as f:
        f.write(QUERY_RULE)
    compare(ctx, scrub, 'mac', mac_cands(r), whole('id', ref_mac))
    compare(ctx, scrub, 'imei', imei_cands(r), ref_number)
    compare(ctx, scrub, 'card', card_cands(r), ref_number)
    compare(ctx, scrub, 'jwt', jwt_cands(r),
            lambda c: [('secret', 0, ref_jwt(c))] if ref_jwt(c) else [])

    def auth_want(c):
        span = ref_auth(c)
        return [('secret',) + span] if span else []
    compare(ctx, scrub, 'auth', auth_cands(r), auth_want)

    hosts = list(host_cands(r))

    def host_want(url):
        host = url[len('http://'):-len('/p')]
        return [('ip', 7, 7 + len(host))] if aton(host) else []
    compare(ctx, scrub, 'urlhost', ['http://%s/p' % h for h in hosts
                                    if not re.fullmatch(r'[\d.]+', h) or
                                    h.count('.') != 3], host_want)
    users = []
    for _ in range(300):
        u = ''.join(r.choice('abcXYZ09._~-!$') for _ in range(r.randrange(4)))
        p = ''.join(r.choice('abcXYZ09._~-!$:') for _ in
                    range(r.randrange(4)))
        users.append((u, p if r.random() < 0.7 else None))

    def info_want(url):
        info = url[len('https://'):url.index('@host.example')]
        u, colon, p = info.partition(':')
        want = []
        if u:
            want.append(('user', 8, 8 + len(u)))
        if colon and p:
            want.append(('secret', 8 + len(u) + 1, 8 + len(info)))
        return want
    compare(ctx, scrub, 'userinfo',
            ['https://%s%s@host.example/x' % (u, '' if p is None else ':' + p)
             for u, p in users], info_want)
    compare(ctx, query, 'opaque', ['/a?v=%s' % v for v in opaque_cands(r)],
            lambda c: [('id', 5, len(c))] if ref_opaque(c[5:]) else [],
            pre='', post='')
    keys = ctx.keygen()
    check_decoder(ctx, keys, query)
    check_one_subject(ctx, keys, query)


if __name__ == '__main__':
    lslib.main(body)
