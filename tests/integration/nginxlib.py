"""Helpers of the tests that run logseal beside a real nginx and logrotate.

A test calls need_daemon() / need_tools() first: they exit 77 (meson:
skipped) when `logseal run` or the tools are missing. Everything runs
inside the test's temp dir: nginx as an unprivileged master process on
127.0.0.1 (as user nobody via setpriv when the test runs as root), logseal
with a generated config. Requests carry distinct `n=` values and a device
UUID; checks report counts and n values, never an address or UUID.
"""

import glob
import gzip
import http.client
import os
import grp
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import zlib

from lslib import check, fail, redact

SKIP = 77
# A line starts with the client's ip6-mode address (or a token with
# --ip-mode token).
LINE_RE = re.compile(rb'(?:ip_[a-z2-7]{26}|fd[0-9a-f:]+) - - \[')
N_RE = re.compile(rb'[?&]n=(\d+)')
UUID_RE = re.compile(rb'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
                     rb'[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
TEMP_PATHS = (('client-body', 'client_body_temp_path', None),
              ('fastcgi', 'fastcgi_temp_path', 'http_fastcgi_module'),
              ('proxy', 'proxy_temp_path', 'http_proxy_module'),
              ('scgi', 'scgi_temp_path', 'http_scgi_module'),
              ('uwsgi', 'uwsgi_temp_path', 'http_uwsgi_module'))


def skip(why):
    print('SKIP: %s' % why)
    sys.exit(SKIP)


def need_daemon(ctx):
    p = subprocess.run([ctx.exe, 'run', '--help'], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
    if p.returncode != 0:
        skip('`logseal run` is not available in this build')


def find_tool(name):
    path = shutil.which(name) or shutil.which(name, path='/usr/sbin:/sbin')
    if not path:
        skip('%s is not installed (Debian: apt-get install %s)'
             % (name, 'nginx-light' if name == 'nginx' else name))
    return path


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what, procs=()):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        for p in procs:
            check(p.poll() is None, '%s exited (%s) while waiting for %s'
                  % (p.args[0], p.returncode, what))
        time.sleep(0.05)
    fail('timed out after %ds waiting for %s' % (timeout, what))


def subst(text, values):
    for k, v in values.items():
        text = text.replace('@%s@' % k, str(v))
    check('@' not in ''.join(ln.split('#')[0] for ln in text.splitlines()),
          'a placeholder was left unsubstituted')
    return text


def dist_file(ctx, name):
    with open(os.path.join(ctx.root, 'src', 'dist', name)) as f:
        return f.read()


class Identity:
    """Who nginx runs as: the test's user, or nobody when we are root."""

    def __init__(self):
        self.root = os.geteuid() == 0
        if self.root:
            self.uid = pwd.getpwnam('nobody').pw_uid
            self.gid = grp.getgrnam('nogroup').gr_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
        self.user = pwd.getpwuid(self.uid).pw_name
        self.group = grp.getgrgid(self.gid).gr_name

    def wrap(self, cmd):
        if not self.root:
            return cmd
        return [find_tool('setpriv'), '--reuid=%d' % self.uid,
                '--regid=%d' % self.gid, '--clear-groups'] + cmd

    def give(self, path, mode):
        """A directory nginx writes in."""
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        if self.root:
            os.chown(path, self.uid, self.gid)

    def socket_dir(self, path):
        """Where logseal binds its socket: setgid, the nginx group, so the
        0660 socket is writable by nginx and nobody else."""
        os.makedirs(path, exist_ok=True)
        if self.root:
            os.chown(path, 0, self.gid)
        os.chmod(path, 0o2770)


class Nginx:
    """An nginx master in the foreground, serving 200 on 127.0.0.1."""

    def __init__(self, ctx, ident, logging):
        self.ctx, self.ident = ctx, ident
        self.exe = find_tool('nginx')
        self.prefix = ctx.path('nginx')
        ident.give(self.prefix, 0o755)
        self.port = free_port()
        self.pid_file = os.path.join(self.prefix, 'nginx.pid')
        self.error_log = os.path.join(self.prefix, 'error.log')
        self.conf = os.path.join(self.prefix, 'nginx.conf')
        self.proc = None
        with open(self.conf, 'w') as f:
            f.write(self._main_conf(logging))

    def _main_conf(self, logging):
        v = subprocess.run([self.exe, '-V'], stderr=subprocess.PIPE,
                           stdout=subprocess.PIPE, timeout=30)
        built = (v.stderr + v.stdout).decode()
        temps = ''
        for d, directive, module in TEMP_PATHS:
            if module and '--without-' + module in built:
                continue
            temps += '    %s %s;\n' % (directive,
                                       os.path.join(self.prefix, d))
        snippet = os.path.join(self.prefix, 'logseal.conf')
        with open(snippet, 'w') as f:
            f.write(logging)
        return ('daemon off;\nmaster_process on;\nworker_processes 2;\n'
                'pid %s;\nerror_log %s info;\n'
                'events { worker_connections 128; }\n'
                'http {\n%s    include %s;\n'
                '    server {\n        listen 127.0.0.1:%d;\n'
                '        location / { return 200 "ok\\n"; }\n    }\n}\n'
                % (self.pid_file, self.error_log, temps, snippet, self.port))

    def start(self):
        cmd = self.ident.wrap([self.exe, '-p', self.prefix + '/', '-c',
                               self.conf, '-e', self.error_log])
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        wait_for(self._listening, 30, 'nginx to listen', [self.proc])
        wait_for(lambda: os.path.exists(self.pid_file), 30,
                 'nginx pid file', [self.proc])

    def _listening(self):
        # A bare connect: nginx logs nothing for a connection without a
        # request, so probing adds no access-log lines.
        try:
            socket.create_connection(('127.0.0.1', self.port), 1).close()
            return True
        except OSError:
            return False

    def stop(self):
        """Graceful stop (QUIT: workers finish and log their requests)."""
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)

    def errors(self, needle):
        try:
            with open(self.error_log, 'rb') as f:
                return f.read().count(needle)
        except FileNotFoundError:
            return 0


class Client:
    """Sequential requests on one keep-alive connection; remembers which
    n values got their response (only those must appear in the output)."""

    def __init__(self, port):
        self.port = port
        self.conn = None
        self.done = []

    def get(self, n):
        path = ('/live/ch%d/seg_%d.ts?device_id=%s&n=%d'
                % (n % 4 + 1, n, uuid.uuid4(), n))
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        '127.0.0.1', self.port, timeout=30)
                self.conn.request('GET', path)
                r = self.conn.getresponse()
                r.read()
                check(r.status == 200, 'request n=%d: HTTP %d'
                      % (n, r.status))
                self.done.append(n)
                return
            except (http.client.HTTPException, OSError):
                # nginx closed the keep-alive connection before the
                # request was read: retry on a new one (not logged twice).
                self.close()
        fail('request n=%d failed three times' % n)

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None


class Logseal:
    """`logseal run` with a generated config; stop() sends TERM."""

    def __init__(self, ctx, sources, output=None):
        self.ctx = ctx
        self.keys = ctx.keygen()
        self.output = output or ctx.path('out')
        self.conf = ctx.path('logseal.conf')
        self.log_path = ctx.path('logseal.log')
        self.proc = None
        text = ('[daemon]\nkeys = %s\nvault = %s\nstate = %s\noutput = %s\n'
                'level = 6\nsegment_size = 64M\nsegment_age = 1h\n'
                'metrics = ""\nlog_level = info\n'
                % (self.keys, ctx.path('vault'), ctx.path('state'),
                   self.output))
        for name, keys in sources:
            text += '\n[source %s]\n' % name
            text += ''.join('%s = %s\n' % kv for kv in keys)
            text += 'rule = nginx-combined\nsink = segments\n'
        for d in ('vault', 'state'):
            os.makedirs(ctx.path(d), exist_ok=True)
        os.makedirs(self.output, exist_ok=True)
        with open(self.conf, 'w') as f:
            f.write(text)

    def start(self, stdin=subprocess.DEVNULL):
        self.logf = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(
            [self.ctx.exe, 'run', '--config', self.conf],
            stdin=stdin, stdout=self.logf, stderr=self.logf,
            env=self.ctx.env)

    def log(self):
        with open(self.log_path, 'rb') as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=120):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
                fail('logseal did not stop within %ds of SIGTERM' % timeout)
        self.logf.close()
        return self.proc.returncode

    def wait(self, timeout=120):
        """Exit status once it stops by itself (a stdin source ended)."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            fail('logseal did not stop within %ds of its input ending'
                 % timeout)
        self.logf.close()
        return self.proc.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


def read_members(path):
    """Text of the whole gzip members of a (possibly growing) file."""
    with open(path, 'rb') as f:
        data = f.read()
    out = []
    while data:
        d = zlib.decompressobj(wbits=31)
        try:
            text = d.decompress(data)
        except zlib.error:
            break
        if not d.eof:
            break
        out.append(text)
        data = d.unused_data
    return b''.join(out)


def segments(output, source, finished_only=True):
    pat = os.path.join(output, source, '**', '*.log.gz')
    files = sorted(glob.glob(pat, recursive=True))
    if not finished_only:
        files += sorted(glob.glob(pat + '.part', recursive=True))
    return files


def n_values(text):
    return [int(m) for m in N_RE.findall(text)]


def seen_ns(output, source):
    """n values in the output so far, finished or not (for waiting)."""
    text = b''.join(read_members(p) for p in
                    segments(output, source, finished_only=False))
    return n_values(text)


def check_final(output, source, expected, allowed_missing=()):
    """After a clean stop: only finished segments, every expected n exactly
    once (except allowed_missing, which may be absent), nothing else, and
    no client address or device UUID in clear. Returns missing n values."""
    files = segments(output, source)
    check(len(segments(output, source, False)) == len(files),
          '%s: unfinished .part segments after a clean stop' % source)
    check(files, '%s: no finished segment in %s' % (source, output))
    text = b''.join(gzip.open(p, 'rb').read() for p in files)
    check(b'127.0.0.1' not in text,
          '%s: a client address is in the output in clear' % source)
    check(b'device_id=' in text and not UUID_RE.search(text),
          '%s: a device UUID is in the output in clear' % source)
    bad = [i for i, ln in enumerate(text.splitlines(), 1)
           if not LINE_RE.match(ln)]
    check(not bad, '%s: %d lines do not start with an ip token (syslog '
          'header left, or not parsed by nginx-combined), e.g. line %d'
          % (source, len(bad), bad[0] if bad else 0))
    ns = n_values(text)
    counts = {}
    for n in ns:
        counts[n] = counts.get(n, 0) + 1
    dups = sorted(n for n, c in counts.items() if c > 1)
    check(not dups, '%s: %d requests appear more than once (n=%s)'
          % (source, len(dups), dups[:10]))
    want = set(expected)
    extra = sorted(set(counts) - want)
    check(not extra, '%s: %d unexpected lines (n=%s)'
          % (source, len(extra), extra[:10]))
    missing = sorted(want - set(counts) - set(allowed_missing))
    check(not missing, '%s: %d of %d requests missing (n=%s)'
          % (source, len(missing), len(want), missing[:10]))
    return sorted(want - set(counts))


def show_log(ls):
    return redact(ls.log(), 3000)


def access_log_conf(ctx, kinds, values):
    """src/dist/nginx-logseal.conf with placeholders filled in and exactly
    the access_log lines of `kinds` ('unix', 'udp', 'file') active."""
    out = []
    for line in subst(dist_file(ctx, 'nginx-logseal.conf'),
                      values).splitlines():
        m = re.match(r'^#?access_log (\S+)', line)
        if m:
            target = m.group(1)
            kind = ('unix' if target.startswith('syslog:server=unix:') else
                    'udp' if target.startswith('syslog:') else 'file')
            line = ('' if kind in kinds else '#') + line.lstrip('#')
        out.append(line)
    text = '\n'.join(out) + '\n'
    active = len(re.findall(r'(?m)^access_log ', text))
    check(active == len(kinds), 'nginx-logseal.conf: %d access_log lines '
          'active, expected %d' % (active, len(kinds)))
    return text


class DgramQueue:
    """The kernel default net.unix.max_dgram_qlen is 10 datagrams (systemd
    hosts set 512): with 10, a scheduling hiccup of logseal makes nginx
    drop lines. Raise it to the systemd value for the test when we may,
    and put it back afterwards."""

    PATH = '/proc/sys/net/unix/max_dgram_qlen'

    def __init__(self):
        self.old = None
        try:
            with open(self.PATH) as f:
                cur = int(f.read())
            if cur < 512:
                with open(self.PATH, 'w') as f:
                    f.write('512')
                self.old = cur
        except (OSError, ValueError):
            pass

    def value(self):
        try:
            with open(self.PATH) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def restore(self):
        if self.old is not None:
            with open(self.PATH, 'w') as f:
                f.write(str(self.old))
            self.old = None


def udp_bound(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(('127.0.0.1', port))
            return False
        except OSError:
            return True
