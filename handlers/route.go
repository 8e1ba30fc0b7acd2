package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// routing is the part of a payload the receiver needs to place it in the queue.
type routing struct {
	Zen            string
	InstallationID int64
	RepoID         int64
	IssueNumber    int
}

func (r routing) number(event string) int {
	if event == "issues" || event == "issue_comment" {
		return r.IssueNumber
	}
	return 0
}

// errNotObject is any body the receiver cannot route: not JSON, not an object, or a routing
// field of the wrong type.
var errNotObject = errors.New("body is not a JSON object")

// decoders are reused: a jsontext.Decoder reading a *bytes.Buffer parses the body in place, so
// a pooled decoder holds no body once it is reset to an empty buffer.
var decoders = sync.Pool{New: func() any {
	return jsontext.NewDecoder(new(bytes.Buffer))
}}

var emptyBuffer = new(bytes.Buffer)

// parseRouting reads only the routing fields of a delivery (the installation and repository ids,
// the issue number, ping's zen), skipping every other value without decoding it, while still
// checking that the whole body is one well-formed JSON object. A full json.Unmarshal of a 13 KB
// payload cost most of the receiver's time.
func parseRouting(body []byte) (routing, error) {
	d := decoders.Get().(*jsontext.Decoder)
	defer func() {
		d.Reset(emptyBuffer)
		decoders.Put(d)
	}()
	// GitHub's payloads are not checked for duplicate names or invalid UTF-8 here, as
	// encoding/json's Unmarshal did not: the worker decodes the payload again.
	d.Reset(bytes.NewBuffer(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if d.PeekKind() != '{' {
		return routing{}, errNotObject
	}
	var r routing
	err := readObject(d, func(name []byte) error {
		var err error
		switch string(name) {
		case "zen":
			r.Zen, err = readString(d)
		case "installation":
			err = readObject(d, idField(d, "id", &r.InstallationID))
		case "repository":
			err = readObject(d, idField(d, "id", &r.RepoID))
		case "issue":
			var n int64
			err = readObject(d, idField(d, "number", &n))
			r.IssueNumber = int(n)
		default:
			err = d.SkipValue()
		}
		return err
	})
	if err != nil {
		return routing{}, fmt.Errorf("%w: %w", errNotObject, err)
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return routing{}, fmt.Errorf("%w: data after the object", errNotObject)
	}
	return r, nil
}

// readObject reads an object (or null), calling member for each name; member reads the value.
func readObject(d *jsontext.Decoder, member func(name []byte) error) error {
	switch d.PeekKind() {
	case 'n':
		_, err := d.ReadToken()
		return err
	case '{':
	default:
		return errors.New("not an object")
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for d.PeekKind() != '}' {
		name, err := readName(d)
		if err != nil {
			return err
		}
		if err := member(name); err != nil {
			return err
		}
	}
	_, err := d.ReadToken()
	return err
}

// readName reads an object member's name. A name without escapes is used as it is in the
// body, without a copy (the caller compares it, and keeps nothing).
func readName(d *jsontext.Decoder) ([]byte, error) {
	v, err := d.ReadValue()
	if err != nil {
		return nil, err
	}
	if raw := v[1 : len(v)-1]; bytes.IndexByte(raw, '\\') < 0 {
		return raw, nil
	}
	return jsontext.AppendUnquote(nil, v)
}

// idField reads the integer member want into dst and skips the others.
func idField(d *jsontext.Decoder, want string, dst *int64) func([]byte) error {
	return func(name []byte) error {
		if string(name) != want {
			return d.SkipValue()
		}
		switch d.PeekKind() {
		case 'n':
			_, err := d.ReadToken()
			return err
		case '0':
		default:
			return fmt.Errorf("%s is not a number", want)
		}
		raw, err := d.ReadValue()
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %w", want, err)
		}
		*dst = n
		return nil
	}
}

func readString(d *jsontext.Decoder) (string, error) {
	t, err := d.ReadToken()
	if err != nil {
		return "", err
	}
	if t.Kind() != '"' {
		return "", errors.New("not a string")
	}
	return t.String(), nil
}
