# Makefile: builds the programs (worker, token helper, log-output, launcher); runs, tests, benches.
# `make run` and `make test` install what is missing first (tools/deps).

CC	?= cc
SAN	?= 0
BUILD	?= build
ifeq ($(SAN),1)
BUILD	:= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif

WARN	 = -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	   -Wshadow -Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 \
	   -Werror=format-security
# CFLAGS and LDFLAGS are the user's (optimisation, debugging: `make
# CFLAGS=-O0`); the project's own flags live in PP_CFLAGS and PP_LDFLAGS,
# which `override` keeps whatever the command line says, so no build ever
# loses the standard, the include paths or the warnings (t/43-build-flags.t).
CFLAGS	?= -O2 -g
# _FORTIFY_SOURCE needs the optimiser (glibc warns, -Werror stops, at -O0).
FORTIFY	 = $(if $(filter-out -O0,$(filter -O%,$(CFLAGS))),-D_FORTIFY_SOURCE=2)
override PP_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(FORTIFY) \
	   -fstack-protector-strong -pthread $(SANFLAGS) \
	   -Icommon -I$(BUILD) -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
override PP_LDFLAGS = -pthread $(SANFLAGS)

# The settings (common/config.c's table and the files split from it).
CONFIG_SRC = common/dotenv.c common/config.c common/configvalue.c common/configfile.c \
	     common/configwarn.c common/configderive.c common/configprint.c common/configcli.c
CONFIG_OBJ = $(CONFIG_SRC:%.c=$(BUILD)/%.o)
COMMON_SRC = common/log.c $(CONFIG_SRC) common/fcgistart.c common/fcgiserve.c \
	     common/httpanswer.c common/stopsignals.c common/smallfile.c common/counterfile.c \
	     common/privdrop.c common/safefile.c common/answers.c
WORKER_SRC = fcgi/main.c fcgi/routes.c fcgi/dbthread.c fcgi/db.c fcgi/dbconn.c fcgi/dbwait.c \
	     fcgi/negotiate.c fcgi/sharedfile.c fcgi/metrics.c \
	     fcgi/leadergate.c fcgi/dbhosts.c fcgi/resolve.c fcgi/guard.c fcgi/schema.c \
	     fcgi/continuity.c
WORKER_LIBS = -lfcgi -lpq

COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o)
WORKER_OBJ = $(WORKER_SRC:%.c=$(BUILD)/%.o) $(BUILD)/sql.o

AUTH_SRC = authproxy/main.c authproxy/credential.c authproxy/refresher.c \
	   authproxy/tokenparse.c authproxy/upstream.c common/curlbody.c \
	   common/jsonreply.c
AUTH_OBJ = $(AUTH_SRC:%.c=$(BUILD)/%.o)
AUTH_LIBS = -lfcgi -lcurl -ljansson -lm

LOG_SRC	= logoutput/main.c logoutput/fetcher.c logoutput/source.c common/curlbody.c common/jsonreply.c
LOG_OBJ = $(LOG_SRC:%.c=$(BUILD)/%.o)

SUPERVISE_SRC = launcher/launch.c launcher/nginxconf.c launcher/parts.c launcher/rundir.c launcher/rundirpath.c launcher/render.c \
		launcher/supervise.c launcher/guardian.c launcher/part.c launcher/logline.c launcher/accesslog.c
SUPERVISE_OBJ = $(SUPERVISE_SRC:%.c=$(BUILD)/%.o)

PROGS	= $(BUILD)/pingpong-worker $(BUILD)/pingpong-authproxy $(BUILD)/pingpong-logoutput \
	  $(BUILD)/pingpong-supervise $(BUILD)/pp_limits.env $(FLOORS)

# make bench's floors (bench/): the worker's serving layer, and a plain
# libfcgi responder, each answering "pong 0" at once.  Each gets a program
# directory in which it is pingpong-worker (the rest links to the real
# programs): tools/bench points the launcher's PP_LIBEXEC at it, so the
# floor runs behind the same launcher and rendered nginx config with no
# switch in the launcher.  Built with `all`, so that t/59 keeps them working.
FLOORS	= $(BUILD)/bench/floor/pingpong-worker $(BUILD)/bench/floor-libfcgi/pingpong-worker

.PHONY: all deps run reset migrate-widen test bench fuzz valgrind soak image-test clean
all: $(PROGS)

deps:
	@tools/deps build run test

SQL_SRC = sql/schema.sql sql/increment.sql sql/read.sql sql/durability.sql sql/widen.sql \
	  sql/continuity.sql
$(BUILD)/sql.c: $(SQL_SRC) sql/embed.awk
	@mkdir -p $(@D)
	awk -f sql/embed.awk $(SQL_SRC) > $@

# The limits as NAME=bytes lines, evaluated by bash's arithmetic, for the
# launcher to render nginx's config from the same numbers as the programs.
$(BUILD)/pp_limits.env: common/pp_limits.h
	@mkdir -p $(@D)
	awk '$$1 == "#define" && $$2 ~ /^PP_[A-Z0-9_]+$$/ && $$3 != "" { n = $$2; sub(/^#define[ \t]+[A-Z_]+[ \t]+/, ""); \
	    sub(/[ \t]*\/\*.*/, ""); print n " " $$0 }' $< | \
	    bash -c 'set -e; while read -r n v; do declare -i "$$n=$$v"; echo "$$n=$${!n}"; done' > $@.tmp
	mv $@.tmp $@

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(PP_CFLAGS) $(CFLAGS) -Ifcgi -MMD -MP -c -o $@ $<

$(BUILD)/sql.o: $(BUILD)/sql.c
	$(CC) $(PP_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/fcgi/db.o $(BUILD)/fcgi/dbconn.o $(BUILD)/fcgi/schema.o: $(BUILD)/sql.c

$(BUILD)/pingpong-worker: $(WORKER_OBJ) $(COMMON_OBJ)
	$(CC) $(PP_LDFLAGS) $(LDFLAGS) -o $@ $^ $(WORKER_LIBS)

$(BUILD)/pingpong-authproxy: $(AUTH_OBJ) $(COMMON_OBJ)
	$(CC) $(PP_LDFLAGS) $(LDFLAGS) -o $@ $^ $(AUTH_LIBS)

$(BUILD)/pingpong-logoutput: $(LOG_OBJ) $(COMMON_OBJ)
	$(CC) $(PP_LDFLAGS) $(LDFLAGS) -o $@ $^ -lfcgi -lcurl -ljansson

$(BUILD)/pingpong-supervise: $(SUPERVISE_OBJ) $(BUILD)/common/log.o \
    $(CONFIG_OBJ) $(BUILD)/common/privdrop.o \
    $(BUILD)/common/smallfile.o $(BUILD)/common/answers.o $(BUILD)/common/stopsignals.o
	$(CC) $(PP_LDFLAGS) $(LDFLAGS) -o $@ $^

$(BUILD)/bench/pingpong-floor: $(BUILD)/bench/floor.o $(BUILD)/bench/pong0.o $(COMMON_OBJ)
	$(CC) $(PP_LDFLAGS) $(LDFLAGS) -o $@ $^ -lfcgi

$(BUILD)/bench/pingpong-floor-libfcgi: $(BUILD)/bench/floor-libfcgi.o $(BUILD)/bench/pong0.o $(COMMON_OBJ)
	$(CC) $(PP_LDFLAGS) $(LDFLAGS) -o $@ $^ -lfcgi

$(BUILD)/bench/%/pingpong-worker: $(BUILD)/bench/pingpong-% | $(BUILD)/pingpong-supervise $(BUILD)/pp_limits.env
	@mkdir -p $(@D)
	ln -sfn ../../pingpong-supervise ../../pp_limits.env $(@D)/
	ln -sfn ../pingpong-$* $@

# The service in the foreground; a private PostgreSQL under ./var/ unless
# PING_PONG_DB_HOST names a server.
# It installs what building and running need, nothing of the tests'
# (t/71 checks the list it asks for).
# Its own lines stay out of the stack's log: nothing when the build is up
# to date (make -q), and the exec not echoed.
run:
	@tools/deps build run
	@$(MAKE) --no-print-directory -q all || $(MAKE) --no-print-directory all
	@exec tools/run

# Forgets make run's private database (./var/pg): the count starts again
# at 0.  Refused while a stack started by make run uses it, whatever its
# runtime directory (tools/run holds var/pg/stack.lock for the stack's
# life; make reset holds it while it works, so no make run starts in
# between); no question asked otherwise.
reset:
	@if [ ! -d var/pg ]; then echo "make reset: no ./var/pg: nothing to remove"; exit 0; fi; \
	exec 9>>var/pg/stack.lock; \
	if ! flock -n -x 9; then \
	    echo "make reset: a stack started by make run uses ./var/pg: stop it first" >&2; exit 1; fi; \
	tools/pg stop ./var/pg 9>&- && rm -rf var/pg && \
	echo "make reset: ./var/pg removed; the next make run counts from 0"

# The explicit widening step (docs/operations.md, Upgrades) with
# the usual settings (environment, .env): give it the table owner's
# credentials.  Without a configured host, make run's private database,
# which must be running (make run, in another terminal).  The settings are
# read once (pingpong-supervise --with-settings): the recipe's shell and the
# worker read the environment alone.
migrate-widen:
	@$(MAKE) --no-print-directory $(BUILD)/pingpong-worker $(BUILD)/pingpong-supervise
	@exec $(BUILD)/pingpong-supervise --with-settings -- sh -c '\
	settings=$$("$$0/pingpong-supervise" --print-config=shell) || exit 2; \
	eval "$$settings" && \
	if [ "$$cfg_db_host_given" = 0 ]; then \
	    [ -e var/pg/data/postmaster.pid ] || { "$$0/pingpong-supervise" --log ERROR \
	        "make migrate-widen: make run'\''s database (./var/pg) is not running: start make run, or set PING_PONG_DB_HOST"; \
	        exit 1; }; \
	    export PING_PONG_DB_HOST="$$PWD/var/pg" PING_PONG_DB_PORT=5432; fi && \
	exec "$$0/pingpong-worker" --migrate widen' $(BUILD)

# Test helpers in C (t/c/), built into $(BUILD)/t/.
$(BUILD)/t/gate-check: $(BUILD)/t/c/gate-check.o $(BUILD)/fcgi/leadergate.o \
    $(CONFIG_OBJ) $(BUILD)/common/log.o \
    $(BUILD)/common/safefile.o $(BUILD)/common/smallfile.o
	@mkdir -p $(@D)
	$(CC) $(PP_LDFLAGS) $(LDFLAGS) -o $@ $^

# t/84: the database thread with the database played (t/c/dbthread-check.c).
$(BUILD)/t/dbthread-check: $(BUILD)/t/c/dbthread-check.o $(BUILD)/fcgi/dbthread.o \
    $(CONFIG_OBJ) $(BUILD)/common/log.o \
    $(BUILD)/common/safefile.o $(BUILD)/common/smallfile.o
	@mkdir -p $(@D)
	$(CC) $(PP_LDFLAGS) $(LDFLAGS) -o $@ $^

# t/49's fault injection, preloaded into a stack (never part of a program).
$(BUILD)/t/fault-preload.so: t/c/fault-preload.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared $(if $(SANFLAGS),-DPP_FAULT_NO_MALLOC) \
	    -o $@ $< -ldl

test: deps
	@$(MAKE) --no-print-directory all $(BUILD)/t/gate-check $(BUILD)/t/dbthread-check $(BUILD)/t/fault-preload.so
	PP_BUILD=$(BUILD) prove -r -j2 --timer t/

# Throughput and latency against the limits measured in the same run.
bench:
	@tools/deps build run test bench
	@$(MAKE) --no-print-directory all
	tools/bench

# The container image built and run for real with podman, and the compose
# file brought up through podman's Docker API (tools/image-test).
image-test: deps
	@tools/deps image
	tools/image-test

# The fault scenarios in a loop for SOAK_MINUTES (default 10).
soak: deps
	@$(MAKE) --no-print-directory all
	tools/soak

# libFuzzer harnesses for every parser of outside input, each for
# FUZZ_SECONDS on the committed corpus (new finds go to build/fuzz/).
FUZZ_SECONDS ?= 20
FUZZ_CC = clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Ifcgi -Iauthproxy -Ilogoutput
fuzz:
	@tools/deps build fuzz
	@mkdir -p build/fuzz
	$(FUZZ_CC) -o build/fuzz/dotenv fuzz/fuzz_dotenv.c common/dotenv.c
	$(FUZZ_CC) -o build/fuzz/accept fuzz/fuzz_accept.c fcgi/negotiate.c
	$(FUZZ_CC) -o build/fuzz/token fuzz/fuzz_token.c authproxy/tokenparse.c -ljansson
	$(FUZZ_CC) -o build/fuzz/counterfile fuzz/fuzz_counterfile.c common/counterfile.c \
	    common/smallfile.c
	@for f in dotenv accept token counterfile; do \
	    mkdir -p build/fuzz/$$f.new; \
	    echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
	    build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	        build/fuzz/$$f.new fuzz/corpus/$$f 2>build/fuzz/$$f.log || \
	        { tail -40 build/fuzz/$$f.log; exit 1; }; \
	    grep -E '^#[0-9]+.*DONE' build/fuzz/$$f.log || tail -2 build/fuzz/$$f.log; \
	done

# The core tests with every worker and helper under valgrind; any invalid
# access or definite leak fails.
VALGRIND_TESTS ?= t/01-http.t t/03-restart.t t/04-no-database.t t/10-authproxy-credentials.t t/14-log-output.t
valgrind: deps
	@tools/deps valgrind
	@$(MAKE) --no-print-directory all
	rm -rf build/valgrind && mkdir -p build/valgrind
	PP_WRAP=$(CURDIR)/tools/valgrind-wrap PP_VALGRIND_DIR=$(CURDIR)/build/valgrind PP_TIMEOUT_MULT=10 \
	    prove $(VALGRIND_TESTS)
	tools/valgrind-check build/valgrind

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
