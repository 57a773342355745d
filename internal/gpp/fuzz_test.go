package gpp

import (
	"strings"
	"testing"
	"time"
)

// FuzzDecode checks that Decode never panics, that a successful result is
// consistent with its input, and that work stays bounded: the number of
// section IDs can never exceed the number of '~'-separated parts, whatever
// ranges the header declares, and each call finishes quickly.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		vecSpec1, vecSpec2, vecSpec3, vecSpec1Padded, vecJavaAll, vecJavaTCFUSP,
		vecJavaTCFCAUSP, vecJavaUSNatV1Long,
		"DBABLA~CVVVkkkkkpFY.YA", "DBABLA~BAAAVVVVUQA.QA", "DBABLA~BVQqAAAACg",
		"DBABBg~BVWSSSVY.YA", "DBABBg~BbYbGwXY.YA",
		"", "~", "DBAA", "DBAA~", "DBABMA", "DBABMA~", "DBABMA~~", "D", "DB_____________~a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		g, err := Decode(s)
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Fatalf("Decode took %v for %d bytes", elapsed, len(s))
		}
		if err != nil {
			if g != nil {
				t.Fatalf("non-nil String with error %v", err)
			}
			return
		}
		parts := strings.Split(s, "~")
		if len(g.Header.SectionIDs) != len(parts)-1 || len(g.Sections) != len(parts)-1 {
			t.Fatalf("%d IDs / %d sections for %d parts", len(g.Header.SectionIDs), len(g.Sections), len(parts))
		}
		prev := 0
		for i, id := range g.Header.SectionIDs {
			if id <= prev {
				t.Fatalf("section IDs not ascending: %v", g.Header.SectionIDs)
			}
			prev = id
			if g.Sections[id] != parts[i+1] {
				t.Fatalf("section %d = %q, want %q", id, g.Sections[id], parts[i+1])
			}
		}
		if (g.USNat != nil) != (g.Sections[SectionUSNat] != "") {
			t.Fatal("USNat presence disagrees with Sections")
		}
		if (g.USCA != nil) != (g.Sections[SectionUSCA] != "") {
			t.Fatal("USCA presence disagrees with Sections")
		}
		if g.TCFEU != g.Sections[SectionTCFEUv2] {
			t.Fatal("TCFEU disagrees with Sections")
		}
		if u := g.USNat; u != nil {
			if n := len(u.SensitiveDataProcessing); n != 12 && n != 16 {
				t.Fatalf("usnat SensitiveDataProcessing has %d entries", n)
			}
			if len(u.KnownChildSensitiveDataConsents) != len(u.SensitiveDataProcessing)/4-1 {
				t.Fatalf("usnat layout mismatch: %d / %d", len(u.SensitiveDataProcessing), len(u.KnownChildSensitiveDataConsents))
			}
			if u.GpcSegmentIncluded != strings.Contains(g.Sections[SectionUSNat], ".") {
				t.Fatal("usnat GPC inclusion disagrees with input")
			}
			_ = u.Validate()
			_ = u.OptedOutOfSale() || u.OptedOutOfSharing() || u.OptedOutOfTargetedAdvertising()
		}
		if c := g.USCA; c != nil {
			if len(c.SensitiveDataProcessing) != 9 || len(c.KnownChildSensitiveDataConsents) != 2 {
				t.Fatal("usca layout mismatch")
			}
			_ = c.Validate()
		}
	})
}
