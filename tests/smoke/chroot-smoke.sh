#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Smoke test of the static release binary:
#   tests/smoke/chroot-smoke.sh BINARY
# Runs BINARY in a chroot holding nothing but the binary, a CA certificate and three /etc files:
# no shared libraries, no NSS modules, no CA bundle. Any run-time dependency the static link missed
# fails here. HTTPS requests with a CA given on the command line go to "localhost" (which curl
# answers itself) and to a name only the chroot's /etc/hosts knows, so the resolver runs too.
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
cleanup() {
        if [ -n "$srv_pid" ]; then
                kill "$srv_pid" 2>/dev/null || true
                wait "$srv_pid" 2>/dev/null || true
        fi
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

# Start the server on a random free port; a port someone else holds makes s_server exit, so try again.
port=
for _ in 1 2 3 4 5; do
        p=$((20000 + RANDOM % 40000))
        openssl s_server -accept "127.0.0.1:$p" -cert "$tmp/server.crt" -key "$tmp/server.key" -www \
                </dev/null >"$tmp/server.log" 2>&1 &
        srv_pid=$!
        for _ in $(seq 50); do
                grep -q '^ACCEPT' "$tmp/server.log" && break
                kill -0 "$srv_pid" 2>/dev/null || break
                sleep 0.1
        done
        if grep -q '^ACCEPT' "$tmp/server.log"; then port=$p; break; fi
        kill "$srv_pid" 2>/dev/null || true
        wait "$srv_pid" 2>/dev/null || true
        srv_pid=
done
if [ -z "$port" ]; then
        echo "chroot-smoke: could not start openssl s_server:" >&2
        cat "$tmp/server.log" >&2
        exit 1
fi

# run NAME ARGS...: runs the binary in the chroot, stdout to $tmp/out, stderr to $tmp/err.
run() {
        timeout 60 "${as_root[@]}" chroot "$root" /kube-firstboot "$@" >"$tmp/out" 2>"$tmp/err"
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
