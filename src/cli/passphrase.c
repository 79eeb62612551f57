/*
 * Reading passphrases: from the terminal with echo off, or one per line
 * from a file descriptor (--passphrase-fd) for scripts.
 *
 * Invariants: passphrases only ever sit in sodium_malloc memory (read one
 * byte at a time, so no stdio buffer keeps a copy and the descriptor is
 * not read past the line: the next call gets the next line); the
 * terminal's echo setting is restored on every path, a signal at the
 * prompt included.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "logseal/common.h"
#include "logseal/log.h"
#include "passphrase_internal.h"

/* The signal caught at a prompt (see read_tty), 0 if none. */
static volatile sig_atomic_t caught;

/* Read one line from fd into buf (capacity LSL_PASSPHRASE_MAX + 1). */
static int read_line(int fd, char *buf, size_t *len)
{
    size_t n = 0;

    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);

        if (r < 0 && errno == EINTR && !caught)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0 && n == 0)
            return LSL_ENOTFOUND;
        if (r == 0 || c == '\n')
            break;
        if (n == LSL_PASSPHRASE_MAX)
            return -E2BIG;
        buf[n++] = c;
    }
    if (n && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *len = n;
    return 0;
}

/*
 * Signals that end or stop us at the prompt (Ctrl-C, Ctrl-\, Ctrl-Z, a
 * hang-up, kill): while echo is off they are caught, so the terminal is
 * restored first; then the signal takes its usual course (the process
 * ends, or stops and asks again when continued).
 */
static const int prompt_signals[] = {SIGINT,  SIGQUIT, SIGTERM, SIGHUP,
                                     SIGTSTP, SIGTTIN, SIGTTOU};
static void on_prompt_signal(int sig)
{
    caught = sig;
}

static void catch_signals(struct sigaction *old)
{
    struct sigaction sa = {.sa_handler = on_prompt_signal};

    sigemptyset(&sa.sa_mask);
    caught = 0;
    for (size_t i = 0; i < LSL_ARRAY_SIZE(prompt_signals); i++)
        sigaction(prompt_signals[i], &sa, &old[i]);
}

static void release_signals(const struct sigaction *old)
{
    for (size_t i = 0; i < LSL_ARRAY_SIZE(prompt_signals); i++)
        sigaction(prompt_signals[i], &old[i], NULL);
}

/* One prompt with echo off; -EINTR if a signal came (terminal restored). */
static int read_quiet(int tty, const char *prompt, char *buf, size_t *len)
{
    struct sigaction old_sa[LSL_ARRAY_SIZE(prompt_signals)];
    struct termios old, quiet;
    int rc;

    if (tcgetattr(tty, &old) < 0)
        return -errno;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    catch_signals(old_sa);
    rc = tcsetattr(tty, TCSAFLUSH, &quiet) < 0 ? -errno : 0;
    if (rc == 0)
        rc = write(tty, prompt, strlen(prompt)) < 0 ? -errno : 0;
    if (rc == 0)
        rc = caught ? -EINTR : read_line(tty, buf, len);
    tcsetattr(tty, TCSAFLUSH, &old);
    if (write(tty, "\n", 1) < 0 && rc == 0)
        rc = -errno;
    release_signals(old_sa);
    return rc;
}

/* Prompt on the terminal and read a line with echo off. */
static int read_tty(int tty, const char *prompt, char *buf, size_t *len)
{
    for (;;) {
        int rc = read_quiet(tty, prompt, buf, len);
        int sig = caught;

        if (rc != -EINTR || !sig)
            return rc;
        /* The terminal is ours again: let the signal act. A stop
         * returns here when continued, and the prompt is shown anew. */
        raise(sig);
        if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
            return -EINTR;
    }
}

/* Ask on the terminal, twice if confirming. */
static int ask_tty(const char *prompt, bool confirm, char *buf, size_t *len)
{
    char text[512];
    char *again = NULL;
    size_t len2 = 0;
    int tty, rc;

    tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0) {
        lsl_log_error("no terminal to ask for the passphrase of %s; give "
                      "passphrases with --passphrase-fd FD, one per line",
                      prompt);
        return LSL_EUSAGE;
    }
    snprintf(text, sizeof(text), "passphrase for %s: ", prompt);
    rc = read_tty(tty, text, buf, len);
    if (rc == 0 && confirm) {
        again = sodium_malloc(LSL_PASSPHRASE_MAX + 1);
        rc = again ? 0 : -ENOMEM;
        snprintf(text, sizeof(text), "again, passphrase for %s: ", prompt);
        if (rc == 0)
            rc = read_tty(tty, text, again, &len2);
        if (rc == 0 && (len2 != *len || sodium_memcmp(again, buf, len2))) {
            lsl_log_error("%s: the two passphrases differ", prompt);
            rc = LSL_EUSAGE;
        }
        sodium_free(again);
    }
    close(tty);
    return rc;
}

int lsl_cli_passphrase_get(int fd, const char *prompt, bool confirm, char **out)
{
    char *buf = sodium_malloc(LSL_PASSPHRASE_MAX + 1);
    size_t len = 0;
    int rc;

    if (!buf)
        return -ENOMEM;
    if (fd >= 0) {
        rc = read_line(fd, buf, &len);
        if (rc)
            lsl_log_error("cannot read the passphrase for %s from file "
                          "descriptor %d: %s",
                          prompt, fd,
                          rc == LSL_ENOTFOUND ? "no more lines"
                          : rc == -E2BIG      ? "line too long"
                                              : lsl_strerror(rc));
    } else {
        rc = ask_tty(prompt, confirm, buf, &len);
        if (rc && rc != LSL_EUSAGE)
            lsl_log_error("cannot read the passphrase for %s from the "
                          "terminal: %s",
                          prompt, lsl_strerror(rc));
    }
    if (rc == 0 && len == 0) {
        lsl_log_error("%s: empty passphrase refused", prompt);
        rc = LSL_EUSAGE;
    }
    if (rc) {
        sodium_free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}
