/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User-data decoding: whatever a cloud hands over, turned into a flat list of typed parts.
 *
 * The body may be base64 (whole body, strict), gzip (magic 1f 8b), a MIME multipart archive (nested
 * multiparts are flattened, parts may be base64/quoted-printable and gzip'ed), or a single document
 * whose type follows from its first line the way cloud-init routes it (#cloud-config, #!, ...). A body
 * that is none of those but parses as YAML documents with apiVersion/kind is taken as our own type,
 * application/vnd.kube-firstboot+yaml.
 *
 * Our configuration can come from:
 *   - a part of type application/vnd.kube-firstboot+yaml (YAML documents),
 *   - a #cloud-config part's top-level kube_firstboot: key, holding a list of documents, one document
 *     (a mapping with kind), or a string of YAML documents,
 *   - a plain multi-document YAML body.
 * md_userdata_config() collects those documents, each with a label naming where it came from.
 *
 * Part data may hold secrets (bootstrap tokens, certificate keys): it is wiped when freed.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>

#define MD_MIME_KUBE_FIRSTBOOT "application/vnd.kube-firstboot+yaml"
#define MD_USERDATA_MAX        (16u * 1024u * 1024u)
#define MD_USERDATA_MAX_PARTS  128u
#define MD_USERDATA_MAX_DEPTH  8u

struct md_part {
        char *type;     /* lower-case MIME type, e.g. "text/cloud-config" */
        char *filename; /* from Content-Disposition, or NULL */
        char *data;     /* decoded bytes, NUL-terminated; secret */
        size_t len;
        unsigned line; /* the line of the user-data as received where data starts; 0 when decoded */
};

struct md_userdata {
        struct md_part *parts;
        size_t n_parts;
        size_t raw_len; /* bytes as received */
};

/*
 * Where a user-data problem is and what it is, so that the message lets the operator find it. Filled by
 * md_userdata_parse() on failure; the first (innermost) problem wins.
 */
struct md_userdata_error {
        unsigned part;     /* 1-based number of the part the problem is in; 0 for the body as a whole */
        char type[80];     /* that part's MIME type, "" when it has none */
        unsigned line;     /* 1-based line of the user-data as received where the problem is; 0 unknown */
        char message[200]; /* what is wrong, with the limit that was hit */
};

/*
 * Decodes a user-data body. An empty body gives zero parts. -EBADMSG for malformed MIME, base64 or gzip,
 * -EFBIG over MD_USERDATA_MAX (before or after decompression), -E2BIG over the part or nesting caps;
 * *err (when non-NULL) says where and what.
 */
int md_userdata_parse(const void *buf, size_t len, struct md_userdata **ret, struct md_userdata_error *err);
/* The same without the location. */
int md_userdata_decode(const void *buf, size_t len, struct md_userdata **ret);

/* The problem as one line: "user-data part 2 (application/vnd.kube-firstboot+yaml), line 12: ...". Caller
 * frees; NULL on OOM. */
char *md_userdata_error_to_string(const struct md_userdata_error *e);

struct md_userdata *md_userdata_free(struct md_userdata *ud);
static inline void md_userdata_freep(struct md_userdata **u) {
        *u = md_userdata_free(*u);
}

/* The part type a single (non-MIME) body gets from its first bytes. Never NULL. */
const char *md_userdata_guess_type(const char *data, size_t len);

/*
 * Collects our configuration documents from the decoded parts into *ret_docs: an array of objects
 * {"source": "user-data part 2 (text/cloud-config)", "document": {...}}. Problems (YAML errors, a
 * kube_firstboot: key of the wrong shape, a document that is not a mapping) are appended to *problems as
 * "source: message" strings; they do not stop the collection. Returns 0 or -ENOMEM.
 */
int md_userdata_config(const struct md_userdata *ud, const char *source, cJSON **ret_docs, char ***problems);

/*
 * Parses one YAML text holding our documents (or a #cloud-config with kube_firstboot:) the same way, with
 * the given source label. For image defaults, files named on the command line and metadata attributes.
 */
int md_config_documents_from_text(const char *text, size_t len, const char *source, cJSON *docs,
                                  char ***problems);

/* The MIME parser underneath, exposed for tests and fuzzing: splits a MIME entity into leaf parts
 * appended to *ud (depth counts nested multiparts). */
int md_mime_parse(const char *buf, size_t len, unsigned depth, struct md_userdata *ud);
