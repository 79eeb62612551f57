"""The part of lslib that runs a real nginx beside the daemon: an
unprivileged nginx master serving 200 on 127.0.0.1 (Nginx, Identity), a
keep-alive client that remembers which requests were answered (Client),
the shipped nginx-logseal.conf with chosen access_log lines active
(access_log_conf), and the unix datagram queue length (DgramQueue).

Tests import lslib, which re-exports these; this module uses lslib's
helpers (check, fail, wait_for, ...) at call time.
"""

import grp
import http.client
import os
import pwd
import re
import signal
import socket
import subprocess
import uuid


def access_log_conf(ctx, kinds, values):
    """src/dist/nginx-logseal.conf with placeholders filled in and exactly
    the access_log lines of `kinds` ('unix', 'udp', 'file') active."""
    out = []
    conf = lslib.subst(lslib.dist_file(ctx, 'nginx-logseal.conf'), values)
    for line in conf.splitlines():
        m = re.match(r'^#?access_log (\S+)', line)
        if m:
            target = m.group(1)
            kind = ('unix' if target.startswith('syslog:server=unix:') else
                    'udp' if target.startswith('syslog:') else 'file')
            line = ('' if kind in kinds else '#') + line.lstrip('#')
        out.append(line)
    text = '\n'.join(out) + '\n'
    active = len(re.findall(r'(?m)^access_log ', text))
    lslib.check(active == len(kinds), 'nginx-logseal.conf: %d access_log '
                'lines active, expected %d' % (active, len(kinds)))
    return text


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
        return [lslib.find_tool('setpriv'), '--reuid=%d' % self.uid,
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


NGINX_TEMP_PATHS = (('client-body', 'client_body_temp_path', None),
                    ('fastcgi', 'fastcgi_temp_path', 'http_fastcgi_module'),
                    ('proxy', 'proxy_temp_path', 'http_proxy_module'),
                    ('scgi', 'scgi_temp_path', 'http_scgi_module'),
                    ('uwsgi', 'uwsgi_temp_path', 'http_uwsgi_module'))


class Nginx:
    """An nginx master in the foreground, serving 200 on 127.0.0.1, as an
    unprivileged user (Identity), logging as `logging` says."""

    def __init__(self, ctx, ident, logging):
        self.ctx, self.ident = ctx, ident
        self.exe = lslib.find_tool('nginx')
        self.prefix = ctx.path('nginx')
        ident.give(self.prefix, 0o755)
        self.port = lslib.free_port()
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
        for d, directive, module in NGINX_TEMP_PATHS:
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
        lslib.wait_for(self._listening, 30, 'nginx to listen', [self.proc])
        lslib.wait_for(lambda: os.path.exists(self.pid_file), 30,
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
        for _ in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        '127.0.0.1', self.port, timeout=30)
                self.conn.request('GET', path)
                r = self.conn.getresponse()
                r.read()
                lslib.check(r.status == 200, 'request n=%d: HTTP %d'
                            % (n, r.status))
                self.done.append(n)
                return
            except (http.client.HTTPException, OSError):
                # nginx closed the keep-alive connection before the
                # request was read: retry on a new one (not logged twice).
                self.close()
        lslib.fail('request n=%d failed three times' % n)

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None


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


# Last: lslib imports this module at its end (either may come first).
import lslib  # noqa: E402
