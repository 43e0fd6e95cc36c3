/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Preflight: the checks kubeadm's preflight makes that matter at first boot, under kubeadm's check names,
 * so that nodeRegistration.ignorePreflightErrors means the same here (names match case-insensitively;
 * "all" ignores every check; an ignored error becomes a warning). Which checks run depends on the role,
 * as in kubeadm's init, control-plane join and worker join:
 *
 *   every role      IsPrivilegedUser, Clock (ours), CRI, Swap (an error unless KubeletConfiguration.
 *                   failSwapOn is false: kubeadm only warns, but the kubelet would refuse to start),
 *                   FileExisting-<tool> (ip, iptables, mount, nsenter are errors; ebtables, ethtool, socat,
 *                   tc, touch warnings), SystemVerification (a light cgroup check), KubeletVersion,
 *                   Port-10250, FileContent--proc-sys-net-ipv4-ip_forward / -ipv6-conf-default-forwarding
 *                   for the cluster's address families
 *   control planes  NumCPU, Mem, Port-<bindPort>, Port-10259, Port-10257,
 *                   FileAvailable--etc-kubernetes-manifests-<component>.yaml; with a local etcd Port-2379,
 *                   Port-2380, DirAvailable--var-lib-etcd (named after the data dir)
 *   control-plane VIP  ControlPlaneVIP-Interface, ControlPlaneVIP-Subnet, ControlPlaneVIP-Address (init: no
 *                   other host holds it), Port-<vip port> with keepalived (haproxy's)
 *   joiners         FileAvailable--etc-kubernetes-kubelet.conf, FileAvailable--etc-kubernetes-bootstrap-
 *                   kubelet.conf; workers also FileAvailable--etc-kubernetes-pki-ca.crt (the caCertPath)
 *
 * When resuming (this machine's own journal shows an earlier run got past preflight), the checks for
 * things "left by another cluster" (FileAvailable, DirAvailable, Port) are skipped: they would only see
 * what that earlier run wrote and started.
 *
 * Files are looked up under spec->root; /proc and /sys under spec->proc_root (the real ones by default);
 * ports are bound on this machine's network namespace; tools are searched on $PATH (they are executed,
 * not read, so --root does not apply).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* Which of kubeadm's check sets runs (0 is none: a spec must say). */
enum fb_preflight_role {
        FB_PREFLIGHT_INIT = 1,      /* kubeadm init */
        FB_PREFLIGHT_CONTROL_PLANE, /* kubeadm join --control-plane */
        FB_PREFLIGHT_WORKER,        /* kubeadm join */
};

struct fb_preflight_spec {
        const char *root;               /* files under root (NULL: /) */
        enum fb_preflight_role role;    /* which checks run */
        unsigned bind_port;             /* the API server's port; 0: 6443 */
        bool local_etcd;                /* control planes: a stacked etcd member */
        const char *etcd_data_dir;      /* NULL: /var/lib/etcd */
        const char *cri_socket;         /* "unix:///..." or a path; NULL: containerd's */
        const char *ca_cert_path;       /* worker join: JoinConfiguration.caCertPath; NULL: kubeadm's */
        const char *kubernetes_version; /* init: the control plane's version, for the kubelet skew check */
        bool ipv4, ipv6;                /* the families whose forwarding is checked (kubeadm: init's subnets
                                         * and advertise address, join's endpoint when it is an address) */
        bool kubelet_allows_swap;       /* KubeletConfiguration.failSwapOn: false */
        char *const *ignore;            /* ignorePreflightErrors, NULL-terminated, or NULL */
        bool resuming;
        /* Control planes with a control-plane VIP (FirstbootConfiguration.controlPlaneVIP): the address, the
         * port it answers on, its interface (NULL: the one carrying advertise_address); checked: the
         * interface exists, the address is in its subnet, and (init) no other host holds it; with keepalived
         * haproxy's port is free. NULL vip_address: none. */
        const char *vip_address, *vip_interface, *advertise_address;
        unsigned vip_port;
        bool vip_haproxy;
        const char *proc_root; /* where /proc and /sys are read (NULL: /); tests point it at a tree */
        const char *path;      /* where tools are searched; NULL: $PATH */
        /* --root DIR without --allow-host: DIR is not this machine, so this machine's ports, programs,
         * /proc and /sys (unless proc_root names a tree) are not checked; one warning says so. */
        bool files_only;
        time_t now; /* 0: the clock (tests set it) */
};

struct fb_preflight_finding {
        char *check;   /* kubeadm's name, e.g. "Port-6443" */
        char *message; /* what was found and what to do about it */
        bool error;    /* false: a warning, or an error that ignorePreflightErrors turned into one */
        bool ignored;  /* an error turned into a warning */
};

struct fb_preflight_report {
        struct fb_preflight_finding *findings;
        size_t n;
        size_t errors; /* findings with error set */
        size_t ran;    /* checks run, passed or not */
};

/*
 * Runs the role's checks. Returns 0 when the checks ran, whatever they found (*ret lists the warnings and
 * errors, in kubeadm's order); -EINVAL for a bad spec (no role, "all" with other names in ignore: see
 * fb_preflight_ignore_problem()), -ENOMEM. *ret is written only on success.
 */
int fb_preflight_run(const struct fb_preflight_spec *s, struct fb_preflight_report *ret);
void fb_preflight_report_done(struct fb_preflight_report *r);

/* Prints the findings as kubeadm does, "[ERROR Name]: message" / "[WARNING Name]: message", one a line. */
void fb_preflight_report_print(const struct fb_preflight_report *r, FILE *out);

/* Whether check would have its errors ignored under the list (case-insensitive, or "all"). */
bool fb_preflight_ignored(char *const *ignore, const char *check);
/* What is wrong with an ignore list, as kubeadm validates it ("all" must stand alone); NULL when fine. */
const char *fb_preflight_ignore_problem(char *const *ignore);

/* kubeadm's name for a file or directory check: "FileAvailable" + "/etc/x.conf" ->
 * "FileAvailable--etc-x.conf". */
char *fb_preflight_path_check_name(const char *kind, const char *path);

/* Parsers, exposed for the unit tests. */
/* Active swap areas in a /proc/swaps text (the lines after the header). */
size_t fb_preflight_parse_swaps(const char *text);
/* MemTotal of a /proc/meminfo text in MiB; -EBADMSG when absent. */
int fb_preflight_parse_meminfo(const char *text, unsigned long long *ret_mib);
/* The minor version of "Kubernetes v1.34.2" (kubelet --version) or "v1.34.2"; -EINVAL otherwise. */
int fb_preflight_parse_minor(const char *s, unsigned *ret_minor);
/* The unix socket path of a CRI endpoint: "unix:///run/x.sock" or "/run/x.sock"; -EINVAL otherwise. */
int fb_preflight_cri_path(const char *endpoint, const char **ret_path);

/* Binds and listens on every address of this machine's network namespace, as kubeadm's net.Listen(":port")
 * does: 0 when the port is free, -errno (-EADDRINUSE) when something holds it. */
int fb_host_port_free(unsigned port);
