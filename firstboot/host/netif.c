/* SPDX-License-Identifier: Apache-2.0 */
/* The machine's network interfaces (netif.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/netutil.h"
#include "common/strutil.h"
#include "firstboot/host/netif.h"

static void freeifaddrsp(struct ifaddrs **p) {
        if (*p)
                freeifaddrs(*p);
}

struct addr {
        int family;
        unsigned char bytes[16];
        size_t len;
};

static int parse_addr(const char *s, struct addr *ret) {
        if (inet_pton(AF_INET, s, ret->bytes) == 1) {
                ret->family = AF_INET;
                ret->len = 4;
                return 0;
        }
        if (inet_pton(AF_INET6, s, ret->bytes) == 1) {
                ret->family = AF_INET6;
                ret->len = 16;
                return 0;
        }
        return -EINVAL;
}

static const unsigned char *sockaddr_bytes(const struct sockaddr *sa) {
        if (sa->sa_family == AF_INET)
                return (const unsigned char *) &((const struct sockaddr_in *) sa)->sin_addr;
        return (const unsigned char *) &((const struct sockaddr_in6 *) sa)->sin6_addr;
}

static bool masked_equal(const unsigned char *a, const unsigned char *b, const unsigned char *mask,
                         size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((a[i] & mask[i]) != (b[i] & mask[i]))
                        return false;
        return true;
}

int fb_host_interface_of(const char *address, char **ret_name) {
        _cleanup_(freeifaddrsp) struct ifaddrs *list = NULL;
        struct addr want;

        if (parse_addr(address, &want) < 0)
                return -EINVAL;
        if (getifaddrs(&list) < 0)
                return log_debug_errno(errno, "getifaddrs: %m");
        for (struct ifaddrs *i = list; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != want.family)
                        continue;
                if (memcmp(sockaddr_bytes(i->ifa_addr), want.bytes, want.len) != 0)
                        continue;
                char *name = strdup(i->ifa_name);
                if (!name)
                        return -ENOMEM;
                *ret_name = name;
                return 0;
        }
        return -ENOENT;
}

int fb_host_interface_has(const char *name, const char *address, bool *ret_in_subnet, bool *ret_assigned) {
        _cleanup_(freeifaddrsp) struct ifaddrs *list = NULL;
        bool found = false, in_subnet = false, assigned = false;
        struct addr want;

        if (parse_addr(address, &want) < 0)
                return -EINVAL;
        if (if_nametoindex(name) == 0)
                return -ENODEV;
        if (getifaddrs(&list) < 0)
                return log_debug_errno(errno, "getifaddrs: %m");
        for (struct ifaddrs *i = list; i; i = i->ifa_next) {
                if (!streq(i->ifa_name, name))
                        continue;
                found = true;
                if (!i->ifa_addr || !i->ifa_netmask || i->ifa_addr->sa_family != want.family)
                        continue;
                const unsigned char *a = sockaddr_bytes(i->ifa_addr), *m = sockaddr_bytes(i->ifa_netmask);
                if (memcmp(a, want.bytes, want.len) == 0)
                        assigned = true;
                else if (masked_equal(a, want.bytes, m, want.len))
                        in_subnet = true;
        }
        (void) found; /* an interface without addresses exists all the same */
        *ret_in_subnet = in_subnet || assigned;
        *ret_assigned = assigned;
        return 0;
}

bool fb_host_address_taken(const char *address, const unsigned *ports, unsigned n_ports, unsigned timeout_ms,
                           unsigned *ret_port) {
        for (unsigned i = 0; i < n_ports; i++) {
                _cleanup_close_ int fd = -EBADF;
                int r = tcp_connect(address, ports[i], timeout_ms, &fd);
                if (r >= 0 || r == -ECONNREFUSED) {
                        *ret_port = ports[i];
                        return true;
                }
        }
        return false;
}
