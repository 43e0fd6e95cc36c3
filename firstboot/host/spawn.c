/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/log.h"
#include "firstboot/host/spawn.h"

extern char **environ;

int fb_spawn_capture(char *const argv[], unsigned timeout_ms, size_t max, char **ret_output,
                     int *ret_status) {
        _cleanup_close_ int rd = -EBADF, wr = -EBADF;
        _cleanup_free_ char *buf = NULL;
        posix_spawn_file_actions_t fa;
        unsigned long long start;
        size_t len = 0;
        int fds[2], status, r;
        pid_t pid;

        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        rd = fds[0], wr = fds[1];
        if (posix_spawn_file_actions_init(&fa) != 0)
                return -ENOMEM;
        r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, wr, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, wr, STDERR_FILENO);
        if (r == 0)
                r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return log_debug_errno(r, "Cannot run '%s': %m", argv[0]);
        wr = safe_close(wr);

        start = clock_now_ms();
        for (;;) {
                char drop[4096];
                long left = (long) timeout_ms - (long) (clock_now_ms() - start);
                struct pollfd p = {.fd = rd, .events = POLLIN};
                ssize_t k;

                if (left <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                if (poll(&p, 1, (int) left) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (!p.revents)
                        continue;
                /* Past the cap, keep reading (and dropping) so that the child never blocks on a full pipe.
                 */
                if (len < max)
                        k = read(rd, buf + len, max - len);
                else
                        k = read(rd, drop, sizeof(drop));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : 0;
                        break;
                }
                if (len < max)
                        len += (size_t) k;
        }
        if (r < 0)
                (void) kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (r < 0)
                return log_debug_errno(r, "'%s' did not finish: %m", argv[0]);
        buf[len] = 0;
        /* posix_spawnp reports a missing program as exit status 127 of the child. */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && len == 0)
                return log_debug_errno(ENOENT, "Cannot run '%s'", argv[0]);
        if (ret_output)
                *ret_output = TAKE_PTR(buf);
        *ret_status = status;
        return 0;
}
