# SPDX-License-Identifier: MIT
# xenbackd: one top-level Makefile. Each directory adds its programs and
# tests in a module.mk fragment, included below. A device class is a
# directory too (src/vbd/, examples/echo/): its module.mk appends its
# sources to XBD_CLASS_SOURCES and the daemon links them; no other file
# needs to know about it.
#
#   make                 configure with defaults if needed, then build
#   make check           install test packages if missing, build, run the
#                        suite, then again under ASan+UBSan, then fuzz briefly
#   make check-offline   the plain suite only, for a package build daemon:
#                        never apt-get, no network, root not needed
#   make install DESTDIR=...
#   make demo            the daemon serving a disk to a simulated guest
#   make EXTRA_CLASSES=DIR  also build the class in DIR (out of tree)
#   make bench           benchmark grant modes and I/O engines (not a test)
#   make check-xen       real Xen 4.17 under QEMU: real xl and Linux blkfront
#   make bench-xen       blkback, qdisk and xenbackd under real Xen (not a test)
#   make dist, distcheck the release tarball; build, install and check it
#   make check-package   the Debian package: build, lintian, install, run
#
# O is the build directory; SAN=1 builds with AddressSanitizer and UBSan.
#
# Only the README's commands (make demo, make check) and the CI targets
# install missing Debian packages; plain make, clean and distclean never
# do: they fail naming what is missing (tools/install-deps --check).

O   ?= build
SAN ?=

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

# A fresh clone configures itself with defaults; ./configure run by hand
# wins. Which packages a configure may install depends on the goal.
deps_set = $(or $(if $(filter demo,$(MAKECMDGOALS)),demo), \
	$(if $(filter check bench bench-quick,$(MAKECMDGOALS)),check), \
	$(if $(filter check-package,$(MAKECMDGOALS)),package), \
	$(if $(filter check-xen bench-xen,$(MAKECMDGOALS)),build), \
	--check build)
config.mk:
	tools/install-deps $(strip $(deps_set))
	./autogen.sh
	./configure
# clean and distclean need no configuration (and must not make one).
ifneq ($(filter-out clean distclean,$(or $(MAKECMDGOALS),all)),)
include config.mk
endif

# ---- Version (tools/version): git describe in a checkout, the VERSION
# file in a tarball from make dist. The files that print it are rebuilt
# when it changes.
XBD_VERSION := $(shell tools/version)
$(O)/version.stamp: FORCE
	@mkdir -p $(O)
	@echo '$(XBD_VERSION)' >$@.tmp
	@cmp -s $@.tmp $@ 2>/dev/null && rm -f $@.tmp || mv $@.tmp $@
$(O)/src/main.o $(O)/src/xenbackctl.o: $(O)/version.stamp
# ---- end of version

XEN_LIBS   = -lxenstore -lxengnttab -lxenevtchn -lxentoolcore -lxentoollog
EV_LIBS    = -lev
URING_LIBS = $(if $(filter 1,$(HAVE_LIBURING)),-luring)
NBD_LIBS   = $(if $(filter 1,$(HAVE_LIBNBD)),-lnbd)
SD_LIBS    = $(if $(filter 1,$(HAVE_SYSTEMD)),-lsystemd)

XBD_CFLAGS = -std=c11 -D_GNU_SOURCE -fPIC -Wall -Wextra -Werror \
	-Wno-unused-parameter -Iinclude -Isrc -MMD -MP \
	-DHAVE_LIBURING=$(HAVE_LIBURING) -DHAVE_LIBNBD=$(HAVE_LIBNBD) \
	-DHAVE_SYSTEMD=$(HAVE_SYSTEMD) \
	-DXENDIR='"$(xendir)"' -DRUNDIR='"$(rundir)"' \
	-DXBD_VERSION='"$(XBD_VERSION)"'
SAN_FLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_CFLAGS = $(XBD_CFLAGS) $(CPPFLAGS) $(if $(SAN),$(SAN_FLAGS) -O1 -g,$(CFLAGS))
ALL_LDFLAGS = $(LDFLAGS) $(if $(SAN),$(SAN_FLAGS))

FUZZ_CC     = clang
FUZZ_CFLAGS = $(filter-out -MMD -MP,$(XBD_CFLAGS)) -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

PROGRAMS :=
TESTS    :=
FUZZERS  :=
XBD_CLASS_SOURCES :=

# $(eval $(call program,NAME,SOURCES,LIBS)): $(O)/NAME from SOURCES.
define program
$(O)/$(1): $(addprefix $(O)/,$(2:.c=.o))
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $(3)
PROGRAMS += $(O)/$(1)
endef

# $(eval $(call shlib,NAME,SOURCES,LIBS,VERSION_SCRIPT)): a shared library
# whose SONAME is the file name of NAME.
define shlib
$(O)/$(1): $(addprefix $(O)/,$(2:.c=.o)) $(4)
	$$(CC) $$(ALL_LDFLAGS) -shared -Wl,-soname,$(notdir $(1)) \
		-Wl,--version-script=$(4) -o $$@ $$(filter %.o,$$^) $(3)
PROGRAMS += $(O)/$(1)
endef

# $(eval $(call fuzzer,NAME,SOURCES,LIBS)): build/fuzz/NAME, a libFuzzer
# target; its seed corpus is tests/fuzz/corpus/NAME.
define fuzzer
build/fuzz/$(1): $(2)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ $(2) $(3)
FUZZERS += build/fuzz/$(1)
endef

# The core first, the kit's libraries, then the classes and examples, then
# the tests, which may use what the others defined.
include src/module.mk
include $(sort $(wildcard lib/*/module.mk))
include $(sort $(wildcard src/*/module.mk))
include $(sort $(wildcard examples/*/module.mk examples/*/*/module.mk))
include $(sort $(wildcard tests/module.mk tests/*/module.mk))

# make EXTRA_CLASSES="DIR...": classes kept outside this tree, built into
# the daemon like src/vbd/. A class is compiled into xenbackd (its table
# is found at link time), so it builds here, not against installed
# headers. DIR/module.mk, when there, says what to build, with CLASS_DIR
# naming DIR; without one, every DIR/*.c is the class.
define extra_class
CLASS_DIR := $(abspath $(1))
ifneq ($$(wildcard $$(CLASS_DIR)/module.mk),)
include $$(CLASS_DIR)/module.mk
else ifneq ($$(wildcard $$(CLASS_DIR)/*.c),)
XBD_CLASS_SOURCES += $$(wildcard $$(CLASS_DIR)/*.c)
else
$$(error EXTRA_CLASSES: $(1) has no module.mk and no .c file)
endif
endef
$(foreach d,$(EXTRA_CLASSES),$(eval $(call extra_class,$(d))))

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

-include $(shell find $(O) -name '*.d' -type f 2>/dev/null)

all: $(PROGRAMS)

# The list of tests for this build directory, read by tests/run-tests.
$(O)/tests.list: FORCE
	@mkdir -p $(O)
	@printf '%s\n' $(TESTS) > $@.tmp
	@cmp -s $@.tmp $@ 2>/dev/null && rm -f $@.tmp || mv $@.tmp $@

fuzzers: $(FUZZERS)

FUZZ_SECONDS ?= 20
check:
	tools/install-deps check
	$(MAKE) O=build all build/tests.list
	$(MAKE) O=build-asan SAN=1 all build-asan/tests.list
	$(MAKE) fuzzers
	tests/run-tests --build build --build build-asan \
		--fuzz-seconds $(FUZZ_SECONDS) $(FUZZERS)

# The plain suite without installing anything: for a package build
# (debian/rules) or any machine without network or root. Tests that need
# root skip themselves (exit 77) when run by another user.
check-offline:
	tools/install-deps --check offline
	$(MAKE) O=build all build/tests.list
	tests/run-tests --build build

# Only the plain build's tests, for a quick edit-test loop.
check-quick: all $(O)/tests.list
	tests/run-tests --build $(O)

check-xen: all
	tests/xen/run

# The three disk backends under real Xen, side by side in one guest
# (tests/xen/bench-xen; a benchmark, about 40 min): BENCH_UPDATE=1 also
# writes the table into docs/BENCHMARKS.md.
bench-xen: all
	tests/xen/bench-xen $(if $(BENCH_UPDATE),--update)

# Benchmarks, not tests (tests/bench/README.md, RESULTS.md): ratios taken
# in one run; about 4 min, or a 25 s smoke run.
bench:
	tools/install-deps check
	$(MAKE) O=build all
	tests/bench/run build

bench-quick:
	tools/install-deps check
	$(MAKE) O=build all
	tests/bench/run --quick build

# The daemon serving a disk to a simulated guest, every step shown; the
# build's compiler lines go to build/demo-build.log, not between the steps.
demo:
	tools/install-deps demo
	@mkdir -p build
	@echo "make demo: building (log: build/demo-build.log)"
	@$(MAKE) --no-print-directory O=build all >build/demo-build.log 2>&1 || \
		{ tail -n 30 build/demo-build.log >&2; echo "make demo: build failed (log: build/demo-build.log)" >&2; exit 1; }
	tests/demo build

INSTALL_PROGRAMS := $(filter $(O)/xenbackd $(O)/xenbackctl,$(PROGRAMS))
install: all
	$(MKDIR_P) $(DESTDIR)$(sbindir) $(DESTDIR)$(xendir)/scripts
	$(if $(INSTALL_PROGRAMS),$(INSTALL) -m 755 $(INSTALL_PROGRAMS) $(DESTDIR)$(sbindir))
	$(if $(wildcard hotplug/*),$(INSTALL) -m 755 $(wildcard hotplug/*) $(DESTDIR)$(xendir)/scripts)
	$(foreach s,5 8 3,$(if $(wildcard man/*.$(s)),$(MKDIR_P) $(DESTDIR)$(mandir)/man$(s) && \
		$(INSTALL) -m 644 $(wildcard man/*.$(s)) $(DESTDIR)$(mandir)/man$(s);))
	$(if $(wildcard systemd/*.service),$(MKDIR_P) $(DESTDIR)$(unitdir) && \
		$(INSTALL) -m 644 $(wildcard systemd/*.service) $(DESTDIR)$(unitdir))
	$(MKDIR_P) $(DESTDIR)$(sysusersdir)
	$(INSTALL) -m 644 systemd/xenbackd.sysusers $(DESTDIR)$(sysusersdir)/xenbackd.conf
	$(if $(wildcard etc/xenbackd.conf),test -e $(DESTDIR)$(xendir)/xenbackd.conf || \
		$(INSTALL) -m 644 etc/xenbackd.conf $(DESTDIR)$(xendir)/xenbackd.conf)

# make install-kit: the kit's frontend library for programs built outside
# this tree (pkg-config xbdfront): libxbdfront.a, <xenbackd/front.h> and
# <xenbackd/io-ring.h>. The class API (class.h, ring.h) is not installed:
# classes build in this tree (EXTRA_CLASSES above).
install-kit: $(XBDFRONT_LIB)
	$(MKDIR_P) $(DESTDIR)$(includedir)/xenbackd $(DESTDIR)$(libdir)/pkgconfig
	$(INSTALL) -m 644 include/xenbackd/front.h include/xenbackd/io-ring.h \
		$(DESTDIR)$(includedir)/xenbackd
	$(INSTALL) -m 644 $(XBDFRONT_LIB) $(DESTDIR)$(libdir)
	sed -e 's|@prefix@|$(prefix)|; s|@libdir@|$(libdir)|; s|@includedir@|$(includedir)|' \
		-e 's|@VERSION@|$(XBD_VERSION)|' \
		lib/front/xbdfront.pc.in >$(DESTDIR)$(libdir)/pkgconfig/xbdfront.pc

# ---- make dist, make distcheck
# dist: xenbackd-VERSION.tar.gz of the files git tracks (as they are in
# the work tree), a VERSION file for tools/version, and a generated
# ./configure, so that a tarball builds without git or autoconf.
# distcheck: that tarball unpacked, configured, built and installed in
# a scratch directory, the installed tree checked. DIST_OUT: where the
# tarball goes.
DIST_NAME = xenbackd-$(XBD_VERSION)
DIST_DIR  = $(O)/dist
DIST_OUT ?= .
dist:
	@git rev-parse --git-dir >/dev/null 2>&1 || { echo "make dist: not a git checkout" >&2; exit 1; }
	rm -rf $(DIST_DIR) && mkdir -p $(DIST_DIR)/$(DIST_NAME)
	git ls-files -z | xargs -0 cp -P --parents -t $(DIST_DIR)/$(DIST_NAME)
	echo '$(XBD_VERSION)' >$(DIST_DIR)/$(DIST_NAME)/VERSION
	cd $(DIST_DIR)/$(DIST_NAME) && ./autogen.sh 2>/dev/null && rm -rf autom4te.cache
	tar -C $(DIST_DIR) --sort=name --owner=0 --group=0 --numeric-owner \
		-czf $(DIST_OUT)/$(DIST_NAME).tar.gz $(DIST_NAME)
	rm -rf $(DIST_DIR)
	@echo "make dist: $(DIST_OUT)/$(DIST_NAME).tar.gz"

DISTCHECK_DIR = $(abspath $(O))/distcheck
distcheck: dist
	rm -rf $(DISTCHECK_DIR) && mkdir -p $(DISTCHECK_DIR)
	tar -C $(DISTCHECK_DIR) -xzf $(DIST_OUT)/$(DIST_NAME).tar.gz
	cd $(DISTCHECK_DIR)/$(DIST_NAME) && ./configure -q --prefix=/usr && \
		$(MAKE) O=build all && \
		$(MAKE) O=build install DESTDIR=$(DISTCHECK_DIR)/root
	tests/package/check-installed $(DISTCHECK_DIR)/root /usr $(XBD_VERSION)
	cd $(DISTCHECK_DIR)/$(DIST_NAME) && for t in test-kernel-backend-check test-systemd-unit; do \
		XBD_BUILD=build XBD_SRC=. tests/integration/$$t || exit 1; done
	rm -rf $(DISTCHECK_DIR)
	@echo "make distcheck: $(DIST_OUT)/$(DIST_NAME).tar.gz builds, installs and runs"
# ---- end of dist

# ---- make check-package: the Debian package built from make dist,
# lintian-clean, installed with dpkg --root, its binaries on the test bed
# (tests/package/run; root, about a minute). CI runs it; make check does
# not.
check-package:
	tools/install-deps package
	$(MAKE) O=build all
	tests/package/run build
# ---- end of check-package

clean:
	rm -rf build build-asan

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache aclocal.m4 \
		install-sh config.guess config.sub missing

FORCE:
.PHONY: all check check-offline check-quick check-xen bench-xen demo bench bench-quick fuzzers install install-kit clean distclean FORCE
.PHONY: dist distcheck check-package
