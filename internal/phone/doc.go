// Package phone normalises phone identifiers to E.164 and derives jurisdiction hints from them.
//
// Contact-center vendors send the same number in many shapes: "tel:+1-415-555-0100",
// "sip:+14155550100@pbx.example;user=phone", "whatsapp:+447700900123", "(415) 555-0100",
// "0044 20 7946 0958". [Normalize] reduces all of them to one canonical E.164 string so that
// consent records keyed on a number match however the number arrived. [Country], [Region] and
// [Lookup] then map an E.164 number to an ISO 3166-1 alpha-2 country and, for the United States and
// Canada, an ISO 3166-2 subdivision, which callers use to pick the consent rules (TCPA and state
// law, CRTC/CASL and provincial law, GDPR, ...) that apply.
//
// The hints are derived from numbering-plan assignments only: they say where a number was issued,
// not where its holder is. Mobile numbers travel, are ported, and overlays span their whole area, so
// treat the result as a default to refine with better evidence, never as proof of location.
//
// # Data
//
// Two tables are embedded from data/ and parsed once at start-up into fixed arrays indexed by
// three-digit prefixes, so a lookup is a couple of array reads and never allocates:
//
//   - data/nanp_area_codes.csv maps every North American Numbering Plan area code in service (US
//     states, DC and territories, Canadian provinces and territories, the Caribbean and Pacific
//     members, and the shared non-geographic codes) to a country and subdivision. Sources: NANPA's
//     public NPA database and area code map (nationalnanpa.com) and the Canadian Numbering
//     Administrator (cnac.ca), compiled 2026-11-23 via google/libphonenumber's metadata and
//     geocoding data and state regulator notices for the newest overlays.
//   - data/calling_codes.csv maps ITU-T E.164 country calling codes to countries. Source: the ITU-T
//     list of E.164 assigned country codes, cross-checked with google/libphonenumber metadata,
//     compiled 2026-11-23.
//
// data/README.md documents the sources, the compilation method, and the codes that could not be
// verified. Tests check both files for well-formedness.
package phone
