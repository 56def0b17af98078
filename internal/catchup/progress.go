package catchup

import "time"

// Progress is where one peer's drain stands, handed to Options.Progress while
// the pass runs, so that a run draining a large backlog is not silent for
// minutes. Counts are the run's so far.
type Progress struct {
	Peer       string
	Pages      int
	Fetched    int
	Applied    int
	Cursor     string // where the next page starts
	Watermark  string // the stored watermark
	Elapsed    time.Duration
	RowsPerSec float64 // fetched rows per second of this peer's drain
}

// defaultProgressEvery is how often a peer reports progress [Options.ProgressEvery].
const defaultProgressEvery = 10 * time.Second

// progress calls Options.Progress when this peer last reported at least
// ProgressEvery ago (its first report comes after one interval, so a peer
// that drains in seconds reports nothing but its final line).
func (r *Runner) progress(pr *peerRun) {
	if r.opt.Progress == nil {
		return
	}
	now := r.opt.Now()
	if pr.lastProgress.IsZero() {
		pr.lastProgress = pr.started
	}
	if now.Sub(pr.lastProgress) < r.opt.ProgressEvery {
		return
	}
	pr.lastProgress = now
	elapsed := now.Sub(pr.started)
	p := Progress{
		Peer:      pr.peer.ID,
		Pages:     pr.rep.Pages,
		Fetched:   pr.rep.Fetched,
		Applied:   pr.rep.Applied,
		Cursor:    pr.st.Cursor,
		Watermark: pr.mark.Value,
		Elapsed:   elapsed,
	}
	if s := elapsed.Seconds(); s > 0 {
		p.RowsPerSec = float64(pr.rep.Fetched) / s
	}
	r.opt.Progress(p)
}
