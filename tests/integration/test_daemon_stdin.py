#!/usr/bin/env python3
"""logseal run with a stdin source and the stdout sink: every line comes
out exactly once, pseudonymized exactly as `logseal pipe` does it, and the
daemon exits 0 when its only source has ended."""
import subprocess
import sys

import daemonlib as dl


def main():
    env = dl.Env(sys.argv[1], sys.argv[2])
    lines = dl.gen_lines(20000, seed=7)
    cfg = env.config([("in", {"type": "stdin", "rule": env.rule,
                              "sink": "stdout"})])
    p = env.start(cfg, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(b"".join(l + b"\n" for l in lines), timeout=90)
    dl.check(p.returncode == 0, "exit %d; log:\n%s" % (p.returncode,
                                                       env.log()))
    got = out.splitlines()
    want = env.reference(lines)
    dl.check(len(got) == len(lines),
             "%d lines out for %d in" % (len(got), len(lines)))
    dl.check(got == want, "output differs from `logseal pipe`")
    dl.check(not any(l.split()[0] in out for l in lines[:100]),
             "an original address reached the output")
    log = env.log()
    dl.check("started: config " + cfg in log, "no start line:\n" + log)
    dl.check("stopped" in log, "no stop line:\n" + log)
    print("ok: %d lines through `logseal run` exactly once" % len(got))


main()
