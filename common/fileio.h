/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files under --root. Every node path (/etc/kubernetes/..., /var/lib/...) is joined to the root the
 * program was given (NULL or "/" for the real root), so tests, plan and image builders never touch the
 * host. Paths must be absolute and may not contain ".." components. Paths the operator names on the
 * command line are used as given: pass root = NULL for those.
 *
 * Writes are atomic: a temp file in the same directory, created with its final mode (not subject to
 * umask), fsync'ed, renamed over the target, and the directory fsync'ed. A reader sees the old file or
 * the new one, never a part.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The largest file read_file() takes when the caller gives no cap. */
#define READ_FILE_DEFAULT_MAX (4u * 1024u * 1024u)

enum {
        WRITE_MKDIR_PARENTS = 1 << 0, /* create missing parent directories, mode 0755 */
        WRITE_KEEP_EXISTING = 1 << 1, /* -EEXIST instead of replacing an existing file */
};

/* Joins root and an absolute path; -EINVAL for a relative path or ".."; *ret owned by the caller. */
int root_path(const char *root, const char *path, char **ret);

/*
 * Reads a whole file, NUL-terminated (the terminator is not counted in *ret_len). -EFBIG when it holds
 * more than max bytes (0 = READ_FILE_DEFAULT_MAX). The buffer is wiped when freed by the caller with
 * erase_and_free() if it holds a secret.
 */
int read_file(const char *root, const char *path, size_t max, char **ret, size_t *ret_len);

int write_file_atomic(const char *root, const char *path, const void *data, size_t len, mode_t mode,
                      unsigned flags);
int write_string_atomic(const char *root, const char *path, const char *s, mode_t mode, unsigned flags);

/* mkdir -p with the given mode for every directory it creates; existing directories are left alone. */
int mkdir_p(const char *root, const char *path, mode_t mode);

/* 0 if present, -ENOENT if not, other -errno on error. */
int path_exists(const char *root, const char *path);

/* Removes a file; a missing file is not an error. */
int unlink_file(const char *root, const char *path);
