#!/usr/bin/env python3
"""kill -9 at random moments, again and again, while lines are appended to
a tailed file: after a final graceful run the segments hold every input
line exactly once, pseudonymized as `logseal pipe` does it, and no .part
file is left."""
import collections
import os
import random
import signal
import threading
import time

import lslib
from lslib import check

N = 50000
KILLS = 24


def writer(path, lines, done):
    rnd = random.Random(5)
    i = 0
    with open(path, "ab") as f:
        while i < len(lines):
            k = rnd.randrange(200, 3000)
            f.write(b"".join(l + b"\n" for l in lines[i:i + k]))
            f.flush()
            i += k
            time.sleep(rnd.uniform(0.05, 0.2))
    done.set()


def body(ctx):
    env = lslib.Daemon(ctx)
    rnd = random.Random(int(os.environ.get("LSL_CRASH_SEED", "1")))
    src = os.path.join(env.tmp, "access.log")
    open(src, "wb").close()
    rule = os.path.join(ctx.root, "rules", "nginx-combined.rules")
    cfg = env.config([("web", {"type": "tail", "path": src,
                               "start": "beginning", "rule": rule})],
                     extra="segment_size = 256K")
    lines = ctx.genlog_lines("nginx", N, 13)
    check(len(lines) == N, "genlogs gave %d lines" % len(lines))
    done = threading.Event()
    t = threading.Thread(target=writer, args=(src, lines, done), daemon=True)
    t.start()
    for i in range(KILLS):
        p = env.start(cfg)
        time.sleep(rnd.uniform(0.05, 0.6))
        check(p.poll() is None, "daemon exited by itself (%s) in round "
              "%d:\n%s" % (p.returncode, i, env.log_tail()))
        p.send_signal(signal.SIGKILL)
        p.wait()
    done.wait(120)
    check(done.is_set(), "writer did not finish")

    env.start(cfg)
    lslib.wait_for(lambda: len(lslib.segment_lines(env.output)) >= N, 100,
                   "every line in the output after the last restart", [env])
    check(env.stop() == 0, "exit after SIGTERM:\n" + env.log_tail())
    parts = [f for f in lslib.segments(env.output, finished_only=False)
             if f.endswith(".part")]
    check(not parts, "unfinished segments after a drain: %s" % parts)
    got = collections.Counter(lslib.segment_lines(env.output))
    want = collections.Counter(env.reference(lines, rule))
    check(got == want, "after %d kills: %d lines missing, %d extra"
          % (KILLS, sum((want - got).values()), sum((got - want).values())))
    print("ok: %d kill -9 restarts, %d lines exactly once" % (KILLS, N))


lslib.main(body)
