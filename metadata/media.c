/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Provisioning media: NoCloud "cidata" volumes, OpenStack "config-2" drives, OVF CD-ROMs. Found by
 * filesystem label through libblkid. Read by mounting them read-only when that works (a block device on a
 * kernel with the filesystem), which is the path on real machines; otherwise by our own small readers for
 * iso9660 (with Joliet or Rock Ridge names) and FAT12/16/32 (with long names). The readers are what
 * tests exercise on image files and loop devices (kernels without vfat/iso9660), and they need no
 * privileges. Every size read from an image is checked against the image, and every read is capped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/source.h"

/* ---- label lookup and probing (libblkid) ---- */

int md_find_label(const char *const *labels, char **ret_device) {
        _cleanup_(blkid_put_cachep) blkid_cache cache = NULL;

        /* /dev/null as the cache file: no stale cache entries, nothing written to /run/blkid. */
        if (blkid_get_cache(&cache, "/dev/null") < 0)
                return -ENOMEM;
        if (blkid_probe_all(cache) < 0)
                return log_debug_errno(EIO, "blkid could not scan the block devices");
        for (; *labels; labels++) {
                char *dev = blkid_get_devname(cache, "LABEL", *labels);
                if (dev) {
                        log_debug("Found filesystem label '%s' on %s", *labels, dev);
                        *ret_device = dev;
                        return 0;
                }
        }
        return -ENXIO;
}

int md_probe(const char *device, char **ret_label, char **ret_type) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        const char *label = NULL, *type = NULL;
        char *l = NULL, *t = NULL;

        pr = blkid_new_probe_from_filename(device);
        if (!pr)
                return log_debug_errno(errno ?: ENOENT, "Cannot probe '%s': %m", device);
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_TYPE);
        if (blkid_do_safeprobe(pr) != 0)
                return log_debug_errno(EMEDIUMTYPE, "No (unambiguous) filesystem on '%s'", device);
        (void) blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
        (void) blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
        if ((label && !(l = strdup(label))) || (type && !(t = strdup(type)))) {
                free(l);
                return -ENOMEM;
        }
        if (ret_label)
                *ret_label = l;
        else
                free(l);
        if (ret_type)
                *ret_type = t;
        else
                free(t);
        return 0;
}

/* ---- a byte source: an image in memory or a file descriptor ---- */

struct blk {
        const uint8_t *mem;
        int fd;
        uint64_t size;
};

static int blk_read(const struct blk *b, uint64_t off, void *buf, size_t n) {
        if (off > b->size || n > b->size - off)
                return -EBADMSG;
        if (b->mem) {
                memcpy(buf, b->mem + off, n);
                return 0;
        }
        for (size_t done = 0; done < n;) {
                ssize_t k = pread(b->fd, (char *) buf + done, n - done, (off_t) (off + done));
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EBADMSG;
                done += (size_t) k;
        }
        return 0;
}

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}
static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* The next path component of *p (skipping slashes) into name; false at the end. */
static bool next_component(const char **p, char *name, size_t size) {
        const char *s = *p;
        size_t n;
        while (*s == '/')
                s++;
        if (!*s)
                return false;
        n = strcspn(s, "/");
        if (n >= size)
                n = size - 1;
        memcpy(name, s, n);
        name[n] = 0;
        *p = s + strcspn(s, "/");
        return true;
}

static int read_extent(const struct blk *b, uint64_t off, uint64_t size, size_t max, char **ret,
                       size_t *ret_len) {
        char *buf;
        int r;
        if (size > (max ?: MD_META_MAX))
                return -EFBIG;
        buf = malloc(size + 1);
        if (!buf)
                return -ENOMEM;
        r = blk_read(b, off, buf, size);
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[size] = 0;
        *ret = buf;
        if (ret_len)
                *ret_len = size;
        return 0;
}

/* ---- iso9660 ---- */

#define ISO_SECTOR  2048u
#define ISO_DIR_MAX (1024u * 1024u)

struct iso_entry {
        uint32_t lba, size;
        bool dir;
};

/* The file name of a directory record: Rock Ridge NM when present, Joliet UCS-2 when joliet, else the
 * ISO name without ";1" and a trailing dot. */
static void iso_name(const uint8_t *rec, size_t reclen, bool joliet, char *name, size_t size) {
        size_t nl = rec[32], o = 0;
        const uint8_t *n = rec + 33;

        if (!joliet) {
                /* System use area: after the name, padded to an even offset. */
                size_t su = 33 + nl + ((nl & 1) ? 0 : 1);
                bool found = false;
                while (su + 4 <= reclen) {
                        size_t el = rec[su + 2];
                        if (el < 4 || su + el > reclen)
                                break;
                        if (rec[su] == 'N' && rec[su + 1] == 'M' && el > 5) {
                                for (size_t i = 5; i < el && o + 1 < size; i++)
                                        name[o++] = (char) rec[su + i];
                                found = true;
                        }
                        su += el;
                }
                if (found) {
                        name[o] = 0;
                        return;
                }
                for (size_t i = 0; i < nl && o + 1 < size; i++)
                        name[o++] = (char) n[i];
        } else
                for (size_t i = 0; i + 1 < nl && o + 1 < size; i += 2)
                        name[o++] = n[i] == 0 && n[i + 1] < 0x80 ? (char) n[i + 1] : '?';
        name[o] = 0;
        char *semi = strchr(name, ';');
        if (semi)
                *semi = 0;
        o = strlen(name);
        if (o > 0 && name[o - 1] == '.')
                name[o - 1] = 0;
}

static int iso_lookup(const struct blk *b, const struct iso_entry *dir, bool joliet, const char *want,
                      struct iso_entry *ret) {
        _cleanup_free_ uint8_t *d = NULL;
        int r;

        if (!dir->dir || dir->size > ISO_DIR_MAX)
                return -EBADMSG;
        d = malloc(dir->size ?: 1);
        if (!d)
                return -ENOMEM;
        r = blk_read(b, (uint64_t) dir->lba * ISO_SECTOR, d, dir->size);
        if (r < 0)
                return r;
        for (size_t off = 0; off < dir->size;) {
                size_t len = d[off];
                char name[256];
                if (len == 0) { /* records do not cross sectors: skip to the next one */
                        off = (off / ISO_SECTOR + 1) * ISO_SECTOR;
                        continue;
                }
                if (len < 34 || off + len > dir->size || 33u + d[off + 32] > len)
                        return -EBADMSG;
                const uint8_t *rec = d + off;
                off += len;
                if (rec[32] == 1 && (rec[33] == 0 || rec[33] == 1))
                        continue; /* "." and ".." */
                iso_name(rec, len, joliet, name, sizeof(name));
                if (strcasecmp(name, want) != 0)
                        continue;
                *ret = (struct iso_entry){.lba = le32(rec + 2), .size = le32(rec + 10), .dir = rec[25] & 2};
                return 0;
        }
        return -ENOENT;
}

static int iso_read(const struct blk *b, const char *path, size_t max, char **ret, size_t *ret_len) {
        struct iso_entry root = {}, cur;
        bool joliet = false, have_root = false;
        uint8_t vd[ISO_SECTOR];
        char name[256];
        int r;

        for (unsigned s = 16; s < 16 + 32; s++) {
                r = blk_read(b, (uint64_t) s * ISO_SECTOR, vd, sizeof(vd));
                if (r < 0)
                        return r;
                if (memcmp(vd + 1, "CD001", 5) != 0)
                        return log_debug_errno(EMEDIUMTYPE, "Not an iso9660 volume");
                if (vd[0] == 255)
                        break;
                bool j = vd[0] == 2 && vd[88] == '%' && vd[89] == '/' && strchr("@CE", vd[90]) && vd[90];
                if ((vd[0] == 1 && !have_root) || j) {
                        const uint8_t *rec = vd + 156;
                        root = (struct iso_entry){.lba = le32(rec + 2), .size = le32(rec + 10), .dir = true};
                        have_root = true;
                        joliet = j;
                        /* Rock Ridge names on the primary volume beat Joliet's 64-character limit, but
                         * both carry our short names; Joliet is simpler to read, so it wins. */
                }
        }
        if (!have_root)
                return -EBADMSG;
        cur = root;
        while (next_component(&path, name, sizeof(name))) {
                struct iso_entry e;
                r = iso_lookup(b, &cur, joliet, name, &e);
                if (r < 0)
                        return r;
                cur = e;
        }
        if (cur.dir)
                return -EISDIR;
        return read_extent(b, (uint64_t) cur.lba * ISO_SECTOR, cur.size, max, ret, ret_len);
}

/* ---- FAT12/16/32 ---- */

struct fat {
        const struct blk *b;
        unsigned bps, spc, type;
        uint64_t fat_off, root_off, data_off;
        uint32_t root_entries, root_cluster, clusters;
};

static int fat_next(const struct fat *f, uint32_t c, uint32_t *ret) {
        uint8_t buf[4] = {};
        uint32_t v;
        int r;
        if (f->type == 12) {
                r = blk_read(f->b, f->fat_off + c + c / 2, buf, 2);
                v = le16(buf);
                v = c & 1 ? v >> 4 : v & 0xfff;
                if (v >= 0xff8)
                        v = 0x0ffffff8;
        } else if (f->type == 16) {
                r = blk_read(f->b, f->fat_off + (uint64_t) c * 2, buf, 2);
                v = le16(buf);
                if (v >= 0xfff8)
                        v = 0x0ffffff8;
        } else {
                r = blk_read(f->b, f->fat_off + (uint64_t) c * 4, buf, 4);
                v = le32(buf) & 0x0fffffff;
        }
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

/* Reads a cluster chain (or the fixed FAT12/16 root when c == 0) up to max bytes. */
static int fat_chain(const struct fat *f, uint32_t c, uint64_t want, size_t max, uint8_t **ret,
                     size_t *ret_len) {
        size_t csize = (size_t) f->bps * f->spc, len = 0;
        _cleanup_free_ uint8_t *buf = NULL;
        int r;

        if (want > max)
                return -EFBIG;
        buf = malloc(want + 1);
        if (!buf)
                return -ENOMEM;
        for (uint32_t steps = 0; len < want; steps++) {
                size_t n = want - len < csize ? (size_t) (want - len) : csize;
                if (c < 2 || c >= f->clusters + 2 || steps > f->clusters)
                        return -EBADMSG; /* free, reserved, out of range, or a loop */
                r = blk_read(f->b, f->data_off + (uint64_t) (c - 2) * csize, buf + len, n);
                if (r < 0)
                        return r;
                len += n;
                if (len < want) {
                        r = fat_next(f, c, &c);
                        if (r < 0)
                                return r;
                }
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

struct fat_entry {
        uint32_t cluster, size;
        bool dir;
};

/* The length of a directory in clusters: follows the chain, bounded. */
static int fat_dir_bytes(const struct fat *f, uint32_t c, uint64_t *ret) {
        uint64_t n = 0;
        for (uint32_t steps = 0; c >= 2 && c < f->clusters + 2; steps++) {
                if (steps > f->clusters || n > ISO_DIR_MAX)
                        return -EBADMSG;
                n += (uint64_t) f->bps * f->spc;
                int r = fat_next(f, c, &c);
                if (r < 0)
                        return r;
        }
        *ret = n;
        return 0;
}

static int fat_lookup(const struct fat *f, const struct fat_entry *dir, bool root, const char *want,
                      struct fat_entry *ret) {
        _cleanup_free_ uint8_t *d = NULL;
        size_t len;
        char lfn[256];
        bool have_lfn = false;
        int r;

        if (root && f->type != 32) {
                len = (size_t) f->root_entries * 32;
                if (len > ISO_DIR_MAX)
                        return -EBADMSG;
                d = malloc(len + 1);
                if (!d)
                        return -ENOMEM;
                r = blk_read(f->b, f->root_off, d, len);
        } else {
                uint64_t bytes;
                r = fat_dir_bytes(f, dir->cluster, &bytes);
                if (r >= 0)
                        r = fat_chain(f, dir->cluster, bytes, ISO_DIR_MAX, &d, &len);
        }
        if (r < 0)
                return r;

        memset(lfn, 0, sizeof(lfn));
        for (size_t off = 0; off + 32 <= len; off += 32) {
                const uint8_t *e = d + off;
                char shortname[13];
                size_t o = 0;
                if (e[0] == 0)
                        break;
                if (e[0] == 0xe5) {
                        have_lfn = false;
                        continue;
                }
                if (e[11] == 0x0f) { /* a long-name slot: 13 UCS-2 characters at fixed places */
                        static const uint8_t pos[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
                        unsigned seq = e[0] & 0x1f;
                        if (seq == 0 || seq > 19)
                                continue;
                        if (e[0] & 0x40) {
                                memset(lfn, 0, sizeof(lfn));
                                have_lfn = true;
                        }
                        for (unsigned i = 0; i < 13; i++) {
                                uint16_t ch = le16(e + pos[i]);
                                size_t at = (seq - 1) * 13 + i;
                                if (at >= sizeof(lfn) - 1 || ch == 0 || ch == 0xffff)
                                        continue;
                                lfn[at] = ch < 0x80 ? (char) ch : '?';
                        }
                        continue;
                }
                if (e[11] & 0x08) { /* the volume label */
                        have_lfn = false;
                        continue;
                }
                for (int i = 0; i < 8 && e[i] != ' '; i++)
                        shortname[o++] = (char) e[i];
                if (e[8] != ' ') {
                        shortname[o++] = '.';
                        for (int i = 8; i < 11 && e[i] != ' '; i++)
                                shortname[o++] = (char) e[i];
                }
                shortname[o] = 0;
                bool match = strcasecmp(shortname, want) == 0 || (have_lfn && strcasecmp(lfn, want) == 0);
                have_lfn = false;
                if (!match)
                        continue;
                uint32_t c = le16(e + 26) | (f->type == 32 ? (uint32_t) le16(e + 20) << 16 : 0);
                *ret = (struct fat_entry){.cluster = c, .size = le32(e + 28), .dir = e[11] & 0x10};
                return 0;
        }
        return -ENOENT;
}

static int fat_read(const struct blk *b, const char *path, size_t max, char **ret, size_t *ret_len) {
        uint8_t bs[512];
        struct fat f = {.b = b};
        struct fat_entry cur = {.dir = true};
        bool root = true;
        char name[256];
        int r;

        r = blk_read(b, 0, bs, sizeof(bs));
        if (r < 0)
                return r;
        f.bps = le16(bs + 11);
        f.spc = bs[13];
        unsigned rsvd = le16(bs + 14), nfats = bs[16];
        f.root_entries = le16(bs + 17);
        uint32_t tot = le16(bs + 19) ?: le32(bs + 32);
        uint32_t fatsz = le16(bs + 22) ?: le32(bs + 36);
        if (bs[510] != 0x55 || bs[511] != 0xaa || f.bps < 512 || f.bps > 4096 || (f.bps & (f.bps - 1)) ||
            f.spc == 0 || (f.spc & (f.spc - 1)) || rsvd == 0 || nfats == 0 || fatsz == 0)
                return log_debug_errno(EMEDIUMTYPE, "Not a FAT volume");
        uint64_t root_sectors = ((uint64_t) f.root_entries * 32 + f.bps - 1) / f.bps;
        uint64_t first_data = rsvd + (uint64_t) nfats * fatsz + root_sectors;
        if (first_data >= tot)
                return -EBADMSG;
        f.clusters = (uint32_t) ((tot - first_data) / f.spc);
        f.type = f.clusters < 4085 ? 12 : f.clusters < 65525 ? 16 : 32;
        f.fat_off = (uint64_t) rsvd * f.bps;
        f.root_off = (rsvd + (uint64_t) nfats * fatsz) * f.bps;
        f.data_off = first_data * f.bps;
        if (f.type == 32)
                cur.cluster = le32(bs + 44);

        while (next_component(&path, name, sizeof(name))) {
                struct fat_entry e;
                if (!cur.dir)
                        return -ENOTDIR;
                r = fat_lookup(&f, &cur, root, name, &e);
                if (r < 0)
                        return r;
                cur = e;
                root = false;
        }
        if (cur.dir)
                return -EISDIR;
        if (cur.size == 0) {
                *ret = calloc(1, 1);
                if (!*ret)
                        return -ENOMEM;
                if (ret_len)
                        *ret_len = 0;
                return 0;
        }
        _cleanup_free_ uint8_t *data = NULL;
        size_t n;
        r = fat_chain(&f, cur.cluster, cur.size, max ?: MD_META_MAX, &data, &n);
        if (r < 0)
                return r;
        *ret = (char *) TAKE_PTR(data);
        if (ret_len)
                *ret_len = n;
        return 0;
}

int md_iso9660_read(const void *img, size_t img_len, const char *path, size_t max, char **ret,
                    size_t *ret_len) {
        struct blk b = {.mem = img, .fd = -1, .size = img_len};
        return iso_read(&b, path, max, ret, ret_len);
}

int md_vfat_read(const void *img, size_t img_len, const char *path, size_t max, char **ret,
                 size_t *ret_len) {
        struct blk b = {.mem = img, .fd = -1, .size = img_len};
        return fat_read(&b, path, max, ret, ret_len);
}

/* ---- media: mounted or read ---- */

struct md_media {
        char *device;
        char *type;
        char *mountpoint; /* when mounted */
        struct blk blk;   /* when read by our readers */
};

const char *md_media_method(const struct md_media *m) {
        return m->mountpoint ? "mount" : "reader";
}

struct md_media *md_media_free(struct md_media *m) {
        if (!m)
                return NULL;
        if (m->mountpoint) {
                if (umount2(m->mountpoint, MNT_DETACH) < 0)
                        log_debug("Cannot unmount %s: %m", m->mountpoint);
                (void) rmdir(m->mountpoint);
                free(m->mountpoint);
        }
        safe_close(m->blk.fd);
        free(m->device);
        free(m->type);
        free(m);
        return NULL;
}

static int try_mount(struct md_media *m) {
        _cleanup_free_ char *dir = strdup("/run/kube-firstboot/media-XXXXXX");
        if (!dir)
                return -ENOMEM;
        (void) mkdir_p(NULL, "/run/kube-firstboot", 0755);
        if (!mkdtemp(dir))
                return -errno;
        if (mount(m->device, dir, m->type, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                int e = errno;
                (void) rmdir(dir);
                return -e;
        }
        m->mountpoint = TAKE_PTR(dir);
        return 0;
}

int md_media_open(const char *device, struct md_media **ret) {
        _cleanup_(md_media_freep) struct md_media *m = calloc(1, sizeof(*m));
        struct stat st;
        int r;

        if (!m)
                return -ENOMEM;
        m->blk.fd = -EBADF;
        m->device = strdup(device);
        if (!m->device)
                return -ENOMEM;
        r = md_probe(device, NULL, &m->type);
        if (r < 0)
                return r;
        if (!m->type)
                return -EMEDIUMTYPE;
        if (stat(device, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode)) {
                r = try_mount(m);
                if (r >= 0) {
                        log_debug("Mounted %s (%s) on %s", device, m->type, m->mountpoint);
                        *ret = TAKE_PTR(m);
                        return 0;
                }
                log_debug_errno(r, "Cannot mount %s (%s), reading it directly: %m", device, m->type);
        }
        if (!streq(m->type, "iso9660") && !streq(m->type, "vfat"))
                return log_debug_errno(EMEDIUMTYPE, "%s holds %s, which only a mount can read", device,
                                       m->type);
        m->blk.fd = open(device, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (m->blk.fd < 0)
                return -errno;
        if (fstat(m->blk.fd, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode)) {
                off_t end = lseek(m->blk.fd, 0, SEEK_END);
                if (end < 0)
                        return -errno;
                m->blk.size = (uint64_t) end;
        } else
                m->blk.size = (uint64_t) st.st_size;
        *ret = TAKE_PTR(m);
        return 0;
}

int md_media_read(struct md_media *m, const char *path, size_t max, char **ret, size_t *ret_len) {
        if (m->mountpoint) {
                _cleanup_free_ char *full =
                        strdupf("%s/%s", m->mountpoint, path[0] == '/' ? path + 1 : path);
                if (!full)
                        return -ENOMEM;
                return read_file(NULL, full, max ?: MD_META_MAX, ret, ret_len);
        }
        if (streq(m->type, "iso9660"))
                return iso_read(&m->blk, path, max, ret, ret_len);
        return fat_read(&m->blk, path, max, ret, ret_len);
}
