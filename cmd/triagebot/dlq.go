package main

import (
	"context"
	"errors"
	"io"
)

func cmdDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withExit(2, errors.New("not implemented yet"))
}
