package operator

import (
	"strings"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/event"
)

func TestReconcileOptionsNameTheirVariable(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	opt, err := reconcileOptions(env(nil))
	if err != nil || opt.MaxDeletePercent != 10 || opt.Retention != 720*time.Hour {
		t.Fatalf("defaults: %+v %v", opt, err)
	}
	opt, err = reconcileOptions(env(map[string]string{"RECONCILE_MAX_DELETE_PERCENT": "25", "TOMBSTONE_RETENTION": "48h"}))
	if err != nil || opt.MaxDeletePercent != 25 || opt.Retention != 48*time.Hour {
		t.Fatalf("set: %+v %v", opt, err)
	}
	for name, val := range map[string]string{"RECONCILE_MAX_DELETE_PERCENT": "101", "TOMBSTONE_RETENTION": "30d"} {
		if _, err := reconcileOptions(env(map[string]string{name: val})); err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, val, err)
		}
	}
	if _, err := event.Parse([]byte(`{"action":"reconcile","dry_run":true,"max_deletions":5}`)); err != nil {
		t.Fatal(err)
	}
}
