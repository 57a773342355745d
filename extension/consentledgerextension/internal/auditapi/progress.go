package auditapi

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/consentry/consentry/internal/ledger"
)

// verifyPath is VerifyLedger's REST route.
const verifyPath = "/v1/ledger:verify"

// defaultProgressEvery is how often a streamed verification writes a
// progress line.
const defaultProgressEvery = 2 * time.Second

// wantsNDJSON reports whether a request accepts application/x-ndjson.
func wantsNDJSON(r *http.Request) bool {
	for _, part := range strings.Split(strings.Join(r.Header.Values("Accept"), ","), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/x-ndjson" {
			return true
		}
	}
	return false
}

// progressLine is one line of a streamed verification.
type progressLine struct {
	Progress *verifyProgress `json:"progress,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    json.RawMessage `json:"error,omitempty"`
}

type verifyProgress struct {
	Phase   string `json:"phase"`
	Checked int64  `json:"checked,omitempty"`
	Total   int64  `json:"total,omitempty"`
	Elapsed string `json:"elapsed"`
}

// streamVerify answers POST /v1/ledger:verify with Accept:
// application/x-ndjson as NDJSON: a {"progress": {...}} line every
// progressEvery while the ledger is verified, then one {"result": {...}}
// line (the VerifyLedgerResponse) or {"error": {...}} (the status). Each
// line moves the connection's write deadline, so a verification longer
// than the server's write timeout completes. A call that fails before the
// first progress line (401, 403, 429, 400) is answered as usual, with its
// HTTP status; one that succeeds first is the result line alone.
func (s *Service) streamVerify(w http.ResponseWriter, r *http.Request, calls http.Handler) {
	id := newRequestID()
	start := time.Now()
	rec := &recorder{header: http.Header{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		calls.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	}()
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	started := false
	line := func(l progressLine) {
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteSlack))
		_ = enc.Encode(l)
		_ = rc.Flush()
	}
	tick := time.NewTicker(s.progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			p := verifyProgress{Phase: "starting", Elapsed: time.Since(start).Round(time.Second).String()}
			if v, ok := s.progress.Load(id); ok {
				vp := v.(ledger.VerifyProgress)
				p.Phase, p.Checked, p.Total = vp.Phase, vp.Checked, vp.Total
			}
			line(progressLine{Progress: &p})
			continue
		case <-done:
		}
		break
	}
	body := bytes.TrimSpace(rec.body.Bytes())
	switch {
	case !started && rec.code != http.StatusOK:
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		_, _ = w.Write(rec.body.Bytes())
	case rec.code == http.StatusOK:
		line(progressLine{Result: body})
	default:
		line(progressLine{Error: body})
	}
}

// verifyProgressTo returns ctx under which the ledger reports a REST
// verification's progress for streamVerify (keyed by its request id), and
// the function that forgets it. A caller limited to some tenants sees the
// phase only: the ledger's size is other tenants' business too.
func (s *Service) verifyProgressTo(ctx context.Context, sc *scope) (context.Context, func()) {
	md, _ := metadata.FromIncomingContext(ctx)
	ids := md.Get(inprocRequestKey)
	if len(ids) != 1 {
		return ctx, func() {}
	}
	id := ids[0]
	all := sc != nil && sc.all
	return ledger.WithVerifyProgress(ctx, func(p ledger.VerifyProgress) {
		if s.verifyPause != nil {
			s.verifyPause() // tests: a long verification
		}
		if !all {
			p.Checked, p.Total = 0, 0
		}
		s.progress.Store(id, p)
	}), func() { s.progress.Delete(id) }
}

// deadlineWriter moves the connection's write deadline before each write,
// so that a streamed answer (an evidence export) outlives the server's
// write timeout while it keeps writing.
type deadlineWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func newDeadlineWriter(w http.ResponseWriter) *deadlineWriter {
	return &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(streamWriteSlack))
	return d.ResponseWriter.Write(p)
}

func (d *deadlineWriter) Flush() { _ = d.rc.Flush() }

func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
