package main

import (
	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/metrics"
)

// emitMetrics prints the run's metrics in Embedded Metric Format (see
// internal/metrics) on the metrics writer; nil outside Lambda.
func (a *app) emitMetrics(rep catchup.Report) {
	if a.metrics == nil {
		return
	}
	_, _ = a.metrics.Write(metrics.EMF(rep, a.now(), a.functionName, a.metricsLevel))
}
