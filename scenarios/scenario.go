package scenarios

import (
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scenario is a named, ordered list of rules.
type Scenario struct {
	Name        string
	Description string
	File        string
}

func (r *reader) scenario(n *yaml.Node, file string) *Scenario {
	f := r.fields(n, "scenario", "name", "description", "rules")
	if f == nil {
		return nil
	}
	base := path.Base(file)
	sc := &Scenario{Name: strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml"), File: file}
	if v := f["name"]; v != nil {
		sc.Name, _ = r.nonEmpty(v, "scenario.name")
	}
	if v := f["description"]; v != nil {
		sc.Description, _ = r.str(v, "scenario.description")
	}
	return sc
}
