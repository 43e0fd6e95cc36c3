/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/http.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "firstboot/host/static-pods.h"

#define MANIFEST_MAX (1u << 20)

/* A named port through the container's ports, as the kubelet resolves it. */
static int probe_port(const cJSON *container, const cJSON *port, long long *ret) {
        const cJSON *p;

        if (cJSON_IsNumber(port)) {
                *ret = (long long) port->valuedouble;
                return *ret >= 1 && *ret <= 65535 ? 0 : -EBADMSG;
        }
        if (!cJSON_IsString(port))
                return -EBADMSG;
        cJSON_ArrayForEach(p, json_get(container, "ports")) {
                int64_t n;
                if (streq(json_get_string(p, "name") ?: "", port->valuestring) &&
                    json_get_int64(p, "containerPort", &n) >= 0 && n >= 1 && n <= 65535) {
                        *ret = n;
                        return 0;
                }
        }
        return -EBADMSG;
}

int fb_static_pod_probe_url(const char *manifest_yaml, size_t len, char **ret) {
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        const cJSON *pod, *c, *hg;
        long long port;
        char *url;
        int r;

        r = yaml_parse_documents(manifest_yaml, len, &docs, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        pod = cJSON_GetArrayItem(docs, 0);
        if (!streq(json_get_string(pod, "kind") ?: "", "Pod"))
                return -EBADMSG;
        c = cJSON_GetArrayItem(json_get(pod, "spec.containers"), 0);
        hg = json_get(c, "livenessProbe.httpGet");
        if (!hg)
                return -ENOENT;
        r = probe_port(c, json_get(hg, "port"), &port);
        if (r < 0)
                return r;
        const char *scheme = json_get_string(hg, "scheme") ?: "HTTP";
        const char *host = json_get_string(hg, "host") ?: "127.0.0.1";
        const char *path = json_get_string(hg, "path") ?: "/";
        bool v6 = strchr(host, ':') != NULL;
        url = strdupf("%s://%s%s%s:%lld%s%s", strcasecmp(scheme, "HTTPS") == 0 ? "https" : "http",
                      v6 ? "[" : "", host, v6 ? "]" : "", port, path[0] == '/' ? "" : "/", path);
        if (!url)
                return -ENOMEM;
        *ret = url;
        return 0;
}

/* 1: HTTP 200; 0: answers otherwise; -errno: nothing answers (the transport failed). The kubelet does not
 * verify a probe's certificate either. */
static int probe(const char *url) {
        _cleanup_(http_response_freep) struct http_response *resp = NULL;
        struct http_request req = {.url = url, .insecure = true, .no_proxy = true, .timeout_ms = 2000};
        int r = http_request(&req, &resp);

        return r < 0 ? r : resp->status == 200;
}

static int move(const char *root, const char *from, const char *to) {
        _cleanup_free_ char *a = NULL, *b = NULL, *dir = NULL;
        int r;

        if ((r = root_path(root, from, &a)) < 0 || (r = root_path(root, to, &b)) < 0)
                return r;
        if (rename(a, b) < 0)
                return -errno;
        /* The rename survives a power cut before the restart is over. */
        dir = strdup(b);
        if (!dir)
                return -ENOMEM;
        *strrchr(dir, '/') = 0;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                (void) fsync(fd);
                close(fd);
        }
        return 0;
}

int fb_static_pod_restart(const struct fb_static_pod_restart *rs, struct error *why) {
        _cleanup_free_ char *manifest = strdupf("%s/%s.yaml", rs->manifests_dir, rs->name);
        _cleanup_free_ char *parked = strdupf("%s/%s.yaml", FB_STATIC_POD_PARKING_DIR, rs->name);
        _cleanup_free_ char *text = NULL, *url = NULL;
        unsigned long long start, deadline;
        size_t len;
        int r;

        if (!manifest || !parked)
                return -ENOMEM;
        r = read_file(rs->root, manifest, MANIFEST_MAX, &text, &len);
        if (r < 0)
                return error_set(why, r, "cannot read %s: %s", manifest, strerror(-r));
        r = fb_static_pod_probe_url(text, len, &url);
        if (r < 0)
                return error_set(why, r, "%s has no liveness probe to tell when %s is back: not restarted",
                                 manifest, rs->name);
        r = mkdir_p(rs->root, FB_STATIC_POD_PARKING_DIR, 0700);
        if (r < 0)
                return error_set(why, r, "cannot create %s: %s", FB_STATIC_POD_PARKING_DIR, strerror(-r));
        r = move(rs->root, manifest, parked);
        if (r < 0)
                return error_set(why, r, "cannot move %s to %s: %s", manifest, parked, strerror(-r));
        log_debug("%s: manifest parked in %s; waiting for the kubelet to stop it (%s)", rs->name, parked,
                  url);

        start = clock_now_ms();
        deadline = start + rs->stop_timeout_ms;
        while ((r = probe(url)) >= 0 && clock_now_ms() < deadline)
                clock_sleep_about_ms(250);
        bool stopped = r < 0;
        r = move(rs->root, parked, manifest);
        if (r < 0)
                return error_set(why, r,
                                 "cannot put %s back from %s: %s (move it back by hand: %s is stopped)",
                                 manifest, parked, strerror(-r), rs->name);
        if (!stopped)
                return error_set(
                        why, -ETIMEDOUT,
                        "the kubelet did not stop %s within %llus of its manifest leaving %s (is the kubelet running?); the manifest is back and the old %s keeps running",
                        rs->name, rs->stop_timeout_ms / 1000, rs->manifests_dir, rs->name);
        log_debug("%s: stopped after %llums; manifest back", rs->name, clock_now_ms() - start);

        deadline = clock_now_ms() + rs->healthy_timeout_ms;
        while ((r = probe(url)) != 1) {
                if (clock_now_ms() >= deadline)
                        return error_set(why, -ETIMEDOUT,
                                         "%s is not healthy at %s %llus after its restart: %s", rs->name,
                                         url, rs->healthy_timeout_ms / 1000,
                                         r < 0 ? strerror(-r) : "not HTTP 200");
                clock_sleep_about_ms(500);
        }
        return 0;
}

int fb_static_pods_put_back(const char *root, const char *manifests_dir, unsigned *ret_n,
                            struct error *why) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        unsigned n = 0;
        struct dirent *de;
        int r;

        r = root_path(root, FB_STATIC_POD_PARKING_DIR, &dir);
        if (r < 0)
                return r;
        d = opendir(dir);
        if (!d) {
                *ret_n = 0;
                return errno == ENOENT
                               ? 0
                               : error_set(why, -errno, "cannot read %s: %m", FB_STATIC_POD_PARKING_DIR);
        }
        while ((de = readdir(d))) {
                _cleanup_free_ char *from = NULL, *to = NULL;
                if (!endswith(de->d_name, ".yaml"))
                        continue;
                from = strdupf("%s/%s", FB_STATIC_POD_PARKING_DIR, de->d_name);
                to = strdupf("%s/%s", manifests_dir, de->d_name);
                if (!from || !to)
                        return -ENOMEM;
                if (path_exists(root, to) >= 0) {
                        (void) unlink_file(root, from);
                        continue;
                }
                r = move(root, from, to);
                if (r < 0)
                        return error_set(why, r, "cannot put %s back to %s: %s", from, to, strerror(-r));
                n++;
        }
        *ret_n = n;
        return 0;
}
