package twilioreceiver

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/webhook"
)

// Routes names the routes the decoder understands.
var Routes = []string{routeEventStreams, routeVoiceStatus, routeVoiceRecording, routeTaskRouter, routeConversations,
	routeMessaging, routeMessageStatus, routeConference, routeTranscription, routeIntelligence}

// NewDecoder returns the decoder of a twilio receiver configured by cfg (a
// *Config): it makes of a webhook body, without verifying its signature,
// the records the receiver would. eventstreams takes the JSON array of
// CloudEvents and intelligence a JSON object, the other routes a
// form-encoded body. An event of an account the configuration does not
// list is keyed with subject_salt, as in insecure mode.
func NewDecoder(cfg component.Config) (webhook.Decoder, error) {
	c := *cfg.(*Config)
	c.InsecureAllowUnauthenticated = true
	n, err := newNormalizer(&c, "")
	if err != nil {
		return nil, err
	}
	d := decoder{n: n, subaccounts: map[string][]string{}}
	for _, t := range c.Tenants {
		d.subaccounts[t.AccountSID] = t.SubaccountSIDs
	}
	return d, nil
}

type decoder struct {
	n           *normalizer
	subaccounts map[string][]string // by account SID
}

func (decoder) Routes() []string { return Routes }

func (d decoder) Decode(route string, body []byte, tenant string) (plog.Logs, error) {
	var cred *account
	if tenant != "" {
		cred = &account{sid: tenant, members: map[string]bool{tenant: true}}
		for _, sub := range d.subaccounts[tenant] {
			cred.members[sub] = true
		}
	}
	now := time.Now()
	switch route {
	case routeEventStreams:
		return d.n.eventStreams(body, cred, now)
	case routeIntelligence:
		return d.n.intelligence(body, cred, now)
	case routeVoiceStatus, routeVoiceRecording, routeTaskRouter, routeConversations,
		routeMessaging, routeMessageStatus, routeConference, routeTranscription:
		f, err := parseForm(body)
		if err != nil {
			return plog.Logs{}, webhook.Malformed("%v", err)
		}
		return d.n.callback(route, f, cred, now)
	default:
		return plog.Logs{}, fmt.Errorf("unknown twilio route %q (want one of %v)", route, Routes)
	}
}
