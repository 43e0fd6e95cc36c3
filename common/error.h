/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An error with its context (crun's libcrun_error_t, without the allocation): a negative errno and one
 * sentence saying what failed and where, which callers up the stack may prefix with their own context.
 *
 *         int fb_thing_do(..., struct error *why) {
 *                 r = read_it(path);
 *                 if (r < 0)
 *                         return error_set(why, r, "cannot read %s: %s", path, strerror(-r));
 *                 r = fb_other(..., why);
 *                 if (r < 0)
 *                         return error_wrap(why, r, "thing '%s'", name);   ("thing 'x': <other's message>")
 *         }
 *
 *         struct error why = {};
 *         r = fb_thing_do(..., &why);
 *         if (r < 0)
 *                 log_error("%s", error_message(&why, r));
 *
 * The message lives in the struct (one fixed size; a longer one is cut), so setting an error allocates
 * nothing and works on -ENOMEM. Every function taking a struct error accepts NULL (the caller does not
 * want the words). What it carries is shown to the user and written to status.json: never a secret
 * (token, certificate key, key material), only names, paths, addresses and what was wrong with them.
 */
#pragma once

#include "cleanup.h"

/* Room for one message with its prefixes, terminator included. */
#define ERROR_MESSAGE_MAX 2048

struct error {
        int code;                        /* a negative errno; 0 while nothing was set */
        char message[ERROR_MESSAGE_MAX]; /* "" while nothing was said */
};

/* Sets e to code (negated when positive) and the formatted message; evaluates to the code, so that
 * "return error_set(why, -EINVAL, ...);" reports and propagates. A macro so that the compiler (and gcc's
 * analyzer) sees the code returned, as with log_debug_errno(). */
#define error_set(e, code, ...)                                                                             \
        ({                                                                                                  \
                int _code = (code);                                                                         \
                _code = _code > 0 ? -_code : _code;                                                         \
                error_setf((e), _code, __VA_ARGS__);                                                        \
                _code;                                                                                      \
        })
/* The same as a function: sets e (NULL: nothing) to code, as it is, and the message. */
_printf_(3, 4) void error_setf(struct error *e, int code, const char *fmt, ...);

/*
 * Prefixes the formatted context to the message: "context: message". code is what the callee returned: it
 * becomes the error's code when the callee set none, and its strerror() stands for a message it did not
 * give. Returns the error's code.
 */
_printf_(3, 4) int error_wrap(struct error *e, int code, const char *fmt, ...);

/* The message; when none was said, strerror() of the error's code, or of code when the error has none
 * (a callee that returned -errno without a word). Never NULL; borrowed from e (or static). */
const char *error_message(const struct error *e, int code);

/* Back to no error. */
void error_clear(struct error *e);
