// Package gpp decodes IAB Tech Lab Global Privacy Platform (GPP) strings
// ("DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"): the header, the
// raw section strings, the US Privacy section (uspv1, 6; also the standalone
// us_privacy string, see DecodeUSPrivacy), and every US section the IAB has
// published: US National (usnat, 7) and the state sections usca, usva, usco,
// usut, usct, usfl, usmt, usor, ustx, usde, usia, usne, usnh, usnj, ustn,
// usmn, usmd, usin, usky and usri (8-27).
//
// # Specifications
//
// All in InteractiveAdvertisingBureau/Global-Privacy-Platform (read at commit
// b27beb4):
//
//   - Core/Consent String Specification.md: string layout ('~' between the
//     header and sections, '.' between a section's sub-sections), the header
//     (Type Int(6) = 3, Version Int(6) = 1, Sections Range(Fibonacci)), the
//     Fibonacci integer and Range(Fibonacci) encodings and the data types.
//   - Sections/Section Information.md: section IDs.
//   - Sections/US-National/IAB Privacy’s Multi-State Privacy Agreement
//     (MSPA) US National Technical Specification.md (formerly "IAB Privacy's
//     National Privacy Technical Specification.md"): usnat versions 1 and 2.
//     Version 1's layout (N-Bitfield(2,12) SensitiveDataProcessing,
//     N-Bitfield(2,2) KnownChildSensitiveDataConsents) is taken from the
//     file's history (commit abfbb3e); version 2 widened them to 16 and 3.
//   - Sections/US-States/*/: the state sections, version 1.
//   - The state sections' layouts are taken from IAB Tech Lab's reference
//     library @iabgpp/cmpapi 3.2.0 (layouts.go; TestLayoutsMatchReferenceLibrary
//     compares them with what scripts/iab-vectors/generate.js reads out of
//     the library). The newest specifications (usmd) describe a per-section
//     header that the library does not write; this package follows the
//     library, which is what CMPs run.
//
// # Field values
//
// The Int(2) fields are reported raw. Per the specifications: notice fields
// are 0 not applicable, 1 notice provided, 2 notice not provided; opt-out
// fields are 0 not applicable (no applicable notice), 1 opted out, 2 did not
// opt out; consent fields are 0 not applicable, 1 no consent, 2 consent;
// MspaCoveredTransaction is 1 yes or 2 no, the other MSPA fields 0 not
// applicable, 1 yes, 2 no. The OptedOutOf* and *Refused helpers therefore
// test for exactly 1. SensitiveDataProcessing entries are opt-outs in usca,
// usut and usia and consents elsewhere; 1 is the refusal either way.
//
// # Interpretation choices
//
// These follow the reference implementations iabgpp-es and iabgpp-java
// (IABTechLab) where the specification is silent or they deviate from it:
//
//   - Characters are base64url ('-' and '_' for 62 and 63, as in the
//     reference implementations; the core specification's table prints '+'
//     and '/'). Padding bits after the last field are ignored.
//   - Booleans are 1 = true (the core specification's data type table says
//     "0=true, 1=false", contradicting every section table and both
//     reference implementations).
//   - The usnat core layout is chosen by encoded length, not by Version (see
//     DecodeUS), so that the Version=1 strings with the version 2 layout
//     that the reference encoders write decode correctly.
//   - US.OptedOutOfTargetedAdvertising uses SharingOptOut for usca, because
//     the California section has no targeted-advertising field.
//
// Decode fails if the header is malformed, if the header and the section
// strings disagree in number, if a listed section string is empty, or if a
// US Privacy or US section is malformed or of a version this package does
// not know. Sections with other IDs, including the EU TCF section
// (String.TCFEU, decode it with package tcf), are kept raw, listed in
// String.Unknown (except EU TCF) and never cause an error: what to do with a
// section nobody can read is the caller's decision. Undefined Int(2) values
// (3) are decoded as-is; use US.Validate to reject them.
//
// Decode never panics and does work linear in the input length: the section
// ID list is never expanded beyond the number of section strings present.
//
// Bits are read with tcf.BitReader, shared with package tcf because both
// formats pack 6 bits per base64url character.
//
// # Test vectors
//
// Tests use the examples of the GPP Consent String Specification, the test
// strings of iabgpp-java (IABTechLab/iabgpp-java) and iabgpp-es
// (IABTechLab/iabgpp-es), each cited next to it, and testdata/
// iab-gpp-vectors.json: strings for every US section and every US Privacy
// value written by @iabgpp/cmpapi itself, with the fields it decodes from
// them (scripts/iab-vectors/generate.js).
package gpp
