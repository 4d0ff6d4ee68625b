package scenarios

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// security reads settings.security.
func (r *reader) security(n *yaml.Node) Security {
	sec := Security{MaskCredentials: true}
	f := r.fields(n, "settings.security", "allowed_hosts", "admin_origins", "mask_credentials")
	if v := f["allowed_hosts"]; v != nil {
		for i, item := range r.seq(v, "settings.security.allowed_hosts") {
			what := fmt.Sprintf("settings.security.allowed_hosts[%d]", i)
			if s, ok := r.nonEmpty(item, what); ok {
				if host, err := AllowedHost(s); err != nil {
					r.errorf(item, "%s: %v", what, err)
				} else {
					sec.AllowedHosts = append(sec.AllowedHosts, host)
				}
			}
		}
	}
	if v := f["admin_origins"]; v != nil {
		for i, item := range r.seq(v, "settings.security.admin_origins") {
			what := fmt.Sprintf("settings.security.admin_origins[%d]", i)
			if s, ok := r.nonEmpty(item, what); ok {
				if origin, err := adminOrigin(s); err != nil {
					r.errorf(item, "%s: %v", what, err)
				} else {
					sec.AdminOrigins = append(sec.AdminOrigins, origin)
				}
			}
		}
	}
	if v := f["mask_credentials"]; v != nil {
		sec.MaskCredentials, _ = r.boolean(v, "settings.security.mask_credentials")
	}
	return sec
}

// AllowedHost checks one allowed host, as settings.security.allowed_hosts
// and --allowed-host give it, and returns it in lower case without a
// trailing dot: "*", a host name (letters, digits, hyphens and, for
// docker compose service names, underscores), an IPv4 address, or an IPv6
// address (bracketed when a port follows), each with an optional :port.
func AllowedHost(s string) (string, error) {
	if s == "*" {
		return s, nil
	}
	if strings.Contains(s, "://") {
		return "", fmt.Errorf("%q is not a host: give a name or address with an optional :port (such as msgmock or devbox.local:8080), not a URL", s)
	}
	if strings.ContainsAny(s, "/?#@ \t") {
		return "", fmt.Errorf("%q is not a host name or IP address (with an optional :port, such as devbox.local:8080)", s)
	}
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return "", fmt.Errorf("%q: an IPv6 address in brackets lacks its ]", s)
		}
		host, port = s[1:end], s[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return "", fmt.Errorf("%q: only :port may follow ]", s)
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return "", fmt.Errorf("%q: %q is not an IPv6 address", s, host)
		}
	case strings.Count(s, ":") > 1:
		if a, err := netip.ParseAddr(s); err != nil || !a.Is6() {
			return "", fmt.Errorf("%q is not an IPv6 address (with a port, write it as [::1]:8080)", s)
		}
		return strings.ToLower(s), nil
	default:
		if i := strings.IndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i:]
		}
		host = strings.TrimSuffix(host, ".")
		if net.ParseIP(host) == nil && !hostName(host) {
			return "", fmt.Errorf("%q is not a host name or IP address", s)
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port[1:])
		if err != nil || n < 1 || n > 65535 || port[1] == '+' {
			return "", fmt.Errorf("%q: the port must be a number from 1 to 65535", s)
		}
	}
	if strings.HasPrefix(s, "[") {
		return strings.ToLower(s), nil
	}
	return strings.ToLower(host) + port, nil
}

// hostName reports whether s is a DNS host name: dot-separated labels of
// letters, digits, hyphens and underscores, none empty or over 63
// characters, none starting or ending with a hyphen; at most 253 in all.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// adminOrigin checks one browser origin of security.admin_origins and
// returns it in lower case: scheme://host[:port], as a browser sends it in
// Origin, without a path, a query or a trailing slash.
func adminOrigin(s string) (string, error) {
	if s == "*" || s == "null" {
		return "", fmt.Errorf("%q would let any web page read the journal and drive msgmock; list the origins of the pages that should (such as http://localhost:5173)", s)
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%q is not an origin: write scheme://host[:port], such as http://localhost:5173", s)
	}
	if u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return "", fmt.Errorf("%q is not an origin: an origin is scheme://host[:port] only, without user, path (not even a trailing /), query or fragment", s)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q: the port must be a number from 1 to 65535", s)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("%q: a colon without a port", s)
	}
	return strings.ToLower(s), nil
}
