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
import sys

import daemonlib as dl

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
            dl.fail("no %s from the daemon (got %s); log:\n%s"
                    % (want, seen, env.log()[-3000:]))
        seen += data.split("\n")
        if want in data.split("\n"):
            return seen
        if proc.poll() is not None:
            dl.fail("daemon exited before %s" % want)


def start(env, cfg, extra_env, log_path):
    log = open(log_path, "wb")
    st = os.fstat(log.fileno())
    e = dict(os.environ)
    e.update(extra_env)
    e["JOURNAL_STREAM"] = e.get("JOURNAL_STREAM", "") % {
        "dev": st.st_dev, "ino": st.st_ino}
    if not e["JOURNAL_STREAM"]:
        del e["JOURNAL_STREAM"]
    return subprocess.Popen([env.bin, "run", "--config", cfg],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=log, env=e)


def notify_run(env):
    sock_path = os.path.join(env.tmp, "api.sock")
    cfg = env.config([("api", {"type": "syslog", "listen": "unix:" +
                               sock_path, "rule": env.rule})])
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    npath = os.path.join(env.tmp, "notify.sock")
    notify.bind(npath)
    notify.settimeout(30)
    log = os.path.join(env.tmp, "daemon.log")
    p = start(env, cfg, {"NOTIFY_SOCKET": npath,
                         "JOURNAL_STREAM": "%(dev)d:%(ino)d"}, log)
    seen = recv_state(notify, "READY=1", p, env)
    dl.check(os.path.exists(sock_path),
             "READY=1 came before the syslog socket existed")
    dl.check("RELOADING=1" not in seen, "RELOADING before any reload")
    p.send_signal(signal.SIGHUP)
    seen = recv_state(notify, "RELOADING=1", p, env)
    recv_state(notify, "READY=1", p, env)
    p.send_signal(signal.SIGTERM)
    recv_state(notify, "STOPPING=1", p, env)
    dl.check(p.wait(60) == 0, "exit %d after SIGTERM" % p.returncode)
    notify.close()
    return log


def check_journal_lines(env, log):
    lines = open(log).read().splitlines()
    dl.check(lines, "the daemon logged nothing")
    for ln in lines:
        m = JOURNAL_LINE.match(ln)
        dl.check(m, "not a journald line (<N>level: ...): %r" % ln)
        dl.check(PRIORITY[m.group(2)] == m.group(1),
                 "priority %s for a %s line" % (m.group(1), m.group(2)))
        dl.check(not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ln),
                 "a timestamp of our own in a journald line: %r" % ln)
    dl.check(any(ln.startswith("<6>info: started") for ln in lines),
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
    log = os.path.join(env.tmp, "plain.log")
    p = start(env, cfg, {"NOTIFY_SOCKET": "@" + name,
                         "JOURNAL_STREAM": "%d:%d" % (other.st_dev,
                                                      other.st_ino)}, log)
    recv_state(notify, "READY=1", p, env)
    dl.check(p.wait(60) == 0, "stdin run: exit %d" % p.returncode)
    lines = open(log).read().splitlines()
    dl.check(lines and all(STAMPED_LINE.match(ln) for ln in lines),
             "with stderr not the journal stream, lines lack their "
             "timestamp: %s" % lines[:3])


def main():
    env = dl.Env(sys.argv[1], sys.argv[2])
    log = notify_run(env)
    check_journal_lines(env, log)
    abstract_and_plain(env)
    print("ok: READY/RELOADING/STOPPING sent; journald priorities only on "
          "the journal stream")


main()
