package auditapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
)

// csvListing is a listing route that answers CSV too: the JSON list
// field of its response and the message of its rows.
type csvListing struct {
	list string
	row  protoreflect.MessageDescriptor
	file string
}

var csvListings = map[string]csvListing{
	"/v1/quarantine/records": {"records", (&consentryv1.QuarantinedRecord{}).ProtoReflect().Descriptor(), "quarantined-records.csv"},
	"/v1/consents":           {"consents", (&consentryv1.Consent{}).ProtoReflect().Descriptor(), "consents.csv"},
	"/v1/access-log":         {"entries", (&consentryv1.AccessEntry{}).ProtoReflect().Descriptor(), "access-log.csv"},
}

// Formats of the listing routes (the format query parameter).
const (
	formatCSV  = "csv"
	formatJSON = "json"
)

// wantsCSV reports whether a GET of a listing asks for CSV: format=csv,
// or text/csv in Accept (without format=json).
func wantsCSV(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case formatCSV:
		return true
	case formatJSON:
		return false
	}
	for _, part := range strings.Split(strings.Join(r.Header.Values("Accept"), ","), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
			return true
		}
	}
	return false
}

// withoutFormat is r with a valid format parameter removed (the gateway
// knows no such field); an invalid one stays, for checkRoute to refuse.
func withoutFormat(r *http.Request) *http.Request {
	q := r.URL.Query()
	if f := q.Get("format"); len(q["format"]) != 1 || f != formatCSV && f != formatJSON {
		return r
	}
	q.Del("format")
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header.Del("Accept")
	return r2
}

// csvPageSize is the page size a CSV export reads the listing with when
// the caller gives none.
const csvPageSize = 1000

// serveCSV answers a listing as CSV: a header row of the fields, then a
// row per item of every page from page_token on (each page one call of the
// method: authenticated, authorised and in the access log like any). An
// error before the first row is the usual JSON error; an error later ends
// the file with a line "# error: <code>: <message>", the mark of an
// incomplete export. Cells that a spreadsheet would run as a formula
// (starting with = + - @ or a tab) are prefixed with a quote.
func (s *Service) serveCSV(w http.ResponseWriter, r *http.Request, next http.Handler, l csvListing) {
	q := r.URL.Query()
	q.Del("format")
	if q.Get("page_size") == "" {
		q.Set("page_size", strconv.Itoa(csvPageSize))
	}
	cols := make([]protoreflect.FieldDescriptor, 0, l.row.Fields().Len())
	header := make([]string, 0, l.row.Fields().Len())
	for i := range l.row.Fields().Len() {
		fd := l.row.Fields().Get(i)
		cols = append(cols, fd)
		header = append(header, string(fd.Name()))
	}
	cw := csv.NewWriter(w)
	rc := http.NewResponseController(w)
	for page := 0; ; page++ {
		pr := r.Clone(r.Context())
		pr.URL.RawQuery = q.Encode()
		pr.RequestURI = pr.URL.RequestURI()
		pr.Header.Set("Accept", "application/json")
		rec := &recorder{header: http.Header{}}
		next.ServeHTTP(rec, pr)
		if rec.code != http.StatusOK {
			if page == 0 {
				for k, v := range rec.header {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.code)
				_, _ = w.Write(rec.body.Bytes())
				return
			}
			var st struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			_ = json.Unmarshal(rec.body.Bytes(), &st)
			cw.Flush()
			_, _ = w.Write([]byte("# error: " + strconv.Itoa(st.Code) + ": " + oneLine(st.Message) + "\n"))
			return
		}
		var resp map[string]json.RawMessage
		var rows []map[string]json.RawMessage
		var next string
		if err := json.Unmarshal(rec.body.Bytes(), &resp); err == nil {
			_ = json.Unmarshal(resp[l.list], &rows)
			_ = json.Unmarshal(resp["next_page_token"], &next)
		}
		if page == 0 {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="`+l.file+`"`)
			_ = cw.Write(header)
		}
		for _, row := range rows {
			cells := make([]string, len(cols))
			for i, fd := range cols {
				cells[i] = csvCell(row[string(fd.Name())])
			}
			_ = cw.Write(cells)
		}
		cw.Flush()
		// A long export outlives the server's write timeout as long as
		// it keeps writing.
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteSlack))
		_ = rc.Flush()
		if next == "" || cw.Error() != nil || r.Context().Err() != nil {
			return
		}
		q.Set("page_token", next)
	}
}

// streamWriteSlack is how long a streamed answer (a CSV export, an
// evidence export, verification progress) may take to write its next
// part: each write moves the connection's write deadline this far ahead.
const streamWriteSlack = time.Minute

// csvCell renders a JSON value as a CSV cell: strings as they are, lists
// joined with ";", objects as JSON, null as empty.
func csvCell(v json.RawMessage) string {
	var out string
	switch t := bytes.TrimSpace(v); {
	case len(t) == 0 || string(t) == "null":
		return ""
	case t[0] == '"':
		_ = json.Unmarshal(t, &out)
	case t[0] == '[':
		var items []json.RawMessage
		_ = json.Unmarshal(t, &items)
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = csvCell(it)
		}
		out = strings.Join(parts, ";")
	default:
		out = string(t)
	}
	if out != "" && strings.ContainsRune("=+-@\t\r", rune(out[0])) {
		out = "'" + out
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// recorder keeps one page's answer.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(p)
}
