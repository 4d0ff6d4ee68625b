package importer

import (
	"encoding/json"
	"fmt"
	"mime"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/msgmock/msgmock/mock/record/capture"
	"github.com/msgmock/msgmock/scenarios"
)

// step is what the scenario must give one request: an answer other than
// msgmock's own (respond), the replies the service sent, or nothing
// (a pass, which still counts, keeping the answers after it in order).
type step struct {
	x       *exchange
	respond *capture.Respond
	replies []capture.Reply
	label   string // the status or fault, for the rule's name
	why     string // what the summary says
}

// needsRule reports whether the step changes anything msgmock would do.
func (s step) needsRule() bool {
	return len(s.replies) > 0 || (s.respond != nil && (s.respond.Status != 0 || s.respond.Latency > 0 || s.respond.Fault != "" || s.respond.Body != nil))
}

// plan makes the rules: for each distinct request (same API, method,
// path and the body fields rules match), the answers the HAR shows for it
// in order, each with times; passes where a usual answer came between
// unusual ones. Requests msgmock answers by its own checks get no rule.
func (im *harImport) plan() ([]capture.Rule, [][]*exchange) {
	type sequence struct {
		when  []capture.Field
		steps []step
	}
	byKey := map[string]*sequence{}
	var keys []string
	for _, x := range im.exchanges {
		if x.skipped {
			continue
		}
		if status, why := im.nativeAnswer(x); why != "" {
			x.use("msgmock answers it itself: " + why)
			if status != x.status {
				im.sum.Warnings = append(im.sum.Warnings, fmt.Sprintf("entry #%d: msgmock answers %s %s with %d (%s), the HAR shows %s",
					x.index, x.ep.method, x.url.Path, status, why, answerOf(x)))
			}
			continue
		}
		st := im.stepOf(x)
		if x.ep.kind != kindSend && !im.readRules {
			if st.needsRule() {
				x.drop(st.why + " to a read: this msgmock's rules match sends only (when.method/when.path)")
			}
			continue
		}
		when := im.when(x)
		keyJSON, _ := json.Marshal(when)
		key := string(keyJSON)
		if byKey[key] == nil {
			byKey[key] = &sequence{when: when}
			keys = append(keys, key)
		}
		byKey[key].steps = append(byKey[key].steps, st)
	}
	var rules []capture.Rule
	var firsts []int
	var used [][]*exchange // the entries each rule answers
	for _, key := range keys {
		seq := byKey[key]
		// Past the last step that changes anything, msgmock's own answers
		// are the HAR's: no rule.
		last := -1
		for i, s := range seq.steps {
			if s.needsRule() {
				last = i
			}
		}
		for i := 0; i <= last; {
			s := seq.steps[i]
			j := i + 1
			for j <= last && sameStep(seq.steps[j], s) {
				j++
			}
			run := seq.steps[i:j]
			name := fmt.Sprintf("entry-%d-%s", s.x.index, s.label)
			rule := capture.Rule{Comment: comment(run), Name: name, When: seq.when, Times: len(run), Respond: s.respond, Replies: s.replies}
			if rule.Respond == nil && len(rule.Replies) == 0 {
				// A pass: the usual answer, counted.
				rule.Respond = &capture.Respond{Status: s.x.normalStatus()}
			}
			var xs []*exchange
			for _, r := range run {
				r.x.use(fmt.Sprintf("rule %s (%s)", name, r.why))
				xs = append(xs, r.x)
			}
			rules = append(rules, rule)
			firsts = append(firsts, s.x.index)
			used = append(used, xs)
			i = j
		}
	}
	// In the order the HAR shows them: each request's rules are in its own
	// order already, and two requests' rules match the same request only
	// when one is a send into a conversation the replay creates (matched
	// without its id) and the other the same text elsewhere.
	idx := make([]int, len(rules))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return firsts[idx[a]] < firsts[idx[b]] })
	out := make([]capture.Rule, len(rules))
	outUsed := make([][]*exchange, len(rules))
	for i, k := range idx {
		out[i], outUsed[i] = rules[k], used[k]
	}
	return out, outUsed
}

// stepOf is what the scenario must give x.
func (im *harImport) stepOf(x *exchange) step {
	s := step{x: x, label: strconv.Itoa(x.status), replies: x.replies}
	slow := x.wait >= SlowAnswer
	switch {
	case x.fault != "":
		s.label, s.why = x.fault, "no answer: "+x.fault
		s.respond = &capture.Respond{Fault: x.fault}
		if x.fault != scenarios.FaultTimeout {
			s.respond.Latency = x.wait
		}
	case !x.success():
		s.why = "error " + strconv.Itoa(x.status)
		s.respond = exactRespond(x, &s)
	case x.shapeProblem() != "":
		s.why = x.shapeProblem()
		s.respond = exactRespond(x, &s)
	case x.status != x.normalStatus():
		s.why = fmt.Sprintf("status %d where the API answers %d", x.status, x.normalStatus())
		s.respond = &capture.Respond{Status: x.status, Latency: x.wait}
	case slow:
		s.why = "a slow answer, " + capture.Duration(x.wait)
		s.respond = &capture.Respond{Latency: x.wait}
	case len(x.replies) > 0:
		s.why = fmt.Sprintf("%d %s", len(x.replies), plural(len(x.replies), "reply", "replies"))
	default:
		s.label, s.why = "ok", "the usual answer"
	}
	if x.ep.kind == kindSend && x.success() && x.rbody == nil {
		im.sum.Warnings = append(im.sum.Warnings, fmt.Sprintf("entry #%d: the HAR has no answer body for this send; the message it stored, if a later answer lists it, is preloaded and the replay stores it again", x.index))
	}
	return s
}

// exactRespond answers as the HAR shows: status, the headers that matter,
// the body (when it is JSON) and the wait.
func exactRespond(x *exchange, s *step) *capture.Respond {
	r := &capture.Respond{Status: x.status, Latency: x.wait}
	switch {
	case x.rbody == nil:
		s.why += "; " + x.rproblem + ": msgmock's own body for the status"
	case len(x.rbody) == 0:
		r.Body = nil
		s.why += "; an empty body: msgmock's own body for the status"
	case !json.Valid(x.rbody):
		s.why += "; a body that is not JSON: msgmock's own body for the status"
	default:
		r.Body = x.rbody
		if ct := get(x.rheader, "Content-Type"); ct != "" {
			r.Headers = append(r.Headers, capture.Header{Name: "Content-Type", Value: ct})
		}
	}
	for _, name := range []string{"Retry-After", "Www-Authenticate"} {
		for _, v := range x.rheader[name] {
			r.Headers = append(r.Headers, capture.Header{Name: name, Value: v})
		}
	}
	if x.status >= 300 && x.status < 400 {
		if v := get(x.rheader, "Location"); v != "" {
			r.Headers = append(r.Headers, capture.Header{Name: "Location", Value: v})
		}
	}
	var rate []string
	for name := range x.rheader {
		if strings.HasPrefix(name, "X-Ratelimit-") || strings.HasPrefix(name, "Ratelimit") {
			rate = append(rate, name)
		}
	}
	sort.Strings(rate)
	for _, name := range rate {
		r.Headers = append(r.Headers, capture.Header{Name: name, Value: get(x.rheader, name)})
	}
	return r
}

// sameStep reports whether two steps give the same answer, so that one
// rule with times covers both.
func sameStep(a, b step) bool {
	ja, _ := json.Marshal([]any{a.respond, a.replies, a.label})
	jb, _ := json.Marshal([]any{b.respond, b.replies, b.label})
	return string(ja) == string(jb)
}

// comment says which entries a rule reproduces.
func comment(run []step) string {
	x := run[0].x
	var idx []string
	for _, s := range run {
		idx = append(idx, "#"+strconv.Itoa(s.x.index))
	}
	what := "entry"
	if len(run) > 1 {
		what = "entries"
	}
	return fmt.Sprintf("%s %s: %s %s → %s", what, strings.Join(idx, ", "), x.ep.method, x.url.Path, answerOf(x))
}

// answerOf describes an exchange's answer in a few words.
func answerOf(x *exchange) string {
	s := strconv.Itoa(x.status)
	if x.fault != "" {
		s = "no answer (" + x.fault + ")"
	}
	if x.wait > 0 {
		s += " after " + capture.Duration(x.wait)
	}
	return s
}

// when is the condition that picks out x's request: for a send, its API
// and the body fields rules match (a conversation the replay creates anew
// is not named: its id will differ); for a read, its method and path.
func (im *harImport) when(x *exchange) []capture.Field { return whenOf(x, im.minted) }

// whenOf is when, minted holding the ids the replay gives new values.
func whenOf(x *exchange, minted map[string]bool) []capture.Field {
	api := x.ep.api
	w := []capture.Field{{Key: "api", Value: string(api)}}
	if x.ep.kind != kindSend {
		w = append(w, capture.Field{Key: "method", Value: x.ep.method})
		path := x.url.Path
		if m := idInPath.FindStringSubmatch(path); m != nil && minted[string(api)+" "+m[2]] {
			// The replay's id differs: match the path's shape.
			pattern := "^" + regexp.QuoteMeta(m[1]) + "[^/]+" + regexp.QuoteMeta(path[len(m[0]):]) + "$"
			return append(w, capture.Field{Key: "path", Value: capture.Matcher{Op: "regex", Value: pattern}})
		}
		return append(w, capture.Field{Key: "path", Value: path})
	}
	req := decodeJSON(x.body)
	conv := fieldStr(req, "conversation_id")
	if api == scenarios.APIWorkspace {
		role := fieldStr(req, "content", "role")
		if role == "" {
			role = "user" // the model's default, which rules see
		}
		w = append(w, capture.Field{Key: "text", Value: fieldStr(req, "content", "content")},
			capture.Field{Key: "sender_id", Value: fieldStr(req, "content", "sender_id")},
			capture.Field{Key: "role", Value: role})
	} else {
		w = append(w, capture.Field{Key: "text", Value: fieldStr(req, "text")},
			capture.Field{Key: "sender_id", Value: fieldStr(req, "sender_id")},
			capture.Field{Key: "sender_type", Value: fieldStr(req, "sender_type")})
	}
	if !minted[string(api)+" "+conv] {
		// "" matches a send that names no conversation, and only that.
		w = append(w, capture.Field{Key: "conversation_id", Value: conv})
	}
	return w
}

// nativeAnswer predicts the requests msgmock answers by its own checks
// before any rule (SPEC §2 and §3: auth, Content-Type, the body, an
// unknown conversation or message, Prefer: code=NNN), serving the import
// alone (auth mode any, default settings): their rules would never be
// tried, so they get none. It returns the status msgmock answers and why,
// or "" when the rules see the request.
func (im *harImport) nativeAnswer(x *exchange) (int, string) {
	api, h := x.ep.api, x.header
	bearer := bearerToken(get(h, "Authorization"))
	// A request without credentials that the service did not answer 401
	// had them: the export left them out (Chromium's default "sanitized"
	// HAR drops Authorization and cookies). The replay's client sends its
	// own, so the rules will see it.
	if x.status != 401 && bearer == "" && get(h, "X-Api-Key") == "" && x.url.Query().Get("access_token") == "" {
		bearer = "stripped"
		if !im.strippedNoted {
			im.strippedNoted = true
			im.sum.Warnings = append(im.sum.Warnings, fmt.Sprintf("from entry #%d on, API requests carry no credentials: the HAR was exported without them (Chromium's sanitized export?); replay with any key, msgmock accepts every one", x.index))
		}
	}
	if code := preferCode(h); code != 0 {
		return code, "the request has Prefer: code=" + strconv.Itoa(code)
	}
	known := func(kind, id string) bool {
		return im.minted[string(api)+" "+id] || (kind == "conversation" && im.book.HasConversation(api, id))
	}
	if x.ep.kind != kindSend {
		token := bearer
		if x.ep.kind == kindStream && token == "" {
			token = x.url.Query().Get("access_token")
		}
		if api == scenarios.APIWorkspace && token == "" {
			token = get(h, "X-Api-Key")
		}
		if token == "" {
			return 401, "no credentials"
		}
		if m := idInPath.FindStringSubmatch(x.url.Path); m != nil && strings.HasPrefix(m[1], "/v1/conversations/") && !known("conversation", m[2]) {
			return 404, "conversation " + m[2] + " is not in the fixtures"
		}
		if m := idInPath.FindStringSubmatch(x.url.Path); m != nil && strings.HasPrefix(m[1], "/api/v1/messages/") && !im.messageKnown(api, m[2]) {
			return 404, "message " + m[2] + " is not in the fixtures"
		}
		return 0, ""
	}
	jsonType := isJSONType(api, get(h, "Content-Type"))
	if api == scenarios.APIConversations {
		switch {
		case bearer == "":
			return 401, "no bearer token"
		case !jsonType:
			return 400, "its Content-Type is not JSON"
		case len(x.body) > 1<<20:
			return 413, "its body is over 1 MiB"
		}
		req, ok := decodeJSON(x.body).(map[string]any)
		if !ok {
			return 400, "its body is not a JSON object"
		}
		for _, f := range []string{"sender_id", "sender_type", "text"} {
			if s, ok := req[f].(string); !ok || s == "" {
				return 400, "field " + f + " is missing or not a string"
			}
		}
		if st := req["sender_type"]; st != "user" && st != "agent" && st != "system" {
			return 400, "sender_type is not user, agent or system"
		}
		conv, _ := req["conversation_id"].(string)
		if conv != "" && !known("conversation", conv) {
			return 404, "conversation " + conv + " is not in the fixtures"
		}
		if reply, _ := req["reply_to_message_id"].(string); reply != "" && !im.messageKnown(api, reply) {
			return 404, "message " + reply + " is not in the fixtures"
		}
		return 0, ""
	}
	body := strings.TrimSpace(string(x.body))
	switch {
	case body != "" && jsonType && !json.Valid(x.body):
		return 422, "its body is not JSON"
	case bearer == "" && get(h, "X-Api-Key") == "":
		return 401, "no credentials"
	case body == "" || body == "null" || !jsonType:
		return 422, "no JSON body"
	}
	req, ok := decodeJSON(x.body).(map[string]any)
	if !ok {
		return 422, "its body is not a JSON object"
	}
	content, ok := req["content"].(map[string]any)
	if !ok {
		return 422, "content is missing or not an object"
	}
	for _, f := range []string{"content", "sender_id"} {
		if _, ok := content[f].(string); !ok {
			return 422, "content." + f + " is missing or not a string"
		}
	}
	if get(h, "X-Workspace-Id") == "wsp_forbidden" {
		return 403, "workspace wsp_forbidden is reserved"
	}
	if conv, _ := req["conversation_id"].(string); conv != "" && !known("conversation", conv) {
		return 404, "conversation " + conv + " is not in the fixtures"
	}
	return 0, ""
}

// messageKnown reports whether the fixtures or the replay hold message id.
func (im *harImport) messageKnown(api scenarios.API, id string) bool {
	if im.minted[string(api)+" "+id] {
		return true
	}
	return im.book.HasMessage(api, id)
}

func bearerToken(v string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// preferCode is the status of a Prefer: code=NNN header (400–599), as
// msgmock reads it, or 0.
func preferCode(h map[string][]string) int {
	for _, v := range h["Prefer"] {
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
			k, val, found := strings.Cut(strings.TrimSpace(part), "=")
			if !found || !strings.EqualFold(strings.TrimSpace(k), "code") {
				continue
			}
			if code, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`)); err == nil && code >= 400 && code <= 599 {
				return code
			}
		}
	}
	return 0
}

// isJSONType is the Content-Type check of each API: application/json for
// the Conversations API; for FastAPI, any application/…+json too.
func isJSONType(api scenarios.API, ct string) bool {
	if api == scenarios.APIConversations {
		mt, _, _ := strings.Cut(ct, ";")
		return strings.EqualFold(strings.TrimSpace(mt), "application/json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	main, sub, _ := strings.Cut(mt, "/")
	return main == "application" && (sub == "json" || strings.HasSuffix(sub, "+json"))
}
