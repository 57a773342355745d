package auditapi

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/internal/ledger"
)

// methodSpec is a method's authorisation rule.
type methodSpec struct {
	name   string
	min    Role
	newReq func() proto.Message
	// allTenants: the method acts on every tenant at once, so only an
	// identity of every tenant may call it.
	allTenants bool
}

const servicePrefix = "/" + "consentry.v1.AuditService" + "/"

// Methods and the weakest role allowed to call each.
var methodSpecs = map[string]methodSpec{}

func init() {
	for _, m := range []methodSpec{
		{"ListQuarantinedRecords", RoleAuditor, func() proto.Message { return &consentryv1.ListQuarantinedRecordsRequest{} }, false},
		{"GetStats", RoleAuditor, func() proto.Message { return &consentryv1.GetStatsRequest{} }, false},
		{"VerifyLedger", RoleAuditor, func() proto.Message { return &consentryv1.VerifyLedgerRequest{} }, false},
		{"ListAccessLog", RoleAuditor, func() proto.Message { return &consentryv1.ListAccessLogRequest{} }, false},
		{"ListConsents", RoleAuditor, func() proto.Message { return &consentryv1.ListConsentsRequest{} }, false},
		{"GetQuarantinedRecord", RoleInvestigator, func() proto.Message { return &consentryv1.GetQuarantinedRecordRequest{} }, false},
		{"ExportEvidence", RoleInvestigator, func() proto.Message { return &consentryv1.ExportEvidenceRequest{} }, false},
		{"RecordConsent", RoleCustodian, func() proto.Message { return &consentryv1.RecordConsentRequest{} }, false},
		{"ReleaseRecords", RoleCustodian, func() proto.Message { return &consentryv1.ReleaseRecordsRequest{} }, false},
		{"Purge", RoleCustodian, func() proto.Message { return &consentryv1.PurgeRequest{} }, true},
		{"EraseSubject", RoleCustodian, func() proto.Message { return &consentryv1.EraseSubjectRequest{} }, false},
	} {
		methodSpecs[servicePrefix+m.name] = m
	}
	sd := consentryv1.AuditService_ServiceDesc
	for _, m := range sd.Methods {
		if _, ok := methodSpecs[servicePrefix+m.MethodName]; !ok {
			panic("auditapi: no authorisation rule for " + m.MethodName)
		}
	}
	for _, m := range sd.Streams {
		if _, ok := methodSpecs[servicePrefix+m.StreamName]; !ok {
			panic("auditapi: no authorisation rule for " + m.StreamName)
		}
	}
}

// call is an authorised call in progress, in the handler's context.
type call struct {
	spec methodSpec
	who  principal
	// scope is what the caller may see; concerns the tenants the call is
	// about, for the access log (both set by authorize).
	scope    *scope
	concerns []string
	// note is added to the access-log result of a successful call (e.g.
	// counts); set by the handler.
	note string
}

type callKey struct{}

// concernsOrNil is what the call was about, nil when it is not known.
func (c *call) concernsOrNil() []string {
	if c == nil {
		return nil
	}
	return c.concerns
}

// callFrom returns the authorised call, or an error if the interceptors
// did not run (the service was registered without GRPCServerOptions).
func callFrom(ctx context.Context, method string) (*call, error) {
	c, ok := ctx.Value(callKey{}).(*call)
	if !ok || c.spec.name != method || c.scope == nil {
		return nil, status.Error(codes.Internal, "the audit API's authorisation interceptors are not installed on this server (use Service.GRPCServerOptions); refusing the call")
	}
	return c, nil
}

// authenticate identifies the caller of ctx. A bearer token, when present,
// decides; otherwise a verified client certificate.
func (s *Service) authenticate(ctx context.Context, inproc bool) (principal, string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	auths := md.Get("authorization")
	if len(auths) > 1 {
		return principal{}, "anonymous", status.Error(codes.Unauthenticated, "more than one Authorization header; send exactly one: \"Authorization: Bearer <token>\"")
	}
	if len(auths) == 1 {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(auths[0]), " ")
		tok = strings.TrimSpace(tok)
		if !ok || !strings.EqualFold(scheme, "bearer") || tok == "" {
			return principal{}, "anonymous", status.Error(codes.Unauthenticated, "malformed Authorization header: expected \"Authorization: Bearer <token>\"")
		}
		if len(tok) > maxTokenLen {
			return principal{}, "anonymous", status.Error(codes.Unauthenticated, "the bearer token is too long to be one of ours")
		}
		if p, ok := s.auth.byToken(tok); ok {
			return p, p.identity, nil
		}
		sum := sha256.Sum256([]byte(tok))
		return principal{}, "unknown-token:" + hex.EncodeToString(sum[:4]), status.Error(codes.Unauthenticated, "the bearer token is not valid (unknown or revoked)")
	}
	cert := s.peerCert(ctx, md, inproc)
	if cert != nil {
		if p, ok := s.auth.byCert(cert); ok {
			return p, p.identity, nil
		}
		return principal{}, "unmapped-cert:" + clip(cert.Subject.CommonName, 64), status.Errorf(codes.Unauthenticated, "the client certificate (CN=%q) is not mapped to an identity in api.auth.client_certs", clip(cert.Subject.CommonName, 64))
	}
	return principal{}, "anonymous", status.Error(codes.Unauthenticated, "missing credentials: send \"Authorization: Bearer <token>\" (or a client certificate mapped in api.auth.client_certs)")
}

// peerCert is the caller's verified client certificate: from the TLS
// connection on the public gRPC server, from the gateway on the in-process
// one.
func (s *Service) peerCert(ctx context.Context, md metadata.MD, inproc bool) *x509.Certificate {
	if inproc {
		v := md.Get(inprocCertKey)
		if len(v) != 1 {
			return nil
		}
		der, err := base64.StdEncoding.DecodeString(v[0])
		if err != nil {
			return nil
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil
		}
		return c
	}
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return nil
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.VerifiedChains) == 0 || len(ti.State.VerifiedChains[0]) == 0 {
		return nil
	}
	return ti.State.VerifiedChains[0][0]
}

// admit authenticates a call and checks its role; authorize then checks
// the tenants its request concerns. A caller whose role does not allow the
// method still gets its call (with the error), so that the access log says
// which tenants the attempt was about.
func (s *Service) admit(ctx context.Context, spec methodSpec, inproc bool) (*call, string, error) {
	if inproc {
		md, _ := metadata.FromIncomingContext(ctx)
		if id := md.Get(inprocRequestKey); len(id) == 1 {
			s.reached.Store(id[0], true)
		}
	}
	p, who, err := s.authenticate(ctx, inproc)
	if err != nil {
		return nil, who, err
	}
	if p.role < spec.min {
		return &call{spec: spec, who: p}, who, status.Errorf(codes.PermissionDenied, "%s (role %s) may not call %s: it needs the %s role or stronger", p.identity, p.role, spec.name, spec.min)
	}
	return &call{spec: spec, who: p}, who, nil
}

func (s *Service) unaryInterceptor(inproc bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		spec, ok := methodSpecs[info.FullMethod]
		if !ok {
			return handler(ctx, req)
		}
		msg, _ := req.(proto.Message)
		src := s.source(ctx, inproc)
		c, who, err := s.admit(ctx, spec, inproc)
		if c != nil {
			if aerr := s.authorize(ctx, c, msg); err == nil {
				err = aerr
			}
		}
		if err == nil {
			var release func()
			if release, err = s.limit(spec, c); err == nil {
				defer release()
			}
		}
		if err != nil {
			s.record(ctx, src, spec.name, who, c.concernsOrNil(), msg, "", err)
			return nil, err
		}
		resp, err := handler(context.WithValue(ctx, callKey{}, c), req)
		if lerr := s.record(ctx, src, spec.name, who, c.concerns, msg, c.note, err); lerr != nil && err == nil {
			return nil, lerr
		}
		return resp, err
	}
}

func (s *Service) streamInterceptor(inproc bool) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		spec, ok := methodSpecs[info.FullMethod]
		if !ok {
			return handler(srv, ss)
		}
		ctx := ss.Context()
		src := s.source(ctx, inproc)
		c, who, err := s.admit(ctx, spec, inproc)
		if err == nil {
			var release func()
			if release, err = s.limit(spec, c); err == nil {
				defer release()
			}
		}
		if err != nil {
			// Read the request, to log what was asked for (not for an
			// unauthenticated call: nothing of it is logged).
			var req proto.Message
			if status.Code(err) != codes.Unauthenticated {
				req = spec.newReq()
				if rerr := ss.RecvMsg(req); rerr != nil {
					req = nil
				}
			}
			if c != nil && req != nil {
				_ = s.authorize(ctx, c, req)
			}
			s.record(ctx, src, spec.name, who, c.concernsOrNil(), req, "", err)
			return err
		}
		ws := &recordingStream{ServerStream: ss, ctx: context.WithValue(ctx, callKey{}, c), s: s, c: c}
		err = handler(srv, ws)
		if lerr := s.record(ctx, src, spec.name, who, c.concerns, ws.req, c.note, err); lerr != nil && err == nil {
			return lerr
		}
		return err
	}
}

// limit applies the method's rate limit to the caller, if it has one.
func (s *Service) limit(spec methodSpec, c *call) (func(), error) {
	l := s.limits[spec.name]
	if l == nil {
		return func() {}, nil
	}
	release, wait, busy := l.acquire(c.who.identity, s.now())
	if release == nil {
		return nil, rateLimited(spec.name, l.limit, wait, busy)
	}
	return release, nil
}

// inprocPeerKey carries the network address of a REST caller to the
// in-process gRPC server (like inprocCertKey, only that server reads it).
const inprocPeerKey = "consentry-inproc-peer"

// source is the caller's network address (without the port): what
// unauthenticated calls are aggregated by.
func (s *Service) source(ctx context.Context, inproc bool) string {
	if inproc {
		md, _ := metadata.FromIncomingContext(ctx)
		if v := md.Get(inprocPeerKey); len(v) == 1 {
			return v[0]
		}
		return "unknown"
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return hostOf(p.Addr.String())
	}
	return "unknown"
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return clip(addr, 64)
}

// recordingStream authorises the request the handler reads (a streaming
// handler reads it itself) and keeps it for the access log. Until it has
// been authorised, the call has no scope and callFrom refuses it.
type recordingStream struct {
	grpc.ServerStream
	ctx context.Context
	req proto.Message
	s   *Service
	c   *call
}

func (w *recordingStream) Context() context.Context { return w.ctx }

func (w *recordingStream) RecvMsg(m any) error {
	err := w.ServerStream.RecvMsg(m)
	if err != nil || w.req != nil {
		return err
	}
	pm, ok := m.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, "audit API: unexpected request type")
	}
	w.req = pm
	return w.s.authorize(w.ctx, w.c, pm)
}

// maxTarget bounds the target stored in an access-log entry.
const maxTarget = 4096

// accessTimeout bounds an access-log write; it runs even if the caller
// went away.
const accessTimeout = 10 * time.Second

// record appends the call to the access log, its target starting with
// the tenants it concerned (concerns; nil: those its request names). A
// failure to log an allowed call is returned (as Unavailable): its result
// is withheld.
func (s *Service) record(ctx context.Context, source, method, who string, concerns []string, req proto.Message, note string, callErr error) error {
	var target, reason string
	if status.Code(callErr) != codes.Unauthenticated {
		target, reason = describe(req)
		if concerns == nil {
			for _, n := range namedTenants(req) {
				concerns = append(concerns, n.value)
			}
		}
		target = withTenants(concerns, target)
	}
	return s.recordRaw(ctx, source, method, who, target, reason, note, callErr)
}

// Outcomes of calls, in the consentry.audit.calls metric.
const (
	outcomeOK            = "ok"
	outcomeUnauth        = "unauthenticated"
	outcomeForbidden     = "permission_denied"
	outcomeLimited       = "rate_limited"
	outcomeError         = "error"
	outcomeLogFailed     = "access_log_failed"
	unauthenticatedLevel = zap.DebugLevel
)

func (s *Service) recordRaw(ctx context.Context, source, method, who, target, reason, note string, callErr error) error {
	result, outcome := "ok", outcomeOK
	if note != "" {
		result += "; " + note
	}
	if callErr != nil {
		st := status.Convert(callErr)
		switch st.Code() {
		case codes.Unauthenticated, codes.PermissionDenied:
			result = "denied: " + st.Code().String()
			outcome = outcomeForbidden
		case codes.ResourceExhausted:
			result, outcome = "error: "+st.Code().String(), outcomeLimited
		default:
			result, outcome = "error: "+st.Code().String(), outcomeError
		}
	}
	fields := []zap.Field{zap.String("identity", who), zap.String("method", method), zap.String("result", result)}
	if status.Code(callErr) == codes.Unauthenticated {
		// Counted now, written once per source and window (denials.go).
		s.countCall(ctx, method, outcomeUnauth)
		s.denials.add(s.now(), source, who, method)
		if ce := s.log.Check(unauthenticatedLevel, "audit API call refused"); ce != nil {
			ce.Write(append(fields, zap.String("source", source))...)
		}
		return nil
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), accessTimeout)
	defer cancel()
	_, err := s.ledger.AppendAccess(actx, ledger.AccessEntry{
		Identity: who, Method: method, Target: target, Reason: reason, Result: result,
	})
	if err != nil {
		s.countCall(ctx, method, outcomeLogFailed)
		s.log.Error("audit API: access-log entry not written", append(fields, zap.Error(err))...)
		return status.Errorf(codes.Unavailable, "the access log could not be written (%v); the call's result is withheld, retry", accessErr(err))
	}
	s.countCall(ctx, method, outcome)
	if callErr != nil {
		s.log.Info("audit API call refused or failed", fields...)
	} else {
		s.log.Debug("audit API call", fields...)
	}
	return nil
}

func accessErr(err error) string {
	if ledger.IsRetryable(err) {
		return "the ledger is temporarily unavailable"
	}
	return "ledger error"
}

// describe renders a request for the access log: its fields as JSON, with
// personal data redacted and the reason taken out (it has its own
// column).
func describe(req proto.Message) (target, reason string) {
	if req == nil {
		return "", ""
	}
	m := proto.Clone(req)
	redact(m.ProtoReflect())
	rf := m.ProtoReflect().Descriptor().Fields().ByName("reason")
	if rf != nil && rf.Kind() == protoreflect.StringKind {
		reason = m.ProtoReflect().Get(rf).String()
		m.ProtoReflect().Clear(rf)
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return "", clip(reason, 1024)
	}
	return clip(string(b), maxTarget), clip(reason, 1024)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
