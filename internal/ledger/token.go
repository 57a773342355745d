package ledger

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/consentry/consentry/internal/ledger/chain"
)

// Page tokens are opaque to callers: base64url of a small JSON object
// holding the last id of the previous page and a hash of the query, so
// that a token cannot be replayed against other filters.
type pageToken struct {
	After string `json:"a"`
	Query string `json:"q"`
}

func queryHash(parts ...string) string {
	e := chain.NewEncoder("consentry.ledger.page.v1")
	e.Strings(parts)
	h := e.Sum()
	return h.String()[:16]
}

func encodeToken(after, qh string) string {
	if after == "" {
		return ""
	}
	b, _ := json.Marshal(pageToken{After: after, Query: qh})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(tok, qh string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", ErrBadPageToken
	}
	var t pageToken
	if err := json.Unmarshal(b, &t); err != nil || t.After == "" {
		return "", ErrBadPageToken
	}
	if t.Query != qh {
		return "", fmt.Errorf("%w: it belongs to a query with other filters", ErrBadPageToken)
	}
	return t.After, nil
}

func pageSize(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}
