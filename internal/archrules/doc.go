// Package archrules has no code: its test reads the imports of every Go file
// in the module and holds them to the rules docs/ARCHITECTURE.md states
// (which rooms may import which, which cores stay free of HTTP), so that the
// document stays true as the code grows.
package archrules
