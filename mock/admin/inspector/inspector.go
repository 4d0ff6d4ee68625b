// Package inspector is msgmock's page in the browser, served at
// GET /__mock/: plain HTML, CSS and JavaScript embedded in the binary, with
// no build step and nothing fetched from the network, so it works offline.
// The page reads and steers msgmock through the admin API alone (see the
// README's "The inspector").
package inspector

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

type file struct {
	data        []byte
	contentType string
	etag        string
}

var files = func() map[string]file {
	out := map[string]file{}
	entries, err := static.ReadDir("static")
	if err != nil {
		panic(err)
	}
	types := map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
		".svg":  "image/svg+xml",
	}
	for _, e := range entries {
		data, err := static.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(data)
		out[e.Name()] = file{data: data, contentType: types[path.Ext(e.Name())], etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return out
}()

// contentSecurityPolicy allows the page nothing from elsewhere.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Names lists the files the page is made of (index.html is the page).
func Names() []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	return names
}

// Serve writes the page (name "") or one of its files; an unknown name is
// a 404 in the admin API's shape.
func Serve(w http.ResponseWriter, r *http.Request, name string) {
	if name == "" {
		name = "index.html"
	}
	f, ok := files[name]
	if !ok || name == "index.html" && r.URL.Path != "/__mock/" {
		body, _ := json.Marshal(map[string]string{"error": "no admin endpoint " + r.URL.Path})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(body)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}
