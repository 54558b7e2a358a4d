/* Files: bounded reads, atomic durable writes, directories and paths. */
#include "core/core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int file_fail_errno(lv_err *err, const char *what, const char *path)
{
    int e = errno;
    return lv_fail(err, e == ENOENT ? LV_ENOTFOUND : LV_EIO, "%s %s: %s", what,
                   path, strerror(e));
}

/* Reads until EOF so that pipes and /proc files work too; the limit is
 * checked as we go, never trusting st_size alone. */
static int file_read_fd(int fd, const char *path, lv_buf *b, size_t max_len,
                        lv_err *err)
{
    unsigned char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return file_fail_errno(err, "cannot read", path);
        if (n == 0)
            return 0;
        if ((size_t)n > max_len - b->len)
            return lv_fail(err, LV_ETOOBIG, "%s is larger than %zu bytes", path,
                           max_len);
        if (lv_buf_append(b, chunk, (size_t)n) < 0)
            return lv_fail(err, LV_ENOMEM, "out of memory reading %s", path);
    }
}

int lv_file_read(const char *path, unsigned char **data, size_t *len,
                 size_t max_len, lv_err *err)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return file_fail_errno(err, "cannot open", path);
    lv_buf b = {0};
    int rc = file_read_fd(fd, path, &b, max_len, err);
    close(fd);
    if (rc == 0 && !b.data)
        rc = lv_buf_append(&b, "", 0); /* empty file: still a valid pointer */
    if (rc < 0) {
        lv_buf_free_secret(&b); /* the caller may have been reading a key */
        return rc;
    }
    *data = b.data; /* NUL-terminated (lv_buf guarantees it) */
    *len = b.len;
    return 0;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync of the directory makes the rename itself durable. */
static void fsync_parent(const char *path)
{
    char copy[4096];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int lv_file_write(const char *path, const void *data, size_t len, int mode,
                  lv_err *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return lv_fail(err, LV_EINVAL, "path too long: %s", path);
    /* Same directory as the target so rename() is atomic; mkstemp creates
     * it 0600, so the content is never readable with wider rights. */
    int fd = mkstemp(tmp);
    if (fd < 0)
        return file_fail_errno(err, "cannot create temporary file for", path);
    if (fchmod(fd, (mode_t)mode) != 0 || write_all(fd, data, len) != 0 ||
        fsync(fd) != 0) {
        int rc = file_fail_errno(err, "cannot write", path);
        close(fd);
        unlink(tmp);
        return rc;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int rc = file_fail_errno(err, "cannot write", path);
        unlink(tmp);
        return rc;
    }
    fsync_parent(path);
    return 0;
}

static int mkdir_one(const char *path, int mode, lv_err *err)
{
    struct stat st;
    if (mkdir(path, (mode_t)mode) == 0)
        return 0;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return lv_fail(err, LV_EIO, "cannot create directory %s: %s", path,
                   strerror(errno == EEXIST ? ENOTDIR : errno));
}

int lv_mkdir_p(const char *path, int mode, lv_err *err)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return lv_fail(err, LV_EINVAL, "bad directory path");
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (tmp[i] != '/')
            continue;
        tmp[i] = '\0';
        LV_TRY(mkdir_one(tmp, mode, err));
        tmp[i] = '/';
    }
    return mkdir_one(tmp, mode, err);
}

int lv_dir_empty(const char *dir, lv_err *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return lv_fail(err, errno == ENOENT ? LV_ENOTFOUND : LV_EIO, "%s: %s",
                       dir, strerror(errno));
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

int lv_path_join(char *out, size_t cap, const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    const char *sep = (dl == 0 || dir[dl - 1] == '/') ? "" : "/";
    int n = snprintf(out, cap, "%s%s%s", dir, sep, name);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return LV_ETOOBIG;
    }
    return 0;
}
