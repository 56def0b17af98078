// Command catchup is the scheduled replicator: inside AWS Lambda it serves
// invocations; elsewhere it runs one pass, prints the report on stdout and
// exits non-zero when a peer failed. With -init it creates the tables.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	initTables := flag.Bool("init", false, "create MEMORIES_TABLE and STATE_TABLE when missing, then exit")
	eventFile := flag.String("event", "", "run this operator payload (a file as in events/) instead of a plain pass")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx := context.Background()
	if *initTables {
		os.Exit(runInit(ctx, log))
	}
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "catchup: config:", err)
		os.Exit(2)
	}
	_, inLambda := os.LookupEnv("AWS_LAMBDA_RUNTIME_API")
	a, err := newApp(ctx, cfg, log, inLambda, time.Now)
	if err != nil {
		fmt.Fprintln(os.Stderr, "catchup:", err)
		os.Exit(2)
	}
	if inLambda {
		lambda.Start(a.handle)
		return
	}
	os.Exit(a.runLocal(ctx, *eventFile, os.Stdout))
}
