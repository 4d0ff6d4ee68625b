package importer

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/msgmock/msgmock/mock/record/capture"
	"github.com/msgmock/msgmock/scenarios"
)

// CurlRequest is the request a curl command line sends.
type CurlRequest struct {
	Method string
	URL    *url.URL
	Header map[string][]string // canonical keys
	Body   []byte
}

// ParseCurlCommand reads a curl command as one string, as the inspector's
// "copy as curl" and the browsers' "Copy as cURL (bash)" / "(POSIX)" put
// it on the clipboard.
func ParseCurlCommand(command string) (*CurlRequest, error) {
	words, err := shellWords(command)
	if err != nil {
		return nil, err
	}
	return ParseCurlArgs(words)
}

// Options of curl that take a value and change nothing of the request
// (transport, output, timeouts), and those that take none.
var (
	curlIgnoredWithValue = map[string]bool{"--connect-timeout": true, "--max-time": true, "-m": true, "--retry": true,
		"--retry-delay": true, "--retry-max-time": true, "--proxy": true, "-x": true, "--cacert": true, "--capath": true,
		"--cert": true, "-E": true, "--key": true, "--output": true, "-o": true, "--write-out": true, "-w": true,
		"--resolve": true, "--limit-rate": true, "--max-redirs": true, "--interface": true, "--dump-header": true, "-D": true,
		"--trace": true, "--trace-ascii": true, "--stderr": true, "--connect-to": true, "--cookie-jar": true, "-c": true}
	curlFlags = map[string]bool{"--compressed": true, "--insecure": true, "-k": true, "--location": true, "-L": true,
		"--silent": true, "-s": true, "--show-error": true, "-S": true, "--include": true, "-i": true, "--verbose": true,
		"-v": true, "--fail": true, "-f": true, "--fail-with-body": true, "--globoff": true, "-g": true, "--no-buffer": true,
		"-N": true, "--http1.0": true, "--http1.1": true, "--http2": true, "--http2-prior-knowledge": true, "--http3": true,
		"--tlsv1.2": true, "--tlsv1.3": true, "--tr-encoding": true, "--path-as-is": true, "--raw": true,
		"--no-keepalive": true, "--ipv4": true, "-4": true, "--ipv6": true, "-6": true, "--progress-bar": true, "-#": true,
		"--location-trusted": true, "--ssl-no-revoke": true, "--no-progress-meter": true, "-0": true}
	// Options whose value the request uses, by their short or long name.
	curlValued = map[string]string{"-X": "request", "--request": "request", "-H": "header", "--header": "header",
		"-d": "data", "--data": "data", "--data-ascii": "data", "--data-raw": "data-raw", "--data-binary": "data-binary",
		"--data-urlencode": "data-urlencode", "--json": "json", "-b": "cookie", "--cookie": "cookie", "-u": "user",
		"--user": "user", "-A": "user-agent", "--user-agent": "user-agent", "-e": "referer", "--referer": "referer",
		"--url": "url", "--oauth2-bearer": "bearer", "-F": "form", "--form": "form", "--form-string": "form",
		"-T": "upload", "--upload-file": "upload", "-K": "config", "--config": "config"}
)

// ParseCurlArgs reads a curl command already split into words (words[0]
// is curl).
func ParseCurlArgs(words []string) (*CurlRequest, error) {
	if len(words) == 0 {
		return nil, errors.New("no command: give a curl command line")
	}
	if base := strings.TrimSuffix(filepath.Base(words[0]), ".exe"); base != "curl" {
		return nil, fmt.Errorf("the command is %q, not curl", words[0])
	}
	req := &CurlRequest{Header: map[string][]string{}}
	var rawURL, method string
	var data []string
	hasData, isJSON, get, head := false, false, false, false
	setHeader := func(line string) error {
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			if strings.HasSuffix(line, ";") { // curl's "Name;" sends an empty header
				req.Header[canonicalHeader(strings.TrimSuffix(line, ";"))] = []string{""}
				return nil
			}
			return fmt.Errorf("header %q has no name: value", line)
		}
		value = strings.TrimSpace(value)
		if value == "" {
			delete(req.Header, canonicalHeader(name)) // curl's "Name:" removes a header
			return nil
		}
		req.Header[canonicalHeader(name)] = append(req.Header[canonicalHeader(name)], value)
		return nil
	}
	apply := func(opt, what, v string) error {
		switch what {
		case "request":
			method = strings.ToUpper(v)
		case "header":
			return setHeader(v)
		case "data", "data-binary":
			if strings.HasPrefix(v, "@") {
				return fmt.Errorf("%s %s reads the body from a file: paste the body itself (--data-raw '…')", opt, v)
			}
			if what == "data" {
				v = strings.NewReplacer("\r", "", "\n", "").Replace(v) // -d strips newlines, as curl does
			}
			data, hasData = append(data, v), true
		case "data-raw":
			data, hasData = append(data, v), true
		case "data-urlencode":
			if strings.HasPrefix(v, "@") || strings.Contains(v, "@") && !strings.Contains(v, "=") {
				return fmt.Errorf("%s %s reads a file: paste the value itself", opt, v)
			}
			if name, val, ok := strings.Cut(v, "="); ok {
				if name == "" {
					v = url.QueryEscape(val)
				} else {
					v = name + "=" + url.QueryEscape(val)
				}
			} else {
				v = url.QueryEscape(v)
			}
			data, hasData = append(data, v), true
		case "json":
			if strings.HasPrefix(v, "@") {
				return fmt.Errorf("%s %s reads the body from a file: paste the body itself", opt, v)
			}
			data, hasData, isJSON = append(data, v), true, true
		case "cookie":
			if strings.Contains(v, "=") {
				req.Header["Cookie"] = append(req.Header["Cookie"], v)
			} // else a cookie file: nothing sent from it here
		case "user":
			req.Header["Authorization"] = []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(v))}
		case "bearer":
			req.Header["Authorization"] = []string{"Bearer " + v}
		case "user-agent":
			req.Header["User-Agent"] = []string{v}
		case "referer":
			req.Header["Referer"] = []string{v}
		case "url":
			if rawURL != "" {
				return errors.New("the command has more than one URL: give one request")
			}
			rawURL = v
		case "form":
			return fmt.Errorf("%s sends a multipart form, which neither API takes", opt)
		case "upload":
			return fmt.Errorf("%s uploads a file: paste the body with --data-raw instead", opt)
		case "config":
			return fmt.Errorf("%s reads options from a file: paste them instead", opt)
		}
		return nil
	}
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			for _, rest := range words[i+1:] {
				if err := apply("--url", "url", rest); err != nil {
					return nil, err
				}
			}
			i = len(words)
		case curlFlags[w]:
		case w == "-G" || w == "--get":
			get = true
		case w == "-I" || w == "--head":
			head = true
		case curlIgnoredWithValue[w]:
			i++
		case curlValued[w] != "":
			if i+1 >= len(words) {
				return nil, fmt.Errorf("curl option %s needs a value", w)
			}
			if err := apply(w, curlValued[w], words[i+1]); err != nil {
				return nil, err
			}
			i++
		case strings.HasPrefix(w, "--"):
			return nil, fmt.Errorf("curl option %s is not one msgmock import knows: remove it", w)
		case strings.HasPrefix(w, "-") && len(w) > 1:
			// Short options, maybe grouped (-sS) or with their value
			// attached (-XPOST, -H'…').
			for j := 1; j < len(w); j++ {
				opt := "-" + string(w[j])
				switch {
				case curlFlags[opt]:
				case opt == "-G":
					get = true
				case opt == "-I":
					head = true
				case curlValued[opt] != "" || curlIgnoredWithValue[opt]:
					v := w[j+1:]
					if v == "" {
						if i+1 >= len(words) {
							return nil, fmt.Errorf("curl option %s needs a value", opt)
						}
						i++
						v = words[i]
					}
					if curlValued[opt] != "" {
						if err := apply(opt, curlValued[opt], v); err != nil {
							return nil, err
						}
					}
					j = len(w)
				default:
					return nil, fmt.Errorf("curl option %s is not one msgmock import knows: remove it", opt)
				}
			}
		default:
			if err := apply("URL", "url", w); err != nil {
				return nil, err
			}
		}
	}
	if rawURL == "" {
		return nil, errors.New("the command has no URL")
	}
	if !strings.Contains(rawURL, "://") {
		rawURL = "http://" + rawURL // curl's default scheme
	}
	u, why := requestURL(rawURL)
	if why != "" {
		return nil, fmt.Errorf("URL %q: %s", rawURL, why)
	}
	req.URL = u
	sep := "&"
	if isJSON {
		sep = ""
		for _, h := range []string{"Content-Type", "Accept"} {
			if len(req.Header[h]) == 0 {
				req.Header[h] = []string{"application/json"}
			}
		}
	}
	body := strings.Join(data, sep)
	switch {
	case get && hasData:
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += body
	case hasData:
		req.Body = []byte(body)
		if len(req.Header["Content-Type"]) == 0 {
			req.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"} // as curl sends it
		}
	}
	switch {
	case method != "":
	case head:
		method = "HEAD"
	case get || !hasData:
		method = "GET"
	default:
		method = "POST"
	}
	req.Method = method
	return req, nil
}

// Answer is what the rule made from a curl command answers: a curl
// command is a request without its response.
type Answer struct {
	Status  int
	Headers []capture.Header
	Body    json.RawMessage
	Latency time.Duration
	Fault   string
	Times   int
}

func (a Answer) empty() bool {
	return a.Status == 0 && a.Body == nil && a.Fault == "" && a.Latency == 0 && len(a.Headers) == 0
}

// CurlRule is the rule that answers req's request as a says — or, with
// no answer given, with the status of the request's own Prefer: code=NNN
// (what the inspector's copy of a request QA scripted that way carries),
// which the rule makes happen without the header. The Book holds the
// command's credentials, to be redacted.
func CurlRule(req *CurlRequest, a Answer) (capture.Rule, *capture.Book, error) {
	book := capture.NewBook()
	book.NoteHeaders(req.Header)
	book.NoteURL(req.URL)
	book.NoteJSON(req.Body)
	ep, why := routeOf(req.Method, req.URL.Path)
	if ep.api == "" {
		if why == "" {
			why = "not a path of either API"
		}
		return capture.Rule{}, nil, fmt.Errorf("%s %s is %s", req.Method, req.URL.Path, why)
	}
	if a.empty() {
		if code := preferCode(req.Header); code != 0 {
			a.Status = code
		} else {
			return capture.Rule{}, nil, errors.New("a curl command is a request without an answer: say what the rule answers with --status (and --body, --header, --latency) or --fault")
		}
	}
	if ep.kind != kindSend && !ReadRulesSupported() {
		return capture.Rule{}, nil, fmt.Errorf("%s %s is a read: this msgmock's rules match sends only (when.method/when.path)", req.Method, req.URL.Path)
	}
	if a.Fault != "" && (a.Status != 0 || a.Body != nil) {
		return capture.Rule{}, nil, errors.New("a fault replaces the whole answer: give --fault or --status/--body, not both")
	}
	if a.Body != nil && !json.Valid(a.Body) {
		return capture.Rule{}, nil, errors.New("--body must be JSON")
	}
	x := &exchange{ep: ep, url: req.URL, header: req.Header, body: req.Body}
	if ep.kind == kindSend {
		if _, ok := decodeJSON(req.Body).(map[string]any); !ok {
			return capture.Rule{}, nil, errors.New("the command's body is not a JSON object: rules match a send by its fields")
		}
	}
	var when []capture.Field
	for _, f := range whenOf(x, nil) {
		if f.Key == "conversation_id" && f.Value == "" {
			continue // a curl command stands for itself in any conversation
		}
		when = append(when, f)
	}
	rule := capture.Rule{
		Comment: "from a curl command: " + req.Method + " " + req.URL.Path,
		When:    when, Times: a.Times,
		Respond: &capture.Respond{Status: a.Status, Headers: a.Headers, Body: a.Body, Latency: a.Latency, Fault: a.Fault},
	}
	return rule, book, nil
}

// AddRule adds rule to scenario in the fixtures directory dir: to the
// file that holds the scenario, else to a new dir/SCENARIO.yaml (dir made
// if needed). The rule is named curl-N, N the first free number. Nothing
// is written unless the directory's fixtures load with it.
func AddRule(dir, scenario string, rule capture.Rule, book *capture.Book) (file, name string, err error) {
	if !validName.MatchString(scenario) {
		return "", "", fmt.Errorf("scenario name %q: use letters, digits, '.', '_' and '-'", scenario)
	}
	var set *scenarios.Set
	if info, statErr := os.Stat(dir); statErr == nil {
		if !info.IsDir() {
			return "", "", fmt.Errorf("%s is not a directory", dir)
		}
		if set, err = scenarios.Load(os.DirFS(dir), ""); err != nil {
			return "", "", fmt.Errorf("%s does not load as it is, so nothing was added: %w", dir, err)
		}
	}
	taken := map[string]bool{}
	var sc *scenarios.Scenario
	if set != nil {
		sc = set.Scenario(scenario)
	}
	if sc != nil {
		for _, r := range sc.Rules {
			taken[r.Name] = true
		}
	}
	for n := 1; ; n++ {
		if name = "curl-" + strconv.Itoa(n); !taken[name] {
			break
		}
	}
	rule.Name = name
	var out File
	if sc != nil {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(sc.File)))
		if err != nil {
			return "", "", err
		}
		edited, err := appendRule(data, book.RuleNode(rule))
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", sc.File, err)
		}
		out = File{Name: sc.File, Data: edited}
	} else {
		out = File{Name: scenario + ".yaml", Data: book.ScenarioFile(capture.Scenario{Name: scenario,
			Description: "Rules made from curl commands (msgmock import curl).", Rules: []capture.Rule{rule}},
			"made by msgmock import curl; each further import adds a rule. Serve it with --scenario "+scenario+".")}
		if _, err := os.Lstat(filepath.Join(dir, out.Name)); err == nil {
			return "", "", fmt.Errorf("%s exists and holds no scenario %q", filepath.Join(dir, out.Name), scenario)
		}
	}
	if set == nil {
		if err := checkLoads([]File{out}); err != nil {
			return "", "", fmt.Errorf("the rule does not load (please report it): %w", err)
		}
		written, err := writeNewDir(dir, []File{out})
		if err != nil {
			return "", "", err
		}
		return written[0], name, nil
	}
	if err := checkWith(dir, []File{out}); err != nil {
		return "", "", fmt.Errorf("with the rule, %s would not load, so nothing was added: %w", dir, err)
	}
	path := filepath.Join(dir, filepath.FromSlash(out.Name))
	return path, name, capture.WriteFileAtomic(path, out.Data)
}

// appendRule adds a rule at the end of a scenario file's rules, keeping
// the rest of the file (comments included) as the YAML encoder writes it.
func appendRule(data []byte, rule *yaml.Node) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil, errors.New("cannot read it as YAML")
	}
	root := doc.Content[0]
	sc := mappingValue(root, "scenario")
	if sc == nil || sc.Kind != yaml.MappingNode {
		return nil, errors.New("it has no scenario: mapping")
	}
	rules := mappingValue(sc, "rules")
	if rules == nil {
		rules = &yaml.Node{Kind: yaml.SequenceNode}
		sc.Content = append(sc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "rules"}, rules)
	}
	if rules.Kind != yaml.SequenceNode {
		return nil, errors.New("its scenario.rules is not a list")
	}
	rules.Style = 0
	rules.Content = append(rules.Content, rule)
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
