package talkdeskreceiver

import (
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/subject"
)

// Routes names the routes DecodeEvents understands: "webhook/<trigger>"
// (for example "webhook/inboundCallEnds") and "events".
var Routes = []string{routeWebhook + "/<trigger>", routeEvents}

// DecodeEvents turns a Talkdesk webhook body into the records the receiver
// would produce for it, without authenticating it: tools such as
// `consentry policy explain` use it to show what an event becomes. route is
// "webhook/<trigger>" or "events"; tenant is the account the event is
// attributed to ("" takes it from the event); salt keys the subject hash;
// consentFields maps payload fields to consent signal names.
func DecodeEvents(route string, body []byte, tenant string, salt []byte, consentFields map[string]string) (plog.Logs, error) {
	keyers, err := subject.NewKeyers(salt)
	if err != nil {
		return plog.Logs{}, err
	}
	n := &normalizer{keyers: keyers, consent: consentFields}
	now := time.Now()
	if trigger, ok := strings.CutPrefix(route, routeWebhook+"/"); ok && trigger != "" {
		return n.webhook(trigger, body, account{id: tenant}, now)
	}
	if route == routeEvents {
		return n.events(body, now)
	}
	return plog.Logs{}, fmt.Errorf("unknown talkdesk route %q (want one of %v)", route, Routes)
}
