# smsgw build. `make` builds build/smsgw; `make test` installs what is missing, builds and runs
# every test; `make run` starts the local operator, a handset and the gateway.
# Each build type has its own directory: build/ (release), build-asan/, build-tsan/.

B        ?= build
CC       ?= cc
PKGS     := libmicrohttpd jansson sofia-sip-ua openssl sqlite3 inih libcurl
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# Library headers go on -isystem so that our strict warnings apply to our code only.
PKG_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS)))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread

WARN     := -Werror -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes \
            -Wmissing-prototypes -Wold-style-definition -Wformat=2 -Wvla -Wcast-qual \
            -Wwrite-strings -Wundef -Wimplicit-fallthrough -Wnull-dereference
HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
OPT      ?= -O2 -g $(HARDEN)
SAN      ?=
CFLAGS   := -std=c11 -D_GNU_SOURCE -DGW_VERSION='"$(VERSION)"' -I. $(OPT) $(SAN) $(WARN)
LDFLAGS  := -pie -Wl,-z,relro,-z,now $(SAN)

LIB_SRC  := $(filter-out gateway/main.c,$(wildcard gateway/*.c sip/*.c http/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
MAIN_OBJ := $(B)/obj/gateway/main.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
ALL_SRC  := $(wildcard gateway/*.[ch] sip/*.[ch] http/*.[ch] tests/unit/*.[ch] tests/tools/*.c)

.PHONY: all deps test check check-unit check-integration run asan tsan fuzz lint format \
        format-check bench clean
.DELETE_ON_ERROR:
.SECONDARY:

all: $(B)/smsgw $(UNIT_BIN) $(TOOL_BIN)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(B)/libsmsgw.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/smsgw: $(MAIN_OBJ) $(B)/libsmsgw.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(B)/libsmsgw.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

$(B)/tools/%: $(B)/obj/tests/tools/%.o $(B)/libsmsgw.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_SRC:tests/unit/%.c=$(B)/obj/tests/unit/%.d)

# Installs the Debian packages that are missing (no-op when all are there).
deps:
	@deploy/install-deps.sh

# The suite: unit tests (cmocka, TAP) and integration tests (real Kamailio, sipp, curl),
# all under one prove run that ends with its summary line.
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory check

check: all
	CMOCKA_MESSAGE_OUTPUT=TAP SMSGW_BUILD=$(B) prove --exec '' --timer \
	    $(UNIT_BIN) $(wildcard tests/integration/[0-9]*.sh)

check-unit: $(UNIT_BIN)
	CMOCKA_MESSAGE_OUTPUT=TAP prove --exec '' $(UNIT_BIN)

check-integration: all
	SMSGW_BUILD=$(B) prove --exec '' --timer $(wildcard tests/integration/[0-9]*.sh)

run: deps
	@$(MAKE) --no-print-directory $(B)/smsgw
	@SMSGW_BUILD=$(B) deploy/run-local.sh

asan: deps
	@$(MAKE) --no-print-directory B=build-asan OPT='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' check

tsan: deps
	@$(MAKE) --no-print-directory B=build-tsan OPT='-O1 -g' SAN='-fsanitize=thread' check

# libFuzzer targets (clang + libclang-rt-14-dev), each run briefly on its seed corpus.
FUZZ_TIME ?= 20
fuzz:
	@mkdir -p build-fuzz
	@for t in $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)); do \
	    clang -std=c11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined \
	        -fno-sanitize-recover=all gateway/$$t.c tests/fuzz/fuzz_$$t.c -o build-fuzz/fuzz_$$t \
	    && mkdir -p build-fuzz/corpus-$$t \
	    && build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) build-fuzz/corpus-$$t \
	        tests/fuzz/corpus/$$t || exit 1; \
	done

lint:
	cppcheck --enable=warning,portability --error-exitcode=1 --inline-suppr --quiet \
	    -I. -D__GNUC__ --std=c11 gateway sip http
	clang-tidy --quiet $(filter %.c,$(ALL_SRC)) -- -std=c11 -D_GNU_SOURCE -DGW_VERSION='"lint"' -I. \
	    $(PKG_CFLAGS)

format:
	clang-format -i $(ALL_SRC)

format-check:
	clang-format --dry-run --Werror $(ALL_SRC)

bench: deps
	@$(MAKE) --no-print-directory all
	@SMSGW_BUILD=$(B) tests/bench/run.sh

clean:
	rm -rf build build-asan build-tsan
