// Package console is the auditor console: a web interface to the auditor
// API, served by the consent_ledger extension on its REST listener under
// /console/ when api.console is set.
//
// The console is static: an HTML page, a script and a style sheet embedded
// in the binary (no build step, no CDN, nothing fetched from elsewhere), and
// the reason-code table as JSON. Everything it shows comes from the REST API
// it sits beside, called by the browser with the user's bearer token (kept
// in sessionStorage) or client certificate: every action is authenticated,
// authorised and written to the access log by the API itself, exactly as if
// it were made with curl. The console adds no endpoint that reads or
// changes the ledger.
package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
)

// Prefix is where the console is served.
const Prefix = "/console/"

//go:embed assets
var assets embed.FS

// contentSecurityPolicy allows only the console's own files and the API on
// the same origin: no inline script, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

var files = func() map[string]file {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	types := map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
		".svg":  "image/svg+xml",
	}
	out := map[string]file{}
	err = fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, path)
		if err != nil {
			return err
		}
		ct := "application/octet-stream"
		if i := strings.LastIndexByte(path, '.'); i >= 0 && types[path[i:]] != "" {
			ct = types[path[i:]]
		}
		out[path] = file{body: b, contentType: ct}
		return nil
	})
	if err != nil {
		panic(err)
	}
	reasons, err := json.Marshal(Reasons)
	if err != nil {
		panic(err)
	}
	out["reasons.json"] = file{body: reasons, contentType: "application/json"}
	out[""] = out["index.html"]
	return out
}()

type file struct {
	body        []byte
	contentType string
}

// Mount returns api with the console served beside it: /console/ and the
// files under it from the console, everything else from api.
func Mount(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/console":
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		case strings.HasPrefix(r.URL.Path, Prefix):
			serve(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})
}

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := files[strings.TrimPrefix(r.URL.Path, Prefix)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	// The files change with the binary only; revalidation is cheap and
	// avoids a stale script after an upgrade.
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", f.contentType)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.body)
}
