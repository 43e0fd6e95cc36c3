#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libraries `make static` links that Debian 12 ships no usable static archive for:
#   tools/build-static-deps.sh DEPS_DIR
# Debian's libcurl.a drags in krb5/ldap/sasl/p11-kit, which have no .a, and libcjson has no .a at all
# (see STATIC-BUILD.md), so both are rebuilt from Debian's own source packages (with Debian's
# security patches) into DEPS_DIR/{lib,include}. OpenSSL, libyaml, libblkid and c-ares come from
# Debian's -dev packages as they are. curl resolves names with c-ares, so the static binary never
# dlopens NSS modules. Cached: a re-run with unchanged versions does nothing. A build prints one
# line; its output goes to DEPS_DIR/build.log, shown only when a step fails.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DEPS_DIR" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
deps=$(cd "$1" && pwd)
src=$top/build/deps-src
log=$deps/build.log
apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
self=$(sha256sum <"$0" | cut -d' ' -f1)  # a changed recipe rebuilds too

# Two `make static` runs at once must not build into the same tree.
exec 9>"$deps/.lock"
flock 9

"$top/tools/deps.sh" static

# apt-get source needs deb-src entries; the stock image has none. Keep any the admin already has.
ensure_deb_src() {
        local f=/etc/apt/sources.list.d/kube-firstboot-deb-src.sources added=0
        if ! grep -qsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
                /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
                [ "$(id -u)" = 0 ] || { echo "build-static-deps: no deb-src entry in apt sources (run as root to add one)" >&2; exit 1; }
                added=1
                cat >"$f" <<'EOF'
# Added by kube-firstboot tools/build-static-deps.sh: `make static` builds curl and cJSON from Debian source.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        fi
        if [ $added = 1 ] || [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Sources*' -print -quit)" ]; then
                [ "$(id -u)" = 0 ] || { echo "build-static-deps: apt has no source lists (run as root: apt-get update)" >&2; exit 1; }
                apt-get "${apt_opts[@]}" update -qq >&2
        fi
}

# Sets curl_ver and cjson_ver to what `apt-get source` would fetch (from the .dsc names: neither
# package has an epoch), and versions/stamp. The versions are printed because a static binary gets
# no security updates from Debian: it must be rebuilt after an OpenSSL or curl advisory.
pick_versions() {
        local dscs
        dscs=$(apt-get "${apt_opts[@]}" source --print-uris -qq curl cjson | awk '$2 ~ /\.dsc$/ { print $2 }')
        curl_ver=$(sed -n 's/^curl_\(.*\)\.dsc$/\1/p' <<<"$dscs")
        cjson_ver=$(sed -n 's/^cjson_\(.*\)\.dsc$/\1/p' <<<"$dscs")
        if [ -z "$curl_ver" ] || [ -z "$cjson_ver" ]; then
                echo "build-static-deps: apt offers no curl/cjson source package" >&2
                exit 1
        fi
        versions=$(
                dpkg-query -W -f='${Package} ${Version}\n' libssl-dev libyaml-dev libblkid-dev libc-ares-dev
                echo "src:curl $curl_ver"
                echo "src:cjson $cjson_ver"
        )
        stamp="$versions
script $self"
}

ensure_deb_src
pick_versions
if [ -f "$deps/.stamp" ] && [ "$(cat "$deps/.stamp")" = "$stamp" ] &&
   [ -f "$deps/lib/libcurl.a" ] && [ -f "$deps/lib/libcjson.a" ]; then
        exit 0
fi

echo "build-static-deps: building curl $curl_ver and cJSON $cjson_ver into $deps (log: $log)" >&2
rm -f "$deps/.stamp" "$deps/versions.txt"
rm -rf "${deps:?}/lib" "${deps:?}/include" "${deps:?}/share"
: >"$log"
run() {
        echo "+ $*" >>"$log"
        "$@" >>"$log" 2>&1 && return 0
        echo "build-static-deps: failed: $*" >&2
        tail -n 40 "$log" >&2
        exit 1
}

mkdir -p "$src"
cd "$src"
# Download only (apt verifies hashes from the signed Sources index), then unpack afresh every build
# so patches, autoreconf and configure always start from Debian's tree.
fetch() { apt-get "${apt_opts[@]}" source --download-only "curl=$curl_ver" "cjson=$cjson_ver"; }
if ! fetch >>"$log" 2>&1; then
        # Lists older than a security upload name versions the mirror has dropped: refresh, pick again.
        [ "$(id -u)" != 0 ] || run apt-get "${apt_opts[@]}" update -qq
        pick_versions
        run fetch
fi
rm -rf curl cjson
run dpkg-source -x "curl_$curl_ver.dsc" curl
run dpkg-source -x "cjson_$cjson_ver.dsc" cjson

# Debian's series ends with the patches that turn the tree into the gnutls/nss flavours; its
# debian/rules pops them for the OpenSSL build, and so do we.
cd "$src/curl"
export QUILT_PATCHES=debian/patches
while top_patch=$(quilt top 2>/dev/null) && [[ $top_patch =~ (^|/)(90_gnutls|99_nss)\.patch$ ]]; do
        run quilt pop
done
run autoreconf -fi
# HTTP(S) only: every other protocol and optional library would be code (and CVEs) we never use.
run ./configure --prefix="$deps" --disable-shared --enable-static --with-pic \
        CFLAGS="-O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2" \
        --with-openssl --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs \
        --enable-http --disable-{ftp,file,ldap,ldaps,rtsp,dict,telnet,tftp,pop3,imap,smb,smtp,gopher,mqtt} \
        --disable-{manual,ntlm,ntlm-wb,tls-srp,cookies,netrc,alt-svc,hsts,websockets,doh,mime} \
        --disable-{libcurl-option,progress-meter} \
        --enable-ares --disable-threaded-resolver --enable-ipv6 --enable-unix-sockets --enable-symbol-hiding \
        --without-{libpsl,libidn2,librtmp,libssh2,libssh,nghttp2,zlib,brotli,zstd,gssapi,libgsasl,hyper}
run make -C lib -j"$(nproc)"
run make -C lib install
run make -C include install
grep -q '^#define USE_ARES 1' lib/curl_config.h ||
        { echo "build-static-deps: curl was configured without c-ares" >&2; exit 1; }

cd "$src/cjson"
run cc -O2 -fPIC -fstack-protector-strong -D_FORTIFY_SOURCE=2 -c cJSON.c -o cJSON.o
run ar rcs "$deps/lib/libcjson.a" cJSON.o
install -D -m 644 cJSON.h "$deps/include/cjson/cJSON.h"

# libtool's .la and curl's pkg-config/man files are not used by the static link; keep lib/ plain.
rm -rf "$deps/lib/libcurl.la" "$deps/lib/pkgconfig" "$deps/share"
echo "$versions" >"$deps/versions.txt"
echo "$stamp" >"$deps/.stamp"
