package ccaas

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestPutConsentSignal(t *testing.T) {
	attrs := pcommon.NewMap()
	for name, v := range map[string]any{"s": "yes", "b": true, "n": json.Number("1")} {
		if !PutConsentSignal(attrs, name, v) {
			t.Fatalf("%s not written", name)
		}
	}
	for name, v := range map[string]any{"obj": map[string]any{}, "arr": []any{}, "nil": nil} {
		if PutConsentSignal(attrs, name, v) {
			t.Fatalf("%s is not a signal", name)
		}
	}
	want := map[string]any{"ccaas.consent.signal.s": "yes", "ccaas.consent.signal.b": "true", "ccaas.consent.signal.n": "1"}
	got := attrs.AsRaw()
	// A mapped attribute that is not a scalar is unreadable, never dropped.
	if u, _ := got["ccaas.consent.unreadable"].([]any); len(u) != 3 {
		t.Fatalf("unreadable = %v", got["ccaas.consent.unreadable"])
	}
	delete(got, "ccaas.consent.unreadable")
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestStrings(t *testing.T) {
	m := pcommon.NewMap()
	require.NoError(t, m.PutEmptySlice("list").FromRaw([]any{"a", "", 3}))
	m.PutStr("one", "x")
	m.PutStr("empty", "")
	m.PutInt("int", 1)
	assert.Equal(t, []string{"a", "3"}, Strings(m, "list"))
	assert.Equal(t, []string{"x"}, Strings(m, "one"))
	assert.Nil(t, Strings(m, "empty"))
	assert.Nil(t, Strings(m, "int"))
	assert.Nil(t, Strings(m, "missing"))
}
