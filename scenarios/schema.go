package scenarios

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed schema.yaml
var schemaYAML []byte

// schemaJSON is converted on first use, not at start-up.
var schemaJSON = sync.OnceValue(func() []byte {
	js, err := YAMLToJSON(schemaYAML)
	if err != nil {
		panic("scenarios/schema.yaml: " + err.Error())
	}
	return js
})

// Schema returns the JSON Schema (2020-12) of a fixtures file, indented.
// It checks what an editor can: keys, types, enums, patterns and ranges;
// the loader checks the rest (see schema.yaml).
func Schema() []byte { return schemaJSON() }

// YAMLToJSON converts a YAML document to indented JSON, keeping the order
// of keys as written (an empty document is null).
func YAMLToJSON(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := nodeJSON(&buf, &doc, 0); err != nil {
		return nil, err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	pretty.WriteByte('\n')
	return pretty.Bytes(), nil
}

func nodeJSON(buf *bytes.Buffer, n *yaml.Node, depth int) error {
	if depth > maxYAMLToJSONDepth {
		return fmt.Errorf("line %d: nested more than %d deep", n.Line, maxYAMLToJSONDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			buf.WriteString("null")
			return nil
		}
		return nodeJSON(buf, n.Content[0], depth+1)
	case yaml.AliasNode:
		return nodeJSON(buf, n.Alias, depth+1)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			key, _ := json.Marshal(n.Content[i].Value)
			buf.Write(key)
			buf.WriteByte(':')
			if err := nodeJSON(buf, n.Content[i+1], depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := nodeJSON(buf, c, depth+1); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		js, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.Write(js)
	}
	return nil
}

// maxYAMLToJSONDepth bounds the nesting YAMLToJSON follows (aliases too).
const maxYAMLToJSONDepth = 200
