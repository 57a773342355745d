package genesysreceiver

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/subject"
)

// Routes names the routes DecodeEvents understands.
var Routes = []string{routeEventBridge, routeNotifications, routeOpenMessaging}

// DecodeEvents turns a Genesys webhook body into the records the receiver
// would produce for it, without authenticating it: tools such as
// `consentry policy explain` use it to show what an event becomes. route is
// one of Routes; tenant is the organization the event is attributed to
// ("" takes it from the event); salt keys the subject hash.
func DecodeEvents(route string, body []byte, tenant string, salt []byte, consentAttributes map[string]string) (plog.Logs, error) {
	keyers, err := subject.NewKeyers(salt)
	if err != nil {
		return plog.Logs{}, err
	}
	n := &normalizer{keyers: keyers, insecure: true, consentAttrs: consentAttributes}
	now := time.Now()
	switch route {
	case routeEventBridge:
		return n.eventBridge(body, tenant, now)
	case routeNotifications:
		return n.notifications(body, tenant, now)
	case routeOpenMessaging:
		return n.openMessaging(body, tenant, now)
	default:
		return plog.Logs{}, fmt.Errorf("unknown genesys route %q (want one of %v)", route, Routes)
	}
}
