# bmlb: one binary (build/bmlb, BPF programs embedded), its tests, fuzzers
# and benchmarks.
#
#   make            build build/bmlb
#   make demo       set up the machine, build, run the demo on examples/
#   make check      set up the machine, build, run every test suite
#   make bench      build the benchmark programs (bench/ has the scripts)
#   make fuzz-long  run each fuzzer for FUZZ_SECONDS (default 600) by hand
#   make install    put bmlb in $(PREFIX)/sbin

PREFIX ?= /usr/local
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE := -std=c17 -D_GNU_SOURCE -Isrc -Ibuild/bpf $(WARN)
CFLAGS ?= -O2 -g
LIBS := -lyaml -lm -lpthread -lcrypto -lmnl
BPF_LIBS := -lbpf -lelf -lz
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# The pure core (no I/O but reading input files) and the shell around it.
CORE_SRC := $(sort $(wildcard src/lib/*.c src/config/*.c src/k8s/*.c \
	src/ipam/*.c src/announce/*.c src/plan/*.c)) src/dataplane/maglev.c \
	src/dataplane/nexthop.c \
	$(sort $(wildcard src/cpvip/*.c))
SHELL_SRC := src/dataplane/dp.c src/dataplane/neigh.c $(sort $(wildcard src/agent/*.c))
CMD_SRC := src/main.c $(sort $(wildcard src/cmd/*.c))
BPF_SRC := $(sort $(wildcard src/bpf/*.bpf.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
PACKET_SRC := $(sort $(wildcard tests/packet/test_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

OBJ := $(patsubst src/%.c,build/obj/%.o,$(CORE_SRC) $(SHELL_SRC) $(CMD_SRC))
ASAN_CORE_OBJ := $(patsubst src/%.c,build/asan/obj/%.o,$(CORE_SRC))
ASAN_SHELL_OBJ := $(patsubst src/%.c,build/asan/obj/%.o,$(SHELL_SRC))
ASAN_CMD_OBJ := $(patsubst src/%.c,build/asan/obj/%.o,$(CMD_SRC))
BPF_OBJ := $(patsubst src/bpf/%.bpf.c,build/bpf/%.bpf.o,$(BPF_SRC))
SKELS := $(patsubst src/bpf/%.bpf.c,build/bpf/%.skel.h,$(BPF_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,build/asan/%,$(UNIT_SRC))
PACKET_BIN := $(patsubst tests/packet/%.c,build/asan/packet_%,$(PACKET_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
BENCH_BIN := $(patsubst bench/%.c,build/bench/%,$(BENCH_SRC))

all: build/bmlb

build/bmlb: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS) $(BPF_LIBS)

build/obj/%.o: src/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS) -MMD -MP -c -o $@ $<

# BPF: compiled with clang against the running kernel's BTF (vmlinux.h),
# embedded in the binary through bpftool skeletons.
build/bpf/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp
	mv $@.tmp $@

build/bpf/%.bpf.o: src/bpf/%.bpf.c build/bpf/vmlinux.h
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Ibuild/bpf -Isrc \
		-Wall -Werror -MMD -MP -c -o $@ $<

bpf: $(BPF_OBJ) $(SKELS)

build/bpf/%.skel.h: build/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@.tmp
	mv $@.tmp $@

# Tests run on a separately built, sanitized copy of everything; they link
# the core and the shell (data plane, agent) as archives, so each pulls in
# only the modules it uses.
build/asan/obj/%.o: src/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(BASE) -O1 -g $(SAN) -MMD -MP -c -o $@ $<

build/asan/libcore.a: $(ASAN_CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

build/asan/libshell.a: $(ASAN_SHELL_OBJ)
	rm -f $@ && ar rcs $@ $^

ASAN_LIBS := build/asan/libshell.a build/asan/libcore.a

build/asan/bmlb: $(ASAN_CORE_OBJ) $(ASAN_SHELL_OBJ) $(ASAN_CMD_OBJ)
	$(CC) $(SAN) -o $@ $^ $(LIBS) $(BPF_LIBS)

build/asan/test_%: tests/unit/test_%.c tests/unit/helpers.h \
		tests/unit/plan_fixture.h $(ASAN_LIBS)
	@mkdir -p $(@D)
	$(CC) $(BASE) -Itests/unit -O1 -g $(SAN) -o $@ $< $(ASAN_LIBS) \
		$(LIBS) $(BPF_LIBS) -lcmocka

# Packet tests: the BPF programs on crafted frames (BPF_PROG_TEST_RUN).
build/asan/packet_%: tests/packet/%.c tests/packet/frames.h tests/packet/netns.h \
		$(SKELS) \
		tests/packet/run.h \
		$(ASAN_LIBS)
	$(CC) $(BASE) -Itests/packet -O1 -g $(SAN) -o $@ $< $(ASAN_LIBS) \
		$(LIBS) $(BPF_LIBS) -lcmocka

# libFuzzer targets need clang.
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -Isrc -O1 -g -fno-omit-frame-pointer
build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined \
		-MMD -MP -c -o $@ $<

build/fuzz/libcore.a: $(patsubst src/%.c,build/fuzz/obj/%.o,$(CORE_SRC))
	rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libcore.a
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
		build/fuzz/libcore.a $(LIBS)

# Benchmarks link the optimized core (and the data plane) as an archive.
build/libcore.a: $(patsubst src/%.c,build/obj/%.o,$(CORE_SRC) $(SHELL_SRC))
	rm -f $@ && ar rcs $@ $^

build/bench/%: bench/%.c build/libcore.a
	@mkdir -p $(@D)
	$(CC) $(BASE) -Itests/packet $(CFLAGS) -o $@ $< build/libcore.a \
		$(LIBS) $(BPF_LIBS)

bench: build/bmlb bpf $(BENCH_BIN)

tests: build/bmlb bpf build/asan/bmlb $(UNIT_BIN) $(PACKET_BIN) $(FUZZ_BIN) \
	$(BENCH_BIN)

setup:
	@./scripts/setup

check:
	@./scripts/setup
	@$(MAKE) --no-print-directory -j2 tests
	@./tests/run

demo:
	@./scripts/setup
	@$(MAKE) --no-print-directory -j2 build/bmlb bpf
	@./scripts/demo

fuzz-long: $(FUZZ_BIN)
	@./tests/fuzz/run $${FUZZ_SECONDS:-600}

install: build/bmlb
	install -D -m 0755 build/bmlb $(DESTDIR)$(PREFIX)/sbin/bmlb

clean:
	rm -rf build

.PHONY: all bpf bench tests setup check demo fuzz-long install clean
-include $(shell find build -name '*.d' 2>/dev/null)
