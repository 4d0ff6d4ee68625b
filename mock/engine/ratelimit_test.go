package engine_test

import (
	"context"
	"strconv"
	"testing"
	"testing/fstest"
	"time"

	"github.com/msgmock/msgmock/mock/clock"
	"github.com/msgmock/msgmock/mock/engine"
	"github.com/msgmock/msgmock/scenarios"
)

func newEngine(t *testing.T, yaml string) (*engine.Engine, *scenarios.Set) {
	t.Helper()
	store, err := scenarios.NewFSStore("test", fstest.MapFS{"s.yaml": {Data: []byte(yaml)}}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(context.Background(), engine.Options{Fixtures: store, Clock: clock.NewVirtual(time.Date(2026, 3, 15, 14, 0, 0, 0, time.UTC)), Seed: 1})
	t.Cleanup(e.Close)
	return e, store.Current()
}

// TestWindowsAreBounded: a new API key per request cannot grow the
// windows past their bounds, nor make another session's windows go: past
// MaxSessionWindows a session loses its own least recently used window;
// past MaxWindows the session holding the most does; past
// retention.sessions (+1, the default session) the least recently used
// session loses all of its. A window in use stays, and an evicted key
// starts afresh.
func TestWindowsAreBounded(t *testing.T) {
	e, set := newEngine(t, "settings: {retention: {sessions: 20}, rate_limits: [{name: w, key: api_key, requests: 2, per: 1h}]}\n")
	check := func(session, key string) engine.LimitDecision {
		dec, limited := e.Limit(set, session, "", engine.LimitCheck{API: scenarios.APIConversations, APIKey: key, Characters: -1})
		if !limited {
			t.Fatal("no limit applied")
		}
		return dec
	}
	stats := func() engine.LimiterStats {
		_, st := e.Windows("", func(time.Time) string { return "" })
		return st
	}
	usedUp := func(session, key string) {
		t.Helper()
		check(session, key)
		check(session, key)
		if dec := check(session, key); !dec.Refused {
			t.Fatalf("%s/%s: the window was not used up", session, key)
		}
	}
	stillUsedUp := func(session, key string) {
		t.Helper()
		if dec := check(session, key); !dec.Refused {
			t.Fatalf("%s/%s: its window was evicted (%+v); %+v", session, key, dec.States, stats())
		}
	}

	// One session's keys: it loses its own least recently used windows.
	usedUp("victim", "v")
	usedUp("noisy", "kept")
	const extra = 50
	for i := 0; i < engine.MaxSessionWindows+extra; i++ {
		check("noisy", "key-"+strconv.Itoa(i))
		if i%100 == 0 {
			check("noisy", "kept") // in use: never the one evicted
		}
	}
	stillUsedUp("noisy", "kept")
	stillUsedUp("victim", "v")
	if st := stats(); st.Windows != engine.MaxSessionWindows+1 || st.Evicted != extra+1 {
		t.Fatalf("%+v; want noisy's %d windows and victim's, %d evicted", st, engine.MaxSessionWindows, extra+1)
	}
	if dec := check("noisy", "key-0"); dec.Refused || dec.States[0].Remaining != 1 {
		t.Fatalf("an evicted key: %+v", dec)
	}

	// Many sessions' keys: past MaxWindows the largest session pays.
	for s := 0; s < engine.MaxWindows/engine.MaxSessionWindows; s++ {
		for i := 0; i < engine.MaxSessionWindows; i++ {
			check("crowd-"+strconv.Itoa(s), "key-"+strconv.Itoa(i))
		}
	}
	stillUsedUp("victim", "v")
	if st := stats(); st.Windows != engine.MaxWindows {
		t.Fatalf("%+v; want %d windows", st, engine.MaxWindows)
	}

	// Past retention.sessions (20, and the default session): the least
	// recently used sessions go whole — the crowd's, used before victim.
	for s := 0; s < 20; s++ {
		check("late-"+strconv.Itoa(s), "k")
	}
	stillUsedUp("victim", "v")
	if wins, _ := e.Windows("crowd-0", func(time.Time) string { return "" }); len(wins) != 0 {
		t.Fatalf("crowd-0, the least recently used session, kept %d windows", len(wins))
	}
}

// TestNoLimitsNoWork: with no limit configured, Limit reports so and
// creates nothing.
func TestNoLimitsNoWork(t *testing.T) {
	e, set := newEngine(t, "scenario: {name: default, rules: []}\n")
	if _, limited := e.Limit(set, "", "", engine.LimitCheck{API: scenarios.APIConversations, APIKey: "k", Characters: -1}); limited {
		t.Fatal("limited without limits")
	}
	if e.LimitsApply(set) {
		t.Fatal("LimitsApply without limits")
	}
}
