package row

import (
	"encoding/json"
	"fmt"
)

// validRowJSON is a row that passes every rule of docs/protocol.md §5, with an
// id and updated_at of the caller's choice (as peers' fake peer serves).
func validRowJSON(id, updatedAt string) string {
	return fmt.Sprintf(`{"id":%s,"tier":"long","namespace":"team/alpha","title":"A title","content":"Some content\nwith a newline","tags":["a","b"],"priority":5,"confidence":0.9,"source":"api","access_count":3,"created_at":"2026-01-01T00:00:00Z","updated_at":%s,"metadata":{"k":[1,2,{"x":null}]},"lifecycle_state":"active"}`,
		jsonString(id), jsonString(updatedAt))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
