# Shoal: `make run` serves the tracker behind nginx on 127.0.0.1:$(PORT); `make test` runs every test.
PORT ?= 6969
WORKERS ?= 2
HOSTS ?= 3
BUILD_DEPS = libfcgi-dev libsqlite3-dev zlib1g-dev pkg-config
RUN_DEPS = nginx
BENCH_DEPS = wrk opentracker spawn-fcgi gcc python3 libnginx-mod-http-set-misc libnginx-mod-http-js haproxy
TEST_DEPS = python3 python3-pytest python3-libtorrent curl aria2 spawn-fcgi apache2 libapache2-mod-fcgid systemd mktorrent transmission-cli prometheus opentracker chromium php-cli php-mysql mariadb-server mariadb-client libnginx-mod-http-set-misc libnginx-mod-http-js qbittorrent-nox haproxy

FUZZ_SECONDS ?= 300

.PHONY: all build release static deps run cluster test unit-test e2e-test fuzz bench schema clean

all: build

deps:
	@scripts/install-deps.sh $(BUILD_DEPS) $(RUN_DEPS)

build: deps
	swift build

release: deps
	swift build -c release

# A binary with the Swift runtime linked in, for servers without the toolchain (Apache shared hosting):
# .build/static/release/shoal needs only libfcgi0ldbl, libsqlite3-0 and libstdc++6.
static: deps
	swift build -c release --static-swift-stdlib --scratch-path .build/static

run: release
	PORT=$(PORT) WORKERS=$(WORKERS) scripts/run.sh

# The sharded tracker on one machine: HOSTS (3) Shoal hosts in network namespaces behind the front
# nginx on 127.0.0.1:$(PORT) (root; Ctrl-C removes everything).
cluster: release
	@scripts/install-deps.sh nginx libnginx-mod-http-set-misc libnginx-mod-http-js curl
	PORT=$(PORT) HOSTS=$(HOSTS) scripts/cluster.sh

test: deps
	@scripts/install-deps.sh $(TEST_DEPS)
	swift build -c release
	swift build --build-tests
	swift test --skip-build
	scripts/fuzz.sh 5
	E2E_SHOAL_BIN=$$(swift build -c release --show-bin-path)/shoal /usr/bin/python3 -m pytest -q Tests/e2e

unit-test: deps
	swift test

e2e-test: release
	E2E_SHOAL_BIN=$$(swift build -c release --show-bin-path)/shoal /usr/bin/python3 -m pytest -q Tests/e2e

# libFuzzer (with AddressSanitizer) on the query decoder, the bencode decoder, the FastCGI record
# parser and the configuration reader, FUZZ_SECONDS each, from the seed corpus in Tests/fuzz/corpus.
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

# Side-by-side benchmark: opentracker, the bare nginx + FastCGI ceiling, Shoal. BENCH_ARGS="--help" lists options.
bench: release
	@scripts/install-deps.sh $(BENCH_DEPS)
	/usr/bin/python3 bench/run.py $(BENCH_ARGS)

# Regenerates the schema copy embedded in the binary after editing schema.sql.
schema:
	python3 scripts/embed-schema.py

clean:
	rm -rf .build .build-fuzz
