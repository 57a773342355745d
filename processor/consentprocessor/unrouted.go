package consentprocessor

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.uber.org/zap"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentroute"
)

// Values of unrouted: what the processor does with a record it decided to
// quarantine (any record whose consent.decision is not a valid "forward",
// as the router reads it) when no consent_router follows it.
const (
	// UnroutedDropBody passes the record on with an empty body and only
	// its consent.* tags and the event's non-personal descriptors
	// (unroutedKept), marked consent.unrouted: drop_body. The default.
	UnroutedDropBody = "drop_body"
	// UnroutedDrop removes the record; the processor's records metric
	// still counts it.
	UnroutedDrop = "drop"
	// UnroutedPass passes the record on whole, as if a router followed.
	// Only when chosen explicitly; logged as a warning at start.
	UnroutedPass = "pass"
)

// unroutedKept are the record attributes, besides consent.*, that
// drop_body keeps: they say what kind of event was withheld, not whose.
var unroutedKept = map[string]bool{
	ccaas.AttrEventID:    true,
	ccaas.AttrEventType:  true,
	ccaas.AttrEventRoute: true,
	ccaas.AttrChannel:    true,
	ccaas.AttrDirection:  true,
}

func validateUnrouted(v string) error {
	switch v {
	case UnroutedDropBody, UnroutedDrop, UnroutedPass:
		return nil
	}
	return fmt.Errorf("unrouted must be %q, %q or %q, got %q", UnroutedDropBody, UnroutedDrop, UnroutedPass, v)
}

// checkRouted decides, at Start, whether a consent_router follows: the
// collector starts downstream components first, so a router of this
// collector has registered by now (docs/design/unrouted.md).
func (p *consentProcessor) checkRouted(host component.Host) {
	routers := consentroute.Routers(host)
	p.unrouted = len(routers) == 0
	switch {
	case !p.unrouted:
	case p.cfg.Unrouted == UnroutedPass:
		p.set.Logger.Warn("No consent_router follows this consent processor and unrouted is pass: records it decides to quarantine are passed on whole, to every exporter of its pipeline")
	default:
		p.set.Logger.Warn("No consent_router follows this consent processor: records it decides to quarantine are withheld from what follows",
			zap.String("unrouted", p.cfg.Unrouted))
	}
}

// handleUnrouted applies cfg.Unrouted to the quarantined records of ld.
func (p *consentProcessor) handleUnrouted(ld plog.Logs) (plog.Logs, error) {
	switch p.cfg.Unrouted {
	case UnroutedPass:
		return ld, nil
	case UnroutedDrop:
		ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
			rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
				sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool { return quarantined(lr) })
				return sl.LogRecords().Len() == 0
			})
			return rl.ScopeLogs().Len() == 0
		})
		if ld.ResourceLogs().Len() == 0 {
			return ld, processorhelper.ErrSkipProcessingData
		}
		return ld, nil
	}
	// drop_body, the default, and anything unexpected.
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if quarantined(lr) {
					dropBody(lr)
				}
			}
		}
	}
	return ld, nil
}

func quarantined(lr plog.LogRecord) bool {
	d, valid := ccaas.Decision(lr.Attributes())
	return !valid || d != ccaas.DecisionForward
}

// dropBody keeps of lr only what says that an event was withheld and why.
func dropBody(lr plog.LogRecord) {
	lr.Body().FromRaw(nil) //nolint:errcheck // nil never fails
	lr.Attributes().RemoveIf(func(k string, _ pcommon.Value) bool {
		return !strings.HasPrefix(k, "consent.") && !unroutedKept[k]
	})
	lr.Attributes().PutStr(ccaas.AttrConsentUnrouted, UnroutedDropBody)
}
