# bmlb: one binary (build/bmlb), its tests, fuzzers and benchmarks.
#
#   make            build build/bmlb
#   make demo       set up the machine, build, run the demo on examples/
#   make check      set up the machine, build, run every test suite
#   make fuzz-long  run each fuzzer for FUZZ_SECONDS (default 600) by hand
#   make install    put bmlb in $(PREFIX)/sbin

PREFIX ?= /usr/local
CC ?= gcc
CLANG ?= clang

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE := -std=c17 -D_GNU_SOURCE -Isrc $(WARN)
CFLAGS ?= -O2 -g
LIBS := -lyaml -lm -lpthread
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

CORE_SRC := $(sort $(wildcard src/lib/*.c src/config/*.c src/k8s/*.c \
	src/ipam/*.c src/announce/*.c src/plan/*.c))
CMD_SRC := src/main.c $(sort $(wildcard src/cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

OBJ := $(patsubst src/%.c,build/obj/%.o,$(CORE_SRC) $(CMD_SRC))
ASAN_CORE_OBJ := $(patsubst src/%.c,build/asan/obj/%.o,$(CORE_SRC))
ASAN_CMD_OBJ := $(patsubst src/%.c,build/asan/obj/%.o,$(CMD_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,build/asan/%,$(UNIT_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

all: build/bmlb

build/bmlb: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

build/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS) -MMD -MP -c -o $@ $<

# Tests run on a separately built, sanitized copy of everything.
build/asan/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE) -O1 -g $(SAN) -MMD -MP -c -o $@ $<

build/asan/bmlb: $(ASAN_CORE_OBJ) $(ASAN_CMD_OBJ)
	$(CC) $(SAN) -o $@ $^ $(LIBS)

# Tests and fuzzers link the core as an archive: each pulls in only the
# modules it uses.
build/asan/libcore.a: $(ASAN_CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

build/asan/test_%: tests/unit/test_%.c tests/unit/helpers.h build/asan/libcore.a
	@mkdir -p $(@D)
	$(CC) $(BASE) -Itests/unit -O1 -g $(SAN) -o $@ $< build/asan/libcore.a \
		$(LIBS) -lcmocka

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

tests: build/bmlb build/asan/bmlb $(UNIT_BIN) $(FUZZ_BIN)

setup:
	@./scripts/setup

check:
	@./scripts/setup
	@$(MAKE) --no-print-directory -j2 tests
	@./tests/run

demo:
	@./scripts/setup
	@$(MAKE) --no-print-directory -j2 build/bmlb
	@./scripts/demo

fuzz-long: $(FUZZ_BIN)
	@./tests/fuzz/run $${FUZZ_SECONDS:-600}

install: build/bmlb
	install -D -m 0755 build/bmlb $(DESTDIR)$(PREFIX)/sbin/bmlb

clean:
	rm -rf build

.PHONY: all tests setup check demo fuzz-long install clean
-include $(shell find build -name '*.d' 2>/dev/null)
