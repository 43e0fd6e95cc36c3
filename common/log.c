/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "strutil.h"

static int max_level = LOG_INFO;
static enum log_format format = LOG_FORMAT_TEXT;
static int prefix = -1; /* -1: decide from isatty() on first use */

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "error",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_format(enum log_format f) {
        format = f;
}

enum log_format log_get_format(void) {
        return format;
}

void log_set_prefix(bool on) {
        prefix = on;
}

int log_format_from_string(const char *s, enum log_format *ret) {
        if (streq(s, "text"))
                *ret = LOG_FORMAT_TEXT;
        else if (streq(s, "json"))
                *ret = LOG_FORMAT_JSON;
        else
                return -EINVAL;
        return 0;
}

static void json_escape_to(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        char msg[4096];
        va_list ap;
        int saved_errno = errno;

        if (level < 0 || level > LOG_DEBUG)
                level = LOG_ERR;

        /* Lets "%m" print the error we were given rather than whatever errno holds. */
        errno = error;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        /* Control characters from remote values must not forge log lines. */
        for (char *p = msg; *p; p++)
                if ((unsigned char) *p < 0x20 && *p != '\t')
                        *p = ' ';

        if (format == LOG_FORMAT_JSON) {
                struct timespec ts;
                (void) clock_gettime(CLOCK_REALTIME, &ts);
                flockfile(stderr);
                fprintf(stderr, "{\"ts\":%lld.%03ld,\"level\":\"%s\",\"msg\":", (long long) ts.tv_sec,
                        ts.tv_nsec / 1000000, level_names[level]);
                json_escape_to(stderr, msg);
                if (error != 0) {
                        fprintf(stderr, ",\"errno\":%d,\"error\":", error);
                        json_escape_to(stderr, strerror(error));
                }
                if (max_level >= LOG_DEBUG)
                        fprintf(stderr, ",\"code\":\"%s:%d %s\"", file, line, func);
                fputs("}\n", stderr);
                funlockfile(stderr);
        } else {
                if (prefix < 0)
                        prefix = !isatty(STDERR_FILENO);
                flockfile(stderr);
                if (prefix)
                        fprintf(stderr, "<%d>", level);
                fputs("kube-firstboot: ", stderr);
                if (max_level >= LOG_DEBUG)
                        fprintf(stderr, "(%s:%d) ", file, line);
                if (level <= LOG_WARNING && !prefix)
                        fprintf(stderr, "%s: ", level_names[level]);
                fputs(msg, stderr);
                fputc('\n', stderr);
                funlockfile(stderr);
        }

        errno = saved_errno;
        return -error;
}
