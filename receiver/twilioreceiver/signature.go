package twilioreceiver

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/consentry/consentry/internal/signature"
	"github.com/consentry/consentry/internal/subject"
)

// HeaderSignature carries Twilio's request signature: base64
// HMAC-SHA1(auth token, URL + sorted form parameters).
const HeaderSignature = "X-Twilio-Signature"

// paramBodySHA256 is the query parameter Twilio adds to the URL of a JSON
// request: the hex SHA-256 of the raw body, so that the URL signature also
// covers the body.
const paramBodySHA256 = "bodySHA256"

// account is one configured Twilio account with what authenticates it.
type account struct {
	sid     string
	tokens  [][]byte
	members map[string]bool // its own SID and its subaccounts'
	keyer   *subject.Keyer
}

// owns reports whether events of sid may be authenticated by this account.
func (a *account) owns(sid string) bool { return a.members[sid] }

// verifier checks X-Twilio-Signature the way Twilio computes it.
type verifier struct {
	// prefixes are the public base URL as configured and, when it names no
	// port or the scheme's default port, its other spelling: Twilio's back
	// end is inconsistent about including :443 / :80 in what it signs.
	prefixes [][]byte
	bySID    map[string]*account // account and subaccount SIDs
	tokens   [][]byte            // every token, for requests that name no account
	owners   []*account          // owners[i] has tokens[i]
}

func newVerifier(publicURL string, accounts []*account) *verifier {
	v := &verifier{bySID: map[string]*account{}}
	if publicURL != "" {
		for _, p := range urlVariants(publicURL) {
			v.prefixes = append(v.prefixes, []byte(p))
		}
	}
	for _, a := range accounts {
		for sid := range a.members {
			v.bySID[sid] = a
		}
		for _, t := range a.tokens {
			v.tokens = append(v.tokens, t)
			v.owners = append(v.owners, a)
		}
	}
	return v
}

// urlVariants returns base and, if it carries no port or the default port of
// its scheme, the same URL with the default port added or removed.
func urlVariants(base string) []string {
	u, err := url.Parse(base)
	if err != nil {
		return []string{base}
	}
	def := "80"
	if u.Scheme == "https" {
		def = "443"
	}
	// Rebuild from the original string so that the configured spelling
	// (case, path escaping) is kept byte for byte.
	schemeEnd := strings.Index(base, "://") + len("://")
	hostEnd := len(base)
	if i := strings.IndexByte(base[schemeEnd:], '/'); i >= 0 {
		hostEnd = schemeEnd + i
	}
	host, rest := base[schemeEnd:hostEnd], base[hostEnd:]
	switch u.Port() {
	case "":
		return []string{base, base[:schemeEnd] + host + ":" + def + rest}
	case def:
		return []string{base, base[:schemeEnd] + strings.TrimSuffix(host, ":"+def) + rest}
	default:
		return []string{base}
	}
}

// signedPathQuery is the part of the signed URL that comes from the
// request: the path and raw query as the client sent them.
func signedPathQuery(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	// Absolute-form request targets (through a forward proxy) or requests
	// built in tests without RequestURI.
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		return r.URL.EscapedPath() + "?" + r.URL.RawQuery
	}
	return r.URL.EscapedPath()
}

// candidates returns the accounts whose tokens may have signed a request:
// the named account when the request names one (form parameter AccountSid,
// or an AccountSid query parameter in the configured URL), every account
// otherwise. A named account that is not configured has no candidates.
func (v *verifier) candidates(named string) ([][]byte, []*account) {
	if named == "" {
		return v.tokens, v.owners
	}
	a := v.bySID[named]
	if a == nil {
		return nil, nil
	}
	owners := make([]*account, len(a.tokens))
	for i := range owners {
		owners[i] = a
	}
	return a.tokens, owners
}

// verify checks sig against HMAC-SHA1 of prefix + pathQuery + params for each
// URL spelling and candidate token. params is the canonical parameter string
// (empty for JSON requests). It returns the account whose token matched.
func (v *verifier) verify(sig, named, pathQuery string, params []byte) *account {
	tokens, owners := v.candidates(named)
	if len(tokens) == 0 || sig == "" {
		return nil
	}
	pq := []byte(pathQuery)
	for _, prefix := range v.prefixes {
		// VerifyHMAC tries every token whatever matches, so the time taken
		// says nothing about the tokens; stopping after the first URL
		// spelling that matches only reveals which spelling Twilio used.
		if i := signature.VerifyHMAC(signature.SHA1, signature.Base64, tokens, sig, prefix, pq, params); i >= 0 {
			return owners[i]
		}
	}
	return nil
}

// bodyHashMatches reports whether the bodySHA256 query parameter holds the
// hex SHA-256 of body. ok is false when the query has no such parameter.
func bodyHashMatches(rawQuery string, body []byte) (present, match bool) {
	want, present := queryParam(rawQuery, paramBodySHA256)
	if !present {
		return false, false
	}
	got, err := hex.DecodeString(want)
	if err != nil || len(got) != sha256.Size {
		return true, false
	}
	sum := sha256.Sum256(body)
	return true, subtle.ConstantTimeCompare(sum[:], got) == 1
}

// queryParam returns the first value of name in a raw query.
func queryParam(rawQuery, name string) (string, bool) {
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k, err := url.QueryUnescape(k); err != nil || k != name {
			continue
		}
		v, err := url.QueryUnescape(v)
		if err != nil {
			return "", true
		}
		return v, true
	}
	return "", false
}
