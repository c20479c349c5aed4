// Command isprint_gen prints the ranges of runes for which Go's
// unicode.IsPrint is true, for tools/cli/isprint_table.inc (boltpp's "auto"
// format and %q quoting must agree with the Go bbolt CLI):
//
//	(head -2 isprint_table.inc; GO111MODULE=off go run isprint_gen.go) > new.inc
package main

import (
	"fmt"
	"unicode"
)

func main() {
	var ranges [][2]rune
	in := false
	var start rune
	for r := rune(0); r <= unicode.MaxRune+1; r++ {
		p := r <= unicode.MaxRune && unicode.IsPrint(r)
		if p && !in {
			start = r
			in = true
		} else if !p && in {
			ranges = append(ranges, [2]rune{start, r - 1})
			in = false
		}
	}
	fmt.Printf("// %d ranges\n", len(ranges))
	for i, rg := range ranges {
		fmt.Printf("{0x%x, 0x%x},", rg[0], rg[1])
		if i%4 == 3 {
			fmt.Println()
		}
	}
	fmt.Println()
}
