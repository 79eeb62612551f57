#!/usr/bin/env python3
"""`logseal run` under systemd's protocols, without systemd:

- readiness: with NOTIFY_SOCKET (a path, or '@' for an abstract socket)
  the daemon sends READY=1 once its sources listen (the syslog socket
  exists by then), RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on
  SIGTERM; without it, nothing breaks;
- logging: when stderr is the stream $JOURNAL_STREAM names, each line
  starts with its journald priority (<6>info: ...) and carries no
  timestamp; when JOURNAL_STREAM names another file, lines keep their
  timestamp and no priority.
"""
import os
import re
import signal
import socket
import subprocess

import lslib
from lslib import check

JOURNAL_LINE = re.compile(r"^<([3467])>(error|warning|info|debug): \S")
STAMPED_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ logseal: ")
PRIORITY = {"error": "3", "warning": "4", "info": "6", "debug": "7"}


def recv_state(sock, want, proc, env):
    """Datagrams until one holds the line `want`; returns all lines."""
    seen = []
    while True:
        try:
            data = sock.recv(4096).decode()
        except socket.timeout:
            lslib.fail("no %s from the daemon (got %s); log:\n%s"
                       % (want, seen, env.log_tail()))
        seen += data.split("\n")
        if want in data.split("\n"):
            return seen
        if proc.poll() is not None:
            lslib.fail("daemon exited before %s" % want)


def start(env, cfg, extra_env):
    """Start the daemon of `env` with its stderr as the "journal stream"
    (JOURNAL_STREAM %(dev)d:%(ino)d: its log file) or another file."""
    open(env.log_path, "ab").close()
    st = os.stat(env.log_path)
    e = dict(extra_env)
    stream = e.get("JOURNAL_STREAM", os.environ.get("JOURNAL_STREAM", ""))
    e["JOURNAL_STREAM"] = stream % {"dev": st.st_dev,
                                    "ino": st.st_ino} if stream else None
    return env.start(cfg, env=e)


def notify_run(env):
    sock_path = os.path.join(env.tmp, "api.sock")
    cfg = env.config([("api", {"type": "syslog", "listen": "unix:" +
                               sock_path, "rule": env.rule})])
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    npath = os.path.join(env.tmp, "notify.sock")
    notify.bind(npath)
    notify.settimeout(30)
    p = start(env, cfg, {"NOTIFY_SOCKET": npath,
                         "JOURNAL_STREAM": "%(dev)d:%(ino)d"})
    seen = recv_state(notify, "READY=1", p, env)
    check(os.path.exists(sock_path),
             "READY=1 came before the syslog socket existed")
    check("RELOADING=1" not in seen, "RELOADING before any reload")
    p.send_signal(signal.SIGHUP)
    seen = recv_state(notify, "RELOADING=1", p, env)
    recv_state(notify, "READY=1", p, env)
    p.send_signal(signal.SIGTERM)
    recv_state(notify, "STOPPING=1", p, env)
    check(p.wait(60) == 0, "exit %d after SIGTERM" % p.returncode)
    notify.close()
    return env.log_path


def check_journal_lines(log):
    lines = open(log).read().splitlines()
    check(lines, "the daemon logged nothing")
    for ln in lines:
        m = JOURNAL_LINE.match(ln)
        check(m, "not a journald line (<N>level: ...): %r" % ln)
        check(PRIORITY[m.group(2)] == m.group(1),
                 "priority %s for a %s line" % (m.group(1), m.group(2)))
        check(not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ln),
                 "a timestamp of our own in a journald line: %r" % ln)
    check(any(ln.startswith("<6>info: started") for ln in lines),
             "no <6>info start line: %s" % lines[:5])


def abstract_and_plain(env):
    """An abstract NOTIFY_SOCKET; JOURNAL_STREAM of another file."""
    cfg = env.config([("in", {"type": "stdin", "rule": env.rule,
                              "sink": "stdout"})], name="stdin.conf")
    name = "logseal-test-%d" % os.getpid()
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind("\0" + name)
    notify.settimeout(30)
    other = os.stat(env.rule)
    p = start(env, cfg, {"NOTIFY_SOCKET": "@" + name,
                         "JOURNAL_STREAM": "%d:%d" % (other.st_dev,
                                                      other.st_ino)})
    log = env.log_path
    recv_state(notify, "READY=1", p, env)
    check(p.wait(60) == 0, "stdin run: exit %d" % p.returncode)
    lines = open(log).read().splitlines()
    check(lines and all(STAMPED_LINE.match(ln) for ln in lines),
             "with stderr not the journal stream, lines lack their "
             "timestamp: %s" % lines[:3])


def body(ctx):
    log = notify_run(lslib.Daemon(ctx, base=ctx.path("notify")))
    check_journal_lines(log)
    abstract_and_plain(lslib.Daemon(ctx, base=ctx.path("plain")))
    print("ok: READY/RELOADING/STOPPING sent; journald priorities only on "
          "the journal stream")


lslib.main(body)
