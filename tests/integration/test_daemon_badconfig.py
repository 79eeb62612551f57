#!/usr/bin/env python3
"""Configuration mistakes stop `logseal run` (and --check) with exit 1 and
a message naming the file, the line and the key; a good file passes
--check and is described."""
import lslib
from lslib import check


def body(ctx):
    d = lslib.Daemon(ctx)

    def run(*args):
        r = ctx.run(['run'] + list(args), timeout=30)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    good = d.config([('in', {'type': 'stdin', 'rule': d.rule,
                             'sink': 'stdout'})])
    rc, out, err = run('--config', good, '--check')
    check(rc == 0, '--check of a good file: ' + err)
    check('source in: stdin' in out, '--check output: ' + out)

    bad = d.config([('in', {'type': 'stdin', 'sink': 'stdout',
                            'colour': 'blue'})], name='bad.conf')
    with open(bad) as f:
        line = f.read().splitlines().index('colour = blue') + 1
    for extra in ([], ['--check']):
        rc, _, err = run('--config', bad, *extra)
        check(rc == 1, 'exit %d for an unknown key' % rc)
        check('%s:%d:' % (bad, line) in err and "'colour'" in err,
              'message lacks file:line or key: ' + err)

    bad = d.config([('in', {'type': 'stdin', 'rule': '/no/such.rules'})],
                   name='norule.conf')
    rc, _, err = run('--config', bad, '--check')
    check(rc == 1 and '[source in]' in err, 'missing rule: %d %s' % (rc, err))

    rc, _, err = run('--config', '/nonexistent/logseal.conf')
    check(rc == 1 and '/nonexistent/logseal.conf' in err,
          'missing file: ' + err)
    rc, _, _ = run()
    check(rc == 2, 'no --config must be a usage error')
    print('ok: bad configurations refused with file, line and key')


lslib.main(body)
