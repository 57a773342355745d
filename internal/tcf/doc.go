// Package tcf decodes IAB Europe Transparency & Consent Framework (TCF) v2
// TC strings ("CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA").
//
// # Specification
//
// The format is defined in "IAB Tech Lab - Consent string and vendor list
// formats v2" (TCF v2.2/v2.3):
// https://github.com/InteractiveAdvertisingBureau/GDPR-Transparency-and-Consent-Framework/blob/master/TCFv2/IAB%20Tech%20Lab%20-%20Consent%20string%20and%20vendor%20list%20formats%20v2.md
// (read at commit 10b489e of that repository).
//
// A TC string is one or more '.'-separated segments, each a base64url string
// (RFC 4648 §5, normally unpadded) whose characters carry 6 bits, read
// big-endian, left to right. The first segment is the core string; TCF v2.0,
// v2.1, v2.2 and v2.3 strings all use encoding Version 2 and differ only in
// TcfPolicyVersion (and in the v2.0-only AllowedVendors segment), so all of
// them decode. TCF v1.1 strings (Version 1, usually starting with 'B') are
// rejected with ErrUnsupportedVersion.
//
// # What is decoded
//
//   - Every field of the core string, including both vendor sections in
//     BitField or Range encoding and the Publisher Restrictions section.
//   - The Disclosed Vendors (segment type 1) and Publisher TC (segment type 3)
//     segments, on a best-effort basis: a missing, malformed or truncated
//     optional segment leaves the corresponding field nil and never makes
//     Decode fail. The AllowedVendors segment (type 2, TCF v2.0 only) and
//     unknown segment types are ignored.
//
// # Strictness
//
// The core segment is decoded strictly: any character outside the base64url
// alphabet (trailing '=' padding of up to two characters is tolerated, as
// some encoders emit it), any field running past the end of the data, a
// vendor range that is empty (EndVendorId < StartOrOnlyVendorId), names vendor
// 0 or exceeds MaxVendorId, and a language or country letter outside a..z is
// an error. Decode does not apply policy checks such as IsServiceSpecific=1 or
// a minimum TcfPolicyVersion; the fields are reported for the caller to judge.
//
// Decode never panics and does work linear in the input length: Range
// sections are kept as sorted intervals rather than expanded, so a range
// 1-65535 costs the same as a single vendor.
//
// # Test vectors
//
// Tests use the example strings of the TCF and GPP specifications and the test
// strings of the reference implementations iabtcf-es
// (InteractiveAdvertisingBureau/iabtcf-es), iabtcf-java
// (InteractiveAdvertisingBureau/iabtcf-java) and iabgpp-java
// (IABTechLab/iabgpp-java); each vector's source is cited next to it.
//
// BitReader is exported so that package gpp, whose strings use the same
// 6-bits-per-character encoding, can share it.
package tcf
