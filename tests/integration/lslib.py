"""The one helper module of the logseal integration tests.

Each test is a standalone program: `test_x.py LOGSEAL_BINARY SOURCE_ROOT`
that runs its body through main(): it fails by calling fail() or check()
(message on stderr, exit 1) or skip() (exit 77: meson counts it skipped).
Nothing here prints an original identifier: subprocess output shown in a
failure message is passed through redact() first, and checks report line
numbers, counts and n= values.

Parts: the test context (Ctx: the binary, `pipe`, `unseal`, keys, genlogs);
output readers (gzip members, segments, n= values); waiting (wait_for,
free_port, metrics over HTTP); the daemon (Daemon: the one way to start
`logseal run`); tools and shipped files; and a real nginx beside it
(Nginx, Client, Identity, access_log_conf, DgramQueue: lslib_nginx.py,
re-exported here, so tests import lslib alone).
"""

import glob
import gzip
import ipaddress
import itertools
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib

TOKEN_CLASSES = ('ip', 'id', 'user', 'email', 'secret', 'phone', 'name')
TOKEN_PATTERN = r'\b(?:ip|id|user|email|secret|phone|name)_[a-z2-7]{26}\b'
# An address the ip6 mode wrote (the default for a rule's address
# fields): fd00::/8, standing alone. It stands for a token as much as
# ip_...: TOKEN_RE finds both (unseal takes both), STRICT_TOKEN_RE only
# printed tokens.
FD_PATTERN = (r'(?<![\w:.])[fF][dD][0-9a-fA-F]{0,2}'
              r'(?::[0-9a-fA-F]{0,4}){1,7}(?![\w:.])')
STRICT_TOKEN_RE = re.compile(TOKEN_PATTERN)
TOKEN_RE = re.compile(TOKEN_PATTERN + '|' + FD_PATTERN)
TOKEN_RE_B = re.compile((TOKEN_PATTERN + '|' + FD_PATTERN).encode())
FD_RE = re.compile(FD_PATTERN)
PSEUDONYM_RE = TOKEN_RE
ISO_UTC_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
                     r'[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$')
# Runs of characters identifiers are made of; values are whole runs.
WORD_RE = re.compile(r'[A-Za-z0-9_.:@\-]+')
# A Japanese phone number as the scrubber takes one; logseal records its
# digits, +81 (and a "(0)" after it) read as the national 0.
PHONE_RE = re.compile(r'^(?:\+81[- ]?(?:\(0\))?|\(?0)[0-9][0-9 ().-]*[0-9]$')
SUMMARY_FIELDS = (('lines_in', 'lines in'), ('lines_out', 'lines out'),
                  ('parsed', 'parsed'), ('unparsed', 'unparsed'),
                  ('tokens', 'tokens'), ('vault', 'new vault entries'))

# Shapes masked by redact(): addresses, UUIDs, e-mails, long numbers.
_REDACT_RE = re.compile(
    r'[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-'
    r'[0-9A-Fa-f]{12}'
    r'|[\w.+-]+@[\w-]+(?:\.[\w-]+)+'
    r'|\b\d{1,3}(?:\.\d{1,3}){3}\b'
    r'|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}'
    r'|\b[0-9a-f]{16,}\b|\bsk_\w+'
    r'|\d{5,}|\d{2,4}-\d{2,4}-\d{3,4}')


SKIP = 77


class Failure(Exception):
    pass


def fail(msg):
    raise Failure(msg)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def skip(why):
    """End the test as skipped (meson: exit 77)."""
    print('SKIP: %s' % why)
    sys.exit(SKIP)


def redact(text, limit=1500):
    """Text safe to show: identifier shapes masked, length capped."""
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    text = _REDACT_RE.sub('<redacted>', text)
    if len(text) > limit:
        text = text[:limit] + '... (%d more chars)' % (len(text) - limit)
    return text


def main(body):
    """Run body(ctx) with a fresh Ctx; exit 0 on success, 1 on failure."""
    if len(sys.argv) != 3:
        print('usage: %s LOGSEAL_BINARY SOURCE_ROOT' % sys.argv[0],
              file=sys.stderr)
        sys.exit(2)
    name = os.path.basename(sys.argv[0])
    try:
        with tempfile.TemporaryDirectory(prefix='logseal-it-') as tmp:
            body(Ctx(sys.argv[1], sys.argv[2], tmp))
    except Failure as e:
        print('FAIL %s: %s' % (name, e), file=sys.stderr)
        sys.exit(1)
    print('PASS %s' % name)
    sys.exit(0)


class Ctx:
    """The binary under test, the source tree and the test's temp dir."""

    def __init__(self, exe, root, tmp):
        self.exe = os.path.abspath(exe)
        self.root = os.path.abspath(root)
        self.tmp = tmp
        self.env = dict(os.environ)
        self.env.setdefault('LOGSEAL_RULES_DIR',
                            os.path.join(self.root, 'rules'))
        self.genlogs_py = os.path.join(self.root, 'tests', 'tools',
                                       'genlogs.py')
        self._serial = itertools.count(1)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def run(self, args, stdin=None, input=None, timeout=540):
        """Run logseal ARGS; stdout/stderr captured as bytes.

        stdin: a path to read from; input: bytes to feed.
        """
        # LSL_TEST_WRAP: a command to run logseal under, e.g. valgrind.
        cmd = os.environ.get('LSL_TEST_WRAP', '').split() + [self.exe]
        cmd += list(args)
        fin = open(stdin, 'rb') if stdin else None
        try:
            return subprocess.run(
                cmd, stdin=fin if fin else
                (subprocess.DEVNULL if input is None else None),
                input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=self.env, timeout=timeout)
        except subprocess.TimeoutExpired:
            fail('`logseal %s` did not finish in %ds' % (args[0], timeout))
        finally:
            if fin:
                fin.close()

    def run_pw(self, args, passphrases, input=b''):
        """Run logseal ARGS --passphrase-fd FD, one passphrase a line."""
        r, w = os.pipe()
        os.write(w, ''.join(p + '\n' for p in passphrases).encode())
        os.close(w)
        try:
            return subprocess.run([self.exe] + list(args) +
                                  ['--passphrase-fd', str(r)],
                                  input=input, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=self.env,
                                  pass_fds=(r,), timeout=300)
        finally:
            os.close(r)

    def expect(self, proc, code, what):
        """Fail unless proc exited with `code`; show its redacted stderr."""
        check(proc.returncode == code, '%s: exit %d, expected %d; stderr: %s'
              % (what, proc.returncode, code, redact(proc.stderr)))

    def keygen(self, name='keys'):
        keys = self.path(name)
        self.expect(self.run(['keygen', '--dir', keys]), 0, 'keygen')
        return keys

    def genlog_lines(self, fmt, lines, seed=1):
        """Lines of tests/tools/genlogs.py (deterministic), as bytes."""
        p = subprocess.run([sys.executable, self.genlogs_py, fmt, str(lines),
                            '--seed', str(seed)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300)
        check(p.returncode == 0, 'genlogs %s failed: %s'
              % (fmt, redact(p.stderr)))
        return p.stdout.splitlines()

    def genlogs(self, fmt, lines, out, seed=1, truth=None, extra=()):
        cmd = [sys.executable, self.genlogs_py, fmt, str(lines),
               '--seed', str(seed)] + list(extra)
        if truth:
            cmd += ['--truth', truth]
        with open(out, 'wb') as f:
            p = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE,
                               timeout=300)
        check(p.returncode == 0, 'genlogs %s failed: %s'
              % (fmt, redact(p.stderr)))

    def pipe(self, rule, keys, vault, src=None, out=None, input=None,
             extra=(), code=0):
        """Run `logseal pipe`; returns (proc, summary or None).

        src: --in FILE; input: bytes on stdin; out: --out value (None: no
        --out, output on stdout).
        """
        args = ['pipe', '--rule', rule, '--keys', keys, '--vault', vault]
        if src:
            args += ['--in', src]
        if out:
            args += ['--out', out]
        args += list(extra)
        proc = self.run(args, input=input if input is not None else
                        (None if src else b''))
        self.expect(proc, code, 'pipe --rule %s' % rule)
        return proc, parse_summary(proc.stderr) if code == 0 else None

    def unseal(self, keys, vault, tokens, case='IT-CASE-1', code=None):
        """Unseal `tokens` via --tokens-from; returns (proc, results).

        results: token -> (class, original, first, last) or 'not-found'.
        """
        tf = self.path('tokens-%d.txt' % next(self._serial))
        with open(tf, 'w') as f:
            f.writelines(t + '\n' for t in tokens)
        proc = self.run(['unseal', '--keys', keys, '--vault', vault,
                         '--case', case, '--tokens-from', tf])
        if code is not None:
            self.expect(proc, code, 'unseal')
        return proc, parse_unseal(proc.stdout)


def parse_summary(stderr):
    """The counts of pipe's summary line, as a dict; fails if absent."""
    text = stderr.decode('utf-8', 'replace')
    lines = [ln for ln in text.splitlines() if 'logseal: pipe:' in ln]
    check(len(lines) == 1, 'pipe printed %d summary lines, expected 1; '
          'stderr: %s' % (len(lines), redact(text)))
    out = {}
    for key, words in SUMMARY_FIELDS:
        m = re.search(r'(?<![\w-])(\d+) %s\b' % words, lines[0])
        check(m, 'pipe summary lacks "N %s": %s' % (words, redact(lines[0])))
        out[key] = int(m.group(1))
    return out


def is_fd_address(v):
    """An address the ip6 mode writes: in fd00::/8."""
    try:
        return ipaddress.ip_address(v) in ipaddress.ip_network('fd00::/8')
    except ValueError:
        return False


def pseudonyms(text):
    """Tokens and ip6-mode addresses in text, in order."""
    return [m.group(0) for m in PSEUDONYM_RE.finditer(text)
            if TOKEN_RE.fullmatch(m.group(0)) or is_fd_address(m.group(0))]


def parse_unseal(stdout):
    """token or ip6-mode address -> (class, original, first, last) or
    'not-found'."""
    results = {}
    for no, line in enumerate(stdout.decode('utf-8').splitlines(), 1):
        f = line.split('\t')
        fd = bool(f) and is_fd_address(f[0])
        check(f and (TOKEN_RE.fullmatch(f[0]) or fd),
              'unseal output line %d does not start with a token' % no)
        if f[1:] == ['not-found']:
            results[f[0]] = 'not-found'
            continue
        check(len(f) == 5 and f[1] in TOKEN_CLASSES and
              ISO_UTC_RE.match(f[3]) and ISO_UTC_RE.match(f[4]),
              'unseal output line %d is not TOKEN CLASS ORIGINAL FIRST LAST '
              '(%d fields)' % (no, len(f)))
        check(f[1] == 'ip' if fd else f[0].startswith(f[1] + '_'),
              'unseal output line %d: class does not match the token' % no)
        check(f[3] <= f[4], 'unseal output line %d: first seen after last '
              'seen' % no)
        results[f[0]] = tuple(f[1:])
    return results


def read_gz(path):
    """Decompress a (multi-member) gzip file with Python's gzip."""
    with gzip.open(path, 'rb') as f:
        return f.read()


def gunzip_members(data):
    """Text of the whole gzip members at the start of `data`: a member cut
    short (a .part being written, or a crash) and what follows are left
    out."""
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


def read_members(path):
    """gunzip_members() of a file (possibly growing)."""
    with open(path, 'rb') as f:
        return gunzip_members(f.read())


def zcat(path):
    """Decompress with the system's zcat."""
    p = subprocess.run(['zcat', path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    check(p.returncode == 0, 'zcat %s failed: %s' % (path, redact(p.stderr)))
    return p.stdout


def gz_members(path):
    """Number of gzip members in the file."""
    with open(path, 'rb') as f:
        data = f.read()
    n = 0
    while data:
        d = zlib.decompressobj(wbits=31)
        d.decompress(data)
        check(d.eof, '%s: truncated gzip member %d' % (path, n + 1))
        data = d.unused_data
        n += 1
    return n


def normalize_value(v):
    """The normalized spelling logseal records for an original value."""
    try:
        a = ipaddress.ip_address(v)
    except ValueError:
        a = None
    if a is not None:
        if a.version == 6 and a.ipv4_mapped:
            return str(a.ipv4_mapped)
        return str(a)
    if UUID_RE.match(v) or EMAIL_RE.match(v):
        return v.lower()
    if PHONE_RE.match(v):
        d = re.sub(r'[^0-9]', '', v)
        if v.startswith('+81'):
            d = '0' + (d[3:] if d[2:3] == '0' else d[2:])
        if 10 <= len(d) <= 11:
            return d
    return v


def is_address(v):
    try:
        ipaddress.ip_address(v)
        return True
    except ValueError:
        return False


def normalize_words(line):
    """`line` with every address, UUID, e-mail and phone number spelled
    normalized."""
    return WORD_RE.sub(lambda m: normalize_value(m.group(0)), line)


def count_lines(data):
    """Lines in bytes, counting a last line without its newline."""
    return data.count(b'\n') + (1 if data and not data.endswith(b'\n') else 0)


def read_truth(path):
    with open(path, encoding='utf-8') as f:
        return f.read().splitlines()


# ---- segments and request numbers ----

N_RE = re.compile(rb'[?&]n=(\d+)')
CLIENT_UUID_RE = re.compile(rb'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
                            rb'[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
# A line starts with the client's ip6-mode address (the default for an
# address field) or its token (--ip-mode token).
IP_TOKEN_LINE_RE = re.compile(rb'(?:ip_[a-z2-7]{26}|fd[0-9a-f:]+) - - \[')


def segments(output, source='*', finished_only=True):
    """Segment files of a source (every source by default), in name order;
    with finished_only=False the .part files too."""
    pat = os.path.join(output, source, '**', '*.log.gz')
    files = glob.glob(pat, recursive=True)
    if not finished_only:
        files += glob.glob(pat + '.part', recursive=True)
    return sorted(files)


def segment_lines(output, source='*'):
    """Lines of every segment, .part included (whole members only). While
    the daemon runs a .part may be renamed between listing and reading:
    then list again."""
    for _ in range(50):
        try:
            return b''.join(read_members(p) for p in segments(
                output, source, finished_only=False)).splitlines()
        except FileNotFoundError:
            time.sleep(0.05)
    fail('segments in %s keep changing under the reader' % output)


def n_values(text):
    return [int(m) for m in N_RE.findall(text)]


def seen_ns(output, source):
    """n values in the output so far, finished or not (for waiting)."""
    return n_values(b'\n'.join(segment_lines(output, source)))


def check_final(output, source, expected, allowed_missing=(),
                ip_lines=True):
    """After a clean stop: only finished segments, every expected n exactly
    once (except allowed_missing, which may be absent), nothing else, and
    no client address or device UUID in clear; with ip_lines, every line
    starts with an ip token (nginx lines). Returns the missing n values."""
    files = segments(output, source)
    check(len(segments(output, source, False)) == len(files),
          '%s: unfinished .part segments after a clean stop' % source)
    check(files, '%s: no finished segment in %s' % (source, output))
    text = b''.join(read_gz(p) for p in files)
    check(b'127.0.0.1' not in text and b'192.0.2.' not in text,
          '%s: a client address is in the output in clear' % source)
    check(b'device_id=' in text and not CLIENT_UUID_RE.search(text),
          '%s: a device UUID is in the output in clear' % source)
    bad = [i for i, ln in enumerate(text.splitlines(), 1)
           if not IP_TOKEN_LINE_RE.match(ln)]
    check(not ip_lines or not bad, '%s: %d lines do not start with an ip '
          'token (syslog header left, or not parsed by nginx-combined), '
          'e.g. line %d' % (source, len(bad), bad[0] if bad else 0))
    counts = {}
    for n in n_values(text):
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


def gen_lines(n, seed=1, tag=''):
    """Access-log-like lines (bytes) with addresses and user ids for the
    Daemon's test rule, all distinct; line i ends with its number i."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        ip = '10.%d.%d.%d' % (rnd.randrange(256), rnd.randrange(256),
                              rnd.randrange(1, 255))
        user = 'user%d' % rnd.randrange(5000)
        out.append(('%s %s "GET /live/%s%d.ts?x=%d" %d'
                    % (ip, user, tag, i, rnd.randrange(10 ** 6), i))
                   .encode())
    return out


# ---- waiting, ports, metrics ----

def wait_for(pred, timeout, what, procs=()):
    """Poll pred() until true; fail after `timeout` s, or as soon as one of
    `procs` (Popen or Daemon objects) has exited (a Daemon's log is
    shown)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        for p in procs:
            proc = p.proc if isinstance(p, Daemon) else p
            if proc is not None and proc.poll() is not None:
                fail('%s exited (%s) while waiting for %s%s'
                     % (os.path.basename(str(proc.args[0])), proc.returncode,
                        what, ':\n' + p.log_tail()
                        if isinstance(p, Daemon) else ''))
        time.sleep(0.05)
    fail('timed out after %ds waiting for %s' % (timeout, what))


# ---- DuckDB (npm) ----

DUCKDB_NPM = '@duckdb/node-api@1.5.6-r.1'


def duckdb_dir(ctx, script):
    """A directory under the build directory holding @duckdb/node-api
    (installed with npm once; .ci/deps.sh installs node and npm) and a
    copy of `script` (a path under tests/), so that node runs the script
    from there and its `import '@duckdb/node-api'` finds the package."""
    build = os.environ.get('LSL_BUILD_ROOT') or os.path.dirname(
        os.path.dirname(os.path.dirname(ctx.exe)))
    d = os.path.join(build, 'duckdb-node')
    mod = os.path.join(d, 'node_modules', '@duckdb', 'node-api')
    if not os.path.isdir(mod):
        if not shutil.which('node') or not shutil.which('npm'):
            fail('node and npm are needed (.ci/deps.sh installs them)')
        os.makedirs(d, exist_ok=True)
        p = subprocess.run(['npm', 'install', '--no-audit', '--no-fund',
                            '--loglevel=error', '--prefix', d, DUCKDB_NPM],
                           capture_output=True, timeout=600)
        check(p.returncode == 0, 'npm install %s failed: %s'
              % (DUCKDB_NPM, p.stderr.decode()[-800:]))
    shutil.copy(os.path.join(ctx.root, 'tests', script), d)
    return d


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def udp_bound(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(('127.0.0.1', port))
            return False
        except OSError:
            return True


def http_get(port, request=b'GET /metrics HTTP/1.0\r\n\r\n', timeout=5):
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
        s.sendall(request)
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode('utf-8', 'replace')


def metric(text, name, source=None):
    """Value of logseal_NAME{source="SOURCE"} (or unlabeled) in Prometheus
    text, or None."""
    key = 'logseal_%s' % name
    if source is not None:
        key += '{source="%s"}' % source
    for line in text.splitlines():
        if line.startswith(key + ' '):
            return int(line.split()[-1])
    return None


# ---- the daemon ----

TEST_RULE = r'''name     daemon-test
pattern  ^(?<client>\S+) (?<user>\S+) "(?<msg>[^"]*)" (?<n>\d+)$
field    client ip
field    user   user
'''


class Daemon:
    """`logseal run`, the one way tests start it: keys, vault, state and
    output directories, a test rule (for gen_lines), configuration files,
    and one daemon process at a time with its stderr in `log_path`.

    base: the directory for all of it (default: the test's temp dir).
    """

    def __init__(self, ctx, base=None, output=None):
        self.ctx = ctx
        self.exe = ctx.exe
        self.tmp = base or ctx.tmp
        os.makedirs(self.tmp, exist_ok=True)
        self.keys = os.path.join(self.tmp, 'keys')
        self.vault = os.path.join(self.tmp, 'vault')
        self.state = os.path.join(self.tmp, 'state')
        self.output = output or os.path.join(self.tmp, 'out')
        self.rule = os.path.join(self.tmp, 'test.rules')
        self.log_path = os.path.join(self.tmp, 'daemon.log')
        self.conf = None
        self.proc = None
        with open(self.rule, 'w') as f:
            f.write(TEST_RULE)
        ctx.expect(ctx.run(['keygen', '--dir', self.keys]), 0, 'keygen')

    def config(self, sources, extra='', name='logseal.conf'):
        """Write a configuration; sources: (name, {key: value} or a list of
        (key, value)) pairs; extra: more [daemon] lines (they replace the
        defaults segment_age = 1h, log_level = info). Returns its path,
        also kept as self.conf."""
        given = re.findall(r'(?m)^\s*(\w+)\s*=', extra)
        text = '[daemon]\nkeys = %s\nvault = %s\nstate = %s\noutput = %s\n' \
            % (self.keys, self.vault, self.state, self.output)
        for k, v in (('segment_age', '1h'), ('log_level', 'info')):
            if k not in given:
                text += '%s = %s\n' % (k, v)
        text += extra + '\n'
        for sname, keys in sources:
            items = keys.items() if isinstance(keys, dict) else keys
            text += '\n[source %s]\n' % sname
            text += ''.join('%s = %s\n' % kv for kv in items)
        self.conf = os.path.join(self.tmp, name)
        with open(self.conf, 'w') as f:
            f.write(text)
        return self.conf

    def start(self, config=None, stdin=subprocess.DEVNULL, stdout=None,
              env=None):
        """Start `logseal run --config` (self.conf by default) and return
        the process. env: variables to add (e.g. LD_PRELOAD); a value of
        None removes the variable."""
        e = dict(self.ctx.env)
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        cmd = os.environ.get('LSL_TEST_WRAP', '').split() + [self.exe]
        with open(self.log_path, 'ab') as log:
            self.proc = subprocess.Popen(
                cmd + ['run', '--config', config or self.conf], stdin=stdin,
                stdout=stdout if stdout is not None else subprocess.DEVNULL,
                stderr=log, env=e)
        return self.proc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=60):
        """SIGTERM and wait; returns the exit status (fails if it does not
        stop in time)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
                fail('logseal did not stop within %ds of SIGTERM:\n%s'
                     % (timeout, self.log_tail()))
        return self.proc.returncode

    def wait(self, timeout=120):
        """Exit status once it stops by itself (its stdin source ended)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            fail('logseal did not stop within %ds of its input ending'
                 % timeout)

    def kill(self):
        """SIGKILL (if running) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def log(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def log_tail(self, limit=3000):
        """The end of the log, safe to show (redacted)."""
        return redact(self.log()[-limit:], limit)

    def fault_env(self, **faults):
        """Variables for start(env=...) that preload the faultfs shim
        ($LSL_FAULTFS, tests/tools/faultfs.c) with FAULTFS_<KEY> = value;
        its log is faults.log in the daemon's directory."""
        shim = os.environ.get('LSL_FAULTFS', '')
        check(os.path.exists(shim), '$LSL_FAULTFS does not name the '
              'faultfs shim')
        e = {'ASAN_OPTIONS': (os.environ.get('ASAN_OPTIONS', '') +
                              ':verify_asan_link_order=0').lstrip(':'),
             'LD_PRELOAD': shim,
             'FAULTFS_LOG': os.path.join(self.tmp, 'faults.log')}
        for k, v in faults.items():
            e['FAULTFS_' + k.upper()] = str(v)
        return e

    def reference(self, lines, rule=None):
        """What `logseal pipe` makes of the lines: tokens are keyed and
        deterministic, so the daemon must write exactly these."""
        proc, _ = self.ctx.pipe(rule or self.rule, self.keys,
                                os.path.join(self.tmp, 'ref-vault'),
                                input=b''.join(ln + b'\n' for ln in lines))
        return proc.stdout.splitlines()


# ---- tools and shipped files ----

def find_tool(name):
    path = shutil.which(name) or shutil.which(name, path='/usr/sbin:/sbin')
    if not path:
        skip('%s is not installed (Debian: apt-get install %s)'
             % (name, 'nginx-light' if name == 'nginx' else name))
    return path


def need_daemon(ctx):
    p = subprocess.run([ctx.exe, 'run', '--help'], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
    if p.returncode != 0:
        skip('`logseal run` is not available in this build')


def dist_file(ctx, name):
    with open(os.path.join(ctx.root, 'src', 'dist', name)) as f:
        return f.read()


def subst(text, values):
    """Fill in @NAME@ placeholders; fails if one is left outside comments."""
    for k, v in values.items():
        text = text.replace('@%s@' % k, str(v))
    check('@' not in ''.join(ln.split('#')[0] for ln in text.splitlines()),
          'a placeholder was left unsubstituted')
    return text


# A real nginx and logrotate beside the daemon: lslib_nginx.py, re-exported
# here (import lslib, not it).
from lslib_nginx import (Client, DgramQueue, Identity, Nginx,  # noqa: E402
                         access_log_conf)
