#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Smoke test of the static release binary:
#   tests/smoke/chroot-smoke.sh BINARY
# Runs BINARY in a chroot holding nothing but the binary, a CA certificate and three /etc files:
# no shared libraries, no NSS modules, no CA bundle. Any run-time dependency the static link missed
# fails here. HTTPS requests with a CA given on the command line go to "localhost" (which curl
# answers itself) and to a name only the chroot's /etc/hosts knows, so the resolver runs too.
# Then the crypto the binary's OpenSSL must still hold (tools/build-static-deps.sh leaves out the
# rest): certificates and kubeconfigs with each encryptionAlgorithm (RSA-2048/3072/4096,
# ECDSA-P256/P384), checked by the host's openssl; TLS 1.3 and 1.2 with each key type, both ways;
# the kubeadm-certs envelope (AES-256-GCM), the CA pin (SHA-256), the bootstrap JWS (HMAC).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BINARY" >&2; exit 2; }
bin=$1
if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
        echo "chroot-smoke: '$bin' is not an executable file (build it first: make static)" >&2
        exit 2
fi
for tool in openssl file chroot timeout; do
        command -v "$tool" >/dev/null || { echo "chroot-smoke: '$tool' is required" >&2; exit 2; }
done
# chroot needs CAP_SYS_CHROOT; an unprivileged user gets it inside a user namespace.
as_root=()
[ "$(id -u)" = 0 ] || as_root=(unshare --map-root-user)

tmp=$(mktemp -d)
root=$tmp/root
srv_pid=
stop_server() {
        [ -n "$srv_pid" ] || return 0
        kill "$srv_pid" 2>/dev/null || true
        wait "$srv_pid" 2>/dev/null || true
        srv_pid=
}
cleanup() {
        stop_server
        rm -rf "$tmp"
}
trap cleanup EXIT

passed=0 failed=0
pass() { echo "ok: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1" >&2; failed=$((failed + 1)); }

name=api.kube-firstboot.test

# A throwaway CA and a server certificate for localhost, valid for one day.
ca() {
        openssl "$@" >"$tmp/openssl.log" 2>&1 && return 0
        echo "chroot-smoke: openssl $1 failed:" >&2
        cat "$tmp/openssl.log" >&2
        exit 1
}
ca req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -subj /CN=kube-firstboot-smoke-ca -keyout "$tmp/ca.key" -out "$tmp/ca.crt"
ca req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj /CN=localhost -keyout "$tmp/server.key" -out "$tmp/server.csr"
printf 'subjectAltName=DNS:localhost,DNS:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' "$name" >"$tmp/server.ext"
ca x509 -req -days 1 -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
        -extfile "$tmp/server.ext" -out "$tmp/server.crt"

# The whole chroot: hosts, nsswitch and resolv.conf as on a minimal node. No DNS server answers on
# 127.0.0.1, so $name must come from /etc/hosts.
mkdir -p "$root/etc"
cp "$bin" "$root/kube-firstboot"
cp "$tmp/ca.crt" "$root/ca.crt"
printf '127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$name" >"$root/etc/hosts"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
printf 'nameserver 127.0.0.1\n' >"$root/etc/resolv.conf"

# start_server CERT KEY [S_SERVER OPTION...]: openssl s_server -www on a random free port, in $port
# ($srv_pid); a port someone else holds makes s_server exit, so try again.
start_server() {
        local cert=$1 key=$2 p
        shift 2
        port=
        for _ in 1 2 3 4 5; do
                p=$((20000 + RANDOM % 40000))
                openssl s_server -accept "127.0.0.1:$p" -cert "$cert" -key "$key" -www "$@" \
                        </dev/null >"$tmp/server.log" 2>&1 &
                srv_pid=$!
                for _ in $(seq 50); do
                        grep -q '^ACCEPT' "$tmp/server.log" && break
                        kill -0 "$srv_pid" 2>/dev/null || break
                        sleep 0.1
                done
                if grep -q '^ACCEPT' "$tmp/server.log"; then port=$p; return 0; fi
                stop_server
        done
        echo "chroot-smoke: could not start openssl s_server:" >&2
        cat "$tmp/server.log" >&2
        exit 1
}
start_server "$tmp/server.crt" "$tmp/server.key"

# run ARGS...: runs the binary in the chroot, stdout to $tmp/out, stderr to $tmp/err. $limit seconds
# (RSA-4096 keys take seconds each).
limit=60
run() {
        timeout "$limit" "${as_root[@]}" chroot "$root" /kube-firstboot "$@" >"$tmp/out" 2>"$tmp/err"
}
show() { sed 's/^/    /' "$tmp/out" "$tmp/err" | head -n 20 >&2; }

if file -L "$bin" | grep -Eq 'statically linked|static-pie linked'; then
        pass "file: statically linked"
else
        fail "file: not statically linked: $(file -L "$bin")"
fi

if run --version && [ -s "$tmp/out" ]; then
        pass "--version in the chroot: $(head -n 1 "$tmp/out")"
else
        fail "--version in the chroot (exit $?)"
        show
fi

for url in "https://localhost:$port/" "https://$name:$port/"; do
        if run http-get "$url" --cacert /ca.crt && [ "$(head -n 1 "$tmp/out")" = "status 200" ]; then
                pass "http-get $url --cacert /ca.crt in the chroot: status 200"
        else
                fail "http-get $url --cacert /ca.crt in the chroot"
                show
        fi
done

# Without our CA (and with no CA bundle in the chroot) the server must not be trusted. The binary
# itself must say so: 124-127 are timeout's and chroot's own failures (hung, not executable, missing).
rc=0
run http-get "$url" || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] && ! grep -q '^status ' "$tmp/out"; then
        pass "http-get $url without --cacert is refused (exit $rc)"
else
        fail "http-get $url without --cacert: exit $rc, expected a TLS verification failure"
        show
fi

stop_server

# ---- keys, certificates and TLS with each encryptionAlgorithm (pki/key.c), in the chroot ----
# For each: the init node's certificates and kubeconfigs (pki certs), checked by the host's openssl
# (key type and size, signature digest, chains) and by the binary itself (pki check); then an
# s_server with the apiserver's key and certificate that requires a client certificate, reached by
# http-get with the cluster CA and the apiserver-kubelet-client pair, over TLS 1.3 and TLS 1.2.
limit=600 # RSA-4096 keys take seconds each, more on a busy machine

# expect_key FILE ALG: the host's openssl reads FILE as a private key of ALG.
expect_key() {
        local text
        text=$(openssl pkey -in "$1" -noout -text 2>/dev/null) || return 1
        case $2 in
        RSA-*) grep -q "^Private-Key: (${2#RSA-} bit, 2 primes)" <<<"$text" ;;
        ECDSA-P256) grep -q '^Private-Key: (256 bit)' <<<"$text" && grep -q 'NIST CURVE: P-256' <<<"$text" ;;
        ECDSA-P384) grep -q '^Private-Key: (384 bit)' <<<"$text" && grep -q 'NIST CURVE: P-384' <<<"$text" ;;
        *) return 1 ;;
        esac
}

for alg in RSA-2048 RSA-3072 RSA-4096 ECDSA-P256 ECDSA-P384; do
        node=/node-$alg
        pki=$root$node/etc/kubernetes/pki
        cat >"$root/kubeadm-$alg.yaml" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration: {name: smoke-node}
localAPIEndpoint: {advertiseAddress: 127.0.0.1}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
controlPlaneEndpoint: $name:6443
encryptionAlgorithm: $alg
EOF
        started=$SECONDS
        if run pki certs --config "/kubeadm-$alg.yaml" --root "$node" && [ "$(grep -c '^created ' "$tmp/out")" = 16 ]; then
                pass "$alg: pki certs wrote the init node's 16 certificates and kubeconfigs ($((SECONDS - started)) s)"
        else
                fail "$alg: pki certs --config /kubeadm-$alg.yaml --root $node"
                show
                continue
        fi

        bad=
        for key in ca.key apiserver.key apiserver-kubelet-client.key front-proxy-ca.key etcd/ca.key etcd/peer.key; do
                expect_key "$pki/$key" "$alg" || bad+=" $key"
        done
        if [ -z "$bad" ]; then
                pass "$alg: openssl reads every key as $alg"
        else
                fail "$alg: keys that are not $alg:$bad"
        fi

        case $alg in
        RSA-*) digest=sha256WithRSAEncryption ;;
        ECDSA-P256) digest=ecdsa-with-SHA256 ;;
        ECDSA-P384) digest=ecdsa-with-SHA384 ;;
        esac
        if openssl verify -CAfile "$pki/ca.crt" "$pki/apiserver.crt" "$pki/apiserver-kubelet-client.crt" >/dev/null 2>&1 &&
           openssl verify -CAfile "$pki/etcd/ca.crt" "$pki/etcd/server.crt" "$pki/etcd/peer.crt" >/dev/null 2>&1 &&
           openssl verify -CAfile "$pki/front-proxy-ca.crt" "$pki/front-proxy-client.crt" >/dev/null 2>&1 &&
           openssl x509 -in "$pki/apiserver.crt" -noout -text | grep -q "Signature Algorithm: $digest"; then
                pass "$alg: openssl verifies the chains, signed with $digest"
        else
                fail "$alg: openssl does not verify the chains, or the signature is not $digest"
        fi

        if run pki check --root "$node"; then
                pass "$alg: pki check accepts every certificate"
        else
                fail "$alg: pki check --root $node"
                show
        fi

        for tls in -tls1_3 -tls1_2; do
                start_server "$pki/apiserver.crt" "$pki/apiserver.key" "$tls" -Verify 1 -CAfile "$pki/ca.crt"
                want="New, TLSv1.${tls#-tls1_}"
                if run http-get "https://$name:$port/" --cacert "$node/etc/kubernetes/pki/ca.crt" \
                        --cert "$node/etc/kubernetes/pki/apiserver-kubelet-client.crt" \
                        --key "$node/etc/kubernetes/pki/apiserver-kubelet-client.key" &&
                   [ "$(head -n 1 "$tmp/out")" = "status 200" ] && grep -q "^$want," "$tmp/out"; then
                        pass "$alg: http-get over ${want#New, } with a client certificate: $(grep -o 'Cipher is .*' "$tmp/out" | head -n 1)"
                else
                        fail "$alg: http-get https://$name:$port/ (s_server $tls -Verify 1) with the $alg CA and client pair"
                        show
                fi
                stop_server
        done
done

# ---- the kubeadm-certs envelope (AES-256-GCM), the CA pin (SHA-256), the bootstrap JWS (HMAC) ----
node=/node-ECDSA-P256
pki=$root$node/etc/kubernetes/pki
if [ -f "$pki/ca.key" ] && run pki certificate-key && grep -qE '^[0-9a-f]{64}$' "$tmp/out"; then
        cp "$tmp/out" "$root/certificate-key"
        pass "pki certificate-key: 64 hex digits"
        if run pki encrypt-certs --certificate-key-file /certificate-key --root "$node"; then
                cp "$tmp/out" "$root/kubeadm-certs.json"
                if run pki decrypt-certs --certificate-key-file /certificate-key --secret /kubeadm-certs.json --root /joiner &&
                   cmp -s "$pki/ca.key" "$root/joiner/etc/kubernetes/pki/ca.key" &&
                   cmp -s "$pki/sa.key" "$root/joiner/etc/kubernetes/pki/sa.key" &&
                   cmp -s "$pki/etcd/ca.crt" "$root/joiner/etc/kubernetes/pki/etcd/ca.crt"; then
                        pass "pki encrypt-certs, then decrypt-certs: the joiner gets the same CA and service-account files"
                else
                        fail "pki decrypt-certs of what encrypt-certs sealed"
                        show
                fi
                # Another key must fail GCM's tag check and write nothing.
                printf '%064d\n' 0 >"$root/wrong-key"
                rc=0
                run pki decrypt-certs --certificate-key-file /wrong-key --secret /kubeadm-certs.json --root /wrong || rc=$?
                if [ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] && [ ! -e "$root/wrong/etc/kubernetes/pki/ca.key" ]; then
                        pass "pki decrypt-certs with another key is refused (exit $rc), nothing written"
                else
                        fail "pki decrypt-certs with another key: exit $rc"
                        show
                fi
        else
                fail "pki encrypt-certs --root $node"
                show
        fi
else
        fail "pki certificate-key (or no ECDSA-P256 node to seal)"
        show
fi

if [ -f "$pki/ca.crt" ]; then
        pin=$(openssl x509 -in "$pki/ca.crt" -pubkey -noout | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)
        if run pki ca-hash "$node/etc/kubernetes/pki/ca.crt" && [ "$(cat "$tmp/out")" = "sha256:$pin" ]; then
                pass "pki ca-hash: the SHA-256 of the CA's public key, as openssl computes it"
        else
                fail "pki ca-hash: expected sha256:$pin"
                show
        fi
fi

printf 'abcdef.0123456789abcdef\n' >"$root/token"
printf 'apiVersion: v1\nkind: Config\n' >"$root/payload"
printf 'apiVersion: v1\nkind: Config \n' >"$root/payload-changed"
if run pki jws --token-file /token --payload /payload && jws=$(head -n 1 "$tmp/out") && [ -n "$jws" ] &&
   run pki jws --token-file /token --payload /payload --verify "$jws"; then
        rc=0
        run pki jws --token-file /token --payload /payload-changed --verify "$jws" || rc=$?
        if [ "$rc" = 1 ]; then
                pass "pki jws: signs, verifies, and refuses a changed payload"
        else
                fail "pki jws --verify of a changed payload: exit $rc, expected 1"
                show
        fi
else
        fail "pki jws sign and verify"
        show
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
