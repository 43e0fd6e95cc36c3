/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <yaml.h>

#include "cleanup-libs.h"
#include "log.h"
#include "strutil.h"
#include "yamlutil.h"

struct anchor {
        char *name;
        cJSON *node; /* owned copy */
        size_t nodes;
};

struct parse_ctx {
        yaml_parser_t parser;
        struct yaml_error *err;
        struct anchor *anchors;
        size_t n_anchors;
        size_t nodes;
};

_printf_(4, 5) static int set_error(struct parse_ctx *ctx, int r, const yaml_mark_t *mark, const char *fmt,
                                    ...) {
        if (ctx->err) {
                va_list ap;
                ctx->err->line = mark ? (unsigned) mark->line + 1 : 0;
                ctx->err->column = mark ? (unsigned) mark->column + 1 : 0;
                va_start(ap, fmt);
                (void) vsnprintf(ctx->err->message, sizeof(ctx->err->message), fmt, ap);
                va_end(ap);
        }
        return r;
}

static int next_event(struct parse_ctx *ctx, yaml_event_t *ev) {
        if (!yaml_parser_parse(&ctx->parser, ev)) {
                yaml_mark_t mark = ctx->parser.problem_mark;
                if (ctx->parser.error == YAML_MEMORY_ERROR)
                        return -ENOMEM;
                if (ctx->err && ctx->parser.context) {
                        snprintf(ctx->err->context, sizeof(ctx->err->context), "%s", ctx->parser.context);
                        ctx->err->context_line = (unsigned) ctx->parser.context_mark.line + 1;
                        ctx->err->context_column = (unsigned) ctx->parser.context_mark.column + 1;
                }
                return set_error(ctx, -EBADMSG, &mark, "%s", ctx->parser.problem ?: "invalid YAML");
        }
        return 0;
}

static bool is_one_of(const char *s, const char *const *list) {
        for (; *list; list++)
                if (streq(s, *list))
                        return true;
        return false;
}

static const char *const yaml_true[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                        "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const yaml_false[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                         "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const yaml_null[] = {"", "~", "null", "Null", "NULL", NULL};

/* Integer forms: [-+]decimal, 0x hex, 0o/0 octal, 0b binary, with optional "_" separators (YAML 1.1). */
static bool parse_int(const char *s, long double *ret) {
        const char *p = s;
        int base = 10, sign = 1;
        long double v = 0;
        bool digits = false;

        if (*p == '-' || *p == '+')
                sign = *p++ == '-' ? -1 : 1;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
                base = 16, p += 2;
        else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
                base = 8, p += 2;
        else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
                base = 2, p += 2;
        else if (p[0] == '0' && p[1])
                base = 8, p += 1;
        for (; *p; p++) {
                int d;
                if (*p == '_' && digits)
                        continue;
                if (*p >= '0' && *p <= '9')
                        d = *p - '0';
                else if (*p >= 'a' && *p <= 'f')
                        d = *p - 'a' + 10;
                else if (*p >= 'A' && *p <= 'F')
                        d = *p - 'A' + 10;
                else
                        return false;
                if (d >= base)
                        return false;
                v = v * base + d;
                digits = true;
        }
        if (!digits)
                return false;
        *ret = sign * v;
        return true;
}

static bool parse_float(const char *s, double *ret) {
        const char *p = s;
        bool digits = false, dot = false, exp = false;
        char *end;

        if (is_one_of(s, (const char *const[]){".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL})) {
                *ret = INFINITY;
                return true;
        }
        if (is_one_of(s, (const char *const[]){"-.inf", "-.Inf", "-.INF", NULL})) {
                *ret = -INFINITY;
                return true;
        }
        if (is_one_of(s, (const char *const[]){".nan", ".NaN", ".NAN", NULL})) {
                *ret = NAN;
                return true;
        }
        /* [-+]? digits [. digits] [eE [-+] digits]: no hex floats, no "inf" words. */
        if (*p == '-' || *p == '+')
                p++;
        for (; *p; p++) {
                if (*p >= '0' && *p <= '9')
                        digits = true;
                else if (*p == '.' && !dot && !exp)
                        dot = true;
                else if ((*p == 'e' || *p == 'E') && digits && !exp) {
                        exp = true;
                        if (p[1] == '-' || p[1] == '+')
                                p++;
                        if (!p[1])
                                return false;
                } else if (*p == '_' && digits)
                        continue;
                else
                        return false;
        }
        if (!digits || strchr(s, '_'))
                return false;
        *ret = strtod(s, &end);
        return *end == 0;
}

int yaml_plain_scalar_is_typed(const char *s) {
        long double li;
        double d;
        return is_one_of(s, yaml_true) || is_one_of(s, yaml_false) || is_one_of(s, yaml_null) ||
               parse_int(s, &li) || parse_float(s, &d);
}

static cJSON *number_with_text(double v, const char *text) {
        cJSON *n = cJSON_CreateNumber(v);
        if (n && !(n->valuestring = strdup(text))) {
                cJSON_Delete(n);
                return NULL;
        }
        return n;
}

static cJSON *bool_with_text(bool v, const char *text) {
        cJSON *n = cJSON_CreateBool(v);
        if (n && !(n->valuestring = strdup(text))) {
                cJSON_Delete(n);
                return NULL;
        }
        return n;
}

static cJSON *scalar_to_json(const yaml_event_t *ev) {
        const char *text = (const char *) ev->data.scalar.value;
        const char *tag = (const char *) ev->data.scalar.tag;
        bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        long double li;
        double d;

        if (tag && !streq(tag, "!")) {
                if (streq(tag, YAML_STR_TAG))
                        return cJSON_CreateString(text);
                if (streq(tag, YAML_NULL_TAG))
                        return cJSON_CreateNull();
                if (streq(tag, YAML_BOOL_TAG) && is_one_of(text, yaml_true))
                        return bool_with_text(true, text);
                if (streq(tag, YAML_BOOL_TAG) && is_one_of(text, yaml_false))
                        return bool_with_text(false, text);
                if ((streq(tag, YAML_INT_TAG) || streq(tag, YAML_FLOAT_TAG)) && parse_int(text, &li))
                        return number_with_text((double) li, text);
                if (streq(tag, YAML_FLOAT_TAG) && parse_float(text, &d))
                        return number_with_text(d, text);
                /* Unknown local tags (!Ref and the like): keep the text. */
                return cJSON_CreateString(text);
        }
        if (!plain || (tag && streq(tag, "!")))
                return cJSON_CreateString(text);
        if (is_one_of(text, yaml_null))
                return cJSON_CreateNull();
        if (is_one_of(text, yaml_true))
                return bool_with_text(true, text);
        if (is_one_of(text, yaml_false))
                return bool_with_text(false, text);
        if (parse_int(text, &li)) {
                /* Beyond 2^53 a double would change the value: keep the digits exactly. */
                if (fabsl(li) > 9007199254740992.0L) {
                        /* A raw item prints its valuestring verbatim, which is the source text. */
                        return cJSON_CreateRaw(text);
                }
                return number_with_text((double) li, text);
        }
        if (parse_float(text, &d) && isfinite(d))
                return number_with_text(d, text);
        /* .inf and .nan have no JSON form: keep them as text. */
        return cJSON_CreateString(text);
}

static size_t count_nodes(const cJSON *j) {
        size_t n = 1;
        for (const cJSON *c = j->child; c && (cJSON_IsArray(j) || cJSON_IsObject(j)); c = c->next)
                n += count_nodes(c);
        return n;
}

static int remember_anchor(struct parse_ctx *ctx, const char *name, const cJSON *node) {
        struct anchor *t;
        cJSON *copy;
        char *n;

        if (!name)
                return 0;
        copy = cJSON_Duplicate(node, true);
        n = strdup(name);
        t = realloc(ctx->anchors, sizeof(*t) * (ctx->n_anchors + 1));
        if (!copy || !n || !t) {
                cJSON_Delete(copy);
                free(n);
                if (t)
                        ctx->anchors = t;
                return -ENOMEM;
        }
        ctx->anchors = t;
        /* A redefined anchor shadows the earlier one: search from the end. */
        ctx->anchors[ctx->n_anchors++] =
                (struct anchor){.name = n, .node = copy, .nodes = count_nodes(copy)};
        return 0;
}

static int count_node(struct parse_ctx *ctx, size_t n, const yaml_mark_t *mark) {
        ctx->nodes += n;
        if (ctx->nodes > YAML_MAX_NODES)
                return set_error(ctx, -E2BIG, mark, "document has more than %u nodes", YAML_MAX_NODES);
        return 0;
}

static int parse_node(struct parse_ctx *ctx, yaml_event_t *ev, unsigned depth, cJSON **ret);

static int parse_collection(struct parse_ctx *ctx, yaml_event_t *start, unsigned depth, cJSON **ret) {
        bool mapping = start->type == YAML_MAPPING_START_EVENT;
        _cleanup_(cJSON_Deletep) cJSON *coll = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
        int r;

        if (!coll)
                return -ENOMEM;
        if (depth >= YAML_MAX_DEPTH)
                return set_error(ctx, -E2BIG, &start->start_mark, "nesting deeper than %u levels",
                                 YAML_MAX_DEPTH);

        for (;;) {
                yaml_event_t ev;
                _cleanup_free_ char *key = NULL;
                yaml_mark_t key_mark;
                cJSON *child = NULL;

                r = next_event(ctx, &ev);
                if (r < 0)
                        return r;
                if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
                        yaml_event_delete(&ev);
                        break;
                }
                if (mapping) {
                        key_mark = ev.start_mark;
                        if (ev.type != YAML_SCALAR_EVENT) {
                                yaml_event_delete(&ev);
                                return set_error(ctx, -EBADMSG, &key_mark, "mapping keys must be scalars");
                        }
                        key = strdup((const char *) ev.data.scalar.value);
                        yaml_event_delete(&ev);
                        if (!key)
                                return -ENOMEM;
                        if (cJSON_GetObjectItemCaseSensitive(coll, key))
                                return set_error(ctx, -EBADMSG, &key_mark, "duplicate key '%s'", key);
                        r = next_event(ctx, &ev);
                        if (r < 0)
                                return r;
                }
                r = parse_node(ctx, &ev, depth + 1, &child);
                yaml_event_delete(&ev);
                if (r < 0)
                        return r;
                if (mapping ? !cJSON_AddItemToObject(coll, key, child)
                            : !cJSON_AddItemToArray(coll, child)) {
                        cJSON_Delete(child);
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(coll);
        return 0;
}

static int parse_node(struct parse_ctx *ctx, yaml_event_t *ev, unsigned depth, cJSON **ret) {
        _cleanup_(cJSON_Deletep) cJSON *node = NULL;
        const char *anchor = NULL;
        int r;

        switch (ev->type) {
        case YAML_SCALAR_EVENT:
                r = count_node(ctx, 1, &ev->start_mark);
                if (r < 0)
                        return r;
                node = scalar_to_json(ev);
                if (!node)
                        return -ENOMEM;
                anchor = (const char *) ev->data.scalar.anchor;
                break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                r = count_node(ctx, 1, &ev->start_mark);
                if (r < 0)
                        return r;
                r = parse_collection(ctx, ev, depth, &node);
                if (r < 0)
                        return r;
                anchor = (const char *) (ev->type == YAML_MAPPING_START_EVENT
                                                 ? ev->data.mapping_start.anchor
                                                 : ev->data.sequence_start.anchor);
                break;
        case YAML_ALIAS_EVENT: {
                const char *name = (const char *) ev->data.alias.anchor;
                for (size_t i = ctx->n_anchors; i > 0; i--)
                        if (streq(ctx->anchors[i - 1].name, name)) {
                                r = count_node(ctx, ctx->anchors[i - 1].nodes, &ev->start_mark);
                                if (r < 0)
                                        return r;
                                node = cJSON_Duplicate(ctx->anchors[i - 1].node, true);
                                if (!node)
                                        return -ENOMEM;
                                break;
                        }
                if (!node)
                        return set_error(ctx, -EBADMSG, &ev->start_mark, "unknown alias '%s'", name);
                break;
        }
        default:
                return set_error(ctx, -EBADMSG, &ev->start_mark, "unexpected YAML event");
        }

        r = remember_anchor(ctx, anchor, node);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(node);
        return 0;
}

static void parse_ctx_done(struct parse_ctx *ctx) {
        for (size_t i = 0; i < ctx->n_anchors; i++) {
                free(ctx->anchors[i].name);
                cJSON_Delete(ctx->anchors[i].node);
        }
        free(ctx->anchors);
        yaml_parser_delete(&ctx->parser);
}

int yaml_parse_documents(const char *buf, size_t len, cJSON **ret_docs, struct yaml_error *err) {
        _cleanup_(parse_ctx_done) struct parse_ctx ctx = {.err = err};
        _cleanup_(cJSON_Deletep) cJSON *docs = cJSON_CreateArray();
        int r;

        if (!docs || !yaml_parser_initialize(&ctx.parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&ctx.parser, (const unsigned char *) buf, len);

        for (;;) {
                yaml_event_t ev;
                r = next_event(&ctx, &ev);
                if (r < 0)
                        return r;
                yaml_event_type_t type = ev.type;
                if (type == YAML_STREAM_END_EVENT) {
                        yaml_event_delete(&ev);
                        break;
                }
                if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_END_EVENT) {
                        yaml_event_delete(&ev);
                        continue;
                }
                if (type != YAML_DOCUMENT_START_EVENT) {
                        yaml_event_delete(&ev);
                        return set_error(&ctx, -EBADMSG, NULL, "unexpected YAML event");
                }
                yaml_event_delete(&ev);

                /* Anchors and the node budget are per document. */
                for (size_t i = 0; i < ctx.n_anchors; i++) {
                        free(ctx.anchors[i].name);
                        cJSON_Delete(ctx.anchors[i].node);
                }
                ctx.n_anchors = 0;
                ctx.nodes = 0;

                cJSON *doc = NULL;
                r = next_event(&ctx, &ev);
                if (r < 0)
                        return r;
                r = parse_node(&ctx, &ev, 0, &doc);
                yaml_event_delete(&ev);
                if (r < 0)
                        return r;
                /* An empty document ("---" alone, or only comments) parses as a null scalar. */
                if (cJSON_IsNull(doc)) {
                        cJSON_Delete(doc);
                        continue;
                }
                cJSON_AddItemToArray(docs, doc);
        }
        *ret_docs = TAKE_PTR(docs);
        return 0;
}

/* ---- emitting ---- */

struct out {
        char *data;
        size_t len, alloc;
        bool oom;
};

static int out_write(void *data, unsigned char *buffer, size_t size) {
        struct out *o = data;
        if (o->len + size + 1 > o->alloc) {
                size_t na = o->alloc ? o->alloc * 2 : 4096;
                while (na < o->len + size + 1)
                        na *= 2;
                char *t = realloc(o->data, na);
                if (!t) {
                        o->oom = true;
                        return 0;
                }
                o->data = t;
                o->alloc = na;
        }
        memcpy(o->data + o->len, buffer, size);
        o->len += size;
        o->data[o->len] = 0;
        return 1;
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev, int ok) {
        if (!ok)
                return -ENOMEM;
        return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, yaml_scalar_style_t style) {
        yaml_event_t ev;
        return emit(e, &ev,
                    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) text, (int) strlen(text),
                                                 1, 1, style));
}

static yaml_scalar_style_t string_style(const char *s) {
        if (yaml_plain_scalar_is_typed(s))
                return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        if (strchr(s, '\n'))
                return YAML_LITERAL_SCALAR_STYLE;
        /* libyaml picks plain when it can, and quotes otherwise. */
        return YAML_ANY_SCALAR_STYLE;
}

static int emit_node(yaml_emitter_t *e, const cJSON *j) {
        yaml_event_t ev;
        char num[64];
        int r;

        if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
                bool map = cJSON_IsObject(j);
                r = emit(e, &ev,
                         map ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                                   YAML_BLOCK_MAPPING_STYLE)
                             : yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                                    YAML_BLOCK_SEQUENCE_STYLE));
                if (r < 0)
                        return r;
                for (const cJSON *c = j->child; c; c = c->next) {
                        if (map) {
                                r = emit_scalar(e, c->string, string_style(c->string));
                                if (r < 0)
                                        return r;
                        }
                        r = emit_node(e, c);
                        if (r < 0)
                                return r;
                }
                return emit(e, &ev,
                            map ? yaml_mapping_end_event_initialize(&ev)
                                : yaml_sequence_end_event_initialize(&ev));
        }
        if (cJSON_IsString(j))
                return emit_scalar(e, j->valuestring, string_style(j->valuestring));
        if (cJSON_IsBool(j))
                return emit_scalar(e, cJSON_IsTrue(j) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
        if (cJSON_IsRaw(j))
                return emit_scalar(e, j->valuestring, YAML_PLAIN_SCALAR_STYLE);
        if (cJSON_IsNumber(j)) {
                double d = j->valuedouble;
                if (d == floor(d) && fabs(d) < 1e17)
                        snprintf(num, sizeof(num), "%.0f", d);
                else
                        snprintf(num, sizeof(num), "%.17g", d);
                return emit_scalar(e, num, YAML_PLAIN_SCALAR_STYLE);
        }
        return emit_scalar(e, "null", YAML_PLAIN_SCALAR_STYLE);
}

int yaml_emit(const cJSON *docs, char **ret) {
        yaml_emitter_t e;
        yaml_event_t ev;
        struct out o = {};
        int r;

        if (!yaml_emitter_initialize(&e))
                return -ENOMEM;
        yaml_emitter_set_output(&e, out_write, &o);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_width(&e, -1);
        yaml_emitter_set_indent(&e, 2);

        r = emit(&e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
        const cJSON *first = cJSON_IsArray(docs) ? docs->child : docs;
        for (const cJSON *d = first; r == 0 && d; d = cJSON_IsArray(docs) ? d->next : NULL) {
                /* Explicit "---" between documents only, as kubectl prints them. */
                r = emit(&e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, d == first));
                if (r == 0)
                        r = emit_node(&e, d);
                if (r == 0)
                        r = emit(&e, &ev, yaml_document_end_event_initialize(&ev, 1));
        }
        if (r == 0)
                r = emit(&e, &ev, yaml_stream_end_event_initialize(&ev));
        if (r == 0 && !yaml_emitter_flush(&e))
                r = -EIO;
        yaml_emitter_delete(&e);
        if (r == 0 && o.oom)
                r = -ENOMEM;
        if (r == 0 && !o.data)
                o.data = calloc(1, 1);
        if (r < 0 || !o.data) {
                free(o.data);
                return r < 0 ? r : -ENOMEM;
        }
        *ret = o.data;
        return 0;
}
