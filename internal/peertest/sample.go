package peertest

import (
	"fmt"
	"math/rand/v2"
)

// sampleNote is a template for the demo's memories.
type sampleNote struct {
	namespace, title, content string
	tags                      []string
}

var sampleNotes = []sampleNote{
	{"team/infra", "Deploy checklist", "Run the migrations before the canary; watch error rate for 10 minutes.", []string{"deploy", "runbook"}},
	{"team/infra", "Database failover", "The replica in eu-west-1 is promoted by the runbook, never by hand.", []string{"database", "runbook"}},
	{"team/infra", "On-call handoff", "Page volume was low this week; the flaky disk alert is muted until Friday.", []string{"oncall"}},
	{"team/product", "Pricing decision", "Keep the free tier at 3 seats; revisit after the Q3 survey.", []string{"pricing", "decision"}},
	{"team/product", "Customer feedback", "Two customers asked for SSO with Okta; both are on the annual plan.", []string{"feedback", "sso"}},
	{"team/research", "Embedding model trial", "The smaller model lost 2 points of recall but halved the latency.", []string{"ml", "benchmark"}},
	{"team/research", "Paper notes: CRDTs", "Last-writer-wins needs a deterministic tie-break to converge.", []string{"reading", "crdt"}},
	{"personal/alice", "Coffee order", "Flat white, oat milk, no sugar.", []string{"preferences"}},
	{"personal/alice", "Travel plans", "Conference in Lisbon, 12 to 15 June; hotel near the venue is booked.", []string{"travel"}},
	{"team/support", "Refund policy", "Refunds within 30 days need no approval; later ones go to finance.", []string{"policy"}},
	{"team/support", "Known issue: CSV export", "Exports over 100k rows time out; workaround is the async export.", []string{"bug", "workaround"}},
	{"team/infra", "Certificate renewal", "The wildcard certificate renews on the 1st; the job alerts if it fails.", []string{"tls", "cron"}},
}

// Sample returns n memories for demos, as a mesh peer would serve them:
// realistic notes across namespaces, tie groups of ties rows, mixed stamp
// formats, and, when n >= 10, two invalid rows a client must quarantine:
// one with priority 11 and one with an empty title. The same arguments give
// the same rows.
func Sample(n int, seed int64, ties int) []map[string]any {
	rows := Backlog(n, seed, ties, true)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x73616d706c65))
	sources := []string{"user", "claude", "cli", "api", "import"}
	for i, r := range rows {
		note := sampleNotes[(i+rng.IntN(len(sampleNotes)))%len(sampleNotes)]
		r["id"] = fmt.Sprintf("mem-%04d", i+1)
		r["namespace"] = note.namespace
		r["title"] = fmt.Sprintf("%s #%d", note.title, i+1) // peers key by (title, namespace)
		r["content"] = note.content
		r["tags"] = note.tags
		r["source"] = sources[rng.IntN(len(sources))]
		r["priority"] = 1 + rng.IntN(10)
		r["confidence"] = float64(50+rng.IntN(51)) / 100
	}
	if n >= 10 {
		rows[n/3]["priority"] = 11
		rows[2*n/3]["title"] = "  "
	}
	return rows
}
