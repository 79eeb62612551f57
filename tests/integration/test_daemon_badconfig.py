#!/usr/bin/env python3
"""Configuration mistakes stop `logseal run` (and --check) with exit 1 and
a message naming the file, the line and the key; a good file passes
--check and is described."""
import subprocess
import sys

import daemonlib as dl


def run(env, *args):
    return subprocess.run([env.bin, "run"] + list(args), capture_output=True,
                          text=True, timeout=30)


def main():
    env = dl.Env(sys.argv[1], sys.argv[2])
    good = env.config([("in", {"type": "stdin", "rule": env.rule,
                               "sink": "stdout"})])
    r = run(env, "--config", good, "--check")
    dl.check(r.returncode == 0, "--check of a good file: " + r.stderr)
    dl.check("source in: stdin" in r.stdout, "--check output: " + r.stdout)

    bad = env.config([("in", {"type": "stdin", "sink": "stdout",
                              "colour": "blue"})], name="bad.conf")
    line = open(bad).read().splitlines().index("colour = blue") + 1
    for extra in ([], ["--check"]):
        r = run(env, "--config", bad, *extra)
        dl.check(r.returncode == 1, "exit %d for an unknown key" %
                 r.returncode)
        dl.check("%s:%d:" % (bad, line) in r.stderr and "'colour'" in
                 r.stderr, "message lacks file:line or key: " + r.stderr)

    bad = env.config([("in", {"type": "stdin", "rule": "/no/such.rules"})],
                     name="norule.conf")
    r = run(env, "--config", bad, "--check")
    dl.check(r.returncode == 1 and "[source in]" in r.stderr,
             "missing rule: %d %s" % (r.returncode, r.stderr))

    r = run(env, "--config", "/nonexistent/logseal.conf")
    dl.check(r.returncode == 1 and "/nonexistent/logseal.conf" in r.stderr,
             "missing file: " + r.stderr)
    r = run(env)
    dl.check(r.returncode == 2, "no --config must be a usage error")
    print("ok: bad configurations refused with file, line and key")


main()
