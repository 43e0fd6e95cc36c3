/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML <-> cJSON, for configuration documents and Kubernetes objects.
 *
 * Parsing resolves plain scalars the way kubeadm's YAML library does (YAML 1.1 booleans such as yes/on,
 * null and ~, decimal/octal/hex integers, floats, .inf/.nan); quoted scalars and !!str are strings.
 * Numbers and booleans keep their source text in valuestring (json_scalar_text()), so a field that wants a
 * string can still take "kubernetesVersion: 1.30" as "1.30". Integers too large for a double stay exact as
 * raw items. Aliases are expanded; duplicate keys and non-scalar keys are errors. Every document is capped
 * in nodes (alias expansion included) and depth, so hostile input cannot blow up memory or the stack.
 *
 * Emitting writes block style; strings that would read back as another type, or that need it, are
 * quoted; multi-line strings use the literal style where YAML allows it.
 */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>

#define YAML_MAX_NODES 200000u
#define YAML_MAX_DEPTH 100u

struct yaml_error {
        unsigned line, column; /* 1-based; 0 when unknown */
        char message[256];
        /* The construct the parser was in, when it knows ("while parsing a flow sequence"), and where that
         * construct starts: often more use to a reader than where the parser gave up (the end). */
        char context[64];
        unsigned context_line, context_column; /* 1-based; 0 when there is no context */
};

/*
 * Parses a stream of documents into a cJSON array with one item per document (empty documents are
 * dropped). -EBADMSG with *err filled (when non-NULL) on invalid YAML, -E2BIG over the node or depth cap,
 * -ENOMEM.
 */
int yaml_parse_documents(const char *buf, size_t len, cJSON **ret_docs, struct yaml_error *err);

/* Emits each item of an array (or a single non-array item) as one document; documents are separated by
 * "---". *ret is NUL-terminated and owned by the caller. */
int yaml_emit(const cJSON *docs, char **ret);

/* Whether a plain scalar with this text would read back as something other than a string. */
int yaml_plain_scalar_is_typed(const char *s);
