#!/usr/bin/env python3
"""`logseal run` with the [daemon] keys `format = jsonl` and `ip_mode =
ip6`, and the disclosure warning of each source's rule.

- `run --check` reports the output format and the address mode;
- every line of an nginx-combined file tailed into segments comes out as
  one JSON object (Python's gzip and json read it), in the canonical
  columns: client_ip an fd00::/8 address (ip6 mode, whatever the rule
  says), status and bytes numbers equal to the source's, time RFC 3339
  UTC; no original
  address anywhere in the segments;
- the daemon's log names what a disclosure request would lack for the
  nginx-combined source (no source port), at start and again after
  SIGHUP, and says nothing of the kind for the nginx-disclosure source;
- a bad value of either key is refused with file:line and the key.
"""
import calendar
import ipaddress
import json
import os
import re
import signal
import subprocess
import time

import lslib
from lslib import check

N = 3000
MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
     "Nov", "Dec"), 1)}
COMBINED_RE = re.compile(
    r'^(\S+) - (.*?) \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" '
    r'"([^"]*)"$')
WARN = "rule %s cannot fully answer a disclosure request"


def rfc3339(t):
    m = re.match(r"(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)"
                 r"(\d\d)$", t)
    check(m, "source time has an unexpected shape")
    d, mon, y, hh, mm, ss, sign, oh, om = m.groups()
    secs = calendar.timegm((int(y), MONTHS[mon], int(d), int(hh), int(mm),
                            int(ss)))
    off = (int(oh) * 3600 + int(om) * 60) * (1 if sign == "+" else -1)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(secs - off))


def check_rows(rows, lines):
    fd = ipaddress.ip_network("fd00::/8")
    for no, (raw, src) in enumerate(zip(rows, lines), 1):
        try:
            o = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            lslib.fail("segment line %d is not JSON: %s" % (no, e))
        m = COMBINED_RE.match(src.decode("utf-8"))
        check(m, "source line %d does not parse" % no)
        addr, _, when, _, status, size = m.groups()[:6]
        check(o.get("_rule") == "nginx-combined",
                 "row %d: _rule is %r" % (no, o.get("_rule")))
        # The default columns are the canonical ones every rule shares.
        a = ipaddress.ip_address(o["client_ip"])
        check(a in fd, "row %d: client_ip is not an fd00::/8 address"
                 % no)
        check(o["status"] == int(status) and
                 o["bytes"] == int(size),
                 "row %d: status/bytes are not the source numbers" % no)
        check(o["time"] == rfc3339(when),
                 "row %d: time is not the source time in UTC" % no)


def warnings(env, rule):
    return [ln for ln in env.log().splitlines() if WARN % rule in ln]


def body(ctx):
    env = lslib.Daemon(ctx)
    web = os.path.join(env.tmp, "web.log")
    disc = os.path.join(env.tmp, "disc.log")
    lines = ctx.genlog_lines("nginx", N, seed=5)
    with open(web, "wb") as f:
        f.write(b"".join(l + b"\n" for l in lines))
    open(disc, "wb").close()
    src = [("web", {"type": "tail", "path": web, "start": "beginning",
                    "rule": "nginx-combined"}),
           ("disc", {"type": "tail", "path": disc, "start": "beginning",
                     "rule": "nginx-disclosure"})]
    cfg = env.config(src, extra="format = jsonl\nip_mode = ip6")

    r = subprocess.run([env.exe, "run", "--config", cfg, "--check"],
                       capture_output=True, text=True, env=ctx.env)
    check(r.returncode == 0 and
             "output format jsonl; addresses ip6 for all rules" in r.stdout,
             "--check does not report format and ip mode: %s%s"
             % (r.stdout, r.stderr))

    p = env.start(cfg)
    lslib.wait_for(lambda: len(lslib.segment_lines(env.output, "web")) >= N,
                   60, "%d lines in the web segments" % N, [env])
    w = warnings(env, "nginx-combined")
    check(len(w) == 1 and "[source web]" in w[0] and
             "no source port" in w[0],
             "no disclosure warning naming the missing port for the "
             "nginx-combined source:\n" + env.log())
    check(not warnings(env, "nginx-disclosure"),
             "a disclosure warning for the nginx-disclosure source:\n"
             + env.log())
    p.send_signal(signal.SIGHUP)
    lslib.wait_for(lambda: "reloaded" in env.log(), 30, "reload", [env])
    check(len(warnings(env, "nginx-combined")) == 2,
             "the disclosure warning is not repeated on reload:\n"
             + env.log())
    check(not warnings(env, "nginx-disclosure"),
             "a disclosure warning for nginx-disclosure after reload")
    check(env.stop() == 0, "exit code %d:\n%s" % (p.returncode,
                                                   env.log_tail()))

    rows = lslib.segment_lines(env.output, "web")
    check(len(rows) == N, "%d rows for %d lines" % (len(rows), N))
    check_rows(rows, lines)
    blob = b"\n".join(rows)
    # One pass over the output with every original address at once.
    addrs = sorted({l.split()[0] for l in lines}, key=len, reverse=True)
    pat = re.compile(rb"(?<![\w.:])(?:%s)(?![\w.:])"
                     % b"|".join(re.escape(a) for a in addrs))
    leaked = sorted(set(pat.findall(blob)))
    check(not leaked, "%d original addresses survive (e.g. line of %s)"
          % (len(leaked), [lines.index(next(l for l in lines
                                            if l.split()[0] == a)) + 1
                           for a in leaked[:5]]))

    bad = env.config(src, extra="ip_mode = ip7", name="bad.conf")
    r = subprocess.run([env.exe, "run", "--config", bad, "--check"],
                       capture_output=True, text=True, env=ctx.env)
    check(r.returncode != 0 and
             re.search(r"bad\.conf:\d+: key 'ip_mode'", r.stderr),
             "a bad ip_mode is not refused with file:line: " + r.stderr)
    print("ok: %d lines as JSON rows with ip6 addresses; disclosure gaps "
          "logged at start and reload" % N)


lslib.main(body)
