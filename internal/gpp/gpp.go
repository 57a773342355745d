package gpp

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/consentry/consentry/internal/tcf"
)

// MaxLength is the longest GPP string Decode accepts, in characters. The
// specification sets no limit; the bound caps memory use on hostile input.
const MaxLength = 1 << 20

// HeaderType is the fixed value of the header's Type field ("GPP Header
// field"), and HeaderVersion the only GPP version this package decodes.
const (
	HeaderType    = 3
	HeaderVersion = 1
)

// Errors returned by Decode. They are wrapped with detail; test with
// errors.Is. Malformed base64url or truncated fields are reported with
// tcf.ErrInvalidBase64 and tcf.ErrTruncated.
var (
	ErrEmpty              = errors.New("empty GPP string")
	ErrTooLong            = errors.New("GPP string too long")
	ErrHeaderType         = errors.New("GPP header Type is not 3")
	ErrUnsupportedVersion = errors.New("unsupported version")
	ErrFibonacci          = errors.New("invalid Fibonacci integer")
	ErrMissingSection     = errors.New("section listed in header is missing")
	ErrUnlistedSection    = errors.New("section not listed in header")
	ErrSubsectionType     = errors.New("unexpected sub-section type")
)

// String is a decoded GPP string.
type String struct {
	Header Header
	// Sections holds the raw (still encoded) string of every section, keyed
	// by section ID, including sections this package does not decode.
	Sections map[int]string
	// US holds the decoded US sections (usnat and every state section, IDs
	// 7-27), in the order the header lists them.
	US []*US
	// USPrivacy is the decoded US Privacy section (ID 6), or nil if absent.
	USPrivacy *USPrivacy
	// TCFEU is the raw EU TCF v2 section (ID 2), a TC string that can be
	// passed to tcf.Decode, or "" if absent.
	TCFEU string
	// Unknown lists the IDs of the sections this package does not
	// interpret (neither EU TCF v2, US Privacy nor a US section): the
	// deprecated EU TCF v1, signal integrity, the Canadian TCF, and any
	// section registered after this package was written.
	Unknown []int
}

// Section returns the decoded US section with the given ID, or nil.
func (g *String) Section(id int) *US {
	for _, u := range g.US {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// Header is the decoded GPP header.
type Header struct {
	Type    int // always 3
	Version int // GPP version, 1
	// SectionIDs lists the sections in the order their strings follow the
	// header (Range(Fibonacci) encoded; ascending).
	SectionIDs []int
}

// Decode parses a GPP string: a header and zero or more sections separated
// by '~' (for example "DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA").
//
// The header must have Type 3 and Version 1, and list exactly one section ID
// per section string that follows; an empty section string counts as missing.
// Every section is stored raw in Sections. The US Privacy section (6) and
// every US section (7-27) are also decoded, and a malformed one makes Decode
// fail; EU TCF (2) is left for package tcf, and the IDs of other sections
// are listed in Unknown. Decode never panics and its work is linear in
// len(s).
func Decode(s string) (*String, error) {
	if s == "" {
		return nil, fmt.Errorf("gpp: %w", ErrEmpty)
	}
	if len(s) > MaxLength {
		return nil, fmt.Errorf("gpp: %w: %d characters (max %d)", ErrTooLong, len(s), MaxLength)
	}
	parts := strings.Split(s, "~")
	var r tcf.BitReader // reused for the header and every decoded section
	header, err := decodeHeader(&r, parts[0], len(parts)-1)
	if err != nil {
		return nil, fmt.Errorf("gpp: header: %w", err)
	}
	sections := parts[1:]
	if len(header.SectionIDs) < len(sections) {
		return nil, fmt.Errorf("gpp: %w: header lists %d sections, string has %d", ErrUnlistedSection, len(header.SectionIDs), len(sections))
	}
	out := &String{Header: header, Sections: make(map[int]string, len(sections))}
	for i, id := range header.SectionIDs {
		raw := sections[i]
		if strings.TrimSpace(raw) == "" {
			return nil, fmt.Errorf("gpp: %w: section %d (position %d) is empty", ErrMissingSection, id, i+1)
		}
		out.Sections[id] = raw
		switch {
		case id == SectionTCFEUv2:
			out.TCFEU = raw
		case id == SectionUSPv1:
			if out.USPrivacy, err = DecodeUSPrivacy(raw); err != nil {
				return nil, fmt.Errorf("gpp: section %d (uspv1): %w", id, err)
			}
		case layouts[id] != nil:
			u, err := decodeUS(&r, id, raw)
			if err != nil {
				return nil, fmt.Errorf("gpp: section %d (%s): %w", id, layouts[id].name, err)
			}
			out.US = append(out.US, u)
		default:
			out.Unknown = append(out.Unknown, id)
		}
	}
	return out, nil
}

// decodeHeader decodes the header. available is the number of section
// strings present; expanding the section ID list stops with
// ErrMissingSection as soon as it exceeds that, which bounds the work a
// hostile Range(Fibonacci) field can cause.
func decodeHeader(r *tcf.BitReader, s string, available int) (Header, error) {
	if err := r.Reset(s); err != nil {
		return Header{}, err
	}
	h := Header{Type: r.ReadInt(6), Version: r.ReadInt(6)}
	if err := r.Err(); err != nil {
		return Header{}, err
	}
	if h.Type != HeaderType {
		return Header{}, fmt.Errorf("%w: %d", ErrHeaderType, h.Type)
	}
	if h.Version != HeaderVersion {
		return Header{}, fmt.Errorf("%w: GPP version %d", ErrUnsupportedVersion, h.Version)
	}
	var err error
	if h.SectionIDs, err = readFibonacciRange(r, available); err != nil {
		return Header{}, fmt.Errorf("section IDs: %w", err)
	}
	return h, nil
}

// readFibonacciRange decodes a Range(Fibonacci) field: Int(12) entry count,
// then per entry a Boolean (group or single), the Fibonacci-coded offset of
// the (first) ID from the previous entry's last ID (0 before the first entry)
// and, for a group, the Fibonacci-coded distance from its first to its last
// ID. It fails with ErrMissingSection once more than limit IDs are produced.
func readFibonacciRange(r *tcf.BitReader, limit int) ([]int, error) {
	n := r.ReadInt(12)
	if err := r.Err(); err != nil {
		return nil, err
	}
	// An entry needs at least 3 bits (flag + "11"), so n is bounded by the
	// data; the output is bounded by limit.
	ids := make([]int, 0, min(n, limit))
	var last int64
	for i := 0; i < n; i++ {
		group := r.ReadBool()
		off, err := readFibonacci(r)
		if err != nil {
			return nil, err
		}
		first := last + off
		end := first
		if group {
			length, err := readFibonacci(r)
			if err != nil {
				return nil, err
			}
			end = first + length
		}
		if end > math.MaxInt32 {
			return nil, fmt.Errorf("%w: section ID %d out of range", ErrFibonacci, end)
		}
		if int64(len(ids))+(end-first+1) > int64(limit) {
			return nil, fmt.Errorf("%w: header lists more sections than the %d present", ErrMissingSection, limit)
		}
		for id := first; id <= end; id++ {
			ids = append(ids, int(id))
		}
		last = end
	}
	return ids, nil
}

// maxFibonacciBits bounds the length of a Fibonacci code word (excluding the
// terminating 1). 43 digits represent every value below F(45) = 1134903170.
const maxFibonacciBits = 43

// readFibonacci decodes one Fibonacci-coded positive integer: digits weighted
// 1, 2, 3, 5, 8, ... terminated by the first "11".
func readFibonacci(r *tcf.BitReader) (int64, error) {
	var value int64
	var f0, f1 int64 = 1, 2 // weights of the current and next digit
	prev := false
	for i := 0; ; i++ {
		b := r.ReadBool()
		if err := r.Err(); err != nil {
			return 0, err
		}
		if b && prev {
			return value, nil
		}
		if i >= maxFibonacciBits {
			return 0, fmt.Errorf("%w: code word longer than %d bits", ErrFibonacci, maxFibonacciBits)
		}
		if b {
			value += f0
		}
		prev = b
		f0, f1 = f1, f0+f1
	}
}
