package main

import "fmt"

// checkRuns are `check --read-data` of both repositories after the last
// hour: every blob of every snapshot read and verified.
type checkRuns struct {
	strata, restic run
}

// checks runs strata's and restic's check --read-data one after the
// other, so both meet the same load on the machine.
func checks(c config, env []string) (checkRuns, error) {
	var cr checkRuns
	var err error
	if cr.strata, err = command(env, "", nil, c.strata, "check", "--read-data"); err != nil {
		return cr, fmt.Errorf("strata check --read-data: %w", err)
	}
	if cr.restic, err = command(env, "", nil, c.restic, "check", "--read-data"); err != nil {
		return cr, fmt.Errorf("restic check --read-data: %w", err)
	}
	return cr, nil
}
