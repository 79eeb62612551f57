/*
 * Readiness for systemd (Type=notify) without libsystemd: sd_notify's
 * protocol is one datagram of "KEY=VALUE" lines to the unix socket named
 * by $NOTIFY_SOCKET (a path, or '@' for the abstract namespace). Without
 * the variable nothing is sent. Best effort: a failed send is logged once
 * at debug level, since the daemon works the same without a supervisor.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "daemon_internal.h"
#include "logseal/log.h"

int lsl_daemon_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len;
    int fd, rc = 0;

    if (!path || !path[0])
        return 0;
    len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
        return -EINVAL;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
        rc = -errno;
    close(fd);
    if (rc)
        lsl_log_debug("cannot notify the service manager (%s): %s", path,
                      lsl_strerror(rc));
    return rc;
}
