package mock

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// DefaultWorkspace is the workspace of requests that name none and whose
// key has none.
const DefaultWorkspace = "wsp_default"

// detail is FastAPI's error body.
type detail struct {
	Detail any `json:"detail"`
}

func writeDetail(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, detail{Detail: message})
}

// checksum is a message's checksum: hex SHA-256 of its content.
func checksum(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}
