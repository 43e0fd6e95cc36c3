/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static int negative(int code) {
        return code > 0 ? -code : code;
}

/* Appends s to the string of length *len in buf, as much as fits; buf stays terminated. */
static void append(char *buf, size_t size, size_t *len, const char *s) {
        size_t n = strlen(s);
        if (n > size - 1 - *len)
                n = size - 1 - *len;
        memcpy(buf + *len, s, n);
        *len += n;
        buf[*len] = 0;
}

void error_setf(struct error *e, int code, const char *fmt, ...) {
        va_list ap;

        if (!e)
                return;
        e->code = code;
        va_start(ap, fmt);
        (void) vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
}

int error_wrap(struct error *e, int code, const char *fmt, ...) {
        char context[ERROR_MESSAGE_MAX], joined[ERROR_MESSAGE_MAX] = "";
        const char *cause;
        size_t len = 0;
        va_list ap;

        code = negative(code);
        if (!e)
                return code;
        if (e->code == 0)
                e->code = code;
        va_start(ap, fmt);
        (void) vsnprintf(context, sizeof(context), fmt, ap);
        va_end(ap);
        cause = e->message[0] ? e->message : e->code ? strerror(-e->code) : NULL;
        /* Cut from the end: the context is kept whole, the cause loses its tail. */
        append(joined, sizeof(joined), &len, context);
        if (cause) {
                append(joined, sizeof(joined), &len, ": ");
                append(joined, sizeof(joined), &len, cause);
        }
        memcpy(e->message, joined, len + 1);
        return e->code;
}

const char *error_message(const struct error *e, int code) {
        if (e && e->message[0])
                return e->message;
        code = e && e->code ? e->code : negative(code);
        return code ? strerror(-code) : "";
}

void error_clear(struct error *e) {
        if (!e)
                return;
        e->code = 0;
        e->message[0] = 0;
}
