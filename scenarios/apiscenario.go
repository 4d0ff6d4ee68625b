package scenarios

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// ParseScenario reads one scenario sent over the admin API (PUT
// /__mock/scenarios/NAME): YAML or JSON, either the scenario itself
// ({description, rules}) or a file's `scenario:` key, validated as a
// fixtures file is. Its name is name; a body naming another is refused.
// Problems are located in a file called "scenarios/NAME".
func ParseScenario(name string, body []byte) (*Scenario, error) {
	where := "scenarios/" + name
	var probs Problems
	if name == "" {
		return nil, Problems{{File: where, Msg: "a scenario needs a name"}}
	}
	doc, ok := parseDoc(file{name: where, data: body}, &probs)
	if !ok {
		if len(probs) == 0 {
			probs = Problems{{File: where, Msg: "the body is empty: send the scenario as YAML or JSON"}}
		}
		return nil, probs
	}
	r := &reader{file: where, probs: &probs}
	node := doc
	if m := mappingValue(r.resolve(doc), "scenario"); m != nil && mappingValue(r.resolve(doc), "rules") == nil {
		top := r.fields(doc, "the body", "scenario")
		node = top["scenario"]
	}
	if v := mappingValue(r.resolve(node), "name"); v != nil && v.Value != name {
		r.errorf(v, "the body names scenario %q, the URL %q", v.Value, name)
	}
	sum := sha256.Sum256(body)
	sc := r.scenario(node, where, hex.EncodeToString(sum[:]))
	if r.overBudget() {
		r.errorf(doc, "document aliases too much (more than %d nodes to visit)", maxNodeVisits)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	if sc == nil {
		return nil, Problems{{File: where, Msg: fmt.Sprintf("scenario %q: the body holds no scenario", name)}}
	}
	sc.Name = name
	return sc, nil
}
