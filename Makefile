# riftgate: the commands a person types. Meson + Ninja do the building (DESIGN.md §Modules).
#   make demo        a live 3-peer mesh in network namespaces (README's main command)
#   make test        install deps, build (ASan+UBSan), run every suite, print "N passed, N failed"
#   make fuzz-smoke  every libFuzzer target for FUZZ_SECONDS (default 60; make test: 20)
#   make bench       benchmarks against a peer in the same run -> bench/results/
#   make soak        long resilience runs
#   make install     build (release) and install what runs: binaries, unit, man pages,
#                    completions (PREFIX=/usr/local); make uninstall removes them
#   make deb         a Debian package in build-deb/ (debhelper + meson), checked by lintian
BUILD ?= build
RELEASE ?= build-release
FUZZBUILD ?= build-fuzz
# make test replays every corpus and fuzzes each target TEST_FUZZ_SECONDS (26 targets: ~4.5 min at
# 10 s; the meson suites take ~22 min), so the whole run stays near 30 minutes on 2 cores; FUZZ_SECONDS=N on the command line
# sets both. make fuzz-smoke: 60 s a target; make fuzz: 10 minutes.
TEST_FUZZ_SECONDS := $(if $(filter undefined default,$(origin FUZZ_SECONDS)),10,$(FUZZ_SECONDS))
FUZZ_SECONDS ?= 60
PREFIX ?= /usr/local
DEBDIR ?= build-deb
MESON_TEST_ARGS ?=

.PHONY: all deps deps-build build release test unit fuzz-build fuzz-smoke fuzz bench soak demo \
	install uninstall deb clean

all: build

deps:
	@bash scripts/deps.sh

# Only what building needs (scripts/deps/build.txt): make install and make deb.
deps-build:
	@bash scripts/deps.sh build

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dsanitize=true -Db_lundef=false

$(RELEASE)/build.ninja:
	meson setup $(RELEASE) --buildtype=release -Db_ndebug=true --prefix=$(PREFIX)

$(FUZZBUILD)/build.ninja:
	CC=clang meson setup $(FUZZBUILD) -Dfuzz=true -Dsanitize=true -Db_lundef=false

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

release: deps-build $(RELEASE)/build.ninja
	meson compile -C $(RELEASE)

# Every suite reports into $(BUILD)/counts; scripts/summary.sh sums them into the closing line.
test: deps
	@rm -rf $(BUILD)/counts $(BUILD)/meson-logs/testlog.json
	@$(MAKE) --no-print-directory build
	@mkdir -p $(BUILD)/counts
	-meson test -C $(BUILD) --print-errorlogs $(MESON_TEST_ARGS)
	-@$(MAKE) --no-print-directory fuzz-smoke FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) COUNTS=$(CURDIR)/$(BUILD)/counts
	@bash scripts/summary.sh $(BUILD)

unit: build
	meson test -C $(BUILD) --print-errorlogs --no-suite e2e --no-suite interop $(MESON_TEST_ARGS)

fuzz-build: deps $(FUZZBUILD)/build.ninja
	meson compile -C $(FUZZBUILD)

# A fuzz build that does not compile counts as a failure in make test's summary (it used to
# leave no count behind, so the closing line read 0 failed).
fuzz-smoke: deps $(FUZZBUILD)/build.ninja
	@meson compile -C $(FUZZBUILD) || { echo "fuzz: the fuzz build failed"; \
		if [ -n "$(COUNTS)" ]; then mkdir -p "$(COUNTS)"; echo "0 1" > "$(COUNTS)/fuzz-build"; fi; \
		exit 1; }
	@bash scripts/fuzz.sh $(FUZZBUILD) $(FUZZ_SECONDS) $(COUNTS)

fuzz:
	@$(MAKE) --no-print-directory fuzz-smoke FUZZ_SECONDS=600

bench: deps release
	@mkdir -p bench/results
	@for b in bench/*.sh; do case $$b in *-profile.sh) continue;; esac; \
		echo "== $$b"; bash $$b $(RELEASE) || echo "bench: $$b failed"; done

soak: deps release
	@for s in tests/soak/*.sh; do [ -e "$$s" ] || continue; echo "== $$s"; bash $$s $(RELEASE); done

demo: deps release
	@bash scripts/demo.sh $(RELEASE)

install: release
	meson install -C $(RELEASE)

uninstall:
	ninja -C $(RELEASE) uninstall

# The package is built from a copy of the tracked files (dpkg-buildpackage writes next to its
# source directory); the copy carries `git describe` for --version in .git-describe.
deb: deps-build
	rm -rf $(DEBDIR) && mkdir -p $(DEBDIR)/src
	git ls-files -z | xargs -0 cp -a --parents -t $(DEBDIR)/src
	git describe --always --dirty --tags > $(DEBDIR)/src/.git-describe
	cd $(DEBDIR)/src && dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(DEBDIR)/riftgate_*.deb
	@ls $(DEBDIR)/*.deb

clean:
	rm -rf $(BUILD) $(RELEASE) $(FUZZBUILD) $(DEBDIR)
