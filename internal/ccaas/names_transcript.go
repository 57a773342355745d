package ccaas

// Transcript utterances. A vendor event that carries several utterances
// (Genesys sends one per channel in one event) becomes one
// ccaas.transcript.segment record per utterance, so that each record says
// whose speech it holds.
const (
	AttrTranscriptUtteranceID = "ccaas.transcript.utterance_id" // the vendor's utterance id, or its sequence number
)
