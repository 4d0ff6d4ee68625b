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
// windows past MaxWindows; the least recently used go, counted, and the
// windows in use stay.
func TestWindowsAreBounded(t *testing.T) {
	e, set := newEngine(t, "settings: {rate_limits: [{name: w, key: api_key, requests: 2, per: 1h}]}\n")
	check := func(key string) engine.LimitDecision {
		dec, limited := e.Limit(set, "", "", engine.LimitCheck{API: scenarios.APIConversations, APIKey: key, Characters: -1})
		if !limited {
			t.Fatal("no limit applied")
		}
		return dec
	}
	check("kept")
	const extra = 50
	for i := 0; i < engine.MaxWindows+extra; i++ {
		check("key-" + strconv.Itoa(i))
		if i%1000 == 0 {
			check("kept") // in use: never the one evicted
		}
	}
	check("kept")
	_, stats := e.Windows("", func(time.Time) string { return "" })
	if stats.Windows != engine.MaxWindows || stats.Evicted != extra+1 {
		t.Fatalf("windows %d (max %d), evicted %d; want the max and %d evicted", stats.Windows, engine.MaxWindows, stats.Evicted, extra+1)
	}
	// "kept" was used three times since its window began, and its
	// window survived: the fourth request is refused.
	if dec := check("kept"); !dec.Refused {
		t.Fatalf("the window in use was evicted: %+v", dec.States)
	}
	// An evicted key starts afresh.
	if dec := check("key-0"); dec.Refused || dec.States[0].Remaining != 1 {
		t.Fatalf("an evicted key: %+v", dec)
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
