/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal XML extraction for OVF environment files (see xml.c). Results are owned by the caller. */
#pragma once

#include <stddef.h>

/* The text of the first element whose local name (without namespace prefix) is local; NULL if none. */
char *md_xml_element_text(const char *xml, size_t len, const char *local);
/* The oe:value of the <Property oe:key="key" .../> element; NULL if none. */
char *md_xml_ovf_property(const char *xml, size_t len, const char *key);
