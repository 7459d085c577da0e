package dbexport

import (
	"strings"
	"testing"
)

// TestDSNStringHidesSecrets: the DSN recorded in a snapshot has no
// password, whatever it holds, and no secret parameter.
func TestDSNStringHidesSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h/db":                                     "postgres://u@h:5432/db",
		"postgres://u:p%2Fw%40x@h:5433/db?sslmode=disable":         "postgres://u@h:5433/db?sslmode=disable",
		"mysql://root:s3@h/app?sslpassword=k&tls=true&authToken=x": "mysql://root@h:3306/app?tls=true",
	} {
		d, err := ParseDSN(in)
		if err != nil {
			t.Fatalf("ParseDSN(%q): %v", in, err)
		}
		if got := d.String(); got != want {
			t.Errorf("ParseDSN(%q).String() = %q, want %q", in, got, want)
		}
		if strings.Contains(d.String(), "s3") || strings.Contains(d.String(), "pw") {
			t.Errorf("%q keeps a secret", d.String())
		}
	}
}
