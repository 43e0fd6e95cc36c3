/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging to stderr with syslog levels. Text lines carry journald's "<N>" priority prefix when stderr is
 * not a terminal (a systemd service's stderr goes to the journal, which turns the prefix into the
 * priority); --log-format=json prints one JSON object per line instead. Library folders log at debug
 * level only; firstboot/ reports errors once.
 *
 * The *_errno variants take a positive or negative errno, make it available to "%m" in the format, and
 * return it negated, so that "return log_debug_errno(r, ...);" both logs and propagates.
 */
#pragma once

#include <stdbool.h>
#include <stdlib.h>
#include <syslog.h>

#include "cleanup.h"

enum log_format {
        LOG_FORMAT_TEXT,
        LOG_FORMAT_JSON,
};

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_format(enum log_format format);
enum log_format log_get_format(void);
/* Parses "text" or "json"; -EINVAL otherwise. */
int log_format_from_string(const char *s, enum log_format *ret);
/* Forces or disables the "<N>" prefix of text lines; by default it is on when stderr is not a tty. */
void log_set_prefix(bool on);

int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...)
        _printf_(6, 7);

#define log_full_errno(level, error, ...)                                                                   \
        ({                                                                                                  \
                int _level = (level), _e = (error);                                                         \
                _e = _e < 0 ? -_e : _e;                                                                     \
                log_get_max_level() >= _level                                                               \
                        ? log_internal(_level, _e, __FILE__, __LINE__, __func__, __VA_ARGS__)               \
                        : -_e;                                                                              \
        })
#define log_full(level, ...) (void) log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...)    log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, error, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
