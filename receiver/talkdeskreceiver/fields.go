package talkdeskreceiver

import (
	"fmt"
	"strings"

	"github.com/consentry/consentry/internal/ccaas"
)

// FieldsConfig names the payload fields the receiver reads, best first.
// Talkdesk's notifier payloads are templates each account writes, and real
// deliveries spell the same data differently (contact_phone_number in the
// Webhook Trigger API, customer_phone_number and type "in" in Talkdesk's
// own call events, record for the recording link), so every name is a list
// that can be replaced. A name may be a dotted path into nested objects
// (contact.email). A list set in the configuration replaces its default;
// an empty list turns the field off.
type FieldsConfig struct {
	// CustomerPhone, CustomerEmail and CustomerID hold the customer's
	// identifiers; the first usable one, phones first, then e-mail
	// addresses, then ids, is the subject.
	CustomerPhone []string `mapstructure:"customer_phone"`
	CustomerEmail []string `mapstructure:"customer_email"`
	CustomerID    []string `mapstructure:"customer_id"`
	// CustomerAddress holds the contact's free-text address; a US state
	// before a ZIP code ("..., CA 94105") becomes a location hint.
	CustomerAddress []string `mapstructure:"customer_address"`
	// BusinessPhone holds the business line the call ran over (the number
	// the customer called, or called from): ccaas.business.number, and its
	// area code a location hint.
	BusinessPhone []string `mapstructure:"business_phone"`
	// Direction holds inbound/outbound (also in/out, incoming/outgoing).
	Direction []string `mapstructure:"direction"`
	// RecordingURL holds a link to the call's recording: any event that has
	// one gets a second record, ccaas.recording.available, with the link.
	RecordingURL []string `mapstructure:"recording_url"`
	// InteractionID and AgentID hold the call (or conversation) and the
	// agent.
	InteractionID []string `mapstructure:"interaction_id"`
	AgentID       []string `mapstructure:"agent_id"`
	// AgentStatus and PreviousAgentStatus hold an agent's new and former
	// status on agent status events.
	AgentStatus         []string `mapstructure:"agent_status"`
	PreviousAgentStatus []string `mapstructure:"previous_agent_status"`
	// Event names the trigger in the payload; it is read when the URL's
	// trigger name is not one the receiver knows (legacy call events carry
	// "event": "call_finished").
	Event []string `mapstructure:"event"`
	// MessageAuthor says who wrote a Digital Connect message: the contact
	// (contact, customer, visitor, inbound, ...) or the business (agent,
	// bot, system, outbound, ...).
	MessageAuthor []string `mapstructure:"message_author"`
}

func defaultFields() FieldsConfig {
	return FieldsConfig{
		CustomerPhone:       []string{"contact_phone_number", "customer_phone_number", "contact_phone", "contact.phone_number", "contact.phone"},
		CustomerEmail:       []string{"contact_email", "customer_email", "contact.email"},
		CustomerID:          []string{"contact_id", "customer_id", "contact.id"},
		CustomerAddress:     []string{"contact_address", "contact.address"},
		BusinessPhone:       []string{"talkdesk_phone_number", "business_phone_number"},
		Direction:           []string{"direction", "type", "call_type"},
		RecordingURL:        []string{"recording_url", "record", "recording", "recording_link"},
		InteractionID:       []string{"call_id", "interaction_id", "conversation_id"},
		AgentID:             []string{"agent_id", "user_id"},
		AgentStatus:         []string{"status", "agent_status", "current_status", "new_status"},
		PreviousAgentStatus: []string{"previous_status", "old_status", "previous_agent_status"},
		Event:               []string{"event", "event_name"},
		MessageAuthor:       []string{"author_type", "author.type", "sender_type", "sender.type", "participant_type", "direction"},
	}
}

// validate checks that every configured name can be looked up.
func (c FieldsConfig) validate() []error {
	var errs []error
	for key, names := range c.lists() {
		for i, name := range names {
			if strings.TrimSpace(name) == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
				errs = append(errs, fmt.Errorf("fields.%s[%d]: %q is not a field name or dotted path", key, i, name))
			}
		}
	}
	return errs
}

func (c FieldsConfig) lists() map[string][]string {
	return map[string][]string{
		"customer_phone": c.CustomerPhone, "customer_email": c.CustomerEmail, "customer_id": c.CustomerID,
		"direction": c.Direction, "recording_url": c.RecordingURL, "interaction_id": c.InteractionID,
		"agent_id": c.AgentID, "agent_status": c.AgentStatus, "previous_agent_status": c.PreviousAgentStatus,
		"event": c.Event, "message_author": c.MessageAuthor,
	}
}

// direction reads an inbound/outbound value in any of Talkdesk's spellings;
// "" for anything else (an Events API envelope's type, a call type).
func direction(v string) string {
	switch ccaas.Lower(v) {
	case "inbound", "in", "incoming":
		return "inbound"
	case "outbound", "out", "outgoing":
		return "outbound"
	}
	return ""
}

// isLink reports whether a field value is a link (a recording URL), as
// opposed to a flag or a placeholder some templates put in the same field.
func isLink(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "s3://")
}
