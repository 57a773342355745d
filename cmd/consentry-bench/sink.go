package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// sink is an OTLP/HTTP logs endpoint that answers 200 at once: the cheap
// forward destination of every scenario and of the baseline. With count
// set it also decodes each request and counts its records (verification
// only: decoding costs CPU on the machine under test).
type sink struct {
	srv      *http.Server
	url      string
	requests atomic.Int64
	bytes    atomic.Int64
	records  atomic.Int64
	count    bool
	okBody   []byte
	bufs     sync.Pool
}

func newSink(count bool) (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String(), count: count}
	s.okBody, _ = plogotlp.NewExportResponse().MarshalProto()
	s.bufs.New = func() any { return new(bytes.Buffer) }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/logs", s.handle)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) handle(w http.ResponseWriter, r *http.Request) {
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	n, err := io.Copy(buf, r.Body)
	if err != nil {
		s.bufs.Put(buf)
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	s.requests.Add(1)
	s.bytes.Add(n)
	if s.count {
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(buf.Bytes()); err != nil {
			s.bufs.Put(buf)
			http.Error(w, "not OTLP protobuf", http.StatusBadRequest)
			return
		}
		s.records.Add(int64(req.Logs().LogRecordCount()))
	}
	s.bufs.Put(buf)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(s.okBody)
}

func (s *sink) close() { _ = s.srv.Close() }
