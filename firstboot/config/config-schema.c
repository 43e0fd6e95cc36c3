/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema of every document kind we read, and the strict validation against it: unknown fields, wrong
 * types and bad values are problems naming the field's path. Fields that exist in only one kubeadm API
 * version are marked so, and using one in the other version is a problem too.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup-libs.h"
#include "common/jsonutil.h"
#include "common/strutil.h"
#include "firstboot/config/config-internal.h"
#include "firstboot/config/config.h"
#include "manifests/versions.h"

enum ftype {
        T_STR,
        T_INT,
        T_BOOL,
        T_DUR,
        T_OBJ,
        T_LIST_STR,
        T_LIST_OBJ,
        T_MAP_STR,       /* map of string to string */
        T_MAP_ANY,       /* map of anything (featureGates) */
        T_ARGS,          /* extraArgs: v1beta3 map, v1beta4 list of {name, value} */
        T_ANY,           /* kept as it is */
        T_CIDRS,         /* comma-separated CIDRs, at most one per family */
        T_SERVICE_CIDRS, /* the same, each at most 2^20 addresses (kubeadm: /12 for IPv4, /108 for IPv6) */
        T_IP,
        T_PORT,
        T_ENUM,
        T_ENDPOINT, /* host or IP with an optional port */
        T_TOKEN,    /* bootstrap token [a-z0-9]{6}.[a-z0-9]{16} */
        T_CERTKEY,  /* 64 hex digits */
        T_HASHES,   /* list of sha256:<64 hex> */
        T_LIST_IP,
        T_PATH,       /* absolute path */
        T_SECRET,     /* {value: ...}, {file: /path} or a secret store; sub[0].type says the value's shape */
        T_URL,        /* an http:// or https:// URL */
        T_NODE_NAME,  /* a DNS-1123 subdomain, as kubeadm wants nodeRegistration.name */
        T_DNS_DOMAIN, /* a DNS-1123 subdomain */
        T_DEVICE,     /* a /dev path or LABEL=, UUID=, PARTLABEL=, PARTUUID= */
        T_K8S_VERSION, /* a supported Kubernetes version or one of kubeadm's labels */
        T_PERCENT,     /* a whole number 1-99 */
        T_VRID,        /* a VRRP virtual router id, 1-255 */
};

enum {
        V3 = 1 << 0,
        V4 = 1 << 1,
        VB = V3 | V4,
};

struct field {
        const char *name;
        enum ftype type;
        const struct field *sub;   /* for T_OBJ / T_LIST_OBJ */
        unsigned versions;         /* 0 = every version */
        const char *const *values; /* for T_ENUM */
        /* For the configuration reference (docs/configuration.md, 'config reference'): what it does, its
         * default, an example value. FirstbootConfiguration's fields have all three where they apply. */
        const char *doc, *def, *example;
};

#define END                                                                                                 \
        { NULL, 0, NULL, 0, NULL, NULL, NULL, NULL }

static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};
static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
static const char *const algorithms[] = {"RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", NULL};
static const char *const roles[] = {"auto", "init", "control-plane", "worker", NULL};
static const char *const seed_rules[] = {"instanceId", "hostname", "address", "lowestAddress", NULL};
static const char *const path_types[] = {
        "",           "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
        "CharDevice", "BlockDevice",       NULL};

static const struct field taint[] = {
        {"key", T_STR}, {"value", T_STR}, {"effect", T_ENUM, NULL, 0, effects}, {"timeAdded", T_STR}, END,
};
static const struct field node_registration[] = {
        {"name", T_NODE_NAME},
        {"criSocket", T_STR},
        {"taints", T_LIST_OBJ, taint},
        {"kubeletExtraArgs", T_ARGS},
        {"ignorePreflightErrors", T_LIST_STR},
        {"imagePullPolicy", T_ENUM, NULL, 0, pull_policies},
        {"imagePullSerial", T_BOOL, NULL, V4},
        END,
};
static const struct field api_endpoint[] = {{"advertiseAddress", T_IP}, {"bindPort", T_PORT}, END};
static const struct field patches[] = {{"directory", T_PATH}, END};
static const struct field timeouts[] = {
        {"controlPlaneComponentHealthCheck", T_DUR},
        {"kubeletHealthCheck", T_DUR},
        {"kubernetesAPICall", T_DUR},
        {"etcdAPICall", T_DUR},
        {"tlsBootstrap", T_DUR},
        {"discovery", T_DUR},
        {"upgradeManifests", T_DUR},
        END,
};
static const struct field bootstrap_token[] = {
        {"token", T_TOKEN},
        {"description", T_STR},
        {"ttl", T_DUR},
        {"expires", T_STR},
        {"usages", T_LIST_STR},
        {"groups", T_LIST_STR},
        END,
};
static const struct field env_var[] = {{"name", T_STR}, {"value", T_STR}, {"valueFrom", T_ANY}, END};
static const struct field host_path_mount[] = {
        {"name", T_STR},
        {"hostPath", T_STR},
        {"mountPath", T_STR},
        {"readOnly", T_BOOL},
        {"pathType", T_ENUM, NULL, 0, path_types},
        END,
};
static const struct field etcd_local[] = {
        {"imageRepository", T_STR},
        {"imageTag", T_STR},
        {"dataDir", T_PATH},
        {"extraArgs", T_ARGS},
        {"extraEnvs", T_LIST_OBJ, env_var, V4},
        {"serverCertSANs", T_LIST_STR},
        {"peerCertSANs", T_LIST_STR},
        END,
};
static const struct field etcd_external[] = {
        {"endpoints", T_LIST_STR}, {"caFile", T_PATH}, {"certFile", T_PATH}, {"keyFile", T_PATH}, END,
};
static const struct field etcd[] = {{"local", T_OBJ, etcd_local}, {"external", T_OBJ, etcd_external}, END};
static const struct field networking[] = {
        {"serviceSubnet", T_SERVICE_CIDRS},
        {"podSubnet", T_CIDRS},
        {"dnsDomain", T_DNS_DOMAIN},
        END,
};
static const struct field api_server[] = {
        {"extraArgs", T_ARGS},
        {"extraVolumes", T_LIST_OBJ, host_path_mount},
        {"extraEnvs", T_LIST_OBJ, env_var, V4},
        {"certSANs", T_LIST_STR},
        {"timeoutForControlPlane", T_DUR, NULL, V3},
        END,
};
static const struct field control_plane_component[] = {
        {"extraArgs", T_ARGS},
        {"extraVolumes", T_LIST_OBJ, host_path_mount},
        {"extraEnvs", T_LIST_OBJ, env_var, V4},
        END,
};
static const struct field dns[] = {
        {"imageRepository", T_STR},
        {"imageTag", T_STR},
        {"disabled", T_BOOL, NULL, V4},
        END,
};
static const struct field proxy[] = {{"disabled", T_BOOL}, END};

static const struct field cluster_configuration[] = {
        {"apiVersion", T_STR},
        {"kind", T_STR},
        {"etcd", T_OBJ, etcd},
        {"networking", T_OBJ, networking},
        {"kubernetesVersion", T_K8S_VERSION},
        {"controlPlaneEndpoint", T_ENDPOINT},
        {"apiServer", T_OBJ, api_server},
        {"controllerManager", T_OBJ, control_plane_component},
        {"scheduler", T_OBJ, control_plane_component},
        {"dns", T_OBJ, dns},
        {"proxy", T_OBJ, proxy, V4},
        {"certificatesDir", T_PATH},
        {"imageRepository", T_STR},
        {"featureGates", T_MAP_ANY},
        {"clusterName", T_STR},
        {"encryptionAlgorithm", T_ENUM, NULL, V4, algorithms},
        {"certificateValidityPeriod", T_DUR, NULL, V4},
        {"caCertificateValidityPeriod", T_DUR, NULL, V4},
        END,
};
static const struct field init_configuration[] = {
        {"apiVersion", T_STR},
        {"kind", T_STR},
        {"bootstrapTokens", T_LIST_OBJ, bootstrap_token},
        {"nodeRegistration", T_OBJ, node_registration},
        {"localAPIEndpoint", T_OBJ, api_endpoint},
        {"certificateKey", T_CERTKEY},
        {"skipPhases", T_LIST_STR},
        {"patches", T_OBJ, patches},
        {"dryRun", T_BOOL, NULL, V4},
        {"timeouts", T_OBJ, timeouts, V4},
        END,
};
static const struct field discovery_token[] = {
        {"token", T_TOKEN},
        {"apiServerEndpoint", T_ENDPOINT},
        {"caCertHashes", T_HASHES},
        {"unsafeSkipCAVerification", T_BOOL},
        END,
};
static const struct field discovery_file[] = {{"kubeConfigPath", T_STR}, END};
static const struct field discovery[] = {
        {"bootstrapToken", T_OBJ, discovery_token},
        {"file", T_OBJ, discovery_file},
        {"tlsBootstrapToken", T_TOKEN},
        {"timeout", T_DUR, NULL, V3},
        END,
};
static const struct field join_control_plane[] = {
        {"localAPIEndpoint", T_OBJ, api_endpoint},
        {"certificateKey", T_CERTKEY},
        END,
};
static const struct field join_configuration[] = {
        {"apiVersion", T_STR},
        {"kind", T_STR},
        {"dryRun", T_BOOL, NULL, V4},
        {"nodeRegistration", T_OBJ, node_registration},
        {"caCertPath", T_PATH},
        {"discovery", T_OBJ, discovery},
        {"controlPlane", T_OBJ, join_control_plane},
        {"skipPhases", T_LIST_STR},
        {"patches", T_OBJ, patches},
        {"timeouts", T_OBJ, timeouts, V4},
        END,
};

static const struct field seed[] = {
        {"rule", T_ENUM, NULL, 0, seed_rules,
         "How the nodes of role auto, all booted from the same user-data, pick the one that runs init: the one whose instance id, host name or address is the value below, or the one with the lowest address of peers. The seed still joins when the control-plane endpoint or a peer already answers (a replaced seed).",
         NULL, "lowestAddress"},
        {"instanceId", T_STR, NULL, 0, NULL, "The seed's instance id (rule instanceId).", NULL,
         "i-0a1b2c3d4e5f60718"},
        {"hostname", T_STR, NULL, 0, NULL, "The seed's host name (rule hostname).", NULL, "cp-1"},
        {"address", T_IP, NULL, 0, NULL, "The seed's address (rule address).", NULL, "10.0.1.10"},
        {"peers", T_LIST_IP, NULL, 0, NULL,
         "Every control plane's address (rule lowestAddress); also the peers the seed listens for before it runs init.",
         NULL, "[10.0.1.10, 10.0.2.10, 10.0.3.10]"},
        END,
};
/* The secret stores a secret may come from, read with the instance's own identity (metadata/secret-store.h).
 */
static const struct field store_aws_secrets_manager[] = {
        {"secretId", T_STR, NULL, 0, NULL, "The secret's name or ARN (required).", NULL,
         "prod/k8s/certificate-key"},
        {"region", T_STR, NULL, 0, NULL, "The secret's region.", "the instance identity document's",
         "eu-west-1"},
        {"versionStage", T_STR, NULL, 0, NULL, "Which version, by staging label.", "AWSCURRENT",
         "AWSPENDING"},
        {"jsonKey", T_STR, NULL, 0, NULL,
         "The value is this key of the secret's JSON object (a secret holding several values).",
         "none: the whole SecretString", "certificateKey"},
        {"endpoint", T_URL, NULL, 0, NULL,
         "The service's URL instead of https://secretsmanager.REGION.amazonaws.com (a VPC endpoint; a test's emulator).",
         NULL, "https://vpce-0a1b2c3d.secretsmanager.eu-west-1.vpce.amazonaws.com"},
        END};
static const struct field store_aws_ssm[] = {
        {"name", T_STR, NULL, 0, NULL,
         "The parameter's name or ARN (required); a SecureString is decrypted.", NULL,
         "/k8s/prod/bootstrap-token"},
        {"region", T_STR, NULL, 0, NULL, "The parameter's region.", "the instance identity document's",
         "eu-west-1"},
        {"endpoint", T_URL, NULL, 0, NULL, "The service's URL instead of https://ssm.REGION.amazonaws.com.",
         NULL, "https://vpce-0a1b2c3d.ssm.eu-west-1.vpce.amazonaws.com"},
        END};
static const struct field store_gcp[] = {
        {"name", T_STR, NULL, 0, NULL,
         "The secret version's resource name (required); without /versions/ the latest version.", NULL,
         "projects/my-project/secrets/k8s-certificate-key/versions/latest"},
        {"endpoint", T_URL, NULL, 0, NULL,
         "The service's URL instead of https://secretmanager.googleapis.com (a regional or private endpoint).",
         NULL, "https://secretmanager.europe-west1.rep.googleapis.com"},
        END};
static const struct field store_azure[] = {
        {"vaultUrl", T_URL, NULL, 0, NULL, "The vault's URL (required).", NULL,
         "https://my-vault.vault.azure.net"},
        {"name", T_STR, NULL, 0, NULL, "The secret's name (required).", NULL, "k8s-certificate-key"},
        {"version", T_STR, NULL, 0, NULL, "The secret's version.", "the latest",
         "4387e9f3d6e14c459867679a90fd0f79"},
        {"clientId", T_STR, NULL, 0, NULL,
         "The client id of a user-assigned managed identity to read it with.",
         "the VM's system-assigned identity", "6f3c1a2b-0d4e-4f5a-9b8c-7d6e5f4a3b2c"},
        END};
#define SECRET_STORES                                                                                                                                                              \
        {"awsSecretsManager",                                                                                                                                                      \
         T_OBJ,                                                                                                                                                                    \
         store_aws_secrets_manager,                                                                                                                                                \
         0,                                                                                                                                                                        \
         NULL,                                                                                                                                                                     \
         "AWS Secrets Manager, read with the instance role's credentials from IMDSv2 (the role needs secretsmanager:GetSecretValue, and kms:Decrypt for a customer-managed key).", \
         NULL,                                                                                                                                                                     \
         NULL},                                                                                                                                                                    \
                {"awsSsmParameter",                                                                                                                                                \
                 T_OBJ,                                                                                                                                                            \
                 store_aws_ssm,                                                                                                                                                    \
                 0,                                                                                                                                                                \
                 NULL,                                                                                                                                                             \
                 "AWS Systems Manager Parameter Store, read with the instance role's credentials (ssm:GetParameter, and kms:Decrypt for a SecureString).",                         \
                 NULL,                                                                                                                                                             \
                 NULL},                                                                                                                                                            \
                {"gcpSecretManager",                                                                                                                                               \
                 T_OBJ,                                                                                                                                                            \
                 store_gcp,                                                                                                                                                        \
                 0,                                                                                                                                                                \
                 NULL,                                                                                                                                                             \
                 "GCP Secret Manager, read with the instance's default service account (roles/secretmanager.secretAccessor).",                                                     \
                 NULL,                                                                                                                                                             \
                 NULL},                                                                                                                                                            \
        {                                                                                                                                                                          \
                "azureKeyVault", T_OBJ, store_azure, 0, NULL,                                                                                                                      \
                        "Azure Key Vault, read with the VM's managed identity (Key Vault Secrets User, or an access policy with get).",                                            \
                        NULL, NULL                                                                                                                                                 \
        }
static const struct field secret_token[] = {
        {"value", T_TOKEN, NULL, 0, NULL, "The token itself.", NULL, "abcdef.0123456789abcdef"},
        {"file", T_PATH, NULL, 0, NULL,
         "A file that holds it (a trailing newline is dropped), read under --root.", NULL,
         "/run/kube-firstboot/secrets/bootstrap-token"},
        SECRET_STORES,
        END};
static const struct field secret_certkey[] = {
        {"value", T_CERTKEY, NULL, 0, NULL, "The key itself: 64 hex digits.", NULL,
         "'kube-firstboot pki certificate-key' makes one"},
        {"file", T_PATH, NULL, 0, NULL,
         "A file that holds it (a trailing newline is dropped), read under --root.", NULL,
         "/run/kube-firstboot/secrets/certificate-key"},
        SECRET_STORES,
        END};
static const struct field secret_cakey[] = {
        {"value", T_STR, NULL, 0, NULL, "The key itself: PEM, unencrypted RSA or ECDSA.", NULL,
         "a PEM block"},
        {"file", T_PATH, NULL, 0, NULL, "A file that holds it, read under --root.", NULL,
         "/run/kube-firstboot/secrets/ca.key"},
        SECRET_STORES,
        END};
static const struct field secrets[] = {
        {"bootstrapToken", T_SECRET, secret_token, 0, NULL,
         "The bootstrap token: init creates it (InitConfiguration.bootstrapTokens[0] when that sets none), joiners discover and join with it. Exactly one source: value, file, or a secret store; a later source that sets one replaces the other.",
         "init: a fresh token, printed once; joiners: required", NULL},
        {"certificateKey", T_SECRET, secret_certkey, 0, NULL,
         "The key the kubeadm-certs Secret is sealed with: init uploads the shared CA keys under it, control-plane joiners download them with it. Exactly one source: value, file, or a secret store (user-data that holds no secret: README, \"Secrets from a cloud secret store\").",
         "init: a fresh key, printed once; control-plane joiners: required", NULL},
        {"caKey", T_SECRET, secret_cakey, 0, NULL,
         "The private key of the CA given by ca.cert or ca.certFile, instead of ca.key or ca.keyFile: from a secret store, so that user-data that pins a CA made beforehand holds no key. Exactly one source.",
         "ca.key or ca.keyFile", NULL},
        END};
static const struct field ca[] = {
        {"cert", T_STR, NULL, 0, NULL,
         "The cluster CA certificate (PEM), made beforehand: init uses it instead of making one, joiners trust the cluster only if it is this CA (a pin without caCertHashes).",
         "init makes a new CA", "a PEM block"},
        {"certFile", T_PATH, NULL, 0, NULL, "The same, from a file under --root (cloud-init's write_files).",
         NULL, "/etc/kubernetes/pki/ca.crt"},
        {"key", T_STR, NULL, 0, NULL,
         "The CA's private key (PEM, unencrypted RSA or ECDSA), matching the certificate. Required with a CA certificate wherever the node may run init (role init or auto).",
         NULL, "a PEM block"},
        {"keyFile", T_PATH, NULL, 0, NULL, "The same, from a file under --root.", NULL,
         "/etc/kubernetes/pki/ca.key"},
        END};
static const char *const filesystems[] = {"ext4", "xfs", NULL};
static const struct field fb_etcd[] = {
        {"dataDevice", T_DEVICE, NULL, 0, NULL,
         "A disk for etcd's data (control planes): found by path or tag through libblkid, formatted only when it holds nothing at all, mounted at etcd's data dir and kept across reboots by a mount unit the kubelet requires. A disk that holds anything else is refused.",
         "none: etcd's data stays on the root disk", "LABEL=etcd"},
        {"filesystem", T_ENUM, NULL, 0, filesystems,
         "The filesystem made on a blank dataDevice (a disk that holds the other one is used as it is).",
         "ext4", "xfs"},
        {"label", T_STR, NULL, 0, NULL, "The label of a filesystem made on a blank dataDevice.", "etcd",
         "etcd-data"},
        END};
static const struct field fb_timeouts[] = {
        {"metadata", T_DUR, NULL, 0, NULL,
         "Accepted, not used by this version: the metadata timeout is --timeout (3s a request).", NULL,
         "30s"},
        {"discovery", T_DUR, NULL, 0, NULL,
         "How long a control-plane joiner waits for the kubeadm-certs Secret to appear (init uploads it). Discovery itself waits JoinConfiguration.timeouts.discovery.",
         "5m", "10m"},
        {"controlPlane", T_DUR, NULL, 0, NULL,
         "Accepted, not used by this version: the wait for the control plane is InitConfiguration/JoinConfiguration.timeouts.controlPlaneComponentHealthCheck.",
         NULL, "15m"},
        {"etcdJoin", T_DUR, NULL, 0, NULL,
         "How long a control-plane joiner waits for the join queue (one etcd member change at a time, cluster-wide), and for its etcd member to be added and promoted.",
         "10m for the queue, 2m for the member change", "15m"},
        {"total", T_DUR, NULL, 0, NULL,
         "Accepted, not used by this version: no overall deadline is enforced; the unit's TimeoutStartSec is.",
         NULL, "40m"},
        {"seedGrace", T_DUR, NULL, 0, NULL,
         "Role auto: how long the seed listens for an answer at the control-plane endpoint or from a peer before it runs init; meanwhile it answers other seeds at the apiserver's port, and of two seeds that hear each other the lower address inits.",
         "15s", "30s"},
        END,
};
static const struct field reporting[] = {
        {"statusFile", T_PATH, NULL, 0, NULL,
         "Accepted, not used by this version: the status is always /run/kube-firstboot/status.json.", NULL,
         "/run/kube-firstboot/status.json"},
        {"kmsg", T_BOOL, NULL, 0, NULL, "Accepted, not used by this version.", "false", "true"},
        {"url", T_STR, NULL, 0, NULL, "Accepted, not used by this version.", NULL,
         "https://example.test/report"},
        {"joinFile", T_PATH, NULL, 0, NULL,
         "After init, a file (mode 0600, under --root) with what joiners need, secrets included: the endpoint, the CA pin, the bootstrap token and the certificate key. /var/lib/kube-firstboot/join-info.json gets the same without the secrets either way.",
         "none: the secrets of a run that made them are printed once, not written", "/root/join-info.json"},
        END};
static const struct field fb_kubelet[] = {
        {"startCommand", T_LIST_STR, NULL, 0, NULL,
         "The command that starts the kubelet once its files are written (not run under --root without --allow-host).",
         "[systemctl, enable, --now, kubelet]", "[systemctl, restart, kubelet]"},
        END};
static const struct field replacement[] = {
        {"enabled", T_BOOL, NULL, 0, NULL,
         "Whether a control-plane joiner removes the etcd members (and Nodes) of dead control planes before it adds its own: an autoscaling group's replacement then joins with no operator step. See the README's \"Replacing dead control planes\".",
         "true", "false"},
        {"deadAfter", T_DUR, NULL, 0, NULL,
         "How long a member must have been unreachable, with no healthy voter seeing it and its Node's Lease not renewed, before it counts as dead. Keep it above the Lease's 40s and a reboot's length.",
         "5m", "10m"},
        END};
static const struct field certificate_renewal[] = {
        {"enabled", T_BOOL, NULL, 0, NULL,
         "Whether 'kube-firstboot refresh' (the control plane's daily timer) renews this node's certificates before they expire: the leaf certificates and kubeconfig client certificates 'kubeadm certs renew all' renews, with new keys, signed by the CAs on disk, then kube-apiserver, kube-controller-manager and kube-scheduler restarted one at a time. CAs are never renewed.",
         "true", "false"},
        {"renewBeforePercentage", T_PERCENT, NULL, 0, NULL,
         "Renew a certificate when less than this part of its lifetime is left (20: a 1-year certificate about 73 days before it expires). A CA with less than this part left is reported (log, status.json) at every refresh.",
         "20", "30"},
        END};
static const char *const vip_providers[] = {"keepalived", "kube-vip", NULL};
static const struct field secret_vrrp[] = {
        {"value", T_STR, NULL, 0, NULL,
         "The password itself: 1 to 8 characters (VRRP's PASS authentication).", NULL, "k8s-vip1"},
        {"file", T_PATH, NULL, 0, NULL,
         "A file that holds it (a trailing newline is dropped), read under --root.", NULL,
         "/run/kube-firstboot/secrets/vrrp-password"},
        SECRET_STORES,
        END};
static const struct field control_plane_vip[] = {
        {"address", T_IP, NULL, 0, NULL,
         "The virtual IP address of the control plane (required): every control plane runs it as static pods kube-firstboot writes, and ClusterConfiguration.controlPlaneEndpoint defaults to address:port. It must be free, in the subnet of the interface.",
         NULL, "192.168.10.50"},
        {"port", T_PORT, NULL, 0, NULL,
         "The port the endpoint answers on. keepalived: haproxy's port on every control plane, balancing across the apiservers (it must differ from the apiserver's bindPort); kube-vip: the apiserver's own port.",
         "keepalived: 8443; kube-vip: the apiserver's bindPort (6443)", "8443"},
        {"interface", T_STR, NULL, 0, NULL, "The network interface the address is announced on.",
         "the interface that carries the node's advertise address", "ens192"},
        {"provider", T_ENUM, NULL, 0, vip_providers,
         "keepalived: keepalived (VRRP, the address only on a node whose apiserver answers) and haproxy, as kubeadm's HA documentation describes; kube-vip: kube-vip's static pod (ARP, leader election on its Lease), with super-admin.conf on the init node until the cluster is up, admin.conf after.",
         "keepalived", "kube-vip"},
        {"virtualRouterId", T_VRID, NULL, 0, NULL,
         "keepalived: the VRRP virtual router id, the same on every control plane of this cluster, unique among the clusters of the subnet.",
         "51", "52"},
        {"authentication", T_SECRET, secret_vrrp, 0, NULL,
         "keepalived: VRRP's password (auth_pass), the same on every control plane. A secret like the others: value, file, or a secret store; printed only as `<redacted>`.",
         "none", NULL},
        END};
static const struct field firstboot_configuration[] = {
        {"apiVersion", T_STR, NULL, 0, NULL, "The version of this kind.", NULL, FB_API_VERSION},
        {"kind", T_STR, NULL, 0, NULL, "This kind.", NULL, "FirstbootConfiguration"},
        {"role", T_ENUM, NULL, 0, roles,
         "What this node becomes: init (the first control plane), control-plane (joins as one), worker, or auto (identical user-data on every control plane: the seed rule picks the one that runs init, the others join).",
         "auto", "worker"},
        {"seed", T_OBJ, seed, 0, NULL, "Role auto: which node runs init.", NULL, NULL},
        {"secrets", T_OBJ, secrets, 0, NULL,
         "Where the secrets come from; every verb prints them only as `<redacted>`, and 'kube-firstboot secrets check' reads each from its source and prints its SHA-256.",
         NULL, NULL},
        {"ca", T_OBJ, ca, 0, NULL, "A cluster CA made beforehand.", "init makes a new CA", NULL},
        {"etcd", T_OBJ, fb_etcd, 0, NULL, "etcd's data disk.", NULL, NULL},
        {"timeouts", T_OBJ, fb_timeouts, 0, NULL,
         "How long this node waits (Go durations: 30s, 5m, 1h30m). kubeadm's own waits are in InitConfiguration/JoinConfiguration.timeouts.",
         NULL, NULL},
        {"reporting", T_OBJ, reporting, 0, NULL,
         "Where the result goes besides status.json and the journal.", NULL, NULL},
        {"kubelet", T_OBJ, fb_kubelet, 0, NULL, "How the kubelet is started.", NULL, NULL},
        {"replacement", T_OBJ, replacement, 0, NULL,
         "Replacing dead control planes: what a control-plane joiner may remove from etcd before it joins.",
         NULL, NULL},
        {"certificateRenewal", T_OBJ, certificate_renewal, 0, NULL,
         "Certificates renewed in place by the control plane's refresh timer.", NULL, NULL},
        {"controlPlaneVIP", T_OBJ, control_plane_vip, 0, NULL,
         "A virtual IP for the control-plane endpoint, run by the control planes themselves (vSphere, bare metal: no cloud load balancer). See the README's \"A control-plane VIP\".",
         "none: controlPlaneEndpoint is a load balancer of your own", NULL},
        END,
};

struct kind {
        const char *kind;
        const char *const *api_versions;
        const struct field *fields; /* NULL: kept as a document, only apiVersion/kind checked */
};

static const char *const kubeadm_versions[] = {FB_KUBEADM_V1BETA4, FB_KUBEADM_V1BETA3, NULL};
static const struct kind kinds[] = {
        {"FirstbootConfiguration", (const char *const[]){FB_API_VERSION, NULL}, firstboot_configuration},
        {"InitConfiguration", kubeadm_versions, init_configuration},
        {"ClusterConfiguration", kubeadm_versions, cluster_configuration},
        {"JoinConfiguration", kubeadm_versions, join_configuration},
        {"KubeletConfiguration", (const char *const[]){"kubelet.config.k8s.io/v1beta1", NULL}, NULL},
        {"KubeProxyConfiguration", (const char *const[]){"kubeproxy.config.k8s.io/v1alpha1", NULL}, NULL},
};

int fb_problem(char ***problems, const char *source, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        char *s = source ? strdupf("%s (from %s)", msg, source) : strdup(msg);
        if (!s)
                return -ENOMEM;
        return strv_consume(problems, s);
}

int fb_parse_duration_ms(const char *s, unsigned long long *ret) {
        static const struct {
                const char *unit;
                double ms;
        } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3},  {"ms", 1},
                     {"s", 1000},  {"m", 60000}, {"h", 3600000}};
        double total = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        if (streq(s, "0")) {
                *ret = 0;
                return 0;
        }
        if (*p == '+')
                p++;
        while (*p) {
                char *end;
                double v;
                size_t best = 0;
                double mul = 0;
                if (!isdigit((unsigned char) *p) && *p != '.')
                        return -EINVAL;
                v = strtod(p, &end);
                if (end == p)
                        return -EINVAL;
                p = end;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].unit);
                        /* "ms" before "m": take the longest unit that matches. */
                        if (strncmp(p, units[i].unit, l) == 0 && l > best) {
                                best = l;
                                mul = units[i].ms;
                        }
                }
                if (best == 0)
                        return -EINVAL;
                p += best;
                total += v * mul;
        }
        if (total > 1e15)
                return -ERANGE;
        *ret = (unsigned long long) total;
        return 0;
}

static bool valid_ip(const char *s) {
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* 4 or 6 for a valid CIDR, 0 otherwise. */
static int cidr_family(const char *s) {
        const char *slash = strchr(s, '/');
        char addr[64];
        unsigned char buf[16];
        unsigned prefix;
        int fam;

        if (!slash || (size_t) (slash - s) >= sizeof(addr))
                return 0;
        memcpy(addr, s, (size_t) (slash - s));
        addr[slash - s] = 0;
        if (inet_pton(AF_INET, addr, buf) == 1)
                fam = 4;
        else if (inet_pton(AF_INET6, addr, buf) == 1)
                fam = 6;
        else
                return 0;
        if (safe_atou(slash + 1, &prefix) < 0 || prefix > (fam == 4 ? 32u : 128u))
                return 0;
        return fam;
}

/* A DNS-1123 subdomain, as Kubernetes wants object and node names: lower-case labels of letters, digits
 * and '-', each starting and ending with a letter or digit, at most 63 characters each, 253 in all. */
static bool valid_dns1123_subdomain(const char *s) {
        size_t n = strlen(s), label = 0;
        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!(islower((unsigned char) c) || isdigit((unsigned char) c) || c == '-'))
                        return false;
                if (label == 0 && c == '-')
                        return false;
                if (++label > 63)
                        return false;
        }
        return s[n - 1] != '-' && s[n - 1] != '.';
}

static bool valid_dns_name(const char *s, size_t n) {
        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '-' && s[i] != '.')
                        return false;
        return s[0] != '-' && s[0] != '.' && s[n - 1] != '-';
}

static bool valid_endpoint(const char *s) {
        unsigned port;
        if (s[0] == '[') { /* [v6]:port */
                const char *close = strchr(s, ']');
                char a[64];
                unsigned char buf[16];
                if (!close || (size_t) (close - s - 1) >= sizeof(a))
                        return false;
                memcpy(a, s + 1, (size_t) (close - s - 1));
                a[close - s - 1] = 0;
                if (inet_pton(AF_INET6, a, buf) != 1)
                        return false;
                if (!close[1])
                        return true;
                return close[1] == ':' && safe_atou(close + 2, &port) >= 0 && port > 0 && port < 65536;
        }
        if (valid_ip(s))
                return true; /* a bare IPv4 or IPv6 address */
        const char *colon = strrchr(s, ':');
        if (colon && (safe_atou(colon + 1, &port) < 0 || port == 0 || port > 65535))
                return false;
        size_t n = colon ? (size_t) (colon - s) : strlen(s);
        char host[256];
        unsigned char buf[4];
        if (n >= sizeof(host))
                return false;
        memcpy(host, s, n);
        host[n] = 0;
        return inet_pton(AF_INET, host, buf) == 1 || valid_dns_name(host, n);
}

bool fb_valid_token(const char *s) {
        if (strlen(s) != 23 || s[6] != '.')
                return false;
        for (int i = 0; i < 23; i++)
                if (i != 6 && !(islower((unsigned char) s[i]) || isdigit((unsigned char) s[i])))
                        return false;
        return true;
}

static bool all_hex(const char *s, size_t n) {
        if (strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

bool fb_valid_certificate_key(const char *s) {
        return all_hex(s, 64);
}

bool fb_valid_vrrp_password(const char *s) {
        size_t n = s ? strlen(s) : 0;
        if (n < 1 || n > 8)
                return false;
        for (const char *p = s; *p; p++)
                if (!isgraph((unsigned char) *p) || strchr("\"'\\!#", *p))
                        return false;
        return true;
}

/* A value as a message may show it: quoted, or described when it looks like a secret (a bootstrap token, a
 * certificate key, a PEM private key) wherever it was pasted, so that a secret in the wrong field is never
 * echoed. The buffer is the caller's. */
#define SHOWN_MAX 300
static const char *shown(const char *s, char buf[SHOWN_MAX]) {
        if (str_looks_secret(s))
                return "the value (not shown: it looks like a secret)";
        snprintf(buf, SHOWN_MAX, "'%.*s%s'", 200, s, strlen(s) > 200 ? "..." : "");
        return buf;
}

struct vctx {
        char ***problems;
        const char *source;
        unsigned version;
        int r; /* -ENOMEM sticks */
};

_printf_(3, 4) static void bad(struct vctx *v, const char *path, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg || fb_problem(v->problems, v->source, "%s: %s", path, msg) < 0)
                v->r = -ENOMEM;
}

static const char *type_name(const cJSON *j) {
        if (cJSON_IsObject(j))
                return "a mapping";
        if (cJSON_IsArray(j))
                return "a list";
        if (cJSON_IsBool(j))
                return "a boolean";
        if (cJSON_IsNumber(j) || cJSON_IsRaw(j))
                return "a number";
        if (cJSON_IsNull(j))
                return "null";
        return "a string";
}

static void validate_fields(struct vctx *v, const cJSON *obj, const struct field *fields, const char *path);

/* A map's values must be strings (numbers and booleans are read as their text). */
static void validate_string_values(struct vctx *v, const cJSON *j, const char *path) {
        const cJSON *e;

        cJSON_ArrayForEach(e, j)
                if (!json_scalar_text(e)) {
                        _cleanup_free_ char *p = strdupf("%s.%s", path, e->string);
                        bad(v, p ?: path, "must be a string, not %s", type_name(e));
                }
}

/* One element of a list: a mapping (T_LIST_OBJ) or a string of the list's kind. */
static void validate_element(struct vctx *v, const cJSON *e, const struct field *f, const char *p) {
        const char *es = cJSON_IsString(e) ? e->valuestring : NULL;
        char sb[SHOWN_MAX];

        if (f->type == T_LIST_OBJ) {
                if (!cJSON_IsObject(e))
                        bad(v, p, "must be a mapping, not %s", type_name(e));
                else
                        validate_fields(v, e, f->sub, p);
        } else if (!es)
                bad(v, p, "must be a string, not %s", type_name(e));
        else if (f->type == T_LIST_IP && !valid_ip(es))
                bad(v, p, "%s is not an IP address", shown(es, sb));
        else if (f->type == T_HASHES && !(strncasecmp(es, "sha256:", 7) == 0 && all_hex(es + 7, 64)))
                bad(v, p,
                    "%s is not 'sha256:' followed by 64 hex digits (the CA pin: 'kube-firstboot pki ca-hash')",
                    shown(es, sb));
}

static void validate_list(struct vctx *v, const cJSON *j, const struct field *f, const char *path) {
        const cJSON *e;
        int i = 0;

        if (!cJSON_IsArray(j))
                return bad(v, path, "must be a list, not %s", type_name(j));
        cJSON_ArrayForEach(e, j) {
                _cleanup_free_ char *p = strdupf("%s[%d]", path, i++);
                if (!p) {
                        v->r = -ENOMEM;
                        return;
                }
                validate_element(v, e, f, p);
        }
}

/* extraArgs: v1beta3 a map of strings; v1beta4 a list of {name, value}, duplicates allowed. */
static void validate_args(struct vctx *v, const cJSON *j, const char *path) {
        static const struct field arg[] = {{"name", T_STR}, {"value", T_STR}, END};
        const cJSON *e;
        int i = 0;

        if (v->version == V3) {
                if (!cJSON_IsObject(j))
                        return bad(v, path, "must be a mapping of flag names to values in v1beta3");
                return validate_string_values(v, j, path);
        }
        if (!cJSON_IsArray(j))
                return bad(v, path, "must be a list of {name, value} in v1beta4 (a mapping is v1beta3)");
        cJSON_ArrayForEach(e, j) {
                _cleanup_free_ char *p = strdupf("%s[%d]", path, i++);
                if (!cJSON_IsObject(e))
                        bad(v, p ?: path, "must be a mapping with name and value");
                else {
                        validate_fields(v, e, arg, p ?: path);
                        if (!json_get_string(e, "name"))
                                bad(v, p ?: path, "needs a name");
                }
        }
}

/* The kinds of source a secret takes, exactly one of them. */
static const char *const secret_sources[] = {
        "value", "file", "awsSecretsManager", "awsSsmParameter", "gcpSecretManager", "azureKeyVault", NULL};

static bool valid_chars(const char *s, const char *extra, size_t max) {
        if (isempty(s) || strlen(s) > max)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr(extra, *p))
                        return false;
        return true;
}

/* projects/P/secrets/S[/versions/V], or with locations/L/ after the project (a regional secret). */
static bool valid_gcp_secret_name(const char *s) {
        _cleanup_free_ char *copy = strdup(s);
        char *part[9];
        size_t n = 0, i = 2;
        if (!copy || !valid_chars(s, "-_./", 512) || strstr(s, "//") || s[0] == '/' || endswith(s, "/"))
                return false;
        for (char *save = NULL, *p = strtok_r(copy, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
                if (n == ELEMENTSOF(part) || streq(p, ".") || streq(p, ".."))
                        return false;
                part[n++] = p;
        }
        if (n < 4 || !streq(part[0], "projects"))
                return false;
        if (streq(part[2], "locations"))
                i = 4;
        if (n != i + 2 && n != i + 4)
                return false;
        return streq(part[i], "secrets") && (n == i + 2 || streq(part[i + 2], "versions"));
}

/* A secret store's own rules: what it needs, and names it can take. */
static void validate_store(struct vctx *v, const cJSON *j, const char *kind, const char *path) {
        const char *region = json_get_string(j, "region"), *name = json_get_string(j, "name"),
                   *version = json_get_string(j, "version");
        /* What a store needs (secretId, name, vaultUrl) is checked on the effective configuration: one
         * source may name the secret and a later one its endpoint. */
        if (region && !valid_chars(region, "-", 32))
                bad(v, path, "region: '%.64s' is not an AWS region such as eu-west-1", region);
        if (streq(kind, "gcpSecretManager") && name && !valid_gcp_secret_name(name))
                bad(v, path,
                    "name: '%.200s' is not a secret's resource name such as projects/P/secrets/S/versions/latest",
                    name);
        if (streq(kind, "azureKeyVault") && name && !valid_chars(name, "-", 127))
                bad(v, path, "name: '%.127s' is not a Key Vault secret name (letters, digits and '-')",
                    name);
        if (streq(kind, "azureKeyVault") && version && !valid_chars(version, "-", 127))
                bad(v, path, "version: '%.127s' is not a Key Vault secret version", version);
}

/* A secret: 'value' (of the secret's shape: a token, a certificate key), 'file' (read later) or one secret
 * store (read later, with the instance's identity). Secret values never appear in messages: only their shape
 * is described. */
static void validate_secret(struct vctx *v, const cJSON *j, const struct field *f, const char *path) {
        static const struct field any_secret[] = {{"value", T_STR}, {"file", T_PATH}, END};
        const char *kind = NULL;
        int n = 0;

        if (!cJSON_IsObject(j))
                return bad(
                        v, path,
                        "must be a mapping with one of value, file, awsSecretsManager, awsSsmParameter, gcpSecretManager, azureKeyVault");
        validate_fields(v, j, f->sub ?: any_secret, path);
        for (const char *const *k = secret_sources; *k; k++)
                if (cJSON_GetObjectItemCaseSensitive(j, *k)) {
                        kind = *k;
                        n++;
                }
        if (n != 1)
                return bad(
                        v, path,
                        "needs exactly one of value, file, awsSecretsManager, awsSsmParameter, gcpSecretManager and azureKeyVault");
        const cJSON *store = cJSON_GetObjectItemCaseSensitive(j, kind);
        if (cJSON_IsObject(store)) {
                _cleanup_free_ char *p = strdupf("%s.%s", path, kind);
                validate_store(v, store, kind, p ?: path);
        }
}

static void validate_number(struct vctx *v, const cJSON *j, const struct field *f, const char *path) {
        if (!cJSON_IsNumber(j) || j->valuedouble != (double) (long long) j->valuedouble)
                return bad(v, path, "must be a whole number, not %s", type_name(j));
        if (f->type == T_PORT && (j->valuedouble < 1 || j->valuedouble > 65535))
                bad(v, path, "%.0f is not a port (1-65535)", j->valuedouble);
        if (f->type == T_PERCENT && (j->valuedouble < 1 || j->valuedouble > 99))
                bad(v, path, "%.0f is not a percentage from 1 to 99", j->valuedouble);
        if (f->type == T_VRID && (j->valuedouble < 1 || j->valuedouble > 255))
                bad(v, path, "%.0f is not a VRRP virtual router id (1-255)", j->valuedouble);
}

/* One CIDR or two of different families, comma-separated; a service range at most 2^20 addresses. */
static void validate_cidrs(struct vctx *v, const char *s, bool service, const char *path) {
        _cleanup_free_ char *copy = strdup(s);
        char sb[SHOWN_MAX];
        int fams = 0, n = 0;

        if (!copy) {
                v->r = -ENOMEM;
                return;
        }
        for (char *c = strtok(copy, ","); c; c = strtok(NULL, ",")) {
                int fam = cidr_family(c);
                n++;
                if (!fam)
                        return bad(v, path, "%s is not a CIDR such as 10.244.0.0/16", shown(c, sb));
                int bit = fam == 4 ? 1 : 2;
                if (fams & bit)
                        return bad(v, path, "%s has two CIDRs of the same family", shown(s, sb));
                fams |= bit;
                /* kubeadm (and the apiserver) allow at most 2^20 service addresses. */
                unsigned prefix = 0, bits = fam == 4 ? 32 : 128;
                if (service && safe_atou(strchr(c, '/') + 1, &prefix) >= 0 && bits - prefix > 20)
                        return bad(
                                v, path,
                                "%s is too large: kubeadm allows at most 2^20 service addresses, a /%u or smaller for IPv%d",
                                shown(c, sb), bits - 20, fam);
        }
        if (n == 0)
                bad(v, path, "is empty");
}

static void validate_enum(struct vctx *v, const char *s, const struct field *f, const char *path) {
        char sb[SHOWN_MAX];

        for (const char *const *e = f->values; *e; e++)
                if (streq(*e, s))
                        return;
        _cleanup_free_ char *list =
                strjoin_sep((const char *const *) f->values, strv_length((char *const *) f->values), ", ");
        bad(v, path, "%s is not one of: %s", shown(s, sb), strempty(list));
}

static void validate_k8s_version(struct vctx *v, const char *s, const char *path) {
        _cleanup_free_ char *why = NULL;
        int r = fb_kubernetes_version_check(s, &why);

        if (r == -ENOMEM)
                v->r = r;
        else if (r < 0)
                bad(v, path, "%s", why);
}

static void validate_device(struct vctx *v, const char *s, const char *path) {
        _cleanup_free_ char *value = NULL;
        char sb[SHOWN_MAX];
        const char *tag;
        int r = parse_device_spec(s, &tag, &value);

        if (r == -ENOMEM)
                v->r = r;
        else if (r < 0)
                bad(v, path, "%s is not a /dev path or LABEL=, UUID=, PARTLABEL= or PARTUUID= with a value",
                    shown(s, sb));
}

/* A scalar that must be a string, checked for its kind: one case a kind. kubernetesVersion: 1.30 reads as a
 * number: its text is taken. */
static void validate_string(struct vctx *v, const cJSON *j, const struct field *f, const char *path) {
        const char *s = cJSON_IsString(j) ? j->valuestring : NULL;
        unsigned long long ms;
        char sb[SHOWN_MAX];

        if (!s && (f->type == T_STR || f->type == T_K8S_VERSION) && json_scalar_text(j) && !cJSON_IsBool(j))
                s = json_scalar_text(j);
        if (!s)
                return bad(v, path, "must be a string, not %s", type_name(j));
        switch (f->type) {
        case T_DUR:
                if (fb_parse_duration_ms(s, &ms) < 0)
                        bad(v, path, "%s is not a duration such as '30s', '5m' or '1h30m'", shown(s, sb));
                return;
        case T_CIDRS:
        case T_SERVICE_CIDRS:
                return validate_cidrs(v, s, f->type == T_SERVICE_CIDRS, path);
        case T_NODE_NAME:
        case T_DNS_DOMAIN:
                if (!valid_dns1123_subdomain(s))
                        bad(v, path,
                            "%s is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', as Kubernetes names must be)",
                            shown(s, sb));
                return;
        case T_IP:
                if (!valid_ip(s))
                        bad(v, path, "%s is not an IP address", shown(s, sb));
                return;
        case T_ENDPOINT:
                if (!valid_endpoint(s))
                        bad(v, path, "%s is not a host or IP address with an optional port", shown(s, sb));
                return;
        case T_ENUM:
                return validate_enum(v, s, f, path);
        case T_TOKEN:
                if (!fb_valid_token(s))
                        bad(v, path, "is not a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}");
                return;
        case T_CERTKEY:
                if (!all_hex(s, 64))
                        bad(v, path, "is not a certificate key of 64 hex digits (32 bytes)");
                return;
        case T_PATH:
                if (s[0] != '/')
                        bad(v, path, "%s is not an absolute path", shown(s, sb));
                return;
        case T_URL: {
                const char *h = startswith(s, "https://") ?: startswith(s, "http://");
                size_t n = h ? strcspn(h, "/?#") : 0;
                if (!h || n == 0 || memchr(h, '@', n) || strpbrk(s, " \t\r\n\"'") || strchr(s, '?') ||
                    strchr(s, '#'))
                        bad(v, path, "%s is not an http:// or https:// URL without user, query or fragment",
                            shown(s, sb));
                return;
        }
        case T_K8S_VERSION:
                return validate_k8s_version(v, s, path);
        case T_DEVICE:
                return validate_device(v, s, path);
        default:
                return;
        }
}

/* A value against its field: by the field's type, the containers first, then the scalars. */
static void validate_value(struct vctx *v, const cJSON *j, const struct field *f, const char *path) {
        if (cJSON_IsNull(j))
                return; /* an explicit null leaves the default, as in kubeadm */
        switch (f->type) {
        case T_ANY:
                return;
        case T_OBJ:
                if (!cJSON_IsObject(j))
                        return bad(v, path, "must be a mapping, not %s", type_name(j));
                return validate_fields(v, j, f->sub, path);
        case T_LIST_OBJ:
        case T_LIST_STR:
        case T_LIST_IP:
        case T_HASHES:
                return validate_list(v, j, f, path);
        case T_MAP_STR:
        case T_MAP_ANY:
                if (!cJSON_IsObject(j))
                        return bad(v, path, "must be a mapping, not %s", type_name(j));
                if (f->type == T_MAP_STR)
                        validate_string_values(v, j, path);
                return;
        case T_ARGS:
                return validate_args(v, j, path);
        case T_SECRET:
                return validate_secret(v, j, f, path);
        case T_BOOL:
                if (!cJSON_IsBool(j))
                        bad(v, path, "must be true or false, not %s", type_name(j));
                return;
        case T_INT:
        case T_PORT:
        case T_PERCENT:
        case T_VRID:
                return validate_number(v, j, f, path);
        default:
                return validate_string(v, j, f, path);
        }
}

static void validate_fields(struct vctx *v, const cJSON *obj, const struct field *fields, const char *path) {
        const cJSON *j;
        cJSON_ArrayForEach(j, obj) {
                const struct field *f = NULL;
                _cleanup_free_ char *p = strdupf("%s.%s", path, j->string);
                if (!p) {
                        v->r = -ENOMEM;
                        return;
                }
                for (const struct field *i = fields; i->name; i++)
                        if (streq(i->name, j->string)) {
                                f = i;
                                break;
                        }
                if (!f) {
                        /* A near miss in case is the commonest typo: say so. */
                        for (const struct field *i = fields; i->name; i++)
                                if (strcasecmp(i->name, j->string) == 0) {
                                        bad(v, p, "unknown field (did you mean '%s'?)", i->name);
                                        goto next;
                                }
                        bad(v, p, "unknown field");
                        continue;
                }
                if (f->versions && !(f->versions & v->version)) {
                        bad(v, p, "exists only in %s",
                            f->versions == V3 ? FB_KUBEADM_V1BETA3 : FB_KUBEADM_V1BETA4);
                        continue;
                }
                validate_value(v, j, f, p);
        next:;
        }
}

int fb_kubernetes_version_check(const char *version, char **ret_why) {
        _cleanup_free_ char *resolved = NULL;
        char *why;
        int r = mf_versions_resolve(version, &resolved);
        if (r >= 0 || r == -ENOMEM)
                return r < 0 ? r : 0;
        char sb[SHOWN_MAX];
        if (r == -EOPNOTSUPP)
                why = strdupf("%s is not supported: kube-firstboot sets up Kubernetes 1.%d to 1.%d",
                              shown(version, sb), MF_MINOR_FIRST, MF_MINOR_LAST);
        else
                why = strdupf(
                        "%s is not a version such as v1.%d.0 or a label (stable, stable-1, stable-1.%d)",
                        shown(version, sb), MF_MINOR_LAST, MF_MINOR_LAST);
        if (!why)
                return -ENOMEM;
        *ret_why = why;
        return r;
}

bool fb_known_kind(const char *kind) {
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (streq(kinds[i].kind, kind))
                        return true;
        return false;
}

int fb_config_validate_document(const cJSON *doc, const char *source, char ***problems) {
        struct vctx v = {.problems = problems, .source = source};
        const char *kind = json_get_string(doc, "kind"), *api = json_get_string(doc, "apiVersion");
        const struct kind *k = NULL;

        if (!cJSON_IsObject(doc))
                return fb_problem(problems, source, "a configuration document must be a mapping");
        if (!kind)
                return fb_problem(
                        problems, source,
                        "kind: missing (one of FirstbootConfiguration, InitConfiguration, ClusterConfiguration, JoinConfiguration, KubeletConfiguration, KubeProxyConfiguration)");
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (streq(kinds[i].kind, kind))
                        k = &kinds[i];
        if (!k)
                return fb_problem(problems, source, "kind: '%s' is not a kind kube-firstboot reads", kind);
        if (!api)
                return fb_problem(problems, source, "%s.apiVersion: missing (%s)", kind, k->api_versions[0]);
        bool ok = false;
        for (const char *const *a = k->api_versions; *a; a++)
                ok = ok || streq(*a, api);
        if (!ok)
                return fb_problem(problems, source, "%s.apiVersion: '%s' is not %s%s%s", kind, api,
                                  k->api_versions[0], k->api_versions[1] ? " or " : "",
                                  strempty(k->api_versions[1]));
        if (!k->fields)
                return 0;
        v.version = streq(api, FB_KUBEADM_V1BETA3) ? V3 : V4;
        validate_fields(&v, doc, k->fields, kind);
        return v.r;
}

/* ---- the configuration reference, from the tables above ---- */

static const char *type_words(const struct field *f) {
        switch (f->type) {
        case T_STR:
                return "string";
        case T_INT:
                return "integer";
        case T_BOOL:
                return "boolean";
        case T_DUR:
                return "duration (30s, 5m, 1h30m)";
        case T_OBJ:
                return "mapping";
        case T_LIST_STR:
                return "list of strings";
        case T_LIST_OBJ:
                return "list of mappings";
        case T_MAP_STR:
                return "mapping of strings";
        case T_MAP_ANY:
                return "mapping";
        case T_ARGS:
                return "extra arguments (v1beta4: list of {name, value}; v1beta3: mapping)";
        case T_ANY:
                return "anything (kept as it is)";
        case T_CIDRS:
                return "CIDRs, comma-separated, at most one per family";
        case T_SERVICE_CIDRS:
                return "CIDRs, comma-separated, at most one per family, each at most 2^20 addresses";
        case T_IP:
                return "IP address";
        case T_PORT:
                return "port (1-65535)";
        case T_PERCENT:
                return "percentage (whole number, 1-99)";
        case T_VRID:
                return "VRRP virtual router id (whole number, 1-255)";
        case T_ENUM:
                return "one of";
        case T_ENDPOINT:
                return "host or IP address, optional :port";
        case T_TOKEN:
                return "bootstrap token [a-z0-9]{6}.[a-z0-9]{16} (secret)";
        case T_CERTKEY:
                return "64 hex digits (secret)";
        case T_HASHES:
                return "list of sha256:<64 hex digits>";
        case T_LIST_IP:
                return "list of IP addresses";
        case T_PATH:
                return "absolute path";
        case T_SECRET:
                return "one of {value: ...}, {file: /path} or a secret store (secret)";
        case T_URL:
                return "http(s) URL";
        case T_DEVICE:
                return "block device: /dev/... or LABEL=, UUID=, PARTLABEL=, PARTUUID=";
        case T_K8S_VERSION:
                return "Kubernetes version (v1.MINOR.PATCH) or label (stable, stable-1, stable-1.MINOR)";
        case T_NODE_NAME:
        case T_DNS_DOMAIN:
                return "DNS-1123 subdomain";
        }
        return "?";
}

static void reference_fields(FILE *out, const struct field *fields, const char *path, bool documented) {
        for (const struct field *f = fields; f->name; f++) {
                _cleanup_free_ char *p = strdupf("%s.%s", path, f->name);
                if (!p)
                        return;
                fprintf(out, "| `%s` | %s", p, type_words(f));
                for (const char *const *e = f->values; f->type == T_ENUM && e && *e; e++)
                        fprintf(out, "%s`%s`", e == f->values ? " " : ", ", *e);
                if (f->versions)
                        fprintf(out, " (%s only)", f->versions == V3 ? "v1beta3" : "v1beta4");
                if (documented)
                        fprintf(out, " | %s | %s | %s |\n", strempty(f->def), strempty(f->doc),
                                f->example ? f->example : "");
                else
                        fputs(" |\n", out);
                if ((f->type == T_OBJ || f->type == T_SECRET) && f->sub)
                        reference_fields(out, f->sub, p, documented);
                if (f->type == T_LIST_OBJ && f->sub) {
                        _cleanup_free_ char *each = strdupf("%s[]", p);
                        if (each)
                                reference_fields(out, f->sub, each, documented);
                }
        }
}

int fb_config_reference(FILE *out) {
        fputs("# Configuration reference\n"
              "\n"
              "Generated by `kube-firstboot config reference` from the schema that validates the configuration\n"
              "(firstboot/config/config-schema.c); `make check` fails when this file and the schema differ.\n"
              "Every field not listed here is refused as unknown, with its path. Sources merge in this order,\n"
              "later wins: image defaults (`/etc/kube-firstboot/*.yaml`), user-data, metadata tags, options;\n"
              "one source gives each kind once.\n"
              "\n"
              "## FirstbootConfiguration (" FB_API_VERSION ")\n"
              "\n"
              "What kubeadm has no word for.\n"
              "\n"
              "| field | type | default | what it does | example |\n"
              "|---|---|---|---|---|\n",
              out);
        reference_fields(out, firstboot_configuration, "FirstbootConfiguration", true);
        for (size_t i = 1; i < ELEMENTSOF(kinds); i++) {
                fprintf(out, "\n## %s (", kinds[i].kind);
                for (const char *const *a = kinds[i].api_versions; *a; a++)
                        fprintf(out, "%s%s", a == kinds[i].api_versions ? "" : ", ", *a);
                fputs(")\n\n", out);
                if (!kinds[i].fields) {
                        fputs("Kept as it is and passed on; only apiVersion and kind are checked.\n", out);
                        continue;
                }
                fputs("kubeadm's own document, as kubeadm documents it; the fields kube-firstboot accepts and checks:\n"
                      "\n"
                      "| field | type |\n"
                      "|---|---|\n",
                      out);
                reference_fields(out, kinds[i].fields, kinds[i].kind, false);
        }
        return ferror(out) ? -EIO : 0;
}
