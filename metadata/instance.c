/* SPDX-License-Identifier: Apache-2.0 */
/* The instance view, the helpers datasources share, and the choice of datasource. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/fileio.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "metadata/metadata.h"
#include "metadata/source.h"

struct md_instance *md_instance_new(void) {
        struct md_instance *i = calloc(1, sizeof(*i));
        if (!i)
                return NULL;
        i->tags = cJSON_CreateObject();
        if (!i->tags) {
                free(i);
                return NULL;
        }
        return i;
}

struct md_instance *md_instance_free(struct md_instance *i) {
        if (!i)
                return NULL;
        free(i->platform);
        free(i->datasource);
        free(i->source);
        free(i->instance_id);
        free(i->hostname);
        free(i->local_ipv4);
        free(i->local_ipv6);
        free(i->region);
        free(i->zone);
        cJSON_Delete(i->tags);
        if (i->userdata) {
                explicit_bzero(i->userdata, i->userdata_len);
                erase_and_free(i->userdata);
        }
        md_userdata_free(i->ud);
        free(i->userdata_source);
        free(i->userdata_error);
        free(i->userdata_exposure);
        free(i);
        return NULL;
}

int md_set_n(char **field, const char *value, size_t n) {
        char *s = NULL;
        if (value && n > 0) {
                s = strndup(value, n);
                if (!s)
                        return -ENOMEM;
                strstrip(s);
                if (!*s) {
                        free(s);
                        s = NULL;
                }
        }
        free(*field);
        *field = s;
        return 0;
}

int md_set(char **field, const char *value) {
        return md_set_n(field, value, value ? strlen(value) : 0);
}

int md_tag(struct md_instance *inst, const char *key, const char *value) {
        if (isempty(key) || !value)
                return 0;
        return json_set_string(inst->tags, key, value);
}

void md_set_userdata(struct md_instance *inst, char *data, size_t len) {
        if (inst->userdata) {
                explicit_bzero(inst->userdata, inst->userdata_len);
                erase_and_free(inst->userdata);
        }
        inst->userdata = data;
        inst->userdata_len = data ? len : 0;
}

int md_set_userdata_source(struct md_instance *inst, const char *where) {
        return md_set(&inst->userdata_source, where);
}

int md_userdata_unusable(struct md_instance *inst, const char *where, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        free(inst->userdata_error);
        inst->userdata_error = strdupf("user-data: %s", msg);
        if (!inst->userdata_error)
                return -ENOMEM;
        log_debug("%s (%s)", inst->userdata_error, where ?: "?");
        return where ? md_set_userdata_source(inst, where) : 0;
}

int md_userdata_read_failed(struct md_instance *inst, const char *where, int r, size_t cap) {
        if (r == -ENOENT)
                return 0;
        if (r == -ENOMEM)
                return r;
        if (r == -EFBIG && cap >= 1024u * 1024u)
                return md_userdata_unusable(inst, where, "is larger than %zu MiB, the limit",
                                            cap / (1024u * 1024u));
        if (r == -EFBIG)
                return md_userdata_unusable(inst, where, "is larger than %zu KiB, the limit", cap / 1024u);
        return md_userdata_unusable(inst, where, "cannot be read: %s", strerror(-r));
}

char *md_base_url(const struct md_options *o, const char *def) {
        const char *b = !isempty(o->endpoint) ? o->endpoint : def;
        size_t n = strlen(b);
        while (n > 0 && b[n - 1] == '/')
                n--;
        return strndup(b, n);
}

int md_fail(const struct md_options *o, int r, const char *fmt, ...) {
        char msg[MD_ERROR_MAX];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (o && o->error && !o->error[0])
                snprintf(o->error, MD_ERROR_MAX, "%s", msg);
        return log_debug_errno(r, "%s", msg);
}

int md_http(const struct md_options *o, const char *method, const char *url, const char *const *headers,
            unsigned retries, struct http_response **ret) {
        char error[HTTP_ERROR_MAX] = "";
        unsigned t = o->timeout_ms ?: 3000;
        struct http_request req = {
                .method = method,
                .url = url,
                .headers = headers,
                .body = method && streq(method, "PUT") ? "" : NULL,
                .no_proxy = true,
                .timeout_ms = t,
                .connect_timeout_ms = t < 2000 ? t : 2000,
                .max_body = MD_META_MAX,
                .retries = retries,
                .backoff_ms = 100,
                .backoff_max_ms = 1000,
                .error = error,
        };
        int r = http_request(&req, ret);
        if (r == -EFBIG)
                return md_fail(o, r, "%s %s: the answer is larger than %u MiB, the limit", method ?: "GET",
                               url, MD_META_MAX / (1024u * 1024u));
        if (r == -ETIMEDOUT)
                return md_fail(o, r, "%s %s: no answer within %u ms (%u attempts)", method ?: "GET", url, t,
                               retries + 1);
        if (r < 0)
                return md_fail(o, r, "%s %s: %s", method ?: "GET", url, error[0] ? error : strerror(-r));
        log_debug("%s %s: %ld", method ?: "GET", url, (*ret)->status);
        return 0;
}

int md_read(const char *root, const char *path, char **ret, size_t *ret_len) {
        return read_file(root, path, MD_META_MAX, ret, ret_len);
}

const char *md_json_text(const cJSON *root, const char *path) {
        const cJSON *j = json_get(root, path);
        static _Thread_local char num[32];
        if (cJSON_IsString(j))
                return j->valuestring;
        if (cJSON_IsNumber(j)) {
                if (j->valuestring)
                        return j->valuestring;
                snprintf(num, sizeof(num), "%.0f", j->valuedouble);
                return num;
        }
        return NULL;
}

/*
 * Copies the JSON text, turning every integer literal of 16 digits or more into a string, so that cJSON's
 * doubles cannot round it. Strings are skipped with their escapes; the rest is left to cJSON to judge.
 */
int md_json_parse(const char *buf, size_t len, cJSON **ret) {
        _cleanup_free_ char *t = NULL;
        size_t n = 0;

        if (len > MD_META_MAX)
                return -EFBIG;
        t = malloc(len + len / 8 + 16);
        if (!t)
                return -ENOMEM;
        size_t cap = len + len / 8 + 16;
        for (size_t i = 0; i < len;) {
                char c = buf[i];
                if (c == '"') {
                        size_t j = i + 1;
                        while (j < len && buf[j] != '"')
                                j += buf[j] == '\\' ? 2 : 1;
                        j = j < len ? j + 1 : len;
                        memcpy(t + n, buf + i, j - i);
                        n += j - i;
                        i = j;
                        continue;
                }
                if ((c == '-' || (c >= '0' && c <= '9')) && (i == 0 || strchr(" \t\r\n:,[", buf[i - 1]))) {
                        size_t j = i + (c == '-');
                        while (j < len && buf[j] >= '0' && buf[j] <= '9')
                                j++;
                        bool integer = j == len || !strchr(".eE", buf[j]);
                        if (integer && j - i >= 16 && n + (j - i) + 2 < cap) {
                                t[n++] = '"';
                                memcpy(t + n, buf + i, j - i);
                                n += j - i;
                                t[n++] = '"';
                                i = j;
                                continue;
                        }
                        memcpy(t + n, buf + i, j - i);
                        n += j - i;
                        i = j;
                        if (n + 2 >= cap)
                                return -EFBIG;
                        continue;
                }
                t[n++] = c;
                i++;
        }
        return json_parse(t, n, MD_META_MAX, ret, NULL);
}

void md_addresses_from_network_config(struct md_instance *inst, const cJSON *net) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(net, "network") ?: net, *x, *y;

        /* v2: ethernets.<name>.addresses: ["10.0.0.5/24", ...] */
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(n, "ethernets")) {
                cJSON_ArrayForEach(y, cJSON_GetObjectItemCaseSensitive(x, "addresses")) {
                        if (!cJSON_IsString(y))
                                continue;
                        _cleanup_free_ char *a = strndup(y->valuestring, strcspn(y->valuestring, "/"));
                        if (!a)
                                return;
                        char **f = strchr(a, ':') ? &inst->local_ipv6 : &inst->local_ipv4;
                        if (!*f)
                                (void) md_set(f, a);
                }
        }
        /* v1: config: [{type: physical, subnets: [{type: static, address: 10.0.0.5/24}]}] */
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(n, "config")) {
                cJSON_ArrayForEach(y, cJSON_GetObjectItemCaseSensitive(x, "subnets")) {
                        const char *a = json_get_string(y, "address");
                        if (!a)
                                continue;
                        _cleanup_free_ char *s = strndup(a, strcspn(a, "/"));
                        if (!s)
                                return;
                        char **f = strchr(s, ':') ? &inst->local_ipv6 : &inst->local_ipv4;
                        if (!*f)
                                (void) md_set(f, s);
                }
        }
}

int md_region_from_zone(struct md_instance *inst, bool dash_style) {
        size_t n;
        if (inst->region || !inst->zone)
                return 0;
        n = strlen(inst->zone);
        if (dash_style) {
                const char *d = strrchr(inst->zone, '-');
                if (!d)
                        return 0;
                n = (size_t) (d - inst->zone);
        } else if (n > 1 && isalpha((unsigned char) inst->zone[n - 1]))
                n--;
        else
                return 0;
        return md_set_n(&inst->region, inst->zone, n);
}

bool md_tag_looks_secret(const char *name) {
        static const char *const words[] = {"token",      "secret",    "password", "passwd", "key",
                                            "credential", "user-data", "userdata", "private"};
        for (size_t k = 0; k < ELEMENTSOF(words); k++)
                if (strcasestr(name, words[k]))
                        return true;
        return false;
}

cJSON *md_instance_to_json(const struct md_instance *i) {
        struct json_builder b = {};
        cJSON *j = jb_object(&b), *ud, *parts, *tags;
        const cJSON *t;
#define FIELD(name, v)                                                                                      \
        if (v)                                                                                              \
                jb_str(&b, j, name, v);                                                                     \
        else                                                                                                \
                jb_null(&b, j, name);
        FIELD("platform", i->platform);
        FIELD("datasource", i->datasource);
        FIELD("source", i->source);
        FIELD("instanceId", i->instance_id);
        FIELD("hostname", i->hostname);
        FIELD("localIPv4", i->local_ipv4);
        FIELD("localIPv6", i->local_ipv6);
        FIELD("region", i->region);
        FIELD("zone", i->zone);
#undef FIELD
        tags = jb_obj(&b, j, "tags");
        cJSON_ArrayForEach(t, i->tags) {
                /* kube-firstboot-config holds configuration documents, secrets included ('config print'
                 * shows them redacted); any value shaped like a secret is left out whatever its name. */
                bool hide = md_tag_looks_secret(t->string) || streq(t->string, "kube-firstboot-config") ||
                            (t->valuestring && str_looks_secret(t->valuestring));
                const char *v = hide ? "<redacted>" : t->valuestring;
                jb_str(&b, tags, t->string, v ?: "");
        }
        ud = jb_obj(&b, j, "userData");
        jb_num(&b, ud, "bytes", (double) i->userdata_len);
        parts = jb_arr(&b, ud, "parts");
        for (size_t k = 0; parts && i->ud && k < i->ud->n_parts; k++) {
                cJSON *p = jb_obj(&b, parts, NULL);
                jb_str(&b, p, "type", i->ud->parts[k].type);
                jb_num(&b, p, "bytes", (double) i->ud->parts[k].len);
                if (i->ud->parts[k].filename)
                        jb_str(&b, p, "filename", i->ud->parts[k].filename);
        }
        if (i->userdata_source)
                jb_str(&b, ud, "source", i->userdata_source);
        if (i->userdata_error)
                jb_str(&b, ud, "error", i->userdata_error);
        if (i->userdata_exposure && i->userdata_len > 0)
                jb_str(&b, ud, "exposure", i->userdata_exposure);
        return jb_result(&b, j);
}

/* ---- choosing the datasource ---- */

static const struct md_source *const sources[] = {
        &md_source_cloudinit, &md_source_ec2,       &md_source_gce,
        &md_source_azure,     &md_source_openstack, &md_source_configdrive,
        &md_source_nocloud,   &md_source_vmware,    &md_source_files,
};

const char *const *md_datasource_names(void) {
        static const char *const names[] = {"auto",   "cloud-init", "ec2",         "gce",
                                            "azure",  "openstack",  "configdrive", "nocloud",
                                            "vmware", "files",      NULL};
        return names;
}

static const struct md_source *source_by_name(const char *name) {
        /* Names cloud-init's ds= and Ignition's platform ids use, too. */
        static const struct {
                const char *alias, *name;
        } aliases[] = {
                {"aws", "ec2"},
                {"Ec2", "ec2"},
                {"gcp", "gce"},
                {"GCE", "gce"},
                {"Azure", "azure"},
                {"OpenStack", "openstack"},
                {"ConfigDrive", "configdrive"},
                {"config-drive", "configdrive"},
                {"NoCloud", "nocloud"},
                {"nocloud-net", "nocloud"},
                {"NoCloudNet", "nocloud"},
                {"VMware", "vmware"},
                {"none", "files"},
                {"None", "files"},
                {"cloudinit", "cloud-init"},
        };
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (strcasecmp(name, aliases[i].alias) == 0)
                        name = aliases[i].name;
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                if (strcasecmp(name, sources[i]->name) == 0)
                        return sources[i];
        return NULL;
}

static int run_source(const struct md_source *s, const struct md_options *o, const struct md_platform *p,
                      struct md_instance **ret) {
        _cleanup_(md_instance_freep) struct md_instance *inst = md_instance_new();
        int r;

        if (!inst)
                return -ENOMEM;
        if (o->error)
                o->error[0] = 0; /* what an earlier candidate said no longer matters */
        r = s->fetch(o, p, inst);
        if (r == -ENXIO && o->error)
                o->error[0] = 0; /* "not here" is no failure to report */
        if (r < 0)
                return log_debug_errno(r, "Datasource %s: %m", s->name);
        if (!inst->datasource && md_set(&inst->datasource, s->name) < 0)
                return -ENOMEM;
        if (!inst->platform && md_set(&inst->platform, p->id) < 0)
                return -ENOMEM;
        if (inst->userdata && !inst->userdata_error) {
                struct md_userdata_error err;
                r = md_userdata_parse(inst->userdata, inst->userdata_len, &inst->ud, &err);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        inst->userdata_error = md_userdata_error_to_string(&err);
                        if (!inst->userdata_error)
                                return -ENOMEM;
                        log_debug("%s", inst->userdata_error);
                }
        }
        *ret = TAKE_PTR(inst);
        return 0;
}

int md_fetch(const struct md_options *o, struct md_instance **ret) {
        _cleanup_(md_platform_freep) struct md_platform *p = NULL;
        const struct md_source *cand[8];
        size_t n = 0;
        int r;

        r = md_platform_detect(o->root, &p);
        if (r < 0)
                return r;
        log_debug("Platform: %s (%s)", p->id, p->reason);

        if (o->datasource && !streq(o->datasource, "auto")) {
                const struct md_source *s = source_by_name(o->datasource);
                if (!s)
                        return log_debug_errno(EINVAL, "Unknown datasource '%s'", o->datasource);
                return run_source(s, o, p, ret);
        }

        /* cloud-init already did the work when its outputs are there. */
        if (p->cloud_init)
                cand[n++] = &md_source_cloudinit;
        if (p->forced) {
                const struct md_source *s = source_by_name(p->forced);
                if (s)
                        cand[n++] = s;
        }
        if (p->nocloud)
                cand[n++] = &md_source_nocloud;
        if (streq(p->id, "ec2"))
                cand[n++] = &md_source_ec2;
        else if (streq(p->id, "gce"))
                cand[n++] = &md_source_gce;
        else if (streq(p->id, "azure"))
                cand[n++] = &md_source_azure;
        else if (streq(p->id, "openstack")) {
                cand[n++] = &md_source_configdrive;
                cand[n++] = &md_source_openstack;
        } else if (streq(p->id, "vmware"))
                cand[n++] = &md_source_vmware;
        /* Local media need no network and answer at once when absent. */
        if (!streq(p->id, "openstack"))
                cand[n++] = &md_source_configdrive;
        if (!p->nocloud)
                cand[n++] = &md_source_nocloud;

        for (size_t i = 0; i < n; i++) {
                bool seen = false;
                for (size_t k = 0; k < i; k++)
                        seen = seen || cand[k] == cand[i];
                if (seen)
                        continue;
                r = run_source(cand[i], o, p, ret);
                if (r != -ENXIO)
                        return r;
        }
        return run_source(&md_source_files, o, p, ret);
}
