/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Instance metadata: which platform this machine runs on, and what its metadata source says about it,
 * normalized into one instance view whatever the source (cloud-init's instance-data, EC2 IMDSv2, GCE,
 * Azure IMDS + OVF custom data, OpenStack metadata service or config drive, NoCloud, VMware guestinfo,
 * plain files under /etc/kube-firstboot and /run/metadata).
 *
 * Every node path is read under opts->root; every endpoint, device and tool can be overridden for tests.
 * A source that is not there answers -ENXIO quickly: platform detection (DMI, kernel command line,
 * filesystem labels) decides which network sources are worth asking at all, so an unknown platform never
 * waits on link-local timeouts.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "metadata/userdata.h"

struct md_options {
        const char *root;       /* node paths under this root; NULL = / */
        const char *datasource; /* force one (md_datasource_names()); NULL or "auto" = detect */
        const char
                *endpoint;   /* base URL of the HTTP source (or NoCloud seedfrom), instead of the real one */
        const char *device;  /* a block device or image file for NoCloud / config drive / OVF media */
        unsigned timeout_ms; /* per request; 0 = 3000 */
        unsigned retries;    /* extra attempts on transient HTTP failures; 0 = 3 */
        /* The node is root, not this machine: run no program of this machine (vmware-rpctool) and probe
         * none of its block devices by label (a --device named by the operator is still read). */
        bool no_host;
        /* Optional buffer of MD_ERROR_MAX bytes: after a failure, what failed in words, with the URL or
         * path and the limit that was hit ("GET http://.../latest/api/token: timed out after 3 s"). */
        char *error;
};

#define MD_ERROR_MAX 512

/* What ds-identify-like detection found. Strings are owned by the struct. */
struct md_platform {
        const char *id;   /* "ec2", "gce", "azure", "openstack", "vmware", "nocloud", or "unknown" */
        char reason[200]; /* the decisive signal, for the debug log and 'metadata' output */
        char *forced;     /* datasource named on the kernel command line (ds=, ci.ds=, ci.datasource=) */
        char *nocloud;    /* the "ds=nocloud[-net];..." configuration from the command line or DMI serial */
        char *ignition;   /* ignition.platform.id= */
        char *product_uuid; /* DMI product_uuid, lower-case */
        bool cloud_init;    /* /run/cloud-init/instance-data.json exists */
};

int md_platform_detect(const char *root, struct md_platform **ret);
struct md_platform *md_platform_free(struct md_platform *p);
static inline void md_platform_freep(struct md_platform **p) {
        *p = md_platform_free(*p);
}
/* Reads one /sys/class/dmi/id/ file under root, trimmed; NULL when absent. Caller frees. */
char *md_dmi_read(const char *root, const char *name);
/* Parses "ds=nocloud;s=...;h=...;i=..." style settings: the value of key (short or long name); NULL when
 * absent. Caller frees. */
char *md_nocloud_setting(const char *line, const char *short_key, const char *long_key);

/* The normalized instance view. */
struct md_instance {
        char *platform;   /* as struct md_platform.id, or what the source says */
        char *datasource; /* which reader produced this: "cloud-init", "ec2", "gce", ... */
        char *source;     /* where from: a URL, a device, a path */
        char *instance_id;
        char *hostname;
        char *local_ipv4;
        char *local_ipv6;
        char *region;
        char *zone;
        cJSON *tags;    /* object of strings: instance tags, metadata attributes, OpenStack meta */
        char *userdata; /* raw user-data as received (after the source's own base64); secret */
        size_t userdata_len;
        struct md_userdata *ud; /* decoded parts; NULL when no user-data */
        char *userdata_source;  /* where the user-data came from: a path, a URL, an attribute; or NULL */
        /* Why the user-data is there but cannot be used (unreadable, too large, not decodable), with where
         * in it: "user-data part 2 (text/x), line 12: ...". NULL when it is fine. Never the data itself. */
        char *userdata_error;
        /* Why the user-data stays readable, for the machine's whole life, by any process on it that reaches
         * the metadata service (EC2's IMDS answering without a session token, GCE's metadata server, Azure
         * IMDS's userData, OpenStack's metadata service); NULL when it is not known to be. */
        char *userdata_exposure;
};

struct md_instance *md_instance_new(void);
/* NULL-safe; wipes the user-data. */
struct md_instance *md_instance_free(struct md_instance *i);
static inline void md_instance_freep(struct md_instance **i) {
        *i = md_instance_free(*i);
}

/*
 * Finds the metadata source (or uses opts->datasource) and reads it into a new instance view, with the
 * user-data decoded. -ENXIO when a forced source is not there, -EINVAL for an unknown source name,
 * -ETIMEDOUT/-ECONNREFUSED/... when a source that should answer did not. Without a forced source and
 * with nothing found, the view has datasource "none".
 */
int md_fetch(const struct md_options *opts, struct md_instance **ret);

/*
 * The view as JSON: platform, datasource, source, instanceId, hostname, localIPv4, localIPv6, region,
 * zone, tags, userData {bytes, parts: [{type, bytes}], source, error, exposure}. Never the user-data itself.
 */
cJSON *md_instance_to_json(const struct md_instance *i);

/* Whether a tag or attribute name suggests a secret (token, key, password, ...): printed redacted. */
bool md_tag_looks_secret(const char *name);

/* Names accepted by opts->datasource, NULL-terminated. */
const char *const *md_datasource_names(void);
