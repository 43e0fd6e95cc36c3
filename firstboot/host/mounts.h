/* SPDX-License-Identifier: Apache-2.0 */
/* The mounts below a directory of this machine: kubeadm reset's unmount of /var/lib/kubelet's volumes. */
#pragma once

#include <stddef.h>

/*
 * The mount points strictly below dir (a full path on this machine, symlinks resolved by the caller), from
 * a /proc/self/mountinfo text, deepest first (so that each can be unmounted in turn). Octal escapes (\040)
 * are decoded. *ret is a NULL-terminated list owned by the caller (empty when none).
 */
int fb_mounts_below(const char *mountinfo, const char *dir, char ***ret);

/*
 * Unmounts every mount below dir (umount2 with no flags, as kubeadm's default unmountFlags). On failure
 * *ret_failed (owned) names the mount point and the rest is left mounted. *ret_n: how many were unmounted.
 */
int fb_unmount_below(const char *dir, unsigned *ret_n, char **ret_failed);
