package gpp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/consentry/consentry/internal/tcf"
)

// Values of the Int(2) notice fields (SharingNotice, SaleOptOutNotice,
// SharingOptOutNotice, TargetedAdvertisingOptOutNotice,
// SensitiveDataProcessingOptOutNotice, SensitiveDataLimitUseNotice).
const (
	NoticeNotApplicable = 0 // the business does not do the activity
	NoticeProvided      = 1 // "Yes, notice was provided"
	NoticeNotProvided   = 2 // "No, notice was not provided"
)

// Values of the Int(2) opt-out fields (SaleOptOut, SharingOptOut,
// TargetedAdvertisingOptOut) and of USCA's SensitiveDataProcessing entries.
const (
	OptOutNotApplicable = 0 // the matching notice was not applicable or not provided
	OptedOut            = 1 // "Opted Out"
	DidNotOptOut        = 2 // "Did Not Opt Out"
)

// Values of the Int(2) consent fields (PersonalDataConsents,
// KnownChildSensitiveDataConsents entries and USNat's SensitiveDataProcessing
// entries).
const (
	ConsentNotApplicable = 0 // the business does not do the activity
	NoConsent            = 1 // "No Consent"
	Consented            = 2 // "Consent"
)

// Values of the MSPA fields. MspaCoveredTransaction is only ever MspaYes or
// MspaNo; MspaOptOutOptionMode and MspaServiceProviderMode may also be
// MspaNotApplicable.
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

// USNat is the MSPA US National section (GPP section ID 7, API prefix
// "usnat"), versions 1 and 2.
//
// Every Int(2) field holds the raw value 0..3. The specification defines
// 0..2 (see the Notice*, OptedOut/DidNotOptOut, *Consent* and Mspa* constants);
// 3 is undefined and is decoded as-is, like the reference implementations
// do. Call Validate to reject undefined values.
type USNat struct {
	// Version of the section, 1 or 2. The number of entries in
	// SensitiveDataProcessing and KnownChildSensitiveDataConsents follows the
	// encoded layout (12/2 or 16/3, see DecodeUSNat), not this field.
	Version int

	// Notices: NoticeNotApplicable (0), NoticeProvided (1), NoticeNotProvided (2).
	SharingNotice                       int
	SaleOptOutNotice                    int
	SharingOptOutNotice                 int
	TargetedAdvertisingOptOutNotice     int
	SensitiveDataProcessingOptOutNotice int
	SensitiveDataLimitUseNotice         int

	// Opt-outs: OptOutNotApplicable (0), OptedOut (1), DidNotOptOut (2).
	SaleOptOut                int
	SharingOptOut             int
	TargetedAdvertisingOptOut int

	// SensitiveDataProcessing[i] is the consent for sensitive data category
	// i+1: ConsentNotApplicable (0), NoConsent (1), Consented (2). It has 12
	// entries for the version 1 layout and 16 for version 2.
	SensitiveDataProcessing []int
	// KnownChildSensitiveDataConsents[i]: ConsentNotApplicable (0),
	// NoConsent (1), Consented (2) for (1) ages 13-16, (2) under 13 and, in
	// version 2, (3) ages 16-17. 2 or 3 entries.
	KnownChildSensitiveDataConsents []int
	// PersonalDataConsents: ConsentNotApplicable (0), NoConsent (1), Consented (2).
	PersonalDataConsents int

	// MspaCoveredTransaction: MspaYes (1) or MspaNo (2).
	MspaCoveredTransaction int
	// MspaOptOutOptionMode, MspaServiceProviderMode: MspaNotApplicable (0),
	// MspaYes (1), MspaNo (2).
	MspaOptOutOptionMode    int
	MspaServiceProviderMode int

	// GpcSegmentIncluded reports whether the optional GPC sub-section was
	// present; GpcSegmentType (its SubsectionType, always 1) and Gpc are only
	// meaningful when it is.
	GpcSegmentIncluded bool
	GpcSegmentType     int
	// Gpc is the Global Privacy Control signal: true if the user agent sent
	// GPC (Sec-GPC / navigator.globalPrivacyControl).
	Gpc bool
}

// OptedOutOfSale reports whether SaleOptOut is OptedOut (1). 0 (not
// applicable) and 2 (did not opt out) report false.
func (u *USNat) OptedOutOfSale() bool { return u.SaleOptOut == OptedOut }

// OptedOutOfSharing reports whether SharingOptOut is OptedOut (1).
func (u *USNat) OptedOutOfSharing() bool { return u.SharingOptOut == OptedOut }

// OptedOutOfTargetedAdvertising reports whether TargetedAdvertisingOptOut is
// OptedOut (1).
func (u *USNat) OptedOutOfTargetedAdvertising() bool {
	return u.TargetedAdvertisingOptOut == OptedOut
}

// Validate reports an error wrapping ErrInvalidValue if any field holds a
// value the specification does not define.
func (u *USNat) Validate() error {
	return validate([]namedValue{
		{"SharingNotice", u.SharingNotice, 0},
		{"SaleOptOutNotice", u.SaleOptOutNotice, 0},
		{"SharingOptOutNotice", u.SharingOptOutNotice, 0},
		{"TargetedAdvertisingOptOutNotice", u.TargetedAdvertisingOptOutNotice, 0},
		{"SensitiveDataProcessingOptOutNotice", u.SensitiveDataProcessingOptOutNotice, 0},
		{"SensitiveDataLimitUseNotice", u.SensitiveDataLimitUseNotice, 0},
		{"SaleOptOut", u.SaleOptOut, 0},
		{"SharingOptOut", u.SharingOptOut, 0},
		{"TargetedAdvertisingOptOut", u.TargetedAdvertisingOptOut, 0},
		{"PersonalDataConsents", u.PersonalDataConsents, 0},
		{"MspaCoveredTransaction", u.MspaCoveredTransaction, 1},
		{"MspaOptOutOptionMode", u.MspaOptOutOptionMode, 0},
		{"MspaServiceProviderMode", u.MspaServiceProviderMode, 0},
	}, u.SensitiveDataProcessing, u.KnownChildSensitiveDataConsents)
}

type namedValue struct {
	name string
	v    int
	min  int // smallest defined value; the largest is always 2
}

func validate(fields []namedValue, sdp, kc []int) error {
	for _, f := range fields {
		if f.v < f.min || f.v > 2 {
			return fmt.Errorf("%w: %s = %d", ErrInvalidValue, f.name, f.v)
		}
	}
	for i, v := range sdp {
		if v < 0 || v > 2 {
			return fmt.Errorf("%w: SensitiveDataProcessing[%d] = %d", ErrInvalidValue, i, v)
		}
	}
	for i, v := range kc {
		if v < 0 || v > 2 {
			return fmt.Errorf("%w: KnownChildSensitiveDataConsents[%d] = %d", ErrInvalidValue, i, v)
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

// DecodeUSNat decodes a usnat section string: the core sub-section,
// optionally followed by '.' and the GPC sub-section. Further sub-sections
// are ignored.
//
// The layout of the core sub-section (12/2 or 16/3 entries in
// SensitiveDataProcessing / KnownChildSensitiveDataConsents) is chosen the
// way the reference implementations (iabgpp-es, iabgpp-java) choose it: by
// the encoded length. A core of exactly 60 or 66 bits (10 or 11 characters)
// uses the version 1 layout; anything else uses the version 2 layout. This
// decodes both spec-conformant version 1 strings and the Version=1 strings
// with the version 2 layout that the reference encoders write (iabgpp-es
// 3.1.4 to 3.1.7, and iabgpp-java, whose UsNat.VERSION is still 1). Versions
// other than 1 and 2 are rejected.
func DecodeUSNat(s string) (*USNat, error) {
	return decodeUSNat(new(tcf.BitReader), s)
}

func decodeUSNat(r *tcf.BitReader, s string) (*USNat, error) {
	coreStr, rest, hasSub := strings.Cut(s, ".")
	if err := r.Reset(coreStr); err != nil {
		return nil, fmt.Errorf("core sub-section: %w", err)
	}
	u := &USNat{Version: r.ReadInt(6)}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("core sub-section: %w", err)
	}
	if u.Version != 1 && u.Version != 2 {
		return nil, fmt.Errorf("%w: usnat version %d", ErrUnsupportedVersion, u.Version)
	}
	nSensitive, nChild := 16, 3
	if n := r.Len(); n == usnatV1Bits || n == usnatV1Bits+6 {
		nSensitive, nChild = 12, 2
	}
	u.SharingNotice = r.ReadInt(2)
	u.SaleOptOutNotice = r.ReadInt(2)
	u.SharingOptOutNotice = r.ReadInt(2)
	u.TargetedAdvertisingOptOutNotice = r.ReadInt(2)
	u.SensitiveDataProcessingOptOutNotice = r.ReadInt(2)
	u.SensitiveDataLimitUseNotice = r.ReadInt(2)
	u.SaleOptOut = r.ReadInt(2)
	u.SharingOptOut = r.ReadInt(2)
	u.TargetedAdvertisingOptOut = r.ReadInt(2)
	u.SensitiveDataProcessing = readInt2List(r, nSensitive)
	u.KnownChildSensitiveDataConsents = readInt2List(r, nChild)
	u.PersonalDataConsents = r.ReadInt(2)
	u.MspaCoveredTransaction = r.ReadInt(2)
	u.MspaOptOutOptionMode = r.ReadInt(2)
	u.MspaServiceProviderMode = r.ReadInt(2)
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("core sub-section: %w", err)
	}
	if hasSub {
		gpcStr, _, _ := strings.Cut(rest, ".")
		var err error
		if u.GpcSegmentType, u.Gpc, err = decodeGPC(r, gpcStr); err != nil {
			return nil, err
		}
		u.GpcSegmentIncluded = true
	}
	return u, nil
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
