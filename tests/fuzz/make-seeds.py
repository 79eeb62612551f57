#!/ usr / bin / env python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

    make-seeds.py [CORPUS_DIR]

Seeds are small realistic inputs in each target's input layout (see the
comment at the top of each fuzz_*.c). Addresses are from documentation
ranges. Re-running rewrites the same files; libFuzzer adds its own finds
next to them only when run-fuzzers is given --merge.
"""

import base64
import os
import struct
import sys

COMBINED = (
    '192.0.2.7 - - [29/Nov/2025:17:00:00 +0900] "GET /live/ch1/index.m3u8?'
    'device_id=2c400b95-48e7-425f-a8ad-45f2335082dc&token=9f0c2b8e9d7a41c3'
    ' HTTP/1.1" 200 512 "-" "VLC/3.0.20"')
MAIN = (
    '2001:db8::7 - alice [29/Nov/2025:17:00:01 +0900] "GET /u/12345/profile'
    '?uid=991&email=a.b@example.com HTTP/2.0" 200 77 "https://example.com/'
    '?sid=abc" "Mozilla/5.0" "198.51.100.3, 203.0.113.9, unknown" rid=1f'
    ' dev=6C7D8E9F-0A1B-4C2D-9E3F-4A5B6C7D8E9F rt=0.012')
FREE = [
    'connect from ec2-198-51-100-23.compute-1.amazonaws.com port 443',
    'peer [2001:DB8:0:0:0:0:0:1A]:8443 closed; mapped ::ffff:192.0.2.44',
    'fe80::1%eth0 and 010.001.002.003 and 1.2.3.4.5 and 12:30:45',
    'mail <Root@Example.ORG>, uuid {0F8E2C1A-3B4D-4E5F-8A9B-0C1D2E3F4A5B}',
    'x' * 300 + ' 203.0.113.250',
    '\x00\x01\xff\xfe 192.0.2.1\r',
]


# Device ids, secrets and encodings (fuzz target ids, and the text rule).
IDS = [
    'mac 00:1A:2B:3C:4D:5E 00-1a-2b-3c-4d-5e 001a.2b3c.4d5e imei '
    '352099001761481 35-209900-176148-1 IMEISV: 3520990017614823',
    'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln '
    'basic+dXNlcjpwYXNz',
    'https://alice:s3cr3t@host.example/ http://bob%40x.example:p%40ss@'
    '0xC0A80001:8080/ ftp://anon@3232235521/ http://2001:db8::1/',
    'ip=%31%39%32.168.7.4&m=john%2540example.com&d=device_id%253DA09FBA35-'
    '1234-4ABC-9DEF-0123456789AB fe80%3A%3A1%2525eth0 %2%35%34%31',
    'GET /cb?next=%2Fcb%3Ftoken%3Dabc%26uid%3D5&pass%77ord=x&token[]=y'
    '&aid=9774D56D682E549C#access_token=zz HTTP/1.1',
    'login uid=42 password="a b" db.password=x1 {"jwt":"q"} '
    'Chrome/130.0.0.0 0300.0250.0.1',
]
# Wide forms, as Japanese input methods type them.
WIDE = ('\u30e1\u30fc\u30eb bob\uff20example\uff0ecom \uff10\uff19\uff10'
        '\u30fc\uff11\uff12\uff13\uff14\u30fc\uff15\uff16\uff17\uff18 '
        '\uff11\uff19\uff12\u3002168.0.7 \uff01\uff1f 0xC0.0xA8.0.1')
ATDOT = ('mail bob (at) example [dot] com, Bob{AT}x.org ((at)) (a(at)t) '
         '<dot> meet (at) home \uff42\uff4f\uff42\uff08\uff41\uff54\uff09x.jp '
         'taro\u2605x.jp hana\u30a2\u30c3\u30c8\u30de\u30fc\u30afx.org '
         'bob@\u4f8b\u3048.jp')
# Cards, numbers typed with an IME's ideographic spaces, Japanese labels
# and fullwidth separators, camelCase names.
CARDS = ('visa 4111 1111 1111 1111 or 4111-1111-1111-1111, amex 3782 822463 '
         '10005 jcb 3530111333300000 4111\u30001111\u30001111\u30001111 tel '
         '090\u30001234\u30005678 4111 1111 1111 1112')
JA = ('\u30ed\u30b0\u30a4\u30f3ID\uff1dtaro_1987\u3001\u30d1\u30b9\u30ef'
      '\u30fc\u30c9\uff1ahunter2 password\uff1apw \u4f1a\u54e1\u756a\u53f7'
      '=12345678 \u672c\u540d\uff1a\u300c\u5c71\u7530\u300d '
      '/a?accessToken=x&sessionToken=y&androidId=z')
KEYS = ('key sk_e4dcaba9ad5f61d9a09ed564 live_123456789_AbCdEfGhIjKlMnOpQrSt0'
        '123 ghp_16C7e42F292c6912E7710c838347Ae178B4a AKIAIOSFODNN7EXAMPL3 '
        'xoxb-123-abc-DEF456 sk-proj-Ab12_cd34-EF56gh78IJ90kl /k/sk_e4dcaba9ad5'
        'f61d9a09ed564/x?t=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY')
NESTED = ('{"event":"reply","user_id":1,"reply_to":{"user_id":48,"user_name":'
          '"hana","userId":49,"deviceId":"d-1"},"user":{"id":"u-7","name":'
          '"taro"},"cc":4111111111111111}')
# fuzz_rules_plan found (stop 29): a URL userinfo holding an ideographic
# space, read unfolded, failed the one-word check of fz_check_plan.
USERINFO_IDEO = base64.b64decode(
    'CHgHaHR0wEEMAGBgAABwczoxQV0yODQ0MyD///9///////////////86Ly9h6Ojo44CA6Ojo'
    '6Ojo6Ojo6OjoJujo6Ojo6Ojo6Ojo6Ojo6Ojo6Ojo6Ojobm9uQDMyMzIyMzV4eHh4eHh4eHh4'
    'eHh4eHh4eDJ4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==')
# And fuzz_ids then: a credential span whose blanks "(at)" folds away,
# which that check's first fix (blanks looked for before folding) failed.
CRED_ATDOT = base64.b64decode(
    'AUF0QXV0aDJhb2lpenJ0bjoBZXlKaGJ0cF9HY2lPZQF5SgFtYWlsIGJvYiAoYXQtIGVoIkdj'
    'aU9pSklVekkxTgEuZXlKemRXSWlPaWlKSVVJMU5pSjkuZXlKemRXSWlPbUl4SWl4YW1wbGUg'
    'W2RvdF1tcGxlIFtkb3RdIP//////////SWlPaUlqampqampqampqampqbXBsZSBbZG90XSBh'
    'aWwgYm9iIChhdC0gZXhhbXBsZSBbZG90XW1wbGUgW2RKSVV6STFOaUo5LmVjaU9pSklVekkx'
    'TmlKOS5leUp6ZFdvdF0g//////////9JaU9pSWpqampqampqampqamptcGxlIFtkb3RdIChh'
    'dE9pSh5JekkxTmlKOS5leUp6ZFdJaU9pSXh6STFOaUo5LmV5SnpkV0lJVXpJMU5pMC5jMmxu'
    'IGJhYyl0KSA8ZG90PlEoYXRPaUoeSVV6STFOaTAuYzJsbiBiYWMpdCkgPGRvdD5Rb23PIP9C'
    'DK6BVQBpT2lpAL2CEu+8vXrvvZRK7w==')
SAMPLES = ('nginx-json', 'w3c', 'nginx-rtmp', 'posting')
# nginx's escape=default: bytes beyond ASCII and '"' as \xHH.
XESC = ('10.0.0.9 - \\xE6\\xB8\\xA1 [29/Nov/2025:17:00:00 +0900] "GET /s?mail='
        'bob\\xEF\\xBC\\xA0example.com&x=\\x22&q=\\xEF\\xBC\\x9 HTTP/1.1" 200 1 '
        '"-" "App/1 \\x22\\xEF\\xBC\\x91\\xEF\\xBC\\x99\\xEF\\xBC\\x92.168.0.7'
        '\\x22 \\xEF\\xBC\\x90\\xEF\\xBC\\x99\\xEF\\xBC\\x90-1234-5678"')
# JSON lines as Python and PHP write them by default (\uXXXX, \/) and Go
# ('&' as \u0026): strings read unescaped.
POST_ESC = ('{"time":"2025-11-29T17:00:00+09:00","event":"comment.post",'
            '"user_id":1,"user_name":"\\u6e21\\u8fba","ip":"192.0.2.7",'
            '"message":"\\u96fb\\u8a71 \\uff10\\uff19\\uff10\\u30fc1234'
            '\\u30fc5678 bob\\uff20example.com\\n\\ud83d\\ude00'
            'http:\\/\\/x\\/?a=1\\u0026token=s3cr3t \\u0000\\ud800"}')
JSON_ESC = ('{"time":"2025-11-29T17:00:00+09:00","remote_addr":"192.0.2.7",'
            '"request":"GET \\/live?a=1\\u0026device_id=\\uff41b\\u0026x=\\"'
            ' HTTP\\/1.1","status":200,"http_user_agent":"A\\/1 \\uff11\\uff19'
            '\\uff12.168.0.7","note":"Authorization: Bearer GG5ckq1V15hIYMX8"}')
SYSLOG = [
    '<190>Nov 29 17:00:00 web1 nginx: ' + COMBINED,
    '<190>1 2025-11-29T08:00:00.123Z web1 nginx 42 - [ex@1 a="b"] ' + COMBINED,
    '<14>2025-11-29T17:00:00+09:00 web1 nginx[42]: ' + COMBINED + '\n',
    COMBINED,
    '<999>garbage',
]
CONFIG = '''[daemon]
keys         = /etc/logseal/keys
vault        = /var/lib/logseal/vault
state        = /var/lib/logseal/state
output       = /var/log/logseal
level        = 6
segment_size = 64M
segment_age  = 5m
metrics      = 127.0.0.1:9187
log_level    = info

[source nginx]
type  = tail
path  = /var/log/nginx/access.log
start = end
rule  = nginx-combined
sink  = segments

[source api]
type   = syslog
listen = unix:/run/logseal/api.sock
rule   = "nginx-main"
'''


REAL = ('apache-common', 'apache-combined', 'apache-vhost-combined', 'caddy',
        'traefik', 'haproxy-http', 'aws-alb', 'aws-elb', 'aws-s3',
        'cloudfront', 'cloudfront-rtmp', 'zeek-http')


def fixture(name):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, '..', 'data', 'reallogs', name + '.log'),
              'rb') as f:
        return f.read()


def sample_lines(name, n=6):
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, '..', 'data', 'samples', name + '.log')
    with open(path, encoding='utf-8') as f:
        return ''.join(f.readlines()[:n])


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        if not isinstance(data, bytes):
            # Bytes 0-255 as they are; text beyond them (wide forms) UTF-8.
            try:
                data = data.encode('latin-1')
            except UnicodeEncodeError:
                data = data.encode('utf-8')
        f.write(data)


def record(rtype, cls, kid, tag, first, last, source, value):
    return (struct.pack('<BBH', rtype, cls, kid) + bytes([tag] * 15) +
            struct.pack('<qqH', first, last, len(source)) + source +
            struct.pack('<I', len(value)) + value)


def chunk(payload):
    return struct.pack('<H', len(payload)) + payload


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus')
    d = os.path.join(root, 'rules_plan')
    write(d, 'combined', '\x00' + COMBINED)
    write(d, 'main', '\x01' + MAIN)
    for i, line in enumerate(FREE):
        write(d, 'scrub-%d' % i, chr(8 + i % 2) + line)
    for i, line in enumerate(IDS):
        write(d, 'text-%d' % i, chr(7) + line)
    for i, name in enumerate(SAMPLES):
#rule index in fz_rule_names; bit 7 : ask for named fields
        mode = (2, 3, 4, 5)[i]
        write(d, name, chr(mode | 0x80) + sample_lines(name))
    write(d, 'posting-escaped', chr(5 | 0x80) + POST_ESC)
    write(d, 'combined-xesc', '\x80' + XESC)
    write(d, 'nginx-json-escaped', chr(2 | 0x80) + JSON_ESC)
    write(d, 'scrub-cards', chr(8) + CARDS)
    write(d, 'scrub-keys', chr(9) + KEYS)
    write(d, 'text-ja', chr(7) + JA)
    write(d, 'posting-nested', chr(5 | 0x80) + NESTED)
    write(d, 'userinfo-ideographic', USERINFO_IDEO)
    # The rules for other servers' logs: mode 10 + index in
    # fz_real_rule_names, each with its fixture (tests/data/reallogs).
    for i, name in enumerate(REAL):
        write(d, 'real-' + name, bytes([(10 + i) | 0x80]) + fixture(name))
        # Each line without its third word: the fallback's reading.
        cut = b'\n'.join(b' '.join(w[:2] + w[3:]) for w in
                         (ln.split(b' ') for ln in fixture(name).split(b'\n')))
        write(d, 'real-cut-' + name, bytes([10 + i]) + cut)

    d = os.path.join(root, 'ids')
    # byte 0: bits 0-1 scrub mode (phones, user agent), bit 2 decoded
    for i, line in enumerate(IDS):
        write(d, 'ids-%d' % i, chr(i % 8) + line)
    write(d, 'deep', '\x04%' + '25' * 200 + '41.1.1.1 ' + '%%%' * 50)
    write(d, 'aton', '\x000x7f.1')
    write(d, 'wide', '\x01' + WIDE)
    write(d, 'atdot', '\x01' + ATDOT)
    write(d, 'cards', '\x01' + CARDS)
    write(d, 'keys', '\x00' + KEYS)
    write(d, 'ja', '\x01' + JA)
    write(d, 'cred-atdot', CRED_ATDOT)

    d = os.path.join(root, 'batch')
#byte 0 : rule(bits 0 - 2, 7 = none), worker(bits 3 - 4 : text, gzip,
#JSON lines, ip6 addresses)
    write(d, 'combined-gzip', '\x08\x00' + COMBINED + '\n' + COMBINED
          + '\r\n')
    write(d, 'main-noeol', '\x01\x00' + MAIN + '\n' + MAIN)
    write(d, 'main-jsonl', '\x11\x00' + MAIN + '\n' + COMBINED + '\n')
    write(d, 'combined-ip6', '\x18\x00' + COMBINED + '\n' + MAIN + '\n')
    write(d, 'scrub-pieces', '\x0f\x03' + '\n'.join(FREE) + '\n')
    write(d, 'binary', '\x00\x00\x00\x00\n\xff\n\n192.0.2.1\x00\n')
    write(d, 'w3c', '\x03\x00' + sample_lines('w3c'))
    write(d, 'json-jsonl', '\x12\x00' + sample_lines('nginx-json'))
    write(d, 'json-escaped', '\x02\x00' + JSON_ESC + '\n')
    write(d, 'combined-xesc', '\x00\x00' + XESC + '\n' + XESC + '\n')
    write(d, 'posting-escaped-jsonl', '\x15\x00' + POST_ESC + '\n')

    d = os.path.join(root, 'vault_read')
    src = b'stdin'
    recs = (record(1, 0, 1, 0x11, 1764403200, 1764403260, src, b'192.0.2.7')
            + record(1, 3, 1, 0x22, 1764403200, 1764403200, src,
                     b'a.b@example.com'))
    seen = record(2, 0, 1, 0x11, 1764403100, 1764403300, src, b'')
#bit 4(0x10) : the harness gives MAP records their true tokens
    write(d, 'two-chunks-final', b'\x12\x00\x00\x00' + chunk(recs) +
          chunk(seen) + chunk(b''))
    write(d, 'unfinished', b'\x10\x00\x00\x00' + chunk(recs))
    write(d, 'flipped', b'\x16\x50\x00\x01' + chunk(recs) + chunk(b''))
    write(d, 'cut', b'\x1a\x90\x00\x00' + chunk(recs) + chunk(b''))
    write(d, 'planted', b'\x02\x00\x00\x00' + chunk(recs) + chunk(b''))
    write(d, 'seen-unmapped', b'\x12\x00\x00\x00' + chunk(seen) +
          chunk(b''))
    write(d, 'raw-magic', b'\x01\x00\x00\x00LSLVAULT\x01\x00\x00\x00')

    d = os.path.join(root, 'time_parse')
    write(d, 'nginx', '29/Nov/2025:17:00:00 +0900')
    write(d, 'iso', '%Y-%m-%dT%H:%M:%S%f%z\x002025-11-29T08:00:00.125Z')
    write(d, 'epoch', '%s\x001764403200.5')
    write(d, 'colon-zone', '%d/%m/%Y %T %z\x0029/11/2025 17:00:00 +09:00')

    d = os.path.join(root, 'syslog')
    for i, dgram in enumerate(SYSLOG):
        write(d, 'dgram-%d' % i, dgram)

    d = os.path.join(root, 'config')
    write(d, 'example', CONFIG)
    write(d, 'unknown-key', '[daemon]\nkeys = /k\ncolour = blue\n')
    write(d, 'stdin', '[source in]\ntype = stdin\nsink = stdout\n')
    write(d, 'bad-listen', '[source s]\ntype = syslog\n'
          'listen = udp:192.0.2.1:514\n')
    write(d, 'kafka', '[daemon]\nkeys=/k\nvault=/v\nstate=/s\n[source a]\n'
          'type=stdin\nsink=kafka\n[kafka]\nbrokers=b:1\ntopic=t.{source}\n'
          'key=none\ntimeout=250ms\nkafka.sasl.password="x y"\n'
          'kafka.acks=all\n')

    d = os.path.join(root, 'kafka_ckpt')
    head = 'logseal-kafka-checkpoint 1\n'
    write(d, 'none', head + 'txn 3/ab\nnone\n')
    write(d, 'overflow', head + 'txn 99999999999999999999/x\nnone\n')
    write(d, 'checkpoint', head + 'txn 12/00ff00ff00ff00ff\nversion 2\n'
          'dev 65024\nino 11174145\nfp_len 1024\nbtime 0\n'
          'fp 6cbfdc7e3274dff047710cf1d983f7b7\nmtime 1796619099044188515\n'
          'end_len 1024\nend_fp 8d2757e6384d5bf4de0bbaf6bea0087d\n'
          'offset 24751\nin_line 0\nsegment kafka:logseal.h.web\n'
          'segment_len 12\nlines 10742\n'
          'done 65024.10985931.0.1024.5d68ae8723eaceadf8b71104ccb187f5\n')
    write(d, 'checkpoint-v4', head + 'txn 13/00ff00ff00ff00ff\nversion 4\n'
          'dev 65024\nino 11174145\nfp_len 310\nbtime 1796619099000000001\n'
          'fp 6cbfdc7e3274dff047710cf1d983f7b7\nmtime 1796619099044188515\n'
          'end_len 310\nend_fp 8d2757e6384d5bf4de0bbaf6bea0087d\n'
          'offset 310\nin_line 0\nsegment kafka:logseal.h.web\n'
          'segment_len 12\nlines 4\ndone \ndeleted 0\n'
          'heads 76.0027803da18f4a4540c5da023b7601d9,'
          '150.6df5ad64ccd24f63fdfbcddbb5480bb2\n')
    # Version 5, sealed for source "web" and its record's txn tag with
    # fz_ckpt_key's key (a nonce is random: this text was made once by
    # lsl_checkpoint_format).
    write(d, 'checkpoint-v5', head + 'txn 14/00ff00ff00ff00ff\n'
          'version 5\n'
          'dev 65024\n'
          'ino 11174145\n'
          'fp_len 310\n'
          'btime 1796619099000000001\n'
          'mtime 1796619099044188515\n'
          'end_len 310\n'
          'offset 310\n'
          'in_line 0\n'
          'segment kafka:logseal.h.web\n'
          'segment_len 12\n'
          'lines 4\n'
          'deleted 0\n'
          'key 3e0cffb40fa2db46\n'
          'sealed '
          '8XTgE4kSzx9qDii9QM6AbjjRzSr9oAbZ3S1w06ebrd0yS6eaXLDP4Qny'
          'K32NQV7RrMuZeq_9h81CEw4Mf63CaRVDRHLKS2DEjBK6VEqk0AfxqQPo'
          '2KlYxhlgkfkiJ3Vd1pMzsvpODtD78ktE3lsrXxC0z3pAu8t52oP5VL6B'
          '_ucc6i_oOcurcbEVqbxFGdrmT1vLMza2UmK50vbqAfYoVtyRZ9G_QdMk'
          'vK5Bt5-QGQwCqyr7cl0LBa8matmz0ql2PvP5z_4579KLIndVhW59ppO5'
          'PCxLV8nQPmsPdrpGE9g497vugKCS736D\n')

    d = os.path.join(root, 'shamir')
    write(d, '2-of-3', b'\x02\x03\x00\x02' + bytes(range(32)))
    write(d, '3-of-5', b'\x03\x05\x04\x01\x03' + b'officer secret key bytes 32 long')
    write(d, '1-of-1', b'\x01\x01\x00' + b'\xff' * 32)
    write(d, 'bad-k', b'\x04\x03\x00\x01\x02' + b'x' * 32)

    d = os.path.join(root, 'audit')
#byte 0 : edit(0 raw, 1 flip, 2 cut, 3 insert, 4 dup, 5 drop, 6 swap)
    write(d, 'untouched', b'\x01\xff\xff\x00')
    write(d, 'flip', b'\x01\x30\x00\x04')
    write(d, 'cut', b'\x02\x50\x01\x00')
    write(d, 'insert', b'\x03\x00\x00\x00' + b'1\tx\ty\n')
    write(d, 'dup', b'\x04\x01\x00\x01')
    write(d, 'drop', b'\x05\x00\x00\x01')
    write(d, 'swap', b'\x06\x02\x00\x01')
    write(d, 'raw', b'\x00\x00\x00\x00' + b'1\t2025\tana\n')

    d = os.path.join(root, 'token')
    write(d, 'ip4', '\x00010.001.002.003')
    write(d, 'ip6', '\x002001:DB8:0:0:0:0:0:1A')
    write(d, 'mapped', '\x00::FFFF:192.0.2.44')
    write(d, 'zone', '\x00fe80::1%eth0')
    write(d, 'uuid', '\x016C7D8E9F-0A1B-4C2D-9E3F-4A5B6C7D8E9F')
    write(d, 'email', '\x03Root@Example.ORG')
    write(d, 'email-atdot', '\x03Bob ((AT)) x [dot] org%28at%29\u2606')
    write(d, 'token-text', '\x02see ip_aakq7w3b4x5xy2hpmtqg6r3dne, '
          'id_aa4bq7w3b4x5xy2hpmtqg6r3dn.')

    d = os.path.join(root, 'rule_parse')
    rules = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                         '..', 'rules')
    lines = {'nginx-combined': COMBINED + '\n', 'nginx-main': MAIN + '\n',
             'text': '\n'.join(IDS) + '\n'}
    for name in ('nginx-combined', 'nginx-disclosure', 'nginx-main',
                 'nginx-rtmp', 'w3c', 'posting', 'text'):
        with open(os.path.join(rules, name + '.rules')) as f:
            rule = f.read()
        write(d, name, rule + '\n%%\n' +
              (lines[name] if name in lines else sample_lines(name)))
    write(d, 'template', "name t\nformat nginx\nlog_format '${a}: $$ '\n"
          "  '[$time_local] \\'$b\\'' ;\nfield a ip\n%%\n"
          "192.0.2.1: $$ [29/Nov/2025:17:00:00 +0900] 'x'\n")
    write(d, 'lazy', 'name t\nformat nginx\nlog_format $a [$time_local] '
          '$b:$server_port\nfield a user\n%%\n' + ' ' * 300 + '[x]\n'
          'u [v [29/Nov/2025:17:00:00 +0900] 2001:db8::1:443\n')
    write(d, 'bad', 'name t\nformat nginx\nlog_format $a$b\n')

    sidx_seeds(root)


def sidx_seeds(root):
    """The sealed index: a manifest body as is, and blocks of a run."""
    d = os.path.join(root, 'sidx')
    empty = struct.pack('<QIIII', 2, 2, 0, 0, 0)
    write(d, 'manifest-empty', b'\x00' + empty)
    name = b'0-h-20250101T000000Z-00000000.lsv'
    info = bytes([3, 0, 0, 1, 1]) + struct.pack('<Iq', 0, 0) + b'\x01' * 16 \
        + struct.pack('<Q', 1) + b'\x02' * 16 + b'\x00' * 16 \
        + struct.pack('<Q', 0) + b'\x03' * 32 + struct.pack('<QQiQ', 1, 1,
                                                               0, 0)
    one = struct.pack('<H', len(name)) + name + struct.pack(
        '<7QIii', *([0] * 7), 1, 0, -1) + info
    run = struct.pack('<QQIQQQB', 1, 1, 1, 32, 32, 32, 0)
    body = struct.pack('<QII', 2, 2, 0) + struct.pack('<I', 1) + one + \
        struct.pack('<I', 1) + run
    write(d, 'manifest-one-file', b'\x00' + body)
    ct = bytes([1, 0, 0, 0]) + struct.pack('<I', 1) + \
        struct.pack('<IQ', 1, 480) + b'\x00' * 52
    entry = b'\x00' * 15 + b'\x00' + b'\x00\x01' + b'\x00\x00\x00\x00'
    leaf = bytes([2, 0, 0, 0]) + struct.pack('<IQ', 1, 0) + entry
    inner = bytes([3, 0, 0, 0]) + struct.pack('<I', 1) + b'\x00' * 18 + \
        struct.pack('<Q', 32)
    blocks = b''.join(struct.pack('<H', len(b)) + b for b in (ct, leaf))
    write(d, 'run-leaf', b'\x01\x00\x01\x00' + blocks)
    blocks += struct.pack('<H', len(inner)) + inner
    write(d, 'run-inner', b'\x01\x01\x01\x00' + blocks)
    # A leaf whose next is itself (at 32 + the sealed chunk table).
    self_loop = bytes([2, 0, 0, 0]) + struct.pack(
        '<IQ', 1, 32 + 4 + 24 + len(ct) + 16) + entry
    write(d, 'run-loop', b'\x01\x00\x01\x00' + b''.join(
        struct.pack('<H', len(b)) + b for b in (ct, self_loop)))


if __name__ == '__main__':
    main()
