package ccaas

// Agent status. Every vendor's agent presence or routing status change
// becomes one ccaas.agent.status_changed event (EventAgentStatusChanged)
// with these attributes; the records carry agent data and no customer.
const (
	AttrAgentStatus         = "ccaas.agent.status"          // the new status as the vendor names it, lower-cased (available, away, on queue, idle, offline, ...)
	AttrAgentPreviousStatus = "ccaas.agent.previous_status" // the status before the change, when the vendor says
	AttrAgentStatusType     = "ccaas.agent.status_type"     // presence (Genesys presence, Twilio activity, Talkdesk status) | routing (Genesys routing status)
)
