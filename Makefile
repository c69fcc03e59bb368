# factord: plain Makefile. `make` builds build/factord; `make check` runs every test;
# `make asan` runs the same tests under AddressSanitizer + UndefinedBehaviorSanitizer;
# `make tsan` runs the threaded training tests under ThreadSanitizer.
# Override BUILD to keep several builds apart (helpers and sanitizer runs do).

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2 -g
SANFLAGS ?=
PKGS    := libmicrohttpd jansson sqlite3 libuv
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(SANFLAGS) -Wall -Wextra -Werror -Iinclude \
           -I$(BUILD)/gen -MMD -MP $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lopenblas -lpthread -lm
LDFLAGS += $(SANFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC   := $(sort $(shell find src -name '*.c' ! -path src/main.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SUPPORT := $(BUILD)/tests/testlib.o
MIGRATIONS := $(sort $(wildcard migrations/*.sql))

.PHONY: all deps check asan tsan demo bench clean
all: deps $(BUILD)/factord

# Installs the Debian packages when a header or tool is missing (root + apt-get).
deps:
	$(Q).ci/install-deps

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

# The unit tests that run teams of threads (CA training), under ThreadSanitizer. Sanitizer
# builds skip the AVX2 kernel clones (see src/nn/layers.inc).
TSAN_TESTS := test_team test_nn test_ca
tsan:
	$(Q)rm -rf build-tsan/tests
	$(Q)$(MAKE) BUILD=build-tsan OPT="-O1 -g" SANFLAGS="-fsanitize=thread" \
	    $(TSAN_TESTS:%=build-tsan/tests/%)
	$(Q)FACTORD_TEST_UNIT_ONLY=1 tests/run build-tsan

demo: all
	$(Q)clients/demo $(BUILD)

bench: all
	$(Q)bench/run $(BUILD)

clean:
	rm -rf build build-*

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
