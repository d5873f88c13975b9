# Qianliyan. `make demo` runs the product, `make test` passes every test;
# both install what is missing first (scripts/setup.sh).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: setup frontend build demo test vet bench clean

setup:
	./scripts/setup.sh

frontend: setup
	cd frontend && npm run build

build: frontend
	go build -o bin/relay ./cmd/relay
	go build -o bin/sitesim ./cmd/sitesim
	go build -tags desktop,production,webkit2_40 -o bin/qianliyan .

demo: build
	./scripts/demo.sh

vet: frontend
	go vet ./...

# The end-to-end tests in e2e/ drive bin/qianliyan and frontend/dist, which
# `build` makes first.
test: build vet
	cd frontend && npm test
	go test -p 2 -timeout 40m ./...

bench: build
	go test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin frontend/dist .demo
