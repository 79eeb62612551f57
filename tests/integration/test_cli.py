#!/usr/bin/env python3
"""Every command and subcommand answers --help and -h, wherever the flag
stands, with exit 0, its usage on stdout and nothing on stderr; the walk
starts from `logseal --help` and follows each group's subcommand list, so
a new command is covered without editing this test.

    test_cli.py LOGSEAL_BINARY SOURCE_ROOT

Also: `logseal --help` ends with a newline; `logseal help CMD [SUB]`
prints that usage; an unknown option is a usage error (2) naming the
command; the argument orders the README documents work (`rules test NAME
--in FILE` and options before NAME); a binary run from its build
directory finds the source tree's rules without LOGSEAL_RULES_DIR, and a
rule not found is reported with every directory searched.
"""

import os
import subprocess

import lslib
from lslib import check


def listed(text, heading):
    """Names listed under `heading:` in a usage text."""
    out, on = [], False
    for line in text.splitlines():
        if line.startswith(heading + ':'):
            on = True
        elif on and line.startswith('  ') and line[2:3].isalpha():
            out.append(line.split()[0])
        elif on:
            break
    return out


def run(ctx, args, code):
    proc = ctx.run(args)
    ctx.expect(proc, code, 'logseal ' + ' '.join(args))
    return proc


def leaf(ctx, path):
    """path: ['vault', 'erase'] etc. --help/-h first, last, among junk."""
    name = ' '.join(path)
    for args in (path + ['--help'], path + ['-h'],
                 path + ['--bogus', 'x', '--help'],
                 path + ['--vault', '/nonexistent', '-h', 'EXTRA']):
        proc = run(ctx, args, 0)
        out = proc.stdout.decode()
        check(out.startswith('usage: logseal ' + name),
              '%r: usage does not start with "usage: logseal %s": %r'
              % (args, name, out[:80]))
        check(out.endswith('\n'), '%r: usage lacks a final newline' % args)
        check(proc.stderr == b'', '%r: wrote to stderr: %s'
              % (args, lslib.redact(proc.stderr)))
    again = run(ctx, ['help'] + path, 0).stdout
    check(again == run(ctx, path + ['--help'], 0).stdout,
          '`logseal help %s` differs from `logseal %s --help`'
          % (name, name))
    proc = run(ctx, path + ['--no-such-option'], 2)
    check(('logseal %s' % name).encode() in proc.stderr,
          '%s: a usage error does not name the command' % name)


def body(ctx):
    top = run(ctx, ['--help'], 0).stdout.decode()
    check(top.endswith('\n'), '`logseal --help` does not end with a newline')
    check(run(ctx, ['-h'], 0).stdout.decode() == top, '-h differs')
    commands = listed(top, 'commands')
    check(len(commands) >= 8, 'commands listed: %s' % commands)
    walked = []
    for cmd in commands:
        text = run(ctx, [cmd, '--help'], 0).stdout.decode()
        subs = listed(text, 'subcommands')
        if not subs:
            leaf(ctx, [cmd])
            walked.append(cmd)
            continue
        check(run(ctx, [cmd, '-h'], 0).stdout.decode() == text,
              '%s -h differs from --help' % cmd)
        run(ctx, [cmd], 2)
        run(ctx, [cmd, 'no-such-subcommand'], 2)
        for sub in subs:
            leaf(ctx, [cmd, sub])
            walked.append(cmd + ' ' + sub)
    for want in ('rules test', 'rules list', 'audit verify', 'vault erase',
                 'pipe', 'run', 'unseal', 'disclose', 'keygen'):
        check(want in walked, '%s was not walked (%s)' % (want, walked))

    # Argument order as the README writes it, and options first.
    log = ctx.path('sample.log')
    ctx.genlogs('nginx', 5, log)
    for args in (['rules', 'test', 'nginx-combined', '--in', log],
                 ['rules', 'test', '--in', log, 'nginx-combined']):
        proc = run(ctx, args, 0)
        check(proc.stdout.count(b'\tnginx-combined\t') == 5,
              '%r: five matched lines expected' % args)
    uninstalled_rules(ctx, log)
    print('ok: %d commands answer --help/-h anywhere' % len(walked))


def uninstalled_rules(ctx, log):
    """The binary under test runs from its build directory: without
    LOGSEAL_RULES_DIR it finds the source tree's rules, and a rule it
    cannot find is reported with every directory it searched."""
    env = {k: v for k, v in ctx.env.items() if k != 'LOGSEAL_RULES_DIR'}
    rules = os.path.join(ctx.root, 'rules')
    r = subprocess.run([ctx.exe, 'rules', 'test', 'nginx-combined', '--in',
                        log], env=env, capture_output=True, timeout=60)
    check(r.returncode == 0 and r.stdout.count(b'\tnginx-combined\t') == 5,
          'an uninstalled binary does not find the source tree\'s rules: %s'
          % lslib.redact(r.stderr))
    r = subprocess.run([ctx.exe, 'rules', 'list'], env=env,
                       capture_output=True, timeout=60)
    check(('nginx-combined\t%s/nginx-combined.rules' % rules).encode()
          in r.stdout, '`rules list` does not show the source tree\'s rules')
    r = subprocess.run([ctx.exe, 'rules', 'test', 'no-such-rule'], env=env,
                       capture_output=True, timeout=60)
    err = r.stderr.decode()
    check(r.returncode == 1 and rules in err and
          '/share/logseal/rules' in err and 'LOGSEAL_RULES_DIR' in err,
          'a missing rule does not name the directories searched: ' + err)


lslib.main(body)
