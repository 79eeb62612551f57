#!/usr/bin/env python3
"""Key files and vault integrity, as the operator and the officer meet them.

    test_keys.py LOGSEAL_BINARY SOURCE_ROOT

- keygen writes hash.key and officer.key with mode 0600 and vault.pub;
  it refuses (exit 1) when any of the three exists, and changes nothing;
- pipe refuses a hash.key that group or others may read, naming the file;
- pipe needs no officer.key; unseal without it (or unable to read it)
  exits 1 naming officer.key and prints no original;
- unseal takes tokens as arguments, from a file and from stdin; a token not
  in the vault prints `TOKEN<TAB>not-found` and exit 4;
- a flipped byte in a vault file makes unseal exit 3 naming the file.
"""

import os
import shutil
import stat

import lslib
from lslib import check

RULE = 'nginx-combined'
KEY_FILES = ('hash.key', 'vault.pub', 'officer.key')
# Syntactically valid tokens that no vault holds.
UNKNOWN = ('ip_' + 'a' * 26, 'id_' + '2' * 26)


def read_dir(d):
    out = {}
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), 'rb') as f:
            out[name] = f.read()
    return out


def check_keygen(ctx):
    keys = ctx.keygen()
    for name in KEY_FILES:
        check(os.path.isfile(os.path.join(keys, name)),
              'keygen did not create %s' % name)
    for name in ('hash.key', 'officer.key'):
        mode = stat.S_IMODE(os.stat(os.path.join(keys, name)).st_mode)
        check(mode == 0o600, 'keygen made %s mode %o, expected 600'
              % (name, mode))
    before = read_dir(keys)
    ctx.expect(ctx.run(['keygen', '--dir', keys]), 1,
               'keygen over existing keys')
    check(read_dir(keys) == before, 'a refused keygen changed the key files')
    for name in KEY_FILES:
        d = ctx.path('partial-' + name)
        os.mkdir(d)
        with open(os.path.join(d, name), 'wb') as f:
            f.write(b'placeholder\n')
        proc = ctx.run(['keygen', '--dir', d])
        ctx.expect(proc, 1, 'keygen with only %s present' % name)
        check(read_dir(d) == {name: b'placeholder\n'},
              'keygen refused because of %s but still wrote files' % name)
    print('ok keygen: modes, refusal without changes')
    return keys


def check_hash_key_mode(ctx, keys, src):
    hk = os.path.join(keys, 'hash.key')
    for mode in (0o644, 0o640, 0o604):
        os.chmod(hk, mode)
        vault = ctx.path('vault-mode-%o' % mode)
        os.mkdir(vault)
        proc = ctx.run(['pipe', '--rule', RULE, '--keys', keys,
                        '--vault', vault, '--in', src, '--out', '-'])
        check(proc.returncode != 0, 'pipe accepted hash.key with mode %o'
              % mode)
        check(b'hash.key' in proc.stderr, 'pipe refused hash.key mode %o '
              'without naming the file: %s'
              % (mode, lslib.redact(proc.stderr)))
        check(not proc.stdout, 'pipe wrote output with a bad hash.key')
    os.chmod(hk, 0o600)
    print('ok hash.key readable by others is refused')


def pipe_tokens(ctx, keys, src, tag):
    vault = ctx.path('vault-' + tag)
    os.mkdir(vault)
    proc, summ = ctx.pipe(RULE, keys, vault, src=src, out='-')
    tokens = sorted(set(lslib.pseudonyms(proc.stdout.decode())))
    check(tokens and summ['vault'] == len(tokens),
          '%s: %d distinct tokens, summary says %d new vault entries'
          % (tag, len(tokens), summ['vault']))
    return vault, tokens


def check_no_officer_key(ctx, keys, src, truth):
    ok = os.path.join(keys, 'officer.key')
    aside = ctx.path('officer.key.aside')
    os.rename(ok, aside)
    vault, tokens = pipe_tokens(ctx, keys, src, 'no-officer')
    proc, _ = ctx.unseal(keys, vault, tokens[:5])
    ctx.expect(proc, 1, 'unseal without officer.key')
    check(b'officer.key' in proc.stderr, 'unseal without officer.key does '
          'not name the file: %s' % lslib.redact(proc.stderr))
    check(not set(lslib.WORD_RE.findall(proc.stdout.decode('utf-8',
                                                            'replace'))) &
          truth, 'unseal without officer.key printed originals')
    os.rename(aside, ok)
    if os.geteuid() != 0:
        os.chmod(ok, 0)
        proc, _ = ctx.unseal(keys, vault, tokens[:5])
        os.chmod(ok, 0o600)
        ctx.expect(proc, 1, 'unseal with an unreadable officer.key')
        check(b'officer.key' in proc.stderr, 'unseal with an unreadable '
              'officer.key does not name the file: %s'
              % lslib.redact(proc.stderr))
    else:
        print('note: running as root, unreadable officer.key not tested')
    print('ok pipe without officer.key; unseal needs it')
    return vault, tokens


def check_lookup(ctx, keys, vault, tokens):
    _, found = ctx.unseal(keys, vault, tokens, code=0)
    check(set(found) == set(tokens) and 'not-found' not in found.values(),
          'unseal did not find every token of its own vault')
    proc = ctx.run(['unseal', '--keys', keys, '--vault', vault, '--case',
                    'IT-ARGS', tokens[0], tokens[-1]])
    ctx.expect(proc, 0, 'unseal with tokens as arguments')
    check(lslib.parse_unseal(proc.stdout) ==
          {t: found[t] for t in (tokens[0], tokens[-1])},
          'unseal with arguments disagrees with --tokens-from')
    proc = ctx.run(['unseal', '--keys', keys, '--vault', vault, '--case',
                    'IT-STDIN', '--tokens-from', '-'],
                   input=('\n'.join(tokens[:3]) + '\n').encode())
    ctx.expect(proc, 0, 'unseal --tokens-from -')
    check(lslib.parse_unseal(proc.stdout) == {t: found[t] for t in tokens[:3]},
          'unseal --tokens-from - disagrees with --tokens-from FILE')
    proc, res = ctx.unseal(keys, vault, [tokens[0]] + list(UNKNOWN), code=4)
    check(res == dict({t: 'not-found' for t in UNKNOWN},
                      **{tokens[0]: found[tokens[0]]}),
          'unseal of known + unknown tokens: expected the known original and '
          '`not-found` for each unknown token')
    print('ok unseal: arguments, file, stdin; unknown tokens exit 4')


def check_tamper(ctx, keys, vault, tokens):
    files = sorted(f for f in os.listdir(vault) if f.endswith('.lsv'))
    check(len(files) == 1, 'pipe wrote %d .lsv files, expected 1'
          % len(files))
    for where in ('middle', 'last'):
        bad = ctx.path('vault-tampered-' + where)
        shutil.copytree(vault, bad)
        path = os.path.join(bad, files[0])
        with open(path, 'r+b') as f:
            size = f.seek(0, os.SEEK_END)
            off = size // 2 if where == 'middle' else size - 1
            f.seek(off)
            b = f.read(1)
            f.seek(off)
            f.write(bytes([b[0] ^ 0x20]))
        proc, _ = ctx.unseal(keys, bad, tokens)
        ctx.expect(proc, 3, 'unseal of a vault with a flipped byte (%s)'
                   % where)
        check(files[0].encode() in proc.stderr, 'unseal reports the flipped '
              'byte (%s) without naming %s: %s'
              % (where, files[0], lslib.redact(proc.stderr)))
    print('ok flipped vault bytes are detected (exit 3)')


def body(ctx):
    keys = check_keygen(ctx)
    src, truth_path = ctx.path('in.log'), ctx.path('in.truth')
    ctx.genlogs('nginx', 300, src, seed=3, truth=truth_path)
    truth = set(lslib.read_truth(truth_path))
    check_hash_key_mode(ctx, keys, src)
    vault, tokens = check_no_officer_key(ctx, keys, src, truth)
    check_lookup(ctx, keys, vault, tokens)
    check_tamper(ctx, keys, vault, tokens)


if __name__ == '__main__':
    lslib.main(body)
