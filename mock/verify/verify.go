// Package verify is `msgmock verify`: it replays a script of requests
// against the real service and against msgmock, in order, and reports
// every difference in status, the headers that matter and the shape of the
// body — generated ids and times aside — so that a CI job can tell when
// the real API drifted from the mock.
//
// A script is YAML:
//
//	requests:
//	  - name: send a message
//	    method: POST
//	    path: /v1/messages
//	    headers: {Authorization: Bearer sk_test_51_fakeapikey123456, Content-Type: application/json}
//	    body: {sender_id: usr_82hd92, sender_type: user, text: Hello}
//	    save: {conv: data.conversation_id}
//	  - name: read it back
//	    method: GET
//	    path: /v1/conversations/${conv}/messages
//	    headers: {Authorization: Bearer sk_test_51_fakeapikey123456}
//
// body is sent as JSON (body_raw sends a string as it is); save keeps a
// value of the answer, by a dotted path ("data.message.id", "0.id"), that
// later requests use as ${name}. Each side keeps its own saved values, and
// they compare equal wherever they appear.
package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/msgmock/msgmock/scenarios"
)

// Script is a list of requests.
type Script struct {
	Requests []Request `yaml:"requests"`
}

// Request is one step of a script.
type Request struct {
	Name    string            `yaml:"name"`
	Method  string            `yaml:"method"`
	Path    string            `yaml:"path"`
	Headers map[string]string `yaml:"headers"`
	Body    yaml.Node         `yaml:"body"`
	BodyRaw *string           `yaml:"body_raw"`
	Save    map[string]string `yaml:"save"`

	body []byte // Body or BodyRaw, as sent (before ${…})
}

// Load reads a script, strictly: an unknown key is an error.
func Load(data []byte) (*Script, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Script
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("script: %w", err)
	}
	if len(s.Requests) == 0 {
		return nil, errors.New("script: no requests (a list under requests:)")
	}
	for i := range s.Requests {
		r := &s.Requests[i]
		if r.Name == "" {
			r.Name = fmt.Sprintf("request %d", i+1)
		}
		if r.Method == "" {
			r.Method = http.MethodGet
		}
		r.Method = strings.ToUpper(r.Method)
		if !strings.HasPrefix(r.Path, "/") {
			return nil, fmt.Errorf("script: %s: path must start with /, got %q", r.Name, r.Path)
		}
		switch {
		case r.BodyRaw != nil && !r.Body.IsZero():
			return nil, fmt.Errorf("script: %s: give body or body_raw, not both", r.Name)
		case r.BodyRaw != nil:
			r.body = []byte(*r.BodyRaw)
		case !r.Body.IsZero():
			js, err := scenarios.YAMLToJSON(mustMarshal(&r.Body))
			if err != nil {
				return nil, fmt.Errorf("script: %s: body: %w", r.Name, err)
			}
			r.body = bytes.TrimSpace(compact(js))
		}
	}
	return &s, nil
}

func mustMarshal(n *yaml.Node) []byte {
	b, _ := yaml.Marshal(n)
	return b
}

func compact(js []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, js) != nil {
		return js
	}
	return b.Bytes()
}

// Difference is one way the two answers differ.
type Difference struct {
	Where            string // "status", "header Content-Type", "body $.data.message"
	Upstream, Mockup string
}

// Result is one request's comparison.
type Result struct {
	Name, Method, Path string
	Diffs              []Difference
	Err                error // the request could not be made on a side
}

// side is one server and the values saved from its answers.
type side struct {
	name string
	base string
	vars map[string]string
}

// Run sends each request to upstream and to mock, in order, and compares
// the answers.
func Run(ctx context.Context, s *Script, upstreamBase, mockBase string, client *http.Client) []Result {
	up := &side{name: "upstream", base: strings.TrimSuffix(upstreamBase, "/"), vars: map[string]string{}}
	mk := &side{name: "msgmock", base: strings.TrimSuffix(mockBase, "/"), vars: map[string]string{}}
	var results []Result
	for _, req := range s.Requests {
		res := Result{Name: req.Name, Method: req.Method, Path: req.Path}
		a, errUpstream := up.do(ctx, client, req)
		b, errMock := mk.do(ctx, client, req)
		if err := errors.Join(errUpstream, errMock); err != nil {
			res.Err = err
			results = append(results, res)
			continue
		}
		// Save first: the answer that gives a value (a create's
		// Location, its links) compares equal where the value appears.
		var saveDiffs []Difference
		names := make([]string, 0, len(req.Save))
		for name := range req.Save {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			path := req.Save[name]
			va, okUpstream := lookup(a.json, path)
			vb, okMock := lookup(b.json, path)
			if okUpstream {
				up.vars[name] = va
			}
			if okMock {
				mk.vars[name] = vb
			}
			if !okUpstream || !okMock {
				saveDiffs = append(saveDiffs, Difference{Where: "save " + name + " (" + path + ")", Upstream: found(okUpstream), Mockup: found(okMock)})
			}
		}
		res.Diffs = append(compare(a, b, up, mk), saveDiffs...)
		results = append(results, res)
	}
	return results
}

func found(ok bool) string {
	if ok {
		return "a value"
	}
	return "no value"
}

// answer is what one side said.
type answer struct {
	status int
	header http.Header
	body   []byte
	json   any // the body, when it is JSON
	isJSON bool
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func (s *side) expand(text string) (string, error) {
	var missing []string
	out := varRef.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := s.vars[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%s: no saved value %s", s.name, strings.Join(missing, ", "))
	}
	return out, nil
}

func (s *side) do(ctx context.Context, client *http.Client, r Request) (*answer, error) {
	path, err := s.expand(r.Path)
	if err != nil {
		return nil, err
	}
	body, err := s.expand(string(r.body))
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if r.body != nil {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, s.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	for k, v := range r.Headers {
		if v, err = s.expand(v); err != nil {
			return nil, err
		}
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	a := &answer{status: res.StatusCode, header: res.Header, body: data}
	if json.Unmarshal(data, &a.json) == nil && len(bytes.TrimSpace(data)) > 0 {
		a.isJSON = true
	}
	return a, nil
}

// headersThatMatter are compared between the two answers.
var headersThatMatter = []string{"Content-Type", "Allow", "Www-Authenticate", "Retry-After", "Location"}

func compare(a, b *answer, up, mk *side) []Difference {
	var diffs []Difference
	if a.status != b.status {
		diffs = append(diffs, Difference{"status", strconv.Itoa(a.status), strconv.Itoa(b.status)})
	}
	for _, h := range headersThatMatter {
		x, y := normHeader(h, a.header.Get(h)), normHeader(h, b.header.Get(h))
		if h == "Location" {
			x, y = unexpand(x, up), unexpand(y, mk)
		}
		if x != y {
			diffs = append(diffs, Difference{"header " + h, x, y})
		}
	}
	switch {
	case a.isJSON && b.isJSON:
		diffs = compareJSON(diffs, "$", "", unexpandJSON(a.json, up), unexpandJSON(b.json, mk))
	case a.isJSON != b.isJSON:
		diffs = append(diffs, Difference{"body", kindOfBody(a), kindOfBody(b)})
	default:
		x, y := unexpand(string(a.body), up), unexpand(string(b.body), mk)
		if x != y {
			diffs = append(diffs, Difference{"body", clip(x), clip(y)})
		}
	}
	return diffs
}

func kindOfBody(a *answer) string {
	if a.isJSON {
		return "JSON"
	}
	if len(a.body) == 0 {
		return "empty"
	}
	return "not JSON: " + clip(string(a.body))
}

func normHeader(name, v string) string {
	switch name {
	case "Content-Type":
		if t, _, err := mime.ParseMediaType(v); err == nil {
			return t
		}
	case "Allow":
		parts := strings.Split(v, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		sort.Strings(parts)
		return strings.Join(parts, ", ")
	}
	return v
}

// unexpand writes each saved value back as ${name}, so that the two sides'
// own ids compare equal.
func unexpand(text string, s *side) string {
	names := make([]string, 0, len(s.vars))
	for n := range s.vars {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return len(s.vars[names[i]]) > len(s.vars[names[j]]) })
	for _, n := range names {
		if v := s.vars[n]; v != "" {
			text = strings.ReplaceAll(text, v, "${"+n+"}")
		}
	}
	return text
}

func unexpandJSON(v any, s *side) any {
	switch x := v.(type) {
	case string:
		return unexpand(x, s)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = unexpandJSON(e, s)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = unexpandJSON(e, s)
		}
		return out
	}
	return v
}

var (
	timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$`)
	generated = regexp.MustCompile(`^([a-z]+)_[A-Za-z0-9]+$`)
)

// volatile reports whether two strings under key are generated values
// that may differ: ids and times.
func volatile(key, a, b string) bool {
	if timestamp.MatchString(a) && timestamp.MatchString(b) {
		return true
	}
	if key == "id" || strings.HasSuffix(key, "_id") {
		ma, mb := generated.FindStringSubmatch(a), generated.FindStringSubmatch(b)
		return ma != nil && mb != nil && ma[1] == mb[1] // the same kind of id
	}
	return false
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

func compareJSON(diffs []Difference, path, key string, a, b any) []Difference {
	if ka, kb := jsonKind(a), jsonKind(b); ka != kb {
		return append(diffs, Difference{"body " + path, ka + " " + clip(show(a)), kb + " " + clip(show(b))})
	}
	switch x := a.(type) {
	case map[string]any:
		y := b.(map[string]any)
		keys := make([]string, 0, len(x)+len(y))
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			va, inUpstream := x[k]
			vb, inMock := y[k]
			switch {
			case !inUpstream:
				diffs = append(diffs, Difference{"body " + path + "." + k, "(absent)", clip(show(vb))})
			case !inMock:
				diffs = append(diffs, Difference{"body " + path + "." + k, clip(show(va)), "(absent)"})
			default:
				diffs = compareJSON(diffs, path+"."+k, k, va, vb)
			}
		}
	case []any:
		y := b.([]any)
		if len(x) != len(y) {
			diffs = append(diffs, Difference{"body " + path + " length", strconv.Itoa(len(x)), strconv.Itoa(len(y))})
		}
		for i := 0; i < len(x) && i < len(y); i++ {
			diffs = compareJSON(diffs, fmt.Sprintf("%s[%d]", path, i), key, x[i], y[i])
		}
	case string:
		if y := b.(string); x != y && !volatile(key, x, y) {
			diffs = append(diffs, Difference{"body " + path, clip(show(x)), clip(show(y))})
		}
	default:
		if show(a) != show(b) {
			diffs = append(diffs, Difference{"body " + path, show(a), show(b)})
		}
	}
	return diffs
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}

// lookup reads a dotted path ("data.messages.0.id") in a JSON value.
func lookup(v any, path string) (string, bool) {
	for _, part := range strings.Split(strings.Trim(path, "."), ".") {
		part = strings.Trim(part, "[]")
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64, bool:
		return show(x), true
	}
	return "", false
}

// Report prints the results, one line per request and one per difference,
// and reports whether anything drifted.
func Report(w io.Writer, upstream, mock string, results []Result) (drift bool) {
	fmt.Fprintf(w, "msgmock verify: %s (upstream) against %s (msgmock), %d requests\n", upstream, mock, len(results))
	n := 0
	for _, r := range results {
		switch {
		case r.Err != nil:
			drift = true
			n++
			fmt.Fprintf(w, "FAIL  %s (%s %s): %v\n", r.Name, r.Method, r.Path, r.Err)
		case len(r.Diffs) > 0:
			drift = true
			n++
			fmt.Fprintf(w, "DRIFT %s (%s %s)\n", r.Name, r.Method, r.Path)
			for _, d := range r.Diffs {
				fmt.Fprintf(w, "      %s: upstream %s, msgmock %s\n", d.Where, d.Upstream, d.Mockup)
			}
		default:
			fmt.Fprintf(w, "ok    %s (%s %s)\n", r.Name, r.Method, r.Path)
		}
	}
	if drift {
		fmt.Fprintf(w, "%d of %d requests differ\n", n, len(results))
	} else {
		fmt.Fprintln(w, "no drift")
	}
	return drift
}
