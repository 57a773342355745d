package policy

import (
	"sort"
	"strings"
)

// DataUses is the fideslang data-use vocabulary (ethyca/fideslang
// data_files/data_uses.csv, fideslang 2.x, CC BY 4.0), which policies use for
// purposes. A purpose covers its descendants: consent to "analytics" is
// consent to "analytics.reporting.system".
var DataUses = []string{
	"analytics",
	"analytics.reporting",
	"analytics.reporting.ad_performance",
	"analytics.reporting.campaign_insights",
	"analytics.reporting.content_performance",
	"analytics.reporting.system",
	"analytics.reporting.system.performance",
	"collect",
	"employment",
	"employment.recruitment",
	"essential",
	"essential.fraud_detection",
	"essential.legal_obligation",
	"essential.service",
	"essential.service.authentication",
	"essential.service.notifications",
	"essential.service.notifications.email",
	"essential.service.notifications.sms",
	"essential.service.operations",
	"essential.service.operations.improve",
	"essential.service.operations.support",
	"essential.service.payment_processing",
	"essential.service.security",
	"essential.service.upgrades",
	"finance",
	"functional",
	"functional.service",
	"functional.service.improve",
	"functional.storage",
	"functional.storage.privacy_preferences",
	"marketing",
	"marketing.advertising",
	"marketing.advertising.first_party",
	"marketing.advertising.first_party.contextual",
	"marketing.advertising.first_party.targeted",
	"marketing.advertising.frequency_capping",
	"marketing.advertising.negative_targeting",
	"marketing.advertising.profiling",
	"marketing.advertising.serving",
	"marketing.advertising.third_party",
	"marketing.advertising.third_party.targeted",
	"marketing.communications",
	"marketing.communications.email",
	"marketing.communications.sms",
	"operations",
	"personalize",
	"personalize.content",
	"personalize.content.limited",
	"personalize.content.profiled",
	"personalize.content.profiling",
	"personalize.profiling", // deprecated in fideslang 2.1.1 (replaced by personalize.content.profiling); accepted
	"personalize.system",
	"sales",
	"third_party_sharing",
	"third_party_sharing.legal_obligation",
	"train_ai_system",
}

// Consentry's own data uses, extending fideslang the way fideslang allows
// (children of an existing use). Recording and real-time interception of a
// communication have no fideslang data use; the jurisdiction rules need to
// name them.
const (
	// PurposeRecording: record the content of a call, chat or message
	// (audio, screen or text) for later use.
	PurposeRecording = "collect.recording"
	// PurposeTranscription: read the content of a communication while it is
	// in transit: real-time transcription, speech and sentiment analytics,
	// agent assist.
	PurposeTranscription = "collect.transcription"
)

// ExtensionDataUses are Consentry's data uses beyond fideslang.
var ExtensionDataUses = []string{PurposeRecording, PurposeTranscription}

// Secondary uses a processor's terms may allow, and the data use each one
// adds to the events the processor touches.
const (
	SecondaryTrainAI                = "train_ai_system"
	SecondaryProductImprovement     = "product_improvement"
	SecondaryCrossCustomerProfiling = "cross_customer_profiling"
	SecondaryAdvertising            = "advertising"
)

// SecondaryUsePurposes maps each secondary use to the data use it adds.
var SecondaryUsePurposes = map[string]string{
	SecondaryTrainAI:                "train_ai_system",
	SecondaryProductImprovement:     "functional.service.improve",
	SecondaryCrossCustomerProfiling: "third_party_sharing",
	SecondaryAdvertising:            "marketing.advertising.third_party",
}

var builtinUses = func() map[string]bool {
	m := make(map[string]bool, len(DataUses)+len(ExtensionDataUses))
	for _, u := range DataUses {
		m[u] = true
	}
	for _, u := range ExtensionDataUses {
		m[u] = true
	}
	return m
}()

// covers reports whether granting (or denying) purpose a applies to
// purpose b: a is b or one of its ancestors.
func covers(a, b string) bool {
	return a == b || len(b) > len(a) && b[len(a)] == '.' && strings.HasPrefix(b, a)
}

// parentUse is the closest ancestor of u ("" for a top-level use).
func parentUse(u string) string {
	if i := strings.LastIndexByte(u, '.'); i > 0 {
		return u[:i]
	}
	return ""
}

// suggest returns the known name closest to s, or "" if none is close.
func suggest(s string, known []string) string {
	if len(s) > 100 {
		return ""
	}
	best, bestD := "", len(s)/3+2
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
