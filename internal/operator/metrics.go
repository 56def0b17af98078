package operator

import (
	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/metrics"
)

// emitMetrics prints the run's metrics in Embedded Metric Format (see
// internal/metrics) on the metrics writer; nil outside Lambda.
func (h *Handler) emitMetrics(rep catchup.Report) {
	if h.Metrics == nil {
		return
	}
	_, _ = h.Metrics.Write(metrics.EMF(rep, h.now(), h.FunctionName, h.MetricsLevel))
}
