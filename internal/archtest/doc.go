// Package archtest holds tests of the code's layout: which package may
// import which, and who owns Redis. It has no code of its own.
package archtest
