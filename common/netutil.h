/* SPDX-License-Identifier: Apache-2.0 */
/* Addresses and subnets: IPv4 and IPv6 literals, the n-th address of a CIDR, host:port splitting. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define IP_STRING_MAX 46 /* INET6_ADDRSTRLEN */

bool ip_is_valid(const char *s);
bool ip_is_ipv6(const char *s);

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
