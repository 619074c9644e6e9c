package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/voucher"
)

// out is where a command writes: text for people, or with --json one JSON document on
// standard output, errors included (see jsonError).
type out struct {
	cmd            string
	json           *bool
	stdout, stderr io.Writer
}

func newOut(f *flags, stdout, stderr io.Writer) *out {
	return &out{cmd: f.name, stdout: stdout, stderr: stderr,
		json: f.Bool("json", false, "print the result, or the error, as one JSON document on standard output")}
}

// emit writes v as indented JSON.
func (o *out) emit(v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil { // every value emitted is plain data; this is a bug
		panic(err)
	}
	fmt.Fprintf(o.stdout, "%s\n", b)
}

// fail reports err (what the command was doing: context, may be "") and returns
// status: "voucherkit CMD: CONTEXT: ERR" on standard error, or with --json the error
// document on standard output.
func (o *out) fail(status int, context string, err error) int {
	if *o.json {
		o.emit(errorDoc(context, err))
		return status
	}
	msg := err.Error()
	if context != "" {
		sep := ": "
		var es yamlx.Errors
		if errors.As(err, &es) {
			sep = ":\n"
		}
		msg = context + sep + msg
	}
	fmt.Fprintf(o.stderr, "voucherkit %s: %s\n", o.cmd, msg)
	return status
}

// usageError reports a mistake in the command line, with the command's usage.
func (o *out) usageError(f *flags, msg string) int {
	if *o.json {
		o.emit(jsonErrorDoc{Error: jsonError{Code: "usage", Message: msg}})
		return exitInvalid
	}
	fmt.Fprintf(o.stderr, "voucherkit %s: %s\n\n", o.cmd, msg)
	f.usage(o.stderr)
	return exitInvalid
}

// jsonErrorDoc is the one shape of every error printed with --json:
//
//	{"error": {"code": "invalid_file", "message": "...",
//	           "problems": [{"file": "w.yaml", "line": 2, "column": 26, "key": "wallet[0].amout", "message": "unknown key ..."}]}}
type jsonErrorDoc struct {
	Error jsonError `json:"error"`
}

// jsonError is an error: a stable code, the message a person would read, and each
// positioned problem of an input file.
type jsonError struct {
	// Code is the error's code (voucher.ErrorCode: "invalid_order", "invalid_file",
	// "unknown_provider", ...), "not_found" for a missing file, "usage" for a command
	// line mistake, or "error".
	Code     string        `json:"code"`
	Message  string        `json:"message"`
	Problems []jsonProblem `json:"problems,omitempty"`
}

// jsonProblem is one problem at one place of an input file.
type jsonProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

func errorDoc(context string, err error) jsonErrorDoc {
	return jsonErrorDoc{Error: toJSONError(context, err)}
}

func toJSONError(context string, err error) jsonError {
	e := jsonError{Code: voucher.ErrorCode(err), Message: err.Error()}
	if context != "" {
		e.Message = context + ": " + e.Message
	}
	if e.Code == "" && errors.Is(err, fs.ErrNotExist) {
		e.Code = "not_found"
	}
	if e.Code == "" {
		e.Code = "error"
	}
	var es yamlx.Errors
	if errors.As(err, &es) {
		for _, p := range es {
			e.Problems = append(e.Problems, jsonProblem{File: p.File, Line: p.Line, Column: p.Column, Key: p.Key, Message: p.Msg})
		}
	}
	return e
}
