#!/usr/bin/env python3
"""SIGTERM drains: the daemon stops reading, commits every batch, finishes
its segments (no .part left) and exits 0; a restart continues where it
stopped, so the lines of both runs are the input exactly once."""
import collections
import os
import sys
import time

import daemonlib as dl


def main():
    env = dl.Env(sys.argv[1], sys.argv[2])
    src = os.path.join(env.tmp, "access.log")
    open(src, "wb").close()
    cfg = env.config([("web", {"type": "tail", "path": src,
                               "start": "beginning", "rule": env.rule})])
    lines = dl.gen_lines(30000, seed=11)
    half = len(lines) // 2
    with open(src, "ab") as f:
        f.write(b"".join(l + b"\n" for l in lines[:half]))
    p = env.start(cfg)
    dl.wait_for(lambda: len(dl.segment_lines(env.output)) >= half // 2, 60,
                "output from the first run", p, env)
    with open(src, "ab") as f:
        f.write(b"".join(l + b"\n" for l in lines[half:]))
    dl.check(dl.stop(p) == 0, "exit after SIGTERM:\n" + env.log())
    parts = [f for f in dl.segment_files(env.output) if f.endswith(".part")]
    dl.check(not parts, "unfinished segments after a drain: %s" % parts)
    first = len(dl.segment_lines(env.output))

    p = env.start(cfg)
    dl.wait_for(lambda: len(dl.segment_lines(env.output)) >= len(lines), 90,
                "all lines after the restart", p, env)
    time.sleep(0.5)
    dl.check(dl.stop(p) == 0, "exit after the second SIGTERM:\n" + env.log())
    parts = [f for f in dl.segment_files(env.output) if f.endswith(".part")]
    dl.check(not parts, "unfinished segments after a drain: %s" % parts)
    got = collections.Counter(dl.segment_lines(env.output))
    want = collections.Counter(env.reference(lines))
    missing, extra = want - got, got - want
    dl.check(got == want, "output differs from the input: %d missing, %d "
             "extra" % (sum(missing.values()), sum(extra.values())))
    print("ok: drained (%d lines in the first run), no .part, exactly once"
          % first)


main()
