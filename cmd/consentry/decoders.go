package main

import (
	"strings"

	"github.com/consentry/consentry/internal/decoders"
)

func routeHelp() string {
	var parts []string
	for _, v := range decoders.Vendors() {
		d, err := decoders.New(v, nil, "")
		if err != nil {
			continue
		}
		parts = append(parts, v+": "+strings.Join(d.Routes(), ", "))
	}
	return strings.Join(parts, "; ")
}
