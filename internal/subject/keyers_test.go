package subject

import "testing"

func TestKeyers(t *testing.T) {
	ks, err := NewKeyers([]byte("default-salt-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := ks.Add("a", []byte("tenant-a-salt-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	def, _ := ks.Add("b", nil)
	if own == nil || def == nil || own == def {
		t.Fatal("tenant a has its own keyer, tenant b the default")
	}
	ks.Alias("a-sub", own)
	if ks.Resolve("a-sub", false) != own || ks.Resolve("b", false) != def {
		t.Fatal("resolve by tenant")
	}
	if ks.Resolve("unknown", false) != nil {
		t.Fatal("an unknown tenant gets no keyer unless the default is allowed")
	}
	if ks.Resolve("unknown", true) != def {
		t.Fatal("the default is returned when allowed")
	}
	if own.Key(IDTypeEmail, "x@y.z") == def.Key(IDTypeEmail, "x@y.z") {
		t.Fatal("different salts give different keys")
	}
	if _, err := ks.Add("c", []byte("short")); err == nil {
		t.Fatal("a short salt is refused")
	}
	none, _ := NewKeyers(nil)
	if k, _ := none.Add("x", nil); k != nil || none.Resolve("y", true) != nil {
		t.Fatal("no default salt, no default keyer")
	}
}
