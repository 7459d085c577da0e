package chunk

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParamsValidate(t *testing.T) {
	valid := TableParams(testPol)
	with := func(f func(*Params)) Params { p := valid; f(&p); return p }
	cases := []struct {
		name    string
		p       Params
		wantErr bool
	}{
		{"table defaults", valid, false},
		{"file defaults", FileParams(testPol), false},
		{"smallest", Params{Pol: testPol, MinSize: MinSizeLimit, AvgBits: 10, MaxSize: 2048}, false},
		{"largest", Params{Pol: testPol, MinSize: 16 << 20, AvgBits: 25, MaxSize: MaxSizeLimit}, false},
		{"zero polynomial", with(func(p *Params) { p.Pol = 0 }), true},
		{"reducible polynomial", with(func(p *Params) { p.Pol = 1<<53 | 1<<1 }), true},
		{"degree 54", with(func(p *Params) { p.Pol = 1 << 54 }), true},
		{"min below limit", with(func(p *Params) { p.MinSize = MinSizeLimit - 1 }), true},
		{"min equals average", with(func(p *Params) { p.MinSize = 1 << p.AvgBits }), true},
		{"average equals max", with(func(p *Params) { p.MaxSize = 1 << p.AvgBits }), true},
		{"max above limit", Params{Pol: testPol, MinSize: 1 << 20, AvgBits: 22, MaxSize: MaxSizeLimit + 1}, true},
		{"huge average bits", with(func(p *Params) { p.AvgBits = 64 }), true},
		{"zero", Params{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Validate(%+v) = %v, want error: %v", tc.p, err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Validate error %v does not wrap ErrInvalidParams", err)
			}
		})
	}
}

func TestRandomPolynomial(t *testing.T) {
	p, err := RandomPolynomial()
	if err != nil {
		t.Fatal(err)
	}
	if err := TableParams(p).Validate(); err != nil {
		t.Fatalf("random polynomial %v: %v", p, err)
	}
}

func TestPolJSON(t *testing.T) {
	type config struct {
		Pol Pol `json:"chunker_polynomial"`
	}
	b, err := json.Marshal(config{testPol})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"chunker_polynomial":"3da3358b4dc173"}`
	if string(b) != want {
		t.Fatalf("JSON = %s, want %s", b, want)
	}
	var back config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Pol != testPol {
		t.Fatalf("round trip gave %v, want %v", back.Pol, testPol)
	}
	if err := json.Unmarshal([]byte(`{"chunker_polynomial":"xyz"}`), &back); err == nil {
		t.Fatal("Unmarshal of a non-hex polynomial succeeded")
	}
}
