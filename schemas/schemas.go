// Package schemas holds the pipeline's message contracts, JobMessage and ResultMessage, as Avro
// schemas: the single source for the program (Pub/Sub topic schemas), the tests and the local
// emulator.
package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"

	"github.com/linkedin/goavro/v2"

	"github.com/aiprod/aiprod-pubsub/spec"
)

//go:embed *.avsc
var files embed.FS

// FS holds the schema files shipped with the program.
var FS fs.FS = files

// Kind names a message contract; the spec decides which queue carries which.
type Kind = spec.Contract

// The two contracts.
const (
	Job    = spec.JobContract
	Result = spec.ResultContract
)

// file is the name of the schema file of a contract.
func file(k Kind) string { return string(k) + ".avsc" }

// Schema is one parsed contract.
type Schema struct {
	Kind Kind
	// File is the file it was read from.
	File string
	// Definition is the Avro schema as written in the file; Pub/Sub receives it verbatim.
	Definition string
	codec      *goavro.Codec
}

// Load reads and parses every contract from fsys. An error names the file.
func Load(fsys fs.FS) (map[Kind]*Schema, error) {
	out := map[Kind]*Schema{}
	for _, k := range spec.Contracts {
		b, err := fs.ReadFile(fsys, file(k))
		if err != nil {
			return nil, fmt.Errorf("schema file %s: %w", file(k), err)
		}
		codec, err := goavro.NewCodec(string(b))
		if err != nil {
			return nil, fmt.Errorf("schema file %s is not a valid Avro schema: %w", file(k), err)
		}
		out[k] = &Schema{Kind: k, File: file(k), Definition: string(b), codec: codec}
	}
	return out, nil
}

// Validate reports whether msg, a JSON-encoded message, conforms to the schema under Avro's
// JSON encoding, which is what Pub/Sub checks for a topic with JSON schema settings.
func (s *Schema) Validate(msg []byte) error {
	_, rest, err := s.codec.NativeFromTextual(msg)
	if err != nil {
		return fmt.Errorf("message does not conform to %s: %w", s.File, err)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return fmt.Errorf("message does not conform to %s: trailing data after the record", s.File)
	}
	return nil
}
