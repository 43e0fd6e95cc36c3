/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between firstboot/config*.c only. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "common/cleanup.h"

/* Appends "message (from source)" to *problems; -ENOMEM. */
int fb_problem(char ***problems, const char *source, const char *fmt, ...) _printf_(3, 4);
bool fb_known_kind(const char *kind);
bool fb_valid_token(const char *s);
/* 64 hex digits: kubeadm's certificate key (AES-256). */
bool fb_valid_certificate_key(const char *s);
/* keepalived's auth_pass: 1 to 8 printable characters without space, quote or backslash (its config
 * syntax). */
bool fb_valid_vrrp_password(const char *s);

/* The typed view (config-view.c) from the effective documents, any of them NULL. */
struct fb_settings;
struct fb_settings_documents {
        const cJSON *firstboot, *init, *cluster, *join, *kubelet, *kube_proxy;
        /* Made by the loader, borrowed: the CA read from its files, the lower-cased caCertHashes. */
        const char *ca_cert_pem, *ca_key_pem;
        const char *vrrp_password;
        char *const *ca_cert_hashes;
};
int fb_settings_new(const struct fb_settings_documents *d, struct fb_settings **ret);
struct fb_settings *fb_settings_free(struct fb_settings *s);
static inline void fb_settings_freep(struct fb_settings **s) {
        *s = fb_settings_free(*s);
}
