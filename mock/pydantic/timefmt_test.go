package pydantic

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// formatWithLayout is Time.String as it was written with time.Format: the
// reference the appending formatter is held to.
func formatWithLayout(p Time) string {
	t := p.t
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += "." + padLeft(strconv.Itoa(us), 6)
	}
	if p.naive {
		return s
	}
	_, off := t.Zone()
	if off == 0 {
		return s + "Z"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return s + sign + padLeft(strconv.Itoa(off/3600), 2) + ":" + padLeft(strconv.Itoa(off%3600/60), 2)
}

// TestTimeStringAsLayout: over seeded random instants, offsets (whole
// hours, minutes, UTC), naive or not, years 1 to 9999 and beyond, and
// nanoseconds that do and do not make whole microseconds, String is what
// the layout-based formatter wrote.
func TestTimeStringAsLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 1))
	fixed := []time.Time{
		time.Date(2026, 3, 15, 14, 22, 11, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -(23*3600+59*60))),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 6, 7, 8, 9, 10, 500, time.FixedZone("", 5*3600+30*60)),
		time.Date(2026, 1, 2, 3, 4, 5, 999, time.FixedZone("", 0)),
	}
	for i := 0; i < 100_000; i++ {
		var at time.Time
		if i < len(fixed) {
			at = fixed[i]
		} else {
			zone := time.UTC
			if rng.IntN(3) > 0 {
				zone = time.FixedZone("", (rng.IntN(48*60)-24*60)*60+rng.IntN(2)*rng.IntN(60))
			}
			ns := rng.IntN(1_000_000_000)
			if rng.IntN(3) == 0 {
				ns = ns / 1000 * 1000
			}
			at = time.Date(1+rng.IntN(9999), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), ns, zone)
		}
		p := TimeOf(at, rng.IntN(4) == 0)
		if got, want := p.String(), formatWithLayout(p); got != want {
			t.Fatalf("%v (naive %v): %q, want %q", at, p.naive, got, want)
		}
	}
}
