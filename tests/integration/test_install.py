#!/usr/bin/env python3
"""From `meson install` to a running service, as the README's recipe says.

    test_install.py LOGSEAL_BINARY SOURCE_ROOT

As root only (exit 77 otherwise, or when the build's prefix is not
/usr/local or under /opt). `meson install --destdir` stages the install;
then, in a private mount namespace (nothing on the host changes), the
staged tree is mounted over the prefix, /etc is a private copy, and
/var/lib, /var/log, /run and /root are empty tmpfs mounts:

1. the README block after `<!-- recipe: service -->` runs exactly as
   written (`sudo` and `systemctl` are stand-ins: the test is root, and
   no systemd runs here): service user, directories, keys (a ratcheting
   key), the example configuration;
2. `systemd-analyze verify` accepts the installed unit (its binary and
   man pages now at their installed paths);
3. the unit is started as systemd would: its User, groups, UMask and
   State/Logs/RuntimeDirectory, with the prefix and /etc read-only, a
   clean environment (no LOGSEAL_RULES_DIR: the installed binary must
   find the installed rules), NOTIFY_SOCKET and JOURNAL_STREAM;
   ExecStartPre (--check) must pass, ExecStart must send READY=1;
4. lines dated tomorrow arrive on the tailed nginx file and the syslog
   socket: every line comes out pseudonymized, the daily key ratchets
   (hash.key replaced by the service user), log lines carry journald
   priorities; SIGTERM stops it cleanly; the moved officer key unseals a
   token.
"""
import datetime
import glob
import grp
import gzip
import json
import os
import pwd
import random
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import lslib
from lslib import check

N_TAIL = 400
N_SYSLOG = 300
UNIT = 'lib/systemd/system/logseal.service'


def sh(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    check(r.returncode == 0, '%s: exit %d: %s' % (' '.join(args),
                                                  r.returncode, r.stderr))
    return r.stdout


# ---- outside the namespace ----

def build_prefix(build):
    opts = {o['name']: o['value'] for o in json.loads(
        sh(['meson', 'introspect', '--buildoptions', build]))}
    return opts['prefix']


def recipe(root):
    text = open(os.path.join(root, 'README.md')).read()
    m = re.search(r'<!-- recipe: service -->\n```sh\n(.*?)\n```', text, re.S)
    check(m, 'README has no service recipe block')
    return m.group(1) + '\n'


def staged_files(dest, prefix):
    base = dest + prefix
    for rel in ('bin/logseal', 'share/logseal/rules/nginx-combined.rules',
                UNIT, 'share/doc/logseal/logseal.conf.example',
                'share/doc/logseal/logseal-alerts.yml',
                'share/man/man1/logseal.1', 'share/man/man5/logseal.conf.5',
                'share/man/man5/logseal.rules.5',
                'share/man/man7/logseal-officer.7',
                'share/bash-completion/completions/logseal'):
        check(os.path.isfile(os.path.join(base, rel)),
              'meson install did not install %s' % rel)
    unit = open(os.path.join(base, UNIT)).read()
    check(re.search(r'^ExecStart=%s/bin/logseal run --config ' % prefix,
                    unit, re.M), 'the installed unit\'s ExecStart does not '
          'name PREFIX/bin/logseal')


def outer(exe, root):
    if os.geteuid() != 0 or not shutil.which('unshare'):
        print('skip: needs root and unshare (a private mount namespace)')
        sys.exit(77)
    build = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(exe))))
    prefix = build_prefix(build)
    if not (prefix == '/usr/local' or prefix.startswith('/opt/')):
        print('skip: prefix %s: the staged install cannot be mounted over '
              'it without hiding the system' % prefix)
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix='logseal-install-')
    try:
        dest = os.path.join(tmp, 'destdir')
        sh(['meson', 'install', '-C', build, '--destdir', dest,
            '--no-rebuild', '--quiet'])
        staged_files(dest, prefix)
        with open(os.path.join(tmp, 'recipe.sh'), 'w') as f:
            f.write(recipe(root))
        r = subprocess.run(['unshare', '--mount', '--propagation', 'private',
                            sys.executable, os.path.abspath(__file__),
                            '--inner', tmp, prefix], timeout=500)
        check(r.returncode == 0, 'the install run failed (above)')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- inside the namespace ----

def mount(*args):
    sh(['mount'] + list(args))


def private_system(tmp, prefix):
    """Everything the recipe and the service touch, made private."""
    mount('--bind', os.path.join(tmp, 'destdir') + prefix, prefix)
    sh(['cp', '-a', '/etc', os.path.join(tmp, 'etc')])
    mount('--bind', os.path.join(tmp, 'etc'), '/etc')
    keep = os.path.realpath(sys.prefix)  # this interpreter, if under /root
    saved = os.path.join(tmp, 'root-saved')
    os.mkdir(saved)
    mount('--bind', '/root', saved)
    for d in ('/var/lib', '/var/log', '/run', '/root', '/var/spool/mail'):
        if os.path.isdir(d):
            mount('-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', d)
    if keep.startswith('/root/'):
        os.makedirs(keep)
        mount('--bind', saved + keep[len('/root'):], keep)
    os.chmod('/root', 0o700)


def shims(tmp):
    d = os.path.join(tmp, 'shims')
    os.mkdir(d)
    with open(os.path.join(d, 'sudo'), 'w') as f:
        f.write('#!/bin/sh\n# the recipe\'s sudo: the test is root already\n'
                'if [ "$1" = -u ]; then u=$2; shift 2; '
                'exec runuser -u "$u" -- "$@"; fi\nexec "$@"\n')
    with open(os.path.join(d, 'systemctl'), 'w') as f:
        f.write('#!/bin/sh\n# no systemd here: the test starts the unit\n'
                'case "$*" in\n"daemon-reload") exit 0;;\n'
                '"enable --now logseal") touch %s/enabled; exit 0;;\n'
                'esac\necho "systemctl $*: not emulated" >&2; exit 1\n'
                % tmp)
    for n in ('sudo', 'systemctl'):
        os.chmod(os.path.join(d, n), 0o755)
    return d


def clean_env(extra=None):
    env = {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:'
                   '/sbin:/bin', 'LANG': 'C.UTF-8'}
    env.update(extra or {})
    return env


def run_recipe(tmp):
    env = clean_env()
    env['PATH'] = shims(tmp) + ':' + env['PATH']
    r = subprocess.run(['bash', '-e', '-x', os.path.join(tmp, 'recipe.sh')],
                       capture_output=True, text=True, env=env, cwd='/',
                       timeout=120)
    check(r.returncode == 0, 'the README recipe failed: %s' % r.stderr)
    check(os.path.exists(os.path.join(tmp, 'enabled')),
          'the recipe never enables the unit')


def parse_unit(path):
    unit = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith(('#', '[')) and '=' in line:
            k, v = line.split('=', 1)
            unit.setdefault(k, []).append(v)
    return unit


def one(unit, key, default=None):
    return unit.get(key, [default])[-1]


def service_dirs(unit, user):
    """State/Logs/RuntimeDirectory as systemd makes them."""
    for key, base in (('StateDirectory', '/var/lib'),
                      ('LogsDirectory', '/var/log'),
                      ('RuntimeDirectory', '/run')):
        for name in one(unit, key, '').split():
            path = os.path.join(base, name)
            os.makedirs(path, exist_ok=True)
            os.chown(path, user.pw_uid, user.pw_gid)
            os.chmod(path, int(one(unit, key + 'Mode', '0755'), 8))


def as_service(unit, user, args, env, **kw):
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for g in one(unit, 'SupplementaryGroups', '').split():
        groups.add(grp.getgrnam(g).gr_gid)
    umask = int(one(unit, 'UMask', '0022'), 8)
    cmd = ['setpriv', '--reuid=%d' % user.pw_uid, '--regid=%d' % user.pw_gid,
           '--groups=' + ','.join(str(g) for g in sorted(groups)),
           '--no-new-privs', '--'] + args
    env = clean_env(dict(env, USER=user.pw_name, LOGNAME=user.pw_name,
                         HOME=user.pw_dir))
    return subprocess.Popen(cmd, env=env, cwd='/',
                            preexec_fn=lambda: os.umask(umask), **kw)


def http_line(ip, when, n):
    return ('%s - - [%s] "GET /live/ch%d/seg%d.ts?device_id=%08x-1111-4111-'
            '8111-%012x HTTP/1.1" 200 %d "-" "VLC/3.0.20"'
            % (ip, when, n % 7, n, n, n * 7919, 1000 + n))


def lines(n, seed):
    rnd = random.Random(seed)
    when = (datetime.datetime.now(datetime.timezone.utc) +
            datetime.timedelta(days=1)).strftime('%d/%b/%Y:%H:%M:%S +0000')
    return [http_line('198.51.%d.%d' % (rnd.randrange(256),
                                        rnd.randrange(1, 255)), when, i)
            for i in range(n)]


def counters(log, source):
    m = None
    for m in re.finditer(r'counters: source %s: lines_in (\d+)' % source,
                         open(log).read()):
        pass
    return int(m.group(1)) if m else -1


def wait(cond, what, proc, log, timeout=120):
    end = time.monotonic() + timeout
    while not cond():
        check(proc.poll() is None, 'the daemon exited (%s) waiting for %s: '
              '%s' % (proc.returncode, what, open(log).read()[-3000:]))
        check(time.monotonic() < end, 'timed out waiting for %s: %s'
              % (what, open(log).read()[-3000:]))
        time.sleep(0.05)


def feed(tail_lines, syslog_lines):
    with open('/var/log/nginx/access.log', 'a') as f:
        f.write(''.join(ln + '\n' for ln in tail_lines))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    for ln in syslog_lines:
        s.sendto(('<190>Dec  7 02:00:00 web nginx: ' + ln).encode(),
                 '/run/logseal/api.sock')
    s.close()


def hash_key_epoch(path):
    with open(path, 'rb') as f:
        return int.from_bytes(f.read()[12:16], 'little')


def start_service(tmp, unit, user, prefix):
    """ExecStartPre, then ExecStart until READY=1; returns (proc, log)."""
    log = os.path.join(tmp, 'journal.log')
    out = open(log, 'ab')
    st = os.fstat(out.fileno())
    nsock = '/run/lsl-notify.sock'
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(nsock)
    os.chmod(nsock, 0o666)
    notify.settimeout(60)
    env = {'NOTIFY_SOCKET': nsock,
           'JOURNAL_STREAM': '%d:%d' % (st.st_dev, st.st_ino)}
    pre = as_service(unit, user, shlex.split(one(unit, 'ExecStartPre')), env,
                     stdout=out, stderr=out)
    check(pre.wait(60) == 0, 'ExecStartPre (--check) failed: %s'
          % open(log).read())
    proc = as_service(unit, user, shlex.split(one(unit, 'ExecStart')), env,
                      stdout=out, stderr=out)
    try:
        got = b''
        while b'READY=1' not in got.split(b'\n'):
            got = notify.recv(4096)
    except socket.timeout:
        proc.kill()
        lslib.fail('no READY=1 from the service: %s' % open(log).read())
    return proc, log


def check_output(log, sent):
    files = glob.glob('/var/log/logseal/*/*/*.log.gz')
    check(files, 'no segments in /var/log/logseal')
    text = b''.join(gzip.open(p).read() for p in files).decode()
    out = text.splitlines()
    check(len(out) == len(sent), '%d lines out of %d in' % (len(out),
                                                           len(sent)))
    leaked = [ln.split()[0] for ln in sent if ln.split()[0] in text]
    check(not leaked, '%d original addresses in the segments' % len(leaked))
    # stderr lines carry priorities; --check's description (stdout) is
    # plain text, as journald takes it.
    journal = open(log).read().splitlines()
    check(any(ln.startswith('<6>info: started') for ln in journal),
          'no <6>info start line in the journal: %s' % journal[:5])
    bad = [ln for ln in journal if ln.startswith('logseal: ') or
           re.match(r'^\d{4}-\d\d-\d\dT', ln) or
           (ln.startswith('<') and
            not re.match(r'^<[3467]>(error|warning|info|debug): ', ln))]
    check(not bad, 'log lines not in the journal\'s form: %s' % bad[:3])
    for p in files + glob.glob('/var/lib/logseal/vault/*.lsv'):
        st = os.stat(p)
        check(pwd.getpwuid(st.st_uid).pw_name == 'logseal' and
              stat.S_IMODE(st.st_mode) & 0o077 == 0,
              '%s: owner or mode not the service\'s (UMask)' % p)
    return sorted(set(lslib.pseudonyms(text)))


def unseal_one(tmp, token, sent):
    officer = os.path.join(tmp, 'officer')
    os.mkdir(officer, 0o700)
    shutil.copy('/root/logseal-officer.key', officer + '/officer.key')
    shutil.copy('/var/lib/logseal/keys/vault.pub', officer)
    os.chmod(officer + '/officer.key', 0o600)
    out = sh(['logseal', 'unseal', '--keys', officer, '--vault',
              '/var/lib/logseal/vault', '--case', 'INSTALL-TEST', token],
             env=clean_env())
    original = out.split('\t')[2]
    check(any(ln.startswith(original + ' ') for ln in sent),
          'the unsealed original is not an address that was sent')


def inner(tmp, prefix):
    os.environ.pop('LOGSEAL_RULES_DIR', None)
    private_system(tmp, prefix)
    run_recipe(tmp)
    unit_path = os.path.join(prefix, UNIT)
    r = subprocess.run(['systemd-analyze', 'verify', unit_path],
                       capture_output=True, text=True, env=clean_env())
    check(r.returncode == 0 and not r.stderr.strip(),
          'systemd-analyze verify of the installed unit: ' + r.stderr)
    unit = parse_unit(unit_path)
    user = pwd.getpwnam(one(unit, 'User'))
    check(user.pw_uid != 0 and user.pw_shell.endswith('nologin'),
          'the service user is not an unprivileged system user')
    service_dirs(unit, user)
    for ro in (prefix, '/etc'):  # ProtectSystem=strict, in part
        mount('-o', 'remount,bind,ro', ro)
    key = '/var/lib/logseal/keys/hash.key'
    check(not os.path.exists('/var/lib/logseal/keys/officer.key'),
          'officer.key left on the daemon host')
    epoch = hash_key_epoch(key)
    # nginx's log exists before the service starts (it reads from its end)
    os.makedirs('/var/log/nginx')
    os.chown('/var/log/nginx', 0, grp.getgrnam('adm').gr_gid)
    fd = os.open('/var/log/nginx/access.log', os.O_CREAT | os.O_WRONLY, 0o640)
    os.fchown(fd, 0, grp.getgrnam('adm').gr_gid)
    os.close(fd)
    proc, log = start_service(tmp, unit, user, prefix)
    tail, syslog = lines(N_TAIL, 1), lines(N_SYSLOG, 2)
    feed(tail, syslog)

    def done():
        proc.send_signal(signal.SIGUSR1)
        time.sleep(0.1)
        return (counters(log, 'nginx') == N_TAIL and
                counters(log, 'api') == N_SYSLOG)
    wait(done, 'every line counted', proc, log)
    wait(lambda: hash_key_epoch(key) == epoch + 1, 'the key to ratchet',
         proc, log)
    proc.send_signal(getattr(signal, one(unit, 'KillSignal', 'SIGTERM')))
    code = proc.wait(int(one(unit, 'TimeoutStopSec', '90')))
    check(code == 0, 'the service stopped with %d: %s'
          % (code, open(log).read()[-2000:]))
    st = os.stat(key)
    check(st.st_uid == user.pw_uid and stat.S_IMODE(st.st_mode) == 0o600,
          'the ratcheted hash.key is not 0600 and the service user\'s')
    tokens = check_output(log, tail + syslog)
    # The client's address as the default output writes it (ip6 mode):
    # the officer unseals it as it stands in the segment.
    unseal_one(tmp, [t for t in tokens if lslib.is_fd_address(t)][0],
               tail + syslog)
    print('ok: recipe, verify, ExecStartPre, READY, %d lines, ratchet, '
          'stop, unseal' % (N_TAIL + N_SYSLOG))


def main():
    try:
        if len(sys.argv) == 4 and sys.argv[1] == '--inner':
            inner(sys.argv[2], sys.argv[3])
        else:
            outer(sys.argv[1], sys.argv[2])
    except lslib.Failure as e:
        print('FAIL test_install.py: %s' % e, file=sys.stderr)
        sys.exit(1)


main()
