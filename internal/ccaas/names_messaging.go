package ccaas

// Messaging keywords. Carriers and Twilio Advanced Opt-Out treat a message
// whose whole body is an opt-out, opt-in or help keyword (STOP, START,
// HELP, ...) as a statement about the subscription, not as conversation.
const (
	AttrMessageKeyword = "ccaas.message.keyword" // opt_out | opt_in | help
)

// Values of ccaas.message.keyword, also the values of the consent signal a
// receiver writes for an opt-out or opt-in keyword.
const (
	KeywordOptOut = "opt_out"
	KeywordOptIn  = "opt_in"
	KeywordHelp   = "help"
)
