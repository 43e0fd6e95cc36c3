/* SPDX-License-Identifier: Apache-2.0 */
#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/host/etcd-disk.h"
#include "firstboot/host/spawn.h"

#define DEFAULT_DATA_DIR "/var/lib/etcd"
#define DEFAULT_FSTYPE   "ext4"
#define DEFAULT_LABEL    "etcd"
#define MKFS_TIMEOUT_MS  (10u * 60u * 1000u)
#define MKFS_OUTPUT_MAX  4096
#define MOUNTINFO_MAX    (4u * 1024u * 1024u)

/* Filesystems etcd's data may live on: those we make, and use as they are when found. */
static bool supported_fstype(const char *t) {
        return t && (streq(t, "ext4") || streq(t, "xfs"));
}

void fb_etcd_disk_result_done(struct fb_etcd_disk_result *r) {
        if (!r)
                return;
        free(r->device);
        free(r->uuid);
        free(r->fstype);
        *r = (struct fb_etcd_disk_result){};
}

/* ---- pure parts ---- */

/* Characters that need no quoting in a unit file's path settings (RequiresMountsFor= splits on spaces). */
static bool safe_unit_path(const char *p) {
        return p && p[0] == '/' && strlen(p) > 1 &&
               strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+@:-") ==
                       strlen(p) &&
               !strstr(p, "/../") && !endswith(p, "/..") && !strstr(p, "//");
}

const char *fb_etcd_disk_spec_problem(const struct fb_etcd_disk_spec *s) {
        const char *fstype = s->fstype ?: DEFAULT_FSTYPE, *label = s->label ?: DEFAULT_LABEL, *tag;
        _cleanup_free_ char *v = NULL;

        if (parse_device_spec(s->device, &tag, &v) < 0)
                return "etcd.dataDevice must be a /dev path or LABEL=, UUID=, PARTLABEL= or PARTUUID= with a value";
        if (!supported_fstype(fstype))
                return "etcd.filesystem must be ext4 or xfs";
        /* ext4 labels hold 16 bytes, xfs labels 12. */
        if (isempty(label) || strlen(label) > (streq(fstype, "xfs") ? 12u : 16u) ||
            strpbrk(label, " \t\n\"'\\/"))
                return streq(fstype, "xfs")
                               ? "etcd.label must be 1-12 characters without spaces, quotes or slashes for xfs"
                               : "etcd.label must be 1-16 characters without spaces, quotes or slashes for ext4";
        if (!safe_unit_path(s->data_dir ?: DEFAULT_DATA_DIR))
                return "the etcd data dir must be an absolute path of letters, digits and / . _ + @ : - for its systemd mount unit";
        return NULL;
}

char *fb_unit_name_from_path(const char *path, const char *suffix) {
        size_t n = 0, cap;
        char *out;

        while (*path == '/')
                path++;
        cap = strlen(path) * 4 + strlen(suffix) + 2;
        out = malloc(cap);
        if (!out)
                return NULL;
        if (!*path)
                out[n++] = '-';
        for (const char *p = path; *p; p++) {
                unsigned char ch = (unsigned char) *p;
                if (ch == '/') {
                        /* Collapse repeated slashes and drop a trailing one, as systemd-escape --path. */
                        if (p[1] == '/' || p[1] == 0)
                                continue;
                        out[n++] = '-';
                } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                           (ch >= '0' && ch <= '9') || ch == ':' || ch == '_' || (ch == '.' && p != path))
                        out[n++] = (char) ch;
                else
                        n += (size_t) snprintf(out + n, cap - n, "\\x%02x", ch);
        }
        snprintf(out + n, cap - n, "%s", suffix);
        return out;
}

char *fb_etcd_disk_mount_unit(const char *data_dir, const char *uuid, const char *fstype) {
        return strdupf(
                "# Written by kube-firstboot: etcd's data disk. The kubelet, which runs etcd as a static pod,\n"
                "# requires this mount (" FB_ETCD_DISK_DROPIN "),\n"
                "# so that etcd never starts on the bare directory after a reboot.\n"
                "[Unit]\n"
                "Description=etcd data disk (kube-firstboot)\n"
                "Before=kubelet.service\n"
                "\n"
                "[Mount]\n"
                "What=/dev/disk/by-uuid/%s\n"
                "Where=%s\n"
                "Type=%s\n"
                "Options=noatime\n",
                uuid, data_dir, fstype);
}

char *fb_etcd_disk_dropin(const char *data_dir) {
        return strdupf(
                "# Written by kube-firstboot: etcd's data lives on a disk of its own; the kubelet runs etcd.\n"
                "[Unit]\n"
                "RequiresMountsFor=%s\n",
                data_dir);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s) {
        char *w = s;
        for (const char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 4;
                } else
                        *w++ = *r++;
        }
        *w = 0;
}

struct mi_entry {
        unsigned major, minor;
        char point[PATH_MAX];
        char fstype[64];
};

/* Parses one mountinfo line: "id parent maj:min root point options [optional...] - type source super". */
static bool mi_parse(const char *line, size_t len, struct mi_entry *e) {
        char buf[PATH_MAX * 2 + 256], root[8], *sep;
        if (len >= sizeof(buf))
                return false;
        memcpy(buf, line, len);
        buf[len] = 0;
        if (sscanf(buf, "%*u %*u %u:%u %7s %4095s", &e->major, &e->minor, root, e->point) != 4)
                return false;
        sep = strstr(buf, " - ");
        if (!sep || sscanf(sep + 3, "%63s", e->fstype) != 1)
                return false;
        unescape_octal(e->point);
        return true;
}

int fb_mountinfo_at(const char *text, const char *mount_point, unsigned *ret_major, unsigned *ret_minor,
                    char **ret_fstype) {
        struct mi_entry e, found;
        bool any = false;

        for (const char *p = text; p && *p;) {
                size_t l = strcspn(p, "\n");
                if (mi_parse(p, l, &e) && streq(e.point, mount_point)) {
                        found = e; /* later lines are mounted on top */
                        any = true;
                }
                p += l + (p[l] == '\n');
        }
        if (!any)
                return -ENOENT;
        if (ret_fstype && !(*ret_fstype = strdup(found.fstype)))
                return -ENOMEM;
        *ret_major = found.major;
        *ret_minor = found.minor;
        return 0;
}

int fb_mountinfo_of_device(const char *text, unsigned major, unsigned minor, char **ret_mount_point) {
        struct mi_entry e;
        for (const char *p = text; p && *p;) {
                size_t l = strcspn(p, "\n");
                if (mi_parse(p, l, &e) && e.major == major && e.minor == minor) {
                        char *s = strdup(e.point);
                        if (!s)
                                return -ENOMEM;
                        *ret_mount_point = s;
                        return 0;
                }
                p += l + (p[l] == '\n');
        }
        return -ENOENT;
}

/* ---- finding and probing ---- */

/* The device node a spec names; *ret owned by the caller. -ENXIO when nothing matches. */
static int resolve_device(const struct fb_etcd_disk_spec *s, char **ret, struct error *why) {
        _cleanup_(blkid_put_cachep) blkid_cache cache = NULL;
        _cleanup_free_ char *value = NULL, *dev = NULL, *names = NULL;
        const char *tag;
        blkid_dev_iterate it;
        blkid_dev d;
        int r, n = 0;

        r = parse_device_spec(s->device, &tag, &value);
        if (r < 0)
                return error_set(
                        why, r,
                        "etcd.dataDevice '%s' is not a /dev path or LABEL=/UUID=/PARTLABEL=/PARTUUID=",
                        strempty(s->device));
        if (!tag) {
                _cleanup_free_ char *p = NULL;
                r = root_path(s->root, value, &p);
                if (r < 0)
                        return error_set(why, r, "etcd.dataDevice '%s' is not a usable path", value);
                /* The node behind /dev/disk/by-id/... links: what mountinfo and messages show. */
                dev = realpath(p, NULL);
                if (!dev)
                        return error_set(why, errno == ENOENT ? -ENXIO : -errno, "etcd.dataDevice %s: %s",
                                         value, strerror(errno));
                *ret = TAKE_PTR(dev);
                return 0;
        }

        /* /dev/null as the cache file: no stale entries (image files probed by name), nothing written. */
        if (blkid_get_cache(&cache, "/dev/null") < 0)
                return -ENOMEM;
        dev = blkid_evaluate_tag(tag, value, &cache);
        if (!dev)
                return error_set(
                        why, -ENXIO, "no block device has %s=%s%s", tag, value,
                        streq(tag, "LABEL") || streq(tag, "UUID")
                                ? " (a blank disk has no filesystem label or UUID: name it by path, e.g. /dev/disk/by-id/...)"
                                : "");
        /* Two devices with one label (a cloned disk, a forgotten test disk) must not be guessed between. */
        if (blkid_probe_all(cache) == 0 && (it = blkid_dev_iterate_begin(cache))) {
                if (blkid_dev_set_search(it, (char *) tag, value) == 0)
                        while (blkid_dev_next(it, &d) == 0) {
                                char *t = strdupf("%s%s%s", strempty(names), names ? ", " : "",
                                                  blkid_dev_devname(d));
                                if (!t) {
                                        blkid_dev_iterate_end(it);
                                        return -ENOMEM;
                                }
                                free(names);
                                names = t;
                                n++;
                        }
                blkid_dev_iterate_end(it);
        }
        if (n > 1)
                return error_set(
                        why, -ENOTUNIQ,
                        "%s=%s names %d devices (%s): give the etcd disk a label of its own, or name it by path or UUID",
                        tag, value, n, names);
        *ret = TAKE_PTR(dev);
        return 0;
}

struct probe {
        char *type, *pttype, *uuid, *label, *usage;
        bool ambiguous;
};

static void probe_done(struct probe *p) {
        free(p->type);
        free(p->pttype);
        free(p->uuid);
        free(p->label);
        free(p->usage);
        *p = (struct probe){};
}

static int dup_value(blkid_probe pr, const char *name, char **ret) {
        const char *v = NULL;
        if (blkid_probe_lookup_value(pr, name, &v, NULL) != 0 || !v)
                return 0;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

/* What the device holds: superblocks (filesystems, swap, RAID/LVM/LUKS members) and partition tables. */
static int probe_device(int fd, struct probe *ret) {
        _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe();
        struct probe p = {};
        int r;

        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) != 0)
                return -EIO;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE |
                                                      BLKID_SUBLKS_USAGE);
        blkid_probe_enable_partitions(pr, 1);
        r = blkid_do_safeprobe(pr);
        if (r == -2) {
                p.ambiguous = true;
        } else if (r < 0)
                return -EIO;
        else if (r == 0 &&
                 ((r = dup_value(pr, "TYPE", &p.type)) < 0 || (r = dup_value(pr, "PTTYPE", &p.pttype)) < 0 ||
                  (r = dup_value(pr, "UUID", &p.uuid)) < 0 || (r = dup_value(pr, "LABEL", &p.label)) < 0 ||
                  (r = dup_value(pr, "USAGE", &p.usage)) < 0)) {
                probe_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

static int read_mountinfo(char **ret) {
        return read_file(NULL, "/proc/self/mountinfo", MOUNTINFO_MAX, ret, NULL);
}

/* ---- the work ---- */

struct state {
        const struct fb_etcd_disk_spec *s;
        const char *data_dir, *fstype, *label;
        char *dev;    /* the device node */
        char *target; /* the data dir under root, resolved */
        dev_t rdev;
        bool mounted;    /* already mounted at the target */
        struct probe pr; /* what the device holds */
};

static void state_done(struct state *st) {
        free(st->dev);
        free(st->target);
        probe_done(&st->pr);
}

/* Resolves the device and the target, and looks at both: mounted where, holding what. */
static int inspect(struct state *st, bool need_block, struct error *why) {
        const struct fb_etcd_disk_spec *s = st->s;
        _cleanup_free_ char *mi = NULL, *elsewhere = NULL, *mounted_type = NULL, *t = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat stt;
        unsigned maj, min;
        int r;

        const char *problem = fb_etcd_disk_spec_problem(s);
        if (problem)
                return error_set(why, -EINVAL, "%s", problem);
        r = resolve_device(s, &st->dev, why);
        if (r < 0)
                return r;
        if (stat(st->dev, &stt) < 0)
                return error_set(why, -errno, "etcd.dataDevice %s: %s", st->dev, strerror(errno));
        if (S_ISBLK(stt.st_mode))
                st->rdev = stt.st_rdev;
        else if (need_block || !S_ISREG(stt.st_mode))
                return error_set(why, -ENOTBLK, "etcd.dataDevice %s is not a block device", st->dev);

        r = root_path(s->root, st->data_dir, &t);
        if (r < 0)
                return error_set(why, r, "the etcd data dir '%s' is not an absolute path", st->data_dir);
        /* mountinfo shows resolved paths: resolve what exists of the target. */
        st->target = realpath(t, NULL) ?: TAKE_PTR(t);
        if (!st->target)
                return -ENOMEM;

        r = read_mountinfo(&mi);
        if (r < 0)
                return error_set(why, r, "cannot read /proc/self/mountinfo: %s", strerror(-r));
        r = fb_mountinfo_at(mi, st->target, &maj, &min, &mounted_type);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                if (!st->rdev || makedev(maj, min) != st->rdev)
                        return error_set(
                                why, -EBUSY,
                                "another file system (%s, device %u:%u) is mounted at %s, not %s: unmount it, or point etcd.dataDevice at it",
                                mounted_type, maj, min, st->data_dir, st->dev);
                st->mounted = true;
        } else if (st->rdev) {
                r = fb_mountinfo_of_device(mi, major(st->rdev), minor(st->rdev), &elsewhere);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        return error_set(
                                why, -EBUSY,
                                "%s is mounted at %s: it is in use; unmount it if it is meant for etcd, or name another device",
                                st->dev, elsewhere);
        }

        /* O_EXCL on a block device fails while anything (a mount, LVM, RAID) holds it. */
        fd = open(st->dev, O_RDONLY | O_CLOEXEC | O_NOCTTY | (st->rdev && !st->mounted ? O_EXCL : 0));
        if (fd < 0)
                return error_set(why, -errno, "cannot open %s: %s%s", st->dev, strerror(errno),
                                 errno == EBUSY
                                         ? " (something holds it: LVM, RAID, a mount in another namespace?)"
                                         : "");
        r = probe_device(fd, &st->pr);
        if (r < 0)
                return error_set(why, r, "cannot probe %s with libblkid: %s", st->dev, strerror(-r));
        return 0;
}

/* The first entry of a directory other than . and ..; NULL when empty or absent. */
static char *first_entry(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return strdup(de->d_name);
        return NULL;
}

/* Why the device cannot be used, or NULL when it is blank or holds a filesystem we use. */
static int judge(const struct state *st, struct error *why) {
        const struct probe *p = &st->pr;
        if (p->ambiguous)
                return error_set(
                        why, -EMEDIUMTYPE,
                        "%s holds several signatures that contradict each other: refusing to touch it; wipe it (wipefs -a %s) if its data is not needed",
                        st->dev, st->dev);
        if (p->pttype)
                return error_set(
                        why, -EMEDIUMTYPE,
                        "%s holds a partition table (%s): refusing to format it; name a partition (a /dev path or PARTLABEL=), or wipe it (wipefs -a %s) if its data is not needed",
                        st->dev, p->pttype, st->dev);
        if (p->type && !supported_fstype(p->type))
                return error_set(
                        why, -EMEDIUMTYPE,
                        "%s holds %s%s%s%s, not an ext4 or xfs file system: refusing to use or format it; wipe it (wipefs -a %s) if its data is not needed, or name another device",
                        st->dev, p->type, p->usage ? " (" : "", strempty(p->usage), p->usage ? ")" : "",
                        st->dev);
        if (p->type && !p->uuid)
                return error_set(why, -EMEDIUMTYPE, "the %s file system on %s has no UUID", p->type,
                                 st->dev);
        /* Before anything is formatted: files on the root disk would be hidden under the mount (and an
         * etcd member among them lost). do_mount() looks again. */
        if (!st->mounted) {
                _cleanup_free_ char *entry = first_entry(st->target);
                if (entry)
                        return error_set(
                                why, -ENOTEMPTY,
                                "%s already holds files ('%s') that mounting %s there would hide: move them away (or empty the directory) first",
                                st->data_dir, entry, st->dev);
        }
        return 0;
}

static int make_fs(struct state *st, struct error *why) {
        _cleanup_free_ char *out = NULL, *mkfs = strdupf("mkfs.%s", st->fstype);
        _cleanup_close_ int fd = -EBADF;
        int status, r;

        if (!mkfs)
                return -ENOMEM;
        r = fb_spawn_capture(
                (char *const[]){mkfs, (char *) "-q", (char *) "-L", (char *) st->label, st->dev, NULL},
                MKFS_TIMEOUT_MS, MKFS_OUTPUT_MAX, &out, &status);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_set(why, r, "cannot run %s: %s (install %s)", mkfs, strerror(-r),
                                 streq(st->fstype, "xfs") ? "xfsprogs" : "e2fsprogs");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                while (*out && strchr("\n ", out[strlen(out) - 1]))
                        out[strlen(out) - 1] = 0;
                return error_set(why, -EIO, "%s -L %s %s failed (%s %d)%s%s", mkfs, st->label, st->dev,
                                 WIFEXITED(status) ? "exit status" : "signal",
                                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                                 *out ? ": " : "", out);
        }
        probe_done(&st->pr);
        fd = open(st->dev, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || (r = probe_device(fd, &st->pr)) < 0 || !st->pr.type ||
            !streq(st->pr.type, st->fstype) || !st->pr.uuid)
                return error_set(why, -EIO, "%s made no %s file system on %s that libblkid can see", mkfs,
                                 st->fstype, st->dev);
        return 0;
}

static int do_mount(struct state *st, struct error *why) {
        _cleanup_free_ char *entry = NULL,
                            *parent = strndup(st->data_dir, strrchr(st->data_dir, '/') - st->data_dir);
        int r;

        if (!parent)
                return -ENOMEM;
        r = isempty(parent) ? 0 : mkdir_p(st->s->root, parent, 0755);
        if (r >= 0)
                r = mkdir_p(st->s->root, st->data_dir, 0700);
        if (r < 0)
                return error_set(why, r, "cannot create %s: %s", st->data_dir, strerror(-r));
        free(st->target);
        st->target = NULL;
        r = root_path(st->s->root, st->data_dir, &st->target);
        if (r < 0)
                return r;
        /* Files on the root disk would be hidden under the mount, and an etcd member among them lost. */
        entry = first_entry(st->target);
        if (entry)
                return error_set(
                        why, -ENOTEMPTY,
                        "%s already holds files ('%s') that mounting %s there would hide: move them away (or empty the directory) first",
                        st->data_dir, entry, st->dev);
        if (mount(st->dev, st->target, st->pr.type, MS_NOATIME, NULL) < 0)
                return error_set(why, -errno, "cannot mount %s (%s) at %s: %s", st->dev, st->pr.type,
                                 st->data_dir, strerror(errno));
        /* etcd wants its data dir 0700; a new file system's root is 0755. */
        if (chmod(st->target, 0700) < 0)
                return error_set(why, -errno, "cannot make %s mode 0700: %s", st->data_dir, strerror(errno));
        return 0;
}

/* 1 when the file holds exactly text, 0 when not (or absent), -errno. */
static int file_has(const char *root, const char *path, const char *text) {
        _cleanup_free_ char *cur = NULL;
        int r = read_file(root, path, 65536, &cur, NULL);
        if (r == -ENOENT || r == -EFBIG)
                return 0;
        if (r < 0)
                return r;
        return streq(cur, text);
}

static int unit_paths(const char *data_dir, char **ret_unit_path) {
        _cleanup_free_ char *name = fb_unit_name_from_path(data_dir, ".mount");
        if (!name)
                return -ENOMEM;
        *ret_unit_path = strdupf("/etc/systemd/system/%s", name);
        return *ret_unit_path ? 0 : -ENOMEM;
}

static int write_units(const struct state *st, bool *changed, struct error *why) {
        _cleanup_free_ char *path = NULL, *unit = NULL, *dropin = NULL;
        int r;

        if (unit_paths(st->data_dir, &path) < 0 ||
            !(unit = fb_etcd_disk_mount_unit(st->data_dir, st->pr.uuid, st->pr.type)) ||
            !(dropin = fb_etcd_disk_dropin(st->data_dir)))
                return -ENOMEM;
        const struct { const char *path, *text; } files[] = {{path, unit}, {FB_ETCD_DISK_DROPIN, dropin}};
        _cleanup_(write_set_freep) struct write_set *set = NULL;
        r = write_set_new(st->s->root, &set);
        if (r < 0)
                return r;
        /* The mount unit and its drop-in go in together: never one without the other. */
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                r = file_has(st->s->root, files[i].path, files[i].text);
                if (r < 0)
                        return error_set(why, r, "cannot read %s: %s", files[i].path, strerror(-r));
                if (r > 0)
                        continue;
                r = write_set_add(set, files[i].path, files[i].text, strlen(files[i].text), 0644);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = write_set_commit(set);
        if (r < 0)
                return error_set(why, r, "cannot write %s: %s; neither unit file was left",
                                 write_set_failed_path(set) ?: path, strerror(-r));
        *changed = *changed || write_set_size(set) > 0;
        return 0;
}

static void state_init(struct state *st, const struct fb_etcd_disk_spec *s) {
        *st = (struct state){
                .s = s,
                .data_dir = s->data_dir ?: DEFAULT_DATA_DIR,
                .fstype = s->fstype ?: DEFAULT_FSTYPE,
                .label = s->label ?: DEFAULT_LABEL,
        };
}

int fb_etcd_disk_prepare(const struct fb_etcd_disk_spec *s, struct fb_etcd_disk_result *ret,
                         struct error *why) {
        _cleanup_(state_done) struct state st = {};
        struct fb_etcd_disk_result res = {};
        int r;

        state_init(&st, s);
        error_clear(why);
        r = inspect(&st, true, why);
        if (r < 0)
                return r;
        r = judge(&st, why);
        if (r < 0)
                return r;
        if (!st.pr.type) {
                log_debug("%s is blank: making a %s file system labelled '%s'", st.dev, st.fstype, st.label);
                r = make_fs(&st, why);
                if (r < 0)
                        return r;
                res.formatted = true;
        } else if (!streq(st.pr.type, st.fstype))
                log_debug("%s holds %s, not %s: used as it is", st.dev, st.pr.type, st.fstype);
        if (!st.mounted) {
                r = do_mount(&st, why);
                if (r < 0)
                        return r;
                res.mounted = true;
        }
        r = write_units(&st, &res.units_changed, why);
        if (r < 0)
                return r;
        res.device = TAKE_PTR(st.dev);
        res.uuid = TAKE_PTR(st.pr.uuid);
        res.fstype = TAKE_PTR(st.pr.type);
        *ret = res;
        return 0;
}

int fb_etcd_disk_check(const struct fb_etcd_disk_spec *s) {
        _cleanup_(state_done) struct state st = {};
        _cleanup_free_ char *path = NULL, *unit = NULL, *dropin = NULL;
        int r;

        state_init(&st, s);
        r = inspect(&st, true, NULL);
        if (r == -ENXIO || r == -ENOENT)
                return 0; /* not found (yet): prepare says why */
        if (r == -EBUSY || r == -EINVAL)
                return 0; /* prepare refuses with the reason */
        if (r < 0)
                return r;
        if (!st.mounted || !st.pr.type || !st.pr.uuid)
                return 0;
        if (unit_paths(st.data_dir, &path) < 0 ||
            !(unit = fb_etcd_disk_mount_unit(st.data_dir, st.pr.uuid, st.pr.type)) ||
            !(dropin = fb_etcd_disk_dropin(st.data_dir)))
                return -ENOMEM;
        r = file_has(s->root, path, unit);
        if (r <= 0)
                return r;
        return file_has(s->root, FB_ETCD_DISK_DROPIN, dropin);
}

void fb_etcd_disk_describe(const struct fb_etcd_disk_spec *s, FILE *out) {
        _cleanup_(state_done) struct state st = {};
        _cleanup_free_ char *path = NULL;
        struct error why = {};
        int r;

        state_init(&st, s);
        r = inspect(&st, false, &why);
        if (r >= 0)
                r = judge(&st, &why);
        if (r < 0) {
                fprintf(out, "etcd data disk %s: would fail: %s\n", strempty(s->device),
                        r == -ENOMEM ? "out of memory" : error_message(&why, r));
                return;
        }
        if (!st.pr.type)
                fprintf(out,
                        "etcd data disk %s: %s is blank: would make an %s file system labelled '%s' (mkfs.%s)\n",
                        s->device, st.dev, st.fstype, st.label, st.fstype);
        else
                fprintf(out, "etcd data disk %s: %s holds %s (UUID %s%s%s)%s: would use it as it is\n",
                        s->device, st.dev, st.pr.type, st.pr.uuid, st.pr.label ? ", label " : "",
                        strempty(st.pr.label),
                        streq(st.pr.type, st.fstype) ? "" : ", not the configured type");
        if (st.mounted)
                fprintf(out, "  mounted at %s already\n", st.data_dir);
        else
                fprintf(out, "  would mount it at %s (mode 0700, noatime)\n", st.data_dir);
        if (st.mounted && fb_etcd_disk_check(s) > 0)
                fprintf(out, "  its mount unit and the kubelet drop-in are in place\n");
        else if (unit_paths(st.data_dir, &path) >= 0)
                fprintf(out,
                        "  would write %s (What=/dev/disk/by-uuid/%s, Type=%s) and %s (RequiresMountsFor=%s)\n",
                        path, st.pr.uuid ?: "<new UUID>", st.pr.type ?: st.fstype, FB_ETCD_DISK_DROPIN,
                        st.data_dir);
}
