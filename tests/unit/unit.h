/* SPDX-License-Identifier: Apache-2.0 */
/* What every unit test program includes: cmocka and a temporary directory helper. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); the caller removes it with rm_rf(). */
char *unit_mkdtemp(void);
void unit_rm_rf(const char *path);
