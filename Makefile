# ampstream — see README.md.  `make demo` and `make check` install what they need.
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR	?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
DOCDIR	?= $(PREFIX)/share/doc/ampstream
DESTDIR	?=
B	?= build

PKGS	 = libevent libevent_openssl librabbitmq json-c libconfig libsystemd libcurl openssl
CC	?= cc
CFLAGS	?= -O2 -g
WARN	 = -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wmissing-prototypes \
	   -Wstrict-prototypes -Wformat=2
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)
BASE_CFLAGS = $(WARN) $(CFLAGS) -D_GNU_SOURCE $(PKG_CFLAGS)
SAN	 = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Layers, one-way: lib/ (needs nothing in-tree) <- conf/ <- daemon/, ctl/.
# Each layer is compiled with only the include paths below it, so the
# compiler refuses an include of a higher layer (or of daemon/ from ctl/).
INC_lib	 = -Ilib
INC_conf = -Ilib -Iconf
INC_daemon = -Ilib -Iconf -Idaemon
INC_ctl	 = -Ilib -Iconf -Ictl
INC_all	 = -Ilib -Iconf -Idaemon -Ictl

MAINS	 = daemon/ampstream.c ctl/ampstreamctl.c
BASE_SRCS = $(sort $(wildcard lib/*.c conf/*.c))
DAEMON_SRCS = $(filter-out $(MAINS),$(sort $(wildcard daemon/*.c)))
CTL_SRCS = $(filter-out $(MAINS),$(sort $(wildcard ctl/*.c)))
UNIT_SRCS = $(sort $(wildcard tests/unit/*.c))
HDRS	 = $(wildcard lib/*.h conf/*.h daemon/*.h ctl/*.h)

# Two variants of everything: plain in $(B)/, sanitized in $(B)/asan/.
objs	 = $(patsubst %.c,$(1)/obj/%.o,$(2))
# libampbase.a: lib + conf; libampd.a: the daemon; libampctl.a: the CLI.
ARCHIVES = libampd.a libampctl.a libampbase.a

.PHONY: all deps demo check unit unit-asan integration install uninstall deb \
	check-package clean bench
all: $(B)/ampstream $(B)/ampstreamctl

deps:
	@sh tests/lib/install-deps.sh

layer	 = $(firstword $(subst /, ,$(1)))
$(B)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(INC_$(call layer,$<)) -c -o $@ $<
$(B)/asan/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(SAN) $(INC_$(call layer,$<)) -c -o $@ $<
$(B)/tests $(B)/asan/tests:
	mkdir -p $@

define variant
$(1)/libampbase.a: $(call objs,$(1),$(BASE_SRCS))
	rm -f $$@; ar rcs $$@ $$^
$(1)/libampd.a: $(call objs,$(1),$(DAEMON_SRCS))
	rm -f $$@; ar rcs $$@ $$^
$(1)/libampctl.a: $(call objs,$(1),$(CTL_SRCS))
	rm -f $$@; ar rcs $$@ $$^
$(1)/ampstream: $(1)/obj/daemon/ampstream.o $(1)/libampd.a $(1)/libampbase.a
	$(CC) $(CFLAGS) $(2) -o $$@ $$^ $(PKG_LIBS)
$(1)/ampstreamctl: $(1)/obj/ctl/ampstreamctl.o $(1)/libampctl.a $(1)/libampbase.a
	$(CC) $(CFLAGS) $(2) -o $$@ $$^ $(PKG_LIBS)
# One unit-test binary (Check), one closing line.
$(1)/tests/unit: $(UNIT_SRCS) tests/unit/unit.h $(addprefix $(1)/,$(ARCHIVES)) | $(1)/tests
	$(CC) $(BASE_CFLAGS) $(2) $(INC_all) $(CHECK_CFLAGS) -Itests/unit -o $$@ \
	    $(UNIT_SRCS) $(addprefix $(1)/,$(ARCHIVES)) $(PKG_LIBS) $(CHECK_LIBS)
endef
$(eval $(call variant,$(B),))
$(eval $(call variant,$(B)/asan,$(SAN)))

unit: $(B)/tests/unit
	cd tests/unit && CK_FORK=yes ../../$(B)/tests/unit
unit-asan: $(B)/asan/tests/unit
	cd tests/unit && CK_FORK=no ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ../../$(B)/asan/tests/unit

integration: all $(B)/asan/ampstream $(B)/asan/ampstreamctl
	sh tests/run-integration.sh $(B)

check: deps
	$(MAKE) all $(B)/asan/ampstream $(B)/asan/ampstreamctl
	$(MAKE) unit-asan
	$(MAKE) fuzz-check
	$(MAKE) unit
	$(MAKE) integration

demo: deps all
	sh tests/demo.sh $(B)

bench: all
	sh bench/run.sh $(B)

# The units are generated at install time with the prefix of this make, so they run the
# binary `make install` installs (never a stale copy made with another prefix).
UNITS	 = ampstream.service ampstream@.service
UNIT_SED = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

# install/uninstall: with DESTDIR empty and as root, also what the package's maintainer
# scripts do (packaging/make-install.sh): user, directories, /etc/ampstream's group, reload.
# The configuration is installed only when there is none; uninstall keeps it.
MANS	 = man/ampstreamctl.1 man/ampstream.conf.5 man/ampstream.8
DOCS	 = README.md $(wildcard docs/*.md)
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/examples
	install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/ampstream
	install -m 0755 $(B)/ampstream $(DESTDIR)$(SBINDIR)/ampstream
	install -m 0755 $(B)/ampstreamctl $(DESTDIR)$(BINDIR)/ampstreamctl
	for u in $(UNITS); do $(UNIT_SED) systemd/$$u.in > $(DESTDIR)$(UNITDIR)/$$u && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	install -m 0644 systemd/ampstream.sysusers $(DESTDIR)$(SYSUSERSDIR)/ampstream.conf
	install -m 0644 systemd/ampstream.tmpfiles $(DESTDIR)$(TMPFILESDIR)/ampstream.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/ampstream/ampstream.conf ] || \
	    install -m 0640 conf/ampstream.conf $(DESTDIR)$(SYSCONFDIR)/ampstream/ampstream.conf
	for m in $(MANS); do \
	    install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/ || exit 1; done
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 conf/ampstream.conf $(DESTDIR)$(DOCDIR)/examples/ampstream.conf
	@[ -n "$(DESTDIR)" ] || sh packaging/make-install.sh post-install $(SYSCONFDIR) \
	    $(SYSUSERSDIR) $(TMPFILESDIR)

uninstall:
	@[ -n "$(DESTDIR)" ] || sh packaging/make-install.sh pre-uninstall
	rm -f $(DESTDIR)$(SBINDIR)/ampstream $(DESTDIR)$(BINDIR)/ampstreamctl \
	    $(DESTDIR)$(UNITDIR)/ampstream.service $(DESTDIR)$(UNITDIR)/ampstream@.service \
	    $(DESTDIR)$(SYSUSERSDIR)/ampstream.conf $(DESTDIR)$(TMPFILESDIR)/ampstream.conf \
	    $(DESTDIR)$(MANDIR)/man1/ampstreamctl.1 $(DESTDIR)$(MANDIR)/man5/ampstream.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/ampstream.8
	rm -rf $(DESTDIR)$(DOCDIR)
	@[ -n "$(DESTDIR)" ] || sh packaging/make-install.sh post-uninstall

# The Debian package (packaging/debian/, built from a copy of the tree in $(B)/deb/) and its
# checks: lintian (errors fail), the units (systemd-analyze verify and security <= 1.5, on
# the package's files) and the man pages (mandoc -T lint).
VERSION	:= $(shell sed -n 's/^\#define AMPSTREAM_VERSION[[:space:]]*"\(.*\)"/\1/p' lib/compat.h)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB	 = $(B)/ampstream_$(VERSION)_$(DEB_ARCH).deb
DEB_INPUTS = Makefile README.md $(wildcard lib/* conf/* daemon/* ctl/* systemd/* man/* \
	    docs/* packaging/*.sh packaging/debian/* packaging/debian/source/*)
deb: $(DEB)
$(DEB): $(DEB_INPUTS)
	sh packaging/build-deb.sh $(B) $(VERSION)
check-package: $(DEB)
	sh packaging/check-package.sh $(DEB)

clean:
	rm -rf $(B)

# Fuzzing (libFuzzer; tests/fuzz/README.md): clang, its own object tree and
# archives in $(B)/fuzz/, one binary per harness.  `make fuzz` runs each for
# FUZZ_SECONDS, new inputs going to $(B)/fuzz/corpus/; `make fuzz-check` runs
# each once over its checked-in corpus.  clang's -Wformat-nonliteral (part
# of its -Wformat=2, not gcc's) flags log.c's vlog: off for this build.
FUZZ_CC	 ?= clang
FUZZ_SECONDS ?= 60
FUZZ_NAMES = fuzz_event fuzz_json fuzz_spool fuzz_corr_snap fuzz_config fuzz_api
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer $(FUZZ_RECOVER)
# Checks made recoverable so that tests/fuzz/ubsan.supp can skip a known
# finding (the harnesses still halt on any report not listed there).
FUZZ_RECOVER = -fsanitize-recover=pointer-overflow
FUZZ_ENV = UBSAN_OPTIONS=suppressions=tests/fuzz/ubsan.supp:halt_on_error=1:print_stacktrace=1
FUZZ_CFLAGS = $(WARN) -Wno-format-nonliteral -g -O1 -D_GNU_SOURCE \
	   $(PKG_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link
INC_tests = $(INC_all) -Itests/unit -Itests/fuzz
FUZZ_BINS = $(addprefix $(B)/fuzz/,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-check
$(B)/fuzz/obj/%.o: %.c $(HDRS) $(wildcard tests/fuzz/*.h tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(INC_$(call layer,$<)) -c -o $@ $<
$(eval $(call variant,$(B)/fuzz,))
# The harnesses' helpers, and the test decoders (only fuzz_event uses them).
$(B)/fuzz/libfuzz.a: $(call objs,$(B)/fuzz,tests/fuzz/fuzz_util.c \
    tests/unit/rec_decode.c)
	rm -f $@; ar rcs $@ $^
$(FUZZ_BINS): $(B)/fuzz/%: $(B)/fuzz/obj/tests/fuzz/%.o $(B)/fuzz/libfuzz.a \
    $(addprefix $(B)/fuzz/,$(ARCHIVES))
	$(FUZZ_CC) -g $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) \
	    $(CHECK_LIBS)
FUZZ_ART = $(abspath $(B))/fuzz/artifacts

# Each harness for FUZZ_SECONDS: new inputs to $(B)/fuzz/corpus/NAME, crash
# reproducers to $(B)/fuzz/artifacts/NAME/, the run in $(B)/fuzz/NAME.log.
fuzz: $(FUZZ_BINS)
	@failed=""; for f in $(FUZZ_NAMES); do \
	    mkdir -p $(B)/fuzz/corpus/$$f $(FUZZ_ART)/$$f; \
	    dict=; [ ! -f tests/fuzz/$$f.dict ] || dict=-dict=tests/fuzz/$$f.dict; \
	    echo "$$f: $(FUZZ_SECONDS) s"; \
	    $(FUZZ_ENV) $(B)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) \
	        -timeout=10 -print_final_stats=1 $$dict \
	        -artifact_prefix=$(FUZZ_ART)/$$f/ $(abspath $(B))/fuzz/corpus/$$f \
	        tests/fuzz/corpus/$$f > $(B)/fuzz/$$f.log 2>&1 || { \
	        failed="$$failed $$f"; tail -n 40 $(B)/fuzz/$$f.log; }; \
	    grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|average_exec_per_sec" \
	        $(B)/fuzz/$$f.log | sed "s/^/  /"; \
	done; [ -z "$$failed" ] || { echo "crashed:$$failed (reproducers in" \
	    "$(FUZZ_ART)/)"; exit 1; }

# Each harness once over its checked-in corpus (regression); one closing line.
fuzz-check: $(FUZZ_BINS)
	@pass=0; fail=0; for f in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_ART)/$$f; \
	    if $(FUZZ_ENV) $(B)/fuzz/$$f -artifact_prefix=$(FUZZ_ART)/$$f/ \
	        tests/fuzz/corpus/$$f/* > $(B)/fuzz/$$f.check.log 2>&1; then \
	        pass=$$((pass + 1)); \
	    else \
	        fail=$$((fail + 1)); echo "FAIL: $$f"; \
	        tail -n 40 $(B)/fuzz/$$f.check.log; \
	    fi; \
	done; echo "$$pass passed, $$fail failed"; [ $$fail -eq 0 ]
