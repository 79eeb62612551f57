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

    # The example, with this test's directories, must pass --check.
    example = open(os.path.join(sys.argv[2], "src", "dist",
                                "logseal.conf.example")).read()
    for real, mine in (("/etc/logseal/keys", env.keys),
                       ("/var/lib/logseal/vault", env.vault),
                       ("/var/lib/logseal/state", env.state),
                       ("/var/log/logseal", env.output)):
        dl.check(real in example, "example lacks " + real)
        example = example.replace(real, mine)
    path = os.path.join(env.tmp, "example.conf")
    with open(path, "w") as f:
        f.write(example)
    renv = dict(os.environ,
                LOGSEAL_RULES_DIR=os.path.join(sys.argv[2], "rules"))
    r = subprocess.run([env.bin, "run", "--config", path, "--check"],
                       capture_output=True, text=True, env=renv)
    dl.check(r.returncode == 0, "example config: " + r.stderr)
    dl.check("source nginx: tail" in r.stdout and "source api: syslog" in
             r.stdout, "example --check output: " + r.stdout)

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
