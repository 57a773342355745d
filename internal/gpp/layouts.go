package gpp

// The US sections and their layouts, as IAB Tech Lab's reference library
// @iabgpp/cmpapi 3.2.0 encodes them (its UsXxCoreSegment classes; the
// IAB's per-state technical specifications under Sections/US-States of
// InteractiveAdvertisingBureau/Global-Privacy-Platform describe the same
// fields). TestLayoutsMatchReferenceLibrary compares this table with the
// layouts scripts/iab-vectors/generate.js reads out of the library.

// Section IDs from the GPP "Section Information" registry and the reference
// library's section list.
const (
	SectionTCFEUv1 = 1  // EU TCF v1 (deprecated)
	SectionTCFEUv2 = 2  // EU TCF v2, a TC string; see package tcf
	SectionHeader  = 3  // GPP header (never listed in the header itself)
	SectionSignal  = 4  // GPP signal integrity
	SectionTCFCAv1 = 5  // Canadian TCF
	SectionUSPv1   = 6  // US Privacy string (unencoded, e.g. "1YNN"), see USPrivacy
	SectionUSNat   = 7  // MSPA US National
	SectionUSCA    = 8  // California
	SectionUSVA    = 9  // Virginia
	SectionUSCO    = 10 // Colorado
	SectionUSUT    = 11 // Utah
	SectionUSCT    = 12 // Connecticut
	SectionUSFL    = 13 // Florida
	SectionUSMT    = 14 // Montana
	SectionUSOR    = 15 // Oregon
	SectionUSTX    = 16 // Texas
	SectionUSDE    = 17 // Delaware
	SectionUSIA    = 18 // Iowa
	SectionUSNE    = 19 // Nebraska
	SectionUSNH    = 20 // New Hampshire
	SectionUSNJ    = 21 // New Jersey
	SectionUSTN    = 22 // Tennessee
	SectionUSMN    = 23 // Minnesota
	SectionUSMD    = 24 // Maryland
	SectionUSIN    = 25 // Indiana
	SectionUSKY    = 26 // Kentucky
	SectionUSRI    = 27 // Rhode Island
)

// field identifies one field of a US section.
type field uint8

const (
	fVersion     field = iota // Int(6)
	fMspaVersion              // Int(6): the version field of usmd, usin, usky, usri
	fSharingNotice
	fSaleOptOutNotice
	fSharingOptOutNotice
	fTargetedAdvertisingOptOutNotice
	fSensitiveDataProcessingOptOutNotice
	fSensitiveDataLimitUseNotice
	fSensitiveDataOptOutNotice
	fProcessingNotice
	fSaleOptOut
	fSharingOptOut
	fTargetedAdvertisingOptOut
	fSensitiveDataProcessing         // N-Bitfield(2, n)
	fKnownChildSensitiveDataConsents // Int(2), or N-Bitfield(2, n)
	fPersonalDataConsents
	fAdditionalDataProcessingConsent
	fMspaCoveredTransaction
	fMspaOptOutOptionMode
	fMspaServiceProviderMode
	fMspaMode
	numFields
)

var fieldNames = [numFields]string{
	fVersion: "Version", fMspaVersion: "MspaVersion", fSharingNotice: "SharingNotice", fSaleOptOutNotice: "SaleOptOutNotice",
	fSharingOptOutNotice: "SharingOptOutNotice", fTargetedAdvertisingOptOutNotice: "TargetedAdvertisingOptOutNotice",
	fSensitiveDataProcessingOptOutNotice: "SensitiveDataProcessingOptOutNotice", fSensitiveDataLimitUseNotice: "SensitiveDataLimitUseNotice",
	fSensitiveDataOptOutNotice: "SensitiveDataOptOutNotice", fProcessingNotice: "ProcessingNotice", fSaleOptOut: "SaleOptOut",
	fSharingOptOut: "SharingOptOut", fTargetedAdvertisingOptOut: "TargetedAdvertisingOptOut",
	fSensitiveDataProcessing: "SensitiveDataProcessing", fKnownChildSensitiveDataConsents: "KnownChildSensitiveDataConsents",
	fPersonalDataConsents: "PersonalDataConsents", fAdditionalDataProcessingConsent: "AdditionalDataProcessingConsent",
	fMspaCoveredTransaction: "MspaCoveredTransaction", fMspaOptOutOptionMode: "MspaOptOutOptionMode",
	fMspaServiceProviderMode: "MspaServiceProviderMode", fMspaMode: "MspaMode",
}

func (f field) String() string { return fieldNames[f] }

// spec is one field of a layout: n entries of Int(2) for a list (n > 0), a
// single Int(2) (n = 0), or Int(6) for the version fields.
type spec struct {
	f field
	n int
}

// subsection says what may follow the core sub-section after a '.'.
type subsection uint8

const (
	subNone      subsection = iota // nothing; further sub-sections are ignored
	subGPC                         // the GPC sub-section: SubsectionType Int(2) = 1, Gpc Boolean
	subSensitive                   // usin, usky, usri: SensitiveDataProcessing N-Bitfield(2, 8)
)

// layout describes one US section.
type layout struct {
	id       int
	name     string // the client-side API prefix
	versions []int
	core     []spec
	sub      subsection
	// sensitiveSub is the number of SensitiveDataProcessing entries in the
	// subSensitive sub-section.
	sensitiveSub int
}

// Shared shapes. Most state sections are the national one minus the fields
// the state's law has no use for.
func mspaTail() []spec {
	return []spec{{fMspaCoveredTransaction, 0}, {fMspaOptOutOptionMode, 0}, {fMspaServiceProviderMode, 0}}
}

// stateLayout is the shape of the Virginia-style sections: Version, the
// given notices, SaleOptOut and TargetedAdvertisingOptOut, sensitive data,
// child consents (a single Int(2) when child == 0), the given consent
// field, and the MSPA fields.
func stateLayout(id int, name string, notices []field, sensitive, child int, consent field, sub subsection) layout {
	core := []spec{{fVersion, 0}}
	for _, n := range notices {
		core = append(core, spec{n, 0})
	}
	core = append(core, spec{fSaleOptOut, 0}, spec{fTargetedAdvertisingOptOut, 0}, spec{fSensitiveDataProcessing, sensitive},
		spec{fKnownChildSensitiveDataConsents, child})
	if consent != 0 {
		core = append(core, spec{consent, 0})
	}
	core = append(core, mspaTail()...)
	return layout{id: id, name: name, versions: []int{1}, core: core, sub: sub}
}

// mspaLayout is the shape of the sections that start with the MSPA fields
// (usmd, usin, usky, usri).
func mspaLayout(id int, name string, child bool, sub subsection) layout {
	core := []spec{{fMspaVersion, 0}, {fMspaCoveredTransaction, 0}, {fMspaMode, 0}, {fProcessingNotice, 0}, {fSaleOptOutNotice, 0},
		{fTargetedAdvertisingOptOutNotice, 0}, {fSaleOptOut, 0}, {fTargetedAdvertisingOptOut, 0}}
	if child {
		core = append(core, spec{fKnownChildSensitiveDataConsents, 0})
	}
	core = append(core, spec{fAdditionalDataProcessingConsent, 0})
	l := layout{id: id, name: name, versions: []int{1}, core: core, sub: sub}
	if sub == subSensitive {
		l.sensitiveSub = 8
	}
	return l
}

var (
	vaNotices = []field{fSharingNotice, fSaleOptOutNotice, fTargetedAdvertisingOptOutNotice}
	utNotices = []field{fSharingNotice, fSaleOptOutNotice, fTargetedAdvertisingOptOutNotice, fSensitiveDataProcessingOptOutNotice}
	flNotices = []field{fProcessingNotice, fSaleOptOutNotice, fTargetedAdvertisingOptOutNotice}
	iaNotices = []field{fProcessingNotice, fSaleOptOutNotice, fTargetedAdvertisingOptOutNotice, fSensitiveDataOptOutNotice}
)

// layouts holds every US section this package decodes, by section ID.
var layouts = func() map[int]*layout {
	list := []layout{
		{id: SectionUSNat, name: "usnat", versions: []int{1, 2}, sub: subGPC, core: append([]spec{
			{fVersion, 0}, {fSharingNotice, 0}, {fSaleOptOutNotice, 0}, {fSharingOptOutNotice, 0}, {fTargetedAdvertisingOptOutNotice, 0},
			{fSensitiveDataProcessingOptOutNotice, 0}, {fSensitiveDataLimitUseNotice, 0}, {fSaleOptOut, 0}, {fSharingOptOut, 0},
			{fTargetedAdvertisingOptOut, 0}, {fSensitiveDataProcessing, 16}, {fKnownChildSensitiveDataConsents, 3},
			{fPersonalDataConsents, 0}}, mspaTail()...)},
		{id: SectionUSCA, name: "usca", versions: []int{1}, sub: subGPC, core: append([]spec{
			{fVersion, 0}, {fSaleOptOutNotice, 0}, {fSharingOptOutNotice, 0}, {fSensitiveDataLimitUseNotice, 0}, {fSaleOptOut, 0},
			{fSharingOptOut, 0}, {fSensitiveDataProcessing, 9}, {fKnownChildSensitiveDataConsents, 2}, {fPersonalDataConsents, 0}},
			mspaTail()...)},
		stateLayout(SectionUSVA, "usva", vaNotices, 8, 0, 0, subNone),
		stateLayout(SectionUSCO, "usco", vaNotices, 7, 0, 0, subGPC),
		stateLayout(SectionUSUT, "usut", utNotices, 8, 0, 0, subNone),
		stateLayout(SectionUSCT, "usct", vaNotices, 8, 3, 0, subGPC),
		stateLayout(SectionUSFL, "usfl", flNotices, 8, 3, fAdditionalDataProcessingConsent, subNone),
		stateLayout(SectionUSMT, "usmt", vaNotices, 8, 3, fAdditionalDataProcessingConsent, subGPC),
		stateLayout(SectionUSOR, "usor", flNotices, 11, 3, fAdditionalDataProcessingConsent, subGPC),
		stateLayout(SectionUSTX, "ustx", flNotices, 8, 0, fAdditionalDataProcessingConsent, subGPC),
		stateLayout(SectionUSDE, "usde", flNotices, 9, 5, fAdditionalDataProcessingConsent, subGPC),
		stateLayout(SectionUSIA, "usia", iaNotices, 8, 0, 0, subGPC),
		stateLayout(SectionUSNE, "usne", flNotices, 8, 0, fAdditionalDataProcessingConsent, subGPC),
		stateLayout(SectionUSNH, "usnh", flNotices, 8, 3, fAdditionalDataProcessingConsent, subGPC),
		stateLayout(SectionUSNJ, "usnj", flNotices, 10, 5, fAdditionalDataProcessingConsent, subGPC),
		stateLayout(SectionUSTN, "ustn", flNotices, 8, 0, fAdditionalDataProcessingConsent, subGPC),
		stateLayout(SectionUSMN, "usmn", flNotices, 8, 0, fAdditionalDataProcessingConsent, subGPC),
		mspaLayout(SectionUSMD, "usmd", false, subGPC),
		mspaLayout(SectionUSIN, "usin", true, subSensitive),
		mspaLayout(SectionUSKY, "usky", true, subSensitive),
		mspaLayout(SectionUSRI, "usri", true, subSensitive),
	}
	m := make(map[int]*layout, len(list))
	for i := range list {
		m[list[i].id] = &list[i]
	}
	return m
}()

// USSectionIDs lists the IDs of every US section this package decodes
// (usnat and the state sections), ascending.
func USSectionIDs() []int {
	ids := make([]int, 0, len(layouts))
	for id := SectionUSNat; id <= SectionUSRI; id++ {
		if layouts[id] != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// SectionName returns the client-side API prefix of a section ID ("usnat",
// "usca", "uspv1", "tcfeuv2", ...), or "" if the ID is not registered.
func SectionName(id int) string {
	switch id {
	case SectionTCFEUv1:
		return "tcfeuv1"
	case SectionTCFEUv2:
		return "tcfeuv2"
	case SectionSignal:
		return "signal_integrity"
	case SectionTCFCAv1:
		return "tcfcav1"
	case SectionUSPv1:
		return "uspv1"
	}
	if l := layouts[id]; l != nil {
		return l.name
	}
	return ""
}
