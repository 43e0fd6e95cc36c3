/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema of every document kind we read, and the strict validation against it: unknown fields, wrong
 * types and bad values are problems naming the field's path. Fields that exist in only one kubeadm API
 * version are marked so, and using one in the other version is a problem too.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "firstboot/config/config-internal.h"
#include "firstboot/config/config.h"
#include "manifests/versions.h"

enum ftype {
        T_STR,
        T_INT,
        T_BOOL,
        T_DUR,
        T_OBJ,
        T_LIST_STR,
        T_LIST_OBJ,
        T_MAP_STR,       /* map of string to string */
        T_MAP_ANY,       /* map of anything (featureGates) */
        T_ARGS,          /* extraArgs: v1beta3 map, v1beta4 list of {name, value} */
        T_ANY,           /* kept as it is */
        T_CIDRS,         /* comma-separated CIDRs, at most one per family */
        T_SERVICE_CIDRS, /* the same, each at most 2^20 addresses (kubeadm: /12 for IPv4, /108 for IPv6) */
        T_IP,
        T_PORT,
        T_ENUM,
        T_ENDPOINT, /* host or IP with an optional port */
        T_TOKEN,    /* bootstrap token [a-z0-9]{6}.[a-z0-9]{16} */
        T_CERTKEY,  /* 64 hex digits */
        T_HASHES,   /* list of sha256:<64 hex> */
        T_LIST_IP,
        T_PATH,        /* absolute path */
        T_SECRET,      /* {value: ...} or {file: /path}; sub[0].type says the value's shape */
        T_NODE_NAME,   /* a DNS-1123 subdomain, as kubeadm wants nodeRegistration.name */
        T_DNS_DOMAIN,  /* a DNS-1123 subdomain */
        T_DEVICE,      /* a /dev path or LABEL=, UUID=, PARTLABEL=, PARTUUID= */
        T_K8S_VERSION, /* a supported Kubernetes version or one of kubeadm's labels */
};

enum {
        V3 = 1 << 0,
        V4 = 1 << 1,
        VB = V3 | V4,
};

struct field {
        const char *name;
        enum ftype type;
        const struct field *sub;   /* for T_OBJ / T_LIST_OBJ */
        unsigned versions;         /* 0 = every version */
        const char *const *values; /* for T_ENUM */
};

#define END                                                                                                 \
        { NULL, 0, NULL, 0, NULL }

static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};
static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
static const char *const algorithms[] = {"RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", NULL};
static const char *const roles[] = {"auto", "init", "control-plane", "worker", NULL};
static const char *const seed_rules[] = {"instanceId", "hostname", "address", "lowestAddress", NULL};
static const char *const path_types[] = {
        "",           "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
        "CharDevice", "BlockDevice",       NULL};

static const struct field taint[] = {
        {"key", T_STR}, {"value", T_STR}, {"effect", T_ENUM, NULL, 0, effects}, {"timeAdded", T_STR}, END,
};
static const struct field node_registration[] = {
        {"name", T_NODE_NAME},
        {"criSocket", T_STR},
        {"taints", T_LIST_OBJ, taint},
        {"kubeletExtraArgs", T_ARGS},
        {"ignorePreflightErrors", T_LIST_STR},
        {"imagePullPolicy", T_ENUM, NULL, 0, pull_policies},
        {"imagePullSerial", T_BOOL, NULL, V4},
        END,
};
static const struct field api_endpoint[] = {{"advertiseAddress", T_IP}, {"bindPort", T_PORT}, END};
static const struct field patches[] = {{"directory", T_PATH}, END};
static const struct field timeouts[] = {
        {"controlPlaneComponentHealthCheck", T_DUR},
        {"kubeletHealthCheck", T_DUR},
        {"kubernetesAPICall", T_DUR},
        {"etcdAPICall", T_DUR},
        {"tlsBootstrap", T_DUR},
        {"discovery", T_DUR},
        {"upgradeManifests", T_DUR},
        END,
};
static const struct field bootstrap_token[] = {
        {"token", T_TOKEN},
        {"description", T_STR},
        {"ttl", T_DUR},
        {"expires", T_STR},
        {"usages", T_LIST_STR},
        {"groups", T_LIST_STR},
        END,
};
static const struct field env_var[] = {{"name", T_STR}, {"value", T_STR}, {"valueFrom", T_ANY}, END};
static const struct field host_path_mount[] = {
        {"name", T_STR},
        {"hostPath", T_STR},
        {"mountPath", T_STR},
        {"readOnly", T_BOOL},
        {"pathType", T_ENUM, NULL, 0, path_types},
        END,
};
static const struct field etcd_local[] = {
        {"imageRepository", T_STR},
        {"imageTag", T_STR},
        {"dataDir", T_PATH},
        {"extraArgs", T_ARGS},
        {"extraEnvs", T_LIST_OBJ, env_var, V4},
        {"serverCertSANs", T_LIST_STR},
        {"peerCertSANs", T_LIST_STR},
        END,
};
static const struct field etcd_external[] = {
        {"endpoints", T_LIST_STR}, {"caFile", T_PATH}, {"certFile", T_PATH}, {"keyFile", T_PATH}, END,
};
static const struct field etcd[] = {{"local", T_OBJ, etcd_local}, {"external", T_OBJ, etcd_external}, END};
static const struct field networking[] = {
        {"serviceSubnet", T_SERVICE_CIDRS},
        {"podSubnet", T_CIDRS},
        {"dnsDomain", T_DNS_DOMAIN},
        END,
};
static const struct field api_server[] = {
        {"extraArgs", T_ARGS},
        {"extraVolumes", T_LIST_OBJ, host_path_mount},
        {"extraEnvs", T_LIST_OBJ, env_var, V4},
        {"certSANs", T_LIST_STR},
        {"timeoutForControlPlane", T_DUR, NULL, V3},
        END,
};
static const struct field control_plane_component[] = {
        {"extraArgs", T_ARGS},
        {"extraVolumes", T_LIST_OBJ, host_path_mount},
        {"extraEnvs", T_LIST_OBJ, env_var, V4},
        END,
};
static const struct field dns[] = {
        {"imageRepository", T_STR},
        {"imageTag", T_STR},
        {"disabled", T_BOOL, NULL, V4},
        END,
};
static const struct field proxy[] = {{"disabled", T_BOOL}, END};

static const struct field cluster_configuration[] = {
        {"apiVersion", T_STR},
        {"kind", T_STR},
        {"etcd", T_OBJ, etcd},
        {"networking", T_OBJ, networking},
        {"kubernetesVersion", T_K8S_VERSION},
        {"controlPlaneEndpoint", T_ENDPOINT},
        {"apiServer", T_OBJ, api_server},
        {"controllerManager", T_OBJ, control_plane_component},
        {"scheduler", T_OBJ, control_plane_component},
        {"dns", T_OBJ, dns},
        {"proxy", T_OBJ, proxy, V4},
        {"certificatesDir", T_PATH},
        {"imageRepository", T_STR},
        {"featureGates", T_MAP_ANY},
        {"clusterName", T_STR},
        {"encryptionAlgorithm", T_ENUM, NULL, V4, algorithms},
        {"certificateValidityPeriod", T_DUR, NULL, V4},
        {"caCertificateValidityPeriod", T_DUR, NULL, V4},
        END,
};
static const struct field init_configuration[] = {
        {"apiVersion", T_STR},
        {"kind", T_STR},
        {"bootstrapTokens", T_LIST_OBJ, bootstrap_token},
        {"nodeRegistration", T_OBJ, node_registration},
        {"localAPIEndpoint", T_OBJ, api_endpoint},
        {"certificateKey", T_CERTKEY},
        {"skipPhases", T_LIST_STR},
        {"patches", T_OBJ, patches},
        {"dryRun", T_BOOL, NULL, V4},
        {"timeouts", T_OBJ, timeouts, V4},
        END,
};
static const struct field discovery_token[] = {
        {"token", T_TOKEN},
        {"apiServerEndpoint", T_ENDPOINT},
        {"caCertHashes", T_HASHES},
        {"unsafeSkipCAVerification", T_BOOL},
        END,
};
static const struct field discovery_file[] = {{"kubeConfigPath", T_STR}, END};
static const struct field discovery[] = {
        {"bootstrapToken", T_OBJ, discovery_token},
        {"file", T_OBJ, discovery_file},
        {"tlsBootstrapToken", T_TOKEN},
        {"timeout", T_DUR, NULL, V3},
        END,
};
static const struct field join_control_plane[] = {
        {"localAPIEndpoint", T_OBJ, api_endpoint},
        {"certificateKey", T_CERTKEY},
        END,
};
static const struct field join_configuration[] = {
        {"apiVersion", T_STR},
        {"kind", T_STR},
        {"dryRun", T_BOOL, NULL, V4},
        {"nodeRegistration", T_OBJ, node_registration},
        {"caCertPath", T_PATH},
        {"discovery", T_OBJ, discovery},
        {"controlPlane", T_OBJ, join_control_plane},
        {"skipPhases", T_LIST_STR},
        {"patches", T_OBJ, patches},
        {"timeouts", T_OBJ, timeouts, V4},
        END,
};

static const struct field seed[] = {
        {"rule", T_ENUM, NULL, 0, seed_rules},
        {"instanceId", T_STR},
        {"hostname", T_STR},
        {"address", T_IP},
        {"peers", T_LIST_IP},
        END,
};
static const struct field secret_token[] = {{"value", T_TOKEN}, END};
static const struct field secret_certkey[] = {{"value", T_CERTKEY}, END};
static const struct field secrets[] = {
        {"bootstrapToken", T_SECRET, secret_token}, {"certificateKey", T_SECRET, secret_certkey}, END};
static const struct field ca[] = {
        {"cert", T_STR}, {"certFile", T_PATH}, {"key", T_STR}, {"keyFile", T_PATH}, END};
static const char *const filesystems[] = {"ext4", "xfs", NULL};
static const struct field fb_etcd[] = {
        {"dataDevice", T_DEVICE}, {"filesystem", T_ENUM, NULL, 0, filesystems}, {"label", T_STR}, END};
static const struct field fb_timeouts[] = {
        {"metadata", T_DUR},
        {"discovery", T_DUR},
        {"controlPlane", T_DUR},
        {"etcdJoin", T_DUR},
        {"total", T_DUR},
        {"seedGrace", T_DUR},
        END,
};
static const struct field reporting[] = {
        {"statusFile", T_PATH}, {"kmsg", T_BOOL}, {"url", T_STR}, {"joinFile", T_PATH}, END};
static const struct field fb_kubelet[] = {{"startCommand", T_LIST_STR}, END};
static const struct field firstboot_configuration[] = {
        {"apiVersion", T_STR},
        {"kind", T_STR},
        {"role", T_ENUM, NULL, 0, roles},
        {"seed", T_OBJ, seed},
        {"secrets", T_OBJ, secrets},
        {"ca", T_OBJ, ca},
        {"etcd", T_OBJ, fb_etcd},
        {"timeouts", T_OBJ, fb_timeouts},
        {"reporting", T_OBJ, reporting},
        {"kubelet", T_OBJ, fb_kubelet},
        END,
};

struct kind {
        const char *kind;
        const char *const *api_versions;
        const struct field *fields; /* NULL: kept as a document, only apiVersion/kind checked */
};

static const char *const kubeadm_versions[] = {FB_KUBEADM_V1BETA4, FB_KUBEADM_V1BETA3, NULL};
static const struct kind kinds[] = {
        {"FirstbootConfiguration", (const char *const[]){FB_API_VERSION, NULL}, firstboot_configuration},
        {"InitConfiguration", kubeadm_versions, init_configuration},
        {"ClusterConfiguration", kubeadm_versions, cluster_configuration},
        {"JoinConfiguration", kubeadm_versions, join_configuration},
        {"KubeletConfiguration", (const char *const[]){"kubelet.config.k8s.io/v1beta1", NULL}, NULL},
        {"KubeProxyConfiguration", (const char *const[]){"kubeproxy.config.k8s.io/v1alpha1", NULL}, NULL},
};

int fb_problem(char ***problems, const char *source, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        char *s = source ? strdupf("%s (from %s)", msg, source) : strdup(msg);
        if (!s)
                return -ENOMEM;
        return strv_consume(problems, s);
}

int fb_parse_duration_ms(const char *s, unsigned long long *ret) {
        static const struct {
                const char *unit;
                double ms;
        } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3},  {"ms", 1},
                     {"s", 1000},  {"m", 60000}, {"h", 3600000}};
        double total = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        if (streq(s, "0")) {
                *ret = 0;
                return 0;
        }
        if (*p == '+')
                p++;
        while (*p) {
                char *end;
                double v;
                size_t best = 0;
                double mul = 0;
                if (!isdigit((unsigned char) *p) && *p != '.')
                        return -EINVAL;
                v = strtod(p, &end);
                if (end == p)
                        return -EINVAL;
                p = end;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].unit);
                        /* "ms" before "m": take the longest unit that matches. */
                        if (strncmp(p, units[i].unit, l) == 0 && l > best) {
                                best = l;
                                mul = units[i].ms;
                        }
                }
                if (best == 0)
                        return -EINVAL;
                p += best;
                total += v * mul;
        }
        if (total > 1e15)
                return -ERANGE;
        *ret = (unsigned long long) total;
        return 0;
}

static bool valid_ip(const char *s) {
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* 4 or 6 for a valid CIDR, 0 otherwise. */
static int cidr_family(const char *s) {
        const char *slash = strchr(s, '/');
        char addr[64];
        unsigned char buf[16];
        unsigned prefix;
        int fam;

        if (!slash || (size_t) (slash - s) >= sizeof(addr))
                return 0;
        memcpy(addr, s, (size_t) (slash - s));
        addr[slash - s] = 0;
        if (inet_pton(AF_INET, addr, buf) == 1)
                fam = 4;
        else if (inet_pton(AF_INET6, addr, buf) == 1)
                fam = 6;
        else
                return 0;
        if (safe_atou(slash + 1, &prefix) < 0 || prefix > (fam == 4 ? 32u : 128u))
                return 0;
        return fam;
}

/* A DNS-1123 subdomain, as Kubernetes wants object and node names: lower-case labels of letters, digits
 * and '-', each starting and ending with a letter or digit, at most 63 characters each, 253 in all. */
static bool valid_dns1123_subdomain(const char *s) {
        size_t n = strlen(s), label = 0;
        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!(islower((unsigned char) c) || isdigit((unsigned char) c) || c == '-'))
                        return false;
                if (label == 0 && c == '-')
                        return false;
                if (++label > 63)
                        return false;
        }
        return s[n - 1] != '-' && s[n - 1] != '.';
}

static bool valid_dns_name(const char *s, size_t n) {
        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '-' && s[i] != '.')
                        return false;
        return s[0] != '-' && s[0] != '.' && s[n - 1] != '-';
}

static bool valid_endpoint(const char *s) {
        unsigned port;
        if (s[0] == '[') { /* [v6]:port */
                const char *close = strchr(s, ']');
                char a[64];
                unsigned char buf[16];
                if (!close || (size_t) (close - s - 1) >= sizeof(a))
                        return false;
                memcpy(a, s + 1, (size_t) (close - s - 1));
                a[close - s - 1] = 0;
                if (inet_pton(AF_INET6, a, buf) != 1)
                        return false;
                if (!close[1])
                        return true;
                return close[1] == ':' && safe_atou(close + 2, &port) >= 0 && port > 0 && port < 65536;
        }
        if (valid_ip(s))
                return true; /* a bare IPv4 or IPv6 address */
        const char *colon = strrchr(s, ':');
        if (colon && (safe_atou(colon + 1, &port) < 0 || port == 0 || port > 65535))
                return false;
        size_t n = colon ? (size_t) (colon - s) : strlen(s);
        char host[256];
        unsigned char buf[4];
        if (n >= sizeof(host))
                return false;
        memcpy(host, s, n);
        host[n] = 0;
        return inet_pton(AF_INET, host, buf) == 1 || valid_dns_name(host, n);
}

bool fb_valid_token(const char *s) {
        if (strlen(s) != 23 || s[6] != '.')
                return false;
        for (int i = 0; i < 23; i++)
                if (i != 6 && !(islower((unsigned char) s[i]) || isdigit((unsigned char) s[i])))
                        return false;
        return true;
}

static bool all_hex(const char *s, size_t n) {
        if (strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

bool fb_valid_certificate_key(const char *s) {
        return all_hex(s, 64);
}

/* A value as a message may show it: quoted, or described when it looks like a secret (a bootstrap token, a
 * certificate key, a PEM private key) wherever it was pasted, so that a secret in the wrong field is never
 * echoed. The buffer is the caller's. */
#define SHOWN_MAX 300
static const char *shown(const char *s, char buf[SHOWN_MAX]) {
        if (str_looks_secret(s))
                return "the value (not shown: it looks like a secret)";
        snprintf(buf, SHOWN_MAX, "'%.*s%s'", 200, s, strlen(s) > 200 ? "..." : "");
        return buf;
}

struct vctx {
        char ***problems;
        const char *source;
        unsigned version;
        int r; /* -ENOMEM sticks */
};

_printf_(3, 4) static void bad(struct vctx *v, const char *path, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg || fb_problem(v->problems, v->source, "%s: %s", path, msg) < 0)
                v->r = -ENOMEM;
}

static const char *type_name(const cJSON *j) {
        if (cJSON_IsObject(j))
                return "a mapping";
        if (cJSON_IsArray(j))
                return "a list";
        if (cJSON_IsBool(j))
                return "a boolean";
        if (cJSON_IsNumber(j) || cJSON_IsRaw(j))
                return "a number";
        if (cJSON_IsNull(j))
                return "null";
        return "a string";
}

static void validate_fields(struct vctx *v, const cJSON *obj, const struct field *fields, const char *path);

/* Secret values never appear in messages: only their shape is described. */
static bool secret_type(enum ftype t) {
        return t == T_TOKEN || t == T_CERTKEY;
}

static void validate_value(struct vctx *v, const cJSON *j, const struct field *f, const char *path) {
        const char *s = cJSON_IsString(j) ? j->valuestring : NULL;
        char sb[SHOWN_MAX];
        const cJSON *e;
        unsigned port;
        unsigned long long ms;

        if (cJSON_IsNull(j))
                return; /* an explicit null leaves the default, as in kubeadm */
        switch (f->type) {
        case T_ANY:
                return;
        case T_OBJ:
                if (!cJSON_IsObject(j))
                        return bad(v, path, "must be a mapping, not %s", type_name(j));
                return validate_fields(v, j, f->sub, path);
        case T_LIST_OBJ:
        case T_LIST_STR:
        case T_LIST_IP:
        case T_HASHES: {
                int i = 0;
                if (!cJSON_IsArray(j))
                        return bad(v, path, "must be a list, not %s", type_name(j));
                cJSON_ArrayForEach(e, j) {
                        _cleanup_free_ char *p = strdupf("%s[%d]", path, i++);
                        if (!p) {
                                v->r = -ENOMEM;
                                return;
                        }
                        const char *es = cJSON_IsString(e) ? e->valuestring : NULL;
                        if (f->type == T_LIST_OBJ) {
                                if (!cJSON_IsObject(e))
                                        bad(v, p, "must be a mapping, not %s", type_name(e));
                                else
                                        validate_fields(v, e, f->sub, p);
                        } else if (!es)
                                bad(v, p, "must be a string, not %s", type_name(e));
                        else if (f->type == T_LIST_IP && !valid_ip(es))
                                bad(v, p, "%s is not an IP address", shown(es, sb));
                        else if (f->type == T_HASHES &&
                                 !(strncasecmp(es, "sha256:", 7) == 0 && all_hex(es + 7, 64)))
                                bad(v, p,
                                    "%s is not 'sha256:' followed by 64 hex digits (the CA pin: 'kube-firstboot pki ca-hash')",
                                    shown(es, sb));
                }
                return;
        }
        case T_MAP_STR:
        case T_MAP_ANY:
                if (!cJSON_IsObject(j))
                        return bad(v, path, "must be a mapping, not %s", type_name(j));
                if (f->type == T_MAP_STR)
                        cJSON_ArrayForEach(e, j)
                                if (!json_scalar_text(e)) {
                                        _cleanup_free_ char *p = strdupf("%s.%s", path, e->string);
                                        bad(v, p ?: path, "must be a string, not %s", type_name(e));
                                }
                return;
        case T_ARGS:
                /* v1beta3: a map of strings; v1beta4: a list of {name, value}, duplicates allowed. */
                if (v->version == V3) {
                        if (!cJSON_IsObject(j))
                                return bad(v, path, "must be a mapping of flag names to values in v1beta3");
                        cJSON_ArrayForEach(e, j)
                                if (!json_scalar_text(e)) {
                                        _cleanup_free_ char *p = strdupf("%s.%s", path, e->string);
                                        bad(v, p ?: path, "must be a string, not %s", type_name(e));
                                }
                        return;
                }
                if (!cJSON_IsArray(j))
                        return bad(v, path,
                                   "must be a list of {name, value} in v1beta4 (a mapping is v1beta3)");
                {
                        static const struct field arg[] = {{"name", T_STR}, {"value", T_STR}, END};
                        int i = 0;
                        cJSON_ArrayForEach(e, j) {
                                _cleanup_free_ char *p = strdupf("%s[%d]", path, i++);
                                if (!cJSON_IsObject(e))
                                        bad(v, p ?: path, "must be a mapping with name and value");
                                else {
                                        validate_fields(v, e, arg, p ?: path);
                                        if (!json_get_string(e, "name"))
                                                bad(v, p ?: path, "needs a name");
                                }
                        }
                }
                return;
        case T_SECRET: {
                /* The value has the secret's shape (a token, a certificate key); a file is read later. */
                const struct field src[] = {
                        {"value", f->sub ? f->sub[0].type : T_STR}, {"file", T_PATH}, END};
                if (!cJSON_IsObject(j))
                        return bad(v, path, "must be a mapping with 'value' or 'file'");
                validate_fields(v, j, src, path);
                if (!!cJSON_GetObjectItemCaseSensitive(j, "value") ==
                    !!cJSON_GetObjectItemCaseSensitive(j, "file"))
                        bad(v, path, "needs exactly one of 'value' and 'file'");
                return;
        }
        case T_BOOL:
                if (!cJSON_IsBool(j))
                        bad(v, path, "must be true or false, not %s", type_name(j));
                return;
        case T_INT:
        case T_PORT:
                if (!cJSON_IsNumber(j) || j->valuedouble != (double) (long long) j->valuedouble)
                        return bad(v, path, "must be a whole number, not %s", type_name(j));
                if (f->type == T_PORT && (j->valuedouble < 1 || j->valuedouble > 65535))
                        bad(v, path, "%.0f is not a port (1-65535)", j->valuedouble);
                return;
        default:
                break;
        }

        /* Scalars that must be strings. kubernetesVersion: 1.30 reads as a number: take its text. */
        if (!s && (f->type == T_STR || f->type == T_K8S_VERSION) && json_scalar_text(j) && !cJSON_IsBool(j))
                s = json_scalar_text(j);
        if (!s)
                return bad(v, path, "must be a string, not %s", type_name(j));
        switch (f->type) {
        case T_DUR:
                if (fb_parse_duration_ms(s, &ms) < 0)
                        bad(v, path, "%s is not a duration such as '30s', '5m' or '1h30m'", shown(s, sb));
                break;
        case T_CIDRS:
        case T_SERVICE_CIDRS: {
                _cleanup_free_ char *copy = strdup(s);
                int fams = 0, n = 0;
                if (!copy) {
                        v->r = -ENOMEM;
                        return;
                }
                for (char *c = strtok(copy, ","); c; c = strtok(NULL, ",")) {
                        int fam = cidr_family(c);
                        n++;
                        if (!fam)
                                return bad(v, path, "%s is not a CIDR such as 10.244.0.0/16", shown(c, sb));
                        int bit = fam == 4 ? 1 : 2;
                        if (fams & bit)
                                return bad(v, path, "%s has two CIDRs of the same family", shown(s, sb));
                        fams |= bit;
                        /* kubeadm (and the apiserver) allow at most 2^20 service addresses. */
                        unsigned prefix = 0, bits = fam == 4 ? 32 : 128;
                        if (f->type == T_SERVICE_CIDRS && safe_atou(strchr(c, '/') + 1, &prefix) >= 0 &&
                            bits - prefix > 20)
                                return bad(
                                        v, path,
                                        "%s is too large: kubeadm allows at most 2^20 service addresses, a /%u or smaller for IPv%d",
                                        shown(c, sb), bits - 20, fam);
                }
                if (n == 0)
                        bad(v, path, "is empty");
                break;
        }
        case T_NODE_NAME:
        case T_DNS_DOMAIN:
                if (!valid_dns1123_subdomain(s))
                        bad(v, path,
                            "%s is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', as Kubernetes names must be)",
                            shown(s, sb));
                break;
        case T_IP:
                if (!valid_ip(s))
                        bad(v, path, "%s is not an IP address", shown(s, sb));
                break;
        case T_ENDPOINT:
                if (!valid_endpoint(s))
                        bad(v, path, "%s is not a host or IP address with an optional port", shown(s, sb));
                break;
        case T_ENUM: {
                bool ok = false;
                for (const char *const *e2 = f->values; *e2; e2++)
                        ok = ok || streq(*e2, s);
                if (!ok) {
                        _cleanup_free_ char *list =
                                strjoin_sep((const char *const *) f->values,
                                            strv_length((char *const *) f->values), ", ");
                        bad(v, path, "%s is not one of: %s", shown(s, sb), strempty(list));
                }
                break;
        }
        case T_TOKEN:
                if (!fb_valid_token(s))
                        bad(v, path, "is not a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}");
                break;
        case T_CERTKEY:
                if (!all_hex(s, 64))
                        bad(v, path, "is not a certificate key of 64 hex digits (32 bytes)");
                break;
        case T_PATH:
                if (s[0] != '/')
                        bad(v, path, "%s is not an absolute path", shown(s, sb));
                break;
        case T_K8S_VERSION: {
                _cleanup_free_ char *why = NULL;
                int r = fb_kubernetes_version_check(s, &why);
                if (r == -ENOMEM)
                        v->r = r;
                else if (r < 0)
                        bad(v, path, "%s", why);
                break;
        }
        case T_DEVICE: {
                const char *tag;
                _cleanup_free_ char *value = NULL;
                int r = parse_device_spec(s, &tag, &value);
                if (r == -ENOMEM)
                        v->r = r;
                else if (r < 0)
                        bad(v, path,
                            "%s is not a /dev path or LABEL=, UUID=, PARTLABEL= or PARTUUID= with a value",
                            shown(s, sb));
                break;
        }
        default:
                break;
        }
        (void) secret_type;
        (void) port;
}

static void validate_fields(struct vctx *v, const cJSON *obj, const struct field *fields, const char *path) {
        const cJSON *j;
        cJSON_ArrayForEach(j, obj) {
                const struct field *f = NULL;
                _cleanup_free_ char *p = strdupf("%s.%s", path, j->string);
                if (!p) {
                        v->r = -ENOMEM;
                        return;
                }
                for (const struct field *i = fields; i->name; i++)
                        if (streq(i->name, j->string)) {
                                f = i;
                                break;
                        }
                if (!f) {
                        /* A near miss in case is the commonest typo: say so. */
                        for (const struct field *i = fields; i->name; i++)
                                if (strcasecmp(i->name, j->string) == 0) {
                                        bad(v, p, "unknown field (did you mean '%s'?)", i->name);
                                        goto next;
                                }
                        bad(v, p, "unknown field");
                        continue;
                }
                if (f->versions && !(f->versions & v->version)) {
                        bad(v, p, "exists only in %s",
                            f->versions == V3 ? FB_KUBEADM_V1BETA3 : FB_KUBEADM_V1BETA4);
                        continue;
                }
                validate_value(v, j, f, p);
        next:;
        }
}

int fb_kubernetes_version_check(const char *version, char **ret_why) {
        _cleanup_free_ char *resolved = NULL;
        char *why;
        int r = mf_versions_resolve(version, &resolved);
        if (r >= 0 || r == -ENOMEM)
                return r < 0 ? r : 0;
        char sb[SHOWN_MAX];
        if (r == -EOPNOTSUPP)
                why = strdupf("%s is not supported: kube-firstboot sets up Kubernetes 1.%d to 1.%d",
                              shown(version, sb), MF_MINOR_FIRST, MF_MINOR_LAST);
        else
                why = strdupf(
                        "%s is not a version such as v1.%d.0 or a label (stable, stable-1, stable-1.%d)",
                        shown(version, sb), MF_MINOR_LAST, MF_MINOR_LAST);
        if (!why)
                return -ENOMEM;
        *ret_why = why;
        return r;
}

bool fb_known_kind(const char *kind) {
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (streq(kinds[i].kind, kind))
                        return true;
        return false;
}

int fb_config_validate_document(const cJSON *doc, const char *source, char ***problems) {
        struct vctx v = {.problems = problems, .source = source};
        const char *kind = json_get_string(doc, "kind"), *api = json_get_string(doc, "apiVersion");
        const struct kind *k = NULL;

        if (!cJSON_IsObject(doc))
                return fb_problem(problems, source, "a configuration document must be a mapping");
        if (!kind)
                return fb_problem(
                        problems, source,
                        "kind: missing (one of FirstbootConfiguration, InitConfiguration, ClusterConfiguration, JoinConfiguration, KubeletConfiguration, KubeProxyConfiguration)");
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (streq(kinds[i].kind, kind))
                        k = &kinds[i];
        if (!k)
                return fb_problem(problems, source, "kind: '%s' is not a kind kube-firstboot reads", kind);
        if (!api)
                return fb_problem(problems, source, "%s.apiVersion: missing (%s)", kind, k->api_versions[0]);
        bool ok = false;
        for (const char *const *a = k->api_versions; *a; a++)
                ok = ok || streq(*a, api);
        if (!ok)
                return fb_problem(problems, source, "%s.apiVersion: '%s' is not %s%s%s", kind, api,
                                  k->api_versions[0], k->api_versions[1] ? " or " : "",
                                  strempty(k->api_versions[1]));
        if (!k->fields)
                return 0;
        v.version = streq(api, FB_KUBEADM_V1BETA3) ? V3 : V4;
        validate_fields(&v, doc, k->fields, kind);
        return v.r;
}
