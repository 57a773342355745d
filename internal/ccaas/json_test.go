package ccaas

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// stdDecode is the oracle: encoding/json with UseNumber, one value, nothing after it.
func stdDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if rest := bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return nil, errors.New("data after the top-level value")
	}
	return v, nil
}

func depth(b []byte) int {
	d, max, inStr, esc := 0, 0, false, false
	for _, c := range b {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			d++
			if d > max {
				max = d
			}
		case '}', ']':
			d--
		}
	}
	return max
}

func checkAgainstStd(t *testing.T, in []byte) {
	t.Helper()
	got, err := DecodeJSON(in)
	want, werr := stdDecode(in)
	if depth(in) > MaxJSONDepth {
		if err == nil {
			t.Fatalf("accepted nesting deeper than %d", MaxJSONDepth)
		}
		return
	}
	if err != nil && werr == nil && strings.Contains(err.Error(), "more than "+strconv.Itoa(MaxJSONKeys)+" keys") {
		return
	}
	if (err == nil) != (werr == nil) {
		t.Fatalf("input %q: error mismatch: ours %v, encoding/json %v", in, err, werr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("input %q: value mismatch:\nours %#v\nstd  %#v", in, got, want)
	}
}

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e10`, `-12.25E-3`, `123456789012345678901234567890`,
		`"plain"`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\u4e2d\ud83d\ude00"`, `"lone \ud800 surrogate"`, `"\udc00 low"`,
		`"\ud800\u0041"`, "\"bad utf8 \xff\xfe\"", "\"mixed \xc3\xa9 \xc3\"", `{"a":1,"a":2}`, `{"nested":{"arr":[1,"2",{"x":null}]}}`,
		" \t\n{\"ws\" : [ 1 , 2 ] }\r\n ",
		// invalid
		``, ` `, `{`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1 2]`, `01`, `1.`, `.5`, `1e`, `-`, `+1`, `tru`, `nul`,
		`"unterminated`, "\"ctrl \x01\"", `"\x"`, `"\u12"`, `"\u12G4"`, `{"a":1} {}`, `[] x`, `{"a":1}}`, `NaN`, `Infinity`,
	}
	for _, c := range cases {
		checkAgainstStd(t, []byte(c))
	}
	fixtures, _ := filepath.Glob("../../receiver/*/testdata/fixtures/*.json")
	for _, f := range fixtures {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstStd(t, b)
	}
}

func TestDecodeJSONDepth(t *testing.T) {
	_, err := DecodeJSON([]byte(strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth)))
	if err != nil {
		t.Fatalf("depth %d must be accepted: %v", MaxJSONDepth, err)
	}
	_, err = DecodeJSON([]byte(strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1)))
	if err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("depth %d must be refused, got %v", MaxJSONDepth+1, err)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c\u00e9"}]}`, `"\ud83d\ude00"`, `[1e5,-0.5,null,true]`, "\"\xff\"", `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkAgainstStd(t, in) })
}

func BenchmarkDecodeJSON(b *testing.B) {
	in, err := os.ReadFile("../../receiver/genesysreceiver/testdata/fixtures/eventbridge_bench_1500.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("consentry", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeJSON(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stdDecode(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
