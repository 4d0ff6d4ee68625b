package scenarios

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Chunking of a streamed reply.
const (
	ChunkWord = "word"
	ChunkChar = "char"
)

// Mid-stream fault kinds (StreamFault.Kind).
const (
	StreamStall     = "stall"
	StreamDrop      = "drop"
	StreamMalformed = "malformed"
	StreamRepeat    = "repeat"
)

// Stream says how a reply is delivered in message.delta events. As read
// from a reply or a profile it holds the keys that were given; a reply's
// Stream is merged with its profile by Settings.StreamPlan before use.
type Stream struct {
	// Profile names a built-in profile (fast, realistic, slow) or one of
	// settings.stream_profiles; the other keys override it.
	Profile string
	// Chunk is word, char, or "" for runs of Size characters; with SizeMax
	// above Size, each chunk's size is drawn between them.
	Chunk         string
	Size, SizeMax int
	// The pace: a pause between chunks (Interval), or TokensPerSecond
	// (a chunk is a token); Jitter (0–1) varies each pause by up to that
	// fraction either way.
	Interval        *Latency
	TokensPerSecond float64
	Jitter          float64
	// FirstToken is the wait, after the reply's after, before the first
	// chunk: a model's time to first token.
	FirstToken *Latency
	Faults     []StreamFault

	given     streamKeys
	profileAt Problem // where profile was named, for the check across files
}

// StreamFault is a scripted mid-stream failure of a streamed reply.
type StreamFault struct {
	Kind   string        // StreamStall, StreamDrop, StreamMalformed or StreamRepeat
	Chunk  int           // 1-based: the chunk it happens at (after, for stall and drop); 0: drawn per reply
	For    time.Duration // how long a stall lasts
	Chance float64       // 0: always; else the seeded probability it happens
}

type streamKeys uint8

const (
	givenChunk streamKeys = 1 << iota
	givenPace
	givenJitter
	givenFirstToken
	givenFaults
)

// DefaultStream is a stream that names nothing: word by word, 50 ms apart.
var DefaultStream = Stream{Chunk: ChunkWord, Interval: &Latency{Fixed: 50 * time.Millisecond}}

// builtinProfiles are the stream profiles every fixtures directory has.
// realistic follows what LLM simulators measure of hosted models: about
// 800 ms to the first token, then 20 tokens a second, ±30%.
var builtinProfiles = map[string]*Stream{
	"fast": {Chunk: ChunkWord, TokensPerSecond: 100, Jitter: 0.1, FirstToken: &Latency{Fixed: 100 * time.Millisecond},
		given: givenChunk | givenPace | givenJitter | givenFirstToken},
	"realistic": {Chunk: ChunkWord, TokensPerSecond: 20, Jitter: 0.3, FirstToken: &Latency{Median: 800 * time.Millisecond, P99: 1500 * time.Millisecond},
		given: givenChunk | givenPace | givenJitter | givenFirstToken},
	"slow": {Chunk: ChunkWord, TokensPerSecond: 5, Jitter: 0.5, FirstToken: &Latency{Median: 3 * time.Second, P99: 8 * time.Second},
		given: givenChunk | givenPace | givenJitter | givenFirstToken},
}

// BuiltinProfiles are the names of the built-in stream profiles, sorted.
func BuiltinProfiles() []string {
	names := make([]string, 0, len(builtinProfiles))
	for n := range builtinProfiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// StreamProfile returns the profile name: the settings' own, else a
// built-in one; nil if neither has it.
func (s *Settings) StreamProfile(name string) *Stream {
	if p := s.StreamProfiles[name]; p != nil {
		return p
	}
	return builtinProfiles[name]
}

// StreamPlan is st as delivered: DefaultStream, overridden by st's
// profile, overridden by what st itself gives. A profile the settings no
// longer define (a reload removed it) contributes nothing.
func (s *Settings) StreamPlan(st *Stream) Stream {
	plan := DefaultStream
	if st == nil {
		return plan
	}
	if st.Profile != "" {
		if p := s.StreamProfile(st.Profile); p != nil {
			plan.override(p)
		}
	}
	plan.override(st)
	plan.Profile, plan.given = st.Profile, 0
	return plan
}

// override copies the keys o gave onto st.
func (st *Stream) override(o *Stream) {
	if o.given&givenChunk != 0 {
		st.Chunk, st.Size, st.SizeMax = o.Chunk, o.Size, o.SizeMax
	}
	if o.given&givenPace != 0 {
		st.Interval, st.TokensPerSecond = o.Interval, o.TokensPerSecond
	}
	if o.given&givenJitter != 0 {
		st.Jitter = o.Jitter
	}
	if o.given&givenFirstToken != 0 {
		st.FirstToken = o.FirstToken
	}
	if o.given&givenFaults != 0 {
		st.Faults = o.Faults
	}
}

// Gap is the pause before a chunk that is not the first: the interval or
// the tokens-per-second pace, varied by the jitter. uniform and normal
// are draws for the interval (Latency.Sample), vary one in [0, 1) for the
// jitter.
func (st *Stream) Gap(uniform, normal, vary float64) time.Duration {
	base := time.Duration(0)
	switch {
	case st.TokensPerSecond > 0:
		base = time.Duration(float64(time.Second) / st.TokensPerSecond)
	case st.Interval != nil:
		base = st.Interval.Sample(uniform, normal)
	}
	if st.Jitter > 0 {
		base = time.Duration(float64(base) * (1 + st.Jitter*(2*vary-1)))
	}
	return base
}

// GapDraws reports which draws Gap uses: the interval's (Latency.Random)
// and the jitter's.
func (st *Stream) GapDraws() (interval, jitter bool) {
	return st.TokensPerSecond == 0 && st.Interval.Random(), st.Jitter > 0
}

var (
	streamKeyList  = []string{"profile", "chunk", "interval", "tokens_per_second", "jitter", "first_token", "faults"}
	profileKeyList = streamKeyList[1:]
	faultKeyList   = []string{"fault", "chunk", "for", "chance"}
)

// stream reads a reply's stream (profile false) or a profile's definition.
func (r *reader) stream(n *yaml.Node, what string, profile bool) *Stream {
	keys := streamKeyList
	if profile {
		keys = profileKeyList
	}
	f := r.fields(n, what, keys...)
	if f == nil {
		return nil
	}
	st := &Stream{}
	if v := f["profile"]; v != nil {
		st.Profile, _ = r.nonEmpty(v, what+".profile")
		st.profileAt = Problem{File: r.file, Line: v.Line, Col: v.Column}
	}
	if v := f["chunk"]; v != nil {
		st.given |= givenChunk
		r.chunk(v, what+".chunk", st)
	}
	if f["interval"] != nil && f["tokens_per_second"] != nil {
		r.errorf(f["tokens_per_second"], "%s: give interval or tokens_per_second (the pace), not both", what)
	}
	if v := f["interval"]; v != nil {
		st.given |= givenPace
		st.Interval = r.latency(v, what+".interval", true)
	}
	if v := f["tokens_per_second"]; v != nil {
		st.given |= givenPace
		if x, ok := r.float(v, what+".tokens_per_second", 0, 100_000); ok {
			if x == 0 {
				r.errorf(v, "%s.tokens_per_second must be above 0", what)
			}
			st.TokensPerSecond = x
		}
	}
	if v := f["jitter"]; v != nil {
		st.given |= givenJitter
		st.Jitter, _ = r.float(v, what+".jitter", 0, 1)
	}
	if v := f["first_token"]; v != nil {
		st.given |= givenFirstToken
		st.FirstToken = r.latency(v, what+".first_token", true)
	}
	if v := f["faults"]; v != nil {
		st.given |= givenFaults
		for i, item := range r.seq(v, what+".faults") {
			if ft, ok := r.streamFault(item, fmt.Sprintf("%s.faults[%d]", what, i)); ok {
				st.Faults = append(st.Faults, ft)
			}
		}
	}
	return st
}

// chunk reads word, char, a number of characters, or {min, max} of them.
func (r *reader) chunk(n *yaml.Node, what string, st *Stream) {
	n = r.resolve(n)
	if n == nil {
		return
	}
	if n.Kind == yaml.MappingNode {
		f := r.fields(n, what, "min", "max")
		lo, okLo := 0, false
		hi, okHi := 0, false
		if v := f["min"]; v != nil {
			lo, okLo = r.integer(v, what+".min", 1, 65536)
		}
		if v := f["max"]; v != nil {
			hi, okHi = r.integer(v, what+".max", 1, 65536)
		}
		if f != nil && (f["min"] == nil || f["max"] == nil) {
			r.errorf(n, "%s: a drawn chunk size needs both min and max (characters)", what)
			return
		}
		if okLo && okHi && lo > hi {
			r.errorf(f["min"], "%s: min (%d) is above max (%d)", what, lo, hi)
			return
		}
		st.Chunk, st.Size, st.SizeMax = "", lo, hi
		return
	}
	s, ok := r.str(n, what)
	if !ok {
		return
	}
	switch s {
	case ChunkWord, ChunkChar:
		st.Chunk = s
	default:
		size, err := strconv.Atoi(s)
		if err != nil || size < 1 || size > 65536 {
			r.errorf(n, "%s must be word, char, a number of characters (1–65536) or {min, max}, got %q", what, s)
		}
		st.Chunk, st.Size, st.SizeMax = "", size, size
	}
}

func (r *reader) streamFault(n *yaml.Node, what string) (StreamFault, bool) {
	f := r.fields(n, what, faultKeyList...)
	if f == nil {
		return StreamFault{}, false
	}
	before := len(*r.probs)
	var ft StreamFault
	if v := f["fault"]; v == nil {
		r.errorf(n, "%s: fault is required (stall, drop, malformed or repeat)", what)
	} else if s, ok := r.str(v, what+".fault"); ok {
		switch s {
		case StreamStall, StreamDrop, StreamMalformed, StreamRepeat:
			ft.Kind = s
		default:
			r.errorf(v, "%s.fault must be stall, drop, malformed or repeat, got %q", what, s)
		}
	}
	if v := f["chunk"]; v != nil {
		ft.Chunk, _ = r.integer(v, what+".chunk", 1, 1_000_000)
	}
	if v := f["chance"]; v != nil {
		if c, ok := r.float(v, what+".chance", 0, 1); ok {
			if c == 0 {
				r.errorf(v, "%s.chance must be above 0 (a fault that never happens does nothing)", what)
			}
			ft.Chance = c
		}
	}
	if v := f["for"]; v != nil {
		if ft.Kind != "" && ft.Kind != StreamStall {
			r.errorf(v, "%s.for is how long a stall lasts; a %s has none", what, ft.Kind)
		} else if d, ok := r.duration(v, what+".for"); ok {
			if d == 0 {
				r.errorf(v, "%s.for must be above 0: a stall that lasts no time does nothing", what)
			}
			ft.For = d
		}
	} else if ft.Kind == StreamStall {
		r.errorf(n, "%s: a stall needs for (how long the stream pauses, such as 5s)", what)
	}
	return ft, len(*r.probs) == before
}

// streamProfiles reads settings.stream_profiles: name → profile.
func (r *reader) streamProfiles(n *yaml.Node, what string) map[string]*Stream {
	n = r.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "%s must be a mapping of profile names to profiles", what)
		return nil
	}
	out := map[string]*Stream{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, ok := r.nonEmpty(n.Content[i], what+" name")
		if !ok {
			continue
		}
		if _, dup := out[name]; dup {
			r.errorf(n.Content[i], "duplicate key %q in %s", name, what)
			continue
		}
		if p := r.stream(n.Content[i+1], what+"."+name, true); p != nil {
			out[name] = p
		}
	}
	return out
}

// unknownProfiles reports the streamed replies of sc that name a profile
// neither built in nor in settings.
func (s *Settings) unknownProfiles(sc *Scenario) Problems {
	var probs Problems
	for _, rule := range sc.Rules {
		for _, rep := range rule.Replies {
			st := rep.Stream
			if st == nil || st.Profile == "" || s.StreamProfile(st.Profile) != nil {
				continue
			}
			p := st.profileAt
			p.Msg = fmt.Sprintf("rule %q: unknown stream profile %q (built in: %s%s)", rule.Name, st.Profile,
				strings.Join(BuiltinProfiles(), ", "), s.ownProfiles())
			probs = append(probs, p)
		}
	}
	return probs
}

func (s *Settings) ownProfiles() string {
	if len(s.StreamProfiles) == 0 {
		return "; settings.stream_profiles defines none"
	}
	names := make([]string, 0, len(s.StreamProfiles))
	for n := range s.StreamProfiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return "; settings.stream_profiles: " + strings.Join(names, ", ")
}

// UnknownProfiles reports the replies of sc, a scenario added at run time,
// that name a stream profile the configuration does not define.
func (s *Set) UnknownProfiles(sc *Scenario) Problems { return s.Settings.unknownProfiles(sc) }

// maxStreamWait bounds one drawn wait of a stream (first token, a pause).
const maxStreamWait = 24 * time.Hour

// ClampWait keeps a drawn wait of a stream within [0, 24h].
func ClampWait(d time.Duration) time.Duration {
	return time.Duration(math.Min(math.Max(float64(d), 0), float64(maxStreamWait)))
}
