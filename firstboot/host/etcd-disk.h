/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd's data disk (FirstbootConfiguration.etcd.dataDevice): found by path or by LABEL=, UUID=, PARTLABEL=,
 * PARTUUID= through libblkid; formatted only when it holds nothing at all (no filesystem, no partition
 * table, no other signature); mounted at etcd's data dir before etcd starts; and kept mounted across reboots
 * by a systemd mount unit (by filesystem UUID) that the kubelet requires through a drop-in, so that after a
 * reboot the kubelet cannot start etcd on the bare directory before the disk is back.
 *
 * A device that holds a filesystem of the other supported type (ext4 or xfs) is used as it is; anything
 * else is refused with what it holds and what to do. /dev paths are taken under spec->root (tests point a
 * symlink there at a loop device); tags are looked up among this machine's block devices. Units are
 * written under spec->root, atomically, only when their content changes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"

#define FB_ETCD_DISK_DROPIN "/etc/systemd/system/kubelet.service.d/10-kube-firstboot-etcd-disk.conf"

struct fb_etcd_disk_spec {
        const char *root;     /* NULL: / */
        const char *device;   /* "/dev/vdb", "LABEL=etcd", "UUID=...", "PARTLABEL=...", "PARTUUID=..." */
        const char *data_dir; /* NULL: /var/lib/etcd */
        const char *fstype;   /* for a new filesystem: "ext4" (NULL) or "xfs" */
        const char *label;    /* for a new filesystem; NULL: "etcd" */
};

struct fb_etcd_disk_result {
        char *device;   /* the device node used */
        char *uuid;     /* the filesystem's UUID */
        char *fstype;   /* the filesystem's type (may differ from spec->fstype for a disk used as it is) */
        bool formatted; /* this run made the filesystem */
        bool mounted;   /* this run mounted it (false: it was mounted there already) */
        bool units_changed; /* this run wrote the mount unit or the kubelet drop-in: daemon-reload */
};
void fb_etcd_disk_result_done(struct fb_etcd_disk_result *r);

/*
 * Finds, formats if blank, mounts and persists. 0 with *ret filled when the disk is mounted at the data dir
 * and the units are in place; -errno with why saying what was found and what to do otherwise (nothing is
 * formatted or mounted when the device holds something unexpected). Safe to repeat.
 */
int fb_etcd_disk_prepare(const struct fb_etcd_disk_spec *s, struct fb_etcd_disk_result *ret,
                         struct error *why);

/* 1 when the device is mounted at the data dir and both units are as prepare writes them, 0 when not yet
 * (including a device not found), -errno when it cannot tell. */
int fb_etcd_disk_check(const struct fb_etcd_disk_spec *s);

/* For plan: what prepare would do, one line each, touching nothing (the device is only read). */
void fb_etcd_disk_describe(const struct fb_etcd_disk_spec *s, FILE *out);

/* ---- pure parts, exposed for the unit tests ---- */

/* What is wrong with the spec (device syntax as parse_device_spec() reads it, filesystem type, label length,
 * data dir), or NULL. */
const char *fb_etcd_disk_spec_problem(const struct fb_etcd_disk_spec *s);

/* systemd's unit name for a path ("/var/lib/etcd", ".mount" -> "var-lib-etcd.mount"); NULL on OOM. */
char *fb_unit_name_from_path(const char *path, const char *suffix);

/* The mount unit and the kubelet drop-in as prepare writes them. */
char *fb_etcd_disk_mount_unit(const char *data_dir, const char *uuid, const char *fstype);
char *fb_etcd_disk_dropin(const char *data_dir);

/* In a /proc/self/mountinfo text: the device (major:minor) and type of the topmost mount at mount_point
 * (-ENOENT when none), and the first mount point of a device (-ENOENT when it is not mounted). */
int fb_mountinfo_at(const char *text, const char *mount_point, unsigned *ret_major, unsigned *ret_minor,
                    char **ret_fstype);
int fb_mountinfo_of_device(const char *text, unsigned major, unsigned minor, char **ret_mount_point);
