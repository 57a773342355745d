package ledger

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/consentry/consentry/internal/ledger/chain"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// ProblemKind classifies what Verify found wrong.
type ProblemKind string

// Problem kinds.
const (
	// Altered: a stored row (record metadata, payload, consent record,
	// access-log entry, event body) or a chain entry itself no longer
	// matches its hashes.
	Altered ProblemKind = "altered"
	// Removed: a chain entry is missing (a gap in seq, or an entry deleted
	// and the rest renumbered), a row a chain entry refers to is missing,
	// a payload was deleted without a purge covering it, or the chain
	// ends before a checkpoint.
	Removed ProblemKind = "removed"
	// Reordered: an entry is not where it was chained (swapped entries,
	// or a row that claims another chain position than the entry that
	// refers to it).
	Reordered ProblemKind = "reordered"
	// Inserted: a row that no chain entry covers.
	Inserted ProblemKind = "inserted"
	// BadCheckpoint: a checkpoint's signature is invalid or by an unknown
	// key, or the chain's link at its seq is not its head.
	BadCheckpoint ProblemKind = "bad_checkpoint"
	// MissingCheckpoint: a checkpoint that a later one refers to (its
	// PrevSeq) was deleted.
	MissingCheckpoint ProblemKind = "missing_checkpoint"
	// BadSignature: a tombstone's signature is invalid or by an unknown key.
	BadSignature ProblemKind = "bad_signature"
	// KeyDestroyed: a data key was deleted or erased without an erasure
	// tombstone.
	KeyDestroyed ProblemKind = "key_destroyed"
)

// Problem is one thing Verify found wrong.
type Problem struct {
	Kind     ProblemKind
	WriterID string
	Seq      uint64 // the chain position concerned, 0 if none
	Ref      string // the record, consent record or access-log entry id concerned
	Detail   string
}

func (p Problem) String() string {
	s := string(p.Kind)
	if p.WriterID != "" {
		s += fmt.Sprintf(" at %s/%d", p.WriterID, p.Seq)
	}
	if p.Ref != "" {
		s += " (" + p.Ref + ")"
	}
	return s + ": " + p.Detail
}

// WriterReport describes one writer's chain.
type WriterReport struct {
	WriterID string
	Entries  uint64
	LastSeq  uint64
	Head     chain.Hash
	// Checkpoints counts the writer's checkpoints; LastCheckpoint is the
	// newest (nil if none).
	Checkpoints    int
	LastCheckpoint *Checkpoint
	// Unanchored counts the entries after the last checkpoint: a live
	// writer's last few seconds, or what a crashed writer left. They are
	// verified like the rest, but no signature vouches for them yet.
	Unanchored uint64
}

// VerifyReport is the result of Verify. OK means no problem was found.
type VerifyReport struct {
	OK       bool
	Problems []Problem
	// Truncated: more than MaxProblems problems; the rest were not listed.
	Truncated bool
	Writers   []WriterReport
	// Counts of what was checked.
	Entries  int64
	Records  int64
	Consents int64
	Access   int64
	Events   int64
	Purged   int64 // records whose payload retention deleted
	Erased   int64 // records whose subject was erased
	Duration time.Duration
}

// MaxProblems bounds the problems a VerifyReport lists.
const MaxProblems = 1000

// Kinds of chain entries, as Verify tracks them per seq (one byte each).
const (
	kindNone byte = iota
	kindRecord
	kindConsent
	kindAccess
	kindEvent
	seenBit byte = 0x80 // the row the entry refers to was found
)

var kindCodes = map[string]byte{"record": kindRecord, "consent": kindConsent, "access": kindAccess}

type verifier struct {
	l   *Ledger
	rt  *sqlstore.ReadTx
	rep *VerifyReport
	// progress, when set, hears how far the verification has come.
	progress func(VerifyProgress)
	cps      map[string][]Checkpoint
	writers  map[string]*writerState
	erasure  map[[2]string]bool
	purgeTo  string

	// Unresolved prev links and digests, classified by a last scan of the
	// chain; rows found away from the position they claim.
	prevs     map[chain.Hash]int
	digests   map[chain.Hash]int
	misplaced []misplacedRow
}

type misplacedRow struct {
	kind, id, writer string
	seq              int64
	digest           chain.Hash
}

type writerState struct {
	WriterReport
	kinds    []byte // by seq-1
	gaps     [][2]uint64
	links    map[uint64]chain.Hash // links at checkpoint seqs
	expect   uint64
	last     chain.Hash
	skipPrev bool
}

// Verify checks the whole ledger in one consistent snapshot, in sequential
// scans: the chain (every link, every tombstone's digest and signature,
// every checkpoint's signature and head), then every record (with its
// payload), consent record and access-log entry against the chain entry
// at the position it claims (the digest recomputed from the row, the
// payload hash from the stored nonce and ciphertext), then the chain
// entries whose row was not found. It reports what is wrong rather than
// stopping at the first problem. The error is for failures to read.
func (l *Ledger) Verify(ctx context.Context) (*VerifyReport, error) {
	start := time.Now()
	rt, err := l.st.BeginRead(ctx)
	if err != nil {
		return nil, l.storeErr("verify", err)
	}
	defer rt.Close()
	v := &verifier{
		l: l, rt: rt, rep: &VerifyReport{}, cps: map[string][]Checkpoint{}, writers: map[string]*writerState{},
		erasure: map[[2]string]bool{}, prevs: map[chain.Hash]int{}, digests: map[chain.Hash]int{},
	}
	v.progress, _ = ctx.Value(progressKey{}).(func(VerifyProgress))
	if err := v.run(ctx); err != nil {
		return nil, l.storeErr("verify", err)
	}
	v.rep.OK = len(v.rep.Problems) == 0 && !v.rep.Truncated
	v.rep.Duration = time.Since(start)
	return v.rep, nil
}

// VerifyProgress is how far a Verify has come.
type VerifyProgress struct {
	// Phase: VerifyChain (the hash chains), then VerifyRows (every row
	// against its chain entry).
	Phase string
	// Checked: chain entries checked (VerifyChain), rows checked
	// (VerifyRows).
	Checked int64
	// Total: the chain's entries, once the chain is read (0 before); rows
	// are fewer (events and tombstones have none).
	Total int64
}

// Phases of a Verify.
const (
	VerifyChain = "chain"
	VerifyRows  = "rows"
)

type progressKey struct{}

// WithVerifyProgress returns a context under which Verify calls fn after
// each page it checks (from Verify's goroutine; fn must be quick).
func WithVerifyProgress(ctx context.Context, fn func(VerifyProgress)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

func (v *verifier) report(phase string, checked, total int64) {
	if v.progress != nil {
		v.progress(VerifyProgress{Phase: phase, Checked: checked, Total: total})
	}
}

func (v *verifier) problem(p Problem) int {
	if len(v.rep.Problems) >= MaxProblems {
		v.rep.Truncated = true
		return -1
	}
	v.rep.Problems = append(v.rep.Problems, p)
	return len(v.rep.Problems) - 1
}

const scanPage = 1000

func (v *verifier) run(ctx context.Context) error {
	cps, err := v.rt.Checkpoints()
	if err != nil {
		return err
	}
	for i := range cps {
		cp, err := checkpointFromRow(&cps[i])
		if err != nil {
			v.problem(Problem{Kind: BadCheckpoint, WriterID: cps[i].WriterID, Seq: uint64(cps[i].Seq), Detail: err.Error()})
			continue
		}
		v.cps[cp.WriterID] = append(v.cps[cp.WriterID], *cp)
	}

	// 1. The chains.
	afterW, afterS := "", int64(0)
	for {
		page, err := v.rt.ChainPage(afterW, afterS, scanPage)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			v.checkEntry(&page[i])
		}
		v.report(VerifyChain, v.rep.Entries, 0)
		last := page[len(page)-1]
		afterW, afterS = last.WriterID, last.Seq
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(v.writers))
	for w := range v.writers {
		names = append(names, w)
	}
	for w := range v.cps {
		if v.writers[w] == nil {
			names = append(names, w)
		}
	}
	sort.Strings(names)
	for _, w := range names {
		v.finishWriter(w)
	}

	// 2. The rows, each against the entry at the position it claims.
	if err := v.scanRecords(ctx); err != nil {
		return err
	}
	if err := v.scanConsentsAndAccess(ctx); err != nil {
		return err
	}
	if err := v.resolveMisplaced(); err != nil {
		return err
	}

	// 3. Entries whose row was not found.
	for _, w := range names {
		st := v.writers[w]
		if st == nil {
			continue
		}
		for i, k := range st.kinds {
			if k != kindNone && k != kindEvent && k&seenBit == 0 {
				if err := v.missingRow(w, int64(i+1)); err != nil {
					return err
				}
			}
		}
	}

	if len(v.prevs) > 0 || len(v.digests) > 0 {
		if err := v.classify(); err != nil {
			return err
		}
	}
	bad, err := v.rt.BadDataKeyHashes()
	if err != nil {
		return err
	}
	for _, id := range bad {
		v.problem(Problem{Kind: Altered, Ref: id, Detail: "the subject_hash of data key " + id + " does not match its subject: erasure would miss it"})
	}
	erased, err := v.rt.ErasedSubjects()
	if err != nil {
		return err
	}
	for _, s := range erased {
		if !v.erasure[s] {
			v.problem(Problem{Kind: KeyDestroyed, Ref: s[1],
				Detail: fmt.Sprintf("data keys of subject %s of tenant %s were destroyed without an erasure tombstone", s[1], s[0])})
		}
	}
	return nil
}

func (v *verifier) checkEntry(row *sqlstore.ChainRow) {
	w := row.WriterID
	st := v.writers[w]
	if st == nil {
		st = &writerState{expect: 1, last: chain.Genesis(w), links: map[uint64]chain.Hash{}}
		st.WriterID = w
		for _, cp := range v.cps[w] {
			st.links[cp.Seq] = chain.Hash{}
		}
		v.writers[w] = st
	}
	seq := uint64(row.Seq)
	v.rep.Entries++
	st.Entries++
	gap := false
	if seq != st.expect {
		gap = true
		detail := fmt.Sprintf("entries %d to %d are missing", st.expect, seq-1)
		if seq == st.expect+1 {
			detail = fmt.Sprintf("entry %d is missing", st.expect)
		}
		v.problem(Problem{Kind: Removed, WriterID: w, Seq: st.expect, Detail: detail})
		st.gaps = append(st.gaps, [2]uint64{st.expect, seq - 1})
	}
	digest, e1 := chain.FromBytes(row.Digest)
	prev, e2 := chain.FromBytes(row.Prev)
	link, e3 := chain.FromBytes(row.Link)
	selfOK := e1 == nil && e2 == nil && e3 == nil && chain.Link(prev, digest) == link
	if !selfOK {
		v.problem(Problem{Kind: Altered, WriterID: w, Seq: seq, Ref: row.Ref, Detail: "the chain entry was altered: its link is not SHA-256(prev || digest)"})
	}
	if selfOK && !gap && !st.skipPrev && prev != st.last {
		if i := v.problem(Problem{Kind: Removed, WriterID: w, Seq: seq, Ref: row.Ref,
			Detail: "the entry chained before this one is missing (deleted and the rest renumbered?)"}); i >= 0 && len(v.prevs) < MaxProblems {
			v.prevs[prev] = i
		}
	}
	st.skipPrev = !selfOK
	st.last, st.expect, st.LastSeq, st.Head = link, seq+1, seq, link
	if _, ok := st.links[seq]; ok {
		st.links[seq] = link
	}
	for uint64(len(st.kinds)) < seq {
		st.kinds = append(st.kinds, kindNone)
	}

	switch row.Kind {
	case "record", "consent", "access":
		st.kinds[seq-1] = kindCodes[row.Kind]
	case "erase", "purge", "release", "rewrap":
		st.kinds[seq-1] = kindEvent
		v.rep.Events++
		if EventDigest(row.Kind, row.Body) != digest {
			v.problem(Problem{Kind: Altered, WriterID: w, Seq: seq, Detail: "the " + row.Kind + " tombstone does not match its digest: its content was altered"})
			break
		}
		if !v.eventValid(row) {
			v.problem(Problem{Kind: BadSignature, WriterID: w, Seq: seq, Detail: "the signature of this " + row.Kind + " tombstone is invalid or by an unknown key"})
			break
		}
		switch row.Kind {
		case "erase":
			var b eraseBody
			if json.Unmarshal(row.Body, &b) == nil {
				v.erasure[[2]string{b.Tenant, b.SubjectKey}] = true
			}
		case "purge":
			var b purgeBody
			if json.Unmarshal(row.Body, &b) == nil && b.Before > v.purgeTo {
				v.purgeTo = b.Before
			}
		}
	default:
		v.problem(Problem{Kind: Altered, WriterID: w, Seq: seq, Ref: row.Ref, Detail: fmt.Sprintf("unknown entry kind %q", row.Kind)})
	}
}

// eventValid checks a tombstone's signature.
func (v *verifier) eventValid(row *sqlstore.ChainRow) bool {
	var b struct {
		KeyID string `json:"key_id"`
	}
	if json.Unmarshal(row.Body, &b) != nil {
		return false
	}
	pub := v.l.trusted[b.KeyID]
	digest := EventDigest(row.Kind, row.Body)
	return pub != nil && len(row.Sig) == ed25519.SignatureSize &&
		ed25519.Verify(pub, chain.EntryMessage(row.WriterID, uint64(row.Seq), row.Kind, digest), row.Sig)
}

func (v *verifier) checkpointSig(cp *Checkpoint) bool {
	pub := v.l.trusted[cp.KeyID]
	if pub == nil {
		v.problem(Problem{Kind: BadCheckpoint, WriterID: cp.WriterID, Seq: cp.Seq, Detail: "the checkpoint is signed by an unknown key " + cp.KeyID})
		return false
	}
	if !cp.Verify(pub) {
		v.problem(Problem{Kind: BadCheckpoint, WriterID: cp.WriterID, Seq: cp.Seq, Detail: "the checkpoint's signature is invalid"})
		return false
	}
	return true
}

func (v *verifier) finishWriter(w string) {
	st := v.writers[w]
	cps := v.cps[w]
	if st == nil {
		for i := range cps {
			v.checkpointSig(&cps[i])
		}
		last := cps[len(cps)-1]
		v.problem(Problem{Kind: Removed, WriterID: w, Seq: last.Seq,
			Detail: fmt.Sprintf("the chain of writer %s is gone, but it has a checkpoint at seq %d", w, last.Seq)})
		return
	}
	var prevSeq uint64
	var last *Checkpoint
	for i := range cps {
		cp := &cps[i]
		ok := v.checkpointSig(cp)
		if ok && cp.PrevSeq != prevSeq {
			v.problem(Problem{Kind: MissingCheckpoint, WriterID: cp.WriterID, Seq: cp.PrevSeq,
				Detail: fmt.Sprintf("the checkpoint at seq %d follows one at seq %d, which is missing", cp.Seq, cp.PrevSeq)})
		}
		prevSeq = cp.Seq
		switch {
		case cp.Seq > st.LastSeq:
			st.gaps = append(st.gaps, [2]uint64{st.LastSeq + 1, cp.Seq})
			v.problem(Problem{Kind: Removed, WriterID: cp.WriterID, Seq: cp.Seq,
				Detail: fmt.Sprintf("the chain ends at seq %d but a checkpoint vouches for seq %d: entries were removed from its end", st.LastSeq, cp.Seq)})
		case st.links[cp.Seq] == (chain.Hash{}):
			// The entry at cp.Seq is missing: reported as removed.
		case st.links[cp.Seq] != cp.Head:
			v.problem(Problem{Kind: BadCheckpoint, WriterID: cp.WriterID, Seq: cp.Seq,
				Detail: "the chain's link at this seq is not the checkpoint's head: the chain up to here was rewritten"})
		}
		if ok {
			last = cp
		}
	}
	st.Checkpoints = len(cps)
	st.LastCheckpoint = last
	st.Unanchored = st.LastSeq
	if last != nil && last.Seq <= st.LastSeq {
		st.Unanchored = st.LastSeq - last.Seq
	}
	v.rep.Writers = append(v.rep.Writers, st.WriterReport)
}

// claimed checks that the chain entry at the position a row claims refers
// to it. It returns true when it does (and marks the entry's row found);
// otherwise it reports the row or queues it for resolveMisplaced.
func (v *verifier) claimed(kind, id, w string, seq int64, c sqlstore.ChainRef, d chain.Hash) bool {
	st := v.writers[w]
	if c.Found && c.Kind == kind && c.Ref == id {
		st.kinds[seq-1] |= seenBit
		return true
	}
	if !c.Found {
		if st != nil && seq > 0 {
			for _, g := range st.gaps {
				if uint64(seq) >= g[0] && uint64(seq) <= g[1] {
					v.problem(Problem{Kind: Removed, WriterID: w, Seq: uint64(seq), Ref: id,
						Detail: fmt.Sprintf("the chain entry of %s %s was deleted", kind, id)})
					return false
				}
			}
		}
	} else if stored, err := chain.FromBytes(c.Digest); err == nil && stored == d && c.Kind == kind {
		// The entry holds this row's digest but names another row.
		st.kinds[seq-1] |= seenBit
		v.problem(Problem{Kind: Reordered, WriterID: w, Seq: uint64(seq), Ref: id,
			Detail: fmt.Sprintf("the chain entry of %s %s refers to %s instead", kind, id, c.Ref)})
		return false
	}
	v.misplaced = append(v.misplaced, misplacedRow{kind: kind, id: id, writer: w, seq: seq, digest: d})
	return false
}

func (v *verifier) scanRecords(ctx context.Context) error {
	var after int64
	for {
		page, err := v.rt.ScanRecords(after, scanPage)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for i := range page {
			v.checkRecord(&page[i])
		}
		v.report(VerifyRows, v.rep.Records, v.rep.Entries)
		after = page[len(page)-1].Record.RID
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func (v *verifier) checkRecord(sr *sqlstore.ScannedRecord) {
	r := &sr.Record
	w, seq := r.WriterID, uint64(r.Seq)
	v.rep.Records++
	m, err := metaFromRow(r)
	if err != nil {
		v.problem(Problem{Kind: Altered, WriterID: w, Seq: seq, Ref: r.ID, Detail: err.Error()})
		return
	}
	d := RecordDigest(&m)
	if !v.claimed("record", r.ID, w, r.Seq, sr.Chain, d) {
		return
	}
	if stored, err := chain.FromBytes(sr.Chain.Digest); err != nil || stored != d {
		if i := v.problem(Problem{Kind: Altered, WriterID: w, Seq: seq, Ref: r.ID,
			Detail: "the record " + r.ID + " does not match its digest: its content was altered"}); i >= 0 && len(v.digests) < MaxProblems {
			v.digests[d] = i
		}
	}
	if !r.DerivedOK() {
		v.problem(Problem{Kind: Altered, WriterID: w, Seq: seq, Ref: r.ID, Detail: "the de-duplication key (event_hash) of record " + r.ID + " does not match its fields"})
	}
	switch {
	case sr.Payload != nil:
		if chain.PayloadHash(sr.Payload.Nonce, sr.Payload.Ciphertext) != m.PayloadHash {
			v.problem(Problem{Kind: Altered, WriterID: w, Seq: seq, Ref: r.ID, Detail: "the payload (nonce or ciphertext) of record " + r.ID + " was altered"})
		}
	case r.PurgedAt == 0:
		v.problem(Problem{Kind: Removed, WriterID: w, Seq: seq, Ref: r.ID, Detail: "the payload of record " + r.ID + " was deleted, and the record is not marked purged"})
	case r.ID >= v.purgeTo:
		v.problem(Problem{Kind: Removed, WriterID: w, Seq: seq, Ref: r.ID, Detail: "the payload of record " + r.ID + " was deleted, but no signed purge covers it"})
	default:
		v.rep.Purged++
	}
	if !sr.KeyExists {
		v.problem(Problem{Kind: KeyDestroyed, WriterID: w, Seq: seq, Ref: r.ID, Detail: "the data key " + r.DataKeyID + " of record " + r.ID + " is missing"})
	} else if r.KeyErased {
		v.rep.Erased++
	}
}

func (v *verifier) scanConsentsAndAccess(ctx context.Context) error {
	var after int64
	for {
		page, err := v.rt.ScanConsents(after, scanPage)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			s := &page[i]
			v.rep.Consents++
			c, err := consentFromRow(&s.Consent)
			if err != nil {
				v.problem(Problem{Kind: Altered, WriterID: s.Consent.WriterID, Seq: uint64(s.Consent.Seq), Ref: s.Consent.ID, Detail: err.Error()})
				continue
			}
			v.checkRow("consent record", "consent", c.ID, c.WriterID, s.Consent.Seq, s.Chain, ConsentDigest(&c))
		}
		v.report(VerifyRows, v.rep.Records+v.rep.Consents, v.rep.Entries)
		after = page[len(page)-1].RID
	}
	after = 0
	for {
		page, err := v.rt.ScanAccess(after, scanPage)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return ctx.Err()
		}
		for i := range page {
			s := &page[i]
			v.rep.Access++
			e := accessFromRow(&s.Access)
			v.checkRow("access-log entry", "access", e.ID, e.WriterID, s.Access.Seq, s.Chain, AccessDigest(&e))
		}
		v.report(VerifyRows, v.rep.Records+v.rep.Consents+v.rep.Access, v.rep.Entries)
		after = page[len(page)-1].RID
	}
}

func (v *verifier) checkRow(what, kind, id, w string, seq int64, c sqlstore.ChainRef, d chain.Hash) {
	if !v.claimed(kind, id, w, seq, c, d) {
		return
	}
	if stored, err := chain.FromBytes(c.Digest); err != nil || stored != d {
		if i := v.problem(Problem{Kind: Altered, WriterID: w, Seq: uint64(seq), Ref: id,
			Detail: "the " + what + " " + id + " does not match its digest: its content was altered"}); i >= 0 && len(v.digests) < MaxProblems {
			v.digests[d] = i
		}
	}
}

// resolveMisplaced looks up, for rows whose claimed position holds another
// entry, the entries that do refer to them.
func (v *verifier) resolveMisplaced() error {
	if len(v.misplaced) == 0 {
		return nil
	}
	ids := make([]string, len(v.misplaced))
	for i, m := range v.misplaced {
		ids[i] = m.id
	}
	pos, err := v.rt.ChainPositions(ids)
	if err != nil {
		return err
	}
	for _, m := range v.misplaced {
		var at *sqlstore.ChainRow
		for i, c := range pos[m.id] {
			if kindCodes[c.Kind] != 0 && c.Kind == m.kind {
				at = &pos[m.id][i]
			}
		}
		if at == nil {
			v.problem(Problem{Kind: Inserted, WriterID: m.writer, Seq: uint64(m.seq), Ref: m.id,
				Detail: fmt.Sprintf("%s %s is not covered by any chain entry", m.kind, m.id)})
			continue
		}
		if st := v.writers[at.WriterID]; st != nil && at.Seq > 0 && int(at.Seq) <= len(st.kinds) {
			st.kinds[at.Seq-1] |= seenBit
		}
		v.problem(Problem{Kind: Reordered, WriterID: at.WriterID, Seq: uint64(at.Seq), Ref: m.id,
			Detail: fmt.Sprintf("%s %s is chained here but claims position %s/%d", m.kind, m.id, m.writer, m.seq)})
		if stored, err := chain.FromBytes(at.Digest); err != nil || stored != m.digest {
			v.problem(Problem{Kind: Altered, WriterID: at.WriterID, Seq: uint64(at.Seq), Ref: m.id,
				Detail: fmt.Sprintf("%s %s does not match its digest: its content was altered", m.kind, m.id)})
		}
	}
	return nil
}

// missingRow reports a chain entry whose row was not found.
func (v *verifier) missingRow(w string, seq int64) error {
	if len(v.rep.Problems) >= MaxProblems {
		v.rep.Truncated = true
		return nil
	}
	rows, err := v.l.st.ChainRange(context.Background(), w, seq, seq, 1)
	if err != nil {
		return err
	}
	ref, kind := "", "row"
	if len(rows) == 1 {
		ref, kind = rows[0].Ref, rows[0].Kind
	}
	v.problem(Problem{Kind: Removed, WriterID: w, Seq: uint64(seq), Ref: ref, Detail: fmt.Sprintf("%s %s is missing", kind, ref)})
	return nil
}

// classify revisits unresolved problems with a scan of every chain
// entry's digest and link: a prev that is another entry's link, or
// content whose digest is another entry's, means entries were reordered.
func (v *verifier) classify() error {
	return v.rt.ChainDigests(func(w string, seq int64, d, link []byte) error {
		if h, err := chain.FromBytes(link); err == nil {
			if i, ok := v.prevs[h]; ok {
				p := &v.rep.Problems[i]
				if !(p.WriterID == w && p.Seq == uint64(seq)+1) {
					p.Kind = Reordered
					p.Detail = fmt.Sprintf("this entry was chained after %s/%d, not after its predecessor here", w, seq)
				}
			}
		}
		if h, err := chain.FromBytes(d); err == nil {
			if i, ok := v.digests[h]; ok {
				p := &v.rep.Problems[i]
				if !(p.WriterID == w && p.Seq == uint64(seq)) {
					p.Kind = Reordered
					p.Detail = fmt.Sprintf("the content referenced here belongs to the chain entry %s/%d", w, seq)
				}
			}
		}
		return nil
	})
}
