/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Just enough XML for OVF environments (Azure's ovf-env.xml, VMware's OVF properties): the text of the
 * first element with a given local name, and the value of an OVF Property by key. Namespace prefixes are
 * ignored; the five predefined entities and numeric character references are decoded. Not a validating
 * parser: the inputs are small, from the provisioning medium, and only a few values are wanted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "metadata/xml.h"

static char *decode_entities(const char *s, size_t n) {
        char *out = malloc(n + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                static const struct {
                        const char *ent;
                        char c;
                } ents[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
                bool done = false;
                if (s[i] == '&') {
                        for (size_t k = 0; k < ELEMENTSOF(ents); k++) {
                                size_t el = strlen(ents[k].ent);
                                if (n - i >= el && strncmp(s + i, ents[k].ent, el) == 0) {
                                        *o++ = ents[k].c;
                                        i += el - 1;
                                        done = true;
                                        break;
                                }
                        }
                        if (!done && n - i > 3 && s[i + 1] == '#') {
                                const char *semi = memchr(s + i, ';', n - i);
                                if (semi && semi - (s + i) < 10) {
                                        unsigned long v = s[i + 2] == 'x' ? strtoul(s + i + 3, NULL, 16)
                                                                          : strtoul(s + i + 2, NULL, 10);
                                        /* ASCII only: these values are base64, names and numbers. */
                                        *o++ = v > 0 && v < 128 ? (char) v : '?';
                                        i = (size_t) (semi - s);
                                        done = true;
                                }
                        }
                }
                if (!done)
                        *o++ = s[i];
        }
        *o = 0;
        return out;
}

/* Whether the tag name at p (after '<' or '</') has this local name, and where the name ends. */
static bool tag_is(const char *p, const char *end, const char *local, const char **ret_after) {
        const char *q = p;
        while (q < end && !strchr(" \t\r\n/>", *q))
                q++;
        const char *colon = memchr(p, ':', (size_t) (q - p));
        const char *name = colon ? colon + 1 : p;
        size_t ll = strlen(local);
        if ((size_t) (q - name) != ll || strncmp(name, local, ll) != 0)
                return false;
        *ret_after = q;
        return true;
}

char *md_xml_element_text(const char *xml, size_t len, const char *local) {
        const char *end = xml + len;
        for (const char *p = xml; p < end; p++) {
                const char *after, *gt, *close;
                if (*p != '<' || p + 1 >= end || p[1] == '/' || p[1] == '?' || p[1] == '!')
                        continue;
                if (!tag_is(p + 1, end, local, &after))
                        continue;
                gt = memchr(after, '>', (size_t) (end - after));
                if (!gt)
                        return NULL;
                if (gt[-1] == '/')
                        return strdup(""); /* <Empty/> */
                /* The matching close tag: the next "</" with the same local name. */
                for (close = gt + 1; close < end; close++) {
                        const char *a2;
                        if (close[0] == '<' && close + 1 < end && close[1] == '/' &&
                            tag_is(close + 2, end, local, &a2))
                                break;
                }
                if (close >= end)
                        return NULL;
                const char *s = gt + 1;
                /* CDATA is taken as it is. */
                if ((size_t) (close - s) >= 12 && strncmp(s, "<![CDATA[", 9) == 0 &&
                    strncmp(close - 3, "]]>", 3) == 0)
                        return strndup(s + 9, (size_t) (close - 3 - s - 9));
                return decode_entities(s, (size_t) (close - s));
        }
        return NULL;
}

/* The value of attribute 'local' (any prefix) in the tag that starts at p; NULL when absent. */
static char *attribute(const char *p, const char *end, const char *local) {
        size_t ll = strlen(local);
        for (const char *q = p; q < end && *q != '>'; q++) {
                if (!strchr(" \t\r\n:", *q) || (size_t) (end - q) <= ll + 2)
                        continue;
                if (strncmp(q + 1, local, ll) != 0 || q[ll + 1] != '=')
                        continue;
                char quote = q[ll + 2];
                if (quote != '"' && quote != '\'')
                        continue;
                const char *v = q + ll + 3, *ve = memchr(v, quote, (size_t) (end - v));
                if (!ve)
                        return NULL;
                return decode_entities(v, (size_t) (ve - v));
        }
        return NULL;
}

char *md_xml_ovf_property(const char *xml, size_t len, const char *key) {
        const char *end = xml + len;
        for (const char *p = xml; p < end; p++) {
                const char *after;
                if (*p != '<' || p + 1 >= end || !tag_is(p + 1, end, "Property", &after))
                        continue;
                const char *gt = memchr(after, '>', (size_t) (end - after));
                if (!gt)
                        return NULL;
                _cleanup_free_ char *k = attribute(after, gt, "key");
                if (k && streq(k, key))
                        return attribute(after, gt, "value");
        }
        return NULL;
}
