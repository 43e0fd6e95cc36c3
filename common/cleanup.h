/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ownership made visible: cleanup attributes, TAKE_PTR/TAKE_FD, NULL-safe destructors for libc types.
 * Cleanups for the foreign libraries live in cleanup-libs.h so that a file pulls in only what it uses.
 */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _noreturn_     __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_  __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define TAKE_PTR(p)                                                                                         \
        ({                                                                                                  \
                __typeof__(p) _take_p = (p);                                                                \
                (p) = NULL;                                                                                 \
                _take_p;                                                                                    \
        })
#define TAKE_FD(fd)                                                                                         \
        ({                                                                                                  \
                int _take_fd = (fd);                                                                        \
                (fd) = -EBADF;                                                                              \
                _take_fd;                                                                                   \
        })

/* Defines funcp(type **p) calling func(*p) when set, for use with _cleanup_(funcp). */
#define DEFINE_POINTER_CLEANUP(type, func)                                                                  \
        static inline void func##p(type **p) {                                                              \
                if (*p)                                                                                     \
                        func(*p);                                                                           \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Wipes a heap block before freeing it: for tokens, keys and decrypted blobs. NULL-safe, returns NULL. */
static inline void *erase_and_free(void *p) {
        if (!p)
                return NULL;
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
        return NULL;
}
static inline void erase_and_freep(void *p) {
        erase_and_free(*(void **) p);
}
#define _cleanup_erase_ _cleanup_(erase_and_freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

DEFINE_POINTER_CLEANUP(DIR, closedir)

/* qsort() that accepts an empty (possibly NULL) array, which plain qsort() may not be given. */
static inline void qsort_safe(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
        if (n > 1)
                qsort(base, n, size, cmp);
}

/* NULL-terminated string vectors. */
static inline char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}
static inline void strv_freep(char ***l) {
        *l = strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
