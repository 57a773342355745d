package auditapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/consentry/consentry/internal/ledger"
)

// ErrorInfo reasons of errors that have an HTTP status of their own.
const (
	reasonErased = "SUBJECT_ERASED"
	reasonPurged = "PAYLOAD_PURGED"
	errorDomain  = "consentry.dev"
)

// ledgerError maps a ledger error to a gRPC status with a message a person
// understands. what names the object concerned ("record 01J…").
func (s *Service) ledgerError(err error, what string) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return st.Err() // already a status (ours)
	}
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return status.Errorf(codes.NotFound, "%s not found", what)
	case errors.Is(err, ledger.ErrErased):
		return withInfo(codes.FailedPrecondition, reasonErased, what+": the subject was erased; the payload was crypto-shredded and can never be read again (the metadata and the chain remain)")
	case errors.Is(err, ledger.ErrPurged):
		return withInfo(codes.FailedPrecondition, reasonPurged, what+": retention purged the payload (the metadata and the chain remain)")
	case errors.Is(err, ledger.ErrTampered):
		s.log.Error("audit API: ledger record does not match its chain", zap.String("what", what), zap.Error(err))
		return status.Errorf(codes.DataLoss, "%s does not match its hash-chain entry: the ledger may have been altered; run VerifyLedger", what)
	case errors.Is(err, ledger.ErrBadPageToken):
		return status.Error(codes.InvalidArgument, "invalid page_token: pass the next_page_token of the previous page of the same query, unchanged")
	case errors.Is(err, ledger.ErrInvalid):
		return status.Errorf(codes.InvalidArgument, "invalid request: %v", err)
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the call was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the call's deadline passed before the ledger answered")
	case ledger.IsRetryable(err):
		s.log.Warn("audit API: ledger unavailable", zap.Error(err))
		return status.Error(codes.Unavailable, "the ledger is temporarily unavailable; retry in a few seconds")
	default:
		s.log.Error("audit API: ledger error", zap.String("what", what), zap.Error(err))
		return status.Error(codes.Internal, "the ledger failed to answer (see the collector's log)")
	}
}

// setErrorHeaders sets the headers of an error answer: WWW-Authenticate on
// 401, Retry-After when the status says when to retry.
func setErrorHeaders(h http.Header, st *status.Status) {
	h.Set("Content-Type", "application/json")
	if st.Code() == codes.Unauthenticated {
		h.Set("WWW-Authenticate", `Bearer realm="consentry-audit"`)
	}
	if s := retryAfter(st); s > 0 {
		h.Set("Retry-After", strconv.Itoa(s))
	}
}

func withInfo(code codes.Code, reason, msg string) error {
	st := status.New(code, msg)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: errorDomain}); err == nil {
		return d.Err()
	}
	return st.Err()
}

// httpStatus is the HTTP status of a gRPC status: grpc-gateway's mapping,
// and 410 Gone for erased or purged payloads.
func httpStatus(st *status.Status) int {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Domain == errorDomain && (info.Reason == reasonErased || info.Reason == reasonPurged) {
			return http.StatusGone
		}
	}
	return runtime.HTTPStatusFromCode(st.Code())
}

// httpErrorHandler writes a gRPC error as JSON ({"code", "message",
// "details"}) with the mapped HTTP status; 401 carries WWW-Authenticate.
// An error the gateway raised itself, before the call reached the service
// (a malformed body or query), is authenticated, authorised and logged
// here, so that such calls are in the access log too and an unknown caller
// gets 401 rather than a validation error.
func (s *Service) httpErrorHandler(ctx context.Context, _ *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if full, ok := runtime.RPCMethod(ctx); ok {
		if spec, ok := methodSpecs[full]; ok {
			id, _ := r.Context().Value(requestIDKey{}).(string)
			if _, reached := s.reached.Load(id); !reached {
				err = s.gatewayRejected(ctx, spec, r, err)
			}
		}
	}
	code := 0
	var hse *runtime.HTTPStatusError
	if errors.As(err, &hse) {
		code, err = hse.HTTPStatus, hse.Err
	}
	st := status.Convert(err)
	if code == 0 {
		code = httpStatus(st)
	}
	body, merr := m.Marshal(st.Proto())
	if merr != nil {
		body = []byte(`{"code":13,"message":"failed to marshal the error"}`)
	}
	w.Header().Del("Trailer")
	w.Header().Del("Transfer-Encoding")
	setErrorHeaders(w.Header(), st)
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// queryTenants is the tenant a rejected REST call named, as describeQuery
// kept it (a value it redacted is no tenant).
func queryTenants(target string) []string {
	var t struct {
		Query struct {
			Tenant string `json:"tenant"`
		} `json:"query"`
	}
	if json.Unmarshal([]byte(target), &t) != nil || t.Query.Tenant == "" || strings.HasPrefix(t.Query.Tenant, "[") {
		return nil
	}
	return []string{t.Query.Tenant}
}

// gatewayRejected handles a REST call that the gateway refused before it
// reached the service: authentication and authorisation take precedence
// over the gateway's error, and the attempt is logged, described by its
// parameter names and decoded, redacted values (describeQuery), never by
// its raw query.
func (s *Service) gatewayRejected(ctx context.Context, spec methodSpec, r *http.Request, gwErr error) error {
	md := metadata.MD{}
	for _, v := range r.Header.Values("Authorization") {
		md.Append("authorization", v)
	}
	actx := metadata.NewIncomingContext(ctx, md)
	if c := verifiedLeaf(r); c != nil {
		actx = metadata.NewIncomingContext(ctx, metadata.Join(md, metadata.Pairs(inprocCertKey, base64.StdEncoding.EncodeToString(c.Raw))))
	}
	_, who, err := s.admit(actx, spec, true)
	if err == nil {
		err = gwErr
	}
	var target, reason string
	if status.Code(err) != codes.Unauthenticated {
		target, reason = describeQuery(spec, r.URL.RawQuery)
		target = clip(withTenants(queryTenants(target), target), maxTarget)
	}
	_ = s.recordRaw(ctx, hostOf(r.RemoteAddr), spec.name, who, target, reason, "", err)
	return err
}
