/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/host/mounts.h"

/* Decodes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s) {
        char *o = s;
        for (char *p = s; *p;) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
                    p[3] >= '0' && p[3] <= '7') {
                        *o++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 4;
                } else
                        *o++ = *p++;
        }
        *o = 0;
}

static int by_depth(const void *a, const void *b) {
        size_t la = strlen(*(char *const *) a), lb = strlen(*(char *const *) b);
        return la < lb ? 1 : la > lb ? -1 : strcmp(*(char *const *) a, *(char *const *) b);
}

int fb_mounts_below(const char *mountinfo, const char *dir, char ***ret) {
        _cleanup_strv_free_ char **list = NULL;
        _cleanup_free_ char *copy = strdup(mountinfo ?: "");
        size_t dl = strlen(dir);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        while (dl > 1 && dir[dl - 1] == '/')
                dl--;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
                char *f = line, *mp = NULL;
                for (int i = 0; i < 5 && f; i++) {
                        char *sp = strchr(f, ' ');
                        if (i == 4) {
                                if (sp)
                                        *sp = 0;
                                mp = f;
                        }
                        f = sp ? sp + 1 : NULL;
                }
                if (!mp)
                        continue;
                unescape(mp);
                if (strncmp(mp, dir, dl) != 0 || mp[dl] != '/' || mp[dl + 1] == 0)
                        continue;
                if (!strv_contains(list, mp) && strv_extend(&list, mp) < 0)
                        return -ENOMEM;
        }
        if (!list) {
                list = calloc(1, sizeof(char *)); /* an empty list, not NULL */
                if (!list)
                        return -ENOMEM;
        }
        qsort(list, strv_length(list), sizeof(char *), by_depth);
        *ret = TAKE_PTR(list);
        return 0;
}

int fb_unmount_below(const char *dir, unsigned *ret_n, char **ret_failed) {
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **list = NULL;
        unsigned n = 0;
        int r;

        r = read_file(NULL, "/proc/self/mountinfo", 16u * 1024u * 1024u, &text, NULL);
        if (r < 0)
                return log_debug_errno(r, "Cannot read /proc/self/mountinfo: %m");
        r = fb_mounts_below(text, dir, &list);
        if (r < 0)
                return r;
        for (char **p = list; *p; p++) {
                if (umount2(*p, 0) < 0 && errno != EINVAL && errno != ENOENT) {
                        r = -errno;
                        if (ret_failed)
                                *ret_failed = strdup(*p);
                        if (ret_n)
                                *ret_n = n;
                        return log_debug_errno(r, "Cannot unmount '%s': %m", *p);
                }
                n++;
        }
        if (ret_n)
                *ret_n = n;
        return 0;
}
