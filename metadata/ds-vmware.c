/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VMware guestinfo: guestinfo.metadata / .userdata (and their .encoding: base64, gzip+base64 or plain)
 * read with `vmware-rpctool "info-get guestinfo.X"`, falling back to `vmtoolsd --cmd "info-get ..."` when
 * rpctool is missing or refused (a VMX with guest_rpc.rpci.auth.cmd.info-get set). In containers the
 * same values come from VMX_GUESTINFO_* environment variables when VMX_GUESTINFO is set. A value that is
 * empty or "---" (what cloud-init leaves after redacting) counts as absent. The tools are found on PATH,
 * so tests put their own in front.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup-libs.h"
#include "common/clock.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "metadata/decode.h"
#include "metadata/source.h"

extern char **environ;

/* Runs tool with two arguments; stdout captured (capped), stderr checked for "No value found". */
static int run_tool(const char *tool, const char *a1, const char *a2, unsigned timeout_ms, char **ret_out,
                    bool *ret_novalue) {
        _cleanup_close_ int out_r = -EBADF, out_w = -EBADF, err_r = -EBADF, err_w = -EBADF, null_fd = -EBADF;
        posix_spawn_file_actions_t fa;
        char *argv[] = {(char *) tool, (char *) a1, (char *) a2, NULL};
        _cleanup_erase_ char *buf = NULL;
        size_t len = 0;
        char errbuf[256] = "";
        size_t elen = 0;
        pid_t pid;
        int fds[2], status, r;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        out_r = fds[0], out_w = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        err_r = fds[0], err_w = fds[1];
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd < 0)
                return -errno;
        buf = malloc(MD_META_MAX + 1);
        if (!buf)
                return -ENOMEM;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, null_fd, 0);
        posix_spawn_file_actions_adddup2(&fa, out_w, 1);
        posix_spawn_file_actions_adddup2(&fa, err_w, 2);
        r = posix_spawnp(&pid, tool, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        out_w = safe_close(out_w);
        err_w = safe_close(err_w);

        long long deadline = (long long) (clock_now_ms() + timeout_ms);
        bool out_open = true, err_open = true, timed_out = false;
        while (out_open || err_open) {
                struct pollfd p[2] = {{.fd = out_open ? out_r : -1, .events = POLLIN},
                                      {.fd = err_open ? err_r : -1, .events = POLLIN}};
                long long left = deadline - (long long) clock_now_ms();
                if (left <= 0) {
                        timed_out = true;
                        break;
                }
                if (poll(p, 2, (int) left) < 0 && errno != EINTR)
                        break;
                if (p[0].revents) {
                        ssize_t k = len < MD_META_MAX ? read(out_r, buf + len, MD_META_MAX - len) : 0;
                        if (k <= 0)
                                out_open = false;
                        else
                                len += (size_t) k;
                }
                if (p[1].revents) {
                        char tmp[256];
                        ssize_t k = read(err_r, tmp, sizeof(tmp));
                        if (k <= 0)
                                err_open = false;
                        else if (elen + 1 < sizeof(errbuf)) {
                                size_t c = (size_t) k < sizeof(errbuf) - 1 - elen
                                                   ? (size_t) k
                                                   : sizeof(errbuf) - 1 - elen;
                                memcpy(errbuf + elen, tmp, c);
                                elen += c;
                        }
                }
        }
        if (timed_out)
                (void) kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (timed_out)
                return log_debug_errno(ETIMEDOUT, "%s %s timed out", tool, a2);
        errbuf[elen] = 0;
        *ret_novalue = strstr(errbuf, "No value found") != NULL;
        /* 127: the exec failed in the child (how some spawn implementations report a missing tool). */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return -ENOENT;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return log_debug_errno(EIO, "%s '%s' failed: %s", tool, a2, errbuf);
        buf[len] = 0;
        *ret_out = TAKE_PTR(buf);
        return 0;
}

/* guestinfo.<key>: 0 with *ret (NULL when absent), -ENXIO when no tool works at all. */
static int guestinfo(const struct md_options *o, const char *key, char **ret) {
        _cleanup_free_ char *cmd = strdupf("info-get guestinfo.%s", key);
        _cleanup_erase_ char *v = NULL;
        bool novalue = false;
        int r;

        if (!cmd)
                return -ENOMEM;
        if (getenv("VMX_GUESTINFO")) {
                _cleanup_free_ char *name = strdupf("VMX_GUESTINFO_%s", key);
                if (!name)
                        return -ENOMEM;
                for (char *c = name; *c; c++)
                        *c = *c == '.' ? '_' : (char) toupper((unsigned char) *c);
                const char *e = getenv(name);
                v = e ? strdup(e) : NULL;
                if (e && !v)
                        return -ENOMEM;
                r = 0;
        } else if (o->no_host)
                return log_debug_errno(ENXIO, "Under --root, this machine's VMware tools are not run");
        else {
                r = run_tool("vmware-rpctool", cmd, NULL, o->timeout_ms ?: 3000, &v, &novalue);
                if (r < 0 && !novalue)
                        r = run_tool("vmtoolsd", "--cmd", cmd, o->timeout_ms ?: 3000, &v, &novalue);
                if (r < 0 && novalue)
                        r = 0;
                if (r == -ENOENT)
                        return log_debug_errno(ENXIO, "Neither vmware-rpctool nor vmtoolsd is here");
                if (r < 0)
                        return r;
        }
        if (v) {
                size_t n = strlen(v);
                while (n > 0 && isspace((unsigned char) v[n - 1]))
                        v[--n] = 0;
                if (n == 0 || streq(v, "---"))
                        v = erase_and_free(v);
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* Decodes a guestinfo value by its .encoding. */
int md_vmware_decode(const char *value, const char *encoding, char **ret, size_t *ret_len) {
        _cleanup_erase_ char *b = NULL;
        size_t n;
        int r;

        if (isempty(encoding)) {
                *ret = strdup(value);
                if (!*ret)
                        return -ENOMEM;
                *ret_len = strlen(value);
                return 0;
        }
        bool gz = streq(encoding, "gzip+base64") || streq(encoding, "gz+b64");
        if (!gz && !streq(encoding, "base64") && !streq(encoding, "b64"))
                return log_debug_errno(EINVAL, "Unknown guestinfo encoding '%s'", encoding);
        r = md_base64_decode(value, strlen(value), false, &b, &n);
        if (r < 0)
                return log_debug_errno(r, "guestinfo value is not base64");
        if (!gz) {
                *ret = TAKE_PTR(b);
                *ret_len = n;
                return 0;
        }
        return md_gunzip(b, n, MD_USERDATA_MAX, ret, ret_len);
}

static int get_decoded(const struct md_options *o, const char *key, char **ret, size_t *ret_len) {
        _cleanup_erase_ char *v = NULL;
        _cleanup_free_ char *enc = NULL, *ekey = strdupf("%s.encoding", key);
        int r;
        if (!ekey)
                return -ENOMEM;
        r = guestinfo(o, key, &v);
        if (r < 0)
                return r;
        if (!v) {
                *ret = NULL;
                return 0;
        }
        r = guestinfo(o, ekey, &enc);
        if (r < 0)
                return r;
        if (enc)
                strstrip(enc);
        return md_vmware_decode(v, enc, ret, ret_len);
}

int md_vmware_parse_metadata(const char *text, size_t len, struct md_instance *inst) {
        _cleanup_(cJSON_Deletep) cJSON *docs = NULL;
        const cJSON *m;
        /* JSON first, then YAML (which also reads most JSON). */
        if (md_json_parse(text, len, &docs) >= 0) {
                struct json_builder b = {};
                cJSON *arr = jb_array(&b);
                jb_add(&b, arr, NULL, TAKE_PTR(docs));
                int r = jb_finish(&b, arr, &docs);
                if (r < 0)
                        return r;
        } else if (yaml_parse_documents(text, len, &docs, NULL) < 0)
                return log_debug_errno(EBADMSG, "guestinfo.metadata is neither JSON nor YAML");
        m = cJSON_GetArrayItem(docs, 0);
        if (!cJSON_IsObject(m))
                return log_debug_errno(EBADMSG, "guestinfo.metadata is not a mapping");
        if (md_set(&inst->instance_id, json_get_scalar_text(m, "instance-id")) < 0 ||
            md_set(&inst->hostname, json_get_scalar_text(m, "local-hostname")) < 0 ||
            md_set(&inst->local_ipv4, json_get_scalar_text(m, "local-ipv4")) < 0 ||
            md_set(&inst->local_ipv6, json_get_scalar_text(m, "local-ipv6")) < 0)
                return -ENOMEM;
        const cJSON *net = cJSON_GetObjectItemCaseSensitive(m, "network");
        if (cJSON_IsObject(net))
                md_addresses_from_network_config(inst, net);
        return 0;
}

static int fetch(const struct md_options *o, const struct md_platform *p, struct md_instance *inst) {
        _cleanup_erase_ char *md = NULL, *ud = NULL;
        size_t mdlen = 0, udlen = 0;
        int r;

        r = get_decoded(o, "metadata", &md, &mdlen);
        if (r < 0)
                return r;
        r = get_decoded(o, "userdata", &ud, &udlen);
        if (r == -EINVAL || r == -EBADMSG || r == -EFBIG) {
                /* There, but not what guestinfo.userdata.encoding says: refused, never dropped. */
                r = md_userdata_unusable(
                        inst, "guestinfo.userdata", "%s",
                        r == -EINVAL
                                ? "guestinfo.userdata.encoding is not base64, b64, gzip+base64 or gz+b64"
                        : r == -EFBIG ? "larger than 16 MiB once decompressed, the limit"
                                      : "not the base64 (or gzip) that guestinfo.userdata.encoding says");
                if (r < 0)
                        return r;
        } else if (r < 0)
                return r;
        if (!md && !ud && !inst->userdata_error)
                return log_debug_errno(ENXIO, "No guestinfo.metadata or guestinfo.userdata");
        if (md) {
                r = md_vmware_parse_metadata(md, mdlen, inst);
                if (r < 0)
                        return r;
        }
        if (ud) {
                md_set_userdata(inst, TAKE_PTR(ud), udlen);
                if (md_set_userdata_source(inst, "guestinfo.userdata") < 0)
                        return -ENOMEM;
        }
        if (!inst->instance_id && md_set(&inst->instance_id, p->product_uuid) < 0)
                return -ENOMEM;
        if (md_set(&inst->platform, "vmware") < 0 ||
            md_set(&inst->source, getenv("VMX_GUESTINFO") ? "envvar (VMX_GUESTINFO)"
                                                          : "guestinfo (guestinfo.metadata)") < 0)
                return -ENOMEM;
        return 0;
}

const struct md_source md_source_vmware = {"vmware", fetch};
