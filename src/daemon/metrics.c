/*
 * Prometheus endpoint: a minimal HTTP/1.0 responder on a loopback TCP
 * address. Every request that starts with "GET " gets "200" and the
 * metrics text, anything else "400"; then the connection is closed.
 *
 * Bounded against slow or junk clients: a request (headers) may hold at
 * most REQ_MAX bytes, must arrive within REQ_TIMEOUT_MS, and at most
 * MAX_CLIENTS are served at once (more are closed on accept). Each client
 * owns two handles (socket, timer) and is freed after both close
 * callbacks; the server is freed after its listener and every client.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include "daemon_internal.h"
#include "logseal/log.h"

#define REQ_MAX        4096
#define REQ_TIMEOUT_MS 5000
#define MAX_CLIENTS    16

struct client {
    struct lsl_metrics *m;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wr;
    struct lsl_buf resp;
    char req[REQ_MAX];
    size_t len;
    int open_handles;
    bool answered;
    struct client *next;
};

struct lsl_metrics {
    struct lsl_metrics_opts o;
    uv_tcp_t listener;
    struct client *clients;
    unsigned nclients;
    bool closing;
    bool listener_closed;
};

static void maybe_free_server(struct lsl_metrics *m)
{
    if (m->closing && m->listener_closed && m->nclients == 0)
        free(m);
}

static void client_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    struct lsl_metrics *m = c->m;
    struct client **pp;

    if (--c->open_handles > 0)
        return;
    for (pp = &m->clients; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    m->nclients--;
    lsl_buf_free(&c->resp);
    free(c);
    maybe_free_server(m);
}

static void client_close(struct client *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    uv_close((uv_handle_t *)&c->tcp, client_closed);
    uv_close((uv_handle_t *)&c->timer, client_closed);
}

static void write_done(uv_write_t *w, int status)
{
    (void)status;
    client_close(w->data);
}

/* Queue the response; the connection closes when it is written. */
static void respond(struct client *c, bool ok)
{
    struct lsl_buf body = {0};
    uv_buf_t b;
    int rc = ok ? c->m->o.render(&body, c->m->o.ud) : 0;

    c->answered = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (rc == 0)
        rc = lsl_buf_printf(&c->resp,
                            "HTTP/1.0 %s\r\nContent-Type: text/plain; "
                            "version=0.0.4\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n",
                            ok ? "200 OK" : "400 Bad Request", body.len);
    if (rc == 0 && body.len)
        rc = lsl_buf_append(&c->resp, body.p, body.len);
    lsl_buf_free(&body);
    if (rc == 0) {
        b = uv_buf_init(c->resp.p, (unsigned)c->resp.len);
        c->wr.data = c;
        rc = uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, write_done);
    }
    if (rc)
        client_close(c);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct client *c = h->data;

    (void)hint;
    *buf = uv_buf_init(c->req + c->len, (unsigned)(sizeof(c->req) - c->len));
}

static bool request_complete(const struct client *c)
{
    for (size_t i = 0; i + 1 < c->len; i++) {
        if (c->req[i] == '\n' && (c->req[i + 1] == '\n' ||
                                  (c->req[i + 1] == '\r' && i + 2 < c->len &&
                                   c->req[i + 2] == '\n')))
            return true;
    }
    return false;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct client *c = s->data;

    (void)buf;
    if (n < 0) {
        client_close(c);
        return;
    }
    c->len += (size_t)n;
    if (c->answered)
        return;
    if (c->len >= 4 && memcmp(c->req, "GET ", 4) != 0) {
        respond(c, false);
        return;
    }
    if (request_complete(c))
        respond(c, true);
    else if (c->len == sizeof(c->req))
        respond(c, false);
}

static void timeout_cb(uv_timer_t *t)
{
    client_close(t->data);
}

static void accept_client(struct lsl_metrics *m)
{
    struct client *c = calloc(1, sizeof(*c));
    uv_loop_t *loop = m->o.loop;

    if (!c)
        return;
    c->m = m;
    c->tcp.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->timer);
    c->next = m->clients;
    m->clients = c;
    m->nclients++;
    if (uv_accept((uv_stream_t *)&m->listener, (uv_stream_t *)&c->tcp) ||
        m->nclients > MAX_CLIENTS ||
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb)) {
        client_close(c);
        return;
    }
    uv_timer_start(&c->timer, timeout_cb, REQ_TIMEOUT_MS, 0);
}

static void connection_cb(uv_stream_t *s, int status)
{
    struct lsl_metrics *m = s->data;

    if (status < 0) {
        lsl_log_warn("metrics %s: accept failed: %s", m->o.listen,
                     uv_strerror(status));
        return;
    }
    accept_client(m);
}

static int bind_addr(struct lsl_metrics *m, struct sockaddr_storage *ss)
{
    char host[64];
    unsigned port;
    int rc = lsl_config_loopback(m->o.listen, true, host, sizeof(host), &port);

    if (rc)
        return rc;
    if (strchr(host, ':'))
        return uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss);
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss);
}

static void listener_closed(uv_handle_t *h)
{
    struct lsl_metrics *m = h->data;

    m->listener_closed = true;
    maybe_free_server(m);
}

int lsl_metrics_open(struct lsl_metrics **out, const struct lsl_metrics_opts *o)
{
    struct lsl_metrics *m = calloc(1, sizeof(*m));
    struct sockaddr_storage ss;
    int rc;

    if (!m)
        return -ENOMEM;
    m->o = *o;
    rc = bind_addr(m, &ss);
    if (rc) {
        free(m);
        return rc;
    }
    uv_tcp_init(o->loop, &m->listener);
    m->listener.data = m;
    rc = uv_tcp_bind(&m->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&m->listener, 16, connection_cb);
    if (rc) {
        lsl_log_error("metrics %s: cannot listen: %s", o->listen,
                      uv_strerror(rc));
        m->closing = true;
        uv_close((uv_handle_t *)&m->listener, listener_closed);
        return rc;
    }
    lsl_log_info("metrics on http://%s/metrics", o->listen);
    *out = m;
    return 0;
}

void lsl_metrics_close(struct lsl_metrics *m)
{
    if (!m)
        return;
    m->closing = true;
    for (struct client *c = m->clients; c; c = c->next)
        client_close(c);
    uv_close((uv_handle_t *)&m->listener, listener_closed);
}
