/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "common/strutil.h"
#include "firstboot/verbs/cli.h"
#include "firstboot/verbs/exit-codes.h"

/* Every -errno the libraries and rooms return for a failure, and what it tells the unit. Temporary means a
 * retry may succeed with nothing changed on this machine; the unit retries those (RestartPreventExitStatus
 * lists every other code: tests/unit/verbs/test-exit-codes.c checks it against this table). */
static const struct cli_exit_rule rules[] = {
        {ETIMEDOUT, EXIT_TEMPORARY,
         "a peer did not answer in time, or a wait (join queue, etcd, a component) ran out"},
        {ECONNREFUSED, EXIT_TEMPORARY, "nothing listens at the peer's address yet"},
        {ECONNRESET, EXIT_TEMPORARY, "the peer dropped the connection"},
        {EHOSTUNREACH, EXIT_TEMPORARY, "the peer's host is unreachable or its name does not resolve"},
        {ENETUNREACH, EXIT_TEMPORARY, "no route to the peer's network"},
        {EHOSTDOWN, EXIT_TEMPORARY, "etcd has too few healthy voters (its quorum is lost or at risk)"},
        {EAGAIN, EXIT_TEMPORARY, "the peer asked to be asked again later"},
        {EBUSY, EXIT_TEMPORARY, "another node holds it (the join queue), or the API throttled (HTTP 429)"},
        {EIO, EXIT_TEMPORARY, "a server error (HTTP 5xx) that outlasted the retries"},
        {EPROTO, EXIT_TEMPORARY,
         "a TLS or HTTP exchange broken off (an apiserver or load balancer starting or stopping)"},
        {EINVAL, EXIT_USAGE, "a bad option or configuration value: fix the input"},
        {EOPNOTSUPP, EXIT_UNSUPPORTED, "not supported by this version of kube-firstboot"},
        {EKEYREJECTED, EXIT_FAILED, "TLS verification failed: the wrong CA, CA pin or server name"},
        {EKEYEXPIRED, EXIT_FAILED, "a token or certificate has expired"},
        {EACCES, EXIT_FAILED, "the credentials were refused (HTTP 401)"},
        {EPERM, EXIT_FAILED,
         "the credentials may not do that (HTTP 403), or the operation is not permitted"},
        {ENOENT, EXIT_FAILED, "something required is missing (a file, kubeadm-certs, a token, a member)"},
        {ESTALE, EXIT_FAILED, "this node's state is stale (its etcd member was removed: reset, then run)"},
        {EADDRINUSE, EXIT_FAILED, "a stale etcd member holds this node's name or peer URL"},
        {EBADMSG, EXIT_FAILED, "a peer or a file said something that cannot be read"},
        {EEXIST, EXIT_FAILED, "something that must not exist does"},
        {ENOMEM, EXIT_FAILED, "out of memory"},
};

const struct cli_exit_rule *cli_exit_rules(size_t *ret_n) {
        *ret_n = ELEMENTSOF(rules);
        return rules;
}

int cli_exit_code_for_error(int r) {
        int e = r < 0 ? -r : r;
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                if (rules[i].error == e)
                        return rules[i].exit_code;
        return EXIT_FAILED; /* anything else: a person looks at the message */
}
