package mock

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/msgmock/msgmock/mock/wire"
	"github.com/msgmock/msgmock/scenarios"
)

// What a browser may do with msgmock (README: Security). msgmock runs
// beside a browser full of other sites, so three checks run before
// anything else, on every request:
//
//   - The Host check, against DNS rebinding: a request whose Host is not a
//     loopback name (localhost, *.localhost), an IP address (a page can only
//     send an IP Host from that IP's own origin; Vite allows them too), or a
//     host the settings or --allowed-host list is refused 403 in its
//     surface's shape, saying how to allow it.
//   - CORS: the two APIs answer any origin the settings allow ("*" by
//     default), without credentials unless settings.cors.credentials; the
//     admin surface (/__mock/*, the inspector included) answers CORS only to
//     its own origin and to settings.security.admin_origins.
//   - Cross-site admin writes: a state-changing admin request (not GET, HEAD
//     or OPTIONS) that a browser marks as coming from another site — an
//     Origin that is neither msgmock's own nor listed, or Sec-Fetch-Site
//     cross-site or same-site — is refused 403, so a form post or a no-cors
//     fetch from another page changes nothing. Clients that are not browsers
//     send neither header and are not affected.

// shapeOf is the error shape of the surface a path belongs to, as the
// router would pick it (routes.go), for what is refused before routing.
func shapeOf(path string) wire.Shape {
	p := strings.TrimLeft(path, "/")
	switch {
	case p == "__mock" || strings.HasPrefix(p, "__mock/"):
		return adminSurface.shape
	case p == "v1" || strings.HasPrefix(p, "v1/"):
		return conversationsSurface.shape
	}
	return workspaceSurface.shape
}

func isAdminPath(path string) bool {
	return path == "/__mock" || strings.HasPrefix(path, "/__mock/")
}

// hostAllowed reports whether a request with this Host may be served.
func (s *Server) hostAllowed(host string, set *scenarios.Set) bool {
	if host == "" {
		return true // HTTP/1.0 without Host: no browser sends it
	}
	name, port := splitHost(host)
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	return hostListed(s.allowedHosts, name, port) || hostListed(set.Settings.Security.AllowedHosts, name, port)
}

// splitHost splits a Host header into a lower-case name, without brackets
// or a trailing dot, and its port ("" when none).
// It allocates nothing for a lower-case Host, the usual one: it runs on
// every request.
func splitHost(host string) (name, port string) {
	name = host
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			name, port = host[1:end], strings.TrimPrefix(host[end+1:], ":")
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		name, port = host[:i], host[i+1:]
	}
	return strings.TrimSuffix(strings.ToLower(name), "."), port
}

// hostListed reports whether name:port is in list, whose entries are as
// scenarios.AllowedHost normalised them ("*", a name, or a name with a
// port, which allows that port only).
func hostListed(list []string, name, port string) bool {
	for _, allowed := range list {
		if allowed == "*" {
			return true
		}
		an, ap := splitHost(allowed)
		if an == name && (ap == "" || ap == port) {
			return true
		}
	}
	return false
}

// refuseHost answers a request whose Host is not allowed.
func refuseHost(w http.ResponseWriter, r *http.Request) {
	name, _ := splitHost(r.Host)
	shapeOf(r.URL.Path).WriteProblem(w, &wire.Problem{Status: http.StatusForbidden,
		Message: "Host " + quoteHost(r.Host) + " is not allowed (a protection against DNS rebinding): start msgmock with --allowed-host " +
			quoteHost(name) + ", or list it under settings.security.allowed_hosts."})
}

// quoteHost shows a Host value safely in a message: printable ASCII, cut
// at 100 characters.
func quoteHost(h string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(h) && i < 100; i++ {
		if c := h[i]; c >= 0x20 && c < 0x7f && c != '\'' {
			b.WriteByte(c)
		} else {
			b.WriteByte('?')
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// ownOrigin reports whether origin is msgmock's own: the scheme and the
// Host the request was sent to.
func ownOrigin(origin string, r *http.Request) bool {
	rest, ok := strings.CutPrefix(origin, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(origin, "https://")
	}
	return ok && strings.EqualFold(rest, r.Host)
}

// adminOriginAllowed reports whether a page at origin may use the admin API.
func adminOriginAllowed(origin string, r *http.Request, set *scenarios.Set) bool {
	if ownOrigin(origin, r) {
		return true
	}
	for _, o := range set.Settings.Security.AdminOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// crossSiteAdminWrite reports whether r is a state-changing admin request
// a browser sent from a page that may not use the admin API.
func crossSiteAdminWrite(r *http.Request, set *scenarios.Set) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	if origin := wire.Header(r.Header, "Origin"); origin != "" {
		return !adminOriginAllowed(origin, r, set)
	}
	switch wire.Header(r.Header, "Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	return false
}

// refuseCrossSite answers an admin write from another site.
func refuseCrossSite(w http.ResponseWriter) {
	adminSurface.shape.WriteProblem(w, &wire.Problem{Status: http.StatusForbidden,
		Message: "the admin API takes changes only from msgmock's own pages and settings.security.admin_origins, not from another site"})
}
