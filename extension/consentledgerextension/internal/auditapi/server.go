package auditapi

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/evidence"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/chain"
	"github.com/consentry/consentry/internal/release"
)

// server implements consentryv1.AuditServiceServer. Every method first
// takes its authorised call from the context (set by the interceptors).
type server struct {
	consentryv1.UnimplementedAuditServiceServer
	s *Service
}

// Limits.
const (
	maxReason = 1024
)

func requireReason(reason, what string) error {
	r := strings.TrimSpace(reason)
	switch {
	case r == "":
		return status.Errorf(codes.InvalidArgument, "reason is required to %s: say why (it is written to the access log)", what)
	case len(r) > maxReason:
		return status.Errorf(codes.InvalidArgument, "reason is longer than %d bytes", maxReason)
	}
	return nil
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func tm(t *timestamppb.Timestamp) (time.Time, error) {
	if t == nil {
		return time.Time{}, nil
	}
	if err := t.CheckValid(); err != nil {
		return time.Time{}, status.Errorf(codes.InvalidArgument, "invalid timestamp: %v", err)
	}
	return t.AsTime(), nil
}

func releasedFilter(s string) (ledger.ReleaseFilter, error) {
	switch strings.ToLower(s) {
	case "", "any", "all":
		return ledger.AnyRelease, nil
	case "released":
		return ledger.ReleasedOnly, nil
	case "unreleased":
		return ledger.UnreleasedOnly, nil
	}
	return 0, status.Errorf(codes.InvalidArgument, "released: %q is not one of released, unreleased (or empty for both)", s)
}

// filterFields is the filter shared by the list, stats, export and release
// requests.
type filterFields struct {
	tenant, vendor, reason, eventName, subjectKey, interactionID string
	storedFrom, storedTo, occurredFrom, occurredTo               *timestamppb.Timestamp
	released, rawIdentifier                                      string
	ids                                                          []string
}

func (f filterFields) ledger() (ledger.Filter, error) {
	out := ledger.Filter{
		Tenant: f.tenant, Vendor: f.vendor, Reason: f.reason, EventName: f.eventName,
		SubjectKey: f.subjectKey, InteractionID: f.interactionID, IDs: f.ids,
	}
	var errs []error
	var err error
	out.From, err = tm(f.storedFrom)
	errs = append(errs, err)
	out.To, err = tm(f.storedTo)
	errs = append(errs, err)
	out.OccurredFrom, err = tm(f.occurredFrom)
	errs = append(errs, err)
	out.OccurredTo, err = tm(f.occurredTo)
	errs = append(errs, err)
	out.Released, err = releasedFilter(f.released)
	errs = append(errs, err, knownValue("vendor", f.vendor, ccaas.AllVendors), knownValue("reason", f.reason, knownReasons))
	if err := invalid(errs...); err != nil {
		return out, err
	}
	if !out.From.IsZero() && !out.To.IsZero() && !out.From.Before(out.To) {
		return out, status.Error(codes.InvalidArgument, "stored_from must be before stored_to")
	}
	if !out.OccurredFrom.IsZero() && !out.OccurredTo.IsZero() && !out.OccurredFrom.Before(out.OccurredTo) {
		return out, status.Error(codes.InvalidArgument, "occurred_from must be before occurred_to")
	}
	return out, nil
}

// invalid joins the messages of errors (statuses or not) into one
// InvalidArgument status; nil when there are none.
func invalid(errs ...error) error {
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, status.Convert(err).Message())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return status.Error(codes.InvalidArgument, strings.Join(msgs, "; "))
}

func fromRecordFilter(f *consentryv1.RecordFilter) filterFields {
	return filterFields{
		tenant: f.GetTenant(), vendor: f.GetVendor(), reason: f.GetReason(), eventName: f.GetEventName(),
		subjectKey: f.GetSubjectKey(), interactionID: f.GetInteractionId(),
		storedFrom: f.GetStoredFrom(), storedTo: f.GetStoredTo(), occurredFrom: f.GetOccurredFrom(), occurredTo: f.GetOccurredTo(),
		released: f.GetReleased(), ids: f.GetIds(), rawIdentifier: f.GetRawIdentifier(),
	}
}

// records is the ledger filter of f, with a raw identifier turned into the
// subject's keys.
func (x *server) records(f filterFields) (ledger.Filter, error) {
	out, err := f.ledger()
	if err != nil {
		return out, err
	}
	out.SubjectKey, out.SubjectKeys, err = x.subjectKeys(f.tenant, f.subjectKey, f.rawIdentifier)
	return out, err
}

// subjectKeys resolves the subject of a filter: subject_key as given, or
// the keys of raw_identifier, for the tenant or, without one, under every
// configured salt (the caller's tenant scope still restricts what is
// found).
func (x *server) subjectKeys(tenant, subjectKey, raw string) (string, []string, error) {
	switch {
	case raw == "":
		return subjectKey, nil, nil
	case subjectKey != "":
		return "", nil, status.Error(codes.InvalidArgument, "give subject_key or raw_identifier, not both")
	case strings.TrimSpace(tenant) != "":
		k, err := x.derive(strings.TrimSpace(tenant), raw)
		return k, nil, err
	case x.s.keyer == nil:
		return "", nil, errNoKeyer
	}
	ks, err := x.s.keyer.SubjectKeys(raw)
	if err != nil {
		return "", nil, status.Errorf(codes.InvalidArgument, "raw_identifier: cannot derive a subject key: %v", err)
	}
	if len(ks) == 0 {
		return "", nil, status.Error(codes.InvalidArgument, "raw_identifier: no subject salt is configured for a lookup without a tenant; name the tenant")
	}
	return "", ks, nil
}

func pageSize(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, status.Error(codes.InvalidArgument, "page_size must not be negative")
	case n > 1000:
		return 0, status.Error(codes.InvalidArgument, "page_size is at most 1000")
	}
	return int(n), nil
}

func recordProto(m *ledger.RecordMeta) *consentryv1.QuarantinedRecord {
	return &consentryv1.QuarantinedRecord{
		Id: m.ID, Tenant: m.Tenant, Vendor: m.Vendor, EventId: m.EventID, EventName: m.EventName,
		SubjectKey: m.SubjectKey, InteractionId: m.InteractionID, Reasons: m.Reasons, ConsentStatus: m.ConsentStatus,
		OccurredAt: ts(m.OccurredAt), ReceivedAt: ts(m.ReceivedAt), StoredAt: ts(m.StoredAt),
		KeyId: m.KeyID, PayloadHash: m.PayloadHash.String(), WriterId: m.WriterID, Seq: m.Seq,
		ReleasedAt: ts(m.ReleasedAt), PurgedAt: ts(m.PurgedAt), Erased: m.Erased,
	}
}

func (x *server) ListQuarantinedRecords(ctx context.Context, req *consentryv1.ListQuarantinedRecordsRequest) (*consentryv1.ListQuarantinedRecordsResponse, error) {
	c, err := callFrom(ctx, "ListQuarantinedRecords")
	if err != nil {
		return nil, err
	}
	f, err := x.records(filterFields{
		tenant: req.GetTenant(), vendor: req.GetVendor(), reason: req.GetReason(), eventName: req.GetEventName(),
		subjectKey: req.GetSubjectKey(), interactionID: req.GetInteractionId(),
		storedFrom: req.GetStoredFrom(), storedTo: req.GetStoredTo(), occurredFrom: req.GetOccurredFrom(), occurredTo: req.GetOccurredTo(),
		released: req.GetReleased(), rawIdentifier: req.GetRawIdentifier(),
	})
	if err != nil {
		return nil, err
	}
	f.Scope = c.scope.recordScope()
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	p, err := x.s.ledger.List(ctx, f, ledger.Page{Size: size, Token: req.GetPageToken()})
	if err != nil {
		return nil, x.s.ledgerError(err, "records")
	}
	out := &consentryv1.ListQuarantinedRecordsResponse{NextPageToken: p.NextToken, Records: make([]*consentryv1.QuarantinedRecord, 0, len(p.Records))}
	for i := range p.Records {
		out.Records = append(out.Records, recordProto(&p.Records[i]))
	}
	return out, nil
}

func (x *server) GetQuarantinedRecord(ctx context.Context, req *consentryv1.GetQuarantinedRecordRequest) (*consentryv1.GetQuarantinedRecordResponse, error) {
	c, err := callFrom(ctx, "GetQuarantinedRecord")
	if err != nil {
		return nil, err
	}
	if req.GetId() == "" {
		return nil, status.Error(codes.InvalidArgument, "id is required")
	}
	if err := requireReason(req.GetReason(), "read a record's payload"); err != nil {
		return nil, err
	}
	rec, err := x.s.ledger.Get(ctx, req.GetId())
	if rec != nil && !c.scope.allows(named{recordTenant, rec.Tenant}) {
		// authorize checked the record's tenant; this is the second lock.
		return nil, status.Errorf(codes.PermissionDenied, "%s may not access tenant %q", c.who.identity, rec.Tenant)
	}
	if err != nil {
		return nil, x.s.ledgerError(err, fmt.Sprintf("record %q", req.GetId()))
	}
	out := &consentryv1.GetQuarantinedRecordResponse{
		Record: recordProto(&rec.RecordMeta), Payload: rec.Payload,
		Digest: rec.Digest.String(), Link: rec.Link.String(),
	}
	if logs, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(rec.Payload); err == nil {
		if j, err := (&plog.JSONMarshaler{}).MarshalLogs(logs); err == nil {
			out.PayloadJson = string(j)
		}
	}
	return out, nil
}

func countsProto(cs []ledger.Count) []*consentryv1.Count {
	out := make([]*consentryv1.Count, 0, len(cs))
	for _, c := range cs {
		out = append(out, &consentryv1.Count{Key: c.Key, Count: c.Count})
	}
	return out
}

func (x *server) GetStats(ctx context.Context, req *consentryv1.GetStatsRequest) (*consentryv1.GetStatsResponse, error) {
	c, err := callFrom(ctx, "GetStats")
	if err != nil {
		return nil, err
	}
	f, err := x.records(filterFields{
		tenant: req.GetTenant(), vendor: req.GetVendor(), reason: req.GetReason(), eventName: req.GetEventName(),
		subjectKey: req.GetSubjectKey(), interactionID: req.GetInteractionId(),
		storedFrom: req.GetStoredFrom(), storedTo: req.GetStoredTo(), occurredFrom: req.GetOccurredFrom(), occurredTo: req.GetOccurredTo(),
		released: req.GetReleased(), rawIdentifier: req.GetRawIdentifier(),
	})
	if err != nil {
		return nil, err
	}
	f.Scope = c.scope.recordScope()
	st, err := x.s.ledger.Stats(ctx, f)
	if err != nil {
		return nil, x.s.ledgerError(err, "statistics")
	}
	return &consentryv1.GetStatsResponse{
		Total: st.Total, ByVendor: countsProto(st.ByVendor), ByReason: countsProto(st.ByReason),
		ByTenant: countsProto(st.ByTenant), ByDay: countsProto(st.ByDay),
	}, nil
}

func checkpointProto(c *ledger.Checkpoint) *consentryv1.Checkpoint {
	if c == nil {
		return nil
	}
	return &consentryv1.Checkpoint{
		WriterId: c.WriterID, Seq: c.Seq, Head: c.Head.String(), At: ts(c.At), PrevSeq: c.PrevSeq,
		KeyId: c.KeyID, Signature: hex.EncodeToString(c.Signature),
	}
}

func (x *server) VerifyLedger(ctx context.Context, req *consentryv1.VerifyLedgerRequest) (*consentryv1.VerifyLedgerResponse, error) {
	c, err := callFrom(ctx, "VerifyLedger")
	if err != nil {
		return nil, err
	}
	if req.GetCheckpoint() {
		if _, err := x.s.ledger.Checkpoint(ctx); err != nil {
			return nil, x.s.ledgerError(err, "checkpoint")
		}
	}
	vctx, forget := x.s.verifyProgressTo(ctx, c.scope)
	defer forget()
	rep, err := x.s.ledger.Verify(vctx)
	if err != nil {
		return nil, x.s.ledgerError(err, "verification")
	}
	pub := x.s.ledger.PublicKey()
	out := &consentryv1.VerifyLedgerResponse{
		Ok: rep.OK, Truncated: rep.Truncated, Entries: rep.Entries, Records: rep.Records, Consents: rep.Consents,
		AccessEntries: rep.Access, Events: rep.Events, Purged: rep.Purged, Erased: rep.Erased,
		Duration: durationpb.New(rep.Duration), PublicKey: hex.EncodeToString(pub), KeyId: chain.KeyID(pub),
	}
	for _, p := range rep.Problems {
		out.Problems = append(out.Problems, &consentryv1.VerifyProblem{Kind: string(p.Kind), WriterId: p.WriterID, Seq: p.Seq, Ref: p.Ref, Detail: p.Detail})
	}
	for _, w := range rep.Writers {
		out.Writers = append(out.Writers, &consentryv1.WriterReport{
			WriterId: w.WriterID, Entries: w.Entries, LastSeq: w.LastSeq, Head: w.Head.String(),
			Checkpoints: int32(w.Checkpoints), LastCheckpoint: checkpointProto(w.LastCheckpoint), Unanchored: w.Unanchored,
		})
	}
	if rep.OK {
		c.note = fmt.Sprintf("verified %d entries", rep.Entries)
	} else {
		c.note = fmt.Sprintf("%d problems found", len(rep.Problems))
	}
	if !c.scope.all {
		if err := x.scopeVerify(ctx, c.scope, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// chunkWriter sends each bundle line as one HttpBody message, without its
// newline (grpc-gateway writes a newline after each message).
type chunkWriter struct {
	stream grpc.ServerStreamingServer[httpbody.HttpBody]
}

func (w chunkWriter) Write(p []byte) (int, error) {
	line := p
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if err := w.stream.Send(&httpbody.HttpBody{ContentType: "application/x-ndjson", Data: line}); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (x *server) ExportEvidence(req *consentryv1.ExportEvidenceRequest, stream grpc.ServerStreamingServer[httpbody.HttpBody]) error {
	ctx := stream.Context()
	c, err := callFrom(ctx, "ExportEvidence")
	if err != nil {
		return err
	}
	if err := requireReason(req.GetReason(), "export evidence"); err != nil {
		return err
	}
	f, err := x.records(fromRecordFilter(req.GetFilter()))
	if err != nil {
		return err
	}
	var filterJSON []byte
	if req.GetFilter() != nil {
		filterJSON, _ = protojson.MarshalOptions{UseProtoNames: true}.Marshal(req.GetFilter())
	}
	hdr := evidence.Header{CreatedAt: x.s.now(), CreatedBy: c.who.identity, Reason: req.GetReason(), Filter: filterJSON}
	f.Scope = c.scope.recordScope()
	m, err := evidence.ExportWith(ctx, x.s.ledger, f, evidence.ExportOptions{
		IncludePayloads: req.GetIncludePayloads(),
		// A bundle of some tenants' records carries only the hashes of the
		// chain entries that are not about them.
		WithholdOthers: f.Scope != nil,
	}, hdr, chunkWriter{stream})
	if err != nil {
		return x.s.ledgerError(err, "evidence export")
	}
	c.note = fmt.Sprintf("%d records, manifest sha256 %s", m.Records, m.SHA256)
	return nil
}

// subject resolves a request's subject to (tenant, subject key).
func (x *server) subject(sub *consentryv1.Subject, needTenant bool) (string, string, error) {
	tenant, key, raw := strings.TrimSpace(sub.GetTenant()), sub.GetSubjectKey(), sub.GetRawIdentifier()
	switch {
	case sub == nil:
		return "", "", status.Error(codes.InvalidArgument, "subject is required: {tenant, subject_key} or {tenant, raw_identifier}")
	case tenant == "" && (needTenant || raw != ""):
		return "", "", status.Error(codes.InvalidArgument, "subject.tenant is required")
	case key != "" && raw != "":
		return "", "", status.Error(codes.InvalidArgument, "give subject.subject_key or subject.raw_identifier, not both")
	case key == "" && raw == "":
		return "", "", status.Error(codes.InvalidArgument, "subject.subject_key or subject.raw_identifier is required")
	case key != "":
		return tenant, key, nil
	}
	k, err := x.derive(tenant, raw)
	return tenant, k, err
}

var errNoKeyer = status.Error(codes.FailedPrecondition, "deriving subject keys from raw identifiers is not configured on this server (api.subject_salt); pass subject_key instead")

func (x *server) derive(tenant, raw string) (string, error) {
	if x.s.keyer == nil {
		return "", errNoKeyer
	}
	k, err := x.s.keyer.SubjectKey(tenant, raw)
	if err != nil {
		return "", status.Errorf(codes.InvalidArgument, "cannot derive a subject key from raw_identifier for tenant %q: %v", tenant, err)
	}
	if k == "" {
		return "", status.Errorf(codes.InvalidArgument, "raw_identifier gives no subject key for tenant %q", tenant)
	}
	return k, nil
}

func consentProto(c *ledger.Consent) *consentryv1.Consent {
	return &consentryv1.Consent{
		Id: c.ID, Tenant: c.Tenant, SubjectKey: c.SubjectKey, InteractionId: c.InteractionID, Status: string(c.Status),
		Purposes: c.Purposes, Source: c.Source, Vendor: c.Vendor, EventId: c.EventID, Signal: c.Signal, Caller: c.Caller,
		NoticeId: c.NoticeID, Details: string(c.Details), At: ts(c.At), RecordedAt: ts(c.RecordedAt), ExpiresAt: ts(c.ExpiresAt),
		WriterId: c.WriterID, Seq: c.Seq,
	}
}

func (x *server) RecordConsent(ctx context.Context, req *consentryv1.RecordConsentRequest) (*consentryv1.RecordConsentResponse, error) {
	c, err := callFrom(ctx, "RecordConsent")
	if err != nil {
		return nil, err
	}
	tenant, key, err := x.subject(req.GetSubject(), true)
	if err != nil {
		return nil, err
	}
	st := ledger.ConsentStatus(strings.ToLower(req.GetStatus()))
	saleSharing := false
	switch st {
	case ledger.ConsentGranted, ledger.ConsentDenied, ledger.ConsentWithdrawn:
	case ledger.ConsentOptedIn, ledger.ConsentOptedOut:
		// Sale and sharing: purposes are optional (an opt-in may also grant
		// some, an opt-out deny some).
		saleSharing = true
	default:
		return nil, status.Errorf(codes.InvalidArgument, "status %q is not one of granted, denied, withdrawn, opted_in, opted_out", req.GetStatus())
	}
	if len(req.GetPurposes()) == 0 && !saleSharing {
		return nil, status.Error(codes.InvalidArgument, "purposes: name at least one purpose the record covers (e.g. essential.service, train_ai_system)")
	}
	for _, p := range req.GetPurposes() {
		if strings.TrimSpace(p) == "" {
			return nil, status.Error(codes.InvalidArgument, "purposes: empty purpose")
		}
	}
	at, err := tm(req.GetAt())
	if err != nil {
		return nil, err
	}
	now := x.s.now()
	if at.IsZero() {
		at = now
	}
	if at.After(now.Add(5 * time.Minute)) {
		return nil, status.Error(codes.InvalidArgument, "at is in the future: consent can only be recorded once it was given")
	}
	exp, err := tm(req.GetExpiresAt())
	if err != nil {
		return nil, err
	}
	if !exp.IsZero() && !exp.After(at) {
		return nil, status.Error(codes.InvalidArgument, "expires_at must be after at")
	}
	if x.s.releaser != nil {
		if err := x.s.releaser.CheckScope(tenant); err != nil {
			return nil, status.Error(codes.InvalidArgument, "subject.tenant: "+err.Error())
		}
	}
	id, dup, err := x.s.ledger.PutConsent(ctx, ledger.Consent{
		ID: req.GetId(), Tenant: tenant, SubjectKey: key, InteractionID: req.GetInteractionId(), Status: st,
		Purposes: req.GetPurposes(), Source: "api", Caller: c.who.identity, NoticeID: req.GetNoticeId(),
		Details: []byte(req.GetDetails()), At: at, ExpiresAt: exp,
	})
	if err != nil {
		return nil, x.s.ledgerError(err, "consent record")
	}
	x.s.onChange(tenant, key)
	c.note = "consent " + id
	return &consentryv1.RecordConsentResponse{Id: id, Duplicate: dup, SubjectKey: key}, nil
}

func (x *server) ListConsents(ctx context.Context, req *consentryv1.ListConsentsRequest) (*consentryv1.ListConsentsResponse, error) {
	c, err := callFrom(ctx, "ListConsents")
	if err != nil {
		return nil, err
	}
	f := ledger.ConsentFilter{Tenant: req.GetTenant(), Scope: c.scope.consentScope()}
	if f.SubjectKey, f.SubjectKeys, err = x.subjectKeys(req.GetTenant(), req.GetSubjectKey(), req.GetRawIdentifier()); err != nil {
		return nil, err
	}
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	p, err := x.s.ledger.ListConsents(ctx, f, ledger.Page{Size: size, Token: req.GetPageToken()})
	if err != nil {
		return nil, x.s.ledgerError(err, "consent records")
	}
	out := &consentryv1.ListConsentsResponse{NextPageToken: p.NextToken, Consents: make([]*consentryv1.Consent, 0, len(p.Consents))}
	for i := range p.Consents {
		out.Consents = append(out.Consents, consentProto(&p.Consents[i]))
	}
	return out, nil
}

func (x *server) ReleaseRecords(ctx context.Context, req *consentryv1.ReleaseRecordsRequest) (*consentryv1.ReleaseRecordsResponse, error) {
	c, err := callFrom(ctx, "ReleaseRecords")
	if err != nil {
		return nil, err
	}
	if err := requireReason(req.GetReason(), "release records"); err != nil {
		return nil, err
	}
	if x.s.releaser == nil {
		return nil, status.Error(codes.FailedPrecondition, "release is not available: this consent_ledger has no forward pipeline to release records to (connect the consent_router's forward route)")
	}
	rr := release.Request{Limit: int(req.GetLimit()), DryRun: req.GetDryRun(), Caller: c.who.identity, Reason: req.GetReason()}
	switch {
	case req.GetSubject() != nil && req.GetFilter() != nil:
		return nil, status.Error(codes.InvalidArgument, "give subject or filter, not both")
	case req.GetSubject() != nil:
		tenant, key, err := x.subject(req.GetSubject(), true)
		if err != nil {
			return nil, err
		}
		rr.Filter = ledger.Filter{Tenant: tenant, SubjectKey: key}
	case req.GetFilter() != nil:
		if rr.Filter, err = x.records(fromRecordFilter(req.GetFilter())); err != nil {
			return nil, err
		}
	default:
		return nil, status.Error(codes.InvalidArgument, "subject or filter is required")
	}
	rr.Filter.Scope = c.scope.recordScope()
	res, err := x.s.releaser.Release(ctx, rr)
	switch {
	case errors.Is(err, release.ErrInvalid):
		return nil, status.Error(codes.InvalidArgument, strings.TrimPrefix(err.Error(), release.ErrInvalid.Error()+": "))
	case errors.Is(err, release.ErrNotReady):
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	case err != nil:
		return nil, x.s.ledgerError(err, "release")
	}
	out := &consentryv1.ReleaseRecordsResponse{
		DryRun: res.DryRun, Evaluated: int64(res.Evaluated), Eligible: int64(res.Eligible),
		Forwarded: int64(res.Forwarded), Released: int64(res.Released), More: res.More,
		Outcomes: make([]*consentryv1.ReleaseOutcome, 0, len(res.Outcomes)),
	}
	for _, o := range res.Outcomes {
		out.Outcomes = append(out.Outcomes, &consentryv1.ReleaseOutcome{
			RecordId: o.RecordID, Decision: o.Decision, Reasons: o.Reasons,
			Forwarded: o.Forwarded, Released: o.Released, Error: x.outcomeError(o),
		})
	}
	if res.DryRun {
		c.note = fmt.Sprintf("dry run: %d of %d evaluated eligible", res.Eligible, res.Evaluated)
	} else {
		c.note = fmt.Sprintf("released %d of %d evaluated", res.Released, res.Evaluated)
	}
	return out, nil
}

// outcomeError says why a record was not released, for the caller.
func (x *server) outcomeError(o *release.Outcome) string {
	switch err := o.Err; {
	case err == nil:
		return ""
	case errors.Is(err, ledger.ErrErased):
		return "the subject was erased: the payload cannot be read"
	case errors.Is(err, ledger.ErrPurged):
		return "retention purged the payload"
	case errors.Is(err, release.ErrUnreadable), errors.Is(err, release.ErrReevaluation):
		return err.Error()
	default:
		return status.Convert(x.s.ledgerError(err, "record "+o.RecordID)).Message()
	}
}

func (x *server) Purge(ctx context.Context, req *consentryv1.PurgeRequest) (*consentryv1.PurgeResponse, error) {
	c, err := callFrom(ctx, "Purge")
	if err != nil {
		return nil, err
	}
	if err := requireReason(req.GetReason(), "purge"); err != nil {
		return nil, err
	}
	now := x.s.now()
	var bound time.Time
	switch {
	case req.GetOlderThan() != nil && req.GetRetention() != nil:
		return nil, status.Error(codes.InvalidArgument, "give older_than or retention, not both")
	case req.GetOlderThan() != nil:
		if bound, err = tm(req.GetOlderThan()); err != nil {
			return nil, err
		}
	case req.GetRetention() != nil:
		if err := req.GetRetention().CheckValid(); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "invalid retention: %v", err)
		}
		d := req.GetRetention().AsDuration()
		if d <= 0 {
			return nil, status.Error(codes.InvalidArgument, "retention must be positive")
		}
		bound = now.Add(-d)
	default:
		return nil, status.Error(codes.InvalidArgument, "older_than or retention is required")
	}
	if bound.After(now) {
		return nil, status.Error(codes.InvalidArgument, "older_than is in the future: purge only deletes payloads stored before a past time")
	}
	res, err := x.s.ledger.Purge(ctx, bound)
	if err != nil {
		return nil, x.s.ledgerError(err, "purge")
	}
	c.note = fmt.Sprintf("purged %d payloads stored before %s", res.Purged, bound.UTC().Format(time.RFC3339))
	return &consentryv1.PurgeResponse{Purged: res.Purged, OlderThan: ts(bound), WriterId: res.WriterID, Seq: res.Seq}, nil
}

func (x *server) EraseSubject(ctx context.Context, req *consentryv1.EraseSubjectRequest) (*consentryv1.EraseSubjectResponse, error) {
	c, err := callFrom(ctx, "EraseSubject")
	if err != nil {
		return nil, err
	}
	if err := requireReason(req.GetReason(), "erase a subject"); err != nil {
		return nil, err
	}
	tenant, key, err := x.subject(req.GetSubject(), true)
	if err != nil {
		return nil, err
	}
	res, err := x.s.ledger.EraseSubject(ctx, tenant, key, req.GetReason())
	if err != nil {
		return nil, x.s.ledgerError(err, "erasure")
	}
	x.s.onChange(tenant, key)
	c.note = fmt.Sprintf("subject %s: %d keys destroyed, %d records unreadable", key, res.KeysDestroyed, res.Records)
	return &consentryv1.EraseSubjectResponse{SubjectKey: key, KeysDestroyed: res.KeysDestroyed, Records: res.Records, WriterId: res.WriterID, Seq: res.Seq}, nil
}

func (x *server) ListAccessLog(ctx context.Context, req *consentryv1.ListAccessLogRequest) (*consentryv1.ListAccessLogResponse, error) {
	c, err := callFrom(ctx, "ListAccessLog")
	if err != nil {
		return nil, err
	}
	from, err1 := tm(req.GetFrom())
	to, err2 := tm(req.GetTo())
	if err := invalid(err1, err2, knownValue("method", req.GetMethod(), accessMethods())); err != nil {
		return nil, err
	}
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	af := c.scope.accessFilter(ledger.AccessFilter{Identity: req.GetIdentity(), Method: req.GetMethod(), From: from, To: to})
	p, err := x.s.ledger.ListAccess(ctx, af, ledger.Page{Size: size, Token: req.GetPageToken()})
	if err != nil {
		return nil, x.s.ledgerError(err, "access log")
	}
	// A caller limited to some tenants may get a short page (entries the
	// pre-selection let through that are not about its tenants): keep
	// following next_page_token until it is empty.
	out := &consentryv1.ListAccessLogResponse{NextPageToken: p.NextToken, Entries: make([]*consentryv1.AccessEntry, 0, len(p.Entries))}
	for _, e := range p.Entries {
		if !c.scope.visibleAccess(&e) {
			continue
		}
		out.Entries = append(out.Entries, &consentryv1.AccessEntry{
			Id: e.ID, Time: ts(e.Time), Identity: e.Identity, Method: e.Method, Target: e.Target,
			Reason: e.Reason, Result: e.Result, WriterId: e.WriterID, Seq: e.Seq,
		})
	}
	return out, nil
}
