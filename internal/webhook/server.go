// Package webhook is the HTTP plumbing every Consentry receiver shares: the
// collector's confighttp server (TLS, auth extensions, body limits, timeouts),
// route registration, content-type and size checks, de-duplication of vendor
// retries, the mapping of pipeline errors to status codes, and the receiver's
// observability (receiverhelper obsreport plus request counters).
//
// A route turns one authenticated request into log records; the server does
// the rest. The vendor gets a 2xx only after ConsumeLogs returned nil.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/consentry/consentry/internal/admission"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/dedup"
)

// ContentTypeJSON and ContentTypeForm are the media types vendors send.
const (
	ContentTypeJSON = "application/json"
	ContentTypeForm = "application/x-www-form-urlencoded"
)

// Request is one authenticated-to-be request as a route sees it.
type Request struct {
	HTTP     *http.Request
	Body     []byte    // the raw body; valid only until the route returns
	Received time.Time // when the body was read: the records' ObservedTimestamp
}

// Route is one endpoint of a receiver.
type Route struct {
	// Path is the URL path, with optional {wildcards} as net/http.ServeMux
	// understands them.
	Path string
	// Methods lists the accepted HTTP methods; empty means POST only.
	// Another method gets 405.
	Methods []string
	// Name labels the route in metrics and in the ccaas.event.route attribute.
	Name string
	// ContentTypes lists the accepted media types; empty means JSON only.
	ContentTypes []string
	// Handle authenticates the request and turns it into log records. It
	// returns an *Error for anything the caller did wrong.
	Handle func(*Request) (plog.Logs, error)
	// Respond writes the success answer; nil writes 200 with a small JSON
	// summary.
	Respond func(w http.ResponseWriter, accepted, duplicates int)

	// Metric attribute sets, built once in NewServer rather than per request.
	statusAttrs sync.Map // int status -> metric.MeasurementOption
	dupAttrs    metric.MeasurementOption
	receiverID  attribute.KeyValue
}

// Server serves a receiver's routes.
type Server struct {
	cfg      *Config
	set      receiver.Settings
	next     consumer.Logs
	routes   []*Route
	obs      *receiverhelper.ObsReport
	dedup    *dedup.Cache
	requests metric.Int64Counter
	dupes    metric.Int64Counter
	// slots holds a token per request in progress (admission.max_in_flight);
	// nil when unbounded.
	slots chan struct{}

	srv      *http.Server
	addr     net.Addr
	serveErr chan error
}

// Telemetry is the instruments of the webhook metrics, which each
// receiver declares in its metadata.yaml (its generated TelemetryBuilder).
type Telemetry struct {
	// Requests is consentry.webhook.requests: requests by receiver, route
	// and HTTP status code.
	Requests metric.Int64Counter
	// Duplicates is consentry.webhook.duplicates: events answered as
	// duplicates of events already accepted.
	Duplicates metric.Int64Counter
}

// NewServer prepares a server; Start binds it.
func NewServer(cfg *Config, set receiver.Settings, tel Telemetry, next consumer.Logs, routes ...Route) (*Server, error) {
	if next == nil {
		return nil, errors.New("nil next consumer")
	}
	if tel.Requests == nil || tel.Duplicates == nil {
		return nil, errors.New("webhook: telemetry instruments are required")
	}
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "http",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, set: set, next: next, obs: obs, requests: tel.Requests, dupes: tel.Duplicates}
	s.routes = make([]*Route, len(routes))
	for i := range routes {
		rt := &routes[i]
		rt.receiverID = attribute.String("receiver", set.ID.String())
		rt.dupAttrs = metric.WithAttributeSet(attribute.NewSet(rt.receiverID, attribute.String("route", rt.Name)))
		s.routes[i] = rt
	}
	if cfg.Admission.MaxInFlight > 0 {
		s.slots = make(chan struct{}, cfg.Admission.MaxInFlight)
	}
	if cfg.Dedup.Enabled {
		s.dedup = dedup.New(cfg.Dedup.MaxEntries, cfg.Dedup.TTL)
	}
	return s, nil
}

// Handler returns the routes without the confighttp middleware; tests and
// benchmarks use it to measure the receiver's own work.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(rt, w, r) })
		methods := rt.Methods
		if len(methods) == 0 {
			methods = []string{http.MethodPost}
		}
		for _, m := range methods {
			mux.Handle(m+" "+rt.Path, h)
		}
	}
	return mux
}

// Start binds the listener and serves in the background.
func (s *Server) Start(ctx context.Context, host component.Host) error {
	ln, err := s.cfg.ToListener(ctx)
	if err != nil {
		return err
	}
	srv, err := s.cfg.ToServer(ctx, host.GetExtensions(), s.set.TelemetrySettings, s.Handler(),
		// confighttp's own refusals (auth extension, decompression) use the
		// same JSON error shape as ours.
		confighttpErrorHandler())
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.srv, s.addr, s.serveErr = srv, ln.Addr(), make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
		s.serveErr <- nil
	}()
	s.set.Logger.Info("Webhook receiver listening", zap.String("endpoint", s.addr.String()))
	return nil
}

// Addr is the bound address once started (useful with port 0).
func (s *Server) Addr() net.Addr { return s.addr }

// Shutdown stops accepting requests and waits for those in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	<-s.serveErr
	return err
}

// overloadedMsg answers a request that admission control refused.
const overloadedMsg = "the collector is overloaded; retry later"

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 256 << 10

func (s *Server) serve(rt *Route, w http.ResponseWriter, r *http.Request) {
	status := s.admitAndHandle(rt, w, r)
	s.requests.Add(r.Context(), 1, rt.statusOption(status))
}

// admitAndHandle is the receivers' gate: a request that finds no free slot
// within admission.max_wait is answered 503 before its body is read, so
// under overload refused requests cost next to no CPU and the admitted ones
// are not slowed down by them (docs/design/admission-control.md).
func (s *Server) admitAndHandle(rt *Route, w http.ResponseWriter, r *http.Request) int {
	if s.slots == nil {
		return s.handle(rt, w, r)
	}
	if !s.acquire(r.Context()) {
		return s.overloaded(w, rt, "Receiver at admission.max_in_flight; asking the vendor to retry")
	}
	defer func() { <-s.slots }()
	return s.handle(rt, w, r)
}

// acquire takes a slot, waiting at most admission.max_wait (and not past the
// client giving up).
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	if s.cfg.Admission.MaxWait <= 0 {
		return false
	}
	t := time.NewTimer(s.cfg.Admission.MaxWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// overloaded answers 503 with Retry-After. Shedding load is the collector
// working as designed, and happens thousands of times a second under
// overload: counted (consentry.webhook.requests by status), logged only at
// debug level.
func (s *Server) overloaded(w http.ResponseWriter, rt *Route, why string) int {
	w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter/time.Second)))
	if ce := s.set.Logger.Check(zap.DebugLevel, why); ce != nil {
		ce.Write(zap.String("route", rt.Name))
	}
	WriteError(w, http.StatusServiceUnavailable, overloadedMsg)
	return http.StatusServiceUnavailable
}

// statusOption returns the metric attributes of a request answered with
// status, building each set once.
func (rt *Route) statusOption(status int) metric.MeasurementOption {
	if o, ok := rt.statusAttrs.Load(status); ok {
		return o.(metric.MeasurementOption)
	}
	o := metric.WithAttributeSet(attribute.NewSet(rt.receiverID,
		attribute.String("route", rt.Name), attribute.Int("http.response.status_code", status)))
	rt.statusAttrs.Store(status, o)
	return o
}

func (s *Server) handle(rt *Route, w http.ResponseWriter, r *http.Request) int {
	if !acceptsContentType(rt, r.Header.Get("Content-Type")) {
		return s.fail(w, r, rt, &Error{Status: http.StatusUnsupportedMediaType, Msg: "Content-Type must be one of " + joinTypes(rt)})
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			bufPool.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(r.Body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return s.fail(w, r, rt, err)
		}
		return s.fail(w, r, rt, Malformed("could not read the request body"))
	}
	req := &Request{HTTP: r, Body: buf.Bytes(), Received: time.Now()}

	ctx := s.obs.StartLogsOp(r.Context())
	ld, err := rt.Handle(req)
	if err != nil {
		s.obs.EndLogsOp(ctx, rt.Name, 0, err)
		return s.fail(w, r, rt, err)
	}
	keys, duplicates := s.dropDuplicates(ld)
	if duplicates > 0 {
		s.dupes.Add(ctx, int64(duplicates), rt.dupAttrs)
	}
	n := ld.LogRecordCount()
	if n == 0 {
		s.obs.EndLogsOp(ctx, rt.Name, 0, nil)
		if duplicates == 0 {
			return s.fail(w, r, rt, Malformed("the request holds no events"))
		}
		return s.succeed(rt, w, 0, duplicates)
	}
	err = s.next.ConsumeLogs(ctx, ld)
	s.obs.EndLogsOp(ctx, rt.Name, n, err)
	if err != nil {
		if consumererror.IsPermanent(err) {
			s.set.Logger.Warn("Pipeline rejected events permanently", zap.String("route", rt.Name), zap.Error(err))
			return s.fail(w, r, rt, Errorf(http.StatusBadRequest, "the pipeline rejected the events permanently"))
		}
		if errors.Is(err, admission.ErrOverloaded) {
			// Also counted in the quarantine exporter's refusals.
			return s.overloaded(w, rt, "Collector overloaded; asking the vendor to retry")
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter/time.Second)))
		s.set.Logger.Warn("Pipeline refused events; asking the vendor to retry", zap.String("route", rt.Name), zap.Error(err))
		return s.fail(w, r, rt, Errorf(http.StatusServiceUnavailable, "the pipeline is temporarily unable to accept events; retry later"))
	}
	for _, k := range keys {
		s.dedup.Add(k)
	}
	return s.succeed(rt, w, n, duplicates)
}

func (s *Server) succeed(rt *Route, w http.ResponseWriter, accepted, duplicates int) int {
	if rt.Respond != nil {
		rw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rt.Respond(rw, accepted, duplicates)
		return rw.status
	}
	w.Header().Set("Content-Type", ContentTypeJSON)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"accepted":` + strconv.Itoa(accepted) + `,"duplicates":` + strconv.Itoa(duplicates) + "}\n"))
	return http.StatusOK
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, rt *Route, err error) int {
	status, msg := statusOf(err)
	if status >= 500 {
		s.set.Logger.Warn("Webhook request failed", zap.String("route", rt.Name), zap.Int("status", status), zap.String("reason", msg))
	} else if ce := s.set.Logger.Check(zap.DebugLevel, "Webhook request refused"); ce != nil {
		ce.Write(zap.String("route", rt.Name), zap.Int("status", status), zap.String("reason", msg), zap.String("remote", r.RemoteAddr))
	}
	WriteError(w, status, msg)
	return status
}

// WriteError writes the JSON error body every Consentry endpoint uses.
func WriteError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{status, msg})
	w.Header().Set("Content-Type", ContentTypeJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// dropDuplicates removes records whose event key the cache has seen. It
// returns the keys of the records that remain (to remember once they are
// accepted) and how many it removed.
func (s *Server) dropDuplicates(ld plog.Logs) (keys []string, removed int) {
	if s.dedup == nil {
		return nil, 0
	}
	keys = make([]string, 0, ld.LogRecordCount())
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		prefix := resourcePrefix(rl)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sls.At(j).LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				id, ok := lr.Attributes().Get(ccaas.AttrEventID)
				if !ok || id.Str() == "" {
					return false
				}
				k := prefix + id.Str()
				if s.dedup.Seen(k) {
					removed++
					return true
				}
				keys = append(keys, k)
				return false
			})
		}
	}
	if removed > 0 {
		rls.RemoveIf(func(rl plog.ResourceLogs) bool {
			rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool { return sl.LogRecords().Len() == 0 })
			return rl.ScopeLogs().Len() == 0
		})
	}
	return keys, removed
}

func resourcePrefix(rl plog.ResourceLogs) string {
	attrs := rl.Resource().Attributes()
	v, _ := attrs.Get(ccaas.AttrVendor)
	t, _ := attrs.Get(ccaas.AttrTenantID)
	return v.Str() + "\x00" + t.Str() + "\x00"
}

func acceptsContentType(rt *Route, header string) bool {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return false
	}
	if len(rt.ContentTypes) == 0 {
		return mt == ContentTypeJSON
	}
	for _, ct := range rt.ContentTypes {
		if mt == ct {
			return true
		}
	}
	return false
}

func joinTypes(rt *Route) string {
	if len(rt.ContentTypes) == 0 {
		return ContentTypeJSON
	}
	out := ""
	for i, ct := range rt.ContentTypes {
		if i > 0 {
			out += ", "
		}
		out += ct
	}
	return out
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func confighttpErrorHandler() confighttp.ToServerOption {
	return confighttp.WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, msg string, status int) {
		if status == http.StatusUnauthorized {
			msg = Unauthenticated().Msg
		}
		WriteError(w, status, msg)
	})
}
