package genesysreceiver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/goldenlogs"
	"github.com/consentry/consentry/internal/subject"
)

var (
	recordsOf = goldenlogs.Records
	attrOf    = goldenlogs.Attr
)

func testNormalizer(t *testing.T) *normalizer {
	t.Helper()
	k, err := subject.NewKeyers([]byte(testSalt))
	require.NoError(t, err)
	return &normalizer{keyers: k, insecure: true, dataActions: testConfig().DataActions}
}

func TestTranscriptPerUtterance(t *testing.T) {
	n := testNormalizer(t)
	body := func(channels ...string) []byte {
		var ts []any
		for i, c := range channels {
			ts = append(ts, map[string]any{"utteranceId": "u" + string(rune('1'+i)), "isFinal": i == 0, "channel": c,
				"alternatives": []any{map[string]any{"transcript": "words of " + c}}})
		}
		b, _ := json.Marshal(map[string]any{"topicName": "v2.conversations.2d1c9f4e-8a7b-4c6d-9e0f-1a2b3c4d5e6f.transcription",
			"eventBody": map[string]any{"conversationId": "2d1c9f4e-8a7b-4c6d-9e0f-1a2b3c4d5e6f", "transcripts": ts}})
		return b
	}
	ld, err := n.notifications(body("EXTERNAL", "INTERNAL", "BOTH", "UNKNOWN"), testOrg, time.Now())
	require.NoError(t, err)
	recs := recordsOf(ld)
	require.Len(t, recs, 4)
	ids := map[string]bool{}
	for i, want := range []string{"external", "internal", "both", "unknown"} {
		lr := recs[i]
		assert.Equal(t, want, attrOf(lr, ccaas.AttrTranscriptChannel))
		assert.Equal(t, i == 0, attrOf(lr, ccaas.AttrTranscriptFinal) == "true")
		ids[attrOf(lr, ccaas.AttrEventID)] = true
		// The body holds this utterance only: the customer's words never
		// travel under the agent's record, nor the other way round.
		eb, _ := lr.Body().Map().Get("eventBody")
		ts, _ := eb.Map().Get("transcripts")
		require.Equal(t, 1, ts.Slice().Len())
		raw, _ := json.Marshal(lr.Body().Map().AsRaw())
		for _, other := range []string{"EXTERNAL", "INTERNAL", "BOTH", "UNKNOWN"} {
			if !strings.EqualFold(other, want) {
				assert.NotContains(t, string(raw), "words of "+other)
			}
		}
	}
	assert.Len(t, ids, 4, "each utterance has its own event id")

	// One utterance: one record, the event's own id.
	ld, err = n.notifications(body("EXTERNAL"), testOrg, time.Now())
	require.NoError(t, err)
	require.Len(t, recordsOf(ld), 1)
	assert.NotContains(t, attrOf(recordsOf(ld)[0], ccaas.AttrEventID), ":u1")
}

func TestConcreteDetailType(t *testing.T) {
	n := testNormalizer(t)
	ev := `{"id":"e1","detail-type":"v2.detail.events.conversation.2d1c9f4e-8a7b-4c6d-9e0f-1a2b3c4d5e6f.user.start",
		"source":"aws.partner/genesys.com/cloud/` + testOrg + `/x",
		"detail":{"topicName":"v2.detail.events.conversation.2d1c9f4e-8a7b-4c6d-9e0f-1a2b3c4d5e6f.user.start",
		"eventBody":{"conversationId":"2d1c9f4e-8a7b-4c6d-9e0f-1a2b3c4d5e6f","userId":"5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b","eventTime":1741107731123}}}`
	ld, err := n.eventBridge([]byte(ev), testOrg, time.Now())
	require.NoError(t, err)
	lr := recordsOf(ld)[0]
	assert.Equal(t, ccaas.EventAgentSegmentStarted, lr.EventName())
	assert.Equal(t, "v2.detail.events.conversation.{id}.user.start", attrOf(lr, ccaas.AttrEventType))
	assert.Equal(t, "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", attrOf(lr, ccaas.AttrAgentID))
}

func TestAgentStatusTopics(t *testing.T) {
	n := testNormalizer(t)
	user := "278522be-1683-4877-8257-4164a177be89"
	for _, tc := range []struct {
		topic, body       string
		name, status, typ string
	}{
		{"v2.users." + user + ".presence", `{"presenceDefinition":{"systemPresence":"On Queue"}}`, ccaas.EventAgentStatusChanged, "on queue", "presence"},
		{"v2.users." + user + ".routingStatus", `{"routingStatus":{"status":"INTERACTING"}}`, ccaas.EventAgentStatusChanged, "interacting", "routing"},
		{"v2.users." + user + ".activity", `{"id":"` + user + `","routingStatus":{"status":"IDLE"}}`, ccaas.EventAgentStatusChanged, "idle", "routing"},
		{"v2.audits.entitytype.UserPresence.entityid." + user, `{"userId":"` + user + `","entityType":"UserPresence","propertyChanges":[{"property":"OTHER","newValues":["x"]},{"property":"PRESENCE","oldValues":["Available"],"newValues":["Away"]}]}`,
			ccaas.EventAgentStatusChanged, "away", "presence"},
		{"v2.audits.entitytype.Queue.entityid." + user, `{"entityType":"Queue","propertyChanges":[{"property":"name","newValues":["x"]}]}`, ccaas.EventVendor, "", ""},
	} {
		t.Run(tc.topic, func(t *testing.T) {
			ld, err := n.notifications([]byte(`{"topicName":"`+tc.topic+`","eventBody":`+tc.body+`}`), testOrg, time.Now())
			require.NoError(t, err)
			lr := recordsOf(ld)[0]
			assert.Equal(t, tc.name, lr.EventName())
			assert.Equal(t, tc.status, attrOf(lr, ccaas.AttrAgentStatus))
			assert.Equal(t, tc.typ, attrOf(lr, ccaas.AttrAgentStatusType))
			if tc.name == ccaas.EventAgentStatusChanged {
				assert.Equal(t, user, attrOf(lr, ccaas.AttrAgentID), "the user in the topic is the agent")
			}
			assert.Empty(t, attrOf(lr, ccaas.AttrSubjectKey), "agent status names no customer")
		})
	}
}

func TestDataActions(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	body := fixture(t, "dataaction_acw_toplevel.json")

	resp, out := h.post("/genesys/dataactions/unknown", body, apiKey(testAPIKey))
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, out)
	resp, _ = h.post("/genesys/dataactions/acw", body, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// A body that is not an envelope on /notifications: the default mapping.
	resp, out = h.post(PathNotifications, body, apiKey(testAPIKey))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	lr := recordsOf(h.sink.AllLogs()[len(h.sink.AllLogs())-1])[0]
	assert.Equal(t, ccaas.EventInteractionWrapup, lr.EventName())
	assert.Equal(t, "2d1c9f4e-8a7b-4c6d-9e0f-1a2b3c4d5e6f", attrOf(lr, ccaas.AttrInteractionID))
	assert.Equal(t, "voice", attrOf(lr, ccaas.AttrChannel))
	assert.Equal(t, "phone", attrOf(lr, ccaas.AttrSubjectIDType))

	// Without a default mapping it is still a 400, with a hint.
	cfg := testConfig()
	delete(cfg.DataActions, "default")
	h2 := startReceiver(t, cfg, new(consumertest.LogsSink))
	resp, out = h2.post(PathNotifications, body, apiKey(testAPIKey))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, out, "data_actions.default")

	// A mapped organization must be the credential's.
	cfg = testConfig()
	m := cfg.DataActions["acw"]
	m.OrganizationID = "divisionId"
	cfg.DataActions["acw"] = m
	h3 := startReceiver(t, cfg, new(consumertest.LogsSink))
	resp, _ = h3.post("/genesys/dataactions/acw", body, apiKey(testAPIKey))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestOpenMessagingConversation(t *testing.T) {
	n := testNormalizer(t)
	ld, err := n.openMessaging(fixture(t, "openmessaging_outbound_conversation.json"), testOrg, time.Now())
	require.NoError(t, err)
	lr := recordsOf(ld)[0]
	assert.Equal(t, "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d", attrOf(lr, ccaas.AttrInteractionID))
	assert.Equal(t, ccaas.EventMessageSent, lr.EventName())
}
