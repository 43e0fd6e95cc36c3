/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The machine's network interfaces, for the control-plane VIP (FirstbootConfiguration.controlPlaneVIP):
 * which interface carries an address, whether another address lies in one of an interface's subnets, and
 * whether an address is taken by another host. This machine's network namespace, never under --root.
 */
#pragma once

#include <stdbool.h>

/* The interface that carries address (an IP literal): its name in *ret_name (caller frees). -ENOENT when no
 * interface has it, -EINVAL for a bad address. */
int fb_host_interface_of(const char *address, char **ret_name);

/* What interface name holds for address: -ENODEV without such an interface; else 0 with *ret_in_subnet (the
 * address lies in the subnet of one of its addresses of the same family) and *ret_assigned (it carries the
 * address itself). */
int fb_host_interface_has(const char *name, const char *address, bool *ret_in_subnet, bool *ret_assigned);

/* Whether another host holds address: something accepts or refuses a TCP connection to one of ports
 * (refused: the address answers, a host has it) within timeout_ms each. Fills *ret_port with the port that
 * answered. */
bool fb_host_address_taken(const char *address, const unsigned *ports, unsigned n_ports, unsigned timeout_ms,
                           unsigned *ret_port);
