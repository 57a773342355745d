package main

import (
	"github.com/getkin/kin-openapi/openapi3"
)

// amend adds to the converted document what audit.proto cannot say.
func amend(doc *openapi3.T) {
	doc.Servers = openapi3.Servers{{URL: "http://127.0.0.1:7480", Description: "make run (config/local.yaml)"}}
	status := openapi3.NewSchemaRef("#/components/schemas/rpcStatus", nil)
	text := func(desc string) *openapi3.MediaType {
		sc := openapi3.NewStringSchema()
		sc.Description = desc
		return &openapi3.MediaType{Schema: sc.NewRef()}
	}
	for path, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			// Every error has the status shape, whatever its HTTP code.
			for code, r := range op.Responses.Map() {
				if code == "200" {
					continue
				}
				r.Value.Content = openapi3.NewContentWithJSONSchemaRef(status)
			}
			op.Responses.Set("400", &openapi3.ResponseRef{Value: openapi3.NewResponse().
				WithDescription("An unknown query parameter or filter value (named in the message), or an invalid request.").
				WithContent(openapi3.NewContentWithJSONSchemaRef(status))})
		}
		switch path {
		case "/v1/quarantine/records", "/v1/consents", "/v1/access-log":
			// The listings answer CSV too (every page from page_token on).
			op := item.Get
			op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: openapi3.NewQueryParameter("format").
				WithDescription("csv: the whole listing from page_token on as CSV (also with Accept: text/csv), a header row of the fields then one row per item; page_size is then the size of each page read. json (default): one page as JSON.").
				WithSchema(openapi3.NewStringSchema().WithEnum("json", "csv"))})
			op.Responses.Value("200").Value.Content["text/csv"] = text("CSV (RFC 4180). Lists are joined with \";\"; cells a spreadsheet would run as a formula start with a quote. A failure after the first row ends the file with a line \"# error: <code>: <message>\".")
		case "/v1/ledger:verify":
			item.Post.Responses.Value("200").Value.Content["application/x-ndjson"] = text("With Accept: application/x-ndjson: a {\"progress\": {\"phase\", \"checked\", \"total\", \"elapsed\"}} line every 2 s while the ledger is verified, then {\"result\": VerifyLedgerResponse} or {\"error\": Status}. It outlives the server's write timeout.")
		case "/v1/evidence:export":
			r := item.Post.Responses.Value("200").Value
			r.Content = openapi3.Content{"application/x-ndjson": text("The evidence bundle: NDJSON lines (header, record, chain, checkpoint, manifest); see docs/audit-api.md. An error after the first line ends it with {\"error\": Status} and no manifest.")}
			desc := "The evidence bundle (streamed)."
			r.Description = &desc
		}
	}
	// The export's HttpBody is written as the bundle itself.
	delete(doc.Components.Schemas, "apiHttpBody")
}
