#!/usr/bin/env python3
"""The systemd unit as meson installs it (paths filled in from the prefix):

- ExecStart runs PREFIX/bin/logseal with the configuration under the
  build's sysconfdir, and `logseal run` accepts its options (--check on a
  generated config); Type=notify (the daemon sends READY=1), the
  hardening the README lists;
- the example configuration, with this test's directories, passes
  --check; it keeps the keys where a ratcheting key can be replaced;
- `systemd-analyze verify` accepts the unit and `systemd-analyze security`
  rates it at the score the README records (skipped, exit 77, without
  systemd-analyze).
"""
import json
import os
import re
import shlex
import shutil
import subprocess

import lslib
from lslib import check


def built_unit():
    path = os.environ.get("LSL_BUILT_UNIT", "")
    check(os.path.isfile(path), "no built unit (LSL_BUILT_UNIT=%r)" % path)
    return path, open(path).read()


def prefix_paths(root):
    """bindir and sysconfdir of this build, from meson's introspection."""
    build = os.path.dirname(os.path.dirname(os.path.dirname(
        os.environ["LSL_BUILT_UNIT"])))
    r = subprocess.run(["meson", "introspect", "--buildoptions", build],
                       capture_output=True, text=True)
    check(r.returncode == 0, "meson introspect: " + r.stderr)

    opts = {o["name"]: o["value"] for o in json.loads(r.stdout)}
    prefix = opts["prefix"]
    return (os.path.join(prefix, opts["bindir"]),
            os.path.join(prefix, opts["sysconfdir"]))


def check_exec(env, text, bindir, sysconfdir):
    m = re.search(r"^ExecStart=(.*)$", text, re.M)
    check(m is not None, "no ExecStart")
    argv = shlex.split(m.group(1))
    conf = os.path.join(sysconfdir, "logseal", "logseal.conf")
    check(argv[:4] == [os.path.join(bindir, "logseal"), "run", "--config",
                          conf], "ExecStart: " + m.group(1))
    check("ExecStartPre=%s --check" % m.group(1) in text,
             "ExecStartPre is not ExecStart with --check")
    cfg = env.config([("in", {"type": "stdin", "rule": env.rule})])
    args = [env.exe] + [cfg if a == conf else a for a in argv[1:]]
    r = subprocess.run(args + ["--check"], capture_output=True, text=True)
    check(r.returncode == 0, "%s: %s" % (args, r.stderr))
    for key in ("Type=notify", "NotifyAccess=main",
                "ExecReload=/bin/kill -HUP $MAINPID", "KillSignal=SIGTERM",
                "Restart=on-failure", "NoNewPrivileges=yes",
                "ProtectSystem=strict", "PrivateTmp=yes", "UMask=0077",
                "StateDirectory=logseal", "LogsDirectory=logseal",
                "RuntimeDirectory=logseal", "TimeoutStopSec=",
                "CapabilityBoundingSet=\n"):
        check(key in text, "unit lacks " + key.strip())
    check("@" not in re.sub(r"#.*", "", text).replace(
        "@system-service", "").replace("@privileged", "").replace(
        "@resources", ""), "unit has an unsubstituted @placeholder@")


def check_example(env, root):
    example = open(os.path.join(root, "src", "dist",
                                "logseal.conf.example")).read()
    for real, mine in (("/var/lib/logseal/keys", env.keys),
                       ("/var/lib/logseal/vault", env.vault),
                       ("/var/lib/logseal/state", env.state),
                       ("/var/log/logseal", env.output),
                       ("/run/logseal", os.path.join(env.tmp, "run"))):
        check(real in example, "example lacks " + real)
        example = example.replace(real, mine)
    os.makedirs(os.path.join(env.tmp, "run"), exist_ok=True)
    path = os.path.join(env.tmp, "example.conf")
    with open(path, "w") as f:
        f.write(example)
    renv = dict(os.environ, LOGSEAL_RULES_DIR=os.path.join(root, "rules"))
    r = subprocess.run([env.exe, "run", "--config", path, "--check"],
                       capture_output=True, text=True, env=renv)
    check(r.returncode == 0, "example config: " + r.stderr)
    check("source nginx: tail" in r.stdout and "source api: syslog" in
             r.stdout, "example --check output: " + r.stdout)


def check_analyze(env, text, bindir, root):
    sa = shutil.which("systemd-analyze")
    if not sa:
        lslib.skip("no systemd-analyze")
    local = os.path.join(env.tmp, "logseal.service")
    with open(local, "w") as f:
        f.write(text.replace(os.path.join(bindir, "logseal"), env.exe))
    r = subprocess.run([sa, "verify", "--man=no", local],
                       capture_output=True, text=True)
    check(r.returncode == 0 and not r.stderr.strip(),
             "systemd-analyze verify: " + r.stderr)
    r = subprocess.run([sa, "security", "--offline=true", local],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)",
                  r.stdout)
    check(m, "systemd-analyze security: " + r.stdout[-500:] + r.stderr)
    readme = open(os.path.join(root, "README.md")).read()
    check("rates it **%s %s**" % (m.group(1), m.group(2)) in readme,
             "README does not record the unit's security score %s %s"
             % m.groups())
    check(m.group(2) in ("OK", "SAFE") and float(m.group(1)) <= 2.0,
             "the unit's exposure is %s %s" % m.groups())
    return m.group(1)


def body(ctx):
    env = lslib.Daemon(ctx)
    unit, text = built_unit()
    bindir, sysconfdir = prefix_paths(ctx.root)
    check_exec(env, text, bindir, sysconfdir)
    check_example(env, ctx.root)
    score = check_analyze(env, text, bindir, ctx.root)
    print("ok: unit verified, exposure %s; ExecStart accepted by logseal "
          "run --check" % score)


lslib.main(body)
