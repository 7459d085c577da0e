package config

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParse: any bytes either fail to load with an error naming the file,
// or give a config that validates or not without a panic, whose defaults
// apply, and whose masked form marshals and loads again.
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/strata.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("version: 1\nrepository: {url: /x}\njobs: [{name: a, source: b, schedule: '@every 1s'}]\n"))
	f.Add([]byte("version: 1\na: &x {b: *x}\n"))
	f.Add([]byte("version: 1\nrepository: &r {url: /x}\ndashboard: {<<: *r}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		verr := c.Validate()
		_ = c.Warnings()
		if verr != nil {
			return
		}
		c.ApplyDefaults()
		for i := range c.Jobs {
			if _, err := c.JobSchedule(&c.Jobs[i]); err != nil {
				t.Fatalf("validated job %q has a bad schedule: %v", c.Jobs[i].Name, err)
			}
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Parse(out, "again.yaml")
		if err != nil {
			t.Fatalf("a valid config does not read back: %v\n%s", err, out)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("a valid config does not validate again: %v\n%s", err, out)
		}
		if _, err := yaml.Marshal(c.Masked()); err != nil {
			t.Fatalf("marshal masked: %v", err)
		}
	})
}
