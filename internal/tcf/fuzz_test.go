package tcf

import (
	"testing"
	"time"
)

// FuzzDecode checks that Decode never panics, that successful results are
// internally consistent, and that work stays bounded: the decoded structures
// are at most proportional to the input and a single call finishes quickly
// even for inputs that declare huge ranges.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		vecSpecExample, vecGPPSpecExample, vecJavaBasic, vecJavaAllParts,
		vecJavaRangeLI, vecJavaRange2, vecJavaRange1, vecJavaPurposes,
		vecGPPJavaTCF, vecGPPJavaVendors28, vecGPPJavaVendors29, vecGPPJavaVendors722,
		vecIssue201, vecIssue142, vecIssue156V1, vecIssue191V1,
		"", ".", "C", "CAAA", "C====", "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA.IB.cAAA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		c, err := Decode(s)
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Fatalf("Decode took %v for %d bytes", elapsed, len(s))
		}
		if err != nil {
			if c != nil {
				t.Fatalf("non-nil Consent with error %v", err)
			}
			return
		}
		if c.Version != Version {
			t.Fatalf("decoded version %d", c.Version)
		}
		if len(c.ConsentLanguage) != 2 || len(c.PublisherCC) != 2 {
			t.Fatalf("bad language %q / country %q", c.ConsentLanguage, c.PublisherCC)
		}
		inputBits := 6 * len(s)
		sets := []VendorSet{c.VendorConsents, c.VendorLegitimateInterests}
		if c.DisclosedVendors != nil {
			sets = append(sets, *c.DisclosedVendors)
		}
		if len(c.PublisherRestrictions)*20 > inputBits {
			t.Fatalf("%d restrictions from %d bits", len(c.PublisherRestrictions), inputBits)
		}
		for _, pr := range c.PublisherRestrictions {
			sets = append(sets, pr.Vendors)
		}
		for _, vs := range sets {
			checkVendorSet(t, vs, inputBits)
		}
	})
}

func checkVendorSet(t *testing.T, vs VendorSet, inputBits int) {
	t.Helper()
	if vs.MaxVendorID() < 0 || vs.MaxVendorID() > 65535 {
		t.Fatalf("MaxVendorID %d", vs.MaxVendorID())
	}
	if len(vs.ranges)*minRangeEntry > inputBits || len(vs.bits)*64 > inputBits+64 {
		t.Fatalf("vendor set larger than input: %d ranges, %d words, %d input bits", len(vs.ranges), len(vs.bits), inputBits)
	}
	prev := 0
	for _, r := range vs.ranges {
		if r.lo < 1 || r.hi < r.lo || (prev != 0 && r.lo <= prev+1) || r.hi > vs.MaxVendorID() {
			t.Fatalf("ranges not normalised: %v (max %d)", vs.ranges, vs.MaxVendorID())
		}
		prev = r.hi
	}
	n := vs.Len()
	if n > vs.MaxVendorID() {
		t.Fatalf("Len %d > MaxVendorID %d", n, vs.MaxVendorID())
	}
	// Spot-check Contains against IDs for small sets.
	if n <= 2048 {
		ids := vs.IDs()
		if len(ids) != n {
			t.Fatalf("IDs has %d entries, Len %d", len(ids), n)
		}
		for i, id := range ids {
			if !vs.Contains(id) || (i > 0 && ids[i-1] >= id) {
				t.Fatalf("IDs/Contains disagree at %d", id)
			}
		}
	}
	if vs.Contains(0) || vs.Contains(vs.MaxVendorID()+1) {
		t.Fatal("Contains out of range")
	}
}
