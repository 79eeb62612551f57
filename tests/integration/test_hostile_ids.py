#!/usr/bin/env python3
"""No identifier escapes: the hostile corpus on every shipped rule.

    test_hostile_ids.py LOGSEAL_BINARY SOURCE_ROOT

tests/data/hostile/ids.tsv (written by tests/tools/hostile_ids.py) holds
spellings of device ids, secrets, percent-encoded and non-canonical
addresses, ip-field values, and look-alikes that must stay. Each spelling
is placed, one per line, in every spot of every shipped rule's lines that
its kind allows (a request path, query string, referer, user agent,
X-Forwarded-For, JSON value named by the rule or not, W3C column, rtmp
$args, a syslog line for the text rule; JSON lines as three writers
escape them, nginx lines with bytes beyond ASCII as nginx writes them,
\\xHH), the lines go through `logseal pipe`, and:

- every line is read by its rule (none falls back to the scrubber), none
  is lost;
- no GONE text of the spelling (its identifying parts, raw and decoded)
  is in the output line;
- a look-alike is in the output line unchanged;
- `--rule auto` on the text rule's lines falls back to it, with a
  warning;
- every token of the output unseals to an original the corpus or the
  line's template holds (so nothing is stored as someone else's value:
  %31%39%32.168.7.4 is 192.168.7.4, never 32.168.7.4), and each
  spelling's originals are among its line's tokens, in their class.
"""

import json
import os
import re

import lslib
from lslib import check

# A token may follow a letter or digit of the raw text (device_id%3Did_..):
# no \b before it. An address field's value is an ip6-mode address.
TOKEN_RE = re.compile(r'(?:%s)_[a-z2-7]{26}(?![a-z2-7])|%s'
                      % ('|'.join(lslib.TOKEN_CLASSES), lslib.FD_PATTERN))

TIME = '[05/Mar/2024:10:20:30 +0900]'
UA = 'VLC/3.0.20'
ADDR = '203.0.113.7'
POST = {'time': '2024-03-05T10:20:30+09:00', 'event': 'comment.post',
        'channel': 4, 'user_id': 5319990, 'ip': ADDR,
        # Beyond ASCII: PHP writes \u6e21...; its token is the name's.
        'user_name': '渡辺たろう',
        'port': 51234, 'device_id': '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
        'ua': UA, 'message': 'hello'}
# What the templates hold that is tokenized anyway.
# nginx-main's trailing fields are free text read with the param pairs:
# the template's rid=<32 hex digits> is an opaque value there, an id
# (normalized as the UUID its digits spell).
TEMPLATE = {('ip', ADDR), ('ip', '198.51.100.9'), ('user', '5319990'),
            ('name', POST['user_name']), ('id', POST['device_id']),
            ('id', '1f1f1f1f-1f1f-1f1f-1f1f-1f1f1f1f1f1f')}
W3C_HEAD = ('#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem '
            'cs-uri-query sc-status cs(User-Agent) cs(Referer) '
            'x-forwarded-for\n')


def load_corpus(root):
    path = os.path.join(root, 'tests', 'data', 'hostile', 'ids.tsv')
    out = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('#'):
                continue
            kind, text, gone, orig = line.rstrip('\n').split('\t')
            origs = set()
            if orig != '-':
                for o in orig.split('|'):
                    cls, _, val = o.partition('=')
                    origs.add((cls, val))
            out.append((kind, text, [g for g in gone.split('|') if g],
                        origs))
    return out


def no(text, chars):
    return not any(c in text for c in chars)


# Spots: (name, kinds it takes, how a spelling becomes that spot's value).
# A spot's value must not break its format: no blank in a request line,
# no '"' in a quoted nginx value, no ',' or blank in an X-Forwarded-For
# element.
def spots_for(kind, t):
    plain = no(t, ' \t"#?&;') and '\\' not in t
    s = {}
    if kind in ('text', 'neg') and plain:
        s['path'] = '/live/%s/x' % t
    if kind in ('text', 'neg', 'auth') and plain:
        s['qvalue'] = 'q=%s&z=1' % t
        s['referer'] = 'https://ref.example/p?r=%s' % t
    if kind in ('text', 'neg', 'negua', 'auth', 'phone', 'label') and \
            no(t, '"\t\\'):
        s['ua'] = 'Mozilla/5.0 (X11) %s end' % t
    if kind in ('text', 'neg', 'auth', 'phone', 'label') and \
            no(t, '"\t\\'):
        s['free'] = 'msg %s end' % t
        s['unnamed'] = 'note %s end' % t
    if kind == 'seg' and plain:
        s['path'] = '/devices/%s/config' % t
    if kind == 'pair' and no(t, ' \t"#&\\'):
        s['query'] = '%s&z=1' % t
        s['referer'] = 'https://ref.example/p?%s' % t
        s['kv'] = 'msg %s end' % t
        s['ua'] = 'ExampleLive/5.12.0 (Android 14; %s; Pixel 7)' % t
    if kind == 'ip' and no(t, ' \t"'):
        s['ip'] = t
        if no(t, ','):
            s['xff'] = '198.51.100.9, %s' % t
    return s


def nginx_line(rule, sp):
    path = sp.get('path', '/live/ch1/index.m3u8')
    query = sp.get('query', sp.get('qvalue', 'ch=1'))
    line = '%s - - %s "GET %s?%s HTTP/1.1" 200 512 "%s" "%s"' % (
        sp.get('ip', ADDR), TIME, path, query, sp.get('referer', '-'),
        sp.get('ua', UA))
    if rule == 'nginx-main':
        line += ' "%s" rid=%s %s' % (sp.get('xff', '-'), '1f' * 16,
                                     sp.get('free', ''))
    elif rule == 'nginx-disclosure':
        line += ' 51234 192.0.2.10:443 1709601630.123 %s' % ('4f' * 16)
    return line


# How a JSON log's writer escapes: as it is (nginx escape=json, Node,
# Python with ensure_ascii=False); "php": every character beyond ASCII as
# \uXXXX and '/' as '\/' (PHP's json_encode, Python's json.dumps by
# default, without the slashes); "go": '&', '<' and '>' as \u0026...
# (Go's encoding/json).
def dump(rec, style):
    if style == 'php':
        return json.dumps(rec, separators=(',', ':')).replace('/', '\\/')
    text = json.dumps(rec, ensure_ascii=False, separators=(',', ':'))
    if style == 'go':
        for c in '&<>':
            text = text.replace(c, '\\u%04x' % ord(c))
    return text


def unnamed(rec, sp):
    """A key the rule does not name: its value is read as free text."""
    if 'unnamed' in sp:
        rec['note'] = sp['unnamed']
    return rec


def json_line(sp, style=None):
    rec = {'time': '2024-03-05T10:20:30+09:00',
           'remote_addr': sp.get('ip', ADDR), 'remote_port': '51234',
           'x_forwarded_for': sp.get('xff', ''), 'remote_user': '',
           'request': 'GET %s?%s HTTP/1.1' % (
               sp.get('path', '/live/ch1.m3u8'),
               sp.get('query', sp.get('qvalue', 'ch=1'))),
           'status': 200, 'body_bytes_sent': 512,
           'http_referer': sp.get('referer', '-'),
           'http_user_agent': sp.get('ua', UA), 'request_id': '4f' * 16}
    return dump(unnamed(rec, sp), style)


def rtmp_line(sp):
    args = sp.get('query', sp.get('qvalue', 'ch=1'))
    return '%s %s PLAY "live" "ch1" "%s" - 100 200 "%s" "%s" (1m 5s)' % (
        sp.get('ip', ADDR), TIME, args, sp.get('referer', ''),
        sp.get('ua', 'FMLE/3.0 (compatible; FMSc/1.0)'))


def posting_line(sp, style=None):
    rec = dict(POST)
    rec['ip'] = sp.get('ip', ADDR)
    rec['ua'] = sp.get('ua', UA)
    rec['message'] = sp.get('free', sp.get('kv', 'hello'))
    return dump(unnamed(rec, sp), style)


def w3c_line(sp):
    cols = ('2024-03-05', '10:20:30', sp.get('ip', ADDR), 'GET',
            sp.get('path', '/live/ch1.m3u8'),
            sp.get('query', sp.get('qvalue', 'ch=1')), '200',
            sp.get('ua', UA), sp.get('referer', '-'), sp.get('xff', '-'))
    return '\t'.join(cols)


JSON_SPOTS = ('path', 'qvalue', 'query', 'referer', 'ua', 'ip', 'xff',
              'unnamed')
POST_SPOTS = ('ua', 'ip', 'free', 'kv', 'unnamed')

# name -> (spots it has, line builder); a name is a rule's, or a rule's
# and a JSON writer's style after a '+'.
RULES = {
    'nginx-combined': (('path', 'qvalue', 'query', 'referer', 'ua', 'ip'),
                       lambda sp: nginx_line('nginx-combined', sp)),
    'nginx-main': (('path', 'qvalue', 'query', 'referer', 'ua', 'ip', 'xff',
                    'free'), lambda sp: nginx_line('nginx-main', sp)),
    'nginx-combined+x': (('path', 'qvalue', 'query', 'referer', 'ua', 'ip'),
                         lambda sp: nginx_escaped(
                             nginx_line('nginx-combined', sp))),
    'nginx-main+x': (('path', 'qvalue', 'query', 'referer', 'ua', 'ip', 'xff',
                      'free'), lambda sp: nginx_escaped(
                          nginx_line('nginx-main', sp))),
    'nginx-disclosure': (('path', 'qvalue', 'query', 'referer', 'ua', 'ip'),
                         lambda sp: nginx_line('nginx-disclosure', sp)),
    'nginx-json': (JSON_SPOTS, json_line),
    'nginx-json+php': (JSON_SPOTS, lambda sp: json_line(sp, 'php')),
    'nginx-json+go': (JSON_SPOTS, lambda sp: json_line(sp, 'go')),
    'nginx-rtmp': (('qvalue', 'query', 'referer', 'ua', 'ip'), rtmp_line),
    'posting': (POST_SPOTS, posting_line),
    'posting+php': (POST_SPOTS, lambda sp: posting_line(sp, 'php')),
    'posting+go': (POST_SPOTS, lambda sp: posting_line(sp, 'go')),
    'w3c': (('path', 'qvalue', 'query', 'referer', 'ua', 'ip', 'xff'),
            w3c_line),
    'text': (('free', 'kv'),
             lambda sp: 'Dec  7 01:02:03 web1 app[42]: %s' % (
                 sp.get('free') or sp.get('kv'))),
}


def build(rule, corpus):
    """[(line, entry)] for every spelling in every spot the rule has."""
    spots, make = RULES[rule]
    out = []
    for e in corpus:
        kind, text = e[0], e[1]
        for name, value in spots_for(kind, text).items():
            if name not in spots:
                continue
            # The rtmp player column is no user agent: no versions kept.
            if kind == 'negua' and rule in ('nginx-rtmp', 'text'):
                continue
            out.append((make({name: value}), e))
    return out


def nginx_escaped(line):
    """A line as nginx's escape=default writes it: bytes beyond ASCII as
    \\xHH."""
    return ''.join(c if ord(c) < 0x7f else
                   ''.join('\\x%02X' % b for b in c.encode())
                   for c in line)


XESC_RE = re.compile(r'(?:\\x[0-9A-Fa-f]{2})+')


def readable(name, line):
    """An output line as its reader sees it: escapes read."""
    if '+' not in name or not line:
        return line
    if name.endswith('+x'):
        return XESC_RE.sub(lambda m: bytes.fromhex(
            m.group(0).replace('\\x', '')).decode('utf-8', 'replace'), line)
    try:
        return json.dumps(json.loads(line), ensure_ascii=False)
    except ValueError as e:
        check(False, '%s: an output line is no JSON (%s)' % (name, e))


def run_rule(ctx, keys, name, corpus):
    cases = build(name, corpus)
    rule = name.partition('+')[0]
    head = W3C_HEAD if rule == 'w3c' else ''
    data = (head + ''.join(c[0] + '\n' for c in cases)).encode()
    vault = ctx.path('vault-' + name)
    proc, summ = ctx.pipe(rule, keys, vault, input=data, out='-')
    out = [readable(name, line) for line in proc.stdout.decode(
        'utf-8').split('\n')[len(head.splitlines()):]]
    check(summ['lines_in'] == summ['lines_out'] == len(cases) +
          len(head.splitlines()), '%s: lines lost: %s' % (rule, summ))
    check(summ['unparsed'] == 0, '%s: %d lines not read by the rule'
          % (rule, summ['unparsed']))
    return cases, out, vault


def check_rule(ctx, keys, rule, corpus, allowed):
    cases, out, vault = run_rule(ctx, keys, rule, corpus)
    tokens = sorted({t for line in out for t in TOKEN_RE.findall(line)})
    _, found = ctx.unseal(keys, vault, tokens, code=0)
    wrong = {t: v for t, v in found.items()
             if v == 'not-found' or (v[0], v[1]) not in allowed}
    check(not wrong, '%s: %d tokens unseal to a value no spelling holds '
          '(e.g. %s)' % (rule, len(wrong),
                         lslib.redact(repr(list(wrong.values())[:3]))))
    leaks, missing, changed = [], [], []
    for (line, (kind, text, gone, origs)), got in zip(cases, out):
        # Searched for outside the tokens: a token is random text, and
        # 1 in ~1,400 holds a given 3 letters such as "bob".
        if any(g in TOKEN_RE.sub(' ', got) for g in gone):
            leaks.append(text)
        have = {found[t][:2] for t in TOKEN_RE.findall(got)}
        if not origs <= have:
            missing.append(text)
        if kind.startswith('neg') and text not in got:
            changed.append(text)
    check(not leaks, '%s: %d spellings survive: %s' % (
        rule, len(leaks), lslib.redact(repr(leaks[:8]))))
    check(not missing, '%s: %d spellings lack their token(s): %s' % (
        rule, len(missing), lslib.redact(repr(missing[:8]))))
    check(not changed, '%s: %d look-alikes changed: %s' % (
        rule, len(changed), changed[:8]))
    print('ok %s: %d lines, %d tokens' % (rule, len(cases), len(tokens)))


def body(ctx):
    corpus = load_corpus(ctx.root)
    positives = [e for e in corpus if not e[0].startswith('neg')]
    check(len(positives) >= 300, 'the corpus holds %d spellings, not 300'
          % len(positives))
    allowed = set(TEMPLATE)
    for e in corpus:
        allowed |= e[3]
    keys = ctx.keygen()
    for rule in RULES:
        check_rule(ctx, keys, rule, corpus, allowed)
    check_auto(ctx, keys, corpus)


def check_auto(ctx, keys, corpus):
    """--rule auto on lines no rule reads: the text rule, with a warning,
    and the same output as --rule text."""
    cases = build('text', corpus)
    data = ''.join(c[0] + '\n' for c in cases).encode()
    auto, _ = ctx.pipe('auto', keys, ctx.path('vault-auto'), input=data,
                       out='-')
    text, _ = ctx.pipe('text', keys, ctx.path('vault-text'), input=data,
                       out='-')
    err = auto.stderr.decode()
    check('--rule auto: no rule matches' in err and 'using text' in err,
          '--rule auto does not warn of its fallback: %s' % lslib.redact(err))
    check(auto.stdout == text.stdout, '--rule auto differs from --rule text')
    print('ok --rule auto: text, with a warning')


if __name__ == '__main__':
    lslib.main(body)
