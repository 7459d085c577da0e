package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEConfigErrors: the errors the README's "Run strata as a
// service" shows for mistakes in its strata.yaml are what config validate
// prints for those mistakes, line numbers included (a key added above them
// moves them: update the README's lines).
func TestREADMEConfigErrors(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "\n## Run strata as a service\n")
	_, block, ok := strings.Cut(section, "\n```yaml\n")
	if !ok {
		t.Fatal("no ```yaml block in the README's Run strata as a service")
	}
	block, _, _ = strings.Cut(block, "\n```\n")
	lines := strings.Split(block, "\n")
	// after sets the first line matching key after the line holding
	// marker.
	after := func(src []string, marker, key, value string) []string {
		out := append([]string(nil), src...)
		for i, l := range out {
			if strings.Contains(l, marker) {
				for j := i + 1; j < len(out); j++ {
					if k := strings.Index(out[j], key+":"); k >= 0 {
						out[j] = out[j][:k] + key + ": " + value
						return out
					}
				}
			}
		}
		t.Fatalf("no %s after %q in the README's strata.yaml", key, marker)
		return nil
	}
	mistakes := after(after(lines, "name: customers-daily", "schedule", `"30 25 * * *"`), "name: customers-monthly", "source", "customer")
	unknown := append([]string(nil), lines...)
	for i, l := range unknown {
		unknown[i] = strings.Replace(l, "keep_safety: 7d", "keep_dayly: 7", 1)
	}
	c := newCLI(t)
	var got string
	for _, text := range [][]string{mistakes, unknown} {
		p := filepath.Join(t.TempDir(), "strata.yaml")
		writeNew(t, p, []byte(strings.Join(text, "\n")+"\n"))
		_, errOut := c.code(1, "config", "validate", p)
		got += strings.ReplaceAll(errOut, p, "/etc/strata/strata.yaml")
	}
	shown := regexp.MustCompile(`(?m)^    (strata: /etc/strata/strata\.yaml:\d+: .*)$`).FindAllStringSubmatch(section, -1)
	if len(shown) != 3 {
		t.Fatalf("the README shows %d config errors, want 3", len(shown))
	}
	for _, m := range shown {
		if !strings.Contains(got, m[1]+"\n") {
			t.Errorf("the README shows\n%s\nbut config validate printed\n%s", m[1], got)
		}
	}
}
