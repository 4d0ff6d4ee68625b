package importer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// MaxHARSize bounds the HAR read: bodies make HARs large, but a file past
// this is not a recording of one bug.
const MaxHARSize = 256 << 20

// ErrNotHAR is wrapped by every refusal of a file that is not a HAR.
var ErrNotHAR = errors.New("not a HAR")

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) as Chromium's
// DevTools ("Save all as HAR") and Firefox export it. Only what the import
// reads is declared, so that a field it does not use cannot make an entry
// unreadable; DevTools' own keys (_initiator, _priority, _resourceType, …)
// are ignored, except _error. Entries are taken in the file's order
// (startedDateTime is not read: browsers list entries by it already).
type harFile struct {
	Log *harLog `json:"log"`
}

type harLog struct {
	Version string          `json:"version"`
	Creator harCreator      `json:"creator"`
	Entries *[]harEntryJSON `json:"entries"`
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// harEntryJSON is one entry, decoded on its own so that a malformed entry
// is skipped with its reason instead of refusing the whole file.
type harEntryJSON = json.RawMessage

type harEntry struct {
	Request  harRequest  `json:"request"`
	Response harResponse `json:"response"`
	Timings  harTimings  `json:"timings"`
	Error    string      `json:"_error"` // some exporters put it here
}

type harRequest struct {
	Method      string    `json:"method"`
	URL         string    `json:"url"`
	Headers     []harPair `json:"headers"`
	QueryString []harPair `json:"queryString"`
	Cookies     []harPair `json:"cookies"`
	PostData    *harPost  `json:"postData"`
}

type harPair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPost struct {
	MimeType string    `json:"mimeType"`
	Text     *string   `json:"text"`
	Encoding string    `json:"encoding"`
	Params   []harPair `json:"params"`
}

type harResponse struct {
	Status     int        `json:"status"`
	StatusText string     `json:"statusText"`
	Headers    []harPair  `json:"headers"`
	Cookies    []harPair  `json:"cookies"`
	Content    harContent `json:"content"`
	Error      string     `json:"_error"` // Chromium: net::ERR_… of a failed request
}

type harContent struct {
	Size     float64 `json:"size"`
	MimeType string  `json:"mimeType"`
	Text     *string `json:"text"`
	Encoding string  `json:"encoding"`
}

// harTimings are in milliseconds; -1 means "does not apply".
type harTimings struct {
	Wait float64 `json:"wait"`
}

// parseHAR reads a HAR, refusing what is not one with an error that says
// why in one line.
func parseHAR(data []byte) (*harLog, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotHAR)
	}
	if len(data) > MaxHARSize {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d a HAR may have here", ErrNotHAR, len(data), MaxHARSize)
	}
	var f harFile
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotHAR, jsonProblem(err, len(trimmed)))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: more JSON follows the HAR's closing brace", ErrNotHAR)
	}
	if f.Log == nil || f.Log.Entries == nil {
		return nil, fmt.Errorf("%w: the JSON has no log.entries (a HAR is {\"log\": {\"entries\": [...]}})", ErrNotHAR)
	}
	return f.Log, nil
}

// jsonProblem says what is wrong with JSON in words a QA engineer can act on.
func jsonProblem(err error, size int) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Sprintf("the JSON ends early, at byte %d (a truncated file?)", size)
	case errors.As(err, &syn):
		return fmt.Sprintf("not JSON: %s at byte %d", syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		where := typ.Field
		if where == "" {
			where = "the top level"
		}
		return fmt.Sprintf("%s is JSON %s, a HAR has %s there", where, typ.Value, kindOfGoType(typ.Type.Kind().String()))
	}
	return "not JSON: " + err.Error()
}

func kindOfGoType(k string) string {
	switch k {
	case "struct", "map", "ptr":
		return "an object"
	case "slice":
		return "an array"
	case "string":
		return "a string"
	}
	return "a number"
}

// decodeEntry decodes one entry; a malformed one is skipped with the reason.
func decodeEntry(raw json.RawMessage) (harEntry, string) {
	var e harEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, "not a HAR entry: " + jsonProblem(err, len(raw))
	}
	return e, ""
}

// requestURL parses an entry's URL.
func requestURL(raw string) (*url.URL, string) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "an unreadable URL"
	}
	switch u.Scheme {
	case "http", "https":
		return u, ""
	case "":
		return nil, "a URL without a scheme"
	}
	return nil, "not an HTTP request (" + u.Scheme + ":)"
}

// headerMap turns HAR pairs into canonical header keys; HTTP/2 pseudo
// headers (":authority", …) are left out.
func headerMap(pairs []harPair) map[string][]string {
	h := map[string][]string{}
	for _, p := range pairs {
		if p.Name == "" || strings.HasPrefix(p.Name, ":") {
			continue
		}
		k := canonicalHeader(p.Name)
		h[k] = append(h[k], p.Value)
	}
	return h
}

// requestBody is the body a request sent.
func requestBody(p *harPost) ([]byte, string) {
	if p == nil {
		return nil, ""
	}
	if p.Text == nil || *p.Text == "" {
		if len(p.Params) > 0 {
			form := url.Values{}
			for _, kv := range p.Params {
				form.Add(kv.Name, kv.Value)
			}
			return []byte(form.Encode()), ""
		}
		return nil, ""
	}
	if strings.EqualFold(p.Encoding, "base64") {
		b, err := decodeBase64(*p.Text)
		if err != nil {
			return nil, "its request body is base64 that does not decode"
		}
		return b, ""
	}
	return []byte(*p.Text), ""
}

// responseBody is the body a response carried, or why the HAR does not
// hold it whole.
func responseBody(c harContent) ([]byte, string) {
	if c.Text == nil {
		return nil, "the HAR holds no body for it"
	}
	body := []byte(*c.Text)
	if strings.EqualFold(c.Encoding, "base64") {
		b, err := decodeBase64(*c.Text)
		if err != nil {
			return nil, "its body is base64 that does not decode"
		}
		body = b
		if binaryMime(c.MimeType) {
			return nil, "its body is binary (" + c.MimeType + ")"
		}
	}
	// size is the body's length as the browser decoded it; a shorter text
	// is what the exporter kept of it.
	if c.Size > 0 && float64(len(body)) < c.Size {
		return nil, fmt.Sprintf("the HAR truncated its body (%d of %.0f bytes)", len(body), c.Size)
	}
	return body, ""
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

func binaryMime(m string) bool {
	m = strings.ToLower(m)
	for _, p := range []string{"image/", "audio/", "video/", "font/", "application/octet-stream", "application/zip", "application/pdf", "application/wasm"} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}

// waitOf is the time the entry waited for its answer (timings.wait,
// rounded to the millisecond).
func waitOf(t harTimings) time.Duration {
	if t.Wait <= 0 || t.Wait > float64(24*time.Hour/time.Millisecond) {
		return 0
	}
	return time.Duration(t.Wait+0.5) * time.Millisecond
}
