/* SPDX-License-Identifier: Apache-2.0 */
/* What every unit test program includes: cmocka, a temporary directory, a throwaway CA, loopback servers. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); the caller removes it with rm_rf(). */
char *unit_mkdtemp(void);
void unit_rm_rf(const char *path);
/* Writes text to root/path (mode 0644), creating the parents; fails the test on error. */
void unit_write(const char *root, const char *path, const char *text);

/* A CA and a server certificate it signs for 127.0.0.1 and localhost (ECDSA P-256, valid an hour), as PEM,
 * and the CA's pin ("sha256:<hex>"). Fails the test on error. */
struct unit_pki {
        char *ca_pem, *ca_key_pem, *cert_pem, *key_pem, *ca_pin;
};
void unit_pki_make(struct unit_pki *ret);
void unit_pki_done(struct unit_pki *p);

/*
 * A loopback server on a thread of its own, on ip and a free port. With a certificate it speaks HTTPS:
 * each request (read up to its blank line, a body is not read) is answered by respond() with a status and
 * a body (malloc'd, or NULL for none), then the connection closes. Without one it accepts TCP connections
 * and closes them at once, as a load balancer with no backend does.
 */
typedef void (*unit_respond_t)(void *userdata, unsigned request_no, const char *method, const char *path,
                               int *ret_status, char **ret_body);
struct unit_server;
struct unit_server *unit_server_start(const char *ip, const char *cert_pem, const char *key_pem,
                                      unit_respond_t respond, void *userdata);
unsigned unit_server_port(const struct unit_server *s);
/* Requests answered (HTTPS) or connections accepted (TCP) so far. */
unsigned unit_server_count(const struct unit_server *s);
void unit_server_stop(struct unit_server *s);

/* A socket listening on ip:port that never accepts (the kernel completes the handshakes); -1 when the
 * address cannot be bound (the test then skips). Close it with close(). */
int unit_listen(const char *ip, unsigned port);
static inline void unit_server_stopp(struct unit_server **s) {
        unit_server_stop(*s);
}

/*
 * A node for the flows' tests: a fresh root, an instance with this ID, host name and IPv4 address, the
 * configuration loaded over them (unit_node_env_configure) and the node a test builds from it (freed
 * with the rest). unit_node_env_setup() is the body of a cmocka setup; unit_node_env_teardown() is one.
 */
struct md_instance;
struct fb_config;
struct fb_node;
struct unit_node_env {
        char *root;
        struct md_instance *inst;
        struct fb_config *config;
        struct fb_node *node;
};
int unit_node_env_setup(void **state, const char *instance_id, const char *hostname, const char *ipv4);
int unit_node_env_teardown(void **state);
/* Loads yaml as a partial configuration (no image defaults) over e->inst, after dropping the node and the
 * configuration of before; prints the problems and fails the test when there are any. */
const struct fb_config *unit_node_env_configure(struct unit_node_env *e, const char *yaml);

/* The phases' names, space-separated (malloc'd); fails the test when one lacks a name, summary, run,
 * describe or remedy. */
struct fb_phase;
char *unit_phase_names(const struct fb_phase *p, size_t n);
