#!/usr/bin/env python3
"""`logseal run --check` (and the start itself) as the service user:

- every configuration error of a file is reported in one run, each with
  its line; every source whose rule does not load is named;
- a ratcheting hash key (keygen --epoch day) whose directory the daemon
  cannot write is refused at --check and at start, naming the directory
  (the daemon would otherwise stop at the first epoch boundary); the same
  directory with a fixed key (--epoch never) is fine;
- vault, state and output directories the daemon cannot write or create
  are all reported at once;
- a keys directory without checkpoint.key (made before it existed) that
  the daemon cannot write is refused for a tail source, naming the key.

Run as root, the daemon runs as an unprivileged user (setpriv) so that
permissions apply; otherwise as the user running the test.
"""
import os
import shutil
import subprocess

import lslib
from lslib import check

NOBODY = 65534


def as_daemon_user(args):
    if os.geteuid() != 0:
        return args
    setpriv = shutil.which("setpriv")
    if not setpriv:
        lslib.skip("running as root without setpriv")
    return [setpriv, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
            "--clear-groups"] + args


def give(path):
    """Make `path` (a file or tree) the daemon user's."""
    if os.geteuid() != 0:
        return
    for d, dirs, files in os.walk(path):
        os.chown(d, NOBODY, NOBODY)
        for f in files:
            os.chown(os.path.join(d, f), NOBODY, NOBODY)


def read_only_dir(path):
    """A directory the daemon user may read but not write."""
    os.makedirs(path, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(path, 0, 0)
        os.chmod(path, 0o755)
    else:
        os.chmod(path, 0o555)


def run(env, cfg, only_check=True):
    args = as_daemon_user([env.exe, "run", "--config", cfg] +
                          (["--check"] if only_check else []))
    return subprocess.run(args, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def keygen(env, name, epoch):
    keys = os.path.join(env.tmp, name)
    r = subprocess.run([env.exe, "keygen", "--dir", keys, "--epoch", epoch],
                       capture_output=True, text=True)
    check(r.returncode == 0, "keygen: " + r.stderr)
    os.unlink(os.path.join(keys, "officer.key"))
    give(keys)
    return keys


def config_errors(env):
    cfg = env.config([("a", {"type": "tail", "rule": env.rule,
                             "listen": "unix:/x"}),
                      ("b", {"type": "stdin", "colour": "blue"})],
                     extra="level = 11", name="errors.conf")
    text = open(cfg).read().splitlines()
    want = [text.index("level = 11") + 1, text.index("[source a]") + 1,
            text.index("listen = unix:/x") + 1,
            text.index("colour = blue") + 1]
    r = run(env, cfg)
    check(r.returncode == 1, "exit %d for a broken file" % r.returncode)
    for line in want:
        check("%s:%d:" % (cfg, line) in r.stderr,
                 "error of line %d not reported: %s" % (line, r.stderr))
    cfg = env.config([("a", {"type": "stdin", "rule": "no-such-rule"}),
                      ("b", {"type": "syslog", "listen": "unix:" +
                             os.path.join(env.tmp, "b.sock"),
                             "rule": "/no/such.rules"})], name="rules.conf")
    r = run(env, cfg)
    check(r.returncode == 1 and "[source a]" in r.stderr and
             "/no/such.rules" in r.stderr,
             "both broken rules must be named: " + r.stderr)
    check("looked in" in r.stderr, "'not found' does not name the "
             "directories searched: " + r.stderr)


def ratchet(env):
    day = keygen(env, "keys-day", "day")
    never = keygen(env, "keys-never", "never")
    read_only_dir(day)
    read_only_dir(never)
    src = [("in", {"type": "stdin", "rule": env.rule, "sink": "stdout"})]
    for keys, ok in ((day, False), (never, True)):
        cfg = env.config(src, name="ratchet.conf")
        text = open(cfg).read().replace(env.keys, keys)
        with open(cfg, "w") as f:
            f.write(text)
        give(cfg)
        for only_check in (True, False):
            r = run(env, cfg, only_check)
            what = "%s with %s" % ("--check" if only_check else "start",
                                   os.path.basename(keys))
            if ok:
                check(r.returncode == 0, what + ": " + r.stderr)
                continue
            check(r.returncode == 1, "%s: exit %d" % (what, r.returncode))
            check(keys in r.stderr and "ratchet" in r.stderr and
                     "not writable" in r.stderr,
                     what + ": the unwritable keys directory is not named: "
                     + r.stderr)


def ckpt_key_missing(env):
    keys = keygen(env, "keys-ck", "never")
    os.unlink(os.path.join(keys, "checkpoint.key"))
    read_only_dir(keys)
    src = os.path.join(env.tmp, "access.log")
    open(src, "w").close()
    text = open(env.config([("web", {"type": "tail", "path": src,
                                     "rule": env.rule})],
                           name="ckkey.conf")).read()
    cfg = os.path.join(env.tmp, "ckkey.conf")
    with open(cfg, "w") as f:
        f.write(text.replace(env.keys, keys))
    give(cfg)
    r = run(env, cfg)
    check(r.returncode == 1 and keys in r.stderr and
          "checkpoint.key" in r.stderr, "a tail source without a "
          "checkpoint key it can make: exit %d: %s" % (r.returncode, r.stderr))


def directories(env):
    ro = os.path.join(env.tmp, "ro")
    read_only_dir(ro)
    text = open(env.config([("in", {"type": "stdin", "rule": env.rule})],
                           name="dirs.conf")).read()
    for key in ("vault", "state", "output"):
        text = text.replace(getattr(env, key), os.path.join(ro, key))
    cfg = os.path.join(env.tmp, "dirs.conf")
    with open(cfg, "w") as f:
        f.write(text)
    give(cfg)
    r = run(env, cfg)
    check(r.returncode == 1, "unwritable directories: exit %d"
             % r.returncode)
    for key in ("vault", "state", "output"):
        check(os.path.join(ro, key) in r.stderr,
                 "the %s directory is not reported: %s" % (key, r.stderr))


def body(ctx):
    env = lslib.Daemon(ctx)
    os.chmod(env.tmp, 0o755)
    give(env.tmp)
    config_errors(env)
    ratchet(env)
    ckpt_key_missing(env)
    directories(env)
    print("ok: every error at once; an unwritable ratcheting key refused at "
          "--check and start")


lslib.main(body)
