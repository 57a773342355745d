package genesysreceiver

import (
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/webhook"
)

// Routes names the routes the decoder understands: "dataactions/<name>"
// reads a data action's body with the data_actions mapping <name>.
var Routes = []string{routeEventBridge, routeNotifications, routeOpenMessaging, routeDataActions + "/<name>"}

// NewDecoder returns the decoder of a genesys receiver configured by cfg
// (a *Config): it makes of a webhook body, without authenticating it, the
// records the receiver would. An event of an organization the
// configuration does not list is keyed with subject_salt, as in insecure
// mode.
func NewDecoder(cfg component.Config) (webhook.Decoder, error) {
	c := *cfg.(*Config)
	c.InsecureAllowUnauthenticated = true
	n, err := newNormalizer(&c, "")
	if err != nil {
		return nil, err
	}
	return decoder{n}, nil
}

type decoder struct{ n *normalizer }

func (decoder) Routes() []string { return Routes }

func (d decoder) Decode(route string, body []byte, tenant string) (plog.Logs, error) {
	now := time.Now()
	if action, ok := strings.CutPrefix(route, routeDataActions+"/"); ok && action != "" {
		return d.n.dataAction(action, body, tenant, now)
	}
	switch route {
	case routeEventBridge:
		return d.n.eventBridge(body, tenant, now)
	case routeNotifications:
		return d.n.notifications(body, tenant, now)
	case routeOpenMessaging:
		return d.n.openMessaging(body, tenant, now)
	default:
		return plog.Logs{}, fmt.Errorf("unknown genesys route %q (want one of %v)", route, Routes)
	}
}
