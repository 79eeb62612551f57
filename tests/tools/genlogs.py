#!/usr/bin/env python3
"""Deterministic synthetic logs of a live-streaming service, for logseal tests.

    genlogs.py FORMAT LINES [--seed N] [--distinct N] [--start EPOCH]
               [--truth FILE] [--w3c-switch]

Writes LINES log records of FORMAT to stdout (w3c adds its header lines on
top of the records). Formats: nginx, nginx-xff, rtmp, posting, w3c.

A fixed population of --distinct clients (each with an address, a device
UUID, a user id and a user name) makes the traffic; popularity is Zipf-like,
so a few heavy viewers make much of it and a long tail appears rarely.
Client addresses: ~68% public IPv4, ~24% canonical IPv6, ~4% IPv4-mapped
IPv6, ~2% private 10.x, ~2% IPv6 in a non-canonical spelling (upper case or
zero-padded groups).

--truth FILE receives every identifier value written to the output, as
written, one per line, sorted and deduplicated: addresses (clients, proxies,
addresses in chat messages), device ids, user ids (decimal), user names,
stream keys, playlist tokens, e-mail addresses and phone numbers in
messages, session cookie values. Request ids (rid=) are not identifiers of
a person and are not listed.

Only the standard library is used. The same arguments always give the same
bytes: every random choice comes from one random.Random(seed), and derived
secrets come from BLAKE2b over the seed.
"""

import argparse
import bisect
import hashlib
import ipaddress
import itertools
import json
import random
import os
import sys
import time

FORMATS = ('nginx', 'nginx-xff', 'rtmp', 'posting', 'w3c')
DEFAULT_START = 1764403200  # 2025-11-29T08:00:00Z, 17:00 in Tokyo
JST = 9 * 3600
MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun',
          'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')
SITE = 'https://live.example.jp'
CHANNELS = 48

# Address kinds of the client population and their shares.
ADDR_KINDS = ('v4', 'v6', 'mapped', 'private', 'v6odd')
ADDR_WEIGHTS = (68, 24, 4, 2, 2)

# Documentation ranges are kept out of the client population: CDN edges
# live in 203.0.113.0/24, intermediate proxies in 192.0.2.0/24.
CDN_POOL = tuple('203.0.113.%d' % i for i in range(10, 18))
MID_POOL = tuple('192.0.2.%d' % i for i in (7, 31, 64, 99, 130))

V6_PREFIXES = (0x24004050, 0x240b0010, 0x24090010, 0x24047a80,
               0x2a0104f8, 0x26001700, 0x2406da14, 0x240f0001)

# Client platforms: (weight, page/API user agent, media player user agent).
PLATFORMS = (
    (25, 'ExampleLive/5.12.0 (iPhone; iOS 17.1.2; Scale/3.00)',
     'AppleCoreMedia/1.0.0.21B101 (iPhone; U; CPU OS 17_1_2 like Mac OS X;'
     ' ja_jp)'),
    (24, 'ExampleLive/5.12.0 (Android 14; Pixel 7)',
     'ExampleLive/5.12.0 (Linux;Android 14) ExoPlayerLib/2.19.1'),
    (12, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)'
     ' AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148'
     ' Safari/604.1',
     'AppleCoreMedia/1.0.0.21B101 (iPhone; U; CPU OS 17_1 like Mac OS X;'
     ' ja_jp)'),
    (18, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36'
     ' (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36', None),
    (6, 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)'
     ' AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
     None),
    (5, 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101'
     ' Firefox/120.0', None),
    (5, 'VLC/3.0.20 LibVLC/3.0.20', None),
    (3, 'curl/8.4.0', None),
    (2, '-', None),
)
BROWSER_PLATFORMS = frozenset((2, 3, 4, 5))

SEARCH_REFERERS = (
    'https://www.google.com/search?q=%E9%85%8D%E4%BF%A1+%E3%83%A9%E3%82%A4%E3'
    '%83%96',
    'https://www.google.co.jp/',
    'https://search.yahoo.co.jp/search?p=example+live&ei=UTF-8',
    'https://www.bing.com/search?q=example+live+ch12',
)

STATIC_FILES = (
    ('/static/js/app.3f9c2a1e.js', 182311),
    ('/static/js/vendor.8d1b0c77.js', 512044),
    ('/static/css/main.a91e4b20.css', 40213),
    ('/static/img/logo.svg', 5120),
    ('/static/img/ogp.png', 88231),
    ('/favicon.ico', 15086),
)
JUNK_PATHS = ('/wp-login.php', '/.env', '/admin/config.php', '/.git/config',
              '/live/ch0/index.m3u8', '/api/v0/channels', '/robots.txt.bak')

SYLLABLES = ('hikari', 'sakura', 'yuki', 'taro', 'ren', 'mio', 'kaito',
             'haru', 'sora', 'aoi', 'riku', 'mei', 'nagi', 'kuma', 'neko',
             'tomo', 'pixel', 'night', 'blue', 'moca', 'rin', 'shiro')

MESSAGES = (
    'こんにちは', '初見です', '草', 'www', '8888888', 'かわいい', 'きたー',
    '待機', 'おつかれさまでした', 'うまい！', 'それな', '音ズレしてる？',
    '今日も最高', 'ナイス！', 'nice stream!', 'gg', 'lol', 'first time here',
    'hello from Osaka', 'can you play the new song?', 'audio is a bit low',
    'おやすみ〜', '神回', 'もう一回！', 'LOL that was close', 'ありがとう',
)
PII_TEMPLATES = (
    ('email', '連絡は {} まで'), ('email', 'mail me at {} please'),
    ('phone', '電話して {} でお願い'), ('phone', 'call {} now'),
    ('ip', 'サーバーのIPは {} です'), ('ip', 'my ip is {} lol'),
)
MAIL_DOMAINS = ('example.com', 'example.net', 'mail.example.jp',
                'Example.org')


def zipf_cum(n, s, q):
    """Cumulative Zipf-Mandelbrot weights for ranks 0..n-1."""
    return list(itertools.accumulate(1.0 / (k + q) ** s for k in range(n)))


class Client:
    __slots__ = ('addr', 'kind', 'dev', 'uid', 'name', 'plat', 'fav')


class Gen:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.seed = args.seed
        self.t = args.start
        self.start = args.start
        self.truth = set()
        self._secrets = {}
        self._tl_t = None
        self.clients = self._population(args.distinct)
        self.cum = zipf_cum(len(self.clients), 1.05, 2.7)
        self.ch_cum = zipf_cum(CHANNELS, 0.9, 1.0)
        self.plat_cum = list(itertools.accumulate(p[0] for p in PLATFORMS))
        # The channel owners: one publishing client per channel.
        self.owners = [self.clients[self.rng.randrange(len(self.clients))]
                       for _ in range(CHANNELS)]

    # ---- population ----

    def _population(self, n):
        rng = self.rng
        kinds = rng.choices(ADDR_KINDS, weights=ADDR_WEIGHTS, k=n)
        seen_addr, seen_uid, seen_name = set(), set(), set()
        plat_cum = list(itertools.accumulate(p[0] for p in PLATFORMS))
        out = []
        for kind in kinds:
            c = Client()
            c.kind = kind
            c.addr = self._unique(seen_addr, lambda k=kind: self._addr(k))
            c.dev = self._uuid()
            c.uid = self._unique(seen_uid,
                                 lambda: rng.randrange(1000000, 99999999))
            c.name = self._unique(seen_name, self._name)
            c.plat = bisect.bisect(plat_cum, rng.random() * plat_cum[-1])
            c.fav = 1 + int(rng.random() ** 2 * CHANNELS)
            out.append(c)
        return out

    @staticmethod
    def _unique(seen, make):
        while True:
            v = make()
            if v not in seen:
                seen.add(v)
                return v

    def _pub4(self):
        rng = self.rng
        while True:
            a = ipaddress.IPv4Address(rng.getrandbits(32))
            if a.is_global and not a.is_multicast:
                return str(a)

    def _v6(self):
        rng = self.rng
        hi = (V6_PREFIXES[rng.randrange(len(V6_PREFIXES))] << 96 |
              rng.getrandbits(32) << 64)
        if rng.random() < 0.5:
            lo = rng.getrandbits(64)  # SLAAC-like interface id
        else:
            lo = rng.randrange(1, 0x10000)  # ::1a2b style host part
        return ipaddress.IPv6Address(hi | lo)

    def _addr(self, kind):
        rng = self.rng
        if kind == 'v4':
            return self._pub4()
        if kind == 'v6':
            return str(self._v6())
        if kind == 'mapped':
            return '::ffff:' + self._pub4()
        if kind == 'private':
            return '10.%d.%d.%d' % (rng.randrange(256), rng.randrange(256),
                                    rng.randrange(1, 255))
        a = self._v6()
        canon = str(a)
        upper = canon.upper()
        if rng.random() < 0.5 and upper != canon:
            return upper
        return a.exploded

    def _uuid(self):
        v = self.rng.getrandbits(128)
        v = (v & ~(0xf << 76) | 4 << 76) & ~(0x3 << 62) | 0x2 << 62
        h = '%032x' % v
        s = '%s-%s-%s-%s-%s' % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
        # A few apps send upper-case ids; normalization must fold them.
        return s.upper() if self.rng.random() < 0.01 else s

    def _name(self):
        rng = self.rng
        a = SYLLABLES[rng.randrange(len(SYLLABLES))]
        b = SYLLABLES[rng.randrange(len(SYLLABLES))]
        if rng.random() < 0.5:
            return '%s_%s%02d' % (a, b, rng.randrange(100))
        return '%s%s%04d' % (a, b, rng.randrange(10000))

    # ---- per-line helpers ----

    def secret(self, kind, *parts):
        """A stable hex secret for (kind, parts) derived from the seed."""
        key = (kind,) + parts
        v = self._secrets.get(key)
        if v is None:
            text = '%d|%s' % (self.seed, '|'.join(map(str, key)))
            v = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
            self._secrets[key] = v
        return v

    def tick(self, p):
        if self.rng.random() < p:
            self.t += 1

    def client(self):
        return self.clients[bisect.bisect(self.cum,
                                          self.rng.random() * self.cum[-1])]

    def channel(self, c):
        if self.rng.random() < 0.7:
            return c.fav
        return 1 + bisect.bisect(self.ch_cum,
                                 self.rng.random() * self.ch_cum[-1])

    def time_local(self):
        if self._tl_t != self.t:
            g = time.gmtime(self.t + JST)
            self._tl = '%02d/%s/%04d:%02d:%02d:%02d +0900' % (
                g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year, g.tm_hour,
                g.tm_min, g.tm_sec)
            self._tl_t = self.t
        return self._tl

    def addr(self, c):
        self.truth.add(c.addr)
        return c.addr

    def dev(self, c):
        self.truth.add(c.dev)
        return c.dev

    def uid(self, c):
        s = str(c.uid)
        self.truth.add(s)
        return s

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]


class NginxGen(Gen):
    """nginx `combined`: HLS, playlists, the comment API, pages, junk."""

    def request(self, c):
        """(request, status, bytes, referer, user agent) of one hit."""
        rng = self.rng
        r = rng.random()
        ch = self.channel(c)
        page_ua, media_ua = PLATFORMS[c.plat][1], PLATFORMS[c.plat][2]
        browser = c.plat in BROWSER_PLATFORMS
        watch = '%s/watch/ch%d' % (SITE, ch)
        if r < 0.52:
            seg = (self.t - self.start) // 6 + 1000 + ch * 37
            if rng.random() < 0.01:
                return ('GET /live/ch%d/seg_%d.ts HTTP/1.1' % (ch, seg - 400),
                        404, 153, watch if browser else '-',
                        media_ua or page_ua)
            return ('GET /live/ch%d/seg_%d.ts HTTP/1.1' % (ch, seg), 200,
                    rng.randrange(300000, 2500000),
                    watch if browser else '-', media_ua or page_ua)
        if r < 0.66:
            tok = self.secret('token', c.uid, self.t // 3600)
            self.truth.add(tok)
            req = ('GET /live/ch%d/index.m3u8?device_id=%s&token=%s HTTP/1.1'
                   % (ch, self.dev(c), tok))
            if rng.random() < 0.03:
                return req, 403, 153, watch if browser else '-', page_ua
            return (req, 200, rng.randrange(380, 420),
                    watch if browser else '-', media_ua or page_ua)
        if r < 0.78:
            since = (self.t - rng.randrange(30)) * 1000 + rng.randrange(1000)
            req = 'GET /api/v1/channels/%d/comments?since=%d HTTP/1.1' % (
                ch, since)
            if rng.random() < 0.2:
                return req, 304, 0, watch if browser else '-', page_ua
            return (req, 200, rng.randrange(100, 8000),
                    watch if browser else '-', page_ua)
        if r < 0.82:
            return ('POST /api/v1/channels/%d/comments HTTP/1.1' % ch, 201,
                    rng.randrange(60, 120), watch, page_ua)
        if r < 0.86:
            other = self.client()
            req = 'GET /u/%s/profile?ref=share&uid=%s HTTP/2.0' % (
                self.uid(other), self.uid(c))
            ref = rng.choice(('-', watch, self.pick(SEARCH_REFERERS)))
            return req, 200, rng.randrange(5000, 20000), ref, page_ua
        if r < 0.94:
            path, size = self.pick(STATIC_FILES)
            if rng.random() < 0.3:
                return 'GET %s HTTP/2.0' % path, 304, 0, watch, page_ua
            return 'GET %s HTTP/2.0' % path, 200, size, watch, page_ua
        if r < 0.97:
            return ('GET /watch/ch%d HTTP/2.0' % ch, 200,
                    rng.randrange(30000, 34000),
                    self.pick(SEARCH_REFERERS + ('-',)), page_ua)
        return ('GET %s HTTP/1.1' % self.pick(JUNK_PATHS), 404, 153, '-',
                page_ua)

    def combined(self, c, remote_addr):
        req, status, size, ref, ua = self.request(c)
        ruser = '-'
        if self.rng.random() < 0.03:
            ruser = c.name
            self.truth.add(ruser)
        return '%s - %s [%s] "%s" %d %d "%s" "%s"' % (
            remote_addr, ruser, self.time_local(), req, status, size, ref, ua)

    def line(self):
        self.tick(0.02)
        c = self.client()
        return self.combined(c, self.addr(c))


class NginxXffGen(NginxGen):
    """nginx behind a CDN: X-Forwarded-For and a request trailer."""

    def line(self):
        rng = self.rng
        self.tick(0.02)
        c = self.client()
        proxy = self.pick(CDN_POOL)
        edge = self.pick(CDN_POOL)
        self.truth.update((proxy, edge))
        r = rng.random()
        if r < 0.01:
            xff = 'unknown, ' + edge
        elif r < 0.04:
            mid = self.pick(MID_POOL)
            self.truth.add(mid)
            xff = '%s, %s, %s' % (self.addr(c), mid, edge)
        else:
            xff = '%s, %s' % (self.addr(c), edge)
        return '%s "%s" rid=%032x dev=%s rt=%.3f' % (
            self.combined(c, proxy), xff, rng.getrandbits(128), self.dev(c),
            rng.random() ** 3 * 2.5)


class RtmpGen(Gen):
    """nginx-rtmp default access log: one line per finished session."""

    def session_time(self, secs):
        h, rest = divmod(secs, 3600)
        m, s = divmod(rest, 60)
        if h:
            return '%dh %dm %ds' % (h, m, s)
        if m:
            return '%dm %ds' % (m, s)
        return '%ds' % s

    def line(self):
        rng = self.rng
        self.tick(0.2)
        r = rng.random()
        if r < 0.82:
            c = self.client()
            cmd, name = 'PLAY', 'ch%d' % self.channel(c)
            secs = int(rng.random() ** 2 * 7200) + 1
            received, sent = rng.randrange(3000, 6000), secs * 250000
            page = rng.choice(('%s/watch/%s' % (SITE, name), ''))
            flash = rng.choice(('LNX 9,0,124,2', 'MAC 10,0,32,18', ''))
        else:
            ch = rng.randrange(CHANNELS)
            c = self.owners[ch]
            cmd = 'PUBLISH' if r < 0.97 else 'PLAY PUBLISH'
            name = 'sk_' + self.secret('streamkey', ch)[:24]
            self.truth.add(name)
            secs = int(rng.random() * 14400) + 1
            received, sent = secs * 750000, rng.randrange(3000, 9000)
            page = ''
            flash = 'FMLE/3.0 (compatible; FMSc/1.0)'
        args = 'device_id=%s&uid=%s' % (self.dev(c), self.uid(c))
        return '%s [%s] %s "live" "%s" "%s" - %d %d "%s" "%s" (%s)' % (
            self.addr(c), self.time_local(), cmd, name, args, received, sent,
            page, flash, self.session_time(secs))


class PostingGen(Gen):
    """The comment/chat posting service: JSON lines."""

    def message(self):
        rng = self.rng
        if rng.random() >= 0.02:
            return self.pick(MESSAGES)
        kind, tmpl = self.pick(PII_TEMPLATES)
        if kind == 'email':
            v = '%s.%s%d@%s' % (self.pick(SYLLABLES), self.pick(SYLLABLES),
                                rng.randrange(1000), self.pick(MAIL_DOMAINS))
        elif kind == 'phone':
            v = '0%d0-%04d-%04d' % (rng.choice((7, 8, 9)),
                                    rng.randrange(10000), rng.randrange(10000))
        elif rng.random() < 0.7:
            v = self._pub4()
        else:
            v = str(self._v6())
        self.truth.add(v)
        return tmpl.format(v)

    def line(self):
        rng = self.rng
        self.tick(0.1)
        c = self.client()
        r = rng.random()
        event = ('comment.post' if r < 0.9 else 'login' if r < 0.95 else
                 'logout' if r < 0.98 else 'account.create')
        g = time.gmtime(self.t + JST)
        rec = {'time': '%04d-%02d-%02dT%02d:%02d:%02d+09:00' % g[:6],
               'event': event}
        if event == 'comment.post':
            rec['channel'] = self.channel(c)
        rec['user_id'] = c.uid
        self.truth.add(str(c.uid))
        rec['user_name'] = c.name
        self.truth.add(c.name)
        rec['ip'] = self.addr(c)
        rec['port'] = rng.randrange(1024, 65536)
        rec['device_id'] = self.dev(c)
        rec['ua'] = PLATFORMS[c.plat][1]
        if event == 'comment.post':
            rec['message'] = self.message()
        return json.dumps(rec, ensure_ascii=False, separators=(',', ':'))


W3C_FIELDS = ('date time c-ip cs-method cs-uri-stem cs-uri-query sc-status'
              ' sc-bytes time-taken cs(User-Agent) x-duration')


class W3cGen(Gen):
    """Wowza-style W3C extended log, optionally switching its #Fields."""

    def __init__(self, args):
        super().__init__(args)
        self.switch_at = args.lines // 2 if args.w3c_switch else -1
        self.n = 0

    def header(self):
        return ['#Version: 1.0', '#Software: Wowza Streaming Engine 4.8.26',
                '#Fields: ' + W3C_FIELDS]

    def line(self):
        rng = self.rng
        out = ''
        if self.n == self.switch_at:
            out = '#Fields: %s x-forwarded-for cs(Cookie)\n' % W3C_FIELDS
        switched = 0 <= self.switch_at <= self.n
        self.n += 1
        self.tick(0.05)
        c = self.client()
        ch = self.channel(c)
        sess = int(self.secret('wsess', c.uid)[:6], 16) % 100000
        if rng.random() < 0.15:
            stem = '/live/ch%d/chunklist_w%d.m3u8' % (ch, sess)
            size = rng.randrange(300, 600)
        else:
            stem = '/live/ch%d/media_w%d_%d.ts' % (
                ch, sess, (self.t - self.start) // 6 + 1)
            size = rng.randrange(300000, 2500000)
        ua = (PLATFORMS[c.plat][2] or PLATFORMS[c.plat][1]).replace(' ', '+')
        g = time.gmtime(self.t)
        row = [time.strftime('%Y-%m-%d', g), time.strftime('%H:%M:%S', g),
               '', 'GET', stem, 'device_id=' + self.dev(c),
               '200', str(size), '%.3f' % (rng.random() * 0.5),
               ua, '%.3f' % (rng.random() * 3600)]
        if switched:
            proxy = self.pick(CDN_POOL)
            self.truth.add(proxy)
            row[2] = proxy
            row.append(self.addr(c))
            if rng.random() < 0.8:
                sid = self.secret('sid', c.uid)
                self.truth.add(sid)
                row.append('sid=%s;+lang=ja' % sid)
            else:
                row.append('-')
        else:
            row[2] = self.addr(c)
        return out + '\t'.join(row)


GENERATORS = {'nginx': NginxGen, 'nginx-xff': NginxXffGen, 'rtmp': RtmpGen,
              'posting': PostingGen, 'w3c': W3cGen}


def parse_args(argv):
    p = argparse.ArgumentParser(
        description='Deterministic synthetic logs for logseal tests.')
    p.add_argument('format', choices=FORMATS)
    p.add_argument('lines', type=int, help='number of log records')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--distinct', type=int, default=20000,
                   help='size of the client population')
    p.add_argument('--start', type=int, default=DEFAULT_START,
                   help='time of the first record, unix seconds')
    p.add_argument('--truth', metavar='FILE',
                   help='write every identifier value written, one a line')
    p.add_argument('--w3c-switch', action='store_true',
                   help='w3c: a second #Fields line halfway through')
    args = p.parse_args(argv)
    if args.lines < 0 or args.distinct < CHANNELS:
        p.error('LINES must be >= 0 and --distinct >= %d' % CHANNELS)
    return args


def main(argv):
    args = parse_args(argv)
    gen = GENERATORS[args.format](args)
    out = sys.stdout.buffer
    chunk = gen.header() if hasattr(gen, 'header') else []
    line = gen.line
    for _ in range(args.lines):
        chunk.append(line())
        if len(chunk) >= 8192:
            chunk.append('')
            out.write('\n'.join(chunk).encode())
            chunk = []
    if chunk:
        chunk.append('')
        out.write('\n'.join(chunk).encode())
    out.flush()
    if args.truth:
        with open(args.truth, 'w', encoding='utf-8', newline='\n') as f:
            f.writelines(v + '\n' for v in sorted(gen.truth))
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        # The reader stopped early (e.g. `| head`): not an error here.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
