#!/usr/bin/env python3
"""A real nginx sends its access log to logseal's syslog sources.

    test_nginx_syslog.py LOGSEAL_BINARY SOURCE_ROOT

nginx (unprivileged, 127.0.0.1, config from src/dist/nginx-logseal.conf)
logs every request twice: `syslog:server=unix:SOCK,tag=nginx,nohostname`
into source `viaunix` and `syslog:server=127.0.0.1:PORT,tag=nginx` into
source `viaudp`. After NREQ requests, nginx stops gracefully and logseal
gets SIGTERM. In each source's finished segments every request appears
exactly once (by its n= value), its client address and device UUID
pseudonymized; nginx reported no failed send.
Skips (77) without `logseal run` or nginx.
"""

import os
import socket
import time

import lslib
from lslib import check

NREQ = 600


def body(ctx):
    lslib.need_daemon(ctx)
    lslib.find_tool('nginx')
    ident = lslib.Identity()
    os.chmod(ctx.tmp, 0o755)  # nginx (nobody) must reach the socket
    sock_dir = ctx.path('run')
    ident.socket_dir(sock_dir)
    sock = os.path.join(sock_dir, 'nginx.sock')
    port = lslib.free_port(socket.SOCK_DGRAM)
    ls = lslib.Daemon(ctx)
    ls.config([(name, {'type': 'syslog', 'listen': listen,
                       'rule': 'nginx-combined'})
               for name, listen in (('viaunix', 'unix:' + sock),
                                    ('viaudp', 'udp:127.0.0.1:%d' % port))])
    logging = lslib.access_log_conf(ctx, ('unix', 'udp'), {
        'LOGSEAL_SOCKET': sock, 'LOGSEAL_UDP_PORT': port,
        'ACCESS_LOG': ctx.path('unused.log')})
    ngx = lslib.Nginx(ctx, ident, logging)
    qlen = lslib.DgramQueue()
    try:
        ls.start()
        lslib.wait_for(lambda: os.path.exists(sock) and
                       lslib.udp_bound(port), 60, 'logseal to listen', [ls])
        check(os.stat(sock).st_mode & 0o777 == 0o660,
              'the socket is not mode 0660')
        ngx.start()
        cl = lslib.Client(ngx.port)
        for n in range(NREQ):
            cl.get(n)
            if n % 50 == 49:
                time.sleep(0.01)
        cl.close()
        ngx.stop()
        for src in ('viaunix', 'viaudp'):
            lslib.wait_for(lambda: len(set(lslib.seen_ns(ls.output, src)))
                           >= NREQ, 60, '%s to receive every line' % src,
                           [ls])
        rc = ls.stop()
        check(rc == 0, 'logseal exited %s after SIGTERM; log: %s'
              % (rc, ls.log_tail()))
        check(not os.path.exists(sock), 'the socket was not removed')
        for src in ('viaunix', 'viaudp'):
            lslib.check_final(ls.output, src, cl.done)
        failed = ngx.errors(b'failed')
        check(failed == 0, 'nginx logged %d failures (send/connect to '
              'logseal)' % failed)
        print('%d requests, each once in both sources (unix socket '
              'queue %s)' % (len(cl.done), qlen.value()))
    finally:
        ngx.stop()
        ls.kill()
        qlen.restore()


lslib.main(body)
