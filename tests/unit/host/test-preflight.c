/* SPDX-License-Identifier: Apache-2.0 */
/* Preflight: names, ignore handling, parsers, and the checks over a fake root and /proc tree. */
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/strutil.h"
#include "firstboot/config/config.h"
#include "firstboot/flows/flows.h"
#include "firstboot/host/preflight.h"
#include "tests/unit/unit.h"

/* A root for node files, a fake /proc + /sys tree, and a directory of tools for $PATH. */
struct env {
        char *dir, *root, *proc, *bin;
};

static int setup(void **state) {
        struct env *e = calloc(1, sizeof(*e));
        if (!e || !(e->dir = unit_mkdtemp()))
                return -1;
        e->root = strdupf("%s/root", e->dir);
        e->proc = strdupf("%s/proc-root", e->dir);
        e->bin = strdupf("%s/bin", e->dir);
        if (!e->root || !e->proc || !e->bin || mkdir(e->root, 0755) < 0 || mkdir(e->proc, 0755) < 0 ||
            mkdir(e->bin, 0755) < 0)
                return -1;
        /* A healthy machine: no swap, enough memory, forwarding on, cgroup v2 with what the kubelet needs.
         */
        if (write_string_atomic(e->proc, "/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n", 0644,
                                WRITE_MKDIR_PARENTS) < 0 ||
            write_string_atomic(e->proc, "/proc/meminfo", "MemTotal:        8048000 kB\nMemFree: 1 kB\n",
                                0644, 0) < 0 ||
            write_string_atomic(e->proc, "/proc/sys/net/ipv4/ip_forward", "1\n", 0644, WRITE_MKDIR_PARENTS) <
                    0 ||
            write_string_atomic(e->proc, "/proc/sys/net/ipv6/conf/default/forwarding", "1\n", 0644,
                                WRITE_MKDIR_PARENTS) < 0 ||
            write_string_atomic(e->proc, "/sys/fs/cgroup/cgroup.controllers",
                                "cpuset cpu io memory hugetlb pids\n", 0644, WRITE_MKDIR_PARENTS) < 0)
                return -1;
        static const char *const tools[] = {"ip",      "iptables", "mount", "nsenter", "ebtables",
                                            "ethtool", "socat",    "tc",    "touch",   "kubelet"};
        for (size_t i = 0; i < ELEMENTSOF(tools); i++) {
                _cleanup_free_ char *p = strdupf("/%s", tools[i]);
                if (!p ||
                    write_string_atomic(e->bin, p, "#!/bin/sh\necho 'Kubernetes v1.34.1'\n", 0755, 0) < 0)
                        return -1;
        }
        *state = e;
        return 0;
}

static int teardown(void **state) {
        struct env *e = *state;
        unit_rm_rf(e->dir);
        free(e->dir);
        free(e->root);
        free(e->proc);
        free(e->bin);
        free(e);
        return 0;
}

static struct fb_preflight_spec spec_for(const struct env *e, enum fb_preflight_role role) {
        return (struct fb_preflight_spec){
                .root = e->root,
                .role = role,
                .local_etcd = true,
                .ipv4 = true,
                .proc_root = e->proc,
                .path = e->bin,
                /* Ports are the test machine's: the ones that matter run in network namespaces
                 * (tests/integration/test_preflight.py); here only the named findings are looked at. */
        };
}

static const struct fb_preflight_finding *find(const struct fb_preflight_report *r, const char *check) {
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->findings[i].check, check))
                        return &r->findings[i];
        return NULL;
}

static void run(const struct fb_preflight_spec *s, struct fb_preflight_report *r) {
        assert_int_equal(fb_preflight_run(s, r), 0);
        for (size_t i = 0; i < r->n; i++)
                print_message("  [%s %s]: %s\n", r->findings[i].error ? "ERROR" : "WARNING",
                              r->findings[i].check, r->findings[i].message);
}

static void test_names_and_ignore(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        (void) state;

        a = fb_preflight_path_check_name("FileAvailable", "/etc/kubernetes/manifests/kube-apiserver.yaml");
        assert_string_equal(a, "FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml");
        b = fb_preflight_path_check_name("DirAvailable", "/var/lib/etcd");
        assert_string_equal(b, "DirAvailable--var-lib-etcd");
        c = fb_preflight_path_check_name("FileContent", "/proc/sys/net/ipv4/ip_forward");
        assert_string_equal(c, "FileContent--proc-sys-net-ipv4-ip_forward");

        char *list[] = {(char *) "port-6443", (char *) "SWAP", NULL};
        assert_true(fb_preflight_ignored(list, "Port-6443"));
        assert_true(fb_preflight_ignored(list, "Swap"));
        assert_false(fb_preflight_ignored(list, "Port-10250"));
        assert_false(fb_preflight_ignored(NULL, "Swap"));
        char *all[] = {(char *) "All", NULL};
        assert_true(fb_preflight_ignored(all, "anything"));
        assert_null(fb_preflight_ignore_problem(all));
        assert_null(fb_preflight_ignore_problem(list));
        assert_null(fb_preflight_ignore_problem(NULL));
        char *mixed[] = {(char *) "Swap", (char *) "all", NULL};
        assert_non_null(fb_preflight_ignore_problem(mixed));
}

static void test_parsers(void **state) {
        unsigned long long mib = 0;
        unsigned minor = 0;
        const char *p = NULL;
        (void) state;

        assert_int_equal(fb_preflight_parse_swaps("Filename\tType\tSize\tUsed\tPriority\n"), 0);
        assert_int_equal(fb_preflight_parse_swaps(""), 0);
        assert_int_equal(
                fb_preflight_parse_swaps("Filename Type\n/dev/vda2 partition 1 0 -2\n/swap file 2 0 -3\n\n"),
                2);

        assert_int_equal(fb_preflight_parse_meminfo("MemTotal:        2048000 kB\n", &mib), 0);
        assert_int_equal(mib, 2000);
        assert_int_equal(fb_preflight_parse_meminfo("MemFree: 1 kB\nMemTotal: 1740800 kB\n", &mib), 0);
        assert_int_equal(mib, 1700);
        mib = 7;
        assert_int_equal(fb_preflight_parse_meminfo("MemFree: 1 kB\n", &mib), -EBADMSG);
        assert_int_equal(fb_preflight_parse_meminfo("MemTotal: lots\n", &mib), -EBADMSG);
        assert_int_equal(mib, 7);

        assert_int_equal(fb_preflight_parse_minor("Kubernetes v1.34.2\n", &minor), 0);
        assert_int_equal(minor, 34);
        assert_int_equal(fb_preflight_parse_minor("v1.35.0-rc.1", &minor), 0);
        assert_int_equal(minor, 35);
        assert_int_equal(fb_preflight_parse_minor("1.33", &minor), 0);
        assert_int_equal(minor, 33);
        assert_int_equal(fb_preflight_parse_minor("stable-1", &minor), -EINVAL);
        assert_int_equal(fb_preflight_parse_minor("v1.x", &minor), -EINVAL);
        assert_int_equal(fb_preflight_parse_minor(NULL, &minor), -EINVAL);

        assert_int_equal(fb_preflight_cri_path("unix:///run/containerd/containerd.sock", &p), 0);
        assert_string_equal(p, "/run/containerd/containerd.sock");
        assert_int_equal(fb_preflight_cri_path("/run/crio/crio.sock", &p), 0);
        assert_string_equal(p, "/run/crio/crio.sock");
        assert_int_equal(fb_preflight_cri_path("tcp://127.0.0.1:1234", &p), -EINVAL);
        assert_int_equal(fb_preflight_cri_path("unix://run/x.sock", &p), -EINVAL);
        assert_int_equal(fb_preflight_cri_path("", &p), -EINVAL);
}

static void test_bad_spec(void **state) {
        struct env *e = *state;
        struct fb_preflight_spec s = spec_for(e, 0);
        struct fb_preflight_report r = {.n = 99};
        char *mixed[] = {(char *) "all", (char *) "Swap", NULL};

        assert_int_equal(fb_preflight_run(&s, &r), -EINVAL);
        s.role = FB_PREFLIGHT_INIT;
        s.ignore = mixed;
        assert_int_equal(fb_preflight_run(&s, &r), -EINVAL);
        assert_int_equal(r.n, 99); /* untouched */
}

static void test_healthy_worker(void **state) {
        struct env *e = *state;
        struct fb_preflight_spec s = spec_for(e, FB_PREFLIGHT_WORKER);
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report r = {};

        /* A CRI socket that accepts connections. */
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        assert_int_equal(mkdir_p(e->root, "/var/run/containerd", 0755), 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/var/run/containerd/containerd.sock", e->root);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 4), 0);

        run(&s, &r);
        /* Nothing but (perhaps) the test machine's own port 10250 and the non-root case. */
        for (size_t i = 0; i < r.n; i++)
                if (!streq(r.findings[i].check, "Port-10250") &&
                    !streq(r.findings[i].check, "IsPrivilegedUser"))
                        fail_msg("unexpected finding %s", r.findings[i].check);
        assert_true(r.ran >= 15);
        /* Workers get neither the control-plane nor the etcd checks. */
        assert_null(find(&r, "Mem"));
        assert_null(find(&r, "DirAvailable--var-lib-etcd"));
}

static void test_left_by_another_cluster(void **state) {
        struct env *e = *state;
        struct fb_preflight_spec s = spec_for(e, FB_PREFLIGHT_WORKER);
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report r = {}, r2 = {}, r3 = {};
        const struct fb_preflight_finding *f;

        assert_int_equal(
                write_string_atomic(e->root, "/etc/kubernetes/kubelet.conf", "x", 0600, WRITE_MKDIR_PARENTS),
                0);
        assert_int_equal(
                write_string_atomic(e->root, "/etc/kubernetes/pki/ca.crt", "x", 0644, WRITE_MKDIR_PARENTS),
                0);
        run(&s, &r);
        f = find(&r, "FileAvailable--etc-kubernetes-kubelet.conf");
        assert_non_null(f);
        assert_true(f->error);
        assert_non_null(strstr(f->message, "/etc/kubernetes/kubelet.conf already exists"));
        assert_non_null(strstr(f->message, "ignorePreflightErrors"));
        assert_non_null(find(&r, "FileAvailable--etc-kubernetes-pki-ca.crt"));
        assert_null(find(&r, "FileAvailable--etc-kubernetes-bootstrap-kubelet.conf"));

        /* A control-plane join checks no CA file (it downloads the CAs), but the manifests and etcd's dir.
         */
        s.role = FB_PREFLIGHT_CONTROL_PLANE;
        assert_int_equal(write_string_atomic(e->root, "/etc/kubernetes/manifests/etcd.yaml", "x", 0600,
                                             WRITE_MKDIR_PARENTS),
                         0);
        assert_int_equal(
                write_string_atomic(e->root, "/var/lib/etcd/member/snap/db", "x", 0600, WRITE_MKDIR_PARENTS),
                0);
        run(&s, &r2);
        assert_null(find(&r2, "FileAvailable--etc-kubernetes-pki-ca.crt"));
        assert_non_null(find(&r2, "FileAvailable--etc-kubernetes-kubelet.conf"));
        assert_non_null(find(&r2, "FileAvailable--etc-kubernetes-manifests-etcd.yaml"));
        assert_null(find(&r2, "FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml"));
        f = find(&r2, "DirAvailable--var-lib-etcd");
        assert_non_null(f);
        assert_non_null(strstr(f->message, "'member'"));

        /* Our own earlier run left them: resuming skips those checks (and the ports). */
        s.resuming = true;
        run(&s, &r3);
        for (size_t i = 0; i < r3.n; i++) {
                assert_null(startswith(r3.findings[i].check, "FileAvailable"));
                assert_null(startswith(r3.findings[i].check, "DirAvailable"));
                assert_null(startswith(r3.findings[i].check, "Port-"));
        }
}

static void test_etcd_dir_with_lost_found(void **state) {
        struct env *e = *state;
        struct fb_preflight_spec s = spec_for(e, FB_PREFLIGHT_INIT);
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report r = {}, r2 = {};

        s.etcd_data_dir = "/srv/etcd";
        assert_int_equal(mkdir_p(e->root, "/srv/etcd/lost+found", 0700), 0);
        run(&s, &r);
        assert_null(find(&r, "DirAvailable--srv-etcd")); /* a fresh file system's lost+found */
        assert_int_equal(write_string_atomic(e->root, "/srv/etcd/lost+found/#123", "x", 0600, 0), 0);
        run(&s, &r2);
        assert_non_null(find(&r2, "DirAvailable--srv-etcd"));
        /* Without a local etcd there is no etcd check at all. */
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report r3 = {};
        s.local_etcd = false;
        run(&s, &r3);
        assert_null(find(&r3, "DirAvailable--srv-etcd"));
}

static void test_proc_checks_and_ignore(void **state) {
        struct env *e = *state;
        struct fb_preflight_spec s = spec_for(e, FB_PREFLIGHT_INIT);
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report r = {}, r2 = {}, r3 = {}, r4 = {};
        const struct fb_preflight_finding *f;

        assert_int_equal(
                write_string_atomic(e->proc, "/proc/swaps",
                                    "Filename\tType\tSize\tUsed\tPriority\n/swap.img file 1048572 0 -2\n",
                                    0644, 0),
                0);
        assert_int_equal(write_string_atomic(e->proc, "/proc/sys/net/ipv4/ip_forward", "0\n", 0644, 0), 0);
        assert_int_equal(write_string_atomic(e->proc, "/proc/meminfo", "MemTotal: 1000000 kB\n", 0644, 0),
                         0);
        run(&s, &r);
        f = find(&r, "Swap");
        assert_true(f && f->error && !f->ignored);
        f = find(&r, "FileContent--proc-sys-net-ipv4-ip_forward");
        assert_true(f && f->error);
        assert_non_null(strstr(f->message, "net.ipv4.ip_forward = 1"));
        f = find(&r, "Mem");
        assert_true(f && f->error);
        assert_non_null(strstr(f->message, "(976 MB) is less than the minimum 1700 MB"));
        assert_null(find(&r, "FileContent--proc-sys-net-ipv6-conf-default-forwarding")); /* IPv4 cluster */
        assert_true(r.errors >= 3);

        /* Ignored errors become warnings; names are matched case-insensitively. */
        char *ignore[] = {(char *) "swap", (char *) "MEM", NULL};
        s.ignore = ignore;
        run(&s, &r2);
        f = find(&r2, "Swap");
        assert_true(f && !f->error && f->ignored);
        f = find(&r2, "Mem");
        assert_true(f && !f->error && f->ignored);
        assert_int_equal(r2.errors, r.errors - 2);

        /* failSwapOn: false: the kubelet runs with swap, a warning as in kubeadm. */
        s.ignore = NULL;
        s.kubelet_allows_swap = true;
        run(&s, &r3);
        f = find(&r3, "Swap");
        assert_true(f && !f->error && !f->ignored);

        char *all[] = {(char *) "all", NULL};
        s.ignore = all;
        run(&s, &r4);
        assert_int_equal(r4.errors, 0);
        assert_true(r4.n >= 3);
}

static void test_cgroups(void **state) {
        struct env *e = *state;
        struct fb_preflight_spec s = spec_for(e, FB_PREFLIGHT_WORKER);
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report r = {}, r2 = {}, r3 = {};
        _cleanup_free_ char *ctl = strdupf("%s/sys/fs/cgroup/cgroup.controllers", e->proc);
        const struct fb_preflight_finding *f;

        assert_int_equal(write_string_atomic(e->proc, "/sys/fs/cgroup/cgroup.controllers",
                                             "cpu io memory pids\n", 0644, 0),
                         0);
        run(&s, &r);
        f = find(&r, "SystemVerification");
        assert_true(f && f->error);
        assert_non_null(strstr(f->message, "'cpuset'"));

        /* cgroup v1: deprecated, a warning. */
        assert_int_equal(unlink(ctl), 0);
        assert_int_equal(mkdir_p(e->proc, "/sys/fs/cgroup/memory", 0755), 0);
        assert_int_equal(mkdir_p(e->proc, "/sys/fs/cgroup/cpu", 0755), 0);
        run(&s, &r2);
        f = find(&r2, "SystemVerification");
        assert_true(f && !f->error);

        /* Nothing at all: an error. */
        s.proc_root = e->root;
        run(&s, &r3);
        f = find(&r3, "SystemVerification");
        assert_true(f && f->error);
}

static void test_tools_and_kubelet(void **state) {
        struct env *e = *state;
        struct fb_preflight_spec s = spec_for(e, FB_PREFLIGHT_INIT);
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report r = {}, r2 = {}, r3 = {};
        _cleanup_free_ char *ip = strdupf("%s/ip", e->bin), *socat = strdupf("%s/socat", e->bin),
                            *kubelet = strdupf("%s/kubelet", e->bin);
        const struct fb_preflight_finding *f;

        assert_int_equal(unlink(ip), 0);
        assert_int_equal(unlink(socat), 0);
        s.kubernetes_version = "v1.33.4"; /* the fake kubelet says v1.34.1: newer than the control plane */
        run(&s, &r);
        f = find(&r, "FileExisting-ip");
        assert_true(f && f->error);
        f = find(&r, "FileExisting-socat");
        assert_true(f && !f->error);
        assert_non_null(strstr(f->message, "socat not found in the system path"));
        assert_null(find(&r, "FileExisting-touch"));
        assert_null(find(&r, "FileExisting-crictl")); /* kubeadm 1.33+ checks neither crictl nor conntrack */
        f = find(&r, "KubeletVersion");
        assert_true(f && f->error);
        assert_non_null(strstr(f->message, "newer than the control plane"));

        /* Same minor: fine. A version kubeadm must resolve online (stable-1): not compared. */
        s.kubernetes_version = "v1.34.0";
        run(&s, &r2);
        assert_null(find(&r2, "KubeletVersion"));

        /* No kubelet at all. */
        assert_int_equal(unlink(kubelet), 0);
        s.kubernetes_version = "stable-1";
        run(&s, &r3);
        f = find(&r3, "KubeletVersion");
        assert_true(f && f->error);
        assert_non_null(strstr(f->message, "kubelet not found"));
}

static void test_cri(void **state) {
        struct env *e = *state;
        struct fb_preflight_spec s = spec_for(e, FB_PREFLIGHT_WORKER);
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report r = {}, r2 = {}, r3 = {};
        const struct fb_preflight_finding *f;

        s.cri_socket = "unix:///run/crio/crio.sock";
        run(&s, &r);
        f = find(&r, "CRI");
        assert_true(f && f->error);
        assert_non_null(strstr(f->message, "/run/crio/crio.sock"));

        /* A socket file nobody listens on. */
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        assert_int_equal(mkdir_p(e->root, "/run/crio", 0755), 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/run/crio/crio.sock", e->root);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        run(&s, &r2);
        f = find(&r2, "CRI");
        assert_true(f && f->error);
        assert_non_null(strstr(f->message, "connecting to /run/crio/crio.sock"));

        s.cri_socket = "npipe:////./pipe/containerd-containerd";
        run(&s, &r3);
        f = find(&r3, "CRI");
        assert_true(f && f->error);
        assert_non_null(strstr(f->message, "not a unix socket endpoint"));
}

static void test_clock(void **state) {
        struct env *e = *state;
        struct fb_preflight_spec s = spec_for(e, FB_PREFLIGHT_WORKER);
        _cleanup_(fb_preflight_report_done) struct fb_preflight_report r = {}, r2 = {}, r3 = {};
        const struct fb_preflight_finding *f;

        s.now = 946684800; /* 2000-01-01: an RTC that lost its battery */
        run(&s, &r);
        f = find(&r, "Clock");
        assert_true(f && f->error);
        assert_non_null(strstr(
                f->message, "the clock says 2000-01-01 00:00:00 UTC, before this kube-firstboot was built"));
        s.now = time(NULL);
        run(&s, &r2);
        assert_null(find(&r2, "Clock"));
        s.now = time(NULL) + 20LL * 366 * 86400;
        run(&s, &r3);
        f = find(&r3, "Clock");
        assert_true(f && f->error);
}

static void test_spec_from_config(void **state) {
        struct env *e = *state;
        _cleanup_free_ char *file = strdupf("%s/c.yaml", e->dir);
        _cleanup_strv_free_ char **problems = NULL, **ignore = NULL;
        _cleanup_(fb_config_freep) struct fb_config *c = NULL;
        struct fb_preflight_spec s;

        assert_int_equal(
                write_string_atomic(NULL, file,
                                    "apiVersion: kubeadm.k8s.io/v1beta4\n"
                                    "kind: InitConfiguration\n"
                                    "localAPIEndpoint: {bindPort: 7443}\n"
                                    "nodeRegistration:\n"
                                    "  criSocket: unix:///run/crio/crio.sock\n"
                                    "  ignorePreflightErrors: [Swap, NumCPU]\n"
                                    "---\n"
                                    "apiVersion: kubeadm.k8s.io/v1beta4\n"
                                    "kind: ClusterConfiguration\n"
                                    "kubernetesVersion: v1.34.1\n"
                                    "etcd: {local: {dataDir: /srv/etcd}}\n"
                                    "networking: {podSubnet: 'fd00:10::/56', serviceSubnet: 10.96.0.0/12}\n"
                                    "---\n"
                                    "apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                    "kind: KubeletConfiguration\n"
                                    "failSwapOn: false\n"
                                    "---\n"
                                    "apiVersion: kube-firstboot.io/v1alpha1\n"
                                    "kind: FirstbootConfiguration\n"
                                    "role: init\n",
                                    0644, 0),
                0);
        struct fb_config_sources src = {.root = e->root,
                                        .skip_image_defaults = true,
                                        .partial = true,
                                        .files = (char *[]){file, NULL}};
        assert_int_equal(fb_config_load(&src, &c, &problems), 0);

        assert_int_equal(fb_preflight_spec_from_config(c, FB_ROLE_AUTO, &s), -EINVAL);
        assert_int_equal(fb_preflight_spec_from_config(c, FB_ROLE_INIT, &s), 0);
        assert_int_equal(s.bind_port, 7443);
        assert_true(s.local_etcd);
        assert_string_equal(s.etcd_data_dir, "/srv/etcd");
        assert_string_equal(s.cri_socket, "unix:///run/crio/crio.sock");
        assert_string_equal(s.kubernetes_version, "v1.34.1");
        assert_true(s.ipv4 && s.ipv6);
        assert_true(s.kubelet_allows_swap);
        assert_int_equal(fb_preflight_ignore_list(c, FB_ROLE_INIT, &ignore), 0);
        assert_int_equal(strv_length(ignore), 2);
        assert_string_equal(ignore[1], "NumCPU");

        /* A worker: no local etcd; without a discovery endpoint address, as in kubeadm, no forwarding check.
         */
        assert_int_equal(fb_preflight_spec_from_config(c, FB_ROLE_WORKER, &s), 0);
        assert_false(s.local_etcd);
        assert_false(s.ipv4 || s.ipv6);
        assert_null(s.cri_socket); /* no JoinConfiguration here: the default applies */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_and_ignore),
                cmocka_unit_test(test_parsers),
                cmocka_unit_test_setup_teardown(test_bad_spec, setup, teardown),
                cmocka_unit_test_setup_teardown(test_healthy_worker, setup, teardown),
                cmocka_unit_test_setup_teardown(test_left_by_another_cluster, setup, teardown),
                cmocka_unit_test_setup_teardown(test_etcd_dir_with_lost_found, setup, teardown),
                cmocka_unit_test_setup_teardown(test_proc_checks_and_ignore, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cgroups, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tools_and_kubelet, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cri, setup, teardown),
                cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spec_from_config, setup, teardown),
        };
        return cmocka_run_group_tests_name("preflight", tests, NULL, NULL);
}
