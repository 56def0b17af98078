package catchup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/row"
)

// outcome of one row.
type outcome int

const (
	applied outcome = iota
	stale
	quarantined
	failed
)

// apply writes (or quarantines) every row of a page, WriteConcurrency at most
// in flight across the whole run, and says which rows are done. A row done on
// the previous page, byte for byte (the tie group a full page re-reads), is
// done without a second write and is not counted again.
//
// The rows go to the Runner's writers (writers.go), which take the rows of
// every page in flight in turn.
func (r *Runner) apply(ctx context.Context, pr *peerRun, page *peers.Page) []bool {
	done := make([]bool, len(page.Rows))
	seen := make(map[string][]byte, len(page.Rows)) // Raw holds the page's body: no copy a row
	defer func() { pr.seen = seen }()
	todo := make([]int, 0, len(page.Rows))
	for i := range page.Rows {
		row := &page.Rows[i]
		if raw, ok := pr.seen[row.ID]; ok && bytes.Equal(raw, row.Raw) {
			done[i] = true
			seen[row.ID] = raw
			continue
		}
		pr.rep.Fetched++
		todo = append(todo, i)
	}
	var mu sync.Mutex
	r.writers.do(todo, func(i int) {
		// A row is decoded by the writer that writes it, and gives its
		// fields up once written: a page holds at most WRITE_CONCURRENCY
		// decoded rows at a time (row.Scanned).
		row := &page.Rows[i]
		row.Decode()
		out, err := r.one(ctx, pr, row)
		mu.Lock()
		defer mu.Unlock()
		done[i] = out != failed
		if done[i] {
			seen[row.ID] = row.Raw
		}
		pr.rep.count(out, row, err)
		row.Release()
	})
	return done
}

// one writes a row (decoded): newer wins, stale is done, invalid or
// unwritable rows go to quarantine. A dry run only reads.
func (r *Runner) one(ctx context.Context, pr *peerRun, row *row.Row) (outcome, error) {
	if row.Invalid != nil {
		if pr.pass.rec != nil {
			pr.pass.rec.markServed(row.ID)
		}
		return r.quarantine(ctx, pr, row, row.Invalid.Error())
	}
	if pr.pass.rec != nil {
		return r.oneReconciled(ctx, pr, row)
	}
	m := replica.FromRow(pr.peer.ID, *row)
	if pr.pass.DryRun {
		newer, err := r.store.WouldApply(ctx, m)
		switch {
		case err != nil:
			return failed, fmt.Errorf("read %s: %w", row.ID, err)
		case newer:
			return applied, nil
		}
		return stale, nil
	}
	err := r.putMemory(ctx, m)
	switch {
	case err == nil:
		return applied, nil
	case errors.Is(err, replica.ErrStale):
		return stale, nil
	case errors.Is(err, replica.ErrUnwritable):
		return r.quarantine(ctx, pr, row, err.Error())
	}
	return failed, fmt.Errorf("write %s: %w", row.ID, err)
}

// idLocks holds one write of a memory id in flight at a time, across every
// peer of every run of a Runner: peers of one mesh serve versions of the
// same ids, and their pages are written at once. DynamoDB evaluates a
// conditional write atomically, so there this only orders two writes of an
// id; the stand-ins people test with do not (moto checks the condition, then
// stores, on threads of its own: two puts of one id at once, seen in a test,
// can leave the older stored and both acknowledged). A write waiting here is
// one that would have raced: writes of different ids never wait for each
// other. (Locks striped by a hash of the id, 1,024 of them, let about one
// write in 33 wait out an unrelated one at WRITE_CONCURRENCY 32: 31 others
// in flight over 1,024 stripes; and most writes at its cap of 1,024.)
type idLocks struct {
	mu sync.Mutex
	// writing holds the ids being written. The first write that waits for
	// one makes its channel; the write in flight closes it when it ends, and
	// the waiters try again. nil: none waits.
	writing map[string]chan struct{}
}

func newIDLocks() *idLocks { return &idLocks{writing: map[string]chan struct{}{}} }

// lock returns once no other write of id is in flight; unlock(id) ends it.
func (l *idLocks) lock(id string) {
	for {
		l.mu.Lock()
		turn, busy := l.writing[id]
		if !busy {
			l.writing[id] = nil
			l.mu.Unlock()
			return
		}
		if turn == nil {
			turn = make(chan struct{})
			l.writing[id] = turn
		}
		l.mu.Unlock()
		<-turn
	}
}

func (l *idLocks) unlock(id string) {
	l.mu.Lock()
	turn := l.writing[id]
	delete(l.writing, id)
	l.mu.Unlock()
	if turn != nil {
		close(turn)
	}
}

// putMemory is store.PutMemory with no other write of m.ID in flight.
func (r *Runner) putMemory(ctx context.Context, m replica.Memory) error {
	r.ids.lock(m.ID)
	defer r.ids.unlock(m.ID)
	return r.store.PutMemory(ctx, m)
}

// quarantine records an invalid row; once recorded it is done.
func (r *Runner) quarantine(ctx context.Context, pr *peerRun, row *row.Row, reason string) (outcome, error) {
	if pr.pass.DryRun {
		return quarantined, nil
	}
	q := replica.Quarantined{Peer: pr.peer.ID, RowID: row.ID, UpdatedAt: row.UpdatedAt, Reason: reason, Raw: row.Raw}
	if err := r.store.Quarantine(ctx, q); err != nil {
		return failed, fmt.Errorf("quarantine %q: %w", row.ID, err)
	}
	return quarantined, nil
}

func (p *PeerReport) count(out outcome, row *row.Row, err error) {
	switch out {
	case applied:
		p.Applied++
	case stale:
		p.Stale++
	case quarantined:
		p.Invalid++
	case failed:
		p.rowFailed(row.ID, row.UpdatedAt, err)
	}
}
