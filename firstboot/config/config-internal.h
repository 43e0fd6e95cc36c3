/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between firstboot/config*.c only. */
#pragma once

#include <stdbool.h>

#include "common/cleanup.h"

/* Appends "message (from source)" to *problems; -ENOMEM. */
int fb_problem(char ***problems, const char *source, const char *fmt, ...) _printf_(3, 4);
bool fb_known_kind(const char *kind);
bool fb_valid_token(const char *s);
/* 64 hex digits: kubeadm's certificate key (AES-256). */
bool fb_valid_certificate_key(const char *s);
