/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to metadata/: the datasource table and helpers the datasources share. */
#pragma once

#include <cjson/cJSON.h>

#include "common/http.h"
#include "metadata/metadata.h"

/* A datasource fills inst; -ENXIO means "not here" (quickly), other errors mean it is here but failed. */
struct md_source {
        const char *name;
        int (*fetch)(const struct md_options *o, const struct md_platform *p, struct md_instance *inst);
};

extern const struct md_source md_source_cloudinit, md_source_ec2, md_source_gce, md_source_azure,
        md_source_openstack, md_source_configdrive, md_source_nocloud, md_source_vmware, md_source_files;

#define MD_META_MAX (1024u * 1024u)

/* Replaces *field with a copy of value (NULL and "" clear it). */
int md_set(char **field, const char *value);
int md_set_n(char **field, const char *value, size_t n);
/* Adds or replaces a tag. */
int md_tag(struct md_instance *inst, const char *key, const char *value);
/* Takes ownership of data (wiped). */
void md_set_userdata(struct md_instance *inst, char *data, size_t len);
/* Where the user-data came from (a path, a URL), for messages. */
int md_set_userdata_source(struct md_instance *inst, const char *where);
/*
 * The user-data is there but cannot be used (unreadable, over a size cap, not the base64 its encoding
 * says): records "user-data: <message>" and where it came from, so that the configuration refuses it
 * instead of the node going on without it. Returns 0, or -ENOMEM.
 */
int md_userdata_unusable(struct md_instance *inst, const char *where, const char *fmt, ...) _printf_(3, 4);
/* The same for a read that failed with r (-EFBIG: over cap bytes). 0 for -ENOENT (no user-data), else as
 * md_userdata_unusable(). */
int md_userdata_read_failed(struct md_instance *inst, const char *where, int r, size_t cap);

/* The base URL: opts->endpoint when set, else def; without a trailing slash. Caller frees. */
char *md_base_url(const struct md_options *o, const char *def);

/* Records what failed in o->error (the first failure wins), logs it at debug level, returns -|r|. */
int md_fail(const struct md_options *o, int r, const char *fmt, ...) _printf_(3, 4);

/* One HTTP request with the metadata timeouts, body cap and no proxy. A transport failure is recorded in
 * o->error with the method and the URL. */
int md_http(const struct md_options *o, const char *method, const char *url, const char *const *headers,
            unsigned retries, struct http_response **ret);

/* The link-local metadata services, and the header each wants on every request. */
#define MD_LINK_LOCAL_URL "http://169.254.169.254"
#define MD_GCE_HEADER     "Metadata-Flavor: Google"
#define MD_AZURE_HEADER   "Metadata: true"

/*
 * An IMDSv2 session (ds-ec2.c), shared by the EC2 datasource and the instance role's credentials
 * (secret-store-aws.c). Set o and base (owned, without a trailing slash), then md_ec2_session_token(): the
 * session token (TTL 21600 s), or IMDSv1 when the IMDS has no token API (404/405); -ENXIO when the IMDS is
 * turned off (403). md_ec2_session_get() GETs base/path with the token and renews it once on a 401; the
 * status is the caller's to judge. md_ec2_session_done() wipes the token.
 */
struct md_ec2_session {
        const struct md_options *o;
        char *base;
        char *token; /* secret-ish: wiped */
        bool v1;     /* no token: IMDSv1 */
};
int md_ec2_session_token(struct md_ec2_session *e);
int md_ec2_session_get(struct md_ec2_session *e, const char *path, struct http_response **ret);
void md_ec2_session_done(struct md_ec2_session *e);

/*
 * Parses JSON keeping integers beyond 2^53 exact: such numbers become strings holding their digits
 * (GCE instance ids). Same errors as json_parse().
 */
int md_json_parse(const char *buf, size_t len, cJSON **ret);

/* A string, or the text of a number (exact for md_json_parse() strings), at a dotted path; NULL else. */
const char *md_json_text(const cJSON *root, const char *path);

/* Reads a file under root (cap MD_META_MAX); -ENOENT when absent. */
int md_read(const char *root, const char *path, char **ret, size_t *ret_len);

/* Fills localIPv4/localIPv6 from a network-config (v1 or v2) document when they are still unset. */
void md_addresses_from_network_config(struct md_instance *inst, const cJSON *netcfg);

/* Sets region from an availability zone when unset: "us-east-1a" -> "us-east-1", "us-central1-b" ->
 * "us-central1" (dash_style). */
int md_region_from_zone(struct md_instance *inst, bool dash_style);

/* Filesystems on devices and image files (media.c). */
struct md_media;
/* Finds a device whose filesystem label is one of labels (case-sensitive list), via libblkid. */
int md_find_label(const char *const *labels, char **ret_device);
/* Probes a device or image file: its filesystem label and type. */
int md_probe(const char *device, char **ret_label, char **ret_type);
/* Opens a filesystem: mounted read-only when it can be (a block device on a kernel that has the
 * filesystem), else read by our own iso9660/vfat reader. */
int md_media_open(const char *device, struct md_media **ret);
int md_media_read(struct md_media *m, const char *path, size_t max, char **ret, size_t *ret_len);
const char *md_media_method(const struct md_media *m); /* "mount" or "reader" */
struct md_media *md_media_free(struct md_media *m);
static inline void md_media_freep(struct md_media **m) {
        *m = md_media_free(*m);
}

/* The parsers behind the datasources, exposed for unit tests and fuzzing; each fills inst. */
int md_gce_parse_instance(const char *body, size_t len, struct md_instance *inst);
int md_azure_parse_imds(const char *body, size_t len, struct md_instance *inst);
int md_azure_parse_ovf(const char *xml, size_t len, struct md_instance *inst);
int md_openstack_parse_meta(const char *text, size_t len, struct md_instance *inst);
int md_openstack_parse_network(const char *text, size_t len, struct md_instance *inst);
int md_vmware_parse_metadata(const char *text, size_t len, struct md_instance *inst);
int md_vmware_decode(const char *value, const char *encoding, char **ret, size_t *ret_len);

/* The in-memory readers under md_media, for tests and fuzzing: read a file out of an image buffer. */
int md_iso9660_read(const void *img, size_t img_len, const char *path, size_t max, char **ret,
                    size_t *ret_len);
int md_vfat_read(const void *img, size_t img_len, const char *path, size_t max, char **ret, size_t *ret_len);
