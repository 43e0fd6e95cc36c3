/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "clock.h"
#include "netutil.h"
#include "strutil.h"

bool ip_is_valid(const char *s) {
        unsigned char buf[16];
        return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

bool ip_is_ipv6(const char *s) {
        unsigned char buf[16];
        return s && inet_pton(AF_INET6, s, buf) == 1;
}

static int parse_cidr(const char *s, size_t len, int *ret_family, unsigned char addr[16],
                      unsigned *ret_bits) {
        char tmp[64];
        const char *slash;
        unsigned bits;
        int family;

        if (len == 0 || len >= sizeof(tmp))
                return -EINVAL;
        memcpy(tmp, s, len);
        tmp[len] = 0;
        slash = strchr(tmp, '/');
        if (!slash)
                return -EINVAL;
        tmp[slash - tmp] = 0;
        if (safe_atou(slash + 1, &bits) < 0)
                return -EINVAL;
        family = strchr(tmp, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(family, tmp, addr) != 1)
                return -EINVAL;
        if (bits > (family == AF_INET ? 32u : 128u))
                return -EINVAL;
        *ret_family = family;
        *ret_bits = bits;
        return 0;
}

int cidr_nth_ip(const char *cidr, unsigned long n, char ret[IP_STRING_MAX]) {
        unsigned char addr[16] = {};
        const char *comma = strchr(cidr, ',');
        size_t len = comma ? (size_t) (comma - cidr) : strlen(cidr);
        unsigned bits, total;
        int family, r;

        r = parse_cidr(cidr, len, &family, addr, &bits);
        if (r < 0)
                return r;
        total = family == AF_INET ? 32 : 128;
        /* n must fit in the host part. */
        if (total - bits < 64 && n >> (total - bits) != 0)
                return -ERANGE;
        /* Clear the host bits, then add n from the last byte up. */
        for (unsigned i = bits; i < total; i++)
                addr[i / 8] &= (unsigned char) ~(0x80u >> (i % 8));
        uint64_t carry = n;
        for (int i = (int) total / 8 - 1; i >= 0 && carry; i--) {
                uint64_t sum = addr[i] + (carry & 0xff);
                addr[i] = (unsigned char) sum;
                carry = (carry >> 8) + (sum >> 8);
        }
        if (!inet_ntop(family, addr, ret, IP_STRING_MAX))
                return -EINVAL;
        return 0;
}

bool cidr_list_is_valid(const char *s) {
        const char *comma;
        unsigned char a[16];
        unsigned bits;
        int f1, f2;

        if (isempty(s))
                return false;
        comma = strchr(s, ',');
        if (parse_cidr(s, comma ? (size_t) (comma - s) : strlen(s), &f1, a, &bits) < 0)
                return false;
        if (!comma)
                return true;
        if (strchr(comma + 1, ',') || parse_cidr(comma + 1, strlen(comma + 1), &f2, a, &bits) < 0)
                return false;
        return f1 != f2;
}

int split_host_port(const char *s, char **ret_host, unsigned *ret_port) {
        _cleanup_free_ char *host = NULL;
        const char *port = NULL;
        unsigned p = 0;

        if (isempty(s))
                return -EINVAL;
        if (s[0] == '[') {
                const char *end = strchr(s, ']');
                if (!end || end == s + 1)
                        return -EINVAL;
                host = strndup(s + 1, (size_t) (end - s - 1));
                if (end[1] == ':')
                        port = end + 2;
                else if (end[1] != 0)
                        return -EINVAL;
        } else if (ip_is_ipv6(s)) {
                host = strdup(s);
        } else {
                const char *colon = strrchr(s, ':');
                if (colon && strchr(s, ':') != colon)
                        return -EINVAL; /* an unbracketed IPv6 with a port is ambiguous */
                host = colon ? strndup(s, (size_t) (colon - s)) : strdup(s);
                if (colon)
                        port = colon + 1;
        }
        if (!host)
                return -ENOMEM;
        if (isempty(host))
                return -EINVAL;
        if (port && (safe_atou(port, &p) < 0 || p == 0 || p > 65535))
                return -EINVAL;
        *ret_host = TAKE_PTR(host);
        *ret_port = p;
        return 0;
}

/* A socket address for ip:port (an IP address, not a name). -EINVAL for anything else. */
static int sockaddr_of(const char *ip, unsigned port, struct sockaddr_storage *ret, socklen_t *ret_len) {
        struct sockaddr_storage ss = {};
        socklen_t len;
        if (!ip || port > 65535)
                return -EINVAL;
        if (ip_is_ipv6(ip)) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t) port);
                if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1)
                        return -EINVAL;
                len = sizeof(*a);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *) &ss;
                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t) port);
                if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
                        return -EINVAL;
                len = sizeof(*a);
        }
        *ret = ss;
        *ret_len = len;
        return 0;
}

int ip_cmp(const char *a, const char *b) {
        unsigned char x[16], y[16];
        int fa = !a ? 0 : inet_pton(AF_INET, a, x) == 1 ? 4 : inet_pton(AF_INET6, a, x) == 1 ? 6 : 0;
        int fb = !b ? 0 : inet_pton(AF_INET, b, y) == 1 ? 4 : inet_pton(AF_INET6, b, y) == 1 ? 6 : 0;
        if (!fa || !fb)
                return -2;
        if (fa != fb)
                return fa < fb ? -1 : 1;
        int r = memcmp(x, y, fa == 4 ? 4 : 16);
        return r < 0 ? -1 : r > 0;
}

int ip_canonical(const char *ip, char ret[IP_STRING_MAX]) {
        unsigned char buf[16];
        char out[IP_STRING_MAX] = {};
        int family = !ip                                 ? 0
                     : inet_pton(AF_INET, ip, buf) == 1  ? AF_INET
                     : inet_pton(AF_INET6, ip, buf) == 1 ? AF_INET6
                                                         : 0;
        if (!family || !inet_ntop(family, buf, out, sizeof(out)))
                return -EINVAL;
        memcpy(ret, out, sizeof(out));
        return 0;
}

int tcp_connect(const char *ip, unsigned port, unsigned timeout_ms, int *ret_fd) {
        struct sockaddr_storage ss;
        socklen_t len;
        int r = sockaddr_of(ip, port, &ss, &len);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &ss, len) < 0) {
                if (errno != EINPROGRESS)
                        return -errno;
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                int err = 0;
                socklen_t el = sizeof(err);
                r = poll(&p, 1, (int) timeout_ms);
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
                        return -errno;
                if (err)
                        return -err;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int tcp_listen(const char *ip, unsigned port, int *ret_fd) {
        struct sockaddr_storage ss;
        socklen_t len;
        int one = 1;
        int r = sockaddr_of(ip, port, &ss, &len);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 16) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

ssize_t tcp_read_line(int fd, char *buf, size_t size, unsigned timeout_ms) {
        unsigned long long deadline = clock_now_ms() + timeout_ms;
        size_t len = 0;

        if (size < 2)
                return -EINVAL;
        for (;;) {
                ssize_t k = recv(fd, buf + len, 1, MSG_DONTWAIT);
                if (k == 1) {
                        len++;
                        if (buf[len - 1] == '\n') {
                                buf[len] = 0;
                                return (ssize_t) len;
                        }
                        if (len == size - 1)
                                return -EBADMSG;
                        continue;
                }
                if (k == 0 || (k < 0 && (errno == ECONNRESET || errno == EPIPE)))
                        return len ? -EBADMSG : 0;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                        return -errno;
                unsigned long long now = clock_now_ms();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, (int) (deadline - now)) < 0 && errno != EINTR)
                        return -errno;
        }
}

bool tcp_answers(const char *ip, unsigned port, unsigned timeout_ms) {
        _cleanup_close_ int fd = -EBADF;
        return tcp_connect(ip, port, timeout_ms, &fd) >= 0;
}
