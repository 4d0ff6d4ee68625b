package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/msgmock/msgmock/mock/record/capture"
	"github.com/msgmock/msgmock/scenarios"
)

// Options of a HAR import.
type Options struct {
	// Source is the HAR's file name; the scenario is named after it.
	Source string
	// Scenario names the scenario instead (it also names the files).
	Scenario string
	// NoReadRules leaves the errors of reads (GET) out of the scenario
	// even when msgmock's rules can match reads.
	NoReadRules bool
}

// File is one file of the output: a name (no directory) and its bytes.
type File struct {
	Name string
	Data []byte
}

// Result is what an import made.
type Result struct {
	Scenario string
	Files    []File // the conversations file, then the scenario file
	Summary  Summary
}

// Summary says what the import did with each entry of the HAR.
type Summary struct {
	Source        string      `json:"source,omitempty"`
	Creator       string      `json:"creator,omitempty"` // the browser that wrote it
	Entries       int         `json:"entries"`
	Used          []EntryNote `json:"used"`
	Skipped       []EntryNote `json:"skipped"`
	Scenario      string      `json:"scenario"`
	Rules         int         `json:"rules"`
	Conversations int         `json:"conversations"`
	Messages      int         `json:"messages"`
	Warnings      []string    `json:"warnings,omitempty"`
}

// EntryNote is one entry of the HAR and what became of it.
type EntryNote struct {
	Index  int    `json:"index"` // 1-based, in the HAR's order
	Method string `json:"method"`
	URL    string `json:"url"` // without user information or query
	Status int    `json:"status"`
	Note   string `json:"note"` // what it became, or why it was skipped
}

// ErrNothingToImport is returned, with the Result and its Summary, for a
// HAR none of whose entries belongs to either API.
var ErrNothingToImport = errors.New("no entry of the HAR belongs to either API")

// SlowAnswer is the wait past which a successful answer is unusual: its
// latency gets a rule.
const SlowAnswer = time.Second

// exchange is one API entry of the HAR.
type exchange struct {
	index  int
	ep     endpoint
	url    *url.URL
	header map[string][]string
	body   []byte

	status   int
	rheader  map[string][]string
	rbody    []byte
	rproblem string // why rbody is nil
	wait     time.Duration
	fault    string

	note    EntryNote
	skipped bool
	// set by learn
	replies []capture.Reply
}

// MaxRules bounds the rules of one import's scenario: each is tried
// against every request the scenario answers, and the file must load.
const MaxRules = 1000

// tooLarge reports whether the loader refused a file for its size (bytes,
// nodes) rather than its content.
func tooLarge(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "aliases too much") || strings.Contains(msg, "nested too deeply") || strings.Contains(msg, "fixtures files may be at most")
}

// HAR imports a HAR: the fixtures and the scenario that reproduce its API
// requests, and what it did with each entry. A file that is not a HAR is
// refused with an error wrapping ErrNotHAR; nothing else is an error but
// ErrNothingToImport. The output is checked to load as msgmock loads
// fixtures before it is returned.
func HAR(data []byte, opts Options) (*Result, error) {
	name, err := scenarioName(opts)
	if err != nil {
		return nil, err
	}
	log, err := parseHAR(data)
	if err != nil {
		return nil, err
	}
	im := &harImport{
		book:      capture.NewBook(),
		minted:    map[string]bool{},
		readRules: !opts.NoReadRules && ReadRulesSupported(),
		sum: Summary{Source: opts.Source, Entries: len(*log.Entries), Scenario: name,
			Creator: strings.TrimSpace(log.Creator.Name + " " + log.Creator.Version), Used: []EntryNote{}, Skipped: []EntryNote{}},
	}
	im.read(*log.Entries)
	im.learn()
	rules, used := im.plan()
	if im.usedNone() {
		return &Result{Scenario: name, Summary: im.finish()}, ErrNothingToImport
	}
	from := sourceName(opts.Source)
	render := func(rules []capture.Rule) []File {
		sc := capture.Scenario{Name: name, Rules: rules,
			Description: fmt.Sprintf("The errors and unusual answers of %s's API requests, in the order it shows them.", sourceName(opts.Source))}
		if !im.readRules {
			sc.Description += " Errors of reads are left out: this msgmock's rules match sends only."
		}
		return []File{
			{name + "-conversations.yaml", im.book.ConversationsFile(
				"imported by msgmock import har from "+from+": the conversations and messages its answers showed,",
				"as they were before the recorded sends (a replayed send stores its message again).")},
			{name + ".yaml", im.book.ScenarioFile(sc,
				"imported by msgmock import har from "+from+". Serve it with --scenario "+name+" (or X-Mock-Scenario: "+name+"):",
				"the rules of one request answer it, in the order the HAR shows, as the service did; then msgmock answers as usual.")},
		}
	}
	// A scenario is one file, and the loader reads a file of at most 4 MiB
	// and 200,000 YAML nodes: past MaxRules, or past what one file holds,
	// the HAR's later rules are left out (their entries say so), halving
	// until the file loads.
	keep := min(len(rules), MaxRules)
	files := render(rules[:keep])
	err = checkLoads(files)
	for err != nil && keep > 1 && tooLarge(err) {
		keep /= 2
		files = render(rules[:keep])
		err = checkLoads(files)
	}
	if err != nil {
		return nil, fmt.Errorf("the import made fixtures msgmock refuses (please report it): %w", err)
	}
	if keep < len(rules) {
		for _, xs := range used[keep:] {
			for _, x := range xs {
				x.drop(fmt.Sprintf("left out: the scenario holds the HAR's first %d rules (at most %d, in one file msgmock reads); import the rest from a shorter HAR", keep, MaxRules))
			}
		}
		im.sum.Warnings = append(im.sum.Warnings, fmt.Sprintf("the scenario holds the first %d of %d rules: one fixtures file holds at most %d rules, 4 MiB and 200,000 YAML nodes", keep, len(rules), MaxRules))
		rules = rules[:keep]
	}
	im.sum.Rules = len(rules)
	return &Result{Scenario: name, Files: files, Summary: im.finish()}, nil
}

// harImport is one import under way.
type harImport struct {
	book      *capture.Book
	exchanges []*exchange
	minted    map[string]bool // ids the replay gives new values: api + " " + id
	readRules bool
	sum       Summary
	// strippedNoted: the summary warns once of requests without credentials.
	strippedNoted bool
	apiHosts      map[string]bool
}

// usedNone reports whether no entry of either API could be used.
func (im *harImport) usedNone() bool {
	for _, x := range im.exchanges {
		if !x.skipped {
			return false
		}
	}
	return true
}

// finish lists every entry, used or skipped, in the HAR's order.
func (im *harImport) finish() Summary {
	for _, x := range im.exchanges {
		if x.note.Note == "" {
			x.note.Note = "msgmock answers it as usual"
		}
		if x.skipped {
			im.sum.Skipped = append(im.sum.Skipped, x.note)
		} else {
			im.sum.Used = append(im.sum.Used, x.note)
		}
	}
	sort.Slice(im.sum.Skipped, func(i, j int) bool { return im.sum.Skipped[i].Index < im.sum.Skipped[j].Index })
	im.sum.Conversations, im.sum.Messages = im.book.Counts()
	return im.sum
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// scenarioName is --scenario, else the HAR's file name made a safe file
// and scenario name.
func scenarioName(opts Options) (string, error) {
	if opts.Scenario != "" {
		if !validName.MatchString(opts.Scenario) || len(opts.Scenario) > 100 {
			return "", fmt.Errorf("scenario name %q: use letters, digits, '.', '_' and '-' (it names the files too)", opts.Scenario)
		}
		return opts.Scenario, nil
	}
	base := path.Base(strings.ReplaceAll(opts.Source, "\\", "/"))
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".json"), ".har")
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-._")
	for strings.Contains(name, "--") {
		name = strings.ReplaceAll(name, "--", "-")
	}
	if len(name) > 100 {
		name = name[:100]
	}
	if name == "" || name == "default" {
		name = "har"
	}
	return name, nil
}

func sourceName(source string) string {
	if source == "" {
		return "a HAR"
	}
	return path.Base(strings.ReplaceAll(source, "\\", "/"))
}

// read sorts the entries into API exchanges and skipped ones, and notes
// every credential any entry carries.
func (im *harImport) read(raws []json.RawMessage) {
	entries := make([]harEntry, len(raws))
	problems := make([]string, len(raws))
	urls := make([]*url.URL, len(raws))
	im.apiHosts = map[string]bool{}
	for i, raw := range raws {
		entries[i], problems[i] = decodeEntry(raw)
		if problems[i] != "" {
			continue
		}
		im.noteSecrets(entries[i])
		u, why := requestURL(entries[i].Request.URL)
		urls[i] = u
		if why != "" {
			problems[i] = why
			continue
		}
		if ep, _ := routeOf(strings.ToUpper(entries[i].Request.Method), u.Path); ep.api != "" {
			im.apiHosts[u.Host] = true
		}
	}
	for i := range raws {
		e := entries[i]
		note := EntryNote{Index: i + 1, Method: strings.ToUpper(e.Request.Method), Status: e.Response.Status, URL: shortURL(urls[i], e.Request.URL)}
		if problems[i] != "" {
			im.skip(note, problems[i])
			continue
		}
		u := urls[i]
		ep, why := routeOf(note.Method, u.Path)
		if ep.api == "" {
			switch {
			case why != "":
			case im.apiHosts[u.Host]:
				why = "not a path of either API"
			default:
				why = "another site (" + u.Host + ")"
			}
			im.skip(note, why)
			continue
		}
		x := &exchange{index: i + 1, ep: ep, url: u, header: headerMap(e.Request.Headers),
			status: e.Response.Status, rheader: headerMap(e.Response.Headers), wait: waitOf(e.Timings)}
		var problem string
		if x.body, problem = requestBody(e.Request.PostData); problem != "" {
			im.skip(note, problem)
			continue
		}
		if x.status <= 0 {
			failure := e.Response.Error
			if failure == "" {
				failure = e.Error
			}
			x.fault = faultOf(failure)
			if x.fault == "" {
				if failure == "" {
					failure = "status 0"
				}
				im.skip(note, "no answer was recorded ("+failure+")")
				continue
			}
		} else {
			x.rbody, x.rproblem = responseBody(e.Response.Content)
		}
		x.note = note
		im.exchanges = append(im.exchanges, x)
	}
}

func (im *harImport) skip(note EntryNote, why string) {
	note.Note = why
	im.sum.Skipped = append(im.sum.Skipped, note)
}

// use says what an API entry became.
func (x *exchange) use(what string) { x.note.Note, x.skipped = what, false }

// drop says why an API entry could not be used.
func (x *exchange) drop(why string) { x.note.Note, x.skipped = why, true }

// shortURL is a URL as the summary shows it: scheme, host and path.
func shortURL(u *url.URL, raw string) string {
	if u == nil {
		if len(raw) > 60 {
			return raw[:60] + "…"
		}
		return raw
	}
	s := u.Scheme + "://" + u.Host + u.EscapedPath()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// faultOf maps a browser's network error to the fault msgmock reproduces it with.
func faultOf(failure string) string {
	f := strings.ToUpper(failure)
	switch {
	case strings.Contains(f, "CONNECTION_RESET"), strings.Contains(f, "CONNECTION_CLOSED"), strings.Contains(f, "NS_ERROR_NET_RESET"):
		return scenarios.FaultReset
	case strings.Contains(f, "EMPTY_RESPONSE"), strings.Contains(f, "NS_ERROR_NET_INTERRUPT"):
		return scenarios.FaultEmpty
	case strings.Contains(f, "TIMED_OUT"), strings.Contains(f, "NS_ERROR_NET_TIMEOUT"):
		return scenarios.FaultTimeout
	}
	return ""
}

// noteSecrets keeps every credential an entry carries — headers, cookies,
// query, user information, sensitive fields of JSON and form bodies, both
// ways — to be redacted wherever the output would hold it.
func (im *harImport) noteSecrets(e harEntry) {
	b := im.book
	b.NoteHeaders(headerMap(e.Request.Headers))
	b.NoteHeaders(headerMap(e.Response.Headers))
	for _, c := range append(append([]harPair(nil), e.Request.Cookies...), e.Response.Cookies...) {
		b.NoteCookie(c.Name, c.Value)
	}
	for _, q := range e.Request.QueryString {
		if capture.SensitiveName(q.Name) {
			b.NoteSecret(q.Value)
		}
	}
	if u, err := url.Parse(e.Request.URL); err == nil {
		b.NoteURL(u)
	}
	if body, _ := requestBody(e.Request.PostData); body != nil {
		if json.Valid(body) {
			b.NoteJSON(body)
		} else if q, err := url.ParseQuery(string(body)); err == nil {
			b.NoteQuery(q) // a form
		}
	}
	if e.Response.Content.Text != nil {
		body := []byte(*e.Response.Content.Text)
		if strings.EqualFold(e.Response.Content.Encoding, "base64") {
			body, _ = decodeBase64(*e.Response.Content.Text)
		}
		b.NoteJSON(body)
	}
}
