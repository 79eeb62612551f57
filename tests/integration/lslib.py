"""Shared helpers of the logseal integration tests.

Each test is a standalone program: `test_x.py LOGSEAL_BINARY SOURCE_ROOT`.
It fails by calling fail() (message on stderr, exit 1). Nothing here prints
an original identifier: subprocess output shown in a failure message is
passed through redact() first, and checks report line numbers and counts.
"""

import gzip
import ipaddress
import itertools
import os
import re
import subprocess
import sys
import tempfile
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


class Failure(Exception):
    pass


def fail(msg):
    raise Failure(msg)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


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
    return v


def is_address(v):
    try:
        ipaddress.ip_address(v)
        return True
    except ValueError:
        return False


def normalize_words(line):
    """`line` with every address, UUID and e-mail spelled normalized."""
    return WORD_RE.sub(lambda m: normalize_value(m.group(0)), line)


def count_lines(data):
    """Lines in bytes, counting a last line without its newline."""
    return data.count(b'\n') + (1 if data and not data.endswith(b'\n') else 0)


def read_truth(path):
    with open(path, encoding='utf-8') as f:
        return f.read().splitlines()
