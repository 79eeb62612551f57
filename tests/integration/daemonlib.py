"""Shared helpers of the `logseal run` integration tests (Python 3 stdlib).

Each test script is standalone: argv[1] is the logseal binary, argv[2] the
source root. This module sets up keys, a small rule, configurations, runs
the daemon and reads its output.
"""
import atexit
import glob
import gzip
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib

RULE = r"""name     daemon-test
pattern  ^(?<client>\S+) (?<user>\S+) "(?<msg>[^"]*)" (?<n>\d+)$
field    client ip
field    user   user
"""


_failed = []


def fail(msg):
    _failed.append(msg)
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Env:
    """A temporary directory with keys, a rule file and output dirs."""

    def __init__(self, binary, root):
        self.bin = os.path.abspath(binary)
        self.root = root
        self.tmp = tempfile.mkdtemp(prefix="lsl-daemon-")
        # Kept after a failure, for the log and the output files.
        atexit.register(lambda: _failed or shutil.rmtree(self.tmp, True))
        self.keys = os.path.join(self.tmp, "keys")
        self.vault = os.path.join(self.tmp, "vault")
        self.state = os.path.join(self.tmp, "state")
        self.output = os.path.join(self.tmp, "out")
        self.rule = os.path.join(self.tmp, "test.rules")
        with open(self.rule, "w") as f:
            f.write(RULE)
        r = subprocess.run([self.bin, "keygen", "--dir", self.keys],
                           capture_output=True, text=True)
        check(r.returncode == 0, "keygen failed: " + r.stderr)

    def config(self, sources, extra="", name="logseal.conf"):
        """Write a config; sources: list of (name, {key: value})."""
        text = ("[daemon]\nkeys = %s\nvault = %s\nstate = %s\n"
                "output = %s\nsegment_age = 1h\n%s\n"
                % (self.keys, self.vault, self.state, self.output, extra))
        for sname, keys in sources:
            text += "[source %s]\n" % sname
            for k, v in keys.items():
                text += "%s = %s\n" % (k, v)
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, config, stdin=subprocess.DEVNULL, stdout=None):
        log = open(os.path.join(self.tmp, "daemon.log"), "ab")
        return subprocess.Popen(
            [self.bin, "run", "--config", config], stdin=stdin,
            stdout=stdout if stdout is not None else subprocess.DEVNULL,
            stderr=log)

    def log(self):
        with open(os.path.join(self.tmp, "daemon.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def reference(self, lines, rule=None):
        """What `logseal pipe` makes of the lines (tokens are keyed and
        deterministic, so the daemon must produce exactly these)."""
        inp = os.path.join(self.tmp, "ref-in.log")
        with open(inp, "wb") as f:
            f.write(b"".join(l + b"\n" for l in lines))
        r = subprocess.run(
            [self.bin, "pipe", "--rule", rule or self.rule, "--keys",
             self.keys, "--vault", os.path.join(self.tmp, "ref-vault"),
             "--in", inp, "--out", "-"], capture_output=True)
        check(r.returncode == 0, "pipe failed: " + r.stderr.decode())
        return r.stdout.splitlines()


def genlogs(root, n, seed):
    """nginx lines from tests/tools/genlogs.py (deterministic)."""
    r = subprocess.run([sys.executable, os.path.join(root, "tests", "tools",
                                                     "genlogs.py"),
                        "nginx", str(n), "--seed", str(seed)],
                       capture_output=True)
    check(r.returncode == 0, "genlogs failed: " + r.stderr.decode())
    return r.stdout.splitlines()


def gen_lines(n, seed=1, tag=""):
    """Access-log-like lines with addresses and user ids, all distinct."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        ip = "10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256),
                              rnd.randrange(1, 255))
        user = "user%d" % rnd.randrange(5000)
        out.append(('%s %s "GET /live/%s%d.ts?x=%d" %d'
                    % (ip, user, tag, i, rnd.randrange(10 ** 6), i))
                   .encode())
    return out


def gunzip_members(data):
    """Decompress concatenated gzip members; a cut-short last member
    yields what it holds."""
    out = b""
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += d.decompress(data)
        except zlib.error:
            break
        data = d.unused_data
        if not d.eof:
            break
    return out


def segment_files(output, source=None):
    pat = os.path.join(output, source or "*", "**", "*")
    return sorted(p for p in glob.glob(pat, recursive=True)
                  if os.path.isfile(p) and (p.endswith(".gz") or
                                            p.endswith(".part")))


def segment_lines(output, source=None):
    """Lines of every segment. While the daemon runs, a .part may be renamed
    between listing and reading: list again then."""
    for _ in range(50):
        lines = []
        try:
            for p in segment_files(output, source):
                with open(p, "rb") as f:
                    lines += gunzip_members(f.read()).splitlines()
            return lines
        except FileNotFoundError:
            time.sleep(0.05)
    raise AssertionError("segments keep changing under the reader")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(port, request=b"GET /metrics HTTP/1.0\r\n\r\n", timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(request)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode("utf-8", "replace")


def metric(text, name, source=None):
    key = "logseal_%s" % name
    if source is not None:
        key += '{source="%s"}' % source
    for line in text.splitlines():
        if line.startswith(key + " "):
            return int(line.split()[-1])
    return None


def wait_for(pred, timeout, what, proc=None, env=None):
    """Poll pred; fail early if the daemon `proc` has exited."""
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            fail("daemon exited (%d) while waiting for %s%s"
                 % (proc.returncode, what,
                    ":\n" + env.log()[-4000:] if env else ""))
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def stop(proc, timeout=60):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("daemon did not stop within %d s of SIGTERM" % timeout)
