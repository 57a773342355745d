package ccaas

// Agent presence events. Talkdesk sends them (HTTP Notifier and Webhook
// Trigger "agent logs in / out", "agent status changes", Events API
// user.logout); they carry agent data, no customer.
const (
	EventAgentLoggedIn      = "ccaas.agent.logged_in"
	EventAgentLoggedOut     = "ccaas.agent.logged_out"
	EventAgentStatusChanged = "ccaas.agent.status_changed"
)
