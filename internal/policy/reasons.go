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
	ReasonSensitivePurpose      Reason = "sensitive_purpose"
	ReasonStoreError            Reason = "store_error"
	ReasonEvaluationError       Reason = "evaluation_error"
	ReasonSignalOutdated        Reason = "signal_outdated"
	ReasonSignalPostdated       Reason = "signal_postdated"
	ReasonSensitiveDataRefused  Reason = "sensitive_data_refused"
	ReasonGDPRArt28Missing      Reason = "gdpr_art28_missing"
	ReasonGDPRLegalBasisMissing Reason = "gdpr_legal_basis_missing"
	ReasonGDPRArt9Missing       Reason = "gdpr_art9_condition_missing"
	ReasonConsentTampered       Reason = "consent_tampered"
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
	ReasonNoticeLate            Reason = "notice_late"
	ReasonNoticeTimingUnknown   Reason = "notice_timing_unknown"
	ReasonWithdrawalAfterEvent  Reason = "withdrawal_after_event"
	ReasonOptInOverridesSignal  Reason = "opt_in_overrides_signal"
	ReasonGDPRApplies           Reason = "gdpr_applies"
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
	{ReasonSignalMalformed, true, "An in-event consent signal could not be read: a value outside the signal's mapping, a category that is not a boolean, an invalid TCF, GPP or US Privacy string, a GPP section of a version Consentry does not know, a notice offset that is not a number, or a signal the receiver found but could not copy (ccaas.consent.unreadable)."},
	{ReasonSignalUnmapped, true, "The record carries a consent signal the policy cannot interpret: a signal attribute (ccaas.consent.signal.*) the policy does not map for its vendor (always quarantines), or a GPP section Consentry does not decode (quarantines as gpp.unknown_sections says: by default when a third party touches the event)."},
	{ReasonSignalOutdated, true, "A TC string is refused: its TcfPolicyVersion is below tcf.min_policy_version (default 4, TCF v2.2), it lacks the DisclosedVendors segment and tcf.require_disclosed_vendors is set, or it was last updated longer than tcf.max_age before the event."},
	{ReasonSignalPostdated, true, "A TC string was created or last updated after the event happened: it is not the consent in force at the event's time."},
	{ReasonNoticeUnknown, true, "The record carries a played-notice marker (ccaas.consent.notice.id) that the tenant does not list, or of another version than the one listed."},
	{ReasonSensitiveSecondaryUse, true, "The tenant is sensitive and a processor touching the event may use the data for its own purposes."},
	{ReasonSensitiveThirdParty, true, "The tenant is sensitive and a third party touches the event."},
	{ReasonSensitiveAmbiguous, true, "The tenant is sensitive and the consent rests on a played notice only (implied consent)."},
	{ReasonSensitivePurpose, true, "The tenant is sensitive and the event serves a purpose sensitive tenants never allow, even with consent: training an AI system (train_ai_system) or marketing (marketing.*)."},
	{ReasonSensitiveDataRefused, true, "The tenant is sensitive and the record's GPP string says the person opted out of, or did not consent to, the processing of sensitive data."},
	{ReasonGDPRArt28Missing, true, "The GDPR applies (a party is in gdpr.jurisdictions) and a processor or service provider touching the event has no Art. 28 agreement (art28_agreement)."},
	{ReasonGDPRLegalBasisMissing, true, "The GDPR applies and a purpose of the event has no legal basis in gdpr.legal_bases or the tenant's legal_bases."},
	{ReasonGDPRArt9Missing, true, "The GDPR applies, the tenant is sensitive (special categories of data, Art. 9) and names no Art. 9(2) condition (art9_condition)."},
	{ReasonStoreError, true, "The consent store failed (lookup or write); the evidence could not be read or recorded."},
	{ReasonConsentTampered, true, "A consent record of the subject does not match its hash-chain entry in the ledger (it was altered in the database): none of the subject's stored evidence is trusted; run VerifyLedger."},
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
	{ReasonNoticeLate, false, "A played notice was played later after the interaction's start than its max_offset allows: it does not count as consent."},
	{ReasonNoticeTimingUnknown, false, "A played notice whose max_offset is set came without an offset (ccaas.consent.notice.offset): it does not count as consent."},
	{ReasonWithdrawalAfterEvent, false, "A withdrawal (a denial or an opt-out) dated after the event but recorded before it was decided applies to it (withdrawals: at_forwarding)."},
	{ReasonOptInOverridesSignal, false, "The subject opted back in to sale and sharing through the API; the opt-out signals already in force then (a browser that keeps sending Sec-GPC: 1) no longer opt them out."},
	{ReasonGDPRApplies, false, "A party of the event is where the GDPR applies (gdpr.jurisdictions): processor agreements, legal bases and special categories are checked."},
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
		ReasonSensitiveAmbiguous, ReasonSensitivePurpose, ReasonStoreError, ReasonEvaluationError, ReasonSignalOutdated, ReasonSignalPostdated,
		ReasonSensitiveDataRefused, ReasonGDPRArt28Missing, ReasonGDPRLegalBasisMissing, ReasonGDPRArt9Missing,
		ReasonConsentTampered:
		return true
	}
	return false
}

// Meaning is the reason's documentation.
func (r Reason) Meaning() string { return reasonInfo[r].Meaning }
