#!/usr/bin/env python3
"""Phone numbers are one subject in every spelling, old vaults included.

    test_legal_phone.py LOGSEAL_BINARY SOURCE_ROOT

A chat user asks for the lines holding their number, then for its
deletion; they wrote it as 090-1234-5678, 090 1234 5678, 090.1234.5678
and (090)1234-5678, and the officer types yet another spelling.

(1) Now: `pipe` gives every spelling one token, whose original is the
    digits; `disclose` by any spelling returns every line; after `vault
    erase` by one spelling, `pipe` writes phone_erased for all of them.
(2) A vault of logseal 0.1.0 (tests/data/legacy-phone: numbers hashed as
    written, one number erased then): read whole, `disclose` by any
    spelling finds all four old tokens; through a sealed index, the old
    token of the spelling asked for; the old erase still stops its
    spelling; `vault erase` by the digits removes every old record and
    the number stays out in every spelling.
"""

import json
import os
import re
import shutil

import lslib
from lslib import check

DATA = os.path.join('tests', 'data', 'legacy-phone')
NUMBER = '09012345678'
SPELLINGS = ('090-1234-5678', '090 1234 5678', '090.1234.5678',
             '(090)1234-5678', '+81 90-1234-5678', '+81 (0)90-1234-5678',
             '\uff10\uff19\uff10\u30fc1234\u30fc5678')
PHONE_RE = re.compile(r'phone_[a-z2-7]{26}|phone_erased')


def chat(messages, start=0):
    """Posting lines, one message each (the rule's fields all there)."""
    out = []
    for i, m in enumerate(messages):
        out.append(json.dumps({
            'time': '2025-11-30T10:00:00+09:00', 'event': 'comment.post',
            'channel': 5, 'user_id': 5000 + start + i, 'user_name': 'rin',
            'ip': '198.51.100.%d' % (10 + i), 'port': 41000 + i,
            'device_id': '3f1c2a9e-0b7d-4e6a-9c55-%012d' % i,
            'ua': 'ExampleLive/5.12.0 (iOS 17.1)', 'message': m},
            ensure_ascii=False))
    return ('\n'.join(out) + '\n').encode()


def phones_of(ctx, keys, vault, messages, start=0):
    """The phone token (or phone_erased) of each message, via pipe."""
    proc, _ = ctx.pipe('posting', keys, vault,
                       input=chat(messages, start), out='-')
    got = []
    for line in proc.stdout.decode().splitlines():
        msg = json.loads(line)['message']
        # A token's base32 text holds digits 2-7: look outside tokens.
        check(not re.search(r'\d{4}', lslib.TOKEN_RE.sub(' ', msg)),
              'a number left raw: %s' % lslib.redact(msg))
        got.append(PHONE_RE.findall(msg))
    return got


def disclose(ctx, keys, vault, subject, segs, extra=(), code=0):
    proc = ctx.run(['disclose', '--keys', keys, '--vault', vault,
                    '--case', 'DSAR-P', '--subject', subject, '--json'] +
                   list(extra) + segs)
    ctx.expect(proc, code, 'disclose --subject %r' % subject)
    objs = [json.loads(ln) for ln in proc.stdout.decode().splitlines()]
    return [(os.path.basename(o['file']), o['line'], o['record'])
            for o in objs if 'record' in o]


def erase(ctx, keys, vault, subject, extra=()):
    proc = ctx.run(['vault', 'erase', '--keys', keys, '--vault', vault,
                    '--case', 'DEL-P', '--subject', subject] + list(extra))
    # 5: a fixed key stays on the daemon host (not unlinkable yet).
    ctx.expect(proc, 5, 'vault erase --subject %r' % subject)
    check(b'erased ' in proc.stdout, 'erase reports nothing')


def check_now(ctx):
    keys = ctx.keygen('keys-now')
    vault = ctx.path('vault-now')
    msgs = ['call me %s' % s for s in SPELLINGS] + ['office 03-1111-2222']
    data = chat(msgs)
    seg = ctx.path('now.out.gz')
    ctx.pipe('posting', keys, vault, input=data, out=seg)
    toks = [PHONE_RE.findall(json.loads(ln)['message'])
            for ln in lslib.zcat(seg).decode().splitlines()]
    check(all(len(t) == 1 for t in toks), 'a number was not tokenized')
    mine = {t[0] for t in toks[:len(SPELLINGS)]}
    check(len(mine) == 1, '%d spellings gave %d tokens'
          % (len(SPELLINGS), len(mine)))
    check(toks[-1][0] not in mine, 'two numbers share a token')
    _, res = ctx.unseal(keys, vault, sorted(mine), code=0)
    check(res[mine.pop()][:2] == ('phone', NUMBER),
          'the token does not unseal to the digits')
    for subject in ('+81-90-1234-5678', '０９０ １２３４ ５６７８'):
        recs = disclose(ctx, keys, vault, subject, [seg])
        check([r[1] for r in recs] == list(range(1, len(SPELLINGS) + 1)),
              'disclose %r: lines %s' % (subject, [r[1] for r in recs]))
        check(all('call me %s' % NUMBER in r[2] for r in recs),
              'disclose does not restore the digits')
    erase(ctx, keys, vault, '090 1234 5678')
    after = phones_of(ctx, keys, vault, msgs, start=100)
    check(all(t == ['phone_erased'] for t in after[:len(SPELLINGS)]),
          'an erased number comes back in a spelling: %s' % after)
    check(after[-1] != ['phone_erased'], 'another number was stopped')
    print('ok now: %d spellings, one token of the digits; disclosed and '
          'erased by other spellings' % len(SPELLINGS))


def legacy_copy(ctx):
    """The 0.1.0 fixture in a scratch directory, with the key modes a
    checkout does not keep."""
    root = ctx.path('legacy')
    shutil.copytree(os.path.join(ctx.root, DATA), root)
    keys, vault = os.path.join(root, 'keys'), os.path.join(root, 'vault')
    os.chmod(keys, 0o700)
    for n in os.listdir(keys):
        os.chmod(os.path.join(keys, n), 0o644 if n.endswith('.pub')
                 else 0o600)
    for n in os.listdir(vault):
        os.chmod(os.path.join(vault, n), 0o644 if n.endswith(('.pub',
                                                                '.list'))
                 else 0o600)
    return keys, vault, [os.path.join(root, 'old.out.gz')]


def check_legacy(ctx):
    keys, vault, segs = legacy_copy(ctx)
    old = [PHONE_RE.findall(json.loads(ln)['message'])
           for ln in lslib.zcat(segs[0]).decode().splitlines()]
    check(len({t[0] for t in old[:3] + old[4:5]}) == 4,
          'the fixture lost its four old tokens')
    for subject in (NUMBER, '090-1234-5678', '+81 (0)90 1234 5678'):
        recs = disclose(ctx, keys, vault, subject, segs)
        check([r[1] for r in recs] == [1, 2, 3, 5],
              'old vault, read whole, %r: lines %s'
              % (subject, [r[1] for r in recs]))
    ctx.expect(ctx.run(['vault', 'index', '--keys', keys, '--vault',
                        vault]), 0, 'vault index')
    recs = disclose(ctx, keys, vault, '090 1234 5678', segs)
    check([r[1] for r in recs] == [2], 'old vault through the index: '
          'lines %s, expected the spelling asked for' % [r[1] for r in recs])
    recs = disclose(ctx, keys, vault, '090 1234 5678', segs,
                    extra=['--no-index'])
    check([r[1] for r in recs] == [1, 2, 3, 5],
          '--no-index: lines %s' % [r[1] for r in recs])
    # Erased by 0.1.0 as "080-9999-0000": that spelling stays out.
    got = phones_of(ctx, keys, vault, ['080-9999-0000 again',
                                       '080 9999 0000 again'])
    check(got[0] == ['phone_erased'] and got[1] != ['phone_erased'],
          'the old stop entry: %s' % got)
    erase(ctx, keys, vault, NUMBER, extra=['--no-index'])
    check(disclose(ctx, keys, vault, '090.1234.5678', segs,
                   extra=['--no-index'], code=4) == [],
          'old records survive the erase')
    got = phones_of(ctx, keys, vault, list(SPELLINGS), start=200)
    check(all(t == ['phone_erased'] for t in got),
          'an erased number comes back: %s' % got)
    print('ok legacy: old tokens found by digits, the old stop entry kept, '
          'erased in every spelling')


def body(ctx):
    check_now(ctx)
    check_legacy(ctx)


if __name__ == '__main__':
    lslib.main(body)
