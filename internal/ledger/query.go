package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/consentry/consentry/internal/ledger/chain"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

func (f *Filter) store() sqlstore.RecordFilter {
	sf := sqlstore.RecordFilter{
		Tenant: f.Tenant, Vendor: f.Vendor, Reason: f.Reason, EventName: f.EventName,
		SubjectKey: f.SubjectKey, SubjectKeys: f.SubjectKeys, InteractionID: f.InteractionID,
		From: unixNano(f.OccurredFrom), To: unixNano(f.OccurredTo), IDs: f.IDs,
	}
	if f.Scope != nil {
		sf.Scoped, sf.Tenants = true, f.Scope.Tenants
	}
	if !f.From.IsZero() {
		sf.IDFrom = idFloor(f.From)
	}
	if !f.To.IsZero() {
		sf.IDTo = idFloor(f.To)
	}
	switch f.Released {
	case ReleasedOnly:
		sf.Released = 1
	case UnreleasedOnly:
		sf.Released = -1
	}
	return sf
}

func (f *Filter) hash() string {
	parts := []string{"records", f.Tenant, f.Vendor, f.Reason, f.EventName, f.SubjectKey, f.InteractionID,
		strconv.FormatInt(unixNano(f.From), 10), strconv.FormatInt(unixNano(f.To), 10),
		strconv.FormatInt(unixNano(f.OccurredFrom), 10), strconv.FormatInt(unixNano(f.OccurredTo), 10), strconv.Itoa(int(f.Released))}
	parts = append(parts, f.IDs...)
	if len(f.SubjectKeys) > 0 {
		parts = append(append(parts, "subject_keys"), f.SubjectKeys...)
	}
	return queryHash(append(parts, f.Scope.hashParts()...)...)
}

// List returns a page of record metadata matching f, newest first. It
// never returns payloads.
func (l *Ledger) List(ctx context.Context, f Filter, p Page) (RecordPage, error) {
	qh := f.hash()
	after, err := decodeToken(p.Token, qh)
	if err != nil {
		return RecordPage{}, err
	}
	size := pageSize(p.Size)
	rows, err := l.st.ListRecords(ctx, sqlstore.RecordQuery{RecordFilter: f.store(), After: after, Desc: true, Limit: size + 1})
	if err != nil {
		return RecordPage{}, l.storeErr("list records", err)
	}
	var page RecordPage
	if len(rows) > size {
		rows = rows[:size]
		page.NextToken = encodeToken(rows[size-1].ID, qh)
	}
	refs, err := l.chainAt(ctx, len(rows), func(i int) sqlstore.ChainPos { return sqlstore.ChainPos{WriterID: rows[i].WriterID, Seq: rows[i].Seq} })
	if err != nil {
		return RecordPage{}, err
	}
	page.Records = make([]RecordMeta, 0, len(rows))
	for i := range rows {
		m, err := metaFromRow(&rows[i])
		if err != nil {
			return RecordPage{}, err
		}
		if err := checkRecord(&m, refs[sqlstore.ChainPos{WriterID: rows[i].WriterID, Seq: rows[i].Seq}]); err != nil {
			return RecordPage{}, err
		}
		page.Records = append(page.Records, m)
	}
	return page, nil
}

func metaFromRow(r *sqlstore.RecordRow) (RecordMeta, error) {
	m := RecordMeta{
		ID: r.ID, Tenant: r.Tenant, Vendor: r.Vendor, EventID: r.EventID, EventName: r.EventName,
		SubjectKey: r.SubjectKey, InteractionID: r.InteractionID, ConsentStatus: r.ConsentStatus,
		OccurredAt: fromNano(r.OccurredAt), ReceivedAt: fromNano(r.ReceivedAt), KeyID: r.DataKeyID,
		WriterID: r.WriterID, Seq: uint64(r.Seq), ReleasedAt: fromNano(r.ReleasedAt), PurgedAt: fromNano(r.PurgedAt),
		Erased: r.KeyErased,
	}
	if err := json.Unmarshal([]byte(r.Reasons), &m.Reasons); err != nil {
		return m, fmt.Errorf("%w: record %s: reasons: %v", ErrTampered, r.ID, err)
	}
	if m.Reasons == nil {
		m.Reasons = []string{}
	}
	copy(m.PayloadHash[:], r.PayloadHash)
	m.StoredAt, _ = idTime(r.ID)
	return m, nil
}

// Get reads one record and decrypts its payload. The record is checked
// against its chain entry first (ErrTampered if it does not match). For an
// erased subject it returns the metadata with ErrErased, for a purged
// payload with ErrPurged; ErrNotFound if there is no such record.
func (l *Ledger) Get(ctx context.Context, id string) (*StoredRecord, error) {
	f, err := l.st.Record(ctx, id)
	if err != nil {
		return nil, l.storeErr("read record", err)
	}
	if f == nil {
		return nil, fmt.Errorf("%w: record %s", ErrNotFound, id)
	}
	rec, err := l.checked(f)
	if err != nil {
		return rec, err
	}
	rec.Payload, err = l.openPayload(f, nil)
	return rec, err
}

// checked converts a stored record and checks it against its chain entry.
func (l *Ledger) checked(f *sqlstore.FullRecord) (*StoredRecord, error) {
	m, err := metaFromRow(&f.Record)
	if err != nil {
		return nil, err
	}
	rec := &StoredRecord{RecordMeta: m}
	if f.Chain == nil || f.Chain.Kind != "record" || f.Chain.Ref != m.ID {
		return rec, fmt.Errorf("%w: record %s has no chain entry at %s/%d", ErrTampered, m.ID, m.WriterID, m.Seq)
	}
	rec.Digest, _ = chain.FromBytes(f.Chain.Digest)
	rec.Link, _ = chain.FromBytes(f.Chain.Link)
	if RecordDigest(&m) != rec.Digest {
		return rec, fmt.Errorf("%w: record %s metadata", ErrTampered, m.ID)
	}
	if f.Payload != nil && chain.PayloadHash(f.Payload.Nonce, f.Payload.Ciphertext) != m.PayloadHash {
		return rec, fmt.Errorf("%w: record %s payload", ErrTampered, m.ID)
	}
	return rec, nil
}

// openPayload decrypts a record's payload; cache, when given, keeps
// unwrapped keys by id.
func (l *Ledger) openPayload(f *sqlstore.FullRecord, cache map[string]*dataKey) ([]byte, error) {
	r := &f.Record
	if f.Payload == nil {
		if r.PurgedAt != 0 {
			return nil, fmt.Errorf("%w: record %s", ErrPurged, r.ID)
		}
		return nil, fmt.Errorf("%w: record %s payload missing", ErrTampered, r.ID)
	}
	if f.Key == nil || f.Key.ErasedAt != 0 {
		return nil, fmt.Errorf("%w: record %s", ErrErased, r.ID)
	}
	k := cache[f.Key.ID]
	if k == nil {
		var err error
		if k, err = l.unwrap(f.Key); err != nil {
			return nil, fmt.Errorf("ledger: record %s: %w", r.ID, err)
		}
		if cache != nil {
			cache[f.Key.ID] = k
		}
	}
	aead, err := k.aead()
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, f.Payload.Nonce, f.Payload.Ciphertext, payloadAAD(r.Tenant, r.Vendor, r.EventID, r.ID))
	if err != nil {
		return nil, fmt.Errorf("%w: record %s does not decrypt", ErrTampered, r.ID)
	}
	return pt, nil
}

// Stats counts the records matching f by vendor, reason, tenant and day.
func (l *Ledger) Stats(ctx context.Context, f Filter) (Stats, error) {
	sf := f.store()
	var s Stats
	// What is counted is first checked against the chain.
	if err := l.checkRecordsMatching(ctx, f); err != nil {
		return s, err
	}
	var err error
	if s.Total, err = l.st.CountRecords(ctx, sf); err != nil {
		return s, l.storeErr("stats", err)
	}
	group := func(by string) ([]sqlstore.Group, error) {
		g, err := l.st.GroupBy(ctx, sf, by)
		return g, l.storeErr("stats", err)
	}
	toCounts := func(gs []sqlstore.Group) []Count {
		out := make([]Count, len(gs))
		for i, g := range gs {
			out[i] = Count{g.Key, g.Count}
		}
		return out
	}
	gs, err := group("vendor")
	if err != nil {
		return s, err
	}
	s.ByVendor = toCounts(gs)
	if gs, err = group("tenant"); err != nil {
		return s, err
	}
	s.ByTenant = toCounts(gs)
	if gs, err = group("day"); err != nil {
		return s, err
	}
	days := map[string]int64{}
	for _, g := range gs {
		d, _ := strconv.ParseInt(g.Key, 10, 64)
		days[time.Unix(d*86400, 0).UTC().Format(time.DateOnly)] += g.Count
	}
	s.ByDay = sortedCounts(days)
	if gs, err = group("reasons"); err != nil {
		return s, err
	}
	reasons := map[string]int64{}
	for _, g := range gs {
		var rs []string
		json.Unmarshal([]byte(g.Key), &rs)
		for _, r := range rs {
			reasons[r] += g.Count
		}
	}
	s.ByReason = sortedCounts(reasons)
	return s, nil
}

func sortedCounts(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Export streams the records matching f, oldest first, with their chain
// entries, for an evidence bundle. Every record is checked against its
// chain entry (ErrTampered stops the export). fn must not keep the
// ExportedRecord.
func (l *Ledger) Export(ctx context.Context, f Filter, opts ExportOptions, fn func(*ExportedRecord) error) error {
	sf := f.store()
	cache := map[string]*dataKey{}
	after := ""
	for {
		recs, err := l.st.RecordsWithContent(ctx, sqlstore.RecordQuery{RecordFilter: sf, After: after, Limit: 500})
		if err != nil {
			return l.storeErr("export", err)
		}
		if len(recs) == 0 {
			return nil
		}
		for i := range recs {
			fr := &recs[i]
			after = fr.Record.ID
			rec, err := l.checked(fr)
			if err != nil {
				return err
			}
			e := ExportedRecord{Meta: rec.RecordMeta, Digest: rec.Digest, Link: rec.Link}
			e.Prev, _ = chain.FromBytes(fr.Chain.Prev)
			if opts.Ciphertext && fr.Payload != nil {
				e.Nonce, e.Ciphertext = fr.Payload.Nonce, fr.Payload.Ciphertext
			}
			if opts.Decrypt {
				switch {
				case fr.Payload == nil:
					e.Unreadable = "purged"
				case rec.Erased:
					e.Unreadable = "erased"
				default:
					if e.Payload, err = l.openPayload(fr, cache); err != nil {
						return err
					}
				}
			}
			if err := fn(&e); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// ChainEntries streams a writer's chain entries with from <= seq <= to
// (to 0: to the end), for offline verification of exported records against
// a checkpoint.
func (l *Ledger) ChainEntries(ctx context.Context, writerID string, from, to uint64, fn func(*ChainEntry) error) error {
	next := int64(from)
	for {
		rows, err := l.st.ChainRange(ctx, writerID, next, int64(to), 1000)
		if err != nil {
			return l.storeErr("chain", err)
		}
		if len(rows) == 0 {
			return nil
		}
		for i := range rows {
			e := chainEntryFromRow(&rows[i])
			if err := fn(&e); err != nil {
				return err
			}
			next = rows[i].Seq + 1
		}
	}
}

func chainEntryFromRow(r *sqlstore.ChainRow) ChainEntry {
	e := ChainEntry{WriterID: r.WriterID, Seq: uint64(r.Seq), Kind: r.Kind, Ref: r.Ref, At: fromNano(r.At), Body: r.Body, Signature: r.Sig}
	copy(e.Digest[:], r.Digest)
	copy(e.Prev[:], r.Prev)
	copy(e.Link[:], r.Link)
	return e
}

// LatestCheckpoints returns the newest checkpoint of every writer.
func (l *Ledger) LatestCheckpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := l.st.LatestCheckpoints(ctx)
	if err != nil {
		return nil, l.storeErr("checkpoints", err)
	}
	return checkpointsFromRows(rows)
}

// Checkpoints returns a writer's checkpoints, oldest first ("" for every
// writer's).
func (l *Ledger) Checkpoints(ctx context.Context, writerID string) ([]Checkpoint, error) {
	rows, err := l.st.Checkpoints(ctx, writerID)
	if err != nil {
		return nil, l.storeErr("checkpoints", err)
	}
	return checkpointsFromRows(rows)
}

func checkpointsFromRows(rows []sqlstore.CheckpointRow) ([]Checkpoint, error) {
	out := make([]Checkpoint, 0, len(rows))
	for i := range rows {
		cp, err := checkpointFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *cp)
	}
	return out, nil
}

// LookupConsents returns every consent record of a subject, oldest (by At)
// first: what the consent processor's store needs. Every replica sees
// records as soon as they are committed.
func (l *Ledger) LookupConsents(ctx context.Context, tenant, subjectKey string) ([]Consent, error) {
	if !l.consents.mayHave(tenant, subjectKey) {
		l.m.consentSkips.Add(1)
		return []Consent{}, nil
	}
	rows, err := l.st.SubjectConsentsChecked(ctx, tenant, subjectKey)
	if err != nil {
		return nil, l.storeErr("lookup consent", err)
	}
	out := make([]Consent, 0, len(rows))
	for i := range rows {
		c, err := consentFromRow(&rows[i].Consent)
		if err != nil {
			return nil, err
		}
		// Fail closed: an edited row could turn a denial into a grant.
		if err := checkConsent(&c, rows[i].Chain); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// hashParts makes a scope part of a page token's query hash.
func (s *TenantScope) hashParts() []string {
	if s == nil {
		return nil
	}
	return append([]string{"scope"}, s.Tenants...)
}

// ListConsents returns a page of consent records, newest id first.
func (l *Ledger) ListConsents(ctx context.Context, f ConsentFilter, p Page) (ConsentPage, error) {
	parts := []string{"consents", f.Tenant, f.SubjectKey}
	if len(f.SubjectKeys) > 0 {
		parts = append(append(parts, "subject_keys"), f.SubjectKeys...)
	}
	qh := queryHash(append(parts, f.Scope.hashParts()...)...)
	after, err := decodeToken(p.Token, qh)
	if err != nil {
		return ConsentPage{}, err
	}
	size := pageSize(p.Size)
	q := sqlstore.ConsentQuery{Tenant: f.Tenant, SubjectKey: f.SubjectKey, SubjectKeys: f.SubjectKeys, After: after, Limit: size + 1}
	if f.Scope != nil {
		q.Scoped, q.Tenants = true, f.Scope.Tenants
	}
	rows, err := l.st.ListConsents(ctx, q)
	if err != nil {
		return ConsentPage{}, l.storeErr("list consent", err)
	}
	var page ConsentPage
	if len(rows) > size {
		rows = rows[:size]
		page.NextToken = encodeToken(rows[size-1].ID, qh)
	}
	if page.Consents, err = consentsFromRows(rows); err != nil {
		return page, err
	}
	refs, err := l.chainAt(ctx, len(rows), func(i int) sqlstore.ChainPos { return sqlstore.ChainPos{WriterID: rows[i].WriterID, Seq: rows[i].Seq} })
	if err != nil {
		return ConsentPage{}, err
	}
	for i := range page.Consents {
		c := &page.Consents[i]
		if err := checkConsent(c, refs[sqlstore.ChainPos{WriterID: c.WriterID, Seq: int64(c.Seq)}]); err != nil {
			return ConsentPage{}, err
		}
	}
	return page, nil
}

func consentsFromRows(rows []sqlstore.ConsentRow) ([]Consent, error) {
	out := make([]Consent, 0, len(rows))
	for i := range rows {
		c, err := consentFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func consentFromRow(r *sqlstore.ConsentRow) (Consent, error) {
	c := Consent{
		ID: r.ID, Tenant: r.Tenant, SubjectKey: r.SubjectKey, InteractionID: r.InteractionID,
		Status: ConsentStatus(r.Status), Source: r.Source, Vendor: r.Vendor, EventID: r.EventID,
		Signal: r.Signal, Caller: r.Caller, NoticeID: r.NoticeID, Details: r.Details,
		At: fromNano(r.At), RecordedAt: fromNano(r.RecordedAt), ExpiresAt: fromNano(r.ExpiresAt),
		WriterID: r.WriterID, Seq: uint64(r.Seq),
	}
	if err := json.Unmarshal([]byte(r.Purposes), &c.Purposes); err != nil {
		return c, fmt.Errorf("%w: consent record %s: purposes: %v", ErrTampered, r.ID, err)
	}
	if c.Purposes == nil {
		c.Purposes = []string{}
	}
	return c, nil
}

// ListAccess returns a page of access-log entries, newest first.
func (l *Ledger) ListAccess(ctx context.Context, f AccessFilter, p Page) (AccessPage, error) {
	qh := queryHash(append([]string{"access", f.Identity, f.Method, strconv.FormatInt(unixNano(f.From), 10), strconv.FormatInt(unixNano(f.To), 10), f.TargetPrefix}, f.TargetContains...)...)
	after, err := decodeToken(p.Token, qh)
	if err != nil {
		return AccessPage{}, err
	}
	size := pageSize(p.Size)
	rows, err := l.st.ListAccess(ctx, sqlstore.AccessQuery{Identity: f.Identity, Method: f.Method,
		From: unixNano(f.From), To: unixNano(f.To), TargetPrefix: f.TargetPrefix, TargetContains: f.TargetContains,
		After: after, Limit: size + 1})
	if err != nil {
		return AccessPage{}, l.storeErr("list access log", err)
	}
	var page AccessPage
	if len(rows) > size {
		rows = rows[:size]
		page.NextToken = encodeToken(rows[size-1].ID, qh)
	}
	page.Entries = make([]AccessEntry, len(rows))
	for i, r := range rows {
		page.Entries[i] = accessFromRow(&r)
	}
	return page, nil
}

func accessFromRow(r *sqlstore.AccessRow) AccessEntry {
	return AccessEntry{ID: r.ID, Time: fromNano(r.At), Identity: r.Identity, Method: r.Method, Target: r.Target,
		Reason: r.Reason, Result: r.Result, WriterID: r.WriterID, Seq: uint64(r.Seq)}
}
