package rules

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// ParseConfig overlays one configuration file (server defaults, the organisation's
// .github/triagebot.yml, then the repository's) on base, key by key.
func ParseConfig(base Config, data []byte) (Config, error) {
	cfg := base
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && err.Error() != "EOF" {
		return base, fmt.Errorf("parse configuration: %w", err)
	}
	return cfg, nil
}
