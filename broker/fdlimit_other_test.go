//go:build !unix

package broker

// runFDLimitChild has nothing to run where open-file limits cannot be lowered.
func runFDLimitChild() {}
