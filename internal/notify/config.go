package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/triagebot/triagebot/internal/yamlcheck"
)

// The channel types.
const (
	TypeGitHub  = "github"
	TypeWebhook = "webhook"
	TypeEmail   = "email"
)

// The email TLS modes.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "implicit"
	TLSNone     = "none"
)

// DefaultDigest is the digest window of a channel that names none: at most one message per
// channel per minute.
const DefaultDigest = time.Minute

var (
	channelTypes = []string{TypeGitHub, TypeWebhook, TypeEmail}
	tlsModes     = []string{TLSStartTLS, TLSImplicit, TLSNone}
	channelName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	mentionRe    = regexp.MustCompile(`^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?$`)
	yamlLine     = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	headerName   = regexp.MustCompile(`^[!#$%&'*+.^_|~0-9A-Za-z-]+$`)
)

// ChannelConfig is one notification channel from the server-side configuration
// (TRIAGEBOT_CONFIG `channels:`). Repositories only name channels; they never define them.
// Only the fields of its Type are set.
type ChannelConfig struct {
	Name string
	Type string // github | webhook | email
	// Digest is the window of a digest, counted from the first notification held; 0 sends each
	// notification on its own. ParseChannels applies DefaultDigest; code building a
	// ChannelConfig sets it itself.
	Digest time.Duration

	// github: the comment on the issue mentions these teams and users ("@org/team", "@user").
	Mention []string

	// webhook: where to POST (a secret), and extra request headers (values may be secrets too).
	URL     WebhookURL
	Headers map[string]string

	// email
	SMTPHost     string
	SMTPPort     int
	TLS          string // starttls | implicit | none
	Username     string
	PasswordFile string
	From         string
	To           []string
}

// String describes the channel without its secrets (webhook URL path, header values,
// password file contents), so that %v of a ChannelConfig is safe to log.
func (c ChannelConfig) String() string {
	switch c.Type {
	case TypeWebhook:
		return fmt.Sprintf("webhook channel %s to %s", c.Name, c.URL)
	case TypeEmail:
		return fmt.Sprintf("email channel %s to %s via %s:%d", c.Name, strings.Join(c.To, ", "), c.SMTPHost, c.SMTPPort)
	case TypeGitHub:
		return fmt.Sprintf("github channel %s mentioning %s", c.Name, strings.Join(c.Mention, " "))
	}
	return fmt.Sprintf("%s channel %s", c.Type, c.Name)
}

// GoString is String: %#v must not print secrets either.
func (c ChannelConfig) GoString() string { return c.String() }

// MarshalJSON writes the channel with its webhook URL and header values redacted.
func (c ChannelConfig) MarshalJSON() ([]byte, error) {
	type plain ChannelConfig
	p := plain(c)
	if len(c.Headers) > 0 {
		p.Headers = make(map[string]string, len(c.Headers))
		for k := range c.Headers {
			p.Headers[k] = "(redacted)"
		}
	}
	return json.Marshal(p)
}

// WebhookURL is a chat webhook URL. Whoever knows it may post to the channel, so it prints
// (fmt, zap, JSON) as its scheme and host only; Reveal gives the whole URL to the sender.
type WebhookURL string

// Reveal is the whole URL, for the HTTP request and nothing else.
func (u WebhookURL) Reveal() string { return string(u) }

// String is the redacted URL: scheme://host/…
func (u WebhookURL) String() string { return redactURL(string(u)) }

// GoString keeps %#v from printing the secret.
func (u WebhookURL) GoString() string { return strconv.Quote(u.String()) }

// MarshalText keeps encoders from writing the secret.
func (u WebhookURL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

func redactURL(s string) string {
	p, err := url.Parse(s)
	if err != nil || p.Host == "" {
		return "(redacted URL)"
	}
	return p.Scheme + "://" + p.Host + "/…"
}

// FieldError is one problem in the channels' configuration.
type FieldError = yamlcheck.FieldError

// ConfigError lists every problem found; callers print Errors one per line. No message ever
// contains a webhook URL or a header value.
type ConfigError struct {
	Errors []FieldError
}

func (e *ConfigError) Error() string {
	return yamlcheck.Join("invalid notification channels", e.Errors)
}

// ParseServerConfig reads the `channels:` mapping of a whole TRIAGEBOT_CONFIG file. Other
// top-level keys are left to their owners (package rules validates `defaults`).
func ParseServerConfig(data []byte) (map[string]ChannelConfig, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return map[string]ChannelConfig{}, nil
		}
		// yaml.v3's syntax errors quote no values, only lines and tokens' kinds.
		fe := FieldError{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			fe.Line, _ = strconv.Atoi(m[1])
			fe.Msg = m[2]
		}
		return nil, &ConfigError{Errors: []FieldError{fe}}
	}
	if len(doc.Content) == 0 {
		return map[string]ChannelConfig{}, nil
	}
	root := doc.Content[0]
	if yamlcheck.IsNull(root) {
		return map[string]ChannelConfig{}, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &ConfigError{Errors: []FieldError{{Line: root.Line, Msg: "expected a mapping, got " + yamlcheck.DescribeKind(root)}}}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "channels" {
			return ParseChannels(root.Content[i+1])
		}
	}
	return map[string]ChannelConfig{}, nil
}

// ParseChannels decodes the `channels:` mapping (channel name → settings) strictly: unknown
// keys, keys of another type, missing and malformed values are errors with their lines.
func ParseChannels(node *yaml.Node) (map[string]ChannelConfig, error) {
	out := map[string]ChannelConfig{}
	if node == nil || yamlcheck.IsNull(node) {
		return out, nil
	}
	d := &decoder{}
	if node.Kind != yaml.MappingNode {
		d.errorf(node, "channels", "expected a mapping of channel names, got %s", yamlcheck.DescribeKind(node))
		return nil, d.err()
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		p := "channels." + k.Value
		if k.Kind != yaml.ScalarNode || !channelName.MatchString(k.Value) {
			d.errorf(k, p, "a channel name is letters, digits, '-', '_' or '.'")
			continue
		}
		if _, dup := out[k.Value]; dup {
			d.errorf(k, p, "channel defined twice")
			continue
		}
		if ch, ok := d.channel(k.Value, v, p); ok {
			out[k.Value] = ch
		}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseChannel decodes one channel's settings (the mapping under its name).
func ParseChannel(name string, node *yaml.Node) (ChannelConfig, error) {
	d := &decoder{}
	p := "channels." + name
	if !channelName.MatchString(name) {
		return ChannelConfig{}, &ConfigError{Errors: []FieldError{{Path: p, Msg: "a channel name is letters, digits, '-', '_' or '.'"}}}
	}
	ch, _ := d.channel(name, node, p)
	if err := d.err(); err != nil {
		return ChannelConfig{}, err
	}
	return ch, nil
}

type decoder struct{ errs []FieldError }

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, FieldError{Line: n.Line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	return &ConfigError{Errors: d.errs}
}

// keysOf says which keys each channel type takes (type and digest: all of them).
var keysOf = map[string][]string{
	TypeGitHub:  {"mention"},
	TypeWebhook: {"url", "headers"},
	TypeEmail:   {"smtp_host", "smtp_port", "tls", "username", "password_file", "from", "to"},
}

func (d *decoder) channel(name string, n *yaml.Node, path string) (ChannelConfig, bool) {
	ch := ChannelConfig{Name: name, Digest: DefaultDigest}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", yamlcheck.DescribeKind(n))
		return ch, false
	}
	before := len(d.errs)
	vals := map[string]*yaml.Node{}
	keys := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := path + "." + k.Value
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be plain names")
			continue
		}
		if _, dup := vals[k.Value]; dup {
			d.errorf(k, p, "key repeated")
			continue
		}
		vals[k.Value], keys[k.Value] = v, k
	}
	if t, ok := vals["type"]; !ok {
		d.errorf(n, path, "a channel needs a type (%s)", strings.Join(channelTypes, ", "))
	} else if d.str(t, path+".type", &ch.Type) && !slices.Contains(channelTypes, ch.Type) {
		d.errorf(t, path+".type", "must be one of %s, got %q", strings.Join(channelTypes, ", "), ch.Type)
		ch.Type = ""
	}
	// Keys in file order, so errors come out in the order a reader sees them.
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return keys[names[i]].Line < keys[names[j]].Line })
	for _, k := range names {
		if k == "type" || k == "digest" {
			continue
		}
		owner := ""
		for t, ks := range keysOf {
			if slices.Contains(ks, k) {
				owner = t
			}
		}
		switch {
		case owner == "":
			d.errorf(keys[k], path+"."+k, "unknown key (known: %s)", knownKeys(ch.Type))
		case ch.Type != "" && owner != ch.Type:
			d.errorf(keys[k], path+"."+k, "only %s channels take %s (this one is %s)", owner, k, ch.Type)
		}
	}
	if v, ok := vals["digest"]; ok {
		d.duration(v, path+".digest", &ch.Digest)
	}
	if len(d.errs) > before || ch.Type == "" {
		return ch, false
	}
	switch ch.Type {
	case TypeGitHub:
		d.github(n, vals, path, &ch)
	case TypeWebhook:
		d.webhook(n, vals, path, &ch)
	case TypeEmail:
		d.email(n, vals, path, &ch)
	}
	return ch, len(d.errs) == before
}

func knownKeys(typ string) string {
	ks := []string{"type", "digest"}
	if typ == "" {
		for _, t := range channelTypes {
			ks = append(ks, keysOf[t]...)
		}
	} else {
		ks = append(ks, keysOf[typ]...)
	}
	return strings.Join(ks, ", ")
}

func (d *decoder) github(n *yaml.Node, vals map[string]*yaml.Node, path string, ch *ChannelConfig) {
	v, ok := vals["mention"]
	if !ok {
		d.errorf(n, path, "a github channel needs `mention`: the teams or users to notify")
		return
	}
	d.strings(v, path+".mention", &ch.Mention, func(s string) string {
		if !mentionRe.MatchString(s) {
			return fmt.Sprintf("%q is not @user or @org/team", s)
		}
		return ""
	})
	if len(ch.Mention) == 0 && v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
		d.errorf(v, path+".mention", "name at least one team or user")
	}
}

func (d *decoder) webhook(n *yaml.Node, vals map[string]*yaml.Node, path string, ch *ChannelConfig) {
	v, ok := vals["url"]
	if !ok {
		d.errorf(n, path, "a webhook channel needs `url`")
	} else {
		// The URL is a secret: no message below quotes it.
		var s string
		if v.Kind != yaml.ScalarNode || yamlcheck.IsNull(v) || v.Tag == "!!bool" {
			d.errorf(v, path+".url", "expected a URL")
		} else if s = v.Value; s == "" {
			d.errorf(v, path+".url", "expected a URL, got an empty string")
		} else if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.errorf(v, path+".url", "must be an absolute http or https URL (value not shown: it is a secret)")
		} else {
			ch.URL = WebhookURL(s)
		}
	}
	if v, ok := vals["headers"]; ok && !yamlcheck.IsNull(v) {
		if v.Kind != yaml.MappingNode {
			d.errorf(v, path+".headers", "expected a mapping of header names to values, got %s", yamlcheck.DescribeKind(v))
			return
		}
		ch.Headers = map[string]string{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			hk, hv := v.Content[i], v.Content[i+1]
			p := path + ".headers." + hk.Value
			switch {
			case hk.Kind != yaml.ScalarNode || !headerName.MatchString(hk.Value):
				d.errorf(hk, path+".headers", "%q is not a valid HTTP header name", hk.Value)
			case hv.Kind != yaml.ScalarNode || yamlcheck.IsNull(hv):
				d.errorf(hv, p, "expected a string value")
			case strings.ContainsAny(hv.Value, "\r\n\x00"):
				d.errorf(hv, p, "a header value cannot contain line breaks")
			default:
				ch.Headers[hk.Value] = hv.Value
			}
		}
	}
}

func (d *decoder) email(n *yaml.Node, vals map[string]*yaml.Node, path string, ch *ChannelConfig) {
	ch.TLS = TLSStartTLS
	if v, ok := vals["smtp_host"]; !ok {
		d.errorf(n, path, "an email channel needs `smtp_host`")
	} else if d.str(v, path+".smtp_host", &ch.SMTPHost) && (ch.SMTPHost == "" || strings.ContainsAny(ch.SMTPHost, " /:\r\n") && net.ParseIP(ch.SMTPHost) == nil) {
		d.errorf(v, path+".smtp_host", "expected a host name or IP address, got %q", ch.SMTPHost)
	}
	if v, ok := vals["tls"]; ok && d.str(v, path+".tls", &ch.TLS) && !slices.Contains(tlsModes, ch.TLS) {
		d.errorf(v, path+".tls", "must be one of %s, got %q", strings.Join(tlsModes, ", "), ch.TLS)
	}
	switch ch.TLS {
	case TLSImplicit:
		ch.SMTPPort = 465
	case TLSStartTLS:
		ch.SMTPPort = 587
	default:
		ch.SMTPPort = 25
	}
	if v, ok := vals["smtp_port"]; ok {
		if p, err := strconv.Atoi(v.Value); v.Kind != yaml.ScalarNode || v.Tag != "!!int" || err != nil || p < 1 || p > 65535 {
			d.errorf(v, path+".smtp_port", "expected a port number between 1 and 65535, got %s", yamlcheck.DescribeKind(v))
		} else {
			ch.SMTPPort = p
		}
	}
	uNode, hasUser := vals["username"]
	pNode, hasPass := vals["password_file"]
	if hasUser {
		d.str(uNode, path+".username", &ch.Username)
	}
	if hasPass {
		d.str(pNode, path+".password_file", &ch.PasswordFile)
	}
	switch {
	case hasUser && !hasPass:
		d.errorf(uNode, path+".username", "a username needs `password_file`")
	case hasPass && !hasUser:
		d.errorf(pNode, path+".password_file", "a password needs `username`")
	case hasUser && ch.TLS == TLSNone && !isLoopback(ch.SMTPHost):
		d.errorf(uNode, path+".username", "tls: none would send the password in clear text; use starttls or implicit (none is allowed with a password only on localhost)")
	}
	if v, ok := vals["from"]; !ok {
		d.errorf(n, path, "an email channel needs `from`")
	} else if d.str(v, path+".from", &ch.From) {
		if _, err := mail.ParseAddress(ch.From); err != nil {
			d.errorf(v, path+".from", "%q is not an email address", ch.From)
		}
	}
	if v, ok := vals["to"]; !ok {
		d.errorf(n, path, "an email channel needs `to`: a list of addresses")
	} else {
		d.strings(v, path+".to", &ch.To, func(s string) string {
			if _, err := mail.ParseAddress(s); err != nil {
				return fmt.Sprintf("%q is not an email address", s)
			}
			return ""
		})
		if len(ch.To) == 0 && v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			d.errorf(v, path+".to", "name at least one address")
		}
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (d *decoder) str(n *yaml.Node, path string, out *string) bool {
	if n.Kind != yaml.ScalarNode || yamlcheck.IsNull(n) || n.Tag == "!!bool" {
		d.errorf(n, path, "expected a string, got %s", yamlcheck.DescribeKind(n))
		return false
	}
	*out = n.Value
	return true
}

// strings decodes a list of strings, each checked by check (which returns a problem or "").
func (d *decoder) strings(n *yaml.Node, path string, out *[]string, check func(string) string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list, got %s", yamlcheck.DescribeKind(n))
		return
	}
	var vs []string
	for i, c := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		var s string
		if !d.str(c, p, &s) {
			continue
		}
		if msg := check(s); msg != "" {
			d.errorf(c, p, "%s", msg)
			continue
		}
		vs = append(vs, s)
	}
	*out = vs
}

// duration reads a Go duration ("1m", "90s"); 0 means no digest.
func (d *decoder) duration(n *yaml.Node, path string, out *time.Duration) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" && n.Value == "0" {
		*out = 0
		return
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.errorf(n, path, "expected a duration such as 1m or 30s, got %s", yamlcheck.DescribeKind(n))
		return
	}
	v, err := time.ParseDuration(n.Value)
	switch {
	case err != nil:
		d.errorf(n, path, "expected a duration such as 1m or 30s, got %q", n.Value)
	case v < 0:
		d.errorf(n, path, "cannot be negative, got %s", n.Value)
	case v > 24*time.Hour:
		d.errorf(n, path, "at most 24h, got %s", n.Value)
	default:
		*out = v
	}
}
