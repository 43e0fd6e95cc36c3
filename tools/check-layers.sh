#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The layering rule of docs/ARCHITECTURE.md, checked over the #include "..." lines of every C file of
# the library folders and of firstboot/'s rooms: a folder includes its own headers and those of the
# folders it may use, nothing else. Exit 1, one line per include that breaks the rule.
#
#   tools/check-layers.sh [FILE...]     (default: every tracked .c/.h outside tests/)
set -euo pipefail
cd "$(dirname "$0")/.."

# What each folder may use besides itself. Arrows only point down: verbs -> flows -> the lower rooms
# (engine, config, cluster, host, which never use each other) -> the library folders -> common.
declare -A MAY_USE=(
        [common]=""
        [metadata]="common"
        [pki]="common"
        [manifests]="common"
        [firstboot/engine]="common"
        [firstboot/host]="common"
        [firstboot/config]="common metadata pki manifests"
        [firstboot/cluster]="common metadata pki manifests"
        [firstboot/flows]="common metadata pki manifests firstboot/engine firstboot/config firstboot/cluster firstboot/host"
        [firstboot/verbs]="common metadata pki manifests firstboot/engine firstboot/config firstboot/cluster firstboot/host firstboot/flows"
        [firstboot/main.c]="common firstboot/verbs"
)

# The folder a path belongs to: firstboot/<room>, a library folder, or firstboot/main.c itself.
folder_of() {
        case "$1" in
        firstboot/main.c) echo firstboot/main.c ;;
        firstboot/*/*) local r=${1#firstboot/}; echo "firstboot/${r%%/*}" ;;
        firstboot/*) echo "firstboot/" ;; # a loose file: not in a room
        */*) echo "${1%%/*}" ;;
        *) echo "" ;;
        esac
}

if [ $# -gt 0 ]; then
        files=("$@")
else
        mapfile -t files < <(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^tests/')
fi

bad=0
for f in "${files[@]}"; do
        [ -f "$f" ] || continue
        from=$(folder_of "$f")
        if [ -z "${MAY_USE[$from]+set}" ]; then
                echo "$f: not in a known folder or room (firstboot/ holds main.c and the rooms of" \
                        "docs/ARCHITECTURE.md; a new room needs a line in tools/check-layers.sh)"
                bad=1
                continue
        fi
        while IFS=: read -r line inc; do
                # An include without a folder is the including file's own folder.
                [[ $inc == */* ]] || continue
                to=$(folder_of "$inc")
                [ "$to" = "$from" ] && continue
                if [[ " ${MAY_USE[$from]} " != *" $to "* ]]; then
                        echo "$f:$line: includes \"$inc\": ${from} may not use ${to} (it may use: ${MAY_USE[$from]:-nothing of ours})"
                        bad=1
                fi
        done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
                sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
done
if [ $bad = 0 ]; then
        echo "check-layers: ${#files[@]} files, every include points down"
fi
exit $bad
