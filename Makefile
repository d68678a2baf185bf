# pressmon — build, test, install.
#
#   make            build build/pressmon
#   make test       install missing deps, run every test, then again under ASan+UBSan
#   make demo       install missing deps, build, record examples/stress.sh, show the run
#   make bench      benchmarks (figures for docs/BENCHMARKS.md)
#   make deps       install missing build/test packages (Debian: apt-get; macOS: brew line)
#   make install    PREFIX=/usr/local DESTDIR=
#   make check-macos  cross-compile and link for aarch64/x86_64 macOS with zig
#   make fuzz       fuzz every parser with libFuzzer (clang) for FUZZ_SECONDS
#
# BUILD=dir puts every product under dir (the sanitizer build uses build/san).

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
SAN       ?=
PKG_CONFIG ?= pkg-config

UNAME_S := $(shell uname -s)
ifeq ($(UNAME_S),Darwin)
PLATFORM ?= darwin
else
PLATFORM ?= linux
endif

# libcurl and libsnappy are compiled against (their headers) but not
# linked: push loads them with dlopen (exporters/curl_dl.c, snappy_dl.c), so
# that the commands that do not push do not load them at every start, nor
# what is behind them (~30 libraries behind libcurl; libstdc++ and libgcc_s
# behind libsnappy).  The remote-write protobuf is written by hand
# (exporters/encode_rw.c): libprotobuf-c is only the unit test's oracle.
PKGS      := sqlite3 jansson zlib
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) libcurl snappy 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

CC      ?= cc
# V=1 shows the full compiler command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 $(WARN) -D_GNU_SOURCE -DPM_VERSION='"$(VERSION)"' -pthread -I. $(PKG_CFLAGS)
# dlopen is in libc on glibc >= 2.34, musl and macOS; older glibc keeps it
# in libdl.  Probe once rather than always adding -ldl (a NEEDED entry).
DL_LIBS := $(shell printf '\043include <dlfcn.h>\nint main(void) { return dlopen("", 0) != 0; }\n' | \
             $(CC) -x c -o /dev/null - 2>/dev/null || echo -ldl)
LDLIBS  += $(PKG_LIBS) $(DL_LIBS) -pthread -lm
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=address,undefined
endif
# The libFuzzer build (make fuzz): the library instrumented for coverage.
ifeq ($(FUZZ),1)
CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=address,undefined
endif

# Every .c in these directories is part of pressmon; the platform directory
# is chosen here and nowhere else.
LIB_SRC := $(wildcard sampler/*.c schema/*.c analysis/*.c exporters/*.c cli/*.c sampler/$(PLATFORM)/*.c)
LIB_SRC := $(filter-out cli/main.c,$(LIB_SRC))
SQL     := $(sort $(wildcard schema/[0-9][0-9][0-9]_*.sql))
GEN_SRC := $(BUILD)/gen/schema_sql.c
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/gen/schema_sql.o
LIB     := $(BUILD)/libpressmon.a
BIN     := $(BUILD)/pressmon

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC)) $(BUILD)/tests/fuzz_replay
FUZZ_SECONDS ?= 60
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all test test-unit test-integration test-san deps demo bench install uninstall clean \
        check-macos lint valgrind test-e2e proto fuzz
all: $(BIN)

$(BUILD)/gen/schema_sql.c: $(SQL) tools/embed-sql.sh
	@mkdir -p $(dir $@)
	$(Q)tools/embed-sql.sh $@ $(SQL)

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BIN): $(BUILD)/obj/cli/main.o $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(CMOCKA_CFLAGS) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_SRC) $(LIB) \
	  $(CMOCKA_LIBS) $(TEST_LIBS) $(LDLIBS)

# test_encode checks the hand-written remote-write protobuf against
# libprotobuf-c (code generated from exporters/remote_write.proto) and
# decompresses with libsnappy, linked: an oracle independent of the code
# under test.  Only this test binary links them.
RW_ORACLE := tests/proto/remote_write.pb-c.c
$(BUILD)/tests/test_encode: $(RW_ORACLE) tests/proto/remote_write.pb-c.h
$(BUILD)/tests/test_encode: TEST_SRC = $(RW_ORACLE)
$(BUILD)/tests/test_encode: TEST_CFLAGS = $(shell $(PKG_CONFIG) --cflags libprotobuf-c snappy 2>/dev/null)
$(BUILD)/tests/test_encode: TEST_LIBS = $(shell $(PKG_CONFIG) --libs libprotobuf-c snappy 2>/dev/null)

# The fuzz target without libFuzzer: replays tests/fuzz/corpus and every
# fixture through every parser (tests/fuzz/fuzz_replay.c).
$(BUILD)/tests/fuzz_replay: tests/fuzz/fuzz_replay.c tests/fuzz/fuzz_parsers.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ tests/fuzz/fuzz_replay.c tests/fuzz/fuzz_parsers.c $(LIB) $(LDLIBS)

$(BUILD)/fuzz_parsers: tests/fuzz/fuzz_parsers.c $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# libFuzzer on every parser, FUZZ_SECONDS (default 60); what it finds is
# left in build/fuzz/crashes/ (tools/fuzz.sh says what to do with it).
fuzz:
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' | \
	  clang -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null || \
	  { echo "make fuzz: clang cannot link libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)"; exit 1; }
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz CC=clang FUZZ=1 $(BUILD)/fuzz/fuzz_parsers
	@tools/fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

deps:
	@tools/deps.sh

# Unit tests run from the repository root so fixtures resolve as tests/fixtures/...
test-unit: $(UNIT_BIN)
	@tools/run-tests.sh unit $(UNIT_BIN)

test-integration: $(BIN)
	@PRESSMON=$(abspath $(BIN)) tools/run-tests.sh integration $(sort $(filter-out %/lib.sh,$(wildcard tests/integration/*.sh)))

# Push and dashboards against real Prometheus, Pushgateway, VictoriaMetrics
# and InfluxDB started on loopback (tools/deps.sh servers installs them).
test-e2e: $(BIN) $(BUILD)/bench/bench_push
	@tools/deps.sh servers
	@PRESSMON=$(abspath $(BIN)) tools/run-tests.sh e2e $(sort $(wildcard tests/e2e/test_*.sh))

# Regenerate the committed protobuf-c code of the remote-write messages, the
# unit test's oracle (tests/proto/remote_write.pb-c.*; pressmon does not use it).
proto:
	protoc-c --proto_path=exporters --c_out=tests/proto exporters/remote_write.proto

# The whole suite once more under AddressSanitizer + UndefinedBehaviorSanitizer.
test-san:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san SAN=1 test-unit test-integration

# e2e after integration, even under -j: its recordings run as root with
# tracefs and take over the instances that kill_stale_instance.sh and
# kill_sibling.sh count as left behind (both failed that way under
# make -j2 test, which ran the two suites at once).
test: deps
	@$(MAKE) --no-print-directory test-unit test-integration
	@$(MAKE) --no-print-directory test-e2e
	@$(MAKE) --no-print-directory test-san
	@echo "make test: all suites passed"

# Unit tests, and pressmon itself recording a small tree and reading it back.
VG := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --child-silent-after-fork=yes
valgrind: $(UNIT_BIN) $(BIN)
	@for t in $(UNIT_BIN); do $(VG) $$t >/dev/null || { echo "valgrind: $$t failed"; exit 1; }; done
	@d=$$(mktemp -d) && trap 'rm -rf $$d' EXIT && \
	  $(VG) $(BIN) record -q --db $$d/v.db -- sh -c 'sleep 0.3 & ls / >/dev/null; wait' && \
	  for c in "show last" "events last" "runs" "diff last last" "prune --dry-run --keep 0" "rm --vacuum last"; do \
	    $(VG) $(BIN) $$c --db $$d/v.db >/dev/null 2>&1 || { echo "valgrind: pressmon $$c failed"; exit 1; }; done
	@echo "valgrind: unit tests and pressmon record/show/events/runs/diff/prune/rm clean"

demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	@tools/demo.sh $(BIN)

bench: deps
	@$(MAKE) --no-print-directory $(BIN) $(BENCH_BIN)
	@tools/bench.sh $(BUILD)

check-macos:
	@tools/check-macos.sh

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 -I. \
	  --suppress=missingIncludeSystem --suppress=unknownMacro \
	  --suppress=uninitvar:sampler/darwin/sys_darwin.c sampler schema cli exporters analysis

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/pressmon
	install -m 0644 man/pressmon.1 $(DESTDIR)$(PREFIX)/share/man/man1/pressmon.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pressmon $(DESTDIR)$(PREFIX)/share/man/man1/pressmon.1

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
