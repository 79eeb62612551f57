#!/usr/bin/env python3
"""SIGHUP: a broken new configuration is logged (file, line) and the old
one keeps running; a good one is loaded in the same process ("reloaded")
and takes effect (here: the metrics endpoint moves). No line is lost or
repeated across either."""
import signal
import subprocess
import threading
import time

import lslib
from lslib import check


class Reader(threading.Thread):
    def __init__(self, f):
        super().__init__(daemon=True)
        self.f, self.lines = f, []

    def run(self):
        for line in self.f:
            self.lines.append(line.rstrip(b"\n"))


def feed(p, reader, lines, total):
    p.stdin.write(b"".join(l + b"\n" for l in lines))
    p.stdin.flush()
    lslib.wait_for(lambda: len(reader.lines) >= total, 60,
                   "%d lines on stdout" % total)


def body(ctx):
    env = lslib.Daemon(ctx)
    port1, port2 = lslib.free_port(), lslib.free_port()
    src = [("in", {"type": "stdin", "rule": env.rule, "sink": "stdout"})]
    cfg = env.config(src, extra="metrics = 127.0.0.1:%d" % port1)
    p = env.start(cfg, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    reader = Reader(p.stdout)
    reader.start()
    lines = lslib.gen_lines(3000, seed=3)
    feed(p, reader, lines[:1000], 1000)

    good = open(cfg).read()
    with open(cfg, "w") as f:
        f.write(good + "segment_sizee = 1M\n")
    bad_line = len(good.splitlines()) + 1
    p.send_signal(signal.SIGHUP)
    lslib.wait_for(lambda: "reload failed" in env.log(), 20,
                   "reload failure")
    log = env.log()
    check("%s:%d:" % (cfg, bad_line) in log and "segment_sizee" in log,
          "reload error lacks file:line/key:\n" + env.log_tail())
    check(p.poll() is None, "daemon died on a broken reload")
    feed(p, reader, lines[1000:2000], 2000)
    check(lslib.metric(lslib.http_get(port1), "up") == 1,
          "old metrics endpoint gone after a failed reload")

    env.config(src, extra="metrics = 127.0.0.1:%d" % port2)
    p.send_signal(signal.SIGHUP)
    # The stdin source finishes its read in flight before the old run
    # drains: the next lines complete it.
    time.sleep(0.3)
    feed(p, reader, lines[2000:2500], 2500)
    lslib.wait_for(lambda: "reloaded" in env.log(), 30, "reloaded")
    lslib.wait_for(lambda: lslib.metric(lslib.http_get(port2), "up") == 1,
                   10, "new metrics endpoint")
    feed(p, reader, lines[2500:], 3000)
    p.stdin.close()
    check(p.wait(60) == 0, "exit code after stdin ended:\n" +
          env.log_tail())
    reader.join(10)
    want = env.reference(lines)
    check(reader.lines == want,
          "output differs across reloads (%d lines)" % len(reader.lines))
    print("ok: broken reload kept the old config; good reload applied")


lslib.main(body)
