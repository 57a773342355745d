package gpp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/consentry/consentry/internal/tcf"
)

// Values of the Int(2) notice fields (SharingNotice, SaleOptOutNotice,
// ProcessingNotice, ...).
const (
	NoticeNotApplicable = 0 // the business does not do the activity
	NoticeProvided      = 1 // "Yes, notice was provided"
	NoticeNotProvided   = 2 // "No, notice was not provided"
)

// Values of the Int(2) opt-out fields (SaleOptOut, SharingOptOut,
// TargetedAdvertisingOptOut) and of the SensitiveDataProcessing entries of
// the sections where the state's law is an opt-out (usca, usut, usia).
const (
	OptOutNotApplicable = 0 // the matching notice was not applicable or not provided
	OptedOut            = 1 // "Opted Out"
	DidNotOptOut        = 2 // "Did Not Opt Out"
)

// Values of the Int(2) consent fields (PersonalDataConsents,
// AdditionalDataProcessingConsent, KnownChildSensitiveDataConsents entries
// and the SensitiveDataProcessing entries of the other sections).
const (
	ConsentNotApplicable = 0 // the business does not do the activity
	NoConsent            = 1 // "No Consent"
	Consented            = 2 // "Consent"
)

// Values of the MSPA fields. MspaCoveredTransaction is only ever MspaYes or
// MspaNo; MspaOptOutOptionMode and MspaServiceProviderMode may also be
// MspaNotApplicable. MspaMode (usmd, usin, usky, usri) is 0 not applicable,
// 1 opt-out option mode, 2 service provider mode.
const (
	MspaNotApplicable = 0
	MspaYes           = 1
	MspaNo            = 2
)

// SubsectionTypeGPC is the SubsectionType of the GPC sub-section.
const SubsectionTypeGPC = 1

// ErrInvalidValue is returned by Validate for a field value the
// specification does not define (for example 3 in an Int(2) field).
var ErrInvalidValue = errors.New("undefined field value")

// US is a decoded US section: the MSPA US National section (usnat, ID 7) or
// one of the state sections (usca, usva, ... usri, IDs 8-27). Every section
// has a subset of the fields below (Has reports which); fields a section
// does not have are zero.
//
// Every Int(2) field holds the raw value 0..3. The specifications define
// 0..2 (see the Notice*, OptedOut/DidNotOptOut, *Consent* and Mspa*
// constants); 3 is undefined and decoded as-is, like the reference
// implementations do. Call Validate to reject undefined values.
//
// In every negative-or-positive field 1 is the negative answer: opted out,
// or no consent. That holds for SensitiveDataProcessing too, whose entries
// are opt-outs in usca, usut and usia and consents elsewhere.
type US struct {
	// ID and Name are the section ID and client-side API prefix ("usca").
	ID   int
	Name string
	// Version of the section (MspaVersion in usmd, usin, usky and usri). For
	// usnat, the number of entries in SensitiveDataProcessing and
	// KnownChildSensitiveDataConsents follows the encoded layout (12/2 or
	// 16/3), not this field.
	Version int

	// Notices: NoticeNotApplicable (0), NoticeProvided (1), NoticeNotProvided (2).
	SharingNotice                       int
	SaleOptOutNotice                    int
	SharingOptOutNotice                 int
	TargetedAdvertisingOptOutNotice     int
	SensitiveDataProcessingOptOutNotice int
	SensitiveDataLimitUseNotice         int
	SensitiveDataOptOutNotice           int
	ProcessingNotice                    int

	// Opt-outs: OptOutNotApplicable (0), OptedOut (1), DidNotOptOut (2).
	SaleOptOut                int
	SharingOptOut             int
	TargetedAdvertisingOptOut int

	// SensitiveDataProcessing[i] is the answer for sensitive data category
	// i+1: 0 not applicable, 1 opted out / no consent, 2 did not opt out /
	// consent. In usin, usky and usri it is in an optional sub-section
	// (SensitiveDataConsentSegmentIncluded); absent, it is nil.
	SensitiveDataProcessing []int
	// KnownChildSensitiveDataConsents: ConsentNotApplicable (0), NoConsent
	// (1), Consented (2), per age band. Sections whose field is a single
	// Int(2) have one entry.
	KnownChildSensitiveDataConsents []int
	// PersonalDataConsents (usnat, usca) and AdditionalDataProcessingConsent
	// (the newer states): ConsentNotApplicable (0), NoConsent (1), Consented (2).
	PersonalDataConsents            int
	AdditionalDataProcessingConsent int

	// MspaCoveredTransaction: MspaYes (1) or MspaNo (2).
	MspaCoveredTransaction int
	// MspaOptOutOptionMode, MspaServiceProviderMode: MspaNotApplicable (0),
	// MspaYes (1), MspaNo (2). MspaMode replaces both in usmd, usin, usky and
	// usri.
	MspaOptOutOptionMode    int
	MspaServiceProviderMode int
	MspaMode                int

	// GpcSegmentIncluded reports whether the optional GPC sub-section was
	// present; GpcSegmentType (its SubsectionType, always 1) and Gpc are only
	// meaningful when it is.
	GpcSegmentIncluded bool
	GpcSegmentType     int
	// Gpc is the Global Privacy Control signal: true if the user agent sent
	// GPC (Sec-GPC / navigator.globalPrivacyControl).
	Gpc bool
	// SensitiveDataConsentSegmentIncluded reports whether the sensitive data
	// sub-section of usin, usky or usri was present.
	SensitiveDataConsentSegmentIncluded bool

	lay *layout
}

// Has reports whether the section has the named field ("SharingOptOut",
// "Gpc", ...). Field names are the specifications'.
func (u *US) Has(name string) bool {
	if u.lay == nil {
		return false
	}
	switch name {
	case "GpcSegmentType", "Gpc":
		return u.lay.sub == subGPC
	case "SensitiveDataProcessing":
		if u.lay.sub == subSensitive {
			return true
		}
	}
	for _, s := range u.lay.core {
		if s.f.String() == name {
			return true
		}
	}
	return false
}

// HasGPCSubsection reports whether the section's layout has a GPC
// sub-section (it may still be absent from a given string).
func (u *US) HasGPCSubsection() bool { return u.lay != nil && u.lay.sub == subGPC }

// OptedOutOfSale reports whether SaleOptOut is OptedOut (1).
func (u *US) OptedOutOfSale() bool { return u.SaleOptOut == OptedOut }

// OptedOutOfSharing reports whether SharingOptOut is OptedOut (1). Only
// usnat and usca have the field.
func (u *US) OptedOutOfSharing() bool { return u.SharingOptOut == OptedOut }

// OptedOutOfTargetedAdvertising reports whether TargetedAdvertisingOptOut
// is OptedOut (1). The California section has no such field: under the
// CPRA "sharing" is disclosure for cross-context behavioral advertising, so
// for usca the sharing opt-out is the opt-out of targeted advertising. (This
// mapping is this package's interpretation, not part of the specification.)
func (u *US) OptedOutOfTargetedAdvertising() bool {
	if u.ID == SectionUSCA {
		return u.SharingOptOut == OptedOut
	}
	return u.TargetedAdvertisingOptOut == OptedOut
}

// SensitiveDataRefused reports whether any SensitiveDataProcessing entry is
// 1: the consumer opted out of, or did not consent to, the processing of
// that category of sensitive data.
func (u *US) SensitiveDataRefused() bool { return hasOne(u.SensitiveDataProcessing) }

// KnownChildConsentRefused reports whether any
// KnownChildSensitiveDataConsents entry is NoConsent (1).
func (u *US) KnownChildConsentRefused() bool { return hasOne(u.KnownChildSensitiveDataConsents) }

// ProcessingConsentRefused reports whether PersonalDataConsents or
// AdditionalDataProcessingConsent is NoConsent (1): no consent to
// processing beyond what the notice disclosed.
func (u *US) ProcessingConsentRefused() bool {
	return u.PersonalDataConsents == NoConsent || u.AdditionalDataProcessingConsent == NoConsent
}

func hasOne(vs []int) bool {
	for _, v := range vs {
		if v == 1 {
			return true
		}
	}
	return false
}

// ptr returns the field's scalar storage (nil for the list fields).
func (u *US) ptr(f field) *int {
	switch f {
	case fVersion, fMspaVersion:
		return &u.Version
	case fSharingNotice:
		return &u.SharingNotice
	case fSaleOptOutNotice:
		return &u.SaleOptOutNotice
	case fSharingOptOutNotice:
		return &u.SharingOptOutNotice
	case fTargetedAdvertisingOptOutNotice:
		return &u.TargetedAdvertisingOptOutNotice
	case fSensitiveDataProcessingOptOutNotice:
		return &u.SensitiveDataProcessingOptOutNotice
	case fSensitiveDataLimitUseNotice:
		return &u.SensitiveDataLimitUseNotice
	case fSensitiveDataOptOutNotice:
		return &u.SensitiveDataOptOutNotice
	case fProcessingNotice:
		return &u.ProcessingNotice
	case fSaleOptOut:
		return &u.SaleOptOut
	case fSharingOptOut:
		return &u.SharingOptOut
	case fTargetedAdvertisingOptOut:
		return &u.TargetedAdvertisingOptOut
	case fPersonalDataConsents:
		return &u.PersonalDataConsents
	case fAdditionalDataProcessingConsent:
		return &u.AdditionalDataProcessingConsent
	case fMspaCoveredTransaction:
		return &u.MspaCoveredTransaction
	case fMspaOptOutOptionMode:
		return &u.MspaOptOutOptionMode
	case fMspaServiceProviderMode:
		return &u.MspaServiceProviderMode
	case fMspaMode:
		return &u.MspaMode
	}
	return nil
}

// Validate reports an error wrapping ErrInvalidValue if any field holds a
// value the specification does not define, or the GPC sub-section's type
// is not 1.
func (u *US) Validate() error {
	if u.lay == nil {
		return fmt.Errorf("%w: section %d has no known layout", ErrInvalidValue, u.ID)
	}
	for _, s := range u.lay.core {
		switch s.f {
		case fVersion, fMspaVersion:
			continue
		case fSensitiveDataProcessing, fKnownChildSensitiveDataConsents:
			continue // checked below
		}
		lo := 0
		if s.f == fMspaCoveredTransaction {
			lo = 1
		}
		if v := *u.ptr(s.f); v < lo || v > 2 {
			return fmt.Errorf("%w: %s %s = %d", ErrInvalidValue, u.Name, s.f, v)
		}
	}
	for _, l := range []struct {
		f  field
		vs []int
	}{{fSensitiveDataProcessing, u.SensitiveDataProcessing}, {fKnownChildSensitiveDataConsents, u.KnownChildSensitiveDataConsents}} {
		for i, v := range l.vs {
			if v < 0 || v > 2 {
				return fmt.Errorf("%w: %s %s[%d] = %d", ErrInvalidValue, u.Name, l.f, i, v)
			}
		}
	}
	return nil
}

// Bit lengths of the usnat core sub-section. Both layouts are padded to a
// multiple of 6 bits; the reference encoders pad to a multiple of 8 first.
const (
	usnatV1Bits = 6 + 9*2 + 12*2 + 2*2 + 4*2 // 60
	usnatV2Bits = 6 + 9*2 + 16*2 + 3*2 + 4*2 // 70
)

// DecodeUS decodes the string of US section id (7..27): the core
// sub-section, optionally followed by '.' and the section's second
// sub-section (GPC, or the sensitive data sub-section of usin, usky and
// usri). Sub-sections beyond those are ignored. It fails with
// ErrUnknownSection for an ID without a layout, ErrUnsupportedVersion for a
// version the layout does not define, and tcf.ErrTruncated or
// tcf.ErrInvalidBase64 for a malformed string.
//
// The layout of the usnat core sub-section (12/2 or 16/3 entries in
// SensitiveDataProcessing / KnownChildSensitiveDataConsents) is chosen the
// way the reference implementations (iabgpp-es, iabgpp-java) choose it: by
// the encoded length. A core of exactly 60 or 66 bits (10 or 11 characters)
// uses the version 1 layout; anything else uses the version 2 layout. This
// decodes both spec-conformant version 1 strings and the Version=1 strings
// with the version 2 layout that earlier reference encoders wrote.
func DecodeUS(id int, s string) (*US, error) {
	return decodeUS(new(tcf.BitReader), id, s)
}

// ErrUnknownSection is returned by DecodeUS for a section ID this package
// has no layout for.
var ErrUnknownSection = errors.New("unknown section")

func decodeUS(r *tcf.BitReader, id int, s string) (*US, error) {
	lay := layouts[id]
	if lay == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnknownSection, id)
	}
	coreStr, rest, hasSub := strings.Cut(s, ".")
	if err := r.Reset(coreStr); err != nil {
		return nil, fmt.Errorf("core sub-section: %w", err)
	}
	u := &US{ID: id, Name: lay.name, lay: lay}
	total := r.Len()
	for _, sp := range lay.core {
		switch {
		case sp.f == fVersion || sp.f == fMspaVersion:
			u.Version = r.ReadInt(6)
			if err := r.Err(); err != nil {
				return nil, fmt.Errorf("core sub-section: %w", err)
			}
			if !versionOK(lay, u.Version) {
				return nil, fmt.Errorf("%w: %s version %d", ErrUnsupportedVersion, lay.name, u.Version)
			}
		case sp.f == fSensitiveDataProcessing:
			n := sp.n
			if id == SectionUSNat && (total == usnatV1Bits || total == usnatV1Bits+6) {
				n = 12
			}
			u.SensitiveDataProcessing = readInt2List(r, n)
		case sp.f == fKnownChildSensitiveDataConsents:
			n := sp.n
			if n == 0 {
				n = 1
			} else if id == SectionUSNat && (total == usnatV1Bits || total == usnatV1Bits+6) {
				n = 2
			}
			u.KnownChildSensitiveDataConsents = readInt2List(r, n)
		default:
			*u.ptr(sp.f) = r.ReadInt(2)
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("core sub-section: %w", err)
	}
	if !hasSub || lay.sub == subNone {
		return u, nil
	}
	subStr, _, _ := strings.Cut(rest, ".")
	switch lay.sub {
	case subGPC:
		var err error
		if u.GpcSegmentType, u.Gpc, err = decodeGPC(r, subStr); err != nil {
			return nil, err
		}
		u.GpcSegmentIncluded = true
	case subSensitive:
		if err := r.Reset(subStr); err != nil {
			return nil, fmt.Errorf("sensitive data sub-section: %w", err)
		}
		u.SensitiveDataProcessing = readInt2List(r, lay.sensitiveSub)
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("sensitive data sub-section: %w", err)
		}
		u.SensitiveDataConsentSegmentIncluded = true
	}
	return u, nil
}

func versionOK(l *layout, v int) bool {
	for _, ok := range l.versions {
		if v == ok {
			return true
		}
	}
	return false
}

// readInt2List reads n Int(2) values (an N-Bitfield(2,n)).
func readInt2List(r *tcf.BitReader, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = r.ReadInt(2)
	}
	return out
}

// decodeGPC decodes the GPC sub-section: SubsectionType Int(2), which must
// be 1, and Gpc Boolean (1 = true).
func decodeGPC(r *tcf.BitReader, s string) (int, bool, error) {
	if err := r.Reset(s); err != nil {
		return 0, false, fmt.Errorf("GPC sub-section: %w", err)
	}
	typ := r.ReadInt(2)
	gpc := r.ReadBool()
	if err := r.Err(); err != nil {
		return 0, false, fmt.Errorf("GPC sub-section: %w", err)
	}
	if typ != SubsectionTypeGPC {
		return 0, false, fmt.Errorf("%w: %d in the GPC sub-section position", ErrSubsectionType, typ)
	}
	return typ, gpc, nil
}
