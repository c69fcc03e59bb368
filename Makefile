# factord: plain Makefile. `make` builds build/factord; `make check` runs every test;
# `make asan` runs the same tests under AddressSanitizer + UndefinedBehaviorSanitizer;
# `make tsan` runs the threaded training tests under ThreadSanitizer.
# Override BUILD to keep several builds apart (helpers and sanitizer runs do).

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2 -g
SANFLAGS ?=
# The libraries, by pkg-config name; their flags come from $(BUILD)/pkgs.mk (below). OpenBLAS's
# own -I comes first, so another BLAS's cblas.h on the system include path is never used.
PKGS    := openblas libmicrohttpd jansson sqlite3 libuv libsodium zlib
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(SANFLAGS) -Wall -Wextra -Werror -Iinclude \
           -I$(BUILD)/gen -MMD -MP $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread -lm
LDFLAGS += $(SANFLAGS)
# Installs the missing Debian packages first (root + apt-get; quiet when nothing is missing).
# `make INSTALL_DEPS=true` skips it on a machine whose libraries come from elsewhere.
INSTALL_DEPS ?= .ci/install-deps

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC   := $(sort $(shell find src -name '*.c' ! -path src/main.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o $(BUILD)/gen/ui_assets.o \
             $(BUILD)/gen/openapi.o
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SUPPORT := $(BUILD)/tests/testlib.o
MIGRATIONS := $(sort $(wildcard migrations/*.sql))

.PHONY: all deps check asan tsan demo bench clean FORCE
all: $(BUILD)/factord

# $(BUILD)/pkgs.mk holds PKG_CFLAGS and PKG_LIBS from pkg-config. make remakes it before
# anything else (it is included), so the packages are installed before the first compile even
# under -j; it is rewritten only when the flags change. A library pkg-config cannot find stops
# the build here, naming it, instead of compiling with empty flags.
ifneq ($(MAKECMDGOALS),clean)
include $(BUILD)/pkgs.mk
endif
$(BUILD)/pkgs.mk: FORCE
	$(Q)$(INSTALL_DEPS)
	$(Q)for p in $(PKGS); do \
	  pkg-config --exists $$p && continue; \
	  deb=$$(awk -v p=$$p '$$2 == "pc" && $$3 == p { print $$4 }' .ci/install-deps); \
	  echo "make: pkg-config cannot find '$$p' (Debian package: $${deb:-unknown};" \
	       ".ci/install-deps installs it as root)" >&2; \
	  exit 1; \
	done
	$(Q)mkdir -p $(dir $@)
	$(Q)printf 'PKG_CFLAGS := %s\nPKG_LIBS := %s\n' "$$(pkg-config --cflags $(PKGS))" \
	    "$$(pkg-config --libs $(PKGS))" >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

deps: $(BUILD)/pkgs.mk

$(BUILD)/factord: $(BUILD)/src/main.o $(BUILD)/libfactord.a
	@echo "  LD    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libfactord.a: $(LIB_OBJ)
	@echo "  AR    $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# The training kernels (layers and the CA network) at -O3: gcc's -O2 cost model leaves their
# elementwise loops (batch norm, ReLU, conversions) scalar, and they cost as much as the
# GEMMs. Measured by bench/models.sh.
KERNEL_OBJ := $(BUILD)/src/nn/layers_f32.o $(BUILD)/src/nn/layers_f64.o \
              $(BUILD)/src/models/ca_net.o
$(KERNEL_OBJ): CFLAGS += -O3

$(BUILD)/%.o: %.c | $(BUILD)/gen/migrations.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# Migrations are embedded in the binary as C strings, in numeric order.
$(BUILD)/gen/migrations.c: $(MIGRATIONS) migrations/embed.sh
	@mkdir -p $(dir $@)
	$(Q)migrations/embed.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The dashboard's static files (src/http/ui/), embedded the same way; served at /ui.
UI_ASSETS := $(sort $(wildcard src/http/ui/*.html src/http/ui/*.js src/http/ui/*.css))
$(BUILD)/gen/ui_assets.c: $(UI_ASSETS) src/http/ui/embed.sh
	@mkdir -p $(dir $@)
	$(Q)src/http/ui/embed.sh $(UI_ASSETS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/ui_assets.o: $(BUILD)/gen/ui_assets.c
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The API description (docs/openapi.json), served at GET /openapi.json.
$(BUILD)/gen/openapi.c: docs/openapi.json src/http/embed_openapi.sh
	@mkdir -p $(dir $@)
	$(Q)src/http/embed_openapi.sh docs/openapi.json > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/openapi.o: $(BUILD)/gen/openapi.c
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The commit factord_build_info reports, rewritten only when HEAD moves (so nothing else
# rebuilds); empty outside a git checkout.
$(BUILD)/gen/build_commit.h: FORCE
	@mkdir -p $(dir $@)
	$(Q)printf '#define FACTORD_COMMIT "%s"\n' "$$(git rev-parse --short=12 HEAD 2>/dev/null)" \
	    >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/src/core/build_info.o: $(BUILD)/gen/build_commit.h

$(BUILD)/tests/testlib.o: tests/testlib.c tests/testlib.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(TEST_SUPPORT) $(BUILD)/libfactord.a
	@mkdir -p $(dir $@)
	@echo "  TEST  $@"
	$(Q)$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(TEST_SUPPORT) $(BUILD)/libfactord.a $(LDLIBS)

check: all $(TEST_BIN)
	$(Q)tests/run $(BUILD)

asan:
	$(Q)$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" check

# The unit tests that run teams of threads (CA and IPCA training), under ThreadSanitizer.
# Sanitizer builds skip the AVX2 kernel clones (see src/nn/layers.inc); OpenBLAS runs on one
# thread, since its own threads synchronise where TSan cannot see (false races in dgemm).
TSAN_TESTS := test_team test_nn test_ca test_ipca
tsan:
	$(Q)rm -rf build-tsan/tests
	$(Q)$(MAKE) BUILD=build-tsan OPT="-O1 -g" SANFLAGS="-fsanitize=thread" \
	    $(TSAN_TESTS:%=build-tsan/tests/%)
	$(Q)OPENBLAS_NUM_THREADS=1 FACTORD_TEST_UNIT_ONLY=1 tests/run build-tsan

demo: all
	$(Q)clients/demo $(BUILD)

bench: all
	$(Q)$(INSTALL_DEPS) bench
	$(Q)bench/run $(BUILD)

clean:
	rm -rf build build-*

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
