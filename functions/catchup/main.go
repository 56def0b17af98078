// Command catchup is the scheduled replicator: inside AWS Lambda it serves
// invocations; elsewhere it runs one pass, prints the report on stdout and
// exits non-zero when a peer failed (exit codes: runLocal). With -init it
// creates the tables; -version prints the build.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/aimemory/catchup/internal/buildinfo"
	"github.com/aimemory/catchup/internal/config"
	"github.com/aimemory/catchup/internal/logging"
)

// Exit codes of a run outside Lambda (README "Running it outside Lambda").
const (
	exitOK       = 0 // every peer ok (or the action succeeded)
	exitFailed   = 1 // a peer failed, or the action failed
	exitConfig   = 2 // a configuration error: the message names the variable
	exitBadEvent = 3 // the -event file is unreadable or not a valid payload
)

func main() {
	fs := flag.CommandLine
	initTables := fs.Bool("init", false, "create MEMORIES_TABLE and STATE_TABLE when missing, then exit")
	eventFile := fs.String("event", "", "run this operator payload (a file as in events/) instead of a plain pass")
	version := fs.Bool("version", false, "print the module version and VCS revision, then exit")
	fs.Usage = func() { usage(fs.Output(), fs) }
	flag.Parse()
	if *version {
		fmt.Println(buildinfo.Read().String())
		os.Exit(exitOK)
	}
	_, inLambda := os.LookupEnv("AWS_LAMBDA_RUNTIME_API")
	log, err := newLogger(os.Stderr, os.LookupEnv, inLambda)
	if err != nil {
		log.Error("config", "error", err.Error())
		os.Exit(exitConfig)
	}
	ctx := context.Background()
	if *initTables {
		os.Exit(runInit(ctx, log))
	}
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		log.Error("config", "error", err.Error())
		os.Exit(exitConfig)
	}
	a, err := newApp(ctx, cfg, log, inLambda, time.Now)
	if err != nil {
		log.Error("init", "error", err.Error())
		os.Exit(exitConfig)
	}
	if inLambda {
		log.Info("cold start", "build", buildinfo.Read().String())
		lambda.Start(a.Handle)
		return
	}
	if interactive(os.Stderr) {
		a.Human = os.Stderr
	}
	os.Exit(a.runLocal(ctx, *eventFile, os.Stdout))
}

// usage is -h: the flags, then every environment variable with its default.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s [-init | -event file | -version]\n\nflags:\n", fs.Name())
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nenvironment (default; empty means required):")
	for _, v := range config.Vars {
		d := v.Default
		if d == "" {
			d = "(required)"
		}
		fmt.Fprintf(w, "  %-20s %s\n", v.Name, d)
	}
	fmt.Fprintf(w, "  %-20s %s\n", "AWS_LAMBDA_LOG_LEVEL", "INFO (else LOG_LEVEL)")
}

// newLogger is the JSON logger on w at the level the environment asks for.
// On a bad level it still returns a usable logger (at INFO) with the error.
func newLogger(w io.Writer, lookup func(string) (string, bool), inLambda bool) (*slog.Logger, error) {
	level, _, err := logging.LevelFromEnv(lookup)
	f := logging.Fields{Service: "catchup", Version: buildinfo.Read().Short()}
	if inLambda {
		f.FunctionName = lambdacontext.FunctionName
		f.FunctionVersion = lambdacontext.FunctionVersion
		f.MemorySizeMB = lambdacontext.MemoryLimitInMB
	}
	return logging.New(w, level, f), err
}

// interactive reports whether f is a terminal.
func interactive(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
