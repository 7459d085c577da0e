package restore

// Internals that the external tests (package restore_test) check.
var (
	CleanPath = cleanPath
	FileMode  = fileMode
)

const TempPrefix = tempPrefix
