package verify

import "encoding/json"

// The findings that carry an Err marshal it as its message: an error
// value has no JSON form of its own.

func (e *DamagedIndexFile) MarshalJSON() ([]byte, error) {
	type fields DamagedIndexFile
	return withErr((*fields)(e), e.Err)
}

func (e *DamagedPack) MarshalJSON() ([]byte, error) {
	type fields DamagedPack
	return withErr((*fields)(e), e.Err)
}

func (e *DamagedBlob) MarshalJSON() ([]byte, error) {
	type fields DamagedBlob
	return withErr((*fields)(e), e.Err)
}

func (e *DamagedSnapshot) MarshalJSON() ([]byte, error) {
	type fields DamagedSnapshot
	return withErr((*fields)(e), e.Err)
}

func (e *DamagedTree) MarshalJSON() ([]byte, error) {
	type fields DamagedTree
	return withErr((*fields)(e), e.Err)
}

func (e *DamagedLog) MarshalJSON() ([]byte, error) {
	type fields DamagedLog
	return withErr((*fields)(e), e.Err)
}

// withErr marshals the fields of a finding (a struct whose Err is tagged
// `json:"-"`) and appends "error" as the last member.
func withErr(fields any, err error) ([]byte, error) {
	b, jerr := json.Marshal(fields)
	if jerr != nil {
		return nil, jerr
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	m, jerr := json.Marshal(msg)
	if jerr != nil {
		return nil, jerr
	}
	// Every finding has fields before Err, so b is "{...}" with members.
	b = append(b[:len(b)-1], `,"error":`...)
	return append(append(b, m...), '}'), nil
}
