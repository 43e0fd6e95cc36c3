/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every document a metadata source returns, through its parser: the first byte picks the parser (GCE
 * recursive JSON, Azure IMDS JSON, Azure ovf-env.xml, OpenStack meta_data.json and network_data.json,
 * VMware guestinfo metadata and encodings, the exact-integer JSON reader, cloud-init-style XML helpers).
 */
#include <stdint.h>

#include "common/cleanup-libs.h"
#include "common/log.h"
#include "metadata/metadata.h"
#include "metadata/source.h"
#include "metadata/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(md_instance_freep) struct md_instance *inst = NULL;
        const char *p = (const char *) data + 1;
        size_t n = size - 1;

        if (size < 1 || size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        inst = md_instance_new();
        if (!inst)
                return 0;
        switch (data[0] % 8) {
        case 0:
                (void) md_gce_parse_instance(p, n, inst);
                break;
        case 1:
                (void) md_azure_parse_imds(p, n, inst);
                break;
        case 2:
                (void) md_azure_parse_ovf(p, n, inst);
                break;
        case 3:
                (void) md_openstack_parse_meta(p, n, inst);
                (void) md_openstack_parse_network(p, n, inst);
                break;
        case 4:
                (void) md_vmware_parse_metadata(p, n, inst);
                break;
        case 5: {
                _cleanup_free_ char *copy = strndup(p, n), *out = NULL;
                size_t len;
                if (copy && md_vmware_decode(copy, "gzip+base64", &out, &len) >= 0)
                        free(TAKE_PTR(out));
                break;
        }
        case 6: {
                _cleanup_(cJSON_Deletep) cJSON *j = NULL;
                (void) md_json_parse(p, n, &j);
                break;
        }
        default: {
                _cleanup_free_ char *a = md_xml_element_text(p, n, "CustomData");
                _cleanup_free_ char *b = md_xml_ovf_property(p, n, "user-data");
                break;
        }
        }
        _cleanup_(cJSON_Deletep) cJSON *view = md_instance_to_json(inst);
        return 0;
}
