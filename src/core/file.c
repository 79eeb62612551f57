/*
 * File helpers: exact reads and writes, secret files with a permission
 * check, exclusive creation and atomic replacement with fsync of the file
 * and its directory (a rename is durable only once the directory is).
 */
#include "logseal/file.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lsl_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* read(2), or pread(2) at `off` when it is not negative, until `len`. */
static int read_all(int fd, char *p, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = off < 0 ? read(fd, p, len) : pread(fd, p, len, off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return LSL_ETRUNC;
        p += n;
        len -= (size_t)n;
        if (off >= 0)
            off += n;
    }
    return 0;
}

int lsl_read_exact(int fd, void *buf, size_t len)
{
    return read_all(fd, buf, len, -1);
}

int lsl_pread_exact(int fd, void *buf, size_t len, off_t off)
{
    return off < 0 ? -EINVAL : read_all(fd, buf, len, off);
}

int lsl_secret_file_read(const char *path, void *buf, size_t len)
{
    struct stat st;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = LSL_EFORMAT;
        goto out;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        rc = LSL_EKEYPERM;
        goto out;
    }
    if (st.st_uid != geteuid()) {
        rc = LSL_EKEYOWNER;
        goto out;
    }
    if ((size_t)st.st_size != len) {
        rc = LSL_EFORMAT;
        goto out;
    }
    rc = lsl_read_exact(fd, buf, len);
    if (rc == LSL_ETRUNC)
        rc = LSL_EFORMAT;
out:
    close(fd);
    return rc;
}

int lsl_keyfile_read(const char *path, const char *magic, uint8_t *key,
                     size_t len)
{
    uint8_t *img = sodium_malloc(LSL_KEYFILE_MAGIC_LEN + len);
    int rc;

    if (!img)
        return -ENOMEM;
    rc = lsl_secret_file_read(path, img, LSL_KEYFILE_MAGIC_LEN + len);
    if (rc == 0 && memcmp(img, magic, LSL_KEYFILE_MAGIC_LEN) != 0)
        rc = LSL_EFORMAT;
    if (rc == 0)
        memcpy(key, img + LSL_KEYFILE_MAGIC_LEN, len);
    sodium_free(img);
    return rc;
}

int lsl_keyfile_create(const char *path, const char *magic, const uint8_t *key,
                       size_t len)
{
    uint8_t *img = sodium_malloc(LSL_KEYFILE_MAGIC_LEN + len);
    int rc;

    if (!img)
        return -ENOMEM;
    memcpy(img, magic, LSL_KEYFILE_MAGIC_LEN);
    memcpy(img + LSL_KEYFILE_MAGIC_LEN, key, len);
    rc = lsl_file_create_excl(path, 0600, img, LSL_KEYFILE_MAGIC_LEN + len);
    sodium_free(img);
    return rc;
}

int lsl_fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n;
    int fd, rc = 0;

    if (!slash) {
        strcpy(dir, ".");
    } else {
        n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof(dir))
            return -ENAMETOOLONG;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

static int write_sync_close(int fd, const void *buf, size_t len)
{
    int rc = lsl_write_all(fd, buf, len);

    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int lsl_file_create_excl(const char *path, unsigned mode, const void *buf,
                         size_t len)
{
    int fd, rc;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return -errno;
    /* The umask may have narrowed the mode; set exactly what was asked. */
    if (fchmod(fd, (mode_t)mode) < 0) {
        rc = -errno;
        close(fd);
        goto fail;
    }
    rc = write_sync_close(fd, buf, len);
    if (rc)
        goto fail;
    return lsl_fsync_parent(path);
fail:
    unlink(path);
    return rc;
}

int lsl_file_replace(const char *path, unsigned mode, const void *buf,
                     size_t len)
{
    char tmp[PATH_MAX];
    int fd, rc;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return -errno;
    if (fchmod(fd, (mode_t)mode) < 0) {
        rc = -errno;
        close(fd);
        goto fail;
    }
    rc = write_sync_close(fd, buf, len);
    if (rc)
        goto fail;
    if (rename(tmp, path) < 0) {
        rc = -errno;
        goto fail;
    }
    return lsl_fsync_parent(path);
fail:
    unlink(tmp);
    return rc;
}

int lsl_mkdir_p(const char *path, unsigned mode)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int lsl_path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    return 0;
}
