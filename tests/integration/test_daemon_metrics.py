#!/usr/bin/env python3
"""SIGUSR1 prints one counter line per source; the metrics endpoint
answers GET with Prometheus text holding the right counts, refuses junk,
and is not held up by a client that never sends its request. A reload
(SIGHUP) keeps the counters going: they only grow, and the stdin source
reads on from where it was."""
import os
import re
import signal
import socket
import subprocess
import threading

import lslib
from lslib import check


def body(ctx):
    env = lslib.Daemon(ctx)
    port = lslib.free_port()
    cfg = env.config([("in", {"type": "stdin", "rule": env.rule,
                              "sink": "stdout"})],
                     extra="metrics = 127.0.0.1:%d" % port)
    p = env.start(cfg, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out = []
    t = threading.Thread(target=lambda: out.extend(p.stdout), daemon=True)
    t.start()
    n = 4000
    lines = lslib.gen_lines(n - 10, seed=5) + [b"not a log line %d" % i
                                            for i in range(10)]
    p.stdin.write(b"".join(l + b"\n" for l in lines))
    p.stdin.flush()

    lslib.wait_for(lambda: lslib.metric(lslib.http_get(port), "lines_out_total",
                                  "in") == n, 60, "lines_out == %d" % n)
    slow = socket.create_connection(("127.0.0.1", port))  # never sends
    text = lslib.http_get(port)
    check(text.startswith("HTTP/1.0 200"), "status: " + text[:40])
    for name in ("up", "lines_in_total", "lines_out_total",
                 "unparsed_lines_total", "tokens_total", "bytes_in_total",
                 "bytes_out_total", "vault_entries_total", "output_blocked",
                 "output_blocked_seconds_total", "commit_failures_total",
                 "input_paused"):
        check("# TYPE logseal_%s " % name in text and
                 "# HELP logseal_%s " % name in text, "no HELP/TYPE for " +
                 name)
    check(lslib.metric(text, "up") == 1, "logseal_up")
    # The shipped alerting rules name only metrics the daemon exports.
    alerts = lslib.dist_file(ctx, "logseal-alerts.yml")
    for name in sorted(set(re.findall(r"\blogseal_[a-z_]+", alerts))):
        check("# TYPE %s " % name in text,
              "logseal-alerts.yml uses %s, which /metrics lacks" % name)
    check(lslib.metric(text, "output_blocked") == 0 and
          lslib.metric(text, "commit_failures_total") == 0,
          "the output is not blocked and no commit failed")
    # Losses are counted per source where they can happen: not for stdin.
    check(lslib.metric(text, "lost_datagrams_total", "in") is None and
          lslib.metric(text, "abandoned_bytes_total", "in") is None,
          "loss counters for a stdin source")
    check(lslib.metric(text, "lines_in_total", "in") == n, "lines_in")
    check(lslib.metric(text, "unparsed_lines_total", "in") == 10,
             "unparsed: %s" % lslib.metric(text, "unparsed_lines_total", "in"))
    check(lslib.metric(text, "tokens_total", "in") >= 2 * (n - 10),
             "tokens")
    check(lslib.metric(text, "bytes_in_total", "in") ==
             sum(len(l) + 1 for l in lines), "bytes_in")
    check(lslib.metric(text, "vault_entries_total") > 0, "vault entries")

    junk = lslib.http_get(port, b"\x00\xff junk junk\r\n\r\n")
    check(junk.startswith("HTTP/1.0 400"), "junk: " + junk[:40])
    try:
        big = lslib.http_get(port, b"GET /" + b"a" * 100000)
        check(big == "" or big.startswith("HTTP/1.0 400"),
                 "oversized: " + big[:40])
    except OSError:
        pass  # closed with the request unread: a reset is fine
    check(lslib.metric(lslib.http_get(port), "up") == 1,
             "endpoint gone after an oversized request")
    slow.close()

    p.send_signal(signal.SIGUSR1)
    lslib.wait_for(lambda: "counters: source in: lines_in %d lines_out %d "
                "unparsed 10" % (n, n) in env.log(), 10, "SIGUSR1 counters")
    vault = lslib.metric(lslib.http_get(port), "vault_entries_total")
    p.send_signal(signal.SIGHUP)
    lslib.wait_for(lambda: "reloaded: config" in env.log(), 30, "reload")
    text = lslib.http_get(port)
    check(lslib.metric(text, "lines_in_total", "in") == n and
             lslib.metric(text, "vault_entries_total") == vault,
             "counters after a reload: lines_in %s (want %d), vault %s "
             "(want %s)" % (lslib.metric(text, "lines_in_total", "in"), n,
                            lslib.metric(text, "vault_entries_total"), vault))
    more = lslib.gen_lines(500, seed=6, tag="after")
    p.stdin.write(b"".join(l + b"\n" for l in more))
    p.stdin.flush()
    lslib.wait_for(lambda: lslib.metric(lslib.http_get(port), "lines_out_total",
                                  "in") == n + len(more), 60,
                "lines_out == %d after the reload" % (n + len(more)))
    check(lslib.metric(lslib.http_get(port), "vault_entries_total") > vault,
             "vault entries did not grow after the reload")
    p.stdin.close()
    check(p.wait(60) == 0, "exit code:\n" + env.log())
    t.join(10)
    check(len(out) == n + len(more),
             "%d lines on stdout for %d in" % (len(out), n + len(more)))
    print("ok: counters on SIGUSR1, in the metrics endpoint and across a "
          "reload")


lslib.main(body)
