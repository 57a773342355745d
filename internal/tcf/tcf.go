package tcf

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// MaxLength is the longest TC string Decode accepts, in characters. The
// specification sets no limit; this bound (far above any string a CMP can
// store in a cookie or pass in a URL) caps memory use on hostile input.
const MaxLength = 1 << 20

// Errors returned by Decode, in addition to ErrInvalidBase64, ErrTruncated
// and ErrVendorRange. They are wrapped with detail; test with errors.Is.
var (
	ErrEmpty              = errors.New("empty TC string")
	ErrTooLong            = errors.New("TC string too long")
	ErrUnsupportedVersion = errors.New("unsupported TC string version")
	ErrInvalidField       = errors.New("invalid field value")
)

// Version is the only TC string encoding version Decode accepts. TCF v2.0,
// v2.1, v2.2 and v2.3 strings all use encoding version 2; they differ only in
// TcfPolicyVersion.
const Version = 2

// Number of bits in the fixed-width core fields.
const (
	numPurposes        = 24
	numSpecialFeatures = 12
)

// Segment types of the optional segments that follow the core string.
const (
	segmentDisclosedVendors = 1
	segmentAllowedVendors   = 2 // TCF v2.0 only, removed in v2.2
	segmentPublisherTC      = 3
)

// RestrictionType is the RestrictionType of a publisher restriction entry.
type RestrictionType int

const (
	// RestrictionNotAllowed (0): purpose flatly not allowed by the publisher,
	// regardless of vendor declarations.
	RestrictionNotAllowed RestrictionType = 0
	// RestrictionRequireConsent (1): require consent, if the vendor declared
	// the purpose as legitimate interest and flexible.
	RestrictionRequireConsent RestrictionType = 1
	// RestrictionRequireLegitimateInterest (2): require legitimate interest,
	// if the vendor declared the purpose as consent and flexible.
	RestrictionRequireLegitimateInterest RestrictionType = 2
	// RestrictionUndefined (3) is "UNDEFINED (not used)" in the
	// specification. It is decoded as-is rather than rejected.
	RestrictionUndefined RestrictionType = 3
)

// PublisherRestriction is one PubRestrictionEntry of the core string.
type PublisherRestriction struct {
	PurposeID int
	Type      RestrictionType
	// Vendors the restriction applies to. MaxVendorID is the largest ID in
	// the set because restriction entries carry no MaxVendorId field.
	Vendors VendorSet
}

// PublisherTC is the optional Publisher Purposes Transparency and Consent
// segment (segment type 3). Bit i-1 of each mask is purpose i (or custom
// purpose i).
type PublisherTC struct {
	PurposesConsent              uint32 // PubPurposesConsent, purposes 1..24
	PurposesLITransparency       uint32 // PubPurposesLITransparency, purposes 1..24
	NumCustomPurposes            int    // 0..63
	CustomPurposesConsent        uint64 // custom purposes 1..NumCustomPurposes
	CustomPurposesLITransparency uint64 // custom purposes 1..NumCustomPurposes
}

// Consent is a decoded TC string: the core segment plus, when present and
// well formed, the Disclosed Vendors and Publisher TC segments.
type Consent struct {
	// Version of the encoding format; always 2.
	Version int
	// Created and LastUpdated are decisecond timestamps in the string (since
	// TCF v2.2 both are set to the day of the last update), in UTC.
	Created, LastUpdated time.Time
	CMPID                int
	CMPVersion           int
	ConsentScreen        int
	// ConsentLanguage is the two-letter ISO 639-1 code, upper case ("EN").
	ConsentLanguage   string
	VendorListVersion int
	TCFPolicyVersion  int
	// IsServiceSpecific must be true in a valid TCF v2.2 string ("When a
	// Vendor encounters a TC String with IsServiceSpecific=0 then it is
	// considered invalid"). Decode reports the bit and does not reject false,
	// so callers can apply that policy.
	IsServiceSpecific bool
	// UseNonStandardTexts is UseNonStandardStacks in TCF v2.0.
	UseNonStandardTexts bool
	// SpecialFeatureOptIns: bit i-1 set = opted in to special feature i (1..12).
	SpecialFeatureOptIns uint16
	// PurposesConsent: bit i-1 set = consent for purpose i (1..24).
	PurposesConsent uint32
	// PurposesLITransparency: bit i-1 set = legitimate interest established
	// for purpose i and the user has not objected (1..24).
	PurposesLITransparency uint32
	// PurposeOneTreatment: true = purpose 1 was NOT disclosed (special
	// treatment, see PublisherCC); false = disclosed normally.
	PurposeOneTreatment bool
	// PublisherCC is the ISO 3166-1 alpha-2 country code, upper case.
	PublisherCC string

	VendorConsents            VendorSet
	VendorLegitimateInterests VendorSet
	PublisherRestrictions     []PublisherRestriction

	// DisclosedVendors is the Disclosed Vendors segment (mandatory since TCF
	// v2.3), or nil if the string has none or it could not be decoded.
	DisclosedVendors *VendorSet
	// PublisherTC is the Publisher TC segment, or nil if absent or
	// undecodable.
	PublisherTC *PublisherTC
}

func bitOf(mask uint64, n, width int) bool {
	return n >= 1 && n <= width && mask>>(n-1)&1 == 1
}

// PurposeConsent reports whether the user consented to purpose p (1..24).
func (c *Consent) PurposeConsent(p int) bool {
	return bitOf(uint64(c.PurposesConsent), p, numPurposes)
}

// PurposeLITransparency reports whether legitimate interest transparency was
// established for purpose p (1..24) without the user objecting.
func (c *Consent) PurposeLITransparency(p int) bool {
	return bitOf(uint64(c.PurposesLITransparency), p, numPurposes)
}

// SpecialFeatureOptIn reports whether the user opted in to special feature f
// (1..12).
func (c *Consent) SpecialFeatureOptIn(f int) bool {
	return bitOf(uint64(c.SpecialFeatureOptIns), f, numSpecialFeatures)
}

// VendorConsent reports whether vendor id has the user's consent.
func (c *Consent) VendorConsent(id int) bool { return c.VendorConsents.Contains(id) }

// VendorLegitimateInterest reports whether legitimate interest was established
// for vendor id without the user objecting.
func (c *Consent) VendorLegitimateInterest(id int) bool {
	return c.VendorLegitimateInterests.Contains(id)
}

// Decode parses a TC string ("core.segment.segment...", each segment
// base64url; up to two trailing '=' per segment are tolerated). The core segment must be present and well formed, and its
// encoding version must be 2; otherwise Decode returns an error wrapping
// ErrEmpty, ErrTooLong, ErrInvalidBase64, ErrTruncated,
// ErrUnsupportedVersion, ErrInvalidField or ErrVendorRange. Segments after
// the core never cause an error: Disclosed Vendors and Publisher TC are
// decoded when well formed, anything else is ignored. Decode never panics and
// its work is linear in len(s).
func Decode(s string) (*Consent, error) {
	if s == "" {
		return nil, fmt.Errorf("tcf: %w", ErrEmpty)
	}
	if len(s) > MaxLength {
		return nil, fmt.Errorf("tcf: %w: %d characters (max %d)", ErrTooLong, len(s), MaxLength)
	}
	core, rest, _ := strings.Cut(s, ".")
	if core == "" {
		return nil, fmt.Errorf("tcf: %w: core segment missing", ErrEmpty)
	}
	r, err := NewBitReader(core)
	if err != nil {
		return nil, fmt.Errorf("tcf: core segment: %w", err)
	}
	c := &Consent{}
	if err := decodeCore(r, c); err != nil {
		return nil, fmt.Errorf("tcf: core segment: %w", err)
	}
	for rest != "" {
		var seg string
		seg, rest, _ = strings.Cut(rest, ".")
		c.decodeOptionalSegment(r, seg)
	}
	return c, nil
}

func decodeCore(r *BitReader, c *Consent) error {
	c.Version = r.ReadInt(6)
	if err := r.Err(); err != nil {
		return err
	}
	if c.Version != Version {
		return fmt.Errorf("%w: %d", ErrUnsupportedVersion, c.Version)
	}
	c.Created = deciseconds(r.ReadUint(36))
	c.LastUpdated = deciseconds(r.ReadUint(36))
	c.CMPID = r.ReadInt(12)
	c.CMPVersion = r.ReadInt(12)
	c.ConsentScreen = r.ReadInt(6)
	lang := r.ReadUint(12)
	c.VendorListVersion = r.ReadInt(12)
	c.TCFPolicyVersion = r.ReadInt(6)
	c.IsServiceSpecific = r.ReadBool()
	c.UseNonStandardTexts = r.ReadBool()
	c.SpecialFeatureOptIns = uint16(reverse(r.ReadUint(numSpecialFeatures), numSpecialFeatures))
	c.PurposesConsent = uint32(reverse(r.ReadUint(numPurposes), numPurposes))
	c.PurposesLITransparency = uint32(reverse(r.ReadUint(numPurposes), numPurposes))
	c.PurposeOneTreatment = r.ReadBool()
	cc := r.ReadUint(12)
	if err := r.Err(); err != nil {
		return err
	}
	var err error
	if c.ConsentLanguage, err = twoLetters(lang); err != nil {
		return fmt.Errorf("ConsentLanguage: %w", err)
	}
	if c.PublisherCC, err = twoLetters(cc); err != nil {
		return fmt.Errorf("PublisherCC: %w", err)
	}
	if c.VendorConsents, err = readVendorSection(r); err != nil {
		return fmt.Errorf("vendor consent section: %w", err)
	}
	if c.VendorLegitimateInterests, err = readVendorSection(r); err != nil {
		return fmt.Errorf("vendor legitimate interest section: %w", err)
	}
	if c.PublisherRestrictions, err = readPublisherRestrictions(r); err != nil {
		return fmt.Errorf("publisher restrictions section: %w", err)
	}
	return nil
}

// readPublisherRestrictions reads NumPubRestrictions and the entries that
// follow. NumPubRestrictions is required by the specification even when 0.
func readPublisherRestrictions(r *BitReader) ([]PublisherRestriction, error) {
	n := r.ReadInt(12)
	if err := r.Err(); err != nil {
		return nil, err
	}
	// PurposeId(6) + RestrictionType(2) + NumEntries(12) per restriction.
	if n*20 > r.Remaining() {
		return nil, fmt.Errorf("%w: %d restrictions need at least %d bits, have %d", ErrTruncated, n, n*20, r.Remaining())
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]PublisherRestriction, 0, n)
	for i := 0; i < n; i++ {
		pr := PublisherRestriction{
			PurposeID: r.ReadInt(6),
			Type:      RestrictionType(r.ReadInt(2)),
		}
		entries := r.ReadInt(numEntriesBits)
		ranges, err := readRangeEntries(r, entries, -1)
		if err != nil {
			return nil, fmt.Errorf("restriction %d (purpose %d): %w", i, pr.PurposeID, err)
		}
		pr.Vendors = VendorSet{rangeEncoded: true, ranges: ranges}
		if len(ranges) > 0 {
			pr.Vendors.maxID = ranges[len(ranges)-1].hi
		}
		out = append(out, pr)
	}
	return out, nil
}

// decodeOptionalSegment decodes one segment after the core, reusing r. Any
// problem leaves c unchanged: these segments must not make decoding fail.
func (c *Consent) decodeOptionalSegment(r *BitReader, seg string) {
	if r.Reset(seg) != nil {
		return
	}
	switch r.ReadInt(3) {
	case segmentDisclosedVendors:
		if c.DisclosedVendors != nil {
			return
		}
		if vs, err := readVendorSection(r); err == nil {
			c.DisclosedVendors = &vs
		}
	case segmentPublisherTC:
		if c.PublisherTC != nil {
			return
		}
		p := &PublisherTC{
			PurposesConsent:        uint32(reverse(r.ReadUint(numPurposes), numPurposes)),
			PurposesLITransparency: uint32(reverse(r.ReadUint(numPurposes), numPurposes)),
			NumCustomPurposes:      r.ReadInt(6),
		}
		p.CustomPurposesConsent = reverse(r.ReadUint(p.NumCustomPurposes), p.NumCustomPurposes)
		p.CustomPurposesLITransparency = reverse(r.ReadUint(p.NumCustomPurposes), p.NumCustomPurposes)
		if r.Err() == nil {
			c.PublisherTC = p
		}
	default:
		// Core (0) cannot repeat; AllowedVendors (2) was removed in TCF
		// v2.2; other values are undefined. Ignore them.
	}
}

// reverse returns the low n bits of v in reverse order, so that the first
// (most significant) of n bits read becomes bit 0.
func reverse(v uint64, n int) uint64 {
	if n == 0 {
		return 0
	}
	return bits.Reverse64(v) >> (64 - n)
}

// deciseconds converts a TC string timestamp (deciseconds since the Unix
// epoch) to UTC time.
func deciseconds(ds uint64) time.Time {
	return time.UnixMilli(int64(ds) * 100).UTC()
}

// twoLetters decodes two 6-bit letters, a=0 .. z=25, into an upper-case
// string. Values 26..63 are not letters and are rejected.
func twoLetters(v uint64) (string, error) {
	a, b := v>>6&63, v&63
	if a > 25 || b > 25 {
		return "", fmt.Errorf("%w: letter values %d,%d outside 0..25", ErrInvalidField, a, b)
	}
	return string([]byte{byte('A' + a), byte('A' + b)}), nil
}

// Restriction returns the publisher restriction on purpose p for vendor id,
// if any. A string should carry at most one per vendor and purpose; if it
// carries several, the strictest (not allowed, then require consent, then
// require legitimate interest) is returned.
func (c *Consent) Restriction(vendor, p int) (RestrictionType, bool) {
	found := false
	var best RestrictionType
	for i := range c.PublisherRestrictions {
		pr := &c.PublisherRestrictions[i]
		if pr.PurposeID != p || !pr.Vendors.Contains(vendor) {
			continue
		}
		if !found || restrictionRank(pr.Type) < restrictionRank(best) {
			best, found = pr.Type, true
		}
	}
	return best, found
}

func restrictionRank(t RestrictionType) int {
	switch t {
	case RestrictionNotAllowed:
		return 0
	case RestrictionRequireConsent:
		return 1
	case RestrictionRequireLegitimateInterest:
		return 2
	default:
		return 3
	}
}
