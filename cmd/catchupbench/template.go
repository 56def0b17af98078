package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/aimemory/catchup/cmd/catchupbench/internal/bench"
)

// deploy is the template's defaults the capacity table assumes.
type deploy struct{ bench.Deploy }

// runLimit is what one scheduled run may pull for.
func (d deploy) runLimit() time.Duration {
	return time.Duration(d.TimeoutS)*time.Second - d.Margin
}

// readDeploy reads the Default of the parameters the capacity table needs
// from a SAM template, so that the table follows the template.
func readDeploy(path string) (deploy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return deploy{}, fmt.Errorf("-template: %w", err)
	}
	def := func(name string) (string, error) {
		re := regexp.MustCompile(`(?m)^  ` + name + `:\n(?:    .*\n)*?    Default: "?([^"\n]*)"?\n`)
		m := re.FindSubmatch(b)
		if m == nil {
			return "", fmt.Errorf("-template %s: no Default for parameter %s", path, name)
		}
		return string(m[1]), nil
	}
	var d deploy
	var errs []error
	num := func(name string, out *int) {
		v, err := def(name)
		if err == nil {
			*out, err = strconv.Atoi(v)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	num("FunctionTimeout", &d.TimeoutS)
	num("FunctionMemorySize", &d.MemoryMB)
	num("PageLimit", &d.PageLimit)
	num("PeerConcurrency", &d.PeerConc)
	num("WriteConcurrency", &d.WriteConc)
	margin, err := def("DeadlineMargin")
	if err == nil {
		d.Margin, err = time.ParseDuration(margin)
	}
	if err != nil {
		errs = append(errs, err)
	}
	if d.Schedule, err = def("ScheduleExpression"); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return d, errors.Join(errs...)
	}
	return d, nil
}
