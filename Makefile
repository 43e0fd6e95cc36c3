# SPDX-License-Identifier: Apache-2.0
# kube-firstboot: a plain Makefile. Everything it builds goes under build/.
#
#   make              dynamic development build: build/kube-firstboot
#   make static       fully static release binary: build/static/kube-firstboot, and what each library
#                     adds to it (make size-report: the largest objects of each, too)
#   make check        install what is missing, build, run every test (KF_SKIP_VM=1: not the VM boot;
#                     KF_SKIP_FRESH=1: not the fresh-root test; KF_SKIP_ETCD35=1: not the etcd 3.5 run);
#                     ends with "N passed, N failed".
#                     KF_CHECK_STEPS=deps,build runs only its install and build steps (of deps,build,test)
#   make unit | fuzz-replay | integration | golden | etcd35 | smoke     parts of check
#                     (etcd35: the etcd and HA tests under Debian 13's etcd 3.5)
#   make fuzz FUZZ_TIME=60                            time-boxed libFuzzer runs (clang)
#   make lint         clang-format check, the layering rule, whole messages (tools/check-*), cppcheck,
#                     gcc -fanalyzer
#   make format       rewrite sources with clang-format
#   make bench | demo | install | deb | vm-test | fresh-test
#
# Every target is safe on a machine with nothing installed: what a goal needs is installed
# (tools/deps.sh) before anything compiles, and make then starts over, reading pkg-config afresh.
.DEFAULT_GOAL := all
SHELL := /bin/bash

PROG     := kube-firstboot
B        := build
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
PREFIX   ?= /usr
DESTDIR  ?=
PYTHON   := /usr/bin/python3

# make predefines CC (as cc), so `CC ?= gcc` would never apply: only replace make's own default.
ifeq ($(origin CC),default)
CC       := gcc
endif
CLANG    ?= clang
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
            -Wno-missing-field-initializers
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection -fcf-protection
BASE_CFLAGS := -std=gnu11 -g $(WARN) -D_GNU_SOURCE -I. -DKF_VERSION='"$(VERSION)"' -MMD -MP
CFLAGS   ?= -O2
PKGS     := libcurl libcjson yaml-0.1 blkid openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

# ---- packages before compiles ----
# pkg-config is read above, when make starts: on a machine without the libraries the flags would be
# empty and the first compile would fail. So the packages the goals need (tools/deps.sh groups) are
# checked first (one dpkg-query); when some are missing, an included makefile's rule installs them,
# and make, having remade one of its makefiles, starts over and reads pkg-config again. `check` and
# `demo` install in their own first step and build in a sub-make; `clean` and `deps` need nothing.
needs.all := build
needs.install := build
needs.static := static
needs.size-report := static
needs.smoke := static
needs.deb := static
needs.unit := check
needs.fuzz-replay := check
needs.fuzz := check
needs.integration := check
needs.golden := check
needs.bench := check
needs.lint := lint build
needs.format := lint
needs.vm-test := vm static
needs.fresh-test := fresh
needs.check :=
needs.demo :=
needs.etcd35 :=
needs.deps :=
needs.clean :=
# A file goal: the tests' programs need the check group, the static objects the static group.
needs_file = $(if $(filter $(B)/unit/% $(B)/replay/% $(B)/fuzz/% $(B)/san/%,$(1)),check,$(if \
	$(filter $(B)/static/% $(B)/sta/%,$(1)),static,build))
KF_GOALS := $(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))
KF_NEEDS := $(sort $(foreach g,$(KF_GOALS),$(if $(filter undefined,$(origin needs.$(g))),$(call needs_file,$(g)),$(needs.$(g)))))
# Not under -n, -q or -t (make would run the install even then: it always remakes its makefiles).
kf_flags := $(filter-out -%,$(firstword $(MAKEFLAGS)))
ifneq ($(KF_NEEDS),)
ifeq ($(MAKE_RESTARTS)$(findstring n,$(kf_flags))$(findstring q,$(kf_flags))$(findstring t,$(kf_flags)),)
KF_MISSING := $(shell tools/deps.sh --missing $(KF_NEEDS))
ifneq ($(KF_MISSING),)
include $(B)/.deps-installed.mk
endif
endif
endif
$(B)/.deps-installed.mk: FORCE
	tools/deps.sh $(KF_NEEDS)
	@mkdir -p $(@D)
	@echo '# tools/deps.sh $(KF_NEEDS) installed: $(KF_MISSING)' >$@

# Sub-makes of `check` and `demo` build with one job per core unless -j was given (MAKEFLAGS shows
# -j only in recipes, hence `=`).
KF_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc))

# Folders by layer (ARCHITECTURE.md): libraries, then the program's rooms. Sources are picked up by wildcard.
LIB_SRCS := $(wildcard common/*.c metadata/*.c pki/*.c manifests/*.c)
APP_ROOMS := verbs flows engine config cluster host
APP_SRCS := $(wildcard $(patsubst %,firstboot/%/*.c,$(APP_ROOMS)))
MAIN_SRC := firstboot/main.c

# Unit tests mirror the sources by folder: tests/unit/<folder>/test-<module>.c tests <folder>/<module>.c
# (the rooms of firstboot/ without the prefix: tests/unit/flows/test-role.c tests firstboot/flows/role.c).
# A test left at the top of tests/unit/ still builds and runs, so none is lost; move it to its folder.
UNIT_SRCS := $(wildcard tests/unit/*/test-*.c tests/unit/test-*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz-*.c)

# Variants: dyn (development), san (gcc ASan+UBSan, for unit tests and corpus replay), sta (static).
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

obj = $(patsubst %.c,$(B)/$(1)/%.o,$(2))

DYN_CFLAGS := $(BASE_CFLAGS) $(CFLAGS) $(HARDEN) -fPIE $(PKG_CFLAGS)
DYN_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN_FLAGS) $(PKG_CFLAGS) $(shell pkg-config --cflags cmocka 2>/dev/null)
SAN_LDFLAGS := $(SAN_FLAGS)

DEPS := build/deps
# The release binary is built for size, as its libraries are (tools/build-static-deps.sh): -Os and no
# unwind tables (C without exceptions needs none) take 120 KB off our objects; LTO made it larger.
STA_OPT := -Os -fno-asynchronous-unwind-tables
STA_CFLAGS := $(BASE_CFLAGS) $(STA_OPT) $(HARDEN) -DKF_STATIC -DCURL_STATICLIB -I$(DEPS)/include \
              -I$(DEPS)/include/cjson $(shell pkg-config --cflags-only-I blkid yaml-0.1 2>/dev/null)
STA_LDFLAGS := -static -L$(DEPS)/lib -Wl,--gc-sections
STA_LIBS := -lcurl -lcares -lcjson -lyaml -lblkid -lssl -lcrypto -pthread -ldl -lm

# V=1 shows the commands.
Q := $(if $(V),,@)
$(B)/dyn/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(DYN_CFLAGS) -c $< -o $@
$(B)/san/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC-SAN  $<")
	$(Q)$(CC) $(SAN_CFLAGS) -c $< -o $@
$(B)/sta/%.o: %.c $(DEPS)/.stamp
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC-STA  $<")
	$(Q)$(CC) $(STA_CFLAGS) -ffunction-sections -fdata-sections -c $< -o $@

# Tests find the binary and the build directory through these (B=build/other works for parallel trees).
export KF_BIN := $(abspath $(B)/$(PROG))
export KF_BUILD := $(abspath $(B))

# Keep intermediate objects of tests, so a re-run does not rebuild them.
.SECONDARY:

.PHONY: all static size-report check deps unit fuzz-replay fuzz integration golden etcd35 smoke lint format bench demo install deb \
	vm-test fresh-test clean
all: $(B)/$(PROG)

$(B)/$(PROG): $(call obj,dyn,$(LIB_SRCS) $(APP_SRCS) $(MAIN_SRC))
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(DYN_LDFLAGS) $^ $(PKG_LIBS) -o $@

# ---- static release binary ----
# The script is cached (about a second when nothing changed) and rebuilds when Debian's versions move,
# so it runs every time; objects rebuild only when the stamp really changed.
$(DEPS)/.stamp: FORCE
	@tools/build-static-deps.sh $(DEPS)
# Phony, or `.SECONDARY:` (every target secondary) lets make skip the stamp's recipe when the objects
# are newer than the stamp, and a moved Debian version would never be built.
.PHONY: FORCE
FORCE:

$(B)/static/$(PROG): $(call obj,sta,$(LIB_SRCS) $(APP_SRCS) $(MAIN_SRC))
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD-STA  $@")
	$(Q)$(CC) $(STA_LDFLAGS) -Wl,-Map=$@.map $^ $(STA_LIBS) -o $@.unstripped 2> >(grep -v 'statically linked applications requires at runtime' | grep -v "^/usr/bin/ld: .*in function" >&2)
	$(Q)strip -o $@ $@.unstripped

static: $(B)/static/$(PROG)
	@echo "static: $< $$(stat -c %s $<) bytes stripped ($$(stat -c %s $<.unstripped) unstripped)"
	@file -b $< | grep -q 'statically linked' && echo "static: $$(file -b $< | cut -d, -f1-2,4-5)"
	@echo "static: built from:"; sed 's/^/  /' $(DEPS)/versions.txt
	@echo "static: bytes per library (from the link map $<.map; make size-report for their objects):"
	@tools/size-map.py $<.map --binary $< | sed 's/^/  /'

# Which objects of each library the static binary holds, the largest first (tools/size-map.py).
size-report: static
	@for lib in libcrypto libssl libc libcurl kube-firstboot; do \
		tools/size-map.py $(B)/static/$(PROG).map --objects $$lib --top 20 | sed 's/^/  /'; done

# ---- tests ----
# Unit tests: one program per module, linked with the library and program objects (not main.c),
# built with ASan+UBSan: build/unit/<folder>/test-<module>.
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRCS))
$(B)/unit/%: $(B)/san/tests/unit/%.o $(B)/san/tests/unit/unit.o $(call obj,san,$(LIB_SRCS) $(APP_SRCS))
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD-SAN  $@")
	$(Q)$(CC) $(SAN_LDFLAGS) $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka) -o $@

# Fuzz harnesses: replayed with gcc+ASan+UBSan over their corpus (tests/fuzz/corpus/<name>/),
# fuzzed with clang's libFuzzer by 'make fuzz'.
REPLAY_BINS := $(patsubst tests/fuzz/fuzz-%.c,$(B)/replay/fuzz-%,$(FUZZ_SRCS))
$(B)/replay/%: $(B)/san/tests/fuzz/%.o $(B)/san/tests/fuzz/replay.o $(call obj,san,$(LIB_SRCS) $(APP_SRCS))
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD-SAN  $@")
	$(Q)$(CC) $(SAN_LDFLAGS) $^ $(PKG_LIBS) -o $@

FUZZ_BINS := $(patsubst tests/fuzz/fuzz-%.c,$(B)/fuzz/fuzz-%,$(FUZZ_SRCS))
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(APP_SRCS)
	@mkdir -p $(@D)
	$(CLANG) -std=gnu11 -g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
		$^ $(PKG_LIBS) -o $@

deps:
	tools/deps.sh check

unit: $(UNIT_BINS)
	tests/run-checks.sh unit $(UNIT_BINS)
fuzz-replay: $(REPLAY_BINS)
	tests/run-checks.sh fuzz-replay $(REPLAY_BINS)
integration: $(B)/$(PROG)
	tests/run-checks.sh integration
golden: $(B)/$(PROG)
	tests/run-checks.sh golden
# Debian 13's etcd 3.5 into $(B)/etcd-3.5 (private apt state; the host's apt configuration is not touched).
# Packages first, then a fresh make that sees their headers (as for demo).
etcd35:
	tools/deps.sh check
	tools/fetch-etcd.sh $(B)/etcd-3.5
	$(MAKE) --no-print-directory $(B)/$(PROG)
	tests/run-checks.sh etcd35
smoke: static
	tests/run-checks.sh smoke $(B)/static/$(PROG)

FUZZ_TIME ?= 60
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$${f##*/fuzz-}; mkdir -p $(B)/fuzz-corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_TIME)s"; \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=65536 $(B)/fuzz-corpus/$$n tests/fuzz/corpus/$$n \
			>$(B)/fuzz/$$n.log 2>&1 || { tail -40 $(B)/fuzz/$$n.log; exit 1; }; tail -1 $(B)/fuzz/$$n.log; done

# check: one summary line over every part, non-zero exit on any failure. Three steps, in order:
#   deps   install every package the build and the tests need (nothing compiles before this), and
#          fetch Debian 13's etcd 3.5 for the etcd35 run (tools/fetch-etcd.sh, private apt state)
#   build  a sub-make, which reads pkg-config with the packages installed
#   test   tests/run-checks.sh
# KF_CHECK_STEPS picks some of them (default deps,build,test): tests/fresh runs deps,build in a clean
# root. The VM first boot (tests/vm, 6-12 minutes) is part of it, KF_SKIP_VM=1 leaves it out; so is
# the fresh-root test (tests/fresh), KF_SKIP_FRESH=1 leaves it out, and the etcd and HA tests under
# etcd 3.5, KF_SKIP_ETCD35=1 leaves them out.
KF_CHECK_STEPS ?= deps,build,test
comma := ,
check_steps := $(subst $(comma), ,$(KF_CHECK_STEPS))
ifneq ($(filter-out deps build test,$(check_steps)),)
$(error KF_CHECK_STEPS: unknown step(s) $(filter-out deps build test,$(check_steps)); the steps are deps,build,test)
endif
step = $(filter $(1),$(check_steps))
check:
	$(if $(call step,deps),tools/deps.sh check static $(if $(KF_SKIP_VM),,vm) $(if $(KF_SKIP_FRESH),,fresh))
	$(if $(call step,deps),$(if $(KF_SKIP_ETCD35),,tools/fetch-etcd.sh $(B)/etcd-3.5))
	$(if $(call step,build),$(MAKE) --no-print-directory $(KF_JOBS) all static $(UNIT_BINS) $(REPLAY_BINS) \
		$(if $(KF_SKIP_VM),,deb))
	$(if $(call step,test),KF_STATIC_BIN=$(B)/static/$(PROG) \
		$(if $(KF_SKIP_VM),,KF_VM_DEB_DIR=$(B)/deb KF_VM_WORK=$(abspath $(B))/vm) \
		$(if $(KF_SKIP_FRESH),,KF_FRESH_BASE=$(abspath $(B))/vm/base KF_FRESH_WORK=$(abspath $(B))/fresh) \
		tests/run-checks.sh all $(UNIT_BINS) -- $(REPLAY_BINS))

# ---- quality ----
C_FILES := $(shell git ls-files '*.c' '*.h' 2>/dev/null) $(shell git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
lint:
	tools/deps.sh lint
	clang-format --dry-run -Werror $(C_FILES)
	@# The layering of docs/ARCHITECTURE.md over the #include lines: every arrow points down.
	tools/check-layers.sh
	@# Messages stay one string each (greppable): clang-format no longer cuts them, this catches hand cuts.
	tools/check-messages.py
	@# cppcheck does not know __attribute__((cleanup)): its leak checks would flag every _cleanup_ variable.
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem --suppress=memleak --suppress=resourceLeak --suppress=leakReturnValNotUsed -I. -D_GNU_SOURCE $(LIB_SRCS) $(APP_SRCS) $(MAIN_SRC)
	@# gcc 12's analyzer misreads the "*(void **) p" of cleanup helpers as an uninitialised read, and
	@# loses pointers stored through output parameters (false leaks). -Wmaybe-uninitialized, ASan's
	@# LeakSanitizer (unit tests, corpus replay) and valgrind cover those two classes instead.
	for f in $(LIB_SRCS) $(APP_SRCS) $(MAIN_SRC); do \
		$(CC) $(BASE_CFLAGS) -O1 -fanalyzer -Wno-analyzer-use-of-uninitialized-value -Wno-analyzer-malloc-leak $(PKG_CFLAGS) -c $$f -o /dev/null -MF /dev/null || exit 1; done
	@echo "lint: clean"
format:
	clang-format -i $(C_FILES)

# Benchmarks print figures and ratios measured side by side in one run (tests/bench/*.sh).
bench: $(B)/$(PROG)
	@set -e; found=0; for b in $(wildcard tests/bench/bench-*.sh); do found=1; $$b; done; \
		[ $$found = 1 ] || echo "bench: no benchmarks yet (the PKI benchmark comes with issue #3)."
# The simulated cluster (tests/sim): real etcd and haproxy, simulated apiserver and kubelet.
# Packages first, then a fresh make that sees their headers (pkg-config is read when make starts).
demo:
	tools/deps.sh check
	$(MAKE) --no-print-directory $(KF_JOBS) $(B)/$(PROG)
	tests/sim/demo.sh

install: $(B)/$(PROG)
	install -D -m 0755 $(B)/$(PROG) $(DESTDIR)$(PREFIX)/bin/$(PROG)
	@for u in $(wildcard units/*.service units/*.timer); do \
		install -D -m 0644 $$u $(DESTDIR)/lib/systemd/system/$${u##*/}; done
# The Debian package (images/deb/): the static binary, the units, the man page; $(B)/deb/*.deb.
deb: static
	@images/deb/build-deb.sh $(B)/static/$(PROG) $(VERSION) $(B)/deb
# A real first boot under qemu (tests/vm/): Debian 12 from debootstrap (cached in $(B)/vm/base), the
# .deb, a NoCloud seed; boots twice. KF_VM_KUBELET=double|none picks the kubelet (tests/vm/README.md).
vm-test: deb
	tools/deps.sh vm
	tests/vm/vm-test.sh $(B)/deb $(B)/vm
# The README's two commands in a clean Debian 12 root holding nothing but a clone of this repository's
# HEAD (tests/fresh/): `make demo` end to end, `make check` through its install and build steps.
fresh-test:
	tests/fresh/fresh-test.sh $(B)/vm/base $(B)/fresh

clean:
	rm -rf $(B)/dyn $(B)/san $(B)/sta $(B)/unit $(B)/replay $(B)/fuzz $(B)/static $(B)/$(PROG)

-include $(shell find $(B)/dyn $(B)/san $(B)/sta -name '*.d' 2>/dev/null)
