# Build, test and install sysmon.
#
#   make            build/sysmon (and the eBPF skeletons it embeds)
#   make check      unit tests (cmocka) and end-to-end tests (pytest, as root)
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each
#   make bench      build the benchmarks under bench/
#   make deps       install the Debian packages the build and the tests need
#   make install    PREFIX (default /usr) and DESTDIR are honoured
#
# Sources are found by directory: every src/<stage>/*.c goes into
# build/libsysmon.a, src/cli/main.c is the program, tests/unit/test_*.c are
# test programs, fuzz/fuzz_*.c are fuzz targets, bench/*.c are benchmarks.

PREFIX    ?= /usr
DESTDIR   ?=
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool
FUZZ_SECONDS ?= 60

PKGS      := libxml-2.0 sqlite3 libssl libcrypto libbpf relp
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Ibuild \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lpthread -lm

ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_SRC   := $(wildcard src/bpf/*.bpf.c)
BPF_SKELS := $(patsubst src/bpf/%.bpf.c,build/%.skel.h,$(BPF_SRC))

LIB_SRC   := $(filter-out src/cli/main.c src/bpf/%,$(wildcard src/*/*.c))
LIB_OBJ   := $(patsubst src/%.c,build/obj/%.o,$(LIB_SRC))
TEST_SRC  := $(wildcard tests/unit/test_*.c)
TESTS     := $(patsubst tests/unit/%.c,build/tests/%,$(TEST_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCHES   := $(patsubst bench/%.c,build/bench/%,$(BENCH_SRC))
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)
FUZZERS   := $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

.PHONY: all check unit e2e fuzz bench deps install uninstall clean
all: build/sysmon

build/vmlinux.h:
	@mkdir -p build
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

build/%.bpf.o: src/bpf/%.bpf.c $(wildcard src/bpf/*.h) build/vmlinux.h
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibuild -Isrc -c $< -o $@

build/%.skel.h: build/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

build/obj/%.o: src/%.c $(wildcard src/*/*.h) | $(BPF_SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The capture sources embed their eBPF object (skeleton): rebuild them when it changes.
$(filter build/obj/capture/%,$(LIB_OBJ)): $(BPF_SKELS)

build/libsysmon.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

build/sysmon: src/cli/main.c build/libsysmon.a
	$(CC) $(CFLAGS) $< build/libsysmon.a $(LDLIBS) -o $@

build/tests/%: tests/unit/%.c build/libsysmon.a $(wildcard tests/unit/*.h)
	@mkdir -p build/tests
	$(CC) $(CFLAGS) -Itests/unit $< build/libsysmon.a $(LDLIBS) -lcmocka -o $@

build/bench/%: bench/%.c bench/lib/harness.c bench/lib/harness.h build/libsysmon.a
	@mkdir -p build/bench
	$(CC) $(CFLAGS) -Ibench/lib $< bench/lib/harness.c build/libsysmon.a $(LDLIBS) -o $@

# Fuzz targets are built with clang, libFuzzer and ASan/UBSan over every
# library source (not the eBPF loader objects, which need the kernel).
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -Ibuild -fsanitize=fuzzer,address,undefined \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_LIB_SRC := $(filter-out src/cli/% src/capture/% src/service/%,$(LIB_SRC))
build/fuzz/%: fuzz/%.c $(FUZZ_LIB_SRC) $(wildcard src/*/*.h) | $(BPF_SKELS)
	@mkdir -p build/fuzz
	$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_LIB_SRC) $(LDLIBS) -o $@

bench: $(BENCHES)

fuzz: $(FUZZERS)
	tests/run-fuzzers.sh $(FUZZ_SECONDS) $(FUZZERS)

unit: $(TESTS) build/sysmon
	tests/run-unit.sh $(TESTS)

check: all $(TESTS) $(BENCHES)
	tests/run-all.sh $(TESTS)

deps:
	tests/install-deps.sh

install: build/sysmon
	install -D -m 0755 build/sysmon $(DESTDIR)$(PREFIX)/bin/sysmon
	install -D -m 0644 man/sysmon.8 $(DESTDIR)$(PREFIX)/share/man/man8/sysmon.8

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/sysmon $(DESTDIR)$(PREFIX)/share/man/man8/sysmon.8

clean:
	rm -rf build
