#!/usr/bin/env python3
"""logseal run with a stdin source and the stdout sink: every line comes
out exactly once, pseudonymized exactly as `logseal pipe` does it, and the
daemon exits 0 when its only source has ended. With the writer still
attached but quiet, SIGTERM drains at once: the lines sent so far come
out and the daemon exits 0 without waiting for the pipe to close."""
import os
import signal
import subprocess
import sys
import time

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
    quiet_writer(env)


def quiet_writer(env):
    lines = dl.gen_lines(500, seed=9, tag="q")
    cfg = env.config([("in", {"type": "stdin", "rule": env.rule,
                              "sink": "stdout"})], name="quiet.conf")
    r, w = os.pipe()
    p = env.start(cfg, stdin=r, stdout=subprocess.PIPE)
    os.close(r)
    os.write(w, b"".join(l + b"\n" for l in lines))
    deadline = time.monotonic() + 30
    while "started: config " + cfg not in env.log():
        dl.check(time.monotonic() < deadline and p.poll() is None,
                 "daemon did not start:\n" + env.log())
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        dl.fail("SIGTERM with a quiet writer on stdin did not stop the "
                "daemon within 15 s")
    finally:
        os.close(w)
    dl.check(p.returncode == 0, "exit %d after SIGTERM; log:\n%s"
             % (p.returncode, env.log()))
    got = out.splitlines()
    dl.check(got == env.reference(lines),
             "%d lines out for %d sent before SIGTERM, or they differ "
             "from `logseal pipe`" % (len(got), len(lines)))
    print("ok: SIGTERM drained a quiet stdin at once (%d lines)" % len(got))
    erased_subject(env)


def erased_subject(env):
    """After `vault erase`, the daemon writes the subject as the erased
    marker (fd00:: for an address field, written in ip6 mode by default)
    and maps it no more: it reads the signed stop list at start."""
    lines = dl.gen_lines(50, seed=11, tag="e")
    cfg = env.config([("in", {"type": "stdin", "rule": env.rule,
                              "sink": "stdout"})], name="erase.conf")
    addr = lines[0].split()[0].decode()
    r = subprocess.run([env.bin, "vault", "erase", "--keys", env.keys,
                        "--vault", env.vault, "--case", "DEL-D1",
                        "--subject", addr, "--class", "ip"],
                       capture_output=True)
    dl.check(r.returncode in (4, 5), "vault erase: exit %d: %s"
             % (r.returncode, r.stderr.decode()))
    p = env.start(cfg, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(lines[0] + b"\n", timeout=60)
    dl.check(p.returncode == 0, "exit %d; log:\n%s" % (p.returncode,
                                                       env.log()))
    dl.check(out.startswith(b"fd00:: "),
             "the daemon wrote an erased subject as %r" % out.split()[0])
    print("ok: the daemon writes an erased subject as fd00::")


main()
