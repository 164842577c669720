# Build, test and install sysmon.
#
#   make            build/sysmon (and the eBPF skeletons it embeds)
#   make check      unit tests (cmocka) and end-to-end tests (pytest, as root),
#                   and part of them on Debian 12's kernel under qemu
#   make kernels    the end-to-end tests on every kernel of tests/kernels/matrix.txt
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each
#   make bench      build the benchmarks under bench/
#   make deps       install the Debian packages the build and the tests need
#   make install    PREFIX (default /usr) and DESTDIR are honoured
#
# Sources are found by directory: every src/<stage>/*.c goes into
# build/libsysmon.a, src/cli/main.c is the program, tests/unit/test_*.c are
# test programs, fuzz/fuzz_*.c are fuzz targets, bench/*.c are benchmarks.
# CFLAGS, CPPFLAGS and LDFLAGS are the user's: `make CFLAGS='-O0 -g'` adds
# to the flags the build needs (SYSMON_CFLAGS), it does not replace them.
# Every compile writes a .d file beside its output (-MMD -MP), so a changed
# header rebuilds exactly what includes it.

PREFIX    ?= /usr
DESTDIR   ?=
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool
FUZZ_SECONDS ?= 60

PKGS      := libxml-2.0 sqlite3 libssl libcrypto libbpf relp
CFLAGS    ?= -O2 -g
SYSMON_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Ibuild \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(SYSMON_CFLAGS) $(CPPFLAGS) $(CFLAGS)
DEPFLAGS  = -MMD -MP -MF $@.d
LDLIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -llzma -lpthread -lm

ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_SRC   := $(wildcard src/bpf/*.bpf.c)
BPF_OBJS  := $(patsubst src/bpf/%.bpf.c,build/%.bpf.o,$(BPF_SRC))
BPF_SKELS := $(patsubst src/bpf/%.bpf.c,build/%.skel.h,$(BPF_SRC))
BPF_CFLAGS := -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -Ibuild -Isrc

LIB_SRC   := $(filter-out src/cli/main.c src/bpf/%,$(wildcard src/*/*.c))
LIB_OBJ   := $(patsubst src/%.c,build/obj/%.o,$(LIB_SRC))
TEST_SRC  := $(wildcard tests/unit/test_*.c)
TESTS     := $(patsubst tests/unit/%.c,build/tests/%,$(TEST_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCHES   := $(patsubst bench/%.c,build/bench/%,$(BENCH_SRC))
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)
FUZZERS   := $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
# Fuzz targets are built with clang, libFuzzer and ASan/UBSan; the library
# sources they exercise (not the eBPF loaders, the service or the CLI, which
# need the kernel) are compiled once into build/fuzz/libsysmon-fuzz.a.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc -Ibuild -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_LIB_SRC := $(filter-out src/cli/% src/service/% $(filter-out %decode.c,$(wildcard src/capture/*.c)),$(LIB_SRC))
FUZZ_LIB_OBJ := $(patsubst src/%.c,build/fuzz/obj/%.o,$(FUZZ_LIB_SRC))

.PHONY: all check kernels unit e2e fuzz bench deps install uninstall clean
all: build/sysmon

build/vmlinux.h:
	@mkdir -p build
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

build/%.bpf.o: src/bpf/%.bpf.c build/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

# Kept after the build (they are only an intermediate of the skeletons): a
# later make neither rebuilds them nor the skeletons and what embeds them.
.SECONDARY: $(BPF_OBJS)

build/%.skel.h: build/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

# The capture sources include their eBPF skeleton: on a first build it must
# exist before they compile (later, their .d files name it).
$(filter build/obj/capture/%,$(LIB_OBJ)): | $(BPF_SKELS)

build/libsysmon.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

build/sysmon: src/cli/main.c build/libsysmon.a
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $< build/libsysmon.a $(LDFLAGS) $(LDLIBS) -o $@

build/tests/%: tests/unit/%.c build/libsysmon.a
	@mkdir -p build/tests
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Itests/unit $< build/libsysmon.a $(LDFLAGS) $(LDLIBS) -lcmocka -o $@

build/bench/lib/harness.o: bench/lib/harness.c
	@mkdir -p build/bench/lib
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Ibench/lib -c $< -o $@

build/bench/%: bench/%.c build/bench/lib/harness.o build/libsysmon.a
	@mkdir -p build/bench
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -Ibench/lib $< build/bench/lib/harness.o build/libsysmon.a \
	      $(LDFLAGS) $(LDLIBS) -o $@

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@

build/fuzz/libsysmon-fuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

build/fuzz/%: fuzz/%.c build/fuzz/libsysmon-fuzz.a
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(DEPFLAGS) $< build/fuzz/libsysmon-fuzz.a $(LDLIBS) -o $@

bench: $(BENCHES)

fuzz: $(FUZZERS)
	tests/run-fuzzers.sh $(FUZZ_SECONDS) $(FUZZERS)

unit: $(TESTS) build/sysmon
	tests/run-unit.sh $(TESTS)

check: all $(TESTS) $(BENCHES)
	tests/run-all.sh $(TESTS)

kernels: all
	tests/kernels/run.sh

deps:
	tests/install-deps.sh

install: build/sysmon
	install -D -m 0755 build/sysmon $(DESTDIR)$(PREFIX)/bin/sysmon
	install -D -m 0644 man/sysmon.8 $(DESTDIR)$(PREFIX)/share/man/man8/sysmon.8

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/sysmon $(DESTDIR)$(PREFIX)/share/man/man8/sysmon.8

clean:
	rm -rf build

-include $(wildcard build/*.d build/obj/*/*.d build/tests/*.d build/bench/*.d build/bench/lib/*.d \
                   build/fuzz/*.d build/fuzz/obj/*/*.d)
