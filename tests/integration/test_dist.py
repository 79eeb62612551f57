#!/usr/bin/env python3
"""The systemd unit: its ExecStart options are what `logseal run` accepts
(checked with --check on a generated config), and `systemd-analyze verify`
accepts the unit when systemd-analyze exists (else: skipped, exit 77)."""
import os
import re
import shlex
import shutil
import subprocess

import lslib
from lslib import check


def body(ctx):
    env = lslib.Daemon(ctx)
    unit = os.path.join(ctx.root, "src", "dist", "logseal.service")
    text = open(unit).read()
    m = re.search(r"^ExecStart=(.*)$", text, re.M)
    check(m is not None, "no ExecStart")
    argv = shlex.split(m.group(1))
    check(argv[0] == "/usr/local/bin/logseal" and argv[1] == "run",
             "ExecStart: " + m.group(1))
    cfg = env.config([("in", {"type": "stdin", "rule": env.rule})])
    args = [env.exe] + [cfg if a == "/etc/logseal/logseal.conf" else a
                        for a in argv[1:]] + ["--check"]
    r = subprocess.run(args, capture_output=True, text=True)
    check(r.returncode == 0, "%s: %s" % (args, r.stderr))
    for key in ("Type=simple", "ExecReload=/bin/kill -HUP $MAINPID",
                "KillSignal=SIGTERM", "Restart=on-failure",
                "NoNewPrivileges=yes", "ProtectSystem=strict",
                "PrivateTmp=yes", "UMask=0077", "TimeoutStopSec="):
        check(key in text, "unit lacks " + key)

    # The example, with this test's directories, must pass --check.
    example = lslib.dist_file(ctx, "logseal.conf.example")
    for real, mine in (("/etc/logseal/keys", env.keys),
                       ("/var/lib/logseal/vault", env.vault),
                       ("/var/lib/logseal/state", env.state),
                       ("/var/log/logseal", env.output)):
        check(real in example, "example lacks " + real)
        example = example.replace(real, mine)
    path = os.path.join(env.tmp, "example.conf")
    with open(path, "w") as f:
        f.write(example)
    r = subprocess.run([env.exe, "run", "--config", path, "--check"],
                       capture_output=True, text=True, env=ctx.env)
    check(r.returncode == 0, "example config: " + r.stderr)
    check("source nginx: tail" in r.stdout and "source api: syslog" in
             r.stdout, "example --check output: " + r.stdout)

    sa = shutil.which("systemd-analyze")
    if not sa:
        lslib.skip("no systemd-analyze")
    local = os.path.join(env.tmp, "logseal.service")
    with open(local, "w") as f:
        f.write(text.replace("/usr/local/bin/logseal", env.exe))
    r = subprocess.run([sa, "verify", "--man=no", local],
                       capture_output=True, text=True)
    if "--man" in r.stderr and "unrecognized" in r.stderr:
        r = subprocess.run([sa, "verify", local], capture_output=True,
                           text=True)
    check(r.returncode == 0, "systemd-analyze verify: " + r.stderr)
    print("ok: unit verified; ExecStart accepted by logseal run --check")


lslib.main(body)
