package admin

import (
	"errors"
	"net/http"

	"github.com/msgmock/msgmock/mock/importer"
	"github.com/msgmock/msgmock/mock/wire"
)

// maxImportedHAR bounds a HAR sent to the admin API (a browser's export of
// a bug report: a few MiB; msgmock import har on the command line takes
// larger ones).
const maxImportedHAR = 32 << 20

type importedFile struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

type imported struct {
	Scenario string           `json:"scenario"`
	Summary  importer.Summary `json:"summary"`
	Files    []importedFile   `json:"files"`
}

// ImportHAR serves POST /__mock/import/har[?source=FILE.har][&scenario=NAME]:
// the HAR in the body becomes the two fixtures files `msgmock import har`
// would write — returned, not written: the admin API does not touch the
// disk. The inspector offers them for download and adds the scenario to the
// session with PUT /__mock/scenarios/{name}. Not a HAR: 400; a HAR with
// nothing of either API: 422 with the summary.
func (a *API) ImportHAR(x *wire.Exchange, r *http.Request) *wire.Problem {
	body, res := x.ReadBody(r, maxImportedHAR)
	if p := bodyProblem(res); p != nil {
		return p
	}
	if res == wire.BodyTooLarge {
		return problem(http.StatusRequestEntityTooLarge, "a HAR sent to the admin API is at most 32 MiB; use msgmock import har for larger ones")
	}
	q := r.URL.Query()
	out, err := importer.HAR(body, importer.Options{Source: q.Get("source"), Scenario: q.Get("scenario")})
	switch {
	case errors.Is(err, importer.ErrNothingToImport) && out != nil:
		wire.WriteJSON(x, http.StatusUnprocessableEntity, map[string]any{"error": err.Error(), "summary": out.Summary})
		return nil
	case err != nil:
		return problem(http.StatusBadRequest, err.Error())
	}
	resp := imported{Scenario: out.Scenario, Summary: out.Summary}
	for _, f := range out.Files {
		resp.Files = append(resp.Files, importedFile{Name: f.Name, Content: string(f.Data)})
	}
	wire.WriteJSON(x, http.StatusOK, resp)
	return nil
}
