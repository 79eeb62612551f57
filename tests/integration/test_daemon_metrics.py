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
import sys
import threading

import daemonlib as dl


def main():
    env = dl.Env(sys.argv[1], sys.argv[2])
    port = dl.free_port()
    cfg = env.config([("in", {"type": "stdin", "rule": env.rule,
                              "sink": "stdout"})],
                     extra="metrics = 127.0.0.1:%d" % port)
    p = env.start(cfg, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out = []
    t = threading.Thread(target=lambda: out.extend(p.stdout), daemon=True)
    t.start()
    n = 4000
    lines = dl.gen_lines(n - 10, seed=5) + [b"not a log line %d" % i
                                            for i in range(10)]
    p.stdin.write(b"".join(l + b"\n" for l in lines))
    p.stdin.flush()

    dl.wait_for(lambda: dl.metric(dl.http_get(port), "lines_out_total",
                                  "in") == n, 60, "lines_out == %d" % n)
    slow = socket.create_connection(("127.0.0.1", port))  # never sends
    text = dl.http_get(port)
    dl.check(text.startswith("HTTP/1.0 200"), "status: " + text[:40])
    for name in ("up", "lines_in_total", "lines_out_total",
                 "unparsed_lines_total", "tokens_total", "bytes_in_total",
                 "bytes_out_total", "vault_entries_total"):
        dl.check("# TYPE logseal_%s " % name in text and
                 "# HELP logseal_%s " % name in text, "no HELP/TYPE for " +
                 name)
    dl.check(dl.metric(text, "up") == 1, "logseal_up")
    # The shipped alerting rules name only metrics the daemon exports.
    alerts = open(os.path.join(sys.argv[2], "src", "dist",
                               "logseal-alerts.yml")).read()
    for name in sorted(set(re.findall(r"\blogseal_[a-z_]+", alerts))):
        dl.check("# TYPE %s " % name in text,
                 "logseal-alerts.yml uses %s, which /metrics lacks" % name)
    dl.check(dl.metric(text, "lines_in_total", "in") == n, "lines_in")
    dl.check(dl.metric(text, "unparsed_lines_total", "in") == 10,
             "unparsed: %s" % dl.metric(text, "unparsed_lines_total", "in"))
    dl.check(dl.metric(text, "tokens_total", "in") >= 2 * (n - 10),
             "tokens")
    dl.check(dl.metric(text, "bytes_in_total", "in") ==
             sum(len(l) + 1 for l in lines), "bytes_in")
    dl.check(dl.metric(text, "vault_entries_total") > 0, "vault entries")

    junk = dl.http_get(port, b"\x00\xff junk junk\r\n\r\n")
    dl.check(junk.startswith("HTTP/1.0 400"), "junk: " + junk[:40])
    try:
        big = dl.http_get(port, b"GET /" + b"a" * 100000)
        dl.check(big == "" or big.startswith("HTTP/1.0 400"),
                 "oversized: " + big[:40])
    except OSError:
        pass  # closed with the request unread: a reset is fine
    dl.check(dl.metric(dl.http_get(port), "up") == 1,
             "endpoint gone after an oversized request")
    slow.close()

    p.send_signal(signal.SIGUSR1)
    dl.wait_for(lambda: "counters: source in: lines_in %d lines_out %d "
                "unparsed 10" % (n, n) in env.log(), 10, "SIGUSR1 counters")
    vault = dl.metric(dl.http_get(port), "vault_entries_total")
    p.send_signal(signal.SIGHUP)
    dl.wait_for(lambda: "reloaded: config" in env.log(), 30, "reload")
    text = dl.http_get(port)
    dl.check(dl.metric(text, "lines_in_total", "in") == n and
             dl.metric(text, "vault_entries_total") == vault,
             "counters after a reload: lines_in %s (want %d), vault %s "
             "(want %s)" % (dl.metric(text, "lines_in_total", "in"), n,
                            dl.metric(text, "vault_entries_total"), vault))
    more = dl.gen_lines(500, seed=6, tag="after")
    p.stdin.write(b"".join(l + b"\n" for l in more))
    p.stdin.flush()
    dl.wait_for(lambda: dl.metric(dl.http_get(port), "lines_out_total",
                                  "in") == n + len(more), 60,
                "lines_out == %d after the reload" % (n + len(more)))
    dl.check(dl.metric(dl.http_get(port), "vault_entries_total") > vault,
             "vault entries did not grow after the reload")
    p.stdin.close()
    dl.check(p.wait(60) == 0, "exit code:\n" + env.log())
    t.join(10)
    dl.check(len(out) == n + len(more),
             "%d lines on stdout for %d in" % (len(out), n + len(more)))
    print("ok: counters on SIGUSR1, in the metrics endpoint and across a "
          "reload")


main()
