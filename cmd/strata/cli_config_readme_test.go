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
// prints for those mistakes, all in one run (an unknown key among them:
// it hid the others before), line numbers included (a key added above
// them moves them: update the README's lines).
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
	// All three mistakes in one file: config validate lists them all.
	mistakes := after(after(lines, "name: customers-daily", "schedule", `"30 25 * * *"`), "name: customers-monthly", "source", "customer")
	for i, l := range mistakes {
		mistakes[i] = strings.Replace(l, "keep_safety: 7d", "keep_dayly: 7", 1)
	}
	c := newCLI(t)
	p := filepath.Join(t.TempDir(), "strata.yaml")
	writeNew(t, p, []byte(strings.Join(mistakes, "\n")+"\n"))
	_, errOut := c.code(1, "config", "validate", p)
	got := strings.ReplaceAll(errOut, p, "/etc/strata/strata.yaml")
	shown := regexp.MustCompile(`(?m)^    (strata: /etc/strata/strata\.yaml:\d+: .*)$`).FindAllStringSubmatch(section, -1)
	if len(shown) != 3 {
		t.Fatalf("the README shows %d config errors, want 3", len(shown))
	}
	var want string
	for _, m := range shown {
		want += m[1] + "\n"
	}
	if errors := regexp.MustCompile(`(?m)^strata: .*\n`).FindAllString(got, -1); strings.Join(errors, "") != want {
		t.Errorf("the README shows\n%s\nbut config validate printed\n%s", want, got)
	}
}
