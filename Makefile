# ampstream — see README.md.  `make demo` and `make check` install what they need.
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR	?= /lib/systemd/system
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
ALL_CFLAGS = $(WARN) $(CFLAGS) -D_GNU_SOURCE -Idaemon $(PKG_CFLAGS)
SAN	 = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

MAINS	 = daemon/ampstream.c daemon/ampstreamctl.c
LIB_SRCS = $(filter-out $(MAINS),$(sort $(wildcard daemon/*.c)))
UNIT_SRCS = $(sort $(wildcard tests/unit/*.c))
HDRS	 = $(wildcard daemon/*.h)

# Two variants of everything: plain in $(B)/, sanitized in $(B)/asan/.
lib_objs = $(patsubst daemon/%.c,$(1)/obj/%.o,$(LIB_SRCS))

.PHONY: all deps demo check unit unit-asan integration install clean bench
all: $(B)/ampstream $(B)/ampstreamctl

deps:
	@sh tests/lib/install-deps.sh

$(B)/obj/%.o: daemon/%.c $(HDRS) | $(B)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(B)/asan/obj/%.o: daemon/%.c $(HDRS) | $(B)/asan/obj
	$(CC) $(ALL_CFLAGS) $(SAN) -c -o $@ $<
$(B)/obj $(B)/asan/obj $(B)/tests $(B)/asan/tests:
	mkdir -p $@

$(B)/libampstream.a: $(call lib_objs,$(B))
	rm -f $@; ar rcs $@ $^
$(B)/asan/libampstream.a: $(call lib_objs,$(B)/asan)
	rm -f $@; ar rcs $@ $^

$(B)/ampstream: $(B)/obj/ampstream.o $(B)/libampstream.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)
$(B)/ampstreamctl: $(B)/obj/ampstreamctl.o $(B)/libampstream.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)
$(B)/asan/ampstream: $(B)/asan/obj/ampstream.o $(B)/asan/libampstream.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS)
$(B)/asan/ampstreamctl: $(B)/asan/obj/ampstreamctl.o $(B)/asan/libampstream.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS)

# One unit-test binary (Check), one closing line.
$(B)/tests/unit: $(UNIT_SRCS) tests/unit/unit.h $(B)/libampstream.a | $(B)/tests
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $(UNIT_SRCS) \
	    $(B)/libampstream.a $(PKG_LIBS) $(CHECK_LIBS)
$(B)/asan/tests/unit: $(UNIT_SRCS) tests/unit/unit.h $(B)/asan/libampstream.a | $(B)/asan/tests
	$(CC) $(ALL_CFLAGS) $(SAN) $(CHECK_CFLAGS) -Itests/unit -o $@ $(UNIT_SRCS) \
	    $(B)/asan/libampstream.a $(PKG_LIBS) $(CHECK_LIBS)

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
	$(MAKE) unit
	$(MAKE) integration

demo: deps all
	sh tests/demo.sh $(B)

bench: all
	sh bench/run.sh $(B)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/ampstream $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(B)/ampstream $(DESTDIR)$(SBINDIR)/ampstream
	install -m 0755 $(B)/ampstreamctl $(DESTDIR)$(BINDIR)/ampstreamctl
	install -m 0644 systemd/ampstream.service $(DESTDIR)$(UNITDIR)/ampstream.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/ampstream/ampstream.conf ] || \
	    install -m 0640 conf/ampstream.conf $(DESTDIR)$(SYSCONFDIR)/ampstream/ampstream.conf
	install -m 0644 man/ampstream.8 $(DESTDIR)$(MANDIR)/man8/ampstream.8
	install -m 0644 man/ampstreamctl.1 $(DESTDIR)$(MANDIR)/man1/ampstreamctl.1

clean:
	rm -rf $(B)
