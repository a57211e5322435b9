# Puente: build, test, fuzz, bench and install with plain make and pkg-config.
#
#   make            build everything into $(B) (default build/)
#   make check      deps, format check, every test, the same suite under ASan+UBSan, lint
#   make fuzz       libFuzzer targets, FUZZ_TIME seconds each (default 60)
#   make bench      speed figures (printed, never asserted)
#   make deps       apt-get install what is missing on Debian 12 (no-op when all is there)
#   make install    PREFIX, DESTDIR, sysconfdir
#
# Parallel helpers may use their own build tree: make B=build-foo check

B        ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
sysconfdir ?= /etc
bindir   ?= $(PREFIX)/bin
sbindir  ?= $(PREFIX)/sbin
mandir   ?= $(PREFIX)/share/man
libexecdir ?= $(PREFIX)/libexec
FUZZ_TIME ?= 60

CC       ?= gcc
FUZZCC   ?= clang-14
PKGS     := libserialport sqlite3 libconfuse libsystemd libcurl json-c zlib nettle
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter -Wformat=2 -Wvla
OPT      ?= -O2
CFLAGS   ?= -g $(OPT)
SAN      ?=
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
# puented looks for its helper programs (puente-upload) beside its own binary, then here.
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(WARN) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) -MMD -MP \
              -DPUENTE_LIBEXECDIR='"$(libexecdir)/puente"'
# --as-needed: a program records only the libraries it uses (puented does not map libcurl:
# the upload transfer runs in puente-upload; docs/benchmarks.md "puented's memory").
ALL_LDFLAGS := -Wl,--as-needed $(LDFLAGS) $(SANFLAGS)

# Sources, found by convention so new modules need no Makefile edit:
#   at/*.c rules/*.c           I/O-free cores (static libraries)
#   daemon/*.c                 edge code; daemon/main-<prog>.c are the programs
#   tests/sim/*.c              puente-sim
#   tests/unit/test-*.c        one cmocka binary each
#   tests/bench/bench-*.c      one benchmark each
#   tests/fuzz/fuzz-*.c        one libFuzzer target each
AT_SRC     := $(wildcard at/*.c)
RULES_SRC  := $(wildcard rules/*.c)
DLIB_SRC   := $(filter-out daemon/main-%.c,$(wildcard daemon/*.c))
MAIN_SRC   := $(wildcard daemon/main-*.c)
SIM_SRC    := $(wildcard tests/sim/*.c)
UNIT_SRC   := $(wildcard tests/unit/test-*.c)
BENCH_SRC  := $(wildcard tests/bench/bench-*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz-*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIBAT     := $(B)/libpuente-at.a
LIBRULES  := $(B)/libpuente-rules.a
LIBDAEMON := $(B)/libpuente-daemon.a
LIBS_OURS := $(if $(DLIB_SRC),$(LIBDAEMON)) $(if $(RULES_SRC),$(LIBRULES)) $(LIBAT)

PROGS     := $(patsubst daemon/main-%.c,$(B)/%,$(MAIN_SRC)) $(if $(SIM_SRC),$(B)/puente-sim)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
BENCH_BINS := $(patsubst tests/bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.SECONDARY:
.DELETE_ON_ERROR:
.PHONY: all check check-plain check-asan check-lint test unit asan deps fuzz bench install clean format \
	format-check demo lint valgrind soak crash
all: $(PROGS) $(UNIT_BINS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBAT): $(call obj,$(AT_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
$(LIBRULES): $(call obj,$(RULES_SRC))
	rm -f $@ && $(AR) rcs $@ $^
$(LIBDAEMON): $(call obj,$(DLIB_SRC))
	rm -f $@ && $(AR) rcs $@ $^

$(B)/puente-sim: $(call obj,$(SIM_SRC)) $(LIBS_OURS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm
$(B)/%: $(B)/obj/daemon/main-%.o $(LIBS_OURS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm
$(B)/tests/%: $(B)/obj/tests/unit/%.o $(LIBS_OURS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka -lm

# Each object's header dependencies, written by -MMD: a changed header rebuilds what uses it.
-include $(patsubst %.o,%.d,$(call obj,$(AT_SRC) $(RULES_SRC) $(DLIB_SRC) $(MAIN_SRC) \
	$(SIM_SRC) $(UNIT_SRC)))

# Benchmarks: always optimized, never sanitized, in their own tree; built from the sources in
# one step, so any header change rebuilds them.
BB := build/bench
HDRS := $(wildcard at/*.h rules/*.h daemon/*.h tests/bench/*.h)
$(BB)/bench/%: tests/bench/%.c $(AT_SRC) $(RULES_SRC) $(DLIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -I. $(WARN) -O2 -g -DNDEBUG $(PKG_CFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS) -lm

# The test suite: unit binaries, then tests/integration/*.sh and tests/peers/*.sh,
# counted by tests/run-tests.sh, which prints "N passed, N failed".
# PUENTE_SKIP leaves tests out of one run: the sanitizer pass skips the peer programs (they
# wait on gammu-smsd and smsd, not on our code; puente-sim runs sanitized in sim-*.sh) and
# the demo (the daemon tests cover its code).
# PUENTE_JOBS tests run at once (tests/run-tests.sh).
PUENTE_JOBS ?= 1
test: $(PROGS) $(UNIT_BINS)
	PUENTE_SKIP="$(PUENTE_SKIP)" PUENTE_JOBS="$(PUENTE_JOBS)" tests/run-tests.sh $(B)

# make check: deps and the format check, then the plain suite, the sanitizer suite and the
# static analysis (lint) side by side, each printed whole when it ends (-O). The suites wait mostly on simulated modem
# latency, not on the CPU, so they overlap well on two cores, CHECK_JOBS tests at a time each.
CHECK_JOBS ?= 3
check: deps format-check
	$(MAKE) --no-print-directory -O -j4 check-plain check-asan check-lint
check-lint:
	$(MAKE) B=build lint
check-plain:
	$(MAKE) B=build test PUENTE_JOBS=$(CHECK_JOBS)
check-asan:
	$(MAKE) B=build/asan SAN=1 OPT=-O1 test PUENTE_JOBS=$(CHECK_JOBS) PUENTE_SEND_MESSAGES=300 \
		PUENTE_SKIP="peers/ integration/demo-smoke.sh"

deps:
	@tests/deps.sh

fuzz: deps
	tests/fuzz/run.sh $(FUZZ_TIME)

# Hardening (docs/hardening.md): clang-tidy + cppcheck; the integration suite under valgrind
# memcheck (build without SAN); a long run with every simulated fault (SOAK_MINUTES, default 30).
lint:
	tests/lint.sh
valgrind: $(PROGS)
	tests/valgrind.sh $(B)
soak: $(PROGS)
	tests/soak.sh $(B)
crash: $(PROGS)
	tests/crash.sh $(B)

# Benchmarks that drive programs (puente-sim, puented) find them through PUENTE_BUILD.
bench: deps
	$(MAKE) B=build $(PROGS:$(B)/%=build/%) $(patsubst tests/bench/%.c,$(BB)/bench/%,$(BENCH_SRC))
	@export PUENTE_BUILD=$(abspath build) PUENTE_SIM=$(abspath build)/puente-sim; \
	for b in $(patsubst tests/bench/%.c,$(BB)/bench/%,$(BENCH_SRC)); do echo "== $$b"; $$b || exit 1; done
	tests/bench/compare.sh $(abspath build)

# The newcomer's tour (docs/demo.md): puente-sim, puented and the demo programme, narrated.
demo: deps
	$(MAKE) B=build $(PROGS:$(B)/%=build/%)
	tests/demo/demo.sh build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	@bad=$$(for f in $$(git ls-files '*.c' '*.h'); do [ -f $$f ] && { clang-format --dry-run -Werror $$f >/dev/null 2>&1 || echo $$f; }; done); \
	if [ -n "$$bad" ]; then echo "not clang-formatted (run make format):"; echo "$$bad"; exit 1; fi

# The Debian way (docs/appliance.md): systemd, sysusers, tmpfiles and udev files under
# $(PREFIX)/lib, which systemd and udev search for /usr/local and /usr alike; puented in
# sbindir; the samples of $(sysconfdir)/puente installed only where no file is (else as
# NAME.dist beside the technician's file, which is never overwritten); the sample rules in
# rules.d.sample, never in the live rules.d.
unitdir      ?= $(PREFIX)/lib/systemd/system
sysusersdir  ?= $(PREFIX)/lib/sysusers.d
tmpfilesdir  ?= $(PREFIX)/lib/tmpfiles.d
udevrulesdir ?= $(PREFIX)/lib/udev/rules.d
install: $(PROGS)
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(sbindir) $(DESTDIR)$(libexecdir)/puente $(DESTDIR)$(unitdir) \
		$(DESTDIR)$(sysusersdir) $(DESTDIR)$(tmpfilesdir) $(DESTDIR)$(udevrulesdir) \
		$(DESTDIR)$(sysconfdir)/puente/rules.d
	for p in $(PROGS); do case $$p in */puented) d=$(sbindir);; */puente-upload) d=$(libexecdir)/puente;; \
		*) d=$(bindir);; esac; \
		install -m 0755 $$p $(DESTDIR)$$d/ || exit 1; done
	sed -e 's|^ExecStart=/usr/local/sbin/puented$$|ExecStart=$(sbindir)/puented$(if \
		$(filter-out /etc,$(sysconfdir)), --config $(sysconfdir)/puente/puente.conf)|' \
		systemd/puented.service >$(DESTDIR)$(unitdir)/puented.service
	chmod 0644 $(DESTDIR)$(unitdir)/puented.service
	install -m 0644 systemd/puente.sysusers $(DESTDIR)$(sysusersdir)/puente.conf
	install -m 0644 systemd/puente.tmpfiles $(DESTDIR)$(tmpfilesdir)/puente.conf
	install -m 0644 etc/udev/*.rules $(DESTDIR)$(udevrulesdir)/
	for f in docs/man/*.[1-8]; do [ -f "$$f" ] || continue; s=$${f##*.}; \
		install -d $(DESTDIR)$(mandir)/man$$s && install -m 0644 $$f $(DESTDIR)$(mandir)/man$$s/ \
		|| exit 1; done
	install -d $(DESTDIR)$(sysconfdir)/puente/rules.d.sample
	for f in etc/puente.conf $(wildcard etc/rules.d/*.conf); do \
		case $$f in etc/rules.d/*) d=/rules.d.sample;; *) d=;; esac; \
		t=$(DESTDIR)$(sysconfdir)/puente$$d/$${f##*/}; \
		if [ -e "$$t" ]; then install -m 0644 $$f $$t.dist; else install -m 0644 $$f $$t; fi \
		|| exit 1; done

clean:
	rm -rf build build-*

-include $(shell find $(B) -name '*.d' 2>/dev/null)
