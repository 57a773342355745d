package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/consentry/consentry/internal/ccaas"
)

var (
	idPattern           = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	jurisdictionPattern = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)
	usePattern          = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*$`)
	signalNamePattern   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// KnownVendors are the ccaas.vendor values Consentry's receivers write.
var KnownVendors = []string{ccaas.VendorGenesys, ccaas.VendorSegment, ccaas.VendorTalkdesk, ccaas.VendorTwilio}

// KnownEvents are the normalised event names the receivers write.
var KnownEvents = []string{
	ccaas.EventInteractionStarted, ccaas.EventInteractionEnded, ccaas.EventInteractionSnapshot,
	ccaas.EventInteractionAttributes, ccaas.EventInteractionWrapup, ccaas.EventAgentSegmentStarted,
	ccaas.EventAgentSegmentEnded, ccaas.EventQueueEntered, ccaas.EventQueueExited, ccaas.EventFlowStarted,
	ccaas.EventFlowEnded, ccaas.EventFlowOutcome, ccaas.EventVoicemailStarted, ccaas.EventVoicemailEnded,
	ccaas.EventOutboundInitiated, ccaas.EventContactUpdated, ccaas.EventRecordingAvailable,
	ccaas.EventRecordingUpdated, ccaas.EventTranscriptSegment, ccaas.EventAnalyticsSentiment,
	ccaas.EventAnalyticsInsight, ccaas.EventMessageReceived, ccaas.EventMessageSent, ccaas.EventMessageReceipt,
	ccaas.EventTaskCreated, ccaas.EventAnalyticsTrack, ccaas.EventConsentUpdated, ccaas.EventErasureRequested,
	ccaas.EventVendor, ccaas.EventAgentLoggedIn, ccaas.EventAgentLoggedOut, ccaas.EventAgentStatusChanged,
	ccaas.EventParticipantJoined, ccaas.EventParticipantLeft, ccaas.EventParticipantUpdated,
}

// validator collects errors and warnings with their paths, up to
// maxProblems of each.
type validator struct {
	errs, warns         []string
	moreErrs, moreWarns int
}

const maxProblems = 100

func (v *validator) full() bool { return len(v.errs) >= maxProblems }

func (v *validator) errf(path, format string, args ...any) {
	if v.full() {
		v.moreErrs++
		return
	}
	v.errs = append(v.errs, path+": "+fmt.Sprintf(format, args...))
}

func (v *validator) warnf(path, format string, args ...any) {
	if len(v.warns) >= maxProblems {
		v.moreWarns++
		return
	}
	v.warns = append(v.warns, path+": "+fmt.Sprintf(format, args...))
}

// ValidationError lists every problem found in a policy.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid consent policy: " + e.Problems[0]
	}
	return fmt.Sprintf("invalid consent policy (%d problems):\n  - %s", len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

func (p *Policy) compileUses(v *validator) {
	for u := range builtinUses {
		p.uses[u] = true
	}
	defer func() { p.useList = sortedKeys(p.uses) }()
	for i, u := range p.cfg.CustomPurposes {
		path := fmt.Sprintf("custom_purposes[%d]", i)
		switch {
		case !usePattern.MatchString(u):
			v.errf(path, "%q is not a data use (lower-case words joined by dots)", u)
		case builtinUses[u]:
			v.warnf(path, "%q is already a known data use", u)
		case parentUse(u) == "" || !builtinUses[parentUse(u)] && !slices.Contains(p.cfg.CustomPurposes, parentUse(u)):
			v.errf(path, "%q must extend a known data use (its parent %q is unknown)", u, parentUse(u))
		default:
			p.uses[u] = true
		}
	}
}

// checkUses validates a list of data uses.
func (p *Policy) checkUses(v *validator, path string, uses []string) {
	for i, u := range uses {
		if p.uses[u] {
			continue
		}
		if v.full() {
			v.moreErrs++
			continue
		}
		msg := fmt.Sprintf("unknown data use %q", u)
		if s := suggest(u, p.useList); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		msg += "; use the fideslang vocabulary or declare it in custom_purposes"
		v.errf(fmt.Sprintf("%s[%d]", path, i), "%s", msg)
	}
}

func checkEventPattern(v *validator, path, pat string) {
	switch {
	case pat == "":
		v.errf(path, "empty event name")
	case pat == "*":
	case strings.Count(pat, "*") > 1 || strings.Contains(pat, "*") && !strings.HasSuffix(pat, ".*"):
		v.errf(path, "%q: a pattern is an event name, a prefix ending in \".*\", or \"*\"", pat)
	case strings.HasSuffix(pat, ".*"):
		prefix := strings.TrimSuffix(pat, "*")
		for _, e := range KnownEvents {
			if strings.HasPrefix(e, prefix) {
				return
			}
		}
		v.warnf(path, "%q matches no event name the receivers write", pat)
	case !slices.Contains(KnownEvents, pat):
		if len(v.warns) >= maxProblems {
			v.moreWarns++
			return
		}
		msg := fmt.Sprintf("%q is not an event name the receivers write", pat)
		if s := suggest(pat, KnownEvents); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		v.warnf(path, "%s", msg)
	}
}

func checkVendor(v *validator, path, vendor string) {
	switch {
	case vendor == "":
		v.errf(path, "vendor must be set")
	case !slices.Contains(KnownVendors, vendor):
		if v.full() {
			v.moreErrs++
			return
		}
		msg := fmt.Sprintf("%q is not a vendor Consentry receives from (%s)", vendor, strings.Join(KnownVendors, ", "))
		if s := suggest(vendor, KnownVendors); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
			v.errf(path, "%s", msg)
			return
		}
		v.warnf(path, "%s", msg)
	}
}
