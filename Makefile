# vmemstress: `make` builds the host and guest programs, `make check` runs
# the unit tests and the VM integration tests. See README.md.

VERSION := 0.1.0
BUILD   ?= build
CC      ?= gcc
WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter -Wno-format-truncation
CFLAGS  ?= -O2 -g
CFLAGS  += $(WARN) -std=gnu11 -DVMS_VERSION='"$(VERSION)"' $(EXTRA_CFLAGS)
PKGS_HOST := json-c inih libvirt libvirt-qemu libxml-2.0 libcrypto
HOST_CFLAGS := $(shell pkg-config --cflags $(PKGS_HOST) 2>/dev/null)
HOST_LIBS   := $(shell pkg-config --libs $(PKGS_HOST) 2>/dev/null)

COMMON_SRCS := $(wildcard common/*.c)
GUEST_SRCS := $(wildcard guest/*.c) $(COMMON_SRCS)
# The host is one folder per concern (README.md, "Layout") and main.c; a
# new folder needs no change here. Its includes name a path from host/
# ("vm/qmp.h", "../common/err.h"): -Ihost is that root for everything that
# includes a host header.
HOST_INC := -Ihost
HOST_LIB_SRCS := $(wildcard host/*/*.c) $(COMMON_SRCS)
# A population is one guest/pop-<name>.c: the host takes only its spec
# (common/population-spec.h), compiled with VMS_SPEC_ONLY.
POP_SRCS   := $(wildcard guest/pop-*.c)
SPEC_OBJS  := $(patsubst guest/%.c,$(BUILD)/obj/spec/%.o,$(POP_SRCS))
HOST_SRCS  := $(HOST_LIB_SRCS) host/main.c
UNIT_SRCS  := $(wildcard tests/unit/test-*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

HEADERS := $(wildcard common/*.h host/*/*.h guest/*.h)

.PHONY: all host guest check unit check-man hostile integration check-thp-bug check-known-bugs fuzz check-asan bench install clean
all: host guest
host: $(BUILD)/vmemstress
guest: $(BUILD)/vmemstress-guest

# The host's code is compiled once into objects and an archive that the
# program and every unit test link against (a header change rebuilds all).
HOST_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(HOST_LIB_SRCS))
HOST_LIB  := $(BUILD)/libvmemstress-host.a

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(HOST_CFLAGS) $(HOST_INC) -c -o $@ $<

$(BUILD)/obj/spec/%.o: guest/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(HOST_CFLAGS) -DVMS_SPEC_ONLY -c -o $@ $<

$(HOST_LIB): $(HOST_OBJS) $(SPEC_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/vmemstress: host/main.c $(HOST_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(HOST_CFLAGS) $(HOST_INC) -o $@ host/main.c $(HOST_LIB) $(HOST_LIBS) -lm $(EXTRA_LDFLAGS)

# The guest is PID 1 in an initramfs with no libraries: link it statically.
$(BUILD)/vmemstress-guest: $(GUEST_SRCS) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static $(shell pkg-config --cflags json-c) -o $@ $(GUEST_SRCS) \
		-Wl,-Bstatic -ljson-c -lnuma -luring -lbpf -lelf -lz -lzstd

$(BUILD)/tests/%: tests/unit/%.c $(HOST_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(HOST_CFLAGS) $(HOST_INC) -DSRCDIR='"$(CURDIR)"' -o $@ $< $(HOST_LIB) $(HOST_LIBS) -lcmocka -lm

# Guest code that needs no VM (stamps, sampled verify, held blocks, the
# trace's isolation refusals), built
# for the host with the guest's own files.
GUEST_UNIT_SRCS := guest/population.c guest/stamp.c guest/util.c guest/pageinfo.c guest/region.c guest/evidence.c
$(BUILD)/tests/test-guest: tests/unit/test-guest.c $(GUEST_UNIT_SRCS) $(COMMON_SRCS) $(SPEC_OBJS) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags json-c) -o $@ tests/unit/test-guest.c $(GUEST_UNIT_SRCS) \
		$(COMMON_SRCS) $(SPEC_OBJS) -ljson-c -lnuma -lcmocka

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

# The shell runners write KTAP (tests/lib.sh); a copy of each log goes to
# build/ and the kernel's own KTAP parser must read it as the runner
# counted (tests/check-ktap-log.sh).
KTAP_RUN = rc=0; bash -o pipefail -c '$(1) | tee $(BUILD)/$(2).ktap' || rc=$$?; \
	tests/check-ktap-log.sh $(BUILD)/$(2).ktap || rc=1; exit $$rc

integration: all
	@$(call KTAP_RUN,tests/integration/run.sh,integration)

# Hostile guests and command lines without a VM: a stand-in QEMU with
# scripted guests (tests/hostile/fake-qemu.py), about 10 s.
hostile: all
	@$(call KTAP_RUN,tests/hostile/run.sh,hostile)

# The man page against --help (every option, its short form and argument,
# the population types, the exit statuses) and rendered with groff -ww,
# then the same check on broken copies, which must fail. A second or two.
check-man: host
	@tests/man/check-man.sh $(BUILD)/vmemstress vmemstress.1
	@tests/man/selftest.sh $(BUILD)/vmemstress vmemstress.1

check: unit check-man hostile integration

# Opt-in (builds two kernels from source: README.md has the times): the THP
# mapcount bug must be detected by name every time, the fixed kernel pass.
check-thp-bug: all
	@tests/thp-bug/run.sh

# Every known bug with a reproducer (check-thp-bug among them), on kernels
# built from Debian's linux-source-6.1 with and without the bug: RUNS=N
# runs of each (default 5), ONLY=NAME for one bug.
check-known-bugs: all
	@tests/known-bugs/run.sh

# libFuzzer harnesses (clang) for the scenario parser, the host's parser of
# guest messages and the suite result's readers (baseline, JUnit/KTAP/HTML), with ASan+UBSan. FUZZ_SECONDS per harness.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(BUILD)/fuzz/%: tests/fuzz/%.c $(HOST_LIB_SRCS) $(POP_SRCS) $(HEADERS)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -std=gnu11 $(HOST_CFLAGS) $(HOST_INC) -DVMS_SPEC_ONLY -o $@ $< $(HOST_LIB_SRCS) $(POP_SRCS) \
		$(HOST_LIBS) -lm

fuzz: $(BUILD)/fuzz/fuzz-scenario $(BUILD)/fuzz/fuzz-guest-message $(BUILD)/fuzz/fuzz-suite-report
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

# The host program and the unit tests built with ASan+UBSan, running the
# unit tests and the VM integration tests (the guest stays as it is: it is
# static and runs in the VM).
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
check-asan: guest
	$(MAKE) -s BUILD=$(BUILD)/asan EXTRA_CFLAGS="$(SAN_FLAGS)" host $(patsubst $(BUILD)/%,$(BUILD)/asan/%,$(UNIT_BINS))
	@tests/run-unit.sh $(patsubst $(BUILD)/%,$(BUILD)/asan/%,$(UNIT_BINS))
	@VMS_HOST=$(BUILD)/asan/vmemstress tests/hostile/run.sh
	@VMS_SANITIZED=1 VMS_HOST=$(BUILD)/asan/vmemstress tests/integration/run.sh

# Figures, never assertions: README.md, "Speed", records them.
bench: all
	@tests/bench/run.sh

# The host program and its man page (PREFIX/bin, PREFIX/share/man/man1;
# DESTDIR for staging). ./run.sh, the guest program and the kernel images
# stay in the source tree: the installed program takes --kernel and
# --initrd built there.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
install: host
	install -D -m 0755 $(BUILD)/vmemstress $(DESTDIR)$(BINDIR)/vmemstress
	install -D -m 0644 vmemstress.1 $(DESTDIR)$(MANDIR)/man1/vmemstress.1

clean:
	rm -rf $(BUILD)/vmemstress $(BUILD)/vmemstress-guest $(BUILD)/tests $(BUILD)/obj $(HOST_LIB)
