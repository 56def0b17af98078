# catchup: build, test, demo. `sam build` runs build-CatchupFunction (see
# template.yaml, Metadata BuildMethod makefile) with ARTIFACTS_DIR set to the
# directory it packages; the Lambda end-to-end test runs the same target.

# The Lambda's architecture (template.yaml: Architectures [arm64]). The
# emulator test overrides it with the machine's own to run the binary here.
LAMBDA_GOARCH ?= arm64
# Static, no RPC shim (provided.al2023 speaks the Runtime API), reproducible
# paths, stripped: the small binary the cold start wants.
LAMBDA_BUILD = GOOS=linux GOARCH=$(LAMBDA_GOARCH) CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags="-s -w"

.PHONY: build build-CatchupFunction build-ReconcileFunction test demo lint emulator clean

## build: bin/catchup for this machine, and bin/bootstrap as Lambda runs it
build:
	go build -trimpath -o bin/catchup ./functions/catchup
	$(MAKE) --no-print-directory build-CatchupFunction ARTIFACTS_DIR=$(CURDIR)/bin

## build-CatchupFunction: the bootstrap sam build packages
build-CatchupFunction:
	$(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set; sam build sets it))
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/catchup

## build-ReconcileFunction: the same bootstrap for the reconcile function
## (one binary; the event says which job)
build-ReconcileFunction:
	$(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set; sam build sets it))
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/catchup

## test: everything CI runs (starts moto, then go test ./... and cfn-lint)
test:
	bash .ci/run

## demo: a fresh machine's first pass against a demo peer (see README)
demo:
	bash scripts/demo.sh

## lint: the template and the code
lint:
	cfn-lint template.yaml
	go vet ./...
	test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

## emulator: serve bootstrap on 127.0.0.1:9000 under the Lambda Runtime
## Interface Emulator (no Docker needed); configure it with the environment
emulator:
	$(MAKE) --no-print-directory build-CatchupFunction ARTIFACTS_DIR=$(CURDIR)/bin/native LAMBDA_GOARCH=$$(go env GOARCH)
	go build -o bin/aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
	bin/aws-lambda-rie --runtime-interface-emulator-address 127.0.0.1:9000 bin/native/bootstrap

clean:
	rm -rf bin .aws-sam
