package importer

import (
	"net/textproto"
	"regexp"
	"strings"

	"github.com/msgmock/msgmock/scenarios"
)

// kind is what an API request does.
type kind int

const (
	kindSend   kind = iota + 1 // POST /v1/messages, POST /api/v1/messages
	kindRead                   // a GET answered with JSON
	kindStream                 // a GET answered with Server-Sent Events
)

// endpoint is one route of either API that the import knows.
type endpoint struct {
	api    scenarios.API
	method string
	path   *regexp.Regexp
	kind   kind
}

// endpoints are the routes of SPEC §2 and §3, matched on the path alone:
// whatever the host, a path of either API is that API's.
var endpoints = []endpoint{
	{scenarios.APIConversations, "POST", regexp.MustCompile(`^/v1/messages$`), kindSend},
	{scenarios.APIConversations, "GET", regexp.MustCompile(`^/v1/conversations/[^/]+/messages$`), kindRead},
	{scenarios.APIConversations, "GET", regexp.MustCompile(`^/v1/events$`), kindRead},
	{scenarios.APIConversations, "GET", regexp.MustCompile(`^/v1/events/stream$`), kindStream},
	{scenarios.APIWorkspace, "POST", regexp.MustCompile(`^/api/v1/messages$`), kindSend},
	{scenarios.APIWorkspace, "GET", regexp.MustCompile(`^/api/v1/messages$`), kindRead},
	{scenarios.APIWorkspace, "GET", regexp.MustCompile(`^/api/v1/messages/[^/]+$`), kindRead},
	{scenarios.APIWorkspace, "GET", regexp.MustCompile(`^/api/v1/conversations$`), kindRead},
	{scenarios.APIWorkspace, "GET", regexp.MustCompile(`^/api/v1/events/stream$`), kindStream},
}

// routeOf finds the endpoint of method and path. When there is none, the
// reason says why: a preflight, another method on an API path, msgmock's
// own admin API, or a path neither API has.
func routeOf(method, path string) (endpoint, string) {
	onAPIPath := false
	for _, e := range endpoints {
		if !e.path.MatchString(path) {
			continue
		}
		if e.method == method {
			return e, ""
		}
		onAPIPath = true
	}
	switch {
	case onAPIPath && method == "OPTIONS":
		return endpoint{}, "a CORS preflight"
	case onAPIPath:
		return endpoint{}, method + " is not a method of " + path
	case strings.HasPrefix(path, "/__mock/") || path == "/__mock":
		return endpoint{}, "msgmock's admin API"
	}
	return endpoint{}, ""
}

// idInPath is the id segment of a read's path: a conversation's or a
// message's, which the replay may give another value.
var idInPath = regexp.MustCompile(`^(/v1/conversations/|/api/v1/messages/)([^/]+)`)

func canonicalHeader(name string) string { return textproto.CanonicalMIMEHeaderKey(name) }

// get is the first value of a header (canonical key).
func get(h map[string][]string, name string) string {
	if vs := h[canonicalHeader(name)]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}
