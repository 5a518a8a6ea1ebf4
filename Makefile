# SPDX-License-Identifier: MIT
# segget - build, test, run and install.
#
#   make                  build build/segget and build/libsegget.a
#   make run [URL=..] [ARGS=..]   install deps if missing, build, download
#                         (without URL: from a bundled local nginx)
#   make test             unit + integration tests (starts its own servers),
#                         plainly and under ASan/UBSan
#   make test-fast        the same, plainly only
#   make test-slurm       the Slurm job-array test alone (tests/slurm/run)
#   make fuzz             libFuzzer on every parser (FUZZ_SECONDS each)
#   make install PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
B       := build$(if $(SANITIZE),/san)
VERSION := $(shell sed -n 's/^\#define SG_VERSION "\(.*\)"/\1/p' include/segget.h)

PKGS        := libcurl sqlite3 libcrypto zlib
PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SG_CFLAGS   := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 \
               -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
               -Iinclude -MMD -MP -pthread
ifneq ($(SANITIZE),)
SG_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
SG_LDFLAGS += -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS   = $(SG_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)
LIBS         = $(PKG_LIBS) -pthread

# lib/ is libsegget, cli/ the command-line tool (it sees only segget.h).
LIB_SRC := $(wildcard lib/*.c)
CLI_SRC := $(wildcard cli/*.c)
LIB_OBJ := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
CLI_OBJ := $(CLI_SRC:cli/%.c=$(B)/cli/%.o)

TEST_SRC  := $(wildcard tests/unit/*.c) $(wildcard tests/integration/*.c) \
             $(wildcard tests/support/*.c)
TEST_OBJ  := $(TEST_SRC:tests/%.c=$(B)/tobj/%.o)
TEST_BIN  := $(B)/segget-tests

.PHONY: all test test-fast test-slurm unit run deps clean install uninstall \
	format fuzz
all: $(B)/segget $(B)/libsegget.a

# The library is compiled with hidden visibility: only what segget.h marks
# SG_API is exported.  Its objects are linked into one relocatable object
# whose hidden symbols are made local, so libsegget.a exports sg_* alone.
$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -c $< -o $@

$(B)/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libsegget.a: $(LIB_OBJ)
	rm -f $@ $(B)/segget.o
	$(LD) -r -o $(B)/segget.o $^
	objcopy --localize-hidden $(B)/segget.o
	ar rcs $@ $(B)/segget.o

$(B)/segget: $(CLI_OBJ) $(B)/libsegget.a
	$(CC) $(SG_LDFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libsegget.a $(LIBS)

$(B)/tobj/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib -Itests/support -c $< -o $@

# Unit tests reach internal functions, so they link the objects, not the
# archive that hides them.
$(TEST_BIN): $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(SG_LDFLAGS) $(LDFLAGS) -o $@ $(TEST_OBJ) $(LIB_OBJ) \
		$(LIBS) -lcriterion

# The fault server: options, connections and logs; its responses; the
# checksums it declares (OpenSSL and zlib compute them).
FAULTSRV_SRC := tests/faultsrv/faultsrv.c tests/faultsrv/faultsrv_resp.c \
		tests/faultsrv/faultsrv_declare.c
$(B)/faultsrv: $(FAULTSRV_SRC) tests/faultsrv/faultsrv.h \
		tests/support/content.h
	@mkdir -p $(@D)
	$(CC) $(SG_CFLAGS) -D_GNU_SOURCE \
		$(shell pkg-config --cflags libcrypto zlib 2>/dev/null) \
		$(CFLAGS) $(SG_LDFLAGS) -o $@ $(FAULTSRV_SRC) -pthread \
		$(shell pkg-config --libs libcrypto zlib 2>/dev/null || \
			echo -lcrypto -lz)

$(B)/failsync.so: tests/shim/failsync.c
	@mkdir -p $(@D)
	$(CC) -Wall -Wextra -O2 -shared -fPIC -o $@ $< -ldl

# make test: the whole suite, then the whole suite again under ASan and
# UBSan (in build/san).  make test-fast: the first pass only.  The
# integration tests run build/segget and start nginx and the fault server
# themselves; the output of every segget they run with --json is checked
# against doc/segget-events.schema.json by tests/validate-events (python3
# and its jsonschema module, which deps installs).
test: test-fast
ifeq ($(SANITIZE),)
	$(MAKE) --no-print-directory SANITIZE=address,undefined test-fast
endif

test-fast: deps all $(TEST_BIN) $(B)/faultsrv $(B)/failsync.so
	SEGGET_BIN=$(CURDIR)/$(B)/segget FAULTSRV_BIN=$(CURDIR)/$(B)/faultsrv \
	$(if $(SANITIZE),SG_TEST_SANITIZED=1) \
	FAILSYNC_SO=$(CURDIR)/$(B)/failsync.so \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	$(TEST_BIN) -j2 --timeout 300 $(TESTARGS)

# A one-node Slurm cluster (Debian's slurm-wlm and munge, configured in a
# temporary directory) running segget as a job array; make test runs it
# too, in the plain pass (tests/integration/test_slurm.c).
test-slurm: deps all
	SEGGET_BIN=$(CURDIR)/$(B)/segget tests/slurm/run

# Only the pure unit suites (no servers).
unit: all $(TEST_BIN)
	$(TEST_BIN) --filter='unit_*/*' $(TESTARGS)

# libFuzzer harnesses for every parser, each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 20
FUZZERS := hdr resp judge name queue digest
FUZZ_DIGEST := lib/digest.c lib/sfv.c lib/checksum.c lib/err.c lib/util.c \
               -lcrypto -lz
FUZZ_SRC_hdr := lib/hdr.c
FUZZ_SRC_resp := lib/resp.c lib/hdr.c $(FUZZ_DIGEST)
FUZZ_SRC_judge := lib/judge.c lib/policy.c lib/resp.c lib/hdr.c $(FUZZ_DIGEST)
FUZZ_SRC_digest := lib/hdr.c $(FUZZ_DIGEST)
FUZZ_SRC_name := lib/name.c lib/util.c
FUZZ_SRC_queue := lib/queue.c lib/checksum.c lib/err.c lib/util.c -lcrypto -lz
fuzz:
	@mkdir -p $(B)/fuzz
	@for f in $(FUZZERS); do \
	  srcs=$$(case $$f in hdr) echo "$(FUZZ_SRC_hdr)";; \
	    resp) echo "$(FUZZ_SRC_resp)";; name) echo "$(FUZZ_SRC_name)";; \
	    judge) echo "$(FUZZ_SRC_judge)";; \
	    queue) echo "$(FUZZ_SRC_queue)";; \
	    digest) echo "$(FUZZ_SRC_digest)";; esac); \
	  clang -g -O1 -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -Iinclude -Ilib -o $(B)/fuzz/fuzz_$$f tests/fuzz/fuzz_$$f.c $$srcs \
	    || exit 1; \
	  mkdir -p $(B)/fuzz/corpus_$$f; \
	  $(B)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    $(B)/fuzz/corpus_$$f tests/fuzz/corpus/$$f 2>&1 | tail -n 2 || exit 1; \
	done

deps:
	@scripts/deps

run: deps all
	@scripts/run "$(URL)" $(ARGS)

# The --json event schema goes to share/segget, where a consumer can find
# it next to the manual page that names it.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/segget
	install -m 755 $(B)/segget $(DESTDIR)$(PREFIX)/bin/segget
	install -m 644 $(B)/libsegget.a $(DESTDIR)$(PREFIX)/lib/libsegget.a
	install -m 644 include/segget.h $(DESTDIR)$(PREFIX)/include/segget.h
	install -m 644 man/segget.1 $(DESTDIR)$(PREFIX)/share/man/man1/segget.1
	install -m 644 completions/segget.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/segget
	install -m 644 completions/_segget \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_segget
	install -m 644 doc/segget-events.schema.json \
		$(DESTDIR)$(PREFIX)/share/segget/segget-events.schema.json
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' \
		'includedir=$${prefix}/include' '' 'Name: segget' \
		'Description: parallel segmented downloads that resume' \
		'Version: $(VERSION)' 'Requires: $(PKGS)' \
		'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lsegget -pthread' \
		>$(DESTDIR)$(PREFIX)/lib/pkgconfig/segget.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/segget \
		$(DESTDIR)$(PREFIX)/lib/libsegget.a \
		$(DESTDIR)$(PREFIX)/include/segget.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/segget.pc \
		$(DESTDIR)$(PREFIX)/share/man/man1/segget.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/segget \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_segget \
		$(DESTDIR)$(PREFIX)/share/segget/segget-events.schema.json
	rmdir $(DESTDIR)$(PREFIX)/share/segget 2>/dev/null || true

format:
	clang-format -i lib/*.c lib/*.h cli/*.c cli/*.h include/*.h tests/*/*.c tests/*/*.h

clean:
	rm -rf $(B)

-include $(wildcard $(B)/lib/*.d $(B)/cli/*.d $(B)/tobj/*/*.d)
