package main

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/msgmock/msgmock/scenarios"
)

// idleTimeout closes a keep-alive connection no request has used for that
// long (README: Security). ReadHeaderTimeout (10s) is set beside it; a
// body's read and an answer's write are timed per request (package wire).
const idleTimeout = 60 * time.Second

// protections are the admin protections a serve runs with, decided once
// the listener is bound: listening beyond loopback without an admin token
// gets a generated one, unless an empty --admin-token was given on purpose.
type protections struct {
	listen         string
	beyondLoopback bool
	tokenFrom      string // "--admin-token", "MSGMOCK_ADMIN_TOKEN", "generated", or "" for none
	generated      bool
	hosts          []string // --allowed-host, then settings.security.allowed_hosts
	masked         bool
}

func decideProtections(f *serveFlags, getenv func(string) string, addr net.Addr, sec scenarios.Security) protections {
	p := protections{listen: addr.String(), beyondLoopback: !isLoopback(addr), masked: sec.MaskCredentials}
	p.hosts = append(append(p.hosts, f.allowedHosts...), sec.AllowedHosts...)
	switch {
	case f.given["admin-token"]:
		if f.adminToken != "" {
			p.tokenFrom = "--admin-token"
		}
	case f.adminToken != "":
		p.tokenFrom = "MSGMOCK_ADMIN_TOKEN"
	case p.beyondLoopback:
		p.tokenFrom, p.generated = "generated", true
	}
	return p
}

// isLoopback reports whether addr is a loopback address only: 127.0.0.1
// or ::1, not 0.0.0.0 or :: (every interface) nor a LAN address.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// generateToken makes an admin token: mmk_ and 32 base32 characters (160
// random bits).
func generateToken() (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "mmk_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])), nil
}

// print says, after the start line and only when msgmock listens beyond
// loopback, which protections are on — and a generated token, this once.
func (p protections) print(w io.Writer, token string) {
	if !p.beyondLoopback {
		return
	}
	var on []string
	switch p.tokenFrom {
	case "":
		on = append(on, "admin token OFF (--admin-token ''): whoever reaches "+p.listen+" can read the journal and drive /__mock/*")
	default:
		on = append(on, "admin token on ("+p.tokenFrom+")")
	}
	if slices.Contains(p.hosts, "*") {
		on = append(on, "host check OFF (allowed host *)")
	} else {
		allowed := append([]string{"localhost", "IP addresses"}, p.hosts...)
		on = append(on, "host check on (accepts "+strings.Join(allowed, ", ")+"; --allowed-host adds a name)")
	}
	if p.masked {
		on = append(on, "credentials masked in the journal")
	} else {
		on = append(on, "credentials shown in the clear (settings.security.mask_credentials: false)")
	}
	fmt.Fprintf(w, "msgmock: listening beyond loopback on %s; protections: %s\n", p.listen, strings.Join(on, "; "))
	if p.generated {
		fmt.Fprintf(w, "msgmock: admin token (generated for this run, shown once): %s\n", token)
		fmt.Fprintf(w, "msgmock: /__mock/* wants Authorization: Bearer <token> (the inspector asks for it); --admin-token '' turns it off, --admin-token T sets it\n")
	}
}
