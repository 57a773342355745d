package talkdeskreceiver

import (
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/webhook"
)

// Routes names the routes the decoder understands: "webhook/<trigger>"
// (for example "webhook/inboundCallEnds"), "events" and "digital_connect".
var Routes = []string{routeWebhook + "/<trigger>", routeEvents, routeDigitalConnect}

// NewDecoder returns the decoder of a talkdesk receiver configured by cfg
// (a *Config): it makes of a body, without authenticating it, the records
// the receiver would. A webhook attributed to a configured account is
// checked against its account name, as the receiver does; an account the
// configuration does not list is keyed with subject_salt.
func NewDecoder(cfg component.Config) (webhook.Decoder, error) {
	c := cfg.(*Config)
	n, err := newNormalizer(c, "")
	if err != nil {
		return nil, err
	}
	return decoder{n: n, accounts: c.accounts()}, nil
}

type decoder struct {
	n        *normalizer
	accounts map[string]account
}

func (decoder) Routes() []string { return Routes }

func (d decoder) Decode(route string, body []byte, tenant string) (plog.Logs, error) {
	now := time.Now()
	acct, ok := d.accounts[tenant]
	if !ok {
		acct = account{id: tenant}
	}
	if trigger, ok := strings.CutPrefix(route, routeWebhook+"/"); ok && trigger != "" {
		return d.n.webhook(trigger, body, acct, now)
	}
	switch route {
	case routeEvents:
		return d.n.events(body, now)
	case routeDigitalConnect:
		return d.n.digitalConnect(body, acct, now)
	}
	return plog.Logs{}, fmt.Errorf("unknown talkdesk route %q (want one of %v)", route, Routes)
}
