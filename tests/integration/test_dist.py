#!/usr/bin/env python3
"""The systemd unit: its ExecStart options are what `logseal run` accepts
(checked with --check on a generated config), and `systemd-analyze verify`
accepts the unit when systemd-analyze exists (else: skipped, exit 77)."""
import os
import re
import shlex
import shutil
import subprocess
import sys

import daemonlib as dl


def main():
    env = dl.Env(sys.argv[1], sys.argv[2])
    unit = os.path.join(sys.argv[2], "src", "dist", "logseal.service")
    text = open(unit).read()
    m = re.search(r"^ExecStart=(.*)$", text, re.M)
    dl.check(m is not None, "no ExecStart")
    argv = shlex.split(m.group(1))
    dl.check(argv[0] == "/usr/local/bin/logseal" and argv[1] == "run",
             "ExecStart: " + m.group(1))
    cfg = env.config([("in", {"type": "stdin", "rule": env.rule})])
    args = [env.bin] + [cfg if a == "/etc/logseal/logseal.conf" else a
                        for a in argv[1:]] + ["--check"]
    r = subprocess.run(args, capture_output=True, text=True)
    dl.check(r.returncode == 0, "%s: %s" % (args, r.stderr))
    for key in ("Type=simple", "ExecReload=/bin/kill -HUP $MAINPID",
                "KillSignal=SIGTERM", "Restart=on-failure",
                "NoNewPrivileges=yes", "ProtectSystem=strict",
                "PrivateTmp=yes", "UMask=0077", "TimeoutStopSec="):
        dl.check(key in text, "unit lacks " + key)

    example = os.path.join(sys.argv[2], "src", "dist",
                           "logseal.conf.example")
    # The example names paths of a real host; --check must fail only on
    # those (keys), never on its syntax.
    r = subprocess.run([env.bin, "run", "--config", example, "--check"],
                       capture_output=True, text=True)
    dl.check("logseal.conf.example:" not in r.stderr,
             "example config does not parse: " + r.stderr)

    sa = shutil.which("systemd-analyze")
    if not sa:
        print("skip: no systemd-analyze")
        sys.exit(77)
    local = os.path.join(env.tmp, "logseal.service")
    with open(local, "w") as f:
        f.write(text.replace("/usr/local/bin/logseal", env.bin))
    r = subprocess.run([sa, "verify", "--man=no", local],
                       capture_output=True, text=True)
    if "--man" in r.stderr and "unrecognized" in r.stderr:
        r = subprocess.run([sa, "verify", local], capture_output=True,
                           text=True)
    dl.check(r.returncode == 0, "systemd-analyze verify: " + r.stderr)
    print("ok: unit verified; ExecStart accepted by logseal run --check")


main()
