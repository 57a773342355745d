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
		"DBABBg~BVWSSSVY.YA", "DBABBg~BbYbGwXY.YA", "DBABTA~1YYN", "DBABUYA~BRWg.qqo", "DBABEYA~BRWg.YA",
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
		if g.TCFEU != g.Sections[SectionTCFEUv2] {
			t.Fatal("TCFEU disagrees with Sections")
		}
		if (g.USPrivacy != nil) != (g.Sections[SectionUSPv1] != "") {
			t.Fatal("USPrivacy presence disagrees with Sections")
		}
		if len(g.US)+len(g.Unknown) != len(g.Sections)-btoi(g.TCFEU != "")-btoi(g.USPrivacy != nil) {
			t.Fatalf("%d US + %d unknown sections for %d sections", len(g.US), len(g.Unknown), len(g.Sections))
		}
		for _, u := range g.US {
			if g.Sections[u.ID] == "" || layouts[u.ID] == nil {
				t.Fatalf("section %d decoded but not listed", u.ID)
			}
			if u.ID == SectionUSNat {
				if n := len(u.SensitiveDataProcessing); n != 12 && n != 16 {
					t.Fatalf("usnat SensitiveDataProcessing has %d entries", n)
				}
				if len(u.KnownChildSensitiveDataConsents) != len(u.SensitiveDataProcessing)/4-1 {
					t.Fatalf("usnat layout mismatch: %d / %d", len(u.SensitiveDataProcessing), len(u.KnownChildSensitiveDataConsents))
				}
			}
			if u.HasGPCSubsection() && u.GpcSegmentIncluded != strings.Contains(g.Sections[u.ID], ".") {
				t.Fatalf("%s GPC inclusion disagrees with input", u.Name)
			}
			_ = u.Validate()
			_ = u.OptedOutOfSale() || u.OptedOutOfSharing() || u.OptedOutOfTargetedAdvertising() || u.SensitiveDataRefused()
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
