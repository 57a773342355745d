package policy

// Reason is a machine reason code written to consent.reasons.
type Reason string

// Reasons that quarantine the record (Blocking reports true).
const (
	ReasonPolicyUnavailable     Reason = "policy_unavailable"
	ReasonVendorUnknown         Reason = "vendor_unknown"
	ReasonTenantUnknown         Reason = "tenant_unknown"
	ReasonProcessorUnknown      Reason = "processor_unknown"
	ReasonPurposeUnknown        Reason = "purpose_unknown"
	ReasonProcessorUndisclosed  Reason = "processor_undisclosed"
	ReasonConsentMissing        Reason = "consent_missing"
	ReasonConsentDenied         Reason = "consent_denied"
	ReasonOptOutSaleSharing     Reason = "opt_out_sale_sharing"
	ReasonSubjectUnknown        Reason = "subject_unknown"
	ReasonSignalMalformed       Reason = "signal_malformed"
	ReasonSignalUnmapped        Reason = "signal_unmapped"
	ReasonNoticeUnknown         Reason = "notice_unknown"
	ReasonSensitiveSecondaryUse Reason = "sensitive_secondary_use"
	ReasonSensitiveThirdParty   Reason = "sensitive_third_party"
	ReasonSensitiveAmbiguous    Reason = "sensitive_ambiguous"
	ReasonStoreError            Reason = "store_error"
	ReasonEvaluationError       Reason = "evaluation_error"
)

// Reasons that explain the decision without blocking it.
const (
	ReasonContractBasis         Reason = "contract_basis"
	ReasonConsentGranted        Reason = "consent_granted"
	ReasonImpliedConsent        Reason = "implied_consent"
	ReasonThirdPartyRole        Reason = "third_party_role"
	ReasonSecondaryUse          Reason = "secondary_use"
	ReasonAllPartyJurisdiction  Reason = "all_party_jurisdiction"
	ReasonJurisdictionUnknown   Reason = "jurisdiction_unknown"
	ReasonFromInteraction       Reason = "from_interaction"
	ReasonConsentRecorded       Reason = "consent_recorded"
	ReasonOptOutRecorded        Reason = "opt_out_recorded"
	ReasonSignalIgnoredCategory Reason = "category_unmapped"
)

// ReasonInfo documents a reason code.
type ReasonInfo struct {
	Code     Reason
	Blocking bool // the record is quarantined
	Meaning  string
}

// Reasons lists every reason code, in the order the documentation uses.
var Reasons = []ReasonInfo{
	{ReasonPolicyUnavailable, true, "No valid policy is loaded."},
	{ReasonVendorUnknown, true, "The record has no ccaas.vendor or ccaas.tenant.id resource attribute."},
	{ReasonTenantUnknown, true, "No tenant in the policy matches the record's vendor and tenant id."},
	{ReasonProcessorUnknown, true, "No processor in the policy touches this event: the policy does not say who handles it."},
	{ReasonPurposeUnknown, true, "The policy assigns no purposes to this event name (or the record has no event name)."},
	{ReasonProcessorUndisclosed, true, "A processor touching the event is not named in the tenant's privacy notice."},
	{ReasonConsentMissing, true, "Consent is needed for a purpose and no evidence grants or denies it."},
	{ReasonConsentDenied, true, "The latest evidence denies a purpose that needs consent."},
	{ReasonOptOutSaleSharing, true, "The subject opted out of sale and sharing (Sec-GPC, a GPP opt-out, or an earlier one in the store) and the event reaches a third party or serves an opt-out purpose."},
	{ReasonSubjectUnknown, true, "Consent is needed but the record has no subject key, and none was learned from its interaction."},
	{ReasonSignalMalformed, true, "An in-event consent signal could not be read: a value outside the signal's mapping, a category that is not a boolean, an invalid TCF or GPP string."},
	{ReasonSignalUnmapped, true, "The record carries a consent signal attribute (ccaas.consent.signal.*) that the policy does not map for its vendor."},
	{ReasonNoticeUnknown, true, "The record carries a played-notice marker (ccaas.consent.notice.id) that the tenant does not list."},
	{ReasonSensitiveSecondaryUse, true, "The tenant is sensitive and a processor touching the event may use the data for its own purposes."},
	{ReasonSensitiveThirdParty, true, "The tenant is sensitive and a third party touches the event."},
	{ReasonSensitiveAmbiguous, true, "The tenant is sensitive and the consent rests on a played notice only (implied consent)."},
	{ReasonStoreError, true, "The consent store failed (lookup or write); the evidence could not be read or recorded."},
	{ReasonEvaluationError, true, "The evaluation failed unexpectedly."},
	{ReasonContractBasis, false, "Some purposes are covered by the tenant's contract (contract_purposes) and need no consent."},
	{ReasonConsentGranted, false, "Every purpose that needs consent is granted by the evidence."},
	{ReasonImpliedConsent, false, "Some consent rests on a played notice (continuing after the notice)."},
	{ReasonThirdPartyRole, false, "A processor touching the event has the role third_party: every purpose needs consent."},
	{ReasonSecondaryUse, false, "A processor touching the event may use the data for its own purposes; under the capability test it counts as a third party: every purpose needs consent."},
	{ReasonAllPartyJurisdiction, false, "The event is a recording or interception and a party may be in an all-party-consent jurisdiction: recording purposes need consent."},
	{ReasonJurisdictionUnknown, false, "The customer's location is unknown (or known only to the country); it counts as all-party unless unknown_location is one_party."},
	{ReasonFromInteraction, false, "The subject or the location was learned from an earlier record of the same interaction."},
	{ReasonConsentRecorded, false, "The record's consent evidence was written to the consent store."},
	{ReasonOptOutRecorded, false, "The record's opt-out of sale and sharing was written to the consent store; it applies to the subject from then on."},
	{ReasonSignalIgnoredCategory, false, "The record carries consent categories the policy does not map; they are ignored (Segment semantics)."},
}

var reasonInfo = func() map[Reason]ReasonInfo {
	m := make(map[Reason]ReasonInfo, len(Reasons))
	for _, r := range Reasons {
		m[r.Code] = r
	}
	return m
}()

// Blocking reports whether the reason quarantines the record.
func (r Reason) Blocking() bool {
	switch r {
	case ReasonPolicyUnavailable, ReasonVendorUnknown, ReasonTenantUnknown, ReasonProcessorUnknown, ReasonPurposeUnknown,
		ReasonProcessorUndisclosed, ReasonConsentMissing, ReasonConsentDenied, ReasonOptOutSaleSharing, ReasonSubjectUnknown,
		ReasonSignalMalformed, ReasonSignalUnmapped, ReasonNoticeUnknown, ReasonSensitiveSecondaryUse, ReasonSensitiveThirdParty,
		ReasonSensitiveAmbiguous, ReasonStoreError, ReasonEvaluationError:
		return true
	}
	return false
}

// Meaning is the reason's documentation.
func (r Reason) Meaning() string { return reasonInfo[r].Meaning }
