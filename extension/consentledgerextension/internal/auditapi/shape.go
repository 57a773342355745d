package auditapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// Every REST error has one shape, {"code", "message", "details"} (the
// gRPC status as JSON), with the HTTP status of its code. Unary calls get
// it from httpErrorHandler. A streamed call (evidence export) that fails
// before its first message is answered by grpc-gateway's stream error
// path, which wraps the status as {"error": {...}} and maps the code
// without our HTTP statuses; errorShape unwraps it. An error after the
// stream has begun can only end the stream: its last line is then
// {"error": {...}} (and an evidence bundle has no manifest).

// errorShape holds an error answer (status >= 400) until the handler
// returns, and rewrites a gateway stream error into the documented shape.
// Other answers pass through unbuffered, streams included.
func errorShape(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &shapeWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		sw.finish()
	})
}

type shapeWriter struct {
	http.ResponseWriter
	wrote   bool // the header went out
	holding bool // an error answer is being held
	code    int
	buf     bytes.Buffer
}

func (w *shapeWriter) WriteHeader(code int) {
	if w.wrote || w.holding {
		return
	}
	if code >= 400 {
		w.holding, w.code = true, code
		return
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *shapeWriter) Write(p []byte) (int, error) {
	if !w.wrote && !w.holding {
		w.WriteHeader(http.StatusOK)
	}
	if w.holding {
		return w.buf.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *shapeWriter) Flush() {
	if w.holding {
		return
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if !w.wrote {
			w.WriteHeader(http.StatusOK)
		}
		f.Flush()
	}
}

func (w *shapeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *shapeWriter) finish() {
	if !w.holding {
		return
	}
	body := w.buf.Bytes()
	if st, ok := streamError(body); ok {
		if b, err := (protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}).Marshal(st.Proto()); err == nil {
			body = b
			w.code = httpStatus(st)
			h := w.ResponseWriter.Header()
			h.Del("Trailer")
			h.Del("Transfer-Encoding")
			setErrorHeaders(h, st)
			h.Set("Content-Length", strconv.Itoa(len(body)))
		}
	}
	w.ResponseWriter.WriteHeader(w.code)
	_, _ = w.ResponseWriter.Write(body)
}

// streamError recognises grpc-gateway's stream error chunk,
// {"error": <status>} followed by a newline.
func streamError(body []byte) (*status.Status, bool) {
	var chunk map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(body), &chunk); err != nil || len(chunk) != 1 || chunk["error"] == nil {
		return nil, false
	}
	var p spb.Status
	if err := protojson.Unmarshal(chunk["error"], &p); err != nil {
		return nil, false
	}
	return status.FromProto(&p), true
}
