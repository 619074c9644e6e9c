// Command funcsize fails when a function of the project is longer or more complex than
// the project allows: at most -lines lines (from its func keyword to its closing
// brace) and a cyclomatic complexity of at most -complexity (1, plus one for each if,
// for, range, non-default case and select case, && and ||: gocyclo's count). .ci/run
// runs it over the whole module, tests included unless -tests=false.
//
// Usage: go run ./internal/tools/funcsize [-lines 80] [-complexity 25] [-tests=true] [-except FILE,...] [DIR...]
//
// Invariants: every .go file under DIR is read, except under testdata, vendor and
// hidden directories; a file that does not parse is an error, never skipped; the exit
// status is 1 when any function is over a limit, each listed as FILE:LINE: NAME: what.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	maxLines := flag.Int("lines", 80, "the most lines a function may have")
	maxComplexity := flag.Int("complexity", 25, "the highest cyclomatic complexity a function may have")
	tests := flag.Bool("tests", true, "check _test.go files too")
	except := flag.String("except", "", "comma-separated files not to check (each named in .ci/run with the reason)")
	flag.Parse()
	dirs := flag.Args()
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	skip := map[string]bool{}
	for _, f := range strings.Split(*except, ",") {
		if f != "" {
			skip[filepath.Clean(f)] = true
		}
	}
	var problems []string
	for _, dir := range dirs {
		ps, err := check(dir, *maxLines, *maxComplexity, *tests, skip)
		if err != nil {
			fmt.Fprintln(os.Stderr, "funcsize:", err)
			os.Exit(2)
		}
		problems = append(problems, ps...)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		fmt.Printf("funcsize: %d functions over the limits (%d lines, complexity %d)\n", len(problems), *maxLines, *maxComplexity)
		os.Exit(1)
	}
}

// check returns one line per function over a limit, sorted.
func check(dir string, maxLines, maxComplexity int, tests bool, skip map[string]bool) ([]string, error) {
	var problems []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || !tests && strings.HasSuffix(name, "_test.go") || skip[filepath.Clean(path)] {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, fn := range functions(f) {
			start, end := fset.Position(fn.pos), fset.Position(fn.end)
			if n := end.Line - start.Line + 1; n > maxLines {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: %d lines (at most %d)", path, start.Line, fn.name, n, maxLines))
			}
			if c := complexity(fn.body); c > maxComplexity {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: cyclomatic complexity %d (at most %d)", path, start.Line, fn.name, c, maxComplexity))
			}
		}
		return nil
	})
	sort.Strings(problems)
	return problems, err
}

type function struct {
	name     string
	pos, end token.Pos
	body     ast.Node
}

// functions lists the declared functions and methods of f, and every function literal
// as a function of its own (named after its enclosing one).
func functions(f *ast.File) []function {
	var out []function
	for _, decl := range f.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		name := fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) > 0 {
			name = recvName(fd.Recv.List[0].Type) + "." + name
		}
		out = append(out, function{name: name, pos: fd.Pos(), end: fd.End(), body: fd.Body})
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if lit, ok := n.(*ast.FuncLit); ok {
				out = append(out, function{name: name + ".func", pos: lit.Pos(), end: lit.End(), body: lit.Body})
			}
			return true
		})
	}
	return out
}

func recvName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.IndexExpr:
		return recvName(t.X)
	case *ast.IndexListExpr:
		return recvName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return "?"
}

// complexity is gocyclo's count for body, not descending into function literals
// (each is counted as a function of its own).
func complexity(body ast.Node) int {
	c := 1
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return x == body
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if x.List != nil {
				c++
			}
		case *ast.CommClause:
			if x.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if x.Op == token.LAND || x.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}
