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

/*
 * The state of one decoding: the parts found so far, the body as received (to turn a position into a line
 * number) and where the first problem goes.
 */
struct dctx {
        struct md_userdata *ud;
        const char *raw;
        size_t raw_len;
        struct md_userdata_error *err;
        bool in_part; /* inside a part of a multipart: problems name the part */
};

/* The line of p in the body as received; 0 when p points into a decoded (base64, gzip) copy. */
static unsigned line_of(const struct dctx *d, const char *p) {
        unsigned line = 1;
        if (!d->raw || !p || p < d->raw || p > d->raw + d->raw_len)
                return 0;
        for (const char *q = d->raw; q < p; q++)
                line += *q == '\n';
        return line;
}

/* Records the first problem: the part it is in (the next part to be added), its type and line. */
_printf_(5, 6) static int fail(struct dctx *d, int r, const char *at, const char *type, const char *fmt,
                               ...) {
        if (d->err && d->err->message[0] == 0) {
                va_list ap;
                d->err->part = d->ud && d->in_part ? (unsigned) d->ud->n_parts + 1 : 0;
                snprintf(d->err->type, sizeof(d->err->type), "%s", type ?: "");
                d->err->line = line_of(d, at);
                va_start(ap, fmt);
                (void) vsnprintf(d->err->message, sizeof(d->err->message), fmt, ap);
                va_end(ap);
        }
        return -abs(r);
}

/* Takes ownership of data (wiped on failure). */
static int add_part(struct dctx *d, const char *type, const char *filename, char *data, size_t len,
                    unsigned line) {
        struct md_userdata *ud = d->ud;
        struct md_part *t;
        char *ty = NULL, *fn = NULL;

        if (ud->n_parts >= MD_USERDATA_MAX_PARTS) {
                erase_and_free(data);
                if (d->err && d->err->message[0] == 0) {
                        /* The count, not the part: which one is the 129th says little. */
                        d->err->part = 0;
                        snprintf(d->err->message, sizeof(d->err->message),
                                 "has more than %u parts, the limit", MD_USERDATA_MAX_PARTS);
                }
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
        ud->parts[ud->n_parts++] =
                (struct md_part){.type = ty, .filename = fn, .data = data, .len = len, .line = line};
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

/*
 * Whether a body with no other type is ours: a line that starts with "apiVersion:" or "kind:", or a JSON
 * object with both. The YAML is not parsed here on purpose: broken YAML that was meant for us must reach
 * the configuration loader, which reports the error with its line, instead of being dropped as text.
 */
static bool looks_like_our_yaml(const char *data, size_t len) {
        const char *end = data + len;
        if (data[0] == '{')
                return memmem(data, len, "\"apiVersion\"", 12) && memmem(data, len, "\"kind\"", 6);
        for (const char *p = data; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
                if ((n >= 11 && strncmp(p, "apiVersion:", 11) == 0) ||
                    (n >= 5 && strncmp(p, "kind:", 5) == 0))
                        return true;
                p = nl ? nl + 1 : end;
        }
        return false;
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
static int parse_headers(struct dctx *d, const char *buf, size_t len, struct header_set *h,
                         const char **ret_body) {
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
                        log_debug("MIME header line without a colon");
                        return fail(
                                d, EBADMSG, line_start, h->content_type,
                                "a MIME header line without a colon (a header block must end with an empty line)");
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

static int decode_body(struct dctx *d, const char *data, size_t len, const char *type, const char *filename,
                       unsigned depth);
static int mime_parse(struct dctx *d, const char *buf, size_t len, unsigned depth);

static int parse_multipart(struct dctx *d, const char *body, size_t len, const char *type,
                           const char *boundary, unsigned depth) {
        const char *p = body, *end = body + len;
        const char *part_start = NULL;
        size_t bl = strlen(boundary);
        bool closed = false;

        if (bl == 0 || bl > 200)
                return fail(d, EBADMSG, body, type,
                            "the MIME boundary is empty or longer than 200 characters");
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
                                        bool was = d->in_part;
                                        d->in_part = true;
                                        int r = mime_parse(d, part_start, (size_t) (pe - part_start),
                                                           depth + 1);
                                        d->in_part = was;
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
                bool was = d->in_part;
                d->in_part = true;
                int r = mime_parse(d, part_start, (size_t) (end - part_start), depth + 1);
                d->in_part = was;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int mime_parse(struct dctx *d, const char *buf, size_t len, unsigned depth) {
        _cleanup_(header_set_done) struct header_set h = {};
        _cleanup_erase_ char *decoded = NULL;
        const char *body = buf;
        size_t blen, dlen;
        int r;

        if (depth > MD_USERDATA_MAX_DEPTH)
                return fail(d, E2BIG, buf, NULL, "MIME multiparts nested deeper than %u levels, the limit",
                            MD_USERDATA_MAX_DEPTH);
        r = parse_headers(d, buf, len, &h, &body);
        if (r < 0)
                return r;
        blen = (size_t) (buf + len - body);

        if (h.content_type && startswith(h.content_type, "multipart/")) {
                if (!h.boundary)
                        return fail(d, EBADMSG, buf, h.content_type,
                                    "a multipart without a boundary parameter in its Content-Type");
                return parse_multipart(d, body, blen, h.content_type, h.boundary, depth);
        }
        if (h.encoding && streq(h.encoding, "base64")) {
                r = md_base64_decode(body, blen, false, &decoded, &dlen);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return fail(d, r, body, h.content_type,
                                    "Content-Transfer-Encoding is base64, but the body is not valid base64");
        } else if (h.encoding && streq(h.encoding, "quoted-printable")) {
                r = qp_decode(body, blen, &decoded, &dlen);
                if (r < 0)
                        return r;
        } else
                /* As it is: the body is a stretch of the user-data, and its lines are the user-data's. */
                return decode_body(d, body, blen, h.content_type, h.filename, depth);
        /* A decoded copy has no lines of the body as received: the problems inside it point at its start. */
        r = decode_body(d, decoded, dlen, h.content_type, h.filename, depth);
        if (r < 0 && d->err && d->err->line == 0)
                d->err->line = line_of(d, body);
        return r;
}

int md_mime_parse(const char *buf, size_t len, unsigned depth, struct md_userdata *ud) {
        struct dctx d = {.ud = ud, .raw = buf, .raw_len = len};
        return mime_parse(&d, buf, len, depth);
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
static int decode_body(struct dctx *d, const char *data, size_t len, const char *type, const char *filename,
                       unsigned depth) {
        char *copy;
        int r;

        if (depth > MD_USERDATA_MAX_DEPTH)
                return fail(d, E2BIG, data, type,
                            "wrapped (MIME, base64, gzip) deeper than %u levels, the limit",
                            MD_USERDATA_MAX_DEPTH);
        if (md_is_gzip(data, len)) {
                _cleanup_erase_ char *out = NULL;
                size_t olen;
                r = md_gunzip(data, len, MD_USERDATA_MAX, &out, &olen);
                if (r == -EFBIG)
                        return fail(d, r, data, type,
                                    "gzip data larger than %u MiB once decompressed, the limit",
                                    MD_USERDATA_MAX / (1024u * 1024u));
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return fail(d, r, data, type, "not valid gzip data (truncated or corrupt)");
                bool generic = !type || streq(type, "application/x-gzip") ||
                               streq(type, "application/gzip") || streq(type, "application/octet-stream") ||
                               streq(type, "text/plain");
                r = decode_body(d, out, olen, generic ? NULL : type, filename, depth + 1);
                if (r < 0 && d->err && d->err->line == 0)
                        d->err->line = line_of(d, data);
                return r;
        }
        if (!type && md_is_base64(data, len, 16)) {
                _cleanup_erase_ char *out = NULL;
                size_t olen;
                if (md_base64_decode(data, len, true, &out, &olen) >= 0 && decoded_is_plausible(out, olen)) {
                        r = decode_body(d, out, olen, NULL, filename, depth + 1);
                        if (r < 0 && d->err && d->err->line == 0)
                                d->err->line = line_of(d, data);
                        return r;
                }
        }
        if (!type && len > 5 && startswith(data, "From ")) {
                /* An mbox "From " line before the headers (cloud-init's .email test files). */
                const char *nl = memchr(data, '\n', len);
                if (nl && looks_like_mime(nl + 1, len - (size_t) (nl + 1 - data)))
                        return mime_parse(d, nl + 1, len - (size_t) (nl + 1 - data), depth + 1);
        }
        if (!type && looks_like_mime(data, len))
                return mime_parse(d, data, len, depth + 1);
        if (!type || streq(type, "text/plain") || streq(type, "application/octet-stream") ||
            streq(type, "text/x-not-multipart"))
                type = md_userdata_guess_type(data, len);
        if (len == 0 && depth == 0)
                return 0;
        copy = memdup_nul(data, len);
        if (!copy)
                return -ENOMEM;
        return add_part(d, type, filename, copy, len, line_of(d, data));
}

int md_userdata_parse(const void *buf, size_t len, struct md_userdata **ret, struct md_userdata_error *err) {
        _cleanup_(md_userdata_freep) struct md_userdata *ud = calloc(1, sizeof(*ud));
        struct dctx d = {.ud = ud, .raw = buf, .raw_len = len, .err = err};
        int r;

        if (err)
                *err = (struct md_userdata_error){};
        if (!ud)
                return -ENOMEM;
        if (len > MD_USERDATA_MAX) {
                d.ud = NULL;
                return fail(&d, EFBIG, NULL, NULL, "is larger than %u MiB, the limit",
                            MD_USERDATA_MAX / (1024u * 1024u));
        }
        ud->raw_len = len;
        if (len > 0) {
                r = decode_body(&d, buf, len, NULL, NULL, 0);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(ud);
        return 0;
}

int md_userdata_decode(const void *buf, size_t len, struct md_userdata **ret) {
        return md_userdata_parse(buf, len, ret, NULL);
}

char *md_userdata_error_to_string(const struct md_userdata_error *e) {
        const char *what = e->message[0] ? e->message : "cannot be decoded";
        if (e->part > 0 && e->line)
                return strdupf("user-data part %u%s%s%s, line %u: %s", e->part, e->type[0] ? " (" : "",
                               e->type, e->type[0] ? ")" : "", e->line, what);
        if (e->part > 0)
                return strdupf("user-data part %u%s%s%s: %s", e->part, e->type[0] ? " (" : "", e->type,
                               e->type[0] ? ")" : "", what);
        if (e->line)
                return strdupf("user-data, line %u: %s", e->line, what);
        return strdupf("user-data: %s", what);
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

/* A YAML error with its lines moved to the user-data as received: offset is the line the text starts at,
 * less one (0 when the text is not a stretch of it, such as the string value of kube_firstboot). */
static int add_yaml_problem(char ***problems, const char *source, const struct yaml_error *e,
                            unsigned offset) {
        if (e->context[0] && e->context_line)
                return add_problem(
                        problems,
                        "%s: not valid YAML (line %u column %u: %s, %s that starts at line %u column %u)",
                        source, e->line + offset, e->column, e->message, e->context,
                        e->context_line + offset, e->context_column);
        if (e->line)
                return add_problem(problems, "%s: not valid YAML (line %u column %u: %s)", source,
                                   e->line + offset, e->column, e->message);
        return add_problem(problems, "%s: not valid YAML (%s)", source, e->message);
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

static int documents_from_text(const char *text, size_t len, const char *source, unsigned offset,
                               cJSON *docs, char ***problems);

static int cloud_config_documents(const char *text, size_t len, const char *source, unsigned offset,
                                  cJSON *docs, char ***problems) {
        _cleanup_(json_delete_wipedp) cJSON *cc = NULL;
        struct yaml_error err = {};
        cJSON *kf, *first;
        int r;

        r = yaml_parse_documents(text, len, &cc, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add_yaml_problem(problems, source, &err, offset);
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
        if (cJSON_IsString(kf)) {
                /* Lines of the string, not of the user-data: the label says so. */
                _cleanup_free_ char *in = strdupf("%s (a string of YAML documents)", label);
                if (!in)
                        return -ENOMEM;
                return documents_from_text(kf->valuestring, strlen(kf->valuestring), in, 0, docs, problems);
        }
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

static int documents_from_text(const char *text, size_t len, const char *source, unsigned offset,
                               cJSON *docs, char ***problems) {
        _cleanup_(json_delete_wipedp) cJSON *arr = NULL;
        struct yaml_error err = {};
        int r;

        if (first_line_is(text, len, "#cloud-config") && !first_line_is(text, len, "#cloud-config-archive"))
                return cloud_config_documents(text, len, source, offset, docs, problems);
        r = yaml_parse_documents(text, len, &arr, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add_yaml_problem(problems, source, &err, offset);
        return add_documents_from_array(arr, source, docs, problems);
}

int md_config_documents_from_text(const char *text, size_t len, const char *source, cJSON *docs,
                                  char ***problems) {
        return documents_from_text(text, len, source, 0, docs, problems);
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
                /* Lines count in the user-data as received when the part is a stretch of it. */
                unsigned offset = p->line > 0 ? p->line - 1 : 0;
                if (streq(p->type, "text/cloud-config"))
                        r = cloud_config_documents(p->data, p->len, label, offset, docs, problems);
                else
                        r = documents_from_text(p->data, p->len, label, offset, docs, problems);
                if (r < 0)
                        return r;
        }
        *ret_docs = TAKE_PTR(docs);
        return 0;
}
