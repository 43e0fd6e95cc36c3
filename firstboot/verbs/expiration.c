/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/strutil.h"
#include "firstboot/verbs/expiration.h"

/* kubeadm: tabwriter.NewWriter(writer, 10, 4, 3, ' ', 0) */
#define KUBEADM_MINWIDTH 10
#define KUBEADM_PADDING  3

struct cell {
        const char *text;
        size_t len, width;
};

struct line {
        struct cell *cells;
        size_t n;
};

struct tabwriter {
        struct line *lines;
        size_t n;
        unsigned minwidth, padding;
        size_t widths[64]; /* the widths of the columns being laid out, left to right */
        size_t nw;
        FILE *out;
};

static size_t utf8_width(const char *s, size_t len) {
        size_t w = 0;
        for (size_t i = 0; i < len; i++)
                if (((unsigned char) s[i] & 0xC0) != 0x80)
                        w++;
        return w;
}

/* writeLines: every cell, padded to its column's width while there is one; a newline after each line but
 * the last (the text after the final newline, empty here). */
static void write_lines(struct tabwriter *t, size_t line0, size_t line1) {
        for (size_t i = line0; i < line1; i++) {
                const struct line *l = &t->lines[i];
                for (size_t j = 0; j < l->n; j++) {
                        fwrite(l->cells[j].text, 1, l->cells[j].len, t->out);
                        if (j < t->nw)
                                for (size_t k = l->cells[j].width; k < t->widths[j]; k++)
                                        fputc(' ', t->out);
                }
                if (i + 1 < t->n)
                        fputc('\n', t->out);
        }
}

/* Go's Writer.format: the column blocks of column nw among lines [line0, line1), each laid out with the
 * columns to its right, recursively. */
static void format(struct tabwriter *t, size_t line0, size_t line1) {
        size_t column = t->nw;

        for (size_t this = line0; this < line1; this ++) {
                size_t width = t->minwidth;

                if (column + 1 >= t->lines[this].n)
                        continue; /* no tab-terminated cell in this column */
                write_lines(t, line0, this);
                line0 = this;
                for (; this < line1 && column + 1 < t->lines[this].n; this ++)
                        if (t->lines[this].cells[column].width + t->padding > width)
                                width = t->lines[this].cells[column].width + t->padding;
                if (t->nw < ELEMENTSOF(t->widths)) {
                        t->widths[t->nw++] = width;
                        format(t, line0, this);
                        t->nw--;
                } else
                        write_lines(t, line0, this); /* more columns than any table here: left as they are */
                line0 = this;
                if (this == line1)
                        break;
        }
        write_lines(t, line0, line1);
}

int cli_tabwriter_format(const char *text, unsigned minwidth, unsigned padding, char **ret) {
        struct tabwriter t = {.minwidth = minwidth, .padding = padding};
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, nlines = 1;
        int r = -ENOMEM;

        for (const char *p = text; *p; p++)
                nlines += *p == '\n';
        t.lines = calloc(nlines, sizeof(*t.lines));
        if (!t.lines)
                return -ENOMEM;
        for (const char *p = text;; t.n++) {
                size_t len = strcspn(p, "\n"), ncells = 1;
                struct line *l = &t.lines[t.n];

                for (size_t i = 0; i < len; i++)
                        ncells += p[i] == '\t';
                l->cells = calloc(ncells, sizeof(*l->cells));
                if (!l->cells)
                        goto out;
                for (const char *c = p; l->n < ncells; l->n++) {
                        size_t clen = strcspn(c, "\t\n");
                        l->cells[l->n] = (struct cell){c, clen, utf8_width(c, clen)};
                        c += clen + 1;
                }
                if (!p[len]) {
                        t.n++;
                        break;
                }
                p += len + 1;
        }
        t.out = open_memstream(&buf, &size);
        if (!t.out)
                goto out;
        format(&t, 0, t.n);
        if (fclose(t.out) != 0)
                goto out;
        *ret = TAKE_PTR(buf);
        r = 0;
out:
        for (size_t i = 0; i < nlines; i++)
                free(t.lines[i].cells);
        free(t.lines);
        return r;
}

int cli_expiration_text(const struct pki_expiration_info *info, const struct timespec *now, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        for (size_t i = 0; i < info->n_certs; i++)
                if (!info->certs[i].missing && !info->certs[i].read)
                        return -EINVAL;
        for (size_t i = 0; i < info->n_cas; i++)
                if (!info->cas[i].missing && !info->cas[i].read)
                        return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs("CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED\n", f);
        for (size_t i = 0; i < info->n_certs; i++) {
                const struct pki_expiration *e = &info->certs[i];
                char date[PKI_KUBEADM_DATE_MAX], left[PKI_HUMAN_DURATION_MAX];

                if (e->missing) {
                        fprintf(f, "!MISSING! %s\t\t\t\t\n", e->name);
                        continue;
                }
                fprintf(f, "%s\t%s\t%s\t%s\t%-8s\n", e->name, pki_kubeadm_date(e->not_after, date),
                        pki_human_duration(pki_residual_seconds(e->not_after, now) * INT64_C(1000000000),
                                           left),
                        strempty(e->ca_name), e->externally_managed ? "yes" : "no");
        }
        fputs("\n", f);
        fputs("CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED\n", f);
        for (size_t i = 0; i < info->n_cas; i++) {
                const struct pki_expiration *e = &info->cas[i];
                char date[PKI_KUBEADM_DATE_MAX], left[PKI_HUMAN_DURATION_MAX];

                if (e->missing) {
                        fprintf(f, "!MISSING! %s\t\t\t\n", e->name);
                        continue;
                }
                fprintf(f, "%s\t%s\t%s\t%-8s\n", e->name, pki_kubeadm_date(e->not_after, date),
                        pki_human_duration(pki_residual_seconds(e->not_after, now) * INT64_C(1000000000),
                                           left),
                        e->externally_managed ? "yes" : "no");
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return cli_tabwriter_format(buf, KUBEADM_MINWIDTH, KUBEADM_PADDING, ret);
}

int cli_expiration_spec_from_cluster(const struct fb_cluster_settings *cluster, struct pki_node_spec *spec) {
        const char *dir = cluster ? cluster->certificates_dir : NULL;

        if (!isempty(dir)) {
                char *copy = strdup(dir);
                if (!copy)
                        return -ENOMEM;
                free(spec->cert_dir);
                spec->cert_dir = copy;
        }
        spec->external_etcd = cluster && cluster->etcd.external;
        return 0;
}

int cli_expiration_report(const char *root, const struct pki_node_spec *spec, struct fb_status *st,
                          const char *role_if_new) {
        _cleanup_(pki_expiration_info_done) struct pki_expiration_info info = {};
        const struct pki_expiration *first, *first_ca;
        struct fb_status_expiry nearest = {}, nearest_ca = {};
        struct timespec now;
        int r;

        (void) clock_gettime(CLOCK_REALTIME, &now);
        r = pki_expiration_info(root, spec, &now, &info);
        if (r < 0)
                return log_warning_errno(r, "Cannot read the certificates' expiry: %m");
        first = pki_expiration_nearest(&info, false);
        first_ca = pki_expiration_nearest(&info, true);
        if (first) {
                char date[PKI_KUBEADM_DATE_MAX], left[PKI_HUMAN_DURATION_MAX];
                int64_t residual = pki_residual_seconds(first->not_after, &now);

                nearest = (struct fb_status_expiry){first->name, first->not_after};
                if (residual < 0)
                        log_warning(
                                "Certificates: %s expired on %s ('kube-firstboot certs check-expiration' lists them all).",
                                first->name, pki_kubeadm_date(first->not_after, date));
                else
                        log_info("Certificates: the first to expire is %s, on %s (%s left).", first->name,
                                 pki_kubeadm_date(first->not_after, date),
                                 pki_human_duration(residual * INT64_C(1000000000), left));
        } else
                log_info("Certificates: none of those 'certs check-expiration' lists is on this node.");
        if (first_ca)
                nearest_ca = (struct fb_status_expiry){first_ca->name, first_ca->not_after};
        r = st ? fb_status_set_certificates(st, &nearest, &nearest_ca)
               : fb_status_record_certificates(root, role_if_new, &nearest, &nearest_ca);
        if (r == -ENOENT && !st)
                log_info("No " FB_STATUS_PATH " to record the certificates' expiry in.");
        else if (r < 0)
                log_warning_errno(r, "Cannot record the certificates' expiry in " FB_STATUS_PATH ": %m");
        return r;
}
