/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "strutil.h"

static bool has_dotdot(const char *path) {
        for (const char *p = path; (p = strstr(p, "..")); p += 2) {
                bool start = p == path || p[-1] == '/';
                bool end = p[2] == 0 || p[2] == '/';
                if (start && end)
                        return true;
        }
        return false;
}

int root_path(const char *root, const char *path, char **ret) {
        char *s;

        if (isempty(path) || path[0] != '/' || has_dotdot(path))
                return -EINVAL;
        if (isempty(root) || streq(root, "/"))
                s = strdup(path);
        else if (root[strlen(root) - 1] == '/')
                s = strdupf("%s%s", root, path + 1);
        else
                s = strdupf("%s%s", root, path);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* Paths named on the command line may be relative; node paths must be absolute. */
static int resolve(const char *root, const char *path, char **ret) {
        if (!root && path && path[0] != '/') {
                char *s = strdup(path);
                if (!s)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }
        return root_path(root, path, ret);
}

/* Opens a node path for reading the way a process chrooted into root would: absolute symlinks (the
 * kubelet's kubelet-client-current.pem) and ".." stay inside root (openat2's RESOLVE_IN_ROOT). Kernels
 * before 5.6 get the plain path. */
static int open_in_root(const char *root, const char *path, const char *full) {
        if (!isempty(root) && !streq(root, "/") && path && path[0] == '/') {
                _cleanup_close_ int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
                struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY, .resolve = RESOLVE_IN_ROOT};
                if (dir < 0)
                        return -errno;
                long fd = syscall(SYS_openat2, dir, path, &how, sizeof(how));
                if (fd >= 0 || errno != ENOSYS)
                        return fd >= 0 ? (int) fd : -errno;
        }
        int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return fd >= 0 ? fd : -errno;
}

int read_file(const char *root, const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_free_ char *full = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_erase_ char *buf = NULL;
        size_t len = 0, alloc = 0;
        int r;

        if (max == 0)
                max = READ_FILE_DEFAULT_MAX;
        r = resolve(root, path, &full);
        if (r < 0)
                return r;
        fd = open_in_root(root, path, full);
        if (fd < 0)
                return log_debug_errno(fd, "Cannot open '%s': %m", full);

        for (;;) {
                ssize_t n;
                if (len + 1 >= alloc) {
                        size_t na = alloc ? alloc * 2 : 4096;
                        char *t;
                        if (na > max + 2)
                                na = max + 2;
                        if (na <= alloc)
                                return log_debug_errno(EFBIG, "'%s' is larger than %zu bytes", full, max);
                        /* Secrets may be in here: never leave a stale copy behind realloc(). */
                        t = malloc(na);
                        if (!t)
                                return -ENOMEM;
                        if (buf) {
                                memcpy(t, buf, len);
                                buf = erase_and_free(buf);
                        }
                        buf = t;
                        alloc = na;
                }
                n = read(fd, buf + len, alloc - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_debug_errno(errno, "Cannot read '%s': %m", full);
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return log_debug_errno(EFBIG, "'%s' is larger than %zu bytes", full, max);
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

static int mkdir_p_full(const char *full, mode_t mode) {
        _cleanup_free_ char *copy = strdup(full);
        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(copy, mode) < 0 && errno != EEXIST)
                        return log_debug_errno(errno, "Cannot create directory '%s': %m", copy);
                *p = '/';
        }
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return log_debug_errno(errno, "Cannot create directory '%s': %m", copy);
        return 0;
}

int mkdir_p(const char *root, const char *path, mode_t mode) {
        _cleanup_free_ char *full = NULL;
        int r = resolve(root, path, &full);
        if (r < 0)
                return r;
        return mkdir_p_full(full, mode);
}

static int write_all(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int write_file_atomic(const char *root, const char *path, const void *data, size_t len, mode_t mode,
                      unsigned flags) {
        _cleanup_free_ char *full = NULL, *dir = NULL, *base = NULL, *tmp = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        int r;

        r = resolve(root, path, &full);
        if (r < 0)
                return r;
        dir = strdup(full);
        base = strdup(full);
        if (!dir || !base)
                return -ENOMEM;
        dirname(dir);

        if (flags & WRITE_MKDIR_PARENTS) {
                r = mkdir_p_full(dir, 0755);
                if (r < 0)
                        return r;
        }
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return log_debug_errno(errno, "Cannot open directory '%s': %m", dir);

        const char *name = basename(base);
        if ((flags & WRITE_KEEP_EXISTING) && faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return -EEXIST;

        for (int attempt = 0; attempt < 16; attempt++) {
                uint64_t rnd = 0;
                if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return -errno;
                free(tmp);
                tmp = strdupf(".#%s.%016llx", name, (unsigned long long) rnd);
                if (!tmp)
                        return -ENOMEM;
                /* Created with no permissions, then set to the final mode: umask has no say. */
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0000);
                if (fd >= 0 || errno != EEXIST)
                        break;
        }
        if (fd < 0)
                return log_debug_errno(errno, "Cannot create a temporary file in '%s': %m", dir);

        r = fchmod(fd, mode) < 0 ? -errno : 0;
        if (r == 0)
                r = write_all(fd, data, len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dfd, tmp, 0);
                return log_debug_errno(r, "Cannot write '%s': %m", full);
        }
        /* The rename is durable only once the directory is. */
        (void) fsync(dfd);
        return 0;
}

int write_string_atomic(const char *root, const char *path, const char *s, mode_t mode, unsigned flags) {
        return write_file_atomic(root, path, s, strlen(s), mode, flags);
}

int path_exists(const char *root, const char *path) {
        _cleanup_free_ char *full = NULL;
        int r = resolve(root, path, &full);
        if (r < 0)
                return r;
        return access(full, F_OK) < 0 ? -errno : 0;
}

int unlink_file(const char *root, const char *path) {
        _cleanup_free_ char *full = NULL;
        int r = resolve(root, path, &full);
        if (r < 0)
                return r;
        if (unlink(full) < 0 && errno != ENOENT)
                return log_debug_errno(errno, "Cannot remove '%s': %m", full);
        return 0;
}

/* ---- emptying a directory ---- */

/* Opens a node directory as a process chrooted into root would (see open_in_root()). */
static int open_dir_in_root(const char *root, const char *path, const char *full) {
        if (!isempty(root) && !streq(root, "/") && path && path[0] == '/') {
                _cleanup_close_ int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
                struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                       .resolve = RESOLVE_IN_ROOT};
                if (dir < 0)
                        return -errno;
                long fd = syscall(SYS_openat2, dir, path, &how, sizeof(how));
                if (fd >= 0 || errno != ENOSYS)
                        return fd >= 0 ? (int) fd : -errno;
        }
        int fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd >= 0 ? fd : -errno;
}

struct clean {
        dev_t dev;
        char *failed; /* full path of the first entry that could not be removed */
        unsigned long removed;
};

static int clean_fail(struct clean *c, const char *dir, const char *name, int r) {
        if (!c->failed)
                c->failed = strdupf("%s/%s", dir, name);
        return r;
}

/* Removes everything inside the directory fd (named dir, for messages); fd stays open. */
static int clean_at(struct clean *c, int fd, const char *dir, unsigned depth) {
        _cleanup_close_ int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        DIR *d;
        int ret = 0;

        if (dfd < 0)
                return -errno;
        if (depth > 256)
                return -ELOOP;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        (void) TAKE_FD(dfd); /* owned by d now */
        for (struct dirent *e; (errno = 0, e = readdir(d));) {
                struct stat st;
                if (streq(e->d_name, ".") || streq(e->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && ret == 0)
                                ret = clean_fail(c, dir, e->d_name, -errno);
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *sub = strdupf("%s/%s", dir, e->d_name);
                        _cleanup_close_ int sfd = -EBADF;
                        int k;
                        if (!sub) {
                                ret = -ENOMEM;
                                break;
                        }
                        /* Another file system (a volume still mounted): never emptied from here. */
                        if (st.st_dev != c->dev) {
                                if (ret == 0)
                                        ret = clean_fail(c, dir, e->d_name, -EXDEV);
                                continue;
                        }
                        sfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sfd < 0) {
                                if (ret == 0)
                                        ret = clean_fail(c, dir, e->d_name, -errno);
                                continue;
                        }
                        k = clean_at(c, sfd, sub, depth + 1);
                        if (k < 0) {
                                if (ret == 0)
                                        ret = k;
                                continue;
                        }
                        if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
                                if (ret == 0)
                                        ret = clean_fail(c, dir, e->d_name, -errno);
                                continue;
                        }
                } else if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT) {
                        if (ret == 0)
                                ret = clean_fail(c, dir, e->d_name, -errno);
                        continue;
                }
                c->removed++;
        }
        if (errno != 0 && ret == 0)
                ret = -errno;
        closedir(d);
        return ret;
}

int clean_dir(const char *root, const char *path, char **ret_failed, unsigned long *ret_removed) {
        _cleanup_free_ char *full = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct clean c = {};
        struct stat st;
        int r = resolve(root, path, &full);

        if (r < 0)
                return r;
        fd = open_dir_in_root(root, path, full);
        if (fd == -ENOENT) {
                if (ret_removed)
                        *ret_removed = 0;
                return 0;
        }
        if (fd < 0)
                return log_debug_errno(fd, "Cannot open the directory '%s': %m", full);
        if (fstat(fd, &st) < 0)
                return -errno;
        c.dev = st.st_dev;
        r = clean_at(&c, fd, path, 0);
        if (r < 0) {
                log_debug_errno(r, "Cannot empty '%s': %s: %m", full, strempty(c.failed));
                if (ret_failed)
                        *ret_failed = TAKE_PTR(c.failed);
                free(c.failed);
                return r;
        }
        free(c.failed);
        if (ret_removed)
                *ret_removed = c.removed;
        return 0;
}

/* ---- write sets ---- */

struct write_entry {
        char *path;   /* as given, for messages */
        char *dir;    /* full path of its directory */
        char *name;   /* base name */
        char *tmp;    /* temporary name in dir, while staged */
        char *backup; /* during commit: the file it replaces, linked to this name in dir */
        bool renamed;
};

struct write_set {
        char *root;
        struct write_entry *e;
        size_t n;
        char **dirs; /* directories this set created, in creation order */
        size_t n_dirs;
        bool committed;
        char *failed;
};

int write_set_new(const char *root, struct write_set **ret) {
        struct write_set *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (root && !(s->root = strdup(root))) {
                free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

static int set_failed(struct write_set *s, const char *path, int r) {
        free(s->failed);
        s->failed = path ? strdup(path) : NULL;
        return r < 0 ? r : -r;
}

/* mkdir -p that remembers what it made, so that a rollback can remove it again. */
static int set_mkdir_p(struct write_set *s, const char *full, mode_t mode) {
        _cleanup_free_ char *copy = strdup(full);
        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1;; p++) {
                if (*p != '/' && *p != 0)
                        continue;
                char c = *p;
                *p = 0;
                if (mkdir(copy, c == 0 ? mode : 0755) >= 0) {
                        char **t = reallocarray(s->dirs, s->n_dirs + 1, sizeof(char *));
                        if (!t)
                                return -ENOMEM;
                        s->dirs = t;
                        if (!(s->dirs[s->n_dirs] = strdup(copy)))
                                return -ENOMEM;
                        s->n_dirs++;
                } else if (errno != EEXIST)
                        return log_debug_errno(errno, "Cannot create directory '%s': %m", copy);
                *p = c;
                if (c == 0)
                        return 0;
        }
}

int write_set_mkdir(struct write_set *s, const char *path, mode_t mode) {
        _cleanup_free_ char *full = NULL;
        int r = resolve(s->root, path, &full);
        if (r >= 0)
                r = set_mkdir_p(s, full, mode);
        return r < 0 ? set_failed(s, path, r) : 0;
}

static char *temp_name(const char *name, const char *what) {
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                return NULL;
        return strdupf(".#%s.%s%016llx", name, what, (unsigned long long) rnd);
}

int write_set_add(struct write_set *s, const char *path, const void *data, size_t len, mode_t mode) {
        _cleanup_free_ char *full = NULL, *dir = NULL, *base = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        struct write_entry *t, e = {};
        int r;

        if (s->committed)
                return -EBUSY;
        r = resolve(s->root, path, &full);
        if (r < 0)
                return set_failed(s, path, r);
        dir = strdup(full);
        base = strdup(full);
        if (!dir || !base)
                return -ENOMEM;
        dirname(dir);
        r = set_mkdir_p(s, dir, 0755);
        if (r < 0)
                return set_failed(s, path, r);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return set_failed(s, path, log_debug_errno(errno, "Cannot open directory '%s': %m", dir));
        e.name = strdup(basename(base));
        e.path = strdup(path);
        if (!e.name || !e.path)
                goto oom;
        for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
                free(e.tmp);
                if (!(e.tmp = temp_name(e.name, "")))
                        goto oom;
                /* Created with no permissions, then set to the final mode: umask has no say. */
                fd = openat(dfd, e.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0000);
                if (fd < 0 && errno != EEXIST)
                        break;
        }
        if (fd < 0) {
                r = log_debug_errno(errno, "Cannot create a temporary file in '%s': %m", dir);
                goto fail;
        }
        r = fchmod(fd, mode) < 0 ? -errno : 0;
        if (r == 0)
                r = write_all(fd, data, len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dfd, e.tmp, 0);
                log_debug_errno(r, "Cannot write '%s': %m", full);
                goto fail;
        }
        t = reallocarray(s->e, s->n + 1, sizeof(*t));
        if (!t) {
                (void) unlinkat(dfd, e.tmp, 0);
                goto oom;
        }
        s->e = t;
        e.dir = TAKE_PTR(dir);
        s->e[s->n++] = e;
        return 0;
oom:
        r = -ENOMEM;
fail:
        set_failed(s, path, r);
        free(e.name);
        free(e.path);
        free(e.tmp);
        return r;
}

static char *mfree(char *p) {
        free(p);
        return NULL;
}

/* Puts back what entry e replaced (or removes what it created), and drops its temporary. */
static void entry_undo(struct write_entry *e) {
        _cleanup_close_ int dfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return;
        if (e->renamed) {
                if (e->backup)
                        (void) renameat(dfd, e->backup, dfd, e->name);
                else
                        (void) unlinkat(dfd, e->name, 0);
                e->renamed = false;
        } else if (e->backup)
                (void) unlinkat(dfd, e->backup, 0);
        if (e->tmp)
                (void) unlinkat(dfd, e->tmp, 0);
        e->backup = mfree(e->backup);
        e->tmp = mfree(e->tmp);
}

int write_set_commit(struct write_set *s) {
        size_t i;
        int r = 0;

        if (s->committed)
                return 0;
        for (i = 0; i < s->n; i++) {
                struct write_entry *e = &s->e[i];
                _cleanup_close_ int dfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0) {
                        r = -errno;
                        break;
                }
                /* The file it replaces stays reachable under a second name until the set is in place. */
                if (faccessat(dfd, e->name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
                        if (!(e->backup = temp_name(e->name, "old.")))
                                r = -ENOMEM;
                        else if (linkat(dfd, e->name, dfd, e->backup, 0) < 0)
                                r = -errno;
                        if (r < 0) {
                                e->backup = mfree(e->backup);
                                break;
                        }
                }
                if (renameat(dfd, e->tmp, dfd, e->name) < 0) {
                        r = -errno;
                        break;
                }
                e->tmp = mfree(e->tmp);
                e->renamed = true;
        }
        if (r < 0) {
                set_failed(s, s->e[i].path, r);
                log_debug_errno(r, "Cannot put '%s' in place: %m", s->e[i].path);
                for (size_t k = 0; k < s->n; k++)
                        entry_undo(&s->e[k]);
                return r;
        }
        for (i = 0; i < s->n; i++) {
                struct write_entry *e = &s->e[i];
                _cleanup_close_ int dfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        continue;
                if (e->backup)
                        (void) unlinkat(dfd, e->backup, 0);
                e->backup = mfree(e->backup);
                /* The renames are durable once the directories are. */
                (void) fsync(dfd);
        }
        s->committed = true;
        return 0;
}

const char *write_set_failed_path(const struct write_set *s) {
        return s->failed;
}

size_t write_set_size(const struct write_set *s) {
        return s->n;
}

struct write_set *write_set_free(struct write_set *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++) {
                if (!s->committed)
                        entry_undo(&s->e[i]);
                free(s->e[i].path);
                free(s->e[i].dir);
                free(s->e[i].name);
                free(s->e[i].tmp);
                free(s->e[i].backup);
        }
        /* Directories it made, newest first; rmdir leaves any that hold something else. */
        for (size_t i = s->n_dirs; i > 0; i--) {
                if (!s->committed)
                        (void) rmdir(s->dirs[i - 1]);
                free(s->dirs[i - 1]);
        }
        free(s->dirs);
        free(s->e);
        free(s->failed);
        free(s->root);
        free(s);
        return NULL;
}
