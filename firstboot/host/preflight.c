/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Preflight checks with kubeadm's names and semantics (cmd/kubeadm/app/preflight, 1.33-1.35), plus a clock
 * check of our own. Each check adds findings; the runner turns ignored errors into warnings.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/host/netif.h"
#include "firstboot/host/preflight.h"
#include "firstboot/host/spawn.h"

#define DEFAULT_CRI_SOCKET    "unix:///var/run/containerd/containerd.sock"
#define DEFAULT_ETCD_DATA_DIR "/var/lib/etcd"
#define DEFAULT_CA_CERT_PATH  "/etc/kubernetes/pki/ca.crt"
#define CONTROL_PLANE_NUM_CPU 2
#define CONTROL_PLANE_MEM_MIB 1700ULL
/* A clock this far past the build is as wrong as one before it: certificates made now would be
 * rejected as not yet valid once the time is fixed. */
#define CLOCK_MAX_AHEAD_DAYS       (10 * 366)
#define KUBELET_VERSION_TIMEOUT_MS 10000
#define KUBELET_VERSION_MAX        4096

static bool valid_role(enum fb_preflight_role r) {
        return r == FB_PREFLIGHT_INIT || r == FB_PREFLIGHT_CONTROL_PLANE || r == FB_PREFLIGHT_WORKER;
}

struct ctx {
        const struct fb_preflight_spec *s;
        struct fb_preflight_finding *f;
        size_t n, alloc, errors, ran;
        unsigned host_skipped; /* checks of this machine left out (files_only) */
        int r;                 /* -ENOMEM once an allocation failed */
};

/* ---- ignore lists ---- */

bool fb_preflight_ignored(char *const *ignore, const char *check) {
        for (char *const *i = ignore; i && *i; i++)
                if (strcasecmp(*i, "all") == 0 || strcasecmp(*i, check) == 0)
                        return true;
        return false;
}

const char *fb_preflight_ignore_problem(char *const *ignore) {
        bool all = false;
        size_t others = 0;
        for (char *const *i = ignore; i && *i; i++) {
                if (strcasecmp(*i, "all") == 0)
                        all = true;
                else
                        others++;
        }
        return all && others > 0 ? "ignorePreflightErrors: don't name individual checks when 'all' is used"
                                 : NULL;
}

char *fb_preflight_path_check_name(const char *kind, const char *path) {
        char *s = strdupf("%s-%s", kind, path);
        if (!s)
                return NULL;
        for (char *p = s + strlen(kind) + 1; *p; p++)
                if (*p == '/')
                        *p = '-';
        return s;
}

/* ---- findings ---- */

static void add(struct ctx *c, const char *check, bool error, const char *fmt, ...) _printf_(4, 5);
static void add(struct ctx *c, const char *check, bool error, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *full = NULL, *name = NULL;
        bool ignored = error && fb_preflight_ignored(c->s->ignore, check);
        va_list ap;

        if (c->r < 0)
                return;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                goto oom;
        if (ignored)
                full = strdupf("%s (an error, ignored: %s is in ignorePreflightErrors)", msg, check);
        else if (error)
                full = strdupf("%s (or add %s to nodeRegistration.ignorePreflightErrors)", msg, check);
        else
                full = TAKE_PTR(msg);
        name = strdup(check);
        if (!full || !name)
                goto oom;
        if (c->n == c->alloc) {
                size_t na = c->alloc ? c->alloc * 2 : 8;
                struct fb_preflight_finding *t = reallocarray(c->f, na, sizeof(*t));
                if (!t)
                        goto oom;
                c->f = t;
                c->alloc = na;
        }
        c->f[c->n++] = (struct fb_preflight_finding){
                .check = TAKE_PTR(name),
                .message = TAKE_PTR(full),
                .error = error && !ignored,
                .ignored = ignored,
        };
        if (error && !ignored)
                c->errors++;
        return;
oom:
        c->r = -ENOMEM;
}

/* ---- parsers ---- */

size_t fb_preflight_parse_swaps(const char *text) {
        size_t n = 0;
        bool header = true;
        for (const char *p = text; p && *p;) {
                size_t l = strcspn(p, "\n");
                if (!header && strspn(p, " \t") < l)
                        n++;
                header = false;
                p += l + (p[l] == '\n');
        }
        return n;
}

int fb_preflight_parse_meminfo(const char *text, unsigned long long *ret_mib) {
        for (const char *p = text; p && *p;) {
                if (startswith(p, "MemTotal:")) {
                        char *end = NULL;
                        errno = 0;
                        unsigned long long kib = strtoull(p + 9, &end, 10);
                        if (errno || end == p + 9)
                                return -EBADMSG;
                        *ret_mib = kib / 1024;
                        return 0;
                }
                p = strchr(p, '\n');
                if (!p)
                        break;
                p++;
        }
        return -EBADMSG;
}

int fb_preflight_parse_minor(const char *s, unsigned *ret_minor) {
        const char *v;
        unsigned long minor;
        char *end = NULL;

        if (!s)
                return -EINVAL;
        v = strstr(s, "v1.");
        if (v)
                v += 3;
        else if (startswith(s, "1."))
                v = s + 2;
        else
                return -EINVAL;
        if (*v < '0' || *v > '9')
                return -EINVAL;
        errno = 0;
        minor = strtoul(v, &end, 10);
        if (errno || minor > 1000 ||
            (*end != '.' && *end != 0 && *end != '\n' && *end != '-' && *end != '+'))
                return -EINVAL;
        *ret_minor = (unsigned) minor;
        return 0;
}

int fb_preflight_cri_path(const char *endpoint, const char **ret_path) {
        const char *p;
        if (isempty(endpoint))
                return -EINVAL;
        p = startswith(endpoint, "unix://");
        if (!p && endpoint[0] == '/')
                p = endpoint; /* kubeadm accepts a bare path, with a deprecation warning */
        if (!p || p[0] != '/')
                return -EINVAL;
        *ret_path = p;
        return 0;
}

/* ---- helpers ---- */

static const char *proc_root(const struct ctx *c) {
        return c->s->proc_root;
}

/* Whether a path exists under root: 1 yes, 0 no, -errno when it cannot tell. */
static int exists(const char *root, const char *path) {
        int r = path_exists(root, path);
        return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

/* An executable regular file of that name on the search path; *ret owned by the caller. */
static int find_in_path(const char *search, const char *name, char **ret) {
        _cleanup_free_ char *copy = strdup(strempty(search));
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = strdupf("%s/%s", *d ? d : ".", name);
                struct stat st;
                if (!p)
                        return -ENOMEM;
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return -ENOENT;
}

static const char *search_path(const struct ctx *c) {
        return c->s->path ?: getenv("PATH") ?: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/* ---- the checks ---- */

/* Whether a check of this machine is skipped: files_only, unless it only reads /proc or /sys and those come
 * from a tree the caller named. Counted, for the one warning that says so. */
static bool skip_host(struct ctx *c, bool reads_proc) {
        if (!c->s->files_only || (reads_proc && c->s->proc_root))
                return false;
        c->host_skipped++;
        return true;
}

static void check_privileged(struct ctx *c) {
        c->ran++;
        if (geteuid() != 0)
                add(c, "IsPrivilegedUser", true,
                    "kube-firstboot is not running as root: run it as root, as its systemd unit does");
}

/* The build date, from __DATE__ ("Mar  5 2026"), as midnight UTC. */
static time_t build_time(void) {
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        const char *d = __DATE__;
        char mon[4] = {d[0], d[1], d[2], 0};
        const char *m = strstr(months, mon);
        struct tm tm = {
                .tm_mday = atoi(d + 4),
                .tm_mon = m ? (int) (m - months) / 3 : 0,
                .tm_year = atoi(d + 7) - 1900,
        };
        return timegm(&tm);
}

static void format_utc(time_t t, char buf[static 32]) {
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                snprintf(buf, 32, "%lld (seconds since 1970)", (long long) t);
}

static void check_clock(struct ctx *c) {
        time_t now = c->s->now ?: time(NULL), built = build_time();
        char found[32], b[32];

        c->ran++;
        format_utc(now, found);
        format_utc(built, b);
        /* A day of slack: __DATE__ is the build machine's local date. */
        if (now < built - 86400)
                add(c, "Clock", true,
                    "the clock says %s, before this kube-firstboot was built (%.10s): certificates made now would not be valid yet; fix the time (NTP: systemd-timesyncd or chrony reaching a server, or the hardware clock) before first boot",
                    found, b);
        else if (now > built + (time_t) CLOCK_MAX_AHEAD_DAYS * 86400)
                add(c, "Clock", true,
                    "the clock says %s, more than 10 years after this kube-firstboot was built (%.10s): fix the time (NTP or the hardware clock) before first boot",
                    found, b);
}

static void check_cpu(struct ctx *c) {
        if (skip_host(c, true))
                return;
        cpu_set_t set;
        long n;

        c->ran++;
        /* Go's runtime.NumCPU, which kubeadm uses, counts the CPUs this process may run on. */
        if (sched_getaffinity(0, sizeof(set), &set) == 0)
                n = CPU_COUNT(&set);
        else
                n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n < CONTROL_PLANE_NUM_CPU)
                add(c, "NumCPU", true,
                    "the number of available CPUs %ld is less than the required %d: give the machine at least %d CPUs",
                    n, CONTROL_PLANE_NUM_CPU, CONTROL_PLANE_NUM_CPU);
}

static void check_mem(struct ctx *c) {
        if (skip_host(c, true))
                return;
        _cleanup_free_ char *text = NULL;
        unsigned long long mib;
        int r;

        c->ran++;
        r = read_file(proc_root(c), "/proc/meminfo", 1024 * 1024, &text, NULL);
        if (r == -ENOMEM)
                c->r = r;
        else if (r < 0)
                add(c, "Mem", true, "cannot read /proc/meminfo: %s", strerror(-r));
        else if (fb_preflight_parse_meminfo(text, &mib) < 0)
                add(c, "Mem", true, "/proc/meminfo has no MemTotal line");
        else if (mib < CONTROL_PLANE_MEM_MIB)
                add(c, "Mem", true,
                    "the system RAM (%llu MB) is less than the minimum %llu MB: give the machine more memory",
                    mib, CONTROL_PLANE_MEM_MIB);
}

int fb_host_port_free(unsigned port) {
        _cleanup_close_ int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1, zero = 0;

        if (fd >= 0) {
                struct sockaddr_in6 a6 = {
                        .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any};
                (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
                if (bind(fd, (struct sockaddr *) &a6, sizeof(a6)) < 0 || listen(fd, 1) < 0)
                        return -errno;
                return 0;
        }
        if (errno != EAFNOSUPPORT)
                return -errno;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        struct sockaddr_in a4 = {
                .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = INADDR_ANY};
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *) &a4, sizeof(a4)) < 0 || listen(fd, 1) < 0)
                return -errno;
        return 0;
}

static void check_port(struct ctx *c, unsigned port, const char *owner) {
        if (skip_host(c, false))
                return;
        char name[16];
        int r;

        if (c->s->resuming)
                return; /* our own earlier run's components may hold it */
        c->ran++;
        snprintf(name, sizeof(name), "Port-%u", port);
        r = fb_host_port_free(port);
        if (r == -EADDRINUSE)
                add(c, name, true, "port %u is in use (by another %s?): stop what listens on it", port,
                    owner);
        else if (r < 0)
                add(c, name, true, "cannot listen on port %u: %s", port, strerror(-r));
}

static void check_file_available(struct ctx *c, const char *path, const char *what) {
        _cleanup_free_ char *name = NULL;
        int r;

        if (c->s->resuming)
                return;
        c->ran++;
        name = fb_preflight_path_check_name("FileAvailable", path);
        if (!name) {
                c->r = -ENOMEM;
                return;
        }
        r = exists(c->s->root, path);
        if (r > 0)
                add(c, name, true,
                    "%s already exists: this machine already holds %s (kubeadm or another run set it up); reset it (kubeadm reset) or start from a fresh image",
                    path, what);
        else if (r < 0)
                add(c, name, true, "cannot check %s: %s", path, strerror(-r));
}

static void check_dir_available(struct ctx *c, const char *path) {
        _cleanup_free_ char *name = NULL, *full = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        const char *other = NULL;
        struct dirent *de;

        if (c->s->resuming)
                return;
        c->ran++;
        name = fb_preflight_path_check_name("DirAvailable", path);
        if (!name) {
                c->r = -ENOMEM;
                return;
        }
        if (root_path(c->s->root, path, &full) < 0) {
                add(c, name, true, "'%s' is not an absolute path: fix etcd.local.dataDir", path);
                return;
        }
        d = opendir(full);
        if (!d) {
                if (errno != ENOENT)
                        add(c, name, true, "cannot check that %s is empty: %s", path, strerror(errno));
                return;
        }
        /* Unlike kubeadm, an empty lost+found does not count: it is what a fresh etcd data disk holds. */
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (streq(de->d_name, "lost+found")) {
                        _cleanup_free_ char *lf = strdupf("%s/lost+found", full);
                        _cleanup_(closedirp) DIR *l = lf ? opendir(lf) : NULL;
                        struct dirent *e;
                        bool empty = !!l;
                        while (l && (e = readdir(l)))
                                if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
                                        empty = false;
                        if (empty)
                                continue;
                }
                other = de->d_name;
                break;
        }
        if (other)
                add(c, name, true,
                    "%s is not empty (it holds '%s'): etcd would start from another cluster's data; empty it or point etcd.local.dataDir elsewhere",
                    path, other);
}

static void check_cri(struct ctx *c) {
        const char *endpoint = c->s->cri_socket ?: DEFAULT_CRI_SOCKET, *path;
        _cleanup_free_ char *full = NULL;
        _cleanup_close_ int fd = -EBADF, dirfd = -EBADF;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct stat st;

        c->ran++;
        if (fb_preflight_cri_path(endpoint, &path) < 0) {
                add(c, "CRI", true,
                    "criSocket '%s' is not a unix socket endpoint such as " DEFAULT_CRI_SOCKET
                    ": fix nodeRegistration.criSocket",
                    endpoint);
                return;
        }
        if (root_path(c->s->root, path, &full) < 0) {
                add(c, "CRI", true, "criSocket '%s' is not an absolute path", endpoint);
                return;
        }
        if (stat(full, &st) < 0) {
                add(c, "CRI", true,
                    "container runtime is not running: %s: %s; install and start the container runtime (containerd) before kube-firstboot runs, or set nodeRegistration.criSocket",
                    path, strerror(errno));
                return;
        }
        if (!S_ISSOCK(st.st_mode)) {
                add(c, "CRI", true,
                    "container runtime socket %s is not a socket: fix nodeRegistration.criSocket", path);
                return;
        }
        /* A long --root may not fit sun_path: connect through the directory's descriptor instead. */
        if (strlen(full) < sizeof(sa.sun_path))
                strcpy(sa.sun_path, full);
        else {
                _cleanup_free_ char *dir = strndup(full, strrchr(full, '/') - full);
                dirfd = dir ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -ENOMEM;
                if (dirfd < 0 || snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd,
                                          strrchr(full, '/') + 1) >= (int) sizeof(sa.sun_path)) {
                        add(c, "CRI", true, "container runtime socket path %s is too long", full);
                        return;
                }
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                add(c, "CRI", true,
                    "container runtime is not running: connecting to %s: %s; start the container runtime (systemctl start containerd)",
                    path, strerror(errno));
}

static void check_swap(struct ctx *c) {
        if (skip_host(c, true))
                return;
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r;

        c->ran++;
        r = read_file(proc_root(c), "/proc/swaps", 1024 * 1024, &text, NULL);
        if (r == -ENOMEM)
                c->r = r;
        if (r < 0)
                return; /* no /proc/swaps: no swap to warn about, as in kubeadm */
        n = fb_preflight_parse_swaps(text);
        if (n == 0)
                return;
        /* kubeadm only warns; but the kubelet refuses to start with swap on unless failSwapOn is false,
         * so that case is an error here, found before anything was written. */
        if (c->s->kubelet_allows_swap)
                add(c, "Swap", false,
                    "swap is on (%zu area%s) and KubeletConfiguration.failSwapOn is false: the kubelet runs with swap (cgroup v2 only; see memorySwap.swapBehavior)",
                    n, n == 1 ? "" : "s");
        else
                add(c, "Swap", true,
                    "swap is on (%zu area%s, /proc/swaps) and the kubelet refuses to start with swap: turn it off (swapoff -a, and remove it from /etc/fstab) or set KubeletConfiguration.failSwapOn: false",
                    n, n == 1 ? "" : "s");
}

static void check_tools(struct ctx *c) {
        if (skip_host(c, false))
                return;
        static const struct {
                const char *name, *package;
                bool mandatory;
        } tools[] = {
                /* kubeadm 1.32+ checks conntrack only for Kubernetes older than 1.32, and no longer
                 * crictl: neither is checked for the 1.33-1.35 we set up. */
                {"ip", "iproute2", true},        {"iptables", "iptables", true},
                {"mount", "mount", true},        {"nsenter", "util-linux", true},
                {"ebtables", "ebtables", false}, {"ethtool", "ethtool", false},
                {"socat", "socat", false},       {"tc", "iproute2", false},
                {"touch", "coreutils", false},
        };
        const char *search = search_path(c);

        for (size_t i = 0; i < ELEMENTSOF(tools); i++) {
                _cleanup_free_ char *p = NULL, *name = strdupf("FileExisting-%s", tools[i].name);
                int r;
                c->ran++;
                if (!name) {
                        c->r = -ENOMEM;
                        return;
                }
                r = find_in_path(search, tools[i].name, &p);
                if (r == -ENOMEM)
                        c->r = r;
                else if (r < 0)
                        add(c, name, tools[i].mandatory,
                            "%s not found in the system path: install it (Debian: %s)", tools[i].name,
                            tools[i].package);
        }
}

static bool word_in(const char *list, const char *w) {
        size_t l = strlen(w);
        for (const char *p = list; p && (p = strstr(p, w)); p += l)
                if ((p == list || strchr(" \t\n", p[-1])) && (p[l] == 0 || strchr(" \t\n", p[l])))
                        return true;
        return false;
}

static void check_cgroups(struct ctx *c) {
        if (skip_host(c, true))
                return;
        _cleanup_free_ char *controllers = NULL;
        int r;

        c->ran++;
        r = read_file(proc_root(c), "/sys/fs/cgroup/cgroup.controllers", 65536, &controllers, NULL);
        if (r == -ENOMEM) {
                c->r = r;
                return;
        }
        if (r >= 0) {
                static const char *const need[] = {"cpu", "cpuset", "memory", "pids"};
                for (size_t i = 0; i < ELEMENTSOF(need); i++)
                        if (!word_in(controllers, need[i]))
                                add(c, "SystemVerification", true,
                                    "the cgroup v2 controller '%s' is not available (/sys/fs/cgroup/cgroup.controllers): the kubelet needs it; enable it on the kernel command line",
                                    need[i]);
                return;
        }
        if (exists(proc_root(c), "/sys/fs/cgroup/memory") > 0 &&
            exists(proc_root(c), "/sys/fs/cgroup/cpu") > 0) {
                add(c, "SystemVerification", false,
                    "the machine uses cgroup v1, which Kubernetes deprecated: newer kubelets refuse it unless failCgroupV1 is false; boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1)");
                return;
        }
        add(c, "SystemVerification", true,
            "no cgroup file system at /sys/fs/cgroup: the kubelet cannot run containers; mount cgroup2 there (systemd does at boot)");
}

/* Runs "kubelet --version" with a deadline; *ret holds its output (capped). */
static int kubelet_version(const char *kubelet, char **ret) {
        _cleanup_free_ char *out = NULL;
        int status, r;

        r = fb_spawn_capture((char *const[]){(char *) kubelet, (char *) "--version", NULL},
                             KUBELET_VERSION_TIMEOUT_MS, KUBELET_VERSION_MAX, &out, &status);
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EPROTO;
        *ret = TAKE_PTR(out);
        return 0;
}

static void check_kubelet(struct ctx *c) {
        if (skip_host(c, false))
                return;
        _cleanup_free_ char *kubelet = NULL, *out = NULL;
        unsigned want, have;
        int r;

        c->ran++;
        r = find_in_path(search_path(c), "kubelet", &kubelet);
        if (r == -ENOMEM) {
                c->r = r;
                return;
        }
        if (r < 0) {
                add(c, "KubeletVersion", true,
                    "kubelet not found in the system path: install the kubelet of the cluster's Kubernetes minor in the image");
                return;
        }
        /* kubeadm compares with the control plane's version on init only; "stable-1" and the like would
         * need a download to resolve. */
        if (c->s->role != FB_PREFLIGHT_INIT || fb_preflight_parse_minor(c->s->kubernetes_version, &want) < 0)
                return;
        r = kubelet_version(kubelet, &out);
        if (r == -ENOMEM) {
                c->r = r;
                return;
        }
        if (r < 0 || fb_preflight_parse_minor(out, &have) < 0) {
                add(c, "KubeletVersion", true, "couldn't get the kubelet version from '%s --version': %s",
                    kubelet, r < 0 ? strerror(-r) : "no version in its output");
                return;
        }
        out[strcspn(out, "\n")] = 0;
        if (have > want)
                add(c, "KubeletVersion", true,
                    "the kubelet (%s) is newer than the control plane (%s), a version skew Kubernetes does not support: install a kubelet of 1.%u or set kubernetesVersion",
                    out, c->s->kubernetes_version, want);
}

static void check_forwarding(struct ctx *c, const char *path) {
        if (skip_host(c, true))
                return;
        _cleanup_free_ char *text = NULL, *name = NULL;
        int r;

        c->ran++;
        name = fb_preflight_path_check_name("FileContent", path);
        if (!name) {
                c->r = -ENOMEM;
                return;
        }
        r = read_file(proc_root(c), path, 4096, &text, NULL);
        if (r == -ENOMEM)
                c->r = r;
        else if (r < 0)
                add(c, name, true, "%s does not exist: the kernel lacks IP forwarding", path);
        else if (text[0] != '1') {
                const char *key =
                        strstr(path, "ipv4") ? "net.ipv4.ip_forward" : "net.ipv6.conf.default.forwarding";
                text[strcspn(text, "\n")] = 0;
                add(c, name, true,
                    "%s is '%s', not 1: pods could not reach beyond this node; set %s = 1 (sysctl -w, and a file in /etc/sysctl.d/) before kube-firstboot runs",
                    path, text, key);
        }
}

/* ---- the runner ---- */

static void common_checks(struct ctx *c) {
        check_cri(c);
        check_swap(c);
        check_tools(c);
        check_cgroups(c);
        check_kubelet(c);
        check_port(c, 10250, "kubelet");
}

static void forwarding_checks(struct ctx *c) {
        if (c->s->ipv4)
                check_forwarding(c, "/proc/sys/net/ipv4/ip_forward");
        if (c->s->ipv6)
                check_forwarding(c, "/proc/sys/net/ipv6/conf/default/forwarding");
}

static void control_plane_checks(struct ctx *c) {
        static const char *const manifests[] = {"kube-apiserver", "kube-controller-manager",
                                                "kube-scheduler", "etcd"};
        check_cpu(c);
        check_mem(c);
        check_port(c, c->s->bind_port ?: 6443, "kube-apiserver");
        check_port(c, 10259, "kube-scheduler");
        check_port(c, 10257, "kube-controller-manager");
        for (size_t i = 0; i < ELEMENTSOF(manifests); i++) {
                _cleanup_free_ char *p = strdupf("/etc/kubernetes/manifests/%s.yaml", manifests[i]);
                if (!p) {
                        c->r = -ENOMEM;
                        return;
                }
                check_file_available(c, p, "a control plane");
        }
}

static void etcd_checks(struct ctx *c) {
        if (!c->s->local_etcd)
                return;
        check_port(c, 2379, "etcd");
        check_port(c, 2380, "etcd");
        check_dir_available(c, c->s->etcd_data_dir ?: DEFAULT_ETCD_DATA_DIR);
}

/* The control-plane VIP: its interface, its subnet, and on init that no other host answers at it. */
static void vip_checks(struct ctx *c) {
        const struct fb_preflight_spec *s = c->s;
        _cleanup_free_ char *found = NULL;
        const char *ifname = s->vip_interface;
        bool in_subnet = false, assigned = false;
        int r;

        if (!s->vip_address)
                return;
        if (s->vip_haproxy)
                check_port(c, s->vip_port, "haproxy");
        if (skip_host(c, false))
                return;
        c->ran++;
        if (!ifname) {
                r = s->advertise_address ? fb_host_interface_of(s->advertise_address, &found) : -ENOENT;
                if (r == -ENOMEM) {
                        c->r = r;
                        return;
                }
                if (r < 0)
                        return add(
                                c, "ControlPlaneVIP-Interface", true,
                                "no interface carries the advertise address %s: set FirstbootConfiguration.controlPlaneVIP.interface",
                                s->advertise_address ?: "(none)");
                ifname = found;
        }
        r = fb_host_interface_has(ifname, s->vip_address, &in_subnet, &assigned);
        if (r == -ENODEV)
                return add(c, "ControlPlaneVIP-Interface", true,
                           "the interface '%s' of controlPlaneVIP does not exist on this machine", ifname);
        if (r < 0)
                return add(c, "ControlPlaneVIP-Interface", true, "cannot read the interface '%s': %s",
                           ifname, strerror(-r));
        c->ran++;
        if (!in_subnet)
                add(c, "ControlPlaneVIP-Subnet", true,
                    "the address %s is in no subnet of the interface '%s': every control plane must reach it on the same link",
                    s->vip_address, ifname);
        if (s->role != FB_PREFLIGHT_INIT || s->resuming)
                return;
        c->ran++;
        unsigned ports[] = {s->vip_port ?: 6443, 22, 443}, port = 0;
        if (assigned)
                add(c, "ControlPlaneVIP-Address", true,
                    "the address %s is already on the interface '%s' of this machine, before any cluster: remove it, or pick a free address",
                    s->vip_address, ifname);
        else if (fb_host_address_taken(s->vip_address, ports, ELEMENTSOF(ports), 500, &port))
                add(c, "ControlPlaneVIP-Address", true,
                    "the address %s is in use by another host (it answers on port %u) and no cluster answers there: pick a free address for controlPlaneVIP",
                    s->vip_address, port);
}

int fb_preflight_run(const struct fb_preflight_spec *s, struct fb_preflight_report *ret) {
        struct ctx c = {.s = s};

        if (!valid_role(s->role) || fb_preflight_ignore_problem(s->ignore))
                return -EINVAL;

        check_privileged(&c);
        check_clock(&c);
        switch (s->role) {
        case FB_PREFLIGHT_INIT:
                /* kubeadm init's order: the control-plane checks, the common ones, then etcd's. */
                control_plane_checks(&c);
                common_checks(&c);
                forwarding_checks(&c);
                etcd_checks(&c);
                vip_checks(&c);
                break;
        case FB_PREFLIGHT_CONTROL_PLANE:
        case FB_PREFLIGHT_WORKER:
                /* kubeadm join's order: the join checks, then for a control plane init's. */
                check_file_available(&c, "/etc/kubernetes/kubelet.conf", "a kubelet configuration");
                check_file_available(&c, "/etc/kubernetes/bootstrap-kubelet.conf",
                                     "a kubelet configuration");
                common_checks(&c);
                if (s->role == FB_PREFLIGHT_WORKER)
                        check_file_available(&c, s->ca_cert_path ?: DEFAULT_CA_CERT_PATH, "a cluster CA");
                forwarding_checks(&c);
                if (s->role == FB_PREFLIGHT_CONTROL_PLANE) {
                        control_plane_checks(&c);
                        etcd_checks(&c);
                        vip_checks(&c);
                }
                break;
        default:
                break;
        }
        if (c.host_skipped > 0)
                add(&c, "HostChecks", false,
                    "%u checks of this machine skipped (ports, programs, /proc, /sys): under --root DIR only the files under DIR are checked; --allow-host, when DIR is this machine's root, checks them too",
                    c.host_skipped);
        if (c.r < 0) {
                struct fb_preflight_report tmp = {.findings = c.f, .n = c.n};
                fb_preflight_report_done(&tmp);
                return c.r;
        }
        *ret = (struct fb_preflight_report){.findings = c.f, .n = c.n, .errors = c.errors, .ran = c.ran};
        return 0;
}

void fb_preflight_report_done(struct fb_preflight_report *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n; i++) {
                free(r->findings[i].check);
                free(r->findings[i].message);
        }
        free(r->findings);
        *r = (struct fb_preflight_report){};
}

void fb_preflight_report_print(const struct fb_preflight_report *r, FILE *out) {
        for (size_t i = 0; i < r->n; i++)
                fprintf(out, "[%s %s]: %s\n", r->findings[i].error ? "ERROR" : "WARNING",
                        r->findings[i].check, r->findings[i].message);
}
