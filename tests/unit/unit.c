/* SPDX-License-Identifier: Apache-2.0 */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/strutil.h"
#include "firstboot/config/config.h"
#include "firstboot/engine/phases.h"
#include "firstboot/flows/node.h"
#include "metadata/metadata.h"
#include "metadata/source.h"
#include "pki/cert.h"
#include "pki/key.h"
#include "tests/unit/unit.h"

char *unit_mkdtemp(void) {
        const char *tmp = getenv("TMPDIR");
        char *p = NULL;
        if (asprintf(&p, "%s/kf-unit.XXXXXX", tmp ? tmp : "/tmp") < 0)
                return NULL;
        if (!mkdtemp(p)) {
                free(p);
                return NULL;
        }
        return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st, (void) flag, (void) ftw;
        return remove(path);
}

void unit_rm_rf(const char *path) {
        if (path)
                (void) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void unit_write(const char *root, const char *path, const char *text) {
        int r = write_string_atomic(root, path, text, 0644, WRITE_MKDIR_PARENTS);
        if (r < 0)
                fail_msg("cannot write %s under %s: %s", path, root, strerror(-r));
}

/* ---- a throwaway CA ---- */

void unit_pki_make(struct unit_pki *ret) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = NULL, *key = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL, *leaf = NULL;
        struct unit_pki p = {};
        time_t now = time(NULL);
        size_t len;

        assert_int_equal(pki_key_generate(PKI_KEY_ECDSA_P256, &ca_key), 0);
        assert_int_equal(pki_key_generate(PKI_KEY_ECDSA_P256, &key), 0);
        struct pki_cert_spec ca_spec = {.cn = "kubernetes",
                                        .ca = true,
                                        .dns = (char *[]){"kubernetes", NULL},
                                        .not_before = now - 300,
                                        .not_after = now + 3600};
        assert_int_equal(pki_cert_create(&ca_spec, ca_key, NULL, NULL, &ca), 0);
        struct pki_cert_spec leaf_spec = {.cn = "kube-apiserver",
                                          .eku = PKI_EKU_SERVER_AUTH,
                                          .dns = (char *[]){"localhost", NULL},
                                          .ips = (char *[]){"127.0.0.1", NULL},
                                          .not_before = now - 300,
                                          .not_after = now + 3600};
        assert_int_equal(pki_cert_create(&leaf_spec, key, ca, ca_key, &leaf), 0);
        assert_int_equal(pki_cert_to_pem(ca, &p.ca_pem, &len), 0);
        assert_int_equal(pki_key_to_pem(ca_key, &p.ca_key_pem, &len), 0);
        assert_int_equal(pki_cert_to_pem(leaf, &p.cert_pem, &len), 0);
        assert_int_equal(pki_key_to_pem(key, &p.key_pem, &len), 0);
        assert_int_equal(pki_cert_ca_pin(ca, &p.ca_pin), 0);
        *ret = p;
}

void unit_pki_done(struct unit_pki *p) {
        free(p->ca_pem);
        free(p->ca_key_pem);
        free(p->cert_pem);
        free(p->key_pem);
        free(p->ca_pin);
        *p = (struct unit_pki){};
}

/* ---- loopback servers ---- */

struct unit_server {
        int fd;
        unsigned port;
        SSL_CTX *ctx; /* NULL: accept and close */
        unit_respond_t respond;
        void *userdata;
        pthread_t thread;
        atomic_bool stop;
        atomic_uint count;
};

static int listen_on(const char *ip, unsigned port, unsigned *ret_port) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
        socklen_t len = sizeof(a);
        int one = 1;
        if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
                return -1;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
            getsockname(fd, (struct sockaddr *) &a, &len) < 0) {
                close(fd);
                return -1;
        }
        if (ret_port)
                *ret_port = ntohs(a.sin_port);
        return fd;
}

int unit_listen(const char *ip, unsigned port) {
        return listen_on(ip, port, NULL);
}

static void serve_one(struct unit_server *s, int fd) {
        struct timeval tv = {.tv_sec = 5};
        char buf[8192], method[16] = "", path[2048] = "";
        size_t len = 0;
        SSL *ssl;

        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        ssl = SSL_new(s->ctx);
        if (!ssl)
                return;
        if (SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
                goto out;
        for (;;) {
                int k = SSL_read(ssl, buf + len, (int) (sizeof(buf) - 1 - len));
                if (k <= 0)
                        goto out;
                len += (size_t) k;
                buf[len] = 0;
                if (strstr(buf, "\r\n\r\n"))
                        break;
                if (len == sizeof(buf) - 1)
                        goto out;
        }
        if (sscanf(buf, "%15s %2047s", method, path) != 2)
                goto out;

        int status = 500;
        char *body = NULL, *resp = NULL;
        s->respond(s->userdata, atomic_fetch_add(&s->count, 1), method, path, &status, &body);
        int n = asprintf(&resp,
                         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n%s",
                         status, body ? strlen(body) : 0, body ?: "");
        free(body);
        if (n > 0)
                (void) SSL_write(ssl, resp, n);
        free(resp);
        (void) SSL_shutdown(ssl);
out:
        SSL_free(ssl);
}

static void *serve(void *p) {
        struct unit_server *s = p;
        while (!atomic_load(&s->stop)) {
                struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
                if (poll(&pfd, 1, 50) != 1)
                        continue;
                int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                if (s->ctx)
                        serve_one(s, fd);
                else
                        atomic_fetch_add(&s->count, 1);
                close(fd);
        }
        return NULL;
}

static SSL_CTX *server_ctx(const char *cert_pem, const char *key_pem) {
        _cleanup_(BIO_free_allp) BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
        _cleanup_(X509_freep) X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx || !cert || !key || SSL_CTX_use_certificate(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey(ctx, key) != 1) {
                SSL_CTX_free(ctx);
                return NULL;
        }
        return ctx;
}

struct unit_server *unit_server_start(const char *ip, const char *cert_pem, const char *key_pem,
                                      unit_respond_t respond, void *userdata) {
        struct unit_server *s = calloc(1, sizeof(*s));
        assert_non_null(s);
        s->respond = respond;
        s->userdata = userdata;
        if (cert_pem) {
                s->ctx = server_ctx(cert_pem, key_pem);
                assert_non_null(s->ctx);
        }
        s->fd = listen_on(ip, 0, &s->port);
        assert_true(s->fd >= 0);
        assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
        return s;
}

unsigned unit_server_port(const struct unit_server *s) {
        return s->port;
}

unsigned unit_server_count(const struct unit_server *s) {
        return atomic_load(&((struct unit_server *) s)->count);
}

void unit_server_stop(struct unit_server *s) {
        if (!s)
                return;
        atomic_store(&s->stop, true);
        (void) pthread_join(s->thread, NULL);
        close(s->fd);
        SSL_CTX_free(s->ctx);
        free(s);
}

int unit_node_env_setup(void **state, const char *instance_id, const char *hostname, const char *ipv4) {
        struct unit_node_env *e = calloc(1, sizeof(*e));
        if (!e || !(e->root = unit_mkdtemp()) || !(e->inst = md_instance_new()))
                return -1;
        if (md_set(&e->inst->instance_id, instance_id) < 0 || md_set(&e->inst->hostname, hostname) < 0 ||
            md_set(&e->inst->local_ipv4, ipv4) < 0)
                return -1;
        *state = e;
        return 0;
}

int unit_node_env_teardown(void **state) {
        struct unit_node_env *e = *state;
        unit_rm_rf(e->root);
        free(e->root);
        fb_node_free(e->node);
        md_instance_free(e->inst);
        fb_config_free(e->config);
        free(e);
        return 0;
}

const struct fb_config *unit_node_env_configure(struct unit_node_env *e, const char *yaml) {
        _cleanup_free_ char *file = strdupf("%s/config.yaml", e->root);
        _cleanup_strv_free_ char **problems = NULL;
        assert_non_null(file);
        assert_non_null(yaml);
        unit_write(NULL, file, yaml);
        struct fb_config_sources src = {.root = e->root,
                                        .instance = e->inst,
                                        .skip_image_defaults = true,
                                        .partial = true,
                                        .files = (char *[]){file, NULL}};
        e->node = fb_node_free(e->node);
        e->config = fb_config_free(e->config);
        int r = fb_config_load(&src, &e->config, &problems);
        for (char **p = problems; p && *p; p++)
                print_message("problem: %s\n", *p);
        assert_int_equal(r, 0);
        return e->config;
}

char *unit_phase_names(const struct fb_phase *p, size_t n) {
        char *s = strdup("");
        assert_non_null(s);
        for (size_t i = 0; i < n; i++) {
                assert_non_null(p[i].name);
                assert_non_null(p[i].summary);
                assert_non_null(p[i].run);
                assert_non_null(p[i].describe);
                assert_non_null(p[i].remedy);
                char *t = strdupf("%s%s%s", s, i ? " " : "", p[i].name);
                assert_non_null(t);
                free(s);
                s = t;
        }
        return s;
}
