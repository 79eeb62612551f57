#!/usr/bin/env python3
"""Bash completion (src/dist/logseal.bash) under bash-completion's own
framework: commands, subcommands, options of a command, rule names for
--rule and `rules test`, files for --config, fixed choices. Skipped
(exit 77) without bash-completion.

    test_completion.py LOGSEAL_BINARY SOURCE_ROOT
"""

import os
import subprocess

import lslib
from lslib import check

FRAMEWORK = '/usr/share/bash-completion/bash_completion'


def complete(ctx, words, cwd=None):
    """COMPREPLY for the command line `words` (the last word is the one
    being completed)."""
    script = os.path.join(ctx.root, 'src', 'dist', 'logseal.bash')
    line = ' '.join([ctx.exe] + words)
    prog = ('source %s; source %s; COMP_WORDS=(%s); COMP_CWORD=%d; '
            'COMP_LINE=%s; COMP_POINT=${#COMP_LINE}; _logseal; '
            'printf "%%s\\n" "${COMPREPLY[@]}"'
            % (FRAMEWORK, script,
               ' '.join("'%s'" % w for w in [ctx.exe] + words), len(words),
               "'%s'" % line))
    r = subprocess.run(['bash', '-c', prog], capture_output=True, text=True,
                       env=ctx.env, cwd=cwd or ctx.tmp, timeout=60)
    check(r.returncode == 0, 'completion of %r failed: %s' % (words,
                                                             r.stderr))
    return set(filter(None, r.stdout.split('\n')))


def expect(ctx, words, want, exact=False, cwd=None):
    got = complete(ctx, words, cwd)
    ok = got == set(want) if exact else set(want) <= got
    check(ok, 'completing %r: got %s, want %s%s'
          % (words, sorted(got), 'exactly ' if exact else '', sorted(want)))


def body(ctx):
    if not os.path.exists(FRAMEWORK):
        print('skip: bash-completion is not installed')
        raise SystemExit(77)
    expect(ctx, ['pi'], ['pipe'], exact=True)
    top = ctx.run(['--help']).stdout.decode()
    commands = [ln.split()[0] for ln in
                top.split('commands:\n', 1)[1].split('\n\n')[0].splitlines()]
    expect(ctx, [''], commands + ['help'], exact=True)
    check('pipe' in commands and 'vault' in commands,
          'logseal --help lists no commands: %s' % commands)
    expect(ctx, ['vault', 'e'], ['erase', 'expire'], exact=True)
    expect(ctx, ['rules', ''], ['test', 'list'], exact=True)
    expect(ctx, ['pipe', '--r'], ['--rule'], exact=True)
    expect(ctx, ['pipe', '--'], ['--rule', '--keys', '--vault', '--in',
                                 '--out', '--progress', '--no-progress',
                                 '--format', '--help'])
    expect(ctx, ['vault', 'erase', '--sub'], ['--subject'], exact=True)
    expect(ctx, ['pipe', '--rule', 'nginx-c'], ['nginx-combined'],
           exact=True)
    expect(ctx, ['rules', 'test', 'w3'], ['w3c'], exact=True)
    expect(ctx, ['pipe', '--format', ''], ['text', 'jsonl'], exact=True)
    expect(ctx, ['keygen', '--epoch', 'w'], ['week'], exact=True)
    os.mkdir(ctx.path('etc'))
    open(ctx.path('etc', 'logseal.conf'), 'w').close()
    expect(ctx, ['run', '--config', 'etc/lo'], ['etc/logseal.conf'],
           exact=True)
    print('ok: commands, subcommands, options, rule names, files')


lslib.main(body)
