package policy

import "time"

// Config is a consent policy as written in YAML, either under the consent
// processor's `policy` key or in a policy file. Empty fields take the
// defaults documented in docs/policy.md (see ApplyDefaults).
type Config struct {
	// Processors are the parties that touch events: the vendors themselves
	// and their sub-processors (AI transcription, analytics).
	Processors []ProcessorConfig `mapstructure:"processors"`
	// Tenants are the businesses whose events arrive, matched by vendor and
	// tenant id.
	Tenants []TenantConfig `mapstructure:"tenants"`
	// Purposes maps event names to the data uses they serve. Keys are exact
	// event names, prefixes ending in ".*" (ccaas.analytics.*), or "*" for
	// every other event; the most specific key wins.
	Purposes map[string][]string `mapstructure:"purposes"`
	// CustomPurposes declares data uses beyond fideslang and Consentry's
	// collect.recording / collect.transcription; each must extend a known
	// data use (fideslang's extension rule), e.g.
	// essential.service.operations.support.callback.
	CustomPurposes []string `mapstructure:"custom_purposes"`
	// Jurisdiction holds the all-party consent rules.
	Jurisdiction JurisdictionConfig `mapstructure:"jurisdiction"`
	// ConsentSources says, per vendor (genesys, twilio, segment, talkdesk),
	// how to read the in-event consent signals the receivers wrote.
	ConsentSources map[string]SourceConfig `mapstructure:"consent_sources"`
	// TCF maps IAB TCF v2.2 purposes to data uses.
	TCF TCFConfig `mapstructure:"tcf"`
	// OptOut configures Sec-GPC and GPP opt-outs of sale and sharing.
	OptOut OptOutConfig `mapstructure:"opt_out"`
	// GPP says what each GPP (and US Privacy) statement denies, and what a
	// section Consentry cannot read does to the event.
	GPP GPPConfig `mapstructure:"gpp"`
	// Withdrawals: at_forwarding (default) or at_event_time. A withdrawal
	// (a denial or an opt-out) that is already recorded when an event is
	// decided blocks it even if the event happened before the withdrawal:
	// forwarding is processing, and it happens now. at_event_time judges
	// consent as of the event's time instead.
	Withdrawals string `mapstructure:"withdrawals"`
	// GDPR holds the rules that apply when a party is in the EU/EEA or the
	// UK: processor agreements, legal bases, special categories.
	GDPR GDPRConfig `mapstructure:"gdpr"`
	// ConsentEvents are the event names whose consent evidence is written to
	// the store for the subject (not only used for the event itself).
	// Default: [ccaas.consent.updated].
	ConsentEvents []string `mapstructure:"consent_events"`
}

// ProcessorConfig is one party that touches events.
type ProcessorConfig struct {
	// ID is what notices and consent records name (lower case, digits, '-',
	// '_', '.').
	ID string `mapstructure:"id"`
	// Name is for people ("Talkdesk AI (Experience Analytics)").
	Name string `mapstructure:"name"`
	// Role is processor, service_provider, contractor or third_party.
	Role string `mapstructure:"role"`
	// SecondaryUses are the uses of the data for the processor's own
	// purposes its terms allow: train_ai_system, product_improvement,
	// cross_customer_profiling, advertising. Any makes it a third party
	// (the capability test).
	SecondaryUses []string `mapstructure:"secondary_uses"`
	// TCFVendorID is the processor's IAB Global Vendor List id; when set, a
	// TC string grants its purposes to this processor only if the string
	// also has vendor consent for this id.
	TCFVendorID int `mapstructure:"tcf_vendor_id"`
	// Art28Agreement says a GDPR Art. 28 data processing agreement with the
	// processor is in place. Where the GDPR applies, a processor or
	// service provider without one quarantines the events it touches
	// (gdpr_art28_missing).
	Art28Agreement bool `mapstructure:"art28_agreement"`
	// Touches says which events the processor handles.
	Touches TouchesConfig `mapstructure:"touches"`
}

// TouchesConfig selects events by vendor, tenant and event name; all must
// match.
type TouchesConfig struct {
	// Vendors: ccaas.vendor values; empty matches every vendor.
	Vendors []string `mapstructure:"vendors"`
	// Tenants: tenant ids (ccaas.tenant.id) whose events the processor
	// touches, for sub-processors only some tenants use; empty matches every
	// tenant.
	Tenants []string `mapstructure:"tenants"`
	// Events: event names or patterns (prefix ".*", "*"); empty matches
	// every event.
	Events []string `mapstructure:"events"`
}

// TenantConfig is one business, as one vendor knows it.
type TenantConfig struct {
	// Vendor is the ccaas.vendor value.
	Vendor string `mapstructure:"vendor"`
	// ID is the ccaas.tenant.id value (Genesys org id, Twilio account SID,
	// Segment source, Talkdesk account).
	ID string `mapstructure:"id"`
	// Name is for people.
	Name string `mapstructure:"name"`
	// Sensitive marks hotlines, health and similar services: no processor
	// with secondary uses, no third party, no consent resting on a played
	// notice alone.
	Sensitive bool `mapstructure:"sensitive"`
	// ConsentScope names the consent records this tenant shares with other
	// tenants of the same business (default "<vendor>/<id>").
	ConsentScope string `mapstructure:"consent_scope"`
	// Jurisdictions where the business and its agents are (ISO 3166-1 or
	// 3166-2 codes); they count for all-party consent like the customer's.
	Jurisdictions []string `mapstructure:"jurisdictions"`
	// ContractPurposes are the data uses the business may serve without
	// consent (contract, legal obligation), for processors that are not
	// third parties. Recording purposes still need consent where all-party
	// consent is required.
	ContractPurposes []string `mapstructure:"contract_purposes"`
	// Purposes maps event names to data uses for this tenant's events, like
	// the policy's purposes, before them: an event one of these keys
	// matches takes these uses (a Twilio account that sends marketing
	// messages: ccaas.message.sent: [marketing.communications.sms]).
	Purposes map[string][]string `mapstructure:"purposes"`
	// Notice is the privacy notice the tenant's customers see.
	Notice NoticeConfig `mapstructure:"notice"`
	// PlayedNotices are the notices a flow plays or shows (an IVR "this call
	// is recorded" prompt), identified by the marker the receiver writes to
	// ccaas.consent.notice.id.
	PlayedNotices []PlayedNoticeConfig `mapstructure:"played_notices"`
	// Numbers maps the tenant's phone numbers (E.164) to the jurisdiction
	// they stand for, for numbers whose area code says nothing (toll-free)
	// or misleads. The called (inbound) or calling (outbound) business
	// number of an event, ccaas.business.number, is looked up here first.
	Numbers map[string]string `mapstructure:"numbers"`
	// Sites are where the tenant's agents work: an event handled by one of
	// a site's agents or queues counts the site's jurisdiction.
	Sites []SiteConfig `mapstructure:"sites"`
	// LegalBases overrides gdpr.legal_bases for this tenant.
	LegalBases map[string]string `mapstructure:"legal_bases"`
	// Art9Condition is the GDPR Art. 9(2) condition under which a
	// sensitive tenant processes special categories of data (health, ...):
	// explicit_consent, employment, vital_interests, not_for_profit,
	// made_public, legal_claims, substantial_public_interest, health_care,
	// public_health or archiving. Where the GDPR applies, a sensitive tenant
	// without one quarantines every event (gdpr_art9_condition_missing);
	// explicit_consent makes every purpose need explicit consent.
	Art9Condition string `mapstructure:"art9_condition"`
}

// SiteConfig is one place agents work from.
type SiteConfig struct {
	// ID names the site (for people and the evidence).
	ID string `mapstructure:"id"`
	// Jurisdiction of the site (ISO 3166-1 or 3166-2).
	Jurisdiction string `mapstructure:"jurisdiction"`
	// Agents (ccaas.agent.id) and Queues (ccaas.queue.id) at the site.
	Agents []string `mapstructure:"agents"`
	Queues []string `mapstructure:"queues"`
}

// NoticeConfig is a tenant's privacy notice.
type NoticeConfig struct {
	// ID identifies the notice (required).
	ID string `mapstructure:"id"`
	// Version of the notice; consent.notice.id is "<id>@<version>".
	Version string `mapstructure:"version"`
	// Date the version took effect (YYYY-MM-DD).
	Date string `mapstructure:"date"`
	// URL where the notice is published.
	URL string `mapstructure:"url"`
	// Processors the notice names: the disclosed processors.
	Processors []string `mapstructure:"processors"`
}

// PlayedNoticeConfig is a notice played or shown during an interaction.
// Continuing after it is implied consent to its purposes.
type PlayedNoticeConfig struct {
	// ID is the marker value in ccaas.consent.notice.id.
	ID string `mapstructure:"id"`
	// Purposes the notice announces (e.g. collect.recording).
	Purposes []string `mapstructure:"purposes"`
	// Processors the notice names. Empty: the notice names nobody, so it
	// covers only processors that are not third parties.
	Processors []string `mapstructure:"processors"`
	// Version of the notice. When set, a marker that carries another
	// version (ccaas.consent.notice.version) is an unknown notice.
	Version string `mapstructure:"version"`
	// MaxOffset requires the notice to have been played within this long
	// of the interaction's start (ccaas.consent.notice.offset): a notice
	// played later, or whose offset is unknown, does not count (notice_late,
	// notice_timing_unknown). 0: no requirement.
	MaxOffset time.Duration `mapstructure:"max_offset"`
}

// JurisdictionConfig holds the all-party consent rules.
type JurisdictionConfig struct {
	// AllParty: jurisdictions where recording or interception needs every
	// party's consent (ISO 3166-2 like US-CA, or a whole country like DE).
	AllParty []string `mapstructure:"all_party"`
	// AllPartyCalls: jurisdictions treated as all-party for calls only
	// (channels in call_channels).
	AllPartyCalls []string `mapstructure:"all_party_calls"`
	// CallChannels are the ccaas.channel values that are calls. A record
	// without a channel counts as a call.
	CallChannels []string `mapstructure:"call_channels"`
	// RecordingPurposes are the data uses that are recording or
	// interception.
	RecordingPurposes []string `mapstructure:"recording_purposes"`
	// UnknownLocation: all_party (default) or one_party. A customer whose
	// country is known but whose region is not counts as unknown when the
	// country has all-party regions.
	UnknownLocation string `mapstructure:"unknown_location"`
}

// SourceConfig says how to read one vendor's in-event consent signals.
type SourceConfig struct {
	// Signals, by signal name (the receiver writes
	// ccaas.consent.signal.<name>).
	Signals map[string]SignalConfig `mapstructure:"signals"`
	// Categories maps consent category ids (ccaas.consent.category.<id>,
	// Segment categoryPreferences) to data uses. Once an event carries any
	// category, a mapped category it lacks counts as false; a purpose several
	// categories map to needs all of them true.
	Categories map[string][]string `mapstructure:"categories"`
}

// SignalConfig reads one in-event consent signal.
type SignalConfig struct {
	// Attribute holds the raw value (default ccaas.consent.signal.<name>).
	Attribute string `mapstructure:"attribute"`
	// Purposes the signal grants or denies (required).
	Purposes []string `mapstructure:"purposes"`
	// Processors the signal names; empty: every disclosed processor.
	Processors []string `mapstructure:"processors"`
	// Scope: interaction (default; the consent covers the interaction it
	// was given in) or subject (it covers the subject from then on).
	Scope string `mapstructure:"scope"`
	// Granted and Denied are the values (compared case-insensitively,
	// trimmed) that mean yes and no. Any other value is malformed.
	Granted []string `mapstructure:"granted"`
	Denied  []string `mapstructure:"denied"`
}

// TCFConfig maps IAB TCF v2.2 purposes to data uses.
type TCFConfig struct {
	// Enabled reads ccaas.consent.tcf (and a GPP string's TCF EU section).
	// Default true.
	Enabled *bool `mapstructure:"enabled"`
	// Purposes maps TCF purpose ids ("1".."11") to data uses; consent for
	// the purpose grants them, its absence denies them.
	Purposes map[string][]string `mapstructure:"purposes"`
	// MinPolicyVersion refuses strings whose TcfPolicyVersion is lower
	// (signal_outdated). Default 4 (TCF v2.2): a policy change requires
	// asking again.
	MinPolicyVersion int `mapstructure:"min_policy_version"`
	// LegitimateInterest lists the purposes for which an established
	// legitimate interest (PurposesLITransparency, and vendor LI for
	// processors with a tcf_vendor_id) counts like consent. Default: none.
	// TCF v2.2 allows no legitimate interest for purposes 1, 3, 4, 5 and 6.
	LegitimateInterest []int `mapstructure:"legitimate_interest"`
	// RequireDisclosedVendors refuses strings without the DisclosedVendors
	// segment (mandatory since TCF v2.3) as signal_outdated. Whether or not
	// it is set, a processor with a tcf_vendor_id that a present
	// DisclosedVendors segment does not list gets nothing from the string.
	RequireDisclosedVendors bool `mapstructure:"require_disclosed_vendors"`
	// MaxAge refuses a string last updated longer ago than this before the
	// event (signal_outdated). 0: no limit.
	MaxAge time.Duration `mapstructure:"max_age"`
}

// GPPConfig says what the statements of GPP strings and US Privacy strings
// deny.
type GPPConfig struct {
	// OptOuts maps each kind of GPP statement to the data uses it denies,
	// for every processor. sale, sharing, targeted_advertising and
	// known_child are also opt-outs of sale and sharing (every third party
	// is blocked, for the subject, until an opt-in through the API).
	OptOuts GPPOptOuts `mapstructure:"opt_outs"`
	// UnknownSections: what a GPP section Consentry does not decode (or a
	// US Privacy value it cannot read) does: third_party (default:
	// quarantine when a third party touches the event), quarantine
	// (always), or record (only the signal_unmapped reason).
	UnknownSections string `mapstructure:"unknown_sections"`
}

// GPPOptOuts maps GPP statements to the data uses they deny. Every list
// left empty takes its default (docs/policy.md).
type GPPOptOuts struct {
	// Sale: SaleOptOut = 1 in any US section, or OptOutSale = Y in a US
	// Privacy string.
	Sale []string `mapstructure:"sale"`
	// Sharing: SharingOptOut = 1 (usnat, usca).
	Sharing []string `mapstructure:"sharing"`
	// TargetedAdvertising: TargetedAdvertisingOptOut = 1 (usca: SharingOptOut).
	TargetedAdvertising []string `mapstructure:"targeted_advertising"`
	// SensitiveData: a SensitiveDataProcessing entry 1 (opted out, or no
	// consent). On a sensitive tenant it also quarantines the event
	// (sensitive_data_refused).
	SensitiveData []string `mapstructure:"sensitive_data"`
	// KnownChild: a KnownChildSensitiveDataConsents entry 1 (no consent).
	KnownChild []string `mapstructure:"known_child"`
	// Processing: PersonalDataConsents or AdditionalDataProcessingConsent
	// = 1: no consent to processing beyond the disclosed purposes.
	Processing []string `mapstructure:"processing"`
}

// GDPRConfig holds the GDPR rules.
type GDPRConfig struct {
	// Jurisdictions where the GDPR (or the UK GDPR) applies: when any party
	// of an event is in one of them, the rules below apply. Default: the
	// EU, EEA and UK countries.
	Jurisdictions []string `mapstructure:"jurisdictions"`
	// LegalBases maps data uses to their Art. 6 legal basis: consent,
	// contract, legal_obligation, vital_interests, public_task or
	// legitimate_interests. A purpose with no basis quarantines the event
	// (gdpr_legal_basis_missing); consent makes it need consent even when
	// contract_purposes covers it.
	LegalBases map[string]string `mapstructure:"legal_bases"`
}

// OptOutConfig configures opt-outs of sale and sharing.
type OptOutConfig struct {
	// GPC honours ccaas.consent.gpc (Sec-GPC: 1). Default true.
	GPC *bool `mapstructure:"gpc"`
	// GPP honours the opt-outs of sale, sharing and targeted advertising of
	// every US section (usnat and the state sections) and their GPC
	// sub-sections, and the US Privacy section's opt-out of sale. Default
	// true.
	GPP *bool `mapstructure:"gpp"`
	// Purposes an opt-out denies for every processor (beyond blocking every
	// third party).
	Purposes []string `mapstructure:"purposes"`
	// OptInOverridesSignals: an opt-in recorded through the API (CCPA: the
	// consumer confirmed the business-specific setting, 11 CCR 7025(c)(3))
	// is not undone by the same opt-out signals that were already in force
	// when it was recorded (a browser that keeps sending Sec-GPC: 1). A
	// new kind of opt-out signal, or a new opt-out through the API, still
	// opts the subject out. Default true.
	OptInOverridesSignals *bool `mapstructure:"opt_in_overrides_signals"`
}

// Roles.
const (
	RoleProcessor       = "processor"
	RoleServiceProvider = "service_provider"
	// RoleContractor is the CCPA's contractor (Civ. Code 1798.140(j)):
	// like a service provider, it acts under a written contract that
	// forbids its own use; not a third party.
	RoleContractor = "contractor"
	RoleThirdParty = "third_party"
)

// Signal scopes.
const (
	ScopeInteraction = "interaction"
	ScopeSubject     = "subject"
)

// Withdrawal timing.
const (
	WithdrawalsAtForwarding = "at_forwarding"
	WithdrawalsAtEventTime  = "at_event_time"
)

// What an unknown GPP section does.
const (
	UnknownSectionsThirdParty = "third_party"
	UnknownSectionsQuarantine = "quarantine"
	UnknownSectionsRecord     = "record"
)

// Unknown-location rules.
const (
	UnknownAllParty = "all_party"
	UnknownOneParty = "one_party"
)

// DefaultTCFMinPolicyVersion is TCF v2.2's TcfPolicyVersion.
const DefaultTCFMinPolicyVersion = 4

// Default values (BRIEF.md "The consent decision").
var (
	DefaultAllParty          = []string{"US-CA", "US-FL", "US-IL", "US-MD", "US-MA", "US-MT", "US-NH", "US-PA", "US-WA"}
	DefaultAllPartyCalls     = []string{"US-CT", "US-DE", "US-MI", "US-NV", "US-OR"}
	DefaultCallChannels      = []string{"voice", "callback", "video"}
	DefaultRecordingPurposes = []string{PurposeRecording, PurposeTranscription}
	DefaultConsentEvents     = []string{"ccaas.consent.updated"}
	DefaultOptOutPurposes    = []string{"third_party_sharing", "marketing.advertising.third_party", "marketing.advertising.first_party.targeted", "marketing.advertising.profiling", "personalize.content.profiling"}
	DefaultGranted           = []string{"true", "yes", "y", "1", "granted", "accepted", "agree", "agreed", "opt_in", "opt-in", "optin", "consented"}
	// The default data uses of the GPP statements.
	DefaultGPPSale                = []string{"third_party_sharing"}
	DefaultGPPSharing             = []string{"third_party_sharing", "marketing.advertising.third_party"}
	DefaultGPPTargetedAdvertising = []string{"marketing.advertising.first_party.targeted", "marketing.advertising.third_party.targeted", "marketing.advertising.profiling"}
	DefaultGPPKnownChild          = []string{"third_party_sharing", "marketing.advertising"}
	DefaultGPPProcessing          = []string{"train_ai_system", "functional.service.improve", "third_party_sharing"}
	// DefaultGDPRJurisdictions: the EU member states, the other EEA states
	// and the United Kingdom (UK GDPR).
	DefaultGDPRJurisdictions = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE",
		"IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}
	DefaultDenied = []string{"false", "no", "n", "0", "denied", "declined", "refused", "opt_out", "opt-out", "optout", "revoked", "withdrawn"}
	// DefaultTCFPurposes maps the TCF v2.2 purposes to fideslang data uses.
	DefaultTCFPurposes = map[string][]string{
		"1":  {"functional.storage"},                                                                       // Store and/or access information on a device
		"2":  {"marketing.advertising.serving"},                                                            // Use limited data to select advertising
		"3":  {"marketing.advertising.profiling"},                                                          // Create profiles for personalised advertising
		"4":  {"marketing.advertising.first_party.targeted", "marketing.advertising.third_party.targeted"}, // Use profiles to select personalised advertising
		"5":  {"personalize.content.profiling"},                                                            // Create profiles to personalise content
		"6":  {"personalize.content.profiled"},                                                             // Use profiles to select personalised content
		"7":  {"analytics.reporting.ad_performance"},                                                       // Measure advertising performance
		"8":  {"analytics.reporting.content_performance"},                                                  // Measure content performance
		"9":  {"analytics.reporting.campaign_insights"},                                                    // Understand audiences through statistics or combinations of data
		"10": {"functional.service.improve"},                                                               // Develop and improve services
		"11": {"personalize.content.limited"},                                                              // Use limited data to select content
	}
)

// ApplyDefaults fills empty fields with their defaults. Compile calls it; the
// policy hash covers the result, so a change of a default changes the hash.
func (c *Config) ApplyDefaults() {
	j := &c.Jurisdiction
	if len(j.AllParty) == 0 {
		j.AllParty = append([]string(nil), DefaultAllParty...)
	}
	if len(j.AllPartyCalls) == 0 {
		j.AllPartyCalls = append([]string(nil), DefaultAllPartyCalls...)
	}
	if len(j.CallChannels) == 0 {
		j.CallChannels = append([]string(nil), DefaultCallChannels...)
	}
	if len(j.RecordingPurposes) == 0 {
		j.RecordingPurposes = append([]string(nil), DefaultRecordingPurposes...)
	}
	if j.UnknownLocation == "" {
		j.UnknownLocation = UnknownAllParty
	}
	if len(c.ConsentEvents) == 0 {
		c.ConsentEvents = append([]string(nil), DefaultConsentEvents...)
	}
	t := true
	if c.TCF.Enabled == nil {
		c.TCF.Enabled = &t
	}
	if len(c.TCF.Purposes) == 0 {
		c.TCF.Purposes = make(map[string][]string, len(DefaultTCFPurposes))
		for k, v := range DefaultTCFPurposes {
			c.TCF.Purposes[k] = append([]string(nil), v...)
		}
	}
	if c.OptOut.GPC == nil {
		c.OptOut.GPC = &t
	}
	if c.OptOut.GPP == nil {
		c.OptOut.GPP = &t
	}
	if c.OptOut.OptInOverridesSignals == nil {
		c.OptOut.OptInOverridesSignals = &t
	}
	if c.TCF.MinPolicyVersion == 0 {
		c.TCF.MinPolicyVersion = DefaultTCFMinPolicyVersion
	}
	g := &c.GPP.OptOuts
	for _, d := range []struct {
		dst *[]string
		def []string
	}{{&g.Sale, DefaultGPPSale}, {&g.Sharing, DefaultGPPSharing}, {&g.TargetedAdvertising, DefaultGPPTargetedAdvertising},
		{&g.KnownChild, DefaultGPPKnownChild}, {&g.Processing, DefaultGPPProcessing}, {&g.SensitiveData, nil}} {
		if len(*d.dst) == 0 {
			*d.dst = append([]string{}, d.def...)
		}
	}
	if c.GPP.UnknownSections == "" {
		c.GPP.UnknownSections = UnknownSectionsThirdParty
	}
	if c.Withdrawals == "" {
		c.Withdrawals = WithdrawalsAtForwarding
	}
	if len(c.GDPR.Jurisdictions) == 0 {
		c.GDPR.Jurisdictions = append([]string(nil), DefaultGDPRJurisdictions...)
	}
	if len(c.OptOut.Purposes) == 0 {
		c.OptOut.Purposes = append([]string(nil), DefaultOptOutPurposes...)
	}
	for i := range c.Tenants {
		tn := &c.Tenants[i]
		if tn.ConsentScope == "" && tn.Vendor != "" && tn.ID != "" {
			tn.ConsentScope = tn.Vendor + "/" + tn.ID
		}
	}
	for v, src := range c.ConsentSources {
		for name, s := range src.Signals {
			if s.Attribute == "" {
				s.Attribute = "ccaas.consent.signal." + name
			}
			if s.Scope == "" {
				s.Scope = ScopeInteraction
			}
			if len(s.Granted) == 0 {
				s.Granted = append([]string(nil), DefaultGranted...)
			}
			if len(s.Denied) == 0 {
				s.Denied = append([]string(nil), DefaultDenied...)
			}
			src.Signals[name] = s
		}
		c.ConsentSources[v] = src
	}
}
