#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libraries `make static` links from Debian's own source packages (with Debian's patches):
#   tools/build-static-deps.sh DEPS_DIR
# into DEPS_DIR/{lib,include}:
#   - OpenSSL with only what kube-firstboot and libcurl use. Debian's libcrypto.a carries every
#     algorithm of the default provider (3.4 MB of a 6.3 MB binary); this one has RSA, ECDSA and ECDH
#     on the NIST curves, X25519/Ed25519 (no switch turns them off in 3.0), SHA-1/2/3, HMAC,
#     AES (GCM, CBC, CTR...) and ChaCha20-Poly1305, X.509 and PEM, and a TLS 1.2/1.3 client and server.
#   - libcurl for HTTP(S) only (Debian's libcurl.a drags in krb5/ldap/sasl/p11-kit, which have no .a),
#     resolving names with c-ares, so the static binary never dlopens NSS modules.
#   - cJSON (Debian ships no .a).
# libyaml, libblkid and c-ares come from Debian's -dev packages as they are. All of it is built for
# size (-Os, a section per function for the linker's --gc-sections, no unwind tables: C without
# exceptions needs none).
#
# apt never reads or writes the host's sources: a private sources list (deb-src for bookworm,
# bookworm-updates and bookworm-security) with its lists, state and cache in build/apt/. The host's
# apt.conf.d is read as it is (a proxy configured there still applies). The lists are refreshed when
# older than a day; KF_DEBIAN_MIRROR and KF_DEBIAN_SECURITY_MIRROR pick other mirrors.
#
# Cached: a re-run with unchanged versions does nothing. A build prints one line; its output goes to
# DEPS_DIR/build.log, shown only when a step fails. The versions are printed by `make static` because
# a static binary gets no security updates from Debian: rebuild it after an OpenSSL or curl advisory.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DEPS_DIR" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
deps=$(cd "$1" && pwd)
src=$top/build/deps-src
log=$deps/build.log
self=$(sha256sum <"$0" | cut -d' ' -f1) # a changed recipe rebuilds too
jobs=$(nproc)

# Two `make static` runs at once must not build into the same tree.
exec 9>"$deps/.lock"
flock 9

"$top/tools/deps.sh" static

# ---- apt, private ----
apt_dir=$top/build/apt
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=${KF_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${KF_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# Everything apt-get writes stays under $apt_dir; the dpkg status (Dir::State::status) is the host's,
# read only: nothing is installed. Only-Source: the names below are source packages.
apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 -o Acquire::Languages=none
          -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State=$apt_dir/state" -o "Dir::Cache=$apt_dir/cache" -o APT::Get::Only-Source=true)
packages=(openssl curl cjson)

lists_updated=0
# Writes the private sources list and refreshes its lists when they are missing, older than a day,
# from another sources list, or when FORCE is given. A failed refresh with lists at hand warns and
# goes on with them.
ensure_lists() {
        local force=${1:-} want have
        [ -r $keyring ] || { echo "build-static-deps: $keyring is missing (apt-get install debian-archive-keyring)" >&2; exit 1; }
        mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial"
        want="deb-src [signed-by=$keyring] $mirror bookworm main
deb-src [signed-by=$keyring] $mirror bookworm-updates main
deb-src [signed-by=$keyring] $security bookworm-security main"
        have=$(cat "$apt_dir/sources.list" 2>/dev/null || true)
        if [ "$have" != "$want" ]; then
                echo "$want" >"$apt_dir/sources.list"
                force=1
        fi
        if [ -z "$force" ] && [ -n "$(find "$apt_dir/state/lists" -maxdepth 1 -name '*_Sources*' -mmin -1440 -print -quit)" ]; then
                return 0
        fi
        if apt-get "${apt_opts[@]}" update -q >"$apt_dir/update.log" 2>&1 &&
           ! grep -qE '^(W|E): (Failed to fetch|Some index files failed)' "$apt_dir/update.log"; then
                lists_updated=1
                return 0
        fi
        if [ -n "$(find "$apt_dir/state/lists" -maxdepth 1 -name '*_Sources*' -print -quit)" ]; then
                echo "build-static-deps: could not refresh Debian's source lists (see $apt_dir/update.log); using the last ones" >&2
                return 0
        fi
        sed 's/^/  /' "$apt_dir/update.log" >&2
        echo "build-static-deps: cannot read Debian's source lists from $mirror and $security" >&2
        exit 1
}

# want[PKG]: the newest version of each source package the lists name (from the .dsc names: none of
# them has an epoch); versions/stamp from them. The stamp holds what was asked for, so a version the
# mirror does not serve (see fetch_sources) is not tried again on every run, only when the lists are
# refreshed (retry_newest).
declare -A want=() got=()
pick_versions() {
        local p v
        want=()
        while read -r p v; do want[$p]=$v; done < <(
                apt-get "${apt_opts[@]}" source --print-uris -qq "${packages[@]}" |
                        awk '$2 ~ /\.dsc$/ { print $2 }' | sed -n 's/^\([^_]*\)_\(.*\)\.dsc$/\1 \2/p')
        for p in "${packages[@]}"; do
                [ -n "${want[$p]:-}" ] || { echo "build-static-deps: apt offers no $p source package" >&2; exit 1; }
        done
        versions=$(
                dpkg-query -W -f='${Package} ${Version}\n' libyaml-dev libblkid-dev libc-ares-dev
                for p in "${packages[@]}"; do echo "src:$p ${want[$p]}"; done
        )
        stamp="$versions
script $self"
}

# Downloads PKG's version VERSION into $src (apt verifies the hashes from the signed Sources index).
fetch() { mkdir -p "$src" && (cd "$src" && apt-get "${apt_opts[@]}" source --download-only "$1=$2") >>"$log" 2>&1; }

# After a refresh of the lists: true when a package was built from an older version because the newest
# could not be downloaded, and now it can.
retry_newest() {
        local p
        [ $lists_updated = 1 ] && [ -f "$deps/versions.txt" ] || return 1
        for p in "${packages[@]}"; do
                if grep -q "^src:$p .*could not be downloaded" "$deps/versions.txt" && fetch "$p" "${want[$p]}"; then
                        return 0
                fi
        done
        return 1
}

ensure_lists
pick_versions
if [ -f "$deps/.stamp" ] && [ "$(cat "$deps/.stamp")" = "$stamp" ] &&
   [ -f "$deps/lib/libcrypto.a" ] && [ -f "$deps/lib/libssl.a" ] &&
   [ -f "$deps/lib/libcurl.a" ] && [ -f "$deps/lib/libcjson.a" ] && ! retry_newest; then
        exit 0
fi

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

# The versions of PKG the lists name, newest first.
versions_of() {
        local v sorted=() i
        while read -r v; do
                i=${#sorted[@]}
                sorted+=("$v")
                while [ "$i" -gt 0 ] && dpkg --compare-versions "${sorted[i - 1]}" lt "$v"; do
                        sorted[i]=${sorted[i - 1]}
                        sorted[i - 1]=$v
                        i=$((i - 1))
                done
        done < <(apt-cache "${apt_opts[@]}" showsrc "$1" 2>/dev/null |
                awk -v p="$1" '/^Package: / { pkg = $2 } /^Version: / && pkg == p { print $2 }' | sort -u)
        printf '%s\n' "${sorted[@]}"
}

# Downloads the newest listed version of each package and sets got[PKG]. When the mirror lists a
# version it does not serve (lists older than a security upload, or an upload whose files have not
# reached the mirror yet), the lists are refreshed once and the newest tried again; then the next
# older version is taken, with a warning: the binary is then not built from the newest source.
fetch_sources() {
        local p v missing=0
        got=()
        for p in "${packages[@]}"; do
                if fetch "$p" "${want[$p]}"; then got[$p]=${want[$p]}; else missing=1; fi
        done
        if [ $missing = 1 ] && [ $lists_updated = 0 ]; then
                ensure_lists force
                pick_versions
                got=()
                for p in "${packages[@]}"; do
                        if fetch "$p" "${want[$p]}"; then got[$p]=${want[$p]}; fi
                done
        fi
        for p in "${packages[@]}"; do
                [ -z "${got[$p]:-}" ] || continue
                for v in $(versions_of "$p"); do
                        dpkg --compare-versions "$v" lt "${want[$p]}" || continue
                        if fetch "$p" "$v"; then
                                echo "build-static-deps: warning: $p ${want[$p]} is listed but cannot be downloaded; building $v" >&2
                                got[$p]=$v
                                break
                        fi
                done
                if [ -z "${got[$p]:-}" ]; then
                        echo "build-static-deps: no version of the $p source package can be downloaded" >&2
                        tail -n 20 "$log" >&2
                        exit 1
                fi
        done
}

mkdir -p "$src"
fetch_sources
echo "build-static-deps: building OpenSSL ${got[openssl]}, curl ${got[curl]} and cJSON ${got[cjson]} into $deps (log: $log)" >&2
# Unpacked afresh every build (dpkg-source checks the files against the .dsc and applies Debian's
# patches), so configure always starts from Debian's tree.
cd "$src"
for p in "${packages[@]}"; do
        rm -rf "$p"
        run dpkg-source -x "${p}_${got[$p]}.dsc" "$p"
done

size_cflags="-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables"
harden="-fstack-protector-strong -D_FORTIFY_SOURCE=2"

# ---- OpenSSL ----
# Debian's target (its security level 2 and hardening flags) with Debian's own no-idea, no-mdc2,
# no-rc5, no-zlib, no-ssl3 and no-rdrand. What is left out on top, and why it is not needed:
#   no-shared no-module no-dso no-engine no-legacy: one static binary; no provider or engine is loaded
#   no-tls1 no-tls1_1 no-ssl3 no-dtls no-dgram: TLS 1.2 and 1.3 only (security level 2 refuses the
#     older ones anyway); no datagram TLS
#   no-dh no-dsa no-ec2m no-gost no-sm2 no-sm3 no-sm4: keys and key exchange are RSA and ECDHE/ECDSA on
#     the NIST curves (pki/key.c; Go's TLS offers no finite-field DHE)
#   no-des no-rc2 no-rc4 no-bf no-cast no-idea no-seed no-camellia no-aria no-md4 no-mdc2 no-rmd160
#   no-whirlpool no-blake2 no-siphash no-cmac no-siv no-ocb no-scrypt: ciphers, digests, MACs and KDFs
#     nothing here uses (curl's NTLM, the only user of DES and MD4, is disabled below)
#   no-cms no-ocsp no-ts no-cmp no-ct no-srtp no-nextprotoneg no-srp no-psk no-rfc3779: formats and
#     TLS extensions neither curl (as configured below) nor kube-firstboot uses
#   no-comp no-async no-multiblock no-filenames: no TLS compression, async jobs, TLS 1.0 CBC stitching
#     or source file names in error records
run mkdir -p openssl/build-static
cd openssl/build-static
# shellcheck disable=SC2086 # the flag lists are word lists
run ../Configure "debian-$(dpkg --print-architecture)" --prefix="$deps" --libdir=lib --openssldir=/usr/lib/ssl \
        no-shared no-module no-dso no-engine no-legacy no-tests \
        no-ssl3 no-tls1 no-tls1_1 no-dtls no-dgram \
        no-dh no-dsa no-ec2m no-gost no-sm2 no-sm3 no-sm4 \
        no-des no-rc2 no-rc4 no-rc5 no-bf no-cast no-idea no-seed no-camellia no-aria no-md4 no-mdc2 no-rmd160 \
        no-whirlpool no-blake2 no-siphash no-cmac no-siv no-ocb no-scrypt \
        no-cms no-ocsp no-ts no-cmp no-ct no-srtp no-nextprotoneg no-srp no-psk no-rfc3779 \
        no-comp no-zlib no-async no-multiblock no-filenames no-rdrand \
        $size_cflags $harden
run make -j"$jobs" build_libs
run make install_dev
cd "$src"

# ---- curl ----
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
        CFLAGS="$size_cflags $harden" CPPFLAGS="-I$deps/include" LDFLAGS="-L$deps/lib" LIBS="-pthread" \
        --with-openssl="$deps" --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs \
        --enable-http --disable-{ftp,file,ldap,ldaps,rtsp,dict,telnet,tftp,pop3,imap,smb,smtp,gopher,mqtt} \
        --disable-{manual,ntlm,ntlm-wb,tls-srp,cookies,netrc,alt-svc,hsts,websockets,doh,mime} \
        --disable-{libcurl-option,progress-meter} \
        --enable-ares --disable-threaded-resolver --enable-ipv6 --enable-unix-sockets --enable-symbol-hiding \
        --without-{libpsl,libidn2,librtmp,libssh2,libssh,nghttp2,zlib,brotli,zstd,gssapi,libgsasl,hyper}
run make -C lib -j"$jobs"
run make -C lib install
run make -C include install
grep -q '^#define USE_ARES 1' lib/curl_config.h ||
        { echo "build-static-deps: curl was configured without c-ares" >&2; exit 1; }

cd "$src/cjson"
# shellcheck disable=SC2086
run cc $size_cflags $harden -fPIC -c cJSON.c -o cJSON.o
run ar rcs "$deps/lib/libcjson.a" cJSON.o
install -D -m 644 cJSON.h "$deps/include/cjson/cJSON.h"

# libtool's .la and curl's pkg-config/man files are not used by the static link; keep lib/ plain.
rm -rf "$deps/lib/libcurl.la" "$deps/lib/pkgconfig" "$deps/share"
{
        dpkg-query -W -f='${Package} ${Version}\n' libyaml-dev libblkid-dev libc-ares-dev
        for p in "${packages[@]}"; do
                if [ "${got[$p]}" = "${want[$p]}" ]; then
                        echo "src:$p ${got[$p]}"
                else
                        echo "src:$p ${got[$p]} (the newest listed, ${want[$p]}, could not be downloaded)"
                fi
        done
} >"$deps/versions.txt"
echo "$stamp" >"$deps/.stamp"
