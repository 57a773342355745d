package twilioreceiver

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/internal/webhook"
)

// Routes names the routes DecodeEvents understands.
var Routes = []string{routeEventStreams, routeVoiceStatus, routeVoiceRecording, routeTaskRouter, routeConversations,
	routeMessaging, routeMessageStatus, routeConference, routeTranscription, routeIntelligence}

// DecodeEvents turns a Twilio webhook body into the records the receiver
// would produce for it, without authenticating it: tools such as
// `consentry policy explain` use it to show what an event becomes. route is
// one of Routes (eventstreams takes the JSON array of CloudEvents and
// intelligence a JSON object, the others a form-encoded body); tenant is the account the events are
// attributed to ("" takes it from the events); salt keys the subject hash;
// consentAttributes maps TaskAttributes paths to consent signal names.
func DecodeEvents(route string, body []byte, tenant string, salt []byte, consentAttributes map[string]string) (plog.Logs, error) {
	k, err := subject.NewKeyers(salt)
	if err != nil {
		return plog.Logs{}, err
	}
	cfg := createDefaultConfig().(*Config)
	cfg.InsecureAllowUnauthenticated, cfg.ConsentAttributes = true, consentAttributes
	n := newNormalizer(cfg, "", k)
	var cred *account
	if tenant != "" {
		cred = &account{sid: tenant, members: map[string]bool{tenant: true}}
	}
	now := time.Now()
	switch route {
	case routeEventStreams:
		return n.eventStreams(body, cred, now)
	case routeIntelligence:
		return n.intelligence(body, cred, now)
	case routeVoiceStatus, routeVoiceRecording, routeTaskRouter, routeConversations,
		routeMessaging, routeMessageStatus, routeConference, routeTranscription:
		f, err := parseForm(body)
		if err != nil {
			return plog.Logs{}, webhook.Malformed("%v", err)
		}
		return n.callback(route, f, cred, now)
	default:
		return plog.Logs{}, fmt.Errorf("unknown twilio route %q (want one of %v)", route, Routes)
	}
}
