#!/usr/bin/env python3
"""`logseal run` with `rule = auto`: the rule is picked from the first
lines of each tailed file, as `pipe --rule auto` picks it, and a source
no rule reads falls back to the text rule with a warning.

- a tailed nginx file gets nginx-combined (logged), and its segments are
  what `pipe --rule nginx-combined` makes of the lines;
- a tailed application log (syslog-like lines) gets the text rule, with a
  warning naming the source and the rules tried, and its segments are what
  `pipe --rule text` makes of them: addresses, e-mails, device ids,
  secrets in name=value pairs tokenized, nothing of them left;
- a syslog source has no lines to sample when the daemon starts: text,
  with a warning that says so;
- `run --check` accepts the configuration.
"""
import os
import re
import subprocess

import lslib
from lslib import check

N = 400
APP = [
    "Dec  7 01:02:%02d web1 app[42]: login ok user_id=%d from 198.51.100.%d "
    "mail=u%d@example.com dev=35-209900-176148-1 password=pw%dx "
    "Authorization: Bearer tok%dAbC" % (i % 60, 1000 + i, i % 250, i, i, i)
    for i in range(N)]


def body(ctx):
    env = lslib.Daemon(ctx)
    web = os.path.join(env.tmp, "web.log")
    app = os.path.join(env.tmp, "app.log")
    lines = ctx.genlog_lines("nginx", N, seed=9)
    app_lines = [a.encode() for a in APP]
    with open(web, "wb") as f:
        f.write(b"".join(l + b"\n" for l in lines))
    with open(app, "wb") as f:
        f.write(b"".join(l + b"\n" for l in app_lines))
    sock = os.path.join(env.tmp, "s.sock")
    src = [("web", {"type": "tail", "path": web, "start": "beginning",
                    "rule": "auto"}),
           ("app", {"type": "tail", "path": os.path.join(env.tmp, "app.l*"),
                    "start": "beginning", "rule": "auto"}),
           ("sys", {"type": "syslog", "listen": "unix:" + sock,
                    "rule": "auto"})]
    cfg = env.config(src)
    r = subprocess.run([env.exe, "run", "--config", cfg, "--check"],
                       capture_output=True, text=True, env=ctx.env)
    check(r.returncode == 0, "--check refuses rule = auto: " + r.stderr)

    p = env.start(cfg)
    lslib.wait_for(lambda: len(lslib.segment_lines(env.output, "web")) >= N
                   and len(lslib.segment_lines(env.output, "app")) >= N, 60,
                   "%d lines in the web and app segments" % N, [env])
    check(env.stop() == 0, "exit code %d:\n%s" % (p.returncode,
                                                   env.log_tail()))
    log = env.log()
    check("[source web]: rule = auto chose nginx-combined" in log,
             "the web source's rule is not logged:\n" + log)
    check("[source app]: rule = auto: no rule matches" in log and
          "using text" in log and
          re.search(r"\(tried: [^)]*nginx-combined", log),
             "no fallback warning for the app source:\n" + log)
    check("[source sys]: rule = auto: no lines to sample; using text"
             in log, "no warning for the syslog source:\n" + log)

    got = lslib.segment_lines(env.output, "web")
    check(got == env.reference(lines, "nginx-combined"),
             "web segments differ from pipe --rule nginx-combined")
    got = lslib.segment_lines(env.output, "app")
    check(got == env.reference(app_lines, "text"),
             "app segments differ from pipe --rule text")
    blob = b"\n".join(got)
    # Each needle holds a byte no token has (tokens are a-z2-7 after
    # "class_"), so a token cannot contain it by chance.
    for i in (0, 7, N - 1):
        for leak in (b"198.51.100.%d " % (i % 250), b"u%d@example" % i,
                     b"=pw%dx" % i, b"tok%dAbC" % i, b"user_id=%d" % (1000 + i),
                     b"176148"):
            check(leak not in blob, "the app segments keep %r" % leak)
    print("ok: rule = auto chose nginx-combined for a tailed nginx file, "
          "text (with a warning) for an application log and a syslog "
          "source")


lslib.main(body)
