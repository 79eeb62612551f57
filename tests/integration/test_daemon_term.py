#!/usr/bin/env python3
"""SIGTERM drains: the daemon stops reading, commits every batch, finishes
its segments (no .part left) and exits 0; a restart continues where it
stopped, so the lines of both runs are the input exactly once."""
import collections
import os

import lslib
from lslib import check


def body(ctx):
    env = lslib.Daemon(ctx)
    src = os.path.join(env.tmp, "access.log")
    open(src, "wb").close()
    cfg = env.config([("web", {"type": "tail", "path": src,
                               "start": "beginning", "rule": env.rule})])
    lines = lslib.gen_lines(30000, seed=11)
    half = len(lines) // 2
    with open(src, "ab") as f:
        f.write(b"".join(l + b"\n" for l in lines[:half]))
    env.start(cfg)
    lslib.wait_for(lambda: len(lslib.segment_lines(env.output)) >= half // 2,
                   60, "output from the first run", [env])
    with open(src, "ab") as f:
        f.write(b"".join(l + b"\n" for l in lines[half:]))
    check(env.stop() == 0, "exit after SIGTERM:\n" + env.log_tail())
    parts = [f for f in lslib.segments(env.output, finished_only=False)
             if f.endswith(".part")]
    check(not parts, "unfinished segments after a drain: %s" % parts)
    first = len(lslib.segment_lines(env.output))

    env.start(cfg)
    lslib.wait_for(lambda: len(lslib.segment_lines(env.output)) >=
                   len(lines), 90, "all lines after the restart", [env])
    check(env.stop() == 0, "exit after the second SIGTERM:\n" +
          env.log_tail())
    parts = [f for f in lslib.segments(env.output, finished_only=False)
             if f.endswith(".part")]
    check(not parts, "unfinished segments after a drain: %s" % parts)
    got = collections.Counter(lslib.segment_lines(env.output))
    want = collections.Counter(env.reference(lines))
    missing, extra = want - got, got - want
    check(got == want, "output differs from the input: %d missing, %d "
             "extra" % (sum(missing.values()), sum(extra.values())))
    print("ok: drained (%d lines in the first run), no .part, exactly once"
          % first)


lslib.main(body)
