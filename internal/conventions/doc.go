// Package conventions holds no code. Its tests check what the repository
// promises of every component and package: each component has a
// metadata.yaml and the files generated from it are current
// (scripts/generate-metadata.sh), and each package's tests fail on a leaked
// goroutine (goleak in TestMain).
package conventions
