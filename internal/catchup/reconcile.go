package catchup

// Reconcile: follow the mesh where the feed is silent (docs/protocol.md §9).

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/row"
)

// Table is what a reconcile needs of the memories table besides Store
// (ddbstore.Store).
type Table interface {
	// ScanVersions reads every item once, in segments parallel scans, and
	// calls fn for each (from several goroutines at once).
	ScanVersions(ctx context.Context, segments int, fn func(replica.Version)) error
	// VersionOf is the version PutMemory(m) would write; an error means
	// PutMemory would refuse it (replica.ErrUnwritable).
	VersionOf(m replica.Memory) (replica.Version, error)
	// Tombstone replaces the item holding v with a tombstone just after v,
	// only if it still holds v (replica.ErrStale otherwise); it expires at expires.
	Tombstone(ctx context.Context, v replica.Version, at, expires time.Time) error
}

// ReconcileOptions tune a reconcile. Zero values take the defaults in brackets.
type ReconcileOptions struct {
	MaxDeletePercent int           // deletions allowed without max_deletions, in % of live rows [10]
	Retention        time.Duration // how long a tombstone is kept [720h]
	Segments         int           // parallel scan segments [8]
	MaxRows          int           // table rows plus new ids one invocation tracks [3,000,000]
}

// Reconcile says what one reconcile does.
type Reconcile struct {
	Peers        []peers.Peer
	DryRun       bool // report, change nothing
	MaxDeletions int  // > 0: allow up to this many tombstones this run, whatever the guard says
}

// ReconcileReport is the result of a reconcile.
type ReconcileReport struct {
	Peers    []PeerReport `json:"peers"` // each walk; applied = repaired
	DryRun   bool         `json:"dry_run,omitempty"`
	LiveRows int          `json:"live_rows"`  // live items of the table when it was read
	Deleted  int          `json:"tombstones"` // tombstones the table held when it was read
	Repaired int          `json:"repaired"`   // versions written (dry run: would write)
	// DeletionCandidates are live items no peer serves; Candidates names the first few.
	DeletionCandidates int      `json:"deletion_candidates"`
	Candidates         []string `json:"candidates,omitempty"`
	Tombstoned         int      `json:"tombstoned"`
	// Superseded candidates changed under the reconcile (a live pass wrote a
	// newer version) and were left alone.
	Superseded int `json:"superseded,omitempty"`
	// Withheld says why candidates were not deleted; "" when nothing was held back.
	Withheld   string `json:"withheld"`
	Incomplete bool   `json:"incomplete,omitempty"` // more rows than one invocation tracks
	Error      string `json:"error,omitempty"`      // the table could not be read or tombstones failed
	DurationMs int64  `json:"duration_ms"`
}

// Flags of a tracked id.
const (
	inTable uint8 = 1 << iota // the scan saw it
	served                    // some peer serves it (valid or not)
	deleted                   // the table holds a tombstone
	foreign                   // not written by the store: never deleted, always offered
)

// seen is the compact state of one id: the version the table holds (as the
// scan read it, or as this reconcile wrote it), and flags. The digest is kept
// as its first 8 bytes: two versions at the same instant and field count
// whose digests share 64 bits are taken for the same (odds 2^-64).
type seen struct {
	ts    int64
	dg    [8]byte
	nf    int32
	flags uint8
}

func compact(v replica.Version) seen {
	s := seen{ts: v.TS, nf: int32(v.NF)}
	hex.Decode(s.dg[:], []byte(v.Digest[:min(len(v.Digest), 16)]))
	if v.Deleted {
		s.flags |= deleted
	}
	if v.Foreign {
		s.flags |= foreign
	}
	return s
}

// newer reports whether a beats b by newer-wins on the compact form.
func (a seen) newer(b seen) bool {
	if a.ts != b.ts {
		return a.ts > b.ts
	}
	if a.nf != b.nf {
		return a.nf > b.nf
	}
	return bytes.Compare(a.dg[:], b.dg[:]) > 0
}

// recState is a reconcile's view of the table while the peers are walked.
type recState struct {
	table   Table
	mu      sync.Mutex
	ids     map[string]seen
	maxRows int
	over    bool // an id was not tracked: too many rows
}

// offer marks row as served and says whether its version beats the table's
// (so it is worth a write). A version worth writing is claimed at once, so
// that another peer serving the same version does not write it again; undo
// returns the claim when the write fails.
func (s *recState) offer(m replica.Memory) (write bool, undo func(), err error) {
	ver, err := s.table.VersionOf(m)
	if err != nil {
		s.markServed(m.ID)
		return true, nil, err // PutMemory will refuse it: quarantine
	}
	v := compact(ver)
	v.flags = inTable | served
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.ids[m.ID]
	if !ok && len(s.ids) >= s.maxRows {
		s.over = true
		return true, func() {}, nil
	}
	cur.flags |= served
	if cur.flags&(inTable|foreign) == inTable && !v.newer(cur) {
		s.ids[m.ID] = cur
		return false, nil, nil
	}
	s.ids[m.ID] = v
	return true, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.ids[m.ID] == v {
			s.ids[m.ID] = cur
		}
	}, nil
}

func (s *recState) markServed(id string) {
	if id == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.ids[id]; ok {
		cur.flags |= served
		s.ids[id] = cur
	}
}

// oneReconciled writes a valid row during a reconcile: only when it beats
// what the table holds, with the live pass's conditional write.
func (r *Runner) oneReconciled(ctx context.Context, pr *peerRun, row *row.Row) (outcome, error) {
	m := replica.FromRow(pr.peer.ID, *row)
	write, undo, err := pr.pass.rec.offer(m)
	switch {
	case err != nil:
		return r.quarantine(ctx, pr, row, err.Error())
	case !write:
		return stale, nil
	case pr.pass.DryRun:
		return applied, nil
	}
	err = r.putMemory(ctx, m)
	switch {
	case err == nil:
		return applied, nil
	case errors.Is(err, replica.ErrStale):
		return stale, nil // the table holds it or newer: the claim stands
	}
	undo()
	if errors.Is(err, replica.ErrUnwritable) {
		return r.quarantine(ctx, pr, row, err.Error())
	}
	return failed, fmt.Errorf("write %s: %w", row.ID, err)
}

// Reconcile reads the table once, walks every peer's whole feed from the
// beginning (leaving live watermarks alone), writes every served version that
// beats the table's, and turns live items no peer serves into tombstones, but
// only when every walk completed and there are at most a guard's worth.
func (r *Runner) Reconcile(ctx context.Context, t Table, rc Reconcile, opt ReconcileOptions) ReconcileReport {
	start := r.opt.Now()
	opt = opt.withDefaults()
	rep := ReconcileReport{DryRun: rc.DryRun, Peers: []PeerReport{}}
	defer func() { rep.DurationMs = r.opt.Now().Sub(start).Milliseconds() }()
	st := &recState{table: t, ids: map[string]seen{}, maxRows: opt.MaxRows}
	err := t.ScanVersions(ctx, opt.Segments, func(v replica.Version) {
		s := compact(v)
		s.flags |= inTable
		st.mu.Lock()
		defer st.mu.Unlock()
		if len(st.ids) >= st.maxRows {
			st.over = true
			return
		}
		st.ids[v.ID] = s
	})
	if err != nil {
		rep.Error = "read the table: " + err.Error()
		rep.Withheld = "the table could not be read; nothing was walked or deleted"
		return rep
	}
	for _, s := range st.ids {
		switch {
		case s.flags&deleted != 0:
			rep.Deleted++
		default:
			rep.LiveRows++
		}
	}
	if !st.over {
		rep.Peers = r.Run(ctx, Pass{Peers: rc.Peers, DryRun: rc.DryRun, Range: &Range{}, rec: st}).Peers
	}
	for _, p := range rep.Peers {
		rep.Repaired += p.Applied
	}
	cands := candidates(st)
	rep.DeletionCandidates = len(cands)
	rep.Candidates = cands[:min(len(cands), maxFailures)]
	rep.Incomplete = st.over
	rep.Withheld = withheld(rep, rc, opt)
	if rep.Withheld != "" || rc.DryRun || len(cands) == 0 {
		return rep
	}
	r.tombstone(ctx, t, st, cands, opt, &rep)
	return rep
}

func (o ReconcileOptions) withDefaults() ReconcileOptions {
	if o.MaxDeletePercent <= 0 {
		o.MaxDeletePercent = 10
	}
	if o.Retention <= 0 {
		o.Retention = 720 * time.Hour
	}
	if o.Segments <= 0 {
		o.Segments = 8
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 3_000_000
	}
	return o
}

// candidates are the live items of the table, written by the store, that no
// peer serves, sorted.
func candidates(st *recState) []string {
	var ids []string
	for id, s := range st.ids {
		if s.flags&(inTable|served|deleted|foreign) == inTable {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// withheld says why the candidates may not be deleted, or "".
func withheld(rep ReconcileReport, rc Reconcile, opt ReconcileOptions) string {
	if rep.DeletionCandidates == 0 {
		return ""
	}
	if rep.Incomplete {
		return fmt.Sprintf("incomplete: more than %d rows for one invocation; nothing deleted", opt.MaxRows)
	}
	if len(rc.Peers) == 0 {
		return "no enabled peer to compare with; nothing deleted"
	}
	for _, p := range rep.Peers {
		if p.Status != StatusCaughtUp {
			why := p.Status
			if p.Error != "" {
				why += ": " + p.Error
			}
			return fmt.Sprintf("peer %s did not complete its walk (%s); nothing deleted", p.Peer, why)
		}
	}
	guard := rep.LiveRows * opt.MaxDeletePercent / 100
	if rc.MaxDeletions > 0 {
		if rep.DeletionCandidates > rc.MaxDeletions {
			return fmt.Sprintf("%d deletion candidates exceed max_deletions %d; nothing deleted", rep.DeletionCandidates, rc.MaxDeletions)
		}
		return ""
	}
	if rep.DeletionCandidates > guard {
		return fmt.Sprintf("%d deletion candidates exceed the guard of %d (%d%% of %d live rows); nothing deleted: check the peers' scope, then rerun with max_deletions >= %d to delete them on purpose",
			rep.DeletionCandidates, guard, opt.MaxDeletePercent, rep.LiveRows, rep.DeletionCandidates)
	}
	return ""
}

// tombstone writes a tombstone for each candidate, WriteConcurrency at once.
func (r *Runner) tombstone(ctx context.Context, t Table, st *recState, cands []string, opt ReconcileOptions, rep *ReconcileReport) {
	now := r.opt.Now()
	expires := now.Add(opt.Retention)
	var mu sync.Mutex
	var wg sync.WaitGroup
	todo := make(chan string)
	for range min(len(cands), r.opt.WriteConcurrency) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range todo {
				s := st.ids[id] // read only once the walk is over
				// The digest as tracked: its first 16 hex digits (the store
				// conditions on the prefix).
				v := replica.Version{ID: id, TS: s.ts, NF: int(s.nf), Digest: hex.EncodeToString(s.dg[:])}
				err := t.Tombstone(ctx, v, now, expires)
				mu.Lock()
				switch {
				case err == nil:
					rep.Tombstoned++
				case errors.Is(err, replica.ErrStale):
					rep.Superseded++
				case rep.Error == "":
					rep.Error = "tombstone " + id + ": " + err.Error()
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range cands {
		if ctx.Err() != nil {
			break
		}
		todo <- id
	}
	close(todo)
	wg.Wait()
}
