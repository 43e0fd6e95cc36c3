/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Addresses and subnets: IPv4 and IPv6 literals, the n-th address of a CIDR, host:port splitting; TCP
 * connects, listeners and one-line reads with deadlines.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define IP_STRING_MAX 46 /* INET6_ADDRSTRLEN */

bool ip_is_valid(const char *s);
bool ip_is_ipv6(const char *s);

/* Compares two addresses numerically, IPv4 before IPv6: -1, 0 or 1; -2 when either is not an address. */
int ip_cmp(const char *a, const char *b);

/* The canonical text of an address (inet_ntop's: "2001:db8::1", not "2001:0db8:0:0::1"). -EINVAL. */
int ip_canonical(const char *ip, char ret[IP_STRING_MAX]);

/*
 * The n-th address of a subnet ("10.96.0.0/12", 10 -> "10.96.0.10"); for a comma-separated dual-stack
 * list the first subnet is used. -EINVAL for a malformed subnet, -ERANGE when n is outside it.
 */
int cidr_nth_ip(const char *cidr, unsigned long n, char ret[IP_STRING_MAX]);

/* Whether s is a valid subnet (one CIDR, or a comma-separated list of up to two of different families). */
bool cidr_list_is_valid(const char *s);

/*
 * Splits "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal. *ret_host is owned by the
 * caller; *ret_port is 0 when absent. -EINVAL for an empty host or a bad port.
 */
int split_host_port(const char *s, char **ret_host, unsigned *ret_port);

/* Whether something accepts TCP connections at ip:port (an IP address, not a name) within timeout_ms. */
bool tcp_answers(const char *ip, unsigned port, unsigned timeout_ms);

/*
 * A TCP connection to ip:port (an IP address) made within timeout_ms: *ret_fd, non-blocking and
 * close-on-exec. -EINVAL for a bad address, -ETIMEDOUT, -ECONNREFUSED and the like.
 */
int tcp_connect(const char *ip, unsigned port, unsigned timeout_ms, int *ret_fd);

/*
 * A listening TCP socket on ip:port (an IP address; an IPv6 one listens on IPv6 only): *ret_fd, non-blocking
 * and close-on-exec, SO_REUSEADDR. -EINVAL for a bad address, -EADDRINUSE, -EADDRNOTAVAIL and the like.
 */
int tcp_listen(const char *ip, unsigned port, int *ret_fd);

/*
 * Reads one line from a connected socket within timeout_ms, byte by byte so that nothing after its newline
 * is taken: its length (with the '\n'; buf NUL-terminated). 0 when the peer closed (or reset) the connection
 * before sending a byte; -EBADMSG when it closed after some bytes but before a newline, or sent size - 1
 * bytes without one; -ETIMEDOUT when no whole line came in time (a server that waits for its client to speak
 * first).
 */
ssize_t tcp_read_line(int fd, char *buf, size_t size, unsigned timeout_ms);
