package console

// Explanation says in plain language what a reason code means for the
// record, and which rule of the policy (or which component) produced it.
type Explanation struct {
	// Plain is one sentence for a person who has not read the policy.
	Plain string `json:"plain"`
	// Rule is the policy key or component behind the code.
	Rule string `json:"rule"`
	// Blocking reasons keep the record in quarantine; the others explain.
	Blocking bool `json:"blocking"`
}

// Reasons is the console's one table of reason codes: every code the
// consent processor (internal/policy, documented in docs/policy.md), the
// consent_router and the quarantine exporter write.
// TestReasonsCoverEveryCode keeps it complete and its blocking flags true.
var Reasons = map[string]Explanation{
	// The consent processor, blocking.
	"policy_unavailable": {"No valid consent policy was loaded, so nothing could be allowed.", "processors.consent.policy / policy_file must compile", true},
	"vendor_unknown":     {"The event did not say which vendor or tenant it came from.", "resource attributes ccaas.vendor and ccaas.tenant.id are required", true},
	"tenant_unknown":     {"The business (tenant) this event belongs to is not described in the policy.", "tenants[]: vendor + tenant id must match a tenant", true},
	"processor_unknown":  {"The policy does not say who handles this kind of event.", "processors[].events must cover the event name", true},
	"purpose_unknown":    {"The policy does not say what this kind of event is used for.", "purposes: the event name needs at least one purpose", true},
	"processor_undisclosed": {"A company that handles this event is not named in the business's privacy notice.",
		"tenants[].notice.processors must name every processor touching the event", true},
	"consent_missing":      {"The person's consent was needed and there is no record of it either way.", "purposes needing consent (consent_required / third parties / all-party recording) need granting evidence", true},
	"consent_denied":       {"The person refused or withdrew consent for a use this event serves.", "the latest evidence for a consent-requiring purpose is denied or withdrawn", true},
	"opt_out_sale_sharing": {"The person opted out of the sale or sharing of their data, and this event would share it.", "opt_out: Sec-GPC, GPP or a stored opt-out blocks third parties and opt-out purposes", true},
	"subject_unknown":      {"Consent was needed but the event does not say whose data it is.", "a subject key (ccaas.subject.key) is required when consent is required", true},
	"signal_malformed":     {"A consent signal in the event could not be read.", "consent_sources[]: signal values, TCF, GPP and US Privacy strings must parse", true},
	"signal_unmapped":      {"The event carries a consent signal the policy does not know how to read.", "consent_sources[].signals must map every ccaas.consent.signal.* attribute; gpp.unknown_sections", true},
	"signal_outdated":      {"A TCF consent string is too old or of an outdated version.", "tcf.min_policy_version, tcf.require_disclosed_vendors, tcf.max_age", true},
	"signal_postdated":     {"A TCF consent string was written after the event, so it was not the consent in force.", "a TC string must predate the event", true},
	"notice_unknown":       {"The event names a played privacy notice the business does not list (or another version of it).", "tenants[].notice.id and version", true},
	"sensitive_secondary_use": {"The business handles sensitive data and a company touching the event may use it for its own purposes.",
		"tenants[].sensitive + processors[].secondary_use", true},
	"sensitive_third_party":  {"The business handles sensitive data and a third party touches the event.", "tenants[].sensitive + processors[].role: third_party", true},
	"sensitive_ambiguous":    {"The business handles sensitive data and the only consent is a played notice, which is not enough.", "tenants[].sensitive: implied consent does not count", true},
	"sensitive_purpose":      {"The business handles sensitive data and the event serves a use never allowed for it (AI training, marketing).", "tenants[].sensitive: train_ai_system and marketing.* are refused even with consent", true},
	"sensitive_data_refused": {"The business handles sensitive data and the person's GPP string refuses its processing.", "tenants[].sensitive + GPP sensitive data processing opt-out", true},
	"gdpr_art28_missing":     {"The GDPR applies and a company touching the event has no processor agreement (Art. 28).", "gdpr.jurisdictions + processors[].art28_agreement", true},
	"gdpr_legal_basis_missing": {"The GDPR applies and a use of this event has no legal basis.",
		"gdpr.legal_bases / tenants[].legal_bases must cover every purpose", true},
	"gdpr_art9_condition_missing": {"The GDPR applies to sensitive (special category) data and the business names no Art. 9(2) condition.", "tenants[].art9_condition", true},
	"store_error":                 {"The consent records could not be read or written, so nothing could be allowed.", "consent store (ledger) must answer", true},
	"consent_tampered":            {"A stored consent record of this person no longer matches the ledger's hash chain; none of it is trusted.", "ledger chain check of consent records; run Verify", true},
	"evaluation_error":            {"The decision failed unexpectedly; the event was held to be safe.", "consent processor (fail closed)", true},

	// The consent processor, explanatory.
	"contract_basis":         {"Some uses are covered by the business's contract with the person and need no consent.", "tenants[].contract_purposes", false},
	"consent_granted":        {"Every use that needs consent was granted by the person.", "evidence grants every consent-requiring purpose", false},
	"implied_consent":        {"Some consent rests on a played notice (the person continued after hearing it).", "tenants[].notice played notice counts as consent", false},
	"third_party_role":       {"A company touching the event is a third party, so every use needs consent.", "processors[].role: third_party", false},
	"secondary_use":          {"A company touching the event may use the data for itself, so it counts as a third party.", "processors[].secondary_use (capability test)", false},
	"all_party_jurisdiction": {"This is a recording and a party may be somewhere every party must consent.", "jurisdictions: all-party states for recording purposes", false},
	"jurisdiction_unknown":   {"Where the customer is is unknown, so all-party rules were assumed.", "unknown_location (default all_party)", false},
	"from_interaction":       {"The person or their location was learned from an earlier event of the same interaction.", "interaction cache", false},
	"consent_recorded":       {"The consent this event carried was saved to the consent records.", "consent_sources[] evidence written to the store", false},
	"opt_out_recorded":       {"The opt-out this event carried was saved and applies to the person from now on.", "opt_out evidence written to the store", false},
	"category_unmapped":      {"The event carries consent categories the policy does not map; they were ignored.", "consent_sources[].categories (Segment semantics)", false},
	"notice_late":            {"A notice was played too late in the call to count as consent.", "tenants[].notice.max_offset", false},
	"notice_timing_unknown":  {"A notice was played but when is unknown, so it does not count as consent.", "tenants[].notice.max_offset needs ccaas.consent.notice.offset", false},
	"withdrawal_after_event": {"A withdrawal dated after the event, but recorded before it was decided, was applied.", "withdrawals: at_forwarding", false},
	"opt_in_overrides_signal": {"The person opted back in through the API, which overrides the opt-out signals sent before.",
		"RecordConsent opted_in over earlier Sec-GPC / GPP opt-outs", false},
	"gdpr_applies": {"A party is where the GDPR applies, so its extra checks were made.", "gdpr.jurisdictions", false},

	// The consent_router and the quarantine exporter.
	"router.invalid_decision": {"The event reached the router without a valid decision, so it was held.", "consent_router: consent.decision must be forward or quarantine", true},
	"quarantine.missing_identity": {"The event had no tenant, vendor or event id; it was stored under \"unknown\" rather than dropped.",
		"quarantine exporter: ccaas.tenant.id, ccaas.vendor, ccaas.event.id", true},
	"quarantine.no_reasons": {"The event reached quarantine without any decision reasons (it bypassed the consent processor).", "quarantine exporter: consent.reasons expected", true},
}
