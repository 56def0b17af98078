package catchup

import (
	"fmt"

	"github.com/aimemory/catchup/internal/watermark"
)

// sizing is what a pass has learnt of one peer's page sizes
// (docs/protocol.md §4 rule 4): the server's cap, and at the current cursor
// the largest limit whose page fit under the body cap and the smallest whose
// page did not, so that a widened page over MAX_RESPONSE_BYTES is retried at
// a size between the two (bisection) instead of failing the peer.
type sizing struct {
	cap  int    // the server's page cap once an echo showed it; 0 unknown
	at   string // the cursor fit and over are about
	fit  int    // at `at`: the largest page that came back under the body cap
	over int    // at `at`: the smallest limit whose page exceeded it; 0 none
}

// move forgets fit and over when the cursor is no longer theirs.
func (z *sizing) move(cursor string) {
	if z.at != cursor {
		*z = sizing{cap: z.cap, at: cursor}
	}
}

// fitted records a page asked with limit asked, echoed with limit echoed. An
// echo below the asked limit, or at MaxLimit, is the server's cap.
func (z *sizing) fitted(cursor string, asked, echoed int) {
	z.move(cursor)
	if echoed > 0 && (echoed < asked || echoed >= watermark.MaxLimit) {
		z.cap = echoed
	}
	z.fit = max(z.fit, min(asked, echoed))
}

// tooLarge records that a page of asked rows exceeded the body cap and
// returns the limit to try next, or ok false when no size between the last
// page that fit and this one is left.
func (z *sizing) tooLarge(cursor string, asked int) (next int, ok bool) {
	z.move(cursor)
	if z.over == 0 || asked < z.over {
		z.over = asked
	}
	next = (z.fit + z.over) / 2
	return next, next > z.fit
}

// widen returns the limit to ask after a full page of echoed rows that could
// not move the cursor, or a reason to stall: the server's cap is reached, or
// the body cap leaves no larger size to try.
func (z *sizing) widen(echoed int) (next int, stall string) {
	if z.cap > 0 && echoed >= z.cap {
		return 0, fmt.Sprintf("the peer caps pages at %d rows (its AI_MEMORY_MAX_PAGE_SIZE); raise it on the peer above the size of this tie group", z.cap)
	}
	next = watermark.NextLimit(echoed)
	if z.cap > 0 {
		next = min(next, z.cap)
	}
	if z.over > 0 {
		next = min(next, (z.fit+z.over)/2)
		if next <= echoed {
			return 0, fmt.Sprintf("a page of %d rows fits under MAX_RESPONSE_BYTES but one of %d does not; raise MAX_RESPONSE_BYTES", z.fit, z.over)
		}
	}
	return next, ""
}
