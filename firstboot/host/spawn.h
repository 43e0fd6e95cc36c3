/* SPDX-License-Identifier: Apache-2.0 */
/* Running a helper program (mkfs, kubelet --version) with a deadline, its output captured and capped. */
#pragma once

#include <stddef.h>

/*
 * Runs argv[0] (an absolute path, or a name searched on $PATH) with stdin from /dev/null and stdout and
 * stderr into one buffer of at most max bytes (the rest is read and dropped). Kills it (SIGKILL) after
 * timeout_ms. *ret_output (NUL-terminated, owned by the caller, may be NULL) and *ret_status (a waitpid
 * status) are written when it ran: the return is 0 then, whatever its exit status. -ENOENT when it could
 * not be started, -ETIMEDOUT when killed at the deadline, -ENOMEM.
 */
int fb_spawn_capture(char *const argv[], unsigned timeout_ms, size_t max, char **ret_output,
                     int *ret_status);
