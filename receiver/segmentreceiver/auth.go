package segmentreceiver

import (
	"net/http"
	"strings"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/signature"
	"github.com/consentry/consentry/internal/webhook"
)

// errBatchNeedsHeader refuses a batched webhook delivery that only a
// signature vouches for: Segment signs the first event of a batch, so the
// others would be unauthenticated.
func errBatchNeedsHeader() error {
	return webhook.Errorf(http.StatusUnauthorized,
		"batched deliveries must be authenticated by the batch authentication header: Segment signs only the first event of a batch")
}

// webhookTenant authenticates a /segment/webhook request and returns its
// tenant ("" for an unauthenticated request that insecure mode admits).
//
//   - The batch authentication header, when present, authenticates the whole
//     request (object or array). An X-Signature sent with it must then also
//     verify (over the body, or over the first event of a batch) with one of
//     that tenant's shared secrets, when the tenant has any.
//   - Otherwise X-Signature authenticates a single event (object body).
//     Arrays are refused: their signature covers only the first event.
func (r *handlers) webhookTenant(req *http.Request, body []byte, batched bool) (string, error) {
	sig := req.Header.Get(HeaderSignature)
	if token := r.batchToken(req); token != "" {
		tenant, ok := r.batchTokens.Lookup(token)
		if !ok {
			return "", webhook.Unauthenticated()
		}
		if secrets := r.tenantShared[tenant]; sig != "" && len(secrets) > 0 {
			signed := body
			if batched {
				if signed, ok = firstElement(body); !ok {
					return "", webhook.Malformed("the body is not a JSON array of event objects")
				}
			}
			if signature.VerifyHMAC(signature.SHA1, signature.Hex, secrets, sig, signed) < 0 {
				return "", webhook.Unauthenticated()
			}
		}
		return tenant, nil
	}
	switch {
	case batched && (sig != "" || !r.cfg.InsecureAllowUnauthenticated):
		return "", errBatchNeedsHeader()
	case sig != "":
		i := signature.VerifyHMAC(signature.SHA1, signature.Hex, r.sharedSecrets, sig, body)
		if i < 0 {
			return "", webhook.Unauthenticated()
		}
		return r.sharedOwners[i], nil
	case r.cfg.InsecureAllowUnauthenticated:
		return "", nil
	default:
		return "", webhook.Unauthenticated()
	}
}

// batchToken is the value of the batch authentication header, if configured
// and sent.
func (r *handlers) batchToken(req *http.Request) string {
	if r.batchHeader == "" {
		return ""
	}
	v := req.Header.Get(r.batchHeader)
	if r.batchHeader == "Authorization" {
		v = strings.TrimPrefix(v, "Bearer ")
	}
	return v
}

// basicWriteKey reads the write key from HTTP Basic credentials (user name =
// write key; the password is ignored, as Segment does). Any other
// Authorization scheme (such as the SDKs' OAuth bearer tokens) is refused.
func basicWriteKey(req *http.Request) (key string, ok bool, err error) {
	if req.Header.Get("Authorization") == "" {
		return "", false, nil
	}
	user, _, ok := req.BasicAuth()
	if !ok || user == "" {
		return "", false, webhook.Unauthenticated()
	}
	return user, true, nil
}

// trackingTenant decides the tenant of a Tracking API request from the
// Basic credential and the write keys in the body. Every write key presented
// must be valid, and all must belong to one tenant.
func (r *handlers) trackingTenant(basicKey, basicTenant string, hasBasic bool, bodyKeys []string) (string, error) {
	tenant, authed := basicTenant, hasBasic
	for _, k := range bodyKeys {
		if hasBasic && k == basicKey {
			continue
		}
		t, ok := r.writeKeys.Lookup(k)
		switch {
		case !ok:
			return "", webhook.Unauthenticated()
		case authed && t != tenant:
			return "", webhook.Forbidden("the request carries write keys of more than one source")
		}
		tenant, authed = t, true
	}
	if !authed && !r.cfg.InsecureAllowUnauthenticated {
		return "", webhook.Unauthenticated()
	}
	return tenant, nil
}

// isArray reports whether a JSON body is an array (a batched delivery).
func isArray(body []byte) bool {
	i := skipSpace(body, 0)
	return i < len(body) && body[i] == '['
}

// firstElement returns the exact bytes of the first element of a JSON array
// of objects: what Segment signs for a batch (it sends compact JSON, so the
// bytes of the element are its JSON.stringify). It only delimits the
// element; the body is parsed in full afterwards. Brackets must pair up
// (`[{]` is not an element), and nesting deeper than the JSON parser allows
// is refused here already.
func firstElement(body []byte) ([]byte, bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '[' {
		return nil, false
	}
	start := skipSpace(body, i+1)
	if start >= len(body) || body[start] != '{' {
		return nil, false
	}
	var open [ccaas.MaxJSONDepth]byte // the closing bracket each open one needs
	depth, inStr, esc := 0, false, false
	for j := start; j < len(body); j++ {
		c := body[j]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			if depth == len(open) {
				return nil, false
			}
			open[depth] = c + 2 // '{'+2 == '}', '['+2 == ']'
			depth++
		case '}', ']':
			if depth == 0 || open[depth-1] != c {
				return nil, false
			}
			depth--
			if depth == 0 {
				return body[start : j+1], true
			}
		}
	}
	return nil, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
