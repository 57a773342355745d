package gpp

import (
	"fmt"
	"strings"

	"github.com/consentry/consentry/internal/tcf"
)

// USCA is the US California section (GPP section ID 8, API prefix "usca"),
// version 1. Unlike USNat it has no SharingNotice,
// TargetedAdvertisingOptOutNotice, SensitiveDataProcessingOptOutNotice or
// TargetedAdvertisingOptOut field.
//
// Every Int(2) field holds the raw value 0..3; 3 is undefined by the
// specification and decoded as-is. Call Validate to reject it.
type USCA struct {
	Version int // always 1

	// Notices: NoticeNotApplicable (0), NoticeProvided (1), NoticeNotProvided (2).
	SaleOptOutNotice            int
	SharingOptOutNotice         int
	SensitiveDataLimitUseNotice int

	// Opt-outs: OptOutNotApplicable (0), OptedOut (1), DidNotOptOut (2).
	SaleOptOut    int
	SharingOptOut int

	// SensitiveDataProcessing[i] is the opt-out of the use or disclosure of
	// sensitive personal information category i+1 (9 entries). Note that
	// unlike USNat these are opt-outs: OptOutNotApplicable (0), OptedOut (1),
	// DidNotOptOut (2).
	SensitiveDataProcessing []int
	// KnownChildSensitiveDataConsents: consent to (1) sell and (2) share the
	// personal information of consumers under 16: ConsentNotApplicable (0),
	// NoConsent (1), Consented (2).
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
	// present; GpcSegmentType (always 1) and Gpc are only meaningful when it
	// is.
	GpcSegmentIncluded bool
	GpcSegmentType     int
	Gpc                bool
}

// OptedOutOfSale reports whether SaleOptOut is OptedOut (1).
func (c *USCA) OptedOutOfSale() bool { return c.SaleOptOut == OptedOut }

// OptedOutOfSharing reports whether SharingOptOut is OptedOut (1).
func (c *USCA) OptedOutOfSharing() bool { return c.SharingOptOut == OptedOut }

// OptedOutOfTargetedAdvertising reports whether SharingOptOut is OptedOut
// (1). The California section has no targeted-advertising field: under the
// CPRA, "sharing" is disclosure for cross-context behavioral advertising, so
// the sharing opt-out is the California opt-out of targeted advertising.
// This mapping is this package's interpretation, not part of the GPP
// specification.
func (c *USCA) OptedOutOfTargetedAdvertising() bool { return c.SharingOptOut == OptedOut }

// Validate reports an error wrapping ErrInvalidValue if any field holds a
// value the specification does not define.
func (c *USCA) Validate() error {
	return validate([]namedValue{
		{"SaleOptOutNotice", c.SaleOptOutNotice, 0},
		{"SharingOptOutNotice", c.SharingOptOutNotice, 0},
		{"SensitiveDataLimitUseNotice", c.SensitiveDataLimitUseNotice, 0},
		{"SaleOptOut", c.SaleOptOut, 0},
		{"SharingOptOut", c.SharingOptOut, 0},
		{"PersonalDataConsents", c.PersonalDataConsents, 0},
		{"MspaCoveredTransaction", c.MspaCoveredTransaction, 1},
		{"MspaOptOutOptionMode", c.MspaOptOutOptionMode, 0},
		{"MspaServiceProviderMode", c.MspaServiceProviderMode, 0},
	}, c.SensitiveDataProcessing, c.KnownChildSensitiveDataConsents)
}

// DecodeUSCA decodes a usca section string: the core sub-section (46 bits),
// optionally followed by '.' and the GPC sub-section. Further sub-sections
// are ignored. Versions other than 1 are rejected.
func DecodeUSCA(s string) (*USCA, error) {
	return decodeUSCA(new(tcf.BitReader), s)
}

func decodeUSCA(r *tcf.BitReader, s string) (*USCA, error) {
	coreStr, rest, hasSub := strings.Cut(s, ".")
	if err := r.Reset(coreStr); err != nil {
		return nil, fmt.Errorf("core sub-section: %w", err)
	}
	c := &USCA{Version: r.ReadInt(6)}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("core sub-section: %w", err)
	}
	if c.Version != 1 {
		return nil, fmt.Errorf("%w: usca version %d", ErrUnsupportedVersion, c.Version)
	}
	c.SaleOptOutNotice = r.ReadInt(2)
	c.SharingOptOutNotice = r.ReadInt(2)
	c.SensitiveDataLimitUseNotice = r.ReadInt(2)
	c.SaleOptOut = r.ReadInt(2)
	c.SharingOptOut = r.ReadInt(2)
	c.SensitiveDataProcessing = readInt2List(r, 9)
	c.KnownChildSensitiveDataConsents = readInt2List(r, 2)
	c.PersonalDataConsents = r.ReadInt(2)
	c.MspaCoveredTransaction = r.ReadInt(2)
	c.MspaOptOutOptionMode = r.ReadInt(2)
	c.MspaServiceProviderMode = r.ReadInt(2)
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("core sub-section: %w", err)
	}
	if hasSub {
		gpcStr, _, _ := strings.Cut(rest, ".")
		var err error
		if c.GpcSegmentType, c.Gpc, err = decodeGPC(r, gpcStr); err != nil {
			return nil, err
		}
		c.GpcSegmentIncluded = true
	}
	return c, nil
}
