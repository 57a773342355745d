package ledger

import (
	"strings"
	"testing"
	"time"
)

func TestULID(t *testing.T) {
	// The example of the ULID specification.
	if got := encodeULID(1469922850259, 0, 0); !strings.HasPrefix(got, "01ARZ3NDEK") {
		t.Fatalf("encode: %s", got)
	}
	tm, err := idTime("01ARZ3NDEKTSV4RRFFQ69G5FAV")
	if err != nil || tm.UnixMilli() != 1469922850259 {
		t.Fatalf("decode: %v %v", tm, err)
	}
	var g idGen
	now := time.Now()
	prev := ""
	for range 10000 {
		id := g.next(now)
		if len(id) != 26 || id <= prev {
			t.Fatalf("not increasing: %s after %s", id, prev)
		}
		prev = id
	}
	if tm, _ := idTime(prev); tm.UnixMilli() != now.UnixMilli() {
		t.Fatalf("time %v, want %v", tm, now)
	}
	if f := idFloor(now); f > g.next(now) || f <= idFloor(now.Add(-time.Millisecond)) {
		t.Fatal("floor")
	}
	if later := g.next(now.Add(time.Second)); later <= prev {
		t.Fatal("later id sorts first")
	}
	if _, err := idTime("short"); err == nil {
		t.Fatal("short id accepted")
	}
}
