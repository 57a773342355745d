package webhook

import "github.com/consentry/consentry/internal/ccaas"

// DecodeObjects decodes a body that holds one JSON object or an array of
// objects (vendors that batch send arrays). Every failure is a 400.
func DecodeObjects(body []byte) ([]map[string]any, error) {
	v, err := ccaas.DecodeJSON(body)
	if err != nil {
		return nil, Malformed("%v", err)
	}
	switch t := v.(type) {
	case map[string]any:
		return []map[string]any{t}, nil
	case []any:
		out := make([]map[string]any, 0, len(t))
		for i, e := range t {
			o, ok := e.(map[string]any)
			if !ok {
				return nil, Malformed("element %d of the array is not a JSON object", i)
			}
			out = append(out, o)
		}
		return out, nil
	default:
		return nil, Malformed("the body must be a JSON object or an array of objects")
	}
}
