//go:build !race

package main

// raceDetector tells whether the tests were built with -race.
const raceDetector = false
