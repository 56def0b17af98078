// Command catchupbench measures the catch-up pass against dynalite and
// prints the figures of BENCHMARKS.md as Markdown (scripts/bench.sh runs it).
//
//	catchupbench -dynalite node_modules/.bin/dynalite -n 10000,100000 -p 1,10,100
//
// With the single argument -child it is a measuring child process: a
// bench.Spec on stdin, a bench.Result on stdout.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/aimemory/catchup/cmd/catchupbench/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) == 2 && os.Args[1] == bench.ChildFlag {
		if err := bench.ServeChild(ctx, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "catchupbench child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "catchupbench:", err)
		os.Exit(1)
	}
}
