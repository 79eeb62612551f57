#!/usr/bin/env python3
"""kill -9 at random moments, again and again, while lines are appended to
a tailed file: after a final graceful run the segments hold every input
line exactly once, pseudonymized as `logseal pipe` does it, and no .part
file is left."""
import collections
import os
import random
import signal
import sys
import threading
import time

import daemonlib as dl

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


def main():
    env = dl.Env(sys.argv[1], sys.argv[2])
    rnd = random.Random(int(os.environ.get("LSL_CRASH_SEED", "1")))
    src = os.path.join(env.tmp, "access.log")
    open(src, "wb").close()
    rule = os.path.join(sys.argv[2], "rules", "nginx-combined.rules")
    cfg = env.config([("web", {"type": "tail", "path": src,
                               "start": "beginning", "rule": rule})],
                     extra="segment_size = 256K")
    lines = dl.genlogs(sys.argv[2], N, 13)
    dl.check(len(lines) == N, "genlogs gave %d lines" % len(lines))
    done = threading.Event()
    t = threading.Thread(target=writer, args=(src, lines, done), daemon=True)
    t.start()
    for i in range(KILLS):
        p = env.start(cfg)
        time.sleep(rnd.uniform(0.05, 0.6))
        dl.check(p.poll() is None, "daemon exited by itself (%s) in round "
                 "%d:\n%s" % (p.returncode, i, env.log()[-4000:]))
        p.send_signal(signal.SIGKILL)
        p.wait()
    done.wait(120)
    dl.check(done.is_set(), "writer did not finish")

    p = env.start(cfg)
    dl.wait_for(lambda: len(dl.segment_lines(env.output)) >= N, 100,
                "every line in the output after the last restart", p,
                env)
    time.sleep(0.5)
    dl.check(dl.stop(p) == 0, "exit after SIGTERM:\n" + env.log()[-4000:])
    parts = [f for f in dl.segment_files(env.output) if f.endswith(".part")]
    dl.check(not parts, "unfinished segments after a drain: %s" % parts)
    got = collections.Counter(dl.segment_lines(env.output))
    want = collections.Counter(env.reference(lines, rule))
    dl.check(got == want, "after %d kills: %d lines missing, %d extra"
             % (KILLS, sum((want - got).values()),
                sum((got - want).values())))
    print("ok: %d kill -9 restarts, %d lines exactly once" % (KILLS, N))


main()
