package main

import (
	"os"
	"strings"
)

// nodeEnv is the environment of every Node and npm command: npm never goes
// to the network, and msgmock's own variables stay out.
func nodeEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MSGMOCK_") && !strings.HasPrefix(kv, "npm_config_") {
			env = append(env, kv)
		}
	}
	return append(append(env, "npm_config_offline=true", "npm_config_audit=false", "npm_config_fund=false",
		"npm_config_update_notifier=false", "npm_config_loglevel=error"), extra...)
}
