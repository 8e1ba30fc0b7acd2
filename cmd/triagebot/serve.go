package main

import (
	"context"
	"errors"
	"io"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withExit(2, errors.New("not implemented yet"))
}

func cmdReceive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withExit(2, errors.New("not implemented yet"))
}

func cmdWork(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withExit(2, errors.New("not implemented yet"))
}
