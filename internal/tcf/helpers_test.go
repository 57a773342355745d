package tcf

import "strings"

// bitWriter is a test-only encoder used to construct edge-case strings bit by
// bit. It is deliberately naive (one byte per bit) so that it shares no code
// with BitReader.
type bitWriter struct{ bits []byte }

func (w *bitWriter) uint(v uint64, n int) *bitWriter {
	for i := n - 1; i >= 0; i-- {
		w.bits = append(w.bits, byte(v>>uint(i)&1))
	}
	return w
}

func (w *bitWriter) bool(b bool) *bitWriter {
	if b {
		return w.uint(1, 1)
	}
	return w.uint(0, 1)
}

// raw appends a literal string of '0' and '1' characters; spaces are ignored.
func (w *bitWriter) raw(s string) *bitWriter {
	for _, c := range s {
		switch c {
		case '0':
			w.bits = append(w.bits, 0)
		case '1':
			w.bits = append(w.bits, 1)
		}
	}
	return w
}

// String pads with zero bits to a multiple of 6 and encodes as base64url.
func (w *bitWriter) String() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var sb strings.Builder
	for i := 0; i < len(w.bits); i += 6 {
		v := 0
		for j := 0; j < 6; j++ {
			v <<= 1
			if i+j < len(w.bits) {
				v |= int(w.bits[i+j])
			}
		}
		sb.WriteByte(alphabet[v])
	}
	return sb.String()
}

// coreHeader writes every core field up to and including PublisherCC with
// fixed, recognisable values (CmpId 7, language EN, country DE).
func coreHeader(w *bitWriter, version int) *bitWriter {
	w.uint(uint64(version), 6)
	w.uint(16_000_000_000, 36) // Created: 2020-09-13T12:26:40Z in deciseconds
	w.uint(16_000_000_000, 36) // LastUpdated
	w.uint(7, 12)              // CmpId
	w.uint(1, 12)              // CmpVersion
	w.uint(1, 6)               // ConsentScreen
	w.uint(4, 6).uint(13, 6)   // ConsentLanguage "EN"
	w.uint(100, 12)            // VendorListVersion
	w.uint(4, 6)               // TcfPolicyVersion
	w.bool(true)               // IsServiceSpecific
	w.bool(false)              // UseNonStandardTexts
	w.uint(0, 12)              // SpecialFeatureOptIns
	w.uint(0, 24)              // PurposesConsent
	w.uint(0, 24)              // PurposesLITransparency
	w.bool(false)              // PurposeOneTreatment
	w.uint(3, 6).uint(4, 6)    // PublisherCC "DE"
	return w
}

// emptyBitField writes a vendor section with MaxVendorId 0 as a BitField.
func emptyBitField(w *bitWriter) *bitWriter { return w.uint(0, 16).bool(false) }
