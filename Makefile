# riftgate: the commands a person types. Meson + Ninja do the building (DESIGN.md §Modules).
#   make demo        a live 3-peer mesh in network namespaces (README's main command)
#   make test        install deps, build (ASan+UBSan), run every suite, print "N passed, N failed"
#   make fuzz-smoke  every libFuzzer target for FUZZ_SECONDS (default 60)
#   make bench       benchmarks against a peer in the same run -> bench/results/
#   make soak        long resilience runs
BUILD ?= build
RELEASE ?= build-release
FUZZBUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON_TEST_ARGS ?=

.PHONY: all deps build release test unit fuzz-build fuzz-smoke fuzz bench soak demo install clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dsanitize=true -Db_lundef=false

$(RELEASE)/build.ninja:
	meson setup $(RELEASE) --buildtype=release -Db_ndebug=true

$(FUZZBUILD)/build.ninja:
	CC=clang meson setup $(FUZZBUILD) -Dfuzz=true -Dsanitize=true -Db_lundef=false

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

release: deps $(RELEASE)/build.ninja
	meson compile -C $(RELEASE)

# Every suite reports into $(BUILD)/counts; scripts/summary.sh sums them into the closing line.
test: deps
	@rm -rf $(BUILD)/counts $(BUILD)/meson-logs/testlog.json
	@$(MAKE) --no-print-directory build
	@mkdir -p $(BUILD)/counts
	-meson test -C $(BUILD) --print-errorlogs $(MESON_TEST_ARGS)
	-@$(MAKE) --no-print-directory fuzz-smoke FUZZ_SECONDS=$(FUZZ_SECONDS) COUNTS=$(CURDIR)/$(BUILD)/counts
	@bash scripts/summary.sh $(BUILD)

unit: build
	meson test -C $(BUILD) --print-errorlogs --no-suite e2e --no-suite interop $(MESON_TEST_ARGS)

fuzz-build: deps $(FUZZBUILD)/build.ninja
	meson compile -C $(FUZZBUILD)

fuzz-smoke: fuzz-build
	@bash scripts/fuzz.sh $(FUZZBUILD) $(FUZZ_SECONDS) $(COUNTS)

fuzz:
	@$(MAKE) --no-print-directory fuzz-smoke FUZZ_SECONDS=600

bench: release
	@mkdir -p bench/results
	@for b in bench/*.sh; do case $$b in *-profile.sh) continue;; esac; \
		echo "== $$b"; bash $$b $(RELEASE) || echo "bench: $$b failed"; done

soak: release
	@for s in tests/soak/*.sh; do [ -e "$$s" ] || continue; echo "== $$s"; bash $$s $(RELEASE); done

demo: release
	@bash scripts/demo.sh $(RELEASE)

install: release
	meson install -C $(RELEASE)

clean:
	rm -rf $(BUILD) $(RELEASE) $(FUZZBUILD)
