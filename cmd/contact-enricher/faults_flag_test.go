package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestFaultsFlagRejectsBadSpec(t *testing.T) {
	cases := []struct {
		name string
		spec string
		want []string
	}{
		{"unknown mode", "Gremlins=1", []string{`"Gremlins=1"`, `unknown mode "Gremlins"`}},
		{"rate above one", "ServerError=2", []string{`"ServerError=2"`, "from 0 to 1"}},
		{"missing rate", "CRLFLines", []string{`"CRLFLines"`, "expected Mode=rate"}},
	}
	for _, command := range []string{"demo", "simulate-api"} {
		for _, tc := range cases {
			t.Run(command+" "+tc.name, func(t *testing.T) {
				code, _, stderr := runCLI(t, command, "--faults", tc.spec)
				if code != 2 {
					t.Errorf("exit code %d, want 2", code)
				}
				// The message names the flag, the entry, and the valid modes.
				for _, w := range append(tc.want, "-faults", "valid modes", "ServerError", "WebhookBadSignature") {
					if !strings.Contains(stderr, w) {
						t.Errorf("stderr does not contain %q:\n%s", w, stderr)
					}
				}
			})
		}
	}
}

func TestSimulatorAnnouncesFaults(t *testing.T) {
	t.Setenv(apiKeyEnv, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve, then stop at once
	var stdout, stderr bytes.Buffer
	code := runMain(ctx, []string{"simulate-api", "--listen", "127.0.0.1:0",
		"--faults", "webhookearly=0.5,CRLFLines=1", "--fault-seed", "7"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d:\n%s", code, stderr.String())
	}
	if want := "faults CRLFLines=1,WebhookEarly=0.5 (seed 7)"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout does not contain %q:\n%s", want, stdout.String())
	}
}
