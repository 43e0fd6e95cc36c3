/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The certificates' expiry as kubeadm shows it: the text of 'certs check-expiration', laid out as kubeadm's
 * certTextPrinter lays it out, and the nearest expiry that 'run' and 'refresh' put in status.json.
 */
#pragma once

#include <cjson/cJSON.h>
#include <time.h>

#include "firstboot/config/config-view.h"
#include "firstboot/engine/status.h"
#include "pki/expiry.h"

/*
 * Go's text/tabwriter as kubeadm uses it (NewWriter(w, minwidth, tabwidth, padding, ' ', 0)): each line's
 * tab-terminated cells are padded with spaces to their column's width, the widest cell plus padding but at
 * least minwidth, over the block of adjacent lines that have a cell in that column (a line with fewer
 * cells ends the block; the last cell of a line is not tab-terminated, never padded and never counted).
 * Widths count UTF-8 characters. *ret owned by the caller; -ENOMEM.
 */
int cli_tabwriter_format(const char *text, unsigned minwidth, unsigned padding, char **ret);

/*
 * What kubeadm prints for info: the certificates table (CERTIFICATE, EXPIRES, RESIDUAL TIME, CERTIFICATE
 * AUTHORITY, EXTERNALLY MANAGED; "!MISSING! <name>" rows), a blank line, then the CA table, with residual
 * times as of now. Every row must be missing or read: -EINVAL for one that is neither (kubeadm stops at
 * such a row with its error and prints no table). *ret owned by the caller; -ENOMEM.
 */
int cli_expiration_text(const struct pki_expiration_info *info, const struct timespec *now, char **ret);

/* certificatesDir and etcd.external of a ClusterConfiguration (the configuration's or the cluster's) into
 * spec, prepared by pki_node_spec_init(); NULL or absent fields keep kubeadm's defaults. -ENOMEM. */
int cli_expiration_spec_from_cluster(const struct fb_cluster_settings *cluster, struct pki_node_spec *spec);

/*
 * Reads the expiry of the node's certificates (spec, under root), says which expires first, and records it
 * with the first CA to expire in status.json: in st when given (a run), else in the status file under root
 * (fb_status_record_certificates(), role_if_new as there). Problems are warnings: the expiry is a report,
 * never a reason to fail. Returns 0, or the -errno of the problem.
 */
int cli_expiration_report(const char *root, const struct pki_node_spec *spec, struct fb_status *st,
                          const char *role_if_new);
