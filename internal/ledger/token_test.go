package ledger

import (
	"errors"
	"testing"
)

func TestPageToken(t *testing.T) {
	tok := encodeToken("01ARZ3NDEKTSV4RRFFQ69G5FAV", "q1")
	if after, err := decodeToken(tok, "q1"); err != nil || after != "01ARZ3NDEKTSV4RRFFQ69G5FAV" {
		t.Fatal(after, err)
	}
	if _, err := decodeToken(tok, "q2"); !errors.Is(err, ErrBadPageToken) {
		t.Fatal("token of another query accepted")
	}
	if after, err := decodeToken("", "q1"); err != nil || after != "" {
		t.Fatal("empty token")
	}
	if encodeToken("", "q") != "" {
		t.Fatal("last page has a token")
	}
}

func FuzzPageToken(f *testing.F) {
	f.Add(encodeToken("01ARZ3NDEKTSV4RRFFQ69G5FAV", "q"))
	f.Add("eyJhIjoiIiwicSI6InEifQ")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, tok string) {
		after, err := decodeToken(tok, "q")
		if err == nil && tok != "" && after == "" {
			t.Fatal("accepted token without position")
		}
		if err != nil && !errors.Is(err, ErrBadPageToken) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func FuzzIDTime(f *testing.F) {
	f.Add("01ARZ3NDEKTSV4RRFFQ69G5FAV")
	f.Add("")
	f.Fuzz(func(t *testing.T, id string) {
		idTime(id)
	})
}
