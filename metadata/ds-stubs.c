/* SPDX-License-Identifier: Apache-2.0 */
/* Temporary: datasources not written yet. */
#include <errno.h>

#include "metadata/source.h"

static int absent(const struct md_options *o, const struct md_platform *p, struct md_instance *i) {
        (void) o, (void) p, (void) i;
        return -ENXIO;
}
const struct md_source md_source_cloudinit = {"cloud-init", absent};
const struct md_source md_source_ec2 = {"ec2", absent};
const struct md_source md_source_gce = {"gce", absent};
const struct md_source md_source_azure = {"azure", absent};
const struct md_source md_source_openstack = {"openstack", absent};
const struct md_source md_source_configdrive = {"configdrive", absent};
const struct md_source md_source_nocloud = {"nocloud", absent};
const struct md_source md_source_vmware = {"vmware", absent};
const struct md_source md_source_files = {"files", absent};
