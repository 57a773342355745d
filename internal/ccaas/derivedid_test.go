package ccaas

import (
	"strings"
	"testing"
)

func decodeObj(t *testing.T, s string) map[string]any {
	t.Helper()
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v.(map[string]any)
}

func TestDerivedID(t *testing.T) {
	a := DerivedID("topic", decodeObj(t, `{"a":1,"b":["x",{"c":true}],"d":null}`))
	if !strings.HasPrefix(a, "sha256:") || len(a) != len("sha256:")+32 {
		t.Fatalf("format: %q", a)
	}
	if b := DerivedID("topic", decodeObj(t, ` { "d":null, "b":[ "x", {"c":true} ], "a":1 } `)); a != b {
		t.Fatal("key order and white space must not change the id")
	}
	for name, other := range map[string]string{
		"value":      DerivedID("topic", decodeObj(t, `{"a":2,"b":["x",{"c":true}],"d":null}`)),
		"type":       DerivedID("topic", decodeObj(t, `{"a":"1","b":["x",{"c":true}],"d":null}`)),
		"label":      DerivedID("topic2", decodeObj(t, `{"a":1,"b":["x",{"c":true}],"d":null}`)),
		"array":      DerivedID("topic", decodeObj(t, `{"a":1,"b":["x",{"c":false}],"d":null}`)),
		"boundaries": DerivedID("topic", decodeObj(t, `{"a":1,"b":["x",{"c":true}],"d":null,"":""}`)),
	} {
		if other == a {
			t.Errorf("a different %s must give a different id", name)
		}
	}
	// Skipped top-level fields do not count.
	x := DerivedID("t", decodeObj(t, `{"id":1,"sentAt":"2025-01-01T00:00:00Z"}`), "sentAt")
	y := DerivedID("t", decodeObj(t, `{"id":1,"sentAt":"2025-01-02T00:00:00Z"}`), "sentAt")
	if x != y {
		t.Fatal("a skipped field changed the id")
	}
}
