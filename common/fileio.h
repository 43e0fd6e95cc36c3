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

/*
 * A set of files written all or nothing (the certificates of a node, the files of a kubeadm-certs Secret,
 * the static pod manifests). write_set_add() writes each file to a temporary name next to its target,
 * creating missing parent directories (0755) and remembering them; write_set_commit() renames them all
 * into place. On a failure, and when a set is freed without a commit, everything the set created is
 * removed (temporaries, files that did not exist before, the directories it made) and files it replaced
 * are put back: a reader never finds part of a set. write_set_failed_path() names the file a failure was
 * about; the return value is its -errno.
 */
struct write_set;
int write_set_new(const char *root, struct write_set **ret);
int write_set_add(struct write_set *s, const char *path, const void *data, size_t len, mode_t mode);
int write_set_commit(struct write_set *s);
/* Creates a directory (and its missing parents) with this mode for the set, removed again on a rollback
 * when the set made it. */
int write_set_mkdir(struct write_set *s, const char *path, mode_t mode);
/* The node path the last failure was about (as given to write_set_add()), or NULL. */
const char *write_set_failed_path(const struct write_set *s);
/* How many files the set holds. */
size_t write_set_size(const struct write_set *s);
/* NULL-safe; rolls back an uncommitted set. */
struct write_set *write_set_free(struct write_set *s);
static inline void write_set_freep(struct write_set **s) {
        *s = write_set_free(*s);
}

/* mkdir -p with the given mode for every directory it creates; existing directories are left alone. */
int mkdir_p(const char *root, const char *path, mode_t mode);

/* 0 if present, -ENOENT if not, other -errno on error. */
int path_exists(const char *root, const char *path);

/* Removes a file; a missing file is not an error. */
int unlink_file(const char *root, const char *path);

/*
 * Empties a node directory, keeping the directory itself (kubeadm reset's CleanDir): its path resolved as
 * under root (symlinks stay inside it), entries removed without following symlinks, and never descending
 * into another file system (a volume still mounted below it): that is -EXDEV. A missing directory is
 * emptied already. On failure *ret_failed (optional, owned) names the first entry (node path) that could
 * not be removed; the rest is still removed. *ret_removed (optional): entries removed at every depth.
 */
int clean_dir(const char *root, const char *path, char **ret_failed, unsigned long *ret_removed);
