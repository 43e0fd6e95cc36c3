/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup-libs.h"
#include "common/jsonbuild.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/yamlutil.h"
#include "metadata/decode.h"
#include "metadata/source.h"
#include "metadata/userdata.h"

struct md_userdata *md_userdata_free(struct md_userdata *ud) {
        if (!ud)
                return NULL;
        for (size_t i = 0; i < ud->n_parts; i++) {
                free(ud->parts[i].type);
                free(ud->parts[i].filename);
                if (ud->parts[i].data) {
                        explicit_bzero(ud->parts[i].data, ud->parts[i].len);
                        erase_and_free(ud->parts[i].data);
                }
        }
        free(ud->parts);
        free(ud);
        return NULL;
}

/* Takes ownership of data (wiped on failure). */
static int add_part(struct md_userdata *ud, const char *type, const char *filename, char *data, size_t len) {
        struct md_part *t;
        char *ty = NULL, *fn = NULL;

        if (ud->n_parts >= MD_USERDATA_MAX_PARTS) {
                erase_and_free(data);
                return log_debug_errno(E2BIG, "User-data has more than %u parts", MD_USERDATA_MAX_PARTS);
        }
        t = realloc(ud->parts, sizeof(*t) * (ud->n_parts + 1));
        ty = strdup(type);
        fn = filename ? strdup(filename) : NULL;
        if (!t || !ty || (filename && !fn)) {
                if (t)
                        ud->parts = t;
                free(ty);
                free(fn);
                erase_and_free(data);
                return -ENOMEM;
        }
        for (char *p = ty; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        ud->parts = t;
        ud->parts[ud->n_parts++] = (struct md_part){.type = ty, .filename = fn, .data = data, .len = len};
        return 0;
}

static char *memdup_nul(const char *p, size_t n) {
        char *s = malloc(n + 1);
        if (!s)
                return NULL;
        memcpy(s, p, n);
        s[n] = 0;
        return s;
}

static bool first_line_is(const char *data, size_t len, const char *prefix) {
        size_t l = strlen(prefix);
        return len >= l && strncmp(data, prefix, l) == 0;
}

static bool looks_like_our_yaml(const char *data, size_t len) {
        _cleanup_(json_delete_wipedp) cJSON *docs = NULL;
        const cJSON *d;
        bool any = false;

        /* Cheap test first: both words must be there. */
        if (!memmem(data, len, "kind", 4) || !memmem(data, len, "apiVersion", 10))
                return false;
        if (yaml_parse_documents(data, len, &docs, NULL) < 0)
                return false;
        cJSON_ArrayForEach(d, docs) {
                if (!cJSON_IsObject(d) || !cJSON_GetObjectItemCaseSensitive(d, "kind"))
                        return false;
                any = true;
        }
        return any;
}

const char *md_userdata_guess_type(const char *data, size_t len) {
        static const struct {
                const char *prefix, *type;
        } table[] = {
                /* Longer prefixes first: "#cloud-config-archive" before "#cloud-config". */
                {"#cloud-config-archive", "text/cloud-config-archive"},
                {"#cloud-config", "text/cloud-config"},
                {"#cloud-boothook", "text/cloud-boothook"},
                {"#include-once", "text/x-include-once-url"},
                {"#include", "text/x-include-url"},
                {"## template: jinja", "text/jinja2"},
                {"#part-handler", "text/part-handler"},
                {"#kube-firstboot", MD_MIME_KUBE_FIRSTBOOT},
                {"#!", "text/x-shellscript"},
        };
        if (!data || len == 0)
                return "text/plain";
        if (md_is_gzip(data, len))
                return "application/x-gzip";
        /* cloud-init compares the start with leading whitespace removed. */
        while (len > 0 && (*data == ' ' || *data == '\t' || *data == '\r' || *data == '\n'))
                data++, len--;
        if (len == 0)
                return "text/plain";
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (first_line_is(data, len, table[i].prefix))
                        return table[i].type;
        if (data[0] == '{' && memmem(data, len, "\"ignition\"", 10))
                return "application/vnd.coreos.ignition+json";
        if (looks_like_our_yaml(data, len))
                return MD_MIME_KUBE_FIRSTBOOT;
        return "text/plain";
}

/* ---- MIME ---- */

struct header_set {
        char *content_type; /* main type, lower-case */
        char *boundary;
        char *encoding; /* lower-case */
        char *filename;
};

static void header_set_done(struct header_set *h) {
        free(h->content_type);
        free(h->boundary);
        free(h->encoding);
        free(h->filename);
}

/* The value of a parameter such as boundary="x" or filename=y in a header value; NULL when absent. */
static char *header_param(const char *value, const char *name) {
        size_t nl = strlen(name);
        for (const char *p = strchr(value, ';'); p; p = strchr(p, ';')) {
                p++;
                while (*p == ' ' || *p == '\t')
                        p++;
                if (strncasecmp(p, name, nl) != 0)
                        continue;
                const char *v = p + nl;
                while (*v == ' ' || *v == '\t')
                        v++;
                if (*v != '=')
                        continue;
                v++;
                while (*v == ' ' || *v == '\t')
                        v++;
                if (*v == '"') {
                        const char *end = strchr(v + 1, '"');
                        return end ? memdup_nul(v + 1, (size_t) (end - v - 1)) : NULL;
                }
                size_t n = strcspn(v, "; \t");
                return memdup_nul(v, n);
        }
        return NULL;
}

static char *header_main_value(const char *value) {
        size_t n = strcspn(value, "; \t");
        char *s = memdup_nul(value, n);
        if (s)
                for (char *p = s; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
        return s;
}

static const char *line_end(const char *p, const char *end, const char **next) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        if (!nl) {
                *next = end;
                return end;
        }
        *next = nl + 1;
        return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
}

static bool eol_is_first(const char *buf, const char *line_start) {
        return buf == line_start;
}

/* Parses the header block; *ret_body points after the blank line (or at the end). */
static int parse_headers(const char *buf, size_t len, struct header_set *h, const char **ret_body) {
        const char *p = buf, *end = buf + len;

        while (p < end) {
                const char *next, *eol = line_end(p, end, &next), *line_start = p;
                _cleanup_free_ char *line = NULL;
                if (eol == p) { /* blank line: the body starts */
                        p = next;
                        break;
                }
                line = memdup_nul(p, (size_t) (eol - p));
                if (!line)
                        return -ENOMEM;
                /* Folded continuation lines. */
                while (next < end && (*next == ' ' || *next == '\t')) {
                        const char *n2, *e2 = line_end(next, end, &n2);
                        size_t ol = strlen(line), al = (size_t) (e2 - next);
                        char *t = realloc(line, ol + al + 1);
                        if (!t)
                                return -ENOMEM;
                        memcpy(t + ol, next, al);
                        t[ol + al] = 0;
                        line = t;
                        next = n2;
                }
                p = next;
                char *colon = strchr(line, ':');
                if (!colon || strcspn(line, " \t") < (size_t) (colon - line)) {
                        /* A part that starts with its content, without headers. */
                        if (eol_is_first(buf, line_start)) {
                                p = buf;
                                break;
                        }
                        return log_debug_errno(EBADMSG, "MIME header line without a colon");
                }
                /* Both branches above leave: colon is set here (cppcheck cannot see through break). */
                /* cppcheck-suppress nullPointerRedundantCheck */
                *colon = 0;
                /* cppcheck-suppress nullPointerArithmeticRedundantCheck */
                const char *value = colon + 1;
                while (*value == ' ' || *value == '\t')
                        value++;
                if (strcasecmp(line, "Content-Type") == 0) {
                        free(h->content_type);
                        free(h->boundary);
                        h->content_type = header_main_value(value);
                        h->boundary = header_param(value, "boundary");
                        if (!h->content_type)
                                return -ENOMEM;
                } else if (strcasecmp(line, "Content-Transfer-Encoding") == 0) {
                        free(h->encoding);
                        h->encoding = header_main_value(value);
                        if (!h->encoding)
                                return -ENOMEM;
                } else if (strcasecmp(line, "Content-Disposition") == 0) {
                        free(h->filename);
                        h->filename = header_param(value, "filename");
                }
        }
        *ret_body = p;
        return 0;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static int qp_decode(const char *s, size_t len, char **ret, size_t *ret_len) {
        char *out = malloc(len + 1);
        size_t n = 0;
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                if (s[i] != '=') {
                        out[n++] = s[i];
                        continue;
                }
                if (i + 1 < len && s[i + 1] == '\n') { /* soft line break */
                        i += 1;
                        continue;
                }
                if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
                        i += 2;
                        continue;
                }
                if (i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                        out[n++] = (char) (hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
                        i += 2;
                        continue;
                }
                out[n++] = s[i];
        }
        out[n] = 0;
        *ret = out;
        *ret_len = n;
        return 0;
}

static int decode_body(struct md_userdata *ud, const char *data, size_t len, const char *type,
                       const char *filename, unsigned depth);

static int parse_multipart(const char *body, size_t len, const char *boundary, unsigned depth,
                           struct md_userdata *ud) {
        const char *p = body, *end = body + len;
        const char *part_start = NULL;
        size_t bl = strlen(boundary);
        bool closed = false;

        if (bl == 0 || bl > 200)
                return log_debug_errno(EBADMSG, "MIME boundary missing or too long");
        while (p < end) {
                const char *next, *eol = line_end(p, end, &next);
                size_t ll = (size_t) (eol - p);
                if (ll >= bl + 2 && p[0] == '-' && p[1] == '-' && memcmp(p + 2, boundary, bl) == 0) {
                        const char *rest = p + 2 + bl;
                        bool last = (size_t) (eol - rest) >= 2 && rest[0] == '-' && rest[1] == '-';
                        /* Only whitespace may follow the boundary (RFC 2046 transport padding). */
                        const char *q = rest + (last ? 2 : 0);
                        while (q < eol && (*q == ' ' || *q == '\t'))
                                q++;
                        if (q == eol) {
                                if (part_start) {
                                        /* The line break before the delimiter belongs to it. */
                                        const char *pe = p;
                                        if (pe > part_start && pe[-1] == '\n')
                                                pe--;
                                        if (pe > part_start && pe[-1] == '\r')
                                                pe--;
                                        int r = md_mime_parse(part_start, (size_t) (pe - part_start),
                                                              depth + 1, ud);
                                        if (r < 0)
                                                return r;
                                }
                                if (last) {
                                        closed = true;
                                        break;
                                }
                                part_start = next;
                        }
                }
                p = next;
        }
        if (!closed && part_start && part_start < end) {
                /* A missing closing delimiter: take what is there, as Python's email module does. */
                int r = md_mime_parse(part_start, (size_t) (end - part_start), depth + 1, ud);
                if (r < 0)
                        return r;
        }
        return 0;
}

int md_mime_parse(const char *buf, size_t len, unsigned depth, struct md_userdata *ud) {
        _cleanup_(header_set_done) struct header_set h = {};
        _cleanup_erase_ char *decoded = NULL;
        const char *body = buf;
        size_t blen, dlen;
        int r;

        if (depth > MD_USERDATA_MAX_DEPTH)
                return log_debug_errno(E2BIG, "MIME nested deeper than %u levels", MD_USERDATA_MAX_DEPTH);
        r = parse_headers(buf, len, &h, &body);
        if (r < 0)
                return r;
        blen = (size_t) (buf + len - body);

        if (h.content_type && startswith(h.content_type, "multipart/")) {
                if (!h.boundary)
                        return log_debug_errno(EBADMSG, "multipart without a boundary");
                return parse_multipart(body, blen, h.boundary, depth, ud);
        }
        if (h.encoding && streq(h.encoding, "base64")) {
                r = md_base64_decode(body, blen, false, &decoded, &dlen);
                if (r < 0)
                        return log_debug_errno(r, "MIME part with bad base64");
        } else if (h.encoding && streq(h.encoding, "quoted-printable")) {
                r = qp_decode(body, blen, &decoded, &dlen);
                if (r < 0)
                        return r;
        } else {
                decoded = memdup_nul(body, blen);
                if (!decoded)
                        return -ENOMEM;
                dlen = blen;
        }
        return decode_body(ud, decoded, dlen, h.content_type, h.filename, depth);
}

static bool looks_like_mime(const char *data, size_t len) {
        return (len > 13 && strncasecmp(data, "Content-Type:", 13) == 0) ||
               (len > 13 && strncasecmp(data, "MIME-Version:", 13) == 0);
}

static bool decoded_is_plausible(const char *d, size_t n) {
        if (md_is_gzip(d, n))
                return true;
        /* Text only: a NUL or other control bytes mean it was not base64-wrapped user-data. */
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) d[i];
                if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
                        return false;
        }
        return n > 0 && (d[0] == '#' || looks_like_mime(d, n) || startswith(d, "---") ||
                         startswith(d, "apiVersion") || startswith(d, "kind") || d[0] == '{');
}

/*
 * A body of the given MIME type (NULL when there were no headers). Generic types are refined by looking
 * at the bytes; gzip and base64 wrappers are removed; a body that is itself MIME is parsed.
 */
static int decode_body(struct md_userdata *ud, const char *data, size_t len, const char *type,
                       const char *filename, unsigned depth) {
        char *copy;
        int r;

        if (depth > MD_USERDATA_MAX_DEPTH)
                return log_debug_errno(E2BIG, "User-data wrapped deeper than %u levels",
                                       MD_USERDATA_MAX_DEPTH);
        if (md_is_gzip(data, len)) {
                _cleanup_erase_ char *out = NULL;
                size_t olen;
                r = md_gunzip(data, len, MD_USERDATA_MAX, &out, &olen);
                if (r < 0)
                        return r;
                bool generic = !type || streq(type, "application/x-gzip") ||
                               streq(type, "application/gzip") || streq(type, "application/octet-stream") ||
                               streq(type, "text/plain");
                return decode_body(ud, out, olen, generic ? NULL : type, filename, depth + 1);
        }
        if (!type && md_is_base64(data, len, 16)) {
                _cleanup_erase_ char *out = NULL;
                size_t olen;
                if (md_base64_decode(data, len, true, &out, &olen) >= 0 && decoded_is_plausible(out, olen))
                        return decode_body(ud, out, olen, NULL, filename, depth + 1);
        }
        if (!type && len > 5 && startswith(data, "From ")) {
                /* An mbox "From " line before the headers (cloud-init's .email test files). */
                const char *nl = memchr(data, '\n', len);
                if (nl && looks_like_mime(nl + 1, len - (size_t) (nl + 1 - data)))
                        return md_mime_parse(nl + 1, len - (size_t) (nl + 1 - data), depth + 1, ud);
        }
        if (!type && looks_like_mime(data, len))
                return md_mime_parse(data, len, depth + 1, ud);
        if (!type || streq(type, "text/plain") || streq(type, "application/octet-stream") ||
            streq(type, "text/x-not-multipart"))
                type = md_userdata_guess_type(data, len);
        if (len == 0 && depth == 0)
                return 0;
        copy = memdup_nul(data, len);
        if (!copy)
                return -ENOMEM;
        return add_part(ud, type, filename, copy, len);
}

int md_userdata_decode(const void *buf, size_t len, struct md_userdata **ret) {
        _cleanup_(md_userdata_freep) struct md_userdata *ud = calloc(1, sizeof(*ud));
        int r;

        if (!ud)
                return -ENOMEM;
        if (len > MD_USERDATA_MAX)
                return -EFBIG;
        ud->raw_len = len;
        if (len > 0) {
                r = decode_body(ud, buf, len, NULL, NULL, 0);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(ud);
        return 0;
}

/* ---- our configuration documents ---- */

_printf_(2, 3) static int add_problem(char ***problems, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        return strv_consume(problems, s);
}

static int add_document(cJSON *docs, const char *source, cJSON *doc) {
        struct json_builder b = {.wipe = true};
        cJSON *w = jb_object(&b);

        jb_str(&b, w, "source", source);
        jb_add(&b, w, "document", doc);
        w = jb_result(&b, w);
        if (w)
                jb_add(&b, docs, NULL, w);
        return jb_error(&b);
}

static int add_documents_from_array(cJSON *arr, const char *source, cJSON *docs, char ***problems) {
        int i = 0, r;
        while (cJSON_GetArraySize(arr) > 0) {
                cJSON *d = cJSON_DetachItemFromArray(arr, 0);
                _cleanup_free_ char *label = strdupf("%s, document %d", source, ++i);
                if (!label) {
                        cJSON_Delete(d);
                        return -ENOMEM;
                }
                if (!cJSON_IsObject(d)) {
                        cJSON_Delete(d);
                        r = add_problem(problems, "%s: a configuration document must be a mapping", label);
                } else
                        r = add_document(docs, label, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cloud_config_documents(const char *text, size_t len, const char *source, cJSON *docs,
                                  char ***problems) {
        _cleanup_(json_delete_wipedp) cJSON *cc = NULL;
        struct yaml_error err = {};
        cJSON *kf, *first;
        int r;

        r = yaml_parse_documents(text, len, &cc, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add_problem(problems, "%s: not valid YAML (line %u column %u: %s)", source, err.line,
                                   err.column, err.message);
        first = cJSON_GetArrayItem(cc, 0);
        if (!first)
                return 0;
        if (!cJSON_IsObject(first))
                return add_problem(problems, "%s: a #cloud-config must be a mapping", source);
        kf = cJSON_GetObjectItemCaseSensitive(first, "kube_firstboot");
        if (!kf || cJSON_IsNull(kf))
                return 0;
        _cleanup_free_ char *label = strdupf("%s kube_firstboot", source);
        if (!label)
                return -ENOMEM;
        if (cJSON_IsString(kf))
                return md_config_documents_from_text(kf->valuestring, strlen(kf->valuestring), label, docs,
                                                     problems);
        if (cJSON_IsArray(kf))
                return add_documents_from_array(kf, label, docs, problems);
        if (cJSON_IsObject(kf)) {
                cJSON *d = cJSON_DetachItemViaPointer(first, kf);
                /* A mapping without kind is the FirstbootConfiguration body, the short form. */
                if (!cJSON_GetObjectItemCaseSensitive(d, "kind")) {
                        struct json_builder b = {};
                        if (!cJSON_GetObjectItemCaseSensitive(d, "apiVersion"))
                                jb_str(&b, d, "apiVersion", "kube-firstboot.io/v1alpha1");
                        jb_str(&b, d, "kind", "FirstbootConfiguration");
                        if (jb_error(&b) < 0) {
                                json_delete_wiped(d);
                                return jb_error(&b);
                        }
                }
                return add_document(docs, label, d);
        }
        return add_problem(
                problems,
                "%s: kube_firstboot must be a list of documents, a document, or a string of YAML documents",
                label);
}

int md_config_documents_from_text(const char *text, size_t len, const char *source, cJSON *docs,
                                  char ***problems) {
        _cleanup_(json_delete_wipedp) cJSON *arr = NULL;
        struct yaml_error err = {};
        int r;

        if (first_line_is(text, len, "#cloud-config") && !first_line_is(text, len, "#cloud-config-archive"))
                return cloud_config_documents(text, len, source, docs, problems);
        r = yaml_parse_documents(text, len, &arr, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add_problem(problems, "%s: not valid YAML (line %u column %u: %s)", source, err.line,
                                   err.column, err.message);
        return add_documents_from_array(arr, source, docs, problems);
}

int md_userdata_config(const struct md_userdata *ud, const char *source, cJSON **ret_docs,
                       char ***problems) {
        _cleanup_(json_delete_wipedp) cJSON *docs = cJSON_CreateArray();
        int r;

        if (!docs)
                return -ENOMEM;
        for (size_t i = 0; ud && i < ud->n_parts; i++) {
                const struct md_part *p = &ud->parts[i];
                _cleanup_free_ char *label = NULL;
                if (!streq(p->type, MD_MIME_KUBE_FIRSTBOOT) && !streq(p->type, "text/cloud-config"))
                        continue;
                label = ud->n_parts == 1 ? strdupf("%s (%s)", source, p->type)
                                         : strdupf("%s part %zu (%s)", source, i + 1, p->type);
                if (!label)
                        return -ENOMEM;
                if (streq(p->type, "text/cloud-config"))
                        r = cloud_config_documents(p->data, p->len, label, docs, problems);
                else
                        r = md_config_documents_from_text(p->data, p->len, label, docs, problems);
                if (r < 0)
                        return r;
        }
        *ret_docs = TAKE_PTR(docs);
        return 0;
}
